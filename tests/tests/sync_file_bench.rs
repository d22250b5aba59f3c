//! Benchmark for BENCHMARKS.md: a sync-file round trip for a week of offline work (a 300-answer
//! national report, 50 checklist ticks and notes, 10 forum threads), against the real
//! `ecommunity bundle import`: bytes of the changes file and of the reply, and the time of
//! each step (save, import as a separate process, load the reply).
//!
//! Run: `cargo build --release -p ecommunity && ECOMMUNITY_BIN=target/release/ecommunity
//! cargo test -p stopover-tests --release --test sync_file_bench -- --ignored --nocapture`

use std::time::Instant;

use stopover_core::{forum, reports, sync};
use stopover_tests::client::Device;
use stopover_tests::reports::{fill_required, publish_pack};
use stopover_tests::server::{NewUser, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark scenario for BENCHMARKS.md: run with --release --ignored --nocapture"]
async fn a_week_of_work_through_a_sync_file() {
    let server = Server::start();
    publish_pack(&server);
    let amina = NewUser::nfp("amina", "KE");
    server.user_add_approved(&amina);
    let url = server.base_url.clone();
    let laptop = Device::sign_in("amina-laptop", &url, &amina).await;
    let office = Device::sign_in("amina-office", &url, &amina).await;
    // Up to date once (forum categories, events, the content of the feed so far).
    laptop.sync().await.unwrap();

    // The week, offline.
    let core = &laptop.core;
    let id = reports::create_draft(core, "cms-national-report", "COP15")
        .unwrap()
        .id;
    reports::set_answer(core, &id, "appendix_i/app1_present", "yes").unwrap();
    fill_required(core, &id);
    while reports::draft_answers(core, &id).unwrap().len() < 300 {
        reports::add_repeat_row(core, &id, "appendix_i/app1_species").unwrap();
        fill_required(core, &id);
    }
    let steps = laptop.steps();
    for (n, (list, step)) in steps.iter().cycle().take(50).enumerate() {
        if n < steps.len() {
            laptop.tick(list, step, true);
        } else {
            laptop.note(
                list,
                step,
                "Asked the ministry's legal unit; answer expected next week.",
            );
        }
    }
    let category = forum::categories(core, "en").unwrap()[0].id.clone();
    for n in 0..10 {
        forum::new_thread(
            core,
            &category,
            &format!("Question {n} on the national report"),
            "How did other Parties count the range states of a species listed in Appendix I \
             when part of its range is disputed? We would like to follow the same practice.",
        )
        .unwrap();
    }
    // Meanwhile the office (same account, online) ticks a few steps: the reply brings them.
    for (list, step) in steps.iter().rev().take(10) {
        office.tick(list, step, true);
    }
    office.sync().await.unwrap();
    let waiting = laptop.waiting();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("week.stopsync");
    let reply = dir.path().join("reply.stopsync");
    let t = Instant::now();
    let saved = sync::save_changes(core, &laptop.token(), &file).unwrap();
    let save_time = t.elapsed();

    let t = Instant::now();
    let out = server.cli_ok(&[
        "bundle",
        "import",
        file.to_str().unwrap(),
        "--reply",
        reply.to_str().unwrap(),
    ]);
    let import_time = t.elapsed();
    assert!(out.contains("applied"), "{out}");
    let reply_bytes = std::fs::metadata(&reply).unwrap().len();

    let t = Instant::now();
    let loaded = sync::load_reply(core, &reply).unwrap();
    let load_time = t.elapsed();
    assert_eq!(laptop.waiting(), waiting - saved.operations);
    assert_eq!(loaded.acknowledged, saved.operations);

    // The same file again: nothing applied, and how long the check takes.
    let again = dir.path().join("again.stopsync");
    let t = Instant::now();
    let out = server.cli_ok(&[
        "bundle",
        "import",
        file.to_str().unwrap(),
        "--reply",
        again.to_str().unwrap(),
    ]);
    let reimport_time = t.elapsed();
    assert!(out.contains(" 0 applied"), "{out}");

    println!(
        "BENCH sync file, a week of work: {} operations ({} waiting: one per field goes per file); \
         changes file {} B; reply {} B ({} changes); save {:.0} ms, bundle import {:.0} ms \
         (process included), load reply {:.0} ms, second import {:.0} ms (0 applied)",
        saved.operations,
        waiting,
        saved.bytes,
        reply_bytes,
        loaded.pulled,
        save_time.as_secs_f64() * 1000.0,
        import_time.as_secs_f64() * 1000.0,
        load_time.as_secs_f64() * 1000.0,
        reimport_time.as_secs_f64() * 1000.0,
    );
}
