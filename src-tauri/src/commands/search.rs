//! Full-text search over the content pack.

use stopover_core::check_language;
use stopover_core::content::{self, SearchHit};
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

/// Results returned per query: enough to group by kind, few enough to render instantly.
const SEARCH_LIMIT: usize = 40;
/// Longer input is a paste accident, not a query.
const QUERY_MAX_CHARS: usize = 500;

#[tauri::command]
pub async fn search(
    state: State<'_, AppState>,
    query: String,
    lang: String,
) -> CommandResult<Vec<SearchHit>> {
    check_language(&lang)?;
    if query.chars().count() > QUERY_MAX_CHARS {
        return Err(CommandError::new(
            "invalid_input",
            format!("a search can be at most {QUERY_MAX_CHARS} characters long"),
        ));
    }
    state
        .run(move |core| content::search(&core.conn(), &query, &lang, SEARCH_LIMIT))
        .await
}
