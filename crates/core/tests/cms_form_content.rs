//! The content of the shipped CMS report form: every question says where it sits in the official
//! format, the species list is well formed and documented, and the form offers exactly its rows.

use std::collections::{BTreeMap, BTreeSet};

use stopover_forms::{Form, QuestionType, load_text_with};

const FORM: &str = include_str!("../../../assets/forms/cms-national-report.txt");
/// The species list, attached to the form (`forms/<form-id>/<file>.csv`).
const SPECIES: &str = include_str!("../../../assets/forms/cms-national-report/cms-species.csv");

/// The form with its attached files, as the app and the server load it.
fn load_text(src: &str) -> Result<Form, stopover_forms::FormErrors> {
    let files = [("cms-species.csv".to_string(), SPECIES.as_bytes().to_vec())]
        .into_iter()
        .collect();
    load_text_with(src, &files)
}
const SOURCES: &str = include_str!("../../../docs/content-sources-forms.md");

/// RFC 4180 rows (quoted fields may hold commas, quotes and newlines).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

fn species() -> Vec<BTreeMap<String, String>> {
    let rows = csv_rows(SPECIES);
    let header = &rows[0];
    rows[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), header.len(), "{r:?}");
            header.iter().cloned().zip(r.iter().cloned()).collect()
        })
        .collect()
}

#[test]
fn every_question_refers_to_its_place_in_the_official_format() {
    let form = load_text(FORM).unwrap();
    let mut missing = Vec::new();
    form.walk(&mut |q| {
        let r = q.extra.get("reference").map(|s| s.trim()).unwrap_or("");
        let known = r == "I"
            || r == "II"
            || r == "III"
            || r == "Stopover"
            || r.starts_with("II · Art. ")
            || r.starts_with("III · T")
            || r.starts_with("III · Goal ");
        if !known {
            missing.push(format!("{} ({r:?})", q.path));
        }
    });
    assert!(missing.is_empty(), "no or unknown reference: {missing:?}");
    // each of the 16 targets of the Strategic Plan has its own sub-section
    for n in 1..=16 {
        let goal = match n {
            1..=4 => 1,
            5..=7 => 2,
            8..=10 => 3,
            11 | 12 => 4,
            _ => 5,
        };
        let path = format!("goal_{goal}/target_{n}");
        let t = form
            .all_questions()
            .into_iter()
            .find(|q| q.path == path)
            .unwrap_or_else(|| panic!("no {path}"));
        assert_eq!(t.kind, QuestionType::Group);
        assert_eq!(t.extra["reference"], format!("III · T{n}"));
    }
}

#[test]
fn the_species_list_is_well_formed_and_each_row_has_a_documented_source() {
    let rows = species();
    assert!(rows.len() >= 25, "{} rows", rows.len());
    let form = load_text(FORM).unwrap();
    let groups: BTreeSet<String> = form
        .choice_list("taxon_groups")
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let mut names = BTreeSet::new();
    for r in &rows {
        let name = &r["name"];
        assert!(names.insert(name.clone()), "duplicate id {name}");
        assert_ne!(name, "other", "`other` is the or_other choice");
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{name}"
        );
        let sci = &r["scientific_name"];
        assert!(!sci.is_empty(), "{name}");
        for (lang, common) in [
            ("English (en)", "common_name_en"),
            ("Français (fr)", "common_name_fr"),
            ("Español (es)", "common_name_es"),
        ] {
            let want = if r[common].is_empty() {
                sci.clone()
            } else {
                format!("{sci} – {}", r[common])
            };
            assert_eq!(r[&format!("label::{lang}")], want, "{name}");
        }
        assert!(
            ["I", "II", "I/II"].contains(&r["appendix"].as_str()),
            "{name}"
        );
        assert!(groups.contains(&r["group"]), "{name}: group {}", r["group"]);
        let sources: Vec<&str> = r["source"].split_whitespace().collect();
        assert!(!sources.is_empty(), "{name} has no source");
        for s in sources {
            assert!(
                SOURCES.contains(&format!("`{s}`")),
                "{name}: source `{s}` is not documented"
            );
        }
        assert!(r.contains_key("range_states"));
    }
}

#[test]
fn the_species_questions_offer_the_list_filtered_by_appendix_with_free_text_for_the_rest() {
    let form = load_text(FORM).unwrap();
    let rows = species();
    // the list is read from the file, not copied into the form
    assert!(form.choices.keys().all(|list| list != "cms_species"));
    assert!(!FORM.contains("cms_species"), "no inline copy of the list");
    assert_eq!(
        form.needs_files.iter().collect::<Vec<_>>(),
        ["cms-species.csv"]
    );
    assert!(form.missing_files().is_empty());
    let offered: Vec<(String, String)> = form
        .choice_list("cms-species.csv")
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.extra.get("appendix").cloned().unwrap_or_default(),
            )
        })
        .collect();
    let csv: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r["name"].clone(), r["appendix"].clone()))
        .collect();
    assert_eq!(offered, csv, "every row of the file, in order");
    for (name, filter) in [
        ("app1_sp_name", Some("appendix != 'II'")),
        ("exc_species", Some("appendix != 'II'")),
        ("app2_sp_name", Some("appendix != 'I'")),
        ("t8_sp_name", None),
    ] {
        let q = form.question(name).unwrap();
        assert_eq!(
            q.kind,
            QuestionType::SelectOne("cms-species.csv".into()),
            "{name}"
        );
        assert!(
            q.or_other,
            "{name}: a species missing from the list can be typed"
        );
        assert_eq!(
            q.choice_filter.as_ref().map(|f| f.source.as_str()),
            filter,
            "{name}"
        );
    }
}

#[test]
fn north_america_is_not_offered_as_a_cms_region() {
    let form = load_text(FORM).unwrap();
    let regions: Vec<&str> = form
        .choice_list("regions")
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(regions, ["africa", "asia", "europe", "oceania", "scac"]);
    assert!(
        form.choice_list("subregions")
            .iter()
            .all(|c| c.extra["region"] != "north_america")
    );
}
