//! The store: one SQLite file, WAL, foreign keys, migrations embedded in the binary.
//!
//! A database written by a newer Stopover is refused before anything is written to it:
//! we never migrate down and never overwrite what a newer version made. A damaged file is
//! never written to: see [`recovery`].

mod lock;
mod migrations;
pub mod recovery;

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::{Error, Result};

pub use lock::{DataDirLock, LOCK_FILE};
pub use migrations::schema_version_supported;

/// SQLite's "now" as an RFC 3339 UTC timestamp with milliseconds, for SQL text.
pub(crate) const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// How long a statement waits for another connection's lock before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "stopover.sqlite3";

/// Opens (creating if needed) the database at `path` and brings its schema up to date.
/// See [`open_checked`] for damage.
pub fn open(path: &Path) -> Result<Connection> {
    open_checked(path).map(|(conn, _)| conn)
}

/// [`open`], checking the file first (`PRAGMA quick_check`). Damage only in content and
/// search tables is repaired without asking: the readable rows go into a fresh file, the
/// damaged one is kept, and the report of that is returned. Other damage is
/// [`Error::DatabaseDamaged`], and nothing is written to the file.
pub fn open_checked(path: &Path) -> Result<(Connection, Option<recovery::RecoveryReport>)> {
    match open_once(path)? {
        Opened::Ready(conn) => Ok((conn, None)),
        Opened::Rebuild => {
            let report = recovery::recover(path)?;
            match open_once(path)? {
                Opened::Ready(conn) => Ok((conn, Some(report))),
                Opened::Rebuild => Err(Error::DatabaseDamaged {
                    path: path.to_path_buf(),
                    tables: report.rebuilt,
                }),
            }
        }
    }
}

enum Opened {
    Ready(Connection),
    /// Only rebuildable tables are damaged.
    Rebuild,
}

fn open_once(path: &Path) -> Result<Opened> {
    let existed = std::fs::metadata(path).is_ok_and(|m| m.len() > 0);
    let damaged = |tables: Vec<String>| Error::DatabaseDamaged {
        path: path.to_path_buf(),
        tables,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::DataDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Write transactions take the write lock when they begin (BEGIN IMMEDIATE), so they wait
    // their turn (up to BUSY_TIMEOUT) instead of failing with "database is locked" when a
    // read that became a write meets another writer (a backup, a second connection).
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);

    // Check before any pragma that writes (journal_mode does).
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| match recovery::check::is_corruption(&e) {
            true => damaged(vec!["*".into()]),
            false => e.into(),
        })?;
    let supported = schema_version_supported();
    if found > supported {
        return Err(Error::DatabaseTooNew {
            path: path.to_path_buf(),
            found,
            supported,
        });
    }

    if existed {
        let started = std::time::Instant::now();
        let health = recovery::check(&conn);
        tracing::info!(
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            ok = (health == recovery::Health::Ok),
            "database checked"
        );
        if let recovery::Health::Damaged(tables) = health {
            if recovery::Health::Damaged(tables.clone()).only_rebuildable() {
                tracing::warn!(
                    ?tables,
                    "only content and search tables are damaged: rebuilding them"
                );
                return Ok(Opened::Rebuild);
            }
            tracing::error!(?tables, path = %path.display(), "the database is damaged: not opened");
            return Err(damaged(tables));
        }
    }

    conn.pragma_update(None, "journal_mode", "WAL")?;
    // NORMAL is durable across application crashes in WAL mode; FULL adds power-loss safety
    // for the last transaction, which is what "never lose a keystroke" asks for.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrations::migrations().to_latest(&mut conn)?;
    Ok(Opened::Ready(conn))
}

/// An in-memory database with the full schema, for tests and benchmarks.
pub fn open_in_memory() -> Result<Connection> {
    let mut conn = Connection::open_in_memory()?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrations::migrations().to_latest(&mut conn)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_schema_and_uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join(DATABASE_FILE);
        let conn = open(&path).unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, schema_version_supported());
    }

    #[test]
    fn reopening_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATABASE_FILE);
        {
            let conn = open(&path).unwrap();
            conn.execute("INSERT INTO setting (key, value) VALUES ('k', 'v')", [])
                .unwrap();
        }
        let conn = open(&path).unwrap();
        let v: String = conn
            .query_row("SELECT value FROM setting WHERE key = 'k'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(v, "v");
    }

    #[test]
    fn refuses_a_newer_database_and_leaves_it_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATABASE_FILE);
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE future (x); INSERT INTO future VALUES (42);")
                .unwrap();
            conn.pragma_update(None, "user_version", schema_version_supported() + 5)
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();

        let err = open(&path).unwrap_err();
        assert_eq!(err.code().as_str(), "database_too_new");
        let message = err.to_string();
        assert!(message.contains("newer version of Stopover"), "{message}");
        assert!(
            message.contains(&format!(
                "schema version {}",
                schema_version_supported() + 5
            )),
            "{message}"
        );

        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "the newer database must not be modified"
        );
        let conn = Connection::open(&path).unwrap();
        let x: i64 = conn
            .query_row("SELECT x FROM future", [], |r| r.get(0))
            .unwrap();
        assert_eq!(x, 42);
    }
}
