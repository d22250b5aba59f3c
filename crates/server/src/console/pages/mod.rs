//! One module per console section; each handler checks who is asking ([`Officer`] for pages,
//! [`Checked`] for forms) before reading or doing anything.
//!
//! [`Officer`]: super::session::Officer
//! [`Checked`]: super::csrf::Checked

pub mod accounts;
pub mod audit;
pub mod capacity;
pub mod content;
pub mod events;
pub mod forum;
pub mod reporting;
pub mod reports;
pub mod signin;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::i18n::{Lang, t};
use super::layout::message_page;
use crate::error::Error;

/// A page that could not be made: what the officer reads instead (boxed: errors stay small).
pub struct Failed(pub Box<Response>);

impl Failed {
    pub fn new(r: Response) -> Failed {
        Failed(Box::new(r))
    }
}

impl IntoResponse for Failed {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// `?` on the server's own errors inside a console handler: logged, and shown in the
/// officer's language (the specific sentence, in English, only for what they can correct).
pub trait OrFail<T> {
    fn or_fail(self, lang: Lang) -> Result<T, Failed>;
}

impl<T> OrFail<T> for crate::error::Result<T> {
    fn or_fail(self, lang: Lang) -> Result<T, Failed> {
        self.map_err(|e| Failed::new(error_page(lang, &e)))
    }
}

/// The page for a server error.
pub fn error_page(lang: Lang, e: &Error) -> Response {
    let status = e.status();
    let key = match e {
        Error::Forbidden(_) => "error.forbidden",
        Error::NoSuchAccount(_) | Error::NoSuchDevice(_) | Error::UnknownPath => "error.not_found",
        Error::InvalidRequest(_) | Error::Usage(_) | Error::Forum(_) | Error::Pack(_) => {
            "error.invalid"
        }
        Error::TooManyAttempts { .. } => "signin.too_many",
        _ if status.is_server_error() => {
            tracing::error!(error = %e, "console page failed");
            "error.internal"
        }
        _ => "error.invalid",
    };
    if key == "error.invalid" || key == "error.forbidden" {
        // What to correct, as the server words it.
        return super::layout::bare_page(
            lang,
            // What the officer can correct is a refusal, whatever the CLI would exit with.
            if status.is_client_error() {
                status
            } else {
                StatusCode::BAD_REQUEST
            },
            t(lang, "error.title"),
            "/console",
            maud::html! {
                p.error data-testid="error-message" { (t(lang, key)) }
                p.detail lang="en" data-testid="error-detail" { (e.to_string()) }
                p { a href="/console" { (t(lang, "common.back")) } }
            },
        );
    }
    message_page(lang, status, key, None)
}

/// After a form: back to `to` with a notice (post, redirect, get): `done.<notice>` of the
/// catalogue, with `{who}` naming what it was done to.
pub fn done(to: &str, notice: &str, who: Option<&str>) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    let who = who
        .map(|w| format!("&who={}", super::layout::urlencode(w)))
        .unwrap_or_default();
    Redirect::to(&format!("{to}{sep}done={notice}{who}")).into_response()
}

/// The notice a page shows after a form (`?done=…&who=…`), if the key is one of ours.
pub fn notice(lang: Lang, done: Option<&str>, who: Option<&str>) -> Option<String> {
    let key = format!("done.{}", done?);
    super::i18n::exists(&key).then(|| {
        let who: String = who.unwrap_or("").chars().take(80).collect();
        super::i18n::tf(lang, &key, &[("who", &who)])
    })
}

/// `?done=…&who=…` of a page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Notice {
    pub done: Option<String>,
    pub who: Option<String>,
}

impl Notice {
    pub fn text(&self, lang: Lang) -> Option<String> {
        notice(lang, self.done.as_deref(), self.who.as_deref())
    }
}
