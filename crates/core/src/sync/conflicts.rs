//! Conflicts (two edits of one field, both kept for a person to choose) and refused changes.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::outbox::{FieldRef, delete_ops_on_field, insert_op, note_server_field};
use super::records;
use crate::{Core, Error, Result};

/// A person's choice for a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Keep this device's value: it is sent again, based on the server's version.
    KeepMine,
    /// Take the server's value: it replaces the local one.
    TakeTheirs,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SyncConflict {
    pub kind: String,
    pub entity_id: String,
    pub field: String,
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

/// Conflicts waiting for a person, oldest first.
pub fn conflicts(core: &Core) -> Result<Vec<SyncConflict>> {
    let conn = core.conn();
    let mut stmt = conn.prepare(
        "SELECT kind, entity_id, field, local_value_json, server_value_json, server_version, created_at
         FROM sync_conflict ORDER BY created_at, kind, entity_id, field",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(SyncConflict {
            kind: r.get(0)?,
            entity_id: r.get(1)?,
            field: r.get(2)?,
            local_value: parse(&r.get::<_, String>(3)?),
            server_value: parse(&r.get::<_, String>(4)?),
            server_version: r.get::<_, i64>(5)? as u64,
            created_at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Settles a conflict in one transaction. [`Resolution::KeepMine`] queues the local value
/// based on the server's version (it goes out with the next sync); [`Resolution::TakeTheirs`]
/// writes the server's value into the local table. Either way the conflict is gone.
pub fn resolve_conflict(
    core: &Core,
    kind: &str,
    entity_id: &str,
    field: &str,
    choice: Resolution,
) -> Result<()> {
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
            records::write_local(&tx, kind, entity_id, field, &local)?;
            insert_op(&tx, f, Some(server_version), &local)?;
        }
        Resolution::TakeTheirs => {
            records::write_local(&tx, kind, entity_id, field, &server)?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// A change the server refused for good, with its reason.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RejectedOperation {
    pub op_id: String,
    pub kind: String,
    pub entity_id: String,
    pub field: String,
    pub value: Value,
    pub reason: String,
    pub created_at: String,
}

/// Refused changes, oldest first.
pub fn rejected(core: &Core) -> Result<Vec<RejectedOperation>> {
    let conn = core.conn();
    let mut stmt = conn.prepare(
        "SELECT op_id, kind, entity_id, field, value_json, reason, created_at FROM sync_rejected ORDER BY created_at, op_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(RejectedOperation {
            op_id: r.get(0)?,
            kind: r.get(1)?,
            entity_id: r.get(2)?,
            field: r.get(3)?,
            value: parse(&r.get::<_, String>(4)?),
            reason: r.get(5)?,
            created_at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Removes a refused change from the list once the person has read it.
pub fn dismiss_rejected(core: &Core, op_id: &str) -> Result<()> {
    let n = core
        .conn()
        .execute("DELETE FROM sync_rejected WHERE op_id = ?1", [op_id])?;
    if n == 0 {
        return Err(Error::NotFound(format!("refused change `{op_id}`")));
    }
    Ok(())
}
