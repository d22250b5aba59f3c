//! The synced records as the server stores them: one row per field (`field`: its value and
//! version) and the change feed every pull reads (`change`, in order). Every write of a
//! synced field goes through here, whoever makes it: a push, a submission, the Secretariat.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use stopover_protocol::Operation;

use crate::error::Result;

pub(crate) fn current_field(
    conn: &Connection,
    key: &str,
    op: &Operation,
) -> Result<Option<(Value, u64)>> {
    let row: Option<(String, i64)> = conn
        .query_row(
            "SELECT value, version FROM field WHERE scope = ?1 AND kind = ?2 AND entity_id = ?3 AND field = ?4",
            params![key, op.entity.kind, op.entity.id, op.field],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        Some((json, version)) => Ok(Some((serde_json::from_str(&json)?, version as u64))),
        None => Ok(None),
    }
}

/// Stores a pushed operation's value: in the feed under its author and the device that
/// pushed it (which pulls leave out for that device).
pub(crate) fn write_field(
    conn: &Connection,
    key: &str,
    author: i64,
    device: Option<&str>,
    op: &Operation,
    version: u64,
) -> Result<()> {
    insert_record(
        conn,
        key,
        Some(author),
        device,
        &op.entity.kind,
        &op.entity.id,
        &op.field,
        &op.value,
        version,
        &op.id,
    )
}

/// Stores a field's new value and version and adds it to the change feed of `key`'s scope.
#[allow(clippy::too_many_arguments)] // one row of each table, column by column
pub(crate) fn write_record(
    conn: &Connection,
    key: &str,
    author: i64,
    kind: &str,
    entity_id: &str,
    field: &str,
    value: &Value,
    version: u64,
    op_id: &str,
) -> Result<()> {
    insert_record(
        conn,
        key,
        Some(author),
        None,
        kind,
        entity_id,
        field,
        value,
        version,
        op_id,
    )
}

/// Writes a field in the server's own name (no account made it): the next version, a fresh
/// operation id, into the change feed of `key`'s scope. Returns the version written, or
/// `None` when the field already holds `value` (nothing new to pull).
pub(crate) fn write_server_record(
    conn: &Connection,
    key: &str,
    kind: &str,
    entity_id: &str,
    field: &str,
    value: &Value,
) -> Result<Option<u64>> {
    let current: Option<(String, i64)> = conn
        .query_row(
            "SELECT value, version FROM field WHERE scope = ?1 AND kind = ?2 AND entity_id = ?3 AND field = ?4",
            params![key, kind, entity_id, field],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let version = match current {
        Some((json, _)) if serde_json::from_str::<Value>(&json)? == *value => return Ok(None),
        Some((_, version)) => version as u64 + 1,
        None => 1,
    };
    let op_id = uuid::Uuid::now_v7().to_string();
    insert_record(
        conn, key, None, None, kind, entity_id, field, value, version, &op_id,
    )?;
    Ok(Some(version))
}

#[allow(clippy::too_many_arguments)] // one row of each table, column by column
fn insert_record(
    conn: &Connection,
    key: &str,
    author: Option<i64>,
    device: Option<&str>,
    kind: &str,
    entity_id: &str,
    field: &str,
    value: &Value,
    version: u64,
    op_id: &str,
) -> Result<()> {
    let value = value.to_string();
    let version = version as i64;
    conn.execute(
        "INSERT INTO field (scope, kind, entity_id, field, value, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (scope, kind, entity_id, field) DO UPDATE SET value = excluded.value, version = excluded.version",
        params![key, kind, entity_id, field, value, version],
    )?;
    conn.execute(
        "INSERT INTO change (scope, account_id, device_id, kind, entity_id, field, value, version, op_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![key, author, device, kind, entity_id, field, value, version, op_id],
    )?;
    Ok(())
}
