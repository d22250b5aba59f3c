//! Schema migrations, embedded in the binary. Append new steps; never edit a released one.

use std::sync::LazyLock;

use rusqlite_migration::{M, Migrations};

const STEPS: &[&str] = &[
    include_str!("001_initial.sql"),
    include_str!("002_attachments.sql"),
    include_str!("003_packs.sql"),
    include_str!("004_report_scopes.sql"),
    include_str!("005_forum.sql"),
    include_str!("006_hardening.sql"),
    include_str!("007_change_device.sql"),
    include_str!("008_console.sql"),
    include_str!("009_sync_files.sql"),
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
    use rusqlite::Connection;

    /// 006 cuts what older versions stored unchecked: huge upload metadata and rejection
    /// reasons that quoted megabytes.
    #[test]
    fn the_hardening_migration_cuts_stored_giants() {
        let mut c = Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut c, 5).unwrap();
        let huge = "k".repeat(100_000);
        c.execute_batch(&format!(
            "INSERT INTO account (username, password_hash, display_name, email, role, country, instruments, status, created_at)
                 VALUES ('amina', 'h', 'Amina', 'a@example.org', 'nfp', 'KE', '[]', 'approved', 0);
             INSERT INTO op_result VALUES (1, 'op1', '{{\"outcome\":\"rejected\",\"reason\":\"unknown record kind `{huge}`\"}}', 0);
             INSERT INTO op_result VALUES (1, 'op2', '{{\"outcome\":\"applied\",\"version\":1}}', 0);
             INSERT INTO upload (id, account_id, sha256, length, metadata, created_at)
                 VALUES ('u1', 1, 's', 1, 'sha256 x,junk {huge}', 0);"
        ))
        .unwrap();
        super::migrations().to_latest(&mut c).unwrap();
        let outcome: String = c
            .query_row(
                "SELECT outcome FROM op_result WHERE op_id = 'op1'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&outcome).unwrap();
        assert_eq!(parsed["outcome"], "rejected");
        assert_eq!(parsed["reason"].as_str().unwrap().chars().count(), 301);
        let kept: String = c
            .query_row(
                "SELECT outcome FROM op_result WHERE op_id = 'op2'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kept, "{\"outcome\":\"applied\",\"version\":1}");
        let meta: String = c
            .query_row("SELECT metadata FROM upload", [], |r| r.get(0))
            .unwrap();
        assert_eq!(meta, "");
    }

    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }

    /// 005 rebuilds `change`: every row and seq kept, a seq never reused (cursors stay
    /// valid), and the server may now write changes in no account's name.
    #[test]
    fn the_forum_migration_keeps_the_change_feed_and_its_cursors() {
        let mut c = Connection::open_in_memory().unwrap();
        super::migrations().to_version(&mut c, 4).unwrap();
        c.execute_batch(
            "INSERT INTO account (username, password_hash, display_name, email, role, country, instruments, status, created_at)
                 VALUES ('amina', 'h', 'Amina', 'a@example.org', 'nfp', 'KE', '[]', 'approved', 0);
             INSERT INTO change (scope, account_id, kind, entity_id, field, value, version, op_id)
                 VALUES ('account:1', 1, 'checklist_progress', 'a/b', 'done', 'true', 1, 'op1'),
                        ('account:1', 1, 'checklist_progress', 'a/b', 'done', 'false', 2, 'op2'),
                        ('account:1', 1, 'checklist_progress', 'a/c', 'done', 'true', 1, 'op3');
             DELETE FROM change WHERE seq = 3;",
        )
        .unwrap();
        super::migrations().to_latest(&mut c).unwrap();
        let rows: Vec<(i64, String)> = c
            .prepare("SELECT seq, op_id FROM change ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows, [(1, "op1".to_string()), (2, "op2".to_string())]);
        c.execute(
            "INSERT INTO change (scope, account_id, kind, entity_id, field, value, version, op_id)
             VALUES ('community', NULL, 'forum_category', 'general', 'info', '{}', 1, 'op4')",
            [],
        )
        .unwrap();
        let seq: i64 = c
            .query_row("SELECT seq FROM change WHERE op_id = 'op4'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(seq, 4, "seq 3 was handed out once and is never reused");
        let indexed: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'change_by_scope'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexed, 1);
    }
}
