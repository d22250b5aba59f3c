//! Forged requests: every form the console sends carries its session's CSRF token, and every
//! POST is checked before anything is done — the token must match (compared in constant time),
//! and a browser that says where the request comes from (`Sec-Fetch-Site`, `Origin`) must say
//! it comes from this very site. With `SameSite=Strict` cookies, a cross-site form post is
//! refused three times over.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::i18n::Lang;
use super::layout::message_page;
use super::session::{NoOfficer, Officer, host_of, lang_of};
use crate::state::AppState;

/// Largest console form (the pack upload, a multipart body, has its own limit).
pub const MAX_FORM_BYTES: usize = 256 * 1024;

/// Constant-time equality of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// True when the browser's own headers say the request was made by another site. Browsers
/// that send `Sec-Fetch-Site` are judged by it; others by `Origin` (`null` — a sandboxed
/// frame, a data: URL — is never us).
pub fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/').to_ascii_lowercase());
        return origin_host.is_none() || origin_host != host_of(headers);
    }
    false
}

/// Why a form was refused before anything was done.
pub enum Refused {
    NoSession(NoOfficer),
    Forged(Lang),
    TooLarge(Lang),
    BadForm(Lang, String),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::NoSession(n) => n.into_response(),
            Refused::Forged(lang) => {
                tracing::warn!("console form refused: missing or wrong CSRF token, or cross-site");
                message_page(lang, StatusCode::FORBIDDEN, "error.forged", None)
            }
            Refused::TooLarge(lang) => {
                message_page(lang, StatusCode::PAYLOAD_TOO_LARGE, "error.too_large", None)
            }
            Refused::BadForm(lang, why) => {
                tracing::info!(%why, "console form not understood");
                message_page(lang, StatusCode::BAD_REQUEST, "error.bad_form", None)
            }
        }
    }
}

#[derive(Deserialize)]
struct TokenOnly {
    csrf: Option<String>,
}

/// A form posted by a signed-in officer, its CSRF token and origin checked.
pub struct Checked<T> {
    pub officer: Officer,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Checked<T> {
    type Rejection = Refused;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Refused> {
        let (mut parts, body) = req.into_parts();
        let lang = lang_of(&parts.headers);
        // The origin first: a forged request learns nothing, not even whether a session is live.
        if cross_site(&parts.headers) {
            return Err(Refused::Forged(lang));
        }
        let officer = Officer::from_request_parts(&mut parts, state)
            .await
            .map_err(Refused::NoSession)?;
        let bytes: Bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| Refused::TooLarge(lang))?;
        let token: TokenOnly = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| Refused::BadForm(lang, e.to_string()))?;
        match token.csrf {
            Some(t) if same_token(&t, &officer.csrf) => {}
            _ => return Err(Refused::Forged(officer.lang)),
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| Refused::BadForm(lang, e.to_string()))?;
        Ok(Checked { officer, form })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn tokens_and_origins() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_static("console.example.org"),
        );
        assert!(!cross_site(&h), "no origin headers: the token decides");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://console.example.org"),
        );
        assert!(!cross_site(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(cross_site(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(cross_site(&h));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(cross_site(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("same-site"));
        assert!(
            cross_site(&h),
            "another host of the same site is not us either"
        );
        h.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(!cross_site(&h));
    }
}
