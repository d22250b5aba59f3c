//! Attachments: resumable uploads to the e-community server (tus 1.0), content-addressed by
//! SHA-256. See `stopover_protocol::files` for the wire side.
//!
//! # How to use
//!
//! ```no_run
//! # async fn demo(core: &stopover_core::Core, client: &stopover_core::sync::SyncClient, token: &str) -> stopover_core::Result<()> {
//! use std::path::Path;
//! use stopover_core::sync::attachments::{self, AttachmentSource};
//!
//! // A file on disk (read again on every attempt; it must not change meanwhile)…
//! let sha = attachments::upload(core, client, token, Path::new("/home/amina/report.pdf"), &|p| {
//!     println!("{} / {} bytes", p.bytes_done, p.bytes_total)
//! })
//! .await?;
//! // …or bytes (kept under `attachments/<sha256>` in the data folder until uploaded and after).
//! let sha2 = attachments::upload(core, client, token, AttachmentSource::bytes(b"minutes", Some("minutes.txt")), &|_| {}).await?;
//!
//! // After a restart: finish whatever was interrupted.
//! let done: Vec<String> = attachments::resume_pending(core, client, token, &|_| {}).await?;
//!
//! // Another device of the same account fetches it by its SHA-256 (verified).
//! let bytes = attachments::download(client, token, &sha).await?;
//! # let _ = (sha2, done, bytes); Ok(()) }
//! ```
//!
//! # What an upload does
//!
//! 1. Hashes the source (SHA-256) and records it in the `attachment` table (sha256, path,
//!    size, upload URL, uploaded flag). A file already marked uploaded is not sent again.
//! 2. With no upload URL yet: `POST /v1/files` (`Upload-Length`, `Upload-Metadata: sha256 …`).
//!    The server answers with the upload's `Location` and `Upload-Offset`: 0 for a new upload,
//!    the bytes it already holds for an unfinished one, the whole length for a file this account
//!    already uploaded (then nothing is sent). The URL is stored at once.
//!    With an upload URL from an earlier attempt: `HEAD` it to learn the server's offset.
//! 3. `PATCH`es chunks of [`DEFAULT_CHUNK_BYTES`] from that offset. The server acknowledges
//!    each chunk only once its bytes are on its disk; it checks the SHA-256 when the last one
//!    arrives.
//! 4. Marks the attachment uploaded and returns its SHA-256.
//!
//! # Failures
//!
//! - Any network failure ends the call with the error ([`Error::is_transient`] says whether to
//!   retry). Nothing is retried within the call. The **next** call for the same content (or
//!   [`resume_pending`]) asks the server with `HEAD` how many bytes it acknowledged and goes on
//!   from there: never from zero, also after the app was killed and restarted.
//! - A `409 offset_mismatch` (another device pushed the same upload on) is handled within the
//!   call: `HEAD`, then continue from the server's offset.
//! - `400 checksum_mismatch` (the file changed while it was being sent) comes back as
//!   [`Error::Server`] with that code; the server discarded its copy and the stored URL is
//!   forgotten, so the next call hashes the file again and starts a new upload.
//! - A file that changed or disappeared between hashing and sending is
//!   [`Error::Invalid`] naming it.
//!
//! Uploads are per account on the server: signing in to another account forgets the upload
//! URLs and flags (the files go again to the new account).
//!
//! # Beside sync, smallest first
//!
//! [`upload_pending`] sends every file not yet uploaded, the smallest first, and runs beside
//! sync rounds (its own lock, its own requests): a 20 MB map on a slow link never holds back a
//! ticked box, which goes out in the next round meanwhile. A file the server will not take
//! (over its size limit, a refused type, no room in the quota) is marked refused with the
//! server's answer, for the person to read at its question, and the others go on.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ErrorCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION};
use reqwest::{Method, StatusCode, Url};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use stopover_protocol::ErrorCode as ServerCode;
use stopover_protocol::files::{
    FILES_PATH, MAX_ATTACHMENT_BYTES, OFFSET_OCTET_STREAM, TUS_RESUMABLE, UploadMetadata, hex,
    is_sha256_hex,
};

use super::client::{REQUEST_TIMEOUT, SyncClient, looks_like_html, network_error};
use super::state::{self, NOW};
use crate::{Core, Error, ErrorReport, Result};

pub use stopover_protocol::files::DEFAULT_CHUNK_BYTES;

/// Folder of the data directory holding attachments given as bytes.
pub const ATTACHMENTS_DIR: &str = "attachments";

/// Longest a download may take (a 50 MiB file on a slow link takes long).
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Consecutive `409 offset_mismatch` answers tolerated in one call.
const MAX_OFFSET_MISMATCHES: u32 = 3;

/// What to upload.
#[derive(Debug, Clone, Copy)]
pub enum AttachmentSource<'a> {
    /// A file on disk. Its path is recorded and the file read again on each attempt.
    Path(&'a Path),
    /// Bytes in memory, with an optional file name. They are copied to
    /// `attachments/<sha256>` in the data folder, so an upload can resume after a restart.
    Bytes {
        bytes: &'a [u8],
        filename: Option<&'a str>,
    },
}

impl<'a> AttachmentSource<'a> {
    pub fn bytes(bytes: &'a [u8], filename: Option<&'a str>) -> Self {
        AttachmentSource::Bytes { bytes, filename }
    }
}

impl<'a> From<&'a Path> for AttachmentSource<'a> {
    fn from(path: &'a Path) -> Self {
        AttachmentSource::Path(path)
    }
}

impl<'a> From<&'a PathBuf> for AttachmentSource<'a> {
    fn from(path: &'a PathBuf) -> Self {
        AttachmentSource::Path(path)
    }
}

impl<'a> From<&'a [u8]> for AttachmentSource<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        AttachmentSource::Bytes {
            bytes,
            filename: None,
        }
    }
}

/// A progress event: bytes the server has acknowledged, of the whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UploadProgress {
    pub sha256: String,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// One row of the `attachment` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Attachment {
    pub sha256: String,
    /// Where the bytes are read from.
    pub path: PathBuf,
    pub size: u64,
    pub filename: Option<String>,
    /// The server's upload URL, once created.
    pub upload_url: Option<String>,
    pub uploaded: bool,
    /// Why the server will not take it, when it said so (the file waits for the person).
    pub refused: Option<ErrorReport>,
}

/// SHA-256 (hex) and size of a file, read in chunks.
pub fn sha256_of_file(path: &Path) -> Result<(String, u64)> {
    let unreadable = |e: std::io::Error| {
        Error::invalid(
            ErrorCode::AttachmentUnreadable,
            format!("cannot read the attachment {}: {e}", path.display()),
        )
        .with("file", path.display().to_string())
    };
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex(&hasher.finalize()), size))
}

fn too_large(size: u64) -> Error {
    Error::invalid(
        ErrorCode::AttachmentTooLarge,
        format!(
            "attachments are limited to {} MiB; this one has {:.1} MiB",
            MAX_ATTACHMENT_BYTES >> 20,
            size as f64 / 1048576.0
        ),
    )
    .with("max_mib", MAX_ATTACHMENT_BYTES >> 20)
    .with("size_mib", format!("{:.1}", size as f64 / 1048576.0))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("background task failed: {e}")))?
}

/// Hashes the source, keeps bytes in the data folder, and records the attachment. Returns its row.
async fn record(core: &Core, source: AttachmentSource<'_>) -> Result<Attachment> {
    let (sha256, size, path, filename) = match source {
        AttachmentSource::Path(path) => {
            let owned = path.to_path_buf();
            let (sha, size) = blocking(move || sha256_of_file(&owned)).await?;
            let filename = path.file_name().map(|n| n.to_string_lossy().into_owned());
            (sha, size, path.to_path_buf(), filename)
        }
        AttachmentSource::Bytes { bytes, filename } => {
            let sha = hex(&Sha256::digest(bytes));
            let size = bytes.len() as u64;
            if size > MAX_ATTACHMENT_BYTES {
                return Err(too_large(size));
            }
            let dir = core.data_dir().join(ATTACHMENTS_DIR);
            let path = dir.join(&sha);
            let (data, target) = (bytes.to_vec(), path.clone());
            blocking(move || keep_copy(&dir, &target, &data)).await?;
            (sha, size, path, filename.map(str::to_string))
        }
    };
    if size > MAX_ATTACHMENT_BYTES {
        return Err(too_large(size));
    }
    let path_text = path.to_string_lossy().into_owned();
    let conn = core.conn();
    conn.execute(
        &format!(
            "INSERT INTO attachment (sha256, path, size, filename, created_at) VALUES (?1, ?2, ?3, ?4, {NOW})
             ON CONFLICT (sha256) DO UPDATE SET path = excluded.path, filename = coalesce(excluded.filename, filename), refused_json = NULL"
        ),
        params![sha256, path_text, size as i64, filename],
    )?;
    get(&conn, &sha256)?.ok_or_else(|| Error::NotFound(format!("attachment {sha256}")))
}

/// Writes `data` to `target` durably, unless it is already there.
pub(crate) fn keep_copy(dir: &Path, target: &Path, data: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| Error::DataDir {
        path: dir.to_path_buf(),
        source: e,
    };
    if target
        .metadata()
        .is_ok_and(|m| m.len() == data.len() as u64)
    {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = target.with_extension("tmp");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(data).and_then(|_| f.sync_all()).map_err(io)?;
    }
    std::fs::rename(&tmp, target).map_err(io)
}

fn get(conn: &rusqlite::Connection, sha256: &str) -> Result<Option<Attachment>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM attachment WHERE sha256 = ?1"),
            [sha256],
            from_row,
        )
        .optional()?)
}

const COLUMNS: &str = "sha256, path, size, filename, upload_url, uploaded, refused_json";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        sha256: r.get(0)?,
        path: PathBuf::from(r.get::<_, String>(1)?),
        size: r.get::<_, i64>(2)? as u64,
        filename: r.get(3)?,
        upload_url: r.get(4)?,
        uploaded: r.get(5)?,
        refused: r
            .get::<_, Option<String>>(6)?
            .and_then(|json| serde_json::from_str(&json).ok()),
    })
}

/// The attachment with this SHA-256 recorded on this device, if any.
pub fn get_attachment(core: &Core, sha256: &str) -> Result<Option<Attachment>> {
    get(&core.conn(), sha256)
}

fn set_upload_url(core: &Core, sha256: &str, url: Option<&str>) -> Result<()> {
    core.conn().execute(
        "UPDATE attachment SET upload_url = ?2 WHERE sha256 = ?1",
        params![sha256, url],
    )?;
    Ok(())
}

fn mark_uploaded(core: &Core, sha256: &str) -> Result<()> {
    core.conn().execute(
        "UPDATE attachment SET uploaded = 1, refused_json = NULL WHERE sha256 = ?1",
        [sha256],
    )?;
    Ok(())
}

fn mark_refused(core: &Core, sha256: &str, why: &Error) -> Result<()> {
    let json = serde_json::to_string(&ErrorReport::from(why)).map_err(Error::internal)?;
    core.conn().execute(
        "UPDATE attachment SET refused_json = ?2 WHERE sha256 = ?1",
        params![sha256, json],
    )?;
    Ok(())
}

/// Forgets every refusal, so the next [`upload_pending`] tries those files again (the person
/// asked to sync by hand: the server's limits or the quota may have changed).
pub fn retry_refused(core: &Core) -> Result<usize> {
    Ok(core.conn().execute(
        "UPDATE attachment SET refused_json = NULL WHERE refused_json IS NOT NULL AND uploaded = 0",
        [],
    )?)
}

/// Every attachment recorded on this device.
pub fn attachments(core: &Core) -> Result<Vec<Attachment>> {
    let conn = core.conn();
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM attachment ORDER BY created_at, sha256"
    ))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The attachments not (yet) uploaded and not refused by the server, smallest first (then
/// oldest): what [`upload_pending`] sends, in its order.
pub fn pending_uploads(core: &Core) -> Result<Vec<Attachment>> {
    let conn = core.conn();
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM attachment WHERE uploaded = 0 AND refused_json IS NULL
         ORDER BY size, created_at, sha256"
    ))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Uploads `source` (see the module documentation) in chunks of [`DEFAULT_CHUNK_BYTES`];
/// returns its SHA-256 (64 lowercase hex digits). `on_progress` hears the bytes the server has
/// acknowledged after each chunk.
pub async fn upload<'a, P>(
    core: &Core,
    client: &SyncClient,
    token: &str,
    source: impl Into<AttachmentSource<'a>>,
    on_progress: &P,
) -> Result<String>
where
    P: Fn(UploadProgress) + Sync + ?Sized,
{
    upload_in_chunks(
        core,
        client,
        token,
        source,
        DEFAULT_CHUNK_BYTES,
        on_progress,
    )
    .await
}

/// [`upload`] with another chunk size (1 byte to `stopover_protocol::files::MAX_CHUNK_BYTES`).
pub async fn upload_in_chunks<'a, P>(
    core: &Core,
    client: &SyncClient,
    token: &str,
    source: impl Into<AttachmentSource<'a>>,
    chunk_bytes: usize,
    on_progress: &P,
) -> Result<String>
where
    P: Fn(UploadProgress) + Sync + ?Sized,
{
    let chunk_bytes = chunk_bytes.clamp(1, stopover_protocol::files::MAX_CHUNK_BYTES);
    let attachment = record(core, source.into()).await?;
    send(core, client, token, &attachment, chunk_bytes, on_progress).await?;
    Ok(attachment.sha256)
}

/// Goes on with every attachment not yet uploaded (after a restart, or once the network is
/// back); returns the SHA-256 of those it finished. An attachment whose file changed or
/// disappeared since it was added is skipped with a warning (it stays listed by
/// [`pending_uploads`] until [`forget`] drops it); any other failure stops the round. On a
/// metered connection or over the monthly budget nothing is sent until the person allows it
/// ([`meter::defers`](super::meter::defers)).
pub async fn resume_pending<P>(
    core: &Core,
    client: &SyncClient,
    token: &str,
    on_progress: &P,
) -> Result<Vec<String>>
where
    P: Fn(UploadProgress) + Sync + ?Sized,
{
    let mut done = Vec::new();
    // Attachments are the traffic that waits on a metered connection or a spent budget.
    if super::meter::defers(core)? {
        tracing::info!("attachment uploads wait: metered connection or budget spent");
        return Ok(done);
    }
    for attachment in pending_uploads(core)? {
        match send(
            core,
            client,
            token,
            &attachment,
            DEFAULT_CHUNK_BYTES,
            on_progress,
        )
        .await
        {
            Ok(()) => {
                // The file's bytes (what the chunks carried, give or take a resumed part).
                super::meter::record(
                    &core.conn(),
                    super::meter::TrafficKind::Attachments,
                    attachment.size,
                    0,
                )?;
                done.push(attachment.sha256);
            }
            Err(e @ Error::Invalid { .. }) => {
                tracing::warn!(sha256 = %attachment.sha256, error = %e, "attachment skipped");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Drops an attachment from this device's list (and its copy in the data folder, if it was
/// given as bytes). What the server already holds stays there.
pub fn forget(core: &Core, sha256: &str) -> Result<()> {
    let Some(attachment) = get(&core.conn(), sha256)? else {
        return Ok(());
    };
    if attachment
        .path
        .starts_with(core.data_dir().join(ATTACHMENTS_DIR))
    {
        match std::fs::remove_file(&attachment.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::DataDir {
                    path: attachment.path.clone(),
                    source: e,
                });
            }
            _ => {}
        }
    }
    core.conn()
        .execute("DELETE FROM attachment WHERE sha256 = ?1", [sha256])?;
    Ok(())
}

/// Downloads a complete attachment of this account by its SHA-256, and checks the bytes
/// have that hash.
pub async fn download(client: &SyncClient, token: &str, sha256: &str) -> Result<Vec<u8>> {
    if !is_sha256_hex(sha256) {
        return Err(Error::internal(format!(
            "`{sha256}` is not a SHA-256 (64 lowercase hex digits)"
        )));
    }
    let url = client.url(&format!("{}/{sha256}", FILES_PATH.trim_start_matches('/')));
    let response = tus(client, Method::GET, url, token)
        .timeout(DOWNLOAD_TIMEOUT)
        .send()
        .await
        .map_err(network_error)?;
    if response.status() != StatusCode::OK {
        return Err(unexpected(client, response).await);
    }
    check_tus(client, response.headers())?;
    let bytes = response.bytes().await.map_err(network_error)?;
    if hex(&Sha256::digest(&bytes)) != sha256 {
        return Err(Error::BadAnswer(format!(
            "the downloaded attachment does not have the SHA-256 {sha256}"
        )));
    }
    Ok(bytes.to_vec())
}

/// The upload itself: learn the server's offset, then send chunks from there.
async fn send<P>(
    core: &Core,
    client: &SyncClient,
    token: &str,
    attachment: &Attachment,
    chunk_bytes: usize,
    on_progress: &P,
) -> Result<()>
where
    P: Fn(UploadProgress) + Sync + ?Sized,
{
    let (sha, size) = (attachment.sha256.as_str(), attachment.size);
    let progress = |done: u64| {
        on_progress(UploadProgress {
            sha256: sha.to_string(),
            bytes_done: done,
            bytes_total: size,
        })
    };
    if attachment.uploaded {
        progress(size);
        return Ok(());
    }

    // An upload URL from an earlier attempt, if it is on this server.
    let mut url = attachment
        .upload_url
        .as_deref()
        .and_then(|u| upload_url_on(client, u));
    let mut offset = None;
    if let Some(u) = &url {
        match head(client, token, u, size).await {
            Ok(at) => offset = Some(at),
            // The server no longer has it (discarded, or another account): start anew.
            Err(Error::Server { status: 404, .. }) => url = None,
            Err(e) => return Err(e),
        }
    }
    let url = match url {
        Some(u) => u,
        None => {
            let (u, at) = create(client, token, attachment).await?;
            set_upload_url(core, sha, Some(u.as_str()))?;
            if at == size {
                // The server holds the complete file already.
                mark_uploaded(core, sha)?;
                progress(size);
                return Ok(());
            }
            offset = Some(at);
            u
        }
    };
    let mut offset = offset.unwrap_or(0);
    progress(offset);

    let mut mismatches = 0;
    loop {
        let chunk = if offset < size {
            read_chunk(&attachment.path, offset, chunk_bytes, size).await?
        } else {
            Vec::new()
        };
        let sent = chunk.len() as u64;
        match patch(client, token, &url, offset, chunk).await {
            Ok(at) if at > offset + sent || (at == offset && sent > 0) || at > size => {
                return Err(Error::BadAnswer(format!(
                    "the server acknowledged offset {at} after {sent} bytes sent at {offset}"
                )));
            }
            Ok(at) => {
                mismatches = 0;
                offset = at;
                progress(offset);
                if offset == size {
                    break;
                }
            }
            Err(Error::Server {
                status: 409, code, ..
            }) if code == ServerCode::OffsetMismatch && mismatches < MAX_OFFSET_MISMATCHES => {
                mismatches += 1;
                offset = head(client, token, &url, size).await?;
                progress(offset);
            }
            Err(e @ Error::Server { status: 400, .. })
                if e.server_code() == Some(ServerCode::ChecksumMismatch) =>
            {
                // The server discarded its copy: the next attempt hashes again and starts anew.
                set_upload_url(core, sha, None)?;
                return Err(e);
            }
            Err(Error::Server { status: 404, .. }) => {
                set_upload_url(core, sha, None)?;
                return Err(Error::Server {
                    status: 404,
                    code: ServerCode::NoSuchUpload,
                    params: Default::default(),
                    message:
                        "the server no longer has this upload; it starts again on the next attempt"
                            .into(),
                });
            }
            Err(e) => return Err(e),
        }
    }
    mark_uploaded(core, sha)?;
    Ok(())
}

/// Reads `offset..offset+max` of the file, checking it still has `size` bytes.
async fn read_chunk(path: &Path, offset: u64, max: usize, size: u64) -> Result<Vec<u8>> {
    let path = path.to_path_buf();
    blocking(move || {
        let changed = || {
            Error::invalid(
                ErrorCode::AttachmentChanged,
                format!(
                    "the attachment {} changed or disappeared since it was added; add it again",
                    path.display()
                ),
            )
            .with("file", path.display().to_string())
        };
        let mut file = std::fs::File::open(&path).map_err(|_| changed())?;
        if file.metadata().map_err(|_| changed())?.len() != size {
            return Err(changed());
        }
        let want = (size - offset).min(max as u64) as usize;
        let mut buf = vec![0u8; want];
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_exact(&mut buf))
            .map_err(|_| changed())?;
        Ok(buf)
    })
    .await
}

/// `stored` as a URL of this client's server's `/v1/files/{id}`, or `None`.
fn upload_url_on(client: &SyncClient, stored: &str) -> Option<Url> {
    let url = Url::parse(stored).ok()?;
    let id = url
        .as_str()
        .strip_prefix(client.url(FILES_PATH.trim_start_matches('/')).as_str())?
        .strip_prefix('/')?;
    is_upload_id(id).then_some(url)
}

fn is_upload_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn tus(client: &SyncClient, method: Method, url: Url, token: &str) -> reqwest::RequestBuilder {
    client
        .request_url(method, url)
        .header("Tus-Resumable", TUS_RESUMABLE)
        .bearer_auth(token)
}

/// Every tus answer carries `Tus-Resumable: 1.0.0`; a wifi login page does not.
fn check_tus(client: &SyncClient, headers: &HeaderMap) -> Result<()> {
    if headers
        .get("tus-resumable")
        .is_some_and(|v| v.as_bytes() == TUS_RESUMABLE.as_bytes())
    {
        return Ok(());
    }
    if looks_like_html(headers) {
        return Err(Error::NotOurServer {
            url: client.server_url().to_string(),
            reason: "it answered with a web page instead of an upload answer".into(),
        });
    }
    Err(Error::BadAnswer(
        "the upload answer lacks `Tus-Resumable: 1.0.0`".into(),
    ))
}

fn header_u64(headers: &HeaderMap, name: &str) -> Result<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| Error::BadAnswer(format!("the upload answer lacks a valid `{name}`")))
}

/// An answer with an unexpected status, as an error.
async fn unexpected(client: &SyncClient, response: reqwest::Response) -> Error {
    if response.status().is_success() {
        let status = response.status();
        if looks_like_html(response.headers()) {
            return Error::NotOurServer {
                url: client.server_url().to_string(),
                reason: "it answered with a web page instead of an upload answer".into(),
            };
        }
        return Error::BadAnswer(format!("unexpected {status} to an upload request"));
    }
    client.error_from(response).await
}

/// `POST /v1/files`: the upload URL and the server's offset.
async fn create(client: &SyncClient, token: &str, attachment: &Attachment) -> Result<(Url, u64)> {
    let metadata = UploadMetadata {
        sha256: attachment.sha256.clone(),
        filename: attachment.filename.clone(),
    };
    let response = tus(
        client,
        Method::POST,
        client.url(FILES_PATH.trim_start_matches('/')),
        token,
    )
    .header("Upload-Length", attachment.size.to_string())
    .header("Upload-Metadata", metadata.encode())
    .send()
    .await
    .map_err(network_error)?;
    if !matches!(response.status(), StatusCode::CREATED | StatusCode::OK) {
        return Err(unexpected(client, response).await);
    }
    let headers = response.headers();
    check_tus(client, headers)?;
    let offset = header_u64(headers, "upload-offset")?;
    if offset > attachment.size {
        return Err(Error::BadAnswer(format!(
            "the server claims {offset} bytes of a {}-byte file",
            attachment.size
        )));
    }
    // Only the id is taken from Location: the token goes to our own server and nowhere else.
    let location = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let id = location
        .rsplit_once(&format!("{FILES_PATH}/"))
        .map(|(_, id)| id)
        .filter(|id| is_upload_id(id))
        .ok_or_else(|| {
            Error::BadAnswer(format!(
                "the upload answer has no usable Location (`{}`)",
                location.chars().take(80).collect::<String>()
            ))
        })?;
    Ok((
        client.url(&format!("{}/{id}", FILES_PATH.trim_start_matches('/'))),
        offset,
    ))
}

/// `HEAD /v1/files/{id}`: the server's offset.
async fn head(client: &SyncClient, token: &str, url: &Url, size: u64) -> Result<u64> {
    let response = tus(client, Method::HEAD, url.clone(), token)
        .send()
        .await
        .map_err(network_error)?;
    let status = response.status();
    if status != StatusCode::OK {
        if status == StatusCode::NOT_FOUND && response.headers().get("tus-resumable").is_some() {
            // A HEAD answer has no body to carry the error code.
            return Err(Error::Server {
                status: 404,
                code: ServerCode::NoSuchUpload,
                params: Default::default(),
                message: "no such upload".into(),
            });
        }
        return Err(unexpected(client, response).await);
    }
    let headers = response.headers();
    check_tus(client, headers)?;
    let (offset, length) = (
        header_u64(headers, "upload-offset")?,
        header_u64(headers, "upload-length")?,
    );
    if length != size || offset > length {
        return Err(Error::BadAnswer(format!(
            "the server's upload has offset {offset} of {length} bytes, this file {size}"
        )));
    }
    Ok(offset)
}

/// `PATCH /v1/files/{id}`: sends `chunk` at `offset`; the server's new offset.
async fn patch(
    client: &SyncClient,
    token: &str,
    url: &Url,
    offset: u64,
    chunk: Vec<u8>,
) -> Result<u64> {
    // Enough time for the chunk at 32 kbit/s, on top of the usual.
    let timeout = REQUEST_TIMEOUT + Duration::from_secs(chunk.len() as u64 / 4096);
    let response = tus(client, Method::PATCH, url.clone(), token)
        .header(CONTENT_TYPE, OFFSET_OCTET_STREAM)
        .header("Upload-Offset", offset.to_string())
        .timeout(timeout)
        .body(chunk)
        .send()
        .await
        .map_err(network_error)?;
    if response.status() != StatusCode::NO_CONTENT {
        return Err(unexpected(client, response).await);
    }
    check_tus(client, response.headers())?;
    header_u64(response.headers(), "upload-offset")
}

// ---- limits -------------------------------------------------------------------------------

const MAX_BYTES_KEY: &str = "attachment_max_bytes";
const TYPES_KEY: &str = "attachment_types";

/// What attachments may be, as the server last said (`OPTIONS /v1/files`), or the defaults
/// every server starts with: shown before a file is picked, and checked before it is copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AttachmentLimits {
    /// Largest file, in bytes.
    pub max_bytes: u64,
    /// File name extensions taken (`pdf`, `docx`, …).
    pub extensions: Vec<String>,
}

impl Default for AttachmentLimits {
    fn default() -> Self {
        AttachmentLimits {
            max_bytes: stopover_protocol::files::DEFAULT_MAX_ATTACHMENT_BYTES,
            extensions: stopover_protocol::files::ATTACHMENT_EXTENSIONS
                .iter()
                .map(|e| e.to_string())
                .collect(),
        }
    }
}

/// The limits this device knows: its server's, or the defaults before it has asked.
pub fn limits(core: &Core) -> Result<AttachmentLimits> {
    let conn = core.conn();
    let mut limits = AttachmentLimits::default();
    if let Some(max) = state::get(&conn, MAX_BYTES_KEY)?.and_then(|v| v.parse().ok()) {
        limits.max_bytes = max;
    }
    if let Some(types) = state::get(&conn, TYPES_KEY)? {
        let known: Vec<String> = types
            .split(',')
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        if !known.is_empty() {
            limits.extensions = known;
        }
    }
    Ok(limits)
}

/// Asks the server what it takes (`OPTIONS /v1/files`: `Tus-Max-Size`, `X-Attachment-Types`)
/// and remembers it.
pub async fn fetch_limits(
    core: &Core,
    client: &SyncClient,
    token: &str,
) -> Result<AttachmentLimits> {
    let response = client
        .request_url(
            Method::OPTIONS,
            client.url(FILES_PATH.trim_start_matches('/')),
        )
        .bearer_auth(token)
        .send()
        .await
        .map_err(network_error)?;
    if !response.status().is_success() {
        return Err(unexpected(client, response).await);
    }
    let headers = response.headers();
    check_tus(client, headers)?;
    let max = header_u64(headers, "tus-max-size")?;
    let types = headers
        .get("x-attachment-types")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    {
        let conn = core.conn();
        state::set(&conn, MAX_BYTES_KEY, &max.to_string())?;
        if let Some(types) = &types {
            state::set(&conn, TYPES_KEY, types)?;
        }
    }
    limits(core)
}

// ---- uploading everything that waits ---------------------------------------------------------

/// Where [`upload_pending`] stands, for the sync indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UploadsProgress {
    /// Bytes the server holds of the files of this run.
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub files_done: u32,
    pub files_total: u32,
    /// At the pace of this run so far, once something was sent.
    pub seconds_left: Option<u64>,
}

/// What [`upload_pending`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UploadsReport {
    /// SHA-256 of the files now on the server.
    pub uploaded: Vec<String>,
    /// SHA-256 of the files the server would not take, or that changed here (marked refused).
    pub refused: Vec<String>,
}

/// Server answers that are about the file, not the moment: the file waits for the person.
fn refuses_the_file(e: &Error) -> bool {
    match e {
        Error::Invalid { .. } => true,
        Error::Server { code, .. } => matches!(
            code,
            ServerCode::AttachmentTooLarge
                | ServerCode::AttachmentTypeRefused
                | ServerCode::QuotaExceeded
                | ServerCode::TooLarge
        ),
        _ => false,
    }
}

/// Uploads every pending attachment, smallest first, resuming each from the server's offset.
/// Runs beside sync rounds but never beside itself ([`Error::SyncInProgress`]). Asks the
/// server's limits first. A file it will not take is marked refused and the rest go on; a
/// network failure ends the run (the next one resumes where this one stopped).
pub async fn upload_pending<P>(
    core: &Core,
    client: &SyncClient,
    token: &str,
    on_progress: &P,
) -> Result<UploadsReport>
where
    P: Fn(UploadsProgress) + Sync + ?Sized,
{
    let _running = core.begin_uploads()?;
    let pending = pending_uploads(core)?;
    let mut report = UploadsReport::default();
    if pending.is_empty() {
        return Ok(report);
    }
    fetch_limits(core, client, token).await?;
    let pace = Pace::new(&pending);
    for attachment in &pending {
        let on_file = |p: UploadProgress| on_progress(pace.file_progress(&p));
        match send(
            core,
            client,
            token,
            attachment,
            DEFAULT_CHUNK_BYTES,
            &on_file,
        )
        .await
        {
            Ok(()) => {
                pace.file_done(attachment);
                report.uploaded.push(attachment.sha256.clone());
            }
            Err(e) if refuses_the_file(&e) => {
                tracing::warn!(sha256 = %attachment.sha256, code = %e.code(), error = %e, "attachment refused");
                mark_refused(core, &attachment.sha256, &e)?;
                pace.file_done(attachment);
                report.refused.push(attachment.sha256.clone());
            }
            Err(e) => return Err(e),
        }
        on_progress(pace.snapshot());
    }
    Ok(report)
}

/// Bytes and time left of one [`upload_pending`] run.
struct Pace {
    started: std::time::Instant,
    inner: std::sync::Mutex<PaceState>,
}

struct PaceState {
    total: u64,
    files_total: u32,
    files_done: u32,
    /// Bytes of finished files, and the last offset heard of the file under way.
    finished_bytes: u64,
    current: (String, u64),
    /// Bytes sent in this run (a resumed file's earlier bytes do not count for the pace).
    sent: u64,
}

impl Pace {
    fn new(files: &[Attachment]) -> Pace {
        Pace {
            started: std::time::Instant::now(),
            inner: std::sync::Mutex::new(PaceState {
                total: files.iter().map(|a| a.size).sum(),
                files_total: files.len() as u32,
                files_done: 0,
                finished_bytes: 0,
                current: (String::new(), 0),
                sent: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PaceState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn file_progress(&self, p: &UploadProgress) -> UploadsProgress {
        {
            let mut s = self.lock();
            if s.current.0 == p.sha256 {
                s.sent += p.bytes_done.saturating_sub(s.current.1);
            }
            s.current = (p.sha256.clone(), p.bytes_done);
        }
        self.snapshot()
    }

    fn file_done(&self, a: &Attachment) {
        let mut s = self.lock();
        s.finished_bytes += a.size;
        s.files_done += 1;
        s.current = (String::new(), 0);
    }

    fn snapshot(&self) -> UploadsProgress {
        let s = self.lock();
        let done = (s.finished_bytes + s.current.1).min(s.total);
        let elapsed = self.started.elapsed().as_secs_f64();
        let seconds_left = (s.sent > 0 && elapsed > 0.0).then(|| {
            let rate = s.sent as f64 / elapsed;
            ((s.total - done) as f64 / rate).ceil() as u64
        });
        UploadsProgress {
            bytes_done: done,
            bytes_total: s.total,
            files_done: s.files_done,
            files_total: s.files_total,
            seconds_left,
        }
    }
}

#[cfg(test)]
mod tests;
