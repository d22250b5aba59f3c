//! Rounds through a workshop relay, against the fake server of `super` and a fake relay that
//! forwards to it (a unit-test double: the real relay and server are exercised in the
//! workspace's tests/). The fake server signs replies and community pages with a test key, as
//! the real one does; the relay can be told to forge, to lose its uplink, to skip pages.

use ed25519_dalek::SigningKey;
use stopover_protocol::relay::{
    CommunityPage, CredentialResponse, DeviceCredential, RelayGrant, RelayInfo, RelaySyncRequest,
    RelaySyncResponse, UplinkState,
};
use stopover_protocol::sync_file::{
    DeviceChanges, FeedPart, FileKeyRequest, FileKeyResponse, FileKind, SyncFileReply, envelope,
    file_digest, parse_key, seal, to_hex,
};

use super::*;

/// The entities whose changes are the community's (the fake serves them in pages): steps
/// `c…`; the others are this account's private changes.
const COMMUNITY: &str = "list/c";

fn is_community(change: &Change) -> bool {
    change.entity.id.starts_with(COMMUNITY)
}

#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
enum RelayMode {
    #[default]
    Normal,
    /// The reply is signed by the relay's own key.
    ForgedReply,
    /// The reply is the server's, but meant for another device.
    OtherDevice,
    /// The second community page is signed by the relay's key.
    ForeignPage,
    /// The first community page is left out.
    Gap,
    /// The relay says it forwards to a server with another key.
    OtherServer,
    /// The relay answers 401 token_revoked (as if it were the server).
    Unauthorized,
}

struct Net {
    server: Shared,
    server_key: SigningKey,
    /// Registered device file keys (hex), by device id.
    device_keys: HashMap<String, String>,
    credentials_issued: u32,
    /// Every `GET /v1/sync/credential`, answered or not.
    credential_asks: u32,
    relay_key: SigningKey,
    mode: RelayMode,
    uplink: bool,
    /// Changes files waiting for the uplink.
    held_files: Vec<DeviceChanges>,
    last_reply: Option<String>,
    /// The community feed the relay holds reaches this position of the server's log.
    cached_upto: u64,
    /// Most changes per private reply, and most community pages per answer.
    reply_limit: usize,
    pages_per_answer: usize,
    relay_rounds: u32,
}

type NetShared = Arc<Mutex<Net>>;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn file_key(State(net): State<NetShared>, Json(req): Json<FileKeyRequest>) -> Response {
    let mut net = net.lock().unwrap();
    net.device_keys.insert("device-1".into(), req.public_key);
    Json(FileKeyResponse {
        protocol: 1,
        server_key: to_hex(net.server_key.verifying_key().as_bytes()),
    })
    .into_response()
}

async fn credential(State(net): State<NetShared>) -> Response {
    let mut net = net.lock().unwrap();
    net.credential_asks += 1;
    let Some(key) = net.device_keys.get("device-1").cloned() else {
        return StatusCode::CONFLICT.into_response();
    };
    net.credentials_issued += 1;
    let cred = DeviceCredential {
        protocol: 1,
        device_id: "device-1".into(),
        username: "amina".into(),
        device_key: key,
        issued_at: now(),
        expires_at: now() + 14 * 86400,
    };
    Json(CredentialResponse {
        protocol: 1,
        credential: stopover_protocol::relay::encode(&seal(
            FileKind::Credential,
            &net.server_key,
            &cred,
        )),
        server_key: to_hex(net.server_key.verifying_key().as_bytes()),
        expires_at: cred.expires_at,
    })
    .into_response()
}

fn uplink_state(net: &Net) -> UplinkState {
    UplinkState {
        reachable: net.uplink,
        last_contact: Some(1_800_000_000),
        held_pushes: net.held_files.len() as u32,
        community_cursor: net.cached_upto,
    }
}

async fn relay_info(State(net): State<NetShared>) -> Response {
    let net = net.lock().unwrap();
    let server_key = if net.mode == RelayMode::OtherServer {
        SigningKey::from_bytes(&[99; 32]).verifying_key()
    } else {
        net.server_key.verifying_key()
    };
    Json(RelayInfo {
        protocol: 1,
        relay: true,
        relay_key: to_hex(net.relay_key.verifying_key().as_bytes()),
        upstream: "http://127.0.0.1:1".into(),
        server_key: Some(to_hex(server_key.as_bytes())),
        uplink: uplink_state(&net),
    })
    .into_response()
}

/// Changes of the log after `cursor` (up to `limit`) whose entity is or is not the
/// community's, as a page whose cursor is the last one's seq or, when all are in, `upto`.
fn feed_page(
    log: &[Change],
    community: bool,
    cursor: u64,
    upto: u64,
    limit: usize,
) -> PullResponse {
    let after: Vec<Change> = log
        .iter()
        .filter(|c| c.seq > cursor && c.seq <= upto && is_community(c) == community)
        .cloned()
        .collect();
    let page: Vec<Change> = after.iter().take(limit).cloned().collect();
    let more = after.len() > page.len();
    PullResponse {
        protocol: 1,
        cursor: if more {
            page.last().unwrap().seq
        } else {
            upto.max(cursor)
        },
        more,
        changes: page,
    }
}

async fn relay_sync(State(net): State<NetShared>, Json(req): Json<RelaySyncRequest>) -> Response {
    let mut guard = net.lock().unwrap();
    let net = &mut *guard;
    if net.mode == RelayMode::Unauthorized {
        let body = ErrorBody {
            code: stopover_protocol::ErrorCode::TokenRevoked,
            message: "signed out".into(),
            params: Default::default(),
        };
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    net.relay_rounds += 1;
    let server_pub = net.server_key.verifying_key();
    // What the real relay checks: the server's credential, the device's push and grant.
    let cred_bytes = stopover_protocol::relay::decode(&req.credential).unwrap();
    let cred: DeviceCredential = envelope(&cred_bytes, FileKind::Credential)
        .unwrap()
        .open(&server_pub)
        .expect("a credential the server signed");
    let device_key = parse_key(&cred.device_key).unwrap();
    let changes_bytes = stopover_protocol::relay::decode(&req.changes).unwrap();
    let changes: DeviceChanges = envelope(&changes_bytes, FileKind::Changes)
        .unwrap()
        .open(&device_key)
        .expect("changes signed by the device");
    assert_eq!(changes.feed, FeedPart::Private);
    let grant_bytes = stopover_protocol::relay::decode(&req.grant).unwrap();
    let grant: RelayGrant = envelope(&grant_bytes, FileKind::Grant)
        .unwrap()
        .open(&device_key)
        .expect("a grant signed by the device");
    assert_eq!(
        grant.relay_key,
        to_hex(net.relay_key.verifying_key().as_bytes())
    );
    assert!(grant.expires_at > now());
    net.held_files.push(changes);

    if net.uplink {
        let mut server = net.server.lock().unwrap();
        let mut last = None;
        for file in std::mem::take(&mut net.held_files) {
            let results: Vec<OpResult> = file
                .ops
                .iter()
                .map(|op| OpResult {
                    id: op.id.clone(),
                    outcome: apply_op(&mut server, op.clone()),
                })
                .collect();
            last = Some((file, results));
        }
        let (file, results) = last.unwrap();
        let upto = server.log.len() as u64;
        net.cached_upto = upto;
        let reply = SyncFileReply {
            protocol: 1,
            device_id: if net.mode == RelayMode::OtherDevice {
                "device-2".into()
            } else {
                file.device_id.clone()
            },
            answers: file_digest(&changes_bytes),
            results,
            from_cursor: file.cursor,
            pull: feed_page(&server.log, false, file.cursor, upto, net.reply_limit),
        };
        let signer = if net.mode == RelayMode::ForgedReply {
            &net.relay_key
        } else {
            &net.server_key
        };
        net.last_reply = Some(stopover_protocol::relay::encode(&seal(
            FileKind::Reply,
            signer,
            &reply,
        )));
    }
    let held: Vec<String> = net
        .held_files
        .iter()
        .flat_map(|f| f.ops.iter().map(|op| op.id.clone()))
        .collect();

    // Community pages of at most 2 changes, chained from the laptop's cursor.
    let server = net.server.lock().unwrap();
    let mut pages = Vec::new();
    let mut cursor = req.community_cursor;
    let mut more = false;
    loop {
        let page = feed_page(&server.log, true, cursor, net.cached_upto, 2);
        if page.cursor <= cursor {
            break;
        }
        if pages.len() == net.pages_per_answer {
            more = true;
            break;
        }
        let from = cursor;
        cursor = page.cursor;
        pages.push(CommunityPage {
            protocol: 1,
            from_cursor: from,
            signed_at: 1_800_000_000 + pages.len() as i64,
            pull: page,
            pack: None,
        });
    }
    drop(server);
    let community: Vec<String> = pages
        .iter()
        .enumerate()
        .filter(|(i, _)| !(net.mode == RelayMode::Gap && *i == 0))
        .map(|(i, page)| {
            let signer = if net.mode == RelayMode::ForeignPage && i == 1 {
                &net.relay_key
            } else {
                &net.server_key
            };
            stopover_protocol::relay::encode(&seal(FileKind::CommunityPage, signer, page))
        })
        .collect();
    Json(RelaySyncResponse {
        protocol: 1,
        held,
        reply: net.last_reply.clone(),
        refused: None,
        community,
        community_more: more,
        uplink: uplink_state(net),
        pack: None,
    })
    .into_response()
}

/// The fake server (with file keys and credentials) and a fake relay forwarding to it.
async fn start_net() -> (String, String, Shared, NetShared) {
    let shared: Shared = Arc::default();
    let net: NetShared = Arc::new(Mutex::new(Net {
        server: shared.clone(),
        server_key: SigningKey::from_bytes(&[7; 32]),
        device_keys: HashMap::new(),
        credentials_issued: 0,
        credential_asks: 0,
        relay_key: SigningKey::from_bytes(&[8; 32]),
        mode: RelayMode::Normal,
        uplink: true,
        held_files: Vec::new(),
        last_reply: None,
        cached_upto: 0,
        reply_limit: 100,
        pages_per_answer: 100,
        relay_rounds: 0,
    }));
    let server = Router::new()
        .route("/v1/health", get(health))
        .route("/v1/sessions", post(sessions))
        .route("/v1/sync/push", post(push))
        .route("/v1/sync/pull", get(pull_handler))
        .with_state(shared.clone())
        .merge(
            Router::new()
                .route("/v1/sync/file-key", axum::routing::put(file_key))
                .route("/v1/sync/credential", get(credential))
                .with_state(net.clone()),
        );
    let relay = Router::new()
        .route("/v1/relay/info", get(relay_info))
        .route("/v1/relay/sync", post(relay_sync))
        .with_state(net.clone());
    let mut urls = Vec::new();
    for app in [server, relay] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}", listener.local_addr().unwrap()));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }
    let relay_url = urls.pop().unwrap();
    (urls.pop().unwrap(), relay_url, shared, net)
}

/// A laptop signed in to the fake server, synced directly once (file key and credential).
async fn laptop(url: &str) -> (tempfile::TempDir, Core, SyncClient) {
    let secrets = MemoryStore::new();
    let (dir, core) = signed_in_core(url, &secrets).await;
    let client = SyncClient::new(url).unwrap();
    sync_once(&core, &client, TOKEN).await.unwrap();
    (dir, core, client)
}

/// Another laptop's change, applied on the fake server.
fn others_write(fake: &Shared, step: &str, field: &str, value: Value) {
    let mut fake = fake.lock().unwrap();
    let entity = format!("list/{step}");
    let version = fake
        .fields
        .get(&(KIND.to_string(), entity.clone(), field.to_string()))
        .map_or(0, |(v, _)| *v);
    let op = Operation {
        id: uuid::Uuid::now_v7().to_string(),
        entity: EntityRef {
            kind: KIND.into(),
            id: entity,
        },
        field: field.into(),
        base_version: version,
        value,
    };
    assert!(matches!(apply_op(&mut fake, op), Outcome::Applied { .. }));
}

/// Every field the server holds has the same value here, and each operation is in the
/// server's log once.
fn assert_converged(core: &Core, fake: &Shared) {
    let fake = fake.lock().unwrap();
    for ((_, entity, field), (version, value)) in &fake.fields {
        let step = entity.strip_prefix("list/").unwrap();
        assert_eq!(
            local(core, step, field).as_ref(),
            Some(value),
            "{entity} {field}"
        );
        assert_eq!(known(core, step, field), *version, "{entity} {field}");
    }
    let ids: HashSet<&str> = fake.log.iter().map(|c| c.op_id.as_str()).collect();
    assert_eq!(ids.len(), fake.log.len(), "an operation applied twice");
}

fn cursors(core: &Core) -> (u64, Option<String>) {
    let conn = core.conn();
    (
        pull_cursor(&conn).unwrap(),
        state::get(&conn, state::COMMUNITY_CURSOR).unwrap(),
    )
}

#[test]
fn relay_addresses_allow_plain_http_on_a_lan_only() {
    for (typed, normalized) in [
        ("192.168.1.20:8787", "http://192.168.1.20:8787"),
        (" http://10.0.0.5:8787/ ", "http://10.0.0.5:8787"),
        ("http://trainer-laptop:8787", "http://trainer-laptop:8787"),
        ("relay.local:8787", "http://relay.local:8787"),
        ("http://[fd00::1]:8787", "http://[fd00::1]:8787"),
        ("http://100.72.1.9", "http://100.72.1.9"),
        ("https://relay.example.org", "https://relay.example.org"),
    ] {
        assert_eq!(normalize_relay_url(typed).unwrap(), normalized, "{typed}");
    }
    for public in ["http://8.8.8.8:8787", "http://relay.example.org"] {
        assert_eq!(
            normalize_relay_url(public).unwrap_err().code().as_str(),
            "insecure_url",
            "{public}"
        );
    }
    for bad in [
        "",
        "ftp://192.168.1.2",
        "http://user:pw@192.168.1.2",
        "http://",
    ] {
        assert_eq!(
            normalize_relay_url(bad).unwrap_err().code().as_str(),
            "relay_address_invalid",
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_direct_round_keeps_the_relay_credential_fresh() {
    let (url, _relay_url, _fake, net) = start_net().await;
    let (_d, core, client) = laptop(&url).await;
    assert_eq!(net.lock().unwrap().credentials_issued, 1);
    let expires = status(&core)
        .unwrap()
        .relay
        .map(|r| r.credential_expires_at);
    assert_eq!(expires, None, "no relay set: no relay status");
    sync_once(&core, &client, TOKEN).await.unwrap();
    assert_eq!(net.lock().unwrap().credentials_issued, 1, "still fresh");
    // Fewer than CREDENTIAL_RENEW_DAYS left: renewed.
    state::set(
        &core.conn(),
        "relay_credential_expires",
        &(now() + 3 * 86400).to_string(),
    )
    .unwrap();
    sync_once(&core, &client, TOKEN).await.unwrap();
    assert_eq!(net.lock().unwrap().credentials_issued, 2);

    // A server that does not give one: asked again hours later, not every round.
    state::set(&core.conn(), "relay_credential_expires", "1000").unwrap();
    net.lock().unwrap().device_keys.clear();
    let asked = || fake_requests(&net);
    let before = asked();
    sync_once(&core, &client, TOKEN).await.unwrap();
    sync_once(&core, &client, TOKEN).await.unwrap();
    assert_eq!(asked(), before + 1, "one failed ask, then a pause");
    assert!(
        status(&core).unwrap().last_error.is_none(),
        "sync itself went on"
    );
}

fn fake_requests(net: &NetShared) -> u32 {
    net.lock().unwrap().credential_asks
}

#[tokio::test]
async fn a_round_through_the_relay_holds_then_acknowledges() {
    let (url, relay_url, fake, net) = start_net().await;
    let (_d, core, _client) = laptop(&url).await;
    use_relay(&core, &relay_url).await.unwrap();
    others_write(&fake, "b", "note", json!("private, from a colleague"));
    others_write(
        &fake,
        COMMUNITY.strip_prefix("list/").unwrap(),
        "note",
        json!("community"),
    );

    // The uplink is down: the change waits at the relay.
    net.lock().unwrap().uplink = false;
    set_note(&core, "a", "typed at the workshop");
    let report = sync_through_relay(&core, &relay_url, TOKEN).await.unwrap();
    assert_eq!((report.sent, report.held, report.acknowledged), (1, 1, 0));
    let relay = status(&core).unwrap().relay.unwrap();
    assert_eq!(relay.address, relay_url);
    assert_eq!(relay.held, 1);
    assert_eq!(relay.uplink_reachable, Some(false));
    assert_eq!(pending_operations(&core).unwrap().len(), 1, "still queued");
    assert!(
        !fake
            .lock()
            .unwrap()
            .log
            .iter()
            .any(|c| c.entity.id == "list/a"),
        "not on the server yet"
    );

    // The uplink is back: the server's acknowledgement comes through the relay.
    net.lock().unwrap().uplink = true;
    let report = sync_through_relay(&core, &relay_url, TOKEN).await.unwrap();
    assert_eq!((report.acknowledged, report.held), (1, 0), "{report:?}");
    assert_eq!(report.pulled, 2, "the colleague's change and the echo");
    assert_eq!(report.community_pages, 1);
    let relay = status(&core).unwrap().relay.unwrap();
    assert_eq!((relay.held, relay.uplink_reachable), (0, Some(true)));
    assert_eq!(relay.last_contact, Some(1_800_000_000));
    assert_eq!(relay.community_signed_at, Some(1_800_000_000));
    assert!(pending_operations(&core).unwrap().is_empty());
    assert_converged(&core, &fake);
    assert!(report.bytes_sent > 0 && report.bytes_received > 0);
    let usage = meter::usage(&core).unwrap();
    assert!(usage.month_total > report.bytes_sent, "{usage:?}");

    // Clearing the relay: its status goes, the next round is direct.
    set_relay(&core, None).unwrap();
    assert_eq!(status(&core).unwrap().relay, None);
}

#[tokio::test]
async fn a_forged_reply_is_refused_and_nothing_applied() {
    let (url, relay_url, fake, net) = start_net().await;
    let (_d, core, _client) = laptop(&url).await;
    set_relay(&core, Some(&relay_url)).unwrap();
    others_write(&fake, "b", "done", json!(true));
    others_write(&fake, "c", "note", json!("community"));
    for mode in [RelayMode::ForgedReply, RelayMode::OtherDevice] {
        net.lock().unwrap().mode = mode;
        set_note(&core, "a", &format!("mine {mode:?}"));
        let before = (cursors(&core), pending_operations(&core).unwrap());
        let e = sync_through_relay(&core, &relay_url, TOKEN)
            .await
            .unwrap_err();
        assert_eq!(e.code().as_str(), "relay_forged", "{mode:?}: {e}");
        let after = (cursors(&core), pending_operations(&core).unwrap());
        assert_eq!(after.0, before.0, "{mode:?}: no cursor moved");
        assert_eq!(
            after.1.len(),
            before.1.len(),
            "{mode:?}: nothing acknowledged"
        );
        assert_eq!(local(&core, "b", "done"), None, "{mode:?}: nothing pulled");
        assert_eq!(
            local(&core, "c", "note"),
            None,
            "{mode:?}: no community page applied"
        );
        let last = status(&core).unwrap().last_error.unwrap();
        assert_eq!(last.code.as_str(), "relay_forged");
    }
    // An honest relay again: everything arrives, nothing twice.
    net.lock().unwrap().mode = RelayMode::Normal;
    sync_through_relay(&core, &relay_url, TOKEN).await.unwrap();
    sync_through_relay(&core, &relay_url, TOKEN).await.unwrap();
    assert!(pending_operations(&core).unwrap().is_empty());
    assert_converged(&core, &fake);
}

#[tokio::test]
async fn a_community_page_from_another_key_is_refused() {
    let (url, relay_url, fake, net) = start_net().await;
    let (_d, core, _client) = laptop(&url).await;
    set_relay(&core, Some(&relay_url)).unwrap();
    for n in 0..4 {
        others_write(&fake, "c", "note", json!(format!("community {n}")));
    }
    net.lock().unwrap().mode = RelayMode::ForeignPage;
    let e = sync_through_relay(&core, &relay_url, TOKEN)
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "relay_forged", "{e}");
    assert_eq!(
        local(&core, "c", "note"),
        None,
        "not even the first, good page"
    );
    assert_eq!(state::community_cursor(&core.conn()).unwrap(), 0);
}

#[tokio::test]
async fn a_gap_in_the_community_pages_stops_there() {
    let (url, relay_url, fake, net) = start_net().await;
    let (_d, core, _client) = laptop(&url).await;
    set_relay(&core, Some(&relay_url)).unwrap();
    for n in 0..4 {
        others_write(&fake, "c", "note", json!(format!("community {n}")));
    }
    others_write(&fake, "c", "done", json!(true));
    net.lock().unwrap().mode = RelayMode::Gap;
    let report = sync_through_relay(&core, &relay_url, TOKEN).await.unwrap();
    assert!(report.gap && report.more, "{report:?}");
    assert_eq!(report.community_pages, 0);
    assert_eq!(local(&core, "c", "done"), None, "nothing after the gap");
    assert_eq!(state::community_cursor(&core.conn()).unwrap(), 0);
    net.lock().unwrap().mode = RelayMode::Normal;
    let report = sync_through_relay(&core, &relay_url, TOKEN).await.unwrap();
    assert_eq!(report.community_pages, 3, "{report:?}");
    assert_converged(&core, &fake);
}

#[tokio::test]
async fn a_relay_of_another_server_or_no_relay_is_refused() {
    let (url, relay_url, _fake, net) = start_net().await;
    let (_d, core, _client) = laptop(&url).await;
    net.lock().unwrap().mode = RelayMode::OtherServer;
    let e = use_relay(&core, &relay_url).await.unwrap_err();
    assert_eq!(e.code().as_str(), "relay_other_server", "{e}");
    assert_eq!(relay_url_of(&core), None, "nothing set");
    // The e-community server itself is not a relay.
    let e = use_relay(&core, &url).await.unwrap_err();
    assert_eq!(e.code().as_str(), "not_a_relay", "{e}");
    // Set without a check: the round refuses it all the same.
    set_relay(&core, Some(&relay_url)).unwrap();
    let e = sync_through_relay(&core, &relay_url, TOKEN)
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "relay_other_server", "{e}");
    assert_eq!(
        net.lock().unwrap().relay_rounds,
        0,
        "nothing was sent to it"
    );
}

fn relay_url_of(core: &Core) -> Option<String> {
    relay::relay_url(&core.conn()).unwrap()
}

#[tokio::test]
async fn without_a_credential_a_relay_cannot_be_used() {
    let (url, relay_url, _fake, _net) = start_net().await;
    let secrets = MemoryStore::new();
    let (_d, core) = signed_in_core(&url, &secrets).await;
    let e = sync_through_relay(&core, &relay_url, TOKEN)
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "relay_credential_missing", "{e}");
    let client = SyncClient::new(&url).unwrap();
    sync_once(&core, &client, TOKEN).await.unwrap();
    state::set(&core.conn(), "relay_credential_expires", "1000").unwrap();
    let e = sync_through_relay(&core, &relay_url, TOKEN)
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "relay_credential_expired", "{e}");
    assert!(status(&core).unwrap().signed_in, "still signed in");
}

#[tokio::test]
async fn a_relay_cannot_sign_the_device_out() {
    let (url, relay_url, _fake, net) = start_net().await;
    let (_d, core, _client) = laptop(&url).await;
    net.lock().unwrap().mode = RelayMode::Unauthorized;
    let e = sync_through_relay(&core, &relay_url, TOKEN)
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "relay_credential_missing", "{e}");
    assert!(status(&core).unwrap().signed_in, "still signed in");
}

/// Relay → direct → relay, the two cursors apart in both directions when switching, with
/// colleagues writing throughout: every change arrives, none is applied twice.
#[tokio::test]
async fn relay_then_direct_then_relay_duplicates_nothing_and_loses_nothing() {
    let (url, relay_url, fake, net) = start_net().await;
    let (_d, core, client) = laptop(&url).await;
    set_relay(&core, Some(&relay_url)).unwrap();
    // Each round of colleagues' writes on fields of its own: a change skipped is not hidden
    // by a later one of the same field.
    let write_round = |n: u32| {
        others_write(
            &fake,
            &format!("b{n}"),
            "note",
            json!(format!("private {n}")),
        );
        others_write(
            &fake,
            &format!("c{n}"),
            "note",
            json!(format!("community {n}")),
        );
        others_write(&fake, &format!("c{n}"), "done", json!(true));
    };

    // 1. Through the relay, the community part held back (one page an answer): its cursor
    //    stays behind the private one.
    write_round(1);
    write_round(2);
    net.lock().unwrap().pages_per_answer = 1;
    set_note(&core, "a", "relay 1");
    let report = sync_through_relay(&core, &relay_url, TOKEN).await.unwrap();
    assert!(report.more, "{report:?}");
    let (private, community) = cursors(&core);
    let community: u64 = community.unwrap().parse().unwrap();
    assert!(community < private, "{community} < {private}");

    // 2. Directly: from the lower cursor, then one cursor again.
    write_round(3);
    set_note(&core, "a", "direct");
    sync_once(&core, &client, TOKEN).await.unwrap();
    assert_eq!(cursors(&core).1, None, "one cursor again");
    assert!(pending_operations(&core).unwrap().is_empty());
    assert_converged(&core, &fake);

    // 3. Through the relay again, now the private part held back (one change a reply) and
    //    the uplink lost for a round: the community cursor runs ahead.
    net.lock().unwrap().pages_per_answer = 100;
    net.lock().unwrap().reply_limit = 1;
    write_round(4);
    net.lock().unwrap().uplink = false;
    set_note(&core, "a", "relay 2, held");
    let report = sync_through_relay(&core, &relay_url, TOKEN).await.unwrap();
    assert_eq!(report.held, 1);
    net.lock().unwrap().uplink = true;
    write_round(5);
    sync_through_relay(&core, &relay_url, TOKEN).await.unwrap();
    let (private, community) = cursors(&core);
    let community: u64 = community.unwrap().parse().unwrap();
    assert!(private < community, "{private} < {community}");

    // 4. Directly again, then the relay until up to date.
    write_round(6);
    sync_once(&core, &client, TOKEN).await.unwrap();
    assert_converged(&core, &fake);
    net.lock().unwrap().reply_limit = 100;
    write_round(7);
    set_note(&core, "a", "relay 3");
    let report = sync_through_relay(&core, &relay_url, TOKEN).await.unwrap();
    assert_eq!(report.acknowledged, 1);
    sync_through_relay(&core, &relay_url, TOKEN).await.unwrap();
    assert!(pending_operations(&core).unwrap().is_empty());
    assert_converged(&core, &fake);
    let fake = fake.lock().unwrap();
    let mine: Vec<&Change> = fake
        .log
        .iter()
        .filter(|c| c.entity.id == "list/a")
        .collect();
    assert_eq!(mine.len(), 4, "each of this laptop's edits applied once");
}
