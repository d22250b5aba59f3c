//! Backups of a data folder into one zip file, and their restore.
//!
//! - The database is copied with SQLite's online backup API in a single step, i.e. inside one
//!   read transaction: the copy is the database as it stood at one instant, even while the
//!   server writes (every push acknowledged before that instant is in it).
//! - Then every file that copy refers to is added: finished attachments (`files/<sha256>`,
//!   never changed once written) and pack archives (`packs/…`). Unfinished uploads are not
//!   copied: the copy restarts them at byte 0 (clients resume by asking the offset).
//! - `MANIFEST.json` lists every entry with its size and SHA-256; restore checks each.
//!
//! Restore writes into an empty data folder only: it never overwrites a database.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stopover_protocol::files::{hex, is_sha256_hex};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::db::{DATABASE_FILE, unix_now};
use crate::error::{Error, Result};

const MANIFEST: &str = "MANIFEST.json";
const FORMAT: &str = "ecommunity-backup-1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    /// Unix seconds when the database was copied.
    pub created_at: i64,
    pub schema_version: i64,
    pub entries: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

fn backup_error(what: impl std::fmt::Display) -> Error {
    Error::Usage(format!("backup: {what}"))
}

fn restore_error(what: impl std::fmt::Display) -> Error {
    Error::Usage(format!("restore: {what}"))
}

/// Copies the live database at `src` into a new file at `dst` in one step of the online
/// backup API, retrying while a writer holds the lock.
fn snapshot(src: &Path, dst: &Path) -> Result<()> {
    let from = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    from.busy_timeout(Duration::from_secs(30))?;
    let mut to = Connection::open(dst)?;
    let backup = Backup::new(&from, &mut to)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        // -1: every page in one step, hence one read transaction: a consistent copy.
        match backup.step(-1)? {
            StepResult::Done => break,
            StepResult::More | StepResult::Busy | StepResult::Locked
                if std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => return Err(backup_error("the database stayed locked for 2 minutes")),
        }
    }
    drop(backup);
    // The copy is a plain rollback-journal file on its own.
    to.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

/// What the copied database refers to: finished attachments and pack archives, as paths
/// relative to the data folder. Unfinished uploads in the copy are set back to byte 0.
fn referenced_files(copy: &Connection) -> Result<Vec<String>> {
    copy.execute("UPDATE upload SET received = 0 WHERE complete = 0", [])?;
    let mut out: Vec<String> = Vec::new();
    let mut stmt = copy.prepare("SELECT DISTINCT sha256 FROM upload WHERE complete = 1")?;
    for sha in stmt.query_map([], |r| r.get::<_, String>(0))? {
        let sha = sha?;
        if !is_sha256_hex(&sha) {
            return Err(Error::Corrupt(format!("an upload names the file `{sha}`")));
        }
        out.push(format!("files/{sha}"));
    }
    let mut stmt = copy.prepare("SELECT version FROM pack_release")?;
    for version in stmt.query_map([], |r| r.get::<_, String>(0))? {
        let path = crate::packs::archive_path(Path::new("packs"), &version?);
        out.push(path.to_string_lossy().replace('\\', "/"));
    }
    Ok(out)
}

/// Streams a file into the zip, hashing it on the way.
fn add_file(
    zip: &mut ZipWriter<File>,
    name: &str,
    path: &Path,
    method: CompressionMethod,
) -> Result<ManifestEntry> {
    let options = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(true);
    zip.start_file(name, options)
        .map_err(|e| backup_error(format!("{name}: {e}")))?;
    let mut file =
        File::open(path).map_err(|e| backup_error(format!("{}: {e}", path.display())))?;
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| backup_error(format!("{}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        zip.write_all(&buf[..n])
            .map_err(|e| backup_error(format!("{name}: {e}")))?;
        size += n as u64;
    }
    Ok(ManifestEntry {
        path: name.to_string(),
        size,
        sha256: hex(&hash.finalize()),
    })
}

/// `ecommunity backup`: writes `to` (never over an existing file); returns its manifest.
pub fn backup(data_dir: &Path, to: &Path) -> Result<Manifest> {
    let db = data_dir.join(DATABASE_FILE);
    if !db.is_file() {
        return Err(backup_error(format!(
            "{} holds no database ({DATABASE_FILE})",
            data_dir.display()
        )));
    }
    if to.exists() {
        return Err(backup_error(format!(
            "{} exists already: choose a new file",
            to.display()
        )));
    }
    let partial = with_suffix(to, ".partial");
    let copy_path = with_suffix(to, ".sqlite3.tmp");
    let result = (|| {
        let created_at = unix_now();
        snapshot(&db, &copy_path)?;
        let copy = Connection::open(&copy_path)?;
        let schema_version: i64 = copy.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let files = referenced_files(&copy)?;
        drop(copy);

        let out = File::create(&partial)
            .map_err(|e| backup_error(format!("{}: {e}", partial.display())))?;
        let mut zip = ZipWriter::new(out);
        let mut entries = vec![add_file(
            &mut zip,
            DATABASE_FILE,
            &copy_path,
            CompressionMethod::Deflated,
        )?];
        for rel in files {
            let path = data_dir.join(&rel);
            if !path.is_file() {
                // Listed as missing rather than failing the whole backup.
                tracing::warn!(file = %rel, "a file the database refers to is missing; not in the backup");
                continue;
            }
            // Attachments are mostly compressed formats already; packs are gzip.
            entries.push(add_file(&mut zip, &rel, &path, CompressionMethod::Stored)?);
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            created_at,
            schema_version,
            entries,
        };
        zip.start_file(MANIFEST, SimpleFileOptions::default())
            .map_err(backup_error)?;
        zip.write_all(&serde_json::to_vec_pretty(&manifest)?)
            .map_err(backup_error)?;
        let file = zip.finish().map_err(backup_error)?;
        file.sync_all().map_err(backup_error)?;
        fs::rename(&partial, to).map_err(backup_error)?;
        Ok(manifest)
    })();
    let _ = fs::remove_file(&copy_path);
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// True for the entry names a backup may hold (so a crafted file cannot write elsewhere).
fn is_backup_path(name: &str) -> bool {
    if name == DATABASE_FILE {
        return true;
    }
    if let Some(sha) = name.strip_prefix("files/") {
        return is_sha256_hex(sha);
    }
    name.strip_prefix("packs/").is_some_and(|f| {
        !f.is_empty()
            && !f.starts_with('.')
            && f.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    })
}

/// `ecommunity restore`: unpacks `from` into `data_dir`, which must hold no database yet;
/// checks every entry against the manifest. Returns the manifest.
pub fn restore(data_dir: &Path, from: &Path) -> Result<Manifest> {
    if data_dir.join(DATABASE_FILE).exists() {
        return Err(restore_error(format!(
            "{} already holds a database; restore into an empty folder",
            data_dir.display()
        )));
    }
    let file = File::open(from).map_err(|e| restore_error(format!("{}: {e}", from.display())))?;
    let mut zip = ZipArchive::new(file)
        .map_err(|e| restore_error(format!("{} is not a backup: {e}", from.display())))?;
    let manifest: Manifest = {
        let mut entry = zip
            .by_name(MANIFEST)
            .map_err(|_| restore_error(format!("{} has no {MANIFEST}", from.display())))?;
        let mut text = Vec::new();
        entry.read_to_end(&mut text).map_err(restore_error)?;
        serde_json::from_slice(&text)
            .map_err(|e| restore_error(format!("{MANIFEST} is damaged: {e}")))?
    };
    if manifest.format != FORMAT {
        return Err(restore_error(format!(
            "unknown backup format `{}`",
            manifest.format
        )));
    }
    if manifest.schema_version > crate::db::schema_version_supported() {
        return Err(restore_error(format!(
            "the backup was made by a newer ecommunity (schema {})",
            manifest.schema_version
        )));
    }
    if !manifest.entries.iter().any(|e| e.path == DATABASE_FILE) {
        return Err(restore_error("the backup holds no database"));
    }
    fs::create_dir_all(data_dir).map_err(restore_error)?;
    // The database goes in last, under its name only once every file is in place: an
    // interrupted restore leaves no database, so it can simply be run again.
    let staged_db = data_dir.join(format!("{DATABASE_FILE}.restoring"));
    for entry in &manifest.entries {
        if !is_backup_path(&entry.path) {
            return Err(restore_error(format!("unexpected entry `{}`", entry.path)));
        }
        let target = if entry.path == DATABASE_FILE {
            staged_db.clone()
        } else {
            data_dir.join(&entry.path)
        };
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).map_err(restore_error)?;
        }
        let mut source = zip
            .by_name(&entry.path)
            .map_err(|_| restore_error(format!("`{}` is missing", entry.path)))?;
        let mut out = File::create(&target)
            .map_err(|e| restore_error(format!("{}: {e}", target.display())))?;
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let n = source.read(&mut buf).map_err(restore_error)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(restore_error)?;
            size += n as u64;
        }
        out.sync_all().map_err(restore_error)?;
        if size != entry.size || hex(&hash.finalize()) != entry.sha256 {
            return Err(restore_error(format!(
                "`{}` does not match the manifest: the backup is damaged",
                entry.path
            )));
        }
    }
    fs::rename(&staged_db, data_dir.join(DATABASE_FILE)).map_err(restore_error)?;
    sync_dir(data_dir)?;
    // Brings the schema up to date and checks it opens.
    let conn = crate::db::open(data_dir)?;
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(restore_error(format!(
            "the restored database is damaged: {check}"
        )));
    }
    Ok(manifest)
}

fn sync_dir(dir: &Path) -> Result<()> {
    crate::attachments::store::sync_dir(dir).map_err(|e: io::Error| restore_error(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_paths_are_restored() {
        for ok in [
            DATABASE_FILE,
            "files/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "packs/2026.11.1.json.gz",
        ] {
            assert!(is_backup_path(ok), "{ok}");
        }
        for bad in [
            "../etc/passwd",
            "files/../../x",
            "files/abc",
            "packs/../x",
            "packs/.hidden",
            "packs/",
            "/abs",
            "other",
        ] {
            assert!(!is_backup_path(bad), "{bad}");
        }
    }

    #[test]
    fn a_backup_restores_into_an_empty_folder_only() {
        let live = tempfile::tempdir().unwrap();
        let mut conn = crate::db::open(live.path()).unwrap();
        crate::forum::seed(&mut conn).unwrap();
        fs::create_dir_all(live.path().join("files")).unwrap();
        let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        fs::write(live.path().join("files").join(sha), b"").unwrap();
        let account = crate::accounts::store::insert(
            &conn,
            &crate::accounts::store::tests::new_account(
                "amina",
                stopover_protocol::Role::Nfp,
                Some("KE"),
                stopover_protocol::AccountStatus::Approved,
            ),
        )
        .unwrap();
        conn.execute(
            "INSERT INTO upload (id, account_id, sha256, length, received, metadata, complete, created_at)
             VALUES ('0123456789abcdef0123456789abcdef', ?1, ?2, 0, 0, '', 1, 0)",
            rusqlite::params![account.id, sha],
        )
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        let file = out.path().join("b.zip");
        let m = backup(live.path(), &file).unwrap();
        assert_eq!(m.entries.len(), 2, "{m:?}");
        assert!(matches!(backup(live.path(), &file), Err(Error::Usage(e)) if e.contains("exists")));

        let target = tempfile::tempdir().unwrap();
        restore(target.path(), &file).unwrap();
        assert!(target.path().join("files").join(sha).is_file());
        let c = crate::db::open(target.path()).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM account", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        assert!(
            matches!(restore(target.path(), &file), Err(Error::Usage(e)) if e.contains("already holds"))
        );
    }
}
