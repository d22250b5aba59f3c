//! Load shedding on the real `ecommunity` process: many clients syncing at the same instant
//! against `--max-inflight-syncs N`. Some are told 429 with `Retry-After`; none gets a 5xx, a
//! broken connection or a malformed answer, and every operation is stored exactly once.
//!
//! The small burst runs in the normal suite. The workshop burst (300 clients) is `#[ignore]`d;
//! run it with `tests/scripts/workshop-burst.sh` (figures for BENCHMARKS.md).

use std::time::Duration;

use stopover_tests::api::within;
use stopover_tests::load::{self, LoadConfig, LoadReport};
use stopover_tests::server::Server;

fn check(report: &LoadReport, expect_shedding: bool) {
    let mut problems = Vec::new();
    if report.server_errors_5xx > 0 {
        problems.push(format!("{} answers were 5xx", report.server_errors_5xx));
    }
    if !report.connection_errors.is_empty() {
        problems.push(format!(
            "{} connection errors, e.g. {:?}",
            report.connection_errors.len(),
            &report.connection_errors[..report.connection_errors.len().min(3)]
        ));
    }
    if !report.other_status.is_empty() {
        problems.push(format!(
            "unexpected statuses, e.g. {:?}",
            &report.other_status[..report.other_status.len().min(3)]
        ));
    }
    if !report.bad_answers.is_empty() {
        problems.push(format!(
            "malformed answers, e.g. {:?}",
            &report.bad_answers[..report.bad_answers.len().min(3)]
        ));
    }
    if report.shed_without_retry_after > 0 {
        problems.push(format!(
            "{} of {} 429s had no numeric Retry-After",
            report.shed_without_retry_after, report.shed_429
        ));
    }
    if report.gave_up > 0 {
        problems.push(format!("{} clients did not finish in time", report.gave_up));
    }
    if report.ops_stored_once != report.ops_pushed {
        problems.push(format!(
            "{} of {} pushed operations are stored exactly once",
            report.ops_stored_once, report.ops_pushed
        ));
    }
    if expect_shedding && report.shed_429 == 0 {
        problems.push(format!(
            "{} clients at once against --max-inflight-syncs 4 were never answered 429",
            report.clients
        ));
    }
    assert!(
        problems.is_empty(),
        "load: {}\n{}",
        report.summary(),
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_clients_at_once_are_shed_not_failed() {
    within(Duration::from_secs(120), "40-client burst", async {
        let server = Server::start_with(&["--max-inflight-syncs", "4"]);
        let cfg = LoadConfig {
            clients: 40,
            accounts: 4,
            rounds: 2,
            ops_per_push: 100,
            give_up_after: Duration::from_secs(60),
        };
        let report = load::run(&server, &cfg).await;
        eprintln!("LOAD {}", report.summary());
        check(&report, true);
    })
    .await;
}

/// The workshop: `STOPOVER_LOAD_CLIENTS` (300) clients at once against
/// `--max-inflight-syncs STOPOVER_LOAD_INFLIGHT` (16), each pushing `STOPOVER_LOAD_ROUNDS`
/// (2) batches of `STOPOVER_LOAD_OPS` (20) operations and pulling. Prints one `LOAD …` line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark scenario: tests/scripts/workshop-burst.sh"]
async fn workshop_burst() {
    within(Duration::from_secs(600), "workshop burst", async {
        let inflight: usize = load::env_or("STOPOVER_LOAD_INFLIGHT", 16);
        let server = Server::start_with(&["--max-inflight-syncs", &inflight.to_string()]);
        let cfg = LoadConfig {
            clients: load::env_or("STOPOVER_LOAD_CLIENTS", 300),
            accounts: load::env_or("STOPOVER_LOAD_ACCOUNTS", 10),
            rounds: load::env_or("STOPOVER_LOAD_ROUNDS", 2),
            ops_per_push: load::env_or("STOPOVER_LOAD_OPS", 20),
            give_up_after: Duration::from_secs(300),
        };
        let report = load::run(&server, &cfg).await;
        println!("LOAD inflight={inflight} {}", report.summary());
        check(&report, false);
    })
    .await;
}
