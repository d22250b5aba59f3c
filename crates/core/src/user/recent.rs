//! "Recently read": the last items opened in the reading view.

use rusqlite::{Connection, params};

use crate::Result;
use crate::content::{ItemKind, ItemSummary};

/// How many entries the history keeps.
pub const KEEP: i64 = 50;

pub fn record(conn: &mut Connection, kind: ItemKind, id: &str) -> Result<()> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO recent (kind, id, opened_at) VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
         ON CONFLICT (kind, id) DO UPDATE SET opened_at = excluded.opened_at",
        params![kind.as_str(), id],
    )?;
    tx.execute(
        "DELETE FROM recent WHERE rowid NOT IN (SELECT rowid FROM recent ORDER BY opened_at DESC LIMIT ?1)",
        [KEEP],
    )?;
    tx.commit()?;
    Ok(())
}

pub fn list(conn: &Connection, lang: &str, limit: usize) -> Result<Vec<ItemSummary>> {
    resolve(
        conn,
        "SELECT kind, id FROM recent ORDER BY opened_at DESC, rowid DESC",
        lang,
        limit,
    )
}

/// Runs a `SELECT kind, id` query and looks each item up in `lang`, skipping items the
/// current pack no longer has (they stay recorded, and come back if the item does).
pub(super) fn resolve(
    conn: &Connection,
    sql: &str,
    lang: &str,
    limit: usize,
) -> Result<Vec<ItemSummary>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let keys = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for (kind, id) in keys {
        let Ok(kind) = ItemKind::parse(&kind) else {
            continue;
        };
        if let Some(item) = crate::content::summary(conn, kind, &id, lang)? {
            out.push(item);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}
