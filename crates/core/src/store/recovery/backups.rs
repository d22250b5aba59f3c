//! Local backups: `VACUUM INTO` a `backups/` folder beside the database, a few kept, the
//! oldest removed; and putting one back in place of the database (which is kept, renamed).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use super::check::{Health, check_file};
use super::file_stamp;
use super::salvage::{set_aside, sibling};
use crate::{Error, ErrorCode, Result};

/// Folder of the backups, beside the database file.
pub const BACKUP_DIR: &str = "backups";
/// How many backups are kept; the oldest goes when a newer one is written.
pub const BACKUPS_KEPT: usize = 5;
/// At most one automatic backup in this time (at start-up and after a successful sync).
pub const BACKUP_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

const PREFIX: &str = "stopover-";
const SUFFIX: &str = ".sqlite3";

/// One backup file, as the restore screen lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BackupInfo {
    /// The file name inside `backups/`: what "restore" is given back.
    pub name: String,
    /// When it was written, RFC 3339 UTC (from its name).
    pub created_at: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bytes: u64,
}

/// The outcome of a restore.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RestoreReport {
    pub restored: BackupInfo,
    /// Where the database that was replaced now is (kept, never deleted), if there was one.
    pub previous_file: Option<String>,
}

pub fn backup_dir(db_path: &Path) -> PathBuf {
    db_path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(BACKUP_DIR)
}

/// Writes a backup of the database at `db_path` now (through its own connection, so the
/// app's connection is not held meanwhile), then removes all but the newest
/// [`BACKUPS_KEPT`]. A damaged database is not backed up: it would push a good backup out.
pub fn backup_now(db_path: &Path) -> Result<BackupInfo> {
    let dir = backup_dir(db_path);
    std::fs::create_dir_all(&dir).map_err(|source| Error::DataDir {
        path: dir.clone(),
        source,
    })?;
    let stamp = file_stamp();
    // A second backup within the same second is numbered after every one of that second.
    let taken = list_backups(db_path)?
        .iter()
        .map(|b| order(&b.name))
        .filter(|(time, _)| *time == stamp)
        .map(|(_, n)| n)
        .max();
    let name = match taken {
        None => format!("{PREFIX}{stamp}{SUFFIX}"),
        Some(n) => format!("{PREFIX}{stamp}-{}{SUFFIX}", n + 1),
    };
    let target = dir.join(&name);
    let partial = sibling(&target, ".partial");
    let _ = std::fs::remove_file(&partial);
    let conn = Connection::open_with_flags(
        db_path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(crate::store::BUSY_TIMEOUT)?;
    if let Health::Damaged(tables) = super::check::check(&conn) {
        return Err(Error::DatabaseDamaged {
            path: db_path.to_path_buf(),
            tables,
        });
    }
    // Written under a temporary name, so a crash never leaves a half backup that looks whole.
    conn.execute("VACUUM INTO ?1", [partial.to_string_lossy()])?;
    drop(conn);
    std::fs::rename(&partial, &target).map_err(|source| Error::DataDir {
        path: target.clone(),
        source,
    })?;
    rotate(db_path)?;
    let info = info(&dir, &name).ok_or_else(|| Error::internal("backup written but not found"))?;
    tracing::info!(backup = %info.name, bytes = info.bytes, "database backed up");
    Ok(info)
}

/// [`backup_now`] unless the newest backup is younger than `interval`.
pub fn backup_if_due(db_path: &Path, interval: Duration) -> Result<Option<BackupInfo>> {
    let newest = list_backups(db_path)?
        .into_iter()
        .next()
        .and_then(|b| std::fs::metadata(backup_dir(db_path).join(&b.name)).ok())
        .and_then(|m| m.modified().ok());
    if let Some(at) = newest
        && SystemTime::now()
            .duration_since(at)
            .is_ok_and(|age| age < interval)
    {
        return Ok(None);
    }
    backup_now(db_path).map(Some)
}

/// The backups, newest first.
pub fn list_backups(db_path: &Path) -> Result<Vec<BackupInfo>> {
    let dir = backup_dir(db_path);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::DataDir { path: dir, source }),
    };
    let mut found: Vec<BackupInfo> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.starts_with(PREFIX) && name.ends_with(SUFFIX))
        .filter_map(|name| info(&dir, &name))
        .collect();
    found.sort_by_key(|b| std::cmp::Reverse(order(&b.name)));
    Ok(found)
}

/// A backup's place in time: its UTC stamp (fixed width), then its number within that second.
fn order(name: &str) -> (String, u32) {
    let stamp = name
        .strip_prefix(PREFIX)
        .and_then(|s| s.strip_suffix(SUFFIX))
        .unwrap_or_default();
    match stamp.split_once('-') {
        Some((time, n)) => (time.to_string(), n.parse().unwrap_or(0)),
        None => (stamp.to_string(), 1),
    }
}

fn rotate(db_path: &Path) -> Result<()> {
    let dir = backup_dir(db_path);
    for old in list_backups(db_path)?.into_iter().skip(BACKUPS_KEPT) {
        std::fs::remove_file(dir.join(&old.name)).map_err(|source| Error::DataDir {
            path: dir.join(&old.name),
            source,
        })?;
        tracing::info!(backup = %old.name, "old backup removed");
    }
    Ok(())
}

fn info(dir: &Path, name: &str) -> Option<BackupInfo> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    // 20261207T031500Z[-n] -> 2026-12-07T03:15:00Z
    let s = stamp.get(..16)?;
    if !s.is_ascii() {
        return None;
    }
    let created_at = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    );
    let bytes = std::fs::metadata(dir.join(name)).ok()?.len();
    Some(BackupInfo {
        name: name.to_string(),
        created_at,
        bytes,
    })
}

/// Puts the backup `name` in place of the database at `db_path`. The database there (damaged
/// or not) is renamed `<name>.replaced-<UTC time>`, never deleted; the backup stays too.
/// Call with no connection open on `db_path`.
pub fn restore(db_path: &Path, name: &str) -> Result<RestoreReport> {
    let dir = backup_dir(db_path);
    let Some(restored) = list_backups(db_path)?.into_iter().find(|b| b.name == name) else {
        return Err(Error::invalid(
            ErrorCode::NotFound,
            format!("no backup named {name}"),
        ));
    };
    let source = dir.join(name);
    if let Health::Damaged(tables) = check_file(&source) {
        return Err(Error::DatabaseDamaged {
            path: source,
            tables,
        });
    }
    let copy = sibling(db_path, ".restoring");
    std::fs::copy(&source, &copy).map_err(|source| Error::DataDir {
        path: copy.clone(),
        source,
    })?;
    let previous = db_path
        .exists()
        .then(|| set_aside(db_path, "replaced"))
        .transpose()?;
    std::fs::rename(&copy, db_path).map_err(|source| Error::DataDir {
        path: db_path.to_path_buf(),
        source,
    })?;
    tracing::warn!(backup = %restored.name, previous = ?previous, "database restored from a backup");
    Ok(RestoreReport {
        restored,
        previous_file: previous.map(|p| p.display().to_string()),
    })
}
