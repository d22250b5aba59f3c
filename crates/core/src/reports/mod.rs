//! National report drafts: answers stored one row per answer path, live form state after each
//! change, pre-fill from the last submitted report, export.
//!
//! Every function here is one user action and runs in one transaction. Answers are written
//! (the store runs with `synchronous=FULL`) before a function returns, so whatever the UI shows
//! as saved is on disk.
//!
//! Answer paths follow `stopover_forms::state`: slash-separated names from the top with a
//! 1-based `[n]` after each repeat (`appendix_i/app1_species[2]/app1_sp_trend`). A row whose
//! path ends with a repeat index and holds an empty value records that the repeat row exists.

pub mod answers;
pub mod delegation;
pub mod drafts;
pub mod export;
mod export_docx;
pub(crate) mod export_model;
mod export_package;
mod export_pdf;
pub mod files;
pub(crate) mod kinds;
pub mod labels;
pub mod submission;
pub mod sync;
pub mod view;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use stopover_forms::{Answers, Date, EvalContext, Form, FormState, Question, QuestionType};

use crate::ErrorCode;
use crate::{Error, Result};

pub use answers::{
    LiveState, add_repeat_row, clear_answer, live_state, move_repeat_row, remove_repeat_row,
    set_answer,
};
pub use drafts::{
    Draft, DraftStatus, DraftSummary, create_draft, get_draft, list_drafts,
    prefill_from_last_submitted, submit_draft,
};
pub use export::{ExportFormat, export_csv, export_json};
pub use export_docx::export_docx;
pub use export_package::{export_package, file_part};
pub use export_pdf::export_pdf;

/// SQL for "now" as the store writes it everywhere (UTC, milliseconds).
pub(crate) use crate::store::NOW;

/// Parsed forms by (form id, version): a form is parsed once per version, so an answer change
/// costs a re-evaluation, never a re-parse.
type FormCache = HashMap<(String, String), Arc<Form>>;
static FORMS: LazyLock<Mutex<FormCache>> = LazyLock::new(Default::default);

/// The report form `form_id` as currently imported: its version and parsed form.
pub(crate) fn load_form(conn: &Connection, form_id: &str) -> Result<(String, Arc<Form>)> {
    let version: Option<String> = conn
        .query_row(
            "SELECT version FROM report_form WHERE id = ?1",
            [form_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(version) = version else {
        return Err(Error::NotFound(format!("report form `{form_id}`")));
    };
    let key = (form_id.to_string(), version.clone());
    if let Some(form) = FORMS.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok((version, form.clone()));
    }
    let source: String = conn.query_row(
        "SELECT source FROM report_form WHERE id = ?1",
        [form_id],
        |r| r.get(0),
    )?;
    // the CSV files published with the form (choices from a file, pulldata())
    let files: stopover_forms::Attachments = {
        let mut stmt =
            conn.prepare_cached("SELECT name, content FROM report_form_file WHERE form_id = ?1")?;
        let rows = stmt.query_map([form_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?.into_bytes()))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let form = stopover_forms::load_text_with(&source, &files).map_err(|e| {
        Error::invalid(
            ErrorCode::FormUnloadable,
            format!("the report form `{form_id}` could not be loaded: {e}"),
        )
        .with("form", form_id)
    })?;
    let form = Arc::new(form);
    FORMS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, form.clone());
    Ok((version, form))
}

/// The parsed form a draft is answered against.
pub fn draft_form(core: &crate::Core, draft_id: &str) -> Result<Arc<Form>> {
    let conn = core.conn();
    let draft = drafts::load(&conn, draft_id)?;
    Ok(load_form(&conn, &draft.form_id)?.1)
}

/// All stored answers of a draft by path, hidden ones included (and the empty markers of
/// repeat rows).
pub fn draft_answers(core: &crate::Core, draft_id: &str) -> Result<Answers> {
    let conn = core.conn();
    drafts::load(&conn, draft_id)?;
    stored_answers(&conn, draft_id)
}

/// All stored answers of a draft, hidden ones included.
pub(crate) fn stored_answers(conn: &Connection, draft_id: &str) -> Result<Answers> {
    let mut stmt =
        conn.prepare_cached("SELECT path, value FROM report_answer WHERE draft_id = ?1")?;
    let rows = stmt.query_map([draft_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<Answers>>()?)
}

/// Today's date for `today()` in form expressions (UTC).
fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date((secs / 86_400) as i64)
}

/// The live state of a draft from its stored answers.
pub(crate) fn evaluate(conn: &Connection, draft_id: &str, form: Arc<Form>) -> Result<FormState> {
    Ok(state_of(form, stored_answers(conn, draft_id)?))
}

/// The live state of a form with these stored answers, as of today.
pub(crate) fn state_of(form: Arc<Form>, answers: Answers) -> FormState {
    FormState::new(form, answers, EvalContext { today: today() })
}

/// One segment of an answer path: a name and, after a repeat, its 1-based index.
fn parse_segment(seg: &str) -> Option<(&str, Option<usize>)> {
    match seg.split_once('[') {
        None if !seg.is_empty() => Some((seg, None)),
        None => None,
        Some((name, rest)) => {
            let digits = rest.strip_suffix(']')?;
            let n: usize = digits.parse().ok()?;
            // one spelling per row: `x[2]`, never `x[02]` or `x[+2]`
            (!name.is_empty() && n >= 1 && n.to_string() == digits).then_some((name, Some(n)))
        }
    }
}

/// What an answer path names in a form.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'f> {
    /// An answer to a question (any kind; callers check whether it takes answers).
    Question(&'f Question),
    /// The free text (`PATH_other`) of a `select_* … or_other` question.
    Other,
    /// A repeat without an index (`sec/species`): the list of its rows.
    RepeatBase(&'f Question),
    /// One row of a repeat (`sec/species[2]`).
    RepeatRow,
}

/// Resolves `path` against the form's tree. When `state` is given, every repeat index on the
/// way must name an existing row.
pub(crate) fn resolve<'f>(
    form: &'f Form,
    state: Option<&FormState>,
    path: &str,
) -> Result<Target<'f>> {
    let form_id = form.settings.form_id.as_deref().unwrap_or("?");
    let unknown = |why: &str| {
        Error::invalid(
            ErrorCode::NotAnswerable,
            format!("`{path}` is not a question of the form {form_id}: {why}"),
        )
        .with("question", path)
    };
    let segs: Vec<&str> = path.split('/').collect();
    let mut children: &'f [Question] = &form.questions;
    let mut prefix = String::new();
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        let Some((name, index)) = parse_segment(seg) else {
            return Err(unknown(&format!("`{seg}` is not a valid path segment")));
        };
        let Some(q) = children.iter().find(|q| q.name == name) else {
            if last
                && index.is_none()
                && let Some(base) = name.strip_suffix("_other")
                && children.iter().any(|q| q.name == base && q.or_other)
            {
                return Ok(Target::Other);
            }
            return Err(unknown(&format!("no question `{name}` here")));
        };
        let base = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        match (q.kind == QuestionType::Repeat, index) {
            (true, None) if last => return Ok(Target::RepeatBase(q)),
            (true, None) => {
                return Err(unknown(&format!(
                    "`{name}` is a repeat and needs a row number, e.g. `{name}[1]`"
                )));
            }
            (false, Some(_)) => {
                return Err(unknown(&format!(
                    "`{name}` is not a repeat and takes no row number"
                )));
            }
            (true, Some(n)) => {
                if let Some(st) = state {
                    let rows = st.repeat_count(&base);
                    if n > rows {
                        return Err(unknown(&format!(
                            "`{base}` has {rows} row(s), there is no row {n}"
                        )));
                    }
                }
                if last {
                    return Ok(Target::RepeatRow);
                }
            }
            (false, None) if last => return Ok(Target::Question(q)),
            (false, None) => {}
        }
        prefix = if index.is_some() {
            format!("{base}[{}]", index.unwrap_or(0))
        } else {
            base
        };
        children = &q.children;
    }
    Err(unknown("empty path"))
}

/// Every question instance of the form in form order, with its answer path: groups, each row of
/// each repeat (`sec/species[2]`), and the questions inside.
pub(crate) fn instances<'f>(form: &'f Form, state: &FormState) -> Vec<(&'f Question, String)> {
    fn walk<'f>(
        qs: &'f [Question],
        prefix: &str,
        state: &FormState,
        out: &mut Vec<(&'f Question, String)>,
    ) {
        for q in qs {
            let base = if prefix.is_empty() {
                q.name.clone()
            } else {
                format!("{prefix}/{}", q.name)
            };
            if q.kind == QuestionType::Repeat {
                for i in 1..=state.repeat_count(&base) {
                    let row = format!("{base}[{i}]");
                    out.push((q, row.clone()));
                    walk(&q.children, &row, state, out);
                }
            } else {
                out.push((q, base.clone()));
                walk(&q.children, &base, state, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&form.questions, "", state, &mut out);
    out
}

/// The top-level group (section) an answer path falls in, if any.
pub(crate) fn section_of<'f>(form: &'f Form, path: &str) -> Option<&'f Question> {
    let first = path.split('/').next()?;
    let name = first.split_once('[').map_or(first, |(n, _)| n);
    form.questions
        .iter()
        .find(|q| q.name == name && q.kind == QuestionType::Group)
}

/// Marks the draft as changed (inside the caller's transaction).
pub(crate) fn touch(conn: &Connection, draft_id: &str) -> Result<()> {
    conn.execute(
        &format!("UPDATE report_draft SET updated_at = {NOW} WHERE id = ?1"),
        params![draft_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_segment;

    #[test]
    fn path_segments_have_one_spelling() {
        assert_eq!(parse_segment("species"), Some(("species", None)));
        assert_eq!(parse_segment("species[2]"), Some(("species", Some(2))));
        for bad in [
            "",
            "species[0]",
            "species[02]",
            "species[+2]",
            "species[x]",
            "species[2",
            "[2]",
        ] {
            assert_eq!(parse_segment(bad), None, "{bad}");
        }
    }
}
