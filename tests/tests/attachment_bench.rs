//! Attachment figures for BENCHMARKS.md (a scenario, not a timed test): the real client
//! (stopover-core in-process, the app's own calls) and the real `ecommunity` process, with the
//! test proxy between them as a 64 kbit/s link with 300 ms one-way delay.
//!
//! ```text
//! cargo build --release -p ecommunity
//! ECOMMUNITY_BIN=target/release/ecommunity \
//!   cargo test -p stopover-tests --release --test attachment_bench -- --ignored --nocapture
//! ```
//!
//! Prints `BENCH …` lines:
//! - a 5 MB attachment (incompressible, like a scanned map) attached to a report answer and
//!   uploaded by `upload_pending`, against the link's minimum for its bytes
//!   (5 000 000 · 8 / 64 000 s plus one round trip); goal ≤ 1.05×;
//! - a checklist tick queued while that upload runs: how much longer its sync round takes than
//!   the same round with the link idle; goal ≤ one round trip (0.6 s).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use stopover_core::reports;
use stopover_core::sync::attachments;
use stopover_protocol::files::hex;
use stopover_tests::api::within;
use stopover_tests::client::Device;
use stopover_tests::proxy::{Fault, Proxy};
use stopover_tests::server::{NewUser, Server, ecommunity_binary};

const FILE_BYTES: usize = 5_000_000;
const ROUND_TRIP: f64 = 0.6;

async fn timed_round(device: &Device) -> Duration {
    let started = Instant::now();
    device
        .sync()
        .await
        .unwrap_or_else(|e| panic!("sync round: {e}"));
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark scenario for BENCHMARKS.md: run with --release --ignored --nocapture"]
async fn attachment_figures() {
    within(Duration::from_secs(1500), "attachment benchmark", async {
        println!("BENCH server binary: {}", ecommunity_binary().display());
        let server = Server::start();
        let user = NewUser::nfp("amina", "KE");
        server.user_add_approved(&user);
        let proxy = Proxy::start(server.addr()).await;
        let laptop = Arc::new(Device::sign_in("laptop", &proxy.url(), &user).await);
        let steps = laptop.steps();
        laptop.sync().await.unwrap();
        proxy.set_fault(Fault::SLOW_LINK);

        // A tick's round with the link idle, twice (the median of two is their mean).
        let mut alone = Vec::new();
        for (i, (list, step)) in steps.iter().take(2).enumerate() {
            laptop.tick(list, step, i % 2 == 0);
            alone.push(timed_round(&laptop).await.as_secs_f64());
        }
        let alone = alone.iter().sum::<f64>() / alone.len() as f64;

        // The map: attached to the report's file question as the app does (copied into the
        // data folder, the answer queued), then its answer synced.
        let mut rng = stopover_tests::proxy::Rng::new(7);
        let map: Vec<u8> = (0..FILE_BYTES).map(|_| rng.next_u64() as u8).collect();
        let sha = hex(&Sha256::digest(&map));
        let draft = reports::create_draft(&laptop.core, "cms-national-report", "COP15").unwrap();
        reports::files::attach_file(
            &laptop.core,
            &draft.id,
            "closing/supporting_documents",
            "carte des sites.pdf",
            &map,
        )
        .unwrap();
        laptop.sync().await.unwrap();

        // The upload, beside sync rounds, as the app runs it.
        proxy.reset_stats();
        let uploader = Arc::clone(&laptop);
        let started = Instant::now();
        let upload = tokio::spawn(async move {
            let token = uploader.token();
            attachments::upload_pending(&uploader.core, &uploader.client, &token, &|_| {}).await
        });

        // A tick queued while it runs.
        tokio::time::sleep(Duration::from_secs(20)).await;
        let (list, step) = &steps[2];
        laptop.tick(list, step, true);
        let during = timed_round(&laptop).await.as_secs_f64();
        assert!(!upload.is_finished(), "the upload was still under way during the tick");

        let report = upload.await.unwrap().unwrap_or_else(|e| panic!("upload: {e}"));
        let took = started.elapsed().as_secs_f64();
        assert_eq!(report.uploaded, vec![sha.clone()]);
        let minimum = FILE_BYTES as f64 * 8.0 / 64_000.0 + ROUND_TRIP;
        let s = proxy.stats();
        println!(
            "BENCH 5 MB attachment over 64 kbit/s + 300 ms: {took:.1} s; the link's minimum for \
             its bytes {minimum:.1} s; measured/minimum = {:.3} (goal <= 1.05); {} chunks of {} KiB; \
             {} B on the wire in {} exchanges (including the tick's round)",
            took / minimum,
            FILE_BYTES.div_ceil(attachments::DEFAULT_CHUNK_BYTES),
            attachments::DEFAULT_CHUNK_BYTES / 1024,
            s.wire(),
            s.requests,
        );
        println!(
            "BENCH tick queued during that upload: its sync round {during:.2} s, {alone:.2} s with \
             the link idle; delay {:.2} s (goal <= one round trip, {ROUND_TRIP} s)",
            during - alone,
        );

        // The server holds the file byte for byte.
        let direct = Device::sign_in("desktop", &server.base_url, &user).await;
        let back = attachments::download(&direct.client, &direct.token(), &sha)
            .await
            .unwrap_or_else(|e| panic!("download: {e}"));
        assert!(back == map, "the server's copy is the file");
    })
    .await;
}
