//! Attachments: tus 1.0 uploads, content-addressed by SHA-256 (see `stopover_protocol::files`).
//!
//! Where the bytes live, under the data folder:
//! - `files/partial/<upload id>` while an upload is under way. A `PATCH`'s bytes are written
//!   and fsynced there *before* the new offset is stored in SQLite, so an acknowledged offset
//!   always has its bytes on disk; bytes past the stored offset (a request that died before its
//!   acknowledgement) are cut off by the next `PATCH`.
//! - `files/<sha256>` once the last byte arrived and the SHA-256 matched. The same file
//!   uploaded by two accounts is kept once; each account sees only its own uploads.
//!
//! One request at a time writes to an upload (a second gets 409 `upload_busy`).
//!
//! Who may download a complete file (by its SHA-256): the account that uploaded it; every
//! account of a country whose national report names it in an answer (`name sha256:…`, the
//! answer being the link between the file, the report and the question); and the Secretariat
//! (and admins) for a file some country's report names. Anyone else is told it does not exist.

pub mod store;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use http_body_util::BodyExt;
use stopover_protocol::files::{UploadMetadata, attachment_type_allowed, is_sha256_hex};
use stopover_protocol::{RecordKind, Role};
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};
use crate::state::AppState;
use store::UploadRow;

/// The data folder's attachment and pack areas, and which uploads are being written.
#[derive(Clone)]
pub struct Storage {
    root: PathBuf,
    busy: Arc<Mutex<HashSet<String>>>,
}

impl Storage {
    pub fn new(data_dir: &Path) -> Storage {
        Storage {
            root: data_dir.to_path_buf(),
            busy: Arc::default(),
        }
    }

    /// `DATA/files`: complete files, by SHA-256.
    pub fn files_dir(&self) -> PathBuf {
        self.root.join("files")
    }

    /// `DATA/files/partial`: uploads under way, by upload id.
    pub fn partial_dir(&self) -> PathBuf {
        self.files_dir().join("partial")
    }

    pub fn partial_path(&self, id: &str) -> PathBuf {
        self.partial_dir().join(id)
    }

    pub fn file_path(&self, sha256: &str) -> PathBuf {
        self.files_dir().join(sha256)
    }

    /// `DATA/packs`: published content pack archives.
    pub fn packs_dir(&self) -> PathBuf {
        self.root.join("packs")
    }

    /// Claims the right to write to upload `id` until the guard drops.
    pub fn lock(&self, id: &str) -> Result<UploadLock> {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        if !busy.insert(id.to_string()) {
            return Err(Error::UploadBusy);
        }
        Ok(UploadLock {
            busy: self.busy.clone(),
            id: id.to_string(),
        })
    }
}

/// Held while one request writes to an upload.
pub struct UploadLock {
    busy: Arc<Mutex<HashSet<String>>>,
    id: String,
}

impl Drop for UploadLock {
    fn drop(&mut self) {
        self.busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

fn storage_error(e: std::io::Error) -> Error {
    Error::Storage(e.to_string())
}

/// A random upload id: 16 bytes, hex.
fn new_upload_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    Ok(stopover_protocol::files::hex(&bytes))
}

/// True for something shaped like an upload id (so it can name a file safely).
pub fn is_upload_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What `POST /v1/files` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub id: String,
    pub offset: u64,
    pub length: u64,
    /// True for a new upload (201), false for an existing one to resume or skip (200).
    pub new: bool,
}

/// `POST /v1/files`: a new upload, or the caller's existing one for the same SHA-256.
pub async fn create(
    state: &AppState,
    account_id: i64,
    length: u64,
    metadata: &str,
) -> Result<Created> {
    let max = state
        .config
        .max_attachment_bytes
        .min(stopover_protocol::files::MAX_ATTACHMENT_BYTES);
    if length > max {
        return Err(Error::AttachmentTooLarge { max });
    }
    let meta = UploadMetadata::parse(metadata).map_err(Error::BadHeader)?;
    // A file without a name (another client's) is taken; a named one must be of a known type.
    if let Some(name) = meta.filename.as_deref()
        && !attachment_type_allowed(name)
    {
        return Err(Error::AttachmentTypeRefused {
            file: name.to_string(),
        });
    }
    // Abandoned uploads neither count against the quota nor block new ones.
    crate::janitor::expire_uploads(state, Some(account_id)).await?;
    let storage = state.storage.clone();
    // Stored and echoed as we write it: only the keys we know, never what else was sent.
    let raw = meta.encode();
    let (quota, max_unfinished) = (
        state.config.quota_bytes,
        state.config.max_unfinished_uploads,
    );
    let row = state
        .db
        .write(move |conn| {
            let existing = store::find_by_sha(conn, account_id, &meta.sha256)?;
            let usage = store::usage(conn, account_id)?;
            // Announced bytes count at once: an upload cannot reserve more than is left.
            let others = usage.bytes - existing.as_ref().map_or(0, |r| r.length);
            if others + length > quota {
                return Err(Error::QuotaExceeded {
                    limit_bytes: quota,
                    used_bytes: usage.bytes,
                });
            }
            if existing.is_none() && usage.unfinished >= max_unfinished {
                return Err(Error::TooManyUploads {
                    limit: max_unfinished,
                });
            }
            if let Some(row) = existing {
                if row.length == length {
                    return Ok((row, false));
                }
                if row.complete {
                    return Err(Error::InvalidRequest(format!(
                        "the file with SHA-256 {} has {} bytes, not {length}",
                        row.sha256, row.length
                    )));
                }
                // The same content cannot have two lengths: the earlier announcement was wrong.
                let _lock = storage.lock(&row.id)?;
                store::create_empty(&storage.partial_path(&row.id)).map_err(storage_error)?;
                store::restart(conn, &row.id, length, meta.filename.as_deref(), &raw)?;
                return Ok((
                    UploadRow {
                        length,
                        received: 0,
                        filename: meta.filename,
                        metadata: raw,
                        ..row
                    },
                    false,
                ));
            }
            let row = UploadRow {
                id: new_upload_id()?,
                account_id,
                sha256: meta.sha256,
                length,
                received: 0,
                filename: meta.filename,
                metadata: raw,
                complete: false,
            };
            store::ensure_dir(&storage.partial_dir()).map_err(storage_error)?;
            store::create_empty(&storage.partial_path(&row.id)).map_err(storage_error)?;
            store::insert(conn, &row)?;
            Ok((row, true))
        })
        .await?;
    let (mut row, new) = row;
    // All bytes are there but the upload was never finished (an empty file, or a crash
    // between the last write and the check): finish it now.
    if !row.complete && row.received == row.length {
        let _lock = state.storage.lock(&row.id)?;
        finish(state, &row).await?;
        row.complete = true;
    }
    Ok(Created {
        offset: if row.complete {
            row.length
        } else {
            row.received
        },
        length: row.length,
        id: row.id,
        new,
    })
}

/// The caller's upload `id`, or [`Error::NoSuchUpload`] (also for another account's).
pub async fn find(state: &AppState, account_id: i64, id: &str) -> Result<UploadRow> {
    if !is_upload_id(id) {
        return Err(Error::NoSuchUpload);
    }
    let id = id.to_string();
    state
        .db
        .read(move |conn| store::find(conn, account_id, &id))
        .await?
        .ok_or(Error::NoSuchUpload)
}

/// The offset a `HEAD` reports.
pub fn offset_of(row: &UploadRow) -> u64 {
    if row.complete {
        row.length
    } else {
        row.received
    }
}

/// `PATCH /v1/files/{id}`: appends the body at `offset`; returns the new offset. Bytes that
/// arrived before the connection broke are kept (and acknowledged to the next `HEAD`).
pub async fn append(
    state: &AppState,
    account_id: i64,
    id: &str,
    offset: u64,
    announced: Option<u64>,
    body: Body,
) -> Result<u64> {
    let row = find(state, account_id, id).await?;
    check_offset(&row, offset)?;
    if row.complete {
        return Ok(row.length);
    }
    let _lock = state.storage.lock(&row.id)?;
    // Re-read under the lock: another request may have moved it meanwhile.
    let row = find(state, account_id, id).await?;
    check_offset(&row, offset)?;
    if row.complete {
        return Ok(row.length);
    }
    let remaining = row.length - row.received;
    if announced.is_some_and(|n| n > remaining) {
        return Err(Error::BadBody(format!(
            "the body goes past Upload-Length: {remaining} bytes remain"
        )));
    }

    // Written to disk as it arrives (never more than one frame in memory), then made durable
    // before the new offset is stored: bytes of a request cut short are kept and acknowledged
    // to the next HEAD, as tus expects.
    let partial = state.storage.partial_path(&row.id);
    let (written, read_error) = write_body(partial, offset, remaining, body).await?;
    let new_offset = offset + written;
    if written > 0 {
        let id = row.id.clone();
        let moved = state
            .db
            .write(move |conn| store::advance(conn, &id, offset, new_offset))
            .await?;
        if !moved {
            return Err(Error::Storage(format!(
                "upload {} moved while locked",
                row.id
            )));
        }
    }
    if let Some(e) = read_error {
        return Err(e);
    }
    if new_offset == row.length {
        finish(state, &row).await?;
    }
    Ok(new_offset)
}

fn check_offset(row: &UploadRow, offset: u64) -> Result<()> {
    let at = offset_of(row);
    if offset != at {
        return Err(Error::OffsetMismatch { offset: at });
    }
    Ok(())
}

/// Appends the body to the partial file at `offset` as its frames arrive, at most `max`
/// bytes, and syncs them. Returns the bytes written and the error that ended the body early
/// (too long, too slow, broken off), if any.
async fn write_body(
    partial: PathBuf,
    offset: u64,
    max: u64,
    mut body: Body,
) -> Result<(u64, Option<Error>)> {
    let mut file = tokio::task::spawn_blocking(move || store::open_at(&partial, offset))
        .await?
        .map_err(storage_error)?;
    let mut written = 0u64;
    let mut ended = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                if written + data.len() as u64 > max {
                    ended = Some(Error::BadBody(format!(
                        "the body goes past Upload-Length: {max} bytes remain"
                    )));
                    break;
                }
                file.write_all(&data).await.map_err(storage_error)?;
                written += data.len() as u64;
            }
            Err(e) => {
                ended = Some(crate::http::json::body_error(&e));
                break;
            }
        }
    }
    file.sync_data().await.map_err(storage_error)?;
    Ok((written, ended))
}

/// Checks a fully received upload and moves it to its content address, or discards it on a
/// checksum mismatch. The caller holds the upload's lock.
async fn finish(state: &AppState, row: &UploadRow) -> Result<()> {
    let partial = state.storage.partial_path(&row.id);
    let target = state.storage.file_path(&row.sha256);
    let (sha, length) = (row.sha256.clone(), row.length);
    // Some(true): verified and in place; Some(false): mismatch, discarded; None: bytes lost.
    let verdict = tokio::task::spawn_blocking(move || -> std::io::Result<Option<bool>> {
        if partial.exists() {
            let (got, len) = store::hash_file(&partial)?;
            if got == sha && len == length {
                store::promote(&partial, &target)?;
                Ok(Some(true))
            } else {
                store::remove_if_exists(&partial)?;
                Ok(Some(false))
            }
        } else if target.exists() {
            // Moved before a crash, the database not told yet.
            Ok(Some(true))
        } else {
            Ok(None)
        }
    })
    .await?
    .map_err(storage_error)?;
    let id = row.id.clone();
    match verdict {
        Some(true) => {
            state
                .db
                .write(move |conn| store::mark_complete(conn, &id))
                .await
        }
        Some(false) => {
            tracing::warn!(upload = %row.id, "attachment discarded: checksum mismatch");
            state.db.write(move |conn| store::delete(conn, &id)).await?;
            Err(Error::ChecksumMismatch)
        }
        None => {
            tracing::error!(upload = %row.id, "attachment bytes missing from the data folder; the upload starts over");
            let storage = state.storage.clone();
            let (length, filename, metadata) =
                (row.length, row.filename.clone(), row.metadata.clone());
            state
                .db
                .write(move |conn| {
                    store::create_empty(&storage.partial_path(&id)).map_err(storage_error)?;
                    store::restart(conn, &id, length, filename.as_deref(), &metadata)
                })
                .await?;
            Err(Error::OffsetMismatch { offset: 0 })
        }
    }
}

/// Who asks for a file: their account, role and country.
#[derive(Debug, Clone)]
pub struct Reader {
    pub account_id: i64,
    pub role: Role,
    pub country: Option<String>,
}

/// The report answers that name the file `sha256` (as `name sha256:<hex>`), in the report of
/// `country`, or in any country's report when `country` is `None`: `(report, answer path)`.
pub fn report_links(
    conn: &rusqlite::Connection,
    country: Option<&str>,
    sha256: &str,
) -> Result<Vec<(String, String)>> {
    let scope = match country {
        Some(c) => format!("country:{c}"),
        None => "country:%".to_string(),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT entity_id, field FROM field WHERE scope LIKE ?1 AND kind = ?2 AND value LIKE ?3",
    )?;
    let pattern = format!("%sha256:{sha256}\"");
    let rows = stmt.query_map(
        rusqlite::params![scope, RecordKind::ReportAnswer.name(), pattern],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The complete file the caller may download: by upload id (their own), or by SHA-256 — their
/// own upload, or one a report they may read names (see the module documentation). Returns
/// its path and row.
pub async fn downloadable(
    state: &AppState,
    reader: &Reader,
    id_or_sha: &str,
) -> Result<(PathBuf, UploadRow)> {
    let account_id = reader.account_id;
    let row = if is_sha256_hex(id_or_sha) {
        let sha = id_or_sha.to_string();
        let reader = reader.clone();
        state
            .db
            .read(move |conn| {
                if let Some(own) = store::find_by_sha(conn, reader.account_id, &sha)? {
                    return Ok(Some(own));
                }
                let linked = match (&reader.country, reader.role) {
                    (_, Role::Secretariat | Role::Admin) => {
                        !report_links(conn, None, &sha)?.is_empty()
                    }
                    (Some(country), _) => !report_links(conn, Some(country), &sha)?.is_empty(),
                    (None, _) => false,
                };
                if !linked {
                    return Ok(None);
                }
                store::find_complete_by_sha(conn, &sha)
            })
            .await?
            .ok_or(Error::NoSuchUpload)?
    } else {
        find(state, account_id, id_or_sha).await?
    };
    if !row.complete {
        return Err(Error::UploadIncomplete);
    }
    Ok((state.storage.file_path(&row.sha256), row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_and_locks_are_exclusive() {
        let id = new_upload_id().unwrap();
        assert!(is_upload_id(&id));
        assert!(!is_upload_id("../../etc/passwd"));
        let storage = Storage::new(Path::new("/nowhere"));
        let guard = storage.lock(&id).unwrap();
        assert!(matches!(storage.lock(&id), Err(Error::UploadBusy)));
        drop(guard);
        assert!(storage.lock(&id).is_ok());
    }
}
