//! The endpoints a workshop relay and the app's relay mode use: a sealed sync file over
//! HTTP, the server's key, a device credential, and signed community pages for a relay a
//! device gave leave to.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use stopover_protocol::relay::{
    self, CREDENTIAL_DAYS, CommunityPage, CommunityPull, CredentialResponse, DeviceCredential,
    GRANT_DAYS, PackPull, RelayGrant,
};
use stopover_protocol::sync_file::{
    self, DeviceChanges, FeedPart, FileKind, SyncFileReply, device_file_seed,
};
use stopover_protocol::{EntityRef, Operation, Outcome, PROTOCOL_VERSION, Role};

use super::{PASSWORD, TestServer, assert_error};
use crate::db::unix_now;

struct Device {
    token: String,
    id: String,
    key: SigningKey,
}

/// Signs `username` in on a new device and registers its file key.
async fn device(s: &TestServer, username: &str) -> Device {
    let body = json!({"username": username, "password": PASSWORD, "device_name": "laptop"});
    let (status, body) = s.send(Method::POST, "/v1/sessions", None, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    let key = SigningKey::from_bytes(&device_file_seed(&token));
    let (status, body) = s
        .send(
            Method::PUT,
            "/v1/sync/file-key",
            Some(&token),
            Some(json!({"public_key": sync_file::to_hex(key.verifying_key().as_bytes())})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Device {
        token,
        id: String::new(),
        key,
    }
    .with_id_from(s)
    .await
}

impl Device {
    /// The device id, from the device row its file key names.
    async fn with_id_from(mut self, s: &TestServer) -> Self {
        let key = *self.key.verifying_key().as_bytes();
        self.id = s
            .state
            .db
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT id FROM device WHERE file_key = ?1",
                    [key.as_slice()],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        self
    }

    fn changes(&self, ops: Vec<Operation>, feed: FeedPart) -> Vec<u8> {
        let changes = DeviceChanges {
            protocol: PROTOCOL_VERSION,
            device_id: self.id.clone(),
            username: "amina".into(),
            written_at: unix_now(),
            ops,
            cursor: 0,
            feed,
        };
        sync_file::seal(FileKind::Changes, &self.key, &changes)
    }

    fn grant(&self, relay: &SigningKey, expires_at: i64) -> String {
        let grant = RelayGrant {
            protocol: PROTOCOL_VERSION,
            device_id: self.id.clone(),
            relay_key: sync_file::to_hex(relay.verifying_key().as_bytes()),
            expires_at,
        };
        relay::encode(&sync_file::seal(FileKind::Grant, &self.key, &grant))
    }
}

fn op(n: u32, entity: &str) -> Operation {
    Operation {
        id: format!("01939a2b-7c4d-7e8f-9a0b-{n:012}"),
        entity: EntityRef {
            kind: "checklist_progress".into(),
            id: entity.into(),
        },
        field: "done".into(),
        base_version: 0,
        value: json!(true),
    }
}

fn relay_request(relay: &SigningKey, cursor: u64, written_at: i64) -> String {
    waiting_request(relay, cursor, written_at, 0)
}

fn waiting_request(relay: &SigningKey, cursor: u64, written_at: i64, wait_secs: u32) -> String {
    community_request(relay, cursor, written_at, wait_secs, None)
}

fn community_request(
    relay: &SigningKey,
    cursor: u64,
    written_at: i64,
    wait_secs: u32,
    known_pack: Option<&str>,
) -> String {
    let pull = CommunityPull {
        protocol: PROTOCOL_VERSION,
        cursor,
        limit: 100,
        written_at,
        wait_secs,
        known_pack: known_pack.map(str::to_string),
    };
    relay::encode(&sync_file::seal(FileKind::CommunityPull, relay, &pull))
}

/// Posts bytes; returns the status, headers, and the body (bytes, and as JSON when it is).
async fn post_bytes(
    s: &TestServer,
    path: &str,
    content_type: &str,
    encoding: Option<&str>,
    bytes: Vec<u8>,
) -> (StatusCode, HeaderMap, Vec<u8>, Value) {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT_ENCODING, "gzip");
    if let Some(e) = encoding {
        req = req.header(header::CONTENT_ENCODING, e);
    }
    let res = s.raw(req.body(Body::from(bytes)).unwrap()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let mut body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    // JSON answers (errors) are compressed as asked; sealed files never are.
    if headers.get(header::CONTENT_ENCODING).is_some() {
        assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
        assert_ne!(headers[header::CONTENT_TYPE], "application/octet-stream");
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut plain)
            .unwrap();
        body = plain;
    }
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, headers, body, json)
}

async fn post_file(s: &TestServer, file: Vec<u8>) -> (StatusCode, HeaderMap, Vec<u8>, Value) {
    post_bytes(s, "/v1/sync/file", "application/octet-stream", None, file).await
}

async fn server_key(s: &TestServer) -> ed25519_dalek::VerifyingKey {
    let (status, body) = s.send(Method::GET, "/v1/sync/server-key", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["protocol"], PROTOCOL_VERSION);
    sync_file::parse_key(body["server_key"].as_str().unwrap()).unwrap()
}

async fn community_post(s: &TestServer, id: &str) {
    let id = id.to_string();
    s.state
        .db
        .write(move |c| {
            crate::records::feed::write_server_record(
                c,
                crate::auth::policy::COMMUNITY_KEY,
                "forum_post",
                &id,
                "body",
                &json!("hello"),
            )
        })
        .await
        .unwrap();
}

fn error(got: &(StatusCode, HeaderMap, Vec<u8>, Value), status: StatusCode, code: &str) {
    assert_error(&(got.0, got.3.clone()), status, code);
}

async fn sync_file_audits(s: &TestServer) -> i64 {
    s.state
        .db
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM audit WHERE action = 'sync.file' AND source = '192.0.2.10'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_file_posted_twice_applies_once_and_the_reply_is_signed() {
    let s = TestServer::new().await;
    s.user("amina", Role::Nfp, Some("KE")).await;
    let laptop = device(&s, "amina").await;
    let office = device(&s, "amina").await;
    community_post(&s, "p1").await;
    // The office's change: the laptop's reply carries it; the community's post it does not
    // (a private file), nor the laptop's own change.
    let office_file = office.changes(vec![op(1, "l/office")], FeedPart::All);
    assert_eq!(post_file(&s, office_file).await.0, StatusCode::OK);
    let file = laptop.changes(vec![op(2, "l/laptop")], FeedPart::Private);
    let server = server_key(&s).await;

    let first = post_file(&s, file.clone()).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.3);
    assert_eq!(first.1[header::CONTENT_TYPE], "application/octet-stream");
    assert!(first.1.get(header::CONTENT_ENCODING).is_none());
    let reply: SyncFileReply = sync_file::envelope(&first.2, FileKind::Reply)
        .unwrap()
        .open(&server)
        .unwrap();
    assert_eq!(reply.device_id, laptop.id);
    assert_eq!(reply.answers, sync_file::file_digest(&file));
    assert!(matches!(reply.results[0].outcome, Outcome::Applied { .. }));
    let ids: Vec<&str> = reply
        .pull
        .changes
        .iter()
        .map(|c| c.entity.id.as_str())
        .collect();
    assert_eq!(ids, vec!["l/office"]);

    // Forwarded again (a relay's retry), gzip-encoded this time: nothing applied twice.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &file).unwrap();
    let again = post_bytes(
        &s,
        "/v1/sync/file",
        "application/octet-stream",
        Some("gzip"),
        gz.finish().unwrap(),
    )
    .await;
    assert_eq!(again.0, StatusCode::OK, "{}", again.3);
    let reply: SyncFileReply = sync_file::envelope(&again.2, FileKind::Reply)
        .unwrap()
        .open(&server)
        .unwrap();
    assert!(
        matches!(reply.results[0].outcome, Outcome::Duplicate { .. }),
        "{:?}",
        reply.results
    );
    assert_eq!(s.count("change").await, 3, "office, laptop, the post");
    // Logged when it applied something, from the relay's address: the office's and the
    // laptop's first, not the retry.
    assert_eq!(sync_file_audits(&s).await, 2);
}

#[tokio::test]
async fn bad_files_are_refused_with_their_reason_and_apply_nothing() {
    let s = TestServer::new().await;
    s.user("amina", Role::Nfp, Some("KE")).await;
    let laptop = device(&s, "amina").await;
    let file = laptop.changes(vec![op(1, "l/a")], FeedPart::Private);
    let before = s.snapshot().await;

    let mut tampered = file.clone();
    let at = tampered.len() - 70;
    tampered[at] ^= 1;
    error(
        &post_file(&s, tampered).await,
        StatusCode::BAD_REQUEST,
        "sync_file_tampered",
    );
    error(
        &post_file(&s, file[..file.len() - 10].to_vec()).await,
        StatusCode::BAD_REQUEST,
        "sync_file_truncated",
    );
    error(
        &post_file(&s, b"PK\x03\x04 a zip".to_vec()).await,
        StatusCode::BAD_REQUEST,
        "sync_file_not_ours",
    );
    let stranger = SigningKey::from_bytes(&[9; 32]);
    let foreign = sync_file::seal(
        FileKind::Changes,
        &stranger,
        &DeviceChanges {
            protocol: PROTOCOL_VERSION,
            device_id: laptop.id.clone(),
            username: "amina".into(),
            written_at: 0,
            ops: vec![op(2, "l/b")],
            cursor: 0,
            feed: FeedPart::Private,
        },
    );
    error(
        &post_file(&s, foreign).await,
        StatusCode::BAD_REQUEST,
        "sync_file_foreign",
    );
    error(
        &post_file(&s, laptop.changes(vec![op(3, "l/c")], FeedPart::Community)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    error(
        &post_bytes(&s, "/v1/sync/file", "application/json", None, file.clone()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    assert_eq!(s.snapshot().await, before);
    // The good one still goes.
    assert_eq!(post_file(&s, file).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_signed_out_devices_file_and_credential_are_refused() {
    let s = TestServer::new().await;
    s.user("amina", Role::Nfp, Some("KE")).await;
    let laptop = device(&s, "amina").await;
    let (status, body) = s
        .send(
            Method::GET,
            "/v1/sync/credential",
            Some(&laptop.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = laptop.changes(vec![op(1, "l/a")], FeedPart::Private);
    let (status, _) = s
        .send(
            Method::DELETE,
            "/v1/sessions/current",
            Some(&laptop.token),
            None,
        )
        .await;
    assert!(status.is_success(), "{status}");
    let before = s.snapshot().await;
    error(
        &post_file(&s, file).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );
    assert_error(
        &s.send(
            Method::GET,
            "/v1/sync/credential",
            Some(&laptop.token),
            None,
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn a_credential_names_the_device_and_its_key_and_opens_with_the_server_key() {
    let s = TestServer::new().await;
    let token = s.user("amina", Role::Nfp, Some("KE")).await;
    // No file key registered yet.
    assert_error(
        &s.send(Method::GET, "/v1/sync/credential", Some(&token), None)
            .await,
        StatusCode::CONFLICT,
        "file_key_missing",
    );
    assert_error(
        &s.send(Method::GET, "/v1/sync/credential", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let laptop = device(&s, "amina").await;
    let (status, body) = s
        .send(
            Method::GET,
            "/v1/sync/credential",
            Some(&laptop.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: CredentialResponse = serde_json::from_value(body).unwrap();
    let server = server_key(&s).await;
    assert_eq!(answer.server_key, sync_file::to_hex(server.as_bytes()));
    let bytes = relay::decode(&answer.credential).unwrap();
    let cred: DeviceCredential = sync_file::envelope(&bytes, FileKind::Credential)
        .unwrap()
        .open(&server)
        .unwrap();
    assert_eq!(cred.device_id, laptop.id);
    assert_eq!(cred.username, "amina");
    assert_eq!(
        cred.device_key,
        sync_file::to_hex(laptop.key.verifying_key().as_bytes())
    );
    assert_eq!(
        cred.expires_at - cred.issued_at,
        CREDENTIAL_DAYS * 24 * 3600
    );
    assert_eq!(answer.expires_at, cred.expires_at);
    assert!((cred.issued_at - unix_now()).abs() < 60);
}

async fn community(s: &TestServer, grant: String, request: String) -> (StatusCode, Vec<u8>, Value) {
    let body = json!({"grant": grant, "request": request}).to_string();
    let got = post_bytes(
        s,
        "/v1/relay/community",
        "application/json",
        None,
        body.into_bytes(),
    )
    .await;
    (got.0, got.2, got.3)
}

#[tokio::test]
async fn a_granted_relay_gets_the_community_page_signed_by_the_server() {
    let s = TestServer::new().await;
    s.user("amina", Role::Nfp, Some("KE")).await;
    let laptop = device(&s, "amina").await;
    let relay_key = SigningKey::from_bytes(&[5; 32]);
    community_post(&s, "p1").await;
    // A private change between two community posts: not the community page's.
    let file = laptop.changes(vec![op(1, "l/private")], FeedPart::Private);
    assert_eq!(post_file(&s, file).await.0, StatusCode::OK);
    community_post(&s, "p2").await;
    let now = unix_now();
    let (status, bytes, json) = community(
        &s,
        laptop.grant(&relay_key, now + GRANT_DAYS * 24 * 3600),
        relay_request(&relay_key, 0, now),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let server = server_key(&s).await;
    let page: CommunityPage = sync_file::envelope(&bytes, FileKind::CommunityPage)
        .unwrap()
        .open(&server)
        .unwrap();
    let ids: Vec<&str> = page
        .pull
        .changes
        .iter()
        .map(|c| c.entity.id.as_str())
        .collect();
    assert_eq!(ids, vec!["p1", "p2"]);
    assert_eq!(page.from_cursor, 0);
    assert!((page.signed_at - now).abs() < 60);
    assert!(!page.pull.more);
    // From the page's cursor: nothing more.
    let (status, bytes, _) = community(
        &s,
        laptop.grant(&relay_key, now + 3600),
        relay_request(&relay_key, page.pull.cursor, now),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let next: CommunityPage = sync_file::envelope(&bytes, FileKind::CommunityPage)
        .unwrap()
        .open(&server)
        .unwrap();
    assert!(next.pull.changes.is_empty());
    assert_eq!(next.from_cursor, page.pull.cursor);
}

/// A relay asking to wait is answered at once when something is new, as soon as something
/// comes while it waits, and with an empty page once the wait is over.
#[tokio::test]
async fn a_waiting_community_pull_answers_news_at_once_and_quiet_after_the_wait() {
    let s = TestServer::new().await;
    s.user("amina", Role::Nfp, Some("KE")).await;
    let laptop = device(&s, "amina").await;
    let relay_key = SigningKey::from_bytes(&[5; 32]);
    community_post(&s, "p1").await;
    let now = unix_now();
    let grant = laptop.grant(&relay_key, now + 3600);
    let server = server_key(&s).await;
    let open = |bytes: &[u8]| -> CommunityPage {
        sync_file::envelope(bytes, FileKind::CommunityPage)
            .unwrap()
            .open(&server)
            .unwrap()
    };

    let started = std::time::Instant::now();
    let (_, bytes, _) = community(&s, grant.clone(), waiting_request(&relay_key, 0, now, 20)).await;
    let first = open(&bytes);
    assert_eq!(first.pull.changes.len(), 1);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "news is not held"
    );

    // Nothing new for 2 s: an empty page after about 2 s.
    let started = std::time::Instant::now();
    let (_, bytes, _) = community(
        &s,
        grant.clone(),
        waiting_request(&relay_key, first.pull.cursor, now, 2),
    )
    .await;
    assert!(open(&bytes).pull.changes.is_empty());
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_millis(1000) && took < std::time::Duration::from_secs(4),
        "{took:?}"
    );

    // A post arrives while the relay waits: it comes within a second or so, not after the wait.
    let writer = {
        let s = s.state.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
            s.db.write(|c| {
                crate::records::feed::write_server_record(
                    c,
                    crate::auth::policy::COMMUNITY_KEY,
                    "forum_post",
                    "p2",
                    "body",
                    &json!("news"),
                )
            })
            .await
            .unwrap();
        })
    };
    let started = std::time::Instant::now();
    let (_, bytes, _) = community(
        &s,
        grant,
        waiting_request(&relay_key, first.pull.cursor, now, 20),
    )
    .await;
    writer.await.unwrap();
    let news = open(&bytes);
    assert_eq!(news.pull.changes.len(), 1, "the new post");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn forged_expired_and_foreign_grants_and_requests_are_refused() {
    let s = TestServer::new().await;
    s.user("amina", Role::Nfp, Some("KE")).await;
    let laptop = device(&s, "amina").await;
    let office = device(&s, "amina").await;
    community_post(&s, "p1").await;
    let relay_key = SigningKey::from_bytes(&[5; 32]);
    let other_relay = SigningKey::from_bytes(&[6; 32]);
    let now = unix_now();
    let good_grant = laptop.grant(&relay_key, now + 3600);
    let good_request = relay_request(&relay_key, 0, now);
    let refused = |got: (StatusCode, Vec<u8>, Value), status: StatusCode, code: &str| {
        assert_error(&(got.0, got.2), status, code);
    };

    // Forged: one byte of a good grant changed.
    let mut forged = relay::decode(&good_grant).unwrap();
    let at = forged.len() - 70;
    forged[at] ^= 1;
    refused(
        community(&s, relay::encode(&forged), good_request.clone()).await,
        StatusCode::FORBIDDEN,
        "grant_invalid",
    );
    // Foreign: signed by a key no device registered.
    let stranger = Device {
        token: String::new(),
        id: laptop.id.clone(),
        key: SigningKey::from_bytes(&[9; 32]),
    };
    refused(
        community(
            &s,
            stranger.grant(&relay_key, now + 3600),
            good_request.clone(),
        )
        .await,
        StatusCode::FORBIDDEN,
        "grant_invalid",
    );
    // Signed by the office's key, naming the laptop.
    let mislabelled = Device {
        token: String::new(),
        id: laptop.id.clone(),
        key: office.key.clone(),
    };
    refused(
        community(
            &s,
            mislabelled.grant(&relay_key, now + 3600),
            good_request.clone(),
        )
        .await,
        StatusCode::FORBIDDEN,
        "grant_invalid",
    );
    // Not base64.
    refused(
        community(&s, "not base64!".into(), good_request.clone()).await,
        StatusCode::FORBIDDEN,
        "grant_invalid",
    );
    // Expired, and lasting longer than a grant may.
    refused(
        community(&s, laptop.grant(&relay_key, now - 1), good_request.clone()).await,
        StatusCode::FORBIDDEN,
        "grant_expired",
    );
    refused(
        community(
            &s,
            laptop.grant(&relay_key, now + (GRANT_DAYS + 2) * 24 * 3600),
            good_request.clone(),
        )
        .await,
        StatusCode::FORBIDDEN,
        "grant_expired",
    );
    // A request signed by another key than the grant names.
    refused(
        community(&s, good_grant.clone(), relay_request(&other_relay, 0, now)).await,
        StatusCode::FORBIDDEN,
        "relay_request_invalid",
    );
    // A grant passed off as the request.
    refused(
        community(&s, good_grant.clone(), good_grant.clone()).await,
        StatusCode::FORBIDDEN,
        "relay_request_invalid",
    );
    // A request written two days ago (a copied one, replayed).
    let old = community(
        &s,
        good_grant.clone(),
        relay_request(&relay_key, 0, now - 2 * 24 * 3600),
    )
    .await;
    assert_eq!(old.2["params"]["max_skew"], 24 * 3600);
    refused(old, StatusCode::FORBIDDEN, "relay_clock_skew");
    // The good pair passes; once the laptop signs out, its grant no longer does.
    assert_eq!(
        community(&s, good_grant.clone(), good_request.clone())
            .await
            .0,
        StatusCode::OK
    );
    let (status, _) = s
        .send(
            Method::DELETE,
            "/v1/sessions/current",
            Some(&laptop.token),
            None,
        )
        .await;
    assert!(status.is_success());
    refused(
        community(&s, good_grant, good_request).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );
}

#[tokio::test]
async fn files_and_community_pulls_are_shed_and_files_charged_to_the_write_budget() {
    let s = TestServer::with_config(crate::state::Config {
        max_inflight_syncs: 1,
        write_budget_per_hour: 400,
        ..crate::state::Config::default()
    })
    .await;
    s.user("amina", Role::Nfp, Some("KE")).await;
    let laptop = device(&s, "amina").await;
    let relay_key = SigningKey::from_bytes(&[5; 32]);
    let now = unix_now();
    let file = laptop.changes(vec![op(1, "l/a")], FeedPart::Private);
    {
        let _held = s.state.sync_slots.try_enter().unwrap();
        error(
            &post_file(&s, file.clone()).await,
            StatusCode::TOO_MANY_REQUESTS,
            "busy",
        );
        let got = community(
            &s,
            laptop.grant(&relay_key, now + 3600),
            relay_request(&relay_key, 0, now),
        )
        .await;
        assert_error(&(got.0, got.2), StatusCode::TOO_MANY_REQUESTS, "busy");
    }
    assert_eq!(post_file(&s, file).await.0, StatusCode::OK);
    // A file past what the account may still write this hour: refused, nothing applied.
    let mut big = op(2, "l/b");
    big.field = "note".into();
    big.value = json!("x".repeat(600));
    let before = s.snapshot().await;
    let got = post_file(&s, laptop.changes(vec![big], FeedPart::Private)).await;
    error(&got, StatusCode::TOO_MANY_REQUESTS, "too_many_writes");
    assert!(got.1.contains_key(header::RETRY_AFTER));
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn a_file_over_the_body_limit_is_too_large() {
    let s = TestServer::new().await;
    let body = vec![0u8; stopover_protocol::MAX_BODY_BYTES + 1];
    error(
        &post_file(&s, body).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
}

#[tokio::test]
async fn a_reply_over_http_stops_after_a_few_pages_and_the_next_round_brings_the_rest() {
    let s = TestServer::new().await;
    s.user("amina", Role::Nfp, Some("KE")).await;
    let laptop = device(&s, "amina").await;
    let office = device(&s, "amina").await;
    let many = crate::sync::file::MAX_HTTP_REPLY_CHANGES + 50;
    let ops = (0..many as u32).map(|n| op(n, &format!("l/{n}"))).collect();
    assert_eq!(
        post_file(&s, office.changes(ops, FeedPart::All)).await.0,
        StatusCode::OK
    );
    let server = server_key(&s).await;
    let round = |cursor: u64| {
        let changes = DeviceChanges {
            protocol: PROTOCOL_VERSION,
            device_id: laptop.id.clone(),
            username: "amina".into(),
            written_at: unix_now(),
            ops: Vec::new(),
            cursor,
            feed: FeedPart::Private,
        };
        sync_file::seal(FileKind::Changes, &laptop.key, &changes)
    };
    let first = post_file(&s, round(0)).await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.3);
    let first: SyncFileReply = sync_file::envelope(&first.2, FileKind::Reply)
        .unwrap()
        .open(&server)
        .unwrap();
    assert_eq!(
        first.pull.changes.len(),
        crate::sync::file::MAX_HTTP_REPLY_CHANGES
    );
    assert!(first.pull.more);
    let second = post_file(&s, round(first.pull.cursor)).await;
    let second: SyncFileReply = sync_file::envelope(&second.2, FileKind::Reply)
        .unwrap()
        .open(&server)
        .unwrap();
    assert_eq!((second.pull.changes.len(), second.pull.more), (50, false));
}

fn pack_request(relay: &SigningKey, version: &str, written_at: i64) -> String {
    let pull = PackPull {
        protocol: PROTOCOL_VERSION,
        version: version.into(),
        written_at,
    };
    relay::encode(&sync_file::seal(FileKind::PackPull, relay, &pull))
}

/// A community page names the latest pack when the relay knows another (or none), and a
/// granted relay fetches its archive with a `PackPull` signed by its key: exactly the
/// published bytes, never compressed again.
#[tokio::test]
async fn a_granted_relay_learns_of_a_pack_and_fetches_its_archive() {
    let s = TestServer::new().await;
    s.user("amina", Role::Nfp, Some("KE")).await;
    let laptop = device(&s, "amina").await;
    let relay_key = SigningKey::from_bytes(&[5; 32]);
    let now = unix_now();
    let grant = || laptop.grant(&relay_key, now + 3600);
    let page_naming = |known| community_request(&relay_key, 0, now, 0, known);
    let server = server_key(&s).await;
    let open = |bytes: &[u8]| -> CommunityPage {
        sync_file::envelope(bytes, FileKind::CommunityPage)
            .unwrap()
            .open(&server)
            .unwrap()
    };

    // Nothing published: no pack named, none to fetch.
    let (status, bytes, _) = community(&s, grant(), page_naming(None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(open(&bytes).pack, None);
    let got = relay_pack(&s, grant(), pack_request(&relay_key, "2026.12.0", now)).await;
    error(&got, StatusCode::NOT_FOUND, "no_pack");

    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("pack.key");
    crate::packs::keygen(&key_file).unwrap();
    let release = super::packs::publish(&s, &key_file, "2026.12.0").unwrap();

    let (_, bytes, _) = community(&s, grant(), page_naming(None)).await;
    assert_eq!(open(&bytes).pack.as_ref(), Some(&release));
    let (_, bytes, _) = community(&s, grant(), page_naming(Some("2026.11.0"))).await;
    assert_eq!(open(&bytes).pack.as_ref(), Some(&release));
    let (_, bytes, _) = community(&s, grant(), page_naming(Some("2026.12.0"))).await;
    assert_eq!(
        open(&bytes).pack,
        None,
        "a pack the relay knows is not named again"
    );

    let got = relay_pack(&s, grant(), pack_request(&relay_key, "2026.12.0", now)).await;
    assert_eq!(got.0, StatusCode::OK);
    assert!(got.1.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(got.2.len() as u64, release.size);
    use sha2::Digest;
    assert_eq!(
        stopover_protocol::files::hex(&sha2::Sha256::digest(&got.2)),
        release.sha256
    );

    // Forged or out of place: refused with their own codes.
    let other = SigningKey::from_bytes(&[6; 32]);
    let got = relay_pack(&s, grant(), pack_request(&other, "2026.12.0", now)).await;
    error(&got, StatusCode::FORBIDDEN, "relay_request_invalid");
    let got = relay_pack(&s, grant(), relay_request(&relay_key, 0, now)).await;
    error(&got, StatusCode::FORBIDDEN, "relay_request_invalid");
    let got = relay_pack(
        &s,
        grant(),
        pack_request(&relay_key, "2026.12.0", now - 3 * 24 * 3600),
    )
    .await;
    error(&got, StatusCode::FORBIDDEN, "relay_clock_skew");
    let got = relay_pack(&s, grant(), pack_request(&relay_key, "../../etc", now)).await;
    error(&got, StatusCode::NOT_FOUND, "no_pack");
    let got = relay_pack(
        &s,
        "bm9wZQ==".into(),
        pack_request(&relay_key, "2026.12.0", now),
    )
    .await;
    error(&got, StatusCode::FORBIDDEN, "grant_invalid");
}

async fn relay_pack(
    s: &TestServer,
    grant: String,
    request: String,
) -> (StatusCode, HeaderMap, Vec<u8>, Value) {
    let body = json!({"grant": grant, "request": request}).to_string();
    post_bytes(
        s,
        "/v1/relay/pack",
        "application/json",
        None,
        body.into_bytes(),
    )
    .await
}
