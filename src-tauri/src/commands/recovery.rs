//! The way back from a damaged database, offered on the error screen: copy what can be read
//! into a fresh file, or put a local backup in its place. Either keeps the old file.

use std::sync::Arc;

use stopover_core::Core;
use stopover_core::store::recovery::{self, BackupInfo, RecoveryReport, RestoreReport};
use tauri::{AppHandle, State};

use crate::error::CommandResult;
use crate::state::{AppState, Secrets};
use crate::sync_service::{SyncHandle, SyncService};

/// Copies every readable row into a fresh database (the damaged file is kept, renamed) and
/// opens it; the report says what came back.
#[tauri::command]
pub async fn recover_database(
    app: AppHandle,
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    secrets: State<'_, Secrets>,
) -> CommandResult<RecoveryReport> {
    let (report, core) = state.repair(recovery::recover).await?;
    started(core, &app, &sync, &secrets);
    Ok(report)
}

/// The local backups, newest first.
#[tauri::command]
pub async fn list_backups(state: State<'_, AppState>) -> CommandResult<Vec<BackupInfo>> {
    let path = state.database_path();
    tauri::async_runtime::spawn_blocking(move || recovery::list_backups(&path))
        .await
        .map_err(crate::error::internal)?
        .map_err(crate::error::report)
}

/// Puts the backup `name` in place of the database (which is kept, renamed) and opens it.
#[tauri::command]
pub async fn restore_backup(
    app: AppHandle,
    state: State<'_, AppState>,
    sync: State<'_, SyncHandle>,
    secrets: State<'_, Secrets>,
    name: String,
) -> CommandResult<RestoreReport> {
    let (report, core) = state
        .repair(move |path| recovery::restore(path, &name))
        .await?;
    started(core, &app, &sync, &secrets);
    Ok(report)
}

/// Sync starts now the store is open (it did not at launch).
fn started(core: Arc<Core>, app: &AppHandle, sync: &SyncHandle, secrets: &Secrets) {
    sync.start_once(|| SyncService::start(core, Arc::clone(&secrets.0), app.clone()));
}
