//! stopover-core: everything Stopover does that touches disk or the network.
//! No Tauri here: the desktop app is a thin command layer over [`Core`].

pub mod clock;
pub mod content;
mod core;
pub mod error;
pub mod forum;
mod record_kinds;
pub mod reports;
pub mod secrets;
pub mod store;
pub mod sync;
pub mod user;

pub use crate::core::{ContentStatus, Core};
pub use error::{Error, ErrorCode, ErrorReport, Result};
pub use stopover_protocol::RecordKind;

/// A language of the app and its content pack, as the UI names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Fr,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Fr, Lang::Es];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Es => "es",
        }
    }

    /// The language of a stored code, English for anything else.
    pub fn from_code(code: &str) -> Lang {
        Lang::ALL
            .into_iter()
            .find(|l| l.code() == code)
            .unwrap_or(Lang::En)
    }
}

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
            Error::invalid(
                ErrorCode::UnknownLanguage,
                format!("unknown language `{lang}` (expected en, fr or es)"),
            )
            .with("lang", lang)
        })
}
