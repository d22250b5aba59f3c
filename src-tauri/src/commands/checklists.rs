//! Checklists: lists with progress, ticking steps, notes.

use serde::Serialize;
use stopover_core::Lang;
use stopover_core::content::{self, ChecklistView, ItemKind, ItemSummary, Progress};
use stopover_core::user::{bookmarks, checklists};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;
use crate::sync_service::SyncHandle;

#[derive(Serialize, ts_rs::TS)]
pub struct OpenedChecklist {
    #[serde(flatten)]
    checklist: ChecklistView,
    bookmarked: bool,
}

#[tauri::command]
pub async fn list_checklists(
    state: State<'_, AppState>,
    lang: Lang,
) -> CommandResult<Vec<ItemSummary>> {
    state
        .run(move |core| content::list_checklists(&core.conn(), lang.code()))
        .await
}

#[tauri::command]
pub async fn get_checklist(
    state: State<'_, AppState>,
    id: String,
    lang: Lang,
) -> CommandResult<OpenedChecklist> {
    state
        .run(move |core| {
            let conn = core.conn();
            let checklist = content::checklist(&conn, &id, lang.code())?;
            let bookmarked = bookmarks::is_set(&conn, ItemKind::Checklist, &id)?;
            Ok(OpenedChecklist {
                checklist,
                bookmarked,
            })
        })
        .await
}

/// Ticks or unticks a step; answers with the checklist's new progress once it is on disk.
#[tauri::command]
pub async fn set_step_done(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    checklist_id: String,
    step_id: String,
    done: bool,
) -> CommandResult<Progress> {
    let progress = state
        .run(move |core| {
            let mut conn = core.conn();
            checklists::set_done(&mut conn, &checklist_id, &step_id, done)?;
            Ok(content::checklist(&conn, &checklist_id, "en")?.progress)
        })
        .await?;
    sync.edited();
    Ok(progress)
}

#[tauri::command]
pub async fn set_step_note(
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    checklist_id: String,
    step_id: String,
    note: String,
) -> CommandResult<()> {
    state
        .run(move |core| checklists::set_note(&mut core.conn(), &checklist_id, &step_id, &note))
        .await?;
    sync.edited();
    Ok(())
}
