//! Capacity: the charts of the self-assessments (needs by topic and region, knowledge from one
//! cycle to the next), of reporting progress over time, and of the Manual's usefulness by
//! module — each drawn as SVG on the page with its numbers as a table, and downloadable as
//! SVG, PNG and CSV. Self-assessments are only ever shown in aggregate (see
//! `monitoring::capacity`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::reporting::{attachment, region_name};
use super::{Failed, OrFail};
use crate::charts::{self, Chart, Kind, Series};
use crate::console::i18n::{Lang, t, tf};
use crate::console::layout::{message_page, shell};
use crate::console::session::Officer;
use crate::error::Result;
use crate::monitoring::capacity::{self, CAPACITY_FORM};
use crate::monitoring::feedback::{self, ItemFeedback};
use crate::monitoring::pack::{Published, published};
use crate::monitoring::{cycles, reporting};
use crate::state::AppState;

/// The charts, by id: (id, catalogue key of the title).
pub const CHARTS: [(&str, &str); 4] = [
    ("needs-by-region", "charts.needs_title"),
    ("knowledge-by-cycle", "charts.knowledge_title"),
    ("reporting-progress", "charts.progress_title"),
    ("manual-usefulness", "charts.usefulness_title"),
];

/// What the charts are made from, read in one go.
struct Inputs {
    pack: Option<std::sync::Arc<Published>>,
    responses: Vec<capacity::Response>,
    cycle: Option<cycles::Cycle>,
    history: Vec<reporting::DayCounts>,
    feedback: std::collections::BTreeMap<String, ItemFeedback>,
}

async fn inputs(state: &AppState, l: Lang) -> Result<Inputs, Failed> {
    let dir = state.db.dir().to_path_buf();
    state
        .db
        .read(move |c| {
            let cycle = cycles::current(c)?;
            Ok(Inputs {
                pack: published(c, &dir)?,
                responses: capacity::responses(c, None)?,
                history: match &cycle {
                    Some(cy) => reporting::history(c, &cy.cycle)?,
                    None => Vec::new(),
                },
                cycle,
                feedback: feedback::by_item(c)?,
            })
        })
        .await
        .or_fail(l)
}

fn threshold(state: &AppState) -> usize {
    state.config.console.min_respondents.max(1) as usize
}

/// The self-assessments of the current cycle (the needs chart is about now), or of every
/// cycle when none is current.
fn current_responses(i: &Inputs) -> Vec<capacity::Response> {
    match &i.cycle {
        Some(c) => i
            .responses
            .iter()
            .filter(|r| r.cycle == c.cycle)
            .cloned()
            .collect(),
        None => i.responses.clone(),
    }
}

fn needs_chart(i: &Inputs, l: Lang, min: usize) -> Option<Chart> {
    let form = i.pack.as_ref()?.form(CAPACITY_FORM)?.form()?.clone();
    let responses = current_responses(i);
    let needs = capacity::needs_by_region(&responses, &form, l.code(), min);
    let shown: Vec<_> = needs.regions.iter().filter(|r| r.shown).collect();
    let notes = needs
        .regions
        .iter()
        .filter(|r| !r.shown)
        .map(|r| {
            tf(
                l,
                "charts.region_hidden",
                &[
                    ("region", &region_name(l, Some(r.region))),
                    ("n", &r.respondents),
                    ("min", &min),
                ],
            )
        })
        .collect();
    Some(Chart {
        id: "needs-by-region".into(),
        title: t(l, "charts.needs_title").into(),
        description: tf(
            l,
            "charts.needs_desc",
            &[
                (
                    "cycle",
                    &i.cycle
                        .as_ref()
                        .map(|c| c.cycle.clone())
                        .unwrap_or_else(|| t(l, "charts.all_cycles").into()),
                ),
                ("n", &responses.len()),
            ],
        ),
        kind: Kind::Bars,
        category_header: t(l, "charts.topic").into(),
        categories: needs.topics.iter().map(|t| t.label.clone()).collect(),
        series: shown
            .iter()
            .map(|r| Series {
                name: tf(
                    l,
                    "charts.region_series",
                    &[
                        ("region", &region_name(l, Some(r.region))),
                        ("n", &r.respondents),
                    ],
                ),
                values: needs
                    .topics
                    .iter()
                    .map(|t| {
                        needs
                            .counts
                            .get(&(r.region, t.name.clone()))
                            .map(|n| *n as f64)
                    })
                    .collect(),
            })
            .collect(),
        value_label: t(l, "charts.countries").into(),
        integers: true,
        max: None,
        notes,
    })
}

fn knowledge_chart(i: &Inputs, l: Lang, min: usize) -> Option<Chart> {
    let form = i.pack.as_ref()?.form(CAPACITY_FORM)?.form()?.clone();
    let k = capacity::knowledge_by_cycle(&i.responses, &form, l.code(), min);
    let notes = k
        .cycles
        .iter()
        .filter(|c| !c.shown)
        .map(|c| {
            tf(
                l,
                "charts.cycle_hidden",
                &[("cycle", &c.cycle), ("n", &c.respondents), ("min", &min)],
            )
        })
        .collect();
    Some(Chart {
        id: "knowledge-by-cycle".into(),
        title: t(l, "charts.knowledge_title").into(),
        description: t(l, "charts.knowledge_desc").into(),
        kind: Kind::Bars,
        category_header: t(l, "charts.topic").into(),
        categories: k.topics.iter().map(|t| t.label.clone()).collect(),
        series: k
            .cycles
            .iter()
            .filter(|c| c.shown)
            .map(|c| Series {
                name: tf(
                    l,
                    "charts.cycle_series",
                    &[("cycle", &c.cycle), ("n", &c.respondents)],
                ),
                values: k
                    .topics
                    .iter()
                    .map(|t| k.means.get(&(c.cycle.clone(), t.name.clone())).copied())
                    .collect(),
            })
            .collect(),
        value_label: t(l, "charts.level").into(),
        integers: false,
        max: Some(4.0),
        notes,
    })
}

fn progress_chart(i: &Inputs, l: Lang) -> Option<Chart> {
    let cycle = i.cycle.as_ref()?;
    let pack = i.pack.as_ref()?;
    let mut days: Vec<String> = i.history.iter().map(|d| d.day.clone()).collect();
    days.dedup();
    let mut series = Vec::new();
    for (form_id, instrument, _) in reporting::report_forms(pack) {
        let at = |day: &str| {
            i.history
                .iter()
                .find(|d| d.day == day && d.form_id == form_id)
        };
        for (key, pick) in [
            (
                "charts.series_submitted",
                (|d: &reporting::DayCounts| d.submitted) as fn(&reporting::DayCounts) -> u32,
            ),
            ("charts.series_in_progress", |d: &reporting::DayCounts| {
                d.in_progress
            }),
        ] {
            series.push(Series {
                name: tf(l, key, &[("instrument", &instrument)]),
                values: days
                    .iter()
                    .map(|d| at(d).map(|x| f64::from(pick(x))))
                    .collect(),
            });
        }
    }
    Some(Chart {
        id: "reporting-progress".into(),
        title: t(l, "charts.progress_title").into(),
        description: tf(l, "charts.progress_desc", &[("cycle", &cycle.cycle)]),
        kind: Kind::Lines,
        category_header: t(l, "charts.day").into(),
        categories: days,
        series,
        value_label: t(l, "charts.reports").into(),
        integers: true,
        max: None,
        notes: vec![],
    })
}

/// "Meetings: registration… (module)" for `manual/meetings`, in the officer's language.
fn item_title(i: &Inputs, l: Lang, entity: &str) -> String {
    let (kind, id) = entity.split_once('/').unwrap_or(("", entity));
    let name = i
        .pack
        .as_ref()
        .and_then(|p| p.item_title(kind, id, l.code()))
        .unwrap_or_else(|| id.to_string());
    let what = if kind == "checklist" {
        t(l, "charts.checklist")
    } else {
        t(l, "charts.module")
    };
    format!("{name} ({what})")
}

fn usefulness_chart(i: &Inputs, l: Lang) -> Chart {
    let title_of = |entity: &str| item_title(i, l, entity);
    let items: Vec<(&String, &ItemFeedback)> = i.feedback.iter().collect();
    Chart {
        id: "manual-usefulness".into(),
        title: t(l, "charts.usefulness_title").into(),
        description: t(l, "charts.usefulness_desc").into(),
        kind: Kind::Bars,
        category_header: t(l, "charts.item").into(),
        categories: items.iter().map(|(e, _)| title_of(e)).collect(),
        series: vec![
            Series {
                name: t(l, "charts.useful").into(),
                values: items
                    .iter()
                    .map(|(_, f)| Some(f64::from(f.useful)))
                    .collect(),
            },
            Series {
                name: t(l, "charts.not_useful").into(),
                values: items
                    .iter()
                    .map(|(_, f)| Some(f64::from(f.not_useful)))
                    .collect(),
            },
        ],
        value_label: t(l, "charts.people").into(),
        integers: true,
        max: None,
        notes: vec![],
    }
}

fn build(state: &AppState, i: &Inputs, l: Lang, id: &str) -> Option<Chart> {
    let min = threshold(state);
    match id {
        "needs-by-region" => needs_chart(i, l, min),
        "knowledge-by-cycle" => knowledge_chart(i, l, min),
        "reporting-progress" => progress_chart(i, l),
        "manual-usefulness" => Some(usefulness_chart(i, l)),
        _ => None,
    }
}

/// A chart on the page: the picture, the downloads, the numbers as a table, the notes.
fn figure(l: Lang, id: &str, chart: Option<&Chart>, missing_key: &str) -> Markup {
    html! {
        figure.chart data-testid={"figure-" (id)} {
            @match chart {
                Some(c) if !c.is_empty() => {
                    (PreEscaped(charts::svg::render_inline(c)))
                    figcaption {
                        (c.description) " "
                        span.downloads {
                            (t(l, "charts.download")) " "
                            a href={"/console/charts/" (id) ".svg"} download data-testid={"download-" (id) "-svg"} { "SVG" } " · "
                            a href={"/console/charts/" (id) ".png"} download data-testid={"download-" (id) "-png"} { "PNG" } " · "
                            a href={"/console/charts/" (id) ".csv"} download data-testid={"download-" (id) "-csv"} { "CSV" }
                        }
                    }
                    @for n in &c.notes { p.note data-testid="chart-note" { (n) } }
                    (table(c))
                }
                Some(c) => {
                    h3 { (c.title) }
                    p.empty data-testid={"empty-" (id)} { (t(l, missing_key)) }
                    @for n in &c.notes { p.note data-testid="chart-note" { (n) } }
                }
                None => p.empty data-testid={"empty-" (id)} { (t(l, missing_key)) },
            }
        }
    }
}

/// The table alternative of a chart.
fn table(c: &Chart) -> Markup {
    html! {
        table.data.alt data-testid={"table-" (c.id)} {
            caption { (c.title) }
            thead { tr {
                th scope="col" { (c.category_header) }
                @for s in &c.series { th scope="col" { (s.name) } }
            } }
            tbody {
                @for (i, cat) in c.categories.iter().enumerate() {
                    tr {
                        th scope="row" { (cat) }
                        @for s in &c.series {
                            td { (s.values.get(i).copied().flatten().map(|v| c.format(v)).unwrap_or_else(|| "—".into())) }
                        }
                    }
                }
            }
        }
    }
}

pub async fn page(State(state): State<AppState>, officer: Officer) -> Result<Response, Failed> {
    let l = officer.lang;
    let i = inputs(&state, l).await?;
    let min = threshold(&state);
    let missing: Vec<(&String, &ItemFeedback)> = i
        .feedback
        .iter()
        .filter(|(_, f)| !f.missing.is_empty())
        .collect();
    let body = html! {
        p.hint data-testid="threshold" { (tf(l, "capacity.rule", &[("min", &min)])) }
        p data-testid="respondents" {
            (tf(l, "capacity.respondents", &[("n", &i.responses.len())]))
        }
        @for (id, key) in CHARTS {
            section aria-labelledby={"h-" (id)} {
                h2 id={"h-" (id)} { (t(l, key)) }
                (figure(l, id, build(&state, &i, l, id).as_ref(), match id {
                    "needs-by-region" | "knowledge-by-cycle" => "charts.no_assessments",
                    "reporting-progress" => "charts.no_progress",
                    _ => "charts.no_feedback",
                }))
            }
        }
        section aria-labelledby="missing-heading" {
            h2 #missing-heading { (t(l, "capacity.missing_heading")) }
            @if missing.is_empty() {
                p.empty { (t(l, "capacity.no_missing")) }
            } @else {
                p.hint { (t(l, "capacity.missing_hint")) }
                dl.missing data-testid="missing-list" {
                    @for (entity, f) in missing {
                        dt { (item_title(&i, l, entity)) }
                        @for m in &f.missing { dd { (m) } }
                    }
                }
            }
        }
    };
    Ok(shell(
        &officer,
        "/console/capacity",
        t(l, "capacity.title"),
        None,
        body,
    ))
}

#[derive(Deserialize, Default)]
pub struct Scale {
    scale: Option<f32>,
}

/// `/console/charts/<id>.svg|png|csv`.
pub async fn chart_file(
    State(state): State<AppState>,
    officer: Officer,
    Path(file): Path<String>,
    Query(q): Query<Scale>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let not_found = || {
        Failed::new(message_page(
            l,
            StatusCode::NOT_FOUND,
            "error.not_found",
            None,
        ))
    };
    let (id, ext) = file.rsplit_once('.').ok_or_else(not_found)?;
    if !CHARTS.iter().any(|(c, _)| *c == id) {
        return Err(not_found());
    }
    let i = inputs(&state, l).await?;
    let chart = build(&state, &i, l, id)
        .filter(|c| !c.is_empty())
        .ok_or_else(not_found)?;
    let name = format!("{id}-{}.{ext}", l.code());
    Ok(match ext {
        "svg" => attachment(
            charts::svg::render(&chart).into_bytes(),
            "image/svg+xml",
            &name,
        ),
        "csv" => attachment(chart.csv().into_bytes(), "text/csv; charset=utf-8", &name),
        "png" => {
            let scale = q.scale.unwrap_or(2.0).clamp(0.5, 4.0);
            let svg = charts::svg::render(&chart);
            let png = tokio::task::spawn_blocking(move || charts::png::render(&svg, scale))
                .await
                .map_err(|e| Failed::new(super::error_page(l, &e.into())))?
                .or_fail(l)?;
            attachment(png, "image/png", &name)
        }
        _ => return Err(not_found()),
    })
}
