//! A complete report for export tests and benchmarks: every question of the form answered (the
//! first choice of every select, which opens the gates, so nearly every follow-up is relevant)
//! and `rows` rows in every repeat. Text answers are a few sentences in French with names in
//! Polish, Turkish, Cyrillic and Greek, as a real report mixes them. Shared by
//! `crates/core/tests/report_pdf.rs` and `crates/core/benches/report_export.rs` (each
//! includes this file with `#[path]`).

use stopover_core::Core;
use stopover_core::reports::{self, view};
use stopover_forms::{Question, QuestionType};

const SENTENCES: [&str; 4] = [
    "La Partie a renforcé la coopération régionale avec les États de l'aire de répartition, notamment lors d'ateliers tenus à Łódź et à Bichkek (Кыргызстан).",
    "Les sites d'hivernage côtiers ont fait l'objet de comptages annuels ; les résultats sont partagés avec les réseaux internationaux de suivi.",
    "Un plan d'action national, adopté après consultation publique, prévoit des mesures contre l'abattage illégal et l'électrocution des oiseaux migrateurs.",
    "Des experts de Türkiye (Muğla, Şanlıurfa) et de Ελλάδα ont participé aux travaux ; la mise en œuvre se poursuit au cours du prochain cycle.",
];

fn text(n: usize) -> String {
    (0..3)
        .map(|i| SENTENCES[(n + i) % SENTENCES.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

/// Answers every input question of the draft and gives every repeat `rows` rows.
pub fn fill_all(core: &Core, id: &str, rows: usize) {
    let form = reports::draft_form(core, id).unwrap();
    let mut n = 0;
    fn walk(
        core: &Core,
        id: &str,
        form: &stopover_forms::Form,
        qs: &[Question],
        prefix: &str,
        rows: usize,
        n: &mut usize,
    ) {
        for q in qs {
            let path = if prefix.is_empty() {
                q.name.clone()
            } else {
                format!("{prefix}/{}", q.name)
            };
            match &q.kind {
                QuestionType::Group => walk(core, id, form, &q.children, &path, rows, n),
                QuestionType::Repeat => {
                    if q.repeat_count.is_none() {
                        for _ in 0..rows {
                            let _ = reports::add_repeat_row(core, id, &path);
                        }
                    }
                    let live = reports::draft_answers(core, id).unwrap();
                    let count = (1..)
                        .take_while(|i| live.contains_key(&format!("{path}[{i}]")))
                        .count()
                        .max(rows);
                    for i in 1..=count {
                        walk(
                            core,
                            id,
                            form,
                            &q.children,
                            &format!("{path}[{i}]"),
                            rows,
                            n,
                        );
                    }
                }
                kind if kind.is_input() && q.calculation.is_none() => {
                    *n += 1;
                    let value = match kind {
                        _ if q.name == "period_start" => "2023-01-01".to_string(),
                        _ if q.name == "period_end" => "2025-12-31".to_string(),
                        _ if q.name.contains("email") => "pf@exemple.org".to_string(),
                        QuestionType::SelectOne(l) => {
                            let offered = view::open_draft(core, id, "fr")
                                .ok()
                                .and_then(|v| v.state.choices.get(&path).cloned());
                            match offered {
                                Some(names) if !names.is_empty() => names[0].clone(),
                                Some(_) => continue,
                                None => match form.choice_list(l).first() {
                                    Some(c) => c.name.clone(),
                                    None => continue,
                                },
                            }
                        }
                        QuestionType::SelectMultiple(l) | QuestionType::Rank(l) => form
                            .choice_list(l)
                            .iter()
                            .take(2)
                            .map(|c| c.name.clone())
                            .collect::<Vec<_>>()
                            .join(" "),
                        QuestionType::Integer => "12".to_string(),
                        QuestionType::Decimal => "42.5".to_string(),
                        QuestionType::Range => "3".to_string(),
                        QuestionType::Date => "2024-03-15".to_string(),
                        QuestionType::Geopoint => "12.5 -3.25".to_string(),
                        QuestionType::Geotrace => "12.5 -3.25;12.6 -3.3".to_string(),
                        QuestionType::Geoshape => {
                            "12.5 -3.25;12.6 -3.3;12.7 -3.2;12.5 -3.25".to_string()
                        }
                        // attachments are the submission package's business
                        QuestionType::File => continue,
                        _ => text(*n),
                    };
                    let _ = reports::set_answer(core, id, &path, &value);
                }
                _ => {}
            }
        }
    }
    walk(core, id, &form, &form.questions, "", rows, &mut n);
}
