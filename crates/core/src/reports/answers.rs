//! Answering a draft: every change is validated, written durably in one transaction, and
//! answered with the live state the UI shows next.

use std::sync::Arc;

use rusqlite::{Connection, params};
use serde::Serialize;
use stopover_forms::{Completion, Form, FormState, Issue, QuestionType};

use super::drafts::{load, load_editable};
use super::sync::queue_answer_changes;
use super::{
    NOW, Target, evaluate, instances, load_form, resolve, state_of, stored_answers, touch,
};
use crate::ErrorCode;
use crate::{Core, Error, Result};
use stopover_protocol::MAX_TEXT_CHARS;

/// What the UI needs after each change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LiveState {
    pub draft_id: String,
    /// Answer paths of every visible (relevant) question, group and repeat row, in form order.
    pub visible: Vec<String>,
    /// The visible paths whose answer is required.
    pub required: Vec<String>,
    /// Missing required answers, failed constraints and invalid values, in the reader's language.
    pub issues: Vec<Issue>,
    /// Completion per section (top-level group) and overall.
    pub completion: Completion,
}

fn live(draft_id: &str, form: &Form, state: &FormState, lang: &str) -> LiveState {
    let mut visible = Vec::new();
    let mut required = Vec::new();
    for (q, path) in instances(form, state) {
        if matches!(q.kind, QuestionType::Calculate | QuestionType::Metadata(_))
            || !state.is_relevant(&path)
        {
            continue;
        }
        if state.is_required(&path) {
            required.push(path.clone());
        }
        visible.push(path);
    }
    LiveState {
        draft_id: draft_id.to_string(),
        visible,
        required,
        issues: state.issues(lang),
        completion: state.completion(),
    }
}

/// The live state of a draft as stored (submitted drafts too, read-only).
pub fn live_state(core: &Core, draft_id: &str) -> Result<LiveState> {
    let lang = core.language()?;
    let conn = core.conn();
    let draft = load(&conn, draft_id)?;
    let (_, form) = load_form(&conn, &draft.form_id)?;
    let state = evaluate(&conn, draft_id, form.clone())?;
    Ok(live(draft_id, &form, &state, &lang))
}

pub(crate) fn upsert(conn: &Connection, draft_id: &str, path: &str, value: &str) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO report_answer (draft_id, path, value, updated_at) VALUES (?1, ?2, ?3, {NOW})
         ON CONFLICT (draft_id, path) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
    ))?
    .execute(params![draft_id, path, value])?;
    Ok(())
}

/// Runs one change on an editable draft in one transaction and returns the live state after it.
/// `change` gets the transaction, the form and the state before the change. Every answer the
/// change adds, alters or removes is queued for sync in the same transaction.
pub(crate) fn change(
    core: &Core,
    draft_id: &str,
    change: impl FnOnce(&Connection, &Arc<Form>, &FormState) -> Result<()>,
) -> Result<LiveState> {
    let lang = core.language()?;
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let draft = load_editable(&tx, draft_id)?;
    let (_, form) = load_form(&tx, &draft.form_id)?;
    let stored_before = stored_answers(&tx, draft_id)?;
    let before = state_of(form.clone(), stored_before.clone());
    change(&tx, &form, &before)?;
    touch(&tx, draft_id)?;
    let stored_after = stored_answers(&tx, draft_id)?;
    queue_answer_changes(&tx, &draft, &stored_before, &stored_after)?;
    let after = state_of(form.clone(), stored_after);
    tx.commit()?;
    Ok(live(draft_id, &form, &after, &lang))
}

/// The question an answer may be written to, or a clear refusal naming the path.
pub(crate) fn answerable(form: &Form, state: &FormState, path: &str) -> Result<()> {
    match resolve(form, Some(state), path)? {
        Target::Question(q) if q.kind.is_input() => Ok(()),
        Target::Other => Ok(()),
        Target::Question(q) => Err(Error::invalid(
            ErrorCode::NotAnswerable,
            format!(
                "`{path}` cannot be answered: it is a {} (not a question)",
                match q.kind {
                    QuestionType::Note => "note",
                    QuestionType::Calculate => "calculation",
                    QuestionType::Group => "group",
                    _ => "metadata field",
                }
            ),
        )
        .with("question", path)),
        Target::RepeatBase(_) | Target::RepeatRow => Err(Error::invalid(
            ErrorCode::NotAnswerable,
            format!("`{path}` is a repeat, not a question: answer the questions inside its rows"),
        )
        .with("question", path)),
    }
}

/// Sets the answer at `path` (e.g. `goal_5/target_13/nbsap_exists` or
/// `appendix_i/app1_species[2]/app1_sp_trend`), saved durably before this returns.
/// Answers to questions that become hidden are kept (and left out of exports).
pub fn set_answer(core: &Core, draft_id: &str, path: &str, value: &str) -> Result<LiveState> {
    // The server keeps answers of at most this size: a longer one would be refused when it
    // syncs, so it is refused here, before anything is saved.
    let chars = value.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(Error::invalid(ErrorCode::AnswerTooLong, format!(
            "this answer has {chars} characters; an answer holds at most {MAX_TEXT_CHARS}: shorten it or attach a document"
        )).with("chars", chars).with("max", MAX_TEXT_CHARS));
    }
    change(core, draft_id, |tx, form, state| {
        answerable(form, state, path)?;
        upsert(tx, draft_id, path, value)
    })
}

/// Clears the answer at `path`. The row stays, empty, so a default value does not come back.
pub fn clear_answer(core: &Core, draft_id: &str, path: &str) -> Result<LiveState> {
    set_answer(core, draft_id, path, "")
}

/// The repeat named by `base` (`appendix_i/app1_species`, or inside a row of an outer repeat),
/// refused unless it is a repeat whose rows a person adds and removes.
fn repeat_base(form: &Form, state: &FormState, base: &str) -> Result<()> {
    match resolve(form, Some(state), base)? {
        Target::RepeatBase(q) if q.repeat_count.is_some() => Err(Error::invalid(ErrorCode::RepeatRowsFixed, format!(
            "the rows of `{base}` follow from another answer (repeat_count) and cannot be added or removed by hand"
        )).with("question", base)),
        Target::RepeatBase(_) => Ok(()),
        _ => Err(Error::invalid(ErrorCode::NotAnswerable, format!(
            "`{base}` is not a repeat of this form (give its path without a row number)"
        )).with("question", base)),
    }
}

/// Adds a row at the end of the repeat `base`; the new row's index is `repeat_count + 1` and its
/// path (`base[n]`) appears in the returned state's `visible` list when the repeat is relevant.
pub fn add_repeat_row(core: &Core, draft_id: &str, base: &str) -> Result<LiveState> {
    change(core, draft_id, |tx, form, state| {
        repeat_base(form, state, base)?;
        let n = state.repeat_count(base) + 1;
        upsert(tx, draft_id, &format!("{base}[{n}]"), "")
    })
}

/// Removes row `index` (1-based) of the repeat `base` with all its answers; later rows move up
/// one, their stored answer paths renamed in the same transaction.
pub fn remove_repeat_row(
    core: &Core,
    draft_id: &str,
    base: &str,
    index: usize,
) -> Result<LiveState> {
    change(core, draft_id, |tx, form, state| {
        repeat_base(form, state, base)?;
        let rows = state.repeat_count(base);
        check_row(base, rows, index, "remove")?;
        let order: Vec<usize> = (1..=rows).filter(|&i| i != index).collect();
        renumber_rows(tx, draft_id, base, &order)
    })
}

/// Moves row `from` of the repeat `base` to position `to` (both 1-based), the rows between
/// shifting by one: the order a person wants the species or sites listed in.
pub fn move_repeat_row(
    core: &Core,
    draft_id: &str,
    base: &str,
    from: usize,
    to: usize,
) -> Result<LiveState> {
    change(core, draft_id, |tx, form, state| {
        repeat_base(form, state, base)?;
        let rows = state.repeat_count(base);
        check_row(base, rows, from, "move")?;
        check_row(base, rows, to, "move to")?;
        let mut order: Vec<usize> = (1..=rows).collect();
        let row = order.remove(from - 1);
        order.insert(to - 1, row);
        renumber_rows(tx, draft_id, base, &order)
    })
}

fn check_row(base: &str, rows: usize, index: usize, verb: &str) -> Result<()> {
    if index == 0 || index > rows {
        return Err(Error::invalid(
            ErrorCode::NoSuchRow,
            format!("`{base}` has {rows} row(s), there is no row {index} to {verb}"),
        )
        .with("question", base)
        .with("rows", rows)
        .with("row", index));
    }
    Ok(())
}

/// Rewrites the rows of the repeat `base` so that new row `n` holds what old row `order[n-1]`
/// held; old rows not in `order` are dropped. Each kept row keeps its marker, so an empty row
/// stays a row.
fn renumber_rows(tx: &Connection, draft_id: &str, base: &str, order: &[usize]) -> Result<()> {
    let prefix = format!("{base}[");
    let rows: Vec<(String, String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT path, value, updated_at FROM report_answer
             WHERE draft_id = ?1 AND substr(path, 1, length(?2)) = ?2",
        )?;
        stmt.query_map(params![draft_id, prefix], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    tx.execute(
        "DELETE FROM report_answer WHERE draft_id = ?1 AND substr(path, 1, length(?2)) = ?2",
        params![draft_id, prefix],
    )?;
    let new_index = |old: usize| order.iter().position(|&o| o == old).map(|p| p + 1);
    let mut insert = tx.prepare(
        "INSERT INTO report_answer (draft_id, path, value, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (draft_id, path) DO NOTHING",
    )?;
    for (path, value, updated_at) in rows {
        let rest = &path[prefix.len()..];
        let Some((i, tail)) = rest.split_once(']') else {
            continue;
        };
        let Some(ni) = i.parse::<usize>().ok().and_then(new_index) else {
            continue;
        };
        insert.execute(params![
            draft_id,
            format!("{prefix}{ni}]{tail}"),
            value,
            updated_at
        ])?;
    }
    let mut marker = tx.prepare(&format!(
        "INSERT INTO report_answer (draft_id, path, value, updated_at) VALUES (?1, ?2, '', {NOW})
         ON CONFLICT (draft_id, path) DO NOTHING"
    ))?;
    for n in 1..=order.len() {
        marker.execute(params![draft_id, format!("{prefix}{n}]")])?;
    }
    Ok(())
}
