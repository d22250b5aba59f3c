//! The real `ecommunity` process behind the fault-injecting proxy, driven with raw pushes:
//! an answer lost after the server committed, resets and truncations mid-answer, made-up
//! 500s and 429s, a captive portal, a dead link, a crash between commit and retry, a slow
//! link and a seeded storm of all of them. Whatever happens, a retried operation is applied
//! once: the retry answers `duplicate` with the version it got the first time, and the change
//! feed holds it exactly once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;
use stopover_protocol::{Change, Health, Operation, Outcome, PullResponse, PushResponse};
use stopover_tests::api::{self, Api, within};
use stopover_tests::proxy::{Fault, Proxy};
use stopover_tests::server::{NewUser, Server};

const T: Duration = Duration::from_secs(120);

struct Setup {
    server: Server,
    proxy: Proxy,
    /// Straight to the server, as another device of the same account.
    direct: Api,
    /// Straight to the server, a third device that never pushes: the test's view of the truth
    /// (a device's pulls leave out its own changes).
    observer: Api,
    /// Through the proxy: the client's view.
    via: Api,
}

async fn setup() -> Setup {
    let server = Server::start();
    let user = NewUser::nfp("nfp-ke", "KE");
    let token = server.signed_in(&user).await.token;
    let other_device = server.sign_in(&user.username, &user.password).await;
    let observer_device = server.sign_in(&user.username, &user.password).await;
    let proxy = Proxy::start(server.addr()).await;
    let direct = Api::new(&server.base_url).with_token(&other_device);
    let observer = Api::new(&server.base_url).with_token(&observer_device);
    let via = Api::new(&proxy.url()).with_token(&token);
    Setup {
        server,
        proxy,
        direct,
        observer,
        via,
    }
}

/// Every change the server holds for this user, checking that `ops` are each there exactly
/// once; returns op id → version.
async fn exactly_once(direct: &Api, ops: &[Operation]) -> HashMap<String, u64> {
    let (changes, _) = direct.pull_all(0).await.unwrap_or_else(|e| panic!("{e}"));
    let mut versions = HashMap::new();
    for op in ops {
        let found: Vec<&Change> = changes.iter().filter(|c| c.op_id == op.id).collect();
        assert_eq!(
            found.len(),
            1,
            "operation {} ({}) must be in the change feed exactly once, found {found:?}",
            op.id,
            op.entity.id
        );
        assert_eq!(
            found[0].value, op.value,
            "the stored value of {} is not the one pushed",
            op.id
        );
        versions.insert(op.id.clone(), found[0].version);
    }
    let mut seqs: Vec<u64> = changes.iter().map(|c| c.seq).collect();
    seqs.dedup();
    assert_eq!(
        seqs.len(),
        changes.len(),
        "change seqs must be distinct: {changes:?}"
    );
    versions
}

/// The retry after a broken answer: each result `duplicate` with the version the first
/// (unseen) application got.
fn assert_all_duplicates(resp: &PushResponse, first: &HashMap<String, u64>, why: &str) {
    for r in &resp.results {
        match r.outcome {
            Outcome::Duplicate { version } => assert_eq!(
                Some(&version),
                first.get(&r.id),
                "{why}: the retry of {} must answer the version it got the first time",
                r.id
            ),
            ref other => panic!(
                "{why}: the retry of {} must be a duplicate, got {other:?}",
                r.id
            ),
        }
    }
}

/// A push under `fault` fails for the client although the server commits; the retry is a
/// duplicate of each operation, and the server holds each once.
async fn broken_answer_then_retry(fault: Fault) {
    let s = setup().await;
    let mut ops = api::fresh_ops("lost-ack", 10);
    ops.push(api::op(
        "lost-ack/note",
        "note",
        json!("written on the plane"),
        0,
    ));
    s.proxy.set_fault(fault);
    let first = s.via.push(&ops).await;
    assert!(
        first.is_err(),
        "under {fault:?} the client must not get a usable answer, got {first:?}"
    );
    let events = s.proxy.events();
    assert!(
        events
            .iter()
            .any(|e| e.path == "/v1/sync/push" && e.forwarded && e.upstream_status == Some(200)),
        "the server must have answered the push 200 behind the proxy: {events:?}"
    );
    // The server committed although the client does not know it.
    let versions = exactly_once(&s.observer, &ops).await;
    assert!(
        versions.values().all(|v| *v == 1),
        "first edits of new fields get version 1: {versions:?}"
    );

    s.proxy.set_fault(Fault::None);
    let retry = s
        .via
        .push(&ops)
        .await
        .unwrap_or_else(|e| panic!("the retry through a healthy link must succeed: {e}"));
    assert_all_duplicates(&retry, &versions, &format!("after {fault:?}"));
    // And again (a retry of the retry, e.g. after another drop).
    let again = s
        .via
        .fresh()
        .push(&ops)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_all_duplicates(&again, &versions, "second retry");
    let after = exactly_once(&s.observer, &ops).await;
    assert_eq!(after, versions, "a retry must not change any version");
    let (all, _) = s.direct.pull_all(0).await.unwrap();
    assert_eq!(
        all.len(),
        ops.len(),
        "nothing but these operations may be stored: {all:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_acknowledgement_retry_is_a_duplicate() {
    within(
        T,
        "lost acknowledgement",
        broken_answer_then_retry(Fault::LoseResponse),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_answer_retry_is_a_duplicate() {
    within(
        T,
        "reset mid-answer",
        broken_answer_then_retry(Fault::ResetMidResponse),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_answer_retry_is_a_duplicate() {
    within(
        T,
        "truncated answer",
        broken_answer_then_retry(Fault::TruncateBody),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_is_a_duplicate_even_after_the_field_moved_on() {
    within(T, "duplicate after the field moved on", async {
        let s = setup().await;
        let first = api::op("moved/on", "note", json!("first draft"), 0);
        s.proxy.set_fault(Fault::LoseResponse);
        assert!(s.via.push(std::slice::from_ref(&first)).await.is_err());
        s.proxy.set_fault(Fault::None);
        // Another device (straight to the server) edits the same field on top of it.
        let second = api::op("moved/on", "note", json!("second draft"), 1);
        let r = s.direct.push(std::slice::from_ref(&second)).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.results[0].outcome, Outcome::Applied { version: 2 }, "an edit on the current version applies");
        // The first device retries its lost push: it was applied once, at version 1.
        let retry = s.via.push(std::slice::from_ref(&first)).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            retry.results[0].outcome,
            Outcome::Duplicate { version: 1 },
            "a retried operation is a duplicate with its own version, never a conflict with later edits"
        );
        // A retry mixed with new work: the old ones duplicate, the new ones apply.
        let new = api::op("moved/on-too", "done", json!(true), 0);
        let mixed = s.via.push(&[first.clone(), new.clone()]).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mixed.results[0].outcome, Outcome::Duplicate { version: 1 });
        assert_eq!(mixed.results[1].outcome, Outcome::Applied { version: 1 });
        exactly_once(&s.observer, &[first, second, new]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_id_twice_in_one_batch_is_applied_once() {
    within(T, "same id twice in a batch", async {
        let s = setup().await;
        let op = api::op("twice/in-one", "done", json!(true), 0);
        let r = s
            .direct
            .push(&[op.clone(), op.clone()])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.results[0].outcome, Outcome::Applied { version: 1 });
        assert_eq!(
            r.results[1].outcome,
            Outcome::Duplicate { version: 1 },
            "the second copy in the batch is a duplicate"
        );
        exactly_once(&s.observer, &[op]).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_errors_never_reach_the_server_and_retries_apply_once() {
    within(T, "500 and 429 from the link", async {
        let s = setup().await;
        let ops = api::fresh_ops("made-up", 5);
        for code in [500u16, 502, 503, 429] {
            s.proxy.set_fault(Fault::Status(code));
            let r = s
                .via
                .push_raw(&ops)
                .await
                .expect("a canned answer is an answer");
            assert_eq!(r.status, code);
            assert_eq!(
                r.retry_after(),
                Some(1),
                "the link's {code} carries Retry-After"
            );
            assert!(
                s.via.push(&ops).await.is_err(),
                "a {code} is not a push answer"
            );
        }
        assert_eq!(
            s.proxy.stats().forwarded,
            0,
            "no canned answer may reach the server"
        );
        let (nothing, _) = s.direct.pull_all(0).await.unwrap();
        assert!(
            nothing.is_empty(),
            "nothing may be stored before the push got through: {nothing:?}"
        );
        s.proxy.set_fault(Fault::None);
        let ok = s.via.push(&ops).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            ok.results
                .iter()
                .all(|r| r.outcome == Outcome::Applied { version: 1 }),
            "{ok:?}"
        );
        exactly_once(&s.observer, &ops).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captive_portal_is_not_the_server() {
    within(T, "captive portal", async {
        let s = setup().await;
        s.proxy.set_fault(Fault::CaptivePortal);
        let probe = s.via.get("/v1/health").await.expect("the portal answers");
        assert_eq!(probe.status, 200, "a captive portal answers 200");
        assert!(
            probe
                .header("content-type")
                .unwrap_or("")
                .starts_with("text/html"),
            "{}",
            probe.describe()
        );
        let parsed = serde_json::from_slice::<Health>(&probe.body);
        assert!(
            parsed.is_err(),
            "an HTML page must not parse as a protocol Health: {parsed:?}"
        );

        let ops = api::fresh_ops("portal", 3);
        let push = s.via.push_raw(&ops).await.expect("the portal answers");
        assert_eq!(push.status, 200);
        assert!(
            serde_json::from_slice::<PushResponse>(&push.body).is_err(),
            "HTML must not parse as a PushResponse"
        );
        assert!(
            s.via.push(&ops).await.is_err(),
            "a 200 HTML page is not a successful push"
        );
        let pull = s
            .via
            .get("/v1/sync/pull?cursor=0&limit=10")
            .await
            .expect("the portal answers");
        assert!(
            serde_json::from_slice::<PullResponse>(&pull.body).is_err(),
            "HTML must not parse as a PullResponse"
        );
        assert_eq!(s.proxy.stats().forwarded, 0);
        let (nothing, _) = s.direct.pull_all(0).await.unwrap();
        assert!(
            nothing.is_empty(),
            "the portal swallowed the push: nothing may be stored: {nothing:?}"
        );

        // The real server's probe through a clear link is the protocol's.
        s.proxy.set_fault(Fault::None);
        let real = s.via.get("/v1/health").await.unwrap();
        let health: Health = real.json().unwrap_or_else(|e| panic!("{e}"));
        assert!(health.is_compatible(), "{health:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_link_fails_fast_and_stores_nothing() {
    within(T, "dead link", async {
        let s = setup().await;
        s.proxy.set_fault(Fault::Down);
        let ops = api::fresh_ops("dead", 3);
        let started = Instant::now();
        let r = s.via.push_raw(&ops).await;
        assert!(r.is_err(), "a dead link gives no answer: {r:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a refused connection must fail fast, took {:?}",
            started.elapsed()
        );
        assert_eq!(s.proxy.stats().forwarded, 0);
        s.proxy.set_fault(Fault::None);
        let ok = s.via.push(&ops).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            ok.results
                .iter()
                .all(|r| matches!(r.outcome, Outcome::Applied { .. }))
        );
        exactly_once(&s.observer, &ops).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_commit_and_retry_keeps_each_operation_once() {
    within(T, "server crash after a lost acknowledgement", async {
        let mut s = setup().await;
        let ops = api::fresh_ops("crash", 20);
        s.proxy.set_fault(Fault::LoseResponse);
        assert!(s.via.push(&ops).await.is_err());
        // Power cut right after the commit.
        s.server.kill();
        s.proxy.set_fault(Fault::None);
        let down = s.via.push(&ops).await;
        assert!(
            down.is_err(),
            "with the server down the push must fail: {down:?}"
        );
        s.server.restart();
        s.proxy.set_upstream(s.server.addr());
        let direct = Api::new(&s.server.base_url).with_token(s.direct.token.as_deref().unwrap());
        let me = direct.get("/v1/me").await.unwrap();
        assert_eq!(
            me.status,
            200,
            "a device token must survive a server restart: {}",
            me.describe()
        );
        let versions = exactly_once(&direct, &ops).await;
        let retry = s
            .via
            .push(&ops)
            .await
            .unwrap_or_else(|e| panic!("the retry after the restart must succeed: {e}"));
        assert_all_duplicates(&retry, &versions, "after a crash and restart");
        exactly_once(&direct, &ops).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_far_link_still_works() {
    within(T, "64 kbit/s, 300 ms", async {
        let s = setup().await;
        s.proxy.set_fault(Fault::SLOW_LINK);
        let ops = api::fresh_ops("slow", 20);
        let started = Instant::now();
        let r = s.via.push(&ops).await.unwrap_or_else(|e| panic!("{e}"));
        let took = started.elapsed();
        assert!(
            r.results
                .iter()
                .all(|x| matches!(x.outcome, Outcome::Applied { .. }))
        );
        assert!(
            took >= Duration::from_millis(600),
            "two one-way delays of 300 ms at least, took {took:?}"
        );
        let (changes, _) = s
            .observer
            .pull_all(0)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(changes.len(), ops.len());
        let (own, _) = s.via.pull_all(0).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            own.is_empty(),
            "no echo of the device's own changes: {own:?}"
        );
        let stats = s.proxy.stats();
        eprintln!("slow link: push of 20 ops took {took:?}; {stats:?}");
    })
    .await;
}

/// A seeded storm of every fault: a device pushes 25 batches of 8 new fields plus one edit of
/// a shared note made on the last version it knows, retrying each batch (same ids) until it
/// gets a protocol answer. Every operation ends applied once, every answer's version agrees
/// with the change feed, and the note's edits chain 1, 2, … 25 without a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_storm_of_faults_converges() {
    within(Duration::from_secs(240), "seeded storm", async {
        let seed: u64 = std::env::var("STOPOVER_SIM_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(20_251_127);
        let s = setup().await;
        s.proxy.set_fault(Fault::Random { seed, p: 0.4 });
        let mut all_ops = Vec::new();
        let mut answered: HashMap<String, u64> = HashMap::new();
        let mut attempts = 0;
        let mut device = s.via.fresh();
        let batches = 25u64;
        let mut note_version = 0;
        for batch in 0..batches {
            let mut ops = api::fresh_ops(&format!("storm-{batch}"), 8);
            ops.push(api::op(
                "storm/shared",
                "note",
                json!(format!("edit {batch}")),
                note_version,
            ));
            all_ops.extend(ops.clone());
            let mut tries = 0;
            let resp = loop {
                tries += 1;
                attempts += 1;
                assert!(
                    tries <= 60,
                    "batch {batch} got no protocol answer in 60 tries (seed {seed})"
                );
                match device.push(&ops).await {
                    Ok(resp) => break resp,
                    Err(_) => {
                        // A fresh connection pool, as a client does after a broken connection.
                        device = s.via.fresh();
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            };
            for r in resp.results {
                match r.outcome {
                    Outcome::Applied { version } | Outcome::Duplicate { version } => {
                        answered.insert(r.id, version);
                    }
                    other => panic!(
                        "seed {seed}: a lone writer's op must apply or duplicate, got {other:?}"
                    ),
                }
            }
            note_version = answered[&ops.last().unwrap().id];
            assert_eq!(
                note_version,
                batch + 1,
                "seed {seed}: the shared note's edits must chain one version each"
            );
        }
        let versions = exactly_once(&s.observer, &all_ops).await;
        assert_eq!(
            versions, answered,
            "seed {seed}: the answers' versions must match the change feed"
        );
        let stats = s.proxy.stats();
        eprintln!("storm (seed {seed}): {attempts} pushes for {batches} batches; {stats:?}");
        assert!(
            attempts > batches,
            "seed {seed}: p = 0.4 should have broken some pushes"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_down_for_a_while_comes_back_with_everything() {
    within(T, "server down for a while", async {
        let mut s = setup().await;
        let before = api::fresh_ops("before-the-outage", 5);
        s.via.push(&before).await.unwrap_or_else(|e| panic!("{e}"));
        let addr = s.server.addr();
        s.server.stop();
        let during = api::fresh_ops("during-the-outage", 5);
        for _ in 0..3 {
            let r = s.via.push_raw(&during).await;
            assert!(
                r.is_err(),
                "with the server stopped the link gives no answer, got {r:?}"
            );
        }
        s.server.restart();
        assert_eq!(
            s.server.addr(),
            addr,
            "the server should come back on the same address"
        );
        // The client's address, token and connection pool work again without any change.
        let resp =
            s.via.push(&during).await.unwrap_or_else(|e| {
                panic!("after the restart the queued push must go through: {e}")
            });
        assert!(
            resp.results
                .iter()
                .all(|r| r.outcome == Outcome::Applied { version: 1 }),
            "{resp:?}"
        );
        let all: Vec<_> = before.iter().chain(&during).cloned().collect();
        exactly_once(&s.observer, &all).await;
    })
    .await;
}
