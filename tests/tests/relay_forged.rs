//! A relay that lies (issue 12): between a `sync-client` laptop (the real stopover-core and
//! its SQLite file) and the real `ecommunity relay` sits a forging relay that passes everything
//! on but alters the answers — another laptop's reply, a community page with one byte changed,
//! a page that skips part of the feed. The laptop refuses each forged answer whole
//! (`relay_forged`: nothing of it applied, its outbox and data as they were) or, for the
//! skipped part, stops at the gap; through the honest relay it then syncs in full.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use serde_json::{Value, json};
use stopover_protocol::relay::{self, RelaySyncResponse};
use stopover_protocol::{EntityRef, Operation};
use stopover_tests::api::{Api, new_op_id};
use stopover_tests::client::sync_client as run;
use stopover_tests::relay::Relay;
use stopover_tests::server::{NewUser, Server};

/// How the forging relay alters the honest relay's answers.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Lie {
    None,
    /// Hands the laptop the reply the server signed for another laptop.
    OthersReply,
    /// Changes one byte inside the first community page.
    TamperedPage,
    /// Leaves out the first community page (the rest no longer joins the laptop's copy).
    SkippedPage,
}

#[derive(Clone)]
struct Forger {
    honest: String,
    lie: Arc<Mutex<Lie>>,
    /// The last reply the honest relay gave anyone, for `OthersReply`.
    seen_reply: Arc<Mutex<Option<(String, String)>>>,
    http: reqwest::Client,
}

async fn forge(
    State(f): State<Forger>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> (StatusCode, Vec<u8>) {
    let url = format!("{}{}", f.honest, uri.path());
    let answer = f
        .http
        .request(method, url)
        .header("content-type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
    let bytes = answer.bytes().await.unwrap().to_vec();
    if uri.path() != "/v1/relay/sync" || !status.is_success() {
        return (status, bytes);
    }
    let request: Value = serde_json::from_slice(&body).unwrap();
    let mut response: RelaySyncResponse = serde_json::from_slice(&bytes).unwrap();
    let who = request["credential"].as_str().unwrap().to_string();
    let lie = *f.lie.lock().unwrap();
    match lie {
        Lie::None => {}
        Lie::OthersReply => {
            let seen = f.seen_reply.lock().unwrap().clone();
            if let Some((_, reply)) = seen.filter(|(owner, _)| *owner != who) {
                response.reply = Some(reply);
            }
        }
        Lie::TamperedPage => {
            if let Some(first) = response.community.first_mut() {
                let mut page = relay::decode(first).unwrap();
                let at = page.len() - 70;
                page[at] ^= 0x40;
                *first = relay::encode(&page);
            }
        }
        Lie::SkippedPage => {
            if !response.community.is_empty() {
                response.community.remove(0);
            }
        }
    }
    if let Some(reply) = &response.reply
        && lie == Lie::None
    {
        *f.seen_reply.lock().unwrap() = Some((who, reply.clone()));
    }
    (status, serde_json::to_vec(&response).unwrap())
}

async fn start_forger(honest: String, lie: Arc<Mutex<Lie>>) -> String {
    let forger = Forger {
        honest,
        lie,
        seen_reply: Arc::new(Mutex::new(None)),
        http: reqwest::Client::new(),
    };
    let app = Router::new().fallback(forge).with_state(forger);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn post_forum(server: &Server, poster: &NewUser, runtime: &tokio::runtime::Runtime, count: usize) {
    runtime.block_on(async {
        let token = server.sign_in(&poster.username, &poster.password).await;
        let api = Api::new(&server.base_url).with_token(&token);
        let thread = new_op_id();
        // Big enough bodies that the feed takes more than one page at the relay.
        let ops: Vec<Operation> = (0..count)
            .map(|i| {
                let id = if i == 0 { thread.clone() } else { new_op_id() };
                let mut value = json!({"category": "general", "thread": thread,
                    "body": format!("Post {i}: {}", "notes from the flyway meeting ".repeat(40))});
                if i == 0 {
                    value["title"] = json!("Before the workshop");
                }
                Operation {
                    id: new_op_id(),
                    entity: EntityRef {
                        kind: "forum_post".into(),
                        id,
                    },
                    field: "content".into(),
                    base_version: 0,
                    value,
                }
            })
            .collect();
        for chunk in ops.chunks(100) {
            api.push(chunk).await.unwrap();
        }
    });
}

/// What a laptop holds: its outbox, the forum posts, its checklist progress and cursors.
fn holdings(dir: &Path) -> (Value, String) {
    let db = rusqlite::Connection::open(dir.join(stopover_core::store::DATABASE_FILE)).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    let state = json!({
        "outbox": count("SELECT count(*) FROM outbox"),
        "posts": count("SELECT count(*) FROM forum_post"),
        "cursors": db.prepare("SELECT key || '=' || value FROM sync_state WHERE key LIKE '%cursor%' ORDER BY key")
            .unwrap().query_map([], |r| r.get::<_, String>(0)).unwrap()
            .collect::<rusqlite::Result<Vec<_>>>().unwrap(),
    });
    (state, run(dir, &["dump"]).unwrap())
}

#[test]
fn a_laptop_refuses_what_a_lying_relay_forged_and_applies_nothing_of_it() {
    let server = Server::start_with(&["--forum-posts-per-hour", "100000"]);
    let (amina, baraka) = (NewUser::nfp("amina", "KE"), NewUser::nfp("baraka", "SN"));
    let poster = NewUser::staff("trainer", "secretariat");
    for u in [&amina, &baraka, &poster] {
        server.user_add_approved(u);
    }
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (root.path().join("amina"), root.path().join("baraka"));
    for (dir, u) in [(&a, &amina), (&b, &baraka)] {
        run(
            dir,
            &[
                "sign-in",
                &server.base_url,
                &u.username,
                &u.password,
                "laptop",
            ],
        )
        .unwrap();
        run(dir, &["sync"]).unwrap();
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    post_forum(&server, &poster, &runtime, 300);
    let honest = Relay::start(&server.base_url, &[]);
    let lie = Arc::new(Mutex::new(Lie::None));
    let forger = runtime.block_on(start_forger(honest.url(), lie.clone()));

    // Baraka syncs through the forger while it tells the truth: it now knows his reply.
    run(&b, &["stream", "7", "4", "0"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while run(&b, &["relay-sync", &forger]).map_or(true, |out| !out.contains("\"outbox\":0")) {
        assert!(
            Instant::now() < deadline,
            "baraka's round through the relay"
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // Amina's edits, then each lie in turn: refused whole, nothing of it applied.
    run(&a, &["stream", "3", "5", "0"]).unwrap();
    let before = holdings(&a);
    for forged in [Lie::OthersReply, Lie::TamperedPage] {
        *lie.lock().unwrap() = forged;
        // Until the honest relay has a reply and pages for her, the lie may have nothing to
        // alter: go round until it does.
        let deadline = Instant::now() + Duration::from_secs(60);
        let err = loop {
            match run(&a, &["relay-sync", &forger]) {
                Err(e) if e.contains("relay_forged") => break e,
                Err(e) => panic!("{forged:?}: refused for another reason: {e}"),
                Ok(out) => {
                    let after = holdings(&a);
                    assert!(
                        Instant::now() < deadline,
                        "{forged:?}: never detected; last round {out}"
                    );
                    // A round that had nothing to alter may only have marked the outbox.
                    assert_eq!(after.1, before.1, "{forged:?}: the laptop's data changed");
                }
            }
            std::thread::sleep(Duration::from_millis(300));
        };
        assert!(err.contains("relay_forged"), "{forged:?}: {err}");
        let after = holdings(&a);
        assert_eq!(
            after.1, before.1,
            "{forged:?}: the laptop's checklist data changed"
        );
        assert_eq!(
            after.0["posts"], before.0["posts"],
            "{forged:?}: posts were applied"
        );
        assert_eq!(
            after.0["cursors"], before.0["cursors"],
            "{forged:?}: a cursor moved"
        );
        assert_eq!(
            after.0["outbox"], before.0["outbox"],
            "{forged:?}: the outbox changed"
        );
    }

    // A page left out: what no longer joins is not applied; the cursor stays before the gap.
    *lie.lock().unwrap() = Lie::SkippedPage;
    let out = run(&a, &["relay-sync", &forger]).expect("a gap is not an error");
    let round: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(
        holdings(&a).0["posts"],
        before.0["posts"],
        "pages after a gap: {round}"
    );

    // The honest relay: everything, once.
    *lie.lock().unwrap() = Lie::None;
    let deadline = Instant::now() + Duration::from_secs(60);
    let last = loop {
        let out = run(&a, &["relay-sync", &forger]).unwrap();
        let round: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        if round["outbox"] == 0 && round["community_more"] == false && round["forum_posts"] == 300 {
            break round;
        }
        assert!(
            Instant::now() < deadline,
            "not up to date through the honest relay: {round}"
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(last["forum_posts"], 300);
}
