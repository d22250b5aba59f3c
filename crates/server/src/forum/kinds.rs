//! The community record kinds' rules: who may write a post, hide it, lock a thread, share a
//! contact card, register for an event. Categories and events themselves are published by
//! the Secretariat (the shape check refuses them from clients).

use rusqlite::Connection;
use stopover_protocol::{Operation, RecordKind, Refusal};

use super::{directory, events, posts, today};
use crate::accounts::store as accounts;
use crate::auth::policy::SyncScope;
use crate::error::Result;
use crate::records::{KindRules, nothing_after};

pub static KINDS: &[KindRules] = &[
    KindRules::plain(RecordKind::ForumCategory),
    KindRules {
        kind: RecordKind::ForumPost,
        refuse: post_refusal,
        after_apply: stamp_new_post,
    },
    KindRules {
        kind: RecordKind::ForumThread,
        refuse: thread_refusal,
        after_apply: nothing_after,
    },
    KindRules {
        kind: RecordKind::Profile,
        refuse: profile_refusal,
        after_apply: nothing_after,
    },
    KindRules::plain(RecordKind::Event),
    KindRules {
        kind: RecordKind::EventRegistration,
        refuse: registration_refusal,
        after_apply: nothing_after,
    },
];

/// Writing a post's content (creating or editing it) or hiding it.
fn post_refusal(conn: &Connection, scope: &SyncScope, op: &Operation) -> Result<Option<Refusal>> {
    let caller = accounts::get_by_id(conn, scope.account_id)?;
    match op.field.as_str() {
        "content" => posts::content_refusal(conn, &caller, op),
        "hidden" => posts::hide_refusal(conn, &caller, &op.entity.id),
        _ => Ok(None), // refused by the shape check already
    }
}

/// A new post gets its author and date (`meta`).
fn stamp_new_post(conn: &Connection, scope: &SyncScope, op: &Operation) -> Result<()> {
    if op.field == "content" {
        posts::stamp_if_new(conn, scope.account_id, op)?;
    }
    Ok(())
}

/// Locking or unlocking a thread.
fn thread_refusal(conn: &Connection, scope: &SyncScope, op: &Operation) -> Result<Option<Refusal>> {
    let caller = accounts::get_by_id(conn, scope.account_id)?;
    posts::lock_refusal(conn, &caller, &op.entity.id)
}

/// Sharing a contact card.
fn profile_refusal(
    conn: &Connection,
    scope: &SyncScope,
    op: &Operation,
) -> Result<Option<Refusal>> {
    let caller = accounts::get_by_id(conn, scope.account_id)?;
    Ok(directory::shared_refusal(&caller, &op.entity.id))
}

fn registration_refusal(
    conn: &Connection,
    scope: &SyncScope,
    op: &Operation,
) -> Result<Option<Refusal>> {
    events::registration_refusal(conn, scope, op, &today())
}
