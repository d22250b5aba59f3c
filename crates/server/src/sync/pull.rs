//! Pulling a caller's change feed by cursor, oldest first, in pages: their own account's
//! changes, for an NFP their country's (the shared national report), and the community's
//! (forum, directory, events).

use rusqlite::{Connection, params};
use stopover_protocol::sync_file::FeedPart;
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

/// The page of changes after `cursor` for `scope`, oldest first, at most `limit` of them,
/// from the `part` of the feed asked for.
///
/// Changes pushed by `scope.device` are left out: that device holds them already (it made
/// them, and its push answer gave it their versions; an answer that was lost is answered
/// again, as `duplicate` with the same version, when the device retries the operation, which
/// stays in its outbox until then). The cursor still moves past them: every change of the
/// part up to the returned cursor was either in a page or made by the device. Page and
/// cursor are read in one snapshot.
///
/// The parts have cursors of their own (a laptop behind a relay keeps two):
/// - [`FeedPart::Private`]: the account's and the country's changes only; its cursor promises
///   nothing about community changes, which it passes without carrying.
/// - [`FeedPart::Community`]: the community's changes only, with no device left out, so the
///   page is the same for everyone (a relay fetches it once for every laptop).
pub fn pull(
    conn: &Connection,
    scope: &SyncScope,
    cursor: u64,
    limit: u32,
    part: FeedPart,
) -> Result<PullResponse> {
    let after = i64::try_from(cursor).unwrap_or(i64::MAX);
    // One read transaction: the page and the end of the feed from the same snapshot.
    let tx = conn.unchecked_transaction()?;
    // A part's scopes; a scope left out is the empty key, which no row has.
    let (private, community) = match part {
        FeedPart::All => (true, true),
        FeedPart::Private => (true, false),
        FeedPart::Community => (false, true),
    };
    let account = if private {
        scope.account_key()
    } else {
        String::new()
    };
    // No country: the empty key too.
    let country = if private {
        scope
            .key_for(stopover_protocol::RecordKind::ReportAnswer)
            .unwrap_or_default()
    } else {
        String::new()
    };
    let community = if community {
        crate::auth::policy::COMMUNITY_KEY
    } else {
        ""
    };
    // The community part is the same page for everyone: nobody's own changes are left out.
    let device = if part == FeedPart::Community {
        None
    } else {
        scope.device.as_deref()
    };
    let mut changes = Vec::new();
    let mut more = false;
    {
        let mut stmt = tx.prepare_cached(
            "SELECT seq, kind, entity_id, field, value, version, op_id FROM change
             WHERE scope IN (?1, ?2, ?3) AND seq > ?4 AND (?6 IS NULL OR device_id IS NOT ?6)
             ORDER BY seq LIMIT ?5",
        )?;
        // One extra row tells whether more wait.
        let mut rows = stmt.query(params![
            account,
            country,
            community,
            after,
            i64::from(limit) + 1,
            device,
        ])?;
        let mut bytes = 0;
        while let Some(row) = rows.next()? {
            if changes.len() == limit as usize || (bytes >= PAGE_VALUE_BYTES && !changes.is_empty())
            {
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
    }
    let mut cursor = changes.last().map_or(cursor, |c| c.seq);
    if !more && device.is_some() {
        // Nothing else waits for this device: the cursor moves past its own changes too, so
        // the next pull does not read them again.
        let end: Option<i64> = tx.query_row(
            "SELECT max(seq) FROM change WHERE scope IN (?1, ?2, ?3) AND seq > ?4",
            params![
                account,
                country,
                community,
                i64::try_from(cursor).unwrap_or(i64::MAX)
            ],
            |r| r.get(0),
        )?;
        if let Some(end) = end {
            cursor = cursor.max(end as u64);
        }
    }
    Ok(PullResponse {
        protocol: stopover_protocol::PROTOCOL_VERSION,
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

        let p1 = pull(&c, &a, 0, 2, FeedPart::All).unwrap();
        assert_eq!(p1.changes.len(), 2);
        assert!(p1.more);
        assert_eq!(p1.cursor, p1.changes[1].seq);
        assert_eq!(p1.changes[0].op_id, ops[0].id);
        assert_eq!(p1.changes[0].entity.id, "list/step-0");
        assert_eq!(
            (p1.changes[0].value.clone(), p1.changes[0].version),
            (json!(true), 1)
        );

        let p2 = pull(&c, &a, p1.cursor, 2, FeedPart::All).unwrap();
        let p3 = pull(&c, &a, p2.cursor, 2, FeedPart::All).unwrap();
        assert_eq!((p2.changes.len(), p2.more), (2, true));
        assert_eq!((p3.changes.len(), p3.more), (1, false));
        let seqs: Vec<u64> = [&p1, &p2, &p3]
            .iter()
            .flat_map(|p| p.changes.iter().map(|c| c.seq))
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "ascending: {seqs:?}");

        // Exactly at the end: nothing, cursor unchanged, no more.
        let end = pull(&c, &a, p3.cursor, 2, FeedPart::All).unwrap();
        assert_eq!(
            (end.changes.len(), end.cursor, end.more),
            (0, p3.cursor, false)
        );
        // A page exactly as long as what is left says no more.
        let exact = pull(&c, &a, p2.cursor - 1, 2, FeedPart::All).unwrap();
        assert!(!exact.more);
    }

    #[test]
    fn only_the_callers_own_changes() {
        let (_d, c, a, b) = setup();
        apply(&c, &a, &[op(1, "l/s", "done", 0, json!(true))]).unwrap();
        apply(&c, &b, &[op(2, "l/s", "note", 0, json!("b's note"))]).unwrap();
        let for_b = pull(&c, &b, 0, 100, FeedPart::All).unwrap();
        assert_eq!(for_b.changes.len(), 1);
        assert_eq!(for_b.changes[0].value, json!("b's note"));
    }

    /// A device's own pushed changes are left out of its pages, interleaved with another
    /// device's; the cursor passes them only once nothing else waits.
    #[test]
    fn a_device_never_pulls_its_own_changes() {
        let (_d, c, a, _) = setup();
        let laptop = a.clone().on_device("laptop");
        let office = a.clone().on_device("office");
        for i in 0..6u32 {
            let who = if i % 2 == 0 { &laptop } else { &office };
            apply(
                &c,
                who,
                &[op(i, &format!("l/s-{i}"), "done", 0, json!(true))],
            )
            .unwrap();
        }
        // A change the server wrote (no device): everyone's.
        crate::records::feed::write_server_record(
            &c,
            &a.account_key(),
            "checklist_progress",
            "l/server",
            "done",
            &json!(true),
        )
        .unwrap();
        let p1 = pull(&c, &laptop, 0, 2, FeedPart::All).unwrap();
        let ids: Vec<&str> = p1.changes.iter().map(|c| c.entity.id.as_str()).collect();
        assert_eq!((ids, p1.more, p1.cursor), (vec!["l/s-1", "l/s-3"], true, 4));
        let p2 = pull(&c, &laptop, p1.cursor, 2, FeedPart::All).unwrap();
        let ids: Vec<&str> = p2.changes.iter().map(|c| c.entity.id.as_str()).collect();
        assert_eq!(
            (ids, p2.more, p2.cursor),
            (vec!["l/s-5", "l/server"], false, 7)
        );
        // The laptop pushes more: its next page is empty and the cursor still moves on.
        apply(&c, &laptop, &[op(9, "l/s-9", "done", 0, json!(true))]).unwrap();
        let p3 = pull(&c, &laptop, p2.cursor, 2, FeedPart::All).unwrap();
        assert_eq!((p3.changes.len(), p3.more, p3.cursor), (0, false, 8));
        // The account without a device (e.g. an older client) and the office see everything
        // but the office's own.
        assert_eq!(
            pull(&c, &a, 0, 100, FeedPart::All).unwrap().changes.len(),
            8
        );
        let office_page = pull(&c, &office, 0, 100, FeedPart::All).unwrap();
        assert_eq!(office_page.changes.len(), 5);
        assert_eq!(office_page.cursor, 8);
    }

    /// Every change of the feed: (seq, scope, device).
    fn feed_rows(c: &Connection) -> Vec<(u64, String, Option<String>)> {
        let mut stmt = c
            .prepare("SELECT seq, scope, device_id FROM change ORDER BY seq")
            .unwrap();
        stmt.query_map([], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
        })
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
    }

    /// A feed where the laptop's own changes, another device's, the server's and the
    /// community's (one of them the laptop's own forum post) take turns, the community's last.
    fn mixed_feed() -> (tempfile::TempDir, Connection, SyncScope, SyncScope) {
        let (d, c, a, b) = setup();
        let laptop = a.clone().on_device("laptop");
        let office = a.clone().on_device("office");
        let community = |id: &str| {
            crate::records::feed::write_server_record(
                &c,
                crate::auth::policy::COMMUNITY_KEY,
                "forum_post",
                id,
                "body",
                &json!(id),
            )
            .unwrap();
        };
        apply(&c, &laptop, &[op(1, "l/own-1", "done", 0, json!(true))]).unwrap();
        community("c1");
        apply(&c, &office, &[op(2, "l/office-1", "done", 0, json!(true))]).unwrap();
        community("c2");
        community("c3");
        // Another account of the same country: not this account's (its account scope).
        apply(&c, &b, &[op(3, "l/b", "done", 0, json!(true))]).unwrap();
        apply(&c, &laptop, &[op(4, "l/own-2", "done", 0, json!(true))]).unwrap();
        crate::records::feed::write_server_record(
            &c,
            &a.account_key(),
            "checklist_progress",
            "l/server",
            "done",
            &json!(true),
        )
        .unwrap();
        community("c4");
        // The laptop's own forum post: the community part carries it all the same.
        community("c5");
        c.execute(
            "UPDATE change SET device_id = 'laptop' WHERE seq = (SELECT max(seq) FROM change)",
            [],
        )
        .unwrap();
        apply(&c, &office, &[op(5, "l/office-2", "done", 0, json!(true))]).unwrap();
        community("c6");
        (d, c, laptop, office)
    }

    /// Pages through `part` with `limit` and checks, after every page, what its cursor
    /// promises: every change of the part up to the cursor was carried (or, for the private
    /// part, was the device's own). Returns the seqs carried.
    fn page_through(c: &Connection, who: &SyncScope, part: FeedPart, limit: u32) -> Vec<u64> {
        let rows = feed_rows(c);
        let account = who.account_key();
        let in_part = |scope: &str| match part {
            FeedPart::Community => scope == crate::auth::policy::COMMUNITY_KEY,
            FeedPart::Private => scope == account,
            FeedPart::All => scope == account || scope == crate::auth::policy::COMMUNITY_KEY,
        };
        let own = |device: &Option<String>| {
            part != FeedPart::Community && device.as_deref() == who.device.as_deref()
        };
        let mut carried = Vec::new();
        let mut cursor = 0;
        for _ in 0..100 {
            let page = pull(c, who, cursor, limit, part).unwrap();
            for ch in &page.changes {
                let (_, scope, device) = rows.iter().find(|r| r.0 == ch.seq).unwrap();
                assert!(in_part(scope), "{part:?} carried {scope} (seq {})", ch.seq);
                assert!(!own(device), "{part:?} carried the device's own {}", ch.seq);
                carried.push(ch.seq);
            }
            for (seq, scope, device) in &rows {
                if *seq <= page.cursor && in_part(scope) && !own(device) {
                    assert!(
                        carried.contains(seq),
                        "{part:?} limit {limit}: cursor {} passed {seq} ({scope}) uncarried",
                        page.cursor
                    );
                }
            }
            assert!(page.cursor >= cursor, "the cursor never goes back");
            cursor = page.cursor;
            if !page.more {
                // Everything of the part was carried once.
                let want: Vec<u64> = rows
                    .iter()
                    .filter(|(_, s, d)| in_part(s) && !own(d))
                    .map(|r| r.0)
                    .collect();
                assert_eq!(carried, want, "{part:?} limit {limit}");
                return carried;
            }
        }
        panic!("{part:?} never ended");
    }

    #[test]
    fn the_private_part_never_carries_the_community_and_keeps_its_promise() {
        let (_d, c, laptop, _office) = mixed_feed();
        let rows = feed_rows(&c);
        let last_private = rows
            .iter()
            .filter(|r| r.1 == laptop.account_key())
            .map(|r| r.0)
            .max()
            .unwrap();
        for limit in [1, 2, 3, 100] {
            let carried = page_through(&c, &laptop, FeedPart::Private, limit);
            assert_eq!(carried.len(), 3, "office ×2 and the server's");
        }
        // At the end of the private part the cursor passes the laptop's own changes, and
        // stops at the last private change: the community's after it are not its business.
        let end = pull(&c, &laptop, 0, 100, FeedPart::Private).unwrap();
        assert_eq!(end.cursor, last_private);
        assert!(end.cursor < rows.last().unwrap().0);
        // The whole feed still carries both, the community's included.
        for limit in [1, 3, 100] {
            page_through(&c, &laptop, FeedPart::All, limit);
        }
    }

    #[test]
    fn the_community_part_is_the_same_page_for_everyone_and_keeps_its_promise() {
        let (_d, c, laptop, office) = mixed_feed();
        for limit in [1, 2, 4, 100] {
            let carried = page_through(&c, &laptop, FeedPart::Community, limit);
            assert_eq!(carried.len(), 6, "c1..c6, the laptop's own post included");
            assert_eq!(
                carried,
                page_through(&c, &office, FeedPart::Community, limit)
            );
        }
        let rows = feed_rows(&c);
        let first_community = rows.iter().find(|r| r.1 == "community").unwrap().0;
        // One change a page: the cursor is that change's seq, never past an uncarried one.
        let page = pull(&c, &laptop, 0, 1, FeedPart::Community).unwrap();
        assert_eq!((page.cursor, page.more), (first_community, true));
        assert_eq!(
            pull(&c, &laptop, 0, 100, FeedPart::Community).unwrap(),
            pull(&c, &office, 0, 100, FeedPart::Community).unwrap()
        );
    }

    #[test]
    fn big_values_end_a_page_early() {
        let (_d, c, a, _) = setup();
        let big = "x".repeat(stopover_protocol::MAX_TEXT_CHARS);
        let ops: Vec<_> = (0..120)
            .map(|i| op(i, &format!("l/s-{i}"), "note", 0, json!(big)))
            .collect();
        apply(&c, &a, &ops).unwrap();
        let page = pull(&c, &a, 0, 500, FeedPart::All).unwrap();
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
        assert_eq!(
            pull(&c, &a, u64::MAX, 10, FeedPart::All).unwrap().cursor,
            u64::MAX
        );
    }
}
