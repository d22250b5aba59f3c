//! Syncing through a workshop relay (`ecommunity relay` on a trainer's laptop at the venue,
//! see [`stopover_protocol::relay`]).
//!
//! The relay stores and forwards; it never decides and never sees the device token. What a
//! laptop sends it is signed with the device's file key ([`file::device_key`]); what it
//! passes back is signed by the server, and checked here before anything is applied:
//! - **Pass**: each direct round keeps a [`DeviceCredential`](stopover_protocol::relay::DeviceCredential)
//!   the server signed ([`ensure_credential`]); a relay checks it offline.
//! - **Push**: the outbox goes as a signed changes file asking for the private part of the
//!   feed ([`FeedPart::Private`]); the relay forwards it when its uplink works and passes the
//!   server's signed reply back, maybe a round later. Meanwhile the operations show as "at
//!   the relay" (`outbox.at_relay`), and stay in the outbox until acknowledged.
//! - **Community**: the forum, directory and events come in pages the server signed, which
//!   the relay fetched once for every laptop. They move their own cursor
//!   ([`state::COMMUNITY_CURSOR`]); a direct round merges the two again
//!   ([`state::merge_cursors`]), so switching between relay and direct duplicates nothing and
//!   loses nothing.
//!
//! - **Content packs**: a relay fetches the latest pack's archive once and names it in its
//!   answer; [`pack_from_relay`] fetches it from the relay and installs it only if the
//!   Secretariat's signature holds, exactly as a pack from the server.
//!
//! A relay that serves a reply or a page the server did not sign, or a reply for another
//! device, is caught ([`ErrorCode::RelayForged`]) and nothing of its answer is applied.

use std::net::IpAddr;

use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use stopover_protocol::packs::is_newer_version;
use stopover_protocol::relay::{
    self as wire, CREDENTIAL_RENEW_DAYS, CommunityPage, DeviceCredential, GRANT_DAYS, RelayGrant,
    RelayInfo, RelayPackRequest, RelaySyncRequest, UplinkState,
};
use stopover_protocol::sync_file::{self, FeedPart, FileKind, SyncFileReply};
use stopover_protocol::{Change, PROTOCOL_VERSION, PackRelease, is_versioned};

use super::client::{SyncClient, Transfer};
use super::file::{self, SERVER_FILE_KEY, device_key};
use super::state::{self, NOW};
use super::{meter, outbox, pull};
use crate::content::{self, ImportReport};
use crate::{Core, Error, ErrorCode, Result};

/// `sync_state` key: the relay this device syncs through (normalised), when one is set.
const RELAY_URL: &str = "relay_url";
/// `sync_state` keys: the server's pass for relays (a sealed credential, base64), when it
/// runs out (Unix seconds, the server's clock) and the device key it names (hex).
const CREDENTIAL: &str = "relay_credential";
const CREDENTIAL_EXPIRES: &str = "relay_credential_expires";
const CREDENTIAL_KEY: &str = "relay_credential_key";
/// `sync_state` key: when asking for a credential last failed (Unix seconds). The next ask
/// waits [`CREDENTIAL_RETRY_SECS`], so a server without relays does not cost every round an
/// exchange.
const CREDENTIAL_FAILED_AT: &str = "relay_credential_failed_at";
const CREDENTIAL_RETRY_SECS: i64 = 6 * 3600;
/// `sync_state` keys, for the status: the relay's uplink as it last said (JSON of
/// [`UplinkState`]), when this device last heard from the relay, and when the server signed
/// the newest community page received through it (Unix seconds, the server's clock).
const RELAY_UPLINK: &str = "relay_uplink";
const RELAY_HEARD_AT: &str = "relay_heard_at";
const RELAY_SIGNED_AT: &str = "relay_community_signed_at";

const DAY_SECS: i64 = 24 * 3600;

/// Checks and normalises a relay address. A relay lives on the venue's LAN and is given
/// nothing secret (everything sent to it is signed), so plain `http://` is allowed to a LAN
/// address: private, link-local and shared (CGNAT) IPv4, unique-local and link-local IPv6,
/// loopback, and host names without a dot or ending in `.local`, `.lan`, `.home.arpa` or
/// `.internal`. Anywhere else it must be `https://`. A bare `192.168.1.20:8787` means
/// `http://192.168.1.20:8787`.
pub fn normalize_relay_url(address: &str) -> Result<String> {
    let trimmed = address.trim();
    let invalid = || {
        Error::invalid(
            ErrorCode::RelayAddressInvalid,
            format!("`{trimmed}` is not a relay address; expected e.g. 192.168.1.20:8787"),
        )
        .with("address", trimmed)
    };
    if trimmed.is_empty() {
        return Err(invalid());
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("http://{trimmed}")
    };
    let mut url = reqwest::Url::parse(&with_scheme).map_err(|_| invalid())?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(invalid)?
        .to_string();
    match url.scheme() {
        "https" => {}
        "http" if on_lan(&host) => {}
        "http" => return Err(Error::InsecureUrl { host }),
        _ => return Err(invalid()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid());
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// A host on the local network (see [`normalize_relay_url`]).
fn on_lan(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V4(ip)) => {
            let [a, b, ..] = ip.octets();
            ip.is_private()
                || ip.is_loopback()
                || ip.is_link_local()
                || (a == 100 && (64..128).contains(&b))
        }
        Ok(IpAddr::V6(ip)) => {
            let first = ip.segments()[0];
            ip.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            !name.contains('.')
                || [".local", ".lan", ".home.arpa", ".internal"]
                    .iter()
                    .any(|suffix| name.ends_with(suffix))
        }
    }
}

/// The relay this device syncs through, when one is set.
pub fn relay_url(conn: &rusqlite::Connection) -> Result<Option<String>> {
    state::get(conn, RELAY_URL)
}

/// Sets the relay this device syncs through (`None`: sync directly again). Only checks the
/// address; [`use_relay`] also asks the relay who it is. Returns the normalised address.
pub fn set_relay(core: &Core, address: Option<&str>) -> Result<Option<String>> {
    let normalized = address.map(normalize_relay_url).transpose()?;
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let previous = state::get(&tx, RELAY_URL)?;
    if previous != normalized {
        // What the last relay said says nothing of the next (or of a direct round).
        for key in [RELAY_UPLINK, RELAY_HEARD_AT, RELAY_SIGNED_AT] {
            state::delete(&tx, key)?;
        }
        tx.execute("UPDATE outbox SET at_relay = 0 WHERE at_relay = 1", [])?;
    }
    match &normalized {
        Some(url) => state::set(&tx, RELAY_URL, url)?,
        None => state::delete(&tx, RELAY_URL)?,
    }
    tx.commit()?;
    Ok(normalized)
}

/// "Sync through this relay": asks the relay at `address` who it is
/// ([`check_relay`]), then sets it ([`set_relay`]). Nothing is set when the check fails.
pub async fn use_relay(core: &Core, address: &str) -> Result<RelayInfo> {
    let url = normalize_relay_url(address)?;
    let info = check_relay(core, &url).await?;
    set_relay(core, Some(&url))?;
    Ok(info)
}

/// `GET /v1/relay/info` of the relay at `address`, refused when it is not a relay
/// ([`ErrorCode::NotARelay`]) or forwards to another server than this device's
/// ([`ErrorCode::RelayOtherServer`]).
pub async fn check_relay(core: &Core, address: &str) -> Result<RelayInfo> {
    let client = SyncClient::for_relay(address)?;
    Ok(relay_info(core, &client).await?.0)
}

async fn relay_info(core: &Core, client: &SyncClient) -> Result<(RelayInfo, Transfer)> {
    let (info, transfer) = client
        .relay_info()
        .await
        .map_err(|e| not_signed_out(e, client.server_url()))?;
    let known = state::get(&core.conn(), SERVER_FILE_KEY)?;
    // A relay that has not reached the server yet does not know its key: what it serves is
    // checked against the key all the same.
    if let (Some(theirs), Some(ours)) = (&info.server_key, &known)
        && !theirs.trim().eq_ignore_ascii_case(ours.trim())
    {
        return Err(Error::invalid(
            ErrorCode::RelayOtherServer,
            format!(
                "the relay at {} forwards to another e-community server ({}), not this device's",
                client.server_url(),
                info.upstream
            ),
        )
        .with("address", client.server_url())
        .with("upstream", info.upstream.as_str()));
    }
    if sync_file::parse_key(&info.relay_key).is_none() {
        return Err(Error::BadAnswer(
            "the relay's key is not an ed25519 public key".into(),
        ));
    }
    Ok((info, transfer))
}

fn now_secs(core: &Core) -> i64 {
    core.server_clock().now_unix() as i64
}

/// Keeps this device's pass for relays: fetches a new one from the server when there is none,
/// when it names another device key (a new sign-in), or when fewer than
/// [`CREDENTIAL_RENEW_DAYS`] days are left. Called in each direct round after
/// [`ensure_file_key`](super::ensure_file_key) (the server vouches only for a registered
/// key). Returns the bytes it moved (none when nothing was needed).
pub async fn ensure_credential(core: &Core, client: &SyncClient, token: &str) -> Result<Transfer> {
    if !file::can_write_files(core, token)? {
        return Ok(Transfer::default());
    }
    let mine = sync_file::to_hex(device_key(token).verifying_key().as_bytes());
    let (expires, key, server_key, device_id, failed_at) = {
        let conn = core.conn();
        let number = |k| -> Result<Option<i64>> {
            Ok(state::get(&conn, k)?.and_then(|v| v.parse::<i64>().ok()))
        };
        (
            number(CREDENTIAL_EXPIRES)?,
            state::get(&conn, CREDENTIAL_KEY)?,
            state::get(&conn, SERVER_FILE_KEY)?,
            state::get(&conn, state::DEVICE_ID)?.unwrap_or_default(),
            number(CREDENTIAL_FAILED_AT)?,
        )
    };
    let now = now_secs(core);
    if key.as_deref() == Some(mine.as_str())
        && expires.is_some_and(|e| e - now > CREDENTIAL_RENEW_DAYS * DAY_SECS)
    {
        return Ok(Transfer::default());
    }
    if failed_at.is_some_and(|at| (0..CREDENTIAL_RETRY_SECS).contains(&(now - at))) {
        return Ok(Transfer::default());
    }
    let (answer, transfer) = match client.credential(token).await {
        Ok(answered) => answered,
        Err(e @ Error::SignInRequired(_)) => return Err(e),
        Err(e) => {
            state::set(&core.conn(), CREDENTIAL_FAILED_AT, &now.to_string())?;
            return Err(e);
        }
    };
    let server_key = server_key
        .as_deref()
        .and_then(sync_file::parse_key)
        .ok_or_else(|| Error::BadAnswer("this device does not know its server's key".into()))?;
    let credential = open_credential(&answer.credential, &server_key)
        .ok_or_else(|| Error::BadAnswer("the credential is not signed by the server".into()))?;
    if credential.device_id != device_id || !credential.device_key.eq_ignore_ascii_case(&mine) {
        return Err(Error::BadAnswer(
            "the credential names another device or key".into(),
        ));
    }
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    state::set(&tx, CREDENTIAL, &answer.credential)?;
    state::set(&tx, CREDENTIAL_EXPIRES, &credential.expires_at.to_string())?;
    state::set(&tx, CREDENTIAL_KEY, &mine)?;
    state::delete(&tx, CREDENTIAL_FAILED_AT)?;
    tx.commit()?;
    Ok(transfer)
}

fn open_credential(text: &str, server_key: &VerifyingKey) -> Option<DeviceCredential> {
    let bytes = wire::decode(text)?;
    let credential: DeviceCredential = sync_file::envelope(&bytes, FileKind::Credential)
        .ok()?
        .open(server_key)
        .ok()?;
    is_versioned(credential.protocol).then_some(credential)
}

/// The relay part of the sync status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RelayStatus {
    /// The relay's address, normalised (`http://192.168.1.20:8787`).
    pub address: String,
    /// When this device last had an answer from the relay (RFC 3339, UTC).
    pub heard_at: Option<String>,
    /// Whether the relay could reach the server at its last exchange with it (`None`: not
    /// heard from the relay yet).
    pub uplink_reachable: Option<bool>,
    /// When the relay last heard from the server (Unix seconds, the relay's clock).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_contact: Option<i64>,
    /// When the server signed the newest community page received through the relay (Unix
    /// seconds, the server's clock): how fresh the forum and events here are.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub community_signed_at: Option<i64>,
    /// This device's operations the relay holds, not yet answered by the server.
    pub held: u32,
    /// When this device's pass for relays runs out (Unix seconds, the server's clock); `None`
    /// before the first direct round that fetched one.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub credential_expires_at: Option<i64>,
}

pub(crate) fn relay_status(conn: &rusqlite::Connection) -> Result<Option<RelayStatus>> {
    let Some(address) = state::get(conn, RELAY_URL)? else {
        return Ok(None);
    };
    let uplink: Option<UplinkState> =
        state::get(conn, RELAY_UPLINK)?.and_then(|json| serde_json::from_str(&json).ok());
    let held: u32 = conn.query_row("SELECT count(*) FROM outbox WHERE at_relay = 1", [], |r| {
        r.get(0)
    })?;
    let number =
        |key| -> Result<Option<i64>> { Ok(state::get(conn, key)?.and_then(|v| v.parse().ok())) };
    Ok(Some(RelayStatus {
        address,
        heard_at: state::get(conn, RELAY_HEARD_AT)?,
        uplink_reachable: uplink.as_ref().map(|u| u.reachable),
        last_contact: uplink.and_then(|u| u.last_contact),
        community_signed_at: number(RELAY_SIGNED_AT)?,
        held,
        credential_expires_at: number(CREDENTIAL_EXPIRES)?,
    }))
}

/// What a round through a relay did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RelayRoundReport {
    /// Operations sent to the relay in this round.
    pub sent: u32,
    /// Operations the server acknowledged (the reply may answer an earlier round).
    pub acknowledged: u32,
    pub conflicts: u32,
    pub rejected: u32,
    /// This device's operations the relay holds, not yet answered by the server.
    pub held: u32,
    /// Changes of the private part received (0 when the reply brought nothing new).
    pub pulled: u32,
    /// Community pages applied, and their changes.
    pub community_pages: u32,
    pub community_pulled: u32,
    /// Of all changes received, those written into the local tables.
    pub applied_locally: u32,
    /// A community page did not continue this device's copy: it and the pages after it wait
    /// for another round (or a direct one).
    pub gap: bool,
    /// More community pages wait at the relay (or after a gap): another round brings them.
    pub community_more: bool,
    /// More waits at the relay (or the server), private or community: another round brings
    /// it.
    pub more: bool,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// The relay's uplink as it said.
    pub uplink: Option<UplinkState>,
    /// A content pack the relay holds that is newer than this device's (see
    /// [`pack_from_relay`]).
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub pack: Option<PackRelease>,
}

/// One round through the relay at `relay_url` (see the module documentation):
/// 1. `GET /v1/relay/info` (the relay's key changes when it restarts) — refused when it
///    forwards to another server;
/// 2. `POST /v1/relay/sync` with the outbox as a signed changes file (private part, from the
///    pull cursor), a grant for the relay's key, this device's credential and its community
///    cursor;
/// 3. every signed object of the answer checked before anything is applied: the reply must
///    open with the server's key and name this device, each community page must open with
///    the server's key — else [`ErrorCode::RelayForged`] and nothing applied;
/// 4. the reply's results stored as a push answer, its private changes when they continue the
///    pull cursor, the community pages in order while they continue the community cursor;
///    the operations the relay holds marked "at the relay".
///
/// `token` is the device token: it signs (through the key derived from it) and never
/// leaves this device. Like [`sync_once`](super::sync_once), only one round runs at a time
/// and its outcome is recorded for the status.
pub async fn sync_through_relay(
    core: &Core,
    relay_url: &str,
    token: &str,
) -> Result<RelayRoundReport> {
    let _running = core.begin_sync()?;
    let outcome = relay_round(core, relay_url, token).await;
    if let Err(e) = state::record_outcome(&core.conn(), outcome.as_ref().map(|_| ())) {
        tracing::warn!(error = %e, "relay sync: could not record the outcome");
    }
    if let Err(e) = &outcome {
        tracing::info!(code = %e.code(), error = %e, "relay sync failed");
    }
    outcome
}

/// What this device needs to use a relay, read once per round.
struct Pass {
    server_key: VerifyingKey,
    device_id: String,
    credential: String,
}

fn read_pass(core: &Core, token: &str) -> Result<Pass> {
    let conn = core.conn();
    if !state::is_configured(&conn)? || state::get(&conn, state::SIGNED_IN)?.as_deref() != Some("1")
    {
        return Err(Error::SignInRequired(
            "this device is not signed in to an e-community server".into(),
        ));
    }
    let missing = || {
        Error::invalid(
            ErrorCode::RelayCredentialMissing,
            "this device has no pass for workshop relays yet: sync directly (online) once",
        )
    };
    let server_key = state::get(&conn, SERVER_FILE_KEY)?
        .as_deref()
        .and_then(sync_file::parse_key)
        .ok_or_else(missing)?;
    let mine = sync_file::to_hex(device_key(token).verifying_key().as_bytes());
    let credential = state::get(&conn, CREDENTIAL)?.ok_or_else(missing)?;
    if state::get(&conn, CREDENTIAL_KEY)?.as_deref() != Some(mine.as_str()) {
        // Fetched for an earlier sign-in: the relay would not know this device's key.
        return Err(missing());
    }
    let expires: i64 = state::get(&conn, CREDENTIAL_EXPIRES)?
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    if expires <= now_secs(core) {
        let date: String = conn.query_row(
            "SELECT coalesce(date(?1, 'unixepoch'), '')",
            [expires],
            |r| r.get(0),
        )?;
        return Err(Error::invalid(
            ErrorCode::RelayCredentialExpired,
            format!("this device's pass for workshop relays ran out on {date}: sync directly (online) once to renew it"),
        )
        .with("expired", date));
    }
    Ok(Pass {
        server_key,
        device_id: state::get(&conn, state::DEVICE_ID)?.unwrap_or_default(),
        credential,
    })
}

/// A relay is not the server: its 401 says it would not take this device's pass, never that
/// the device is signed out (which only the server can say, and which would stop sync).
fn not_signed_out(e: Error, address: &str) -> Error {
    match e {
        Error::SignInRequired(why) => Error::invalid(
            ErrorCode::RelayCredentialMissing,
            format!("the relay at {address} did not accept this device's pass ({why}): sync directly (online) once to renew it"),
        )
        .with("address", address),
        e => e,
    }
}

fn forged(address: &str, what: &str) -> Error {
    Error::invalid(
        ErrorCode::RelayForged,
        format!("the relay at {address} sent data the server did not sign ({what}); nothing of it was applied"),
    )
    .with("address", address)
    .with("what", what)
}

/// The relay's answer, every signed part checked.
struct Checked {
    reply: Option<SyncFileReply>,
    pages: Vec<CommunityPage>,
}

fn check_answer(
    core: &Core,
    address: &str,
    pass: &Pass,
    answer: &wire::RelaySyncResponse,
) -> Result<Checked> {
    let reply = match &answer.reply {
        None => None,
        Some(text) => {
            let bytes =
                wire::decode(text).ok_or_else(|| forged(address, "a reply that is not base64"))?;
            match file::open_reply(core, &bytes) {
                Ok(reply) => Some(reply),
                Err(e) if e.code() == ErrorCode::SyncFileForeign => {
                    return Err(forged(
                        address,
                        "a reply signed by another key or meant for another device",
                    ));
                }
                Err(e) if e.code() == ErrorCode::SyncFileKeyMissing => return Err(e),
                Err(e) => return Err(forged(address, &format!("a reply refused: {e}"))),
            }
        }
    };
    let mut pages = Vec::with_capacity(answer.community.len());
    for text in &answer.community {
        let bytes = wire::decode(text)
            .ok_or_else(|| forged(address, "a community page that is not base64"))?;
        let page: CommunityPage = sync_file::envelope(&bytes, FileKind::CommunityPage)
            .and_then(|e| e.open(&pass.server_key))
            .map_err(|refusal| forged(address, &format!("a community page refused: {refusal}")))?;
        if !is_versioned(page.protocol) || !is_versioned(page.pull.protocol) {
            return Err(forged(address, "a community page of another protocol"));
        }
        if page.pull.cursor < page.from_cursor {
            return Err(forged(address, "a community page whose cursor goes back"));
        }
        pages.push(page);
    }
    Ok(Checked { reply, pages })
}

/// Fetches `release` (named in a relay's answer, see [`RelayRoundReport::pack`]) from the
/// relay at `relay_url` and installs it if the Secretariat's signature on it holds
/// (`trusted_keys`): a relay can withhold a pack but cannot forge or change one.
pub async fn pack_from_relay(
    core: &Core,
    relay_url: &str,
    token: &str,
    release: &PackRelease,
    trusted_keys: &[VerifyingKey],
) -> Result<ImportReport> {
    let pass = read_pass(core, token)?;
    let client = SyncClient::for_relay(relay_url)?;
    let body = RelayPackRequest {
        protocol: PROTOCOL_VERSION,
        credential: pass.credential,
        version: release.version.clone(),
    };
    let request = || {
        client
            .request_url(reqwest::Method::POST, client.url("v1/relay/pack"))
            .json(&body)
    };
    content::update::fetch_and_install(core, &client, request, release, trusted_keys).await
}

async fn relay_round(core: &Core, relay_url: &str, token: &str) -> Result<RelayRoundReport> {
    let pass = read_pass(core, token)?;
    let client = SyncClient::for_relay(relay_url)?;
    let address = client.server_url().to_string();
    let mut report = RelayRoundReport::default();

    let (info, t) = relay_info(core, &client).await?;
    report.bytes_received += t.bytes_received;

    let (cursor, community_cursor) = {
        let conn = core.conn();
        (state::pull_cursor(&conn)?, state::community_cursor(&conn)?)
    };
    // A push's worth a round: the relay forwards it as one request, under the server's body
    // limit; the rest goes in the next rounds.
    let ops = outbox::next_batch(core, stopover_protocol::MAX_OPS_PER_PUSH)?;
    report.sent = ops.len() as u32;
    let changes = file::seal_changes(core, token, ops.clone(), cursor, FeedPart::Private)?;
    let grant = sync_file::seal(
        FileKind::Grant,
        &device_key(token),
        &RelayGrant {
            protocol: PROTOCOL_VERSION,
            device_id: pass.device_id.clone(),
            relay_key: info.relay_key.clone(),
            expires_at: now_secs(core) + GRANT_DAYS * DAY_SECS,
        },
    );
    let pack_version = content::imported_pack(&core.conn())?.map(|(version, _)| version);
    let request = RelaySyncRequest {
        protocol: PROTOCOL_VERSION,
        credential: pass.credential.clone(),
        changes: wire::encode(&changes),
        grant: wire::encode(&grant),
        community_cursor,
        pack_version: pack_version.clone(),
    };
    let (answer, t) = client
        .relay_sync(&request)
        .await
        .map_err(|e| not_signed_out(e, &address))?;
    report.bytes_sent += t.bytes_sent;
    report.bytes_received += t.bytes_received;

    // Nothing is applied before every signed part is checked.
    let checked = check_answer(core, &address, &pass, &answer)?;

    // The community cursor written down before the private one can move (its absence means
    // "the same as the pull cursor"). Only one round runs at a time: it is still the one sent.
    state::set(
        &core.conn(),
        state::COMMUNITY_CURSOR,
        &community_cursor.to_string(),
    )?;
    let mut received: Vec<Change> = Vec::new();
    if let Some(reply) = &checked.reply {
        let loaded = file::apply_reply(core, reply, FeedPart::Private)?;
        report.acknowledged = loaded.acknowledged;
        report.conflicts = loaded.conflicts;
        report.rejected = loaded.rejected;
        report.pulled = loaded.pulled;
        report.applied_locally += loaded.applied_locally;
        report.more |= loaded.pulled > 0 && loaded.more;
        received.extend(reply.pull.changes.iter().cloned());
    }

    let mut newest_signed: Option<i64> = None;
    for page in &checked.pages {
        received.extend(page.pull.changes.iter().cloned());
        let at = state::community_cursor(&core.conn())?;
        if page.pull.cursor <= at {
            continue; // already here
        }
        if page.from_cursor > at {
            // The changes between `at` and the page would be missing: stop here.
            tracing::info!(
                at,
                from = page.from_cursor,
                "relay: a gap in the community pages"
            );
            report.gap = true;
            break;
        }
        let summary = pull::apply_pull_at(core, &page.pull, state::COMMUNITY_CURSOR)?;
        report.community_pages += 1;
        report.community_pulled += summary.received;
        report.applied_locally += summary.applied_locally;
        newest_signed = newest_signed.max(Some(page.signed_at));
    }
    report.community_more = answer.community_more || report.gap;
    report.more |= report.community_more;
    if report.community_pulled > 0 {
        for kind in stopover_protocol::RecordKind::ALL {
            if let Err(e) = core.local_kind(kind).after_pull(core) {
                tracing::warn!(?kind, code = %e.code(), error = %e, "after the community pages");
            }
        }
    }

    {
        let mut conn = core.conn();
        let tx = conn.transaction()?;
        tx.execute("UPDATE outbox SET at_relay = 0 WHERE at_relay = 1", [])?;
        {
            let mut mark = tx.prepare("UPDATE outbox SET at_relay = 1 WHERE op_id = ?1")?;
            for id in &answer.held {
                mark.execute([id])?;
            }
        }
        report.held = tx.query_row("SELECT count(*) FROM outbox WHERE at_relay = 1", [], |r| {
            r.get(0)
        })?;
        let uplink = serde_json::to_string(&answer.uplink).map_err(Error::internal)?;
        state::set(&tx, RELAY_UPLINK, &uplink)?;
        tx.execute(
            &format!("INSERT INTO sync_state (key, value) VALUES (?1, {NOW}) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
            [RELAY_HEARD_AT],
        )?;
        if let Some(at) = newest_signed {
            let known: Option<i64> = state::get(&tx, RELAY_SIGNED_AT)?.and_then(|v| v.parse().ok());
            if known.is_none_or(|k| at > k) {
                state::set(&tx, RELAY_SIGNED_AT, &at.to_string())?;
            }
        }
        tx.commit()?;
    }
    meter::record_exchange(
        core,
        &ops,
        &received,
        report.bytes_sent,
        report.bytes_received,
    )?;
    report.uplink = Some(answer.uplink.clone());
    report.pack = answer.pack.clone().filter(|release| {
        pack_version
            .as_deref()
            .is_none_or(|have| is_newer_version(&release.version, have))
    });

    if let Some(refused) = &answer.refused {
        // Not signed, so it signs nothing out here: it is shown, and a direct round tells.
        return Err(Error::invalid(
            ErrorCode::RelayPushRefused,
            format!(
                "the server refused this device's changes the relay forwarded ({}: {})",
                refused.code, refused.message
            ),
        )
        .with("server_code", refused.code.as_str())
        .with("reason", refused.message.as_str()));
    }
    Ok(report)
}
