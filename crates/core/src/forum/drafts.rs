//! The composer's autosaved text, one per place a post is written: `new:<category>`,
//! `reply:<thread>` or `edit:<post>`. Sending the post clears its draft in the same
//! transaction.

use rusqlite::{Connection, OptionalExtension, params};
use stopover_protocol::MAX_TEXT_CHARS;
use stopover_protocol::forum::{MAX_POST_CHARS, is_slug};

use super::posts::check_post_id;
use crate::sync::state::NOW;
use crate::{Core, Error, Result};

fn check_key(key: &str) -> Result<()> {
    match key.split_once(':') {
        Some(("new", category)) if is_slug(category) => Ok(()),
        Some(("reply" | "edit", id)) => check_post_id(id),
        _ => Err(Error::InvalidInput(format!(
            "composer draft key `{key}` must be `new:<category>`, `reply:<thread>` or `edit:<post>`"
        ))),
    }
}

/// Saves what the composer holds (an empty text removes the draft).
pub fn save_composer_draft(core: &Core, key: &str, body: &str) -> Result<()> {
    check_key(key)?;
    // Room for a whole post plus a title's worth; anything longer cannot be sent anyway.
    let limit = MAX_POST_CHARS.max(MAX_TEXT_CHARS) + 1_000;
    if body.chars().count() > limit {
        return Err(Error::InvalidInput(format!(
            "a draft holds at most {limit} characters"
        )));
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

pub fn composer_draft(core: &Core, key: &str) -> Result<Option<String>> {
    check_key(key)?;
    Ok(core
        .conn()
        .query_row("SELECT body FROM forum_draft WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

pub fn clear_composer_draft(core: &Core, key: &str) -> Result<()> {
    check_key(key)?;
    clear(&core.conn(), key)
}

pub(crate) fn clear(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM forum_draft WHERE key = ?1", [key])?;
    Ok(())
}
