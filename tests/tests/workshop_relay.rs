//! A workshop day (issue 12): fifty laptops — each its own `sync-client` process with its own
//! SQLite file — on the venue's LAN, one `ecommunity relay` on the trainer's laptop, and the
//! real server beyond an uplink modelled by the proxy as one shared 256 kbit/s link with
//! 600 ms each way.
//!
//! Before the day each laptop signed in and synced at home (so it holds a device credential);
//! during the week the forum grew and each person ticked checklist steps offline. On the day
//! every laptop syncs through the relay until it is up to date, while the uplink is cut for a
//! while and the relay is killed (SIGKILL) and started again. In the end:
//!
//! - every laptop's outbox is empty and nothing is held at the relay;
//! - each laptop's checklist progress equals its last saved edits and the server's values;
//! - every laptop holds every forum post the server holds;
//! - the server applied each operation once (no operation id twice in its feed);
//! - the shared data crossed the uplink about once (below).
//!
//! The same morning (a snapshot of the server's and every laptop's data) is first synced
//! directly over the uplink, which measures one laptop's share and everyone's private data;
//! the goal is that through the relay the whole day costs at most 1.2 × (one share + the
//! private data): the shared data crossed once.
//!
//! `STOPOVER_WORKSHOP_LAPTOPS` (50) and `STOPOVER_WORKSHOP_POSTS` (120) scale it.
//! `workshop_figures` (ignored; run with `--ignored`) measures the same day without trouble,
//! for BENCHMARKS.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stopover_protocol::{EntityRef, Operation};
use stopover_tests::api::{Api, new_op_id};
use stopover_tests::client::sync_client as run;
use stopover_tests::load::env_or;
use stopover_tests::proxy::{Fault, Proxy};
use stopover_tests::relay::Relay;
use stopover_tests::server::{NewUser, Server};

/// The venue's uplink: 256 kbit/s shared, 600 ms one way.
const UPLINK: Fault = Fault::SharedLink {
    bytes_per_sec: 32_000,
    delay_ms: 600,
};
/// Laptops syncing at once (the rest wait their turn, as people arriving do).
const AT_ONCE: usize = 10;
/// Checklist edits each person made offline during the week.
const EDITS: usize = 12;
/// The forum category every post goes to (published by the server at start).
const GENERAL: &str = "general";

struct Laptop {
    dir: PathBuf,
    /// The last value saved per `<list>/<step> <field>`, from the client's own output.
    saved: BTreeMap<String, Value>,
}

/// Runs `f` over `items`, `AT_ONCE` at a time, on plain threads (each item starts processes).
fn in_parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &T) -> R + Sync) -> Vec<R> {
    let next = Mutex::new(0usize);
    let results = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..AT_ONCE.min(items.len()) {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(item) = items.get(i) else { break };
                    let r = f(i, item);
                    results.lock().unwrap().insert(i, r);
                }
            });
        }
    });
    results.into_inner().unwrap().into_values().collect()
}

/// The server, the accounts, and the laptops as they stand on the morning of the workshop.
/// Every laptop knows the server by the proxy's address (the venue's uplink today, a good
/// line at home).
struct Morning {
    server: Server,
    proxy: Proxy,
    /// Runs the proxy's tasks.
    _runtime: tokio::runtime::Runtime,
    laptops: Vec<Laptop>,
    /// A laptop with no edits of its own: its direct first sync of the day measures one
    /// laptop's share of the community news.
    reference: PathBuf,
    root: tempfile::TempDir,
}

fn morning(laptops: usize, posts: usize) -> Morning {
    let server = Server::start_with(&[
        "--forum-posts-per-hour",
        "100000",
        "--registrations-per-hour",
        "100000",
    ]);
    let root = tempfile::tempdir().unwrap();
    let users: Vec<NewUser> = (0..=laptops)
        .map(|i| NewUser::nfp(&format!("nfp{i:02}"), ["KE", "SN", "FJ", "PE", "UZ"][i % 5]))
        .collect();
    for u in &users {
        server.user_add_approved(u);
    }
    let poster = NewUser::staff("trainer", "secretariat");
    server.user_add_approved(&poster);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let proxy = runtime.block_on(Proxy::start(server.addr()));

    // At home, before the day: sign in and sync once (the credential a relay checks).
    let dirs: Vec<PathBuf> = (0..=laptops)
        .map(|i| root.path().join(format!("laptop-{i:02}")))
        .collect();
    let base = proxy.url();
    in_parallel(&dirs, |i, dir| {
        let u = &users[i];
        run(
            dir,
            &[
                "sign-in",
                &base,
                &u.username,
                &u.password,
                &format!("laptop {i}"),
            ],
        )
        .unwrap();
        run(dir, &["sync"]).unwrap();
    });

    // The week: the forum grows, and each person ticks and notes steps offline.
    runtime.block_on(async {
        let token = server.sign_in(&poster.username, &poster.password).await;
        let api = Api::new(&server.base_url).with_token(&token);
        let mut thread = String::new();
        for chunk in (0..posts).collect::<Vec<_>>().chunks(20) {
            let ops: Vec<Operation> = chunk
                .iter()
                .map(|&i| {
                    let post = new_op_id();
                    let mut value = json!({"category": GENERAL, "body": post_body(i)});
                    if i % 10 == 0 {
                        thread = post.clone();
                        value["title"] = json!(format!("Week thread {i}"));
                    }
                    value["thread"] = json!(thread);
                    Operation {
                        id: new_op_id(),
                        entity: EntityRef {
                            kind: "forum_post".into(),
                            id: post,
                        },
                        field: "content".into(),
                        base_version: 0,
                        value,
                    }
                })
                .collect();
            api.push(&ops).await.unwrap();
        }
    });
    let laptop_list: Vec<Laptop> = in_parallel(&dirs[1..], |i, dir| {
        let out = run(
            dir,
            &["stream", &(1000 + i).to_string(), &EDITS.to_string(), "0"],
        )
        .unwrap();
        let mut saved = BTreeMap::new();
        for line in out.lines() {
            // `saved <list>/<step> <field> <json>`
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
        Laptop {
            dir: dir.clone(),
            saved,
        }
    });
    Morning {
        server,
        proxy,
        _runtime: runtime,
        laptops: laptop_list,
        reference: dirs[0].clone(),
        root,
    }
}

/// A forum post of a few hundred characters, different for each `i` (so it compresses as
/// real posts do, not as one sentence repeated).
fn post_body(i: usize) -> String {
    const WORDS: [&str; 24] = [
        "flyway",
        "wetland",
        "survey",
        "count",
        "delegation",
        "credentials",
        "report",
        "deadline",
        "species",
        "habitat",
        "monitoring",
        "workshop",
        "ministry",
        "focal",
        "point",
        "agreement",
        "resolution",
        "annex",
        "population",
        "estimate",
        "partners",
        "funding",
        "season",
        "site",
    ];
    let mut rng = fastrand::Rng::with_seed(i as u64);
    let mut body = format!("Post {i}: ");
    while body.len() < 300 + rng.usize(..300) {
        body.push_str(WORDS[rng.usize(..WORDS.len())]);
        body.push(if rng.u8(..10) == 0 { '.' } else { ' ' });
    }
    body
}

/// What one relay round printed (`sync-client DATA relay-sync URL`).
fn round_state(out: &str) -> Value {
    out.lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or(Value::Null)
}

/// Up to date: nothing waits on the laptop or at the relay, and it holds the community feed
/// to the server's end.
fn up_to_date(state: &Value, community_end: u64) -> bool {
    state["outbox"] == 0
        && state["at_relay"] == 0
        && state["community_more"] == false
        && state["community_cursor"].as_u64().unwrap_or(0) >= community_end
}

/// The server's feed, read from its database: (op ids, latest value per account field,
/// forum posts, the community feed's end).
struct ServerState {
    op_ids: Vec<String>,
    latest: BTreeMap<(String, String), Value>,
    posts: usize,
    community_end: u64,
}

fn server_state(server: &Server) -> ServerState {
    let db = rusqlite::Connection::open_with_flags(
        server.data_dir().join("ecommunity.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let op_ids = db
        .prepare("SELECT op_id FROM change")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<Vec<String>>>()
        .unwrap();
    let mut latest = BTreeMap::new();
    let mut stmt = db
        .prepare(
            "SELECT a.username, c.entity_id, c.field, c.value FROM change c
             JOIN account a ON c.scope = 'account:' || a.id
             WHERE c.kind = 'checklist_progress' ORDER BY c.seq",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                format!("{} {}", r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                r.get::<_, String>(3)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (user, key, value) = row.unwrap();
        latest.insert((user, key), serde_json::from_str(&value).unwrap());
    }
    let posts: i64 = db
        .query_row(
            "SELECT count(DISTINCT entity_id) FROM change WHERE kind = 'forum_post'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let end: Option<i64> = db
        .query_row(
            "SELECT max(seq) FROM change WHERE scope = 'community'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    ServerState {
        op_ids,
        latest,
        posts: posts as usize,
        community_end: end.unwrap_or(0) as u64,
    }
}

/// Syncs every laptop through the relay, rounds repeated until each is up to date (a round
/// that fails — relay down — is simply tried again a moment later, as the app does).
fn workshop_rounds(
    laptops: &[Laptop],
    relay_url: &str,
    community_end: u64,
    deadline: Instant,
) -> Vec<Value> {
    in_parallel(laptops, |i, laptop| {
        let mut last = Value::Null;
        loop {
            assert!(
                Instant::now() < deadline,
                "laptop {i} not up to date in time; last round: {last}"
            );
            match run(&laptop.dir, &["relay-sync", relay_url]) {
                Ok(out) => {
                    last = round_state(&out);
                    if up_to_date(&last, community_end) {
                        return last;
                    }
                }
                Err(e) => last = json!({ "error": e }),
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    })
}

/// Every promise of the day, checked against the server's database and each laptop's file.
fn assert_everything_arrived_once(morning: &Morning, finals: &[Value]) {
    let state = server_state(&morning.server);
    let mut seen = std::collections::HashSet::new();
    for id in &state.op_ids {
        assert!(
            seen.insert(id),
            "operation {id} is in the server's feed twice"
        );
    }
    for (i, laptop) in morning.laptops.iter().enumerate() {
        let user = format!("nfp{:02}", i + 1);
        let dump: Value =
            serde_json::from_str(run(&laptop.dir, &["dump"]).unwrap().trim()).unwrap();
        for (key, value) in &laptop.saved {
            let (step, field) = key.split_once(' ').unwrap();
            assert_eq!(&dump[step][field], value, "{user}: {key} on the laptop");
            assert_eq!(
                state.latest.get(&(user.clone(), key.clone())),
                Some(value),
                "{user}: {key} on the server"
            );
        }
        assert_eq!(
            finals[i]["forum_posts"].as_u64(),
            Some(state.posts as u64),
            "{user} holds every forum post"
        );
    }
}

/// Copies a folder's contents (`cp -a`), replacing what `to` held.
fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    let ok = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(ok.success(), "cp -a {} {}", from.display(), to.display());
}

/// The morning as it was: the server's data folder and every laptop's, from a snapshot.
struct Snapshot {
    root: tempfile::TempDir,
}

impl Snapshot {
    fn take(morning: &mut Morning) -> Snapshot {
        let root = tempfile::tempdir().unwrap();
        morning.server.stop();
        copy_dir(&morning.server.data_dir(), &root.path().join("server"));
        copy_dir(morning.root.path(), &root.path().join("laptops"));
        morning.server.restart();
        morning.proxy.set_upstream(morning.server.addr());
        Snapshot { root }
    }

    fn restore(&self, morning: &mut Morning) {
        morning.server.stop();
        copy_dir(&self.root.path().join("server"), &morning.server.data_dir());
        copy_dir(&self.root.path().join("laptops"), morning.root.path());
        morning.server.restart();
        morning.proxy.set_upstream(morning.server.addr());
    }
}

/// What a day's first syncs cost the uplink.
struct Day {
    took: Duration,
    uplink_bytes: u64,
    community_bytes: u64,
}

/// One laptop's share of the shared data: what the reference laptop's first sync of the day
/// pulled, less what a round that brings nothing costs (its requests' own weight, which every
/// laptop pays for its private data either way).
struct Share {
    first_sync: u64,
    empty_round: u64,
}

impl Share {
    fn shared_data(&self) -> u64 {
        self.first_sync.saturating_sub(self.empty_round)
    }
}

/// Every laptop's first sync of the day straight over the uplink (no relay), and the
/// reference laptop's alone before them: one laptop's share.
fn direct_day(morning: &Morning) -> (Share, Day) {
    let proxy = &morning.proxy;
    proxy.set_fault(UPLINK);
    proxy.reset_stats();
    run(&morning.reference, &["sync"]).unwrap();
    let first_sync = proxy.stats().wire();
    proxy.reset_stats();
    run(&morning.reference, &["sync"]).unwrap();
    let share = Share {
        first_sync,
        empty_round: proxy.stats().wire(),
    };
    proxy.reset_stats();
    let started = Instant::now();
    in_parallel(&morning.laptops, |i, laptop| {
        run(&laptop.dir, &["sync"]).unwrap_or_else(|e| panic!("laptop {i}: {e}"));
    });
    let day = Day {
        took: started.elapsed(),
        uplink_bytes: proxy.stats().wire(),
        community_bytes: 0,
    };
    proxy.set_fault(Fault::None);
    (share, day)
}

/// The same first syncs through a relay, with the day's trouble when `trouble`: the uplink
/// drops for 8 s, later the trainer's laptop crashes and comes back.
fn relay_day(morning: &Morning, trouble: bool) -> Day {
    let proxy = &morning.proxy;
    proxy.set_fault(UPLINK);
    proxy.reset_stats();
    let community_end = server_state(&morning.server).community_end;
    let relay = Mutex::new(Relay::start(&proxy.url(), &["--answer-wait-ms", "1500"]));
    let relay_url = relay.lock().unwrap().url();
    let started = Instant::now();
    let finals = std::thread::scope(|s| {
        if trouble {
            s.spawn(|| {
                std::thread::sleep(Duration::from_secs(4));
                proxy.set_fault(Fault::Down);
                std::thread::sleep(Duration::from_secs(8));
                proxy.set_fault(UPLINK);
                std::thread::sleep(Duration::from_secs(6));
                relay.lock().unwrap().kill();
                std::thread::sleep(Duration::from_secs(2));
                relay.lock().unwrap().restart();
            });
        }
        workshop_rounds(
            &morning.laptops,
            &relay_url,
            community_end,
            started + Duration::from_secs(600),
        )
    });
    let took = started.elapsed();
    let mut by_path: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for e in proxy.events() {
        let path = e.path.split('?').next().unwrap_or_default().to_string();
        let entry = by_path.entry(path).or_default();
        entry.0 += 1;
        entry.1 += e.request_bytes as u64;
        entry.2 += e.response_bytes as u64;
    }
    for (path, (n, up, down)) in &by_path {
        eprintln!("  uplink {path}: {n} requests, {up} B up, {down} B down");
    }
    let community_bytes = proxy
        .events()
        .iter()
        .filter(|e| e.path.starts_with("/v1/relay/community"))
        .map(|e| (e.request_bytes + e.response_bytes) as u64)
        .sum();
    let day = Day {
        took,
        uplink_bytes: proxy.stats().wire(),
        community_bytes,
    };
    proxy.set_fault(Fault::None);
    assert_everything_arrived_once(morning, &finals);
    day
}

/// The day's figures: the shared data is one laptop's share less an empty round; the private
/// data what the direct day cost beyond the shared data every laptop pulled.
fn report(laptops: usize, share: &Share, direct: &Day, relayed: &Day) -> (u64, u64) {
    let shared = share.shared_data();
    let private = direct.uplink_bytes.saturating_sub(laptops as u64 * shared);
    eprintln!(
        "workshop: {laptops} laptops; one laptop's first sync {} B (an empty round {} B): shared data {shared} B, private data {private} B\n  \
         direct:  uplink {} B, all up to date in {:.1?}\n  \
         relayed: uplink {} B (community pulls {} B), all up to date in {:.1?}",
        share.first_sync,
        share.empty_round,
        direct.uplink_bytes,
        direct.took,
        relayed.uplink_bytes,
        relayed.community_bytes,
        relayed.took
    );
    (shared, private)
}

#[test]
fn fifty_laptops_sync_through_a_relay_while_its_uplink_is_cut_and_it_is_killed() {
    let laptops = env_or("STOPOVER_WORKSHOP_LAPTOPS", 50usize);
    let posts = env_or("STOPOVER_WORKSHOP_POSTS", 120usize);
    let mut morning = morning(laptops, posts);
    let snapshot = Snapshot::take(&mut morning);
    let (share, direct) = direct_day(&morning);
    snapshot.restore(&mut morning);
    let relayed = relay_day(&morning, true);
    let (shared, _) = report(laptops, &share, &direct, &relayed);
    // Even on a troubled day (pushes sent again after the cut and the crash) the forum crossed
    // the uplink about once, and the day cost far less than without the relay.
    assert!(
        relayed.community_bytes as f64 <= 1.3 * shared as f64,
        "the relay's community pulls carried {} B for {shared} B of shared data",
        relayed.community_bytes
    );
    assert!(
        relayed.uplink_bytes * 3 <= direct.uplink_bytes,
        "through the relay {} B, directly {} B",
        relayed.uplink_bytes,
        direct.uplink_bytes
    );
}

/// The figures of BENCHMARKS.md: the same day without trouble, direct and through the relay
/// (`cargo test -p stopover-tests --test workshop_relay -- --ignored --nocapture`). The goal
/// of issue 12: through the relay the whole day within 1.2 × (one laptop's shared data + every
/// laptop's private data).
#[test]
#[ignore = "a benchmark: run by hand for BENCHMARKS.md"]
fn workshop_figures() {
    let laptops = env_or("STOPOVER_WORKSHOP_LAPTOPS", 50usize);
    let posts = env_or("STOPOVER_WORKSHOP_POSTS", 200usize);
    let mut morning = morning(laptops, posts);
    let snapshot = Snapshot::take(&mut morning);
    let (share, direct) = direct_day(&morning);
    snapshot.restore(&mut morning);
    let relayed = relay_day(&morning, false);
    let (shared, private) = report(laptops, &share, &direct, &relayed);
    let bound = 1.2 * (shared + private) as f64;
    eprintln!("  goal: at most {bound:.0} B through the relay");
    assert!(relayed.uplink_bytes as f64 <= bound);
}
