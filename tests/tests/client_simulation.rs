//! A seeded simulation: one account, three devices (the real stopover-core in-process, each
//! with its own SQLite file and its own fault-injecting proxy) and the real `ecommunity`
//! process. Each round random devices edit random fields of a few checklist steps, random
//! devices sync through a link whose fault is drawn at random, and random conflicts are
//! settled by a random choice. Then the faults stop and every device syncs until nothing moves
//! (remaining conflicts settled "keep mine"). In the end:
//!
//! - every device and the server hold the same value for every field;
//! - the change feed has each operation once, each field's versions 1, 2, 3…, and nothing no
//!   device queued;
//! - every operation the server applied is in the feed once with the value the device queued
//!   (or, when the server already held that value, the change that wrote it);
//! - no edit is lost: each device's last edit of each field reached the server, unless the
//!   person chose the other side of a conflict afterwards.
//!
//! `STOPOVER_SIM_SEED` runs that one seed; otherwise `STOPOVER_SIM_SEEDS` (3) seeds from a
//! fixed base. `STOPOVER_SIM_ROUNDS` (30) rounds each. A failure prints its seed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stopover_core::sync::Resolution;
use stopover_protocol::{EntityRef, Operation, Outcome};
use stopover_tests::api::{Api, within};
use stopover_tests::client::{Device, FieldKey, KIND, assert_same_state, server_feed};
use stopover_tests::load::env_or;
use stopover_tests::proxy::{Fault, Proxy, Rng};
use stopover_tests::server::{NewUser, Server};

const DEVICES: usize = 3;
/// Checklist steps the devices edit: few, so edits of one field on two devices are common.
const STEPS: usize = 6;
/// A fast but throttled link (the slow one has its own tests).
const THROTTLED: Fault = Fault::Throttle {
    bytes_per_sec: 200_000,
    delay_ms: 20,
};
/// The reason the server gives for the probe's record kind (see `probe_outcomes`).
const PROBE_KIND: &str = "probe";

/// What the test knows of an edit.
#[derive(Debug, Clone)]
struct LastEdit {
    value: Value,
    /// The person took the server's side of a conflict on this field after the edit.
    dropped: bool,
}

/// An operation seen in an outbox, as last seen before a sync (sent operations never change).
#[derive(Debug, Clone)]
struct SeenOp {
    device: usize,
    key: FieldKey,
    value: Value,
}

type Log = Arc<Mutex<Vec<String>>>;

fn note(log: &Log, line: String) {
    log.lock().unwrap().push(line);
}

/// Prints the seed (and the last steps of the simulation) when a run fails.
struct OnFailure {
    seed: u64,
    log: Log,
}

impl Drop for OnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            let from = log.len().saturating_sub(40);
            eprintln!("--- last simulation steps ---\n{}", log[from..].join("\n"));
            eprintln!(
                "client_simulation failed with STOPOVER_SIM_SEED={} (set it to repeat this run)",
                self.seed
            );
        }
    }
}

struct Sim {
    seed: u64,
    rng: Rng,
    log: Log,
    devices: Vec<Device>,
    proxies: Vec<Proxy>,
    steps: Vec<(String, String)>,
    seen: BTreeMap<String, SeenOp>,
    last_edit: Vec<BTreeMap<FieldKey, LastEdit>>,
    syncs: usize,
    failed_syncs: usize,
    conflicts_seen: usize,
}

impl Sim {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.next_f64() < p
    }

    fn edit(&mut self, d: usize, round: usize, n: usize) {
        let (list, step) = self.steps[self.rng.below(self.steps.len() as u64) as usize].clone();
        let (key, value) = if self.chance(0.5) {
            let done = self.chance(0.5);
            self.devices[d].tick(&list, &step, done)
        } else {
            // Mostly a note no other edit writes; now and then an empty one.
            let text = if self.chance(0.05) {
                String::new()
            } else {
                format!("d{d} r{round} e{n}")
            };
            self.devices[d].note(&list, &step, &text)
        };
        note(
            &self.log,
            format!(
                "round {round}: device {d} sets {}/{} = {value}",
                key.0, key.1
            ),
        );
        self.last_edit[d].insert(
            key,
            LastEdit {
                value,
                dropped: false,
            },
        );
    }

    /// Notes every operation in the device's outbox (before a sync: what may go out).
    fn snapshot(&mut self, d: usize) {
        for op in self.devices[d].pending() {
            assert_eq!(op.kind.name(), KIND);
            self.seen.insert(
                op.op_id,
                SeenOp {
                    device: d,
                    key: (op.entity_id, op.field),
                    value: op.value,
                },
            );
        }
    }

    fn random_fault(&mut self) -> Fault {
        let x = self.rng.next_f64();
        if x < 0.35 {
            Fault::None
        } else if x < 0.6 {
            Fault::Random {
                seed: self.rng.next_u64(),
                p: 0.5,
            }
        } else if x < 0.65 {
            THROTTLED
        } else {
            Fault::RANDOM_CHOICES[self.rng.below(Fault::RANDOM_CHOICES.len() as u64) as usize]
        }
    }

    async fn sync(
        &mut self,
        d: usize,
        why: &str,
    ) -> Result<stopover_core::sync::SyncReport, String> {
        self.snapshot(d);
        self.syncs += 1;
        let result = tokio::time::timeout(Duration::from_secs(60), self.devices[d].sync())
            .await
            .unwrap_or_else(|_| {
                panic!("seed {}: {why}: device {d}'s sync hung for 60 s", self.seed)
            });
        let line = match &result {
            Ok(r) => format!(
                "{why}: device {d} synced: pushed {} (dup {}), conflicts {}, pulled {}",
                r.pushed, r.duplicates, r.conflicts, r.pulled
            ),
            Err(e) => format!("{why}: device {d} sync failed: {} ({e})", e.code()),
        };
        note(&self.log, line);
        if let Ok(r) = &result {
            self.conflicts_seen += r.conflicts as usize;
        }
        for c in self.devices[d].conflicts() {
            note(
                &self.log,
                format!(
                    "  device {d} conflict: {}/{} mine {} vs server {} (v{})",
                    c.entity_id, c.field, c.local_value, c.server_value, c.server_version
                ),
            );
        }
        if let Err(e) = &result {
            self.failed_syncs += 1;
            assert!(
                e.is_transient(),
                "seed {}: {why}: a network fault must give a transient error, got {e} ({})",
                self.seed,
                e.code()
            );
        }
        result.map_err(|e| e.to_string())
    }

    /// Settles conflicts of device `d`: each with probability `p`, by `choose`.
    fn settle(&mut self, d: usize, p: f64, random_choice: bool, why: &str) -> usize {
        let mut settled = 0;
        for c in self.devices[d].conflicts() {
            let key = (c.entity_id.clone(), c.field.clone());
            let mine = self.last_edit[d].get(&key).unwrap_or_else(|| {
                panic!(
                    "seed {}: device {d} has a conflict on {key:?}, a field it never edited: {c:?}",
                    self.seed
                )
            });
            assert_eq!(
                mine.value, c.local_value,
                "seed {}: device {d}'s side of the conflict on {key:?} must be its latest edit",
                self.seed
            );
            assert_ne!(
                c.local_value, c.server_value,
                "seed {}: device {d} asks a person to choose between two equal values on {key:?}",
                self.seed
            );
            if !self.chance(p) {
                continue;
            }
            let choice = if random_choice && self.chance(0.5) {
                Resolution::TakeTheirs
            } else {
                Resolution::KeepMine
            };
            self.devices[d].resolve(&c, choice);
            if choice == Resolution::TakeTheirs {
                self.last_edit[d].get_mut(&key).unwrap().dropped = true;
            }
            note(
                &self.log,
                format!(
                    "{why}: device {d} settles {}/{} ({} vs server {}) with {choice:?}",
                    key.0, key.1, c.local_value, c.server_value
                ),
            );
            settled += 1;
        }
        settled
    }
}

/// The server's stored answer for each operation id, learnt without changing anything: an
/// operation with a known id is answered from the server's memory whatever it carries, and one
/// the server never saw is refused for its record kind (`probe`) and stored as refused.
async fn probe_outcomes(observer: &Api, ids: &[String]) -> BTreeMap<String, Outcome> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(stopover_protocol::MAX_OPS_PER_PUSH) {
        let ops: Vec<Operation> = chunk
            .iter()
            .map(|id| Operation {
                id: id.clone(),
                entity: EntityRef {
                    kind: PROBE_KIND.into(),
                    id: "probe/probe".into(),
                },
                field: "done".into(),
                base_version: 0,
                value: json!(true),
            })
            .collect();
        let resp = observer
            .push(&ops)
            .await
            .unwrap_or_else(|e| panic!("probing the server's answers: {e}"));
        for r in resp.results {
            out.insert(r.id, r.outcome);
        }
    }
    out
}

async fn simulate(seed: u64, rounds: usize) {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let _guard = OnFailure {
        seed,
        log: log.clone(),
    };
    let started = Instant::now();
    let server = Server::start();
    let user = NewUser::nfp("amina", "KE");
    server.user_add_approved(&user);
    let observer = Api::new(&server.base_url)
        .with_token(&server.sign_in(&user.username, &user.password).await);
    let mut devices = Vec::new();
    let mut proxies = Vec::new();
    for d in 0..DEVICES {
        let proxy = Proxy::start(server.addr()).await;
        devices.push(Device::sign_in(&format!("device {d}"), &proxy.url(), &user).await);
        proxies.push(proxy);
    }
    let all_steps = devices[0].steps();
    let stride = (all_steps.len() / STEPS).max(1);
    let steps: Vec<(String, String)> = all_steps
        .iter()
        .step_by(stride)
        .take(STEPS)
        .cloned()
        .collect();
    let mut sim = Sim {
        seed,
        rng: Rng::new(seed),
        log: log.clone(),
        devices,
        proxies,
        steps,
        seen: BTreeMap::new(),
        last_edit: vec![BTreeMap::new(); DEVICES],
        syncs: 0,
        failed_syncs: 0,
        conflicts_seen: 0,
    };

    for round in 0..rounds {
        for d in 0..DEVICES {
            if sim.chance(0.6) {
                for n in 0..1 + sim.rng.below(3) as usize {
                    sim.edit(d, round, n);
                }
            }
        }
        for d in 0..DEVICES {
            if sim.chance(0.5) {
                let fault = sim.random_fault();
                sim.proxies[d].set_fault(fault);
                let _ = sim.sync(d, &format!("round {round} ({fault:?})")).await;
            }
        }
        for d in 0..DEVICES {
            sim.settle(d, 0.5, true, &format!("round {round}"));
        }
    }

    // Faults off; everyone syncs until a whole pass moves nothing.
    for p in &sim.proxies {
        p.set_fault(Fault::None);
    }
    let mut quiet = false;
    for pass in 0..20 {
        let mut moved = false;
        for d in 0..DEVICES {
            let report = sim
                .sync(d, &format!("final pass {pass}"))
                .await
                .unwrap_or_else(|e| panic!("seed {seed}: a sync on a clean link failed: {e}"));
            moved |= report.pushed + report.conflicts + report.rejected > 0;
            moved |= sim.settle(d, 1.0, false, &format!("final pass {pass}")) > 0;
        }
        let idle = sim
            .devices
            .iter()
            .all(|dev| dev.waiting() == 0 && dev.conflicts().is_empty());
        if !moved && idle {
            quiet = true;
            break;
        }
    }
    assert!(
        quiet,
        "seed {seed}: the devices did not settle within 20 clean passes"
    );

    // Everyone holds the server's state.
    let feed = server_feed(&observer).await;
    for dev in &sim.devices {
        assert_same_state(
            &format!("seed {seed}: {}", dev.name),
            &dev.local_state(),
            "the server",
            &feed.state,
        );
        let status = stopover_core::sync::status(&dev.core).unwrap();
        assert_eq!(
            (status.waiting, status.conflicts, status.rejected),
            (0, 0, 0),
            "seed {seed}: {}: {status:?}",
            dev.name
        );
    }

    // Operations: none unknown, each applied one once with its value.
    let unknown: Vec<&str> = feed
        .changes
        .iter()
        .map(|c| c.op_id.as_str())
        .filter(|id| !sim.seen.contains_key(*id))
        .collect();
    assert!(
        unknown.is_empty(),
        "seed {seed}: the feed holds operations no device queued: {unknown:?}"
    );
    let ids: Vec<String> = sim.seen.keys().cloned().collect();
    let outcomes = probe_outcomes(&observer, &ids).await;
    let in_feed: BTreeMap<&str, &stopover_protocol::Change> =
        feed.changes.iter().map(|c| (c.op_id.as_str(), c)).collect();
    let (mut applied, mut conflicted, mut never_sent) = (0, 0, 0);
    for (id, op) in &sim.seen {
        let why = format!(
            "seed {seed}: operation {id} of device {} ({}/{} = {})",
            op.device, op.key.0, op.key.1, op.value
        );
        match &outcomes[id] {
            Outcome::Duplicate { version } => {
                applied += 1;
                match in_feed.get(id.as_str()) {
                    Some(c) => {
                        assert_eq!(
                            (c.version, &c.value),
                            (*version, &op.value),
                            "{why}: the feed must hold what was applied"
                        );
                        assert_eq!(
                            (&c.entity.id, &c.field),
                            (&op.key.0, &op.key.1),
                            "{why}: applied to another field"
                        );
                    }
                    None => {
                        // Applied as "the server already holds this value": the change that wrote it.
                        let writer = feed
                            .of_field(&op.key)
                            .into_iter()
                            .find(|c| c.version == *version);
                        assert!(
                            writer.is_some_and(|c| c.value == op.value),
                            "{why}: acknowledged as applied at version {version}, but the feed has {writer:?}"
                        );
                    }
                }
            }
            Outcome::Conflict { .. } => {
                conflicted += 1;
                assert!(
                    !in_feed.contains_key(id.as_str()),
                    "{why}: a conflict must not be applied"
                );
            }
            Outcome::Rejected { reason, .. } if reason.contains(PROBE_KIND) => {
                never_sent += 1;
                assert!(
                    !in_feed.contains_key(id.as_str()),
                    "{why}: never seen by the server, yet in the feed"
                );
            }
            other => panic!("{why}: unexpected answer {other:?}"),
        }
    }

    // No edit lost: each device's last edit of a field reached the server, unless the person
    // chose the server's side afterwards.
    let mut lost = Vec::new();
    for (d, edits) in sim.last_edit.iter().enumerate() {
        for (key, edit) in edits {
            if edit.dropped {
                continue;
            }
            if !feed.of_field(key).iter().any(|c| c.value == edit.value) {
                lost.push(format!("device {d}: {}/{} = {}", key.0, key.1, edit.value));
            }
        }
    }
    assert!(
        lost.is_empty(),
        "seed {seed}: last edits that never reached the server:\n{}",
        lost.join("\n")
    );

    let requests: u64 = sim.proxies.iter().map(|p| p.stats().requests).sum();
    eprintln!(
        "simulation seed {seed}: {rounds} rounds in {:?}: {} syncs ({} failed), {requests} requests, {} conflicts; \
         {} operations: {applied} applied, {conflicted} conflicts, {never_sent} never sent (merged into a conflict); \
         {} changes on the server, {} fields",
        started.elapsed(),
        sim.syncs,
        sim.failed_syncs,
        sim.conflicts_seen,
        sim.seen.len(),
        feed.changes.len(),
        feed.state.len()
    );
    assert!(
        sim.failed_syncs > 0,
        "seed {seed}: no sync met a fault; the simulation tested nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_converge_through_random_faults_and_conflicts() {
    let rounds: usize = env_or("STOPOVER_SIM_ROUNDS", 30);
    let seeds: Vec<u64> = match std::env::var("STOPOVER_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        Some(seed) => vec![seed],
        None => (0..env_or("STOPOVER_SIM_SEEDS", 3u64))
            .map(|i| 1_000 + i)
            .collect(),
    };
    within(
        Duration::from_secs(60 + 30 * seeds.len() as u64 * rounds as u64 / 30),
        "seeded simulation",
        async {
            for seed in seeds {
                simulate(seed, rounds).await;
            }
        },
    )
    .await;
}

/// A conflict is there for a person to choose between two different values. When the person
/// edits the field back to the server's value while the conflict waits, there is nothing left
/// to choose, as when a pull brings the same value or a push meets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_back_to_the_servers_value_settles_its_conflict() {
    within(Duration::from_secs(60), "equal-sided conflict", async {
        let server = Server::start();
        let user = NewUser::nfp("amina", "KE");
        server.user_add_approved(&user);
        let a = Device::sign_in("laptop", &server.base_url, &user).await;
        let b = Device::sign_in("desktop", &server.base_url, &user).await;
        let steps = a.steps();
        let (list, step) = &steps[0];
        b.tick(list, step, true);
        b.sync().await.unwrap_or_else(|e| panic!("{e}"));
        a.tick(list, step, true);
        a.tick(list, step, false);
        let report = a.sync().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.conflicts, 1, "false (from version 0) against the server's true (version 1): {report:?}");
        // The person changes their mind and ticks it: the same as the server's value.
        a.tick(list, step, true);
        let waiting = a.conflicts();
        assert!(
            waiting.is_empty(),
            "after the edit both sides are `true`: nothing is left to choose, yet the laptop still asks: {waiting:?}"
        );
        a.sync().await.unwrap_or_else(|e| panic!("{e}"));
        assert!(a.conflicts().is_empty(), "nor does a sync settle it: {:?}", a.conflicts());
    })
    .await;
}
