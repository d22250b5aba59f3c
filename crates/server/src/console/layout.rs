//! The page shell every console page shares: the header with its sections, the language
//! switch and the sign-out button, a notice line, and the security headers of every answer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::i18n::{Lang, t};
use super::session::Officer;

/// The console's sections, in the order of the header: (path, catalogue key, test id).
pub const SECTIONS: [(&str, &str, &str); 7] = [
    ("/console/reporting", "nav.reporting", "nav-reporting"),
    ("/console/accounts", "nav.accounts", "nav-accounts"),
    ("/console/forum", "nav.forum", "nav-forum"),
    ("/console/events", "nav.events", "nav-events"),
    ("/console/content", "nav.content", "nav-content"),
    ("/console/capacity", "nav.capacity", "nav-capacity"),
    ("/console/audit", "nav.audit", "nav-audit"),
];

/// Only our own files: no inline script or style anywhere (charts use presentation
/// attributes, never `style`), no frames, forms post only here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the console's security headers to an answer.
pub fn secure_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The hidden field every form carries.
pub fn csrf_field(officer: &Officer) -> Markup {
    html! { input type="hidden" name="csrf" value=(officer.csrf); }
}

fn head(lang: Lang, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " — " (t(lang, "app.title")) }
            link rel="stylesheet" href="/console/static/console.css";
            script src="/console/static/console.js" defer {}
        }
    }
}

fn lang_switch(lang: Lang, back: &str) -> Markup {
    html! {
        nav.langs aria-label=(t(lang, "nav.language")) data-testid="lang-switch" {
            @for other in Lang::ALL {
                @if other == lang {
                    span.current lang=(other.code()) aria-current="true" { (other.own_name()) }
                } @else {
                    a lang=(other.code()) hreflang=(other.code()) data-testid={"lang-" (other.code())}
                        href={"/console/lang/" (other.code()) "?back=" (urlencode(back))} { (other.own_name()) }
                }
            }
        }
    }
}

/// A full page for a signed-in officer: `current` is the section's path.
pub fn shell(
    officer: &Officer,
    current: &str,
    title: &str,
    notice: Option<&str>,
    body: Markup,
) -> Response {
    let lang = officer.lang;
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body {
                header.top {
                    div.brand { (t(lang, "app.title")) }
                    nav.sections aria-label=(t(lang, "nav.sections")) {
                        @for (path, key, id) in SECTIONS {
                            @if current.starts_with(path) {
                                a.current href=(path) aria-current="page" data-testid=(id) { (t(lang, key)) }
                            } @else {
                                a href=(path) data-testid=(id) { (t(lang, key)) }
                            }
                        }
                    }
                    div.who {
                        span data-testid="signed-in-as" { (officer.account.display_name) " (" (officer.account.username) ")" }
                        form method="post" action="/console/sign-out" {
                            (csrf_field(officer))
                            button.link type="submit" data-testid="sign-out" { (t(lang, "signin.sign_out")) }
                        }
                    }
                    (lang_switch(lang, current))
                }
                main {
                    h1 { (title) }
                    @if let Some(n) = notice {
                        p.notice role="status" data-testid="notice" { (n) }
                    }
                    (body)
                }
            }
        }
    };
    secure_headers(Html(markup.into_string()).into_response())
}

/// A page for someone not signed in (sign-in, errors).
pub fn bare_page(
    lang: Lang,
    status: StatusCode,
    title: &str,
    back: &str,
    body: Markup,
) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body.bare {
                header.top {
                    div.brand { (t(lang, "app.title")) }
                    (lang_switch(lang, back))
                }
                main.narrow {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    secure_headers((status, Html(markup.into_string())).into_response())
}

/// A short page saying one thing (refusals, errors), with an optional link onwards.
pub fn message_page(
    lang: Lang,
    status: StatusCode,
    key: &str,
    link: Option<(&str, &str)>,
) -> Response {
    bare_page(
        lang,
        status,
        t(lang, "error.title"),
        "/console",
        html! {
            p.error data-testid="error-message" { (t(lang, key)) }
            @if let Some((href, label)) = link {
                p { a href=(href) { (t(lang, label)) } }
            }
        },
    )
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A date (unix seconds) as `YYYY-MM-DD HH:MM UTC`.
pub fn when(unix: i64) -> String {
    let full = crate::forum::rfc3339(unix);
    format!("{} {} UTC", &full[..10], &full[11..16])
}
