//! Schema migrations, embedded in the binary. Append new steps; never edit a released one.

use std::sync::LazyLock;

use rusqlite_migration::{M, Migrations};

const STEPS: &[&str] = &[
    include_str!("001_initial.sql"),
    include_str!("002_attachments.sql"),
    include_str!("003_packs.sql"),
    include_str!("004_report_scopes.sql"),
    include_str!("005_forum.sql"),
    include_str!("007_change_device.sql"),
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
