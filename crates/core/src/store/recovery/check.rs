//! Finding damage: SQLite's `quick_check` over the whole file, then table by table to say
//! which tables it touches (rebuildable content and search, or the person's own data).

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::Error;

/// Tables filled from the content pack: the next start imports the pack into them again.
pub const CONTENT_TABLES: &[&str] = &[
    "content_item",
    "checklist_step",
    "report_form",
    "report_form_file",
];

/// Full-text indexes (FTS5, each with its shadow tables `<name>_data`, `_idx`, ...): rebuilt
/// from the content pack and from the cached forum posts.
pub const SEARCH_TABLES: &[&str] = &["search_index", "forum_search"];

/// True for a table whose rows come back by themselves (from the pack or the posts), so its
/// damage needs no one's consent to repair.
pub fn is_rebuildable(table: &str) -> bool {
    CONTENT_TABLES.contains(&table)
        || SEARCH_TABLES
            .iter()
            .any(|fts| table == *fts || table.strip_prefix(fts).is_some_and(|s| s.starts_with('_')))
}

/// True for SQLite's "the file is damaged" and "this is not a database" failures.
pub fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

impl Error {
    /// True when this error says the database file is damaged.
    pub fn is_corruption(&self) -> bool {
        match self {
            Error::Sqlite(e) => is_corruption(e),
            Error::Migration(rusqlite_migration::Error::RusqliteError { err, .. }) => {
                is_corruption(err)
            }
            Error::DatabaseDamaged { .. } => true,
            _ => false,
        }
    }
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Ok,
    /// Damage in these tables (their SQL names), or `["*"]` when the file cannot be read as
    /// a database at all.
    Damaged(Vec<String>),
}

impl Health {
    /// True when every damaged table can be rebuilt without losing anything a person made.
    pub fn only_rebuildable(&self) -> bool {
        match self {
            Health::Ok => true,
            Health::Damaged(tables) => tables.iter().all(|t| is_rebuildable(t)),
        }
    }
}

/// `PRAGMA quick_check` on an open connection; on damage, which tables hold it.
pub fn check(conn: &Connection) -> Health {
    // The whole-file check either lists problems or stops at the first unreadable page
    // with an error; either way, each table is then checked on its own.
    if let Ok(true) = quick_check(conn, None) {
        // Sound pages can still hold a full-text index that contradicts itself, which only
        // FTS5's own check sees (tens of milliseconds on a 19 MB file).
        let fts: Vec<String> = SEARCH_TABLES
            .iter()
            .filter(|t| fts_damaged(conn, t))
            .map(|t| t.to_string())
            .collect();
        return match fts.is_empty() {
            true => Health::Ok,
            false => Health::Damaged(fts),
        };
    }
    // A file shorter than its header says fails every read unless the schema is "writable":
    // allowed for the checks only (they write nothing), so each table's own state shows.
    let _ = conn.pragma_update(None, "writable_schema", "ON");
    let tables: Vec<String> = match conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND rootpage > 0")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
    {
        Ok(tables) => tables,
        Err(_) => {
            let _ = conn.pragma_update(None, "writable_schema", "OFF");
            return Health::Damaged(vec!["*".into()]);
        }
    };
    let mut damaged: Vec<String> = tables
        .into_iter()
        .filter(|t| !matches!(quick_check(conn, Some(t)), Ok(true)))
        .collect();
    let _ = conn.pragma_update(None, "writable_schema", "OFF");
    if damaged.is_empty() {
        // The whole-file check failed but no table's did: the damage is in the free pages or
        // the file's bookkeeping. Copying every table into a fresh file loses nothing.
        damaged.push("*".into());
    }
    Health::Damaged(damaged)
}

/// Opens `path` read-only and checks it (a file that is not a database is damaged).
pub fn check_file(path: &Path) -> Health {
    match Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(conn) => check(&conn),
        Err(_) => Health::Damaged(vec!["*".into()]),
    }
}

/// `PRAGMA quick_check`, of one table (and its indexes) when `table` is given.
fn quick_check(conn: &Connection, table: Option<&str>) -> rusqlite::Result<bool> {
    let sql = match table {
        Some(t) => format!("PRAGMA quick_check(\"{}\")", t.replace('"', "\"\"")),
        None => "PRAGMA quick_check".into(),
    };
    let mut stmt = conn.prepare(&sql)?;
    let lines: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if lines != ["ok"] {
        tracing::warn!(table = table.unwrap_or("(all)"), problems = ?lines.iter().take(5).collect::<Vec<_>>(), "quick_check found damage");
    }
    Ok(lines == ["ok"])
}

/// FTS5's `integrity-check` of `table` (a command written as an insert that writes nothing):
/// only a "damaged" answer counts, not a read-only connection refusing the statement.
fn fts_damaged(conn: &Connection, table: &str) -> bool {
    let t = format!("\"{}\"", table.replace('"', "\"\""));
    match conn.execute(
        &format!("INSERT INTO {t} ({t}) VALUES ('integrity-check')"),
        [],
    ) {
        Err(e) if is_corruption(&e) => {
            tracing::warn!(table, error = %e, "full-text index damaged");
            true
        }
        _ => false,
    }
}
