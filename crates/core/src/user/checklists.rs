//! Ticks and notes on checklist steps. Each change is one transaction, which also queues the
//! change for sync once an account is signed in (record kind `checklist_progress`, entity
//! `<checklist>/<step>`, fields `done` and `note`).

use rusqlite::{Connection, params};
use serde_json::Value;
use stopover_protocol::RecordKind;

use crate::sync::{outbox, records::checklist_entity_id};
use crate::{Error, Result};

/// Longest note kept on one step, in characters: generous for a person, bounded for the disk.
pub const NOTE_MAX_CHARS: usize = 10_000;

fn check_step_exists(conn: &Connection, checklist_id: &str, step_id: &str) -> Result<()> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM checklist_step WHERE checklist_id = ?1 AND step_id = ?2)",
        params![checklist_id, step_id],
        |r| r.get(0),
    )?;
    if exists { Ok(()) } else { Err(Error::NotFound(format!("checklist item `{checklist_id}/{step_id}`"))) }
}

pub fn set_done(conn: &mut Connection, checklist_id: &str, step_id: &str, done: bool) -> Result<()> {
    let tx = conn.transaction()?;
    check_step_exists(&tx, checklist_id, step_id)?;
    tx.execute(
        "INSERT INTO checklist_progress (checklist_id, step_id, done, updated_at)
         VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         ON CONFLICT (checklist_id, step_id) DO UPDATE SET done = excluded.done, updated_at = excluded.updated_at",
        params![checklist_id, step_id, done],
    )?;
    let entity = checklist_entity_id(checklist_id, step_id);
    outbox::record_change(&tx, RecordKind::ChecklistProgress, &entity, "done", &Value::Bool(done))?;
    tx.commit()?;
    Ok(())
}

pub fn set_note(conn: &mut Connection, checklist_id: &str, step_id: &str, note: &str) -> Result<()> {
    if note.chars().count() > NOTE_MAX_CHARS {
        return Err(Error::InvalidInput(format!("a note can hold at most {NOTE_MAX_CHARS} characters")));
    }
    let tx = conn.transaction()?;
    check_step_exists(&tx, checklist_id, step_id)?;
    tx.execute(
        "INSERT INTO checklist_progress (checklist_id, step_id, note, updated_at)
         VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         ON CONFLICT (checklist_id, step_id) DO UPDATE SET note = excluded.note, updated_at = excluded.updated_at",
        params![checklist_id, step_id, note],
    )?;
    let entity = checklist_entity_id(checklist_id, step_id);
    outbox::record_change(&tx, RecordKind::ChecklistProgress, &entity, "note", &Value::String(note.to_string()))?;
    tx.commit()?;
    Ok(())
}

/// Counts of the user's own records, shown on the error screen to reassure that they are safe.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct UserDataCounts {
    pub ticks: u32,
    pub notes: u32,
    pub bookmarks: u32,
}

pub fn counts(conn: &Connection) -> Result<UserDataCounts> {
    Ok(conn.query_row(
        "SELECT (SELECT count(*) FROM checklist_progress WHERE done = 1),
                (SELECT count(*) FROM checklist_progress WHERE note <> ''),
                (SELECT count(*) FROM bookmark)",
        [],
        |r| Ok(UserDataCounts { ticks: r.get(0)?, notes: r.get(1)?, bookmarks: r.get(2)? }),
    )?)
}
