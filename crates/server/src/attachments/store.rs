//! Rows of the `upload` table and the files behind them. Plain, blocking code: the HTTP side
//! calls it through [`Db`](crate::db::Db) and `spawn_blocking`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::db::unix_now;
use crate::error::Result;

/// One upload of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRow {
    pub id: String,
    pub account_id: i64,
    pub sha256: String,
    pub length: u64,
    /// Bytes received and on disk: the tus `Upload-Offset`.
    pub received: u64,
    pub filename: Option<String>,
    /// `Upload-Metadata` as the client sent it.
    pub metadata: String,
    pub complete: bool,
}

const COLUMNS: &str = "id, account_id, sha256, length, received, filename, metadata, complete";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UploadRow> {
    Ok(UploadRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        sha256: r.get(2)?,
        length: r.get::<_, i64>(3)? as u64,
        received: r.get::<_, i64>(4)? as u64,
        filename: r.get(5)?,
        metadata: r.get(6)?,
        complete: r.get(7)?,
    })
}

/// The upload `id` if it belongs to `account_id`.
pub fn find(conn: &Connection, account_id: i64, id: &str) -> Result<Option<UploadRow>> {
    let sql = format!("SELECT {COLUMNS} FROM upload WHERE id = ?1 AND account_id = ?2");
    Ok(conn
        .query_row(&sql, params![id, account_id], from_row)
        .optional()?)
}

/// The account's upload of the file with this SHA-256, finished or not.
pub fn find_by_sha(conn: &Connection, account_id: i64, sha256: &str) -> Result<Option<UploadRow>> {
    let sql = format!("SELECT {COLUMNS} FROM upload WHERE account_id = ?1 AND sha256 = ?2");
    Ok(conn
        .query_row(&sql, params![account_id, sha256], from_row)
        .optional()?)
}

/// A complete upload of the file with this SHA-256, by any account.
pub fn find_complete_by_sha(conn: &Connection, sha256: &str) -> Result<Option<UploadRow>> {
    let sql = format!("SELECT {COLUMNS} FROM upload WHERE sha256 = ?1 AND complete = 1 LIMIT 1");
    Ok(conn.query_row(&sql, [sha256], from_row).optional()?)
}

pub fn insert(conn: &Connection, row: &UploadRow) -> Result<()> {
    conn.execute(
        "INSERT INTO upload (id, account_id, sha256, length, received, filename, metadata, complete, created_at, touched_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![row.id, row.account_id, row.sha256, row.length as i64, row.received as i64, row.filename, row.metadata, row.complete, unix_now()],
    )?;
    Ok(())
}

/// Moves the offset from `from` to `to`; false when it was not at `from` any more.
pub fn advance(conn: &Connection, id: &str, from: u64, to: u64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE upload SET received = ?3, touched_at = ?4 WHERE id = ?1 AND received = ?2 AND complete = 0",
        params![id, from as i64, to as i64, unix_now()],
    )?;
    Ok(n == 1)
}

/// What an account holds: bytes of all its uploads (finished, and announced for unfinished
/// ones) and how many are unfinished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub unfinished: u64,
}

pub fn usage(conn: &Connection, account_id: i64) -> Result<Usage> {
    Ok(conn.query_row(
        "SELECT coalesce(sum(length), 0), coalesce(sum(complete = 0), 0) FROM upload WHERE account_id = ?1",
        [account_id],
        |r| {
            Ok(Usage {
                bytes: r.get::<_, i64>(0)? as u64,
                unfinished: r.get::<_, i64>(1)? as u64,
            })
        },
    )?)
}

/// Deletes unfinished uploads (of one account, or all) that received nothing since `cutoff`
/// (unix seconds); returns their ids (the caller removes their partial files).
pub fn expire_unfinished(
    conn: &Connection,
    cutoff: i64,
    account: Option<i64>,
) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "DELETE FROM upload WHERE complete = 0 AND touched_at < ?1 AND (?2 IS NULL OR account_id = ?2) RETURNING id",
    )?;
    let ids = stmt.query_map(params![cutoff, account], |r| r.get(0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

/// Starts an unfinished upload over, e.g. when a client announces another length for it.
pub fn restart(
    conn: &Connection,
    id: &str,
    length: u64,
    filename: Option<&str>,
    metadata: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE upload SET received = 0, length = ?2, filename = ?3, metadata = ?4, touched_at = ?5 WHERE id = ?1 AND complete = 0",
        params![id, length as i64, filename, metadata, unix_now()],
    )?;
    Ok(())
}

pub fn mark_complete(conn: &Connection, id: &str) -> Result<()> {
    conn.execute(
        "UPDATE upload SET complete = 1, received = length, completed_at = ?2 WHERE id = ?1",
        params![id, unix_now()],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> Result<()> {
    conn.execute("DELETE FROM upload WHERE id = ?1", [id])?;
    Ok(())
}

// ---- files ---------------------------------------------------------------------------------

/// Makes `dir` (and its parents) exist.
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// Makes a directory entry (a created, renamed or removed file) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// An empty file at `path`, durably (an existing one is emptied).
pub fn create_empty(path: &Path) -> io::Result<()> {
    let f = File::create(path)?;
    f.sync_all()?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Opens the partial file to append at `offset`: anything past it (bytes of an earlier request
/// that were never acknowledged) is cut first; a file shorter than `offset` is an error (a gap
/// is never filled with zeros).
pub fn open_at(path: &Path, offset: u64) -> io::Result<tokio::fs::File> {
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)?;
    let len = f.metadata()?.len();
    if len < offset {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("partial file holds {len} bytes, the upload {offset}"),
        ));
    }
    if len != offset {
        f.set_len(offset)?;
    }
    f.seek(SeekFrom::Start(offset))?;
    Ok(tokio::fs::File::from_std(f))
}

/// Writes `bytes` at `offset` of `path` and makes them durable before returning. Anything
/// past `offset` (bytes of an earlier request that were never acknowledged) is cut first.
pub fn write_at(path: &Path, offset: u64, bytes: &[u8]) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)?;
    let len = f.metadata()?.len();
    if len < offset {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("partial file holds {len} bytes, the upload {offset}"),
        ));
    }
    if len != offset {
        f.set_len(offset)?;
    }
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(bytes)?;
    f.sync_data()
}

/// SHA-256 (hex) and length of a file.
pub fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        total += n as u64;
    }
    Ok((stopover_protocol::files::hex(&h.finalize()), total))
}

/// Moves a verified partial file to its content address. When the address already holds the
/// file (same SHA-256, so the same bytes), the partial copy is dropped instead.
pub fn promote(partial: &Path, target: &Path) -> io::Result<()> {
    if target.exists() {
        fs::remove_file(partial)?;
    } else {
        fs::rename(partial, target)?;
    }
    for dir in [target.parent(), partial.parent()].into_iter().flatten() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Removes a file if it is there.
pub fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_at_cuts_unacknowledged_bytes_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("part");
        create_empty(&p).unwrap();
        write_at(&p, 0, b"hello ").unwrap();
        // A request that wrote "XXXX" but was never acknowledged: the offset stayed at 6.
        write_at(&p, 6, b"XXXX").unwrap();
        write_at(&p, 6, b"world").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"hello world");
        assert!(
            write_at(&p, 99, b"!").is_err(),
            "a gap is never filled with zeros"
        );
        let (sha, len) = hash_file(&p).unwrap();
        assert_eq!(len, 11);
        assert_eq!(
            sha,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
    }

    #[test]
    fn promote_keeps_one_copy() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, target) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("t"),
        );
        fs::write(&a, b"x").unwrap();
        fs::write(&b, b"x").unwrap();
        promote(&a, &target).unwrap();
        promote(&b, &target).unwrap();
        assert!(!a.exists() && !b.exists());
        assert_eq!(fs::read(&target).unwrap(), b"x");
    }
}
