//! The bandwidth meter and budget: bytes up and down per sync exchange, by day and by kind of
//! traffic, and the person's monthly budget and "metered connection" setting.
//!
//! Over the budget, or on a metered connection, the traffic that can wait does wait
//! ([`defers`]): attachment uploads, content pack downloads and the backfill of older changes
//! (a round then takes one small page, [`DEFERRED_PAGE`](super::DEFERRED_PAGE) changes, and
//! none while a backlog is known to wait: mostly forum history on a fresh device or after a
//! busy week), until the person allows them ([`allow_deferred`], for [`ALLOW_FOR_SECS`]) or
//! turns the setting off. Pushes (report answers, checklist ticks, posts written here) always
//! go, each with the small page of changes in the same exchange.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use stopover_protocol::{Change, Operation, RecordKind};

use crate::{Core, Error, ErrorCode, Result};

/// How long "allow now" lasts.
pub const ALLOW_FOR_SECS: i64 = 12 * 3600;
/// Largest monthly budget one can set (in MiB): 1 TiB.
pub const MAX_BUDGET_MIB: u64 = 1024 * 1024;

/// What the bytes were for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TrafficKind {
    /// National reports: answers, sections, receipts.
    Reports,
    /// Checklist ticks and notes.
    Checklists,
    /// The forum, the directory and events.
    Forum,
    Attachments,
    /// Content packs (manual, checklists, library, forms).
    Content,
    /// Anything else: sign-in, key exchange.
    Other,
}

impl TrafficKind {
    pub const ALL: [TrafficKind; 6] = [
        TrafficKind::Reports,
        TrafficKind::Checklists,
        TrafficKind::Forum,
        TrafficKind::Attachments,
        TrafficKind::Content,
        TrafficKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TrafficKind::Reports => "reports",
            TrafficKind::Checklists => "checklists",
            TrafficKind::Forum => "forum",
            TrafficKind::Attachments => "attachments",
            TrafficKind::Content => "content",
            TrafficKind::Other => "other",
        }
    }

    fn from_str(s: &str) -> TrafficKind {
        TrafficKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .unwrap_or(TrafficKind::Other)
    }

    /// The kind of traffic a synced record kind's changes are (by its wire name).
    pub fn of_record(kind: &str) -> TrafficKind {
        match RecordKind::from_name(kind) {
            Some(RecordKind::ChecklistProgress) => TrafficKind::Checklists,
            Some(k) if k.is_report() => TrafficKind::Reports,
            Some(k) if k.is_community() => TrafficKind::Forum,
            _ => TrafficKind::Other,
        }
    }
}

/// Adds bytes to today's (UTC) row of `kind`.
pub fn record(conn: &Connection, kind: TrafficKind, up: u64, down: u64) -> Result<()> {
    record_on(conn, None, kind, up, down)
}

/// [`record`] on a given day (`YYYY-MM-DD`), or today when `None`.
pub(crate) fn record_on(
    conn: &Connection,
    day: Option<&str>,
    kind: TrafficKind,
    up: u64,
    down: u64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO bandwidth_use (day, kind, bytes_up, bytes_down, exchanges)
         VALUES (coalesce(?1, strftime('%Y-%m-%d', 'now')), ?2, ?3, ?4, 1)
         ON CONFLICT (day, kind) DO UPDATE SET
             bytes_up = bytes_up + excluded.bytes_up,
             bytes_down = bytes_down + excluded.bytes_down,
             exchanges = exchanges + 1",
        params![day, kind.as_str(), up as i64, down as i64],
    )?;
    Ok(())
}

/// Splits `total` bytes over kinds in proportion to their item counts; the parts add up to
/// `total` exactly (the remainder goes to the largest share).
fn split(total: u64, counts: &[(TrafficKind, u64)]) -> Vec<(TrafficKind, u64)> {
    let items: u64 = counts.iter().map(|(_, n)| n).sum();
    if items == 0 {
        return if total > 0 {
            vec![(TrafficKind::Other, total)]
        } else {
            Vec::new()
        };
    }
    let mut parts: Vec<(TrafficKind, u64)> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|&(k, n)| {
            (
                k,
                (u128::from(total) * u128::from(n) / u128::from(items)) as u64,
            )
        })
        .collect();
    let given: u64 = parts.iter().map(|(_, b)| b).sum();
    if let Some(largest) = parts.iter_mut().max_by_key(|(_, b)| *b) {
        largest.1 += total - given;
    }
    parts
}

fn counts<'a>(kinds: impl Iterator<Item = &'a str>) -> Vec<(TrafficKind, u64)> {
    let mut out: Vec<(TrafficKind, u64)> = Vec::new();
    for name in kinds {
        let k = TrafficKind::of_record(name);
        match out.iter_mut().find(|(kind, _)| *kind == k) {
            Some((_, n)) => *n += 1,
            None => out.push((k, 1)),
        }
    }
    out
}

/// Records one sync exchange: the bytes sent are shared among the kinds of the operations
/// sent, the bytes received among the kinds of the operations answered and changes received
/// (in proportion to how many of each).
pub fn record_exchange(
    core: &Core,
    sent: &[Operation],
    received: &[Change],
    bytes_sent: u64,
    bytes_received: u64,
) -> Result<()> {
    let up = split(
        bytes_sent,
        &counts(sent.iter().map(|op| op.entity.kind.as_str())),
    );
    let down = split(
        bytes_received,
        &counts(
            sent.iter()
                .map(|op| op.entity.kind.as_str())
                .chain(received.iter().map(|c| c.entity.kind.as_str())),
        ),
    );
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    for kind in TrafficKind::ALL {
        let u = up.iter().find(|(k, _)| *k == kind).map_or(0, |(_, b)| *b);
        let d = down.iter().find(|(k, _)| *k == kind).map_or(0, |(_, b)| *b);
        if u > 0 || d > 0 {
            record(&tx, kind, u, d)?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Bytes of one kind of traffic over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KindUse {
    pub kind: TrafficKind,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// What the Sync page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BandwidthUsage {
    /// Today (UTC), by kind; kinds with no bytes left out.
    pub today: Vec<KindUse>,
    /// This month (UTC), by kind.
    pub month: Vec<KindUse>,
    /// This month, up and down together.
    pub month_total: u64,
    pub settings: BandwidthSettings,
    /// The month's bytes exceed the budget.
    pub over_budget: bool,
    /// Deferrable traffic waits now (metered or over budget, and not allowed).
    pub deferring: bool,
    /// Unix seconds until which the person allowed deferred traffic, if they did.
    pub allowed_until: Option<i64>,
}

/// The person's choices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BandwidthSettings {
    /// Monthly budget in MiB (up and down together); `None`: no budget.
    pub monthly_budget_mib: Option<u64>,
    /// The connection is paid by the byte: deferrable traffic waits.
    pub metered: bool,
}

fn use_since(conn: &Connection, pattern: &str) -> Result<Vec<KindUse>> {
    let mut stmt = conn.prepare(
        "SELECT kind, sum(bytes_up), sum(bytes_down) FROM bandwidth_use
         WHERE day LIKE ?1 GROUP BY kind",
    )?;
    let rows = stmt.query_map([pattern], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut out: Vec<KindUse> = Vec::new();
    for row in rows {
        let (kind, up, down) = row?;
        out.push(KindUse {
            kind: TrafficKind::from_str(&kind),
            bytes_up: up.max(0) as u64,
            bytes_down: down.max(0) as u64,
        });
    }
    // The order of TrafficKind::ALL, so the page does not reshuffle.
    out.sort_by_key(|u| TrafficKind::ALL.iter().position(|k| *k == u.kind));
    Ok(out)
}

fn today(conn: &Connection) -> Result<String> {
    Ok(conn.query_row("SELECT strftime('%Y-%m-%d', 'now')", [], |r| r.get(0))?)
}

fn now_unix(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT unixepoch('now')", [], |r| r.get(0))?)
}

pub fn settings(conn: &Connection) -> Result<BandwidthSettings> {
    let (budget, metered): (Option<i64>, bool) = conn.query_row(
        "SELECT monthly_budget_bytes, metered FROM bandwidth_settings WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(BandwidthSettings {
        monthly_budget_mib: budget.map(|b| (b as u64) / (1024 * 1024)),
        metered,
    })
}

/// Stores the person's choices. A budget of 0 or above [`MAX_BUDGET_MIB`] is refused.
pub fn set_settings(core: &Core, s: &BandwidthSettings) -> Result<()> {
    if let Some(mib) = s.monthly_budget_mib
        && (mib == 0 || mib > MAX_BUDGET_MIB)
    {
        return Err(Error::invalid(
            ErrorCode::BandwidthBudgetInvalid,
            format!("a monthly budget is between 1 and {MAX_BUDGET_MIB} MiB"),
        )
        .with("max_mib", MAX_BUDGET_MIB as i64));
    }
    core.conn().execute(
        "UPDATE bandwidth_settings SET monthly_budget_bytes = ?1, metered = ?2 WHERE id = 1",
        params![
            s.monthly_budget_mib.map(|m| (m * 1024 * 1024) as i64),
            s.metered
        ],
    )?;
    Ok(())
}

/// The person lets the deferred traffic go for the next [`ALLOW_FOR_SECS`].
pub fn allow_deferred(core: &Core) -> Result<()> {
    let conn = core.conn();
    let until = now_unix(&conn)? + ALLOW_FOR_SECS;
    conn.execute(
        "UPDATE bandwidth_settings SET allowed_until = ?1 WHERE id = 1",
        [until],
    )?;
    Ok(())
}

pub fn usage(core: &Core) -> Result<BandwidthUsage> {
    let conn = core.conn();
    usage_on(&conn, &today(&conn)?, now_unix(&conn)?)
}

/// [`usage`] as seen on `day` (`YYYY-MM-DD`) at `now` (Unix seconds).
pub(crate) fn usage_on(conn: &Connection, day: &str, now: i64) -> Result<BandwidthUsage> {
    let settings = settings(conn)?;
    let month = use_since(conn, &format!("{}%", &day[..7]))?;
    let month_total = month.iter().map(|u| u.bytes_up + u.bytes_down).sum();
    let budget: Option<i64> = conn.query_row(
        "SELECT monthly_budget_bytes FROM bandwidth_settings WHERE id = 1",
        [],
        |r| r.get(0),
    )?;
    let over_budget = budget.is_some_and(|b| month_total >= b as u64);
    let allowed_until: Option<i64> = conn
        .query_row(
            "SELECT allowed_until FROM bandwidth_settings WHERE id = 1 AND allowed_until > ?1",
            [now],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    Ok(BandwidthUsage {
        today: use_since(conn, day)?,
        month,
        month_total,
        deferring: (settings.metered || over_budget) && allowed_until.is_none(),
        settings,
        over_budget,
        allowed_until,
    })
}

/// True when deferrable traffic (attachments, backfill, content packs) must wait now.
pub fn defers(core: &Core) -> Result<bool> {
    Ok(usage(core)?.deferring)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use stopover_protocol::EntityRef;

    fn core() -> (tempfile::TempDir, Core) {
        let dir = tempfile::tempdir().unwrap();
        let no_pack = Err(crate::content::PackError {
            file: "manifest.toml".into(),
            reason: "no pack in unit tests".into(),
        });
        let core = Core::open(dir.path(), no_pack).unwrap();
        (dir, core)
    }

    fn op(kind: &str) -> Operation {
        Operation {
            id: "x".into(),
            entity: EntityRef {
                kind: kind.into(),
                id: "e".into(),
            },
            field: "f".into(),
            base_version: 0,
            value: json!(true),
        }
    }

    fn bytes(list: &[KindUse], kind: TrafficKind) -> (u64, u64) {
        list.iter()
            .find(|u| u.kind == kind)
            .map_or((0, 0), |u| (u.bytes_up, u.bytes_down))
    }

    #[test]
    fn an_exchange_is_shared_among_its_kinds_and_adds_up() {
        let (_d, core) = core();
        let sent = [
            op("report_answer"),
            op("report_answer"),
            op("report_answer"),
            op("checklist_progress"),
        ];
        record_exchange(&core, &sent, &[], 1001, 400).unwrap();
        let u = usage(&core).unwrap();
        let (r_up, r_down) = bytes(&u.today, TrafficKind::Reports);
        let (c_up, c_down) = bytes(&u.today, TrafficKind::Checklists);
        assert_eq!((r_up + c_up, r_down + c_down), (1001, 400));
        assert_eq!((c_up, c_down), (250, 100));
        assert_eq!(u.month_total, 1401);
        // A pull with nothing sent and nothing received: the bytes still count, as other.
        record_exchange(&core, &[], &[], 0, 90).unwrap();
        assert_eq!(
            bytes(&usage(&core).unwrap().today, TrafficKind::Other),
            (0, 90)
        );
    }

    #[test]
    fn days_and_months_are_kept_apart() {
        let (_d, core) = core();
        let conn = core.conn();
        record_on(&conn, Some("2026-11-30"), TrafficKind::Forum, 10, 1000).unwrap();
        record_on(&conn, Some("2026-12-01"), TrafficKind::Forum, 20, 2000).unwrap();
        record_on(&conn, Some("2026-12-05"), TrafficKind::Forum, 30, 3000).unwrap();
        record_on(&conn, Some("2026-12-05"), TrafficKind::Attachments, 5, 0).unwrap();
        let u = usage_on(&conn, "2026-12-05", 0).unwrap();
        assert_eq!(bytes(&u.today, TrafficKind::Forum), (30, 3000));
        assert_eq!(bytes(&u.month, TrafficKind::Forum), (50, 5000));
        assert_eq!(u.month_total, 5055);
        assert_eq!(
            u.month.iter().map(|k| k.kind).collect::<Vec<_>>(),
            [TrafficKind::Forum, TrafficKind::Attachments]
        );
    }

    #[test]
    fn the_budget_and_a_metered_connection_defer_until_allowed() {
        let (_d, core) = core();
        assert!(!defers(&core).unwrap());
        set_settings(
            &core,
            &BandwidthSettings {
                monthly_budget_mib: Some(1),
                metered: false,
            },
        )
        .unwrap();
        record(&core.conn(), TrafficKind::Forum, 0, 1024 * 1024 - 1).unwrap();
        assert!(!defers(&core).unwrap(), "just under the budget");
        record(&core.conn(), TrafficKind::Reports, 1, 0).unwrap();
        let u = usage(&core).unwrap();
        assert!(u.over_budget && u.deferring);
        allow_deferred(&core).unwrap();
        let u = usage(&core).unwrap();
        assert!(u.over_budget && !u.deferring && u.allowed_until.is_some());
        // The permission runs out.
        let later = now_unix(&core.conn()).unwrap() + ALLOW_FOR_SECS + 1;
        let today = today(&core.conn()).unwrap();
        assert!(usage_on(&core.conn(), &today, later).unwrap().deferring);

        // Metered without a budget defers too; turning it off lets everything go.
        core.conn()
            .execute("UPDATE bandwidth_settings SET allowed_until = NULL", [])
            .unwrap();
        let metered = BandwidthSettings {
            monthly_budget_mib: None,
            metered: true,
        };
        set_settings(&core, &metered).unwrap();
        assert!(defers(&core).unwrap());
        assert_eq!(settings(&core.conn()).unwrap(), metered);
        set_settings(
            &core,
            &BandwidthSettings {
                monthly_budget_mib: None,
                metered: false,
            },
        )
        .unwrap();
        assert!(!defers(&core).unwrap());
        for bad in [0, MAX_BUDGET_MIB + 1] {
            let e = set_settings(
                &core,
                &BandwidthSettings {
                    monthly_budget_mib: Some(bad),
                    metered: false,
                },
            )
            .unwrap_err();
            assert_eq!(e.code(), ErrorCode::BandwidthBudgetInvalid);
        }
    }
}
