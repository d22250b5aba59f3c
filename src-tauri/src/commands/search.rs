//! Full-text search over the content pack.

use stopover_core::Lang;
use stopover_core::content::{self, SearchHit};
use tauri::State;

use stopover_core::{Error, ErrorCode};

use crate::error::{CommandResult, report};
use crate::state::AppState;

/// Results returned per query: enough to group by kind, few enough to render instantly.
const SEARCH_LIMIT: usize = 40;
/// Longer input is a paste accident, not a query.
const QUERY_MAX_CHARS: usize = 500;

#[tauri::command]
pub async fn search(
    state: State<'_, AppState>,
    query: String,
    lang: Lang,
) -> CommandResult<Vec<SearchHit>> {
    if query.chars().count() > QUERY_MAX_CHARS {
        return Err(report(
            Error::invalid(
                ErrorCode::TextTooLong,
                format!("a search can be at most {QUERY_MAX_CHARS} characters long"),
            )
            .with("max", QUERY_MAX_CHARS),
        ));
    }
    state
        .run(move |core| content::search(&core.conn(), &query, lang.code(), SEARCH_LIMIT))
        .await
}
