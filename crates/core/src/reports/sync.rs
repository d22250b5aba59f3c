//! A draft as the country's shared report: its answers and section assignments travel as
//! synced fields of entity `<form-id>/<cycle>` (record kinds `report_answer`,
//! `report_assignment`), merged per answer path by the server; the server's receipt arrives as
//! `report_submission`. Here: queuing local changes, and writing what the server sends.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use stopover_forms::Answers;
use stopover_protocol::RecordKind;
use stopover_protocol::reports::{SubmissionReceipt, parse_report_entity_id, report_entity_id};

use super::NOW;
use super::drafts::{Draft, insert_draft};
use crate::Result;
use crate::sync::outbox;

/// The sync entity id of a draft's report.
pub fn entity_id(draft: &Draft) -> String {
    report_entity_id(&draft.form_id, &draft.cycle)
}

/// Queues every answer that differs between `before` and `after` (a removed one as null), in
/// the caller's transaction. Nothing is queued before the first sign-in.
pub(crate) fn queue_answer_changes(
    tx: &Connection,
    draft: &Draft,
    before: &Answers,
    after: &Answers,
) -> Result<()> {
    if !crate::sync::is_configured(tx)? {
        return Ok(());
    }
    let entity = entity_id(draft);
    let kind = RecordKind::ReportAnswer;
    for (path, value) in after {
        if before.get(path) != Some(value) {
            outbox::record_change(tx, kind, &entity, path, &Value::String(value.clone()))?;
        }
    }
    for path in before.keys().filter(|p| !after.contains_key(*p)) {
        outbox::record_change(tx, kind, &entity, path, &Value::Null)?;
    }
    Ok(())
}

/// The draft a server change of a report entity goes to: the open draft, made (empty) when
/// this device has none yet, e.g. when a colleague's answers arrive first. The receipt goes to
/// the submitted draft when this device already froze it. `None` (nothing written) for a
/// malformed entity id, and for answers to a report already submitted here: it cannot change.
fn draft_for(conn: &Connection, kind: RecordKind, entity_id: &str) -> Result<Option<String>> {
    let Ok((form_id, cycle)) = parse_report_entity_id(entity_id) else {
        tracing::warn!(
            entity_id,
            "sync: ignoring a report change with a malformed id"
        );
        return Ok(None);
    };
    let existing: Option<(String, String)> = conn
        .query_row(
            "SELECT id, status FROM report_draft WHERE form_id = ?1 AND cycle = ?2
             ORDER BY status = 'draft' DESC, updated_at DESC LIMIT 1",
            params![form_id, cycle],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match existing {
        Some((id, status)) if status == "draft" => return Ok(Some(id)),
        Some((id, _)) if kind == RecordKind::ReportSubmission => return Ok(Some(id)),
        Some(_) => {
            tracing::warn!(
                entity_id,
                kind = kind.name(),
                "sync: ignoring a change to a report already submitted on this device"
            );
            return Ok(None);
        }
        None => {}
    }
    // The form may not be in this device's pack yet; the draft keeps the answers until it is.
    let version: String = conn
        .query_row(
            "SELECT version FROM report_form WHERE id = ?1",
            [form_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default();
    Ok(Some(insert_draft(conn, form_id, &version, cycle)?))
}

/// Writes a report field that came from the server. Queues nothing. False (and a warning)
/// when the value does not fit the kind.
pub(crate) fn write_local(
    conn: &Connection,
    kind: RecordKind,
    entity_id: &str,
    field: &str,
    value: &Value,
) -> Result<bool> {
    let Some(draft_id) = draft_for(conn, kind, entity_id)? else {
        return Ok(false);
    };
    match (kind, value) {
        (RecordKind::ReportAnswer, Value::String(s)) => {
            conn.execute(
                &format!(
                    "INSERT INTO report_answer (draft_id, path, value, updated_at) VALUES (?1, ?2, ?3, {NOW})
                     ON CONFLICT (draft_id, path) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
                ),
                params![draft_id, field, s],
            )?;
        }
        (RecordKind::ReportAnswer, Value::Null) => {
            conn.execute(
                "DELETE FROM report_answer WHERE draft_id = ?1 AND path = ?2",
                params![draft_id, field],
            )?;
        }
        (RecordKind::ReportAssignment, Value::String(username)) => {
            write_assignment(conn, &draft_id, field, Some(username))?;
        }
        (RecordKind::ReportAssignment, Value::Null) => {
            write_assignment(conn, &draft_id, field, None)?;
        }
        (RecordKind::ReportSubmission, receipt) if field == "receipt" => {
            let Ok(receipt) = serde_json::from_value::<SubmissionReceipt>(receipt.clone()) else {
                tracing::warn!(entity_id, "sync: ignoring a malformed submission receipt");
                return Ok(false);
            };
            mark_submitted(conn, &draft_id, &receipt)?;
        }
        _ => {
            tracing::warn!(
                kind = kind.name(),
                entity_id,
                field,
                "sync: ignoring a report value of the wrong type"
            );
            return Ok(false);
        }
    }
    conn.execute(
        &format!("UPDATE report_draft SET updated_at = {NOW} WHERE id = ?1"),
        [&draft_id],
    )?;
    Ok(true)
}

/// Gives `section` of a draft to `username`, or to nobody (`None`). Queues nothing.
pub(crate) fn write_assignment(
    conn: &Connection,
    draft_id: &str,
    section: &str,
    username: Option<&str>,
) -> Result<()> {
    match username {
        Some(username) => conn.execute(
            &format!(
                "INSERT INTO report_assignment (draft_id, section, username, updated_at) VALUES (?1, ?2, ?3, {NOW})
                 ON CONFLICT (draft_id, section) DO UPDATE SET username = excluded.username, updated_at = excluded.updated_at"
            ),
            params![draft_id, section, username],
        )?,
        None => conn.execute(
            "DELETE FROM report_assignment WHERE draft_id = ?1 AND section = ?2",
            params![draft_id, section],
        )?,
    };
    Ok(())
}

/// Freezes a draft as submitted on the server, keeping the receipt.
pub(crate) fn mark_submitted(
    conn: &Connection,
    draft_id: &str,
    receipt: &SubmissionReceipt,
) -> Result<()> {
    conn.execute(
        &format!(
            "UPDATE report_draft SET status = 'submitted', submitted_at = ?2, receipt_json = ?3, updated_at = {NOW}
             WHERE id = ?1"
        ),
        params![
            draft_id,
            receipt.submitted_at,
            serde_json::to_string(receipt).map_err(|e| crate::Error::internal(e.to_string()))?
        ],
    )?;
    Ok(())
}

/// The local value of a report field (`None` when absent).
pub(crate) fn read_local(
    conn: &Connection,
    kind: RecordKind,
    entity_id: &str,
    field: &str,
) -> Result<Option<Value>> {
    let Ok((form_id, cycle)) = parse_report_entity_id(entity_id) else {
        return Ok(None);
    };
    let sql = match kind {
        RecordKind::ReportAnswer => {
            "SELECT a.value FROM report_answer a JOIN report_draft d ON d.id = a.draft_id
             WHERE d.form_id = ?1 AND d.cycle = ?2 AND d.status = 'draft' AND a.path = ?3"
        }
        RecordKind::ReportAssignment => {
            "SELECT a.username FROM report_assignment a JOIN report_draft d ON d.id = a.draft_id
             WHERE d.form_id = ?1 AND d.cycle = ?2 AND d.status = 'draft' AND a.section = ?3"
        }
        _ => return Ok(None),
    };
    let value: Option<String> = conn
        .query_row(sql, params![form_id, cycle, field], |r| r.get(0))
        .optional()?;
    Ok(value.map(Value::String))
}

/// Every answer and assignment of the open drafts, for the first sign-in to queue.
pub(crate) fn local_fields(conn: &Connection) -> Result<Vec<(RecordKind, String, String, Value)>> {
    let mut out = Vec::new();
    for (kind, sql) in [
        (
            RecordKind::ReportAnswer,
            "SELECT d.form_id, d.cycle, a.path, a.value FROM report_answer a
             JOIN report_draft d ON d.id = a.draft_id WHERE d.status = 'draft' ORDER BY a.updated_at, a.path",
        ),
        (
            RecordKind::ReportAssignment,
            "SELECT d.form_id, d.cycle, a.section, a.username FROM report_assignment a
             JOIN report_draft d ON d.id = a.draft_id WHERE d.status = 'draft' ORDER BY a.updated_at, a.section",
        ),
    ] {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (form_id, cycle, field, value) = row?;
            out.push((
                kind,
                report_entity_id(&form_id, &cycle),
                field,
                Value::String(value),
            ));
        }
    }
    Ok(out)
}
