//! Content: the published pack (version, date, signature key), its report forms with the
//! result of the same check as `ecommunity form check`, and publishing a new pack signed
//! offline (`ecommunity pack sign`), verified before it replaces anything.

use axum::extract::{Multipart, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;

use super::{Failed, Notice, OrFail, done};
use crate::console::csrf::{cross_site, same_token};
use crate::console::i18n::{t, tf};
use crate::console::layout::{csrf_field, message_page, shell, when};
use crate::console::session::Officer;
use crate::error::Error;
use crate::monitoring::capacity::CAPACITY_FORM;
use crate::monitoring::pack::published;
use crate::packs::signed;
use crate::state::AppState;

pub async fn page(
    State(state): State<AppState>,
    officer: Officer,
    Query(n): Query<Notice>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let dir = state.db.dir().to_path_buf();
    let pack = state
        .db
        .read(move |c| published(c, &dir))
        .await
        .or_fail(l)?;
    let body = html! {
        section aria-labelledby="pack-heading" {
            h2 #pack-heading { (t(l, "content.pack_heading")) }
            @match &pack {
                None => p.empty data-testid="no-pack" { (t(l, "content.no_pack")) },
                Some(p) => dl.receipt data-testid="pack" {
                    dt { (t(l, "content.version")) } dd data-testid="pack-version" { (p.release.version) }
                    dt { (t(l, "content.published")) } dd { (when(p.published_at)) }
                    dt { (t(l, "content.files")) } dd { (p.archive.files.len()) }
                    dt { (t(l, "content.key")) } dd.mono { (p.release.key_id) }
                    dt { (t(l, "content.sha256")) } dd.mono { (p.release.sha256) }
                },
            }
        }
        @if let Some(p) = &pack {
            section aria-labelledby="forms-heading" {
                h2 #forms-heading { (t(l, "content.forms_heading")) }
                table.data data-testid="forms-table" {
                    thead { tr {
                        th scope="col" { (t(l, "content.col_form")) }
                        th scope="col" { (t(l, "content.col_instrument")) }
                        th scope="col" { (t(l, "content.col_check")) }
                    } }
                    tbody {
                        @for f in &p.forms {
                            tr data-testid={"form-" (f.id)} {
                                th scope="row" {
                                    @if let Some(form) = f.form() {
                                        (form.settings.title.get(l.code(), Some(form.default_language())).unwrap_or(&f.id)) br;
                                    }
                                    span.mono.muted { (f.id) }
                                    @if f.id == CAPACITY_FORM { br; span.tag { (t(l, "content.capacity_form")) } }
                                }
                                td { (f.instrument().unwrap_or("—")) }
                                td data-testid="form-check" {
                                    @match &f.loaded {
                                        Ok(form) => {
                                            @let s = form.summary();
                                            span.ok { (t(l, "content.check_ok")) } " "
                                            (tf(l, "content.check_summary", &[
                                                ("version", &s.version.unwrap_or_default()),
                                                ("questions", &s.questions),
                                                ("groups", &s.groups),
                                                ("repeats", &s.repeats),
                                                ("languages", &s.languages.join(", ")),
                                            ]))
                                            @if !form.warnings.is_empty() {
                                                ul.warnings lang="en" { @for w in &form.warnings { li { (w.to_string()) } } }
                                            }
                                        }
                                        Err(errors) => {
                                            span.error { (tf(l, "content.check_errors", &[("n", &errors.len())])) }
                                            ul.errors lang="en" { @for e in errors { li { (e) } } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="publish-heading" {
            h2 #publish-heading { (t(l, "content.publish_heading")) }
            p.hint { (t(l, "content.publish_hint")) }
            form.stack method="post" action="/console/content/pack" enctype="multipart/form-data" data-testid="publish-form" {
                (csrf_field(&officer))
                label { (t(l, "content.file"))
                    input type="file" name="signed" required accept=".zip,application/zip" data-testid="publish-file";
                }
                button type="submit" data-testid="publish" { (t(l, "content.publish")) }
            }
        }
    };
    Ok(shell(
        &officer,
        "/console/content",
        t(l, "content.title"),
        n.text(l).as_deref(),
        body,
    ))
}

/// Publishes an uploaded signed pack once every check passed (see `packs::signed`).
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    officer: Officer,
    mut multipart: Multipart,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let forged = || {
        Failed::new(message_page(
            l,
            axum::http::StatusCode::FORBIDDEN,
            "error.forged",
            None,
        ))
    };
    if cross_site(&headers) {
        return Err(forged());
    }
    let (mut csrf, mut file) = (None, None);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                tracing::info!(error = %e, "pack upload not read");
                return Err(Failed::new(message_page(
                    l,
                    axum::http::StatusCode::BAD_REQUEST,
                    "error.bad_form",
                    None,
                )));
            }
        };
        match field.name() {
            Some("csrf") => csrf = field.text().await.ok(),
            // Nothing of the file is read before the token is known to be right.
            Some("signed")
                if csrf
                    .as_deref()
                    .is_some_and(|c| same_token(c, &officer.csrf)) =>
            {
                file = Some(field.bytes().await.map_err(|_| {
                    Failed::new(message_page(
                        l,
                        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "error.too_large",
                        None,
                    ))
                })?);
            }
            _ => return Err(forged()),
        }
    }
    if !csrf
        .as_deref()
        .is_some_and(|c| same_token(c, &officer.csrf))
    {
        return Err(forged());
    }
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return Err(Failed::new(super::error_page(
            l,
            &Error::InvalidRequest("choose the signed pack file to publish".into()),
        )));
    };
    let (release, bytes) = signed::read(&file).or_fail(l)?;
    let dir = state.db.dir().to_path_buf();
    let keys = state.config.console.pack_signers.clone();
    let (actor, source) = (officer.account.username.clone(), officer.ip.to_string());
    let version = release.version.clone();
    state
        .db
        .write(move |c| signed::publish(c, &dir, &release, &bytes, &keys, &actor, &source))
        .await
        .or_fail(l)?;
    Ok(done("/console/content", "pack_published", Some(&version)))
}
