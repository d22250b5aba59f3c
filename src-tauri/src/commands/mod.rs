//! The #[tauri::command] layer: argument checking and hand-off to stopover-core, nothing more.

pub mod app;
pub mod checklists;
pub mod feedback;
pub mod forum;
pub mod library;
pub mod reading;
pub mod recovery;
pub mod report_files;
pub mod report_sharing;
pub mod reports;
pub mod save;
pub mod search;
pub mod sync;
pub mod sync_files;
