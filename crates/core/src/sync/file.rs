//! Sync files: for a person with no usable connection, the outbox written to a signed,
//! compressed file ("Save changes to a file") carried on a USB stick or by e-mail to someone
//! who runs `ecommunity bundle import`, and the server's signed reply loaded back ("Load a
//! reply file"), which does what a push answer and a pull do.
//!
//! The device signs with a key derived from its device token
//! ([`device_file_seed`](stopover_protocol::sync_file::device_file_seed)); it registers the
//! public half, and learns the server's file key, at sign-in and in each online round until
//! done ([`ensure_file_key`]). A reply signed by another key, or meant for another device, is
//! refused and changes nothing.

use std::path::Path;

use ed25519_dalek::SigningKey;
use serde::Serialize;
use stopover_protocol::sync_file::{
    self, DeviceChanges, FileKind, FileRefusal, MAX_FILE_OPS, SyncFileReply,
};

use super::client::SyncClient;
use super::{outbox, pull, state};
use crate::{Core, Error, ErrorCode, Result};

/// `sync_state` key: the device's file key (public, hex) once the server has it.
const FILE_KEY_REGISTERED: &str = "file_key_registered";
/// `sync_state` key: the server's file key (public, hex), which signs reply files.
pub(crate) const SERVER_FILE_KEY: &str = "server_file_key";

/// The key this device signs its sync files (and its relay pushes and grants) with.
pub(crate) fn device_key(token: &str) -> SigningKey {
    SigningKey::from_bytes(&sync_file::device_file_seed(token))
}

/// The error a refused file is shown as.
pub(crate) fn refusal_error(refusal: FileRefusal) -> Error {
    let code = match refusal {
        FileRefusal::NotASyncFile => ErrorCode::SyncFileNotOurs,
        FileRefusal::UnsupportedVersion => ErrorCode::SyncFileNewerVersion,
        FileRefusal::WrongKind => ErrorCode::SyncFileWrongKind,
        FileRefusal::Truncated => ErrorCode::SyncFileTruncated,
        FileRefusal::Tampered => ErrorCode::SyncFileTampered,
        FileRefusal::Foreign => ErrorCode::SyncFileForeign,
        FileRefusal::TooLarge => ErrorCode::SyncFileTooLarge,
    };
    Error::invalid(code, refusal.describe())
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::invalid(ErrorCode::SyncFileIo, format!("{}: {e}", path.display()))
        .with("path", path.display().to_string())
        .with("reason", e.to_string())
}

/// True when this device can write a sync file (its key is registered and it knows the
/// server's).
pub fn can_write_files(core: &Core, token: &str) -> Result<bool> {
    let conn = core.conn();
    let mine = sync_file::to_hex(device_key(token).verifying_key().as_bytes());
    Ok(
        state::get(&conn, FILE_KEY_REGISTERED)?.as_deref() == Some(mine.as_str())
            && state::get(&conn, SERVER_FILE_KEY)?.is_some(),
    )
}

/// Registers this device's file key with its server unless done already for this token.
/// Returns the bytes it moved (none when nothing was needed).
pub async fn ensure_file_key(
    core: &Core,
    client: &SyncClient,
    token: &str,
) -> Result<super::Transfer> {
    if can_write_files(core, token)? {
        return Ok(super::Transfer::default());
    }
    let mine = sync_file::to_hex(device_key(token).verifying_key().as_bytes());
    let (answer, transfer) = client.register_file_key(token, &mine).await?;
    if sync_file::parse_key(&answer.server_key).is_none() {
        return Err(Error::BadAnswer(
            "the server's file key is not an ed25519 public key".into(),
        ));
    }
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    state::set(&tx, FILE_KEY_REGISTERED, &mine)?;
    state::set(&tx, SERVER_FILE_KEY, &answer.server_key)?;
    tx.commit()?;
    Ok(transfer)
}

/// What saving a sync file did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncFileSaved {
    /// Operations written to the file.
    pub operations: u32,
    /// Size of the file.
    pub bytes: u64,
}

/// Writes the outbox (every operation that can go now, one per field, as a push would send
/// it) and the pull cursor to a signed file at `path`. The operations are marked sent, so
/// they keep their ids: whichever of the file or an online sync reaches the server first
/// applies them, the other is told `duplicate`.
pub fn save_changes(core: &Core, token: &str, path: &Path) -> Result<SyncFileSaved> {
    let (bytes, saved) = changes_file(core, token)?;
    write_atomically(path, &bytes)?;
    Ok(saved)
}

/// [`save_changes`] without the writing: the file's bytes, for a caller that picks the name.
/// The operations are marked sent all the same.
pub fn changes_file(core: &Core, token: &str) -> Result<(Vec<u8>, SyncFileSaved)> {
    if !can_write_files(core, token)? {
        return Err(Error::invalid(
            ErrorCode::SyncFileKeyMissing,
            "this device has not exchanged sync-file keys with its server yet: sync online once",
        ));
    }
    let ops = outbox::next_batch(core, MAX_FILE_OPS)?;
    let operations = ops.len() as u32;
    // The whole feed: from where both its parts are complete (see state::merge_cursors).
    let cursor = {
        let conn = core.conn();
        state::pull_cursor(&conn)?.min(state::community_cursor(&conn)?)
    };
    let bytes = seal_changes(core, token, ops, cursor, sync_file::FeedPart::All)?;
    let saved = SyncFileSaved {
        operations,
        bytes: bytes.len() as u64,
    };
    Ok((bytes, saved))
}

/// A signed [`DeviceChanges`] of `ops` asking for the `feed` after `cursor`: a sync file's
/// content, or a push through a workshop relay.
pub(crate) fn seal_changes(
    core: &Core,
    token: &str,
    ops: Vec<stopover_protocol::Operation>,
    cursor: u64,
    feed: sync_file::FeedPart,
) -> Result<Vec<u8>> {
    let (device_id, username) = {
        let conn = core.conn();
        (
            state::get(&conn, state::DEVICE_ID)?.unwrap_or_default(),
            state::get(&conn, state::ACCOUNT)?.unwrap_or_default(),
        )
    };
    let changes = DeviceChanges {
        protocol: stopover_protocol::PROTOCOL_VERSION,
        device_id,
        username,
        written_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        cursor,
        ops,
        feed,
    };
    Ok(sync_file::seal(
        FileKind::Changes,
        &device_key(token),
        &changes,
    ))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let partial = path.with_extension("partial");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&partial)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&partial, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        io_error(path, e)
    })
}

/// What loading a reply file did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncFileLoaded {
    /// Operations the server acknowledged (applied now or earlier).
    pub acknowledged: u32,
    pub conflicts: u32,
    pub rejected: u32,
    /// Changes received (0 when this device already had them: a reply loaded twice).
    pub pulled: u32,
    pub applied_locally: u32,
    /// More changes wait on the server: another file, or an online sync, brings them.
    pub more: bool,
}

/// Loads the server's reply file at `path`: checks it is signed by this device's server and
/// meant for this device, then stores the acknowledgements as a push answer and the changes
/// as a pull. Loading a reply again changes nothing. A refused file changes nothing.
pub fn load_reply(core: &Core, path: &Path) -> Result<SyncFileLoaded> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    load_reply_bytes(core, &bytes)
}

/// [`load_reply`] of a file's bytes (the app's window reads the file the person picks).
pub fn load_reply_bytes(core: &Core, bytes: &[u8]) -> Result<SyncFileLoaded> {
    let reply = open_reply(core, bytes)?;
    apply_reply(core, &reply, sync_file::FeedPart::All)
}

/// The server's reply in `bytes`, once checked: signed by this device's server and meant for
/// this device. Anything else is refused ([`refusal_error`]).
pub(crate) fn open_reply(core: &Core, bytes: &[u8]) -> Result<SyncFileReply> {
    let (server_key, device_id) = {
        let conn = core.conn();
        (
            state::get(&conn, SERVER_FILE_KEY)?,
            state::get(&conn, state::DEVICE_ID)?,
        )
    };
    let envelope = sync_file::envelope(bytes, FileKind::Reply).map_err(refusal_error)?;
    let server_key = server_key
        .as_deref()
        .and_then(sync_file::parse_key)
        .ok_or_else(|| {
            Error::invalid(
                ErrorCode::SyncFileKeyMissing,
                "this device does not know its server's file key yet: sync online once",
            )
        })?;
    let reply: SyncFileReply = envelope.open(&server_key).map_err(refusal_error)?;
    if device_id.as_deref() != Some(reply.device_id.as_str()) {
        return Err(refusal_error(FileRefusal::Foreign));
    }
    Ok(reply)
}

/// Stores a checked reply ([`open_reply`]): its results as a push answer, then its changes as
/// a pull when they continue this device's copy of `feed` (the whole feed for a sync file,
/// the private part through a relay). A reply older than what this device has pulled since
/// brings nothing new and must not move the cursor back; one that starts after it would
/// leave a gap. Storing a reply again changes nothing.
pub(crate) fn apply_reply(
    core: &Core,
    reply: &SyncFileReply,
    feed: sync_file::FeedPart,
) -> Result<SyncFileLoaded> {
    let pushed = outbox::apply_results(core, &reply.results)?;
    let mut loaded = SyncFileLoaded {
        acknowledged: pushed.applied,
        conflicts: pushed.conflicts,
        rejected: pushed.rejected,
        more: reply.pull.more,
        ..Default::default()
    };
    let cursor = {
        let conn = core.conn();
        match feed {
            sync_file::FeedPart::Private => state::pull_cursor(&conn)?,
            _ => state::pull_cursor(&conn)?.min(state::community_cursor(&conn)?),
        }
    };
    if reply.from_cursor <= cursor && cursor < reply.pull.cursor {
        if feed != sync_file::FeedPart::Private {
            state::merge_cursors(&mut core.conn())?;
        }
        let summary = pull::apply_pull(core, &reply.pull)?;
        loaded.pulled = summary.received;
        loaded.applied_locally = summary.applied_locally;
        if summary.received > 0 {
            for kind in stopover_protocol::RecordKind::ALL {
                if let Err(e) = core.local_kind(kind).after_pull(core) {
                    tracing::warn!(?kind, code = %e.code(), error = %e, "after a reply file");
                }
            }
        }
    }
    Ok(loaded)
}
