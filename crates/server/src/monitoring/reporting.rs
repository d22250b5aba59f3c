//! The reporting table: for a cycle, every Party and instrument — not started, in progress
//! (how complete, judged by the same forms engine as the app against the published form),
//! shared with colleagues (the sections given to them), submitted (when, receipt,
//! attachments), late against the deadline the Secretariat set.
//!
//! The Parties are the countries the server knows for an instrument: those with an approved
//! focal point for it, and any whose report of it was started or submitted. The capacity
//! self-assessment is a report form too, but it is never listed here: the Secretariat reads it
//! in aggregate only ([`super::capacity`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::Value;
use stopover_forms::{Date, EvalContext, Form, FormState, Progress, QuestionType};
use stopover_protocol::RecordKind;
use stopover_protocol::forum::region_of;
use stopover_protocol::reports::{SubmissionReceipt, report_entity_id};

use super::capacity::CAPACITY_FORM;
use super::cycles::Cycle;
use super::pack::Published;
use crate::db::unix_now;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotStarted,
    InProgress,
    Submitted,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::NotStarted => "not_started",
            Status::InProgress => "in_progress",
            Status::Submitted => "submitted",
        }
    }
}

/// A file uploaded for a report: an answer of a `file` question names it by SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    pub sha256: String,
    pub filename: Option<String>,
    pub size: u64,
    /// The answer path that names it.
    pub path: String,
}

/// One Party's report of one instrument in the cycle.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    pub country: String,
    pub region: Option<&'static str>,
    pub instrument: String,
    pub form_id: String,
    pub cycle: String,
    pub status: Status,
    /// Relevant questions answered (in progress: the server's copy; submitted: what was
    /// submitted). `None` when not started.
    pub answered: Option<usize>,
    pub total: Option<usize>,
    /// Colleagues sections are given to, by username.
    pub shared_with: Vec<String>,
    pub receipt: Option<SubmissionReceipt>,
    pub attachments: Vec<Attachment>,
    /// Past the deadline and not submitted, or submitted after it.
    pub late: bool,
}

impl ReportRow {
    /// Whole percent answered, rounded down (60 % means at least 60 %).
    pub fn percent(&self) -> Option<u32> {
        match (self.answered, self.total) {
            (Some(_), Some(0)) => Some(100),
            (Some(a), Some(t)) => Some((a * 100 / t) as u32),
            _ => None,
        }
    }
}

/// Which rows to show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub region: Option<String>,
    pub instrument: Option<String>,
}

/// The report forms of the pack: (form id, instrument, form), the capacity form left out.
pub fn report_forms(pack: &Published) -> Vec<(String, String, Arc<Form>)> {
    pack.forms
        .iter()
        .filter(|f| f.id != CAPACITY_FORM)
        .filter_map(|f| Some((f.id.clone(), f.instrument()?.to_string(), f.form()?.clone())))
        .collect()
}

fn today() -> Date {
    Date(unix_now().div_euclid(86_400))
}

/// Every stored answer of a report (cleared ones left out).
pub fn answers(conn: &Connection, country: &str, entity: &str) -> Result<BTreeMap<String, String>> {
    let mut stmt = conn.prepare(
        "SELECT field, value FROM field WHERE scope = ?1 AND kind = ?2 AND entity_id = ?3",
    )?;
    let rows = stmt.query_map(
        params![
            format!("country:{country}"),
            RecordKind::ReportAnswer.name(),
            entity
        ],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
    )?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (path, json) = row?;
        if let Value::String(s) = serde_json::from_str(&json)? {
            out.insert(path, s);
        }
    }
    Ok(out)
}

/// The colleagues sections of a report are given to (distinct usernames).
fn shared_with(conn: &Connection, country: &str, entity: &str) -> Result<Vec<String>> {
    let mut stmt =
        conn.prepare("SELECT value FROM field WHERE scope = ?1 AND kind = ?2 AND entity_id = ?3")?;
    let rows = stmt.query_map(
        params![
            format!("country:{country}"),
            RecordKind::ReportAssignment.name(),
            entity
        ],
        |r| r.get::<_, String>(0),
    )?;
    let mut names = BTreeSet::new();
    for json in rows {
        if let Value::String(u) = serde_json::from_str(&json?)? {
            names.insert(u);
        }
    }
    Ok(names.into_iter().collect())
}

/// The SHA-256 digests (64 hex digits) an answer names.
fn digests(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|w| w.len() == 64)
}

/// The files the answers to `file` questions name that accounts of `country` uploaded.
pub fn attachments(
    conn: &Connection,
    form: &Form,
    country: &str,
    answers: &BTreeMap<String, String>,
) -> Result<Vec<Attachment>> {
    let file_questions: BTreeSet<&str> = form
        .all_questions()
        .into_iter()
        .filter(|q| q.kind == QuestionType::File)
        .map(|q| q.name.as_str())
        .collect();
    let mut out: Vec<Attachment> = Vec::new();
    for (path, value) in answers {
        let name = path.rsplit('/').next().unwrap_or(path);
        let name = name.split('[').next().unwrap_or(name);
        if !file_questions.contains(name) {
            continue;
        }
        for sha in digests(value) {
            let sha = sha.to_ascii_lowercase();
            if out.iter().any(|a| a.sha256 == sha) {
                continue;
            }
            let found: Option<(Option<String>, i64)> = conn
                .query_row(
                    "SELECT u.filename, u.length FROM upload u JOIN account a ON a.id = u.account_id
                     WHERE u.sha256 = ?1 AND u.complete = 1 AND a.country = ?2
                     ORDER BY u.completed_at LIMIT 1",
                    params![sha, country],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map(Some)
                .or_else(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => Ok(None),
                    e => Err(e),
                })?;
            if let Some((filename, size)) = found {
                out.push(Attachment {
                    sha256: sha,
                    filename,
                    size: size as u64,
                    path: path.clone(),
                });
            }
        }
    }
    Ok(out)
}

fn progress(form: &Arc<Form>, answers: &BTreeMap<String, String>) -> Progress {
    FormState::new(
        form.clone(),
        answers.clone().into_iter().collect(),
        EvalContext { today: today() },
    )
    .completion()
    .overall
}

/// Submitted reports of a cycle: (country, form id) → (receipt, answers as submitted).
type Submitted = BTreeMap<(String, String), (SubmissionReceipt, BTreeMap<String, String>)>;

fn submissions(conn: &Connection, cycle: &str) -> Result<Submitted> {
    let mut stmt = conn.prepare(
        "SELECT country, form_id, receipt, answers FROM report_submission WHERE cycle = ?1",
    )?;
    let rows = stmt.query_map([cycle], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out = Submitted::new();
    for row in rows {
        let (country, form, receipt, answers) = row?;
        out.insert(
            (country, form),
            (
                serde_json::from_str(&receipt)?,
                serde_json::from_str(&answers)?,
            ),
        );
    }
    Ok(out)
}

/// Countries with an approved focal point for `instrument`.
fn focal_countries(conn: &Connection, instrument: &str) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for a in crate::accounts::store::list(conn)? {
        if a.status == stopover_protocol::AccountStatus::Approved
            && a.role == stopover_protocol::Role::Nfp
            && a.instruments
                .iter()
                .any(|i| i.eq_ignore_ascii_case(instrument))
            && let Some(c) = a.country
        {
            out.insert(c);
        }
    }
    Ok(out)
}

/// Countries whose report of `form_id` for `cycle` has at least one answer.
fn started_countries(conn: &Connection, entity: &str) -> Result<BTreeSet<String>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT substr(scope, 9) FROM field
         WHERE kind = ?1 AND entity_id = ?2 AND scope LIKE 'country:%' AND value <> 'null'",
    )?;
    let rows = stmt.query_map(params![RecordKind::ReportAnswer.name(), entity], |r| {
        r.get::<_, String>(0)
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The reporting table of `cycle`, by instrument then country.
pub fn table(
    conn: &Connection,
    pack: &Published,
    cycle: &Cycle,
    filter: &Filter,
) -> Result<Vec<ReportRow>> {
    let submitted = submissions(conn, &cycle.cycle)?;
    let today = today().to_string();
    let mut rows = Vec::new();
    for (form_id, instrument, form) in report_forms(pack) {
        if filter
            .instrument
            .as_deref()
            .is_some_and(|i| !i.eq_ignore_ascii_case(&instrument))
        {
            continue;
        }
        let entity = report_entity_id(&form_id, &cycle.cycle);
        let mut countries = focal_countries(conn, &instrument)?;
        countries.extend(started_countries(conn, &entity)?);
        countries.extend(
            submitted
                .keys()
                .filter(|(_, f)| *f == form_id)
                .map(|(c, _)| c.clone()),
        );
        for country in countries {
            let region = region_of(&country);
            if let Some(r) = filter.region.as_deref()
                && region != Some(r)
            {
                continue;
            }
            let shared = shared_with(conn, &country, &entity)?;
            let row = match submitted.get(&(country.clone(), form_id.clone())) {
                Some((receipt, answers)) => {
                    let p = progress(&form, answers);
                    let late = cycle
                        .deadline
                        .as_deref()
                        .is_some_and(|d| receipt.submitted_at.get(..10).is_some_and(|s| s > d));
                    ReportRow {
                        attachments: attachments(conn, &form, &country, answers)?,
                        answered: Some(p.answered),
                        total: Some(p.total),
                        status: Status::Submitted,
                        receipt: Some(receipt.clone()),
                        late,
                        country,
                        region,
                        instrument: instrument.clone(),
                        form_id: form_id.clone(),
                        cycle: cycle.cycle.clone(),
                        shared_with: shared,
                    }
                }
                None => {
                    let answers = answers(conn, &country, &entity)?;
                    let (status, answered, total) = if answers.is_empty() {
                        (Status::NotStarted, None, None)
                    } else {
                        let p = progress(&form, &answers);
                        (Status::InProgress, Some(p.answered), Some(p.total))
                    };
                    ReportRow {
                        attachments: attachments(conn, &form, &country, &answers)?,
                        late: cycle
                            .deadline
                            .as_deref()
                            .is_some_and(|d| today.as_str() > d),
                        country,
                        region,
                        instrument: instrument.clone(),
                        form_id: form_id.clone(),
                        cycle: cycle.cycle.clone(),
                        status,
                        answered,
                        total,
                        shared_with: shared,
                        receipt: None,
                    }
                }
            };
            rows.push(row);
        }
    }
    Ok(rows)
}

/// Counts of a table by form: (not started, in progress, submitted).
pub fn counts(rows: &[ReportRow]) -> BTreeMap<String, (u32, u32, u32)> {
    let mut out: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    for r in rows {
        let e = out.entry(r.form_id.clone()).or_default();
        match r.status {
            Status::NotStarted => e.0 += 1,
            Status::InProgress => e.1 += 1,
            Status::Submitted => e.2 += 1,
        }
    }
    out
}

/// Writes today's counts of a cycle's whole table (the history of the progress chart).
pub fn record_snapshot(conn: &Connection, cycle: &str, rows: &[ReportRow]) -> Result<()> {
    let day = today().to_string();
    for (form, (n, p, s)) in counts(rows) {
        conn.execute(
            "INSERT INTO reporting_snapshot (day, cycle, form_id, not_started, in_progress, submitted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (day, cycle, form_id) DO UPDATE SET not_started = excluded.not_started,
                 in_progress = excluded.in_progress, submitted = excluded.submitted",
            params![day, cycle, form, n, p, s],
        )?;
    }
    Ok(())
}

/// Today's counts of the current cycle, unless already taken today (the janitor calls this
/// every few minutes; the reporting page records them too). Returns true when it counted.
pub fn snapshot_if_due(conn: &Connection, data_dir: &std::path::Path) -> Result<bool> {
    let Some(cycle) = super::cycles::current(conn)? else {
        return Ok(false);
    };
    let taken: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM reporting_snapshot WHERE day = ?1 AND cycle = ?2)",
        params![today().to_string(), cycle.cycle],
        |r| r.get(0),
    )?;
    if taken {
        return Ok(false);
    }
    let Some(pack) = super::pack::published(conn, data_dir)? else {
        return Ok(false);
    };
    let rows = table(conn, &pack, &cycle, &Filter::default())?;
    record_snapshot(conn, &cycle.cycle, &rows)?;
    Ok(!rows.is_empty())
}

/// A day's counts of one form in a cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCounts {
    pub day: String,
    pub form_id: String,
    pub in_progress: u32,
    pub submitted: u32,
}

/// The history of a cycle: the daily counts, with the submissions on the days they were made
/// (exact, from their receipts) for days no count was taken.
pub fn history(conn: &Connection, cycle: &str) -> Result<Vec<DayCounts>> {
    let mut stmt = conn.prepare(
        "SELECT day, form_id, in_progress, submitted FROM reporting_snapshot
         WHERE cycle = ?1 ORDER BY day, form_id",
    )?;
    let mut out: Vec<DayCounts> = stmt
        .query_map([cycle], |r| {
            Ok(DayCounts {
                day: r.get(0)?,
                form_id: r.get(1)?,
                in_progress: r.get(2)?,
                submitted: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    // Submissions by day, cumulative, for days without a count.
    let mut stmt = conn.prepare(
        "SELECT form_id, strftime('%Y-%m-%d', submitted_at, 'unixepoch') AS day, count(*)
         FROM report_submission WHERE cycle = ?1 AND form_id <> ?2 GROUP BY form_id, day ORDER BY day",
    )?;
    let per_day: Vec<(String, String, u32)> = stmt
        .query_map(params![cycle, CAPACITY_FORM], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut running: BTreeMap<String, u32> = BTreeMap::new();
    for (form, day, n) in per_day {
        let total = running.entry(form.clone()).or_default();
        *total += n;
        if !out.iter().any(|d| d.day == day && d.form_id == form) {
            out.push(DayCounts {
                day,
                form_id: form,
                in_progress: 0,
                submitted: *total,
            });
        }
    }
    out.sort_by(|a, b| (&a.day, &a.form_id).cmp(&(&b.day, &b.form_id)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daily_count_is_taken_once_and_only_with_a_current_cycle_and_a_pack() {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::db::open(dir.path()).unwrap();
        assert!(!snapshot_if_due(&c, dir.path()).unwrap(), "no cycle yet");
        super::super::cycles::set(&c, "COP15", None, true).unwrap();
        assert!(!snapshot_if_due(&c, dir.path()).unwrap(), "no pack yet");
        let n: i64 = c
            .query_row("SELECT count(*) FROM reporting_snapshot", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn digests_in_answers() {
        let sha = "a".repeat(64);
        let v = format!("{sha} report.pdf");
        assert_eq!(digests(&v).collect::<Vec<_>>(), [sha.as_str()]);
        assert_eq!(digests("no file").count(), 0);
    }
}
