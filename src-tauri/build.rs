// Generates `allow-<command>` permissions for exactly the app's own commands; the main
// window's capability (capabilities/main.json) grants those and nothing else.
fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "app_status",
            "set_language",
            "ui_ready",
            "list_manual",
            "open_item",
            "set_bookmark",
            "list_bookmarks",
            "list_recent",
            "list_checklists",
            "get_checklist",
            "set_step_done",
            "set_step_note",
            "list_library",
            "library_facets",
            "search",
            "sync_status",
            "sign_in",
            "sign_out",
            "forget_device",
            "sync_now",
            "network_changed",
            "list_outbox",
            "list_conflicts",
            "list_rejected",
            "resolve_conflict",
            "list_report_forms",
            "list_reports",
            "create_report",
            "open_report",
            "set_report_answer",
            "clear_report_answer",
            "add_report_row",
            "remove_report_row",
            "move_report_row",
            "export_report",
        ]),
    ))
    .expect("failed to run tauri-build");
}
