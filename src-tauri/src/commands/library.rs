//! The library: funding, training, practice examples and FAQs, filtered by metadata.

use stopover_core::Lang;
use stopover_core::content::{self, ItemSummary, LibraryFacets, LibraryFilter};
use tauri::State;

use crate::error::CommandResult;
use crate::state::AppState;

#[tauri::command]
pub async fn list_library(
    state: State<'_, AppState>,
    lang: Lang,
    filter: LibraryFilter,
) -> CommandResult<Vec<ItemSummary>> {
    state
        .run(move |core| content::list_library(&core.conn(), lang.code(), &filter))
        .await
}

#[tauri::command]
pub async fn library_facets(state: State<'_, AppState>) -> CommandResult<LibraryFacets> {
    state
        .run(|core| content::library_facets(&core.conn()))
        .await
}
