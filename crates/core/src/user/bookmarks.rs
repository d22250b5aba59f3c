//! Bookmarks on Manual modules, checklists and library items.

use rusqlite::{Connection, params};

use crate::Result;
use crate::content::{ItemKind, ItemSummary};

/// Sets or clears a bookmark; returns whether the item is now bookmarked.
pub fn set(conn: &Connection, kind: ItemKind, id: &str, on: bool) -> Result<bool> {
    if on {
        conn.execute(
            "INSERT OR IGNORE INTO bookmark (kind, id, created_at) VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            params![kind.as_str(), id],
        )?;
    } else {
        conn.execute(
            "DELETE FROM bookmark WHERE kind = ?1 AND id = ?2",
            params![kind.as_str(), id],
        )?;
    }
    Ok(on)
}

pub fn is_set(conn: &Connection, kind: ItemKind, id: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM bookmark WHERE kind = ?1 AND id = ?2)",
        params![kind.as_str(), id],
        |r| r.get(0),
    )?)
}

/// Bookmarked items that still exist in the pack, newest first.
pub fn list(conn: &Connection, lang: &str) -> Result<Vec<ItemSummary>> {
    super::recent::resolve(
        conn,
        "SELECT kind, id FROM bookmark ORDER BY created_at DESC",
        lang,
        usize::MAX,
    )
}
