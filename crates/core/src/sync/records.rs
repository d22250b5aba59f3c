//! The bridge between synced fields and the local tables that hold them. Each record kind of
//! the protocol ([`RecordKind`]) maps here to its table; adding a kind means adding its arms.
//! The national report's kinds live with the reports (`reports::sync`), the community's
//! (forum, directory, events) with the forum (`forum::sync`).

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use stopover_protocol::RecordKind;

use crate::Result;

/// The entity id of a checklist step's progress: `<checklist>/<step>`.
pub fn checklist_entity_id(checklist_id: &str, step_id: &str) -> String {
    format!("{checklist_id}/{step_id}")
}

fn split_checklist_id(entity_id: &str) -> Option<(&str, &str)> {
    entity_id
        .split_once('/')
        .filter(|(list, step)| !list.is_empty() && !step.is_empty())
}

/// Writes a value that came from the server (a pull, or a person taking the server's side of
/// a conflict) into the local table. Queues nothing. Returns false (and logs) when the value
/// does not fit: an unknown kind, a malformed id or a value of the wrong type.
pub(crate) fn write_local(
    conn: &Connection,
    kind: &str,
    entity_id: &str,
    field: &str,
    value: &Value,
) -> Result<bool> {
    match RecordKind::from_name(kind) {
        Some(RecordKind::ChecklistProgress) => {}
        Some(community_kind) if community_kind.is_community() => {
            return crate::forum::sync::write_local(conn, community_kind, entity_id, field, value);
        }
        Some(report_kind) => {
            return crate::reports::sync::write_local(conn, report_kind, entity_id, field, value);
        }
        None => {
            tracing::warn!(
                kind,
                entity_id,
                field,
                "sync: ignoring a change of an unknown record kind"
            );
            return Ok(false);
        }
    }
    let Some((checklist_id, step_id)) = split_checklist_id(entity_id) else {
        tracing::warn!(
            kind,
            entity_id,
            "sync: ignoring a change with a malformed entity id"
        );
        return Ok(false);
    };
    let column = match (field, value) {
        ("done", Value::Bool(_)) => "done",
        ("note", Value::String(_)) => "note",
        _ => {
            tracing::warn!(
                kind,
                entity_id,
                field,
                "sync: ignoring a value of the wrong type"
            );
            return Ok(false);
        }
    };
    let sql_value: rusqlite::types::Value = match value {
        Value::Bool(b) => i64::from(*b).into(),
        Value::String(s) => s.clone().into(),
        _ => unreachable!("checked above"),
    };
    conn.execute(
        &format!(
            "INSERT INTO checklist_progress (checklist_id, step_id, {column}, updated_at)
             VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (checklist_id, step_id) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at"
        ),
        params![checklist_id, step_id, sql_value],
    )?;
    Ok(true)
}

/// The local value of one synced field, `None` if the record does not exist here.
pub fn read_local(
    conn: &Connection,
    kind: &str,
    entity_id: &str,
    field: &str,
) -> Result<Option<Value>> {
    let kind = RecordKind::from_name(kind);
    if let Some(report_kind) = kind.filter(|k| k.is_report()) {
        return crate::reports::sync::read_local(conn, report_kind, entity_id, field);
    }
    if let Some(community_kind) = kind.filter(|k| k.is_community()) {
        return crate::forum::sync::read_local(conn, community_kind, entity_id, field);
    }
    let (Some(RecordKind::ChecklistProgress), Some((checklist_id, step_id))) =
        (kind, split_checklist_id(entity_id))
    else {
        return Ok(None);
    };
    let row: Option<(bool, String)> = conn
        .query_row(
            "SELECT done, note FROM checklist_progress WHERE checklist_id = ?1 AND step_id = ?2",
            params![checklist_id, step_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.and_then(|(done, note)| match field {
        "done" => Some(Value::Bool(done)),
        "note" => Some(Value::String(note)),
        _ => None,
    }))
}

/// Every local field that differs from its default, as (kind, entity id, field, value): what
/// a first sign-in queues so work done before it reaches the account. Defaults (not done, no
/// note) are left out: they are what a field that never existed means anyway. Report answers
/// and assignments of open drafts come last.
pub(crate) fn non_default_fields(
    conn: &Connection,
) -> Result<Vec<(&'static str, String, String, Value)>> {
    let mut stmt = conn.prepare(
        "SELECT checklist_id, step_id, done, note FROM checklist_progress
         WHERE done = 1 OR note <> '' ORDER BY updated_at, checklist_id, step_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let kind = RecordKind::ChecklistProgress.name();
    let mut out = Vec::new();
    for row in rows {
        let (checklist_id, step_id, done, note) = row?;
        let entity = checklist_entity_id(&checklist_id, &step_id);
        if done {
            out.push((kind, entity.clone(), "done".into(), Value::Bool(true)));
        }
        if !note.is_empty() {
            out.push((kind, entity, "note".into(), Value::String(note)));
        }
    }
    for (kind, entity, field, value) in crate::reports::sync::local_fields(conn)? {
        out.push((kind.name(), entity, field, value));
    }
    Ok(out)
}
