//! The relay's uplink tasks. Each only ever acts on what the server signed: an answer that
//! does not open with the server's key (or, for a pack's archive, does not match the
//! SHA-256 a signed page named) is not kept, and the request is tried again.

use std::time::Duration;

use sha2::{Digest, Sha256};
use stopover_protocol::PackRelease;
use stopover_protocol::relay::{CommunityPage, CommunityPull, MAX_COMMUNITY_WAIT_SECS, PackPull};
use stopover_protocol::sync_file::{self, FileKind, SyncFileReply};
use stopover_protocol::{MAX_PULL_LIMIT, PROTOCOL_VERSION};

use super::upstream::Upstream;
use super::{Relay, lock, store};
use crate::db::unix_now;

/// Longest pause between two tries while the uplink is down.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

fn longer(backoff: Duration) -> Duration {
    (backoff * 2).min(MAX_BACKOFF)
}

/// Learns the server's key once (unless given with `--server-key`). Until then the relay
/// can check nobody and forwards nothing.
async fn ensure_server_key(relay: &Relay) -> bool {
    if relay.server_key().is_some() {
        return true;
    }
    match relay.inner.server.server_key().await {
        Upstream::Answered(hex) => match sync_file::parse_key(&hex) {
            Some(key) => {
                let stored = hex.clone();
                if relay
                    .db(move |c| store::set_meta(c, store::SERVER_KEY, &stored))
                    .await
                    .is_ok()
                {
                    *lock(&relay.inner.server_key) = Some(key);
                    relay.contact(true).await;
                    tracing::info!(server_key = %hex, "relay: learned the server's key");
                    return true;
                }
                false
            }
            None => false,
        },
        other => {
            tracing::info!(?other, "relay: the server's key is not reachable yet");
            relay.contact(false).await;
            false
        }
    }
}

/// Laptops whose pushes travel upstream at once: enough to keep a long, thin uplink busy
/// through its round trips, few enough that each push still gets a fair share of it.
const FORWARDS_AT_ONCE: usize = 4;

/// How one forward ended, for the loop's pacing.
enum Forwarded {
    Done,
    Later(Option<Duration>),
}

/// Takes held pushes to the server, oldest first, a few laptops at a time (each laptop's in
/// order).
pub async fn pushes(relay: Relay) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        if !ensure_server_key(&relay).await {
            tokio::time::sleep(backoff).await;
            backoff = longer(backoff);
            continue;
        }
        let batch = match relay.db(|c| store::next_held(c, FORWARDS_AT_ONCE)).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!(error = %e, "relay: reading held pushes failed");
                tokio::time::sleep(MAX_BACKOFF).await;
                continue;
            }
        };
        if batch.is_empty() {
            let wait = relay.inner.config.poll;
            let _ = tokio::time::timeout(wait, relay.inner.pushes_waiting.notified()).await;
            continue;
        }
        let mut forwards = tokio::task::JoinSet::new();
        for held in batch {
            let relay = relay.clone();
            forwards.spawn(async move { forward_one(&relay, held).await });
        }
        let outcomes: Vec<Forwarded> = forwards.join_all().await;
        let later = outcomes.iter().find_map(|o| match o {
            Forwarded::Later(retry) => Some(*retry),
            Forwarded::Done => None,
        });
        match later {
            None => backoff = FIRST_BACKOFF,
            Some(retry) => {
                tokio::time::sleep(retry.unwrap_or(backoff).min(MAX_BACKOFF)).await;
                backoff = longer(backoff);
            }
        }
    }
}

/// Forwards one held push and keeps what the server said.
async fn forward_one(relay: &Relay, held: store::Held) -> Forwarded {
    match relay.inner.server.forward(held.file).await {
        Upstream::Answered(reply) => {
            let Some(op_ids) = reply_answers(relay, &reply, &held.device_id) else {
                tracing::warn!(device = %held.device_id, "relay: the server's reply does not verify; trying again");
                relay.contact(false).await;
                return Forwarded::Later(None);
            };
            let (id, device) = (held.id, held.device_id.clone());
            let stored = relay
                .db(move |c| store::answered(c, id, &device, &reply, &op_ids, unix_now()))
                .await;
            if let Err(e) = stored {
                tracing::error!(error = %e, "relay: keeping a reply failed");
                return Forwarded::Later(None);
            }
            relay.contact(true).await;
            relay.inner.answered.notify_waiters();
            // A push may have made community news (a post, its meta).
            relay.inner.community_waiting.notify_one();
            Forwarded::Done
        }
        Upstream::Refused { code, message } => {
            tracing::info!(device = %held.device_id, %code, "relay: the server refused a push");
            let (id, device) = (held.id, held.device_id.clone());
            let _ = relay
                .db(move |c| store::refused(c, id, &device, &code, &message, unix_now()))
                .await;
            relay.contact(true).await;
            relay.inner.answered.notify_waiters();
            Forwarded::Done
        }
        Upstream::Later { why, retry_after } => {
            tracing::info!(%why, "relay: the server is not reachable; the push stays held");
            relay.contact(false).await;
            Forwarded::Later(retry_after)
        }
    }
}

/// The operation ids a reply answers, if it is the server's and meant for `device`.
fn reply_answers(relay: &Relay, reply: &[u8], device: &str) -> Option<Vec<String>> {
    let key = relay.server_key()?;
    let opened: SyncFileReply = sync_file::envelope(reply, FileKind::Reply)
        .ok()?
        .open(&key)
        .ok()?;
    (opened.device_id == device).then(|| opened.results.into_iter().map(|r| r.id).collect())
}

/// Fetches the community feed once for every laptop: pages after the last one held, while
/// the server has more; then asks again every `poll` or when prompted.
pub async fn community(relay: Relay) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let (Some(grant), true) = (relay.grant(), ensure_server_key(&relay).await) else {
            // No laptop has come by yet (or its grant ended): wait for one.
            let _ = tokio::time::timeout(
                relay.inner.config.poll,
                relay.inner.community_waiting.notified(),
            )
            .await;
            continue;
        };
        let next = relay
            .db(|c| Ok((store::next_pull(c)?, store::pack(c, store::PACK_NAMED)?)))
            .await;
        let (cursor, known_pack) = match next {
            Ok((Some(c), named)) => (c, named.map(|p| p.version)),
            Ok((None, _)) => {
                let _ = tokio::time::timeout(
                    relay.inner.config.poll,
                    relay.inner.community_waiting.notified(),
                )
                .await;
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "relay: reading community pages failed");
                tokio::time::sleep(MAX_BACKOFF).await;
                continue;
            }
        };
        let pull = CommunityPull {
            protocol: PROTOCOL_VERSION,
            cursor,
            limit: MAX_PULL_LIMIT,
            written_at: unix_now(),
            wait_secs: MAX_COMMUNITY_WAIT_SECS,
            known_pack,
        };
        let asked = tokio::time::Instant::now();
        let body = relay.signed_request(&grant, FileKind::CommunityPull, &pull);
        match relay.inner.server.community(&body).await {
            Upstream::Answered(file) => {
                let Some(page) = open_page(&relay, &file, cursor) else {
                    tracing::warn!("relay: a community page does not verify; trying again");
                    relay.contact(false).await;
                    tokio::time::sleep(backoff).await;
                    backoff = longer(backoff);
                    continue;
                };
                relay.contact(true).await;
                backoff = FIRST_BACKOFF;
                if let Some(pack) = page.pack.clone() {
                    let version = pack.version.clone();
                    match relay
                        .db(move |c| store::set_pack(c, store::PACK_NAMED, &pack))
                        .await
                    {
                        Ok(()) => {
                            tracing::info!(%version, "relay: the server names a new content pack")
                        }
                        Err(e) => tracing::error!(error = %e, "relay: noting the new pack failed"),
                    }
                }
                let joins_backfill = relay
                    .db(|c| Ok(store::meta(c, store::BACKFILL_FROM)?.is_some()))
                    .await
                    .unwrap_or(false);
                if !page.pull.changes.is_empty() || joins_backfill {
                    let to = page.pull.cursor;
                    if let Err(e) = relay
                        .db(move |c| store::add_page(c, cursor, to, &file))
                        .await
                    {
                        tracing::error!(error = %e, "relay: keeping a community page failed");
                        tokio::time::sleep(backoff).await;
                        continue;
                    }
                }
                *lock(&relay.inner.caught_up) = !page.pull.more && !joins_backfill;
                if page.pull.changes.is_empty() && page.pack.is_none() && !joins_backfill {
                    // The server held the answer while nothing was new (a long poll); a server
                    // that does not hold it is asked again no sooner than `poll` after.
                    let rest = relay.inner.config.poll.saturating_sub(asked.elapsed());
                    let _ =
                        tokio::time::timeout(rest, relay.inner.community_waiting.notified()).await;
                }
            }
            Upstream::Refused { code, message } => {
                // This grant no longer works (its device was revoked, the clocks are far
                // apart): wait for another laptop's.
                tracing::info!(%code, %message, "relay: the server refused a community pull");
                relay.contact(true).await;
                relay.drop_grant(&grant);
            }
            Upstream::Later { why, retry_after } => {
                tracing::info!(%why, "relay: the server is not reachable for the community feed");
                relay.contact(false).await;
                tokio::time::sleep(retry_after.unwrap_or(backoff).min(MAX_BACKOFF)).await;
                backoff = longer(backoff);
            }
        }
    }
}

/// Fetches the archive of the pack the server named, once for every laptop, and keeps it in
/// `packs/` beside the relay's database; then waits until the server names another.
pub async fn packs(relay: Relay) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let wanted =
            relay
                .db(|c| {
                    let kept = store::pack(c, store::PACK_KEPT)?.map(|p| p.version);
                    Ok(store::pack(c, store::PACK_NAMED)?
                        .filter(|n| Some(&n.version) != kept.as_ref()))
                })
                .await
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "relay: reading the pack state failed");
                    None
                });
        // Fetched only once a laptop needs it: a pack every laptop has costs no uplink.
        let wanted = wanted.filter(|_| *lock(&relay.inner.pack_wanted));
        let (Some(release), Some(grant)) = (wanted, relay.grant()) else {
            let _ =
                tokio::time::timeout(relay.inner.config.poll, relay.inner.pack_waiting.notified())
                    .await;
            continue;
        };
        let pull = PackPull {
            protocol: PROTOCOL_VERSION,
            version: release.version.clone(),
            written_at: unix_now(),
        };
        let body = relay.signed_request(&grant, FileKind::PackPull, &pull);
        match relay.inner.server.pack(&body).await {
            Upstream::Answered(bytes) if is_archive_of(&bytes, &release) => {
                relay.contact(true).await;
                backoff = FIRST_BACKOFF;
                let dir = relay.packs_dir();
                let kept = relay
                    .db(move |c| {
                        let path = crate::packs::archive_path(&dir, &release.version);
                        crate::packs::write_atomically(&dir, &path, &bytes).map_err(|e| {
                            crate::error::Error::Storage(format!("{}: {e}", path.display()))
                        })?;
                        store::set_pack(c, store::PACK_KEPT, &release)?;
                        remove_other_archives(&dir, &path);
                        Ok(release.version)
                    })
                    .await;
                match kept {
                    Ok(version) => {
                        // A later pack is fetched once a laptop needs that one.
                        *lock(&relay.inner.pack_wanted) = false;
                        tracing::info!(%version, "relay: content pack kept for the laptops");
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "relay: keeping a content pack failed");
                        tokio::time::sleep(MAX_BACKOFF).await;
                    }
                }
            }
            Upstream::Answered(_) => {
                tracing::warn!(version = %release.version, "relay: a pack archive does not match its release; trying again");
                tokio::time::sleep(backoff).await;
                backoff = longer(backoff);
            }
            Upstream::Refused { code, message } => {
                tracing::info!(%code, %message, "relay: the server refused a pack fetch");
                relay.contact(true).await;
                // The grant no longer works; a version the server does not have (`no_pack`)
                // says nothing about the grant.
                if code != stopover_protocol::ErrorCode::NoPack.as_str() {
                    relay.drop_grant(&grant);
                }
                let _ = tokio::time::timeout(
                    relay.inner.config.poll,
                    relay.inner.pack_waiting.notified(),
                )
                .await;
            }
            Upstream::Later { why, retry_after } => {
                tracing::info!(%why, "relay: the server is not reachable for the pack");
                relay.contact(false).await;
                tokio::time::sleep(retry_after.unwrap_or(backoff).min(MAX_BACKOFF)).await;
                backoff = longer(backoff);
            }
        }
    }
}

/// The archive the release names: its size and SHA-256 (the release came in a page the
/// server signed; the Secretariat's signature on the archive is the laptops' to check).
fn is_archive_of(bytes: &[u8], release: &PackRelease) -> bool {
    bytes.len() as u64 == release.size
        && stopover_protocol::files::hex(&Sha256::digest(bytes)) == release.sha256
}

/// Only the newest archive is kept; an older one is no use to a laptop.
fn remove_other_archives(dir: &std::path::Path, keep: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path != keep && path.is_file() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn open_page(relay: &Relay, file: &[u8], asked_from: u64) -> Option<CommunityPage> {
    let key = relay.server_key()?;
    let page: CommunityPage = sync_file::envelope(file, FileKind::CommunityPage)
        .ok()?
        .open(&key)
        .ok()?;
    (page.from_cursor == asked_from && page.pull.cursor >= asked_from).then_some(page)
}
