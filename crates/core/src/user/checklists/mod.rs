//! Ticks and notes on checklist steps. Each change is one transaction, which also queues the
//! change for sync once an account is signed in (record kind `checklist_progress`, entity
//! `<checklist>/<step>`, fields `done` and `note`).

mod kind;

pub(crate) use kind::KINDS;
pub use kind::entity_id;

use rusqlite::{Connection, params};
use serde_json::Value;
use stopover_protocol::RecordKind;

use crate::ErrorCode;
use crate::sync::outbox;
use crate::{Error, Result};

/// Longest note kept on one step, in characters: generous for a person, bounded for the disk.
pub const NOTE_MAX_CHARS: usize = 10_000;

fn check_step_exists(conn: &Connection, checklist_id: &str, step_id: &str) -> Result<()> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM checklist_step WHERE checklist_id = ?1 AND step_id = ?2)",
        params![checklist_id, step_id],
        |r| r.get(0),
    )?;
    if exists {
        Ok(())
    } else {
        Err(Error::NotFound(format!(
            "checklist item `{checklist_id}/{step_id}`"
        )))
    }
}

/// One of the two things a person records on a step. The column and the sync field share
/// the name.
enum StepField {
    Done(bool),
    Note(String),
}

impl StepField {
    fn name(&self) -> &'static str {
        match self {
            StepField::Done(_) => "done",
            StepField::Note(_) => "note",
        }
    }

    fn value(&self) -> Value {
        match self {
            StepField::Done(done) => Value::Bool(*done),
            StepField::Note(note) => Value::String(note.clone()),
        }
    }
}

/// Writes one field of a step's progress and queues it for sync, in one transaction.
fn set_field(
    conn: &mut Connection,
    checklist_id: &str,
    step_id: &str,
    field: StepField,
) -> Result<()> {
    let tx = conn.transaction()?;
    check_step_exists(&tx, checklist_id, step_id)?;
    let column = field.name();
    let sql = format!(
        "INSERT INTO checklist_progress (checklist_id, step_id, {column}, updated_at)
         VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         ON CONFLICT (checklist_id, step_id) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at"
    );
    match &field {
        StepField::Done(done) => tx.execute(&sql, params![checklist_id, step_id, done])?,
        StepField::Note(note) => tx.execute(&sql, params![checklist_id, step_id, note])?,
    };
    let entity = entity_id(checklist_id, step_id);
    outbox::record_change(
        &tx,
        RecordKind::ChecklistProgress,
        &entity,
        column,
        &field.value(),
    )?;
    tx.commit()?;
    Ok(())
}

pub fn set_done(
    conn: &mut Connection,
    checklist_id: &str,
    step_id: &str,
    done: bool,
) -> Result<()> {
    set_field(conn, checklist_id, step_id, StepField::Done(done))
}

pub fn set_note(
    conn: &mut Connection,
    checklist_id: &str,
    step_id: &str,
    note: &str,
) -> Result<()> {
    if note.chars().count() > NOTE_MAX_CHARS {
        return Err(Error::invalid(
            ErrorCode::NoteTooLong,
            format!("a note can hold at most {NOTE_MAX_CHARS} characters"),
        )
        .with("max", NOTE_MAX_CHARS));
    }
    set_field(
        conn,
        checklist_id,
        step_id,
        StepField::Note(note.to_string()),
    )
}

/// Counts of the user's own records, shown on the error screen to reassure that they are safe.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
        |r| {
            Ok(UserDataCounts {
                ticks: r.get(0)?,
                notes: r.get(1)?,
                bookmarks: r.get(2)?,
            })
        },
    )?)
}
