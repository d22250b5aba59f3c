//! The community record kinds' rules: who may write a post, hide it, lock a thread, share a
//! contact card, register for an event. Categories and events themselves are published by
//! the Secretariat (the shape check refuses them from clients).

use rusqlite::Connection;
use stopover_protocol::{Operation, RecordKind, Refusal};

use super::{directory, events, posts, today};
use crate::accounts::store as accounts;
use crate::auth::policy::SyncScope;
use crate::error::Result;
use crate::records::KindRules;

pub struct ForumCategory;
pub struct ForumPost;
pub struct ForumThread;
pub struct Profile;
pub struct Event;
pub struct EventRegistration;

impl KindRules for ForumCategory {
    fn kind(&self) -> RecordKind {
        RecordKind::ForumCategory
    }
}

impl KindRules for Event {
    fn kind(&self) -> RecordKind {
        RecordKind::Event
    }
}

impl KindRules for ForumPost {
    fn kind(&self) -> RecordKind {
        RecordKind::ForumPost
    }

    fn refusal(
        &self,
        conn: &Connection,
        scope: &SyncScope,
        op: &Operation,
    ) -> Result<Option<Refusal>> {
        let caller = accounts::get_by_id(conn, scope.account_id)?;
        match op.field.as_str() {
            "content" => posts::content_refusal(conn, &caller, op),
            "hidden" => posts::hide_refusal(conn, &caller, &op.entity.id),
            _ => Ok(None), // refused by the shape check already
        }
    }

    /// A new post gets its author and date (`meta`).
    fn applied(&self, conn: &Connection, scope: &SyncScope, op: &Operation) -> Result<()> {
        if op.field == "content" {
            posts::stamp_if_new(conn, scope.account_id, op)?;
        }
        Ok(())
    }
}

impl KindRules for ForumThread {
    fn kind(&self) -> RecordKind {
        RecordKind::ForumThread
    }

    fn refusal(
        &self,
        conn: &Connection,
        scope: &SyncScope,
        op: &Operation,
    ) -> Result<Option<Refusal>> {
        let caller = accounts::get_by_id(conn, scope.account_id)?;
        posts::lock_refusal(conn, &caller, &op.entity.id)
    }
}

impl KindRules for Profile {
    fn kind(&self) -> RecordKind {
        RecordKind::Profile
    }

    fn refusal(
        &self,
        conn: &Connection,
        scope: &SyncScope,
        op: &Operation,
    ) -> Result<Option<Refusal>> {
        let caller = accounts::get_by_id(conn, scope.account_id)?;
        Ok(directory::shared_refusal(&caller, &op.entity.id))
    }
}

impl KindRules for EventRegistration {
    fn kind(&self) -> RecordKind {
        RecordKind::EventRegistration
    }

    fn refusal(
        &self,
        conn: &Connection,
        scope: &SyncScope,
        op: &Operation,
    ) -> Result<Option<Refusal>> {
        events::registration_refusal(conn, scope, op, &today())
    }
}
