//! Submitting a country's report through the e-community: the server checks the answers with
//! the same forms engine, keeps the submitted version immutable and answers with a receipt.

use rusqlite::params;
use stopover_protocol::RecordKind;
use stopover_protocol::reports::{SubmitReport, answers_digest, report_entity_id};

use super::drafts::{Draft, check_complete, load, load_editable};
use super::stored_answers;
use super::sync::{entity_id, mark_submitted};
use crate::ErrorCode;
use crate::sync::SyncClient;
use crate::sync::outbox::{FieldRef, note_server_field};
use crate::{Core, Error, Result};

/// What must hold before the server is asked: the draft is complete here, nothing of it waits
/// in the outbox, no conflict on it waits for a person. Returns the request to send.
fn prepare(core: &Core, draft_id: &str) -> Result<SubmitReport> {
    let lang = core.language()?;
    let files = super::files::files_waiting(core, draft_id)?;
    if files > 0 {
        return Err(Error::invalid(
            ErrorCode::ReportFilesWaiting,
            format!(
                "{files} file(s) of this report have not reached the server yet: sync, then submit"
            ),
        )
        .with("count", files));
    }
    let conn = core.conn();
    let draft = load_editable(&conn, draft_id)?;
    check_complete(&conn, &draft, &lang)?;
    let entity = entity_id(&draft);
    let kinds = [
        RecordKind::ReportAnswer.name(),
        RecordKind::ReportAssignment.name(),
    ];
    let waiting: i64 = conn.query_row(
        "SELECT count(*) FROM outbox WHERE kind IN (?1, ?2) AND entity_id = ?3",
        params![kinds[0], kinds[1], entity],
        |r| r.get(0),
    )?;
    if waiting > 0 {
        return Err(Error::invalid(ErrorCode::ReportChangesWaiting, format!(
            "{waiting} change(s) to this report have not reached the server yet: sync, then submit"
        )).with("count", waiting));
    }
    let conflicts: i64 = conn.query_row(
        "SELECT count(*) FROM sync_conflict WHERE kind IN (?1, ?2) AND entity_id = ?3",
        params![kinds[0], kinds[1], entity],
        |r| r.get(0),
    )?;
    if conflicts > 0 {
        return Err(Error::invalid(ErrorCode::ReportConflictsWaiting, format!(
            "{conflicts} answer(s) of this report were changed on two devices: choose the value to keep (Sync page), then submit"
        )).with("count", conflicts));
    }
    let answers = stored_answers(&conn, draft_id)?;
    Ok(SubmitReport {
        form_id: draft.form_id,
        cycle: draft.cycle,
        answers_sha256: answers_digest(answers.iter().map(|(p, v)| (p.as_str(), v.as_str()))),
    })
}

/// The server names missing answers by path: put them in words, in the reader's language, as
/// the local check does.
fn in_words(core: &Core, draft_id: &str, e: Error) -> Error {
    let Error::Server {
        status,
        code: stopover_protocol::ErrorCode::ReportIncomplete,
        mut params,
        message,
    } = e
    else {
        return e;
    };
    if let (Ok(form), Ok(lang), Some(stopover_protocol::Param::List(paths))) = (
        super::draft_form(core, draft_id),
        core.language(),
        params.remove("paths"),
    ) {
        let questions: Vec<String> = paths
            .iter()
            .take(5)
            .map(|p| super::labels::describe(&form, p, &lang))
            .collect();
        params.insert("count".into(), paths.len().into());
        params.insert("questions".into(), questions.into());
    }
    Error::Server {
        status,
        code: stopover_protocol::ErrorCode::ReportIncomplete,
        params,
        message,
    }
}

/// Submits the draft's report to the server and freezes the draft with the receipt. The
/// server refuses (and nothing changes here) when the caller is not the country's NFP for the
/// form's instrument, when its copy differs from this one (sync first), or when an answer is
/// missing or invalid by its own check. Retrying after a lost answer gets the same receipt.
pub async fn submit_to_server(
    core: &Core,
    client: &SyncClient,
    token: &str,
    draft_id: &str,
) -> Result<Draft> {
    let request = prepare(core, draft_id)?;
    let receipt = match client.submit_report(token, &request).await {
        Ok(receipt) => receipt,
        Err(e) => return Err(in_words(core, draft_id, e)),
    };
    if receipt.form_id != request.form_id
        || receipt.cycle != request.cycle
        || receipt.answers_sha256 != request.answers_sha256
    {
        return Err(Error::BadAnswer(
            "the server's receipt is for another report than the one sent".into(),
        ));
    }
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    mark_submitted(&tx, draft_id, &receipt)?;
    // The receipt comes back in the change feed too: known here now, so the pull that brings
    // it changes nothing.
    let receipt_json = serde_json::to_value(&receipt)
        .map_err(|e| Error::BadAnswer(format!("the receipt cannot be stored: {e}")))?;
    let entity = report_entity_id(&request.form_id, &request.cycle);
    note_server_field(
        &tx,
        FieldRef::new(RecordKind::ReportSubmission.name(), &entity, "receipt"),
        1,
        Some(&receipt_json),
    )?;
    let draft = load(&tx, draft_id)?;
    tx.commit()?;
    Ok(draft)
}
