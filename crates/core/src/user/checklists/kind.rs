//! Checklist progress as a synced record kind: entity `<checklist>/<step>`, fields `done`
//! (true or false) and `note` (text), one person's, synced across their own devices.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use stopover_protocol::RecordKind;

use crate::Result;
use crate::store::NOW;
use crate::sync::kinds::{KindFns, Subject, never_revert, nothing_after};

/// The entity id of a checklist step's progress: `<checklist>/<step>`.
pub fn entity_id(checklist_id: &str, step_id: &str) -> String {
    format!("{checklist_id}/{step_id}")
}

fn split_entity_id(entity_id: &str) -> Option<(&str, &str)> {
    entity_id
        .split_once('/')
        .filter(|(list, step)| !list.is_empty() && !step.is_empty())
}

/// Checklist progress, the one record kind of this domain.
pub(crate) static KINDS: &[KindFns] = &[KindFns {
    kind: RecordKind::ChecklistProgress,
    write,
    read,
    revert: never_revert,
    unsynced,
    describe,
    after_pull: nothing_after,
}];

fn write(
    conn: &Connection,
    _: RecordKind,
    entity_id: &str,
    field: &str,
    value: &Value,
) -> Result<bool> {
    let Some((checklist_id, step_id)) = split_entity_id(entity_id) else {
        tracing::warn!(
            entity_id,
            "sync: ignoring a checklist change with a malformed id"
        );
        return Ok(false);
    };
    let (column, sql_value): (&str, rusqlite::types::Value) = match (field, value) {
        ("done", Value::Bool(b)) => ("done", i64::from(*b).into()),
        ("note", Value::String(s)) => ("note", s.clone().into()),
        _ => {
            tracing::warn!(
                entity_id,
                field,
                "sync: ignoring a checklist value of the wrong type"
            );
            return Ok(false);
        }
    };
    conn.execute(
        &format!(
            "INSERT INTO checklist_progress (checklist_id, step_id, {column}, updated_at)
             VALUES (?1, ?2, ?3, {NOW})
             ON CONFLICT (checklist_id, step_id) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at"
        ),
        params![checklist_id, step_id, sql_value],
    )?;
    Ok(true)
}

fn read(conn: &Connection, _: RecordKind, entity_id: &str, field: &str) -> Result<Option<Value>> {
    let Some((checklist_id, step_id)) = split_entity_id(entity_id) else {
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

/// Done ticks and notes; defaults (not done, no note) are what a field that never existed
/// means anyway.
fn unsynced(conn: &Connection, _: RecordKind) -> Result<Vec<(String, String, Value)>> {
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
    let mut out = Vec::new();
    for row in rows {
        let (checklist_id, step_id, done, note) = row?;
        let entity = entity_id(&checklist_id, &step_id);
        if done {
            out.push((entity.clone(), "done".into(), Value::Bool(true)));
        }
        if !note.is_empty() {
            out.push((entity, "note".into(), Value::String(note)));
        }
    }
    Ok(out)
}

/// The checklist's title and the step's text, in `lang` (English when not translated).
fn describe(
    conn: &Connection,
    _: RecordKind,
    entity_id: &str,
    _field: &str,
    lang: &str,
) -> Result<Subject> {
    let (checklist_id, step_id) = split_entity_id(entity_id).unwrap_or((entity_id, ""));
    let title = crate::content::title_of(conn, "checklist", checklist_id, lang)?;
    let step: Option<String> = conn
        .query_row(
            "SELECT text FROM checklist_step WHERE checklist_id = ?1 AND step_id = ?2
             ORDER BY lang = ?3 DESC, lang = 'en' DESC LIMIT 1",
            params![checklist_id, step_id, lang],
            |r| r.get(0),
        )
        .optional()?;
    Ok(Subject {
        kind: RecordKind::ChecklistProgress,
        title: title.unwrap_or_else(|| checklist_id.to_string()),
        detail: step,
    })
}
