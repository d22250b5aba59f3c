//! Delegation: the NFP gives a section of the report to a colleague's account (same country;
//! the server refuses anyone else). The assignment travels like an answer (record kind
//! `report_assignment`), so every device of the country sees who works on what; the
//! colleague's edits then merge per answer with everyone else's.

use serde::Serialize;
use serde_json::Value;
use stopover_forms::QuestionType;
use stopover_protocol::RecordKind;
use stopover_protocol::is_username;

use super::drafts::{load, load_editable};
use super::sync::{entity_id, write_assignment};
use super::{load_form, touch};
use crate::ErrorCode;
use crate::sync::outbox;
use crate::{Core, Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Assignment {
    /// The section (top-level group) name.
    pub section: String,
    pub username: String,
}

/// Who works on which section of a draft, in form order.
pub fn assignments(core: &Core, draft_id: &str) -> Result<Vec<Assignment>> {
    let conn = core.conn();
    let draft = load(&conn, draft_id)?;
    let mut stmt =
        conn.prepare("SELECT section, username FROM report_assignment WHERE draft_id = ?1")?;
    let mut out: Vec<Assignment> = stmt
        .query_map([draft_id], |r| {
            Ok(Assignment {
                section: r.get(0)?,
                username: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if let Ok((_, form)) = load_form(&conn, &draft.form_id) {
        let position = |s: &str| form.questions.iter().position(|q| q.name == s);
        out.sort_by_key(|a| position(&a.section));
    }
    Ok(out)
}

/// Gives `section` to `username`, or takes it back (`None`), saved and queued in one
/// transaction. The server checks that the account is an approved colleague of the same
/// country; a refusal shows on the Sync page with its reason.
pub fn assign_section(
    core: &Core,
    draft_id: &str,
    section: &str,
    username: Option<&str>,
) -> Result<Vec<Assignment>> {
    {
        let mut conn = core.conn();
        let tx = conn.transaction()?;
        let draft = load_editable(&tx, draft_id)?;
        let (_, form) = load_form(&tx, &draft.form_id)?;
        let is_section = form
            .questions
            .iter()
            .any(|q| q.name == section && q.kind == QuestionType::Group);
        if !is_section {
            return Err(Error::invalid(
                ErrorCode::NotASection,
                format!("`{section}` is not a section of the {} form", draft.form_id),
            )
            .with("section", section));
        }
        let username = username.map(str::trim);
        if let Some(u) = username.filter(|u| !is_username(u)) {
            return Err(Error::invalid(
                ErrorCode::NotAUsername,
                format!("`{u}` is not a username: 3–64 lowercase letters, digits, `.`, `_` or `-`"),
            )
            .with("username", u.to_string()));
        }
        write_assignment(&tx, draft_id, section, username)?;
        let value = username.map_or(Value::Null, |u| Value::String(u.to_string()));
        outbox::record_change(
            &tx,
            RecordKind::ReportAssignment,
            &entity_id(&draft),
            section,
            &value,
        )?;
        touch(&tx, draft_id)?;
        tx.commit()?;
    }
    assignments(core, draft_id)
}
