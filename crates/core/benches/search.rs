//! Search latency over the whole embedded pack, in a real SQLite file.
//!
//! `cargo bench -p stopover-core --bench search` runs criterion on a few queries, then a
//! scenario of 3,000 mixed queries (all languages, whole words and prefixes as typed) and
//! prints p50/p95/p99 — the figures in BENCHMARKS.md.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use stopover_core::content::{PackFiles, search};
use stopover_core::{Core, LANGUAGES};

const QUERIES: &[(&str, &str)] = &[
    ("en", "credentials"),
    ("en", "national report deadline"),
    ("en", "deleg"),
    ("en", "Standing Committee"),
    ("en", "funding small grants"),
    ("en", "NBSAP"),
    ("fr", "lettres de créance"),
    ("fr", "delegation"),
    ("fr", "rapport national"),
    ("fr", "financement"),
    ("es", "credenciales"),
    ("es", "delegación"),
    ("es", "informe nacional"),
    ("es", "especies migratorias"),
];

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();

    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(3));
    for (lang, q) in [
        ("en", "credentials"),
        ("fr", "lettres de créance"),
        ("es", "deleg"),
    ] {
        c.bench_function(&format!("search {lang} `{q}`"), |b| {
            b.iter(|| search(&core.conn(), black_box(q), lang, 30).unwrap())
        });
    }
    c.final_summary();

    // Scenario: percentiles over a realistic mix.
    let mut samples = Vec::with_capacity(3000);
    for round in 0..3000 {
        let (lang, q) = QUERIES[round % QUERIES.len()];
        let t = Instant::now();
        let hits = search(&core.conn(), q, lang, 30).unwrap();
        samples.push(t.elapsed());
        black_box(hits);
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    let rows: i64 = core
        .conn()
        .query_row("SELECT count(*) FROM search_index", [], |r| r.get(0))
        .unwrap();
    println!(
        "search scenario: {} queries over {} indexed rows ({} languages): p50 {:?}, p95 {:?}, p99 {:?}, max {:?}",
        samples.len(),
        rows,
        LANGUAGES.len(),
        pct(0.50),
        pct(0.95),
        pct(0.99),
        samples.last().unwrap()
    );
}
