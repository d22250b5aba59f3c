//! Sync figures for BENCHMARKS.md (scenarios, not timed tests): the real client
//! (stopover-core in-process) and the real `ecommunity` process. `sync_over_tls_figures` puts
//! a TLS front between them (tests/src/tls_front.rs: TLS 1.3, HTTP/2, the link modelled under
//! TLS, handshakes charged); the others the plain-HTTP test proxy, counting every byte of HTTP
//! it carries (request and status lines, headers and bodies; not TCP/IP framing).
//!
//! ```text
//! cargo build --release -p ecommunity
//! ECOMMUNITY_BIN=target/release/ecommunity \
//!   cargo test -p stopover-tests --release --test sync_bench -- --ignored --nocapture
//! # the HTTPS figures alone:
//! ECOMMUNITY_BIN=target/release/ecommunity \
//!   cargo test -p stopover-tests --release --test sync_bench sync_over_tls -- --ignored --nocapture
//! ```
//!
//! Prints `BENCH …` lines:
//! - the bytes to push one tick (the push exchange alone, and the whole sync round), and their
//!   ratio to the gzip size of the push's JSON;
//! - the bytes to pull 100 changes (the pull exchange alone, and a whole sync round);
//! - the time to sync 50 changes over 64 kbit/s with 300 ms one-way delay, against the
//!   physical minimum for the bytes and round trips it used (bytes·8/64000 + exchanges·0.6 s);
//!   then the same with a 1 MB attachment (about two and a half minutes on that link).

use std::io::Write;
use std::time::{Duration, Instant};

use stopover_core::sync::attachments::{self, AttachmentSource};
use stopover_core::sync::{self, SyncClient, SyncReport};
use stopover_protocol::{MAX_OPS_PER_PUSH, MAX_PULL_LIMIT, PushRequest};
use stopover_tests::api::within;
use stopover_tests::client::Device;
use stopover_tests::proxy::{Fault, Proxy};
use stopover_tests::server::{NewUser, Server, ecommunity_binary};
use stopover_tests::tls_front::{Link, TlsFront};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    // As the client compresses its push bodies (flate2, default level).
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// A note of a typical length.
fn note_text(n: usize) -> String {
    format!("Called the ministry's focal point about this; waiting for the signed letter ({n}).")
}

/// 50 edits on 25 steps of the pack (a tick and a note each), made on `device`.
fn fifty_edits(device: &Device, steps: &[(String, String)], round: usize) {
    for (i, (list, step)) in steps.iter().take(25).enumerate() {
        device.tick(list, step, round.is_multiple_of(2));
        device.note(list, step, &note_text(round * 100 + i));
    }
}

async fn timed_sync(device: &Device) -> (SyncReport, Duration) {
    let started = Instant::now();
    let report = device
        .sync()
        .await
        .unwrap_or_else(|e| panic!("{}: sync failed: {e}", device.name));
    (report, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark scenario for BENCHMARKS.md: run with --release --ignored --nocapture"]
async fn sync_figures() {
    within(Duration::from_secs(600), "sync benchmark", async {
        println!("BENCH server binary: {}", ecommunity_binary().display());
        let server = Server::start();
        let user = NewUser::nfp("amina", "KE");
        server.user_add_approved(&user);
        let proxy = Proxy::start(server.addr()).await;
        let laptop = Device::sign_in("laptop", &proxy.url(), &user).await;
        let desktop = Device::sign_in("desktop", &server.base_url, &user).await;
        let steps = laptop.steps();
        assert!(steps.len() >= 50, "the pack has {} steps", steps.len());
        // A first sync, so the connection is open as it is after the app's previous round.
        laptop.sync().await.unwrap();

        // 1. One tick.
        let (list, step) = &steps[0];
        laptop.tick(list, step, true);
        let token = laptop.token();
        proxy.reset_stats();
        let batch = sync::next_batch(&laptop.core, MAX_OPS_PER_PUSH).unwrap();
        assert_eq!(batch.len(), 1);
        let json = serde_json::to_vec(&PushRequest { ops: batch.clone(), pull: None }).unwrap();
        let gz = gzip(&json);
        let (answer, transfer) = laptop.client.push(&token, &batch).await.unwrap();
        sync::apply_push_results(&laptop.core, &batch, &answer).unwrap();
        let push = proxy.stats();
        assert_eq!(push.requests, 1);
        println!(
            "BENCH push one tick (push exchange only): {} B on the wire (request {} B, answer {} B); payload JSON {} B, \
             gzip {} B (body sent: {} B); wire/gzip = {:.1}x, wire/JSON = {:.1}x",
            push.wire(),
            push.bytes_up,
            push.bytes_down,
            json.len(),
            gz.len(),
            transfer.bytes_sent,
            push.wire() as f64 / gz.len() as f64,
            push.wire() as f64 / json.len() as f64,
        );
        laptop.tick(list, step, false);
        proxy.reset_stats();
        laptop.sync().await.unwrap();
        let round = proxy.stats();
        println!(
            "BENCH push one tick (whole sync round: the push, its page in the answer): {} B in {} requests \
             (up {} B, down {} B); wire/gzip = {:.1}x; exchanges: {}",
            round.wire(),
            round.requests,
            round.bytes_up,
            round.bytes_down,
            round.wire() as f64 / gz.len() as f64,
            proxy.exchanges(),
        );

        // 2. Pull 100 changes: the desktop edits 50 fields twice.
        let feed_before = sync::pull_cursor(&laptop.core.conn()).unwrap();
        for r in 0..2 {
            fifty_edits(&desktop, &steps[10..], r);
            desktop.sync().await.unwrap();
        }
        let tablet_proxy = Proxy::start(server.addr()).await;
        let tablet = Device::sign_in("tablet", &tablet_proxy.url(), &user).await;
        let tablet_token = tablet.token();
        tablet_proxy.reset_stats();
        let (page, t) = tablet.client.pull(&tablet_token, feed_before, MAX_PULL_LIMIT).await.unwrap();
        assert_eq!(page.changes.len(), 100, "the desktop's 100 changes, in one page");
        let pull = tablet_proxy.stats();
        let changes_json = serde_json::to_vec(&page).unwrap();
        println!(
            "BENCH pull {} changes (pull exchange only, one page): {} B on the wire (request {} B, answer {} B); \
             answer JSON {} B (decompressed body {} B), gzip of it {} B",
            page.changes.len(),
            pull.wire(),
            pull.bytes_up,
            pull.bytes_down,
            changes_json.len(),
            t.bytes_received,
            gzip(&changes_json).len(),
        );
        let laptop_changes_before = sync::pull_cursor(&laptop.core.conn()).unwrap();
        // The laptop had not seen the desktop's 100 changes: a whole round to get them.
        proxy.reset_stats();
        let (report, took) = timed_sync(&laptop).await;
        let round = proxy.stats();
        println!(
            "BENCH pull 100 changes (whole sync round, loopback): {} B in {} requests (up {} B, down {} B), {:.0} ms; \
             pulled {} (cursor {} -> {})",
            round.wire(),
            round.requests,
            round.bytes_up,
            round.bytes_down,
            took.as_secs_f64() * 1000.0,
            report.pulled,
            laptop_changes_before,
            sync::pull_cursor(&laptop.core.conn()).unwrap()
        );

        // 3. 50 changes over the slow, far link.
        proxy.set_fault(Fault::SLOW_LINK);
        let mut rows = Vec::new();
        for r in 0..3 {
            fifty_edits(&laptop, &steps[30..], r);
            assert_eq!(laptop.waiting(), 50);
            proxy.reset_stats();
            let (report, took) = timed_sync(&laptop).await;
            let s = proxy.stats();
            let minimum = s.wire() as f64 * 8.0 / 64_000.0 + s.requests as f64 * 0.6;
            println!(
                "BENCH sync 50 changes over 64 kbit/s + 300 ms (run {r}): {:.2} s; {} B on the wire (up {} B, down {} B) \
                 in {} exchanges; physical minimum {:.2} s ({:.2} s for the bytes + {} x 0.6 s); measured/minimum = {:.2}; \
                 pushed {}, pulled {} (no echo of its own); body bytes sent {}, received {} (decompressed); \
                 exchanges: {}",
                took.as_secs_f64(),
                s.wire(),
                s.bytes_up,
                s.bytes_down,
                s.requests,
                minimum,
                s.wire() as f64 * 8.0 / 64_000.0,
                s.requests,
                took.as_secs_f64() / minimum,
                report.pushed,
                report.pulled,
                report.bytes_sent,
                report.bytes_received,
                proxy.exchanges(),
            );
            rows.push((took, minimum));
        }
        let mut ratios: Vec<f64> = rows.iter().map(|(t, m)| t.as_secs_f64() / m).collect();
        ratios.sort_by(f64::total_cmp);
        println!("BENCH sync 50 changes over the slow link: median measured/minimum = {:.2}", ratios[1]);

        if std::env::var("STOPOVER_BENCH_ATTACHMENT").as_deref() == Ok("0") {
            println!("BENCH 1 MB attachment: skipped (STOPOVER_BENCH_ATTACHMENT=0)");
            return;
        }
        // 4. 50 changes plus a 1 MB attachment (incompressible, like a scanned PDF), uploaded
        //    with tus in the client's default chunks, over the same link.
        fifty_edits(&laptop, &steps[30..], 3);
        let mut rng = stopover_tests::proxy::Rng::new(1);
        let pdf: Vec<u8> = (0..1_000_000).map(|_| rng.next_u64() as u8).collect();
        proxy.reset_stats();
        let started = Instant::now();
        let report = laptop.sync().await.unwrap_or_else(|e| panic!("sync before the attachment: {e}"));
        let sync_took = started.elapsed();
        let sha = attachments::upload(&laptop.core, &laptop.client, &token, AttachmentSource::bytes(&pdf, Some("report.pdf")), &|_| {})
            .await
            .unwrap_or_else(|e| panic!("1 MB upload over the slow link: {e}"));
        let took = started.elapsed();
        let s = proxy.stats();
        let minimum = s.wire() as f64 * 8.0 / 64_000.0 + s.requests as f64 * 0.6;
        println!(
            "BENCH sync 50 changes + 1 MB attachment over 64 kbit/s + 300 ms: {:.1} s (the 50 changes {:.2} s, the upload \
             {:.1} s in chunks of {} KiB); {} B on the wire (up {} B, down {} B) in {} exchanges; physical minimum {:.1} s \
             ({:.1} s for the bytes + {} x 0.6 s); measured/minimum = {:.3}; pushed {}; exchanges: {}",
            took.as_secs_f64(),
            sync_took.as_secs_f64(),
            (took - sync_took).as_secs_f64(),
            attachments::DEFAULT_CHUNK_BYTES / 1024,
            s.wire(),
            s.bytes_up,
            s.bytes_down,
            s.requests,
            minimum,
            s.wire() as f64 * 8.0 / 64_000.0,
            s.requests,
            took.as_secs_f64() / minimum,
            report.pushed,
            proxy.exchanges(),
        );
        let back = attachments::download(&tablet.client, &tablet_token, &sha).await.unwrap_or_else(|e| panic!("download: {e}"));
        assert!(back == pdf, "the attachment another device downloads is the one uploaded");
    })
    .await;
}

/// The answers of a report as ODK-style tools send them: the whole instance as one XML
/// document, every time (uncompressed, as a multipart form upload).
fn whole_report_xml(answers: &std::collections::BTreeMap<String, String>) -> String {
    let mut xml = String::from("<?xml version=\"1.0\"?><data id=\"cms_national_report\">");
    for (path, value) in answers {
        let tag = path.replace(['[', ']'], "_").replace('/', "-");
        xml.push_str(&format!("<{tag}>{value}</{tag}>"));
    }
    xml.push_str("</data>");
    xml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark scenario for BENCHMARKS.md: run with --release --ignored --nocapture"]
async fn report_answer_figures() {
    use stopover_core::reports;
    within(Duration::from_secs(300), "report answer benchmark", async {
        let server = Server::start();
        stopover_tests::reports::publish_pack(&server);
        let user = NewUser::nfp("amina", "KE");
        server.user_add_approved(&user);
        let proxy = Proxy::start(server.addr()).await;
        let laptop = Device::sign_in("laptop", &proxy.url(), &user).await;
        let core = &laptop.core;

        // A CMS report of 300 answered questions: the required ones, then species rows.
        let id = reports::create_draft(core, "cms-national-report", "COP15").unwrap().id;
        reports::set_answer(core, &id, "appendix_i/app1_present", "yes").unwrap();
        stopover_tests::reports::fill_required(core, &id);
        let species = "appendix_i/app1_species";
        while reports::draft_answers(core, &id).unwrap().len() < 300 {
            reports::add_repeat_row(core, &id, species).unwrap();
            stopover_tests::reports::fill_required(core, &id);
        }
        let answers = reports::draft_answers(core, &id).unwrap();
        let mut backoff = sync::Backoff::default();
        laptop.sync_with_backoff(&mut backoff, Duration::from_secs(60)).await;
        assert_eq!(laptop.waiting(), 0);

        // One changed answer.
        let path = answers.keys().find(|p| p.ends_with("lead_institution")).unwrap().clone();
        reports::set_answer(core, &id, &path, "Ministry of Environment and Forestry").unwrap();
        let token = laptop.token();
        proxy.reset_stats();
        let batch = sync::next_batch(core, MAX_OPS_PER_PUSH).unwrap();
        assert_eq!(batch.len(), 1);
        let (answer, _) = laptop.client.push(&token, &batch).await.unwrap();
        assert!(
            matches!(answer.results[0].outcome, stopover_protocol::Outcome::Applied { .. }),
            "{answer:?}"
        );
        sync::apply_push_results(core, &batch, &answer).unwrap();
        let push = proxy.stats();
        println!(
            "BENCH one changed answer of a {}-answer report (push exchange only): {} B on the wire (request {} B, answer {} B)",
            answers.len(),
            push.wire(),
            push.bytes_up,
            push.bytes_down
        );
        reports::set_answer(core, &id, &path, "Ministry of Environment").unwrap();
        proxy.reset_stats();
        laptop.sync().await.unwrap();
        let round = proxy.stats();
        println!(
            "BENCH one changed answer (whole sync round: the push, its page in the answer): {} B in {} requests; exchanges: {}",
            round.wire(),
            round.requests,
            proxy.exchanges()
        );
        let xml = whole_report_xml(&reports::draft_answers(core, &id).unwrap());
        println!(
            "BENCH the whole report re-sent (ODK-style XML instance of {} answers): {} B body uncompressed, {} B gzipped",
            answers.len(),
            xml.len(),
            gzip(xml.as_bytes()).len()
        );
    })
    .await;
}

/// One measured round through the TLS front: what the link carried and what it cost.
struct TlsRound {
    took: Duration,
    stats: stopover_tests::tls_front::FrontStats,
    report: SyncReport,
    requests: Vec<String>,
}

impl TlsRound {
    /// The least time for the wire bytes of this round and `round_trips`, on the slow link.
    fn wire_minimum(&self, round_trips: u32) -> Duration {
        Link::SLOW.minimum(self.stats.wire(), round_trips)
    }

    /// The least time for the payload alone (compressed bodies) and `round_trips`.
    fn payload_minimum(&self, round_trips: u32) -> Duration {
        Link::SLOW.minimum(self.stats.payload(), round_trips)
    }

    fn line(&self, what: &str, round_trips: u32, goal: &str) -> String {
        let s = &self.stats;
        format!(
            "BENCH TLS {what}: {:.2} s; {} B on the wire (up {} B, down {} B), payload {} B (bodies up {} B, down {} B); \
             {} request(s) {:?}, {} new connection(s) ({} full / {} resumed TLS handshakes), {} over HTTP/2; \
             measured / (wire bytes / bandwidth + {round_trips} RTT = {:.2} s) = {:.2}; \
             measured / (payload / bandwidth + {round_trips} RTT = {:.2} s) = {:.2}; goal: {goal}; pushed {}, pulled {}",
            self.took.as_secs_f64(),
            s.wire(),
            s.bytes_up,
            s.bytes_down,
            s.payload(),
            s.body_up,
            s.body_down,
            s.requests,
            self.requests,
            s.connections,
            s.full_handshakes,
            s.resumed_handshakes,
            s.http2_requests,
            self.wire_minimum(round_trips).as_secs_f64(),
            self.took.as_secs_f64() / self.wire_minimum(round_trips).as_secs_f64(),
            self.payload_minimum(round_trips).as_secs_f64(),
            self.took.as_secs_f64() / self.payload_minimum(round_trips).as_secs_f64(),
            self.report.pushed,
            self.report.pulled,
        )
    }
}

async fn tls_round(front: &TlsFront, device: &Device) -> TlsRound {
    front.reset_stats();
    let (report, took) = timed_sync(device).await;
    TlsRound {
        took,
        stats: front.stats(),
        report,
        requests: front.requests(),
    }
}

/// Closes the front's connections, as a server's idle timeout does between rounds.
async fn idle_timeout(front: &TlsFront) {
    front.drop_connections();
    tokio::time::sleep(Duration::from_millis(200)).await;
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The sync figures over HTTPS: the real client through a TLS front (test CA, TLS 1.3,
/// HTTP/2 by ALPN) over 64 kbit/s + 300 ms, the TCP and TLS handshakes charged. Each run:
/// 50 changes cold (a new client: TCP, full TLS handshake, the round), warm (the open
/// connection), resumed (the connection closed, the TLS session resumed); a pull-only round
/// and an empty round, warm. Then one changed answer of a 300-answer report, warm.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark scenario for BENCHMARKS.md: run with --release --ignored --nocapture"]
async fn sync_over_tls_figures() {
    use stopover_core::reports;
    within(Duration::from_secs(600), "TLS sync benchmark", async {
        println!("BENCH server binary: {}", ecommunity_binary().display());
        let server = Server::start();
        let user = NewUser::nfp("amina", "KE");
        server.user_add_approved(&user);
        let front = TlsFront::start(server.addr()).await;
        let tls_client = || SyncClient::with_extra_root(&front.url(), front.ca_pem()).unwrap();
        let mut laptop = Device::sign_in_with("laptop", tls_client(), &user).await;
        let desktop = Device::sign_in("desktop", &server.base_url, &user).await;
        let steps = laptop.steps();
        assert!(steps.len() >= 55, "the pack has {} steps", steps.len());
        laptop.sync().await.unwrap();
        front.set_link(Some(Link::SLOW));
        let (mut cold, mut warm, mut resumed) = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..3 {
            // Cold: a new client (as after the app starts), no connection, no TLS session.
            idle_timeout(&front).await;
            laptop.client = tls_client();
            fifty_edits(&laptop, &steps[30..], run * 3);
            let r = tls_round(&front, &laptop).await;
            assert_eq!((r.stats.requests, r.stats.connections, r.stats.full_handshakes), (1, 1, 1), "{:?}", r.requests);
            assert_eq!(r.report.pushed, 50);
            println!("{}", r.line(&format!("50 changes, cold (run {run})"), 3, "<= payload / bandwidth + 3 RTT"));
            cold.push(r);

            // Warm: the same client, the connection still open.
            fifty_edits(&laptop, &steps[30..], run * 3 + 1);
            let r = tls_round(&front, &laptop).await;
            assert_eq!((r.stats.requests, r.stats.connections), (1, 0), "{:?}", r.requests);
            assert_eq!(r.stats.http2_requests, 1);
            println!("{}", r.line(&format!("50 changes, warm (run {run})"), 1, "<= 1.3 x (payload / bandwidth + 1 RTT)"));
            warm.push(r);

            // Resumed: the connection closed since (idle timeout), the TLS session resumed.
            idle_timeout(&front).await;
            fifty_edits(&laptop, &steps[30..], run * 3 + 2);
            let r = tls_round(&front, &laptop).await;
            assert_eq!((r.stats.requests, r.stats.connections, r.stats.resumed_handshakes), (1, 1, 1), "{:?}", r.requests);
            println!("{}", r.line(&format!("50 changes, resumed (run {run})"), 3, "-"));
            resumed.push(r);

            // News from the other device, nothing to send: one pull; then nothing at all.
            let (list, step) = &steps[run];
            desktop.note(list, step, &format!("from the desktop, run {run}"));
            desktop.sync().await.unwrap();
            let r = tls_round(&front, &laptop).await;
            assert_eq!((r.stats.requests, r.report.pulled), (1, 1), "{:?}", r.requests);
            println!("{}", r.line(&format!("pull one change, warm (run {run})"), 1, "-"));
            let r = tls_round(&front, &laptop).await;
            assert_eq!((r.stats.requests, r.report.pulled), (1, 0), "{:?}", r.requests);
            println!("{}", r.line(&format!("nothing new, warm (run {run})"), 1, "-"));
        }
        let ratio = |rows: &[TlsRound], rtts: u32, payload: bool| {
            median(
                rows.iter()
                    .map(|r| {
                        let min = if payload { r.payload_minimum(rtts) } else { r.wire_minimum(rtts) };
                        r.took.as_secs_f64() / min.as_secs_f64()
                    })
                    .collect(),
            )
        };
        let secs = |rows: &[TlsRound]| median(rows.iter().map(|r| r.took.as_secs_f64()).collect());
        println!(
            "BENCH TLS 50 changes medians: cold {:.2} s (x{:.2} of payload/bw + 3 RTT, x{:.2} of wire/bw + 3 RTT); \
             warm {:.2} s (x{:.2} of payload/bw + 1 RTT, x{:.2} of wire/bw + 1 RTT); resumed {:.2} s (x{:.2} of payload/bw + 3 RTT)",
            secs(&cold),
            ratio(&cold, 3, true),
            ratio(&cold, 3, false),
            secs(&warm),
            ratio(&warm, 1, true),
            ratio(&warm, 1, false),
            secs(&resumed),
            ratio(&resumed, 3, true),
        );

        // One changed answer of a 300-answer report, warm.
        front.set_link(None);
        idle_timeout(&front).await;
        let core = &laptop.core;
        let id = reports::create_draft(core, "cms-national-report", "COP15").unwrap().id;
        reports::set_answer(core, &id, "appendix_i/app1_present", "yes").unwrap();
        stopover_tests::reports::fill_required(core, &id);
        while reports::draft_answers(core, &id).unwrap().len() < 300 {
            reports::add_repeat_row(core, &id, "appendix_i/app1_species").unwrap();
            stopover_tests::reports::fill_required(core, &id);
        }
        let mut backoff = sync::Backoff::default();
        laptop.sync_with_backoff(&mut backoff, Duration::from_secs(60)).await;
        assert_eq!(laptop.waiting(), 0);
        front.set_link(Some(Link::SLOW));
        idle_timeout(&front).await;
        laptop.sync().await.unwrap(); // opens the connection over the link
        let answers = reports::draft_answers(core, &id).unwrap();
        let path = answers.keys().find(|p| p.ends_with("lead_institution")).unwrap().clone();
        let mut rows = Vec::new();
        for (run, text) in ["Ministry of Environment and Forestry", "Ministry of Environment", "Ministry of Forestry"]
            .into_iter()
            .enumerate()
        {
            reports::set_answer(core, &id, &path, text).unwrap();
            let r = tls_round(&front, &laptop).await;
            assert_eq!((r.stats.requests, r.stats.connections, r.report.pushed), (1, 0, 1), "{:?}", r.requests);
            println!("{}", r.line(&format!("one changed answer of {} answers, warm (run {run})", answers.len()), 1, "1 RTT + its bytes; <= 800 B"));
            rows.push(r);
        }
        println!(
            "BENCH TLS one changed answer medians: {:.2} s, {} B on the wire, x{:.2} of wire/bw + 1 RTT",
            secs(&rows),
            median(rows.iter().map(|r| r.stats.wire() as f64).collect()),
            ratio(&rows, 1, false),
        );
    })
    .await;
}
