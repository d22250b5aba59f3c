//! Events: training events in three languages — created and edited here (published to every
//! app), with who registered, downloadable as CSV.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;
use stopover_protocol::forum::{EventInfo, Localized, REGIONS};

use super::reporting::{attachment, region_name};
use super::{Failed, Notice, OrFail, done};
use crate::accounts::AccountRow;
use crate::audit::{self, action};
use crate::charts::csv_cell;
use crate::console::csrf::Checked;
use crate::console::i18n::{Lang, t, tf};
use crate::console::layout::{csrf_field, shell};
use crate::console::session::Officer;
use crate::error::Error;
use crate::forum::events;
use crate::state::AppState;

fn form_fields(l: Lang, slug: Option<&str>, e: Option<&EventInfo>) -> Markup {
    let v = |f: fn(&EventInfo) -> String| e.map(f).unwrap_or_default();
    html! {
        @if slug.is_none() {
            label { (t(l, "events.slug")) input type="text" name="slug" required maxlength="64" pattern="[a-z0-9-]+" data-testid="event-slug"; }
        }
        label { (t(l, "events.title_en")) input type="text" name="title_en" required maxlength="200" value=(v(|e| e.title.en.clone())) data-testid="event-title-en"; }
        label { (t(l, "events.title_fr")) input type="text" name="title_fr" maxlength="200" value=(v(|e| e.title.fr.clone().unwrap_or_default())) data-testid="event-title-fr"; }
        label { (t(l, "events.title_es")) input type="text" name="title_es" maxlength="200" value=(v(|e| e.title.es.clone().unwrap_or_default())) data-testid="event-title-es"; }
        label { (t(l, "events.starts")) input type="date" name="starts" required value=(v(|e| e.starts_on.clone())) data-testid="event-starts"; }
        label { (t(l, "events.ends")) input type="date" name="ends" required value=(v(|e| e.ends_on.clone())) data-testid="event-ends"; }
        label { (t(l, "events.closes")) input type="date" name="closes" required value=(v(|e| e.registration_closes_on.clone())) data-testid="event-closes"; }
        label { (t(l, "events.location")) input type="text" name="location" required maxlength="200" value=(v(|e| e.location.clone())) data-testid="event-location"; }
        label { (t(l, "events.capacity")) input type="number" name="capacity" min="1" value=(v(|e| e.capacity.map(|c| c.to_string()).unwrap_or_default())) data-testid="event-capacity"; }
        label { (t(l, "events.region"))
            select name="region" {
                option value="" { (t(l, "events.no_region")) }
                @for r in REGIONS {
                    option value=(r) selected[e.and_then(|e| e.region.as_deref()) == Some(r)] { (region_name(l, Some(r))) }
                }
            }
        }
        label { (t(l, "events.instrument")) input type="text" name="instrument" maxlength="64" pattern="[a-z0-9-]*" value=(v(|e| e.instrument.clone().unwrap_or_default())); }
    }
}

pub async fn page(
    State(state): State<AppState>,
    officer: Officer,
    Query(n): Query<Notice>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let list = state
        .db
        .read(|c| {
            events::list(c)?
                .into_iter()
                .map(|(slug, info)| {
                    let n = events::registrations(c, &slug)?.len();
                    Ok((slug, info, n))
                })
                .collect::<crate::error::Result<Vec<_>>>()
        })
        .await
        .or_fail(l)?;
    let body = html! {
        section aria-labelledby="events-heading" {
            h2 #events-heading { (t(l, "events.list_heading")) }
            @if list.is_empty() {
                p.empty data-testid="no-events" { (t(l, "events.none")) }
            } @else {
                table.data data-testid="events-table" {
                    thead { tr {
                        th scope="col" { (t(l, "events.col_event")) }
                        th scope="col" { (t(l, "events.col_dates")) }
                        th scope="col" { (t(l, "events.col_registrations")) }
                    } }
                    tbody {
                        @for (slug, info, n) in &list {
                            tr data-testid={"event-" (slug)} {
                                th scope="row" { a href={"/console/events/" (slug)} { (info.title.get(l.code())) } br; span.muted { (info.location) } }
                                td { (info.starts_on) " – " (info.ends_on) br; span.muted { (tf(l, "events.closes_on", &[("date", &info.registration_closes_on)])) } }
                                td data-testid="registrations" {
                                    @match info.capacity {
                                        Some(c) => (tf(l, "events.registered_of", &[("n", n), ("capacity", &c)])),
                                        None => (tf(l, "events.registered", &[("n", n)])),
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="new-event-heading" {
            h2 #new-event-heading { (t(l, "events.new_heading")) }
            form.stack method="post" action="/console/events" data-testid="event-form" {
                (csrf_field(&officer))
                (form_fields(l, None, None))
                button type="submit" data-testid="event-create" { (t(l, "events.create")) }
            }
        }
    };
    Ok(shell(
        &officer,
        "/console/events",
        t(l, "events.title"),
        n.text(l).as_deref(),
        body,
    ))
}

#[derive(Deserialize)]
pub struct EventForm {
    slug: Option<String>,
    title_en: String,
    title_fr: Option<String>,
    title_es: Option<String>,
    starts: String,
    ends: String,
    closes: String,
    location: String,
    capacity: Option<String>,
    region: Option<String>,
    instrument: Option<String>,
}

impl EventForm {
    fn info(&self) -> crate::error::Result<EventInfo> {
        let some = |s: &Option<String>| {
            s.as_ref()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        };
        let capacity = match some(&self.capacity) {
            None => None,
            Some(c) => Some(c.parse::<u32>().map_err(|_| {
                Error::InvalidRequest(format!("capacity `{c}` is not a whole number"))
            })?),
        };
        Ok(EventInfo {
            title: Localized {
                en: self.title_en.trim().to_string(),
                fr: some(&self.title_fr),
                es: some(&self.title_es),
            },
            starts_on: self.starts.trim().to_string(),
            ends_on: self.ends.trim().to_string(),
            location: self.location.trim().to_string(),
            region: some(&self.region),
            instrument: some(&self.instrument),
            registration_closes_on: self.closes.trim().to_string(),
            capacity,
        })
    }
}

async fn save(
    state: &AppState,
    officer: &Officer,
    slug: String,
    form: &EventForm,
    create: bool,
) -> Result<(), Failed> {
    let l = officer.lang;
    let info = form.info().or_fail(l)?;
    let (actor, source) = (officer.account.username.clone(), officer.ip.to_string());
    state
        .db
        .write(move |c| {
            let tx = c.transaction()?;
            if create {
                events::add(&tx, &slug, &info)?;
            } else {
                events::update(&tx, &slug, &info)?;
            }
            audit::record(
                &tx,
                &audit::Entry {
                    actor: &actor,
                    action: if create {
                        action::EVENT_ADD
                    } else {
                        action::EVENT_EDIT
                    },
                    target: Some(&slug),
                    detail: json!({"info": info, "via": "console"}),
                    source: &source,
                },
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
        .or_fail(l)
}

pub async fn create(
    State(state): State<AppState>,
    Checked { officer, form }: Checked<EventForm>,
) -> Result<Response, Failed> {
    let slug = form.slug.clone().unwrap_or_default().trim().to_string();
    save(&state, &officer, slug.clone(), &form, true).await?;
    Ok(done(
        &format!("/console/events/{slug}"),
        "event_created",
        Some(&slug),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Checked { officer, form }: Checked<EventForm>,
) -> Result<Response, Failed> {
    save(&state, &officer, slug.clone(), &form, false).await?;
    Ok(done(
        &format!("/console/events/{slug}"),
        "event_saved",
        Some(&slug),
    ))
}

async fn event_and_people(
    state: &AppState,
    l: Lang,
    slug: String,
) -> Result<(EventInfo, Vec<AccountRow>), Failed> {
    state
        .db
        .read(move |c| {
            let info = events::find(c, &slug)?.ok_or(Error::UnknownPath)?;
            Ok((info, events::registrations(c, &slug)?))
        })
        .await
        .or_fail(l)
}

/// One event: its form, and who registered.
pub async fn edit(
    State(state): State<AppState>,
    officer: Officer,
    Path(slug): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let (info, people) = event_and_people(&state, l, slug.clone()).await?;
    let body = html! {
        section aria-labelledby="registrations-heading" {
            h2 #registrations-heading { (tf(l, "events.registrations_heading", &[("n", &people.len())])) }
            @if people.is_empty() {
                p.empty { (t(l, "events.no_registrations")) }
            } @else {
                table.data data-testid="registrations-table" {
                    thead { tr {
                        th scope="col" { (t(l, "events.col_person")) }
                        th scope="col" { (t(l, "events.col_country")) }
                        th scope="col" { (t(l, "events.col_email")) }
                    } }
                    tbody { @for p in &people {
                        tr { th scope="row" { (p.display_name) " (" (p.username) ")" }
                             td { @if let Some(c) = &p.country { span data-country=(c) { (c) } } @else { "—" } }
                             td { (p.email) } }
                    } }
                }
            }
            p { a.button href={"/console/events/" (slug) "/registrations.csv"} download data-testid="registrations-csv" { (t(l, "events.csv")) } }
        }
        section aria-labelledby="edit-heading" {
            h2 #edit-heading { (t(l, "events.edit_heading")) }
            form.stack method="post" action={"/console/events/" (slug)} data-testid="event-edit-form" {
                (csrf_field(&officer))
                (form_fields(l, Some(&slug), Some(&info)))
                button type="submit" data-testid="event-save" { (t(l, "events.save")) }
            }
        }
    };
    Ok(shell(
        &officer,
        "/console/events",
        info.title.get(l.code()),
        n.text(l).as_deref(),
        body,
    ))
}

pub async fn registrations_csv(
    State(state): State<AppState>,
    officer: Officer,
    Path(slug): Path<String>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let (_, people) = event_and_people(&state, l, slug.clone()).await?;
    let mut out = String::from("username,name,country,instruments,email\r\n");
    for p in people {
        let row = [
            p.username,
            p.display_name,
            p.country.unwrap_or_default(),
            p.instruments.join(" "),
            p.email,
        ];
        out.push_str(
            &row.iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    Ok(attachment(
        out.into_bytes(),
        "text/csv; charset=utf-8",
        &format!("registrations-{slug}.csv"),
    ))
}
