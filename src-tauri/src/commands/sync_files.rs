//! Sync files ("Save changes to a file", "Load a reply file") and the bandwidth meter and
//! budget on the Sync page.

use serde::Serialize;
use stopover_core::sync::{self, BandwidthSettings, BandwidthUsage, SyncFileLoaded, meter};
use stopover_core::{Error, ErrorCode};
use tauri::{AppHandle, State};

use crate::commands::reports::{export_dir, write_new_file};
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

/// Writes the outbox to a new signed file `stopover-changes-<date>.stopsync` in the export
/// folder (Documents/Stopover), to carry to the Secretariat on a USB stick or by e-mail.
#[tauri::command]
pub async fn save_sync_file(
    app: AppHandle,
    sync: State<'_, SyncHandle>,
) -> CommandResult<SavedSyncFile> {
    let service = sync.get()?;
    let dir = export_dir(&app)?;
    let token = sync::device_token(service.core(), service.secrets())?;
    let s = service.clone();
    let (path, saved) = tauri::async_runtime::spawn_blocking(move || {
        let (bytes, saved) = sync::changes_file(s.core(), &token)?;
        let stem = format!(
            "stopover-changes-{}",
            chrono_free_date(std::time::SystemTime::now())
        );
        let path = write_new_file(&dir, &stem, "stopsync", &bytes).map_err(|m| {
            Error::invalid(ErrorCode::SyncFileIo, m.clone())
                .with("path", dir.display().to_string())
                .with("reason", m)
        })?;
        Ok::<_, Error>((path, saved))
    })
    .await
    .map_err(internal)?
    .map_err(report)?;
    service.publish();
    tracing::info!(path = %path.display(), operations = saved.operations, "sync file saved");
    Ok(SavedSyncFile {
        path: path.display().to_string(),
        operations: saved.operations,
        bytes: saved.bytes,
    })
}

/// `YYYY-MM-DD` (UTC) of a time, for file names.
fn chrono_free_date(t: std::time::SystemTime) -> String {
    let days = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Days to civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
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

#[cfg(test)]
mod tests {
    #[test]
    fn dates_for_file_names() {
        let at = |secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        assert_eq!(super::chrono_free_date(at(0)), "1970-01-01");
        assert_eq!(super::chrono_free_date(at(951_782_400)), "2000-02-29");
        assert_eq!(super::chrono_free_date(at(1_796_601_600)), "2026-12-07");
    }
}
