//! One sync round: push everything that can go, each push bringing back the changes since the
//! cursor in the same exchange; pull until up to date.

use serde::Serialize;
use stopover_protocol::{MAX_OPS_PER_PUSH, MAX_PULL_LIMIT, PullRequest};

use super::client::{SyncClient, Transfer};
use super::{meter, outbox, pull, state};
use crate::ErrorCode;
use crate::{Core, Error, Result};

/// `sync_state` key, set while a deferred backlog waits on the server (see [`meter`]).
const BACKLOG_WAITS: &str = "backlog_waits";
/// The page a push asks for while deferring: recent enough to keep colleagues' answers
/// coming, small enough not to carry a backlog.
pub const DEFERRED_PAGE: u32 = 50;

/// Where a sync round is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
// `Probing` is no longer reported by a round (its first answer proves the server is ours); it
// stays so the UI's bindings do not change.
pub enum SyncPhase {
    /// Checking that the server answers (and is ours, not a wifi login page).
    Probing,
    /// Sending queued operations.
    Pushing,
    /// Receiving changes from other devices.
    Pulling,
    Done,
}

/// A progress event for the UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncProgress {
    pub phase: SyncPhase,
    /// Items done in this phase: operations answered, or changes received.
    pub done: u64,
    /// Items expected in this phase, when known (`None` while pulling: the server does not
    /// say how many changes wait). Pushing may exceed it when edits are made meanwhile.
    pub total: Option<u64>,
    /// Bytes sent and received so far in this round (compressed request bodies; answer
    /// bodies after decompression).
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// What a sync round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncReport {
    /// Operations the server acknowledged (applied now or earlier).
    pub pushed: u32,
    /// Of those, acknowledged as duplicates (retries of operations whose answer was lost).
    pub duplicates: u32,
    pub conflicts: u32,
    pub rejected: u32,
    /// Changes received from the server.
    pub pulled: u32,
    /// Of those, written into the local tables.
    pub applied_locally: u32,
    pub push_batches: u32,
    pub pull_pages: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// The backfill of older changes waits: the connection is metered or the month's budget
    /// is spent (see [`meter`](super::meter)); the next allowed round brings it.
    pub deferred: bool,
}

/// [`sync_once_with_progress`] without progress events.
pub async fn sync_once(core: &Core, client: &SyncClient, token: &str) -> Result<SyncReport> {
    sync_once_with_progress(core, client, token, &|_| {}).await
}

/// One sync round with the server this device is signed in to:
/// 1. push, in batches of at most [`MAX_OPS_PER_PUSH`], while operations with a known base
///    wait; each push asks for the page of changes after the cursor in the same exchange.
///    Each answer's results are stored in one transaction, then its page with its cursor in
///    the next (results first: a change another device made after this push is then newer
///    than the version the push recorded, and is applied);
/// 2. pull pages of changes (`GET`) until the server says there are no more: the whole round
///    when nothing waits to be sent, else only when the last push's page said `more`.
///
/// A round with something to send is one exchange, and so is a round with nothing to send.
/// There is no health probe first: only an answer naming our protocol counts (a captive
/// portal's page is [`Error::NotOurServer`] and changes nothing), and over HTTPS a portal
/// cannot answer for the server at all.
///
/// `token` is the device token, read by the caller from its
/// [`SecretStore`](crate::secrets::SecretStore) (see [`device_token`](super::device_token)).
/// The outcome is recorded for [`status`](super::status) (last sync time or last error); on
/// [`Error::SignInRequired`] the device counts as signed out, its queued operations kept.
/// Only one round runs at a time per [`Core`]: a second one gets [`Error::SyncInProgress`].
///
/// The database work is synchronous and brief (one short transaction per batch or page); no
/// lock is held across network waits, so the future is `Send` and can run on any runtime
/// thread.
pub async fn sync_once_with_progress<P>(
    core: &Core,
    client: &SyncClient,
    token: &str,
    on_progress: &P,
) -> Result<SyncReport>
where
    P: Fn(SyncProgress) + Sync + ?Sized,
{
    let _running = core.begin_sync()?;
    let configured = state::server_url(&core.conn())?;
    match configured {
        None => {
            return Err(Error::SignInRequired(
                "this device is not signed in to an e-community server".into(),
            ));
        }
        Some(url) if url != client.server_url() => {
            return Err(Error::invalid(
                ErrorCode::SignedInElsewhere,
                format!(
                    "this device is signed in to {url}, not {}; sign in again to change servers",
                    client.server_url()
                ),
            )
            .with("current", url.as_str())
            .with("requested", client.server_url()));
        }
        Some(_) => {}
    }
    // Every answer tells the laptop the server's time (see crate::clock).
    let client = &client.clone().observed_by(core.server_clock().clone());
    let outcome = run(core, client, token, on_progress).await;
    let recorded = {
        let conn = core.conn();
        state::record_outcome(&conn, outcome.as_ref().map(|_| ()))
            .and_then(|()| core.server_clock().save(&conn))
    };
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "sync: could not record the outcome");
    }
    if let Err(e) = &outcome {
        tracing::info!(code = %e.code(), error = %e, "sync failed");
    }
    outcome
}

async fn run<P>(
    core: &Core,
    client: &SyncClient,
    token: &str,
    on_progress: &P,
) -> Result<SyncReport>
where
    P: Fn(SyncProgress) + Sync + ?Sized,
{
    let mut report = SyncReport::default();
    let progress = |report: &SyncReport, phase, done, total| {
        on_progress(SyncProgress {
            phase,
            done,
            total,
            bytes_sent: report.bytes_sent,
            bytes_received: report.bytes_received,
        })
    };

    let waiting: i64 = core
        .conn()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
    let waiting = waiting as u64;
    let mut answered = 0u64;
    // A direct round pulls the whole feed: after rounds through a relay, from the lower of
    // its two cursors (private, community), then with one cursor again.
    let mut cursor = state::merge_cursors(&mut core.conn())?;
    // Whether the pages so far leave changes waiting on the server (none pulled yet: unknown).
    let mut more = true;
    // Metered or over budget (see super::meter): pushes go, each bringing a small page; a
    // backlog on the server (a fresh device's forum history, a busy week) waits for the
    // person's go-ahead instead of arriving a full page per round.
    let deferring = meter::defers(core)?;
    let backlog_waits = deferring && state::get(&core.conn(), BACKLOG_WAITS)?.is_some();
    let page_limit = if deferring {
        DEFERRED_PAGE
    } else {
        MAX_PULL_LIMIT
    };
    progress(&report, SyncPhase::Pushing, 0, Some(waiting));
    loop {
        let batch = outbox::next_batch(core, MAX_OPS_PER_PUSH)?;
        if batch.is_empty() {
            break;
        }
        let asked = PullRequest {
            cursor,
            limit: Some(page_limit),
        };
        let (answer, transfer) = client.push_and_pull(token, &batch, Some(asked)).await?;
        report.bytes_sent += transfer.bytes_sent;
        report.bytes_received += transfer.bytes_received;
        let received = answer.pull.as_ref().map_or(&[][..], |p| &p.changes[..]);
        meter::record_exchange(
            core,
            &batch,
            received,
            transfer.bytes_sent,
            transfer.bytes_received,
        )?;
        let summary = outbox::apply_push_results(core, &batch, &answer)?;
        report.push_batches += 1;
        report.pushed += summary.applied;
        report.duplicates += summary.duplicates;
        report.conflicts += summary.conflicts;
        report.rejected += summary.rejected;
        answered += batch.len() as u64;
        progress(
            &report,
            SyncPhase::Pushing,
            answered,
            Some(waiting.max(answered)),
        );
        if let Some(page) = &answer.pull {
            apply_page(core, page, &mut report)?;
            cursor = page.cursor;
            more = page.more;
        }
    }

    if more {
        progress(&report, SyncPhase::Pulling, u64::from(report.pulled), None);
    }
    while more {
        // Deferring: at most one small page a round (the one a push brought, or one when the
        // server had nothing waiting last time); a known backlog waits.
        if deferring && (report.pull_pages > 0 || backlog_waits) {
            report.deferred = true;
            break;
        }
        let (page, transfer) = client.pull(token, cursor, page_limit).await?;
        report.bytes_received += transfer.bytes_received;
        meter::record_exchange(core, &[], &page.changes, 0, transfer.bytes_received)?;
        apply_page(core, &page, &mut report)?;
        cursor = page.cursor;
        more = page.more;
        progress(&report, SyncPhase::Pulling, u64::from(report.pulled), None);
    }

    {
        let conn = core.conn();
        if report.deferred {
            state::set(&conn, BACKLOG_WAITS, "1")?;
        } else {
            state::delete(&conn, BACKLOG_WAITS)?;
        }
    }

    if report.pulled > 0 {
        // What each kind does after a pull (the forum keeps within its retention setting); a
        // failure here loses nothing.
        for kind in stopover_protocol::RecordKind::ALL {
            if let Err(e) = core.local_kind(kind).after_pull(core) {
                tracing::warn!(?kind, code = %e.code(), error = %e, "after the pull");
            }
        }
    }

    // Housekeeping once the server has answered this round (a portal or a dead link costs
    // no extra request, and a round's first request is its push or pull): the key this
    // device signs sync files with (see super::file), then the server's pass for workshop
    // relays (see super::relay), which vouches only for a registered key. A failure costs
    // nothing but sync files or relay use; each is tried again next round.
    let kept = super::file::ensure_file_key(core, client, token).await;
    count_housekeeping(core, &mut report, "sync-file key", kept)?;
    let kept = super::relay::ensure_credential(core, client, token).await;
    count_housekeeping(core, &mut report, "relay pass", kept)?;

    progress(
        &report,
        SyncPhase::Done,
        u64::from(report.pushed + report.pulled),
        Some(u64::from(report.pushed + report.pulled)),
    );
    Ok(report)
}

/// Adds what a housekeeping step (`what`) moved to the round's bytes and the meter; a
/// failure is only logged, except one that needs the person to sign in again.
fn count_housekeeping(
    core: &Core,
    report: &mut SyncReport,
    what: &str,
    kept: Result<Transfer>,
) -> Result<()> {
    match kept {
        Ok(t) if t.bytes_sent + t.bytes_received > 0 => {
            report.bytes_sent += t.bytes_sent;
            report.bytes_received += t.bytes_received;
            meter::record_exchange(core, &[], &[], t.bytes_sent, t.bytes_received)
        }
        Ok(_) => Ok(()),
        Err(e @ Error::SignInRequired(_)) => Err(e),
        Err(e) => {
            tracing::info!(what, code = %e.code(), error = %e, "not done this round");
            Ok(())
        }
    }
}

/// Applies one page and its cursor (one transaction) and counts it.
fn apply_page(
    core: &Core,
    page: &stopover_protocol::PullResponse,
    report: &mut SyncReport,
) -> Result<()> {
    let summary = pull::apply_pull(core, page)?;
    report.pull_pages += 1;
    report.pulled += summary.received;
    report.applied_locally += summary.applied_locally;
    Ok(())
}
