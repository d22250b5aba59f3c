//! The relay's own SQLite file (`relay.sqlite3` in `--data`): pushes held for the server, the
//! server's newest reply per laptop, refusals, and the community pages fetched once.
//!
//! Nothing in it signs anybody in: the pushes, replies and pages are signed by their makers
//! and passed on unchanged; the relay's own key lives in memory only (see [`super::Relay`]).
//! `synchronous = FULL`: a push the relay told a laptop it holds survives a power cut.

use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};

use crate::error::{Error, Result};

/// File name of the relay's database inside `--data DIR`.
pub const RELAY_DATABASE_FILE: &str = "relay.sqlite3";

const STEPS: &[&str] = &[
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
     -- A laptop's push, as it signed it, until the server answers it.
     CREATE TABLE held (
         id INTEGER PRIMARY KEY,
         device_id TEXT NOT NULL,
         received_at INTEGER NOT NULL,
         file BLOB NOT NULL,
         op_ids TEXT NOT NULL
     ) STRICT;
     CREATE INDEX held_by_device ON held (device_id, id);
     -- The newest reply the server signed for each laptop, and the operations it answers.
     CREATE TABLE reply (
         device_id TEXT PRIMARY KEY,
         file BLOB NOT NULL,
         op_ids TEXT NOT NULL,
         received_at INTEGER NOT NULL
     ) STRICT;
     -- The server refused a laptop's push for good (a revoked device, a pending account).
     CREATE TABLE refusal (
         device_id TEXT PRIMARY KEY,
         code TEXT NOT NULL,
         message TEXT NOT NULL,
         at INTEGER NOT NULL
     ) STRICT;
     -- Community pages as the server signed them, chained: each from the last one's cursor.
     CREATE TABLE page (
         to_cursor INTEGER PRIMARY KEY,
         from_cursor INTEGER NOT NULL,
         file BLOB NOT NULL
     ) STRICT;",
];

static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::new(STEPS.iter().map(|sql| M::up(sql)).collect()));

/// Opens (creating if needed) the relay's database in `dir`. A database from a newer relay is
/// refused untouched.
pub fn open(dir: &Path) -> Result<Connection> {
    std::fs::create_dir_all(dir).map_err(|source| Error::DataDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(RELAY_DATABASE_FILE);
    let mut conn = Connection::open(&path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let supported = STEPS.len() as i64;
    if found > supported {
        return Err(Error::DatabaseTooNew {
            path,
            found,
            supported,
        });
    }
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    MIGRATIONS.to_latest(&mut conn)?;
    Ok(conn)
}

pub fn meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// `meta` keys.
pub const SERVER_KEY: &str = "server_key";
pub const LAST_CONTACT: &str = "last_contact";

/// Keeps a laptop's push until the server answers it. An older push of the same laptop whose
/// operations this one all carries again is dropped: the laptop resends what is unanswered,
/// so forwarding the newest is enough and the uplink carries each operation once.
pub fn hold(
    conn: &mut Connection,
    device_id: &str,
    file: &[u8],
    op_ids: &[String],
    now: i64,
) -> Result<i64> {
    let tx = conn.transaction()?;
    let older: Vec<(i64, String)> = {
        let mut stmt = tx.prepare("SELECT id, op_ids FROM held WHERE device_id = ?1")?;
        stmt.query_map([device_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    for (id, ids) in older {
        let ids: Vec<String> = serde_json::from_str(&ids)?;
        if ids.iter().all(|i| op_ids.contains(i)) {
            tx.execute("DELETE FROM held WHERE id = ?1", [id])?;
        }
    }
    tx.execute(
        "INSERT INTO held (device_id, received_at, file, op_ids) VALUES (?1, ?2, ?3, ?4)",
        params![device_id, now, file, serde_json::to_string(op_ids)?],
    )?;
    let id = tx.last_insert_rowid();
    tx.commit()?;
    Ok(id)
}

/// A push waiting for the server.
pub struct Held {
    pub id: i64,
    pub device_id: String,
    pub file: Vec<u8>,
}

/// The oldest waiting push.
pub fn next_held(conn: &Connection) -> Result<Option<Held>> {
    Ok(conn
        .query_row(
            "SELECT id, device_id, file FROM held ORDER BY id LIMIT 1",
            [],
            |r| {
                Ok(Held {
                    id: r.get(0)?,
                    device_id: r.get(1)?,
                    file: r.get(2)?,
                })
            },
        )
        .optional()?)
}

pub fn held_count(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("SELECT count(*) FROM held", [], |r| r.get(0))?)
}

/// True while a push of `device_id` waits (for the handler that waits a moment for it).
pub fn device_waits(conn: &Connection, device_id: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM held WHERE device_id = ?1 LIMIT 1",
            [device_id],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// The server answered push `id`: its reply replaces the laptop's older one, and the push is
/// no longer held (one transaction: a kill in between forwards it again, which the server
/// answers as duplicates).
pub fn answered(
    conn: &mut Connection,
    held_id: i64,
    device_id: &str,
    reply: &[u8],
    op_ids: &[String],
    now: i64,
) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO reply (device_id, file, op_ids, received_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (device_id) DO UPDATE SET file = excluded.file, op_ids = excluded.op_ids,
             received_at = excluded.received_at",
        params![device_id, reply, serde_json::to_string(op_ids)?, now],
    )?;
    tx.execute("DELETE FROM refusal WHERE device_id = ?1", [device_id])?;
    tx.execute("DELETE FROM held WHERE id = ?1", [held_id])?;
    tx.commit()?;
    Ok(())
}

/// The server refused push `id` for good: the laptop is told, and the push is dropped (the
/// laptop keeps its operations; it resends them once the cause is mended).
pub fn refused(
    conn: &mut Connection,
    held_id: i64,
    device_id: &str,
    code: &str,
    message: &str,
    now: i64,
) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO refusal (device_id, code, message, at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (device_id) DO UPDATE SET code = excluded.code, message = excluded.message,
             at = excluded.at",
        params![device_id, code, message, now],
    )?;
    tx.execute(
        "DELETE FROM held WHERE device_id = ?1 AND id <= ?2",
        params![device_id, held_id],
    )?;
    tx.commit()?;
    Ok(())
}

/// The server's newest reply for a laptop and the operation ids it answers.
pub fn reply(conn: &Connection, device_id: &str) -> Result<Option<(Vec<u8>, Vec<String>)>> {
    let row: Option<(Vec<u8>, String)> = conn
        .query_row(
            "SELECT file, op_ids FROM reply WHERE device_id = ?1",
            [device_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        Some((file, ids)) => Ok(Some((file, serde_json::from_str(&ids)?))),
        None => Ok(None),
    }
}

pub fn refusal(conn: &Connection, device_id: &str) -> Result<Option<(String, String)>> {
    Ok(conn
        .query_row(
            "SELECT code, message FROM refusal WHERE device_id = ?1",
            [device_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Where the community pages held reach (0: none yet).
pub fn community_cursor(conn: &Connection) -> Result<u64> {
    let end: Option<i64> = conn.query_row("SELECT max(to_cursor) FROM page", [], |r| r.get(0))?;
    Ok(end.map_or(0, |e| e as u64))
}

/// Adds a community page that continues the chain (`from_cursor` is where the chain ends).
pub fn add_page(conn: &Connection, from_cursor: u64, to_cursor: u64, file: &[u8]) -> Result<()> {
    if from_cursor != community_cursor(conn)? {
        return Err(Error::Corrupt(format!(
            "a community page from {from_cursor} does not continue the pages held"
        )));
    }
    conn.execute(
        "INSERT INTO page (to_cursor, from_cursor, file) VALUES (?1, ?2, ?3)",
        params![to_cursor as i64, from_cursor as i64, file],
    )?;
    Ok(())
}

/// The pages a laptop whose copy reaches `cursor` lacks, oldest first, up to `max_bytes`
/// (at least one); and whether more wait.
pub fn pages_after(
    conn: &Connection,
    cursor: u64,
    max_bytes: usize,
) -> Result<(Vec<Vec<u8>>, bool)> {
    let mut stmt =
        conn.prepare_cached("SELECT file FROM page WHERE to_cursor > ?1 ORDER BY to_cursor")?;
    let mut rows = stmt.query([i64::try_from(cursor).unwrap_or(i64::MAX)])?;
    let (mut pages, mut bytes) = (Vec::new(), 0usize);
    while let Some(row) = rows.next()? {
        let file: Vec<u8> = row.get(0)?;
        if !pages.is_empty() && bytes + file.len() > max_bytes {
            return Ok((pages, true));
        }
        bytes += file.len();
        pages.push(file);
    }
    Ok((pages, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_newer_push_carrying_every_operation_replaces_the_older() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = open(dir.path()).unwrap();
        hold(&mut c, "d1", b"one", &ids(&["a"]), 1).unwrap();
        hold(&mut c, "d2", b"other", &ids(&["x"]), 1).unwrap();
        hold(&mut c, "d1", b"two", &ids(&["a", "b"]), 2).unwrap();
        // A third that dropped "a" (answered meanwhile) keeps the second: it still carries b.
        hold(&mut c, "d1", b"three", &ids(&["c"]), 3).unwrap();
        assert_eq!(held_count(&c).unwrap(), 3);
        let first = next_held(&c).unwrap().unwrap();
        assert_eq!(
            (first.device_id.as_str(), first.file.as_slice()),
            ("d2", &b"other"[..])
        );
        answered(&mut c, first.id, "d2", b"reply", &ids(&["x"]), 4).unwrap();
        assert!(!device_waits(&c, "d2").unwrap());
        assert_eq!(reply(&c, "d2").unwrap().unwrap().1, ids(&["x"]));
        let next = next_held(&c).unwrap().unwrap();
        assert_eq!(next.file, b"two");
        refused(&mut c, next.id, "d1", "token_revoked", "revoked", 5).unwrap();
        assert_eq!(next_held(&c).unwrap().unwrap().file, b"three");
        assert_eq!(refusal(&c, "d1").unwrap().unwrap().0, "token_revoked");
    }

    #[test]
    fn pages_chain_and_are_served_after_a_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let c = open(dir.path()).unwrap();
        add_page(&c, 0, 10, b"p1").unwrap();
        add_page(&c, 10, 25, b"p2").unwrap();
        assert!(add_page(&c, 5, 30, b"gap").is_err());
        assert_eq!(community_cursor(&c).unwrap(), 25);
        assert_eq!(
            pages_after(&c, 0, 1000).unwrap(),
            (vec![b"p1".to_vec(), b"p2".to_vec()], false)
        );
        assert_eq!(
            pages_after(&c, 12, 1000).unwrap(),
            (vec![b"p2".to_vec()], false)
        );
        assert_eq!(pages_after(&c, 0, 1).unwrap(), (vec![b"p1".to_vec()], true));
        assert_eq!(pages_after(&c, 25, 1000).unwrap(), (vec![], false));
    }

    #[test]
    fn a_newer_relay_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(open(dir.path()).unwrap());
        let c = Connection::open(dir.path().join(RELAY_DATABASE_FILE)).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        drop(c);
        assert!(matches!(
            open(dir.path()),
            Err(Error::DatabaseTooNew { .. })
        ));
    }
}
