//! App-wide commands: start-up status, language, readiness.

use serde::Serialize;
use stopover_core::store::recovery::RecoveryReport;
use stopover_core::user::checklists::{UserDataCounts, counts};
use stopover_core::{ContentStatus, Lang};
use tauri::State;

use crate::error::{CommandError, CommandResult};
use crate::state::AppState;

#[derive(Serialize, ts_rs::TS)]
pub struct AppStatus {
    /// Set when the app could not open its database (e.g. written by a newer Stopover).
    startup_error: Option<CommandError>,
    content: Option<ContentStatus>,
    language: Lang,
    user_data: Option<UserDataCounts>,
    data_dir: String,
    /// Set when this start found damage only in content and search tables and rebuilt them
    /// (the damaged file is kept, named in the report).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    rebuilt: Option<RecoveryReport>,
}

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> CommandResult<AppStatus> {
    let data_dir = state.data_dir.display().to_string();
    match state.core() {
        Err(e) => Ok(AppStatus {
            startup_error: Some(e),
            content: None,
            language: Lang::En,
            user_data: None,
            data_dir,
            rebuilt: None,
        }),
        Ok(_) => {
            let (content, language, user_data, rebuilt) = state
                .run(|core| {
                    Ok((
                        core.content_status(),
                        Lang::from_code(&core.language()?),
                        counts(&core.conn())?,
                        core.rebuilt_on_open().cloned(),
                    ))
                })
                .await?;
            Ok(AppStatus {
                startup_error: None,
                content: Some(content),
                language,
                user_data: Some(user_data),
                data_dir,
                rebuilt,
            })
        }
    }
}

#[tauri::command]
pub async fn set_language(state: State<'_, AppState>, lang: Lang) -> CommandResult<()> {
    state.run(move |core| core.set_language(lang.code())).await
}

#[tauri::command]
pub async fn ui_ready(state: State<'_, AppState>) -> CommandResult<()> {
    state.mark_ready();
    Ok(())
}
