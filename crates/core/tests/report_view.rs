//! What the app shows of a draft (reports::view) against the real embedded pack in a real
//! SQLite file: the form tree in the reader's language with fallback, choice filters, repeats
//! (also empty ones), calculations, and hidden answers kept for when their gate opens again.

use stopover_core::content::PackFiles;
use stopover_core::reports::view::{self, NodeView};
use stopover_core::reports::{self, LiveState};
use stopover_core::{Core, Error};

const CMS: &str = "cms-national-report";
const AEWA: &str = "aewa-national-report";
const SPECIES: &str = "appendix_i/app1_species";

fn fresh(form: &str) -> (tempfile::TempDir, Core, String) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let draft = reports::create_draft(&core, form, "COP15").unwrap();
    (dir, core, draft.id)
}

/// The node at a plain path (`section/…/name`).
fn find<'a>(sections: &'a [NodeView], path: &str) -> &'a NodeView {
    fn walk<'a>(nodes: &'a [NodeView], path: &str) -> Option<&'a NodeView> {
        nodes.iter().find_map(|n| {
            if n.path == path {
                Some(n)
            } else {
                walk(&n.children, path)
            }
        })
    }
    walk(sections, path).unwrap_or_else(|| panic!("no node {path}"))
}

fn state_after(core: &Core, id: &str, live: LiveState) -> view::ReportState {
    view::report_state(core, id, live).unwrap()
}

#[test]
fn lists_the_report_forms_with_titles_in_the_readers_language() {
    let (_dir, core, _) = fresh(CMS);
    let forms = view::list_forms(&core, "fr").unwrap();
    let titles: Vec<(&str, &str)> = forms
        .iter()
        .map(|f| (f.id.as_str(), f.title.as_str()))
        .collect();
    assert!(
        titles.contains(&(CMS, "Rapport national à la CMS")),
        "{titles:?}"
    );
    assert!(
        titles.contains(&(AEWA, "Rapport national AEWA")),
        "{titles:?}"
    );
    // The capacity self-assessment is a report form of the pack too, listed beside them.
    assert!(
        titles.contains(&("capacity-self-assessment", "Auto-évaluation des capacités")),
        "{titles:?}"
    );
    // AEWA has no Spanish: its title falls back to the form's default language.
    let es = view::list_forms(&core, "es").unwrap();
    assert!(
        es.iter()
            .any(|f| f.id == AEWA && f.title == "AEWA national report")
    );
    assert!(
        es.iter()
            .any(|f| f.id == CMS && f.title == "Informe nacional para la CMS")
    );
    let err = view::list_forms(&core, "de").unwrap_err();
    assert!(
        matches!(err, stopover_core::Error::Invalid { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("`de`"), "{err}");
}

#[test]
fn the_form_tree_has_sections_labels_choices_and_widget_details_in_french() {
    let (_dir, core, id) = fresh(CMS);
    let v = view::open_draft(&core, &id, "fr").unwrap();
    assert_eq!(v.title, "Rapport national à la CMS");
    assert_eq!(v.draft.cycle, "COP15");
    let names: Vec<&str> = v.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "general_info",
            "appendix_i",
            "appendix_ii",
            "goal_1",
            "goal_2",
            "goal_3",
            "goal_4",
            "goal_5",
            "closing"
        ]
    );
    // The section names are the ones completion is reported under.
    let completion: Vec<&str> = v
        .state
        .live
        .completion
        .sections
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(completion, names);
    assert_eq!(
        v.sections[0].label.as_deref(),
        Some("Section I. Informations générales")
    );

    let gate = find(&v.sections, "goal_5/target_13/nbsap_exists");
    assert_eq!(gate.kind, "select_one");
    assert_eq!(gate.list.as_deref(), Some("yes_no"));
    assert!(gate.required);
    let yes_no: Vec<(&str, &str)> = v.choice_lists["yes_no"]
        .iter()
        .map(|c| (c.name.as_str(), c.label.as_str()))
        .collect();
    assert_eq!(yes_no, [("yes", "Oui"), ("no", "Non")]);

    let address = find(&v.sections, "general_info/focal_point/nfp_address");
    assert_eq!(address.kind, "text");
    assert_eq!(address.appearance, ["multiline"]);
    let phone = find(&v.sections, "general_info/focal_point/nfp_phone");
    assert_eq!(
        phone.hint.as_deref(),
        Some("Indiquez l'indicatif international, p. ex. +33 1 23 45 67 89.")
    );
    assert!(!phone.required);

    let matrix = find(&v.sections, "goal_5/target_15/research_matrix");
    assert_eq!(matrix.kind, "group");
    assert_eq!(matrix.appearance, ["table-list"]);
    assert_eq!(matrix.children.len(), 6);

    let capacity = find(&v.sections, "goal_5/target_16/capacity_adequacy");
    assert_eq!(capacity.kind, "range");
    let r = capacity.range.expect("range parameters");
    assert_eq!((r.start, r.end, r.step), (1.0, 5.0, 1.0));

    let threats = find(&v.sections, "appendix_i/app1_species/app1_sp_threats");
    assert_eq!(threats.kind, "select_multiple");
    assert!(threats.or_other);
    let species = find(&v.sections, SPECIES);
    assert_eq!(species.kind, "repeat");
    assert!(!species.fixed_rows);
    assert_eq!(
        find(&v.sections, "appendix_i/app1_species/app1_sp_documents").kind,
        "file"
    );
    let count = find(&v.sections, "appendix_i/app1_species/app1_sp_threat_count");
    assert_eq!(count.kind, "calculate");
    assert!(count.read_only);
    assert_eq!(find(&v.sections, "general_info/intro_general").kind, "note");
    assert_eq!(
        find(&v.sections, "goal_5/target_13/priority_ranking").kind,
        "rank"
    );
    assert_eq!(find(&v.sections, "general_info/period_start").kind, "date");
    assert_eq!(
        find(&v.sections, "goal_3/target_10/pa_number").kind,
        "integer"
    );
    assert_eq!(
        find(&v.sections, "goal_3/target_10/pa_terrestrial_km2").kind,
        "decimal"
    );
}

#[test]
fn texts_missing_in_the_readers_language_fall_back_to_the_forms_default_language() {
    let (_dir, core, id) = fresh(AEWA);
    let v = view::open_draft(&core, &id, "es").unwrap();
    assert_eq!(v.title, "AEWA national report");
    assert_eq!(
        v.sections[0].label.as_deref(),
        Some("Part 1. General report on implementation")
    );
    let fr = view::open_draft(&core, &id, "fr").unwrap();
    assert_eq!(
        fr.sections[0].label.as_deref(),
        Some("Partie 1. Rapport général sur la mise en œuvre")
    );
}

#[test]
fn a_choice_filter_offers_only_the_choices_allowed_by_the_other_answers() {
    let (_dir, core, id) = fresh(CMS);
    let v = view::open_draft(&core, &id, "en").unwrap();
    assert!(find(&v.sections, "general_info/subregion").choice_filter);
    // Hidden until a region is chosen: nothing to filter for yet.
    assert!(!v.state.choices.contains_key("general_info/subregion"));

    let live = reports::set_answer(&core, &id, "general_info/region", "oceania").unwrap();
    let s = state_after(&core, &id, live);
    assert_eq!(
        s.choices["general_info/subregion"],
        ["australia_nz", "pacific_islands"]
    );
    let live = reports::set_answer(&core, &id, "general_info/region", "europe").unwrap();
    let s = state_after(&core, &id, live);
    assert_eq!(
        s.choices["general_info/subregion"],
        [
            "northern_europe",
            "western_europe",
            "eastern_europe",
            "southern_europe"
        ]
    );
}

#[test]
fn an_empty_repeat_is_listed_once_its_gate_opens_and_rows_and_calculations_follow() {
    let (_dir, core, id) = fresh(CMS);
    let v = view::open_draft(&core, &id, "en").unwrap();
    assert!(
        !v.state.repeats.contains_key(SPECIES),
        "the species repeat is hidden while app1_present is unanswered: {:?}",
        v.state.repeats
    );
    assert_eq!(v.state.computed["appendix_i/app1_species_reported"], "0");

    let live = reports::set_answer(&core, &id, "appendix_i/app1_present", "yes").unwrap();
    let s = state_after(&core, &id, live);
    assert_eq!(s.repeats.get(SPECIES), Some(&0), "{:?}", s.repeats);

    let live = reports::add_repeat_row(&core, &id, SPECIES).unwrap();
    let s = state_after(&core, &id, live);
    assert_eq!(s.repeats.get(SPECIES), Some(&1));
    assert_eq!(s.computed["appendix_i/app1_species_reported"], "1");
    assert!(
        s.read_only.is_empty(),
        "no input question is read-only: {:?}",
        s.read_only
    );

    let row = format!("{SPECIES}[1]");
    let live = reports::set_answer(
        &core,
        &id,
        &format!("{row}/app1_sp_threats"),
        "bycatch poisoning",
    );
    let s = match live {
        Ok(live) => state_after(&core, &id, live),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(s.computed[&format!("{row}/app1_sp_threat_count")], "2");

    // Closing the gate hides the repeat (rows and all) but keeps its answers.
    reports::set_answer(
        &core,
        &id,
        &format!("{row}/app1_sp_name"),
        "coracias_garrulus",
    )
    .unwrap();
    let live = reports::set_answer(&core, &id, "appendix_i/app1_present", "no").unwrap();
    let s = state_after(&core, &id, live);
    assert!(!s.repeats.contains_key(SPECIES));
    assert!(
        !s.computed
            .contains_key(&format!("{row}/app1_sp_threat_count"))
    );
    let values = view::draft_values(&core, &id).unwrap();
    assert_eq!(values[&format!("{row}/app1_sp_name")], "coracias_garrulus");

    // Reopened: the row and its answers are back.
    reports::set_answer(&core, &id, "appendix_i/app1_present", "yes").unwrap();
    let v = view::open_draft(&core, &id, "en").unwrap();
    assert_eq!(v.state.repeats.get(SPECIES), Some(&1));
    assert_eq!(
        v.values[&format!("{row}/app1_sp_name")],
        "coracias_garrulus"
    );
    assert!(
        v.state
            .live
            .visible
            .contains(&format!("{row}/app1_sp_name"))
    );
}

#[test]
fn removing_a_row_renames_the_values_of_later_rows() {
    let (_dir, core, id) = fresh(CMS);
    reports::set_answer(&core, &id, "appendix_i/app1_present", "yes").unwrap();
    for name in ["coracias_garrulus", "otis_tarda"] {
        let live = reports::add_repeat_row(&core, &id, SPECIES).unwrap();
        let n = state_after(&core, &id, live).repeats[SPECIES];
        reports::set_answer(&core, &id, &format!("{SPECIES}[{n}]/app1_sp_name"), name).unwrap();
    }
    reports::remove_repeat_row(&core, &id, SPECIES, 1).unwrap();
    let values = view::draft_values(&core, &id).unwrap();
    assert_eq!(values[&format!("{SPECIES}[1]/app1_sp_name")], "otis_tarda");
    assert!(!values.contains_key(&format!("{SPECIES}[2]/app1_sp_name")));
}

#[test]
fn unknown_drafts_and_languages_are_refused() {
    let (_dir, core, id) = fresh(CMS);
    let err = view::open_draft(&core, "no-such-draft", "en").unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    let err = view::open_draft(&core, &id, "xx").unwrap_err();
    assert!(
        matches!(err, stopover_core::Error::Invalid { .. }),
        "{err:?}"
    );
}

#[test]
fn a_submitted_draft_still_opens_for_reading() {
    let (_dir, core, id) = fresh(AEWA);
    // Answer what is required, then submit.
    let form = reports::draft_form(&core, &id).unwrap();
    for _ in 0..50 {
        let issues = reports::live_state(&core, &id).unwrap().issues;
        if issues.is_empty() {
            break;
        }
        for issue in issues {
            let name = issue.path.rsplit('/').next().unwrap();
            let q = form.question(name).unwrap();
            let value = match q.kind.list() {
                Some(l) => form.choice_list(l)[0].name.clone(),
                None => match q.kind {
                    stopover_forms::QuestionType::Date => "2020-01-01".into(),
                    stopover_forms::QuestionType::Integer
                    | stopover_forms::QuestionType::Decimal
                    | stopover_forms::QuestionType::Range => "1".into(),
                    _ => "x".into(),
                },
            };
            reports::set_answer(&core, &id, &issue.path, &value).unwrap();
        }
    }
    reports::submit_draft(&core, &id).unwrap();
    let v = view::open_draft(&core, &id, "fr").unwrap();
    assert_eq!(v.draft.status, reports::DraftStatus::Submitted);
    assert!(v.state.live.issues.is_empty());
}

#[test]
fn a_new_report_is_offered_the_cycle_named_after_the_forms_own_meeting() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    let of = |core: &Core, id: &str| {
        view::list_forms(core, "en")
            .unwrap()
            .into_iter()
            .find(|f| f.id == id)
            .unwrap()
    };
    // CMS reports to its COP, and the form names the session reports are now prepared for;
    // AEWA reports to its MOP, and the form names none, so nothing is suggested
    let cms = of(&core, CMS);
    assert_eq!(cms.cycle_meeting.as_deref(), Some("COP"));
    assert_eq!(cms.suggested_cycle.as_deref(), Some("COP15"));
    let aewa = of(&core, AEWA);
    assert_eq!(aewa.cycle_meeting.as_deref(), Some("MOP"));
    assert_eq!(aewa.suggested_cycle, None);

    // once a report exists, the next session is offered
    reports::create_draft(&core, CMS, "COP15").unwrap();
    assert_eq!(of(&core, CMS).suggested_cycle.as_deref(), Some("COP16"));
    reports::create_draft(&core, AEWA, "MOP8").unwrap();
    reports::create_draft(&core, AEWA, "mop9").unwrap();
    // a cycle named after another meeting does not count
    reports::create_draft(&core, AEWA, "COP15").unwrap();
    assert_eq!(of(&core, AEWA).suggested_cycle.as_deref(), Some("MOP10"));
}

#[test]
fn each_question_carries_its_place_in_the_official_format() {
    let (_dir, core, id) = fresh(CMS);
    let view = view::open_draft(&core, &id, "fr").unwrap();
    assert_eq!(
        find(&view.sections, "goal_5/target_13/nbsap_exists")
            .reference
            .as_deref(),
        Some("III · T13")
    );
    assert_eq!(
        find(&view.sections, "general_info").reference.as_deref(),
        Some("I")
    );
    assert_eq!(
        find(&view.sections, "general_info/region")
            .reference
            .as_deref(),
        Some("Stopover")
    );
    // AEWA's form has no reference column
    let (_dir, core, id) = fresh(AEWA);
    let view = view::open_draft(&core, &id, "en").unwrap();
    assert!(view.sections.iter().all(|s| s.reference.is_none()));
}
