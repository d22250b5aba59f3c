//! National report drafts against the real embedded pack in a real SQLite file: gates, hidden
//! answers kept, repeat rows, refusals, restart, submission, pre-fill and exports.

use stopover_core::content::PackFiles;
use stopover_core::reports::{self, DraftStatus, LiveState};
use stopover_core::{Core, Error};

#[path = "support/fill_required.rs"]
mod support;
use support::fill_required;

const CMS: &str = "cms-national-report";
const SPECIES: &str = "appendix_i/app1_species";

fn open(dir: &std::path::Path) -> Core {
    Core::open(dir, Ok(PackFiles::embedded())).unwrap()
}

fn fresh() -> (tempfile::TempDir, Core, String) {
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path());
    let draft = reports::create_draft(&core, CMS, "COP15").unwrap();
    (dir, core, draft.id)
}

fn visible(s: &LiveState, path: &str) -> bool {
    s.visible.iter().any(|p| p == path)
}

#[test]
fn unknown_form_and_empty_cycle_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let core = open(dir.path());
    let err = reports::create_draft(&core, "no-such-form", "COP15").unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    let err = reports::create_draft(&core, CMS, "  ").unwrap_err();
    assert!(matches!(err, stopover_core::Error::Invalid { .. }), "{err:?}");
    let err = reports::set_answer(
        &core,
        "no-such-draft",
        "goal_5/target_13/nbsap_exists",
        "yes",
    )
    .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
}

#[test]
fn a_gate_opens_its_follow_up_and_closing_it_keeps_the_answer_out_of_the_export() {
    let (_dir, core, id) = fresh();
    let s = reports::live_state(&core, &id).unwrap();
    assert!(visible(&s, "goal_5/target_13/nbsap_exists"));
    assert!(!visible(&s, "goal_5/target_13/nbsap_date"));
    assert!(
        s.required
            .iter()
            .any(|p| p == "goal_5/target_13/nbsap_exists")
    );
    assert_eq!(s.completion.overall.answered, 0);
    assert!(
        s.completion
            .sections
            .iter()
            .any(|(name, _)| name == "goal_5")
    );

    let s = reports::set_answer(&core, &id, "goal_5/target_13/nbsap_exists", "yes").unwrap();
    assert!(
        visible(&s, "goal_5/target_13/nbsap_date"),
        "follow-up shown"
    );
    assert!(
        s.required
            .iter()
            .any(|p| p == "goal_5/target_13/nbsap_migratory")
    );
    assert!(
        !s.issues
            .iter()
            .any(|i| i.path == "goal_5/target_13/nbsap_exists")
    );
    let s = reports::set_answer(&core, &id, "goal_5/target_13/nbsap_date", "2020-05-01").unwrap();
    let goal_5 = s
        .completion
        .sections
        .iter()
        .find(|(n, _)| n == "goal_5")
        .unwrap()
        .1;
    assert_eq!(goal_5.answered, 2);
    let json = reports::export_json(&core, &id).unwrap();
    assert_eq!(json["answers"]["goal_5/target_13/nbsap_date"], "2020-05-01");
    assert_eq!(json["form_id"], CMS);
    assert_eq!(json["cycle"], "COP15");
    assert_eq!(json["form_version"], "2027.2");

    // close the gate: the follow-up hides, its answer stays stored but is not exported
    let s = reports::set_answer(&core, &id, "goal_5/target_13/nbsap_exists", "no").unwrap();
    assert!(!visible(&s, "goal_5/target_13/nbsap_date"));
    assert!(visible(&s, "goal_5/target_13/nbsap_plans"));
    assert_eq!(
        reports::draft_answers(&core, &id).unwrap()["goal_5/target_13/nbsap_date"],
        "2020-05-01"
    );
    let json = reports::export_json(&core, &id).unwrap();
    assert!(
        json["answers"].get("goal_5/target_13/nbsap_date").is_none(),
        "{json}"
    );
    assert_eq!(json["answers"]["goal_5/target_13/nbsap_exists"], "no");

    // open it again: the work is back
    let s = reports::set_answer(&core, &id, "goal_5/target_13/nbsap_exists", "yes").unwrap();
    assert!(visible(&s, "goal_5/target_13/nbsap_date"));
    assert_eq!(
        reports::export_json(&core, &id).unwrap()["answers"]["goal_5/target_13/nbsap_date"],
        "2020-05-01"
    );

    // issues come in the reader's language
    core.set_language("fr").unwrap();
    let s = reports::clear_answer(&core, &id, "goal_5/target_13/nbsap_exists").unwrap();
    let issue = s
        .issues
        .iter()
        .find(|i| i.path == "goal_5/target_13/nbsap_exists")
        .unwrap();
    assert_eq!(issue.message, "Cette réponse est obligatoire.");
    assert_eq!(
        reports::draft_answers(&core, &id).unwrap()["goal_5/target_13/nbsap_exists"],
        ""
    );
}

#[test]
fn repeat_rows_are_added_and_removing_one_shifts_the_later_answers() {
    let (_dir, core, id) = fresh();
    reports::set_answer(&core, &id, "appendix_i/app1_present", "yes").unwrap();
    for _ in 0..3 {
        reports::add_repeat_row(&core, &id, SPECIES).unwrap();
    }
    let s = reports::live_state(&core, &id).unwrap();
    assert!(visible(&s, "appendix_i/app1_species[3]"));
    assert!(visible(&s, "appendix_i/app1_species[3]/app1_sp_name"));
    for (i, name) in [
        (1, "tetrax_tetrax"),
        (2, "coracias_garrulus"),
        (3, "calidris_pusilla"),
    ] {
        reports::set_answer(&core, &id, &format!("{SPECIES}[{i}]/app1_sp_name"), name).unwrap();
    }
    reports::set_answer(
        &core,
        &id,
        &format!("{SPECIES}[3]/app1_sp_trend"),
        "decreasing",
    )
    .unwrap();

    let s = reports::remove_repeat_row(&core, &id, SPECIES, 2).unwrap();
    assert!(visible(&s, "appendix_i/app1_species[2]"));
    assert!(!visible(&s, "appendix_i/app1_species[3]"));
    let a = reports::draft_answers(&core, &id).unwrap();
    assert_eq!(a[&format!("{SPECIES}[1]/app1_sp_name")], "tetrax_tetrax");
    assert_eq!(a[&format!("{SPECIES}[2]/app1_sp_name")], "calidris_pusilla");
    assert_eq!(a[&format!("{SPECIES}[2]/app1_sp_trend")], "decreasing");
    assert!(
        !a.keys().any(|k| k.starts_with(&format!("{SPECIES}[3]"))),
        "{a:?}"
    );
    assert!(!a.values().any(|v| v == "coracias_garrulus"));

    // an empty last row survives removing a row before it
    reports::add_repeat_row(&core, &id, SPECIES).unwrap();
    let s = reports::remove_repeat_row(&core, &id, SPECIES, 1).unwrap();
    assert!(visible(&s, "appendix_i/app1_species[2]"), "{:?}", s.visible);
    assert!(!visible(&s, "appendix_i/app1_species[3]"));

    // the count calculation follows
    let json = reports::export_json(&core, &id).unwrap();
    assert_eq!(json["answers"]["appendix_i/app1_species_reported"], "2");

    let err = reports::remove_repeat_row(&core, &id, SPECIES, 5).unwrap_err();
    assert!(matches!(err, stopover_core::Error::Invalid { .. }), "{err:?}");
    let err = reports::add_repeat_row(&core, &id, "goal_5/target_13/nbsap_exists").unwrap_err();
    assert!(matches!(err, stopover_core::Error::Invalid { .. }), "{err:?}");
}

#[test]
fn unknown_paths_are_refused_by_name() {
    let (_dir, core, id) = fresh();
    for path in [
        "goal_5/target_13/no_such_question",
        "no_such_section/nbsap_exists",
        "nbsap_exists",
        "appendix_i/app1_species/app1_sp_name",
        "appendix_i/app1_species[1]/app1_sp_name",
        "appendix_i/app1_species[0]/app1_sp_name",
        "goal_5[1]/target_13/nbsap_exists",
        "appendix_i/app1_species_reported",
        "appendix_i/intro_app1",
        "goal_5",
        "",
    ] {
        let err = reports::set_answer(&core, &id, path, "x").unwrap_err();
        assert!(
            matches!(err, stopover_core::Error::Invalid { .. }),
            "{path}: {err}"
        );
        assert!(
            err.to_string().contains(&format!("`{path}`")),
            "{path}: {err}"
        );
    }
    assert!(reports::draft_answers(&core, &id).unwrap().is_empty());
    // `_other` of an or_other select is a valid path
    reports::set_answer(
        &core,
        &id,
        "goal_5/target_13/nbsap_aspects_covered_other",
        "Urban birds",
    )
    .unwrap();
}

#[test]
fn answers_survive_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let core = open(dir.path());
        let id = reports::create_draft(&core, CMS, "COP15").unwrap().id;
        reports::set_answer(&core, &id, "goal_5/target_13/nbsap_exists", "yes").unwrap();
        reports::add_repeat_row(&core, &id, SPECIES).unwrap();
        reports::add_repeat_row(&core, &id, SPECIES).unwrap();
        reports::set_answer(
            &core,
            &id,
            &format!("{SPECIES}[1]/app1_sp_name"),
            "otis_tarda",
        )
        .unwrap();
        id
    };
    let core = open(dir.path());
    let a = reports::draft_answers(&core, &id).unwrap();
    assert_eq!(a["goal_5/target_13/nbsap_exists"], "yes");
    assert_eq!(a[&format!("{SPECIES}[1]/app1_sp_name")], "otis_tarda");
    reports::set_answer(&core, &id, "appendix_i/app1_present", "yes").unwrap();
    let s = reports::live_state(&core, &id).unwrap();
    assert!(
        visible(&s, "appendix_i/app1_species[2]"),
        "the empty second row is kept"
    );
    let list = reports::list_drafts(&core).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, id);
    assert_eq!(list[0].title, "CMS national report");
    assert_eq!(list[0].cycle, "COP15");
    assert_eq!(list[0].status, DraftStatus::Draft);
    let c = list[0].completion.unwrap();
    assert!(c.answered >= 3 && c.total > c.answered, "{c:?}");
}

#[test]
fn submission_freezes_the_draft_and_the_next_cycle_is_prefilled() {
    let (_dir, core, id) = fresh();
    let err = reports::submit_draft(&core, &id).unwrap_err();
    assert!(matches!(err, stopover_core::Error::Invalid { .. }), "{err:?}");
    reports::set_answer(&core, &id, "goal_5/target_13/nbsap_exists", "no").unwrap();
    reports::set_answer(
        &core,
        &id,
        "goal_5/target_13/nbsap_plans",
        "Revision under way",
    )
    .unwrap();
    reports::set_answer(&core, &id, "appendix_i/app1_present", "yes").unwrap();
    reports::add_repeat_row(&core, &id, SPECIES).unwrap();
    reports::set_answer(
        &core,
        &id,
        &format!("{SPECIES}[1]/app1_sp_name"),
        "otis_tarda",
    )
    .unwrap();
    reports::set_answer(&core, &id, "general_info/period_start", "2021-01-01").unwrap();
    reports::set_answer(&core, &id, "general_info/period_end", "2023-12-31").unwrap();
    reports::set_answer(
        &core,
        &id,
        "general_info/focal_point/nfp_email",
        "nfp@example.org",
    )
    .unwrap();
    fill_required(&core, &id);
    let submitted = reports::submit_draft(&core, &id).unwrap();
    assert_eq!(submitted.status, DraftStatus::Submitted);
    assert!(submitted.submitted_at.is_some());

    for err in [
        reports::set_answer(&core, &id, "goal_5/target_13/nbsap_plans", "changed").unwrap_err(),
        reports::clear_answer(&core, &id, "goal_5/target_13/nbsap_plans").unwrap_err(),
        reports::add_repeat_row(&core, &id, SPECIES).unwrap_err(),
        reports::remove_repeat_row(&core, &id, SPECIES, 1).unwrap_err(),
        reports::submit_draft(&core, &id).unwrap_err(),
    ] {
        assert!(
            matches!(err, stopover_core::Error::Invalid { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("submitted"), "{err}");
    }
    assert_eq!(
        reports::draft_answers(&core, &id).unwrap()["goal_5/target_13/nbsap_plans"],
        "Revision under way"
    );

    let next = reports::create_draft(&core, CMS, "COP16").unwrap();
    let before = reports::draft_answers(&core, &id).unwrap();
    let copied = reports::prefill_from_last_submitted(&core, &next.id).unwrap();
    assert_eq!(copied, before.len());
    let after = reports::draft_answers(&core, &next.id).unwrap();
    assert_eq!(after, before);
    assert_eq!(after[&format!("{SPECIES}[1]/app1_sp_name")], "otis_tarda");
    // the copy is a draft of its own
    reports::set_answer(
        &core,
        &next.id,
        "goal_5/target_13/nbsap_plans",
        "Adopted in 2026",
    )
    .unwrap();
    assert_eq!(
        reports::draft_answers(&core, &id).unwrap()["goal_5/target_13/nbsap_plans"],
        "Revision under way"
    );
    let list = reports::list_drafts(&core).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id, next.id, "most recently changed first");
}

#[test]
fn prefill_without_a_submitted_report_copies_nothing() {
    let (_dir, core, id) = fresh();
    reports::set_answer(&core, &id, "goal_5/target_13/nbsap_exists", "yes").unwrap();
    let other = reports::create_draft(&core, CMS, "COP16").unwrap();
    assert_eq!(
        reports::prefill_from_last_submitted(&core, &other.id).unwrap(),
        0
    );
    assert!(reports::draft_answers(&core, &other.id).unwrap().is_empty());
}

#[test]
fn csv_export_quotes_fields_and_keeps_accents() {
    let (_dir, core, id) = fresh();
    let tricky = "Plan, \"revised\"\nsecond line: révision générale";
    reports::set_answer(&core, &id, "goal_5/target_13/nbsap_exists", "no").unwrap();
    reports::set_answer(&core, &id, "goal_5/target_13/nbsap_plans", tricky).unwrap();
    reports::set_answer(&core, &id, "goal_5/target_13/nbsap_date", "2020-01-01").unwrap(); // hidden

    let csv = reports::export_csv(&core, &id, "fr").unwrap();
    assert!(
        csv.starts_with("\u{feff}section,path,question,answer\r\n"),
        "{csv}"
    );
    let quoted = "\"Plan, \"\"revised\"\"\nsecond line: révision générale\"";
    assert!(csv.contains(&format!(",{quoted}\r\n")), "{csv}");
    // the section label has a comma, so it is quoted too
    assert!(csv.contains("\"Section III. But 5 : renforcer la mise en œuvre par la planification participative, les connaissances et le renforcement des capacités\",goal_5/target_13/nbsap_exists,Le pays dispose-t-il d'une SPANB en vigueur ?,no\r\n"), "{csv}");
    assert!(
        !csv.contains("nbsap_date"),
        "hidden answers are not exported"
    );

    let es = reports::export_csv(&core, &id, "es").unwrap();
    assert!(
        es.contains("¿Cuenta el país con una EPANB en vigor?"),
        "{es}"
    );
    assert_eq!(
        reports::export_csv(&core, &id, "de")
            .unwrap_err()
            .code()
            .as_str(),
        "unknown_language"
    );
}

#[test]
fn cycles_have_one_spelling_and_answers_fit_what_the_server_keeps() {
    let (_dir, core, id) = fresh();
    // `cop15` is the same cycle as `COP15`: one report per form and cycle.
    let err = reports::create_draft(&core, CMS, " cop15 ").unwrap_err();
    assert!(
        err.to_string()
            .contains("already a cms-national-report draft for COP15"),
        "{err}"
    );
    let err = reports::create_draft(&core, CMS, "COP 16").unwrap_err();
    assert!(err.to_string().contains("not a reporting cycle"), "{err}");
    assert_eq!(
        reports::create_draft(&core, CMS, "cop16").unwrap().cycle,
        "COP16"
    );

    // An answer longer than the server keeps is refused before anything is saved.
    let path = "goal_5/target_13/nbsap_plans";
    reports::set_answer(&core, &id, "goal_5/target_13/nbsap_exists", "no").unwrap();
    reports::set_answer(&core, &id, path, "short").unwrap();
    let long = "é".repeat(stopover_protocol::MAX_TEXT_CHARS + 1);
    let err = reports::set_answer(&core, &id, path, &long).unwrap_err();
    assert!(
        matches!(err, stopover_core::Error::Invalid { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("at most 10000"), "{err}");
    assert_eq!(reports::draft_answers(&core, &id).unwrap()[path], "short");
    let fits = "é".repeat(stopover_protocol::MAX_TEXT_CHARS);
    reports::set_answer(&core, &id, path, &fits).unwrap();

    // Once submitted, the cycle cannot be started again.
    fill_required(&core, &id);
    reports::submit_draft(&core, &id).unwrap();
    let err = reports::create_draft(&core, CMS, "COP15").unwrap_err();
    assert!(err.to_string().contains("already submitted"), "{err}");
}
