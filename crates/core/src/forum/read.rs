//! Reading the forum cache: categories, thread lists, a thread with its posts (marking it
//! read), and the home view's notice of new replies to the reader's own threads.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use stopover_protocol::forum::{CategoryInfo, CategoryKind, Localized};

use super::markdown::strip_bidi_controls;
use crate::sync::RefusalView;
use crate::user::settings;
use crate::{Core, Error, Result, check_language};

/// Setting: the arrival up to which the home notice was acknowledged.
const HOME_SEEN: &str = "forum_home_seen";

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Category {
    pub id: String,
    /// In the reader's language, English when there is no translation.
    pub title: String,
    /// `region`, `instrument`, `general` or `qa`.
    pub kind: CategoryKind,
    pub threads: u32,
    pub unread_threads: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ThreadSummary {
    pub id: String,
    pub category: String,
    /// Empty when the thread is [`hidden`](Self::hidden) (the UI shows a placeholder).
    pub title: String,
    /// Empty (and `country` `None`) when the thread is [`hidden`](Self::hidden).
    pub author_name: String,
    pub country: Option<String>,
    /// Its first post was hidden by moderation and the reader is not its author: shown
    /// without its title or author.
    pub hidden: bool,
    /// Posts after the first one, as cached here.
    pub replies: u32,
    /// RFC 3339: the newest post's date (or, for one still waiting to be sent, when it was
    /// written here).
    pub last_activity: String,
    /// A post by someone else arrived since the reader last opened the thread.
    pub unread: bool,
    pub locked: bool,
    /// Some post of it waits to be sent.
    pub pending: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ThreadView {
    pub id: String,
    pub category: String,
    /// Empty when the thread is [`hidden`](Self::hidden) (the UI shows a placeholder).
    pub title: String,
    /// Its first post was hidden by moderation and the reader is not its author.
    pub hidden: bool,
    pub locked: bool,
    /// In the order the server took them; posts waiting to be sent last.
    pub posts: Vec<PostView>,
}

/// Both versions of a post whose edit could not simply apply, in Markdown.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PostConflict {
    /// The reader's edit.
    pub mine: String,
    /// What the server holds.
    pub theirs: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PostView {
    pub id: String,
    /// The author's username ("" while the server's stamp has not arrived).
    pub author: String,
    pub author_name: String,
    pub country: Option<String>,
    /// The server's date; `None` while the post waits to be sent.
    pub created_at: Option<String>,
    /// Sanitized HTML (see [`render_post_html`](super::render_post_html)); empty for a post
    /// hidden by moderation, except for its author.
    pub body_html: String,
    pub hidden: bool,
    pub edited: bool,
    /// Waits in the outbox (a new post, or an edit).
    pub pending: bool,
    pub mine: bool,
    /// The post's Markdown, for its author's edit box; `None` for others' posts.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub source: Option<String>,
    pub conflict: Option<PostConflict>,
    /// Why the server refused this post or its last edit, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub refusal: Option<RefusalView>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HomeNotice {
    pub new_replies_to_my_threads: u32,
    pub threads: Vec<ThreadSummary>,
}

pub(crate) fn localized(text: &Localized, lang: &str) -> String {
    text.get(lang).to_string()
}

fn me(conn: &Connection) -> Result<String> {
    Ok(super::account(conn)?.unwrap_or_default())
}

/// SQL, true when thread `t`'s first post is hidden by moderation and the reader (the
/// username bound to parameter `me`, e.g. `?1`) is not its author: such a thread is shown
/// without its title and author, and is not found by search.
pub(crate) fn thread_hidden_from_reader(me: &str) -> String {
    format!(
        "(coalesce((SELECT fp.hidden FROM forum_post fp WHERE fp.id = t.id), 0) <> 0
          AND ({me} = '' OR coalesce((SELECT fp.author FROM forum_post fp WHERE fp.id = t.id), t.author, '') <> {me}))"
    )
}

/// The categories, in the Secretariat's order, with their thread counts.
pub fn categories(core: &Core, lang: &str) -> Result<Vec<Category>> {
    let lang = check_language(lang)?;
    let conn = core.conn();
    let me = me(&conn)?;
    let mut counts: HashMap<String, (u32, u32)> = HashMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT category, count(*), sum(unread) FROM (
                 SELECT t.category,
                        coalesce(max(CASE WHEN coalesce(p.author, '') <> ?1 THEN p.arrival END), 0) > t.read_upto AS unread
                 FROM forum_thread t JOIN forum_post p ON p.thread_id = t.id AND p.body IS NOT NULL
                 GROUP BY t.id)
             GROUP BY category",
        )?;
        let rows = stmt.query_map([&me], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, u32>(2)?,
            ))
        })?;
        for row in rows {
            let (category, threads, unread) = row?;
            counts.insert(category.unwrap_or_default(), (threads, unread));
        }
    }
    let mut stmt = conn.prepare("SELECT id, info_json FROM forum_category")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, json) = row?;
        let Ok(info) = serde_json::from_str::<CategoryInfo>(&json) else {
            continue;
        };
        let (threads, unread_threads) = counts.get(&id).copied().unwrap_or_default();
        out.push((
            info.order,
            Category {
                title: localized(&info.title, lang),
                kind: info.kind,
                id,
                threads,
                unread_threads,
            },
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
    Ok(out.into_iter().map(|(_, c)| c).collect())
}

/// Which threads [`summaries`] lists.
enum Which<'a> {
    Category(&'a str),
    Ids(&'a [String]),
}

fn summaries(conn: &Connection, which: Which) -> Result<Vec<ThreadSummary>> {
    let me = me(conn)?;
    let (filter, arg) = match &which {
        Which::Category(c) => ("t.category = ?2", Value::String(c.to_string())),
        Which::Ids(ids) => (
            "t.id IN (SELECT value FROM json_each(?2))",
            Value::Array(ids.iter().cloned().map(Value::String).collect()),
        ),
    };
    let arg = match arg {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT t.id, coalesce(t.category, ''), coalesce(t.title, ''),
                coalesce(t.author_name, t.author, ''), t.country, t.locked,
                {hidden},
                sum(p.id <> t.id),
                max(coalesce(p.created_at, p.local_at)) AS last,
                coalesce(max(CASE WHEN coalesce(p.author, '') <> ?1 THEN p.arrival END), 0) > t.read_upto,
                max(EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'forum_post' AND o.entity_id = p.id))
         FROM forum_thread t JOIN forum_post p ON p.thread_id = t.id AND p.body IS NOT NULL
         WHERE {filter}
         GROUP BY t.id
         ORDER BY last DESC, t.id DESC",
        hidden = thread_hidden_from_reader("?1")
    ))?;
    let rows = stmt.query_map(params![me, arg], |r| {
        let hidden: bool = r.get(6)?;
        let shown = |s: String| {
            if hidden {
                String::new()
            } else {
                strip_bidi_controls(&s)
            }
        };
        Ok(ThreadSummary {
            id: r.get(0)?,
            category: r.get(1)?,
            title: shown(r.get(2)?),
            author_name: shown(r.get(3)?),
            country: if hidden { None } else { r.get(4)? },
            hidden,
            locked: r.get(5)?,
            replies: r.get(7)?,
            last_activity: r.get(8)?,
            unread: r.get(9)?,
            pending: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The threads of a category, newest activity first.
pub fn threads(core: &Core, category_id: &str) -> Result<Vec<ThreadSummary>> {
    let conn = core.conn();
    let known: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM forum_category WHERE id = ?1)",
        [category_id],
        |r| r.get(0),
    )?;
    if !known {
        return Err(Error::NotFound(format!("forum category `{category_id}`")));
    }
    summaries(&conn, Which::Category(category_id))
}

fn body_of(json: &str) -> String {
    serde_json::from_str::<Value>(json)
        .ok()
        .and_then(|v| v.get("body").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default()
}

/// One thread with its posts, oldest first (posts waiting to be sent last); marks it read.
/// Posts of it that retention archived come back first (see [`super::archive`]).
pub fn thread(core: &Core, thread_id: &str) -> Result<ThreadView> {
    super::archive::restore_thread(core, thread_id)?;
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let me = me(&tx)?;
    let head: Option<(String, String, bool, bool)> = tx
        .query_row(
            &format!(
                "SELECT coalesce(category, ''), coalesce(title, ''), locked, {hidden}
                 FROM forum_thread t
                 WHERE id = ?2 AND EXISTS (SELECT 1 FROM forum_post p WHERE p.thread_id = t.id AND p.body IS NOT NULL)",
                hidden = thread_hidden_from_reader("?1")
            ),
            params![me, thread_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((category, title, locked, hidden)) = head else {
        return Err(Error::NotFound(format!("forum thread `{thread_id}`")));
    };
    // Refused edits and posts, newest last (so the newest wins below).
    let mut refused: HashMap<String, (String, RefusalView)> = HashMap::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT r.entity_id, r.value_json, r.code, r.params_json FROM sync_rejected r
             JOIN forum_post p ON p.id = r.entity_id
             WHERE p.thread_id = ?1 AND r.kind = 'forum_post' AND r.field = 'content'
               AND r.dismissed_at IS NULL
             ORDER BY r.created_at, r.op_id",
        )?;
        let rows = stmt.query_map([thread_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                RefusalView::from_columns(&r.get::<_, String>(2)?, &r.get::<_, String>(3)?),
            ))
        })?;
        for row in rows {
            let (id, value, reason) = row?;
            refused.insert(id, (value, reason));
        }
    }
    let mut posts = Vec::new();
    {
        let mut stmt = tx.prepare_cached(
            "SELECT p.id, coalesce(p.author, ''), coalesce(p.author_name, p.author, ''), p.country,
                    p.created_at, coalesce(p.body_html, ''), coalesce(p.body, ''), p.hidden, NULL,
                    EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'forum_post' AND o.entity_id = p.id AND o.field = 'content'),
                    c.local_value_json, c.server_value_json,
                    (SELECT f.server_version FROM sync_field f
                     WHERE f.kind = 'forum_post' AND f.entity_id = p.id AND f.field = 'content')
             FROM forum_post p
             LEFT JOIN sync_conflict c ON c.kind = 'forum_post' AND c.entity_id = p.id AND c.field = 'content'
             WHERE p.thread_id = ?1 AND p.body IS NOT NULL
             ORDER BY p.meta_order IS NULL, p.meta_order, p.arrival, p.n",
        )?;
        let mut rows = stmt.query([thread_id])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let author: String = r.get(1)?;
            let hidden: bool = r.get(7)?;
            let mine = !me.is_empty() && author == me;
            let body: String = r.get(6)?;
            let local: Option<String> = r.get(10)?;
            let server: Option<String> = r.get(11)?;
            let version = r.get::<_, Option<i64>>(12)?.unwrap_or(0);
            let on_server = version > 0;
            let pending: bool = r.get(9)?;
            // Edited: the server holds a later version than the first, or an edit of a post
            // it holds waits here.
            let edited = version > 1 || (pending && on_server);
            let mut conflict = match (local, server) {
                (Some(local), Some(server)) => Some(PostConflict {
                    mine: body_of(&local),
                    theirs: body_of(&server),
                }),
                _ => None,
            };
            let mut refusal = None;
            if let Some((value, reason)) = refused.remove(&id) {
                refusal = Some(reason);
                // A refused edit of a post the server holds: both texts, nothing lost.
                let refused_body = body_of(&value);
                if conflict.is_none() && on_server && refused_body != body {
                    conflict = Some(PostConflict {
                        mine: refused_body,
                        theirs: body.clone(),
                    });
                }
            }
            posts.push(PostView {
                author_name: strip_bidi_controls(&r.get::<_, String>(2)?),
                country: r.get(3)?,
                created_at: r.get(4)?,
                body_html: if hidden && !mine {
                    String::new()
                } else {
                    r.get(5)?
                },
                hidden,
                edited,
                pending,
                mine,
                source: mine.then(|| body.clone()),
                conflict,
                refusal,
                author,
                id,
            });
        }
    }
    tx.execute(
        "UPDATE forum_thread SET read_upto = max(read_upto,
             coalesce((SELECT max(arrival) FROM forum_post WHERE thread_id = ?1), 0))
         WHERE id = ?1",
        [thread_id],
    )?;
    tx.commit()?;
    Ok(ThreadView {
        id: thread_id.to_string(),
        category,
        title: if hidden {
            String::new()
        } else {
            strip_bidi_controls(&title)
        },
        hidden,
        locked,
        posts,
    })
}

/// One post as [`thread`] shows it.
pub(crate) fn post_view(core: &Core, post_id: &str) -> Result<PostView> {
    let thread_id: Option<String> = core
        .conn()
        .query_row(
            "SELECT thread_id FROM forum_post WHERE id = ?1 AND body IS NOT NULL",
            [post_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let Some(thread_id) = thread_id else {
        return Err(Error::NotFound(format!("forum post `{post_id}`")));
    };
    thread(core, &thread_id)?
        .posts
        .into_iter()
        .find(|p| p.id == post_id)
        .ok_or_else(|| Error::NotFound(format!("forum post `{post_id}`")))
}

/// New replies by others to threads the reader started, since the notice was last
/// acknowledged, and those threads.
pub fn home_notice(core: &Core) -> Result<HomeNotice> {
    let conn = core.conn();
    let me = me(&conn)?;
    if me.is_empty() {
        return Ok(HomeNotice {
            new_replies_to_my_threads: 0,
            threads: Vec::new(),
        });
    }
    let seen: i64 = settings::get(&conn, HOME_SEEN)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // A thread whose first post moderation hid is not announced, not even to its author.
    let mut stmt = conn.prepare(
        "SELECT p.thread_id, count(*) FROM forum_post p JOIN forum_thread t ON t.id = p.thread_id
         WHERE t.author = ?1 AND p.id <> t.id AND coalesce(p.author, '') <> ?1
           AND p.body IS NOT NULL AND p.arrival > ?2
           AND NOT coalesce((SELECT fp.hidden FROM forum_post fp WHERE fp.id = t.id), 0)
         GROUP BY p.thread_id",
    )?;
    let rows = stmt.query_map(params![me, seen], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?))
    })?;
    let mut ids = Vec::new();
    let mut total = 0;
    for row in rows {
        let (id, n) = row?;
        ids.push(id);
        total += n;
    }
    let threads = if ids.is_empty() {
        Vec::new()
    } else {
        summaries(&conn, Which::Ids(&ids))?
    };
    Ok(HomeNotice {
        new_replies_to_my_threads: total,
        threads,
    })
}

/// The reader has seen the notice: only replies arriving after now count next time.
pub fn acknowledge_home_notice(core: &Core) -> Result<()> {
    let conn = core.conn();
    let newest: i64 = conn.query_row(
        "SELECT coalesce(max(arrival), 0) FROM forum_post",
        [],
        |r| r.get(0),
    )?;
    settings::set(&conn, HOME_SEEN, &newest.to_string())
}
