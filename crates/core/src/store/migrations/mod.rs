//! Schema migrations, embedded. Append new ones; never edit a released one.

use std::sync::LazyLock;

use rusqlite_migration::{M, Migrations};

const STEPS: &[&str] = &[
    include_str!("001_initial.sql"),
    include_str!("002_sync.sql"),
    include_str!("003_attachments.sql"),
    include_str!("004_report_forms.sql"),
    include_str!("005_reports.sql"),
    include_str!("006_report_sync.sql"),
    include_str!("007_forum.sql"),
    include_str!("008_content_provenance.sql"),
    include_str!("009_report_form_files.sql"),
    include_str!("010_refusal_codes.sql"),
    include_str!("011_forum_archive.sql"),
    include_str!("012_attachment_refusals.sql"),
    include_str!("013_feedback.sql"),
    include_str!("014_bandwidth.sql"),
    include_str!("015_relay.sql"),
];

static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::new(STEPS.iter().map(|sql| M::up(sql)).collect()));

pub(super) fn migrations() -> &'static Migrations<'static> {
    &MIGRATIONS
}

/// The highest schema version this build understands (SQLite `user_version`).
pub fn schema_version_supported() -> i64 {
    STEPS.len() as i64
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }
}

#[cfg(test)]
mod provenance_migration {
    use rusqlite::Connection;

    /// 008 remakes the search index with `section` and forgets the pack hash, so the next
    /// start imports the pack again (filling the new columns and the index).
    #[test]
    fn content_is_reimported_after_008() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut conn, 7).unwrap();
        conn.execute_batch(
            "INSERT INTO meta (key, value) VALUES ('pack_version', '1'), ('pack_hash', 'abc');
             INSERT INTO content_item (kind, id, lang, title, summary, body_html, ord)
               VALUES ('manual', 'm', 'en', 'T', 'S', '', 1);
             INSERT INTO search_index (title, body, kind, id, lang) VALUES ('T', 'B', 'manual', 'm', 'en');",
        )
        .unwrap();
        super::migrations().to_latest(&mut conn).unwrap();
        let hash: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'pack_hash'", [], |r| {
                r.get(0)
            })
            .ok();
        assert_eq!(hash, None);
        let (reviewed, sources): (Option<String>, String) = conn
            .query_row(
                "SELECT reviewed, sources_json FROM content_item WHERE id = 'm'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((reviewed, sources.as_str()), (None, "[]"));
        conn.execute(
            "INSERT INTO search_index (title, body, kind, id, lang, section) VALUES ('COP', 'x', 'manual', 'glossary', 'en', 'cop')",
            [],
        )
        .unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM search_index", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "the old index rows are gone");
    }
}

#[cfg(test)]
mod relay_migration {
    use rusqlite::Connection;

    /// 015 adds `outbox.at_relay`: operations queued before it are not at a relay.
    #[test]
    fn queued_operations_are_kept_and_not_at_a_relay() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut conn, 14).unwrap();
        conn.execute(
            "INSERT INTO outbox (op_id, seq, kind, entity_id, field, base_version, value_json, sent, created_at)
             VALUES ('op-1', 1, 'checklist_progress', 'list/a', 'done', 0, 'true', 1, '2026-12-07T06:00:00Z')",
            [],
        )
        .unwrap();
        super::migrations().to_latest(&mut conn).unwrap();
        let (sent, at_relay): (i64, i64) = conn
            .query_row(
                "SELECT sent, at_relay FROM outbox WHERE op_id = 'op-1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((sent, at_relay), (1, 0));
        assert!(
            conn.execute("UPDATE outbox SET at_relay = 2", []).is_err(),
            "0 or 1 only"
        );
    }
}
