//! Time from an answer change to its durable save, as the report view sees it: one
//! `reports::set_answer` on the shipped CMS form in a real SQLite file (WAL,
//! synchronous=FULL), which validates the path, writes and commits, then re-evaluates the
//! form's live state. `cargo bench -p stopover-core --bench report_save`.

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use stopover_core::Core;
use stopover_core::content::PackFiles;
use stopover_core::reports;

#[path = "../tests/support/fill_required.rs"]
mod support;
use support::fill_required;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let draft = reports::create_draft(&core, "cms-national-report", "COP15")
        .unwrap()
        .id;
    // A half-filled report, as after a few days of work.
    for (path, value) in [
        ("general_info/party_name", "Kenya"),
        ("general_info/focal_point/nfp_name", "A. K."),
        ("goal_5/target_13/nbsap_exists", "yes"),
        ("goal_5/target_13/nbsap_migratory", "yes"),
    ] {
        reports::set_answer(&core, &draft, path, value).unwrap();
    }

    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(5));
    let mut n = 0u64;
    c.bench_function(
        "set_answer (text) → durable + live state, CMS form",
        |b| {
            b.iter(|| {
                n += 1;
                black_box(
                    reports::set_answer(
                        &core,
                        &draft,
                        "general_info/focal_point/nfp_position",
                        &format!("Director {n}"),
                    )
                    .unwrap(),
                )
            })
        },
    );
    c.bench_function(
        "set_answer (gate) → durable + live state, CMS form",
        |b| {
            b.iter(|| {
                n += 1;
                let v = if n.is_multiple_of(2) { "yes" } else { "no" };
                black_box(
                    reports::set_answer(&core, &draft, "goal_5/target_13/nbsap_exists", v).unwrap(),
                )
            })
        },
    );

    // Exports of a completed report (every required answer, Appendix I species rows).
    let full = reports::create_draft(&core, "cms-national-report", "COP16")
        .unwrap()
        .id;
    reports::set_answer(&core, &full, "appendix_i/app1_present", "yes").unwrap();
    for _ in 0..5 {
        reports::add_repeat_row(&core, &full, "appendix_i/app1_species").unwrap();
    }
    fill_required(&core, &full);
    c.bench_function("export PDF, completed CMS report (fr)", |b| {
        b.iter(|| black_box(reports::export_pdf(&core, &full, "fr").unwrap().len()))
    });
    c.bench_function("export DOCX, completed CMS report (fr)", |b| {
        b.iter(|| black_box(reports::export_docx(&core, &full, "fr").unwrap().len()))
    });
    println!(
        "export sizes: PDF {} B, DOCX {} B",
        reports::export_pdf(&core, &full, "fr").unwrap().len(),
        reports::export_docx(&core, &full, "fr").unwrap().len()
    );
    c.final_summary();
}
