//! National reports: the list, new drafts, answering, repeat rows and exports to a file.

use std::collections::BTreeMap;

use serde::Serialize;
use stopover_core::Lang;
use stopover_core::reports::view::{self, DraftView, FormSummary, ReportState};
use stopover_core::reports::{self, Draft, DraftSummary, ExportFormat, file_part};
use tauri::{AppHandle, State};

use stopover_core::{Error, ErrorCode};

use super::save;
use crate::error::{CommandResult, report};
use crate::state::AppState;
use crate::sync_service::SyncHandle;

#[derive(Serialize, ts_rs::TS)]
pub struct CreatedReport {
    draft: Draft,
    /// Answers copied from the last submitted report of the same form (0 when none).
    prefilled: usize,
}

/// After a repeat row was added or removed: the new state and the answers, whose paths moved.
#[derive(Serialize, ts_rs::TS)]
pub struct RowsChanged {
    state: ReportState,
    values: BTreeMap<String, String>,
}

#[derive(Serialize, ts_rs::TS)]
pub struct ExportedFile {
    /// Where the file was written, for the UI to show.
    path: String,
}

#[tauri::command]
pub async fn list_report_forms(
    state: State<'_, AppState>,
    lang: Lang,
) -> CommandResult<Vec<FormSummary>> {
    state
        .run(move |core| view::list_forms(core, lang.code()))
        .await
}

#[tauri::command]
pub async fn list_reports(state: State<'_, AppState>) -> CommandResult<Vec<DraftSummary>> {
    state.run(reports::list_drafts).await
}

/// Starts a draft of `form_id` for `cycle`; with `prefill`, copies the answers of the last
/// submitted report of the same form.
#[tauri::command]
pub async fn create_report(
    state: State<'_, AppState>,
    form_id: String,
    cycle: String,
    prefill: bool,
) -> CommandResult<CreatedReport> {
    state
        .run(move |core| {
            let draft = reports::create_draft(core, &form_id, &cycle)?;
            let prefilled = if prefill {
                reports::prefill_from_last_submitted(core, &draft.id)?
            } else {
                0
            };
            Ok(CreatedReport { draft, prefilled })
        })
        .await
}

#[tauri::command]
pub async fn open_report(
    state: State<'_, AppState>,
    draft_id: String,
    lang: Lang,
) -> CommandResult<DraftView> {
    state
        .run(move |core| view::open_draft(core, &draft_id, lang.code()))
        .await
}

/// Saves one answer (on disk before this returns) and answers with the state after it.
#[tauri::command]
pub async fn set_report_answer(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    draft_id: String,
    path: String,
    value: String,
) -> CommandResult<ReportState> {
    tracing::debug!(path = %path, chars = value.chars().count(), "set_report_answer");
    let after = state
        .run(move |core| {
            let live = reports::set_answer(core, &draft_id, &path, &value)?;
            view::report_state(core, &draft_id, live)
        })
        .await?;
    sync.edited();
    Ok(after)
}

#[tauri::command]
pub async fn clear_report_answer(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    draft_id: String,
    path: String,
) -> CommandResult<ReportState> {
    let after = state
        .run(move |core| {
            let live = reports::clear_answer(core, &draft_id, &path)?;
            view::report_state(core, &draft_id, live)
        })
        .await?;
    sync.edited();
    Ok(after)
}

fn rows_changed(
    core: &stopover_core::Core,
    draft_id: &str,
    live: reports::LiveState,
) -> stopover_core::Result<RowsChanged> {
    Ok(RowsChanged {
        state: view::report_state(core, draft_id, live)?,
        values: view::draft_values(core, draft_id)?,
    })
}

/// Adds a row at the end of the repeat `base` (e.g. `appendix_i/app1_species`).
#[tauri::command]
pub async fn add_report_row(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    draft_id: String,
    base: String,
) -> CommandResult<RowsChanged> {
    let after = state
        .run(move |core| {
            let live = reports::add_repeat_row(core, &draft_id, &base)?;
            rows_changed(core, &draft_id, live)
        })
        .await?;
    sync.edited();
    Ok(after)
}

/// Removes row `index` (1-based) of the repeat `base` with its answers.
#[tauri::command]
pub async fn remove_report_row(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    draft_id: String,
    base: String,
    index: usize,
) -> CommandResult<RowsChanged> {
    let after = state
        .run(move |core| {
            let live = reports::remove_repeat_row(core, &draft_id, &base, index)?;
            rows_changed(core, &draft_id, live)
        })
        .await?;
    sync.edited();
    Ok(after)
}

/// Moves row `from` of the repeat `base` to position `to` (both 1-based).
#[tauri::command]
pub async fn move_report_row(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    draft_id: String,
    base: String,
    from: usize,
    to: usize,
) -> CommandResult<RowsChanged> {
    let after = state
        .run(move |core| {
            let live = reports::move_repeat_row(core, &draft_id, &base, from, to)?;
            rows_changed(core, &draft_id, live)
        })
        .await?;
    sync.edited();
    Ok(after)
}

/// Exports a draft as `docx`, `pdf`, `csv`, `json` or the submission `package` (a ZIP; labels
/// in `lang`) to the file the person
/// picks in the save dialog (default name `<form-id>-<cycle>.<ext>`); answers with its path, or
/// with nothing when the dialog was cancelled.
#[tauri::command]
pub async fn export_report(
    app: AppHandle,
    state: State<'_, AppState>,
    draft_id: String,
    format: ExportFormat,
    lang: Lang,
) -> CommandResult<Option<ExportedFile>> {
    let ext = format.extension();
    let (draft, bytes) = state
        .run(move |core| {
            let draft = reports::get_draft(core, &draft_id)?;
            let bytes = match format {
                ExportFormat::Docx => reports::export_docx(core, &draft_id, lang.code())?,
                ExportFormat::Pdf => reports::export_pdf(core, &draft_id, lang.code())?,
                ExportFormat::Csv => {
                    reports::export_csv(core, &draft_id, lang.code())?.into_bytes()
                }
                ExportFormat::Package => reports::export_package(core, &draft_id, lang.code())?,
                ExportFormat::Json => {
                    let json = reports::export_json(core, &draft_id)?;
                    serde_json::to_vec_pretty(&json).map_err(|e| {
                        stopover_core::Error::invalid(
                            stopover_core::ErrorCode::ExportFailed,
                            format!("JSON export failed: {e}"),
                        )
                        .with("format", "json")
                    })?
                }
            };
            Ok((draft, bytes))
        })
        .await?;
    let stem = format!("{}-{}", file_part(&draft.form_id), file_part(&draft.cycle));
    let Some(path) = save::save_file(&app, &stem, ext, bytes)
        .await
        .map_err(|m| report(Error::invalid(ErrorCode::ExportFailed, m).with("format", ext)))?
    else {
        return Ok(None);
    };
    tracing::info!(path = %path.display(), "report exported");
    Ok(Some(ExportedFile {
        path: path.display().to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_formats_arrive_by_name_and_unknown_ones_do_not_parse() {
        let pdf: ExportFormat = serde_json::from_str("\"pdf\"").unwrap();
        assert_eq!(pdf.extension(), "pdf");
        let package: ExportFormat = serde_json::from_str("\"package\"").unwrap();
        assert_eq!(package.extension(), "zip");
        assert!(serde_json::from_str::<ExportFormat>("\"xlsx\"").is_err());
    }
}
