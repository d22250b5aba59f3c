use super::{Sheet, Sheets, normalize_header};
use crate::error::{ErrorKind, FormError, FormErrors};
use crate::expr::Expression;
use crate::model::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A type pyxform reads under another name: the constraint and hint its type table adds
/// when the row gives none (`phone number`, `percentage`, …).
#[derive(Clone, Copy)]
struct Implied {
    constraint: &'static str,
    hint: &'static str,
}

/// pyxform's type table (its `question_type_dictionary`): every spelling of a single-word or
/// multi-word type without a list, lower case, spaces collapsed → the type, and the
/// constraint and hint pyxform adds for it.
fn simple_type(t: &str) -> Option<(QuestionType, Option<Implied>)> {
    use QuestionType::*;
    let meta = |m: &str| Some((Metadata(m.to_string()), None));
    let other = |o: &str| Some((Other(o.to_string()), None));
    let days = |end: &'static str, hint: &'static str| {
        Some((
            Integer,
            Some(Implied {
                constraint: end,
                hint,
            }),
        ))
    };
    match t {
        "text" | "string" | "q string" | "add text prompt" => Some((Text, None)),
        "phone number" => Some((
            Text,
            Some(Implied {
                constraint: r"regex(., '^\d*$')",
                hint: "Enter numbers only.",
            }),
        )),
        "integer" | "int" | "q int" | "add integer prompt" => Some((Integer, None)),
        "percentage" => Some((
            Integer,
            Some(Implied {
                constraint: "0 <= . and . <= 100",
                hint: "",
            }),
        )),
        "number of days in last month" => days("0 <= . and . <= 31", "Enter a number 0-31."),
        "number of days in last six months" => days("0 <= . and . <= 183", "Enter a number 0-183."),
        "number of days in last year" => days("0 <= . and . <= 365", "Enter a number 0-365."),
        "decimal" | "q decimal" | "add decimal prompt" => Some((Decimal, None)),
        "range" => Some((Range, None)),
        "date" | "q date" | "add date prompt" => Some((Date, None)),
        "note" | "q note" | "add note prompt" => Some((Note, None)),
        "file" | "add file prompt" => Some((File, None)),
        "calculate" | "q calculate" | "add calculate prompt" => Some((Calculate, None)),
        "geopoint" | "gps" | "location" | "q geopoint" | "q location" | "add location prompt" => {
            Some((Geopoint, None))
        }
        "geotrace" | "q geotrace" => Some((Geotrace, None)),
        "geoshape" | "q geoshape" => Some((Geoshape, None)),
        "begin_group" => Some((Group, None)),
        "begin_repeat" => Some((Repeat, None)),
        "datetime"
        | "date time"
        | "q date time"
        | "q datetime"
        | "add date time prompt"
        | "add datetime prompt" => other("datetime"),
        "time" => other("time"),
        "acknowledge" | "q acknowledge" | "add acknowledge prompt" | "trigger" => {
            other("acknowledge")
        }
        "barcode" | "q barcode" | "add barcode prompt" => other("barcode"),
        "image" | "photo" | "q picture" | "q image" | "add image prompt" | "add photo prompt" => {
            other("image")
        }
        "audio" | "q audio" | "add audio prompt" => other("audio"),
        "video" | "q video" | "add video prompt" => other("video"),
        "osm" => other("osm"),
        "hidden" => other("hidden"),
        "start" | "start time" | "get start time" => meta("start"),
        "end" | "end time" | "get end time" => meta("end"),
        "today" | "get today" => meta("today"),
        "deviceid" | "device id" | "get device id" | "imei" => meta("deviceid"),
        "subscriberid" | "subscriber id" | "get subscriber id" => meta("subscriberid"),
        "simserial" | "sim id" | "get sim id" => meta("simserial"),
        "phonenumber" | "get phone number" => meta("phonenumber"),
        "username"
        | "email"
        | "audit"
        | "start-geopoint"
        | "background-geopoint"
        | "background-audio"
        | "uri:subscriberid"
        | "uri:email"
        | "uri:deviceid"
        | "uri:simserial"
        | "uri:phonenumber"
        | "uri:username"
        | "xml-external"
        | "csv-external" => meta(t),
        _ => None,
    }
}

/// The name XLSForm uses today for an older spelling, when `t` is one (for a warning).
fn modern_name(t: &str, kind: &QuestionType) -> Option<String> {
    use QuestionType::*;
    let modern = match kind {
        Text if t == "phone number" => return None, // a type of its own, with a constraint
        Integer if t == "percentage" || t.starts_with("number of days") => return None,
        Text => "text",
        Integer => "integer",
        Decimal => "decimal",
        Date => "date",
        Note => "note",
        File => "file",
        Calculate => "calculate",
        Geopoint => "geopoint",
        Geotrace => "geotrace",
        Geoshape => "geoshape",
        Metadata(m) | Other(m) => m.as_str(),
        _ => return None,
    };
    (t != modern && t != "begin_group" && t != "begin_repeat").then(|| modern.to_string())
}

/// Where a select's choices come from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The choices sheet.
    Choices,
    /// The `external_choices` sheet (`select_one_external`).
    External,
    /// A file attached to the form (`select_one_from_file x.csv`); the list is the file name.
    File,
}

enum Parsed {
    Kind {
        kind: QuestionType,
        or_other: bool,
        source: Source,
        implied: Option<Implied>,
    },
    EndGroup,
    EndRepeat,
    /// A type XLSForm (or pyxform) knows that this engine refuses on purpose, with the
    /// reason. `opens` says whether it opens a block (closed later by an `end …` row).
    Refused {
        reason: String,
        opens: bool,
    },
}

/// pyxform's spellings of the select types, longest first: (words, multiple?, source).
const SELECT_PREFIXES: &[(&[&str], bool, Source)] = &[
    (
        &["add", "select", "one", "prompt", "using"],
        false,
        Source::Choices,
    ),
    (
        &["add", "select", "multiple", "prompt", "using"],
        true,
        Source::Choices,
    ),
    (
        &["select", "all", "that", "apply", "from"],
        true,
        Source::Choices,
    ),
    (&["select", "one", "from", "file"], false, Source::File),
    (&["select", "multiple", "from", "file"], true, Source::File),
    (&["select", "all", "that", "apply"], true, Source::Choices),
    (&["select", "one", "external"], false, Source::External),
    (&["select", "one", "from"], false, Source::Choices),
    (&["select", "one"], false, Source::Choices),
    (&["select_one_from_file"], false, Source::File),
    (&["select_multiple_from_file"], true, Source::File),
    (&["select_one_external"], false, Source::External),
    (&["select_one"], false, Source::Choices),
    (&["select1"], false, Source::Choices),
    (&["select_multiple"], true, Source::Choices),
    (&["select_many"], true, Source::Choices),
];

/// `LIST`, `LIST or_other`, `LIST or other` or `LIST or specify other`: the list and whether
/// "other" is added.
fn list_and_other(rest: &[String]) -> Option<(String, bool)> {
    match rest {
        [l] => Some((l.clone(), false)),
        [l, o] if o == "or_other" => Some((l.clone(), true)),
        [l, a, b] if a == "or" && b == "other" => Some((l.clone(), true)),
        [l, a, b, c] if a == "or" && b == "specify" && c == "other" => Some((l.clone(), true)),
        _ => None,
    }
}

/// `begin loop over LIST` (also `begin_loop over LIST`, `begin loop LIST`): the list, or
/// `Some(None)` for a loop row without one.
fn loop_begin(t: &str) -> Option<Option<String>> {
    let words: Vec<&str> = t.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let rest = match lower.first().map(String::as_str) {
        Some("begin_loop") => 1,
        Some("begin") if lower.get(1).is_some_and(|w| w == "loop") => 2,
        _ => return None,
    };
    let rest = if lower.get(rest).is_some_and(|w| w == "over") {
        rest + 1
    } else {
        rest
    };
    match &words[rest..] {
        [] => Some(None),
        [list] => Some(Some(list.to_string())),
        _ => None,
    }
}

fn loop_end(t: &str) -> bool {
    let lower = t
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    lower == "end loop" || lower == "end_loop"
}

fn parse_type(t: &str) -> Option<Parsed> {
    let original: Vec<&str> = t.split_whitespace().collect();
    // keywords compare case-insensitively; list names keep their spelling
    let words: Vec<String> = original.iter().map(|w| w.to_lowercase()).collect();
    let first = words.first()?.clone();
    let kept = |from: usize| -> Vec<String> {
        original[from..]
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i == 0 {
                    w.to_string()
                } else {
                    w.to_lowercase()
                }
            })
            .collect()
    };
    let refused = |reason: &str, opens: bool| {
        Some(Parsed::Refused {
            reason: reason.to_string(),
            opens,
        })
    };
    let cascading = first == "cascading_select"
        || (words.len() >= 2 && words[0] == "cascading" && words[1] == "select");
    if cascading {
        return refused(
            "the old cascading_select type (with a cascades sheet); use select_one with a choice_filter",
            false,
        );
    }
    for (prefix, multiple, source) in SELECT_PREFIXES {
        if words.len() > prefix.len() && words[..prefix.len()] == prefix[..] {
            let (l, o) = list_and_other(&kept(prefix.len()))?;
            if *source == Source::File {
                let lower = l.to_lowercase();
                if ![".csv", ".xml", ".geojson"]
                    .iter()
                    .any(|e| lower.ends_with(e))
                {
                    return refused(
                        "select_one_from_file needs the name of a CSV file, with its extension (e.g. species.csv)",
                        false,
                    );
                }
            }
            let kind = if *multiple {
                QuestionType::SelectMultiple(l)
            } else {
                QuestionType::SelectOne(l)
            };
            return Some(Parsed::Kind {
                kind,
                or_other: o,
                source: *source,
                implied: None,
            });
        }
    }
    let kind = |kind: QuestionType| Parsed::Kind {
        kind,
        or_other: false,
        source: Source::Choices,
        implied: None,
    };
    Some(match (first.as_str(), &words[1..]) {
        // an OpenMapKit feature with tags from the osm sheet: kept as an upload, like `osm`
        ("osm", [_]) => kind(QuestionType::Other("osm".into())),
        ("rank", _) => {
            let (l, _) = list_and_other(&kept(1))?;
            kind(QuestionType::Rank(l))
        }
        ("begin", [g]) if g == "group" => kind(QuestionType::Group),
        ("begin", [r]) if r == "repeat" => kind(QuestionType::Repeat),
        ("begin", [a, b]) if a == "looped" && b == "group" => kind(QuestionType::Repeat),
        ("begin", [l]) if l == "lgroup" => kind(QuestionType::Repeat),
        ("end", [g]) if g == "group" => Parsed::EndGroup,
        ("end", [r]) if r == "repeat" || r == "lgroup" => Parsed::EndRepeat,
        ("end", [a, b]) if a == "looped" && b == "group" => Parsed::EndRepeat,
        ("end_group", []) => Parsed::EndGroup,
        ("end_repeat", []) => Parsed::EndRepeat,
        _ => {
            let (k, implied) = simple_type(&words.join(" "))?;
            Parsed::Kind {
                kind: k,
                or_other: false,
                source: Source::Choices,
                implied,
            }
        }
    })
}

fn valid_name(n: &str) -> bool {
    let mut cs = n.chars();
    cs.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && cs.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Language of a translatable header (`label::fr` → `fr`, `label` → default).
fn lang_of(header: &str, base: &str) -> Option<String> {
    if header == base {
        Some(DEFAULT_LANG.to_string())
    } else {
        header
            .strip_prefix(base)
            .and_then(|r| r.strip_prefix("::"))
            .map(str::to_string)
    }
}

struct Cols {
    headers: Vec<String>,
}

impl Cols {
    fn new(sheet: &Sheet) -> Self {
        Self {
            headers: sheet.headers.iter().map(|h| normalize_header(h)).collect(),
        }
    }
    fn idx(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }
    fn translated(&self, row: &super::Row, base: &str, langs: &mut BTreeSet<String>) -> Translated {
        let mut t = Translated::default();
        for (i, h) in self.headers.iter().enumerate() {
            if let Some(lang) = lang_of(h, base) {
                let v = row.cells.get(i).map_or("", |s| s.trim());
                if !v.is_empty() {
                    langs.insert(lang.clone());
                    t.0.insert(lang, v.to_string());
                }
            }
        }
        t
    }
}

const SURVEY_KNOWN: &[&str] = &[
    "type",
    "name",
    "label",
    "hint",
    "required",
    "required_message",
    "relevant",
    "constraint",
    "constraint_message",
    "calculation",
    "default",
    "read_only",
    "choice_filter",
    "repeat_count",
    "appearance",
    "parameters",
];

fn known_base(h: &str) -> bool {
    let base = h.split("::").next().unwrap_or(h);
    SURVEY_KNOWN.contains(&base)
}

struct Ctx {
    errors: Vec<FormError>,
    langs: BTreeSet<String>,
    /// (row, column, referenced names) for the reference check
    refs: Vec<(usize, String, BTreeSet<String>)>,
    /// (row, column, question, repeats) of each `indexed-repeat()`, checked once names resolve
    indexed: Vec<(usize, String, String, Vec<String>)>,
    /// (row, column, file) of each file the form reads
    files: Vec<(usize, String, String)>,
    warnings: Vec<FormError>,
}

impl Ctx {
    fn err(&mut self, sheet: &str, row: usize, col: Option<&str>, kind: ErrorKind) {
        self.errors
            .push(FormError::new(sheet, Some(row), col, kind));
    }
    fn warn(&mut self, sheet: &str, row: usize, col: Option<&str>, message: String) {
        self.warnings.push(FormError::new(
            sheet,
            Some(row),
            col,
            ErrorKind::Warning(message),
        ));
    }
}

fn parse_expr(ctx: &mut Ctx, row: usize, col: &str, src: &str) -> Option<Expression> {
    if src.is_empty() {
        return None;
    }
    match Expression::parse(src) {
        Ok(e) => {
            ctx.refs.push((row, col.to_string(), e.ast.references()));
            for (question, repeats) in e.ast.indexed_repeats() {
                ctx.indexed.push((row, col.to_string(), question, repeats));
            }
            for file in e.ast.pulldata_files() {
                ctx.files.push((row, col.to_string(), file));
            }
            Some(e)
        }
        Err(e) if e.unsupported => {
            ctx.err(
                "survey",
                row,
                Some(col),
                ErrorKind::Unsupported(format!("{} (character {})", e.message, e.position)),
            );
            None
        }
        Err(e) => {
            ctx.err(
                "survey",
                row,
                Some(col),
                ErrorKind::Syntax {
                    position: e.position,
                    message: e.message,
                },
            );
            None
        }
    }
}

fn parse_flag(ctx: &mut Ctx, row: usize, col: &str, src: &str) -> Flag {
    match src.to_lowercase().as_str() {
        "" | "no" | "false" | "false()" | "0" => Flag::Always(false),
        "yes" | "true" | "true()" | "1" => Flag::Always(true),
        _ => parse_expr(ctx, row, col, src).map_or(Flag::Always(false), Flag::When),
    }
}

/// The lists of a choices sheet (`choices` or `external_choices`), by list name.
fn read_choices(
    ctx: &mut Ctx,
    sheet_name: &str,
    sheet: Option<&Sheet>,
) -> BTreeMap<String, Vec<Choice>> {
    let mut choices: BTreeMap<String, Vec<Choice>> = BTreeMap::new();
    let Some(sheet) = sheet.filter(|s| !(s.headers.is_empty() && s.rows.is_empty())) else {
        return choices; // absent, or only its name (pyxform's CSV layout writes that)
    };
    let cols = Cols::new(sheet);
    let (lc, nc) = (cols.idx("list_name"), cols.idx("name"));
    for (c, col) in [(lc, "list_name"), (nc, "name")] {
        if c.is_none() {
            ctx.errors.push(FormError::new(
                sheet_name,
                Some(sheet.header_row),
                None,
                ErrorKind::MissingColumn(col.into()),
            ));
        }
    }
    for r in &sheet.rows {
        let list = sheet.cell(r, lc);
        let name = sheet.cell(r, nc);
        if list.is_empty() {
            continue;
        }
        if name.is_empty() {
            ctx.err(sheet_name, r.row, Some("name"), ErrorKind::MissingName);
            continue;
        }
        let label = cols.translated(r, "label", &mut ctx.langs);
        let mut extra = BTreeMap::new();
        for (i, h) in cols.headers.iter().enumerate() {
            if h != "list_name" && h != "name" && lang_of(h, "label").is_none() {
                let v = r.cells.get(i).map_or("", |s| s.trim());
                if !v.is_empty() {
                    extra.insert(h.clone(), v.to_string());
                }
            }
        }
        choices.entry(list.to_string()).or_default().push(Choice {
            name: name.to_string(),
            label,
            extra,
            row: r.row,
        });
    }
    choices
}

/// The CSV files among the attachments, parsed (other files, such as images, are left out).
fn read_files(files: &super::Attachments, ctx: &mut Ctx) -> BTreeMap<String, DataFile> {
    let mut out = BTreeMap::new();
    for (name, bytes) in files {
        if !name.to_ascii_lowercase().ends_with(".csv") {
            continue;
        }
        let fail = |ctx: &mut Ctx, row: Option<usize>, m: String| {
            ctx.errors
                .push(FormError::new(name, row, None, ErrorKind::Invalid(m)));
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            fail(
                ctx,
                None,
                "not UTF-8 text: save the CSV file as UTF-8".into(),
            );
            continue;
        };
        let records = match super::csv::records(text) {
            Ok(r) => r,
            Err(e) => {
                for e in e.0 {
                    fail(ctx, e.row, e.kind.to_string());
                }
                continue;
            }
        };
        let mut records = records
            .into_iter()
            .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
        let Some((_, header)) = records.next() else {
            fail(
                ctx,
                None,
                "the file is empty: the first line names the columns".into(),
            );
            continue;
        };
        let columns: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        let rows = records
            .map(|(_, mut cells)| {
                cells.resize(columns.len(), String::new());
                cells.iter().map(|c| c.trim().to_string()).collect()
            })
            .collect();
        out.insert(name.clone(), DataFile { columns, rows });
    }
    out
}

/// The choices of `select_one_from_file FILE` from its attached CSV: the value in column
/// `name` and the label in `label` / `label::<lang>`, unless the question's `parameters`
/// say `value=COLUMN` / `label=COLUMN`; other columns are kept for `choice_filter`.
fn file_choices(
    file: &DataFile,
    value: &str,
    label: &str,
    langs: &mut BTreeSet<String>,
) -> Result<Vec<Choice>, String> {
    let v = file.column(value).ok_or_else(|| {
        format!(
            "the file has no column '{value}' (its columns: {})",
            file.columns.join(", ")
        )
    })?;
    let mut label_cols: Vec<(usize, String)> = Vec::new();
    for (i, c) in file.columns.iter().enumerate() {
        let h = normalize_header(c);
        if let Some(lang) = lang_of(&h, label) {
            label_cols.push((i, lang));
        }
    }
    let mut out = Vec::with_capacity(file.rows.len());
    for (n, r) in file.rows.iter().enumerate() {
        if r[v].is_empty() {
            continue;
        }
        let mut t = Translated::default();
        for (i, lang) in &label_cols {
            if !r[*i].is_empty() {
                langs.insert(lang.clone());
                t.0.insert(lang.clone(), r[*i].clone());
            }
        }
        let extra = file
            .columns
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != v && !label_cols.iter().any(|(l, _)| l == i))
            .filter(|(i, _)| !r[*i].is_empty())
            .map(|(i, c)| (c.clone(), r[i].clone()))
            .collect();
        out.push(Choice {
            name: r[v].clone(),
            label: t,
            extra,
            // the line in the file: the header is line 1
            row: n + 2,
        });
    }
    Ok(out)
}

/// `value=COLUMN label=COLUMN` in a select's `parameters` (pyxform, for choices from a file).
fn file_columns(parameters: &str) -> (String, String) {
    let (mut value, mut label) = ("name".to_string(), "label".to_string());
    for pair in parameters.split([' ', ',', ';']) {
        if let Some((k, v)) = pair.split_once('=') {
            match k.trim().to_lowercase().as_str() {
                "value" if !v.trim().is_empty() => value = v.trim().to_string(),
                "label" if !v.trim().is_empty() => label = v.trim().to_string(),
                _ => {}
            }
        }
    }
    (value, label)
}

/// Check the sheets and build a [`Form`], collecting every error found.
pub fn build(sheets: &Sheets) -> Result<Form, FormErrors> {
    build_with(sheets, &super::Attachments::new())
}

/// [`build`], with the files attached to the form (its CSV files, by file name).
pub fn build_with(sheets: &Sheets, files: &super::Attachments) -> Result<Form, FormErrors> {
    let mut ctx = Ctx {
        errors: Vec::new(),
        langs: BTreeSet::new(),
        refs: Vec::new(),
        indexed: Vec::new(),
        files: Vec::new(),
        warnings: Vec::new(),
    };

    // attached files, then the lists: choices sheet, external_choices sheet
    let data_files = read_files(files, &mut ctx);
    let mut choices = read_choices(&mut ctx, "choices", sheets.choices.as_ref());
    let external = read_choices(
        &mut ctx,
        "external_choices",
        sheets.external_choices.as_ref(),
    );

    // settings
    let mut settings = Settings::default();
    if let Some(sheet) = &sheets.settings {
        let cols = Cols::new(sheet);
        if let Some(r) = sheet
            .rows
            .iter()
            .find(|r| r.cells.iter().any(|c| !c.trim().is_empty()))
        {
            let get =
                |n: &str| Some(sheet.cell(r, cols.idx(n)).to_string()).filter(|s| !s.is_empty());
            settings.form_id = get("form_id");
            settings.version = get("version");
            settings.default_language = get("default_language");
            let mut dummy = BTreeSet::new();
            settings.title = cols.translated(r, "form_title", &mut dummy);
            for (i, h) in cols.headers.iter().enumerate() {
                let v = r.cells.get(i).map_or("", |s| s.trim());
                if !v.is_empty()
                    && !matches!(h.as_str(), "form_id" | "version" | "default_language")
                    && lang_of(h, "form_title").is_none()
                {
                    settings.extra.insert(h.clone(), v.to_string());
                }
            }
        }
    }

    // survey
    let Some(sheet) = &sheets.survey else {
        return Err(FormErrors(vec![FormError::new(
            "survey",
            None,
            None,
            ErrorKind::MissingSheet("survey".into()),
        )]));
    };
    let cols = Cols::new(sheet);
    let (tc, nc) = (cols.idx("type"), cols.idx("name"));
    for (c, col) in [(tc, "type"), (nc, "name")] {
        if c.is_none() {
            ctx.errors.push(FormError::new(
                "survey",
                Some(sheet.header_row),
                None,
                ErrorKind::MissingColumn(col.into()),
            ));
        }
    }
    if tc.is_none() || nc.is_none() {
        return Err(FormErrors(ctx.errors));
    }
    fn get<'a>(sheet: &Sheet, cols: &Cols, r: &'a super::Row, n: &str) -> &'a str {
        sheet.cell(r, cols.idx(n))
    }
    // pyxform's `begin loop over LIST`: one group per choice, written out here
    let survey_errors = ctx.errors.len();
    let expanded = expand_loops(sheet, &cols, &choices, &mut ctx);
    let sheet = &expanded;
    let get = |r, n| get(sheet, &cols, r, n);
    // stack of open containers; the bottom is the root.
    let mut stack: Vec<Question> = vec![blank(QuestionType::Group, "", 0)];
    let mut siblings: Vec<HashMap<String, usize>> = vec![HashMap::new()];
    // lists of choices from a file, by (file, value column, label column) → list key
    let mut file_lists: HashMap<(String, String, String), String> = HashMap::new();
    for r in &sheet.rows {
        let t = get(r, "type");
        let mut name = get(r, "name").to_string();
        if t.is_empty() {
            if !name.is_empty() {
                ctx.err("survey", r.row, Some("type"), ErrorKind::MissingType);
            }
            continue;
        }
        let Some(parsed) = parse_type(t) else {
            ctx.err(
                "survey",
                r.row,
                Some("type"),
                ErrorKind::UnknownType(t.to_string()),
            );
            continue;
        };
        let kind_etc = match parsed {
            Parsed::EndGroup | Parsed::EndRepeat => {
                let want = if matches!(parsed, Parsed::EndGroup) {
                    QuestionType::Group
                } else {
                    QuestionType::Repeat
                };
                let (found, expected) = if want == QuestionType::Group {
                    ("end_group", "begin_group")
                } else {
                    ("end_repeat", "begin_repeat")
                };
                if stack.len() > 1 && stack.last().is_some_and(|q| q.kind == want) {
                    let q = stack.pop().expect("checked");
                    siblings.pop();
                    stack.last_mut().expect("root").children.push(q);
                } else {
                    ctx.err(
                        "survey",
                        r.row,
                        Some("type"),
                        ErrorKind::Unmatched {
                            found: found.into(),
                            expected: expected.into(),
                        },
                    );
                }
                continue;
            }
            Parsed::Kind {
                kind,
                or_other,
                source,
                implied,
            } => {
                let t_norm = t.split_whitespace().collect::<Vec<_>>().join(" ");
                if let Some(modern) = modern_name(&t_norm.to_lowercase(), &kind) {
                    ctx.warn(
                        "survey",
                        r.row,
                        Some("type"),
                        format!("'{t_norm}' is an old name of the type '{modern}'; write {modern}"),
                    );
                }
                (kind, or_other, source, implied)
            }
            Parsed::Refused { reason, opens } => {
                ctx.err(
                    "survey",
                    r.row,
                    Some("type"),
                    ErrorKind::Unsupported(reason),
                );
                if !opens {
                    continue;
                }
                // keep the block structure so its `end` row does not add a second error
                (QuestionType::Group, false, Source::Choices, None)
            }
        };
        let (mut kind, or_other, source, implied) = kind_etc;
        if name.is_empty() && kind == QuestionType::Note {
            // pyxform names a note without a name after its row
            name = format!("generated_note_name_{}", r.row);
        }
        let name = name.as_str();
        if name.is_empty() {
            ctx.err("survey", r.row, Some("name"), ErrorKind::MissingName);
        } else if !valid_name(name) {
            ctx.err(
                "survey",
                r.row,
                Some("name"),
                ErrorKind::InvalidName(name.to_string()),
            );
        } else if let Some(first) = siblings.last().and_then(|s| s.get(name)) {
            let first_row = *first;
            ctx.err(
                "survey",
                r.row,
                Some("name"),
                ErrorKind::DuplicateName {
                    name: name.to_string(),
                    first_row,
                },
            );
        } else {
            siblings
                .last_mut()
                .expect("root")
                .insert(name.to_string(), r.row);
        }
        match (source, kind.list().map(str::to_string)) {
            (Source::Choices, Some(list)) if !choices.contains_key(&list) => {
                ctx.err(
                    "survey",
                    r.row,
                    Some("type"),
                    ErrorKind::UnknownChoiceList(list),
                );
            }
            (Source::External, Some(list)) => match external.get(&list) {
                Some(lst) => {
                    // the two sheets are separate name spaces, as in pyxform
                    let key = if choices.get(&list).is_some_and(|c| c != lst) {
                        format!("{list} (external_choices)")
                    } else {
                        list.clone()
                    };
                    choices.insert(key.clone(), lst.clone());
                    kind = QuestionType::SelectOne(key);
                    if get(r, "choice_filter").is_empty() {
                        ctx.warn(
                            "survey",
                            r.row,
                            Some("type"),
                            "select_one_external is meant for filtered lists (a choice_filter); without one, select_one on the choices sheet does the same".into(),
                        );
                    }
                }
                None => ctx.err(
                    "survey",
                    r.row,
                    Some("type"),
                    ErrorKind::Invalid(format!(
                        "unknown choice list '{list}' (select_one_external reads it from the external_choices sheet)"
                    )),
                ),
            },
            (Source::File, Some(file)) => {
                ctx.files.push((r.row, "type".into(), file.clone()));
                let (value, label) = file_columns(get(r, "parameters"));
                let key = (file.clone(), value.clone(), label.clone());
                let list = match file_lists.get(&key) {
                    Some(list) => list.clone(),
                    None => {
                        // the file name is the list; another choice of columns is another list
                        let list = if value == "name" && label == "label" {
                            file.clone()
                        } else {
                            format!("{file}?value={value}&label={label}")
                        };
                        let loaded = match data_files.get(&file) {
                            Some(data) => match file_choices(data, &value, &label, &mut ctx.langs)
                            {
                                Ok(c) => c,
                                Err(m) => {
                                    ctx.err("survey", r.row, Some("type"), ErrorKind::Invalid(format!("{file}: {m}")));
                                    Vec::new()
                                }
                            },
                            // reported once the files the form reads are known
                            None => Vec::new(),
                        };
                        choices.insert(list.clone(), loaded);
                        file_lists.insert(key, list.clone());
                        list
                    }
                };
                kind = match kind {
                    QuestionType::SelectMultiple(_) => QuestionType::SelectMultiple(list),
                    _ => QuestionType::SelectOne(list),
                };
            }
            _ => {}
        }
        let mut q = blank(kind, name, r.row);
        q.or_other = or_other;
        q.label = cols.translated(r, "label", &mut ctx.langs);
        q.hint = cols.translated(r, "hint", &mut ctx.langs);
        q.required_message = cols.translated(r, "required_message", &mut ctx.langs);
        q.constraint_message = cols.translated(r, "constraint_message", &mut ctx.langs);
        q.required = parse_flag(&mut ctx, r.row, "required", get(r, "required"));
        q.read_only = parse_flag(&mut ctx, r.row, "read_only", get(r, "read_only"));
        q.relevant = parse_expr(&mut ctx, r.row, "relevant", get(r, "relevant"));
        q.constraint = parse_expr(&mut ctx, r.row, "constraint", get(r, "constraint"));
        q.calculation = parse_expr(&mut ctx, r.row, "calculation", get(r, "calculation"));
        q.choice_filter = parse_expr(&mut ctx, r.row, "choice_filter", get(r, "choice_filter"));
        q.repeat_count = parse_expr(&mut ctx, r.row, "repeat_count", get(r, "repeat_count"));
        q.default = Some(get(r, "default").to_string()).filter(|s| !s.is_empty());
        q.appearance = Some(get(r, "appearance").to_string()).filter(|s| !s.is_empty());
        if let Some(app) = q.appearance.clone()
            && let Some(call) = search_call(&app)
            && q.kind.list().is_some()
        {
            search_choices(&mut ctx, r.row, &mut q, call, &mut choices, &data_files);
        }
        q.parameters = Some(get(r, "parameters").to_string()).filter(|s| !s.is_empty());
        if let Some(implied) = implied {
            // what pyxform's type table adds to `phone number`, `percentage`, …
            if q.constraint.is_none() {
                q.constraint = parse_expr(&mut ctx, r.row, "type", implied.constraint);
            }
            if q.hint.is_empty() && !implied.hint.is_empty() {
                q.hint.0.insert(DEFAULT_LANG.into(), implied.hint.into());
            }
        }
        if let QuestionType::Metadata(m) = &q.kind
            && matches!(m.as_str(), "simserial" | "subscriberid")
        {
            ctx.warn(
                "survey",
                r.row,
                Some("type"),
                format!("{m} is no longer supported on most devices, and Stopover does not fill it: leave it out"),
            );
        }
        if q.kind == QuestionType::Metadata("csv-external".into()) {
            // declares `NAME.csv` for pulldata() and instance('NAME')
            ctx.files
                .push((r.row, "name".into(), crate::expr::data_file_name(name)));
        }
        if q.kind == QuestionType::Calculate
            && q.calculation.is_none()
            && !get(r, "calculation").is_empty()
        {
            // syntax error already reported
        } else if q.kind == QuestionType::Calculate
            && q.calculation.is_none()
            && q.default.is_none()
        {
            ctx.err(
                "survey",
                r.row,
                Some("calculation"),
                ErrorKind::Invalid("a calculate needs a calculation".into()),
            );
        }
        for (i, h) in cols.headers.iter().enumerate() {
            let v = r.cells.get(i).map_or("", |s| s.trim());
            if !v.is_empty() && !known_base(h) {
                q.extra.insert(h.clone(), v.to_string());
            }
        }
        if q.kind.is_container() {
            stack.push(q);
            siblings.push(HashMap::new());
        } else {
            stack.last_mut().expect("root").children.push(q);
        }
    }
    while stack.len() > 1 {
        let q = stack.pop().expect("len > 1");
        let (kind, expected) = if q.kind == QuestionType::Group {
            ("group", "end_group")
        } else {
            ("repeat", "end_repeat")
        };
        ctx.err(
            "survey",
            q.row,
            Some("type"),
            ErrorKind::Unclosed {
                kind: kind.into(),
                name: q.name.clone(),
                expected: expected.into(),
            },
        );
        stack.last_mut().expect("root").children.push(q);
    }
    // the errors of the rows (loops were written out first), in row order
    ctx.errors[survey_errors..].sort_by_key(|e| e.row);
    let mut questions = stack.pop().expect("root").children;
    for q in &mut questions {
        set_paths(q, "");
    }

    // references
    let mut by_name: HashMap<&str, Vec<&Question>> = HashMap::new();
    for q in &questions {
        q.walk(&mut |q| by_name.entry(q.name.as_str()).or_default().push(q));
    }
    for (row, col, names) in &ctx.refs.clone() {
        for n in names {
            match by_name.get(n.as_str()).map_or(0, Vec::len) {
                0 => ctx.err(
                    "survey",
                    *row,
                    Some(col),
                    ErrorKind::UnknownReference(n.clone()),
                ),
                1 => {}
                _ => ctx.err(
                    "survey",
                    *row,
                    Some(col),
                    ErrorKind::AmbiguousReference(n.clone()),
                ),
            }
        }
    }

    // indexed-repeat(${q}, ${r}, n, …): each r must be a repeat that contains q
    for (row, col, question, repeats) in std::mem::take(&mut ctx.indexed) {
        let Some([target]) = by_name.get(question.as_str()).map(Vec::as_slice) else {
            continue; // unknown or ambiguous: reported above
        };
        for r in repeats {
            let Some([rep]) = by_name.get(r.as_str()).map(Vec::as_slice) else {
                continue;
            };
            let contains = target.path.starts_with(&format!("{}/", rep.path));
            if rep.kind != QuestionType::Repeat || !contains {
                ctx.err(
                    "survey",
                    row,
                    Some(&col),
                    ErrorKind::Invalid(format!(
                        "indexed-repeat(): ${{{r}}} is not a repeat that contains ${{{question}}}"
                    )),
                );
            }
        }
    }

    // cycles among value-producing expressions (calculation, relevant, repeat_count)
    if ctx.errors.is_empty() {
        let mut edges: BTreeMap<&str, Vec<(&str, &'static str)>> = BTreeMap::new();
        let mut rows: HashMap<&str, usize> = HashMap::new();
        for q in &questions {
            q.walk(&mut |q| {
                rows.insert(&q.name, q.row);
                let e = edges.entry(&q.name).or_default();
                for (x, col) in [
                    (&q.calculation, "calculation"),
                    (&q.relevant, "relevant"),
                    (&q.repeat_count, "repeat_count"),
                ] {
                    if let Some(x) = x {
                        for r in x.ast.references() {
                            if let Some(target) = by_name.get(r.as_str()) {
                                e.push((target[0].name.as_str(), col));
                            }
                        }
                    }
                }
            });
        }
        if let Some((cycle, col)) = find_cycle(&edges) {
            let row = rows.get(cycle[0].as_str()).copied();
            ctx.errors.push(FormError::new(
                "survey",
                row,
                Some(col),
                ErrorKind::Cycle(cycle),
            ));
        }
    }

    // the files the form reads: each one not attached is a warning here (pyxform converts
    // such a form; the file is needed when it is filled in, and the content pack and the
    // server refuse a form published without it)
    let mut needs_files = BTreeSet::new();
    for (row, col, file) in std::mem::take(&mut ctx.files) {
        if !data_files.contains_key(&file) && !needs_files.contains(&file) {
            let csv = file.to_ascii_lowercase().ends_with(".csv");
            ctx.warn(
                "survey",
                row,
                Some(&col),
                if csv {
                    format!("the file '{file}' is not attached to the form: it must be published with it (its choices and values are empty until then)")
                } else {
                    format!("the file '{file}' is not attached to the form, and Stopover reads CSV files only: attach the list as a CSV file (columns name, label) and name it in the type (its choices are empty until then)")
                },
            );
        }
        needs_files.insert(file);
    }

    if !ctx.errors.is_empty() {
        return Err(FormErrors(ctx.errors));
    }
    ctx.warnings.sort_by_key(|w| w.row);
    let mut languages: Vec<String> = ctx.langs.into_iter().collect();
    languages.sort_by_key(|l| l == DEFAULT_LANG); // named languages first
    Ok(Form {
        settings,
        questions,
        choices,
        languages,
        files: data_files,
        needs_files,
        warnings: ctx.warnings,
    })
}

fn find_cycle<'a>(
    edges: &BTreeMap<&'a str, Vec<(&'a str, &'static str)>>,
) -> Option<(Vec<String>, &'static str)> {
    // 0 = unvisited, 1 = on stack, 2 = done
    let mut state: HashMap<&str, u8> = HashMap::new();
    fn dfs<'a>(
        n: &'a str,
        edges: &BTreeMap<&'a str, Vec<(&'a str, &'static str)>>,
        state: &mut HashMap<&'a str, u8>,
        path: &mut Vec<(&'a str, &'static str)>,
    ) -> Option<(Vec<String>, &'static str)> {
        state.insert(n, 1);
        for &(m, col) in edges.get(n).map_or(&[][..], Vec::as_slice) {
            path.push((n, col));
            match state.get(m).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|(p, _)| *p == m).unwrap_or(0);
                    let mut names: Vec<String> =
                        path[start..].iter().map(|(p, _)| p.to_string()).collect();
                    names.push(m.to_string());
                    return Some((names, path[start].1));
                }
                0 => {
                    if let Some(c) = dfs(m, edges, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
            path.pop();
        }
        state.insert(n, 2);
        None
    }
    for n in edges.keys() {
        if state.get(n).copied().unwrap_or(0) == 0
            && let Some(c) = dfs(n, edges, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

fn set_paths(q: &mut Question, prefix: &str) {
    q.path = if prefix.is_empty() {
        q.name.clone()
    } else {
        format!("{prefix}/{}", q.name)
    };
    let p = q.path.clone();
    for c in &mut q.children {
        set_paths(c, &p);
    }
}

fn blank(kind: QuestionType, name: &str, row: usize) -> Question {
    Question {
        kind,
        name: name.to_string(),
        path: String::new(),
        row,
        label: Translated::default(),
        hint: Translated::default(),
        required: Flag::Always(false),
        required_message: Translated::default(),
        relevant: None,
        constraint: None,
        constraint_message: Translated::default(),
        calculation: None,
        default: None,
        read_only: Flag::Always(false),
        choice_filter: None,
        repeat_count: None,
        appearance: None,
        or_other: false,
        parameters: None,
        extra: BTreeMap::new(),
        children: Vec::new(),
    }
}

/// `%(name)s`, `%(label)s` and `%(COLUMN)s` in a loop's rows, as pyxform fills them in.
fn substitute(text: &str, value: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("%(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after
            .find(")s")
            .and_then(|end| Some((end, value(&after[..end])?)))
        {
            Some((end, v)) => {
                out.push_str(&v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("%(");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// pyxform's `begin loop over LIST` … `end loop`: a group named after the loop holding, for
/// each choice of LIST (but `none`), a group named after the choice and labelled with its
/// label, with a copy of the loop's rows in which `%(name)s`, `%(label)s` (in each label
/// column's language) and `%(COLUMN)s` are the choice's. Rows outside loops are kept as they
/// are; loops inside loops are written out first.
fn expand_loops(
    sheet: &Sheet,
    cols: &Cols,
    choices: &BTreeMap<String, Vec<Choice>>,
    ctx: &mut Ctx,
) -> Sheet {
    let tc = cols.idx("type");
    let has_loop = sheet
        .rows
        .iter()
        .any(|r| loop_begin(sheet.cell(r, tc)).is_some() || loop_end(sheet.cell(r, tc)));
    if !has_loop {
        return sheet.clone();
    }
    let mut out = sheet.clone();
    out.rows = expand_rows(&sheet.rows, sheet, cols, choices, ctx);
    out
}

fn expand_rows(
    rows: &[super::Row],
    sheet: &Sheet,
    cols: &Cols,
    choices: &BTreeMap<String, Vec<Choice>>,
    ctx: &mut Ctx,
) -> Vec<super::Row> {
    let (tc, nc) = (cols.idx("type"), cols.idx("name"));
    let width = cols.headers.len();
    let typed = |r: &super::Row, t: &str| {
        let mut r = r.clone();
        if let Some(c) = tc {
            r.cells.resize(r.cells.len().max(width), String::new());
            r.cells[c] = t.to_string();
        }
        r
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let r = &rows[i];
        let t = sheet.cell(r, tc);
        if loop_end(t) {
            ctx.err(
                "survey",
                r.row,
                Some("type"),
                ErrorKind::Unmatched {
                    found: "end loop".into(),
                    expected: "begin loop over LIST".into(),
                },
            );
            i += 1;
            continue;
        }
        let Some(list) = loop_begin(t) else {
            out.push(r.clone());
            i += 1;
            continue;
        };
        // the matching `end loop`
        let mut depth = 1;
        let mut j = i + 1;
        while j < rows.len() {
            let tj = sheet.cell(&rows[j], tc);
            if loop_begin(tj).is_some() {
                depth += 1;
            } else if loop_end(tj) {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            j += 1;
        }
        let name = sheet.cell(r, nc).to_string();
        if j >= rows.len() {
            ctx.err(
                "survey",
                r.row,
                Some("type"),
                ErrorKind::Unclosed {
                    kind: "loop".into(),
                    name,
                    expected: "end loop".into(),
                },
            );
            i += 1;
            continue;
        }
        let body = expand_rows(&rows[i + 1..j], sheet, cols, choices, ctx);
        let end_row = rows[j].row;
        i = j + 1;
        let list_choices = match list.as_deref().map(|l| (l, choices.get(l))) {
            None => {
                ctx.err(
                    "survey",
                    r.row,
                    Some("type"),
                    ErrorKind::Invalid("a loop needs a choice list: begin loop over LIST".into()),
                );
                continue;
            }
            Some((l, None)) => {
                ctx.err(
                    "survey",
                    r.row,
                    Some("type"),
                    ErrorKind::UnknownChoiceList(l.to_string()),
                );
                continue;
            }
            Some((_, Some(c))) => c,
        };
        out.push(typed(r, "begin group"));
        for choice in list_choices.iter().filter(|c| c.name != "none") {
            let mut group = super::Row {
                row: r.row,
                cells: vec![String::new(); width],
            };
            if let (Some(t), Some(n)) = (tc, nc) {
                group.cells[t] = "begin group".into();
                group.cells[n] = choice.name.clone();
            }
            for (k, h) in cols.headers.iter().enumerate() {
                if let Some(lang) = lang_of(h, "label") {
                    group.cells[k] = choice.label.get(&lang, None).unwrap_or("").to_string();
                }
            }
            out.push(group);
            for b in &body {
                let mut b = b.clone();
                for (k, cell) in b.cells.iter_mut().enumerate() {
                    if !cell.contains("%(") {
                        continue;
                    }
                    let lang = cols
                        .headers
                        .get(k)
                        .and_then(|h| lang_of(h, "label"))
                        .unwrap_or_else(|| DEFAULT_LANG.to_string());
                    *cell = substitute(cell, &|key| match key {
                        "name" => Some(choice.name.clone()),
                        "label" => Some(choice.label.get(&lang, None).unwrap_or("").to_string()),
                        other => choice.extra.get(other).cloned(),
                    });
                }
                out.push(b);
            }
            out.push(typed(
                &super::Row {
                    row: end_row,
                    cells: Vec::new(),
                },
                "end group",
            ));
        }
        out.push(typed(
            &super::Row {
                row: end_row,
                cells: Vec::new(),
            },
            "end group",
        ));
    }
    out
}

/// The `search(…)` call in an appearance (`search('fruits', 'matches', 'key', ${x})`), if any.
fn search_call(appearance: &str) -> Option<&str> {
    let start = appearance.find("search(")?;
    let rest = &appearance[start..];
    // the closing parenthesis, outside quotes
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, ')') => return Some(&rest[..=i]),
            _ => {}
        }
    }
    None
}

/// ODK's `search()` appearance on a select: the choices are the rows of an attached CSV file
/// (offline, like `select_one_from_file`), their value and label in the columns the choice
/// list's placeholder row names (`name` = the value column, `label` = the label column), kept
/// to the rows matching the call's filters. Written here as a list of those rows and a
/// `choice_filter` (`matches` `=`, `contains`, `startswith`, `endswith`), so the app, the
/// checks and the exports treat it as any filtered list.
fn search_choices(
    ctx: &mut Ctx,
    row: usize,
    q: &mut Question,
    call: &str,
    choices: &mut BTreeMap<String, Vec<Choice>>,
    files: &BTreeMap<String, DataFile>,
) {
    let fail = |ctx: &mut Ctx, m: String| {
        ctx.err("survey", row, Some("appearance"), ErrorKind::Invalid(m));
    };
    let inside = &call["search(".len()..call.len() - 1];
    let args = match Expression::parse(&format!("concat({inside})")) {
        Ok(Expression {
            ast: crate::expr::Expr::Call(_, args),
            ..
        }) => args,
        Ok(_) => return,
        Err(e) => {
            return fail(ctx, format!("{call}: {}", e.message));
        }
    };
    use crate::expr::{BinOp, Expr};
    let text = |e: &Expr| match e {
        Expr::Str(s) => Some(s.trim().to_string()),
        _ => None,
    };
    let Some(instance) = args.first().and_then(text) else {
        return fail(
            ctx,
            format!("{call}: the first argument names the CSV file, in quotes"),
        );
    };
    if ![1, 4, 6].contains(&args.len()) {
        return fail(
            ctx,
            format!(
                "{call}: search() takes a file, then a mode, a column and a value, then optionally a second column and value"
            ),
        );
    }
    let file = crate::expr::data_file_name(&instance);
    ctx.files.push((row, "appearance".into(), file.clone()));
    let list = q.kind.list().unwrap_or_default().to_string();
    let Some(placeholder) = choices.get(&list).and_then(|c| c.first()).cloned() else {
        return; // an unknown list is reported with the type
    };
    // the filter: (mode, column, value) then (column, value) that must match
    let mut filter: Option<Expr> = None;
    let mut and = |e: Expr| {
        filter = Some(match filter.take() {
            Some(f) => Expr::Bin(BinOp::And, Box::new(f), Box::new(e)),
            None => e,
        })
    };
    if args.len() >= 4 {
        let (Some(mode), Some(column)) = (text(&args[1]), text(&args[2])) else {
            return fail(
                ctx,
                format!("{call}: the mode and the column are written in quotes"),
            );
        };
        let col = Expr::Column(column);
        let value = args[3].clone();
        and(match mode.to_lowercase().as_str() {
            "matches" => Expr::Bin(BinOp::Eq, Box::new(col), Box::new(value)),
            "contains" => Expr::Call("contains".into(), vec![col, value]),
            "startswith" => Expr::Call("starts-with".into(), vec![col, value]),
            "endswith" => Expr::Call("ends-with".into(), vec![col, value]),
            other => {
                return fail(
                    ctx,
                    format!(
                        "{call}: unknown mode '{other}' (matches, contains, startswith or endswith)"
                    ),
                );
            }
        });
    }
    if args.len() == 6 {
        let Some(column) = text(&args[4]) else {
            return fail(
                ctx,
                format!("{call}: the second column is written in quotes"),
            );
        };
        and(Expr::Bin(
            BinOp::Eq,
            Box::new(Expr::Column(column)),
            Box::new(args[5].clone()),
        ));
    }
    // the rows of the file, as choices
    let key = format!("{file}?search={list}");
    let mut rows = Vec::new();
    if let Some(data) = files.get(&file) {
        let Some(v) = data.column(&placeholder.name) else {
            return fail(
                ctx,
                format!(
                    "{file} has no column '{}' (named by the first choice of '{list}')",
                    placeholder.name
                ),
            );
        };
        let labels: Vec<(String, Option<usize>)> = placeholder
            .label
            .0
            .iter()
            .map(|(lang, col)| (lang.clone(), data.column(col)))
            .collect();
        for (n, r) in data.rows.iter().enumerate() {
            let mut label = Translated::default();
            for (lang, c) in &labels {
                if let Some(c) = c {
                    label.0.insert(lang.clone(), r[*c].clone());
                }
            }
            let extra = data
                .columns
                .iter()
                .cloned()
                .zip(r.iter().cloned())
                .collect();
            rows.push(Choice {
                name: r[v].clone(),
                label,
                extra,
                row: n + 2,
            });
        }
    }
    choices.insert(key.clone(), rows);
    q.kind = match q.kind {
        QuestionType::SelectMultiple(_) => QuestionType::SelectMultiple(key),
        _ => QuestionType::SelectOne(key),
    };
    if let Some(f) = filter {
        ctx.refs.push((row, "appearance".into(), f.references()));
        let ast = match q.choice_filter.take() {
            Some(existing) => Expr::Bin(BinOp::And, Box::new(existing.ast), Box::new(f)),
            None => f,
        };
        q.choice_filter = Some(Expression {
            source: ast.to_string(),
            ast,
        });
    }
}
