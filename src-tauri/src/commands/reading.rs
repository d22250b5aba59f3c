//! The Manual and the reading view: lists, items, bookmarks, history.

use serde::Serialize;
use stopover_core::Lang;
use stopover_core::content::{self, ItemKind, ItemSummary, ItemView};
use stopover_core::user::{bookmarks, recent};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

/// How many "recently read" items the home view shows.
const RECENT_SHOWN: usize = 8;

#[derive(Serialize, ts_rs::TS)]
pub struct OpenedItem {
    #[serde(flatten)]
    item: ItemView,
    bookmarked: bool,
}

#[tauri::command]
pub async fn list_manual(
    state: State<'_, AppState>,
    lang: Lang,
) -> CommandResult<Vec<ItemSummary>> {
    state
        .run(move |core| content::list_manual(&core.conn(), lang.code()))
        .await
}

/// Opens an item for reading and records it in the history (one transaction).
#[tauri::command]
pub async fn open_item(
    state: State<'_, AppState>,
    kind: ItemKind,
    id: String,
    lang: Lang,
) -> CommandResult<OpenedItem> {
    state
        .run(move |core| {
            let mut conn = core.conn();
            let item = content::get_item(&conn, kind, &id, lang.code())?;
            recent::record(&mut conn, kind, &id)?;
            let bookmarked = bookmarks::is_set(&conn, kind, &id)?;
            Ok(OpenedItem { item, bookmarked })
        })
        .await
}

#[tauri::command]
pub async fn set_bookmark(
    state: State<'_, AppState>,
    kind: ItemKind,
    id: String,
    on: bool,
) -> CommandResult<bool> {
    state
        .run(move |core| bookmarks::set(&core.conn(), kind, &id, on))
        .await
}

#[tauri::command]
pub async fn list_bookmarks(
    state: State<'_, AppState>,
    lang: Lang,
) -> CommandResult<Vec<ItemSummary>> {
    state
        .run(move |core| bookmarks::list(&core.conn(), lang.code()))
        .await
}

#[tauri::command]
pub async fn list_recent(
    state: State<'_, AppState>,
    lang: Lang,
) -> CommandResult<Vec<ItemSummary>> {
    state
        .run(move |core| recent::list(&core.conn(), lang.code(), RECENT_SHOWN))
        .await
}
