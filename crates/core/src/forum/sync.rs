//! The community record kinds (forum, directory, events) and the local tables that cache
//! them: writing what the server sends (a pull, or the server's side of a conflict) and
//! reading a field back. See [`stopover_protocol::forum`] for the kinds, ids and values.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use stopover_protocol::RecordKind;
use stopover_protocol::forum::{CategoryInfo, EventInfo, PostContent, PostMeta, SharedContact};

use super::markdown::{Prerendered, post_html};
use super::{archive, search};
use crate::Result;
use crate::store::NOW;

/// Renders the posts among pulled `changes` ahead, before the caller takes the database lock.
pub(crate) fn prerender(changes: &[stopover_protocol::Change]) -> Prerendered {
    let contents: Vec<PostContent> = changes
        .iter()
        .filter(|c| c.entity.kind == RecordKind::ForumPost.name() && c.field == "content")
        .filter_map(|c| serde_json::from_value(c.value.clone()).ok())
        .collect();
    Prerendered::bodies(contents.iter().map(|c| c.body.as_str()))
}

fn ignore(kind: RecordKind, entity_id: &str, field: &str, why: &str) -> Result<bool> {
    tracing::warn!(
        kind = kind.name(),
        entity_id,
        field,
        why,
        "sync: ignoring a community change"
    );
    Ok(false)
}

/// Writes a community field that came from the server. Queues nothing. False (and a
/// warning) when the value does not fit its kind and field.
pub(crate) fn write_local(
    conn: &Connection,
    kind: RecordKind,
    entity_id: &str,
    field: &str,
    value: &Value,
) -> Result<bool> {
    match (kind, field) {
        (RecordKind::ForumCategory, "info") => {
            if serde_json::from_value::<CategoryInfo>(value.clone()).is_err() {
                return ignore(kind, entity_id, field, "not a CategoryInfo");
            }
            conn.execute(
                "INSERT INTO forum_category (id, info_json) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET info_json = excluded.info_json",
                params![entity_id, value.to_string()],
            )?;
        }
        (RecordKind::ForumPost, "content") => {
            let Ok(content) = serde_json::from_value::<PostContent>(value.clone()) else {
                return ignore(kind, entity_id, field, "not a PostContent");
            };
            if archive::is_archived(conn, entity_id)? {
                return archive::update(conn, entity_id, field, value);
            }
            write_content(conn, entity_id, &content)?;
            mark_fresh(conn, entity_id)?;
        }
        (RecordKind::ForumPost, "meta") => {
            let Ok(meta) = serde_json::from_value::<PostMeta>(value.clone()) else {
                return ignore(kind, entity_id, field, "not a PostMeta");
            };
            if archive::is_archived(conn, entity_id)? {
                return archive::update(conn, entity_id, field, value);
            }
            write_meta(conn, entity_id, &meta)?;
            mark_fresh(conn, entity_id)?;
        }
        (RecordKind::ForumPost, "hidden") => {
            let Some(hidden) = value.as_bool() else {
                return ignore(kind, entity_id, field, "not true or false");
            };
            if archive::is_archived(conn, entity_id)? {
                return archive::update(conn, entity_id, field, value);
            }
            ensure_post(conn, entity_id)?;
            let n: i64 = conn.query_row(
                "UPDATE forum_post SET hidden = ?2 WHERE id = ?1 RETURNING n",
                params![entity_id, hidden],
                |r| r.get(0),
            )?;
            // Hidden posts are not found by search.
            search::reindex_post(conn, n)?;
        }
        (RecordKind::ForumThread, "locked") => {
            let Some(locked) = value.as_bool() else {
                return ignore(kind, entity_id, field, "not true or false");
            };
            conn.execute(
                "INSERT INTO forum_thread (id, locked) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET locked = excluded.locked",
                params![entity_id, locked],
            )?;
        }
        (RecordKind::Profile, "account") => {
            return store_json::<stopover_protocol::forum::ProfileAccount>(
                conn,
                "INSERT INTO profile (username, account_json) VALUES (?1, ?2)
                 ON CONFLICT (username) DO UPDATE SET account_json = excluded.account_json",
                (kind, entity_id, field),
                value,
            );
        }
        (RecordKind::Profile, "shared") => {
            return store_json::<SharedContact>(
                conn,
                "INSERT INTO profile (username, shared_json) VALUES (?1, ?2)
                 ON CONFLICT (username) DO UPDATE SET shared_json = excluded.shared_json",
                (kind, entity_id, field),
                value,
            );
        }
        (RecordKind::Event, "info") => {
            return store_json::<EventInfo>(
                conn,
                "INSERT INTO event (id, info_json) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET info_json = excluded.info_json",
                (kind, entity_id, field),
                value,
            );
        }
        (RecordKind::EventRegistration, "registered") => {
            let Some(registered) = value.as_bool() else {
                return ignore(kind, entity_id, field, "not true or false");
            };
            write_registration(conn, entity_id, registered)?;
        }
        _ => return ignore(kind, entity_id, field, "unknown field"),
    }
    Ok(true)
}

/// Stores a JSON value kept as it came (`upsert` binds the entity id and the JSON), once it
/// reads as a `T`; otherwise ignored with a warning.
fn store_json<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    upsert: &str,
    (kind, entity_id, field): (RecordKind, &str, &str),
    value: &Value,
) -> Result<bool> {
    if serde_json::from_value::<T>(value.clone()).is_err() {
        let why = format!(
            "not a {}",
            std::any::type_name::<T>()
                .rsplit("::")
                .next()
                .unwrap_or("value")
        );
        return ignore(kind, entity_id, field, &why);
    }
    conn.execute(upsert, params![entity_id, value.to_string()])?;
    Ok(true)
}

pub(crate) fn write_registration(
    conn: &Connection,
    event_id: &str,
    registered: bool,
) -> Result<()> {
    conn.execute(
        "INSERT INTO event_registration (event_id, registered) VALUES (?1, ?2)
         ON CONFLICT (event_id) DO UPDATE SET registered = excluded.registered",
        params![event_id, registered],
    )?;
    Ok(())
}

/// A post that just arrived: the next retention run leaves it alone, whatever its date.
fn mark_fresh(conn: &Connection, post_id: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO forum_fresh (id) VALUES (?1)",
        [post_id],
    )?;
    Ok(())
}

/// The post's row, made empty when only another field of it has arrived so far.
fn ensure_post(conn: &Connection, post_id: &str) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO forum_post (id, local_at) VALUES (?1, {NOW}) ON CONFLICT (id) DO NOTHING"
        ),
        [post_id],
    )?;
    Ok(())
}

/// Writes a post's content (from the server, or composed here) into the post, its thread
/// and the search index. The first content a post gets fixes its place in the arrival
/// order (read and unread).
pub(crate) fn store_content(conn: &Connection, post_id: &str, content: &PostContent) -> Result<()> {
    ensure_post(conn, post_id)?;
    let (n, old_body): (i64, Option<String>) = conn.query_row(
        "SELECT n, body FROM forum_post WHERE id = ?1",
        [post_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if old_body.as_deref() == Some(content.body.as_str()) {
        // Same text (e.g. the server's copy of our own post): only the placement may differ.
        conn.execute(
            "UPDATE forum_post SET thread_id = ?2, category = ?3, title = ?4 WHERE n = ?1",
            params![n, content.thread, content.category, content.title],
        )?;
    } else {
        conn.execute(
            &format!(
                "UPDATE forum_post SET thread_id = ?2, category = ?3, title = ?4, body = ?5, body_html = ?6,
                     arrival = coalesce(arrival, {next})
                 WHERE n = ?1",
                next = archive::next_number_sql("arrival", archive::ARRIVAL_FLOOR)
            ),
            params![
                n,
                content.thread,
                content.category,
                content.title,
                content.body,
                post_html(&content.body)
            ],
        )?;
        search::reindex_post(conn, n)?;
    }
    // The thread: made by whichever of its posts comes first; its title and category come
    // from its first post.
    conn.execute(
        "INSERT INTO forum_thread (id, category) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
        params![content.thread, content.category],
    )?;
    if content.thread == post_id {
        conn.execute(
            "UPDATE forum_thread SET category = ?2, title = ?3 WHERE id = ?1",
            params![content.thread, content.category, content.title],
        )?;
    }
    Ok(())
}

fn write_content(conn: &Connection, post_id: &str, content: &PostContent) -> Result<()> {
    store_content(conn, post_id, content)?;
    // The author's details may have come first, with the meta.
    conn.execute(
        "UPDATE forum_thread SET author = p.author, author_name = p.author_name, country = p.country
         FROM forum_post p WHERE p.id = ?1 AND forum_thread.id = ?1 AND p.author IS NOT NULL",
        [post_id],
    )?;
    let author: Option<String> = conn.query_row(
        "SELECT author FROM forum_post WHERE id = ?1",
        [post_id],
        |r| r.get(0),
    )?;
    if let Some(author) = author {
        forget_server_copy(conn, post_id, &author)?;
    }
    Ok(())
}

/// The sync engine keeps the server's value of every field it has seen, to restore a field
/// whose edit is refused. Only the author ever edits a post, so for anyone else's post (and
/// for every post's server-written `meta`) that copy only doubles what the cache holds: it
/// is dropped, the version kept. (About a kilobyte a post, half the size of the cache.)
fn forget_server_copy(conn: &Connection, post_id: &str, author: &str) -> Result<()> {
    let mine = super::account(conn)?.is_some_and(|me| me == author);
    conn.execute(
        "UPDATE sync_field SET server_value_json = NULL
         WHERE kind = 'forum_post' AND entity_id = ?1 AND (field = 'meta' OR (field = 'content' AND NOT ?2))",
        params![post_id, mine],
    )?;
    Ok(())
}

pub(crate) fn write_meta(conn: &Connection, post_id: &str, meta: &PostMeta) -> Result<()> {
    ensure_post(conn, post_id)?;
    conn.execute(
        &format!(
            "UPDATE forum_post SET author = ?2, author_name = ?3, country = ?4, created_at = ?5,
                 meta_order = coalesce(meta_order, {next})
             WHERE id = ?1",
            next = archive::next_number_sql("meta_order", archive::META_ORDER_FLOOR)
        ),
        params![
            post_id,
            meta.author,
            meta.author_name,
            meta.country,
            meta.created_at
        ],
    )?;
    // The thread started by this post shows its author (the thread row exists once its
    // content came; otherwise write_content copies these later).
    conn.execute(
        "UPDATE forum_thread SET author = ?2, author_name = ?3, country = ?4 WHERE id = ?1",
        params![post_id, meta.author, meta.author_name, meta.country],
    )?;
    forget_server_copy(conn, post_id, &meta.author)
}

/// Four nullable text columns of one row.
type FourTexts = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A field the server never held, back to its default after a refusal: a registration the
/// server refused (full, closed) is no registration. Posts keep their text for their author.
pub(crate) fn revert_local(
    conn: &Connection,
    kind: RecordKind,
    entity_id: &str,
    field: &str,
) -> Result<bool> {
    match (kind, field) {
        (RecordKind::EventRegistration, "registered") => {
            write_registration(conn, entity_id, false)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The local value of a community field (`None` when this device has none).
pub(crate) fn read_local(
    conn: &Connection,
    kind: RecordKind,
    entity_id: &str,
    field: &str,
) -> Result<Option<Value>> {
    let json = |sql: &str| -> Result<Option<Value>> {
        let text: Option<Option<String>> =
            conn.query_row(sql, [entity_id], |r| r.get(0)).optional()?;
        Ok(text.flatten().and_then(|t| serde_json::from_str(&t).ok()))
    };
    let flag = |sql: &str| -> Result<Option<Value>> {
        let b: Option<bool> = conn.query_row(sql, [entity_id], |r| r.get(0)).optional()?;
        Ok(b.map(Value::Bool))
    };
    match (kind, field) {
        (RecordKind::ForumCategory, "info") => {
            json("SELECT info_json FROM forum_category WHERE id = ?1")
        }
        (RecordKind::ForumPost, "content") => {
            let row: Option<FourTexts> = conn
                .query_row(
                    "SELECT thread_id, category, title, body FROM forum_post WHERE id = ?1",
                    [entity_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            Ok(match row {
                Some((Some(thread), Some(category), title, Some(body))) => {
                    serde_json::to_value(PostContent {
                        thread,
                        category,
                        title,
                        body,
                    })
                    .ok()
                }
                _ => None,
            })
        }
        (RecordKind::ForumPost, "meta") => {
            let row: Option<FourTexts> = conn
                .query_row(
                    "SELECT author, author_name, country, created_at FROM forum_post WHERE id = ?1",
                    [entity_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            Ok(match row {
                Some((Some(author), Some(author_name), country, Some(created_at))) => {
                    serde_json::to_value(PostMeta {
                        author,
                        author_name,
                        country,
                        created_at,
                    })
                    .ok()
                }
                _ => None,
            })
        }
        (RecordKind::ForumPost, "hidden") => flag("SELECT hidden FROM forum_post WHERE id = ?1"),
        (RecordKind::ForumThread, "locked") => {
            flag("SELECT locked FROM forum_thread WHERE id = ?1")
        }
        (RecordKind::Profile, "account") => {
            json("SELECT account_json FROM profile WHERE username = ?1")
        }
        (RecordKind::Profile, "shared") => {
            json("SELECT shared_json FROM profile WHERE username = ?1")
        }
        (RecordKind::Event, "info") => json("SELECT info_json FROM event WHERE id = ?1"),
        (RecordKind::EventRegistration, "registered") => {
            flag("SELECT registered FROM event_registration WHERE event_id = ?1")
        }
        _ => Ok(None),
    }
}
