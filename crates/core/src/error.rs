//! The one error type of stopover-core. Each variant has a stable `code` the UI can switch on.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    DatabaseTooNew { path: PathBuf, found: i64, supported: i64 },

    #[error("cannot use the data folder {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },

    #[error("content pack: {0}")]
    Pack(#[from] crate::content::PackError),

    #[error("not found: {0}")]
    NotFound(String),

    #[error("{0}")]
    InvalidInput(String),
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
            Error::NotFound(_) => "not_found",
            Error::InvalidInput(_) => "invalid_input",
        }
    }
}
