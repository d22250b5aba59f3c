//! Posts and threads: who may write, edit and moderate what. A post is created by its
//! author's first `content` operation (base version 0, a fresh UUID as its id); the server then
//! stamps its `meta`. A thread is its first post; replies name it in `content.thread`.

use std::sync::atomic::{AtomicU32, Ordering};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use stopover_protocol::forum::{PostContent, PostMeta};
use stopover_protocol::{Operation, RecordKind, Role};
use stopover_protocol::{Refusal, RefusalCode};

use crate::accounts::AccountRow;
use crate::accounts::store as accounts;
use crate::auth::policy::may_moderate;
use crate::db::unix_now;
use crate::error::{Error, Result};

/// A post as the server keeps it beside its synced fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPost {
    pub id: String,
    pub thread_id: String,
    pub category: String,
    pub account_id: i64,
    pub created_at: i64,
}

impl StoredPost {
    pub fn starts_thread(&self) -> bool {
        self.id == self.thread_id
    }
}

pub fn find(conn: &Connection, id: &str) -> Result<Option<StoredPost>> {
    Ok(conn
        .query_row(
            "SELECT id, thread_id, category, account_id, created_at FROM forum_post WHERE id = ?1",
            [id],
            |r| {
                Ok(StoredPost {
                    id: r.get(0)?,
                    thread_id: r.get(1)?,
                    category: r.get(2)?,
                    account_id: r.get(3)?,
                    created_at: r.get(4)?,
                })
            },
        )
        .optional()?)
}

fn flag(conn: &Connection, kind: RecordKind, id: &str, field: &str) -> Result<bool> {
    Ok(super::current(conn, kind, id, field)? == Some(Value::Bool(true)))
}

pub fn is_hidden(conn: &Connection, post_id: &str) -> Result<bool> {
    flag(conn, RecordKind::ForumPost, post_id, "hidden")
}

pub fn is_locked(conn: &Connection, thread_id: &str) -> Result<bool> {
    flag(conn, RecordKind::ForumThread, thread_id, "locked")
}

/// New posts (threads and replies) an account may write per hour: a person in a lively
/// discussion stays far below; a script flooding every account's feed does not.
static POSTS_PER_HOUR: AtomicU32 = AtomicU32::new(30);

/// Sets the posting rate (`serve --forum-posts-per-hour`).
pub fn set_posts_per_hour(n: u32) {
    POSTS_PER_HOUR.store(n.max(1), Ordering::Relaxed);
}

/// Refuses a new post when the account wrote its hourly share already.
fn rate_refusal(conn: &Connection, account_id: i64) -> Result<Option<Refusal>> {
    let limit = POSTS_PER_HOUR.load(Ordering::Relaxed);
    let written: i64 = conn.query_row(
        "SELECT count(*) FROM forum_post WHERE account_id = ?1 AND created_at > ?2",
        params![account_id, unix_now() - 3600],
        |r| r.get(0),
    )?;
    Ok((written >= i64::from(limit)).then(|| {
        Refusal::new(
            RefusalCode::PostingTooFast,
            format!(
                "you wrote {written} posts in the last hour, the most this server takes; post this one again later"
            ),
        )
        .with("retry_after", 3600u64)
    }))
}

fn locked() -> Refusal {
    Refusal::new(
        RefusalCode::ThreadLocked,
        "this thread was locked by the Secretariat: it takes no new replies or edits",
    )
}

/// A post's `content`: creating it (category and thread must exist, the thread must be open)
/// or editing it (only its author, in place, unless moderated or locked).
pub fn content_refusal(
    conn: &Connection,
    caller: &AccountRow,
    op: &Operation,
) -> Result<Option<Refusal>> {
    let Ok(post) = serde_json::from_value::<PostContent>(op.value.clone()) else {
        return Ok(None); // refused by the shape check already
    };
    let Some(stored) = find(conn, &op.entity.id)? else {
        if let Some(reason) = rate_refusal(conn, caller.id)? {
            return Ok(Some(reason));
        }
        return creation_refusal(conn, &op.entity.id, &post);
    };
    if stored.account_id != caller.id {
        return Ok(Some(Refusal::new(
            RefusalCode::NotAuthor,
            "only its author can edit a post",
        )));
    }
    if post.thread != stored.thread_id || post.category != stored.category {
        return Ok(Some(Refusal::new(
            RefusalCode::PostMoved,
            "a post cannot move to another thread or category; write a new one instead",
        )));
    }
    if is_hidden(conn, &stored.id)? {
        return Ok(Some(Refusal::new(
            RefusalCode::PostHidden,
            "this post was hidden by the Secretariat and can no longer be edited",
        )));
    }
    if is_locked(conn, &stored.thread_id)? {
        return Ok(Some(locked()));
    }
    Ok(None)
}

fn creation_refusal(conn: &Connection, id: &str, post: &PostContent) -> Result<Option<Refusal>> {
    if !super::categories::exists(conn, &post.category)? {
        return Ok(Some(
            Refusal::new(
                RefusalCode::NoSuchCategory,
                format!(
                    "there is no forum category `{}` on the server",
                    post.category
                ),
            )
            .with("category", post.category.as_str()),
        ));
    }
    if post.thread == id {
        return Ok(None); // a new thread
    }
    let Some(thread) = find(conn, &post.thread)? else {
        return Ok(Some(no_such_thread(&post.thread)));
    };
    if !thread.starts_thread() {
        return Ok(Some(Refusal::malformed(format!(
            "{} is a reply, not a thread: reply to its thread {}",
            thread.id, thread.thread_id
        ))));
    }
    if thread.category != post.category {
        return Ok(Some(Refusal::new(
            RefusalCode::PostMoved,
            format!(
                "a reply belongs to its thread's category `{}`, not `{}`",
                thread.category, post.category
            ),
        )));
    }
    if is_locked(conn, &thread.id)? {
        return Ok(Some(locked()));
    }
    Ok(None)
}

/// Hiding or showing a post: the Secretariat and admins, on a post that exists.
pub fn hide_refusal(
    conn: &Connection,
    caller: &AccountRow,
    post_id: &str,
) -> Result<Option<Refusal>> {
    if !may_moderate(caller.role) {
        return Ok(Some(Refusal::new(
            RefusalCode::NotModerator,
            "only the Secretariat can hide or show a forum post",
        )));
    }
    if find(conn, post_id)?.is_none() {
        return Ok(Some(
            Refusal::new(
                RefusalCode::NoSuchPost,
                format!("there is no post {post_id} on the server"),
            )
            .with("post", post_id),
        ));
    }
    Ok(None)
}

/// Locking or unlocking a thread: the Secretariat and admins, on a thread that exists.
pub fn lock_refusal(
    conn: &Connection,
    caller: &AccountRow,
    thread_id: &str,
) -> Result<Option<Refusal>> {
    if !may_moderate(caller.role) {
        return Ok(Some(Refusal::new(
            RefusalCode::NotModerator,
            "only the Secretariat can lock or unlock a thread",
        )));
    }
    thread_missing(conn, thread_id)
}

fn no_such_thread(thread_id: &str) -> Refusal {
    Refusal::new(
        RefusalCode::NoSuchThread,
        format!("there is no thread {thread_id} on the server"),
    )
    .with("thread", thread_id)
}

fn thread_missing(conn: &Connection, thread_id: &str) -> Result<Option<Refusal>> {
    Ok(match find(conn, thread_id)? {
        None => Some(no_such_thread(thread_id)),
        Some(p) if !p.starts_thread() => Some(Refusal::malformed(format!(
            "{thread_id} is a reply, not a thread (its thread is {})",
            p.thread_id
        ))),
        Some(_) => None,
    })
}

/// After a post's `content` was applied: if it is new, records who wrote it and publishes
/// its `meta` (after the content, in the same transaction).
pub fn stamp_if_new(conn: &Connection, account_id: i64, op: &Operation) -> Result<()> {
    if find(conn, &op.entity.id)?.is_some() {
        return Ok(()); // an edit
    }
    let post: PostContent = serde_json::from_value(op.value.clone())?;
    let author = accounts::get_by_id(conn, account_id)?;
    let now = unix_now();
    conn.execute(
        "INSERT INTO forum_post (id, thread_id, category, account_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![op.entity.id, post.thread, post.category, account_id, now],
    )?;
    let meta = PostMeta {
        author: author.username,
        author_name: author.display_name,
        country: (author.role == Role::Nfp)
            .then_some(author.country)
            .flatten(),
        created_at: super::rfc3339(now),
    };
    super::publish(
        conn,
        RecordKind::ForumPost,
        &op.entity.id,
        "meta",
        &serde_json::to_value(&meta)?,
    )?;
    Ok(())
}

/// The admin CLI's moderation: sets a post's `hidden` as the Secretariat would. Returns false
/// when it already was so.
pub fn set_hidden(conn: &Connection, post_id: &str, hidden: bool) -> Result<bool> {
    if find(conn, post_id)?.is_none() {
        return Err(Error::Forum(format!(
            "there is no post {post_id} on this server"
        )));
    }
    // Never hidden counts as shown: nothing to publish.
    if is_hidden(conn, post_id)? == hidden {
        return Ok(false);
    }
    let written = super::publish(
        conn,
        RecordKind::ForumPost,
        post_id,
        "hidden",
        &Value::Bool(hidden),
    )?;
    Ok(written.is_some())
}

/// The admin CLI's moderation: sets a thread's `locked`. Returns false when it already was so.
pub fn set_locked(conn: &Connection, thread_id: &str, locked: bool) -> Result<bool> {
    if let Some(why) = thread_missing(conn, thread_id)? {
        return Err(Error::Forum(
            why.reason.replace("on the server", "on this server"),
        ));
    }
    if is_locked(conn, thread_id)? == locked {
        return Ok(false);
    }
    let written = super::publish(
        conn,
        RecordKind::ForumThread,
        thread_id,
        "locked",
        &Value::Bool(locked),
    )?;
    Ok(written.is_some())
}
