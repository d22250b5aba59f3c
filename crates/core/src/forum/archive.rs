//! Posts retention pruned, kept compressed so pruning can be undone: nothing the forum held
//! is lost for good, whatever the clock or the setting did. A pruned post leaves the post
//! table and the search index (most of its weight) for `forum_pruned`, as deflated JSON of
//! its synced fields; changes the server sends for it later update that copy; opening its
//! thread brings the thread's posts back ([`restore_thread`]), and retention then counts the
//! return as activity.

use std::io::{Read, Write};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use stopover_protocol::forum::{PostContent, PostMeta};

use super::markdown::Prerendered;
use super::{search, sync};
use crate::{Core, Error, Result};

/// A pruned post's synced fields, as the server last sent them.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Archived {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<PostContent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<PostMeta>,
    #[serde(default)]
    pub hidden: bool,
    /// Its place in the feed's order and in the arrival order here (local, not synced): a
    /// post brought back keeps its place in its thread and stays read if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_order: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<i64>,
}

fn pack(archived: &Archived) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(archived).map_err(Error::internal)?;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&json)
        .and_then(|()| z.finish())
        .map_err(Error::internal)
}

fn unpack(data: &[u8]) -> Result<Archived> {
    let mut json = Vec::new();
    flate2::read::DeflateDecoder::new(data)
        .read_to_end(&mut json)
        .map_err(Error::internal)?;
    serde_json::from_slice(&json).map_err(Error::internal)
}

/// Keys in `meta`: the highest feed order and arrival number ever given, so numbers go on
/// rising after the posts holding the highest ones were pruned (a post brought back keeps
/// its own, and a later one must still sort after it).
pub(crate) const META_ORDER_FLOOR: &str = "forum_meta_order_floor";
pub(crate) const ARRIVAL_FLOOR: &str = "forum_arrival_floor";

/// SQL for the next number of `column` of forum_post, above its floor kept in `meta`.
pub(crate) fn next_number_sql(column: &str, floor_key: &str) -> String {
    format!(
        "(SELECT max(coalesce((SELECT max({column}) FROM forum_post), 0),
                     coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{floor_key}'), 0)) + 1)"
    )
}

/// Moves the posts listed in `temp.forum_prune` (by row number) into the archive.
pub(crate) fn archive_marked(conn: &Connection) -> Result<()> {
    for (column, key) in [("meta_order", META_ORDER_FLOOR), ("arrival", ARRIVAL_FLOOR)] {
        conn.execute(
            &format!(
                "INSERT INTO meta (key, value)
                 SELECT ?1, CAST(max({column}) AS TEXT) FROM forum_post WHERE {column} IS NOT NULL
                 HAVING max({column}) IS NOT NULL
                 ON CONFLICT (key) DO UPDATE SET value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)"
            ),
            [key],
        )?;
    }
    let mut read = conn.prepare(
        "SELECT id, thread_id, category, title, body, author, author_name, country, created_at, hidden,
                meta_order, arrival
         FROM forum_post WHERE n IN (SELECT n FROM temp.forum_prune)",
    )?;
    let mut store = conn.prepare(
        "INSERT INTO forum_pruned (id, thread_id, data) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET thread_id = excluded.thread_id, data = excluded.data",
    )?;
    let mut rows = read.query([])?;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let thread: Option<String> = r.get(1)?;
        let content = match (
            &thread,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(4)?,
        ) {
            (Some(thread), Some(category), Some(body)) => Some(PostContent {
                thread: thread.clone(),
                category,
                title: r.get(3)?,
                body,
            }),
            _ => None,
        };
        let meta = match (
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, Option<String>>(8)?,
        ) {
            (Some(author), Some(author_name), Some(created_at)) => Some(PostMeta {
                author,
                author_name,
                country: r.get(7)?,
                created_at,
            }),
            _ => None,
        };
        let archived = Archived {
            content,
            meta,
            hidden: r.get(9)?,
            meta_order: r.get(10)?,
            arrival: r.get(11)?,
        };
        store.execute(params![id, thread, pack(&archived)?])?;
    }
    Ok(())
}

/// Whether `post_id` is archived.
pub(crate) fn is_archived(conn: &Connection, post_id: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM forum_pruned WHERE id = ?1)",
        [post_id],
        |r| r.get(0),
    )?)
}

/// A change the server sent for an archived post: its copy is brought up to date (false when
/// the value does not fit the field; the caller warns).
pub(crate) fn update(conn: &Connection, post_id: &str, field: &str, value: &Value) -> Result<bool> {
    let data: Option<Vec<u8>> = conn
        .query_row(
            "SELECT data FROM forum_pruned WHERE id = ?1",
            [post_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let mut archived = match data {
        Some(d) => unpack(&d)?,
        None => Archived::default(),
    };
    match field {
        "content" => match serde_json::from_value::<PostContent>(value.clone()) {
            Ok(c) => archived.content = Some(c),
            Err(_) => return Ok(false),
        },
        "meta" => match serde_json::from_value::<PostMeta>(value.clone()) {
            Ok(m) => archived.meta = Some(m),
            Err(_) => return Ok(false),
        },
        "hidden" => match value.as_bool() {
            Some(h) => archived.hidden = h,
            None => return Ok(false),
        },
        _ => return Ok(false),
    }
    let thread = archived.content.as_ref().map(|c| c.thread.clone());
    conn.execute(
        "UPDATE forum_pruned SET data = ?2, thread_id = coalesce(?3, thread_id) WHERE id = ?1",
        params![post_id, pack(&archived)?, thread],
    )?;
    Ok(true)
}

/// Brings the archived posts of `thread_id` back (rendering them before the write lock), and
/// counts the return as activity of the thread, by the server's time. Returns how many came
/// back.
pub fn restore_thread(core: &Core, thread_id: &str) -> Result<u32> {
    let posts: Vec<(String, Archived)> = {
        let conn = core.conn();
        let mut stmt = conn.prepare(
            "SELECT id, data FROM forum_pruned WHERE (thread_id = ?1 OR id = ?1) AND data IS NOT NULL",
        )?;
        let rows = stmt.query_map([thread_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, data) = row?;
            out.push((id, unpack(&data)?));
        }
        out
    };
    if posts.is_empty() {
        return Ok(0);
    }
    let _rendered = Prerendered::bodies(
        posts
            .iter()
            .filter_map(|(_, a)| a.content.as_ref().map(|c| c.body.as_str())),
    );
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let mut restored = 0;
    for (id, archived) in &posts {
        // Gone from the archive first: the writers below skip archived posts.
        if tx.execute("DELETE FROM forum_pruned WHERE id = ?1", [id])? == 0 {
            continue; // brought back meanwhile
        }
        if let Some(content) = &archived.content {
            sync::store_content(&tx, id, content)?;
        }
        if let Some(meta) = &archived.meta {
            sync::write_meta(&tx, id, meta)?;
        }
        tx.execute(
            "UPDATE forum_post SET meta_order = coalesce(?2, meta_order), arrival = coalesce(?3, arrival)
             WHERE id = ?1",
            params![id, archived.meta_order, archived.arrival],
        )?;
        if archived.hidden {
            let n: i64 = tx.query_row(
                "UPDATE forum_post SET hidden = 1 WHERE id = ?1 RETURNING n",
                [id],
                |r| r.get(0),
            )?;
            search::reindex_post(&tx, n)?;
        }
        restored += 1;
    }
    tx.execute(
        "INSERT INTO forum_restored (thread_id, restored_at)
         VALUES (?1, strftime('%Y-%m-%dT%H:%M:%SZ', ?2, 'unixepoch'))
         ON CONFLICT (thread_id) DO UPDATE SET restored_at = excluded.restored_at",
        params![thread_id, core.server_clock().now_unix()],
    )?;
    tx.commit()?;
    tracing::info!(
        thread_id,
        restored,
        "forum: brought a thread back from the archive"
    );
    Ok(restored)
}
