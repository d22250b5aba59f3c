//! The national report's record kinds on this device: answers and section assignments of the
//! country's report (entity `<form-id>/<cycle>`), and the server's receipt. The storage rules
//! are in [`super::sync`]; here they are declared and put in words.

use rusqlite::Connection;
use serde_json::Value;
use stopover_protocol::RecordKind;
use stopover_protocol::reports::parse_report_entity_id;

use super::labels;
use super::sync::{local_fields, read_local, write_local};
use crate::Result;
use crate::sync::kinds::{KindFns, Subject, Unsynced, nothing_after, nothing_unsynced};

/// Answers and assignments queue the drafts' work at the first sign-in; the receipt is the
/// server's own.
pub(crate) static KINDS: &[KindFns] = &[
    report(RecordKind::ReportAnswer, unsynced),
    report(RecordKind::ReportAssignment, unsynced),
    report(RecordKind::ReportSubmission, nothing_unsynced),
];

const fn report(
    kind: RecordKind,
    unsynced: fn(&Connection, RecordKind) -> Result<Unsynced>,
) -> KindFns {
    KindFns {
        kind,
        write: write_local,
        read: read_local,
        revert,
        unsynced,
        describe,
        after_pull: nothing_after,
    }
}

/// An answer or assignment the server refused goes back to empty; a submission is the
/// server's own and is never pushed.
fn revert(conn: &Connection, kind: RecordKind, entity_id: &str, field: &str) -> Result<bool> {
    if kind == RecordKind::ReportSubmission {
        return Ok(false);
    }
    write_local(conn, kind, entity_id, field, &Value::Null)
}

/// "<form title> — <cycle>" and the answer path (or section) in words, in `lang`.
fn describe(
    conn: &Connection,
    kind: RecordKind,
    entity_id: &str,
    field: &str,
    lang: &str,
) -> Result<Subject> {
    let Ok((form_id, cycle)) = parse_report_entity_id(entity_id) else {
        return Ok(Subject {
            kind,
            title: entity_id.to_string(),
            detail: None,
        });
    };
    Ok(match super::load_form(conn, form_id) {
        Ok((_, form)) => Subject {
            kind,
            title: format!(
                "{} — {cycle}",
                super::view::form_title(&form, lang).unwrap_or_else(|| form_id.to_string())
            ),
            detail: (kind != RecordKind::ReportSubmission)
                .then(|| labels::describe(&form, field, lang)),
        },
        Err(_) => Subject {
            kind,
            title: format!("{form_id} — {cycle}"),
            detail: None,
        },
    })
}

/// The unsynced fields of one kind, as the first sign-in queues them.
fn unsynced(conn: &Connection, kind: RecordKind) -> Result<Vec<(String, String, Value)>> {
    Ok(local_fields(conn)?
        .into_iter()
        .filter(|(k, ..)| *k == kind)
        .map(|(_, entity, field, value)| (entity, field, value))
        .collect())
}
