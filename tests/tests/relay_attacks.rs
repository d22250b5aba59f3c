//! The workshop relay against hostile and careless laptops on the venue's LAN, with the real
//! `ecommunity relay` and the real server: forged passes, pushes signed by someone else,
//! grants for another relay, repeated and parallel rounds, huge and compressed bodies, a kill
//! while pushes are held. Nothing forged is kept or forwarded; nothing is applied twice.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use reqwest::Method;
use stopover_protocol::relay::{
    self, CredentialResponse, DeviceCredential, RelayGrant, RelayInfo, RelaySyncRequest,
    RelaySyncResponse,
};
use stopover_protocol::sync_file::{
    self, DeviceChanges, FeedPart, FileKeyRequest, FileKind, SyncFileReply,
};
use stopover_protocol::{Operation, Outcome, PROTOCOL_VERSION};
use stopover_tests::api::{Api, Body, eventually, fresh_ops, gzip};
use stopover_tests::proxy::{Fault, Proxy};
use stopover_tests::relay::Relay;
use stopover_tests::server::{NewUser, Server};

/// A signed-in laptop as the relay sees it: its keys and its pass.
struct Laptop {
    device_id: String,
    key: SigningKey,
    credential: String,
    server_key: ed25519_dalek::VerifyingKey,
}

async fn laptop(server: &Server, user: &NewUser) -> Laptop {
    let signed = server.signed_in(user).await;
    let api = Api::new(&server.base_url).with_token(&signed.token);
    let key = SigningKey::from_bytes(&sync_file::device_file_seed(&signed.token));
    let body = serde_json::to_value(FileKeyRequest {
        public_key: sync_file::to_hex(key.verifying_key().as_bytes()),
    })
    .unwrap();
    let put = api
        .request(Method::PUT, "/v1/sync/file-key", Body::Json(body), &[])
        .await
        .unwrap();
    assert_eq!(put.status, 200, "{}", put.describe());
    let cred: CredentialResponse = api
        .get("/v1/sync/credential")
        .await
        .unwrap()
        .json()
        .unwrap();
    Laptop {
        device_id: signed.device_id,
        key,
        credential: cred.credential,
        server_key: sync_file::parse_key(&cred.server_key).unwrap(),
    }
}

async fn relay_key(relay: &Api) -> String {
    let info: RelayInfo = relay.get("/v1/relay/info").await.unwrap().json().unwrap();
    assert!(info.relay);
    info.relay_key
}

fn round(laptop: &Laptop, relay_key: &str, ops: Vec<Operation>) -> RelaySyncRequest {
    let changes = DeviceChanges {
        protocol: PROTOCOL_VERSION,
        device_id: laptop.device_id.clone(),
        username: String::new(),
        written_at: 0,
        ops,
        cursor: 0,
        feed: FeedPart::Private,
    };
    let grant = RelayGrant {
        protocol: PROTOCOL_VERSION,
        device_id: laptop.device_id.clone(),
        relay_key: relay_key.to_string(),
        expires_at: i64::MAX / 2,
    };
    RelaySyncRequest {
        protocol: PROTOCOL_VERSION,
        credential: laptop.credential.clone(),
        changes: relay::encode(&sync_file::seal(FileKind::Changes, &laptop.key, &changes)),
        grant: relay::encode(&sync_file::seal(FileKind::Grant, &laptop.key, &grant)),
        community_cursor: 0,
        pack_version: None,
    }
}

async fn send(relay: &Api, req: &RelaySyncRequest) -> stopover_tests::api::Reply {
    relay
        .post_json("/v1/relay/sync", &serde_json::to_value(req).unwrap())
        .await
        .unwrap()
}

/// Rounds until the server has answered every operation of `req`; the answers by op id.
async fn until_answered(
    relay: &Api,
    laptop: &Laptop,
    req: &RelaySyncRequest,
) -> Vec<(String, Outcome)> {
    eventually(
        Duration::from_secs(60),
        "the relay brings the server's answer",
        || async {
            let reply = send(relay, req).await;
            assert_eq!(reply.status, 200, "{}", reply.describe());
            let answer: RelaySyncResponse = reply.json().unwrap();
            if !answer.held.is_empty() {
                return None;
            }
            let sealed = relay::decode(answer.reply.as_ref()?).unwrap();
            let opened: SyncFileReply = sync_file::envelope(&sealed, FileKind::Reply)
                .unwrap()
                .open(&laptop.server_key)
                .expect("the reply is the server's");
            Some(
                opened
                    .results
                    .into_iter()
                    .map(|r| (r.id, r.outcome))
                    .collect(),
            )
        },
    )
    .await
}

fn changes_of(server: &Server, op_ids: &[String]) -> usize {
    let db = rusqlite::Connection::open(server.data_dir().join("ecommunity.sqlite3")).unwrap();
    op_ids
        .iter()
        .map(|id| {
            db.query_row("SELECT count(*) FROM change WHERE op_id = ?1", [id], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap() as usize
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_passes_foreign_signatures_and_wrong_grants_are_refused_and_nothing_is_kept() {
    let server = Server::start();
    let (amina, baraka) = (NewUser::nfp("amina", "KE"), NewUser::nfp("baraka", "SN"));
    let a = laptop(&server, &amina).await;
    let b = laptop(&server, &baraka).await;
    let relay = Relay::start(&server.base_url, &[]);
    let api = Api::new(&relay.url());
    let key = eventually(
        Duration::from_secs(20),
        "the relay learns the server's key",
        || async {
            let info: RelayInfo = api.get("/v1/relay/info").await.ok()?.json().ok()?;
            info.server_key.map(|_| info.relay_key)
        },
    )
    .await;
    let ops = fresh_ops("cms-cop-credentials", 2);
    let good = round(&a, &key, ops.clone());

    // A pass the server never signed: a laptop's own key vouching for itself.
    let mut forged = good.clone();
    let self_signed = DeviceCredential {
        protocol: PROTOCOL_VERSION,
        device_id: a.device_id.clone(),
        username: "amina".into(),
        device_key: sync_file::to_hex(a.key.verifying_key().as_bytes()),
        issued_at: 0,
        expires_at: i64::MAX / 2,
    };
    forged.credential = relay::encode(&sync_file::seal(FileKind::Credential, &a.key, &self_signed));
    let r = send(&api, &forged).await;
    assert_eq!(
        (r.status, r.error_body().unwrap().code.as_str()),
        (401, "unauthenticated"),
        "{}",
        r.describe()
    );

    // Amina's pass with Baraka's push, and with a grant Baraka signed.
    let mut swapped = good.clone();
    swapped.changes = round(&b, &key, ops.clone()).changes;
    let r = send(&api, &swapped).await;
    assert_eq!(
        (r.status, r.error_body().unwrap().code.as_str()),
        (422, "invalid_request"),
        "{}",
        r.describe()
    );
    let mut other_grant = good.clone();
    other_grant.grant = round(&b, &key, vec![]).grant;
    assert_eq!(send(&api, &other_grant).await.status, 422);
    // A grant for another relay.
    let stranger = sync_file::to_hex(SigningKey::from_bytes(&[9; 32]).verifying_key().as_bytes());
    let mut elsewhere = good.clone();
    elsewhere.grant = round(&a, &stranger, vec![]).grant;
    assert_eq!(send(&api, &elsewhere).await.status, 422);
    // A byte changed in the push.
    let mut tampered = good.clone();
    let mut bytes = relay::decode(&tampered.changes).unwrap();
    let at = bytes.len() - 80;
    bytes[at] ^= 1;
    tampered.changes = relay::encode(&bytes);
    assert_eq!(send(&api, &tampered).await.status, 422);
    // Not JSON; not base64.
    let r = api
        .request(
            Method::POST,
            "/v1/relay/sync",
            Body::Raw(b"{\"protocol\":".to_vec()),
            &[("content-type", "application/json")],
        )
        .await
        .unwrap();
    assert_eq!(
        (r.status, r.error_body().unwrap().code.as_str()),
        (400, "bad_json")
    );
    let mut garbage = good.clone();
    garbage.credential = "!!not base64!!".into();
    assert_eq!(send(&api, &garbage).await.status, 422);

    let info: RelayInfo = api.get("/v1/relay/info").await.unwrap().json().unwrap();
    assert_eq!(info.uplink.held_pushes, 0, "nothing refused was kept");
    let ids: Vec<String> = ops.iter().map(|o| o.id.clone()).collect();
    assert_eq!(
        changes_of(&server, &ids),
        0,
        "nothing refused reached the server"
    );

    // The sound round goes through, once, however often it is repeated.
    for _ in 0..3 {
        let answers = until_answered(&api, &a, &good).await;
        assert_eq!(answers.len(), 2);
    }
    assert_eq!(changes_of(&server, &ids), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_compressed_and_huge_rounds_and_a_kill_lose_nothing_and_repeat_nothing() {
    let server = Server::start();
    let amina = NewUser::nfp("amina", "KE");
    let a = laptop(&server, &amina).await;
    let proxy = Proxy::start(server.addr()).await;
    let mut relay = Relay::start(&proxy.url(), &["--answer-wait-ms", "200"]);
    let api = Api::new(&relay.url());
    let key = eventually(
        Duration::from_secs(20),
        "the relay learns the server's key",
        || async {
            let info: RelayInfo = api.get("/v1/relay/info").await.ok()?.json().ok()?;
            info.server_key.map(|_| info.relay_key)
        },
    )
    .await;

    // The uplink goes down; twenty rounds arrive at once, each with its own operations.
    proxy.set_fault(Fault::Down);
    let rounds: Vec<(Vec<Operation>, RelaySyncRequest)> = (0..20)
        .map(|i| {
            let ops = fresh_ops(&format!("list-{i}"), 3);
            let req = round(&a, &key, ops.clone());
            (ops, req)
        })
        .collect();
    let answers =
        futures_util::future::join_all(rounds.iter().map(|(_, req)| send(&api, req))).await;
    for r in &answers {
        assert_eq!(r.status, 200, "{}", r.describe());
        let answer: RelaySyncResponse = r.json().unwrap();
        assert_eq!(answer.held.len(), 3, "held while the uplink is down");
    }
    // The relay has found out by now (its first forwards failed), and says so.
    eventually(
        Duration::from_secs(20),
        "the relay says its uplink is down",
        || async {
            let info: RelayInfo = api.get("/v1/relay/info").await.ok()?.json().ok()?;
            (!info.uplink.reachable && info.uplink.held_pushes == 20).then_some(())
        },
    )
    .await;
    // A compressed round is read like any other.
    let (zipped_ops, zipped) = {
        let ops = fresh_ops("zipped", 2);
        (ops.clone(), round(&a, &key, ops))
    };
    let body = gzip(&serde_json::to_vec(&zipped).unwrap());
    let r = api
        .request(
            Method::POST,
            "/v1/relay/sync",
            Body::Raw(body),
            &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.describe());
    // A huge one is refused before it is read whole.
    let huge = vec![b'x'; 50 * 1024 * 1024];
    let r = api
        .request(
            Method::POST,
            "/v1/relay/sync",
            Body::Raw(huge),
            &[("content-type", "application/json")],
        )
        .await;
    assert!(
        r.map_or(true, |r| r.status == 413),
        "a 50 MB round is refused"
    );

    // The trainer's laptop crashes with everything held; it comes back; the uplink returns.
    relay.kill();
    relay.restart();
    proxy.set_fault(Fault::None);
    // What it held goes on by itself, with no laptop coming back.
    let all: Vec<(Vec<Operation>, RelaySyncRequest)> =
        rounds.into_iter().chain([(zipped_ops, zipped)]).collect();
    let all_ids: Vec<String> = all
        .iter()
        .flat_map(|(ops, _)| ops.iter().map(|o| o.id.clone()))
        .collect();
    eventually(
        Duration::from_secs(60),
        "the held pushes reach the server after the restart",
        || async {
            let info: RelayInfo = api.get("/v1/relay/info").await.ok()?.json().ok()?;
            (info.uplink.held_pushes == 0).then_some(())
        },
    )
    .await;
    assert_eq!(
        changes_of(&server, &all_ids),
        all_ids.len(),
        "each operation applied exactly once"
    );
    // The laptop comes back (the relay's key changed with the restart: it asks again) and
    // learns its answers; sending again repeats nothing.
    let key = relay_key(&api).await;
    for (ops, _) in &all {
        let answers = until_answered(&api, &a, &round(&a, &key, ops.clone())).await;
        assert!(
            answers
                .iter()
                .all(|(_, o)| matches!(o, Outcome::Duplicate { .. } | Outcome::Applied { .. })),
            "{answers:?}"
        );
    }
    assert_eq!(
        changes_of(&server, &all_ids),
        all_ids.len(),
        "nothing applied twice"
    );
}
