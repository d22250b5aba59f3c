//! Drafts: one per report form and cycle, created, listed, pre-filled and submitted here.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use stopover_forms::Progress;
use stopover_protocol::reports::{SubmissionReceipt, is_cycle};

use super::{NOW, Target, evaluate, load_form, resolve, stored_answers};
use crate::ErrorCode;
use crate::{Core, Error, Result};

/// Where a draft stands. A submitted draft is never changed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    Draft,
    Submitted,
}

impl DraftStatus {
    fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Draft => "draft",
            DraftStatus::Submitted => "submitted",
        }
    }

    fn parse(s: &str) -> rusqlite::Result<Self> {
        match s {
            "draft" => Ok(DraftStatus::Draft),
            "submitted" => Ok(DraftStatus::Submitted),
            other => Err(rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("unknown draft status `{other}`").into(),
            )),
        }
    }
}

/// A national report draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Draft {
    pub id: String,
    pub form_id: String,
    pub form_version: String,
    /// The reporting cycle, e.g. `COP15`.
    pub cycle: String,
    pub status: DraftStatus,
    pub created_at: String,
    pub updated_at: String,
    pub submitted_at: Option<String>,
    /// The server's receipt, when the report was submitted through the e-community.
    pub receipt: Option<SubmissionReceipt>,
}

/// A line of the report list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DraftSummary {
    pub id: String,
    pub form_id: String,
    /// The form's title, or its id when the form is no longer in the content pack.
    pub title: String,
    pub cycle: String,
    pub status: DraftStatus,
    /// Relevant questions answered / total (`None` when the form is no longer available).
    pub completion: Option<Progress>,
    pub updated_at: String,
}

const COLUMNS: &str =
    "id, form_id, form_version, cycle, status, created_at, updated_at, submitted_at, receipt_json";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Draft> {
    Ok(Draft {
        id: r.get(0)?,
        form_id: r.get(1)?,
        form_version: r.get(2)?,
        cycle: r.get(3)?,
        status: DraftStatus::parse(&r.get::<_, String>(4)?)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        submitted_at: r.get(7)?,
        receipt: r
            .get::<_, Option<String>>(8)?
            .and_then(|json| serde_json::from_str(&json).ok()),
    })
}

/// The draft `id`, or NotFound.
pub(crate) fn load(conn: &Connection, id: &str) -> Result<Draft> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM report_draft WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::NotFound(format!("report draft `{id}`")))
}

/// The draft `id`, refused if it was submitted.
pub(crate) fn load_editable(conn: &Connection, id: &str) -> Result<Draft> {
    let draft = load(conn, id)?;
    if draft.status == DraftStatus::Submitted {
        return Err(Error::invalid(ErrorCode::ReportSubmittedReadOnly, format!(
            "the {} report for {} was submitted and can no longer be changed; start a new draft instead",
            draft.form_id, draft.cycle
        )).with("form", draft.form_id.as_str()).with("cycle", draft.cycle.as_str()));
    }
    Ok(draft)
}

/// Starts a draft of report form `form_id` for `cycle` (e.g. `COP15`).
pub fn create_draft(core: &Core, form_id: &str, cycle: &str) -> Result<Draft> {
    // One spelling per cycle (`cop15` is `COP15`): it names the country's shared report.
    let cycle = cycle.trim().to_ascii_uppercase();
    let cycle = cycle.as_str();
    if cycle.is_empty() {
        return Err(Error::invalid(
            ErrorCode::CycleMissing,
            "a report needs a cycle, e.g. COP15",
        ));
    }
    if !is_cycle(cycle) {
        return Err(Error::invalid(
            ErrorCode::CycleInvalid,
            format!(
                "`{cycle}` is not a reporting cycle: use letters, digits and `-` only, e.g. COP15"
            ),
        )
        .with("cycle", cycle));
    }
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let (version, _) = load_form(&tx, form_id)?;
    // One report per form and cycle: once synced it is the country's shared report, and a
    // submitted one is final.
    let existing: Option<String> = tx
        .query_row(
            "SELECT status FROM report_draft WHERE form_id = ?1 AND cycle = ?2
             ORDER BY status = 'draft' DESC LIMIT 1",
            params![form_id, cycle],
            |r| r.get(0),
        )
        .optional()?;
    match existing.as_deref() {
        Some("draft") => {
            return Err(Error::invalid(
                ErrorCode::DraftExists,
                format!(
                    "there is already a {form_id} draft for {cycle}: open it from the report list"
                ),
            )
            .with("form", form_id)
            .with("cycle", cycle));
        }
        Some(_) => {
            return Err(Error::invalid(ErrorCode::CycleAlreadySubmitted, format!(
                "the {form_id} report for {cycle} was already submitted; start the next cycle's report instead"
            )).with("form", form_id).with("cycle", cycle));
        }
        None => {}
    }
    let id = insert_draft(&tx, form_id, &version, cycle)?;
    let draft = load(&tx, &id)?;
    tx.commit()?;
    Ok(draft)
}

/// Adds an empty open draft; returns its id (a UUIDv7).
pub(crate) fn insert_draft(
    conn: &Connection,
    form_id: &str,
    form_version: &str,
    cycle: &str,
) -> Result<String> {
    let id = uuid::Uuid::now_v7().to_string();
    conn.execute(
        &format!(
            "INSERT INTO report_draft (id, form_id, form_version, cycle, status, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'draft', {NOW}, {NOW})"
        ),
        params![id, form_id, form_version, cycle],
    )?;
    Ok(id)
}

/// One draft.
pub fn get_draft(core: &Core, draft_id: &str) -> Result<Draft> {
    load(&core.conn(), draft_id)
}

/// All drafts, most recently changed first, with their completion.
pub fn list_drafts(core: &Core) -> Result<Vec<DraftSummary>> {
    let conn = core.conn();
    let drafts = {
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM report_draft ORDER BY updated_at DESC, id DESC"
        ))?;
        stmt.query_map([], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    let mut out = Vec::with_capacity(drafts.len());
    for d in drafts {
        let title: Option<String> = conn
            .query_row(
                "SELECT title FROM report_form WHERE id = ?1",
                [&d.form_id],
                |r| r.get(0),
            )
            .optional()?;
        let completion = match load_form(&conn, &d.form_id) {
            Ok((_, form)) => Some(evaluate(&conn, &d.id, form)?.completion().overall),
            Err(Error::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        out.push(DraftSummary {
            title: title.unwrap_or_else(|| d.form_id.clone()),
            id: d.id,
            form_id: d.form_id,
            cycle: d.cycle,
            status: d.status,
            completion,
            updated_at: d.updated_at,
        });
    }
    Ok(out)
}

/// Copies into draft `new_draft_id` the answers of the most recently submitted draft of the same
/// form whose paths still name something in the form. Answers already in the new draft are kept.
/// Returns how many answers were copied (0 when there is no submitted draft to copy from).
pub fn prefill_from_last_submitted(core: &Core, new_draft_id: &str) -> Result<usize> {
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let draft = load_editable(&tx, new_draft_id)?;
    let source: Option<String> = tx
        .query_row(
            "SELECT id FROM report_draft WHERE form_id = ?1 AND status = 'submitted' AND id <> ?2
             ORDER BY submitted_at DESC, id DESC LIMIT 1",
            params![draft.form_id, draft.id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(source) = source else { return Ok(0) };
    let (_, form) = load_form(&tx, &draft.form_id)?;
    let before = stored_answers(&tx, &draft.id)?;
    let mut copied = 0;
    {
        let mut insert = tx.prepare(&format!(
            "INSERT INTO report_answer (draft_id, path, value, updated_at) VALUES (?1, ?2, ?3, {NOW})
             ON CONFLICT (draft_id, path) DO NOTHING"
        ))?;
        for (path, value) in stored_answers(&tx, &source)? {
            let keep = match resolve(&form, None, &path) {
                Ok(Target::Question(q)) => q.kind.is_input(),
                Ok(Target::Other | Target::RepeatRow) => true,
                Ok(Target::RepeatBase(_)) | Err(_) => false,
            };
            if keep {
                copied += insert.execute(params![draft.id, path, value])?;
            }
        }
    }
    super::touch(&tx, &draft.id)?;
    let after = stored_answers(&tx, &draft.id)?;
    super::sync::queue_answer_changes(&tx, &draft, &before, &after)?;
    tx.commit()?;
    Ok(copied)
}

/// Refused while a relevant required answer is missing or an answer is invalid (the message
/// lists the first few, in the reader's language).
pub(crate) fn check_complete(conn: &Connection, draft: &Draft, lang: &str) -> Result<()> {
    let (_, form) = load_form(conn, &draft.form_id)?;
    let issues = evaluate(conn, &draft.id, form.clone())?.issues(lang);
    if issues.is_empty() {
        return Ok(());
    }
    let questions: Vec<String> = issues
        .iter()
        .take(5)
        .map(|i| super::labels::describe(&form, &i.path, lang))
        .collect();
    let first: Vec<String> = issues
        .iter()
        .take(5)
        .map(|i| format!("{} ({})", i.path, i.message))
        .collect();
    Err(Error::invalid(
        ErrorCode::ReportIncomplete,
        format!(
            "the report cannot be submitted yet: {} answer(s) missing or not valid, e.g. {}",
            issues.len(),
            first.join("; ")
        ),
    )
    .with("count", issues.len())
    .with("questions", questions))
}

/// Submits a draft on this device only (no e-community account: the e-mail route, with an
/// export): refused while it is incomplete. Afterwards the draft is frozen. Signed-in devices
/// submit through the server with [`submit_to_server`](super::submission::submit_to_server).
pub fn submit_draft(core: &Core, draft_id: &str) -> Result<Draft> {
    let lang = core.language()?;
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let draft = load_editable(&tx, draft_id)?;
    check_complete(&tx, &draft, &lang)?;
    tx.execute(
        &format!("UPDATE report_draft SET status = ?2, submitted_at = {NOW}, updated_at = {NOW} WHERE id = ?1"),
        params![draft_id, DraftStatus::Submitted.as_str()],
    )?;
    let draft = load(&tx, draft_id)?;
    tx.commit()?;
    Ok(draft)
}
