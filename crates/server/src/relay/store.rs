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
use stopover_protocol::PackRelease;

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
/// The latest content pack the server named (a release, JSON).
pub const PACK_NAMED: &str = "pack_named";
/// The content pack whose archive the relay keeps in `packs/` (a release, JSON).
pub const PACK_KEPT: &str = "pack_kept";

/// The release kept under `key` ([`PACK_NAMED`] or [`PACK_KEPT`]).
pub fn pack(conn: &Connection, key: &str) -> Result<Option<PackRelease>> {
    Ok(meta(conn, key)?.and_then(|json| serde_json::from_str(&json).ok()))
}

pub fn set_pack(conn: &Connection, key: &str, release: &PackRelease) -> Result<()> {
    let json = serde_json::to_string(release).map_err(|e| Error::Usage(e.to_string()))?;
    set_meta(conn, key, &json)
}

/// Keeps a laptop's push until the server answers it; returns the held push that will carry
/// it. The laptop resends what it has not heard back about, so the uplink carries each
/// operation once: a push whose operations an already held one all carries is not kept again,
/// and an older push whose operations this one all carries is dropped.
pub fn hold(
    conn: &mut Connection,
    device_id: &str,
    file: &[u8],
    op_ids: &[String],
    now: i64,
) -> Result<i64> {
    let tx = conn.transaction()?;
    let older: Vec<(i64, Vec<String>)> = {
        let mut stmt = tx.prepare("SELECT id, op_ids FROM held WHERE device_id = ?1")?;
        stmt.query_map([device_id], |r| Ok((r.get(0)?, r.get::<_, String>(1)?)))?
            .map(|row| {
                let (id, ids) = row?;
                Ok((id, serde_json::from_str(&ids).unwrap_or_default()))
            })
            .collect::<rusqlite::Result<_>>()?
    };
    // A push already held (perhaps on its way upstream) that carries every operation of this
    // one answers it too: the laptop resent what it had not heard back about.
    if let Some((id, _)) = older
        .iter()
        .find(|(_, ids)| op_ids.iter().all(|i| ids.contains(i)))
    {
        return Ok(*id);
    }
    for (id, ids) in &older {
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

/// The oldest waiting push of up to `n` laptops (one each: a laptop's pushes go in order).
pub fn next_held(conn: &Connection, n: usize) -> Result<Vec<Held>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, device_id, file FROM held
         WHERE id IN (SELECT min(id) FROM held GROUP BY device_id)
         ORDER BY id LIMIT ?1",
    )?;
    let rows = stmt.query_map([n as i64], |r| {
        Ok(Held {
            id: r.get(0)?,
            device_id: r.get(1)?,
            file: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// True when a laptop's round needs the server: it carries an operation the server has not
/// answered yet, or the laptop's newest reply is older than `fresh_secs` (its private changes
/// are fetched again), or the server has never answered it. Otherwise the relay answers from
/// what it holds and the uplink is spared.
pub fn needs_server(
    conn: &Connection,
    device_id: &str,
    op_ids: &[String],
    now: i64,
    fresh_secs: i64,
) -> Result<bool> {
    let row: Option<(String, i64)> = conn
        .query_row(
            "SELECT op_ids, received_at FROM reply WHERE device_id = ?1",
            [device_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((answered, at)) = row else {
        return Ok(true);
    };
    let answered: Vec<String> = serde_json::from_str(&answered)?;
    Ok(now - at >= fresh_secs || op_ids.iter().any(|id| !answered.contains(id)))
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

/// Where the chain of community pages starts: the community cursor of the first laptop that
/// came by (the relay fetches what laptops lack, not the forum's whole history), lowered when
/// a laptop further behind comes ([`BACKFILL_FROM`]). `None` until a laptop comes.
pub const CHAIN_START: &str = "chain_start";
/// A laptop behind the chain's start came by: the pages from here to the start are fetched
/// before the chain is served to it.
pub const BACKFILL_FROM: &str = "backfill_from";
/// Where the next backfill pull starts.
const BACKFILL_AT: &str = "backfill_at";

fn meta_u64(conn: &Connection, key: &str) -> Result<Option<u64>> {
    Ok(meta(conn, key)?.and_then(|v| v.parse().ok()))
}

/// Notes a laptop's community cursor: it starts the chain, or asks for a backfill when it is
/// behind the chain's start.
pub fn note_laptop_cursor(conn: &Connection, cursor: u64) -> Result<()> {
    match meta_u64(conn, CHAIN_START)? {
        None => set_meta(conn, CHAIN_START, &cursor.to_string()),
        Some(start) if cursor < start => {
            if meta_u64(conn, BACKFILL_FROM)?.is_none_or(|from| cursor < from) {
                set_meta(conn, BACKFILL_FROM, &cursor.to_string())?;
                set_meta(conn, BACKFILL_AT, &cursor.to_string())?;
            }
            Ok(())
        }
        Some(_) => Ok(()),
    }
}

/// Where the next community pull starts: a backfill first, else the chain's end. `None`
/// before any laptop came.
pub fn next_pull(conn: &Connection) -> Result<Option<u64>> {
    if let Some(from) = meta_u64(conn, BACKFILL_FROM)? {
        return Ok(Some(meta_u64(conn, BACKFILL_AT)?.unwrap_or(from)));
    }
    Ok(meta_u64(conn, CHAIN_START)?.map(|start| community_end(conn).unwrap_or(start).max(start)))
}

/// Where the community pages held reach (the chain's start while none are held, 0 before
/// any laptop came).
pub fn community_cursor(conn: &Connection) -> Result<u64> {
    Ok(community_end(conn)
        .or(meta_u64(conn, CHAIN_START)?)
        .unwrap_or(0))
}

fn community_end(conn: &Connection) -> Option<u64> {
    conn.query_row("SELECT max(to_cursor) FROM page", [], |r| {
        r.get::<_, Option<i64>>(0)
    })
    .ok()
    .flatten()
    .map(|e| e as u64)
}

/// Adds a community page pulled from `from_cursor` (what [`next_pull`] said). A backfill page
/// moves the backfill on; the one that reaches the chain's start joins the two, and the chain
/// then starts where the backfill did.
pub fn add_page(
    conn: &mut Connection,
    from_cursor: u64,
    to_cursor: u64,
    file: &[u8],
) -> Result<()> {
    let tx = conn.transaction()?;
    if next_pull(&tx)? != Some(from_cursor) {
        return Err(Error::Corrupt(format!(
            "a community page from {from_cursor} does not continue the pages held"
        )));
    }
    let backfill = meta_u64(&tx, BACKFILL_FROM)?;
    // A backfill page may overlap the chain: laptops skip what they hold.
    tx.execute(
        "INSERT OR IGNORE INTO page (to_cursor, from_cursor, file) VALUES (?1, ?2, ?3)",
        params![to_cursor as i64, from_cursor as i64, file],
    )?;
    if let Some(start) = meta_u64(&tx, CHAIN_START)?
        && let Some(from) = backfill
    {
        if to_cursor >= start {
            set_meta(&tx, CHAIN_START, &from.to_string())?;
            tx.execute(
                "DELETE FROM meta WHERE key IN (?1, ?2)",
                [BACKFILL_FROM, BACKFILL_AT],
            )?;
        } else {
            set_meta(&tx, BACKFILL_AT, &to_cursor.to_string())?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The pages a laptop whose copy reaches `cursor` lacks, oldest first, up to `max_bytes`
/// (at least one); and whether more wait. A laptop behind the chain's start gets none until
/// the backfill reaches it (and is told more wait).
pub fn pages_after(
    conn: &Connection,
    cursor: u64,
    max_bytes: usize,
) -> Result<(Vec<Vec<u8>>, bool)> {
    if meta_u64(conn, CHAIN_START)?.is_none_or(|start| cursor < start) {
        return Ok((Vec::new(), true));
    }
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
        // Resent before the answer came (or with nothing new at all): nothing more is kept.
        let two = hold(&mut c, "d1", b"two again", &ids(&["b", "a"]), 4).unwrap();
        hold(&mut c, "d1", b"empty", &[], 4).unwrap();
        assert_eq!(held_count(&c).unwrap(), 3);
        assert_eq!(
            two,
            hold(&mut c, "d1", b"a alone", &ids(&["a"]), 4).unwrap()
        );
        let first = next_held(&c, 1).unwrap().remove(0);
        assert_eq!(
            (first.device_id.as_str(), first.file.as_slice()),
            ("d2", &b"other"[..])
        );
        answered(&mut c, first.id, "d2", b"reply", &ids(&["x"]), 4).unwrap();
        assert!(!device_waits(&c, "d2").unwrap());
        assert_eq!(reply(&c, "d2").unwrap().unwrap().1, ids(&["x"]));
        let next = next_held(&c, 1).unwrap().remove(0);
        assert_eq!(next.file, b"two");
        refused(&mut c, next.id, "d1", "token_revoked", "revoked", 5).unwrap();
        assert_eq!(next_held(&c, 1).unwrap()[0].file, b"three");
        assert_eq!(refusal(&c, "d1").unwrap().unwrap().0, "token_revoked");
    }

    #[test]
    fn pages_chain_and_are_served_after_a_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = open(dir.path()).unwrap();
        assert_eq!(next_pull(&c).unwrap(), None, "no laptop came yet");
        note_laptop_cursor(&c, 0).unwrap();
        assert_eq!(next_pull(&c).unwrap(), Some(0));
        add_page(&mut c, 0, 10, b"p1").unwrap();
        add_page(&mut c, 10, 25, b"p2").unwrap();
        assert!(add_page(&mut c, 5, 30, b"gap").is_err());
        assert_eq!(community_cursor(&c).unwrap(), 25);
        let (p1, p2) = (b"p1".to_vec(), b"p2".to_vec());
        assert_eq!(
            pages_after(&c, 0, 1000).unwrap(),
            (vec![p1.clone(), p2.clone()], false)
        );
        assert_eq!(pages_after(&c, 12, 1000).unwrap(), (vec![p2], false));
        assert_eq!(pages_after(&c, 0, 1).unwrap(), (vec![p1], true));
        assert_eq!(pages_after(&c, 25, 1000).unwrap(), (vec![], false));
    }

    /// The chain starts at the first laptop's cursor (no history nobody lacks); a laptop
    /// further behind gets pages once the backfill joins the chain.
    #[test]
    fn the_chain_starts_where_laptops_stand_and_backfills_for_one_behind() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = open(dir.path()).unwrap();
        note_laptop_cursor(&c, 100).unwrap();
        add_page(&mut c, 100, 120, b"news").unwrap();
        note_laptop_cursor(&c, 150).unwrap();
        assert_eq!(next_pull(&c).unwrap(), Some(120));
        note_laptop_cursor(&c, 40).unwrap();
        assert_eq!(
            pages_after(&c, 40, 1000).unwrap(),
            (vec![], true),
            "not servable yet"
        );
        assert_eq!(
            pages_after(&c, 100, 1000).unwrap().0,
            vec![b"news".to_vec()]
        );
        assert_eq!(next_pull(&c).unwrap(), Some(40), "the backfill comes first");
        add_page(&mut c, 40, 70, b"old").unwrap();
        assert_eq!(next_pull(&c).unwrap(), Some(70));
        add_page(&mut c, 70, 105, b"joins").unwrap();
        assert_eq!(
            next_pull(&c).unwrap(),
            Some(120),
            "joined: back to the chain's end"
        );
        let expected = vec![b"old".to_vec(), b"joins".to_vec(), b"news".to_vec()];
        assert_eq!(pages_after(&c, 40, 1000).unwrap(), (expected, false));
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
