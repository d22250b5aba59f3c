//! The forum, the NFP directory and training events on the server. Their records ride the
//! sync engine in the `community` scope (see `stopover_protocol::forum` for kinds and fields);
//! this module adds the rules of each kind ([`kinds`]: the checks beyond their shape, and the
//! fields the server writes itself — who wrote a post and when), and what the Secretariat publishes
//! (categories, events, directory cards, moderation from the admin CLI).
//!
//! A new post's `meta` is written right AFTER its `content`, in the same transaction: the
//! feed holds `content` then `meta`, always in one pull page order (a page may end between
//! them; the next page brings the `meta`).

pub mod categories;
pub mod directory;
pub mod events;
pub mod kinds;
pub mod posts;

#[cfg(test)]
mod tests;

use rusqlite::Connection;
use serde_json::Value;
use stopover_forms::Date;
use stopover_protocol::RecordKind;

use crate::auth::policy::COMMUNITY_KEY;
use crate::db::unix_now;
use crate::error::Result;
use crate::records::feed::write_server_record;

/// Writes a community field in the server's name; `None` when it already held `value`.
pub(crate) fn publish(
    conn: &Connection,
    kind: RecordKind,
    entity_id: &str,
    field: &str,
    value: &Value,
) -> Result<Option<u64>> {
    write_server_record(conn, COMMUNITY_KEY, kind.name(), entity_id, field, value)
}

/// The community field's current value, if it was ever written.
pub(crate) fn current(
    conn: &Connection,
    kind: RecordKind,
    entity_id: &str,
    field: &str,
) -> Result<Option<Value>> {
    use rusqlite::OptionalExtension;
    let json: Option<String> = conn
        .query_row(
            "SELECT value FROM field WHERE scope = ?1 AND kind = ?2 AND entity_id = ?3 AND field = ?4",
            rusqlite::params![COMMUNITY_KEY, kind.name(), entity_id, field],
            |r| r.get(0),
        )
        .optional()?;
    Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
}

/// The first start of a server (and every start after, harmlessly): the default categories
/// and a directory card for every approved account that has none yet. Returns how many
/// records were published.
pub fn seed(conn: &mut Connection) -> Result<usize> {
    let tx = conn.transaction()?;
    let mut published = categories::seed_defaults(&tx)?;
    published += directory::publish_missing_cards(&tx)?;
    tx.commit()?;
    Ok(published)
}

/// Today in UTC, `YYYY-MM-DD`.
pub(crate) fn today() -> String {
    Date(unix_now().div_euclid(86_400)).to_string()
}

/// Unix seconds as RFC 3339 in UTC, e.g. `2026-05-04T09:30:00Z`.
pub(crate) fn rfc3339(unix: i64) -> String {
    let secs = unix.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        Date(unix.div_euclid(86_400)),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A `YYYY-MM-DD` date that exists, as written (no time, no padding tricks).
pub(crate) fn is_date(s: &str) -> bool {
    s.len() == 10 && Date::parse(s).is_some_and(|d| d.to_string() == s)
}
