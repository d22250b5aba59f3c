// Stopover desktop app: a thin Tauri shell over stopover-core. Commands live in `commands/`,
// one file per domain; they run SQLite work on the blocking pool, never on the main thread.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[cfg(test)]
mod bindings;
#[cfg(test)]
mod command_names;
mod commands;
mod error;
mod state;
mod sync_service;
mod webview;

use std::time::Instant;

use std::sync::Arc;

use state::Secrets;
use stopover_core::secrets::{KeyringStore, SecretStore};
use sync_service::{SyncHandle, SyncService};
use tauri::Manager;

fn main() {
    let launched = Instant::now();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,stopover_core=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    tauri::Builder::default()
        // First: a second launch on the same data folder hands over to the running one, which
        // comes forward, and exits before opening anything. (On another session bus it cannot
        // see the first: the data folder's lock then refuses it, see state.rs.)
        .plugin(single_instance())
        // The save dialog of exports, used from Rust only (the UI is granted nothing of it).
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| {
            let data_dir = state::data_dir(app.path().app_data_dir().ok());
            let state = state::AppState::open(&data_dir, launched);
            // The device token lives only in the OS keyring (Secret Service, Keychain,
            // Credential Manager).
            let secrets: Arc<dyn SecretStore> = Arc::new(KeyringStore::new());
            let sync = state.core().ok().map(|core| {
                sync_service::backup_if_due(Arc::clone(&core));
                SyncService::start(core, Arc::clone(&secrets), app.handle().clone())
            });
            app.manage(state);
            app.manage(SyncHandle::started(sync));
            app.manage(Secrets(secrets));
            if let Some(window) = app.get_webview_window("main") {
                webview::tune(&window)?;
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_status,
            commands::app::set_language,
            commands::app::ui_ready,
            commands::reading::list_manual,
            commands::reading::open_item,
            commands::reading::set_bookmark,
            commands::reading::list_bookmarks,
            commands::reading::list_recent,
            commands::checklists::list_checklists,
            commands::checklists::get_checklist,
            commands::checklists::set_step_done,
            commands::checklists::set_step_note,
            commands::feedback::get_feedback,
            commands::feedback::set_feedback_useful,
            commands::feedback::set_feedback_missing,
            commands::library::list_library,
            commands::library::library_facets,
            commands::search::search,
            commands::sync::sync_status,
            commands::sync::sign_in,
            commands::sync::sign_out,
            commands::sync::change_password,
            commands::sync::forget_device,
            commands::sync::sync_now,
            commands::sync_files::save_sync_file,
            commands::sync_files::load_sync_reply,
            commands::sync_files::bandwidth_usage,
            commands::sync_files::set_bandwidth_settings,
            commands::sync_files::allow_deferred_traffic,
            commands::sync::use_relay,
            commands::sync::find_relays,
            commands::sync::clear_relay,
            commands::sync::network_changed,
            commands::sync::list_outbox,
            commands::sync::list_conflicts,
            commands::sync::list_rejected,
            commands::sync::dismiss_rejected,
            commands::sync::resolve_conflict,
            commands::reports::list_report_forms,
            commands::reports::list_reports,
            commands::reports::create_report,
            commands::reports::open_report,
            commands::reports::set_report_answer,
            commands::reports::clear_report_answer,
            commands::reports::add_report_row,
            commands::reports::remove_report_row,
            commands::reports::move_report_row,
            commands::reports::export_report,
            commands::report_files::attachment_limits,
            commands::report_files::attach_report_file,
            commands::report_files::report_files,
            commands::report_files::open_report_file,
            commands::report_files::save_report_file,
            commands::report_sharing::report_assignments,
            commands::report_sharing::assign_report_section,
            commands::report_sharing::submit_report,
            commands::forum::forum_categories,
            commands::forum::forum_threads,
            commands::forum::forum_thread,
            commands::forum::forum_new_thread,
            commands::forum::forum_reply,
            commands::forum::forum_edit_post,
            commands::forum::forum_withdraw_post,
            commands::forum::forum_resolve_conflict,
            commands::forum::forum_draft,
            commands::forum::forum_save_draft,
            commands::forum::forum_clear_draft,
            commands::forum::forum_search,
            commands::forum::directory,
            commands::forum::set_my_contact,
            commands::forum::list_events,
            commands::forum::register_for_event,
            commands::forum::forum_home_notice,
            commands::forum::acknowledge_forum_notice,
            commands::forum::open_external_link,
            commands::forum::forum_retention,
            commands::forum::set_forum_retention,
            commands::recovery::recover_database,
            commands::recovery::list_backups,
            commands::recovery::restore_backup,
        ])
        .run(tauri::generate_context!())
        .expect("error while running Stopover");
}

/// The single-instance plugin, one instance per data folder: on Linux its D-Bus name carries
/// a digest of `STOPOVER_DATA_DIR` when that is set (tests and portable installs run side by
/// side on other folders); the default folder keeps the app's own name.
fn single_instance() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    let builder = tauri_plugin_single_instance::Builder::new().callback(|app, _args, _cwd| {
        tracing::info!("another launch on this data folder: bringing this window forward");
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    });
    #[cfg(target_os = "linux")]
    let builder = match state::data_dir_override() {
        Some(dir) => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::path::absolute(&dir).unwrap_or(dir).hash(&mut h);
            builder.dbus_id(format!("org.stopover.app.data_{:016x}", h.finish()))
        }
        None => builder,
    };
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::command_names::COMMANDS;

    /// Every named command has a handler here and a grant in the main window's capability,
    /// and nothing else is granted: the three lists cannot drift apart.
    #[test]
    fn commands_handlers_and_grants_agree() {
        let main = include_str!("main.rs");
        let handlers: Vec<&str> = main
            .lines()
            .filter_map(|l| l.trim().strip_prefix("commands::"))
            .filter_map(|l| l.trim_end_matches(',').rsplit("::").next())
            .collect();
        let mut named: Vec<&str> = COMMANDS.to_vec();
        let mut registered = handlers.clone();
        named.sort_unstable();
        registered.sort_unstable();
        assert_eq!(
            named, registered,
            "command_names.rs and generate_handler! differ"
        );

        let capability: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main.json")).unwrap();
        let mut granted: Vec<String> = capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| {
                p.as_str()?
                    .strip_prefix("allow-")
                    .map(|s| s.replace('-', "_"))
            })
            .collect();
        granted.sort_unstable();
        let expected: Vec<String> = named.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            granted, expected,
            "capabilities/main.json grants other commands"
        );
    }
}
