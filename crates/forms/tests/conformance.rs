//! The conformance run: every XLSForm taken from pyxform's own test suite
//! (`fixtures/conformance/` and `fixtures/real-world/`, sources in their README files) is
//! loaded as its authors saved it, and each one that loads is evaluated with answers filled
//! in. `fixtures/conformance/RESULTS.tsv` records, per form, pyxform's verdict and ours:
//!
//! - a form recorded as loading must still load (a regression fails here), and one recorded
//!   as refused must still be refused with the same reason (so the table stays true);
//! - of the forms pyxform converts, at least 95 % load;
//! - the table in `crates/forms/README.md` is the one this run produces.
//!
//! Run with `STOPOVER_CONFORMANCE_PRINT=1` to print the table after a deliberate change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use stopover_forms::{
    Date, EvalContext, Form, FormErrors, FormState, QuestionType, load_csv, load_markdown,
    load_workbook,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
const RESULTS: &str = "conformance/RESULTS.tsv";
const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");

fn forms() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.file_name().is_some_and(|n| n != "README.md")
                && p.extension()
                    .is_some_and(|e| matches!(e.to_str(), Some("md" | "csv" | "xls" | "xlsx")))
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for sub in ["conformance", "real-world"] {
        walk(&Path::new(FIXTURES).join(sub), &mut out);
    }
    out
}

fn load(path: &Path) -> Result<Form, FormErrors> {
    let bytes = std::fs::read(path).unwrap();
    match path.extension().and_then(|e| e.to_str()) {
        Some("xls" | "xlsx") => load_workbook(&bytes),
        Some("csv") => load_csv(std::str::from_utf8(&bytes).unwrap()),
        _ => load_markdown(std::str::from_utf8(&bytes).unwrap()),
    }
}

/// A plausible answer for every input question, then everything the app asks of a state.
fn evaluate(form: Form) {
    let form = Arc::new(form);
    let mut st = FormState::new(
        form.clone(),
        Default::default(),
        EvalContext {
            today: Date::from_ymd(2026, 6, 1).unwrap(),
        },
    );
    // two rows in every repeat without a count
    for q in form.all_questions() {
        if q.kind == QuestionType::Repeat && q.repeat_count.is_none() && !q.path.contains('/') {
            st.add_repeat_instance(&q.path);
            st.add_repeat_instance(&q.path);
        }
    }
    for q in form.all_questions() {
        // inside a repeat: its first row
        let path = indexed(&form, &q.path);
        let value = match &q.kind {
            QuestionType::Integer | QuestionType::Range => "3".to_string(),
            QuestionType::Decimal => "2.5".to_string(),
            QuestionType::Date => "2026-05-31".to_string(),
            QuestionType::Geopoint => "12.5 -3.25".to_string(),
            QuestionType::Geotrace => "12.5 -3.25;12.6 -3.2".to_string(),
            QuestionType::Geoshape => "0 0;0 1;1 1;0 0".to_string(),
            QuestionType::SelectOne(_)
            | QuestionType::SelectMultiple(_)
            | QuestionType::Rank(_) => match st.choices(&path).first() {
                Some(c) => c.name.clone(),
                None => continue,
            },
            k if k.is_input() && !matches!(k, QuestionType::File) => "a text".to_string(),
            _ => continue,
        };
        st.set_answer(&path, value);
    }
    for lang in form.languages.iter().map(String::as_str).chain(["en"]) {
        let _ = st.issues(lang);
    }
    let _ = st.completion();
    let _ = st.submission_answers();
    for q in form.all_questions() {
        let path = indexed(&form, &q.path);
        let _ = st.is_relevant(&path);
        let label = q.label.get(form.default_language(), None).unwrap_or("");
        let _ = st.interpolate(&path, label);
    }
}

/// `a/b/c` with `[1]` after each repeat on the way.
fn indexed(form: &Form, plain: &str) -> String {
    let mut out = Vec::new();
    let mut prefix = String::new();
    for seg in plain.split('/') {
        prefix = if prefix.is_empty() {
            seg.to_string()
        } else {
            format!("{prefix}/{seg}")
        };
        let is_repeat = form
            .all_questions()
            .iter()
            .any(|q| q.path == prefix && q.kind == QuestionType::Repeat);
        out.push(if is_repeat && prefix != plain {
            format!("{seg}[1]")
        } else {
            seg.to_string()
        });
    }
    out.join("/")
}

/// (path, pyxform verdict, our verdict, reason) from RESULTS.tsv.
fn recorded() -> BTreeMap<String, (String, String, String)> {
    let text = std::fs::read_to_string(format!("{FIXTURES}{RESULTS}")).unwrap_or_default();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let mut f = l.splitn(4, '\t');
            let mut next = || f.next().unwrap_or("").to_string();
            let path = next();
            (path, (next(), next(), next()))
        })
        .collect()
}

fn table(rows: &[(String, String, String, String)]) -> String {
    let mut out =
        String::from("| form | pyxform 4.5.0 | Stopover | why |\n| --- | --- | --- | --- |\n");
    for (path, py, ours, why) in rows {
        let why = why.replace('|', "\\|");
        out.push_str(&format!("| `{path}` | {py} | {ours} | {why} |\n"));
    }
    out
}

#[test]
fn pyxforms_test_forms_load_and_evaluate() {
    let recorded = recorded();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for path in forms() {
        let rel = path
            .strip_prefix(FIXTURES)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let (py, ours, why) = match load(&path) {
            Ok(form) => {
                evaluate(form);
                ("converts", "loads", String::new())
            }
            Err(e) => ("", "refused", e.0[0].to_string()),
        };
        let py = match recorded.get(&rel) {
            Some((p, _, _)) => p.clone(),
            None => {
                problems.push(format!("{rel}: not in {RESULTS} (run pyxform on it first)"));
                py.to_string()
            }
        };
        if let Some((_, was, was_why)) = recorded.get(&rel)
            && (was != ours || (ours == "refused" && *was_why != why))
        {
            problems.push(format!(
                "{rel}: recorded as {was} ({was_why}), now {ours} ({why})"
            ));
        }
        rows.push((rel, py, ours.to_string(), why));
    }
    let converts: Vec<_> = rows.iter().filter(|r| r.1 == "converts").collect();
    let loaded = converts.iter().filter(|r| r.2 == "loads").count();
    let summary = format!(
        "{loaded} of the {} forms pyxform converts load ({:.1} %); {} forms in all",
        converts.len(),
        100.0 * loaded as f64 / converts.len() as f64,
        rows.len()
    );
    let table = table(&rows);
    if std::env::var_os("STOPOVER_CONFORMANCE_PRINT").is_some() {
        println!("{summary}\n\n{table}");
        for r in &rows {
            println!("TSV\t{}\t{}\t{}\t{}", r.0, r.1, r.2, r.3);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        loaded * 100 >= converts.len() * 95,
        "fewer than 95 %: {summary}"
    );
    let readme = std::fs::read_to_string(README).unwrap();
    assert!(
        readme.contains(&summary) && readme.contains(&table),
        "crates/forms/README.md does not show this run's table:\n{summary}\n\n{table}"
    );
}
