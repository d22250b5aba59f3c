//! Applying pulled changes to the local tables.

use rusqlite::params;
use serde::Serialize;
use stopover_protocol::{PullResponse, RecordKind};

use super::kinds;
use super::outbox::{FieldRef, has_queued_op, known_version, note_server_field};
use super::state;
use crate::{Core, Result};

/// What one pulled page did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PullSummary {
    /// Changes in the page.
    pub received: u32,
    /// Of those, written into the local tables.
    pub applied_locally: u32,
    /// Newer than what this device knew, but held back: a local edit of the field is queued
    /// or a conflict waits on it (the server decides when the edit is pushed).
    pub held_back: u32,
}

/// Changes applied per transaction: a page (up to 500 changes, 1 MiB) is applied in short
/// transactions, so a save made meanwhile (a tick, an answer) waits milliseconds, not the
/// whole page.
const CHANGES_PER_TRANSACTION: usize = 24;

/// Applies one page of pulled changes and stores its cursor, in short transactions of
/// [`CHANGES_PER_TRANSACTION`] (the cursor with the last). A stop in between leaves the
/// cursor before the page: the page comes again, and the changes already applied are known
/// by their versions and change nothing. For each change newer than the version this
/// device knows of its field:
/// - the field's server version (and value) is recorded;
/// - if a conflict waits on the field, its server side is updated (and it is settled when the
///   two sides become equal);
/// - else, if an operation is queued for the field, the local value is kept (the local edit
///   goes to the server, which decides);
/// - else the value is written into the local table.
///
/// Changes this device already knows (its own applied operations, or older versions) change
/// nothing. Changes of unknown record kinds are skipped with a warning.
pub fn apply_pull(core: &Core, page: &PullResponse) -> Result<PullSummary> {
    apply_pull_at(core, page, state::PULL_CURSOR)
}

/// [`apply_pull`] storing the page's cursor under `cursor_key`: [`state::PULL_CURSOR`], or
/// [`state::COMMUNITY_CURSOR`] for a community page served by a workshop relay.
pub(crate) fn apply_pull_at(
    core: &Core,
    page: &PullResponse,
    cursor_key: &str,
) -> Result<PullSummary> {
    // Posts are rendered before the lock: a page of hostile posts never holds up a tick.
    let _rendered = crate::forum::sync::prerender(&page.changes);
    let mut summary = PullSummary::default();
    let mut chunks = page.changes.chunks(CHANGES_PER_TRANSACTION).peekable();
    if chunks.peek().is_none() {
        let conn = core.conn();
        state::set(&conn, cursor_key, &page.cursor.to_string())?;
        return Ok(summary);
    }
    while let Some(chunk) = chunks.next() {
        let mut conn = core.conn();
        let tx = conn.transaction()?;
        apply_changes(core, &tx, chunk, &mut summary)?;
        if chunks.peek().is_none() {
            state::set(&tx, cursor_key, &page.cursor.to_string())?;
        }
        tx.commit()?;
        drop(conn);
        // The lock is not fair: let a save that waits for it in before the next chunk.
        std::thread::yield_now();
    }
    Ok(summary)
}

fn apply_changes(
    core: &Core,
    tx: &rusqlite::Transaction,
    changes: &[stopover_protocol::Change],
    summary: &mut PullSummary,
) -> Result<()> {
    for change in changes {
        summary.received += 1;
        if RecordKind::from_name(&change.entity.kind).is_none() {
            tracing::warn!(kind = %change.entity.kind, "sync: skipping a change of a record kind this version does not know");
            continue;
        }
        let f = FieldRef::new(&change.entity.kind, &change.entity.id, &change.field);
        if change.version <= known_version(tx, f)? {
            // Already known (e.g. our own operation, recorded when its answer came).
            note_server_field(tx, f, change.version, Some(&change.value))?;
            continue;
        }
        note_server_field(tx, f, change.version, Some(&change.value))?;
        let value_json = change.value.to_string();
        let in_conflict = tx.execute(
            "UPDATE sync_conflict SET server_value_json = ?4, server_version = ?5
             WHERE kind = ?1 AND entity_id = ?2 AND field = ?3",
            params![
                f.kind,
                f.entity_id,
                f.field,
                value_json,
                change.version as i64
            ],
        )?;
        if in_conflict > 0 {
            // Another device may have made the same choice: then there is nothing to ask.
            tx.execute(
                "DELETE FROM sync_conflict WHERE kind = ?1 AND entity_id = ?2 AND field = ?3 AND local_value_json = server_value_json",
                params![f.kind, f.entity_id, f.field],
            )?;
            summary.held_back += 1;
        } else if has_queued_op(tx, f)? {
            summary.held_back += 1;
        } else if kinds::write(core, tx, f.kind, f.entity_id, f.field, &change.value)? {
            summary.applied_locally += 1;
        }
    }
    Ok(())
}
