//! Files attached to report answers: attaching (the picked file's bytes arrive as the raw
//! body of the call, its name and place in headers), where each file stands, and opening or
//! saving a copy — fetched from the server first when it is a colleague's, only then.

use serde::Serialize;
use stopover_core::reports::files::{self, ReportFile};
use stopover_core::reports::view::{self, ReportState};
use stopover_core::sync::attachments::{self, AttachmentLimits};
use stopover_core::{Error, ErrorCode};
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, State};

use super::save;
use crate::error::{CommandResult, internal, report};
use crate::state::AppState;
use crate::sync_service::SyncHandle;

/// Headers of `attach_report_file`, each percent-encoded UTF-8 (`encodeURIComponent`).
const DRAFT_HEADER: &str = "x-stopover-draft";
const PATH_HEADER: &str = "x-stopover-path";
const NAME_HEADER: &str = "x-stopover-filename";

/// After a file was attached: the state, and the answer as stored (`name sha256:…`).
#[derive(Serialize, ts_rs::TS)]
pub struct AttachedFile {
    state: ReportState,
    value: String,
}

#[derive(Serialize, ts_rs::TS)]
pub struct SavedFile {
    /// Where the copy was written (or the file opened from), for the UI to show.
    path: String,
    /// False when the system could not open it (the copy is there all the same).
    opened: bool,
}

fn header(request: &Request<'_>, name: &str) -> CommandResult<String> {
    let raw = request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| report(Error::internal(format!("`{name}` is missing"))))?;
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| report(Error::internal(format!("`{name}` is not UTF-8"))))
}

/// What attachments may be (size, types), as the server last said: shown before picking.
#[tauri::command]
pub async fn attachment_limits(state: State<'_, AppState>) -> CommandResult<AttachmentLimits> {
    state.run(attachments::limits).await
}

/// Attaches the picked file to a `file` question: its bytes are kept in the data folder and the
/// answer set, in one transaction with the upload and the answer queued; the state after it.
#[tauri::command]
pub async fn attach_report_file(
    request: Request<'_>,
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
) -> CommandResult<AttachedFile> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(report(Error::internal(
            "attach_report_file takes the file's bytes as the raw body",
        )));
    };
    let bytes = bytes.clone();
    let draft_id = header(&request, DRAFT_HEADER)?;
    let path = header(&request, PATH_HEADER)?;
    let filename = header(&request, NAME_HEADER)?;
    let after = state
        .run(move |core| {
            let live = files::attach_file(core, &draft_id, &path, &filename, &bytes)?;
            let value = stopover_core::reports::draft_answers(core, &draft_id)?
                .remove(&path)
                .unwrap_or_default();
            Ok(AttachedFile {
                state: view::report_state(core, &draft_id, live)?,
                value,
            })
        })
        .await?;
    sync.edited();
    Ok(after)
}

/// Every file the draft's answers name, with where each stands (waiting, on the server,
/// refused, a colleague's).
#[tauri::command]
pub async fn report_files(
    state: State<'_, AppState>,
    draft_id: String,
) -> CommandResult<Vec<ReportFile>> {
    state
        .run(move |core| files::report_files(core, &draft_id))
        .await
}

/// The file's bytes on this device, fetched from the server first when they are not here (a
/// colleague's attachment, opened for the first time).
async fn ensure_local(
    state: &AppState,
    sync: &SyncHandle,
    sha256: &str,
    filename: &str,
) -> CommandResult<()> {
    let sha = sha256.to_string();
    let here = state
        .run(move |core| files::local_path(core, &sha))
        .await?
        .is_some();
    if !here {
        sync.get()?
            .download_attachment(sha256, filename)
            .await
            .map_err(report)?;
    }
    Ok(())
}

/// Opens an attached file with the system's program for it (fetching it first if needed).
#[tauri::command]
pub async fn open_report_file(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    sha256: String,
    filename: String,
) -> CommandResult<SavedFile> {
    ensure_local(&state, &sync, &sha256, &filename).await?;
    let copy = state
        .run(move |core| files::openable_copy(core, &sha256, &filename))
        .await?;
    let target = copy.clone();
    let opened = tauri::async_runtime::spawn_blocking(move || open::that_detached(&target))
        .await
        .map_err(internal)?;
    if let Err(e) = &opened {
        tracing::warn!(error = %e, "the system could not open the attachment");
    }
    Ok(SavedFile {
        path: copy.display().to_string(),
        opened: opened.is_ok(),
    })
}

/// Saves a copy of an attached file where the person chooses (fetching it first if needed);
/// nothing when they cancel.
#[tauri::command]
pub async fn save_report_file(
    app: AppHandle,
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    sha256: String,
    filename: String,
) -> CommandResult<Option<SavedFile>> {
    ensure_local(&state, &sync, &sha256, &filename).await?;
    let sha = sha256.clone();
    let source = state
        .run(move |core| {
            files::local_path(core, &sha)?
                .ok_or_else(|| Error::NotFound(format!("attachment {sha} on this device")))
        })
        .await?;
    let bytes = tauri::async_runtime::spawn_blocking(move || std::fs::read(&source))
        .await
        .map_err(internal)?
        .map_err(|e| {
            report(
                Error::invalid(
                    ErrorCode::AttachmentUnreadable,
                    format!("cannot read the kept copy of {filename}: {e}"),
                )
                .with("file", filename.as_str()),
            )
        })?;
    let (stem, ext) = match filename.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem.to_string(), ext.to_string()),
        _ => (filename.clone(), "bin".to_string()),
    };
    let (stem, ext) = (
        stopover_core::reports::file_part(&stem),
        stopover_core::reports::file_part(&ext),
    );
    let saved = save::save_file(&app, &stem, &ext, bytes)
        .await
        .map_err(|m| {
            report(Error::invalid(ErrorCode::ExportFailed, m).with("format", ext.as_str()))
        })?;
    Ok(saved.map(|p| SavedFile {
        path: p.display().to_string(),
        opened: false,
    }))
}
