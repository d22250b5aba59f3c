//! The one error type of stopover-core. Each variant has a stable `code` the UI can switch on.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn wait_hint(retry_after: &Option<std::time::Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (it asked to wait {} s)", d.as_secs()),
        None => String::new(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),

    #[error(
        "the database at {path} was written by a newer version of Stopover (schema version {found}; \
         this version understands up to {supported}). Please update Stopover. Your data has not been changed."
    )]
    DatabaseTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("cannot use the data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("content pack: {0}")]
    Pack(#[from] crate::content::PackError),

    /// A content pack update that was not installed: its archive is unsigned, tampered with,
    /// signed by a key this app does not trust, or not a valid pack. The content in use stays.
    #[error(
        "the content pack update {version} was refused: {reason}. The content you have stays as it is."
    )]
    PackRefused { version: String, reason: String },

    #[error("not found: {0}")]
    NotFound(String),

    #[error("{0}")]
    InvalidInput(String),

    /// The OS keyring (or whatever [`crate::secrets::SecretStore`] is in use) failed.
    #[error("{0}")]
    Secrets(String),

    /// A server address this app will not talk to: plain `http://` to anything but this computer.
    #[error(
        "refusing to send your data unencrypted to {host}: use an https:// address \
         (plain http:// is only allowed to this computer, e.g. http://127.0.0.1)"
    )]
    InsecureUrl { host: String },

    /// The server could not be reached at all (no network, DNS, refused, reset, timed out).
    #[error("could not reach the server: {0}")]
    Network(String),

    /// Something answered, but not an e-community server speaking our protocol: typically a
    /// hotel or conference wifi login page (a "captive portal").
    #[error(
        "the address {url} did not answer like an e-community server ({reason}). On a hotel or conference wifi, open a web page in your browser to accept its terms first, then try again."
    )]
    NotOurServer { url: String, reason: String },

    /// Our server answered with something that is not a valid answer to the request (for example
    /// a truncated body). Nothing was changed; syncing again is safe.
    #[error(
        "the server's answer could not be understood ({0}); nothing was lost, syncing again is safe"
    )]
    BadAnswer(String),

    /// The device token is missing, revoked or expired: the person must sign in again. Queued
    /// changes are kept.
    #[error("sign-in needed: {}. Your changes waiting to be sent are kept.", .0.trim_end_matches('.'))]
    SignInRequired(String),

    /// The server is shedding load (429) or unavailable (503); try again after `retry_after`.
    #[error("the server is busy{}; sync will try again", wait_hint(.retry_after))]
    Busy {
        retry_after: Option<std::time::Duration>,
    },

    /// Any other refusal by the server, with its own code and message.
    #[error("the server answered {status}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
    },

    /// A sync is already running in this process.
    #[error("a sync is already running")]
    SyncInProgress,
}

impl Error {
    /// Stable machine-readable code, sent to the UI beside the message.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Sqlite(_) => "database",
            Error::Migration(_) => "migration",
            Error::DatabaseTooNew { .. } => "database_too_new",
            Error::DataDir { .. } => "data_dir",
            Error::Pack(_) => "content_pack",
            Error::PackRefused { .. } => "pack_refused",
            Error::NotFound(_) => "not_found",
            Error::InvalidInput(_) => "invalid_input",
            Error::Secrets(_) => "secrets",
            Error::InsecureUrl { .. } => "insecure_url",
            Error::Network(_) => "network",
            Error::NotOurServer { .. } => "not_our_server",
            Error::BadAnswer(_) => "bad_answer",
            Error::SignInRequired(_) => "sign_in_required",
            Error::Busy { .. } => "server_busy",
            Error::Server { .. } => "server",
            Error::SyncInProgress => "sync_in_progress",
        }
    }

    /// True for failures that may go away by themselves (network down, captive portal, server
    /// busy or failing): a background sync retries them with [`crate::sync::Backoff`]. False
    /// when a person has to act first (sign in, fix the address) or trying again cannot help.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Network(_)
            | Error::NotOurServer { .. }
            | Error::BadAnswer(_)
            | Error::Busy { .. } => true,
            Error::Server { status, .. } => *status >= 500 || *status == 408,
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                )
            }
            _ => false,
        }
    }
}
