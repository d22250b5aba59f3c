//! A report shared with colleagues: who works on which section, and submission — through the
//! e-community when this device is signed in (the server checks and keeps the submitted
//! version, and answers with a receipt), else on this device only (the e-mail route, with an
//! export).

use stopover_core::reports::delegation::{self, Assignment};
use stopover_core::reports::{self, Draft};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;
use crate::sync_service::SyncHandle;

#[tauri::command]
pub async fn report_assignments(
    state: State<'_, AppState>,
    draft_id: String,
) -> CommandResult<Vec<Assignment>> {
    state
        .run(move |core| delegation::assignments(core, &draft_id))
        .await
}

/// Gives a section to a colleague (`username`), or takes it back (`None`); queued for sync.
#[tauri::command]
pub async fn assign_report_section(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    draft_id: String,
    section: String,
    username: Option<String>,
) -> CommandResult<Vec<Assignment>> {
    let assignments = state
        .run(move |core| delegation::assign_section(core, &draft_id, &section, username.as_deref()))
        .await?;
    sync.edited();
    Ok(assignments)
}

/// Submits the report: through the server when signed in (a sync round first), else here.
#[tauri::command]
pub async fn submit_report(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    draft_id: String,
) -> CommandResult<Draft> {
    if let Some(service) = sync.service()
        && service.signed_in()?
    {
        return Ok(service.submit_report(&draft_id).await?);
    }
    state
        .run(move |core| reports::submit_draft(core, &draft_id))
        .await
}
