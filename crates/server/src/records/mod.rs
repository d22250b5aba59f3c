//! Synced records on the server: how they are stored ([`feed`]) and the rules of each record
//! kind ([`KindRules`]), listed by its domain — `checklists::KINDS`, `reports::kinds::KINDS`,
//! `forum::kinds::KINDS`. The push engine (`crate::sync::push`) knows kinds only through
//! these rules; `crate::sync::kinds` joins the lists.

pub mod feed;

use rusqlite::Connection;
use stopover_protocol::{Operation, RecordKind, Refusal};

use crate::auth::policy::SyncScope;
use crate::error::Result;

/// Why the caller may not make a change, if they may not.
pub type RefusalRule = fn(&Connection, &SyncScope, &Operation) -> Result<Option<Refusal>>;
/// What the server does once a change is applied, in the same transaction.
pub type AppliedRule = fn(&Connection, &SyncScope, &Operation) -> Result<()>;

/// What one record kind adds to the shape check every kind gets
/// (`stopover_protocol::validate_operation`) and the version check every field gets. Each
/// domain lists its kinds' rules beside its tables.
pub struct KindRules {
    pub kind: RecordKind,
    /// Checked after the shape check and before the version check, so a refused change
    /// never becomes a conflict.
    pub refuse: RefusalRule,
    /// E.g. a new post gets its author and date.
    pub after_apply: AppliedRule,
}

impl KindRules {
    /// Rules of a kind with nothing beyond the shape and version checks.
    pub const fn plain(kind: RecordKind) -> KindRules {
        KindRules {
            kind,
            refuse: no_refusal,
            after_apply: nothing_after,
        }
    }

    pub fn refusal(
        &self,
        conn: &Connection,
        scope: &SyncScope,
        op: &Operation,
    ) -> Result<Option<Refusal>> {
        (self.refuse)(conn, scope, op)
    }

    pub fn applied(&self, conn: &Connection, scope: &SyncScope, op: &Operation) -> Result<()> {
        (self.after_apply)(conn, scope, op)
    }
}

pub fn no_refusal(_: &Connection, _: &SyncScope, _: &Operation) -> Result<Option<Refusal>> {
    Ok(None)
}

pub fn nothing_after(_: &Connection, _: &SyncScope, _: &Operation) -> Result<()> {
    Ok(())
}
