//! Errors as the UI receives them: `{code, message}`.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    pub code: String,
    pub message: String,
}

impl CommandError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

impl From<stopover_core::Error> for CommandError {
    fn from(e: stopover_core::Error) -> Self {
        if matches!(
            e,
            stopover_core::Error::Sqlite(_) | stopover_core::Error::Migration(_)
        ) {
            tracing::error!(error = %e, "command failed");
        }
        Self::new(e.code(), e.to_string())
    }
}

pub type CommandResult<T> = Result<T, CommandError>;
