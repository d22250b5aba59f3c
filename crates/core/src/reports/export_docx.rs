//! DOCX export of a draft for sign-off, printing and the e-mail route: the form's title, the
//! cycle, status and date of the draft, then every section with its relevant questions in form
//! order, labels in the reader's language. Select answers show their choice labels, never their
//! codes; a relevant question without an answer shows "—" so a reviewer sees what is missing.
//! Answers of hidden (non-relevant) questions are left out, as in the other exports.

use std::io::Cursor;

use docx_rs::{BreakType, Docx, Paragraph, Run, Style, StyleType};
use stopover_forms::{Form, FormState, Question, QuestionType};

use super::DraftStatus;
use super::drafts::load;
use super::{evaluate, instances, load_form};
use crate::{Core, Error, Result, check_language};

/// Shown for a relevant question without an answer.
const MISSING: &str = "—";

/// The few words of the document that do not come from the form.
struct Words {
    cycle: &'static str,
    status: &'static str,
    date: &'static str,
    draft: &'static str,
    submitted: &'static str,
    row: &'static str,
    other: &'static str,
}

fn words(lang: &str) -> Words {
    match lang {
        "fr" => Words {
            cycle: "Cycle",
            status: "Statut",
            date: "Date",
            draft: "brouillon",
            submitted: "soumis",
            row: "Ligne",
            other: "Autre",
        },
        "es" => Words {
            cycle: "Ciclo",
            status: "Estado",
            date: "Fecha",
            draft: "borrador",
            submitted: "presentado",
            row: "Fila",
            other: "Otro",
        },
        _ => Words {
            cycle: "Cycle",
            status: "Status",
            date: "Date",
            draft: "draft",
            submitted: "submitted",
            row: "Row",
            other: "Other",
        },
    }
}

/// A paragraph of one run; line breaks in `text` become line breaks in the document.
fn text_paragraph(text: &str, bold: bool) -> Paragraph {
    let mut run = Run::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            run = run.add_break(BreakType::TextWrapping);
        }
        run = run.add_text(line.trim_end_matches('\r'));
    }
    if bold {
        run = run.bold();
    }
    Paragraph::new().add_run(run)
}

fn styled(style: &str, text: &str) -> Paragraph {
    Paragraph::new()
        .style(style)
        .add_run(Run::new().add_text(text))
}

fn heading_style(id: &str, name: &str, size: usize, level: usize) -> Style {
    Style::new(id, StyleType::Paragraph)
        .name(name)
        .based_on("Normal")
        .next("Normal")
        .size(size)
        .bold()
        .outline_lvl(level)
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

/// The draft as a Word document (`.docx` bytes), labels in `lang` (`en`, `fr` or `es`).
///
/// The date printed under the title is the day the draft was last changed, so the same draft
/// always gives the same document.
pub fn export_docx(core: &Core, draft_id: &str, lang: &str) -> Result<Vec<u8>> {
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
    let mut doc = Docx::new()
        .add_style(
            Style::new("Title", StyleType::Paragraph)
                .name("Title")
                .based_on("Normal")
                .next("Normal")
                .size(40)
                .bold(),
        )
        .add_style(heading_style("Heading1", "heading 1", 32, 0))
        .add_style(heading_style("Heading2", "heading 2", 26, 1))
        .created_at(&draft.created_at)
        .updated_at(&draft.updated_at)
        .add_paragraph(styled("Title", &title))
        .add_paragraph(text_paragraph(
            &format!(
                "{}: {} · {}: {} · {}: {date}",
                w.cycle, draft.cycle, w.status, status, w.date
            ),
            false,
        ));

    for (q, path) in instances(&form, &state) {
        if !state.is_relevant(&path) {
            continue;
        }
        match &q.kind {
            QuestionType::Group if !path.contains('/') => {
                doc = doc.add_paragraph(styled("Heading1", &label_of(q)));
            }
            QuestionType::Group if !q.label.is_empty() => {
                doc = doc.add_paragraph(styled("Heading2", &label_of(q)));
            }
            QuestionType::Repeat => {
                let n = path
                    .rsplit_once('[')
                    .and_then(|(_, n)| n.strip_suffix(']'))
                    .unwrap_or("?");
                doc = doc.add_paragraph(styled(
                    "Heading2",
                    &format!("{} — {} {n}", label_of(q), w.row),
                ));
            }
            kind if kind.is_input() => {
                let value = answers.get(&path).map(String::as_str).unwrap_or_default();
                doc = doc
                    .add_paragraph(text_paragraph(&label_of(q), true))
                    .add_paragraph(text_paragraph(
                        &shown_answer(&form, &state, q, &path, value, lang, &w),
                        false,
                    ));
            }
            // notes, calculations and metadata are not answers a reviewer signs off
            _ => {}
        }
    }

    let mut out = Cursor::new(Vec::new());
    doc.pack(&mut out).map_err(|e| {
        Error::InvalidInput(format!("the report could not be written as DOCX: {e}"))
    })?;
    Ok(out.into_inner())
}
