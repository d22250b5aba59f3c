//! The #[tauri::command] layer: argument checking and hand-off to stopover-core, nothing more.

pub mod app;
pub mod checklists;
pub mod forum;
pub mod library;
pub mod reading;
pub mod report_sharing;
pub mod reports;
pub mod search;
pub mod sync;
pub mod sync_files;
