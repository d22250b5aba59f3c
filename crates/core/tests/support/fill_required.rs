//! Completing a report in tests and benchmarks: shared by `crates/core/tests/reports.rs`,
//! `crates/core/benches/report_save.rs` and `tests/src/reports.rs` (each includes this file
//! with `#[path]`), so there is one way to fill a report, not three.

use stopover_core::Core;
use stopover_core::reports::{self, view};
use stopover_forms::QuestionType;

/// Answers every missing or invalid required question with a plausible value (text in
/// French, to carry accents through whatever reads it back), until the draft has no issues.
pub fn fill_required(core: &Core, id: &str) {
    let form = reports::draft_form(core, id).unwrap();
    for _ in 0..50 {
        let issues = reports::live_state(core, id).unwrap().issues;
        if issues.is_empty() {
            return;
        }
        // a select with a `choice_filter` (the species lists by Appendix) offers only some choices
        let offered = view::open_draft(core, id, "fr").unwrap().state.choices;
        for issue in issues {
            let q = form
                .question(issue.path.rsplit('/').next().unwrap())
                .unwrap_or_else(|| panic!("no question for {}", issue.path));
            let value = match &q.kind {
                // the two answers whose constraints a generic value cannot meet
                _ if q.name == "period_end" => "2026-12-31".into(),
                _ if q.name == "nfp_email" => "pf@exemple.org".into(),
                QuestionType::SelectOne(l)
                | QuestionType::SelectMultiple(l)
                | QuestionType::Rank(l) => offered
                    .get(&issue.path)
                    .and_then(|names| names.first().cloned())
                    .unwrap_or_else(|| form.choice_list(l)[0].name.clone()),
                QuestionType::Integer | QuestionType::Decimal | QuestionType::Range => "1".into(),
                QuestionType::Date => "2024-01-01".into(),
                _ => "Réponse détaillée : la Partie a renforcé la coopération régionale.".into(),
            };
            reports::set_answer(core, id, &issue.path, &value).unwrap();
        }
    }
    panic!(
        "could not fill the required answers: {:?}",
        reports::live_state(core, id).unwrap().issues
    );
}
