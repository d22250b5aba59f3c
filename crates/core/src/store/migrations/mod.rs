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
    include_str!("008_report_form_files.sql"),
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
