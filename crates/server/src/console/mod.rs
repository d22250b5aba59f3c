//! The Secretariat's web console, served at `/console` for Secretariat and admin accounts:
//! server-rendered pages (maud), a stylesheet and a few lines of progressive JavaScript, in
//! English, French and Spanish ([`i18n`]).
//!
//! Security: sign-in with the same accounts, passwords (argon2) and sign-in limits as the app;
//! a session cookie `HttpOnly; SameSite=Strict` and `Secure` unless on loopback ([`session`]);
//! a CSRF token on every form and a same-origin check on every POST ([`csrf`]); a strict
//! Content-Security-Policy and related headers on every answer ([`layout::secure_headers`]);
//! sessions that end when idle, at a fixed lifetime, and when the account loses its role; every
//! action written to the audit log in the transaction that does it.
//!
//! Pages ([`pages`]): reporting, accounts, forum, events, content, capacity, audit log.

pub mod csrf;
pub mod i18n;
pub mod layout;
pub mod pages;
pub mod session;

#[cfg(test)]
mod tests;

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{from_fn, map_response};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::state::AppState;
use pages::{accounts, audit, capacity, content, events, forum, reporting, reports, signin};

/// Largest request the console takes: a pack archive upload with its signature.
pub const MAX_UPLOAD_BYTES: usize =
    stopover_protocol::packs::MAX_PACK_ARCHIVE_BYTES as usize + 1024 * 1024;

/// The console's routes, with their own layers (HTML errors, not the API's JSON ones).
pub fn router(state: &AppState) -> Router<AppState> {
    let timeouts = state.config.timeouts;
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/reporting") }),
        )
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/reporting") }),
        )
        .route("/console/static/{file}", get(static_file))
        .route("/console/lang/{code}", get(set_lang))
        .route("/console/sign-in", get(signin::form).post(signin::submit))
        .route("/console/sign-out", post(signin::sign_out))
        .route("/console/reporting", get(reporting::page))
        .route("/console/reporting.csv", get(reporting::csv))
        .route("/console/reporting/cycle", post(reporting::set_cycle))
        .route(
            "/console/reports/{country}/{form}/{cycle}",
            get(reports::view),
        )
        .route(
            "/console/reports/{country}/{form}/{cycle}/{file}",
            get(reports::download),
        )
        .route("/console/accounts", get(accounts::page))
        .route("/console/accounts/{username}/{action}", post(accounts::act))
        .route(
            "/console/devices/{id}/revoke",
            post(accounts::revoke_device),
        )
        .route("/console/forum", get(forum::page))
        .route("/console/forum/categories", post(forum::add_category))
        .route("/console/forum/{what}/{id}/{action}", post(forum::moderate))
        .route("/console/events", get(events::page).post(events::create))
        .route(
            "/console/events/{slug}",
            get(events::edit).post(events::update),
        )
        .route(
            "/console/events/{slug}/registrations.csv",
            get(events::registrations_csv),
        )
        .route("/console/content", get(content::page))
        .route("/console/content/pack", post(content::upload))
        .route("/console/capacity", get(capacity::page))
        .route("/console/charts/{file}", get(capacity::chart_file))
        .route("/console/audit", get(audit::page))
        .layer(
            ServiceBuilder::new()
                .layer(CatchPanicLayer::custom(panic_page))
                .layer(from_fn(crate::http::layers::log_requests))
                .layer(map_response(add_security_headers))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    timeouts.request,
                ))
                .layer(RequestBodyTimeoutLayer::new(timeouts.body_idle))
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
}

async fn add_security_headers(r: Response) -> Response {
    layout::secure_headers(r)
}

fn panic_page(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a console page panicked");
    layout::message_page(
        i18n::Lang::En,
        StatusCode::INTERNAL_SERVER_ERROR,
        "error.internal",
        None,
    )
}

const CSS: &str = include_str!("static/console.css");
const JS: &str = include_str!("static/console.js");

async fn static_file(Path(file): Path<String>) -> Response {
    let (body, mime) = match file.as_str() {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut r = body.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    r
}

#[derive(Deserialize)]
struct Back {
    back: Option<String>,
}

/// Sets the language cookie and goes back to the page (only ever a console page).
async fn set_lang(Path(code): Path<String>, Query(q): Query<Back>) -> Response {
    let back = q
        .back
        .filter(|b| b.starts_with("/console") && !b.starts_with("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/console/reporting".into());
    let Some(lang) = i18n::Lang::parse(&code) else {
        return Redirect::to(&back).into_response();
    };
    let cookie = cookie::Cookie::build((session::LANG_COOKIE, lang.code()))
        .path("/")
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::days(365))
        .build()
        .to_string();
    let mut r = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// How long an idle session lives, for the sign-in page's hint.
pub fn idle_minutes(idle: Duration) -> u64 {
    idle.as_secs().div_ceil(60)
}
