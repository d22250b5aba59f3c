use stopover_forms::load::{text, xlsx};
use stopover_forms::*;

const GOOD: &str = "\
# A small form
[survey]
type | name | label::English (en) | label::Français (fr) | hint::English (en) | relevant | required | constraint | constraint_message::English (en) | calculation | appearance | choice_filter | repeat_count | default | read_only | custom_col
begin_group | general | General | Général
select_one yes_no | has_plan | Is there a plan? | Existe-t-il un plan ? | Say yes or no | | yes
text | plan_title | Title | Titre | | ${has_plan} = 'yes' | | | | | multiline
integer | staff | Staff | Personnel | | | | . >= 0 | Must be positive
decimal | budget | Budget | Budget
range | score | Score | Note
date | adopted | Adopted | Adoptée | | | | . <= today()
select_multiple colour or_other | colours | Colours | Couleurs
rank colour | ranking | Rank | Classer
note | intro | Hello \\| world | Bonjour
file | annex | Annex | Annexe
calculate | double | | | | | | | | ${staff} * 2
end_group
begin_group | grid | Grid | Grille | | | | | | | table-list
select_one yes_no | g1 | Row 1 | Ligne 1
end_group
begin_repeat | species | Species | Espèces | | | | | | | | | 2
text | sp_name | Name | Nom | | | | | | | | | | unknown | | x
end_repeat

[choices]
list_name | name | label::English (en) | label::Français (fr) | group
yes_no | yes | Yes | Oui
yes_no | no | No | Non
colour | red | Red | Rouge | warm
colour | blue | Blue | Bleu | cold

[settings]
form_id | version | default_language | form_title::English (en) | form_title::Français (fr) | instance_name
demo | 3 | English (en) | Demo | Démo | x
";

#[test]
fn loads_every_type_and_column() {
    let f = load_text(GOOD).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.settings.form_id.as_deref(), Some("demo"));
    assert_eq!(f.settings.version.as_deref(), Some("3"));
    assert_eq!(f.settings.title.get("Français (fr)", None), Some("Démo"));
    assert_eq!(
        f.settings.extra.get("instance_name").map(String::as_str),
        Some("x")
    );
    assert_eq!(f.languages, vec!["English (en)", "Français (fr)"]);
    assert_eq!(f.default_language(), "English (en)");
    let kinds: Vec<QuestionType> = f.all_questions().iter().map(|q| q.kind.clone()).collect();
    use QuestionType::*;
    assert_eq!(
        kinds,
        vec![
            Group,
            SelectOne("yes_no".into()),
            Text,
            Integer,
            Decimal,
            Range,
            Date,
            SelectMultiple("colour".into()),
            Rank("colour".into()),
            Note,
            File,
            Calculate,
            Group,
            SelectOne("yes_no".into()),
            Repeat,
            Text
        ]
    );
    let q = f.question("plan_title").unwrap();
    assert_eq!(q.path, "general/plan_title");
    assert!(q.has_appearance("multiline"));
    assert_eq!(q.relevant.as_ref().unwrap().source, "${has_plan} = 'yes'");
    assert_eq!(q.row, 6, "line number in the file");
    assert!(f.question("colours").unwrap().or_other);
    assert_eq!(f.question("has_plan").unwrap().required, Flag::Always(true));
    assert_eq!(
        f.question("has_plan")
            .unwrap()
            .hint
            .get("English (en)", None),
        Some("Say yes or no")
    );
    assert_eq!(
        f.question("intro").unwrap().label.get("English (en)", None),
        Some("Hello | world")
    );
    assert!(f.question("grid").unwrap().has_appearance("table-list"));
    assert_eq!(
        f.question("species")
            .unwrap()
            .repeat_count
            .as_ref()
            .unwrap()
            .source,
        "2"
    );
    assert_eq!(
        f.question("sp_name").unwrap().default.as_deref(),
        Some("unknown")
    );
    assert_eq!(
        f.question("sp_name")
            .unwrap()
            .extra
            .get("custom_col")
            .map(String::as_str),
        Some("x")
    );
    assert_eq!(
        f.choice_list("colour")[0]
            .extra
            .get("group")
            .map(String::as_str),
        Some("warm")
    );
    assert_eq!(
        f.choice_list("yes_no")[1].label.get("Français (fr)", None),
        Some("Non")
    );
    assert_eq!(f.counts(), (13, 2, 1));
}

#[test]
fn text_round_trip() {
    let sheets = text::parse(GOOD).unwrap();
    let written = text::write(&sheets);
    let again = text::parse(&written).unwrap();
    assert_eq!(
        text::write(&again),
        written,
        "text -> sheets -> text is stable"
    );
    assert_eq!(
        load_text(&written).unwrap(),
        load_text(GOOD)
            .unwrap()
            .with_rows_from(&load_text(&written).unwrap())
    );
    // cells with special characters survive
    let tricky = "[survey]\ntype | name | label\nnote | n | a \\| b \\\\ c\\nd\n";
    let s = text::parse(tricky).unwrap();
    assert_eq!(s.survey.as_ref().unwrap().rows[0].cells[2], "a | b \\ c\nd");
    assert_eq!(text::write(&s), tricky);
}

/// Rows (line numbers) differ after a rewrite; compare everything else.
trait WithRows {
    fn with_rows_from(self, other: &Form) -> Form;
}
impl WithRows for Form {
    fn with_rows_from(mut self, other: &Form) -> Form {
        fn copy(a: &mut [Question], b: &[Question]) {
            for (x, y) in a.iter_mut().zip(b) {
                x.row = y.row;
                copy(&mut x.children, &y.children);
            }
        }
        copy(&mut self.questions, &other.questions);
        for (list, cs) in &mut self.choices {
            for (c, o) in cs.iter_mut().zip(&other.choices[list]) {
                c.row = o.row;
            }
        }
        self
    }
}

fn errors(src: &str) -> Vec<String> {
    match load_text(src) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn bad_forms_report_every_error_with_location() {
    let src = "\
[survey]
type | name | label | relevant | calculation | constraint
text | a | A
wibble | b | B
text | | C
text | a | Again
select_one nolist | d | D
text | e | E | ${nowhere} = 1
integer | f | F | | | . > 'x
text | 9bad | G
end_repeat
begin_group | g | G
[choices]
list_name | name | label
yn | yes | Yes
";
    assert_eq!(
        errors(src),
        vec![
            "survey row 4 column type: unknown question type 'wibble'",
            "survey row 5 column name: missing name",
            "survey row 6 column name: duplicate name 'a' (first used on row 3)",
            "survey row 7 column type: unknown choice list 'nolist'",
            "survey row 9 column constraint: syntax error at character 5: unterminated string literal",
            "survey row 10 column name: invalid name '9bad' (use letters, digits, '_', '-', '.'; start with a letter or '_')",
            "survey row 11 column type: end_repeat without a matching begin_repeat",
            "survey row 12 column type: group 'g' is never closed (missing end_group)",
            "survey row 8 column relevant: unknown reference ${nowhere}",
        ]
    );
}

#[test]
fn cycle_in_calculations_is_named() {
    let src = "\
[survey]
type | name | calculation
calculate | a | ${c} + 1
calculate | b | ${a} * 2
calculate | c | ${b} - 1
calculate | ok | ${a}
";
    assert_eq!(
        errors(src),
        vec!["survey row 3 column calculation: cycle in calculations: a -> c -> b -> a"]
    );
    let selfref = "[survey]\ntype | name | calculation\ncalculate | x | ${x} + 1\n";
    assert_eq!(
        errors(selfref),
        vec!["survey row 3 column calculation: cycle in calculations: x -> x"]
    );
}

#[test]
fn mismatched_group_and_repeat_ends() {
    let src = "\
[survey]
type | name
begin_group | g
begin_repeat | r
end_group
end_repeat
end_group
end_group
";
    assert_eq!(
        errors(src),
        vec![
            "survey row 5 column type: end_group without a matching begin_group",
            "survey row 8 column type: end_group without a matching begin_group",
        ]
    );
}

#[test]
fn structural_errors() {
    assert_eq!(
        errors("[choices]\nlist_name | name\n"),
        vec!["survey: missing sheet 'survey'"]
    );
    assert_eq!(
        errors("[survey]\nname | label\n"),
        vec!["survey row 2: missing column 'type'"]
    );
    assert_eq!(
        errors("text | a\n"),
        vec!["text row 1: row outside a section: start with [survey]"]
    );
    assert_eq!(
        errors("[survey]\ntype | name\n[wat]\n"),
        vec![
            "text row 3: unknown section [wat] (expected [survey], [choices], [settings] or [external_choices])"
        ]
    );
    assert_eq!(
        errors("[survey]\ntype | name\n | orphan\n"),
        vec!["survey row 3 column type: missing type"]
    );
    assert_eq!(
        errors("[survey]\ntype | name\ncalculate | c\n"),
        vec!["survey row 3 column calculation: a calculate needs a calculation"]
    );
    assert_eq!(
        errors(
            "[survey]\ntype | name | relevant\nbegin_group | g1\ntext | x\nend_group\nbegin_group | g2\ntext | x\nend_group\ntext | y | ${x}\n"
        ),
        vec![
            "survey row 9 column relevant: ambiguous reference ${x}: several questions have that name"
        ]
    );
}

#[test]
fn same_name_in_different_groups_is_allowed_without_references() {
    let f = load_text("[survey]\ntype | name\nbegin_group | g1\ntext | x\nend_group\nbegin_group | g2\ntext | x\nend_group\n").unwrap();
    assert_eq!(f.question("g2").unwrap().children[0].path, "g2/x");
}

fn workbook() -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let s = wb.add_worksheet();
    s.set_name("survey").unwrap();
    let rows: &[&[&str]] = &[
        &[
            "type",
            "name",
            "label::English (en)",
            "relevant",
            "required",
            "Media::image",
        ],
        &["select_one yn", "gate", "Gate?", "", "yes", "pic.png"],
        &[],
        &["integer", "n", "How many?", "${gate} = 'yes'", "TRUE"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            s.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    s.write_boolean(3, 4, true).unwrap();
    s.write_number(4, 0, 0.0).unwrap(); // stray numeric cell in column A… overwritten below
    s.write_string(4, 0, "decimal").unwrap();
    s.write_string(4, 1, "ratio").unwrap();
    let c = wb.add_worksheet();
    c.set_name("choices").unwrap();
    for (r, row) in [
        ["list_name", "name", "label::English (en)"],
        ["yn", "yes", "Yes"],
        ["yn", "no", "No"],
    ]
    .iter()
    .enumerate()
    {
        for (col, v) in row.iter().enumerate() {
            c.write_string(r as u32, col as u16, *v).unwrap();
        }
    }
    c.write_number(3, 0, 1.0).unwrap(); // list name "1", numeric cell
    c.write_number(3, 1, 2.0).unwrap();
    let st = wb.add_worksheet();
    st.set_name("Settings").unwrap();
    st.write_string(0, 0, "form_id").unwrap();
    st.write_string(0, 1, "version").unwrap();
    st.write_string(1, 0, "xl").unwrap();
    st.write_number(1, 1, 2026010101.0).unwrap();
    let extra = wb.add_worksheet();
    extra.set_name("notes for authors").unwrap();
    extra.write_string(0, 0, "ignored").unwrap();
    wb.save_to_buffer().unwrap()
}

#[test]
fn loads_xlsx_from_bytes() {
    let bytes = workbook();
    let f = load_xlsx(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.settings.form_id.as_deref(), Some("xl"));
    assert_eq!(f.settings.version.as_deref(), Some("2026010101"));
    let n = f.question("n").unwrap();
    assert_eq!(n.row, 4, "spreadsheet row numbers, blank rows counted");
    assert_eq!(n.required, Flag::Always(true));
    assert_eq!(
        f.question("gate")
            .unwrap()
            .extra
            .get("media::image")
            .map(String::as_str),
        Some("pic.png")
    );
    assert_eq!(f.choice_list("1")[0].name, "2");
    assert_eq!(f.question("ratio").unwrap().kind, QuestionType::Decimal);
    // xlsx -> text -> form is the same form (rows aside)
    let as_text = text::write(&xlsx::read(&bytes).unwrap());
    let g = load_text(&as_text).unwrap();
    assert_eq!(g.with_rows_from(&f), f);
}

#[test]
fn xlsx_errors_name_sheet_row_and_column() {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let s = wb.add_worksheet();
    s.set_name("survey").unwrap();
    for (c, v) in ["type", "name", "relevant"].iter().enumerate() {
        s.write_string(0, c as u16, *v).unwrap();
    }
    for (c, v) in ["text", "a", "${b} ="].iter().enumerate() {
        s.write_string(1, c as u16, *v).unwrap();
    }
    let bytes = wb.save_to_buffer().unwrap();
    let e = load_xlsx(&bytes).unwrap_err();
    assert_eq!(
        e.to_string(),
        "survey row 2 column relevant: syntax error at character 7: unexpected end of expression"
    );
    let e = load_xlsx(b"not a zip").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("workbook: not a readable .xlsx workbook"),
        "{e}"
    );
}

#[test]
fn readme_example_loads_and_evaluates() {
    let readme = include_str!("../README.md");
    let start = readme.find("```text\n").unwrap() + 8;
    let end = start + readme[start..].find("```").unwrap();
    let form =
        std::sync::Arc::new(load_text(&readme[start..end]).unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(form.summary().questions, 2);
    assert_eq!(
        form.summary().languages,
        vec!["English (en)", "Français (fr)"]
    );
    let ctx = EvalContext {
        today: Date::from_ymd(2026, 1, 1).unwrap(),
    };
    let mut s = FormState::new(form, Answers::new(), ctx);
    assert!(!s.is_relevant("general/plan_title"));
    s.set_answer("general/has_plan", "yes");
    assert!(s.is_relevant("general/plan_title"));
}

#[test]
fn errors_serialize_for_tools() {
    let e = load_text("[survey]\ntype | name\nwat | x\n").unwrap_err();
    let v = serde_json::to_value(&e.0).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{"sheet": "survey", "row": 3, "column": "type",
            "message": "unknown question type 'wat'",
            "text": "survey row 3 column type: unknown question type 'wat'"}])
    );
}

#[test]
fn malformed_paths_do_not_panic() {
    let f = std::sync::Arc::new(load_text("[survey]\ntype | name | choice_filter\nbegin_repeat | r\ntext | k\nselect_one l | s | name = ${k}\nend_repeat\n[choices]\nlist_name | name\nl | a\n").unwrap());
    let mut s = FormState::new(f, Answers::new(), EvalContext { today: Date(0) });
    assert!(s.choices("r/s").is_empty());
    s.set_answer("r/k", "a");
    s.set_answer("nowhere/x", "1");
    s.set_answer("r[1]/k", "a");
    assert_eq!(s.choices("r[1]/s").len(), 1);
}

#[test]
fn stray_backslashes_are_refused_with_their_position() {
    let form =
        "[survey]\ntype | name | label | relevant\ntext | a | A | \\\ntext | b | B | x \\q\n";
    let errors = stopover_forms::load_text(form).unwrap_err();
    let text = errors.to_string();
    assert!(
        text.contains("row 3") && text.contains("a lone '\\' ends the line"),
        "{text}"
    );
    assert!(
        text.contains("row 4") && text.contains("unknown escape '\\q'"),
        "{text}"
    );
    // The escapes the format defines still work.
    let ok = "[survey]\ntype | name | label\ntext | a | A \\| B \\\\ C\n";
    assert!(stopover_forms::load_text(ok).is_ok());
}

#[test]
fn csv_layout_quotes_line_breaks_and_sheets() {
    use stopover_forms::load::csv;
    let src = "\u{feff}survey,,,\r\n\
               ,type,name,label\r\n\
               ,text,a,\"Say \"\"hi\"\", then, go\"\r\n\
               ,note,b,\"two\nlines\"\r\n\
               \r\n\
               cascades,,,\r\n\
               ,ignored,sheet,here\r\n\
               choices,,,\n\
               ,list_name,name,label\n\
               ,yn,yes,Yes\n\
               settings\n\
               ,form_id\n\
               ,csv_form";
    let sheets = csv::parse(src).unwrap();
    let survey = sheets.survey.as_ref().unwrap();
    assert_eq!(survey.headers, ["type", "name", "label"]);
    assert_eq!(survey.header_row, 2);
    assert_eq!(survey.rows[0].cells[2], "Say \"hi\", then, go");
    assert_eq!(
        (survey.rows[1].row, survey.rows[1].cells[2].as_str()),
        (4, "two\nlines")
    );
    assert_eq!(
        sheets.choices.as_ref().unwrap().rows[0].row,
        11,
        "lines counted across breaks"
    );
    let f = load_csv(src).unwrap();
    assert_eq!(f.settings.form_id.as_deref(), Some("csv_form"));
    assert_eq!(f.choice_list("yn")[0].name, "yes");

    assert_eq!(
        load_csv("survey,,\n,type,name\n,text,\"a\n")
            .unwrap_err()
            .to_string(),
        "csv row 3: a quoted field is never closed (missing '\"')"
    );
    assert_eq!(
        load_csv(",type,name\n").unwrap_err().to_string(),
        "csv row 1: a row before any sheet name: the first column names the sheet (survey, choices, settings)"
    );
    // errors in the form name the CSV line
    assert_eq!(
        load_csv("survey,,\n,type,name\n,txt,a\n")
            .unwrap_err()
            .to_string(),
        "survey row 3 column type: unknown question type 'txt'"
    );
}

#[test]
fn markdown_layout_comments_escapes_and_separators() {
    use stopover_forms::load::markdown;
    let src = "\
# a comment line
| survey |            |        |                     |
|--------|------------|--------|---------------------|
|        | type       | name   | label               |
|        | text       | a      | A \\| or B           | # trailing comment
|        |            |        |                     |
|        | integer    | n      | N                   |
| notes  |            |        |                     |
|        | anything   | at all |                     |
| choices|            |        |                     |
|        | list_name  | name   | label               |
|        | yn         | yes    | Yes                 |
not a table line
";
    let sheets = markdown::parse(src).unwrap();
    let survey = sheets.survey.as_ref().unwrap();
    assert_eq!(survey.header_row, 4);
    assert_eq!(survey.rows.len(), 2, "empty rows skipped");
    assert_eq!(survey.rows[0].cells, ["text", "a", "A | or B"]);
    assert_eq!(survey.rows[1].row, 7);
    let f = load_markdown(src).unwrap();
    assert_eq!(
        f.question("a").unwrap().label.get("x", None),
        Some("A | or B")
    );
    assert_eq!(f.choice_list("yn").len(), 1);
    assert_eq!(
        load_markdown("| survey |\n| | type | name |\n| | text | 1a |\n")
            .unwrap_err()
            .to_string(),
        "survey row 3 column name: invalid name '1a' (use letters, digits, '_', '-', '.'; start with a letter or '_')"
    );
}

#[test]
fn older_spellings_of_types_and_columns() {
    let f = load_text(
        "[survey]
type | name | label:English | bind:relevant | bind:constraint | bind:jr:constraintMsg::English | bind:readonly | requiredMsg::English | bind:required | control:appearance | relevance
select one from yn or specify other | a | A
select all that apply from yn | b | B | ${a} = 'yes' | count-selected(.) < 2 | one only
add select one prompt using yn | c | C | | | | true()
select1 yn | d | D | | | | | Say it | yes | minimal
string | e | E
int | f | F
trigger | g | G
imei | h
begin looped group | l | L
dateTime | dt | DT
end looped group
begin lgroup | l2 | L2
end lgroup
select_multiple YesNo or_other | m | M

[choices]
list name | name | label:English
yn | yes | Yes
yn | no | No
YesNo | y | Y
",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let q = |n: &str| f.question(n).unwrap();
    assert_eq!(q("a").kind, QuestionType::SelectOne("yn".into()));
    assert!(q("a").or_other);
    assert_eq!(q("b").kind, QuestionType::SelectMultiple("yn".into()));
    assert_eq!(q("b").relevant.as_ref().unwrap().source, "${a} = 'yes'");
    assert_eq!(
        q("b").constraint.as_ref().unwrap().source,
        "count-selected(.) < 2"
    );
    assert_eq!(
        q("b").constraint_message.get("English", None),
        Some("one only")
    );
    assert_eq!(q("c").kind, QuestionType::SelectOne("yn".into()));
    assert_eq!(q("c").read_only, Flag::Always(true));
    assert_eq!(q("d").required, Flag::Always(true));
    assert_eq!(q("d").required_message.get("English", None), Some("Say it"));
    assert_eq!(q("d").appearance.as_deref(), Some("minimal"));
    assert_eq!(q("e").kind, QuestionType::Text);
    assert_eq!(q("f").kind, QuestionType::Integer);
    assert_eq!(q("g").kind, QuestionType::Other("acknowledge".into()));
    assert_eq!(q("h").kind, QuestionType::Metadata("deviceid".into()));
    assert_eq!(q("l").kind, QuestionType::Repeat);
    assert_eq!(q("dt").path, "l/dt");
    assert_eq!(q("l2").kind, QuestionType::Repeat);
    assert_eq!(
        q("m").kind,
        QuestionType::SelectMultiple("YesNo".into()),
        "list keeps its case"
    );
    assert!(q("m").or_other);
    assert_eq!(f.languages, ["English"]);
}

#[test]
fn refused_types_name_their_row() {
    assert_eq!(
        errors(
            "[survey]
type | name | label
select_one_external cities | a | A
select_one_from_file cities.pdf | b | B
select one from file cities | c | C
cascading select lga | d | D
begin loop over nope | e | E
integer | n | N
end loop
text | fine | F

[choices]
list_name | name
yn | yes
"
        ),
        [
            "survey row 3 column type: unknown choice list 'cities' (select_one_external reads it from the external_choices sheet)",
            "survey row 4 column type: not supported: select_one_from_file needs the name of a CSV file, with its extension (e.g. species.csv)",
            "survey row 5 column type: not supported: select_one_from_file needs the name of a CSV file, with its extension (e.g. species.csv)",
            "survey row 6 column type: not supported: the old cascading_select type (with a cascades sheet); use select_one with a choice_filter",
            "survey row 7 column type: unknown choice list 'nope'",
        ]
    );
    assert_eq!(
        errors("[survey]\ntype | name | calculation\ncalculate | c | concat('a', instance('x'))\n"),
        [
            "survey row 3 column calculation: not supported: instance() reads a secondary instance (choice lists or attached files) by XPath; write ${name} references and choice_filter instead (character 13)"
        ]
    );
}

#[test]
fn indexed_repeat_must_name_a_repeat_around_the_question() {
    let form = "[survey]
type | name | calculation
begin_repeat | r
text | a
end_repeat
begin_repeat | other
end_repeat
text | plain
calculate | ok | indexed-repeat(${a}, ${r}, 1)
calculate | bad1 | indexed-repeat(${a}, ${other}, 1)
calculate | bad2 | indexed-repeat(${a}, ${plain}, 1)
calculate | bad3 | indexed-repeat(${a}, ${nowhere}, 1)
";
    assert_eq!(
        errors(form),
        [
            "survey row 12 column calculation: unknown reference ${nowhere}",
            "survey row 10 column calculation: indexed-repeat(): ${other} is not a repeat that contains ${a}",
            "survey row 11 column calculation: indexed-repeat(): ${plain} is not a repeat that contains ${a}",
        ]
    );
}

#[test]
fn load_workbook_tells_xls_from_xlsx() {
    let bytes = workbook();
    assert_eq!(load_workbook(&bytes).unwrap(), load_xlsx(&bytes).unwrap());
    let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0];
    assert!(
        load_workbook(&ole)
            .unwrap_err()
            .to_string()
            .starts_with("workbook: not a readable .xls workbook"),
    );
    assert!(
        load_workbook(b"neither")
            .unwrap_err()
            .to_string()
            .starts_with("workbook: not a readable .xlsx workbook"),
    );
}

/// pyxform's type table: old names load as today's types (with a warning naming it), the
/// types that imply a constraint and hint get them, and a note needs no name.
#[test]
fn pyxform_type_aliases_generated_note_names_and_geo_types() {
    let src = "[survey]
type | name | label
phone number | tel | Phone
percentage | share | Share
q location | site | Site
add text prompt | t | T
get start time | st |
note | | Thanks for your time
geotrace | route | Route
geoshape | area | Area
select one from file birds.csv | bird | Bird
[settings]
form_id
aliases
";
    let f = load_text(src).unwrap_or_else(|e| panic!("{e}"));
    let q = |n: &str| f.question(n).unwrap_or_else(|| panic!("{n}"));
    assert_eq!(q("tel").kind, QuestionType::Text);
    assert_eq!(
        q("tel").constraint.as_ref().map(|c| c.source.as_str()),
        Some(r"regex(., '^\d*$')")
    );
    assert_eq!(q("tel").hint.get("en", None), Some("Enter numbers only."));
    assert_eq!(q("share").kind, QuestionType::Integer);
    assert_eq!(q("site").kind, QuestionType::Geopoint);
    assert_eq!(q("t").kind, QuestionType::Text);
    assert_eq!(q("st").kind, QuestionType::Metadata("start".into()));
    assert_eq!(q("generated_note_name_8").kind, QuestionType::Note);
    assert_eq!(q("route").kind, QuestionType::Geotrace);
    assert_eq!(q("area").kind, QuestionType::Geoshape);
    assert_eq!(q("bird").kind, QuestionType::SelectOne("birds.csv".into()));
    let warnings: Vec<String> = f.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "survey row 5 column type: 'q location' is an old name of the type 'geopoint'; write geopoint",
            "survey row 6 column type: 'add text prompt' is an old name of the type 'text'; write text",
            "survey row 7 column type: 'get start time' is an old name of the type 'start'; write start",
            "survey row 11 column type: the file 'birds.csv' is not attached to the form: it must be published with it (its choices and values are empty until then)",
        ]
    );

    let form = std::sync::Arc::new(f);
    let mut st = FormState::new(
        form,
        Default::default(),
        EvalContext {
            today: Date::from_ymd(2026, 6, 1).unwrap(),
        },
    );
    st.set_answer("tel", "+41 22");
    st.set_answer("share", "120");
    st.set_answer("site", "12.5 -3.25");
    st.set_answer("route", "12.5 -3.25");
    st.set_answer("area", "0 0;0 1;1 1;0 0");
    let issues: Vec<(String, IssueKind)> = st
        .issues("en")
        .into_iter()
        .map(|i| (i.path, i.kind))
        .collect();
    assert_eq!(
        issues,
        [
            ("tel".to_string(), IssueKind::Constraint),
            ("share".to_string(), IssueKind::Constraint),
            ("route".to_string(), IssueKind::Invalid),
        ]
    );
}
