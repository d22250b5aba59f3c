//! Signing in to the e-community server and syncing.

use stopover_core::sync::{
    self, FoundRelay, PendingOperation, RejectedOperation, Resolution, SyncConflict,
};
use tauri::State;

use stopover_core::RecordKind;

use crate::error::{CommandError, CommandResult, internal};
use crate::sync_service::{SyncHandle, SyncStatusView};

fn device_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    match host {
        Some(host) => format!("Stopover on {host}"),
        None => "Stopover".to_string(),
    }
}

#[tauri::command]
pub async fn sync_status(sync: State<'_, SyncHandle>) -> CommandResult<SyncStatusView> {
    let service = sync.get()?;
    tauri::async_runtime::spawn_blocking(move || service.status())
        .await
        .map_err(join_error)?
}

/// Signs in; with `new_password`, also sets a new password (what the server asks for, with
/// `password_change_required`, after the Secretariat reset it).
#[tauri::command]
pub async fn sign_in(
    sync: State<'_, SyncHandle>,
    server: String,
    username: String,
    password: String,
    new_password: Option<String>,
) -> CommandResult<SyncStatusView> {
    let service = sync.get()?;
    match new_password.filter(|p| !p.is_empty()) {
        Some(new_password) => {
            sync::sign_in_with_new_password(
                service.core(),
                service.secrets(),
                server.trim(),
                username.trim(),
                &password,
                &new_password,
                &device_name(),
            )
            .await?
        }
        None => {
            sync::sign_in(
                service.core(),
                service.secrets(),
                server.trim(),
                username.trim(),
                &password,
                &device_name(),
            )
            .await?
        }
    };
    service.wake();
    service.publish();
    service.status()
}

/// Changes the password of the account this device is signed in as; this device stays signed
/// in, the account's other devices are signed out by the server.
#[tauri::command]
pub async fn change_password(
    sync: State<'_, SyncHandle>,
    current_password: String,
    new_password: String,
) -> CommandResult<()> {
    let service = sync.get()?;
    sync::change_password(
        service.core(),
        service.secrets(),
        &current_password,
        &new_password,
    )
    .await?;
    Ok(())
}

#[tauri::command]
pub async fn sign_out(sync: State<'_, SyncHandle>) -> CommandResult<SyncStatusView> {
    let service = sync.get()?;
    sync::sign_out(service.core(), service.secrets()).await?;
    service.publish();
    service.status()
}

#[tauri::command]
pub async fn forget_device(sync: State<'_, SyncHandle>) -> CommandResult<SyncStatusView> {
    let service = sync.get()?;
    let s = service.clone();
    tauri::async_runtime::spawn_blocking(move || sync::forget_device(s.core(), s.secrets()))
        .await
        .map_err(join_error)??;
    service.publish();
    service.status()
}

/// "Sync now": one round, answered with the status after it (errors are in the status too).
#[tauri::command]
pub async fn sync_now(sync: State<'_, SyncHandle>) -> CommandResult<SyncStatusView> {
    let service = sync.get()?;
    match service.sync_now_by_hand().await {
        Ok(()) | Err(stopover_core::Error::SyncInProgress) => service.status(),
        Err(e) => Err(e.into()),
    }
}

/// "Sync through this relay": asks the workshop relay at `address` who it is (a relay of
/// this device's server), keeps it, and starts a round through it.
#[tauri::command]
pub async fn use_relay(
    sync: State<'_, SyncHandle>,
    address: String,
) -> CommandResult<SyncStatusView> {
    let service = sync.get()?;
    sync::use_relay(service.core(), &address).await?;
    service.wake();
    service.publish();
    let s = service.clone();
    tauri::async_runtime::spawn_blocking(move || s.status())
        .await
        .map_err(join_error)?
}

/// "Find a relay on this network": browses the LAN a few seconds for workshop relays (those of
/// this device's server first). Finding one only offers its address; `use_relay` checks it.
#[tauri::command]
pub async fn find_relays(sync: State<'_, SyncHandle>) -> CommandResult<Vec<FoundRelay>> {
    let service = sync.get()?;
    Ok(sync::discover_relays(service.core(), RELAY_SEARCH).await?)
}

/// How long "Find a relay" listens: a relay on the LAN answers within a second.
const RELAY_SEARCH: std::time::Duration = std::time::Duration::from_secs(3);

/// "Sync directly": forgets the relay; the next round goes to the server.
#[tauri::command]
pub async fn clear_relay(sync: State<'_, SyncHandle>) -> CommandResult<SyncStatusView> {
    let service = sync.get()?;
    let s = service.clone();
    tauri::async_runtime::spawn_blocking(move || {
        sync::set_relay(s.core(), None)?;
        s.wake();
        s.publish();
        s.status()
    })
    .await
    .map_err(join_error)?
}

#[tauri::command]
pub async fn network_changed(sync: State<'_, SyncHandle>) -> CommandResult<()> {
    sync.get()?.wake();
    Ok(())
}

#[tauri::command]
pub async fn list_outbox(sync: State<'_, SyncHandle>) -> CommandResult<Vec<PendingOperation>> {
    let service = sync.get()?;
    tauri::async_runtime::spawn_blocking(move || sync::pending_operations(service.core()))
        .await
        .map_err(join_error)?
        .map_err(Into::into)
}

#[tauri::command]
pub async fn list_conflicts(sync: State<'_, SyncHandle>) -> CommandResult<Vec<SyncConflict>> {
    let service = sync.get()?;
    tauri::async_runtime::spawn_blocking(move || sync::conflicts(service.core()))
        .await
        .map_err(join_error)?
        .map_err(Into::into)
}

#[tauri::command]
pub async fn list_rejected(sync: State<'_, SyncHandle>) -> CommandResult<Vec<RejectedOperation>> {
    let service = sync.get()?;
    tauri::async_runtime::spawn_blocking(move || sync::rejected(service.core()))
        .await
        .map_err(join_error)?
        .map_err(Into::into)
}

/// Takes a refused change off the list once read (it stays in the log); answers with the
/// status, whose "needs attention" may now clear.
#[tauri::command]
pub async fn dismiss_rejected(
    sync: State<'_, SyncHandle>,
    op_id: String,
) -> CommandResult<SyncStatusView> {
    let service = sync.get()?;
    let s = service.clone();
    tauri::async_runtime::spawn_blocking(move || sync::dismiss_rejected(s.core(), &op_id))
        .await
        .map_err(join_error)??;
    service.publish();
    service.status()
}

#[tauri::command]
pub async fn resolve_conflict(
    sync: State<'_, SyncHandle>,
    kind: RecordKind,
    entity_id: String,
    field: String,
    choice: Resolution,
) -> CommandResult<SyncStatusView> {
    let service = sync.get()?;
    let s = service.clone();
    tauri::async_runtime::spawn_blocking(move || {
        sync::resolve_conflict(s.core(), kind, &entity_id, &field, choice)
    })
    .await
    .map_err(join_error)??;
    service.edited();
    service.publish();
    service.status()
}

fn join_error(e: tauri::Error) -> CommandError {
    internal(e)
}
