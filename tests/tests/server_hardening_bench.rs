//! Figures for BENCHMARKS.md ("The server under attack"), a scenario rather than a timed
//! test: the real `ecommunity` (release build via `ECOMMUNITY_BIN`) on loopback.
//!
//! 1. Server memory (RSS) after 100 account requests.
//! 2. A real sign-in during a registration flood: from one address at the default limits,
//!    and with the per-address limit lifted (as a flood from many addresses would be).
//! 3. Sync latency for other users (push of 20 operations, then a pull) without and with 64
//!    slow pushes held open (a byte a second).
//!
//! ```sh
//! cargo build --release -p ecommunity
//! ECOMMUNITY_BIN=$PWD/target/release/ecommunity \
//!   cargo test -p stopover-tests --release --test server_hardening_bench -- --ignored --nocapture
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use stopover_tests::api::{self, Api, within};
use stopover_tests::load::LoadReport;
use stopover_tests::server::{NewUser, Server, ecommunity_binary};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

fn account_request(username: &str) -> serde_json::Value {
    json!({
        "username": username,
        "password": "correct horse battery",
        "display_name": "Flood",
        "email": format!("{username}@example.org"),
        "country": "KE",
        "instruments": ["CMS"],
    })
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

/// Times `n` sign-ins one after another; returns their durations in ms.
async fn time_sign_ins(api: &Api, user: &NewUser, n: usize) -> Vec<f64> {
    let mut out = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let r = api
            .post_json(
                "/v1/sessions",
                &json!({"username": user.username, "password": user.password, "device_name": "bench"}),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 201, "{}", r.describe());
        out.push(started.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    out
}

fn summary(ms: &[f64]) -> String {
    let mut v = ms.to_vec();
    v.sort_by(f64::total_cmp);
    format!(
        "p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (n={})",
        LoadReport::percentile(&v, 50.0),
        LoadReport::percentile(&v, 99.0),
        v.last().copied().unwrap_or(0.0),
        v.len()
    )
}

/// Floods `POST /v1/accounts` from 8 tasks until `stop`; returns (201s, 429s).
fn flood(
    api: &Api,
    stop: Arc<AtomicBool>,
) -> (
    Vec<tokio::task::JoinHandle<()>>,
    Arc<AtomicUsize>,
    Arc<AtomicUsize>,
) {
    let (created, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let tasks = (0..8)
        .map(|w| {
            let (api, stop, created, refused) =
                (api.clone(), stop.clone(), created.clone(), refused.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let r = api
                        .post_json("/v1/accounts", &account_request(&format!("flood-{w}-{i}")))
                        .await
                        .unwrap();
                    match r.status {
                        201 => created.fetch_add(1, Ordering::SeqCst),
                        _ => refused.fetch_add(1, Ordering::SeqCst),
                    };
                    i += 1;
                }
            })
        })
        .collect();
    (tasks, created, refused)
}

/// One slow push: headers, then a byte a second until `stop`.
async fn slow_push(addr: std::net::SocketAddr, token: String, stop: Arc<AtomicBool>) {
    let body = format!("{{\"ops\": []}}{}", " ".repeat(500));
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return;
    };
    let head = format!(
        "POST /v1/sync/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    if s.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    for b in body.as_bytes().iter().take(body.len() - 1) {
        if stop.load(Ordering::SeqCst) || s.write_all(&[*b]).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// 8 users, each 25 rounds of a push of 20 operations then a pull; per-request latencies in
/// ms and the count of 429 `busy`.
async fn sync_rounds(apis: &[Api], tag: &str) -> (Vec<f64>, usize) {
    let tasks: Vec<_> = apis
        .iter()
        .enumerate()
        .map(|(u, api)| {
            let (api, tag) = (api.clone(), tag.to_string());
            tokio::spawn(async move {
                let (mut ms, mut busy) = (Vec::new(), 0);
                for round in 0..25 {
                    let ops = api::fresh_ops(&format!("{tag}-u{u}-r{round}"), 20);
                    let started = Instant::now();
                    let r = api.push_raw(&ops).await.unwrap();
                    ms.push(started.elapsed().as_secs_f64() * 1000.0);
                    busy += usize::from(r.status == 429);
                    let started = Instant::now();
                    let r = api.get("/v1/sync/pull?cursor=0&limit=100").await.unwrap();
                    ms.push(started.elapsed().as_secs_f64() * 1000.0);
                    busy += usize::from(r.status == 429);
                }
                (ms, busy)
            })
        })
        .collect();
    let (mut all, mut busy) = (Vec::new(), 0);
    for t in tasks {
        let (ms, b) = t.await.unwrap();
        all.extend(ms);
        busy += b;
    }
    (all, busy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark scenario for BENCHMARKS.md: run with --release --ignored --nocapture"]
async fn hardening_figures() {
    within(Duration::from_secs(600), "hardening benchmark", async {
        println!("BENCH server binary: {}", ecommunity_binary().display());

        // 1. Memory after 100 account requests (the per-address limit lifted).
        let server = Server::start_with(&["--registrations-per-hour", "1000000", "--max-pending-accounts", "100000"]);
        let api = Api::new(&server.base_url);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle = server.rss_bytes().unwrap();
        let started = Instant::now();
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let api = api.clone();
                tokio::spawn(async move {
                    for i in 0..25 {
                        let r = api.post_json("/v1/accounts", &account_request(&format!("m-{w}-{i}"))).await.unwrap();
                        assert_eq!(r.status, 201, "{}", r.describe());
                    }
                })
            })
            .collect();
        for w in workers {
            w.await.unwrap();
        }
        let took = started.elapsed();
        let after = server.rss_bytes().unwrap();
        println!(
            "BENCH RSS after 100 account requests (4 at a time): {:.1} MB (idle {:.1} MB); the 100 took {:.1} s",
            mb(after),
            mb(idle),
            took.as_secs_f64()
        );
        drop(server);

        // 2. A real sign-in during a registration flood.
        for (label, args) in [
            ("one address, default limits", vec![]),
            ("per-address limit lifted", vec!["--registrations-per-hour", "1000000", "--max-pending-accounts", "1000000"]),
        ] {
            let server = Server::start_with(&args);
            let amina = NewUser::nfp("amina", "KE");
            server.user_add_approved(&amina);
            let api = Api::new(&server.base_url);
            let quiet = time_sign_ins(&api, &amina, 10).await;
            let stop = Arc::new(AtomicBool::new(false));
            let (tasks, created, refused) = flood(&api, stop.clone());
            tokio::time::sleep(Duration::from_millis(500)).await;
            let during = time_sign_ins(&api, &amina, 20).await;
            stop.store(true, Ordering::SeqCst);
            for t in tasks {
                t.await.unwrap();
            }
            println!(
                "BENCH sign-in during a registration flood ({label}): {} (without the flood: {}); flood: {} created, {} refused; RSS {:.1} MB",
                summary(&during),
                summary(&quiet),
                created.load(Ordering::SeqCst),
                refused.load(Ordering::SeqCst),
                mb(server.rss_bytes().unwrap())
            );
        }

        // 3. Sync for other users without, then with, 64 slow pushes open.
        let server = Server::start();
        let slow = server.signed_in(&NewUser::nfp("slowpoke", "KE")).await.token;
        let mut apis = Vec::new();
        for i in 0..8 {
            let token = server.signed_in(&NewUser::nfp(&format!("user{i}"), "UG")).await.token;
            apis.push(Api::new(&server.base_url).with_token(&token));
        }
        let (base, base_busy) = sync_rounds(&apis, "quiet").await;
        let stop = Arc::new(AtomicBool::new(false));
        let slow_tasks: Vec<_> = (0..64)
            .map(|_| tokio::spawn(slow_push(server.addr(), slow.clone(), stop.clone())))
            .collect();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (under, under_busy) = sync_rounds(&apis, "slowed").await;
        stop.store(true, Ordering::SeqCst);
        for t in slow_tasks {
            t.abort();
        }
        println!(
            "BENCH sync for 8 other users (push of 20 operations + pull, 400 requests): without slow pushes {} ({} busy); with 64 slow pushes open {} ({} busy)",
            summary(&base),
            base_busy,
            summary(&under),
            under_busy
        );
    })
    .await;
}
