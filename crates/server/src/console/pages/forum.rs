//! Forum: the moderation queue (the newest posts first, marked new for a week, with their
//! state), hiding and showing posts, locking and unlocking threads, and the categories (list
//! and add). Everything is written into the community feed as the app's moderation is, and
//! logged.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::html;
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::json;
use stopover_protocol::RecordKind;
use stopover_protocol::forum::{CategoryKind, Localized, PostContent, is_uuid};

use super::{Failed, Notice, OrFail, done};
use crate::audit::{self, action};
use crate::console::csrf::Checked;
use crate::console::i18n::{Lang, t, tf};
use crate::console::layout::{csrf_field, shell, when};
use crate::console::session::Officer;
use crate::db::unix_now;
use crate::error::{Error, Result};
use crate::forum::{self, categories, posts};
use crate::state::AppState;

/// Posts shown in the queue.
const QUEUE: u32 = 100;
/// A post is "new" this long.
const NEW_FOR_SECS: i64 = 7 * 86_400;

struct QueuedPost {
    id: String,
    thread_id: String,
    category: String,
    created_at: i64,
    author: String,
    country: Option<String>,
    content: Option<PostContent>,
    hidden: bool,
    thread_locked: bool,
}

fn queue(c: &Connection) -> Result<Vec<QueuedPost>> {
    let mut stmt = c.prepare(
        "SELECT p.id, p.thread_id, p.category, p.created_at, a.username, a.country
         FROM forum_post p JOIN account a ON a.id = p.account_id
         ORDER BY p.created_at DESC, p.id LIMIT ?1",
    )?;
    let rows: Vec<(String, String, String, i64, String, Option<String>)> = stmt
        .query_map([QUEUE], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(id, thread_id, category, created_at, author, country)| {
            let content = forum::current(c, RecordKind::ForumPost, &id, "content")?
                .and_then(|v| serde_json::from_value(v).ok());
            Ok(QueuedPost {
                hidden: posts::is_hidden(c, &id)?,
                thread_locked: posts::is_locked(c, &thread_id)?,
                id,
                thread_id,
                category,
                created_at,
                author,
                country,
                content,
            })
        })
        .collect()
}

fn excerpt(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 240 {
        format!("{}…", flat.chars().take(240).collect::<String>())
    } else {
        flat
    }
}

fn kind_text(l: Lang, k: CategoryKind) -> &'static str {
    t(l, &format!("forum.kind_{}", categories::kind_name(k)))
}

pub async fn page(
    State(state): State<AppState>,
    officer: Officer,
    Query(n): Query<Notice>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let (posts, cats) = state
        .db
        .read(|c| Ok((queue(c)?, categories::list(c)?)))
        .await
        .or_fail(l)?;
    let now = unix_now();
    let new = posts
        .iter()
        .filter(|p| now - p.created_at < NEW_FOR_SECS)
        .count();
    let body = html! {
        section aria-labelledby="queue-heading" {
            h2 #queue-heading { (tf(l, "forum.queue_heading", &[("n", &new)])) }
            @if posts.is_empty() {
                p.empty data-testid="no-posts" { (t(l, "forum.no_posts")) }
            } @else {
                table.data data-testid="post-queue" {
                    thead { tr {
                        th scope="col" { (t(l, "forum.col_post")) }
                        th scope="col" { (t(l, "forum.col_author")) }
                        th scope="col" { (t(l, "forum.col_state")) }
                        th scope="col" { (t(l, "forum.col_actions")) }
                    } }
                    tbody {
                        @for p in &posts {
                            tr data-testid={"post-" (p.id)} class={ @if p.hidden { "hidden-post" } } {
                                td {
                                    @if now - p.created_at < NEW_FOR_SECS { span.badge { (t(l, "forum.new")) } " " }
                                    span.muted { (p.category) " · " (when(p.created_at)) }
                                    @if let Some(c) = &p.content {
                                        @if let Some(title) = &c.title { br; strong { (title) } }
                                        br; (excerpt(&c.body))
                                    }
                                    @if p.id != p.thread_id { br; span.muted { (t(l, "forum.reply")) } }
                                }
                                td { (p.author) @if let Some(c) = &p.country { " (" span data-country=(c) { (c) } ")" } }
                                td {
                                    @if p.hidden { span.tag { (t(l, "forum.hidden")) } " " }
                                    @if p.thread_locked { span.tag { (t(l, "forum.locked")) } }
                                }
                                td {
                                    form.inline method="post" action={"/console/forum/posts/" (p.id) "/" (if p.hidden { "unhide" } else { "hide" })} {
                                        (csrf_field(&officer))
                                        button type="submit" data-testid="toggle-hidden" {
                                            (if p.hidden { t(l, "forum.unhide") } else { t(l, "forum.hide") })
                                        }
                                    }
                                    form.inline method="post" action={"/console/forum/threads/" (p.thread_id) "/" (if p.thread_locked { "unlock" } else { "lock" })} {
                                        (csrf_field(&officer))
                                        button type="submit" data-testid="toggle-locked" {
                                            (if p.thread_locked { t(l, "forum.unlock") } else { t(l, "forum.lock") })
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="categories-heading" {
            h2 #categories-heading { (t(l, "forum.categories_heading")) }
            table.data data-testid="categories" {
                thead { tr {
                    th scope="col" { (t(l, "forum.col_slug")) }
                    th scope="col" { (t(l, "forum.col_kind")) }
                    th scope="col" { (t(l, "forum.col_title")) }
                } }
                tbody {
                    @for (slug, info) in &cats {
                        tr { td.mono { (slug) } td { (kind_text(l, info.kind)) } td { (info.title.get(l.code())) } }
                    }
                }
            }
            h3 { (t(l, "forum.add_category")) }
            form.stack method="post" action="/console/forum/categories" data-testid="category-form" {
                (csrf_field(&officer))
                label { (t(l, "forum.col_slug")) input type="text" name="slug" required maxlength="64" pattern="[a-z0-9-]+"; }
                label { (t(l, "forum.col_kind"))
                    select name="kind" {
                        @for k in [CategoryKind::Region, CategoryKind::Instrument, CategoryKind::General, CategoryKind::Qa] {
                            option value=(categories::kind_name(k)) { (kind_text(l, k)) }
                        }
                    }
                }
                label { (t(l, "forum.title_en")) input type="text" name="title_en" required maxlength="200"; }
                label { (t(l, "forum.title_fr")) input type="text" name="title_fr" maxlength="200"; }
                label { (t(l, "forum.title_es")) input type="text" name="title_es" maxlength="200"; }
                button type="submit" { (t(l, "forum.add")) }
            }
        }
    };
    Ok(shell(
        &officer,
        "/console/forum",
        t(l, "forum.title"),
        n.text(l).as_deref(),
        body,
    ))
}

#[derive(Deserialize)]
pub struct Nothing {}

/// posts/{id}/hide|unhide, threads/{id}/lock|unlock.
pub async fn moderate(
    State(state): State<AppState>,
    Path((what, id, act)): Path<(String, String, String)>,
    Checked { officer, .. }: Checked<Nothing>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    if !is_uuid(&id) {
        return Err(Failed::new(super::error_page(l, &Error::UnknownPath)));
    }
    let (logged, notice) = match (what.as_str(), act.as_str()) {
        ("posts", "hide") => (action::FORUM_HIDE, "hidden"),
        ("posts", "unhide") => (action::FORUM_UNHIDE, "shown"),
        ("threads", "lock") => (action::FORUM_LOCK, "locked"),
        ("threads", "unlock") => (action::FORUM_UNLOCK, "unlocked"),
        _ => return Err(Failed::new(super::error_page(l, &Error::UnknownPath))),
    };
    let (actor, source, target) = (officer.account.clone(), officer.ip.to_string(), id.clone());
    state
        .db
        .write(move |c| {
            let tx = c.transaction()?;
            let refusal = if what == "posts" {
                posts::hide_refusal(&tx, &actor, &target)?
            } else {
                posts::lock_refusal(&tx, &actor, &target)?
            };
            if let Some(r) = refusal {
                return Err(Error::Forbidden(r.reason));
            }
            let changed = match act.as_str() {
                "hide" => posts::set_hidden(&tx, &target, true)?,
                "unhide" => posts::set_hidden(&tx, &target, false)?,
                "lock" => posts::set_locked(&tx, &target, true)?,
                _ => posts::set_locked(&tx, &target, false)?,
            };
            audit::record(
                &tx,
                &audit::Entry {
                    actor: &actor.username,
                    action: logged,
                    target: Some(&target),
                    detail: json!({"changed": changed, "via": "console"}),
                    source: &source,
                },
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
        .or_fail(l)?;
    Ok(done("/console/forum", notice, None))
}

#[derive(Deserialize)]
pub struct CategoryForm {
    slug: String,
    kind: String,
    title_en: String,
    title_fr: Option<String>,
    title_es: Option<String>,
}

pub async fn add_category(
    State(state): State<AppState>,
    Checked { officer, form }: Checked<CategoryForm>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let kind = match form.kind.as_str() {
        "region" => CategoryKind::Region,
        "instrument" => CategoryKind::Instrument,
        "general" => CategoryKind::General,
        "qa" => CategoryKind::Qa,
        other => {
            return Err(Failed::new(super::error_page(
                l,
                &Error::InvalidRequest(format!("`{other}` is not a category kind")),
            )));
        }
    };
    let some = |s: Option<String>| s.map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
    let title = Localized {
        en: form.title_en.trim().to_string(),
        fr: some(form.title_fr),
        es: some(form.title_es),
    };
    let slug = form.slug.trim().to_string();
    let (actor, source, s) = (
        officer.account.username.clone(),
        officer.ip.to_string(),
        slug.clone(),
    );
    state
        .db
        .write(move |c| {
            let tx = c.transaction()?;
            categories::add(&tx, &s, kind, title, None)?;
            audit::record(
                &tx,
                &audit::Entry {
                    actor: &actor,
                    action: action::FORUM_CATEGORY_ADD,
                    target: Some(&s),
                    detail: json!({"kind": categories::kind_name(kind), "via": "console"}),
                    source: &source,
                },
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
        .or_fail(l)?;
    Ok(done("/console/forum", "category_added", Some(&slug)))
}
