//! Reporting: the table of Parties × instruments for a cycle, its filters (region,
//! instrument) and CSV download, and the cycle with its deadline, which the Secretariat sets
//! here (or with `ecommunity cycle set`).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;
use stopover_protocol::forum::REGIONS;

use super::{Failed, Notice, OrFail, done};
use crate::audit;
use crate::charts::csv_cell;
use crate::console::csrf::Checked;
use crate::console::i18n::{Lang, t, tf};
use crate::console::layout::{csrf_field, shell, urlencode};
use crate::console::session::Officer;
use crate::error::Result;
use crate::monitoring::cycles::{self, Cycle};
use crate::monitoring::pack::{Published, published};
use crate::monitoring::reporting::{self, Filter, ReportRow, Status};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ReportingQuery {
    cycle: Option<String>,
    region: Option<String>,
    instrument: Option<String>,
    done: Option<String>,
    who: Option<String>,
}

impl ReportingQuery {
    fn filter(&self) -> Filter {
        let keep = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        Filter {
            region: keep(&self.region).filter(|r| REGIONS.contains(&r.as_str())),
            instrument: keep(&self.instrument),
        }
    }

    /// The same filters as a query string, for the CSV link.
    fn query_string(&self, cycle: &str) -> String {
        let mut q = format!("cycle={}", urlencode(cycle));
        let f = self.filter();
        if let Some(r) = f.region {
            q.push_str(&format!("&region={}", urlencode(&r)));
        }
        if let Some(i) = f.instrument {
            q.push_str(&format!("&instrument={}", urlencode(&i)));
        }
        q
    }
}

/// What the page needs, read in one go.
struct Data {
    cycles: Vec<Cycle>,
    cycle: Option<Cycle>,
    pack: Option<Arc<Published>>,
    rows: Vec<ReportRow>,
}

fn load(
    state: &AppState,
    q_cycle: Option<String>,
) -> impl FnOnce(&rusqlite::Connection) -> Result<Data> + Send + 'static {
    let dir = state.db.dir().to_path_buf();
    move |c| {
        let known = cycles::known(c)?;
        let cycle = match q_cycle {
            Some(name) => {
                let name = cycles::normalize(&name)?;
                Some(
                    known
                        .iter()
                        .find(|k| k.cycle == name)
                        .cloned()
                        .unwrap_or(Cycle {
                            cycle: name,
                            deadline: None,
                            current: false,
                        }),
                )
            }
            None => known.iter().find(|k| k.current).cloned(),
        };
        let pack = published(c, &dir)?;
        let rows = match (&cycle, &pack) {
            (Some(cycle), Some(pack)) => reporting::table(c, pack, cycle, &Filter::default())?,
            _ => Vec::new(),
        };
        Ok(Data {
            cycles: known,
            cycle,
            pack,
            rows,
        })
    }
}

fn filtered<'a>(rows: &'a [ReportRow], f: &'a Filter) -> impl Iterator<Item = &'a ReportRow> {
    rows.iter().filter(move |r| {
        f.region.as_deref().is_none_or(|x| r.region == Some(x))
            && f.instrument
                .as_deref()
                .is_none_or(|i| r.instrument.eq_ignore_ascii_case(i))
    })
}

pub fn region_name(lang: Lang, region: Option<&str>) -> &'static str {
    match region {
        Some(r) => t(lang, &format!("region.{r}")),
        None => t(lang, "region.unknown"),
    }
}

fn status_text(lang: Lang, s: Status) -> &'static str {
    match s {
        Status::NotStarted => t(lang, "status.not_started"),
        Status::InProgress => t(lang, "status.in_progress"),
        Status::Submitted => t(lang, "status.submitted"),
    }
}

/// The reporting page.
pub async fn page(
    State(state): State<AppState>,
    officer: Officer,
    Query(q): Query<ReportingQuery>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let data = state
        .db
        .read(load(&state, q.cycle.clone()))
        .await
        .or_fail(l)?;
    // Today's counts of the current cycle: the history of the progress chart.
    if let Some(cycle) = data
        .cycle
        .as_ref()
        .filter(|c| c.current && !data.rows.is_empty())
    {
        let (name, rows) = (cycle.cycle.clone(), data.rows.clone());
        state
            .db
            .write(move |c| reporting::record_snapshot(c, &name, &rows))
            .await
            .or_fail(l)?;
    }
    let filter = q.filter();
    let notice = Notice {
        done: q.done.clone(),
        who: q.who.clone(),
    }
    .text(l);
    let body = html! {
        (cycle_form(&officer, &data))
        @match (&data.cycle, &data.pack) {
            (None, _) => p.empty data-testid="no-cycle" { (t(l, "reporting.no_cycle")) },
            (_, None) => p.empty data-testid="no-pack" { (t(l, "reporting.no_pack")) },
            (Some(cycle), Some(pack)) => (table(l, &q, cycle, pack, &data.rows, &filter)),
        }
    };
    Ok(shell(
        &officer,
        "/console/reporting",
        t(l, "reporting.title"),
        notice.as_deref(),
        body,
    ))
}

fn cycle_form(officer: &Officer, data: &Data) -> Markup {
    let l = officer.lang;
    let current = data.cycles.iter().find(|c| c.current);
    html! {
        section.cycle aria-labelledby="cycle-heading" {
            h2 #cycle-heading { (t(l, "reporting.cycle_heading")) }
            @if let Some(c) = current {
                p data-testid="current-cycle" {
                    (tf(l, "reporting.current_cycle", &[("cycle", &c.cycle)])) " "
                    @match &c.deadline {
                        Some(d) => span data-testid="deadline" { (tf(l, "reporting.deadline_is", &[("date", d)])) },
                        None => span data-testid="deadline" { (t(l, "reporting.no_deadline")) },
                    }
                }
            }
            form.inline method="post" action="/console/reporting/cycle" data-testid="cycle-form" {
                (csrf_field(officer))
                label { (t(l, "reporting.cycle"))
                    input type="text" name="cycle" required maxlength="32" pattern="[A-Za-z0-9-]+"
                        value=(current.map(|c| c.cycle.as_str()).unwrap_or("")) placeholder="COP15"
                        data-testid="cycle-name";
                }
                label { (t(l, "reporting.deadline"))
                    input type="date" name="deadline"
                        value=(current.and_then(|c| c.deadline.as_deref()).unwrap_or(""))
                        data-testid="cycle-deadline";
                }
                button type="submit" data-testid="cycle-save" { (t(l, "reporting.set_cycle")) }
            }
            @if data.cycles.len() > 1 {
                p.others { (t(l, "reporting.other_cycles")) " "
                    @for c in data.cycles.iter().filter(|c| !c.current) {
                        a href={"/console/reporting?cycle=" (urlencode(&c.cycle))} { (c.cycle) } " "
                    }
                }
            }
        }
    }
}

fn table(
    l: Lang,
    q: &ReportingQuery,
    cycle: &Cycle,
    pack: &Published,
    rows: &[ReportRow],
    filter: &Filter,
) -> Markup {
    let instruments: Vec<String> = reporting::report_forms(pack)
        .into_iter()
        .map(|(_, i, _)| i)
        .collect();
    let shown: Vec<&ReportRow> = filtered(rows, filter).collect();
    let count = |s: Status| shown.iter().filter(|r| r.status == s).count();
    let late = shown
        .iter()
        .filter(|r| r.late && r.status != Status::Submitted)
        .count();
    html! {
        section aria-labelledby="table-heading" {
            h2 #table-heading { (tf(l, "reporting.table_heading", &[("cycle", &cycle.cycle)])) }
            form.filters method="get" action="/console/reporting" data-testid="filters" {
                input type="hidden" name="cycle" value=(cycle.cycle);
                label { (t(l, "reporting.region"))
                    select name="region" data-autosubmit="1" data-testid="filter-region" {
                        option value="" { (t(l, "reporting.all_regions")) }
                        @for r in REGIONS {
                            option value=(r) selected[filter.region.as_deref() == Some(r)] { (region_name(l, Some(r))) }
                        }
                    }
                }
                label { (t(l, "reporting.instrument"))
                    select name="instrument" data-autosubmit="1" data-testid="filter-instrument" {
                        option value="" { (t(l, "reporting.all_instruments")) }
                        @for i in &instruments {
                            option value=(i) selected[filter.instrument.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(i))] { (i) }
                        }
                    }
                }
                button type="submit" data-testid="filter-apply" { (t(l, "reporting.apply")) }
                a.button href={"/console/reporting.csv?" (q.query_string(&cycle.cycle))} download data-testid="reporting-csv" { (t(l, "reporting.csv")) }
            }
            p.summary data-testid="reporting-summary" {
                (tf(l, "reporting.summary", &[
                    ("submitted", &count(Status::Submitted)),
                    ("in_progress", &count(Status::InProgress)),
                    ("not_started", &count(Status::NotStarted)),
                    ("late", &late),
                ]))
            }
            @if shown.is_empty() {
                p.empty data-testid="reporting-empty" { (t(l, "reporting.empty")) }
            } @else {
                table.data data-testid="reporting-table" {
                    caption { (tf(l, "reporting.caption", &[("cycle", &cycle.cycle)])) }
                    thead { tr {
                        th scope="col" { (t(l, "reporting.col_country")) }
                        th scope="col" { (t(l, "reporting.col_region")) }
                        th scope="col" { (t(l, "reporting.col_instrument")) }
                        th scope="col" { (t(l, "reporting.col_status")) }
                        th scope="col" { (t(l, "reporting.col_completion")) }
                        th scope="col" { (t(l, "reporting.col_shared")) }
                        th scope="col" { (t(l, "reporting.col_submitted")) }
                        th scope="col" { (t(l, "reporting.col_attachments")) }
                        th scope="col" { (t(l, "reporting.col_report")) }
                    } }
                    tbody {
                        @for r in &shown {
                            tr data-testid={"report-" (r.country) "-" (r.instrument)} class=(r.status.name()) {
                                th scope="row" { span data-country=(r.country) { (r.country) } }
                                td { (region_name(l, r.region)) }
                                td { (r.instrument) }
                                td data-testid="status" {
                                    (status_text(l, r.status))
                                    @if r.late {
                                        " " span.late data-testid="late" { (t(l, "reporting.late")) }
                                    }
                                }
                                td data-testid="completion" {
                                    @if let Some(p) = r.percent() {
                                        progress max="100" value=(p) aria-hidden="true" {}
                                        " " span data-testid="percent" { (p) " %" }
                                        " " span.muted { "(" (tf(l, "reporting.answered_of", &[("answered", &r.answered.unwrap_or(0)), ("total", &r.total.unwrap_or(0))])) ")" }
                                    } @else { "—" }
                                }
                                td data-testid="shared" {
                                    @if r.shared_with.is_empty() { (t(l, "reporting.not_shared")) }
                                    @else {
                                        span data-testid="shared-count" { (tf(l, "reporting.shared_with", &[("n", &r.shared_with.len())])) }
                                        br;
                                        span.muted { (r.shared_with.join(", ")) }
                                    }
                                }
                                td data-testid="submitted" {
                                    @if let Some(rc) = &r.receipt {
                                        (rc.submitted_at.get(..10).unwrap_or(&rc.submitted_at))
                                        br; span.muted title=(rc.receipt_id) { (t(l, "reporting.receipt")) " " (rc.receipt_id.get(..8).unwrap_or(&rc.receipt_id)) "…" }
                                    } @else { "—" }
                                }
                                td data-testid="attachments" { (r.attachments.len()) }
                                td {
                                    @if r.status == Status::Submitted {
                                        a href={"/console/reports/" (r.country) "/" (r.form_id) "/" (urlencode(&r.cycle))} data-testid="open-report" { (t(l, "reporting.open")) }
                                    } @else { "—" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The table as CSV, with the same filters.
pub async fn csv(
    State(state): State<AppState>,
    officer: Officer,
    Query(q): Query<ReportingQuery>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let data = state
        .db
        .read(load(&state, q.cycle.clone()))
        .await
        .or_fail(l)?;
    let filter = q.filter();
    let cycle = data.cycle.as_ref();
    let mut out = String::from(
        "cycle,country,region,instrument,form,status,percent,answered,total,shared_with_count,shared_with,submitted_at,receipt_id,attachments,late,deadline\r\n",
    );
    for r in filtered(&data.rows, &filter) {
        let cells = [
            r.cycle.clone(),
            r.country.clone(),
            r.region.unwrap_or("").to_string(),
            r.instrument.clone(),
            r.form_id.clone(),
            r.status.name().to_string(),
            r.percent().map(|p| p.to_string()).unwrap_or_default(),
            r.answered.map(|p| p.to_string()).unwrap_or_default(),
            r.total.map(|p| p.to_string()).unwrap_or_default(),
            r.shared_with.len().to_string(),
            r.shared_with.join(" "),
            r.receipt
                .as_ref()
                .map(|x| x.submitted_at.clone())
                .unwrap_or_default(),
            r.receipt
                .as_ref()
                .map(|x| x.receipt_id.clone())
                .unwrap_or_default(),
            r.attachments.len().to_string(),
            r.late.to_string(),
            cycle.and_then(|c| c.deadline.clone()).unwrap_or_default(),
        ];
        out.push_str(
            &cells
                .iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    let name = format!(
        "reporting-{}.csv",
        cycle.map(|c| c.cycle.as_str()).unwrap_or("none")
    );
    Ok(attachment(
        out.into_bytes(),
        "text/csv; charset=utf-8",
        &name,
    ))
}

/// A download: its type and a file name the browser saves it under.
pub fn attachment(body: Vec<u8>, mime: &'static str, filename: &str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

#[derive(Deserialize)]
pub struct CycleForm {
    cycle: String,
    deadline: Option<String>,
}

/// Sets the current cycle and its deadline (logged).
pub async fn set_cycle(
    State(state): State<AppState>,
    Checked { officer, form }: Checked<CycleForm>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let deadline = form.deadline.filter(|d| !d.trim().is_empty());
    let (actor, source) = (officer.account.username.clone(), officer.ip.to_string());
    let set = state
        .db
        .write(move |c| {
            let tx = c.transaction()?;
            let set = cycles::set(&tx, &form.cycle, deadline.as_deref(), true)?;
            audit::record(
                &tx,
                &audit::Entry {
                    actor: &actor,
                    action: audit::action::CYCLE_SET,
                    target: Some(&set.cycle),
                    detail: json!({"deadline": set.deadline, "current": true, "via": "console"}),
                    source: &source,
                },
            )?;
            tx.commit()?;
            Ok(set)
        })
        .await
        .or_fail(l)?;
    Ok(done("/console/reporting", "cycle_set", Some(&set.cycle)))
}
