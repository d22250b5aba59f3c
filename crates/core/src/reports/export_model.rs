//! What a printable export of a draft says, decided once for every format: the form's title, the
//! cycle, status and date of the draft, then every section with its relevant questions in form
//! order, labels in the reader's language. Select answers show their choice labels, never their
//! codes; a relevant question without an answer shows "—" so a reviewer sees what is missing.
//! Answers of hidden (non-relevant) questions are left out, as in the other exports.
//!
//! The DOCX and PDF exports only render the [`Document`] built here, so the two cannot drift.

use stopover_forms::{Form, FormState, Question, QuestionType};

use super::DraftStatus;
use super::drafts::load;
use super::{evaluate, instances, load_form};
use crate::{Core, Result, check_language};

/// Shown for a relevant question without an answer.
pub(crate) const MISSING: &str = "—";

/// The few words of the document that do not come from the form.
pub(crate) struct Words {
    pub cycle: &'static str,
    pub status: &'static str,
    pub date: &'static str,
    pub draft: &'static str,
    pub submitted: &'static str,
    pub row: &'static str,
    pub other: &'static str,
    /// Before the page number in a page footer ("Page 2 / 7").
    pub page: &'static str,
}

pub(crate) fn words(lang: &str) -> Words {
    match lang {
        "fr" => Words {
            cycle: "Cycle",
            status: "Statut",
            date: "Date",
            draft: "brouillon",
            submitted: "soumis",
            row: "Ligne",
            other: "Autre",
            page: "Page",
        },
        "es" => Words {
            cycle: "Ciclo",
            status: "Estado",
            date: "Fecha",
            draft: "borrador",
            submitted: "presentado",
            row: "Fila",
            other: "Otro",
            page: "Página",
        },
        _ => Words {
            cycle: "Cycle",
            status: "Status",
            date: "Date",
            draft: "draft",
            submitted: "submitted",
            row: "Row",
            other: "Other",
            page: "Page",
        },
    }
}

/// One piece of the body, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// A top-level group of the form.
    Section(String),
    /// A labelled group inside a section, or one row of a repeat ("Species — Row 2").
    Heading(String),
    /// A question and its answer as the reader sees it ("—" when missing). Either may hold
    /// line breaks typed by the user.
    Answer { question: String, answer: String },
}

/// A draft as it is printed.
pub(crate) struct Document {
    /// The reader's language (`en`, `fr` or `es`).
    pub lang: &'static str,
    pub words: Words,
    pub title: String,
    /// "Cycle: COP15 · Status: draft · Date: 2025-03-01"
    pub meta: String,
    /// When the draft was created and last changed, as stored (RFC 3339, UTC).
    pub created_at: String,
    pub updated_at: String,
    pub blocks: Vec<Block>,
}

/// The answer at `path` as a reader sees it: choice labels in `lang` for selects (several joined
/// with "; "), the free text for "other", the value as entered otherwise; "—" when empty.
fn shown_answer(
    form: &Form,
    state: &FormState,
    q: &Question,
    path: &str,
    value: &str,
    lang: &str,
    w: &Words,
) -> String {
    if value.trim().is_empty() {
        return MISSING.to_string();
    }
    let Some(list) = q.kind.list() else {
        return value.to_string();
    };
    let fallback = Some(form.default_language());
    let choices = form.choice_list(list);
    let label = |code: &str| -> String {
        if q.or_other && code == "other" {
            let text = state
                .answers()
                .get(&format!("{path}_other"))
                .map(|t| t.trim())
                .unwrap_or_default();
            return if text.is_empty() {
                w.other.to_string()
            } else {
                format!("{}: {text}", w.other)
            };
        }
        choices
            .iter()
            .find(|c| c.name == code)
            .and_then(|c| c.label.get(lang, fallback))
            .unwrap_or(code)
            .to_string()
    };
    match q.kind {
        QuestionType::SelectOne(_) => label(value.trim()),
        _ => value
            .split_whitespace()
            .map(label)
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The printable contents of a draft, labels in `lang` (`en`, `fr` or `es`).
///
/// The date under the title is the day the draft was last changed, so the same draft always
/// prints the same.
pub(crate) fn build(core: &Core, draft_id: &str, lang: &str) -> Result<Document> {
    let lang = check_language(lang)?;
    let w = words(lang);
    let conn = core.conn();
    let draft = load(&conn, draft_id)?;
    let (_, form) = load_form(&conn, &draft.form_id)?;
    let state = evaluate(&conn, draft_id, form.clone())?;
    drop(conn);
    let answers = state.submission_answers();
    let fallback = Some(form.default_language());
    let label_of = |q: &Question| q.label.get(lang, fallback).unwrap_or(&q.name).to_string();

    let title = form
        .settings
        .title
        .get(lang, fallback)
        .unwrap_or(&draft.form_id)
        .to_string();
    let status = match draft.status {
        DraftStatus::Draft => w.draft,
        DraftStatus::Submitted => w.submitted,
    };
    let date = draft.updated_at.get(..10).unwrap_or(&draft.updated_at);
    let meta = format!(
        "{}: {} · {}: {} · {}: {date}",
        w.cycle, draft.cycle, w.status, status, w.date
    );

    let mut blocks = Vec::new();
    for (q, path) in instances(&form, &state) {
        if !state.is_relevant(&path) {
            continue;
        }
        match &q.kind {
            QuestionType::Group if !path.contains('/') => {
                blocks.push(Block::Section(label_of(q)));
            }
            QuestionType::Group if !q.label.is_empty() => {
                blocks.push(Block::Heading(label_of(q)));
            }
            QuestionType::Repeat => {
                let n = path
                    .rsplit_once('[')
                    .and_then(|(_, n)| n.strip_suffix(']'))
                    .unwrap_or("?");
                blocks.push(Block::Heading(format!("{} — {} {n}", label_of(q), w.row)));
            }
            kind if kind.is_input() => {
                let value = answers.get(&path).map(String::as_str).unwrap_or_default();
                blocks.push(Block::Answer {
                    question: label_of(q),
                    answer: shown_answer(&form, &state, q, &path, value, lang, &w),
                });
            }
            // notes, calculations and metadata are not answers a reviewer signs off
            _ => {}
        }
    }

    Ok(Document {
        lang,
        words: w,
        title,
        meta,
        created_at: draft.created_at,
        updated_at: draft.updated_at,
        blocks,
    })
}
