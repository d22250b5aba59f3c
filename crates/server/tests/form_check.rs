//! `ecommunity form check` as a form author runs it: a good form gives a summary (text or
//! JSON) and exit 0; a bad one lists every error with sheet, row, column and reason, and
//! exits non-zero.

use std::process::Command;

const GOOD: &str = "[survey]
type | name | label::English (en) | label::Français (fr) | relevant | required
begin_group | general | General | Général
select_one yes_no | has_plan | Is there a plan? | Existe-t-il un plan ? | | yes
text | plan_title | Title of the plan | Titre du plan | ${has_plan} = 'yes'
end_group | general

[choices]
list_name | name | label::English (en) | label::Français (fr)
yes_no | yes | Yes | Oui
yes_no | no | No | Non

[settings]
form_id | version | default_language | form_title::English (en)
cms_report | 2026.1 | English (en) | CMS national report
";

fn check(form: &str, json: bool) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("form.txt");
    std::fs::write(&path, form).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecommunity"));
    cmd.args(["form", "check"]).arg(&path);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_good_form_gets_a_summary() {
    let (code, out, _) = check(GOOD, false);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("OK — form cms_report version 2026.1: 2 questions, 1 groups"),
        "{out}"
    );

    let (code, out, _) = check(GOOD, true);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["questions"], 2);
    assert_eq!(v["groups"], 1);
    assert_eq!(v["repeats"], 0);
    assert_eq!(v["errors"], serde_json::json!([]));
    assert!(v["languages"].as_array().unwrap().len() >= 2, "{v}");
}

#[test]
fn a_bad_form_lists_every_error_and_fails() {
    let bad = GOOD
        .replace(
            "text | plan_title | Title of the plan | Titre du plan | ${has_plan} = 'yes'",
            "text | plan_title | Title | Titre | ${nowhere} = 'yes'",
        )
        .replace(
            "select_one yes_no | has_plan",
            "select_one maybe | has_plan",
        );
    let (code, out, err) = check(&bad, false);
    assert_ne!(code, 0);
    assert!(out.contains("unknown reference ${nowhere}"), "{out}");
    assert!(out.contains("survey row 5 column relevant"), "{out}");
    assert!(
        out.contains("maybe"),
        "the unknown choice list is named: {out}"
    );
    assert!(err.contains("the form has 2 error(s)"), "{err}");

    let (code, out, _) = check(&bad, true);
    assert_ne!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["errors"][0]["sheet"], "survey");
}

#[test]
fn an_unreadable_file_is_explained() {
    let out = Command::new(env!("CARGO_BIN_EXE_ecommunity"))
        .args(["form", "check", "/no/such/form.xlsx"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read the form /no/such/form.xlsx")
    );
}

/// Published forms as their authors saved them (pyxform's examples, see
/// crates/forms/tests/fixtures/real-world/README.md): a workbook, a CSV, a Markdown layout;
/// a form reading a CSV file that is not beside it loads with a warning naming the file.
#[test]
fn forms_are_checked_in_the_layout_their_authors_saved() {
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../forms/tests/fixtures/real-world"
    );
    let run = |name: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_ecommunity"))
            .args(["form", "check", "--json"])
            .arg(format!("{fixtures}/{name}"))
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        (out.status.code(), v)
    };
    for name in [
        "tutorial.xls",
        "or_other.xlsx",
        "widgets.csv",
        "repeat_relative_reference.md",
    ] {
        let (code, v) = run(name);
        assert_eq!(code, Some(0), "{name}: {v}");
        assert!(v["questions"].as_u64().unwrap() > 0, "{name}: {v}");
    }
    let (code, v) = run("pull_data.xlsx");
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["errors"], serde_json::json!([]));
    assert_eq!(v["warnings"][0]["row"], 2);
    assert_eq!(v["warnings"][0]["column"], "calculation");
    let w = v["warnings"][0]["message"].as_str().unwrap();
    assert!(w.contains("'fruits.csv' is not attached"), "{w}");
}

/// The files a form reads are found where the content pack keeps them (`<form>/` beside
/// `<form>.txt`) or beside the form file; what pyxform accepts but should be fixed is listed
/// as warnings, in text and in JSON (whose shape is otherwise unchanged).
#[test]
fn attached_files_are_found_and_warnings_listed() {
    let dir = tempfile::tempdir().unwrap();
    let form = "[survey]
type | name | label
select_one_from_file birds.csv | bird | Which bird?
gps | where | Where?
note | | Thanks
[settings]
form_id | version
birds | 1
";
    let path = dir.path().join("birds.txt");
    std::fs::write(&path, form).unwrap();
    let run = |json: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecommunity"));
        cmd.args(["form", "check"]).arg(&path);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, out) = run(true);
    assert_eq!(code, Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let messages: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "survey row 3 column type: the file 'birds.csv' is not attached to the form: it must be published with it (its choices and values are empty until then)",
            "survey row 4 column type: 'gps' is an old name of the type 'geopoint'; write geopoint",
        ]
    );
    for key in [
        "file",
        "form_id",
        "version",
        "questions",
        "groups",
        "repeats",
        "choice_lists",
        "languages",
        "errors",
    ] {
        assert!(v.get(key).is_some(), "{key} kept in {v}");
    }
    // the pack's layout: birds/birds.csv
    std::fs::create_dir(dir.path().join("birds")).unwrap();
    std::fs::write(
        dir.path().join("birds/birds.csv"),
        "name,label\nstork,Stork\n",
    )
    .unwrap();
    let (code, out) = run(true);
    assert_eq!(code, Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1, "{v}");
    let (code, out) = run(false);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("birds.txt: warning: survey row 4 column type: 'gps' is an old name"),
        "{out}"
    );
}
