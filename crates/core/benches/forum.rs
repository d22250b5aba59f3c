//! The forum cache at 20,000 posts, in a real SQLite file, filled through the same path a
//! pull takes (`sync::apply_pull`, pages of 500 changes, content then meta as the server
//! writes them).
//!
//! `cargo bench -p stopover-core --bench forum` prints the fill rate, then criterion on
//! opening a thread of 500 posts (target < 100 ms), a category's thread list and searches,
//! then a scenario of 2,000 mixed searches (p50/p95/p99), and the retention bound: the cache
//! pruned to `max_posts` 10,000, with post count and database size before and after.

#[path = "../tests/forum_feed/mod.rs"]
mod forum_feed;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use forum_feed::{Feed, open, post_count, signed_in_as, uuid};
use stopover_core::Core;
use stopover_core::forum::{self, Retention};

const POSTS: usize = 20_000;
const BIG_THREAD: usize = 500;
const CATEGORIES: [&str; 10] = [
    "general", "qa", "africa", "asia", "europe", "oceania", "cms", "aewa", "raptors", "sharks",
];
/// Topical words: each post carries three of them, so a query for one matches about one post
/// in twenty, as a real forum's would.
const WORDS: &[&str] = &[
    "credentials",
    "delegation",
    "délégation",
    "national",
    "report",
    "deadline",
    "flyway",
    "wetland",
    "waterbirds",
    "species",
    "Appendix",
    "listing",
    "proposal",
    "Standing",
    "Committee",
    "funding",
    "small",
    "grants",
    "workshop",
    "Nairobi",
    "Bonn",
    "capacity",
    "training",
    "monitoring",
    "census",
    "poisoning",
    "raptors",
    "sharks",
    "turtles",
    "IOSEA",
    "AEWA",
    "CMS",
    "focal",
    "point",
    "ministry",
    "letter",
    "signed",
    "courrier",
    "créance",
    "credenciales",
    "informe",
    "especies",
    "migratorias",
    "humedales",
    "réunion",
    "atelier",
    "translation",
    "budget",
    "travel",
    "visa",
    "invitation",
    "agenda",
    "draft",
    "comments",
];
const SYLLABLES: &[&str] = &[
    "ka", "ro", "mi", "te", "sa", "lu", "ne", "po", "di", "ga", "ve", "shi", "tor", "lan", "mer",
    "qua", "bel", "son", "tri", "al", "es", "on", "ur", "ith",
];

/// A post body of 40–120 words, deterministic from `n`: everyday words (a few thousand, the
/// common ones far more frequent) with three topical words among them.
fn body(n: usize) -> String {
    let mut x = n as u64 * 2_654_435_761 + 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let len = 40 + (next() % 80) as usize;
    let mut words = Vec::with_capacity(len + 3);
    for _ in 0..len {
        // Squaring a uniform draw favours low ranks: a rough Zipf curve over 24³ words.
        let r = next() % 1000;
        let rank = (r * r / 1000 * 14) as usize;
        let s = SYLLABLES.len();
        words.push(format!(
            "{}{}{}",
            SYLLABLES[rank % s],
            SYLLABLES[rank / s % s],
            if rank >= s * s {
                SYLLABLES[rank / (s * s) % s]
            } else {
                ""
            }
        ));
    }
    for _ in 0..3 {
        let at = (next() % len as u64) as usize;
        words[at] = WORDS[(next() % WORDS.len() as u64) as usize].to_string();
    }
    format!("{}.", words.join(" "))
}

/// The `n`-th moment of the cache's history: 40 minutes apart over about 18 months (months of
/// 28 days keep it simple and in order).
fn stamp(n: usize) -> String {
    let minutes = n * 40;
    let day = minutes / 1440;
    let (year, month, day) = (2098 + day / 336, 1 + day / 28 % 12, 1 + day % 28);
    format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:00Z",
        minutes / 60 % 24,
        minutes % 60
    )
}

/// Fills the cache: threads of 50 posts across the categories, and one thread of 500 posts,
/// the most recently active (so it survives the retention run).
fn fill(core: &Core) -> (String, Duration) {
    let mut feed = Feed::default();
    for (i, c) in CATEGORIES.iter().enumerate() {
        feed.category(c, c, None, i as u32);
    }
    feed.pull(core);
    let started = Instant::now();
    let big = uuid();
    let mut n = 0;
    let mut page = 0;
    while n < POSTS {
        let (thread, size, category) = if n == POSTS - BIG_THREAD {
            (big.clone(), BIG_THREAD, "general")
        } else {
            (uuid(), 50, CATEGORIES[n / 50 % CATEGORIES.len()])
        };
        for i in 0..size.min(POSTS - n) {
            let id = if i == 0 { thread.clone() } else { uuid() };
            let title = format!("Thread {n}: {}", WORDS[n % WORDS.len()]);
            feed.post(
                &id,
                &thread,
                category,
                (i == 0).then_some(title.as_str()),
                &body(n),
                ["baraka", "chidi", "elodie", "amina"][n % 4],
                &stamp(n),
            );
            n += 1;
            page += 2;
            if page >= 500 {
                feed.pull(core);
                page = 0;
            }
        }
    }
    feed.pull(core);
    (big, started.elapsed())
}

fn db_bytes(core: &Core) -> (i64, i64) {
    let conn = core.conn();
    let size: i64 = conn
        .query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let free: i64 = conn
        .query_row(
            "SELECT freelist_count * page_size FROM pragma_freelist_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (size, size - free)
}

/// The biggest tables and indexes, in MB (SQLite's dbstat).
fn largest(core: &Core) -> String {
    let conn = core.conn();
    let mut stmt = conn
        .prepare(
            "SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 8",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
        .map(|row| {
            let (name, bytes) = row.unwrap();
            format!("{name} {:.1}", bytes as f64 / 1e6)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn percentiles(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    format!(
        "p50 {:?}, p95 {:?}, p99 {:?}, max {:?}",
        pct(0.5),
        pct(0.95),
        pct(0.99),
        samples.last().unwrap()
    )
}

fn main() {
    let (dir, core) = open();
    signed_in_as(&core, "amina");
    let (big, fill_time) = fill(&core);
    let posts = post_count(&core);
    assert_eq!(posts as usize, POSTS);
    let (size, used) = db_bytes(&core);
    println!(
        "forum fill: {POSTS} posts through the pull path in {fill_time:.2?} ({:.0} posts/s); database {:.1} MB ({:.1} MB in use)",
        POSTS as f64 / fill_time.as_secs_f64(),
        size as f64 / 1e6,
        used as f64 / 1e6
    );
    println!("forum fill: largest tables (MB): {}", largest(&core));
    assert_eq!(forum::thread(&core, &big).unwrap().posts.len(), BIG_THREAD);

    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(3));
    c.bench_function("forum: open a thread of 500 posts (20,000 cached)", |b| {
        b.iter(|| black_box(forum::thread(&core, &big).unwrap().posts.len()))
    });
    c.bench_function("forum: thread list of a category (20,000 cached)", |b| {
        b.iter(|| black_box(forum::threads(&core, "aewa").unwrap().len()))
    });
    // The last one is the worst case: a word found in nearly every post.
    for q in [
        "credentials",
        "délégation",
        "flyway workshop",
        "humed",
        "kaka",
    ] {
        c.bench_function(&format!("forum: search `{q}` over 20,000 posts"), |b| {
            b.iter(|| black_box(forum::search(&core, q, "en").unwrap().len()))
        });
    }
    c.final_summary();

    // Scenarios: percentiles over many runs.
    let mut opens = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        black_box(forum::thread(&core, &big).unwrap());
        opens.push(t.elapsed());
    }
    println!(
        "forum scenario: open the 500-post thread ×200: {}",
        percentiles(opens)
    );
    let queries = [
        "credentials",
        "delegation",
        "créance",
        "informe nacional",
        "wetland census",
        "visa",
        "flyw",
        "raptors poisoning",
        "especies migratorias",
        "Standing Committee",
        "Bonn",
    ];
    let mut searches = Vec::new();
    let mut hits = 0;
    for i in 0..2_000 {
        let t = Instant::now();
        hits += forum::search(&core, queries[i % queries.len()], "en")
            .unwrap()
            .len();
        searches.push(t.elapsed());
    }
    println!(
        "forum scenario: 2,000 searches over {POSTS} posts ({hits} hits, at most 50 a query): {}",
        percentiles(searches)
    );

    // Retention: prune to 10,000 posts, as after a pull.
    let t = Instant::now();
    forum::set_retention(
        &core,
        Retention {
            months: 0,
            categories: vec![],
            max_posts: 10_000,
        },
    )
    .unwrap();
    let prune_time = t.elapsed();
    let kept = post_count(&core);
    assert!(kept <= 10_000, "retention bound broken: {kept} posts kept");
    let (size_after, used_after) = db_bytes(&core);
    println!("forum retention: largest tables (MB): {}", largest(&core));
    core.conn().execute_batch("VACUUM").unwrap();
    let (vacuumed, _) = db_bytes(&core);
    println!(
        "forum retention: max_posts 10,000 → {kept} posts kept, pruned in {prune_time:.2?}; database {:.1} MB ({:.1} MB in use; {:.1} MB after VACUUM) vs {:.1} MB at {POSTS}",
        size_after as f64 / 1e6,
        used_after as f64 / 1e6,
        vacuumed as f64 / 1e6,
        size as f64 / 1e6
    );
    let t = Instant::now();
    black_box(forum::thread(&core, &big).unwrap());
    println!(
        "forum retention: the 500-post thread (most recent) still opens, in {:?}",
        t.elapsed()
    );
    drop(core);
    drop(dir);
}
