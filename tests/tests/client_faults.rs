//! The real client (stopover-core in-process, its own SQLite file) against the real
//! `ecommunity` process, through the fault-injecting proxy: a lost acknowledgement, a server
//! down for a while, a captive portal, and slow and broken links. Whatever the link does,
//! nothing leaves the outbox without the server's answer, nothing is applied twice, and once
//! the link is clean again the device and the server agree on every field.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use stopover_core::sync::Backoff;
use stopover_tests::api::{Api, within};
use stopover_tests::client::{Device, FieldKey, State, assert_same_state, server_feed, wait_until};
use stopover_tests::proxy::{Fault, Proxy};
use stopover_tests::server::{NewUser, Server};

const T: Duration = Duration::from_secs(90);

struct Setup {
    server: Server,
    proxy: Proxy,
    user: NewUser,
    /// The device under test, through the proxy.
    a: Device,
    /// A second device token of the same account, straight to the server: the test's view of
    /// the server's truth.
    observer: Api,
}

async fn setup() -> Setup {
    let server = Server::start();
    let user = NewUser::nfp("amina", "KE");
    server.user_add_approved(&user);
    let proxy = Proxy::start(server.addr()).await;
    let a = Device::sign_in("laptop", &proxy.url(), &user).await;
    let observer_token = server.sign_in(&user.username, &user.password).await;
    let observer = Api::new(&server.base_url).with_token(&observer_token);
    Setup {
        server,
        proxy,
        user,
        a,
        observer,
    }
}

fn ids(device: &Device) -> BTreeSet<String> {
    device.pending().into_iter().map(|o| o.op_id).collect()
}

fn record(expected: &mut State, edit: (FieldKey, Value)) {
    expected.insert(edit.0, edit.1);
}

/// Every id in `ops` is in the server's feed exactly once.
async fn each_once_on_server(observer: &Api, ops: &BTreeSet<String>, why: &str) {
    let feed = server_feed(observer).await;
    let counts = feed.op_counts();
    let wrong: Vec<String> = ops
        .iter()
        .filter(|id| counts.get(id.as_str()) != Some(&1))
        .map(|id| format!("{id}: {}×", counts.get(id.as_str()).unwrap_or(&0)))
        .collect();
    assert!(
        wrong.is_empty(),
        "{why}: each operation must be on the server exactly once:\n{}",
        wrong.join("\n")
    );
}

/// The device's local state, the server's state and `expected` (the last edit of every field)
/// all agree, the outbox is empty and no conflict waits.
async fn converged(s: &Setup, device: &Device, expected: &State, why: &str) {
    let feed = server_feed(&s.observer).await;
    assert_same_state(
        &format!("{why}: the edits made"),
        expected,
        "the server",
        &feed.state,
    );
    assert_same_state(
        &format!("{why}: {}'s tables", device.name),
        &device.local_state(),
        "the server",
        &feed.state,
    );
    assert!(
        device.pending().is_empty(),
        "{why}: {}'s outbox must be empty: {:?}",
        device.name,
        device.pending()
    );
    assert!(
        device.conflicts().is_empty(),
        "{why}: a lone writer has no conflicts: {:?}",
        device.conflicts()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_acknowledgement_is_retried_and_applied_once() {
    within(T, "lost acknowledgement", async {
        let s = setup().await;
        let a = &s.a;
        let steps = a.steps();
        let mut expected = State::new();
        for (list, step) in steps.iter().take(6) {
            record(&mut expected, a.tick(list, step, true));
        }
        let (list0, step0) = &steps[0];
        record(&mut expected, a.note(list0, step0, "asked the ministry"));
        let queued = ids(a);
        assert_eq!(
            queued.len(),
            7,
            "six ticks and a note queue seven operations: {:?}",
            a.pending()
        );

        // The probe passes; the push reaches the server, which commits, and its answer is lost.
        s.proxy.fault_next("/v1/sync/push", Fault::LoseResponse);
        let err = a
            .sync()
            .await
            .expect_err("a sync whose push answer was lost must fail");
        assert!(
            err.is_transient(),
            "a lost answer is worth retrying: {err} ({})",
            err.code()
        );
        let push = s
            .proxy
            .events()
            .into_iter()
            .find(|e| e.path == "/v1/sync/push")
            .expect("the client pushed");
        assert!(
            push.fault == Fault::LoseResponse
                && push.forwarded
                && push.upstream_status == Some(200),
            "the server must have answered the push behind the proxy: {push:?}"
        );
        assert_eq!(
            ids(a),
            queued,
            "nothing may leave the outbox without the server's answer"
        );
        assert!(
            a.pending().iter().all(|o| o.sent),
            "the operations are marked sent: {:?}",
            a.pending()
        );
        each_once_on_server(
            &s.observer,
            &queued,
            "the server committed the push whose answer was lost",
        )
        .await;

        // Meanwhile the person edits a field whose operation is in flight: a new operation.
        record(
            &mut expected,
            a.note(list0, step0, "asked the ministry twice"),
        );
        assert_eq!(
            a.pending().len(),
            queued.len() + 1,
            "an edit of a sent field is a new operation, never merged into the sent one"
        );
        let all: BTreeSet<String> = ids(a);

        let report = a.sync().await.unwrap_or_else(|e| {
            panic!(
                "the retry through a clean link must succeed: {e} ({})",
                e.code()
            )
        });
        assert_eq!(
            report.duplicates as usize,
            queued.len(),
            "the retried operations are duplicates: {report:?}"
        );
        assert_eq!(
            report.pushed as usize,
            all.len(),
            "every operation acknowledged: {report:?}"
        );
        each_once_on_server(&s.observer, &all, "after the retry").await;
        let feed = server_feed(&s.observer).await;
        assert_eq!(
            feed.changes.len(),
            all.len(),
            "nothing but these operations is on the server: {:?}",
            feed.changes
        );
        converged(&s, a, &expected, "after a lost acknowledgement").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_wait_while_the_server_is_down_and_go_out_by_themselves() {
    within(T, "server down for a while", async {
        let Setup {
            server,
            proxy,
            user: _,
            a,
            observer,
        } = setup().await;
        let steps = a.steps();
        let mut expected = State::new();
        record(&mut expected, a.tick(&steps[0].0, &steps[0].1, true));
        a.sync()
            .await
            .unwrap_or_else(|e| panic!("the first sync must succeed: {e}"));

        let mut server = server;
        server.stop();
        for (i, (list, step)) in steps.iter().enumerate().skip(1).take(5) {
            record(&mut expected, a.tick(list, step, i % 2 == 0));
            record(
                &mut expected,
                a.note(list, step, &format!("written offline {i}")),
            );
        }
        let queued = ids(&a);
        assert_eq!(queued.len(), 10);
        let local_before = a.local_state();
        for attempt in 0..3 {
            let err = a
                .sync()
                .await
                .expect_err("with the server down a sync must fail");
            assert_eq!(err.code().as_str(), "network", "attempt {attempt}: {err}");
            assert!(
                err.is_transient(),
                "a server that is down may come back: {err}"
            );
        }
        assert_eq!(
            ids(&a),
            queued,
            "the outbox is intact while the server is down"
        );
        assert_eq!(
            a.last_error_code().as_deref(),
            Some("network"),
            "the status shows the failure"
        );
        assert_same_state(
            "the local tables before",
            &local_before,
            "after the failed syncs",
            &a.local_state(),
        );

        // The app's loop: wait what the back-off says, try again, until it works. The server
        // comes back after the loop has failed twice more.
        let failures = AtomicU32::new(0);
        let retry = async {
            let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
            let started = Instant::now();
            loop {
                match a.sync().await {
                    Ok(report) => return (report, started.elapsed(), backoff.failures()),
                    Err(e) => {
                        let wait = backoff.delay_after(&e).unwrap_or_else(|| {
                            panic!("a down server is transient, got {e} ({})", e.code())
                        });
                        failures.fetch_add(1, Ordering::SeqCst);
                        assert!(
                            started.elapsed() + wait < Duration::from_secs(45),
                            "the retry loop gave up: last error {e}"
                        );
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        };
        let comeback = async {
            wait_until(Duration::from_secs(30), "two failed retries", || {
                failures.load(Ordering::SeqCst) >= 2
            })
            .await;
            let server = tokio::task::spawn_blocking(move || {
                server.restart();
                server
            })
            .await
            .expect("restart");
            proxy.set_upstream(server.addr());
            server
        };
        let ((report, took, failed), _server) = tokio::join!(retry, comeback);
        eprintln!(
            "server down: the retry loop succeeded after {failed} failures in {took:?}: {report:?}"
        );
        assert_eq!(
            report.pushed as usize,
            queued.len(),
            "every queued operation went out: {report:?}"
        );
        each_once_on_server(&observer, &queued, "after the outage").await;
        let feed = server_feed(&observer).await;
        assert_same_state("the edits made", &expected, "the server", &feed.state);
        assert_same_state("the laptop", &a.local_state(), "the server", &feed.state);
        assert!(a.pending().is_empty());
        assert_eq!(
            a.last_error_code(),
            None,
            "a successful sync clears the error"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captive_portal_takes_nothing_out_of_the_outbox() {
    within(T, "captive portal", async {
        let s = setup().await;
        let a = &s.a;
        let b = Device::sign_in("desktop", &s.server.base_url, &s.user).await;
        let steps = a.steps();
        let mut expected = State::new();
        for (i, (list, step)) in steps.iter().take(4).enumerate() {
            record(&mut expected, a.tick(list, step, true));
            record(
                &mut expected,
                a.note(list, step, &format!("hotel note {i}")),
            );
        }
        // Another device has news for this one.
        let (blist, bstep) = &steps[10];
        record(&mut expected, b.note(blist, bstep, "from the office"));
        b.sync().await.unwrap_or_else(|e| panic!("{e}"));
        let queued = ids(a);
        let cursor = a.cursor();
        let local = a.local_state();

        // 1. The portal answers the round's first request, the push (there is no probe: a
        //    portal cannot produce a protocol answer, and over HTTPS it cannot answer for the
        //    server at all).
        s.proxy.set_fault(Fault::CaptivePortal);
        let err = a.sync().await.expect_err("a captive portal is not a sync");
        assert_eq!(err.code().as_str(), "not_our_server", "{err}");
        assert!(
            err.is_transient(),
            "the portal goes away once the person logs in: {err}"
        );
        assert_eq!(a.last_error_code().as_deref(), Some("not_our_server"));
        assert_eq!(
            ids(a),
            queued,
            "the portal on the push: nothing leaves the outbox"
        );
        assert!(
            a.pending().iter().all(|o| o.sent),
            "what went out is never coalesced into, and is retried under its ids: {:?}",
            a.pending()
        );
        assert_eq!(a.cursor(), cursor, "the portal's page moves no cursor");
        assert_same_state(
            "the laptop before",
            &local,
            "after the portal",
            &a.local_state(),
        );
        assert_eq!(
            server_feed(&s.observer).await.changes.len(),
            1,
            "nothing reached the server"
        );

        // 2. The portal is gone: the push goes through, with the desktop's note in its answer.
        s.proxy.set_fault(Fault::None);
        a.sync()
            .await
            .unwrap_or_else(|e| panic!("after the portal a sync must succeed: {e}"));
        each_once_on_server(&s.observer, &queued, "after the portal on the push").await;
        assert!(a.pending().is_empty());

        // 3. Nothing to send, news waiting: the portal answers the pull.
        let (clist, cstep) = &steps[11];
        record(&mut expected, b.note(clist, cstep, "more from the office"));
        b.sync().await.unwrap_or_else(|e| panic!("{e}"));
        let cursor = a.cursor();
        let local = a.local_state();
        s.proxy.fault_next("/v1/sync/pull", Fault::CaptivePortal);
        let err = a
            .sync()
            .await
            .expect_err("an HTML page is not a pull answer");
        assert_eq!(err.code().as_str(), "not_our_server", "{err}");
        assert_eq!(
            a.cursor(),
            cursor,
            "the portal on the pull: the cursor does not move"
        );
        assert_same_state(
            "the laptop before",
            &local,
            "after the portal",
            &a.local_state(),
        );
        assert_eq!(
            s.proxy
                .events()
                .iter()
                .filter(|e| e.fault == Fault::CaptivePortal)
                .count(),
            2
        );

        // The person logs in to the wifi: the next sync completes.
        a.sync()
            .await
            .unwrap_or_else(|e| panic!("after the portal a sync must succeed: {e}"));
        converged(&s, a, &expected, "after the captive portal").await;
        b.sync().await.unwrap_or_else(|e| panic!("{e}"));
        assert_same_state(
            "the desktop",
            &b.local_state(),
            "the laptop",
            &a.local_state(),
        );
    })
    .await;
}

/// Under `fault`, sync attempts break at the push (which carries the pull) and at a pull-only
/// round, with edits on both devices in between (the other device, straight to the server, edits
/// other steps); then a clean sync. Panics with what went wrong.
async fn faults_then_a_clean_sync(fault: Fault) {
    let s = setup().await;
    let a = &s.a;
    let b = Device::sign_in("desktop", &s.server.base_url, &s.user).await;
    let steps = a.steps();
    assert!(
        steps.len() >= 20,
        "the pack has enough steps: {}",
        steps.len()
    );
    let (a_steps, b_steps) = (&steps[..10], &steps[10..20]);
    let mut expected = State::new();
    let mut ever_queued: BTreeSet<String> = BTreeSet::new();
    let clean_link = !matches!(fault, Fault::Throttle { .. });

    // A round with something to send is one exchange (the push brings the page back); a
    // round with nothing to send is one pull. The fault hits that one request.
    for (round, (path, what)) in [
        ("/v1/sync/push", "push"),
        ("/v1/sync/pull", "pull"),
        ("/v1/sync/push", "push"),
    ]
    .into_iter()
    .enumerate()
    {
        let why = format!("{fault:?} on the {what} (round {round})");
        if what == "push" {
            // Edits on the laptop: new fields, and one field edited every round.
            let (l1, s1) = &a_steps[round * 3];
            let (l2, s2) = &a_steps[round * 3 + 1];
            let (l0, s0) = &a_steps[9];
            record(&mut expected, a.tick(l1, s1, true));
            record(
                &mut expected,
                a.note(l2, s2, &format!("laptop round {round}")),
            );
            record(
                &mut expected,
                a.note(l0, s0, &format!("laptop, edited in round {round}")),
            );
        } else {
            // Nothing to send: what is queued goes out first, over a clean link.
            a.sync()
                .await
                .unwrap_or_else(|e| panic!("{why}: the laptop's clean sync failed: {e}"));
        }
        let (bl, bs) = &b_steps[round];
        record(
            &mut expected,
            b.note(bl, bs, &format!("desktop round {round}")),
        );
        ever_queued.extend(ids(&b));
        b.sync()
            .await
            .unwrap_or_else(|e| panic!("{why}: the desktop's clean sync failed: {e}"));

        let pending = ids(a);
        ever_queued.extend(pending.clone());
        let cursor = a.cursor();
        let local = a.local_state();
        s.proxy.reset_stats();
        s.proxy.fault_next(path, fault);
        let started = Instant::now();
        let result = a.sync().await;
        let took = started.elapsed();
        let hit = s
            .proxy
            .events()
            .into_iter()
            .find(|e| e.path.starts_with(path))
            .unwrap_or_else(|| panic!("{why}: no request to {path}"));
        assert_eq!(
            hit.fault,
            fault,
            "{why}: the fault hit the {what}: {:?}",
            s.proxy.events()
        );

        if !clean_link {
            let report = result.unwrap_or_else(|e| {
                panic!("{why}: a slow link is still a link, the sync must succeed: {e}")
            });
            assert!(
                took >= Duration::from_millis(600),
                "{why}: the slow request alone takes two 300 ms delays, took {took:?}"
            );
            assert!(a.pending().is_empty(), "{why}: {report:?}");
            continue;
        }
        let err = match result {
            Ok(report) => panic!("{why}: the sync must fail, got {report:?}"),
            Err(e) => e,
        };
        assert!(
            err.is_transient(),
            "{why}: a broken link is worth retrying: {err} ({})",
            err.code()
        );
        match fault {
            Fault::Status(429) => {
                assert_eq!(err.code().as_str(), "server_busy", "{why}: {err}");
                let wait = Backoff::new(Duration::from_millis(10), Duration::from_millis(100))
                    .delay_after(&err)
                    .unwrap();
                assert!(
                    wait >= Duration::from_secs(1),
                    "{why}: the back-off honours Retry-After: 1, waits {wait:?}"
                );
            }
            Fault::Status(500) => assert_eq!(err.code().as_str(), "server", "{why}: {err}"),
            _ => assert!(
                matches!(err.code().as_str(), "network" | "bad_answer"),
                "{why}: {err} ({})",
                err.code()
            ),
        }
        assert_eq!(
            a.cursor(),
            cursor,
            "{why}: a failed sync does not move the cursor"
        );
        assert_same_state(
            &format!("{why}: the laptop before"),
            &local,
            "after",
            &a.local_state(),
        );
        match what {
            "push" => {
                assert_eq!(
                    ids(a),
                    pending,
                    "{why}: nothing leaves the outbox without the answer"
                );
                // A reset or truncated answer came after the server committed; a made-up status
                // never reached it.
                let feed = server_feed(&s.observer).await;
                let counts = feed.op_counts();
                let on_server: Vec<usize> = pending
                    .iter()
                    .map(|id| counts.get(id.as_str()).copied().unwrap_or(0))
                    .collect();
                let want = usize::from(hit.forwarded);
                assert!(
                    on_server.iter().all(|c| *c == want),
                    "{why}: the push {} reach the server, so each operation must be there {want} time(s): {on_server:?}",
                    if hit.forwarded { "did" } else { "did not" }
                );
            }
            _ => {
                assert!(
                    a.pending().is_empty(),
                    "{why}: nothing was waiting: {:?}",
                    a.pending()
                );
                each_once_on_server(&s.observer, &pending, &why).await;
            }
        }
    }

    s.proxy.set_fault(Fault::None);
    let report = a
        .sync()
        .await
        .unwrap_or_else(|e| panic!("{fault:?}: the clean sync must succeed: {e}"));
    b.sync()
        .await
        .unwrap_or_else(|e| panic!("{fault:?}: the desktop's last sync: {e}"));
    let why = format!("{fault:?} then a clean link");
    converged(&s, a, &expected, &why).await;
    converged(&s, &b, &expected, &why).await;
    each_once_on_server(&s.observer, &ever_queued, &why).await;
    let feed = server_feed(&s.observer).await;
    let unknown: Vec<&str> = feed
        .changes
        .iter()
        .map(|c| c.op_id.as_str())
        .filter(|id| !ever_queued.contains(*id))
        .collect();
    assert!(
        unknown.is_empty(),
        "{why}: the server holds operations no device queued: {unknown:?}"
    );
    eprintln!(
        "{why}: converged; last sync {report:?}; {} changes on the server",
        feed.changes.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_far_link_converges() {
    within(
        T,
        "64 kbit/s, 300 ms",
        faults_then_a_clean_sync(Fault::SLOW_LINK),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_mid_answer_converge() {
    within(
        T,
        "reset mid-answer",
        faults_then_a_clean_sync(Fault::ResetMidResponse),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_bodies_converge() {
    within(
        T,
        "truncated bodies",
        faults_then_a_clean_sync(Fault::TruncateBody),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_converge() {
    within(T, "500s", faults_then_a_clean_sync(Fault::Status(500))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shedding_with_retry_after_converges() {
    within(
        T,
        "429 with Retry-After",
        faults_then_a_clean_sync(Fault::Status(429)),
    )
    .await;
}
