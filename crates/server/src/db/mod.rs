//! The server's SQLite database: one file in the data folder, WAL, migrations embedded.
//!
//! One writer connection (SQLite allows one writer at a time anyway) and a small pool of
//! read-only connections, so sign-in checks and pulls never wait behind a push's fsync.
//! All of it runs on tokio's blocking pool.

mod migrations;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

pub use migrations::schema_version_supported;

/// File name of the database inside `--data DIR`.
pub const DATABASE_FILE: &str = "ecommunity.sqlite3";

/// Idle read connections kept open; more are opened on demand and closed after use.
const IDLE_READERS: usize = 8;

/// Opens (creating if needed) the database in `dir` and brings its schema up to date.
/// Used by the admin CLI directly and by [`Db`] for its writer.
pub fn open(dir: &Path) -> Result<Connection> {
    std::fs::create_dir_all(dir).map_err(|source| Error::DataDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(DATABASE_FILE);
    let mut conn = Connection::open(&path)?;
    configure(&conn)?;
    // Refuse before writing anything: never migrate down, never touch a newer schema.
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let supported = schema_version_supported();
    if found > supported {
        return Err(Error::DatabaseTooNew {
            path,
            found,
            supported,
        });
    }
    conn.pragma_update(None, "journal_mode", "WAL")?;
    migrations::migrations().to_latest(&mut conn)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    // An acknowledged push must survive a power cut: the client deletes the operation from
    // its outbox once it has our answer.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Shared handle used by the HTTP server.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic inside a closure drops its transaction (rolled back); the connection is fine.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Db {
    pub fn open(dir: &Path) -> Result<Db> {
        let writer = open(dir)?;
        let path = dir.join(DATABASE_FILE);
        Ok(Db {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The data folder: the database's directory, where attachments and packs are kept too.
    pub fn dir(&self) -> &Path {
        self.inner.path.parent().unwrap_or(Path::new("."))
    }

    /// Runs `f` on the writer connection. `f` opens its own transaction where it needs one.
    pub async fn write<F, R>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&mut Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&mut lock(&inner.writer))).await?
    }

    /// Runs `f` on a read-only connection.
    pub async fn read<F, R>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = lock(&inner.readers).pop();
            let conn = match pooled {
                Some(conn) => conn,
                None => inner.open_reader()?,
            };
            let result = f(&conn);
            let mut idle = lock(&inner.readers);
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
            result
        })
        .await?
    }
}

impl Inner {
    fn open_reader(&self) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "query_only", "ON")?;
        Ok(conn)
    }
}

/// For tests only: seconds added to the server's clock (negative: behind), so clients can
/// be tried against a server whose clock is years off. Read once; never set in production.
pub const CLOCK_SHIFT_ENV: &str = "ECOMMUNITY_TEST_CLOCK_SHIFT_SECS";

/// [`CLOCK_SHIFT_ENV`], or 0.
pub fn clock_shift_secs() -> i64 {
    static SHIFT: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *SHIFT.get_or_init(|| {
        let shift = std::env::var(CLOCK_SHIFT_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if shift != 0 {
            tracing::warn!(
                shift,
                "the server's clock is shifted for a test ({CLOCK_SHIFT_ENV})"
            );
        }
        shift
    })
}

/// The server's time: every stamp, deadline and HTTP `Date` comes from here.
pub fn server_time() -> std::time::SystemTime {
    let now = std::time::SystemTime::now();
    let shift = clock_shift_secs();
    let by = Duration::from_secs(shift.unsigned_abs());
    if shift >= 0 { now + by } else { now - by }
}

/// Seconds since the Unix epoch, for `created_at` columns.
pub fn unix_now() -> i64 {
    server_time()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_schema_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(&dir.path().join("nested")).unwrap();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, schema_version_supported());
        assert!(dir.path().join("nested").join(DATABASE_FILE).exists());
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        drop(open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.pragma_update(None, "user_version", schema_version_supported() + 1)
            .unwrap();
        drop(conn);
        assert!(matches!(
            open(dir.path()),
            Err(Error::DatabaseTooNew { .. })
        ));
    }

    #[tokio::test]
    async fn readers_see_committed_writes_and_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        db.write(|c| {
            c.execute("CREATE TABLE t (x INTEGER) STRICT", [])?;
            c.execute("INSERT INTO t VALUES (7)", [])?;
            Ok(())
        })
        .await
        .unwrap();
        let x: i64 = db
            .read(|c| Ok(c.query_row("SELECT x FROM t", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(x, 7);
        let denied = db
            .read(|c| Ok(c.execute("INSERT INTO t VALUES (8)", [])?))
            .await;
        assert!(denied.is_err());
    }
}
