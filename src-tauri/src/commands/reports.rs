//! National reports: the list, new drafts, answering, repeat rows and exports to a file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use stopover_core::Lang;
use stopover_core::reports::view::{self, DraftView, FormSummary, ReportState};
use stopover_core::reports::{self, Draft, DraftSummary, ExportFormat, file_part};
use tauri::{AppHandle, Manager, State};

use stopover_core::{Error, ErrorCode};

use crate::error::{CommandResult, internal, report};
use crate::state::AppState;
use crate::sync_service::SyncHandle;

/// Exports go to this folder when it is set (tests), else to `Documents/Stopover`.
const EXPORT_DIR_ENV: &str = "STOPOVER_EXPORT_DIR";

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

/// Writes `bytes` to `dir/stem.ext`, or `stem-2.ext`, `stem-3.ext`… when taken: an existing
/// file is never overwritten. Returns the path written.
pub(crate) fn write_new_file(
    dir: &Path,
    stem: &str,
    ext: &str,
    bytes: &[u8],
) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for n in 1..10_000 {
        let name = if n == 1 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem}-{n}.{ext}")
        };
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                let written = f.write_all(bytes).and_then(|_| f.sync_all());
                if let Err(e) = written {
                    // Do not leave a half-written file behind under a name the user will see.
                    let _ = std::fs::remove_file(&path);
                    return Err(format!("cannot write {}: {e}", path.display()));
                }
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
        }
    }
    Err(format!(
        "{} already holds 9,999 exports named {stem}; move some away",
        dir.display()
    ))
}

pub(crate) fn export_dir(app: &AppHandle) -> CommandResult<PathBuf> {
    if let Some(dir) = std::env::var_os(EXPORT_DIR_ENV) {
        return Ok(PathBuf::from(dir));
    }
    let documents = app.path().document_dir().map_err(|e| {
        report(
            Error::invalid(
                ErrorCode::ExportFailed,
                format!("cannot find your Documents folder to save the export in: {e}"),
            )
            .with("format", "folder"),
        )
    })?;
    Ok(documents.join("Stopover"))
}

/// Exports a draft as `docx`, `pdf`, `csv`, `json` or the submission `package` (a ZIP; labels in
/// `lang`) to a new file named `<form-id>-<cycle>.<ext>` in the export folder; answers with its
/// path.
#[tauri::command]
pub async fn export_report(
    app: AppHandle,
    state: State<'_, AppState>,
    draft_id: String,
    format: ExportFormat,
    lang: Lang,
) -> CommandResult<ExportedFile> {
    let ext = format.extension();
    let dir = export_dir(&app)?;
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
    let path =
        tauri::async_runtime::spawn_blocking(move || write_new_file(&dir, &stem, ext, &bytes))
            .await
            .map_err(internal)?
            .map_err(|m| report(Error::invalid(ErrorCode::ExportFailed, m).with("format", ext)))?;
    tracing::info!(path = %path.display(), "report exported");
    Ok(ExportedFile {
        path: path.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_part("COP15"), "COP15");
        assert_eq!(file_part("COP 15/2026"), "COP_15_2026");
        assert_eq!(file_part("../x"), "_x");
        assert_eq!(file_part("  "), "report");
        assert_eq!(file_part("Año"), "Año");
    }

    #[test]
    fn exports_never_overwrite_an_existing_file() {
        let dir = std::env::temp_dir().join(format!("stopover-export-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = write_new_file(&dir, "cms-COP15", "csv", b"one").unwrap();
        let b = write_new_file(&dir, "cms-COP15", "csv", b"two").unwrap();
        let c = write_new_file(&dir, "cms-COP15", "csv", b"three").unwrap();
        assert_eq!(a, dir.join("cms-COP15.csv"));
        assert_eq!(b, dir.join("cms-COP15-2.csv"));
        assert_eq!(c, dir.join("cms-COP15-3.csv"));
        assert_eq!(std::fs::read(&a).unwrap(), b"one");
        assert_eq!(std::fs::read(&c).unwrap(), b"three");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn export_formats_arrive_by_name_and_unknown_ones_do_not_parse() {
        let pdf: ExportFormat = serde_json::from_str("\"pdf\"").unwrap();
        assert_eq!(pdf.extension(), "pdf");
        let package: ExportFormat = serde_json::from_str("\"package\"").unwrap();
        assert_eq!(package.extension(), "zip");
        assert!(serde_json::from_str::<ExportFormat>("\"xlsx\"").is_err());
    }
}
