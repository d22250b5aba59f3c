//! The audit log: the newest admin actions, from the API, the CLI and this console.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::{Failed, OrFail};
use crate::audit;
use crate::console::i18n::t;
use crate::console::layout::{shell, when};
use crate::console::session::Officer;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    actor: Option<String>,
    target: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    officer: Officer,
    Query(q): Query<AuditQuery>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let keep = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let (actor, target) = (keep(q.actor), keep(q.target));
    let (a, tg) = (actor.clone(), target.clone());
    let rows = state
        .db
        .read(move |c| audit::list(c, 200, a.as_deref(), tg.as_deref()))
        .await
        .or_fail(l)?;
    let body = html! {
        form.filters method="get" action="/console/audit" {
            label { (t(l, "audit.actor")) input type="text" name="actor" value=(actor.unwrap_or_default()); }
            label { (t(l, "audit.target")) input type="text" name="target" value=(target.unwrap_or_default()); }
            button type="submit" { (t(l, "reporting.apply")) }
        }
        @if rows.is_empty() {
            p.empty { (t(l, "audit.none")) }
        } @else {
            table.data data-testid="audit-table" {
                thead { tr {
                    th scope="col" { (t(l, "audit.when")) }
                    th scope="col" { (t(l, "audit.actor")) }
                    th scope="col" { (t(l, "audit.action")) }
                    th scope="col" { (t(l, "audit.target")) }
                    th scope="col" { (t(l, "audit.detail")) }
                    th scope="col" { (t(l, "audit.source")) }
                } }
                tbody {
                    @for r in &rows {
                        tr data-testid="audit-row" {
                            td { (when(r.at)) }
                            td { (r.actor) }
                            td.mono data-testid="audit-action" { (r.action) }
                            td { (r.target.as_deref().unwrap_or("—")) }
                            td.mono.small { (r.detail.to_string()) }
                            td { (r.source) }
                        }
                    }
                }
            }
        }
    };
    Ok(shell(
        &officer,
        "/console/audit",
        t(l, "audit.title"),
        None,
        body,
    ))
}
