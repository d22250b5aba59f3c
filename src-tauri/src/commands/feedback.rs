//! "Was this useful? What was missing?" on a Manual module or checklist.

use stopover_core::user::feedback::{self, Feedback};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;
use crate::sync_service::SyncHandle;

/// `item_kind`: `manual` or `checklist`.
#[tauri::command]
pub async fn get_feedback(
    state: State<'_, AppState>,
    item_kind: String,
    item_id: String,
) -> CommandResult<Feedback> {
    state
        .run(move |core| feedback::get(&core.conn(), &item_kind, &item_id))
        .await
}

/// `useful`: true, false, or null to withdraw the answer.
#[tauri::command]
pub async fn set_feedback_useful(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    item_kind: String,
    item_id: String,
    useful: Option<bool>,
) -> CommandResult<Feedback> {
    let now = state
        .run(move |core| feedback::set_useful(&mut core.conn(), &item_kind, &item_id, useful))
        .await?;
    sync.edited();
    Ok(now)
}

#[tauri::command]
pub async fn set_feedback_missing(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    item_kind: String,
    item_id: String,
    missing: String,
) -> CommandResult<Feedback> {
    let now = state
        .run(move |core| feedback::set_missing(&mut core.conn(), &item_kind, &item_id, &missing))
        .await?;
    sync.edited();
    Ok(now)
}
