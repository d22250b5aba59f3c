//! Signing in and out of the console. The same accounts, argon2 hashes and sign-in limits as
//! the app; only Secretariat and admin accounts get a session. The sign-in form carries its
//! own anti-forgery token (a cookie and a field that must agree), so nobody can sign a browser
//! in to an account of their choosing.

use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;
use stopover_protocol::AccountStatus;

use crate::accounts::store;
use crate::audit;
use crate::console::csrf::{Checked, MAX_FORM_BYTES, cross_site, same_token};
use crate::console::i18n::{Lang, t, tf};
use crate::console::layout::bare_page;
use crate::console::session::{
    self, cookie_names, cookie_value, is_staff, lang_of, on_loopback, peer, set_cookie,
};
use crate::error::Error;
use crate::http::client_ip::ClientIp;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    expired: Option<String>,
}

fn form_page(
    lang: Lang,
    status: StatusCode,
    token: &str,
    username: &str,
    message: Option<(&str, String)>,
) -> Response {
    let body: Markup = html! {
        @if let Some((class, text)) = &message {
            p class=(class) role="alert" data-testid="signin-message" { (text) }
        }
        form.signin method="post" action="/console/sign-in" data-testid="signin-form" {
            input type="hidden" name="csrf" value=(token);
            label { (t(lang, "signin.username"))
                input type="text" name="username" value=(username) autocomplete="username"
                    required maxlength="64" autofocus data-testid="signin-username";
            }
            label { (t(lang, "signin.password"))
                input type="password" name="password" autocomplete="current-password"
                    required maxlength="1024" data-testid="signin-password";
            }
            button type="submit" data-testid="signin-submit" { (t(lang, "signin.submit")) }
        }
        p.hint { (t(lang, "signin.hint")) }
    };
    bare_page(
        lang,
        status,
        t(lang, "signin.title"),
        "/console/sign-in",
        body,
    )
}

/// The sign-in form, with a fresh anti-forgery token in a cookie and in the form.
pub async fn form(
    State(state): State<AppState>,
    Query(q): Query<SignInQuery>,
    req: Request,
) -> Response {
    let (parts, _) = req.into_parts();
    let lang = lang_of(&parts.headers);
    let loopback = on_loopback(peer(&parts), &parts.headers);
    let Ok(token) = session::random_token() else {
        return crate::console::layout::message_page(
            lang,
            StatusCode::INTERNAL_SERVER_ERROR,
            "error.internal",
            None,
        );
    };
    let message = q.expired.map(|_| {
        (
            "notice",
            tf(
                lang,
                "signin.session_ended",
                &[(
                    "minutes",
                    &crate::console::idle_minutes(state.config.console.idle),
                )],
            ),
        )
    });
    with_signin_cookie(
        form_page(lang, StatusCode::OK, &token, "", message),
        &token,
        loopback,
    )
}

fn with_signin_cookie(mut r: Response, token: &str, loopback: bool) -> Response {
    let (_, name) = cookie_names(loopback);
    if let Ok(v) = HeaderValue::from_str(&set_cookie(name, token, Some(3600), !loopback)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
pub struct SignInForm {
    csrf: Option<String>,
    username: String,
    password: String,
}

/// Checks the password (with the sign-in limits), then opens a session for a Secretariat or
/// admin account; anyone else is refused, after the password is known to be right.
pub async fn submit(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let headers: HeaderMap = parts.headers.clone();
    let lang = lang_of(&headers);
    let loopback = on_loopback(peer(&parts), &headers);
    let (session_cookie, signin_cookie) = cookie_names(loopback);
    if cross_site(&headers) {
        tracing::warn!("console sign-in refused: posted from another site");
        return crate::console::layout::message_page(
            lang,
            StatusCode::FORBIDDEN,
            "error.forged",
            None,
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return crate::console::layout::message_page(
            lang,
            StatusCode::PAYLOAD_TOO_LARGE,
            "error.too_large",
            None,
        );
    };
    let Ok(form) = serde_urlencoded::from_bytes::<SignInForm>(&bytes) else {
        return crate::console::layout::message_page(
            lang,
            StatusCode::BAD_REQUEST,
            "error.bad_form",
            None,
        );
    };
    let expected = cookie_value(&headers, signin_cookie);
    let forged = match (&form.csrf, &expected) {
        (Some(sent), Some(kept)) => !same_token(sent, kept),
        _ => true,
    };
    if forged {
        tracing::warn!(
            cookie = expected.is_some(),
            field = form.csrf.is_some(),
            "console sign-in refused: its anti-forgery token does not match"
        );
        return crate::console::layout::message_page(
            lang,
            StatusCode::FORBIDDEN,
            "error.forged",
            None,
        );
    }
    let token = expected.unwrap_or_default();
    let again = |status, key: &str, text: Option<String>| {
        with_signin_cookie(
            form_page(
                lang,
                status,
                &token,
                &form.username,
                Some(("error", text.unwrap_or_else(|| t(lang, key).to_string()))),
            ),
            &token,
            loopback,
        )
    };
    let ClientIp(ip) = ClientIp::from_request_parts(&mut parts, &state)
        .await
        .unwrap_or(ClientIp(std::net::IpAddr::from([0, 0, 0, 0])));
    let attempt = match state.sign_in_limits.begin(&form.username, ip).await {
        Ok(a) => a,
        Err(Error::TooManyAttempts { retry_after }) => {
            return again(
                StatusCode::TOO_MANY_REQUESTS,
                "signin.too_many",
                Some(tf(lang, "signin.too_many", &[("seconds", &retry_after)])),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "console sign-in failed");
            return again(StatusCode::INTERNAL_SERVER_ERROR, "error.internal", None);
        }
    };
    let probe = form.username.clone();
    let account = match state.db.read(move |c| store::find(c, &probe)).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "console sign-in failed");
            return again(StatusCode::INTERNAL_SERVER_ERROR, "error.internal", None);
        }
    };
    let matches = state
        .passwords
        .verify_async(
            form.password.clone(),
            account.as_ref().map(|a| a.password_hash.clone()),
        )
        .await
        .unwrap_or(false);
    let account = match account {
        Some(a) if matches => a,
        _ => {
            attempt.failed();
            tracing::info!(%ip, "console sign-in failed");
            return again(StatusCode::UNAUTHORIZED, "signin.wrong", None);
        }
    };
    attempt.succeeded();
    match account.status {
        AccountStatus::Pending => return again(StatusCode::FORBIDDEN, "signin.pending", None),
        AccountStatus::Revoked => return again(StatusCode::FORBIDDEN, "signin.revoked", None),
        AccountStatus::Approved => {}
    }
    if !is_staff(&account) {
        tracing::info!(username = %account.username, "console sign-in refused: not Secretariat");
        return again(StatusCode::FORBIDDEN, "signin.not_staff", None);
    }
    if account.must_change_password {
        return again(StatusCode::FORBIDDEN, "signin.must_change", None);
    }
    let lifetime = state.config.console.lifetime.as_secs() as i64;
    let (id, username, source) = (account.id, account.username.clone(), ip.to_string());
    let created = state
        .db
        .write(move |c| {
            let tx = c.transaction()?;
            let made = session::create(&tx, id, lifetime)?;
            audit::record(
                &tx,
                &audit::Entry {
                    actor: &username,
                    action: audit::action::CONSOLE_SIGN_IN,
                    target: None,
                    detail: json!({}),
                    source: &source,
                },
            )?;
            tx.commit()?;
            Ok(made)
        })
        .await;
    let (cookie, _csrf) = match created {
        Ok(made) => made,
        Err(e) => {
            tracing::error!(error = %e, "console session not created");
            return again(StatusCode::INTERNAL_SERVER_ERROR, "error.internal", None);
        }
    };
    tracing::info!(username = %account.username, "console signed in");
    let mut r = Redirect::to("/console/reporting").into_response();
    let h = r.headers_mut();
    for value in [
        set_cookie(session_cookie, &cookie, Some(lifetime), !loopback),
        set_cookie(signin_cookie, "", Some(0), !loopback),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.append(header::SET_COOKIE, v);
        }
    }
    r
}

#[derive(Deserialize)]
pub struct Nothing {}

/// Ends this session (logged) and goes back to the sign-in page.
pub async fn sign_out(State(state): State<AppState>, checked: Checked<Nothing>) -> Response {
    let officer = checked.officer;
    let hash = officer.token_hash;
    let (username, source) = (officer.account.username.clone(), officer.ip.to_string());
    let ended = state
        .db
        .write(move |c| {
            let tx = c.transaction()?;
            session::delete(&tx, &hash)?;
            audit::record(
                &tx,
                &audit::Entry {
                    actor: &username,
                    action: audit::action::CONSOLE_SIGN_OUT,
                    target: None,
                    detail: json!({}),
                    source: &source,
                },
            )?;
            tx.commit()?;
            Ok(())
        })
        .await;
    if let Err(e) = ended {
        return super::error_page(officer.lang, &e);
    }
    let (name, _) = cookie_names(officer.loopback);
    let mut r = Redirect::to("/console/sign-in").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(name, "", Some(0), !officer.loopback)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}
