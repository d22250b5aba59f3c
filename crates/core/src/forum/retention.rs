//! Retention: how much of the forum a laptop keeps. Applied after every sync round that
//! received changes and whenever the setting changes, so the cache never fills the disk.
//!
//! Threads are pruned whole, least recently active first: those outside the kept categories,
//! those with no activity inside the window, then as many as needed to bring the cache under
//! `max_posts`. Should single threads still exceed it, their oldest posts go. A thread with a
//! post waiting to be sent, in conflict or refused is never touched: nothing of the reader's
//! is lost; neither is a post that arrived since the last run (a server whose clock was
//! wrong may have stamped it years back).
//!
//! Time is the server's ([`crate::clock`]): a laptop clock years ahead does not age every
//! post. And pruning can be undone: a pruned post is archived compressed
//! ([`super::archive`]) and comes back when its thread is opened; thread rows stay (a late
//! reply still shows its thread's title).

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use stopover_protocol::forum::is_slug;

use crate::ErrorCode;
use crate::user::settings;
use crate::{Core, Error, Result};

const SETTING: &str = "forum_retention";
/// Bounds of the setting: a window of up to 20 years, between 100 and a million posts.
const MAX_MONTHS: u32 = 240;
const MIN_POSTS: u32 = 100;
const MAX_POSTS: u32 = 1_000_000;
/// Posts pruned at once from which the search index is compacted.
const OPTIMIZE_AFTER: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Threads with no activity for this many months are removed; 0 keeps all.
    pub months: u32,
    /// Categories kept; empty keeps all.
    pub categories: Vec<String>,
    /// At most this many posts are kept.
    pub max_posts: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            months: 24,
            categories: Vec::new(),
            max_posts: 20_000,
        }
    }
}

fn load(conn: &Connection) -> Result<Retention> {
    Ok(settings::get(conn, SETTING)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

/// The retention setting (defaults: 24 months, every category, 20,000 posts).
pub fn retention(core: &Core) -> Result<Retention> {
    load(&core.conn())
}

/// Checks and stores the setting, then prunes the cache to it.
pub fn set_retention(core: &Core, setting: Retention) -> Result<()> {
    if setting.months > MAX_MONTHS {
        return Err(Error::invalid(
            ErrorCode::RetentionMonths,
            format!("keep posts for at most {MAX_MONTHS} months (0 keeps everything)"),
        )
        .with("max", MAX_MONTHS));
    }
    if !(MIN_POSTS..=MAX_POSTS).contains(&setting.max_posts) {
        return Err(Error::invalid(
            ErrorCode::RetentionPosts,
            format!("the most posts kept must be between {MIN_POSTS} and {MAX_POSTS}"),
        )
        .with("min", MIN_POSTS)
        .with("max", MAX_POSTS));
    }
    let mut categories = setting.categories.clone();
    categories.sort();
    categories.dedup();
    {
        let conn = core.conn();
        for c in &categories {
            let known: bool = is_slug(c)
                && conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM forum_category WHERE id = ?1)",
                    [c],
                    |r| r.get(0),
                )?;
            if !known {
                return Err(Error::invalid(
                    ErrorCode::ForumCategoryUnknown,
                    format!("there is no forum category `{c}` to keep"),
                )
                .with("category", c.to_string()));
            }
        }
        let stored = Retention {
            categories,
            ..setting
        };
        let json = serde_json::to_string(&stored).map_err(|e| Error::internal(e.to_string()))?;
        settings::set(&conn, SETTING, &json)?;
    }
    apply(core)?;
    Ok(())
}

/// One thread (or a lone post whose content has not arrived) as retention weighs it.
struct Group {
    key: String,
    category: Option<String>,
    posts: u32,
    protected: bool,
    stale: bool,
}

/// Prunes the cache to the retention setting in one transaction; returns how many posts went.
/// For a change of the setting: every post counts, however recently it arrived.
pub fn apply(core: &Core) -> Result<u32> {
    prune(core, false)
}

/// [`apply`] after a sync round: posts that arrived since the last run are kept this time.
pub fn apply_after_pull(core: &Core) -> Result<u32> {
    prune(core, true)
}

fn prune(core: &Core, keep_fresh: bool) -> Result<u32> {
    let now = core.server_clock().now_unix();
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let setting = load(&tx)?;
    if !keep_fresh {
        tx.execute("DELETE FROM forum_fresh", [])?;
    }
    let groups = groups(&tx, setting.months, now)?;
    let mut total: u64 = groups.iter().map(|g| u64::from(g.posts)).sum();
    let mut drop = Vec::new();
    let mut kept = Vec::new();
    for g in groups {
        let outside = !setting.categories.is_empty()
            && !g
                .category
                .as_ref()
                .is_some_and(|c| setting.categories.contains(c));
        if !g.protected && (outside || g.stale) {
            total -= u64::from(g.posts);
            drop.push(g.key);
        } else {
            kept.push(g);
        }
    }
    // `groups` is least recently active first.
    for g in kept {
        if total <= u64::from(setting.max_posts) {
            break;
        }
        if !g.protected {
            total -= u64::from(g.posts);
            drop.push(g.key);
        }
    }
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS forum_prune (n INTEGER PRIMARY KEY); DELETE FROM temp.forum_prune;",
    )?;
    {
        let mut mark = tx.prepare(
            "INSERT OR IGNORE INTO temp.forum_prune (n)
             SELECT n FROM forum_post WHERE thread_id = ?1 OR (thread_id IS NULL AND id = ?1)",
        )?;
        for key in &drop {
            mark.execute([key])?;
        }
    }
    let over = total.saturating_sub(u64::from(setting.max_posts));
    if over > 0 {
        // Threads too big on their own: their oldest unprotected posts go.
        tx.execute(
            "INSERT OR IGNORE INTO temp.forum_prune (n)
             SELECT p.n FROM forum_post p
             WHERE p.n NOT IN (SELECT n FROM temp.forum_prune)
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'forum_post' AND o.entity_id = p.id)
               AND NOT EXISTS (SELECT 1 FROM sync_conflict c WHERE c.kind = 'forum_post' AND c.entity_id = p.id)
               AND NOT EXISTS (SELECT 1 FROM sync_rejected r WHERE r.kind = 'forum_post' AND r.entity_id = p.id AND r.dismissed_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM forum_fresh f WHERE f.id = p.id)
             ORDER BY coalesce(p.created_at, p.local_at), p.n
             LIMIT ?1",
            params![over as i64],
        )?;
    }
    // Kept compressed, so the reader can have them back; their versions stay known, so a
    // later change of them is recognised and updates the copy.
    super::archive::archive_marked(&tx)?;
    tx.execute_batch("DELETE FROM forum_search WHERE rowid IN (SELECT n FROM temp.forum_prune);")?;
    let removed = tx.execute(
        "DELETE FROM forum_post WHERE n IN (SELECT n FROM temp.forum_prune)",
        [],
    )?;
    tx.execute("DELETE FROM temp.forum_prune", [])?;
    // What arrived is protected once: from now on it ages like the rest.
    tx.execute("DELETE FROM forum_fresh", [])?;
    forget_server_copies(&tx)?;
    if removed >= OPTIMIZE_AFTER {
        // FTS5 only marks deleted rows; after a large prune, merging its segments gives the
        // space back to the database.
        tx.execute(
            "INSERT INTO forum_search (forum_search) VALUES ('optimize')",
            [],
        )?;
    }
    tx.commit()?;
    if removed > 0 {
        tracing::info!(removed, "forum: pruned the cache to the retention setting");
    }
    Ok(removed as u32)
}

/// The server's copies of forum posts that only double the cache (see
/// `forum::sync::forget_server_copy`), dropped again after a pull from the start filled them.
fn forget_server_copies(conn: &Connection) -> Result<()> {
    let me = super::account(conn)?.unwrap_or_default();
    conn.execute(
        "UPDATE sync_field SET server_value_json = NULL
         WHERE kind = 'forum_post' AND server_value_json IS NOT NULL
           AND (field = 'meta' OR (field = 'content'
                AND coalesce((SELECT p.author FROM forum_post p WHERE p.id = sync_field.entity_id), '') <> ?1))",
        [me],
    )?;
    Ok(())
}

/// Every thread with its size, activity (its newest post, or its return from the archive)
/// and whether it holds something of the reader's that waits or just arrived, least recently
/// active first. `now` is the server's time in Unix seconds.
fn groups(conn: &Connection, months: u32, now: f64) -> Result<Vec<Group>> {
    let window = if months == 0 {
        None
    } else {
        Some(format!("-{months} months"))
    };
    let mut stmt = conn.prepare(
        "SELECT g, category, posts, protected,
                ?1 IS NOT NULL AND julianday(last) < julianday(?2, 'unixepoch', ?1),
                last
         FROM (
             SELECT coalesce(p.thread_id, p.id) AS g, coalesce(t.category, max(p.category)) AS category,
                    count(*) AS posts,
                    max(EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'forum_post' AND o.entity_id = p.id)
                        OR EXISTS (SELECT 1 FROM sync_conflict c WHERE c.kind = 'forum_post' AND c.entity_id = p.id)
                        OR EXISTS (SELECT 1 FROM sync_rejected r WHERE r.kind = 'forum_post' AND r.entity_id = p.id AND r.dismissed_at IS NULL)
                        OR EXISTS (SELECT 1 FROM forum_fresh f WHERE f.id = p.id)) AS protected,
                    max(max(coalesce(p.created_at, p.local_at)),
                        coalesce((SELECT r.restored_at FROM forum_restored r WHERE r.thread_id = coalesce(p.thread_id, p.id)), '')) AS last,
                    max(p.meta_order) AS feed_order
             FROM forum_post p LEFT JOIN forum_thread t ON t.id = p.thread_id
             GROUP BY g)
         ORDER BY last, feed_order, g",
    )?;
    let rows = stmt.query_map(params![window, now], |r| {
        Ok(Group {
            key: r.get(0)?,
            category: r.get(1)?,
            posts: r.get(2)?,
            protected: r.get(3)?,
            stale: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
