//! What a printable export of a draft says, decided once for every format: the form's title, the
//! cycle, status and date of the draft, the notice that it is a drafting aid, then every section
//! with its relevant questions in form order, labels in the reader's language and each
//! question's place in the official format (`reference`). Select answers show their choice
//! labels, never their codes; a relevant question without an answer shows "—" so a reviewer
//! sees what is missing. Answers of hidden (non-relevant) questions are left out, as in the
//! other exports. A `table-list` group whose questions share one choice list (a matrix, as the
//! app shows it) is one [`Block::Matrix`].
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
    pub status: &'static str,
    pub date: &'static str,
    pub draft: &'static str,
    pub submitted: &'static str,
    pub row: &'static str,
    pub other: &'static str,
    /// Before the page number in a page footer ("Page 2 / 7").
    pub page: &'static str,
    /// The header of a matrix's first column.
    pub question: &'static str,
    /// Marks the chosen cell of a matrix row.
    pub chosen: &'static str,
}

pub(crate) fn words(lang: &str) -> Words {
    match lang {
        "fr" => Words {
            status: "Statut",
            date: "Date",
            draft: "brouillon",
            submitted: "soumis",
            row: "Ligne",
            other: "Autre",
            page: "Page",
            question: "Question",
            chosen: "X",
        },
        "es" => Words {
            status: "Estado",
            date: "Fecha",
            draft: "borrador",
            submitted: "presentado",
            row: "Fila",
            other: "Otro",
            page: "Página",
            question: "Pregunta",
            chosen: "X",
        },
        _ => Words {
            status: "Status",
            date: "Date",
            draft: "draft",
            submitted: "submitted",
            row: "Row",
            other: "Other",
            page: "Page",
            question: "Question",
            chosen: "X",
        },
    }
}

/// The meeting a form's reporting cycles are named after (setting `cycle_meeting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CycleMeeting {
    /// Conference of the Parties (CMS).
    Cop,
    /// Meeting of the Parties (AEWA and the other Agreements).
    Mop,
}

impl CycleMeeting {
    pub(crate) fn of(form: &Form) -> Option<CycleMeeting> {
        match form
            .settings
            .extra
            .get("cycle_meeting")
            .map(|m| m.trim().to_ascii_uppercase())
            .as_deref()
        {
            Some("COP") => Some(CycleMeeting::Cop),
            Some("MOP") => Some(CycleMeeting::Mop),
            _ => None,
        }
    }

    pub(crate) fn prefix(self) -> &'static str {
        match self {
            CycleMeeting::Cop => "COP",
            CycleMeeting::Mop => "MOP",
        }
    }
}

/// "Reporting cycle (Conference of the Parties)" and so on: what the cycle of a report is
/// called in `lang`, after the meeting the form reports to.
pub(crate) fn cycle_label(lang: &str, meeting: Option<CycleMeeting>) -> &'static str {
    use CycleMeeting::{Cop, Mop};
    match (lang, meeting) {
        ("fr", Some(Cop)) => "Cycle de rapport (Conférence des Parties)",
        ("fr", Some(Mop)) => "Cycle de rapport (Réunion des Parties)",
        ("fr", None) => "Cycle de rapport",
        ("es", Some(Cop)) => "Ciclo de presentación de informes (Conferencia de las Partes)",
        ("es", Some(Mop)) => "Ciclo de presentación de informes (Reunión de las Partes)",
        ("es", None) => "Ciclo de presentación de informes",
        (_, Some(Cop)) => "Reporting cycle (Conference of the Parties)",
        (_, Some(Mop)) => "Reporting cycle (Meeting of the Parties)",
        (_, None) => "Reporting cycle",
    }
}

/// The notice every export carries: the document is a drafting aid, the official report is
/// submitted where the instrument's Secretariat says (today the Online Reporting System of the
/// CMS Family, which CMS and AEWA both use), and what the bracketed references are.
pub(crate) fn notice(lang: &str, instrument: Option<&str>) -> String {
    let instrument = instrument.map(str::trim).filter(|i| !i.is_empty());
    match lang {
        "fr" => format!(
            "Outil de préparation, et non le rapport officiel. Ce document a été préparé avec \
             Stopover. Le rapport national officiel{} est soumis selon les modalités fixées par \
             le Secrétariat : à l'heure actuelle, dans le Système de rapport en ligne de la \
             Famille CMS (ORS). Entre crochets : la place de chaque question dans le modèle \
             officiel ([Stopover] : sans équivalent, aide à la rédaction).",
            instrument.map(|i| format!(" ({i})")).unwrap_or_default()
        ),
        "es" => format!(
            "Herramienta de preparación, no el informe oficial. Este documento se preparó con \
             Stopover. El informe nacional oficial{} se presenta por la vía que indique la \
             Secretaría: actualmente, el Sistema de Presentación de Informes en Línea de la \
             Familia de la CMS (ORS). Entre corchetes: el lugar de cada pregunta en el formato \
             oficial ([Stopover]: sin equivalente, ayuda para la redacción).",
            instrument.map(|i| format!(" ({i})")).unwrap_or_default()
        ),
        _ => format!(
            "Drafting aid, not the official report. This document was prepared with Stopover. \
             The official{} national report is submitted where the Secretariat asks Parties to \
             submit it: at present, the Online Reporting System (ORS) of the CMS Family. In \
             brackets: each question's place in the official format ([Stopover]: no \
             counterpart, a drafting aid).",
            instrument.map(|i| format!(" {i}")).unwrap_or_default()
        ),
    }
}

/// A question's place in the official report format (the form's `reference` column), if the
/// form gives one.
pub(crate) fn reference(q: &Question) -> Option<String> {
    q.extra
        .get("reference")
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

/// One row of a matrix: a question and the answer chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MatrixRow {
    pub question: String,
    pub reference: Option<String>,
    /// The chosen column (an index into [`Block::Matrix`]'s `columns`), if answered.
    pub chosen: Option<usize>,
    /// The answer as a reader sees it ("—" when missing).
    pub answer: String,
}

/// One piece of the body, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// A top-level group of the form.
    Section {
        label: String,
        reference: Option<String>,
    },
    /// A labelled group inside a section, or one row of a repeat ("Species — Row 2").
    Heading {
        label: String,
        reference: Option<String>,
    },
    /// A question and its answer as the reader sees it ("—" when missing). Either may hold
    /// line breaks typed by the user.
    Answer {
        question: String,
        reference: Option<String>,
        answer: String,
    },
    /// A `table-list` group of questions sharing one choice list: a row per relevant
    /// question, a column per choice.
    Matrix {
        label: Option<String>,
        reference: Option<String>,
        columns: Vec<String>,
        rows: Vec<MatrixRow>,
    },
}

/// A draft as it is printed.
pub(crate) struct Document {
    /// The reader's language (`en`, `fr` or `es`).
    pub lang: &'static str,
    pub words: Words,
    pub title: String,
    /// "Reporting cycle (Conference of the Parties): COP15 · Status: draft · Date: 2025-03-01"
    pub meta: String,
    /// That the document is a drafting aid and where the official report goes.
    pub notice: String,
    /// Who the document is by: the signed-in person's name, else "Stopover".
    pub author: String,
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

/// The shared choice list of a `table-list` group drawn as a matrix (as the app draws it): its
/// questions are single choices from one list, without "other" or a filter, and it holds no
/// group or repeat.
pub(crate) fn matrix_list(group: &Question) -> Option<&str> {
    if group.kind != QuestionType::Group || !group.has_appearance("table-list") {
        return None;
    }
    if group.children.iter().any(|c| c.kind.is_container()) {
        return None;
    }
    let mut questions = group
        .children
        .iter()
        .filter(|c| !matches!(c.kind, QuestionType::Note | QuestionType::Calculate));
    let first = questions.next()?;
    let list = first.kind.list()?;
    let same = |c: &Question| {
        c.kind == QuestionType::SelectOne(list.to_string())
            && !c.or_other
            && c.choice_filter.is_none()
    };
    (same(first) && questions.all(same)).then_some(list)
}

/// The name the signed-in person goes by, for the author of a document: the display name of the
/// account this device is signed in to, else its user name; `None` when nobody is signed in.
pub(crate) fn signed_in_name(core: &Core) -> Option<String> {
    use crate::sync::state;
    let conn = core.conn();
    if state::get(&conn, state::SIGNED_IN)
        .ok()
        .flatten()
        .as_deref()
        != Some("1")
    {
        return None;
    }
    let account = state::get(&conn, state::ACCOUNT).ok().flatten()?;
    let from_sign_in = state::get(&conn, state::DISPLAY_NAME).ok().flatten();
    let from_directory = || -> Option<String> {
        let json: String = conn
            .query_row(
                "SELECT account_json FROM profile WHERE username = ?1",
                [&account],
                |r| r.get(0),
            )
            .ok()?;
        let card: stopover_protocol::forum::ProfileAccount = serde_json::from_str(&json).ok()?;
        Some(card.display_name)
    };
    from_sign_in
        .or_else(from_directory)
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .or(Some(account))
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
        cycle_label(lang, CycleMeeting::of(&form)),
        draft.cycle,
        w.status,
        status,
        w.date
    );

    let mut blocks = Vec::new();
    // the path of the matrix whose rows were taken already, to skip its questions
    let mut inside: Option<String> = None;
    let all = instances(&form, &state);
    for (q, path) in &all {
        if let Some(prefix) = &inside {
            if path.starts_with(prefix.as_str()) && path[prefix.len()..].starts_with('/') {
                continue;
            }
            inside = None;
        }
        if !state.is_relevant(path) {
            continue;
        }
        match &q.kind {
            QuestionType::Group if !path.contains('/') => {
                blocks.push(Block::Section {
                    label: label_of(q),
                    reference: reference(q),
                });
            }
            QuestionType::Group if matrix_list(q).is_some() => {
                let list = matrix_list(q).unwrap_or_default();
                let choices = form.choice_list(list);
                let columns = choices
                    .iter()
                    .map(|c| c.label.get(lang, fallback).unwrap_or(&c.name).to_string())
                    .collect();
                let rows = q
                    .children
                    .iter()
                    .filter(|c| c.kind.is_input())
                    .filter_map(|c| {
                        let row_path = format!("{path}/{}", c.name);
                        if !state.is_relevant(&row_path) {
                            return None;
                        }
                        let value = answers.get(&row_path).map(|v| v.trim()).unwrap_or_default();
                        Some(MatrixRow {
                            question: label_of(c),
                            reference: reference(c),
                            chosen: choices.iter().position(|ch| ch.name == value),
                            answer: shown_answer(&form, &state, c, &row_path, value, lang, &w),
                        })
                    })
                    .collect();
                blocks.push(Block::Matrix {
                    label: (!q.label.is_empty()).then(|| label_of(q)),
                    reference: reference(q),
                    columns,
                    rows,
                });
                inside = Some(path.clone());
            }
            QuestionType::Group if !q.label.is_empty() => {
                blocks.push(Block::Heading {
                    label: label_of(q),
                    reference: reference(q),
                });
            }
            QuestionType::Repeat => {
                let n = path
                    .rsplit_once('[')
                    .and_then(|(_, n)| n.strip_suffix(']'))
                    .unwrap_or("?");
                blocks.push(Block::Heading {
                    label: format!("{} — {} {n}", label_of(q), w.row),
                    reference: reference(q),
                });
            }
            kind if kind.is_input() => {
                let value = answers.get(path).map(String::as_str).unwrap_or_default();
                blocks.push(Block::Answer {
                    question: label_of(q),
                    reference: reference(q),
                    answer: shown_answer(&form, &state, q, path, value, lang, &w),
                });
            }
            // notes, calculations and metadata are not answers a reviewer signs off
            _ => {}
        }
    }

    let instrument = form.settings.extra.get("instrument").map(String::as_str);
    Ok(Document {
        lang,
        words: w,
        title,
        meta,
        notice: notice(lang, instrument),
        author: signed_in_name(core).unwrap_or_else(|| "Stopover".to_string()),
        created_at: draft.created_at,
        updated_at: draft.updated_at,
        blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_names_the_instrument_and_the_ors_in_each_language() {
        for lang in ["en", "fr", "es"] {
            let text = notice(lang, Some("AEWA"));
            assert!(text.contains("AEWA") && text.contains("(ORS)"), "{text}");
            assert!(text.contains("Stopover"));
            assert!(!notice(lang, None).contains("()"));
        }
        assert!(notice("fr", Some("CMS")).starts_with("Outil de préparation"));
        assert!(notice("es", Some("CMS")).starts_with("Herramienta de preparación"));
    }

    #[test]
    fn cycles_are_named_after_the_meeting() {
        assert_eq!(
            cycle_label("fr", Some(CycleMeeting::Mop)),
            "Cycle de rapport (Réunion des Parties)"
        );
        assert_eq!(
            cycle_label("en", Some(CycleMeeting::Cop)),
            "Reporting cycle (Conference of the Parties)"
        );
        assert_eq!(cycle_label("es", None), "Ciclo de presentación de informes");
    }
}
