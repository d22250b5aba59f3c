//! Conflicts (two edits of one field, both kept for a person to choose) and refused changes.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use stopover_protocol::{Params, RecordKind, RefusalCode};

use super::kinds::{self, Subject};
use super::outbox::{FieldRef, delete_ops_on_field, insert_op, note_server_field};
use crate::store::NOW;
use crate::{Core, Error, Result};

/// A person's choice for a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Keep this device's value: it is sent again, based on the server's version.
    KeepMine,
    /// Take the server's value: it replaces the local one.
    TakeTheirs,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncConflict {
    pub kind: RecordKind,
    pub entity_id: String,
    pub field: String,
    /// What it is, in words, in the app's language.
    pub subject: Subject,
    /// This device's latest value.
    pub local_value: Value,
    /// The server's value, and its version.
    pub server_value: Value,
    pub server_version: u64,
    pub created_at: String,
}

fn parse(json: &str) -> Value {
    serde_json::from_str(json).unwrap_or(Value::Null)
}

/// Conflicts waiting for a person, oldest first (of kinds this version knows).
pub fn conflicts(core: &Core) -> Result<Vec<SyncConflict>> {
    kinds::described(
        core,
        "SELECT kind, entity_id, field, local_value_json, server_value_json, server_version, created_at
         FROM sync_conflict ORDER BY created_at, kind, entity_id, field",
        |r, kind, subject| {
            Ok(SyncConflict {
                kind,
                entity_id: r.get(1)?,
                field: r.get(2)?,
                subject,
                local_value: parse(&r.get::<_, String>(3)?),
                server_value: parse(&r.get::<_, String>(4)?),
                server_version: r.get::<_, i64>(5)? as u64,
                created_at: r.get(6)?,
            })
        },
    )
}

/// Settles a conflict in one transaction. [`Resolution::KeepMine`] queues the local value
/// based on the server's version (it goes out with the next sync); [`Resolution::TakeTheirs`]
/// writes the server's value into the local table. Either way the conflict is gone.
pub fn resolve_conflict(
    core: &Core,
    kind: RecordKind,
    entity_id: &str,
    field: &str,
    choice: Resolution,
) -> Result<()> {
    let kind = kind.name();
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let f = FieldRef::new(kind, entity_id, field);
    let row: Option<(String, String, i64)> = tx
        .query_row(
            "SELECT local_value_json, server_value_json, server_version FROM sync_conflict
             WHERE kind = ?1 AND entity_id = ?2 AND field = ?3",
            params![kind, entity_id, field],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((local_json, server_json, server_version)) = row else {
        return Err(Error::NotFound(format!(
            "conflict on `{kind}` `{entity_id}` field `{field}`"
        )));
    };
    let (local, server, server_version) = (
        parse(&local_json),
        parse(&server_json),
        server_version as u64,
    );
    tx.execute(
        "DELETE FROM sync_conflict WHERE kind = ?1 AND entity_id = ?2 AND field = ?3",
        params![kind, entity_id, field],
    )?;
    note_server_field(&tx, f, server_version, Some(&server))?;
    delete_ops_on_field(&tx, f)?;
    match choice {
        Resolution::KeepMine => {
            kinds::write(core, &tx, kind, entity_id, field, &local)?;
            insert_op(&tx, f, Some(server_version), &local)?;
        }
        Resolution::TakeTheirs => {
            kinds::write(core, &tx, kind, entity_id, field, &server)?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Why the server refused a change: its stable code and parameters, for the app to word.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RefusalView {
    pub code: RefusalCode,
    pub params: Params,
}

impl RefusalView {
    /// From the stored columns; a code this version does not know reads as `malformed`.
    pub(crate) fn from_columns(code: &str, params_json: &str) -> RefusalView {
        RefusalView {
            code: serde_json::from_value(Value::String(code.to_string()))
                .unwrap_or(RefusalCode::Malformed),
            params: serde_json::from_str(params_json).unwrap_or_default(),
        }
    }
}

/// A change the server refused for good: what it was (in words), why, and the value sent.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RejectedOperation {
    pub op_id: String,
    pub kind: RecordKind,
    pub entity_id: String,
    pub field: String,
    pub subject: Subject,
    pub value: Value,
    pub refusal: RefusalView,
    /// The server's English reason, for logs.
    pub reason: String,
    pub created_at: String,
}

/// Refused changes not yet dismissed, oldest first (of kinds this version knows).
pub fn rejected(core: &Core) -> Result<Vec<RejectedOperation>> {
    kinds::described(
        core,
        "SELECT kind, entity_id, field, op_id, value_json, reason, code, params_json, created_at
         FROM sync_rejected WHERE dismissed_at IS NULL ORDER BY created_at, op_id",
        |r, kind, subject| {
            Ok(RejectedOperation {
                op_id: r.get(3)?,
                kind,
                entity_id: r.get(1)?,
                field: r.get(2)?,
                subject,
                value: parse(&r.get::<_, String>(4)?),
                refusal: RefusalView::from_columns(
                    &r.get::<_, String>(6)?,
                    &r.get::<_, String>(7)?,
                ),
                reason: r.get(5)?,
                created_at: r.get(8)?,
            })
        },
    )
}

/// Takes a refused change off the list once the person has read it. It stays in the log
/// (`sync_rejected` with `dismissed_at`), so nothing the person typed is ever deleted.
pub fn dismiss_rejected(core: &Core, op_id: &str) -> Result<()> {
    let n = core.conn().execute(
        &format!(
            "UPDATE sync_rejected SET dismissed_at = {NOW} WHERE op_id = ?1 AND dismissed_at IS NULL"
        ),
        [op_id],
    )?;
    if n == 0 {
        return Err(Error::NotFound(format!("refused change `{op_id}`")));
    }
    Ok(())
}
