//! Public XLSForms, loaded as their authors published them (`.xls`, `.xlsx`, pyxform's CSV and
//! Markdown layouts; see `fixtures/real-world/README.md` for where each comes from), then
//! driven through `FormState` with answers: relevance, constraints and their messages,
//! calculations, cascading selects, `or_other`, repeats (nested too) and completion.

use std::sync::Arc;

use stopover_forms::{
    Attachments, Date, EvalContext, Form, FormErrors, FormState, IssueKind, QuestionType, load_csv,
    load_markdown, load_workbook, load_workbook_with, load_xls, load_xlsx,
};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real-world/");

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn text(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn loaded(name: &str, r: Result<Form, FormErrors>) -> Arc<Form> {
    Arc::new(r.unwrap_or_else(|e| panic!("{name} does not load:\n{e}")))
}

fn workbook(name: &str) -> Arc<Form> {
    loaded(name, load_workbook(&bytes(name)))
}

fn fresh(form: &Arc<Form>) -> FormState {
    FormState::new(
        Arc::clone(form),
        Default::default(),
        EvalContext {
            today: Date::from_ymd(2026, 6, 1).unwrap(),
        },
    )
}

fn names(s: &FormState, path: &str) -> Vec<String> {
    s.choices(path).into_iter().map(|c| c.name).collect()
}

/// The issues on one path, as (kind, message).
fn issues_at(s: &FormState, path: &str, lang: &str) -> Vec<(IssueKind, String)> {
    s.issues(lang)
        .into_iter()
        .filter(|i| i.path == path)
        .map(|i| (i.kind, i.message))
        .collect()
}

/// pyxform's tutorial (.xls): a household roster in a repeat, written in the older spelling
/// (`select one from LIST`, `bind:relevant`, `bind:constraint`, a `list name` column).
#[test]
fn tutorial_xls_household_roster() {
    let form = workbook("tutorial.xls");
    assert_eq!(
        form,
        loaded("tutorial.xls", load_xls(&bytes("tutorial.xls"))),
        "load_workbook recognises an .xls by its bytes"
    );
    let s = form.summary();
    assert_eq!((s.questions, s.groups, s.repeats), (10, 0, 1));
    assert_eq!(
        form.question("relationship_to_household_head")
            .unwrap()
            .kind,
        QuestionType::SelectOne("relationships".into())
    );
    assert_eq!(
        form.question("member").unwrap().label.get("en", None),
        Some("Household Member or Visitor")
    );

    let mut st = fresh(&form);
    assert_eq!(st.repeat_count("member"), 0);
    assert_eq!(st.add_repeat_instance("member"), 1);
    assert_eq!(st.add_repeat_instance("member"), 2);

    // a child: the age in months opens, with its constraint (at most 72 months)
    st.set_answer("member[1]/name", "Amina");
    st.set_answer("member[1]/older_than_five", "no");
    assert!(st.is_relevant("member[1]/age_in_months"));
    assert!(!st.is_relevant("member[1]/age_in_years"));
    st.set_answer("member[1]/age_in_months", "80");
    assert_eq!(
        issues_at(&st, "member[1]/age_in_months", "en"),
        vec![(IssueKind::Constraint, "This answer is not valid.".into())]
    );
    st.set_answer("member[1]/age_in_months", "30");
    assert!(issues_at(&st, "member[1]/age_in_months", "en").is_empty());

    // a woman of 30: literacy and pregnancy open; at 3 years the age fails `. >= 5`
    st.set_answer("member[2]/name", "Fatou");
    st.set_answer("member[2]/sex", "female");
    st.set_answer("member[2]/older_than_five", "yes");
    st.set_answer("member[2]/age_in_years", "30");
    assert!(st.is_relevant("member[2]/literate"));
    assert!(st.is_relevant("member[2]/pregnant"));
    assert!(!st.is_relevant("member[1]/literate"), "sex not female");
    st.set_answer("member[2]/age_in_years", "3");
    assert!(st.constraint_failed("member[2]/age_in_years"));
    assert!(
        !st.is_relevant("member[2]/literate"),
        "under 15: closed again"
    );
    st.set_answer("member[2]/age_in_years", "52");
    assert!(!st.is_relevant("member[2]/pregnant"), "over 49");
    assert!(!st.constraint_failed("member[2]/age_in_years"));

    // 2 members × (name, relationship, sex, resident, stayed_last_night, older_than_five,
    // one age) = 14 relevant questions; answered: 3 for Amina, 4 for Fatou
    let c = st.completion().overall;
    assert_eq!((c.answered, c.total), (7, 14));

    // switching Amina to "older than five" hides the months, keeps them, does not submit them
    st.set_answer("member[1]/older_than_five", "yes");
    assert!(!st.is_relevant("member[1]/age_in_months"));
    assert_eq!(st.value("member[1]/age_in_months"), "30");
    let sub = st.submission_answers();
    assert!(!sub.contains_key("member[1]/age_in_months"));
    assert_eq!(
        sub.get("member[2]/age_in_years").map(String::as_str),
        Some("52")
    );
}

/// pyxform's spec test (.xlsx): English and Chinese, a gate on a whole group, a repeat with
/// `repeat_count`, required with a custom message, constraints whose messages name another
/// answer, `regex()`, a calculation, metadata, and a `=TRUE()` formula in `required`.
#[test]
fn xlsform_spec_test_xlsx_two_languages() {
    let form = loaded(
        "xlsform_spec_test.xlsx",
        load_xlsx(&bytes("xlsform_spec_test.xlsx")),
    );
    for lang in ["english", "chinese"] {
        assert!(form.languages.iter().any(|l| l == lang), "{lang}");
    }
    let address = form.question("address").unwrap();
    assert_eq!(address.label.get("chinese", None), Some("您好"));
    assert_eq!(address.label.get("english", None), Some("Enter an address"));

    let mut st = fresh(&form);
    assert_eq!(
        st.repeat_count("everything/repeat_test"),
        2,
        "repeat_count 2"
    );
    assert_eq!(st.value("everything/calculate_test"), "4", "2+2");

    // required, with the custom message (requiredMsg column), in both instances
    for i in [1, 2] {
        let p = format!("everything/repeat_test[{i}]/group_test/required_text");
        assert_eq!(
            issues_at(&st, &p, "english"),
            vec![(IssueKind::Required, "Custom required message.".into())]
        );
    }
    // `=TRUE()` in the required column: Excel's cached value is TRUE
    let p = "everything/repeat_test[1]/labeled_select_group/list-nolabel-test";
    assert_eq!(
        issues_at(&st, p, "english"),
        vec![(IssueKind::Required, "This answer is required.".into())]
    );

    // the constraint message names ${my_name}: it is filled in, in each language
    st.set_answer("everything/my_name", "Ana");
    let p = "everything/repeat_test[2]/group_test/select_multiple_test";
    st.set_answer(p, "yes no");
    assert_eq!(
        issues_at(&st, p, "english"),
        vec![(
            IssueKind::Constraint,
            "Sorry Ana, you can't select yes and no.".into()
        )]
    );
    assert_eq!(
        issues_at(&st, p, "chinese"),
        vec![(
            IssueKind::Constraint,
            "對不起 Ana，你可以不選擇“是”和“否”。".into()
        )]
    );
    st.set_answer(p, "yes");
    assert!(issues_at(&st, p, "english").is_empty());

    // `. <= ${a_integer}`
    st.set_answer("everything/a_integer", "3");
    st.set_answer("everything/a_decimal", "3.5");
    assert!(st.constraint_failed("everything/a_decimal"));
    st.set_answer("everything/a_integer", "4");
    assert!(!st.constraint_failed("everything/a_decimal"));

    // the note appears when the address looks like an e-mail address (regex)
    st.set_answer("everything/address", "nowhere in particular");
    assert!(!st.is_relevant("everything/email_note"));
    st.set_answer("everything/address", "ana@example.org");
    assert!(st.is_relevant("everything/email_note"));

    // "skip to end" hides the whole group, its repeat and their required questions
    st.set_answer("skip_to_end", "yes");
    assert!(!st.is_relevant("everything/my_name"));
    assert!(!st.is_relevant("everything/repeat_test[1]/group_test/required_text"));
    assert!(
        st.issues("english").is_empty(),
        "{:?}",
        st.issues("english")
    );
    let c = st.completion().overall;
    assert_eq!(
        (c.answered, c.total),
        (1, 2),
        "skip_to_end and launch remain"
    );
    assert_eq!(st.value("everything/my_name"), "Ana", "kept in the draft");
}

/// pyxform's widget tour, published both as .xls and in its CSV layout: the old type names
/// (`string`, `int`, `trigger`, `dateTime`, `select all that apply from`), defaults, read-only,
/// `bind:jr:constraintMsg` messages, numeric choice names typed as numbers in Excel.
#[test]
fn widgets_xls_and_csv_defaults_and_constraint_messages() {
    let xls = workbook("widgets.xls");
    let csv = loaded("widgets.csv", load_csv(&text("widgets.csv")));
    for form in [&xls, &csv] {
        let kind = |n: &str| form.question(n).unwrap().kind.clone();
        assert_eq!(kind("my_string"), QuestionType::Text);
        assert_eq!(kind("my_int"), QuestionType::Integer);
        assert_eq!(
            kind("my_trigger"),
            QuestionType::Other("acknowledge".into())
        );
        assert_eq!(kind("dateTime"), QuestionType::Other("datetime".into()));
        assert_eq!(
            kind("my_select"),
            QuestionType::SelectMultiple("list".into())
        );
        let list2: Vec<&str> = form
            .choice_list("list2")
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(list2, ["1", "2", "3", "4", "5", "6", "7", "8"]);

        let mut st = fresh(form);
        // defaults fill the draft
        assert_eq!(st.value("my_decimal"), "18.31");
        assert_eq!(st.value("my_select"), "a c");
        assert_eq!(st.value("my_select1"), "8");
        assert_eq!(st.value("my_date"), "2010-06-15");
        // ... and the date default fails `. >= today()`
        assert_eq!(
            issues_at(&st, "my_date", "en"),
            vec![(IssueKind::Constraint, "only future dates allowed".into())]
        );
        st.set_answer("my_date", "2026-07-01");
        assert!(issues_at(&st, "my_date", "en").is_empty());

        st.set_answer("my_select", "c d");
        assert_eq!(
            issues_at(&st, "my_select", "en"),
            vec![(
                IssueKind::Constraint,
                "option c and d cannot be selected together".into()
            )]
        );
        st.set_answer("my_int", "12");
        assert_eq!(
            issues_at(&st, "my_int", "en"),
            vec![(IssueKind::Constraint, "number must be less than 10".into())]
        );
        st.set_answer("my_decimal", "10.5");
        assert!(st.constraint_failed("my_decimal"));
        st.set_answer("my_select1", "9");
        assert_eq!(issues_at(&st, "my_select1", "en")[0].0, IssueKind::Invalid);

        assert!(st.is_read_only("my_output"));
        st.set_answer("my_trigger", "OK");
        let label = form
            .question("my_output")
            .unwrap()
            .label
            .get("en", None)
            .unwrap();
        assert_eq!(
            st.interpolate("my_output", label),
            "review widget. is your email still OK?"
        );
    }
    // the two publications agree on what they share
    for q in csv.all_questions() {
        let x = xls.question(&q.name);
        if q.name == "autocomplete" {
            assert!(x.is_none(), "only in the CSV");
            continue;
        }
        let x = x.unwrap_or_else(|| panic!("{} missing from the .xls", q.name));
        assert_eq!(
            (&q.kind, &q.default, &q.constraint, &q.constraint_message),
            (&x.kind, &x.default, &x.constraint, &x.constraint_message),
            "{}",
            q.name
        );
    }
}

/// Cascading selects with `choice_filter`: the .xls filters on two columns, the .xlsx on one
/// (and has the same county name under two states).
#[test]
fn cascading_selects_filter_counties_and_cities() {
    let form = workbook("new_cascading_select.xls");
    let mut st = fresh(&form);
    assert_eq!(names(&st, "state"), ["texas", "washington"]);
    assert!(names(&st, "county").is_empty(), "no state yet");
    st.set_answer("state", "texas");
    assert_eq!(names(&st, "county"), ["king", "cameron"]);
    st.set_answer("county", "king");
    assert_eq!(names(&st, "city"), ["dumont", "finney"]);
    st.set_answer("city", "finney");
    assert!(st.issues("en").is_empty());
    // Washington's King county has other cities; Finney is no longer a valid answer
    st.set_answer("state", "washington");
    assert_eq!(names(&st, "county"), ["king", "pierce"]);
    assert_eq!(names(&st, "city"), ["seattle", "redmond"]);
    assert_eq!(issues_at(&st, "city", "en")[0].0, IssueKind::Invalid);

    let form = workbook("choice_filter_test.xlsx");
    let mut st = fresh(&form);
    st.set_answer("state", "washington");
    assert_eq!(names(&st, "county"), ["king", "pierce"]);
    st.set_answer("county", "pierce");
    assert_eq!(names(&st, "city"), ["tacoma", "puyallup"]);
    // this form filters cities by county name only: both Kings' cities show
    st.set_answer("county", "king");
    assert_eq!(
        names(&st, "city"),
        ["dumont", "finney", "seattle", "redmond"]
    );
}

/// `or specify other` (CSV layout) and `or_other` (.xlsx): an extra "other" choice whose free
/// text is submitted only while "other" is chosen.
#[test]
fn or_other_adds_a_choice_and_a_free_text() {
    let form = loaded("specify_other.csv", load_csv(&text("specify_other.csv")));
    let sex = form.question("sex").unwrap();
    assert_eq!(sex.kind, QuestionType::SelectOne("sexes".into()));
    assert!(sex.or_other);
    assert_eq!(sex.label.get("English", None), Some("What sex are you?"));
    let mut st = fresh(&form);
    assert_eq!(names(&st, "sex"), ["male", "female", "other"]);
    st.set_answer("sex", "other");
    st.set_answer("sex_other", "prefer to describe");
    let sub = st.submission_answers();
    assert_eq!(sub.get("sex").map(String::as_str), Some("other"));
    assert_eq!(
        sub.get("sex_other").map(String::as_str),
        Some("prefer to describe")
    );
    st.set_answer("sex", "female");
    assert!(!st.submission_answers().contains_key("sex_other"));
    assert_eq!(
        st.value("sex_other"),
        "prefer to describe",
        "kept in the draft"
    );

    let form = workbook("or_other.xlsx");
    let st = fresh(&form);
    assert_eq!(
        names(&st, "fav_color"),
        ["red", "green", "blue", "mauve", "apricot", "other"]
    );
    // `pastel=yes`: a bare `yes` is a column of the choice row (XPath reads it as a child
    // element), and no row has one, so ODK offers nothing here either
    assert!(names(&st, "fav_pastel").is_empty());
}

/// pyxform's calculate example (.xls): a sum, and an if() over a note's (empty) value.
#[test]
fn calculate_xls_values_and_labels() {
    let form = workbook("calculate.xls");
    let st = fresh(&form);
    assert_eq!(st.value("calculate_test"), "4");
    assert_eq!(st.value("calculate_test_2"), "success");
    let label = form
        .question("calculate_test_output")
        .unwrap()
        .label
        .get("en", None)
        .unwrap();
    assert_eq!(st.interpolate("calculate_test_output", label), "2+2 = 4");
}

/// From pyxform's repeat tests (Markdown layout): repeats, groups inside repeats and a repeat
/// nested in a repeat, with references from the inner repeat out to its enclosing instance.
#[test]
fn nested_repeats_markdown_refer_to_their_enclosing_instance() {
    let form = loaded(
        "repeat_relative_reference.md",
        load_markdown(&text("repeat_relative_reference.md")),
    );
    let s = form.summary();
    assert_eq!((s.groups, s.repeats), (3, 4));
    assert_eq!(
        form.question("sectionc").unwrap().path,
        "section3/sectionc",
        "nested"
    );

    let mut st = fresh(&form);
    st.set_answer("section[1]/A", "oat");
    st.set_answer("section[2]/A", "rye");
    assert_eq!(st.repeat_count("section"), 2);
    assert!(st.is_relevant("section[1]/B"));
    assert!(!st.is_relevant("section[2]/B"));

    st.set_answer("section2[1]/sectiona/D", "oat");
    assert!(st.is_relevant("section2[1]/sectiona/E"));

    st.set_answer("section3[1]/F", "oat");
    st.set_answer("section3[1]/sectionb/G", "oat");
    st.set_answer("section3[2]/F", "rye");
    st.add_repeat_instance("section3[1]/sectionc");
    st.add_repeat_instance("section3[1]/sectionc");
    st.add_repeat_instance("section3[2]/sectionc");
    assert_eq!(st.repeat_count("section3[1]/sectionc"), 2);
    assert_eq!(st.repeat_count("section3[2]/sectionc"), 1);
    for i in [1, 2] {
        let k = format!("section3[1]/sectionc[{i}]/K");
        assert!(st.is_relevant(&k), "{k}: F of section3[1] is oat");
        assert!(st.is_relevant(&format!("section3[1]/sectionc[{i}]/L")));
    }
    assert!(!st.is_relevant("section3[2]/sectionc[1]/K"), "F is rye");
    assert!(!st.is_relevant("section3[2]/sectionc[1]/L"), "no G");
    assert!(st.is_relevant("section3[1]/sectiond/N"));
    assert!(!st.is_relevant("section3[2]/sectiond/N"));

    // J opens on I of its own instance only
    st.set_answer("section3[1]/sectionc[2]/I", "oat");
    assert!(st.is_relevant("section3[1]/sectionc[2]/J"));
    assert!(!st.is_relevant("section3[1]/sectionc[1]/J"));
    for (q, v) in [("J", "j"), ("K", "k"), ("L", "l")] {
        st.set_answer(&format!("section3[1]/sectionc[2]/{q}"), v);
    }
    let label = form
        .question("note6")
        .unwrap()
        .label
        .get("en", None)
        .unwrap();
    assert_eq!(
        st.interpolate("section3[1]/sectionc[2]/note6", label),
        "JKL #j#k#l"
    );

    // closing the gate of the enclosing instance closes K in every inner instance
    st.set_answer("section3[1]/F", "barley");
    assert!(!st.is_relevant("section3[1]/sectionc[2]/K"));
    assert!(
        !st.submission_answers()
            .contains_key("section3[1]/sectionc[2]/K")
    );
    // removing the first inner instance moves the second up
    st.remove_repeat_instance("section3[1]/sectionc", 1);
    assert_eq!(st.repeat_count("section3[1]/sectionc"), 1);
    assert_eq!(st.value("section3[1]/sectionc[1]/I"), "oat");
    assert!(st.is_relevant("section3[1]/sectionc[1]/J"));
}

/// From pyxform's repeat tests (Markdown layout): `indexed-repeat()` reads a question of a
/// chosen instance of a nested repeat.
#[test]
fn indexed_repeat_markdown_reads_the_chosen_instance() {
    let form = loaded(
        "indexed_repeat_relative_path.md",
        load_markdown(&text("indexed_repeat_relative_path.md")),
    );
    let mut st = fresh(&form);
    st.set_answer("rep[1]/rep2[1]/a", "first");
    st.set_answer("rep[1]/rep2[2]/a", "second");
    st.set_answer("rep[2]/rep2[1]/a", "elsewhere");
    assert_eq!(st.value("rep[1]/c1"), "first");
    assert_eq!(st.value("rep[2]/c1"), "elsewhere");
    st.set_answer("rep[1]/rep2[1]/a", "changed");
    assert_eq!(st.value("rep[1]/c1"), "changed", "re-evaluated on change");
    st.remove_repeat_instance("rep[1]/rep2", 1);
    assert_eq!(
        st.value("rep[1]/c1"),
        "second",
        "instance 1 is now the old 2"
    );
    st.set_answer("rep[1]/rep2[1]/crop", "beans");
    assert_eq!(
        names(&st, "rep[1]/rep2[1]/crop"),
        ["maize", "beans", "kale"]
    );
}

/// pyxform's `pulldata()` example: loads without its CSV (as pyxform converts it), warning
/// that the file must be published with the form; with `fruits.csv` attached it reads it.
#[test]
fn pull_data_reads_the_attached_csv() {
    let bytes = bytes("pull_data.xlsx");
    let alone = loaded("pull_data.xlsx", load_workbook(&bytes));
    assert_eq!(alone.missing_files(), ["fruits.csv"]);
    assert_eq!(
        alone
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "survey row 2 column calculation: the file 'fruits.csv' is not attached to the form: \
          it must be published with it (its choices and values are empty until then)"
        ]
    );
    assert_eq!(fresh(&alone).value("fruit"), "");

    let files = Attachments::from([(
        "fruits.csv".to_string(),
        b"name,colour\napple,red\nmango,orange\n".to_vec(),
    )]);
    let form = loaded("pull_data.xlsx", load_workbook_with(&bytes, &files));
    assert!(form.missing_files().is_empty() && form.warnings.is_empty());
    let st = fresh(&form);
    // pulldata('fruits', 'name', 'name', 'mango'): the `name` of the row named mango
    assert_eq!(st.value("fruit"), "mango");
    let label = form
        .question("note_fruite")
        .unwrap()
        .label
        .get("en", None)
        .unwrap();
    assert_eq!(
        st.interpolate("note_fruite", label),
        "The fruit mango pulled from csv"
    );
}

/// `select_one_external` reads its lists from the `external_choices` sheet of the workbook
/// (pyxform writes it out as itemsets.csv for ODK Collect; here it stays in the form).
#[test]
fn select_one_external_reads_the_external_choices_sheet() {
    let form = workbook("select_one_external.xlsx");
    let mut st = fresh(&form);
    st.set_answer("state", "texas");
    assert_eq!(names(&st, "county"), ["king", "cameron"]);
    st.set_answer("county", "cameron");
    assert_eq!(names(&st, "city"), ["brownsville", "harlingen"]);
    st.set_answer("city", "harlingen");
    assert!(st.issues("en").is_empty());
    st.set_answer("county", "king");
    assert_eq!(issues_at(&st, "city", "en")[0].0, IssueKind::Invalid);
    assert!(form.warnings.is_empty(), "{:?}", form.warnings);
}

/// pyxform's `begin loop over LIST`: one group per choice, `%(label)s` filled in.
#[test]
fn loop_over_a_list_becomes_one_group_per_choice() {
    let form = workbook("loop.xls");
    let lp = form.question("loop_toilet_types").unwrap();
    assert_eq!(lp.kind, QuestionType::Group);
    let groups: Vec<&str> = lp.children.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        groups,
        ["pit_latrine_with_slab", "open_pit_latrine", "bucket_system"]
    );
    let bucket = &lp.children[2];
    assert_eq!(bucket.label.get("english", None), Some("Bucket system"));
    assert_eq!(
        bucket.children[0].path,
        "loop_toilet_types/bucket_system/number"
    );
    assert_eq!(
        bucket.children[0].label.get("english", None),
        Some("How many Bucket system are on the premises?")
    );
    let mut st = fresh(&form);
    st.set_answer("loop_toilet_types/open_pit_latrine/number", "x");
    assert_eq!(
        issues_at(&st, "loop_toilet_types/open_pit_latrine/number", "english")[0].0,
        IssueKind::Invalid
    );
}
