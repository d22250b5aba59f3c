//! Exports of a draft's answers: JSON for machines, CSV for spreadsheets. Only the answers of
//! relevant questions are exported, as they would be submitted; hidden answers stay in the draft.

use serde_json::{Map, Value, json};
use stopover_forms::{Form, Question, QuestionType};

use super::drafts::load;
use super::export_model::reference;
use super::{evaluate, instances, load_form, section_of};
use crate::ErrorCode;
use crate::{Core, Error, Result, check_language};

/// The formats a draft exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Docx,
    Pdf,
    Csv,
    Json,
    /// The submission package: one ZIP with the PDF, DOCX, CSV, JSON, the attachments and a
    /// manifest of SHA-256 sums (see [`super::export_package`]).
    Package,
}

impl ExportFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Docx => "docx",
            ExportFormat::Pdf => "pdf",
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
            ExportFormat::Package => "zip",
        }
    }
}

/// `{form_id, form_version, cycle, status, answers: {path: value}}` with the answers of
/// relevant questions (and calculations) only.
pub fn export_json(core: &Core, draft_id: &str) -> Result<Value> {
    let conn = core.conn();
    let draft = load(&conn, draft_id)?;
    let (_, form) = load_form(&conn, &draft.form_id)?;
    let state = evaluate(&conn, draft_id, form)?;
    let answers: Map<String, Value> = state
        .submission_answers()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Ok(json!({
        "form_id": draft.form_id,
        "form_version": draft.form_version,
        "cycle": draft.cycle,
        "status": draft.status,
        "answers": answers,
    }))
}

/// The CSV export's words in each language.
struct CsvWords {
    header: [&'static str; 6],
    /// After a question's label on the row of its "other" free text.
    other: &'static str,
}

fn csv_words(lang: &str) -> CsvWords {
    match lang {
        "fr" => CsvWords {
            header: [
                "Section",
                "Chemin",
                "Question",
                "Référence (modèle officiel)",
                "Réponse (codes)",
                "Réponse (libellés)",
            ],
            other: "(autre)",
        },
        "es" => CsvWords {
            header: [
                "Sección",
                "Ruta",
                "Pregunta",
                "Referencia (formato oficial)",
                "Respuesta (códigos)",
                "Respuesta (etiquetas)",
            ],
            other: "(otro)",
        },
        _ => CsvWords {
            header: [
                "Section",
                "Path",
                "Question",
                "Reference (official format)",
                "Answer (codes)",
                "Answer (labels)",
            ],
            other: "(other)",
        },
    }
}

/// A cell a spreadsheet will not run as a formula: one starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return gets a leading `'` (the OWASP advice for CSV injection). A plain
/// number (`-12`, `+3.5`) is left as it is: it cannot be a formula, and it must stay a number.
pub(crate) fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = {
        let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
        !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
            && digits.chars().filter(|&c| c == '.').count() <= 1
            && digits.chars().any(|c| c.is_ascii_digit())
    };
    if risky && !number {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The choice labels of a select answer in `lang` ("; " between several), `None` for other
/// questions. "other" of an `or_other` question is labelled in `lang` too.
fn choice_labels(
    form: &Form,
    q: &Question,
    value: &str,
    lang: &str,
    other: &str,
) -> Option<String> {
    let list = q.kind.list()?;
    let fallback = Some(form.default_language());
    let choices = form.choice_list(list);
    let labels: Vec<String> = value
        .split_whitespace()
        .map(|code| {
            if q.or_other && code == "other" {
                return other.to_string();
            }
            choices
                .iter()
                .find(|c| c.name == code)
                .and_then(|c| c.label.get(lang, fallback))
                .unwrap_or(code)
                .to_string()
        })
        .collect();
    Some(labels.join("; "))
}

fn csv_failed(e: impl std::fmt::Display) -> Error {
    Error::invalid(
        ErrorCode::ExportFailed,
        format!("the report could not be written as CSV: {e}"),
    )
    .with("format", "csv")
}

/// CSV of the submitted answers in form order, one row per answer: section, path, question,
/// its reference in the official format, the answer as stored (choice codes) and, for choices,
/// their labels. Headers and labels in `lang` (`en`, `fr` or `es`), CRLF line ends, UTF-8 with
/// a byte order mark so that Excel shows accented letters correctly, and every cell that a
/// spreadsheet would run as a formula neutralised ([`neutralise`]).
pub fn export_csv(core: &Core, draft_id: &str, lang: &str) -> Result<String> {
    let lang = check_language(lang)?;
    let words = csv_words(lang);
    let conn = core.conn();
    let draft = load(&conn, draft_id)?;
    let (_, form) = load_form(&conn, &draft.form_id)?;
    let state = evaluate(&conn, draft_id, form.clone())?;
    drop(conn);
    let answers = state.submission_answers();
    let fallback = Some(form.default_language());
    let other_label = super::export_model::words(lang).other;

    let mut out = csv_writer();
    out.write_record(words.header).map_err(csv_failed)?;
    let mut row = |cells: [&str; 6]| write_row(&mut out, &cells);
    for (q, path) in instances(&form, &state) {
        if q.kind.is_container() {
            continue;
        }
        let Some(value) = answers.get(&path) else {
            continue;
        };
        let section = section_of(&form, &path)
            .map(|s| s.label.get(lang, fallback).unwrap_or(&s.name).to_string())
            .unwrap_or_default();
        let label = q.label.get(lang, fallback).unwrap_or(&q.name);
        let reference = reference(q).unwrap_or_default();
        let labels = choice_labels(&form, q, value, lang, other_label).unwrap_or_default();
        row([&section, &path, label, &reference, value, &labels])?;
        if q.or_other && q.kind != QuestionType::Calculate {
            let other = format!("{path}_other");
            if let Some(text) = answers.get(&other) {
                let label = format!("{label} {}", words.other);
                row([&section, &other, &label, &reference, text, ""])?;
            }
        }
    }
    csv_text(out)
}

/// The export's CSV writer: comma separated, quotes where needed, CRLF line ends.
fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new())
}

/// One row of answers, every cell [`neutralise`]d.
fn write_row(out: &mut csv::Writer<Vec<u8>>, cells: &[&str]) -> Result<()> {
    out.write_record(cells.iter().map(|c| neutralise(c).into_owned()))
        .map_err(csv_failed)
}

/// The written rows as the file's text, after a byte order mark (Excel then reads UTF-8).
fn csv_text(out: csv::Writer<Vec<u8>>) -> Result<String> {
    let bytes = out.into_inner().map_err(csv_failed)?;
    let text = String::from_utf8(bytes).map_err(csv_failed)?;
    Ok(format!("\u{feff}{text}"))
}

#[cfg(test)]
mod tests {
    use super::{csv_text, csv_words, csv_writer, neutralise, write_row};
    use proptest::prelude::*;

    #[test]
    fn formulas_are_neutralised_and_numbers_kept() {
        for risky in [
            "=1+1",
            "=HYPERLINK(\"http://x\")",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1:A2)",
            "\tx",
            "\rx",
            "-",
            "+",
        ] {
            assert_eq!(neutralise(risky), format!("'{risky}"), "{risky:?}");
        }
        for safe in ["-12", "+3.5", "-0.25", "plain", "a=b", "", "12", "Ñandú"] {
            assert_eq!(neutralise(safe), safe, "{safe:?}");
        }
        assert_eq!(neutralise("-1.2.3"), "'-1.2.3");
        assert_eq!(neutralise("-.")[..1], *"'");
    }

    /// A cell as a person might type it: any start a spreadsheet runs as a formula, quotes,
    /// separators, line breaks, tabs, letters of several scripts; or a signed number.
    fn cell() -> impl Strategy<Value = String> {
        let start = prop::sample::select(vec![
            "", "=", "+", "-", "@", "\t", "\r", "\n", "'", "\"", ",", " ", "-1", "+.",
        ]);
        let letters: Vec<char> = "ab=+-@'\",;\t\r\n .0123456789éŁКğ🦆".chars().collect();
        let body =
            prop::collection::vec(prop::sample::select(letters), 0..12).prop_map(String::from_iter);
        let number = (
            prop::sample::select(vec!["", "-", "+"]),
            "[0-9]{0,4}",
            prop::option::of("[0-9]{0,3}"),
        )
            .prop_map(|(sign, int, frac)| match frac {
                Some(frac) => format!("{sign}{int}.{frac}"),
                None => format!("{sign}{int}"),
            });
        prop_oneof![
            3 => (start, body).prop_map(|(s, b)| format!("{s}{b}")),
            1 => number,
        ]
    }

    /// What a spreadsheet reads as a plain number (the guard leaves it as it is).
    fn plain_number(cell: &str) -> bool {
        let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        (!int.is_empty() || !frac.is_empty())
            && int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Written as the export writes it and read back with a CSV reader, every row and
        /// cell comes back: as typed, or with one leading `'` when a spreadsheet would run it
        /// as a formula; no cell read back starts a formula.
        #[test]
        fn csv_rows_read_back_as_typed_and_never_start_a_formula(
            rows in prop::collection::vec(prop::collection::vec(cell(), 6), 0..8),
        ) {
            let header = csv_words("en").header;
            let mut out = csv_writer();
            out.write_record(header).unwrap();
            for row in &rows {
                let cells: Vec<&str> = row.iter().map(String::as_str).collect();
                write_row(&mut out, &cells).unwrap();
            }
            let text = csv_text(out).unwrap();
            let text = text.strip_prefix('\u{feff}').expect("a byte order mark");

            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(text.as_bytes());
            let read: Vec<Vec<String>> = reader
                .records()
                .map(|r| r.unwrap().iter().map(str::to_string).collect())
                .collect();
            prop_assert_eq!(read.len(), rows.len() + 1, "rows in {:?}", text);
            prop_assert_eq!(&read[0], &header.map(str::to_string));
            for (typed, got) in rows.iter().zip(&read[1..]) {
                prop_assert_eq!(got.len(), typed.len());
                for (typed, got) in typed.iter().zip(got) {
                    let risky = typed.starts_with(['=', '+', '-', '@', '\t', '\r']);
                    if risky && !plain_number(typed) {
                        prop_assert_eq!(got, &format!("'{typed}"));
                    } else {
                        prop_assert_eq!(got, typed);
                    }
                    prop_assert!(
                        !got.starts_with(['=', '+', '-', '@', '\t', '\r']) || plain_number(got),
                        "{:?} starts a formula", got
                    );
                }
            }
        }
    }
}
