use super::{Sheet, Sheets, normalize_header};
use crate::error::{ErrorKind, FormError, FormErrors};
use crate::expr::Expression;
use crate::model::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};

const METADATA: &[&str] = &[
    "start",
    "end",
    "today",
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "start-geopoint",
    "background-geopoint",
    "uri:subscriberid",
    "uri:email",
    "uri:deviceid",
    "uri:simserial",
    "uri:phonenumber",
    "uri:username",
];
const OTHER_INPUTS: &[&str] = &[
    "time",
    "datetime",
    "geopoint",
    "geotrace",
    "geoshape",
    "barcode",
    "acknowledge",
    "hidden",
    "image",
    "audio",
    "video",
    "background-audio",
    "xml-external",
    "csv-external",
];

enum Parsed {
    Kind(QuestionType, bool),
    EndGroup,
    EndRepeat,
    /// A type XLSForm (or pyxform) knows that this engine refuses on purpose, with the
    /// reason. `opens` says whether it opens a block (closed later by an `end …` row).
    Refused {
        reason: String,
        opens: bool,
    },
}

/// pyxform's spellings of the select types, longest first: (words, multiple?).
const SELECT_PREFIXES: &[(&[&str], bool)] = &[
    (&["add", "select", "one", "prompt", "using"], false),
    (&["add", "select", "multiple", "prompt", "using"], true),
    (&["select", "all", "that", "apply", "from"], true),
    (&["select", "all", "that", "apply"], true),
    (&["select", "one", "from"], false),
    (&["select", "one"], false),
    (&["select_one"], false),
    (&["select1"], false),
    (&["select_multiple"], true),
    (&["select_many"], true),
];

/// `LIST`, `LIST or_other` or `LIST or specify other`: the list and whether "other" is added.
fn list_and_other(rest: &[String]) -> Option<(String, bool)> {
    match rest {
        [l] => Some((l.clone(), false)),
        [l, o] if o == "or_other" => Some((l.clone(), true)),
        [l, a, b, c] if a == "or" && b == "specify" && c == "other" => Some((l.clone(), true)),
        _ => None,
    }
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
    match first.as_str() {
        "select_one_external" | "select_multiple_external" => {
            return refused(
                "choices from an external CSV file (the external_choices sheet) cannot be carried by a Stopover form; put them on the choices sheet and use choice_filter",
                false,
            );
        }
        "select_one_from_file" | "select_multiple_from_file" => {
            return refused(
                "choices from a file attached to the form cannot be carried by a Stopover form; put them on the choices sheet",
                false,
            );
        }
        "cascading_select" => {
            return refused(
                "the old cascading_select type (with a cascades sheet); use select_one with a choice_filter",
                false,
            );
        }
        _ => {}
    }
    // `select one from file X.csv`, `select multiple from file X.csv`
    if words.len() >= 4 && words[0] == "select" && words[2] == "from" && words[3] == "file" {
        return refused(
            "choices from a file attached to the form cannot be carried by a Stopover form; put them on the choices sheet",
            false,
        );
    }
    if words.len() >= 2 && words[0] == "cascading" && words[1] == "select" {
        return refused(
            "the old cascading_select type (with a cascades sheet); use select_one with a choice_filter",
            false,
        );
    }
    for (prefix, multiple) in SELECT_PREFIXES {
        if words.len() > prefix.len() && words[..prefix.len()] == prefix[..] {
            let (l, o) = list_and_other(&kept(prefix.len()))?;
            let kind = if *multiple {
                QuestionType::SelectMultiple(l)
            } else {
                QuestionType::SelectOne(l)
            };
            return Some(Parsed::Kind(kind, o));
        }
    }
    Some(match (first.as_str(), &words[1..]) {
        ("rank", _) => {
            let (l, _) = list_and_other(&kept(1))?;
            Parsed::Kind(QuestionType::Rank(l), false)
        }
        ("begin", [g]) if g == "group" => Parsed::Kind(QuestionType::Group, false),
        ("begin", [r]) if r == "repeat" => Parsed::Kind(QuestionType::Repeat, false),
        ("begin", [a, b]) if a == "looped" && b == "group" => {
            Parsed::Kind(QuestionType::Repeat, false)
        }
        ("begin", [l]) if l == "lgroup" => Parsed::Kind(QuestionType::Repeat, false),
        ("begin", [l, o, _]) if l == "loop" && o == "over" => {
            return refused(
                "pyxform's 'begin loop over LIST' (one generated group per choice, with %(label)s in labels); use a repeat, or one group per choice",
                true,
            );
        }
        ("end", [g]) if g == "group" => Parsed::EndGroup,
        ("end", [r]) if r == "repeat" || r == "lgroup" => Parsed::EndRepeat,
        ("end", [a, b]) if a == "looped" && b == "group" => Parsed::EndRepeat,
        // closes a refused loop: the form is refused already, keep the structure balanced
        ("end", [l]) if l == "loop" => Parsed::EndGroup,
        (w, []) => Parsed::Kind(
            match w {
                "text" | "string" => QuestionType::Text,
                "integer" | "int" => QuestionType::Integer,
                "trigger" => QuestionType::Other("acknowledge".into()),
                "imei" => QuestionType::Metadata("deviceid".into()),
                "photo" => QuestionType::Other("image".into()),
                "decimal" => QuestionType::Decimal,
                "range" => QuestionType::Range,
                "date" => QuestionType::Date,
                "note" => QuestionType::Note,
                "file" => QuestionType::File,
                "calculate" => QuestionType::Calculate,
                "begin_group" => QuestionType::Group,
                "begin_repeat" => QuestionType::Repeat,
                "end_group" => return Some(Parsed::EndGroup),
                "end_repeat" => return Some(Parsed::EndRepeat),
                "end_loop" => return Some(Parsed::EndGroup),
                m if METADATA.contains(&m) => QuestionType::Metadata(m.to_string()),
                o if OTHER_INPUTS.contains(&o) => QuestionType::Other(o.to_string()),
                _ => return None,
            },
            false,
        ),
        _ => return None,
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
}

impl Ctx {
    fn err(&mut self, sheet: &str, row: usize, col: Option<&str>, kind: ErrorKind) {
        self.errors
            .push(FormError::new(sheet, Some(row), col, kind));
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

/// Check the sheets and build a [`Form`], collecting every error found.
pub fn build(sheets: &Sheets) -> Result<Form, FormErrors> {
    let mut ctx = Ctx {
        errors: Vec::new(),
        langs: BTreeSet::new(),
        refs: Vec::new(),
        indexed: Vec::new(),
    };

    // choices
    let mut choices: BTreeMap<String, Vec<Choice>> = BTreeMap::new();
    if let Some(sheet) = &sheets.choices {
        let cols = Cols::new(sheet);
        let (lc, nc) = (cols.idx("list_name"), cols.idx("name"));
        for (c, col) in [(lc, "list_name"), (nc, "name")] {
            if c.is_none() {
                ctx.errors.push(FormError::new(
                    "choices",
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
                ctx.err("choices", r.row, Some("name"), ErrorKind::MissingName);
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
    }

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
    let get = |r, n| get(sheet, &cols, r, n);
    // stack of open containers; the bottom is the root.
    let mut stack: Vec<Question> = vec![blank(QuestionType::Group, "", 0)];
    let mut siblings: Vec<HashMap<String, usize>> = vec![HashMap::new()];
    for r in &sheet.rows {
        let t = get(r, "type");
        let name = get(r, "name");
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
        let (kind, or_other) = match parsed {
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
            Parsed::Kind(k, o) => (k, o),
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
                (QuestionType::Group, false)
            }
        };
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
        if let Some(list) = kind.list()
            && !choices.contains_key(list)
        {
            ctx.err(
                "survey",
                r.row,
                Some("type"),
                ErrorKind::UnknownChoiceList(list.to_string()),
            );
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
        q.parameters = Some(get(r, "parameters").to_string()).filter(|s| !s.is_empty());
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

    if !ctx.errors.is_empty() {
        return Err(FormErrors(ctx.errors));
    }
    let mut languages: Vec<String> = ctx.langs.into_iter().collect();
    languages.sort_by_key(|l| l == DEFAULT_LANG); // named languages first
    Ok(Form {
        settings,
        questions,
        choices,
        languages,
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
