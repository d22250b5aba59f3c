//! Benchmark scenario (BENCHMARKS.md, "A tick during a pull of nesting bombs"): a pull of 500
//! worst-case posts (8,000 nested `>` each, what a hostile or pre-cap server could still send)
//! through the real pull path on a real SQLite file, while checklist ticks are saved from
//! another thread. Posts are rendered outside the database lock and flattened past 16
//! levels, so no tick waits more than 100 ms.
//!
//! `cargo test -p stopover-core --release --test bomb_pull -- --ignored --nocapture`

mod forum_feed;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use forum_feed::*;
use stopover_core::content::PackFiles;
use stopover_core::user::checklists;
use stopover_core::{Core, sync};
use stopover_protocol::PullResponse;

const POSTS: usize = 500;
/// The server pages a pull at 1 MiB of values: about 120 of these posts a page.
const PAGE_BYTES: usize = 1024 * 1024;
const TICK_BUDGET: Duration = Duration::from_millis(100);

#[test]
#[ignore = "a benchmark: run in release, see BENCHMARKS.md"]
fn a_tick_is_saved_within_100_ms_while_500_nesting_bombs_are_pulled() {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap());
    signed_in_as(&core, "amina");
    let (list, step): (String, String) = core
        .conn()
        .query_row(
            "SELECT checklist_id, step_id FROM checklist_step ORDER BY checklist_id, ord LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();

    // The feed: one category, 500 bombs in 50 threads, paged as the server pages.
    let mut feed = Feed::default();
    feed.category("general", "General", None, 1);
    let bomb = format!("{}the end", ">".repeat(7_990));
    let mut threads = Vec::new();
    for i in 0..POSTS {
        let id = uuid();
        let thread = if i % 10 == 0 {
            threads.push(id.clone());
            id.clone()
        } else {
            threads.last().unwrap().clone()
        };
        let title = (thread == id).then(|| format!("Bomb {i}"));
        feed.post(
            &id,
            &thread,
            "general",
            title.as_deref(),
            &bomb,
            "mallory",
            "2099-01-01T00:00:00Z",
        );
    }
    let changes = feed.take();
    let mut pages: Vec<PullResponse> = Vec::new();
    let mut page = Vec::new();
    let mut bytes = 0;
    for change in changes {
        bytes += change.value.to_string().len();
        page.push(change);
        if bytes >= PAGE_BYTES {
            let cursor = page.last().unwrap().seq;
            pages.push(PullResponse {
                protocol: stopover_protocol::PROTOCOL_VERSION,
                changes: std::mem::take(&mut page),
                cursor,
                more: true,
            });
            bytes = 0;
        }
    }
    let cursor = page.last().map_or(0, |c| c.seq);
    pages.push(PullResponse {
        protocol: stopover_protocol::PROTOCOL_VERSION,
        changes: page,
        cursor,
        more: false,
    });

    // The same ticks with nothing else going on, for comparison (the disk's own delays).
    let mut alone = Vec::new();
    let mut on = true;
    for _ in 0..100 {
        let started = Instant::now();
        checklists::set_done(&mut core.conn(), &list, &step, on).unwrap();
        alone.push(started.elapsed());
        on = !on;
    }
    alone.sort();
    println!(
        "ticks alone: median {:?}, worst {:?}",
        alone[alone.len() / 2],
        alone.last().unwrap()
    );

    let done = Arc::new(AtomicBool::new(false));
    let ticker = {
        let core = core.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut waits = Vec::new();
            let mut on = true;
            while !done.load(Ordering::Acquire) {
                let started = Instant::now();
                checklists::set_done(&mut core.conn(), &list, &step, on).unwrap();
                waits.push(started.elapsed());
                on = !on;
                std::thread::sleep(Duration::from_millis(5));
            }
            waits
        })
    };
    let started = Instant::now();
    for page in &pages {
        sync::apply_pull(&core, page).unwrap();
    }
    let pull = started.elapsed();
    done.store(true, Ordering::Release);
    let mut waits = ticker.join().unwrap();
    waits.sort();
    let worst = *waits.last().unwrap();
    let p50 = waits[waits.len() / 2];
    println!(
        "pull of {POSTS} nesting bombs in {} pages: {pull:?}; {} ticks saved meanwhile, median {p50:?}, worst {worst:?}",
        pages.len(),
        waits.len()
    );
    assert_eq!(post_count(&core), POSTS as i64);
    let html: String = core
        .conn()
        .query_row("SELECT body_html FROM forum_post LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        html.matches("<blockquote>").count(),
        16,
        "flattened past the cap"
    );
    assert!(waits.len() > 5, "ticks ran during the pull");
    assert!(worst <= TICK_BUDGET, "a tick waited {worst:?}");
}
