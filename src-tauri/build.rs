// Generates `allow-<command>` permissions for exactly the app's own commands; the main
// window's capability (capabilities/main.json) grants those and nothing else.
include!("src/command_names.rs");

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
