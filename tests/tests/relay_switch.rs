//! Switching between a workshop relay and direct sync (issue 12), with the real `ecommunity`
//! server, the real `ecommunity relay` and a `sync-client` laptop (the real stopover-core and
//! its SQLite file): relay → direct → relay while the forum grows and the person ticks steps.
//! Nothing is lost (the laptop ends with every post and its own last edits, on the server too)
//! and nothing is applied twice (no operation id twice in the server's feed).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stopover_protocol::{EntityRef, Operation};
use stopover_tests::api::{Api, new_op_id};
use stopover_tests::client::sync_client as run;
use stopover_tests::relay::Relay;
use stopover_tests::server::{NewUser, Server};

/// Posts `count` forum posts as the trainer (community changes).
fn post(server: &Server, poster: &NewUser, from: usize, count: usize) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let token = server.sign_in(&poster.username, &poster.password).await;
        let api = Api::new(&server.base_url).with_token(&token);
        let thread = new_op_id();
        let ops: Vec<Operation> = (from..from + count)
            .map(|i| {
                let id = if i == from { thread.clone() } else { new_op_id() };
                let mut value = json!({"category": "general", "body": format!("Post {i}: who brings the projector?"), "thread": thread});
                if i == from {
                    value["title"] = json!(format!("Thread from post {i}"));
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
        api.push(&ops).await.unwrap();
    });
}

/// Ticks and notes on the laptop; returns the last saved value per `<list>/<step> <field>`.
fn edit(dir: &Path, seed: u32, saved: &mut BTreeMap<String, Value>) {
    let out = run(dir, &["stream", &seed.to_string(), "6", "0"]).unwrap();
    for line in out.lines() {
        let mut parts = line.splitn(4, ' ');
        if let (Some("saved"), Some(step), Some(field), Some(value)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            saved.insert(
                format!("{step} {field}"),
                serde_json::from_str(value).unwrap(),
            );
        }
    }
}

/// Relay rounds until nothing waits on the laptop or at the relay, no page is left and the
/// laptop holds the `posts` forum posts the server has (the relay hears of news within a
/// second of it, through its long poll: a round just before that cannot know).
fn relay_until_done(dir: &Path, relay: &str, posts: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = Value::Null;
    while Instant::now() < deadline {
        match run(dir, &["relay-sync", relay]) {
            Ok(out) => {
                last = out
                    .lines()
                    .rev()
                    .find_map(|l| serde_json::from_str::<Value>(l).ok())
                    .unwrap_or(Value::Null);
                if last["outbox"] == 0
                    && last["at_relay"] == 0
                    && last["community_more"] == false
                    && last["report"]["more"] == false
                    && last["forum_posts"] == posts
                {
                    return last;
                }
            }
            Err(e) => last = json!({ "error": e }),
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("not up to date through the relay; last round: {last}");
}

#[test]
fn relay_then_direct_then_relay_loses_nothing_and_duplicates_nothing() {
    let server = Server::start_with(&["--forum-posts-per-hour", "100000"]);
    let nfp = NewUser::nfp("nfp01", "KE");
    let poster = NewUser::staff("trainer", "secretariat");
    server.user_add_approved(&nfp);
    server.user_add_approved(&poster);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("laptop");
    run(
        &dir,
        &[
            "sign-in",
            &server.base_url,
            &nfp.username,
            &nfp.password,
            "laptop",
        ],
    )
    .unwrap();
    run(&dir, &["sync"]).unwrap(); // at home: the credential a relay checks
    let relay = Relay::start(&server.base_url, &[]);
    let relay_url = relay.url();
    let mut saved = BTreeMap::new();

    // 1. Through the relay.
    post(&server, &poster, 0, 8);
    edit(&dir, 1, &mut saved);
    let round = relay_until_done(&dir, &relay_url, 8);
    assert_eq!(round["forum_posts"], 8, "{round}");

    // 2. Directly.
    post(&server, &poster, 8, 5);
    edit(&dir, 2, &mut saved);
    run(&dir, &["sync"]).unwrap();

    // 3. Through the relay again.
    post(&server, &poster, 13, 6);
    edit(&dir, 3, &mut saved);
    let round = relay_until_done(&dir, &relay_url, 19);
    assert_eq!(round["forum_posts"], 19, "every post, each once: {round}");

    // The laptop holds its last edits, and so does the server, each operation once.
    let dump: Value = serde_json::from_str(run(&dir, &["dump"]).unwrap().trim()).unwrap();
    let db = rusqlite::Connection::open_with_flags(
        server.data_dir().join("ecommunity.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut latest = BTreeMap::new();
    let mut stmt = db
        .prepare(
            "SELECT c.entity_id, c.field, c.value FROM change c
             WHERE c.kind = 'checklist_progress' ORDER BY c.seq",
        )
        .unwrap();
    for row in stmt
        .query_map([], |r| {
            Ok((
                format!("{} {}", r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap()
    {
        let (key, value) = row.unwrap();
        latest.insert(key, serde_json::from_str::<Value>(&value).unwrap());
    }
    for (key, value) in &saved {
        let (step, field) = key.split_once(' ').unwrap();
        assert_eq!(&dump[step][field], value, "{key} on the laptop");
        assert_eq!(latest.get(key), Some(value), "{key} on the server");
    }
    let ids: Vec<String> = db
        .prepare("SELECT op_id FROM change")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an operation applied twice");
}
