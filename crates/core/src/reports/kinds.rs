//! The national report's record kinds on this device: answers and section assignments of the
//! country's report (entity `<form-id>/<cycle>`), and the server's receipt. The storage rules
//! are in [`super::sync`]; here they are registered as [`LocalKind`]s and put in words.

use rusqlite::Connection;
use serde_json::Value;
use stopover_protocol::RecordKind;
use stopover_protocol::reports::parse_report_entity_id;

use super::labels;
use super::sync::{local_fields, read_local, write_local};
use crate::Result;
use crate::sync::kinds::{LocalKind, Subject};

pub struct ReportAnswer;
pub struct ReportAssignment;
pub struct ReportSubmission;

/// "<form title> — <cycle>" and the answer path (or section) in words, in `lang`.
fn describe(
    conn: &Connection,
    kind: RecordKind,
    entity_id: &str,
    field: &str,
    lang: &str,
) -> Subject {
    let Ok((form_id, cycle)) = parse_report_entity_id(entity_id) else {
        return Subject {
            kind,
            title: entity_id.to_string(),
            detail: None,
        };
    };
    match super::load_form(conn, form_id) {
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
    }
}

/// The unsynced fields of one kind, as the first sign-in queues them.
fn unsynced_of(conn: &Connection, kind: RecordKind) -> Result<Vec<(String, String, Value)>> {
    Ok(local_fields(conn)?
        .into_iter()
        .filter(|(k, ..)| *k == kind)
        .map(|(_, entity, field, value)| (entity, field, value))
        .collect())
}

macro_rules! report_kind {
    ($ty:ident, $kind:expr, unsynced: $unsynced:expr) => {
        impl LocalKind for $ty {
            fn kind(&self) -> RecordKind {
                $kind
            }

            fn write(
                &self,
                conn: &Connection,
                entity_id: &str,
                field: &str,
                value: &Value,
            ) -> Result<bool> {
                write_local(conn, $kind, entity_id, field, value)
            }

            fn read(
                &self,
                conn: &Connection,
                entity_id: &str,
                field: &str,
            ) -> Result<Option<Value>> {
                read_local(conn, $kind, entity_id, field)
            }

            fn revert(&self, conn: &Connection, entity_id: &str, field: &str) -> Result<bool> {
                // No answer, no owner: the section is nobody's until the focal point gives it.
                if $kind == RecordKind::ReportSubmission {
                    return Ok(false);
                }
                write_local(conn, $kind, entity_id, field, &Value::Null)
            }

            fn unsynced(&self, conn: &Connection) -> Result<Vec<(String, String, Value)>> {
                if $unsynced {
                    unsynced_of(conn, $kind)
                } else {
                    Ok(Vec::new())
                }
            }

            fn describe(
                &self,
                conn: &Connection,
                entity_id: &str,
                field: &str,
                lang: &str,
            ) -> Result<Subject> {
                Ok(describe(conn, $kind, entity_id, field, lang))
            }
        }
    };
}

report_kind!(ReportAnswer, RecordKind::ReportAnswer, unsynced: true);
report_kind!(ReportAssignment, RecordKind::ReportAssignment, unsynced: true);
report_kind!(ReportSubmission, RecordKind::ReportSubmission, unsynced: false);
