//! A submitted report, for the Secretariat: readable in the console (and printable), and
//! downloadable as JSON, CSV, or a zip package with the files uploaded for it.
//!
//! The answers shown are those stored at submission, labelled with the published form in the
//! officer's language. PDF and Word documents are made by the app (their exporters live in
//! stopover-core, which the server does not depend on); the package holds what the server
//! can make itself: the JSON, the CSV, a printable HTML page, and the attachments.
//!
//! The capacity self-assessment is never shown one country at a time: refused here.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use rusqlite::OptionalExtension;
use serde_json::json;
use stopover_forms::{Form, QuestionType};
use stopover_protocol::reports::{SubmissionReceipt, is_cycle, is_form_id};

use super::reporting::{attachment, region_name};
use super::{Failed, OrFail};
use crate::charts::csv_cell;
use crate::console::i18n::{Lang, t, tf};
use crate::console::layout::{message_page, secure_headers, shell};
use crate::console::session::Officer;
use crate::error::{Error, Result};
use crate::monitoring::capacity::CAPACITY_FORM;
use crate::monitoring::pack::published;
use crate::monitoring::reporting::{Attachment, attachments};
use crate::state::AppState;

/// A submitted report with what it is read with.
struct Submitted {
    receipt: SubmissionReceipt,
    answers: BTreeMap<String, String>,
    form: Option<Arc<Form>>,
    attachments: Vec<Attachment>,
}

fn not_found(l: Lang) -> Failed {
    Failed::new(message_page(
        l,
        StatusCode::NOT_FOUND,
        "reports.not_found",
        Some(("/console/reporting", "common.back")),
    ))
}

async fn load(
    state: &AppState,
    l: Lang,
    country: &str,
    form_id: &str,
    cycle: &str,
) -> Result<Submitted, Failed> {
    let valid = country.len() == 2
        && country.chars().all(|c| c.is_ascii_uppercase())
        && is_form_id(form_id)
        && is_cycle(cycle);
    if !valid {
        return Err(not_found(l));
    }
    if form_id == CAPACITY_FORM {
        return Err(Failed::new(message_page(
            l,
            StatusCode::FORBIDDEN,
            "reports.aggregate_only",
            Some(("/console/capacity", "nav.capacity")),
        )));
    }
    let dir = state.db.dir().to_path_buf();
    let (country, form_id, cycle) = (country.to_string(), form_id.to_string(), cycle.to_string());
    let found = state
        .db
        .read(move |c| {
            let row: Option<(String, String)> = c
                .query_row(
                    "SELECT receipt, answers FROM report_submission WHERE country = ?1 AND form_id = ?2 AND cycle = ?3",
                    rusqlite::params![country, form_id, cycle],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((receipt, answers)) = row else {
                return Ok(None);
            };
            let receipt: SubmissionReceipt = serde_json::from_str(&receipt)?;
            let answers: BTreeMap<String, String> = serde_json::from_str(&answers)?;
            let form = published(c, &dir)?
                .and_then(|p| p.form(&form_id).and_then(|f| f.form().cloned()));
            let attachments = match &form {
                Some(f) => attachments(c, f, &country, &answers)?,
                None => Vec::new(),
            };
            Ok(Some(Submitted {
                receipt,
                answers,
                form,
                attachments,
            }))
        })
        .await
        .or_fail(l)?;
    found.ok_or_else(|| not_found(l))
}

/// An answer as people read it: the choice labels of a select, else the value.
fn value_label(form: &Form, name: &str, value: &str, lang: &str) -> String {
    let Some(q) = form.question(name) else {
        return value.to_string();
    };
    let list = match &q.kind {
        QuestionType::SelectOne(l) | QuestionType::SelectMultiple(l) | QuestionType::Rank(l) => l,
        _ => return value.to_string(),
    };
    let choices = form.choice_list(list);
    value
        .split_whitespace()
        .map(|v| {
            choices
                .iter()
                .find(|c| c.name == v)
                .and_then(|c| c.label.get(lang, Some(form.default_language())))
                .unwrap_or(v)
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn question_name(path: &str) -> &str {
    let last = path.rsplit('/').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

/// One answer row: (section label, path, question label, value, value as read).
type Line = (String, String, String, String, String);

/// The answers in form order, labelled in `lang`.
fn lines(s: &Submitted, lang: Lang) -> Vec<Line> {
    let code = lang.code();
    let Some(form) = &s.form else {
        return s
            .answers
            .iter()
            .map(|(p, v)| (String::new(), p.clone(), p.clone(), v.clone(), v.clone()))
            .collect();
    };
    let order: BTreeMap<&str, usize> = form
        .all_questions()
        .into_iter()
        .enumerate()
        .map(|(i, q)| (q.name.as_str(), i))
        .collect();
    let label = |name: &str| {
        form.question(name)
            .and_then(|q| q.label.get(code, Some(form.default_language())))
            .unwrap_or(name)
            .to_string()
    };
    let mut out: Vec<(usize, Line)> = s
        .answers
        .iter()
        .map(|(path, value)| {
            let name = question_name(path);
            let section = crate::reports::section_of(path)
                .map(label)
                .unwrap_or_default();
            (
                order.get(name).copied().unwrap_or(usize::MAX),
                (
                    section,
                    path.clone(),
                    label(name),
                    value.clone(),
                    value_label(form, name, value, code),
                ),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.1.cmp(&b.1.1)));
    out.into_iter().map(|(_, l)| l).collect()
}

fn title(s: &Submitted, lang: Lang) -> String {
    let form_title = s
        .form
        .as_ref()
        .and_then(|f| {
            f.settings
                .title
                .get(lang.code(), Some(f.default_language()))
        })
        .unwrap_or(&s.receipt.form_id)
        .to_string();
    tf(
        lang,
        "reports.title",
        &[
            ("form", &form_title),
            ("country", &s.receipt.country),
            ("cycle", &s.receipt.cycle),
        ],
    )
}

fn body(s: &Submitted, l: Lang, base: &str, with_links: bool) -> Markup {
    let r = &s.receipt;
    // Each section's heading before its first answer.
    let mut previous = String::new();
    let rows: Vec<(Option<String>, Line)> = lines(s, l)
        .into_iter()
        .map(|line| {
            let heading = (line.0 != previous && !line.0.is_empty()).then(|| line.0.clone());
            previous = line.0.clone();
            (heading, line)
        })
        .collect();
    html! {
        dl.receipt data-testid="receipt" {
            dt { (t(l, "reports.country")) } dd { span data-country=(r.country) { (r.country) } " — " (region_name(l, stopover_protocol::forum::region_of(&r.country))) }
            dt { (t(l, "reports.submitted_at")) } dd data-testid="submitted-at" { (r.submitted_at) }
            dt { (t(l, "reports.submitted_by")) } dd { (r.submitted_by) }
            dt { (t(l, "reports.receipt")) } dd data-testid="receipt-id" { (r.receipt_id) }
            dt { (t(l, "reports.form_version")) } dd { (r.form_id) " " (r.form_version) }
            dt { (t(l, "reports.answers")) } dd { (r.answers_submitted) }
            dt { (t(l, "reports.digest")) } dd.mono { (r.answers_sha256) }
        }
        @if with_links {
            p.downloads data-testid="downloads" {
                (t(l, "reports.download")) " "
                a href={(base) "/package.zip"} download data-testid="download-zip" { (t(l, "reports.zip")) } " · "
                a href={(base) "/report.json"} download data-testid="download-json" { "JSON" } " · "
                a href={(base) "/answers.csv"} download data-testid="download-csv" { "CSV" } " · "
                a href={(base) "/print.html"} data-testid="download-print" { (t(l, "reports.print")) }
            }
            p.hint { (t(l, "reports.no_pdf")) }
        }
        h2 { (t(l, "reports.attachments")) }
        @if s.attachments.is_empty() {
            p.empty data-testid="no-attachments" { (t(l, "reports.no_attachments")) }
        } @else {
            ul data-testid="attachment-list" {
                @for a in &s.attachments {
                    li { (a.filename.as_deref().unwrap_or(&a.sha256)) " (" (a.size) " " (t(l, "reports.bytes")) ")" }
                }
            }
        }
        h2 { (t(l, "reports.answers_heading")) }
        table.data.answers data-testid="answers-table" {
            thead { tr { th scope="col" { (t(l, "reports.question")) } th scope="col" { (t(l, "reports.answer")) } } }
            tbody {
                @for (heading, (_sec, path, label, _value, shown)) in rows {
                    @if let Some(h) = heading {
                        tr.section { th colspan="2" scope="rowgroup" { (h) } }
                    }
                    tr data-path=(path) {
                        th scope="row" { (label) }
                        td { (shown) }
                    }
                }
            }
        }
    }
}

/// The submitted report, in the console.
pub async fn view(
    State(state): State<AppState>,
    officer: Officer,
    Path((country, form_id, cycle)): Path<(String, String, String)>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let s = load(&state, l, &country, &form_id, &cycle).await?;
    let base = format!("/console/reports/{country}/{form_id}/{cycle}");
    Ok(shell(
        &officer,
        "/console/reporting",
        &title(&s, l),
        None,
        body(&s, l, &base, true),
    ))
}

fn json_of(s: &Submitted) -> serde_json::Value {
    json!({
        "receipt": s.receipt,
        "answers": s.answers,
        "attachments": s.attachments.iter().map(|a| json!({
            "sha256": a.sha256, "filename": a.filename, "size": a.size, "answer": a.path
        })).collect::<Vec<_>>(),
    })
}

fn csv_of(s: &Submitted, l: Lang) -> String {
    let mut out = String::from("section,path,question,value,answer\r\n");
    for (sec, path, label, value, shown) in lines(s, l) {
        let row = [sec, path, label, value, shown];
        out.push_str(
            &row.iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

fn print_html(s: &Submitted, l: Lang) -> String {
    let title = title(s, l);
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                title { (title) }
                link rel="stylesheet" href="/console/static/console.css";
            }
            body.print {
                main { h1 { (title) } (body(s, l, "", false)) }
            }
        }
    }
    .into_string()
}

/// A file name for the attachment inside the package: its own name when it has a usable one.
fn packaged_name(a: &Attachment, taken: &mut Vec<String>) -> String {
    let base: String = a
        .filename
        .as_deref()
        .unwrap_or(&a.sha256)
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base = base.trim_start_matches('.').trim().to_string();
    let mut name = if base.is_empty() {
        a.sha256.clone()
    } else {
        base
    };
    if taken.contains(&name) {
        name = format!("{}-{name}", &a.sha256[..8]);
    }
    taken.push(name.clone());
    format!("attachments/{name}")
}

fn package(state: &AppState, s: &Submitted, l: Lang) -> Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let fail = |e: zip::result::ZipError| Error::Storage(format!("report package: {e}"));
    let io = |e: std::io::Error| Error::Storage(format!("report package: {e}"));
    zip.start_file("report.json", options).map_err(fail)?;
    zip.write_all(serde_json::to_string_pretty(&json_of(s))?.as_bytes())
        .map_err(io)?;
    zip.start_file("answers.csv", options).map_err(fail)?;
    zip.write_all(csv_of(s, l).as_bytes()).map_err(io)?;
    zip.start_file("report.html", options).map_err(fail)?;
    zip.write_all(print_html(s, l).as_bytes()).map_err(io)?;
    let mut taken = Vec::new();
    let mut missing = Vec::new();
    for a in &s.attachments {
        match std::fs::read(state.storage.file_path(&a.sha256)) {
            Ok(bytes) => {
                zip.start_file(packaged_name(a, &mut taken), options)
                    .map_err(fail)?;
                zip.write_all(&bytes).map_err(io)?;
            }
            Err(e) => {
                tracing::warn!(sha256 = %a.sha256, error = %e, "attachment missing from storage");
                missing.push(a.sha256.clone());
            }
        }
    }
    if !missing.is_empty() {
        zip.start_file("MISSING-ATTACHMENTS.txt", options)
            .map_err(fail)?;
        zip.write_all(missing.join("\n").as_bytes()).map_err(io)?;
    }
    Ok(zip.finish().map_err(fail)?.into_inner())
}

/// `report.json`, `answers.csv`, `print.html` or `package.zip` of a submitted report.
pub async fn download(
    State(state): State<AppState>,
    officer: Officer,
    Path((country, form_id, cycle, file)): Path<(String, String, String, String)>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let s = load(&state, l, &country, &form_id, &cycle).await?;
    let stem = format!("{form_id}-{country}-{cycle}");
    Ok(match file.as_str() {
        "report.json" => attachment(
            serde_json::to_vec_pretty(&json_of(&s))
                .map_err(|e| Failed::new(super::error_page(l, &e.into())))?,
            "application/json",
            &format!("{stem}.json"),
        ),
        "answers.csv" => attachment(
            csv_of(&s, l).into_bytes(),
            "text/csv; charset=utf-8",
            &format!("{stem}.csv"),
        ),
        "print.html" => secure_headers(Html(print_html(&s, l)).into_response()),
        "package.zip" => {
            let st = state.clone();
            let zipped = tokio::task::spawn_blocking(move || package(&st, &s, l))
                .await
                .map_err(|e| Failed::new(super::error_page(l, &e.into())))?
                .or_fail(l)?;
            attachment(zipped, "application/zip", &format!("{stem}.zip"))
        }
        _ => return Err(not_found(l)),
    })
}
