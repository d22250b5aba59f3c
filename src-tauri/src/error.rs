//! Errors as the UI receives them: a stable code with parameters (and the server's own code
//! when the server refused), which the UI words in the person's language; the English message
//! is for logs. The type is core's [`ErrorReport`], so its TypeScript comes from one place.

pub use stopover_core::ErrorReport as CommandError;
use stopover_core::{Error, ErrorCode};

pub type CommandResult<T> = Result<T, CommandError>;

/// Converts a core error for the UI, logging the ones that are bugs or damage.
pub fn report(e: Error) -> CommandError {
    if matches!(
        e.code(),
        ErrorCode::Database | ErrorCode::Migration | ErrorCode::Internal
    ) {
        tracing::error!(error = %e, "command failed");
    }
    CommandError::from(&e)
}

/// A background task that died: a bug, reported as `internal`.
pub fn internal(e: impl std::fmt::Display) -> CommandError {
    report(Error::internal(format!("background task failed: {e}")))
}
