//! Synced records on the server: how they are stored ([`feed`]) and the one small trait each
//! record kind implements ([`KindRules`]) beside its domain — `checklists`, `reports::kinds`,
//! `forum::kinds`. The push engine (`crate::sync::push`) knows kinds only through the trait;
//! `crate::sync::kinds` says which rules belong to which kind.

pub mod feed;

use rusqlite::Connection;
use stopover_protocol::{Operation, RecordKind, Refusal};

use crate::auth::policy::SyncScope;
use crate::error::Result;

/// What one record kind adds to the shape check every kind gets
/// (`stopover_protocol::validate_operation`) and the version check every field gets.
pub trait KindRules: Sync {
    fn kind(&self) -> RecordKind;

    /// Why the caller may not make this change, if they may not: checked after the shape
    /// check and before the version check, so a refused change never becomes a conflict.
    fn refusal(
        &self,
        _conn: &Connection,
        _scope: &SyncScope,
        _op: &Operation,
    ) -> Result<Option<Refusal>> {
        Ok(None)
    }

    /// What the server does once the change is applied, in the same transaction (e.g. a new
    /// post gets its author and date).
    fn applied(&self, _conn: &Connection, _scope: &SyncScope, _op: &Operation) -> Result<()> {
        Ok(())
    }
}
