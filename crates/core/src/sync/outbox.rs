//! The outbox: local changes waiting for the server's answer, and what is known of the
//! server's version of each field (`sync_field`).
//!
//! Invariants:
//! - every local change to a synced field queues its operation in the transaction of the
//!   change ([`record_change`] / [`enqueue`]);
//! - an operation never sent may be updated in place by a later edit (coalescing); one that was
//!   ever sent never is: the server may already hold it under its id;
//! - for each field, only the oldest queued operation has a known `base_version`; later ones
//!   wait (`NULL`) until the answer to the earlier one gives them their base;
//! - an operation leaves the outbox only in the transaction that stores the server's answer
//!   ([`apply_push_results`]).

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use stopover_protocol::{EntityRef, Operation, Outcome, PushResponse, RecordKind};

use super::kinds::{self, Subject};
use super::state::{self, NOW};
use crate::{Core, Error, Result};

/// One field of one entity: the unit versions, operations and conflicts are kept per.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldRef<'a> {
    pub kind: &'a str,
    pub entity_id: &'a str,
    pub field: &'a str,
}

impl<'a> FieldRef<'a> {
    pub fn new(kind: &'a str, entity_id: &'a str, field: &'a str) -> Self {
        FieldRef {
            kind,
            entity_id,
            field,
        }
    }
}

/// The server version this device knows for a field (0: never seen).
pub(crate) fn known_version(conn: &Connection, f: FieldRef) -> Result<u64> {
    let v: Option<i64> = conn
        .query_row(
            "SELECT server_version FROM sync_field WHERE kind = ?1 AND entity_id = ?2 AND field = ?3",
            params![f.kind, f.entity_id, f.field],
            |r| r.get(0),
        )
        .optional()?;
    Ok(v.map_or(0, |v| v as u64))
}

/// The server's value of a field as last seen by this device, if any.
pub(crate) fn known_value(conn: &Connection, f: FieldRef) -> Result<Option<Value>> {
    let v: Option<Option<String>> = conn
        .query_row(
            "SELECT server_value_json FROM sync_field WHERE kind = ?1 AND entity_id = ?2 AND field = ?3",
            params![f.kind, f.entity_id, f.field],
            |r| r.get(0),
        )
        .optional()?;
    Ok(v.flatten()
        .and_then(|json| serde_json::from_str(&json).ok()))
}

/// Records that the server holds `value` at `version` for a field. Only ever moves forward: an
/// older version than the known one changes nothing.
pub(crate) fn note_server_field(
    conn: &Connection,
    f: FieldRef,
    version: u64,
    value: Option<&Value>,
) -> Result<()> {
    let json = value.map(Value::to_string);
    conn.execute(
        "INSERT INTO sync_field (kind, entity_id, field, server_version, server_value_json) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (kind, entity_id, field) DO UPDATE SET
             server_value_json = CASE
                 WHEN excluded.server_version > sync_field.server_version THEN excluded.server_value_json
                 WHEN excluded.server_version = sync_field.server_version THEN coalesce(sync_field.server_value_json, excluded.server_value_json)
                 ELSE sync_field.server_value_json END,
             server_version = max(sync_field.server_version, excluded.server_version)",
        params![f.kind, f.entity_id, f.field, version as i64, json],
    )?;
    Ok(())
}

/// Whether a conflict waits on this field.
pub(crate) fn has_conflict(conn: &Connection, f: FieldRef) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sync_conflict WHERE kind = ?1 AND entity_id = ?2 AND field = ?3)",
        params![f.kind, f.entity_id, f.field],
        |r| r.get(0),
    )?)
}

/// Whether any operation is queued for this field.
pub(crate) fn has_queued_op(conn: &Connection, f: FieldRef) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM outbox WHERE kind = ?1 AND entity_id = ?2 AND field = ?3)",
        params![f.kind, f.entity_id, f.field],
        |r| r.get(0),
    )?)
}

/// Gives the oldest queued operation of a field the base `version`, if it is waiting for one.
fn promote_next(conn: &Connection, f: FieldRef, version: u64) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET base_version = ?4
         WHERE base_version IS NULL AND op_id = (
             SELECT op_id FROM outbox WHERE kind = ?1 AND entity_id = ?2 AND field = ?3 ORDER BY seq LIMIT 1)",
        params![f.kind, f.entity_id, f.field, version as i64],
    )?;
    Ok(())
}

pub(crate) fn insert_op(
    conn: &Connection,
    f: FieldRef,
    base_version: Option<u64>,
    value: &Value,
) -> Result<String> {
    let op_id = uuid::Uuid::now_v7().to_string();
    conn.execute(
        &format!(
            "INSERT INTO outbox (op_id, seq, kind, entity_id, field, base_version, value_json, sent, created_at)
             VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM outbox), ?2, ?3, ?4, ?5, ?6, 0, {NOW})"
        ),
        params![op_id, f.kind, f.entity_id, f.field, base_version.map(|v| v as i64), value.to_string()],
    )?;
    Ok(op_id)
}

pub(crate) fn delete_ops_on_field(conn: &Connection, f: FieldRef) -> Result<()> {
    conn.execute(
        "DELETE FROM outbox WHERE kind = ?1 AND entity_id = ?2 AND field = ?3",
        params![f.kind, f.entity_id, f.field],
    )?;
    Ok(())
}

/// Queues a local change of one field. Call it inside the transaction that makes the change,
/// so the change and its operation are stored together or not at all.
///
/// - If the newest queued operation of that field was never sent, its value is replaced
///   (coalescing: only the latest value travels).
/// - Otherwise a new operation (UUIDv7) is added: based on the field's known server version
///   (0 if never seen) when nothing else is queued for the field, or with no base yet
///   ("after the earlier operation") when one is in flight.
/// - If a conflict waits on the field, the change updates the conflict's local side instead:
///   the person still chooses between their latest value and the server's — unless the edit
///   made the two equal, which settles it.
pub fn enqueue(
    tx: &Connection,
    kind: &str,
    entity_id: &str,
    field: &str,
    value: &Value,
) -> Result<()> {
    let f = FieldRef::new(kind, entity_id, field);
    let json = value.to_string();
    let in_conflict = tx.execute(
        "UPDATE sync_conflict SET local_value_json = ?4 WHERE kind = ?1 AND entity_id = ?2 AND field = ?3",
        params![kind, entity_id, field, json],
    )?;
    if in_conflict > 0 {
        // Edited back to the server's value: nothing left to choose (the field's server
        // version is already recorded with the conflict).
        tx.execute(
            "DELETE FROM sync_conflict WHERE kind = ?1 AND entity_id = ?2 AND field = ?3 AND local_value_json = server_value_json",
            params![kind, entity_id, field],
        )?;
        return Ok(());
    }
    let newest: Option<(String, bool)> = tx
        .query_row(
            "SELECT op_id, sent FROM outbox WHERE kind = ?1 AND entity_id = ?2 AND field = ?3 ORDER BY seq DESC LIMIT 1",
            params![kind, entity_id, field],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match newest {
        Some((op_id, false)) => {
            tx.execute(
                "UPDATE outbox SET value_json = ?2 WHERE op_id = ?1",
                params![op_id, json],
            )?;
        }
        Some((_, true)) => {
            insert_op(tx, f, None, value)?;
        }
        None => {
            let base = known_version(tx, f)?;
            insert_op(tx, f, Some(base), value)?;
        }
    }
    Ok(())
}

/// [`enqueue`], but only once sync is configured (an account has been signed in on this
/// device). Before that, local edits stay local; [`seed_outbox`] queues them at sign-in.
/// This is what the domain modules call in their transactions.
pub fn record_change(
    tx: &Connection,
    kind: RecordKind,
    entity_id: &str,
    field: &str,
    value: &Value,
) -> Result<()> {
    if state::is_configured(tx)? {
        enqueue(tx, kind.name(), entity_id, field, value)?;
    }
    Ok(())
}

/// Queues every synced field this device holds a non-default value for (done ticks, notes),
/// so work done before the first sign-in reaches the account. Returns how many fields were
/// queued. Called by [`sign_in`](super::sign_in) in its transaction when a new account or
/// server is set up; safe to call again (it coalesces with unsent operations).
pub fn seed_outbox(core: &Core, tx: &Connection) -> Result<usize> {
    let mut queued = 0;
    for kind in RecordKind::ALL {
        for (entity_id, field, value) in core.local_kind(kind).unsynced(tx)? {
            enqueue(tx, kind.name(), &entity_id, &field, &value)?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// An operation in the outbox, as the "waiting" page lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PendingOperation {
    pub op_id: String,
    /// Position on this device (older first).
    pub seq: i64,
    pub kind: RecordKind,
    pub entity_id: String,
    pub field: String,
    /// What it changes, in words, in the app's language.
    pub subject: Subject,
    /// `None`: waits for the answer to an earlier operation on the same field.
    pub base_version: Option<u64>,
    pub value: Value,
    /// Sent at least once (its answer may have been lost); never coalesced into.
    pub sent: bool,
    pub created_at: String,
}

fn parse_json(json: &str) -> Value {
    serde_json::from_str(json).unwrap_or(Value::Null)
}

/// Everything in the outbox, oldest first, each described in the app's language.
pub fn pending_operations(core: &Core) -> Result<Vec<PendingOperation>> {
    kinds::described(
        core,
        "SELECT kind, entity_id, field, op_id, seq, base_version, value_json, sent, created_at
         FROM outbox ORDER BY seq",
        |r, kind, subject| {
            Ok(PendingOperation {
                op_id: r.get(3)?,
                seq: r.get(4)?,
                kind,
                entity_id: r.get(1)?,
                field: r.get(2)?,
                subject,
                base_version: r.get::<_, Option<i64>>(5)?.map(|v| v as u64),
                value: parse_json(&r.get::<_, String>(6)?),
                sent: r.get(7)?,
                created_at: r.get(8)?,
            })
        },
    )
}

/// Picks the next push batch: up to `max` operations whose base version is known, oldest
/// first, at most one per field, and marks them sent — durably, before anything goes on the
/// wire, so an operation whose answer is lost is never coalesced into and is retried under the
/// same id (the server answers `duplicate`). Returns an empty batch when nothing can be sent.
pub fn next_batch(core: &Core, max: usize) -> Result<Vec<Operation>> {
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    // Defensive: the oldest operation of a field always has a base. Should one not (it cannot
    // happen through this module), base it on the known server version rather than stall.
    tx.execute(
        "UPDATE outbox SET base_version = coalesce((SELECT server_version FROM sync_field f
             WHERE f.kind = outbox.kind AND f.entity_id = outbox.entity_id AND f.field = outbox.field), 0)
         WHERE base_version IS NULL AND seq = (SELECT min(seq) FROM outbox o
             WHERE o.kind = outbox.kind AND o.entity_id = outbox.entity_id AND o.field = outbox.field)",
        [],
    )?;
    let mut batch = Vec::new();
    {
        let mut stmt = tx.prepare(
            "SELECT op_id, kind, entity_id, field, base_version, value_json FROM outbox
             WHERE base_version IS NOT NULL ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut fields = HashSet::new();
        while batch.len() < max {
            let Some(r) = rows.next()? else { break };
            let (kind, id, field): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
            if !fields.insert((kind.clone(), id.clone(), field.clone())) {
                continue;
            }
            batch.push(Operation {
                id: r.get(0)?,
                entity: EntityRef { kind, id },
                field,
                base_version: r.get::<_, i64>(4)? as u64,
                value: parse_json(&r.get::<_, String>(5)?),
            });
        }
    }
    {
        let mut mark = tx.prepare("UPDATE outbox SET sent = 1 WHERE op_id = ?1")?;
        for op in &batch {
            mark.execute([&op.id])?;
        }
    }
    tx.commit()?;
    Ok(batch)
}

/// Checks that a push answer has exactly one result per operation sent. Anything else is
/// [`Error::BadAnswer`] and nothing may leave the outbox.
pub fn check_push_response(sent: &[Operation], response: &PushResponse) -> Result<()> {
    if response.results.len() != sent.len() {
        return Err(Error::BadAnswer(format!(
            "{} results for {} operations sent",
            response.results.len(),
            sent.len()
        )));
    }
    let mut expected: HashSet<&str> = sent.iter().map(|op| op.id.as_str()).collect();
    for result in &response.results {
        if !expected.remove(result.id.as_str()) {
            return Err(Error::BadAnswer(format!(
                "a result for operation `{}`, which was not sent or answered twice",
                result.id
            )));
        }
    }
    Ok(())
}

/// What one push answer did to the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PushSummary {
    /// Applied now, or already applied earlier (duplicate).
    pub applied: u32,
    /// Of those, the duplicates (answers to retried operations).
    pub duplicates: u32,
    /// New conflicts waiting for a person.
    pub conflicts: u32,
    /// Conflicts whose two sides turned out equal: settled without asking.
    pub settled: u32,
    pub rejected: u32,
}

/// Stores the server's answer to one push, in one transaction:
/// - `applied` / `duplicate` → the operation leaves the outbox, the field's server version is
///   recorded, and the next operation on that field (if any) is based on it;
/// - `conflict` → the field's operations leave the outbox and a conflict keeps both values
///   (the local one: the latest queued) for a person to choose; when both values are equal
///   there is nothing to choose and no conflict is kept;
/// - `rejected` → the operation moves to `sync_rejected` with the server's reason; the next
///   operation on the field is based on the known server version, and if none is queued the
///   field shows the server's value again (when this device knows it), or its default when
///   the server never held it ([`LocalKind::revert`](super::kinds::LocalKind::revert)).
///
/// The answer must have one result per operation in `sent` ([`check_push_response`]), or
/// nothing changes. Results for operations no longer in the outbox are ignored.
pub fn apply_push_results(
    core: &Core,
    sent: &[Operation],
    response: &PushResponse,
) -> Result<PushSummary> {
    check_push_response(sent, response)?;
    apply_results(core, &response.results)
}

/// [`apply_push_results`] for answers already known to be the server's and to match what was
/// sent: a sync file's reply, whose signature says so (and whose results for operations no
/// longer queued, e.g. on a second import, are ignored).
pub(crate) fn apply_results(
    core: &Core,
    results: &[stopover_protocol::OpResult],
) -> Result<PushSummary> {
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let mut summary = PushSummary::default();
    for result in results {
        let row: Option<(String, String, String, String)> = tx
            .query_row(
                "SELECT kind, entity_id, field, value_json FROM outbox WHERE op_id = ?1",
                [&result.id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((kind, entity_id, field, value_json)) = row else {
            tracing::debug!(op = %result.id, "sync: answer for an operation no longer queued");
            continue;
        };
        let f = FieldRef::new(&kind, &entity_id, &field);
        let value = parse_json(&value_json);
        match &result.outcome {
            Outcome::Applied { version } | Outcome::Duplicate { version } => {
                tx.execute("DELETE FROM outbox WHERE op_id = ?1", [&result.id])?;
                note_server_field(&tx, f, *version, Some(&value))?;
                promote_next(&tx, f, *version)?;
                summary.applied += 1;
                if matches!(result.outcome, Outcome::Duplicate { .. }) {
                    summary.duplicates += 1;
                }
            }
            Outcome::Conflict {
                server_value,
                server_version,
            } => {
                // The person's side is their latest edit of the field.
                let local_json: String = tx.query_row(
                    "SELECT value_json FROM outbox WHERE kind = ?1 AND entity_id = ?2 AND field = ?3 ORDER BY seq DESC LIMIT 1",
                    params![kind, entity_id, field],
                    |r| r.get(0),
                )?;
                let local = parse_json(&local_json);
                delete_ops_on_field(&tx, f)?;
                note_server_field(&tx, f, *server_version, Some(server_value))?;
                if &local == server_value {
                    summary.settled += 1;
                } else {
                    tx.execute(
                        &format!(
                            "INSERT INTO sync_conflict (kind, entity_id, field, local_value_json, server_value_json, server_version, created_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, {NOW})
                             ON CONFLICT (kind, entity_id, field) DO UPDATE SET
                                 local_value_json = excluded.local_value_json,
                                 server_value_json = excluded.server_value_json,
                                 server_version = excluded.server_version"
                        ),
                        params![kind, entity_id, field, local.to_string(), server_value.to_string(), *server_version as i64],
                    )?;
                    summary.conflicts += 1;
                }
            }
            Outcome::Rejected {
                code,
                params: refusal_params,
                reason,
            } => {
                tx.execute("DELETE FROM outbox WHERE op_id = ?1", [&result.id])?;
                let params_json = serde_json::to_string(refusal_params).map_err(Error::internal)?;
                tx.execute(
                    &format!(
                        "INSERT OR REPLACE INTO sync_rejected (op_id, kind, entity_id, field, value_json, reason, code, params_json, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, {NOW})"
                    ),
                    params![result.id, kind, entity_id, field, value_json, reason, code.as_str(), params_json],
                )?;
                let known = known_version(&tx, f)?;
                promote_next(&tx, f, known)?;
                if !has_queued_op(&tx, f)? && !has_conflict(&tx, f)? {
                    match known_value(&tx, f)? {
                        Some(server_value) => {
                            kinds::write(core, &tx, &kind, &entity_id, &field, &server_value)?;
                        }
                        // The server never held the field: back to its default, so the screen
                        // shows what the server holds (no refused owner, no refused place).
                        None if known == 0 => {
                            kinds::revert(core, &tx, &kind, &entity_id, &field)?;
                        }
                        None => {}
                    }
                }
                summary.rejected += 1;
            }
        }
    }
    tx.commit()?;
    Ok(summary)
}
