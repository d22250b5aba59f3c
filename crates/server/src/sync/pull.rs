//! Pulling a caller's change feed by cursor, oldest first, in pages: their own account's
//! changes, for an NFP their country's (the shared national report), and the community's
//! (forum, directory, events).

use rusqlite::{Connection, params};
use stopover_protocol::{Change, EntityRef, MAX_PULL_LIMIT, PullResponse};

use crate::auth::policy::SyncScope;
use crate::error::Result;

/// Page size when the client does not say.
pub const DEFAULT_PULL_LIMIT: u32 = 200;

/// A page also stops once its values pass this many bytes, so one answer stays a size a
/// slow link can carry (at least one change is always returned, so paging progresses).
const PAGE_VALUE_BYTES: usize = 1024 * 1024;

/// The requested limit, defaulted and capped to what the protocol allows.
pub fn effective_limit(requested: Option<u32>) -> u32 {
    requested
        .unwrap_or(DEFAULT_PULL_LIMIT)
        .clamp(1, MAX_PULL_LIMIT)
}

pub fn pull(conn: &Connection, scope: &SyncScope, cursor: u64, limit: u32) -> Result<PullResponse> {
    let after = i64::try_from(cursor).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(
        "SELECT seq, kind, entity_id, field, value, version, op_id FROM change
         WHERE scope IN (?1, ?2, ?3) AND seq > ?4 ORDER BY seq LIMIT ?5",
    )?;
    let account = scope.account_key();
    // No country: a key no row has.
    let country = scope
        .key_for(stopover_protocol::RecordKind::ReportAnswer)
        .unwrap_or_default();
    // One extra row tells whether more wait.
    let mut rows = stmt.query(params![
        account,
        country,
        crate::auth::policy::COMMUNITY_KEY,
        after,
        i64::from(limit) + 1
    ])?;
    let mut changes = Vec::new();
    let mut bytes = 0;
    let mut more = false;
    while let Some(row) = rows.next()? {
        if changes.len() == limit as usize || (bytes >= PAGE_VALUE_BYTES && !changes.is_empty()) {
            more = true;
            break;
        }
        let value: String = row.get(4)?;
        bytes += value.len();
        changes.push(Change {
            seq: row.get::<_, i64>(0)? as u64,
            entity: EntityRef {
                kind: row.get(1)?,
                id: row.get(2)?,
            },
            field: row.get(3)?,
            value: serde_json::from_str(&value)?,
            version: row.get::<_, i64>(5)? as u64,
            op_id: row.get(6)?,
        });
    }
    let cursor = changes.last().map_or(cursor, |c| c.seq);
    Ok(PullResponse {
        changes,
        cursor,
        more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::push::apply;
    use crate::sync::push::tests::{op, setup};
    use serde_json::json;

    #[test]
    fn pages_through_the_feed_with_the_cursor() {
        let (_d, c, a, _) = setup();
        let ops: Vec<_> = (0..5)
            .map(|i| op(i, &format!("list/step-{i}"), "done", 0, json!(true)))
            .collect();
        apply(&c, &a, &ops).unwrap();

        let p1 = pull(&c, &a, 0, 2).unwrap();
        assert_eq!(p1.changes.len(), 2);
        assert!(p1.more);
        assert_eq!(p1.cursor, p1.changes[1].seq);
        assert_eq!(p1.changes[0].op_id, ops[0].id);
        assert_eq!(p1.changes[0].entity.id, "list/step-0");
        assert_eq!(
            (p1.changes[0].value.clone(), p1.changes[0].version),
            (json!(true), 1)
        );

        let p2 = pull(&c, &a, p1.cursor, 2).unwrap();
        let p3 = pull(&c, &a, p2.cursor, 2).unwrap();
        assert_eq!((p2.changes.len(), p2.more), (2, true));
        assert_eq!((p3.changes.len(), p3.more), (1, false));
        let seqs: Vec<u64> = [&p1, &p2, &p3]
            .iter()
            .flat_map(|p| p.changes.iter().map(|c| c.seq))
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "ascending: {seqs:?}");

        // Exactly at the end: nothing, cursor unchanged, no more.
        let end = pull(&c, &a, p3.cursor, 2).unwrap();
        assert_eq!(
            (end.changes.len(), end.cursor, end.more),
            (0, p3.cursor, false)
        );
        // A page exactly as long as what is left says no more.
        let exact = pull(&c, &a, p2.cursor - 1, 2).unwrap();
        assert!(!exact.more);
    }

    #[test]
    fn only_the_callers_own_changes() {
        let (_d, c, a, b) = setup();
        apply(&c, &a, &[op(1, "l/s", "done", 0, json!(true))]).unwrap();
        apply(&c, &b, &[op(2, "l/s", "note", 0, json!("b's note"))]).unwrap();
        let for_b = pull(&c, &b, 0, 100).unwrap();
        assert_eq!(for_b.changes.len(), 1);
        assert_eq!(for_b.changes[0].value, json!("b's note"));
    }

    #[test]
    fn big_values_end_a_page_early() {
        let (_d, c, a, _) = setup();
        let big = "x".repeat(stopover_protocol::MAX_TEXT_CHARS);
        let ops: Vec<_> = (0..120)
            .map(|i| op(i, &format!("l/s-{i}"), "note", 0, json!(big)))
            .collect();
        apply(&c, &a, &ops).unwrap();
        let page = pull(&c, &a, 0, 500).unwrap();
        assert!(page.more);
        assert!(
            page.changes.len() < 120 && page.changes.len() >= 100,
            "{}",
            page.changes.len()
        );
    }

    #[test]
    fn limits_are_defaulted_and_capped() {
        assert_eq!(effective_limit(None), DEFAULT_PULL_LIMIT);
        assert_eq!(effective_limit(Some(0)), 1);
        assert_eq!(effective_limit(Some(10_000)), MAX_PULL_LIMIT);
        let (_d, c, a, _) = setup();
        assert_eq!(pull(&c, &a, u64::MAX, 10).unwrap().cursor, u64::MAX);
    }
}
