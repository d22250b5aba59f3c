//! Exports of the full CMS report: every question answered (the first choice of each select,
//! which opens nearly every follow-up), three rows in every repeat, French text with Polish,
//! Turkish, Cyrillic and Greek names, from a real SQLite file. The PDF embeds its font subset
//! (DejaVu Sans); issue 9's budget for it is under 1 s and under 500 KB.
//! `cargo bench -p stopover-core --bench report_export`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use stopover_core::Core;
use stopover_core::content::PackFiles;
use stopover_core::reports;

#[path = "../tests/support/fill_all.rs"]
mod support;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let full = reports::create_draft(&core, "cms-national-report", "COP15")
        .unwrap()
        .id;
    support::fill_all(&core, &full, 3);
    let answers = reports::draft_answers(&core, &full).unwrap().len();

    // one cold export first: the fonts are parsed on first use
    let started = Instant::now();
    let pdf = reports::export_pdf(&core, &full, "fr").unwrap();
    let cold = started.elapsed();

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    c.bench_function("export PDF, full CMS report (fr), embedded font", |b| {
        b.iter(|| black_box(reports::export_pdf(&core, &full, "fr").unwrap().len()))
    });
    c.bench_function("export DOCX, full CMS report (fr)", |b| {
        b.iter(|| black_box(reports::export_docx(&core, &full, "fr").unwrap().len()))
    });
    c.bench_function(
        "export package (PDF, DOCX, CSV, JSON, ZIP), full CMS report (fr)",
        |b| b.iter(|| black_box(reports::export_package(&core, &full, "fr").unwrap().len())),
    );
    let pages = pdf
        .windows(b"/Type /Page\n".len())
        .filter(|w| *w == b"/Type /Page\n")
        .count();
    println!(
        "full CMS report: {answers} stored answers; PDF {} B ({pages} pages, first export {cold:?}), DOCX {} B, CSV {} B, package {} B",
        pdf.len(),
        reports::export_docx(&core, &full, "fr").unwrap().len(),
        reports::export_csv(&core, &full, "fr").unwrap().len(),
        reports::export_package(&core, &full, "fr").unwrap().len(),
    );
    c.final_summary();
}
