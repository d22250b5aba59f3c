//! Console sessions: a random token in an `HttpOnly; SameSite=Strict` cookie (`Secure` unless
//! the browser talks to the server on loopback), only its SHA-256 stored; a session ends after
//! `--console-idle-timeout` without a request, at its absolute end, at sign-out, and as soon as
//! its account is no longer an approved Secretariat or admin account.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use rusqlite::{Connection, OptionalExtension, params};
use stopover_protocol::{AccountStatus, Role};

use super::i18n::Lang;
use crate::accounts::AccountRow;
use crate::accounts::store::{columns, from_row};
use crate::auth::token;
use crate::db::unix_now;
use crate::error::{Error, Result};
use crate::http::client_ip::ClientIp;
use crate::state::AppState;

/// The session cookie over HTTPS: `__Host-` makes the browser insist on Secure, Path=/, and no
/// Domain (so no other host can set or read it).
pub const COOKIE_SECURE: &str = "__Host-stopover-console";
/// The session cookie on loopback over plain HTTP (a browser refuses Secure cookies there).
pub const COOKIE_LOOPBACK: &str = "stopover-console";
/// The sign-in form's own anti-forgery cookie (double submit: cookie and form field agree).
pub const SIGNIN_COOKIE_SECURE: &str = "__Host-stopover-console-signin";
pub const SIGNIN_COOKIE_LOOPBACK: &str = "stopover-console-signin";
/// The chosen language (not a secret).
pub const LANG_COOKIE: &str = "stopover-console-lang";

/// Only Secretariat and admin accounts use the console.
pub fn is_staff(account: &AccountRow) -> bool {
    account.status == AccountStatus::Approved
        && matches!(account.role, Role::Secretariat | Role::Admin)
}

/// True when the browser reaches this server directly on loopback (peer and Host both
/// loopback): only then is the session cookie sent without `Secure`. Behind a reverse proxy on
/// the same machine the Host is the public name, so the cookie stays Secure.
pub fn on_loopback(parts_peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
    let peer_loopback = parts_peer.is_some_and(|ip| match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v| v.is_loopback()),
    });
    peer_loopback && host_of(headers).is_some_and(|h| is_loopback_host(&h))
}

fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The `Host` header, lower-cased.
pub fn host_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|h| h.trim().to_ascii_lowercase())
}

pub fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// A cookie of this request by name.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(|c| c.ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure unless on loopback.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<i64>, secure: bool) -> String {
    let mut c = Cookie::build((name.to_string(), value.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure);
    if let Some(secs) = max_age_secs {
        c = c.max_age(cookie::time::Duration::seconds(secs));
    }
    c.build().to_string()
}

/// The names of the session and sign-in cookies for this connection.
pub fn cookie_names(loopback: bool) -> (&'static str, &'static str) {
    if loopback {
        (COOKIE_LOOPBACK, SIGNIN_COOKIE_LOOPBACK)
    } else {
        (COOKIE_SECURE, SIGNIN_COOKIE_SECURE)
    }
}

/// The language of this request: its cookie, else `Accept-Language`, else English.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie_value(headers, LANG_COOKIE)
        .and_then(|c| Lang::parse(&c))
        .unwrap_or_else(|| {
            Lang::from_accept_language(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            )
        })
}

/// 32 random bytes, base64url: session tokens and CSRF tokens.
pub fn random_token() -> Result<String> {
    Ok(token::generate()?.token)
}

/// A new session for `account_id`; returns the cookie token (never stored) and the CSRF token.
pub fn create(conn: &Connection, account_id: i64, lifetime_secs: i64) -> Result<(String, String)> {
    let new = token::generate()?;
    let csrf = random_token()?;
    let now = unix_now();
    conn.execute(
        "INSERT INTO console_session (token_hash, account_id, csrf, created_at, last_seen, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
        params![new.hash.as_slice(), account_id, csrf, now, now + lifetime_secs],
    )?;
    // Ended sessions go at each sign-in: the table stays the size of the live ones.
    conn.execute(
        "DELETE FROM console_session WHERE expires_at <= ?1",
        params![now],
    )?;
    Ok((new.token, csrf))
}

pub fn delete(conn: &Connection, token_hash: &[u8; 32]) -> Result<()> {
    conn.execute(
        "DELETE FROM console_session WHERE token_hash = ?1",
        [token_hash.as_slice()],
    )?;
    Ok(())
}

/// Every console session of an account ends (revoked, password reset).
pub fn delete_for_account(conn: &Connection, account_id: i64) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM console_session WHERE account_id = ?1",
        [account_id],
    )?)
}

struct Found {
    account: AccountRow,
    csrf: String,
    last_seen: i64,
    expires_at: i64,
}

fn find(conn: &Connection, token_hash: &[u8; 32]) -> Result<Option<Found>> {
    let sql = format!(
        "SELECT s.csrf, s.last_seen, s.expires_at, {} FROM console_session s
         JOIN account a ON a.id = s.account_id WHERE s.token_hash = ?1",
        columns("a")
    );
    let found = conn
        .query_row(&sql, [token_hash.as_slice()], |r| {
            let csrf: String = r.get(0)?;
            let last_seen: i64 = r.get(1)?;
            let expires_at: i64 = r.get(2)?;
            Ok(from_row(r, 3).map(|account| Found {
                account,
                csrf,
                last_seen,
                expires_at,
            }))
        })
        .optional()?;
    found.transpose()
}

/// A signed-in Secretariat officer (or admin), with the session's CSRF token.
#[derive(Clone)]
pub struct Officer {
    pub account: AccountRow,
    pub csrf: String,
    pub lang: Lang,
    /// The client address (for the audit log).
    pub ip: IpAddr,
    pub token_hash: [u8; 32],
    /// Cookies are Secure unless on loopback.
    pub loopback: bool,
}

/// Why a request has no officer: no (live) session → sign in; wrong account → refused.
pub enum NoOfficer {
    SignIn {
        lang: Lang,
        expired: bool,
        get: bool,
    },
    Internal(Error),
}

impl IntoResponse for NoOfficer {
    fn into_response(self) -> Response {
        match self {
            // A page asked for: go and sign in. Anything else (a form sent after the session
            // ended) is refused, never carried out.
            NoOfficer::SignIn {
                expired, get: true, ..
            } => Redirect::to(if expired {
                "/console/sign-in?expired=1"
            } else {
                "/console/sign-in"
            })
            .into_response(),
            NoOfficer::SignIn { lang, .. } => super::layout::message_page(
                lang,
                StatusCode::UNAUTHORIZED,
                "signin.expired",
                Some(("/console/sign-in", "signin.again")),
            ),
            NoOfficer::Internal(e) => {
                tracing::error!(error = %e, "console session check failed");
                super::layout::message_page(
                    Lang::En,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error.internal",
                    None,
                )
            }
        }
    }
}

impl FromRequestParts<AppState> for Officer {
    type Rejection = NoOfficer;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> std::result::Result<Self, NoOfficer> {
        let lang = lang_of(&parts.headers);
        let get = parts.method == Method::GET || parts.method == Method::HEAD;
        let loopback = on_loopback(peer(parts), &parts.headers);
        let (cookie_name, _) = cookie_names(loopback);
        let sign_in = |expired| NoOfficer::SignIn { lang, expired, get };
        let Some(cookie) = cookie_value(&parts.headers, cookie_name) else {
            return Err(sign_in(false));
        };
        if cookie.len() > 100 {
            return Err(sign_in(false));
        }
        let hash = token::hash(&cookie);
        let found = state
            .db
            .read(move |c| find(c, &hash))
            .await
            .map_err(NoOfficer::Internal)?;
        let Some(found) = found else {
            return Err(sign_in(true));
        };
        let now = unix_now();
        let idle = state.config.console.idle.as_secs() as i64;
        let ended = now >= found.expires_at || now - found.last_seen >= idle;
        if ended || !is_staff(&found.account) {
            let _ = state.db.write(move |c| delete(c, &hash)).await;
            return Err(sign_in(true));
        }
        // Activity keeps the session alive; one write a minute is enough to know it.
        if now - found.last_seen >= 60.min(idle / 2).max(1) {
            state
                .db
                .write(move |c| {
                    c.execute(
                        "UPDATE console_session SET last_seen = ?2 WHERE token_hash = ?1",
                        params![hash.as_slice(), now],
                    )?;
                    Ok(())
                })
                .await
                .map_err(NoOfficer::Internal)?;
        }
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state)
            .await
            .unwrap_or(ClientIp(IpAddr::from([0, 0, 0, 0])));
        Ok(Officer {
            account: found.account,
            csrf: found.csrf,
            lang,
            ip,
            token_hash: hash,
            loopback,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn loopback_needs_both_peer_and_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let far: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(on_loopback(Some(lo), &h));
        assert!(!on_loopback(Some(far), &h));
        h.insert(
            header::HOST,
            HeaderValue::from_static("console.example.org"),
        );
        assert!(!on_loopback(Some(lo), &h), "a proxy on this machine");
        h.insert(header::HOST, HeaderValue::from_static("[::1]:80"));
        assert!(on_loopback(Some("::1".parse().unwrap()), &h));
        h.insert(header::HOST, HeaderValue::from_static("localhost"));
        assert!(on_loopback(Some(lo), &h));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_unless_loopback() {
        let c = set_cookie(COOKIE_SECURE, "v", Some(60), true);
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(c.contains(part), "{c}");
        }
        let c = set_cookie(COOKIE_LOOPBACK, "v", None, false);
        assert!(!c.contains("Secure") && c.contains("HttpOnly"), "{c}");
    }
}
