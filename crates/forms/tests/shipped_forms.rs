//! The report forms Stopover ships (assets/forms/) load with this engine and behave: gates
//! open their follow-ups, repeats compute, constraints speak the reader's language.

use std::sync::Arc;

use stopover_forms::{Date, EvalContext, Form, FormState, IssueKind, load_text};

const CMS: &str = include_str!("../../../assets/forms/cms-national-report.txt");
const AEWA: &str = include_str!("../../../assets/forms/aewa-national-report.txt");

fn load(text: &str) -> Arc<Form> {
    Arc::new(load_text(text).unwrap_or_else(|e| panic!("shipped form does not load:\n{e}")))
}

fn fresh(form: &Arc<Form>) -> FormState {
    FormState::new(
        Arc::clone(form),
        Default::default(),
        EvalContext {
            today: Date::from_ymd(2027, 3, 1).unwrap(),
        },
    )
}

#[test]
fn the_cms_report_is_complete_and_trilingual() {
    let form = load(CMS);
    let s = form.summary();
    assert_eq!(s.form_id.as_deref(), Some("cms_national_report"));
    assert!(s.questions >= 150, "{} questions", s.questions);
    assert!(s.repeats >= 1);
    for lang in ["en", "fr", "es"] {
        assert!(
            s.languages.iter().any(|l| l.contains(&format!("({lang})"))),
            "{lang} missing from {:?}",
            s.languages
        );
    }
}

#[test]
fn the_cms_nbsap_gate_opens_and_closes_its_follow_ups_without_losing_them() {
    let form = load(CMS);
    let mut state = fresh(&form);
    assert!(
        !state.is_relevant("goal_5/target_13/nbsap_date"),
        "closed until answered"
    );
    state.set_answer("goal_5/target_13/nbsap_exists", "yes");
    assert!(state.is_relevant("goal_5/target_13/nbsap_date"));
    assert!(state.is_relevant("goal_5/target_13/nbsap_migratory"));
    assert!(!state.is_relevant("goal_5/target_13/nbsap_plans"));
    state.set_answer("goal_5/target_13/nbsap_migratory", "yes");
    state.set_answer("goal_5/target_13/nbsap_targets", "Target 4: flyway sites");
    state.set_answer("goal_5/target_13/nbsap_exists", "no");
    assert!(!state.is_relevant("goal_5/target_13/nbsap_targets"));
    assert!(state.is_relevant("goal_5/target_13/nbsap_plans"));
    assert!(
        !state
            .submission_answers()
            .contains_key("goal_5/target_13/nbsap_targets"),
        "hidden answers are not submitted"
    );
    state.set_answer("goal_5/target_13/nbsap_exists", "yes");
    assert_eq!(
        state.value("goal_5/target_13/nbsap_targets"),
        "Target 4: flyway sites",
        "and come back"
    );
}

#[test]
fn the_cms_date_constraint_speaks_spanish() {
    let form = load(CMS);
    let mut state = fresh(&form);
    state.set_answer("general_info/period_start", "2026-01-01");
    state.set_answer("general_info/period_end", "2025-01-01");
    let issue = state
        .issues("es")
        .into_iter()
        .find(|i| i.path == "general_info/period_end" && i.kind == IssueKind::Constraint)
        .expect("end before start is refused");
    assert!(issue.message.contains("posterior"), "{}", issue.message);
}

#[test]
fn the_aewa_report_gates_africa_and_computes_population_midpoints() {
    let form = load(AEWA);
    let s = form.summary();
    assert_eq!(s.form_id.as_deref(), Some("aewa_national_report"));
    assert!(s.questions >= 60 && s.repeats >= 2, "{s:?}");

    let mut state = fresh(&form);
    state.set_answer("part2/in_africa", "no");
    assert!(!state.is_relevant("part2/poa"));
    state.set_answer("part2/in_africa", "yes");
    assert!(state.is_relevant("part2/poa"));

    state.add_repeat_instance("part3/population");
    state.set_answer("part3/population[1]/pop_min", "100");
    state.set_answer("part3/population[1]/pop_max", "300");
    assert_eq!(state.value("part3/population[1]/pop_mid"), "200");
    state.set_answer("part3/population[1]/pop_max", "50");
    assert!(
        state
            .issues("fr")
            .iter()
            .any(|i| i.path == "part3/population[1]/pop_max" && i.kind == IssueKind::Constraint),
        "a maximum below the minimum is refused"
    );
}
