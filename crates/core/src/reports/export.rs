//! Exports of a draft's answers: JSON for machines, CSV for spreadsheets. Only the answers of
//! relevant questions are exported, as they would be submitted; hidden answers stay in the draft.

use serde_json::{Map, Value, json};
use stopover_forms::QuestionType;

use super::drafts::load;
use super::{evaluate, instances, load_form, section_of};
use crate::{Core, Result, check_language};

/// The formats a draft exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Docx,
    Pdf,
    Csv,
    Json,
}

impl ExportFormat {
    /// The file extension, also the format's name.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Docx => "docx",
            ExportFormat::Pdf => "pdf",
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
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

/// One CSV field, quoted as RFC 4180 asks when it holds a comma, quote or line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// CSV of the submitted answers in form order: `section,path,question,answer`, labels in `lang`
/// (`en`, `fr` or `es`), CRLF line ends, UTF-8 with a byte order mark so that Excel shows
/// accented letters correctly.
pub fn export_csv(core: &Core, draft_id: &str, lang: &str) -> Result<String> {
    let lang = check_language(lang)?;
    let conn = core.conn();
    let draft = load(&conn, draft_id)?;
    let (_, form) = load_form(&conn, &draft.form_id)?;
    let state = evaluate(&conn, draft_id, form.clone())?;
    let answers = state.submission_answers();
    let fallback = Some(form.default_language());
    let mut out = String::from("\u{feff}section,path,question,answer\r\n");
    let mut row = |section: &str, path: &str, label: &str, value: &str| {
        for (i, f) in [section, path, label, value].into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&field(f));
        }
        out.push_str("\r\n");
    };
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
        row(&section, &path, label, value);
        if q.or_other && q.kind != QuestionType::Calculate {
            let other = format!("{path}_other");
            if let Some(text) = answers.get(&other) {
                row(&section, &other, &format!("{label} (other)"), text);
            }
        }
    }
    Ok(out)
}
