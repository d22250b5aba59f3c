//! The workshop burst: many clients syncing against one server at the same instant.
//!
//! Each simulated client has its own connection pool, waits at a barrier so all start at
//! once, pushes `rounds` batches of `ops_per_push` operations on its own entities, then pulls
//! everything of its account from cursor 0. A 429 is honoured (its `Retry-After` plus up to
//! 500 ms of jitter) and retried with the same operation ids; a 5xx, a connection error, a
//! timeout or a malformed answer is an error. Accounts are shared by several clients (sign-in
//! is rate-limited per address), each client writing its own entities.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stopover_protocol::Outcome;

use crate::api::{self, Api};
use crate::proxy::Rng;
use crate::server::{NewUser, Server};

#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub clients: usize,
    /// Accounts the clients are spread over.
    pub accounts: usize,
    pub rounds: usize,
    pub ops_per_push: usize,
    /// How long one client may keep retrying after 429s before it counts as failed.
    pub give_up_after: Duration,
}

/// What happened to every request.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub clients: usize,
    pub requests: usize,
    pub ok: usize,
    pub shed_429: usize,
    /// 429s without a numeric `Retry-After`.
    pub shed_without_retry_after: usize,
    pub server_errors_5xx: usize,
    pub other_status: Vec<String>,
    pub connection_errors: Vec<String>,
    pub bad_answers: Vec<String>,
    /// Clients that did not finish within `give_up_after`.
    pub gave_up: usize,
    /// Per request, from send to whole answer.
    pub request_ms: Vec<f64>,
    /// Per client, from the start signal to its last answer (all pushes and the pull).
    pub sync_ms: Vec<f64>,
    pub elapsed: Duration,
    /// Operations the clients pushed, and how many of them the server holds exactly once.
    pub ops_pushed: usize,
    pub ops_stored_once: usize,
}

impl LoadReport {
    pub fn errors(&self) -> usize {
        self.server_errors_5xx
            + self.other_status.len()
            + self.connection_errors.len()
            + self.bad_answers.len()
            + self.gave_up
            + self.shed_without_retry_after
    }

    pub fn percentile(values: &[f64], p: f64) -> f64 {
        if values.is_empty() {
            return 0.0;
        }
        let mut v = values.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        let idx = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
        v[idx.min(v.len() - 1)]
    }

    /// One line of figures, for BENCHMARKS.md.
    pub fn summary(&self) -> String {
        format!(
            "clients={} requests={} ok={} 429={} 5xx={} conn_errors={} other={} bad={} gave_up={} \
             req_p50_ms={:.0} req_p99_ms={:.0} sync_p50_ms={:.0} sync_p99_ms={:.0} elapsed_s={:.2} \
             throughput_req_per_s={:.0} ops_pushed={} ops_stored_once={}",
            self.clients,
            self.requests,
            self.ok,
            self.shed_429,
            self.server_errors_5xx,
            self.connection_errors.len(),
            self.other_status.len(),
            self.bad_answers.len(),
            self.gave_up,
            Self::percentile(&self.request_ms, 50.0),
            Self::percentile(&self.request_ms, 99.0),
            Self::percentile(&self.sync_ms, 50.0),
            Self::percentile(&self.sync_ms, 99.0),
            self.elapsed.as_secs_f64(),
            self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9),
            self.ops_pushed,
            self.ops_stored_once,
        )
    }
}

#[derive(Default)]
struct ClientLog {
    requests: usize,
    ok: usize,
    shed: usize,
    shed_without_retry_after: usize,
    server_errors: usize,
    other_status: Vec<String>,
    connection_errors: Vec<String>,
    bad_answers: Vec<String>,
    gave_up: bool,
    request_ms: Vec<f64>,
    sync_ms: Option<f64>,
}

enum Step<T> {
    Done(T),
    Retry(Duration),
    Fail,
}

/// One request, classified; `Retry` after a 429.
async fn attempt<T>(
    log: &mut ClientLog,
    rng: &mut Rng,
    what: &str,
    req: impl std::future::Future<Output = Result<api::Reply, reqwest::Error>>,
    parse: impl FnOnce(&api::Reply) -> Result<T, String>,
) -> Step<T> {
    let started = Instant::now();
    let r = req.await;
    log.requests += 1;
    log.request_ms
        .push(started.elapsed().as_secs_f64() * 1000.0);
    match r {
        Err(e) => {
            log.connection_errors.push(format!("{what}: {e}"));
            Step::Fail
        }
        Ok(reply) if reply.status == 429 => {
            log.shed += 1;
            let secs = match reply.retry_after() {
                Some(s) => s,
                None => {
                    log.shed_without_retry_after += 1;
                    1
                }
            };
            Step::Retry(Duration::from_millis(secs.min(30) * 1000 + rng.below(500)))
        }
        Ok(reply) if reply.status >= 500 => {
            log.server_errors += 1;
            log.other_status
                .push(format!("{what}: {}", reply.describe()));
            Step::Fail
        }
        Ok(reply) if reply.status != 200 => {
            log.other_status
                .push(format!("{what}: {}", reply.describe()));
            Step::Fail
        }
        Ok(reply) => match parse(&reply) {
            Ok(v) => {
                log.ok += 1;
                Step::Done(v)
            }
            Err(e) => {
                log.bad_answers.push(format!("{what}: {e}"));
                Step::Fail
            }
        },
    }
}

async fn one_client(
    index: usize,
    api: Api,
    cfg: LoadConfig,
    start: Arc<tokio::sync::Barrier>,
) -> (ClientLog, Vec<String>) {
    let mut log = ClientLog::default();
    let mut rng = Rng::new(index as u64 * 7919 + 1);
    let mut pushed = Vec::new();
    start.wait().await;
    let began = Instant::now();
    let deadline = began + cfg.give_up_after;
    for round in 0..cfg.rounds {
        let ops = api::fresh_ops(&format!("load-c{index}-r{round}"), cfg.ops_per_push);
        loop {
            if Instant::now() > deadline {
                log.gave_up = true;
                return (log, pushed);
            }
            let n = ops.len();
            let step = attempt(&mut log, &mut rng, "push", api.push_raw(&ops), |r| {
                let p: stopover_protocol::PushResponse = r.json()?;
                if p.results.len() != n
                    || !p.results.iter().all(|x| {
                        matches!(
                            x.outcome,
                            Outcome::Applied { .. } | Outcome::Duplicate { .. }
                        )
                    })
                {
                    return Err(format!("push results not all applied: {}", r.describe()));
                }
                Ok(())
            })
            .await;
            match step {
                Step::Done(()) => break,
                Step::Retry(wait) => tokio::time::sleep(wait).await,
                Step::Fail => return (log, pushed),
            }
        }
        pushed.extend(ops.into_iter().map(|o| o.id));
    }
    let mut cursor = 0;
    loop {
        if Instant::now() > deadline {
            log.gave_up = true;
            return (log, pushed);
        }
        let path = format!(
            "/v1/sync/pull?cursor={cursor}&limit={}",
            stopover_protocol::MAX_PULL_LIMIT
        );
        let step = attempt(&mut log, &mut rng, "pull", api.get(&path), |r| {
            r.json::<stopover_protocol::PullResponse>()
        })
        .await;
        match step {
            Step::Done(page) => {
                cursor = page.cursor;
                if !page.more {
                    break;
                }
            }
            Step::Retry(wait) => tokio::time::sleep(wait).await,
            Step::Fail => return (log, pushed),
        }
    }
    log.sync_ms = Some(began.elapsed().as_secs_f64() * 1000.0);
    (log, pushed)
}

/// Pulls everything of one account, waiting out 429s, within 60 s.
async fn pull_everything(api: &Api) -> Vec<stopover_protocol::Change> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match api.pull_all(0).await {
            Ok((changes, _)) => return changes,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("verification pull failed: {e}"),
        }
    }
}

/// Runs the burst against `server` (which the caller started with its own options).
pub async fn run(server: &Server, cfg: &LoadConfig) -> LoadReport {
    let accounts = cfg.accounts.clamp(1, cfg.clients.max(1));
    let mut tokens = Vec::new();
    // Another device per account reads what was stored (a device's pulls leave out what it
    // pushed itself).
    let mut checkers = Vec::new();
    for a in 0..accounts {
        let user = NewUser::nfp(&format!("load-{a}"), "KE");
        tokens.push(server.signed_in(&user).await.token);
        checkers.push(server.sign_in(&user.username, &user.password).await);
    }
    let base = Api::new(&server.base_url);
    let barrier = Arc::new(tokio::sync::Barrier::new(cfg.clients));
    let mut tasks = Vec::new();
    for i in 0..cfg.clients {
        let api = Api::new(&server.base_url).with_token(&tokens[i % accounts]);
        tasks.push(tokio::spawn(one_client(
            i,
            api,
            cfg.clone(),
            barrier.clone(),
        )));
    }
    let started = Instant::now();
    let mut report = LoadReport {
        clients: cfg.clients,
        ..Default::default()
    };
    let mut pushed_by_account: HashMap<usize, Vec<String>> = HashMap::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let (log, pushed) = t.await.expect("a load client panicked");
        report.requests += log.requests;
        report.ok += log.ok;
        report.shed_429 += log.shed;
        report.shed_without_retry_after += log.shed_without_retry_after;
        report.server_errors_5xx += log.server_errors;
        report.other_status.extend(log.other_status);
        report.connection_errors.extend(log.connection_errors);
        report.bad_answers.extend(log.bad_answers);
        report.gave_up += usize::from(log.gave_up);
        report.request_ms.extend(log.request_ms);
        report.sync_ms.extend(log.sync_ms);
        report.ops_pushed += pushed.len();
        pushed_by_account
            .entry(i % accounts)
            .or_default()
            .extend(pushed);
    }
    report.elapsed = started.elapsed();
    for (a, ids) in pushed_by_account {
        let changes = pull_everything(&base.with_token(&checkers[a])).await;
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for c in &changes {
            *counts.entry(c.op_id.as_str()).or_default() += 1;
        }
        report.ops_stored_once += ids
            .iter()
            .filter(|id| counts.get(id.as_str()) == Some(&1))
            .count();
    }
    report
}

/// `$name` parsed, or `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
