//! stopover-core: everything Stopover does that touches disk or the network.
//! No Tauri here: the desktop app is a thin command layer over [`Core`].

pub mod content;
mod core;
pub mod error;
pub mod forum;
pub mod reports;
pub mod secrets;
pub mod store;
pub mod sync;
pub mod user;

pub use crate::core::{ContentStatus, Core};
pub use error::{Error, Result};

/// The languages the app and its content pack speak. English is the reference.
pub const LANGUAGES: [&str; 3] = ["en", "fr", "es"];
pub const FALLBACK_LANGUAGE: &str = "en";

/// Checks a language code from the UI; anything unknown is an error, not a silent fallback.
pub fn check_language(lang: &str) -> Result<&'static str> {
    LANGUAGES
        .iter()
        .find(|l| **l == lang)
        .copied()
        .ok_or_else(|| {
            Error::InvalidInput(format!("unknown language `{lang}` (expected en, fr or es)"))
        })
}
