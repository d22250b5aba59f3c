//! Sync files ("Save changes to a file", "Load a reply file") and the bandwidth meter and
//! budget on the Sync page.

use serde::Serialize;
use stopover_core::sync::{self, BandwidthSettings, BandwidthUsage, SyncFileLoaded, meter};
use stopover_core::{Error, ErrorCode};
use tauri::{AppHandle, State};

use crate::commands::save;
use crate::error::{CommandResult, internal, report};
use crate::sync_service::SyncHandle;

/// A reply file is never larger than this (the protocol's payload cap and its header).
const MAX_REPLY_FILE_BYTES: usize = 64 * 1024 * 1024 + 1024;

#[derive(Serialize, ts_rs::TS)]
pub struct SavedSyncFile {
    /// Where the file was written, for the UI to show.
    path: String,
    operations: u32,
    bytes: u64,
}

/// Writes the outbox to a new signed file (default name `stopover-changes-<date>.stopsync`)
/// where the person picks in the save dialog, to carry to the Secretariat on a USB stick or by
/// e-mail. Nothing when the dialog was cancelled.
#[tauri::command]
pub async fn save_sync_file(
    app: AppHandle,
    sync: State<'_, SyncHandle>,
) -> CommandResult<Option<SavedSyncFile>> {
    let service = sync.get()?;
    let token = sync::device_token(service.core(), service.secrets())?;
    let s = service.clone();
    let (bytes, saved) =
        tauri::async_runtime::spawn_blocking(move || sync::changes_file(s.core(), &token))
            .await
            .map_err(internal)?
            .map_err(report)?;
    let stem = format!(
        "stopover-changes-{}",
        time::OffsetDateTime::now_utc().date()
    );
    let Some(path) = save::save_file(&app, &stem, "stopsync", bytes)
        .await
        .map_err(|m| {
            report(
                Error::invalid(ErrorCode::SyncFileIo, m.clone())
                    .with("path", stem.clone())
                    .with("reason", m),
            )
        })?
    else {
        return Ok(None);
    };
    service.publish();
    tracing::info!(path = %path.display(), operations = saved.operations, "sync file saved");
    Ok(Some(SavedSyncFile {
        path: path.display().to_string(),
        operations: saved.operations,
        bytes: saved.bytes,
    }))
}

/// Loads the server's reply file, whose bytes the window read from the file the person
/// picked: acknowledgements and changes, as a sync round would store them.
#[tauri::command]
pub async fn load_sync_reply(
    sync: State<'_, SyncHandle>,
    bytes: Vec<u8>,
) -> CommandResult<SyncFileLoaded> {
    if bytes.len() > MAX_REPLY_FILE_BYTES {
        return Err(report(Error::invalid(
            ErrorCode::SyncFileTooLarge,
            "this file is larger than any sync reply",
        )));
    }
    let service = sync.get()?;
    let s = service.clone();
    let loaded =
        tauri::async_runtime::spawn_blocking(move || sync::load_reply_bytes(s.core(), &bytes))
            .await
            .map_err(internal)?
            .map_err(report)?;
    service.publish();
    Ok(loaded)
}

#[tauri::command]
pub async fn bandwidth_usage(sync: State<'_, SyncHandle>) -> CommandResult<BandwidthUsage> {
    let service = sync.get()?;
    tauri::async_runtime::spawn_blocking(move || meter::usage(service.core()))
        .await
        .map_err(internal)?
        .map_err(report)
}

#[tauri::command]
pub async fn set_bandwidth_settings(
    sync: State<'_, SyncHandle>,
    settings: BandwidthSettings,
) -> CommandResult<BandwidthUsage> {
    let service = sync.get()?;
    let s = service.clone();
    let usage = tauri::async_runtime::spawn_blocking(move || {
        meter::set_settings(s.core(), &settings)?;
        meter::usage(s.core())
    })
    .await
    .map_err(internal)?
    .map_err(report)?;
    // A cheaper connection may let waiting traffic go now.
    service.wake();
    Ok(usage)
}

/// "Allow now": the deferred traffic goes for the next hours, starting with a round now.
#[tauri::command]
pub async fn allow_deferred_traffic(sync: State<'_, SyncHandle>) -> CommandResult<BandwidthUsage> {
    let service = sync.get()?;
    let s = service.clone();
    let usage = tauri::async_runtime::spawn_blocking(move || {
        meter::allow_deferred(s.core())?;
        meter::usage(s.core())
    })
    .await
    .map_err(internal)?
    .map_err(report)?;
    service.wake();
    Ok(usage)
}
