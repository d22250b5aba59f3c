//! The composer's autosaved text, one per place a post is written ([`DraftKey`]). Sending
//! the post clears its draft in the same transaction.

use rusqlite::{Connection, OptionalExtension, params};
use stopover_protocol::MAX_TEXT_CHARS;
use stopover_protocol::forum::{MAX_POST_CHARS, is_slug};

use super::posts::check_post_id;
use crate::ErrorCode;
use crate::store::NOW;
use crate::{Core, Error, Result};

/// Where a post is being written: a new thread in a category, a reply in a thread, or an
/// edit of a post. Stored as `new:<category>`, `reply:<thread>`, `edit:<post>`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "place", rename_all = "snake_case")]
pub enum DraftKey {
    New { category: String },
    Reply { thread: String },
    Edit { post: String },
}

impl DraftKey {
    /// The stored key, after checking the id it names.
    fn stored(&self) -> Result<String> {
        match self {
            DraftKey::New { category } if is_slug(category) => Ok(format!("new:{category}")),
            DraftKey::New { category } => Err(Error::internal(format!(
                "`{category}` is not a forum category id"
            ))),
            DraftKey::Reply { thread } => {
                check_post_id(thread)?;
                Ok(format!("reply:{thread}"))
            }
            DraftKey::Edit { post } => {
                check_post_id(post)?;
                Ok(format!("edit:{post}"))
            }
        }
    }
}

/// Saves what the composer holds (an empty text removes the draft).
pub fn save_composer_draft(core: &Core, key: &DraftKey, body: &str) -> Result<()> {
    let key = &key.stored()?;
    // Room for a whole post plus a title's worth; anything longer cannot be sent anyway.
    let limit = MAX_POST_CHARS.max(MAX_TEXT_CHARS) + 1_000;
    if body.chars().count() > limit {
        return Err(Error::invalid(
            ErrorCode::DraftTooLong,
            format!("a draft holds at most {limit} characters"),
        )
        .with("max", limit));
    }
    let conn = core.conn();
    if body.trim().is_empty() {
        return clear(&conn, key);
    }
    conn.execute(
        &format!(
            "INSERT INTO forum_draft (key, body, updated_at) VALUES (?1, ?2, {NOW})
             ON CONFLICT (key) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at"
        ),
        params![key, body],
    )?;
    Ok(())
}

pub fn composer_draft(core: &Core, key: &DraftKey) -> Result<Option<String>> {
    let key = &key.stored()?;
    Ok(core
        .conn()
        .query_row("SELECT body FROM forum_draft WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

pub fn clear_composer_draft(core: &Core, key: &DraftKey) -> Result<()> {
    let key = &key.stored()?;
    clear(&core.conn(), key)
}

pub(crate) fn clear_key(conn: &Connection, key: &DraftKey) -> Result<()> {
    clear(conn, &key.stored()?)
}

fn clear(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM forum_draft WHERE key = ?1", [key])?;
    Ok(())
}
