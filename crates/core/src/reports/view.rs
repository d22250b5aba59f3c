//! What the app needs to show a draft in the reader's language.
//!
//! Two parts, so that typing stays cheap: the [`DraftView`] (the form as a tree of sections and
//! questions, labels resolved, choice lists once) is fetched when a draft is opened; after each
//! change the UI only gets a [`ReportState`]: the core's [`LiveState`] plus what else changes
//! with answers (calculated values, rows per repeat, questions made read-only by an expression,
//! the choices a `choice_filter` currently allows).

use std::collections::BTreeMap;

use serde::Serialize;
use stopover_forms::expr::{Env, evaluate as eval_expr};
use stopover_forms::{Answers, Date, Flag, Form, FormState, Question, QuestionType, Value};

use super::answers::LiveState;
use super::drafts::{Draft, load};
use super::export_model::{CycleMeeting, reference};
use super::{evaluate, instances, load_form, today};
use crate::{Core, Result, check_language};

/// A report form of the content pack, for the "new report" choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FormSummary {
    pub id: String,
    pub version: String,
    /// In the reader's language, else the form's default language.
    pub title: String,
    /// The meeting the form's reporting cycles are named after (`COP`, `MOP`), from the form's
    /// setting `cycle_meeting`.
    pub cycle_meeting: Option<String>,
    /// The cycle to offer for a new report: the one after the latest cycle of this form's
    /// reports on this device, else the form's setting `next_cycle`; `None` when neither says.
    pub suggested_cycle: Option<String>,
}

/// One choice of a list, labelled in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChoiceView {
    pub name: String,
    pub label: String,
}

/// `range` parameters (XLSForm defaults: start 1, end 10, step 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RangeView {
    pub start: f64,
    pub end: f64,
    pub step: f64,
}

/// One question, group or repeat of the form (not one instance: a repeat's children describe
/// every row). Metadata fields (`start`, `deviceid`, …) are left out.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NodeView {
    pub name: String,
    /// Path of names from the top without row numbers (`appendix_i/app1_species/app1_sp_name`).
    pub path: String,
    /// `text`, `integer`, `decimal`, `range`, `date`, `select_one`, `select_multiple`, `rank`,
    /// `note`, `file`, `calculate`, `geopoint`, `geotrace`, `geoshape` (coordinates typed as
    /// text, see `stopover_forms::geo`), `group` or `repeat`. Other XLSForm input types
    /// (`time`, `barcode`, …) are answered as text.
    pub kind: &'static str,
    pub label: Option<String>,
    pub hint: Option<String>,
    /// Appearance words, e.g. `multiline`, `minimal`, `table-list`.
    pub appearance: Vec<String>,
    /// The choice list of a select or rank (a key of [`DraftView::choice_lists`]).
    pub list: Option<String>,
    /// `select_* … or_other`: an "other" choice with free text at `PATH_other`.
    pub or_other: bool,
    /// The allowed choices depend on other answers: see [`ReportState::choices`].
    pub choice_filter: bool,
    /// Always required (`required = yes`). Conditionally required questions show up in
    /// [`LiveState::required`] when they are.
    pub required: bool,
    /// Always read-only (`read_only = yes`, or a calculation). See [`ReportState::read_only`].
    pub read_only: bool,
    pub range: Option<RangeView>,
    /// A repeat whose rows follow from `repeat_count`: no add or remove buttons.
    pub fixed_rows: bool,
    /// Where the question sits in the official report format (the form's `reference` column,
    /// e.g. `III · T13`); `Stopover` for a drafting aid with no counterpart there.
    pub reference: Option<String>,
    pub children: Vec<NodeView>,
}

/// What changes with the answers, beyond [`LiveState`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportState {
    #[serde(flatten)]
    pub live: LiveState,
    /// Every relevant repeat (by base path, e.g. `appendix_i/app1_species`, or inside a row of
    /// an outer repeat) with its number of rows. A hidden repeat is absent.
    pub repeats: BTreeMap<String, usize>,
    /// Values computed by the form (calculations), by path, for relevant instances.
    pub computed: BTreeMap<String, String>,
    /// Visible answer paths that cannot be edited (`read_only`, calculations).
    pub read_only: Vec<String>,
    /// For visible instances of questions with a `choice_filter`: the choice names allowed now.
    pub choices: BTreeMap<String, Vec<String>>,
}

/// A draft opened for editing or reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DraftView {
    pub draft: Draft,
    /// The form's title in the reader's language.
    pub title: String,
    /// The top-level groups of the form in order. Questions outside any group are gathered, in
    /// order, into sections with an empty name.
    pub sections: Vec<NodeView>,
    /// Choice lists by name, labels in the reader's language.
    pub choice_lists: BTreeMap<String, Vec<ChoiceView>>,
    /// Every stored answer by path (hidden ones too, so they come back with their gate) and the
    /// defaults of questions not yet answered.
    pub values: Answers,
    pub state: ReportState,
}

/// The report forms of the content pack, by title.
pub fn list_forms(core: &Core, lang: &str) -> Result<Vec<FormSummary>> {
    let lang = check_language(lang)?;
    let conn = core.conn();
    let ids: Vec<String> = {
        let mut stmt = conn.prepare("SELECT id FROM report_form ORDER BY id")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let (version, form) = load_form(&conn, &id)?;
        let meeting = CycleMeeting::of(&form);
        let cycles: Vec<String> = {
            let mut stmt =
                conn.prepare_cached("SELECT cycle FROM report_draft WHERE form_id = ?1")?;
            stmt.query_map([&id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        out.push(FormSummary {
            title: form_title(&form, lang).unwrap_or_else(|| id.clone()),
            cycle_meeting: meeting.map(|m| m.prefix().to_string()),
            suggested_cycle: meeting.and_then(|m| suggest_cycle(&form, m, &cycles)),
            id,
            version,
        });
    }
    out.sort_by(|a, b| a.title.cmp(&b.title));
    Ok(out)
}

/// The session number of `cycle` if it is named after `meeting` (`COP15` → 15).
fn session_number(cycle: &str, meeting: CycleMeeting) -> Option<u32> {
    let digits = cycle.trim().to_ascii_uppercase();
    let digits = digits.strip_prefix(meeting.prefix())?.to_string();
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The cycle after the latest of `cycles` named after `meeting`, else the form's `next_cycle`
/// when it is named after `meeting`.
fn suggest_cycle(form: &Form, meeting: CycleMeeting, cycles: &[String]) -> Option<String> {
    let latest = cycles
        .iter()
        .filter_map(|c| session_number(c, meeting))
        .max();
    if let Some(n) = latest {
        return Some(format!("{}{}", meeting.prefix(), n + 1));
    }
    let next = form.settings.extra.get("next_cycle")?;
    session_number(next, meeting).map(|n| format!("{}{n}", meeting.prefix()))
}

pub(crate) fn form_title(form: &Form, lang: &str) -> Option<String> {
    form.settings
        .title
        .get(lang, Some(form.default_language()))
        .map(str::to_string)
}

/// Opens a draft: the form in `lang` (`en`, `fr` or `es`, falling back to the form's default
/// language per text), its answers and its state.
pub fn open_draft(core: &Core, draft_id: &str, lang: &str) -> Result<DraftView> {
    let lang = check_language(lang)?;
    let live = super::live_state(core, draft_id)?;
    let conn = core.conn();
    let draft = load(&conn, draft_id)?;
    let (_, form) = load_form(&conn, &draft.form_id)?;
    let state = evaluate(&conn, draft_id, form.clone())?;
    let fallback = Some(form.default_language());
    let choice_lists = form
        .choices
        .iter()
        .map(|(list, choices)| {
            let choices = choices
                .iter()
                .map(|c| ChoiceView {
                    name: c.name.clone(),
                    label: c.label.get(lang, fallback).unwrap_or(&c.name).to_string(),
                })
                .collect();
            (list.clone(), choices)
        })
        .collect();
    Ok(DraftView {
        title: form_title(&form, lang).unwrap_or_else(|| draft.form_id.clone()),
        sections: sections(&form, lang),
        choice_lists,
        values: state.answers().clone(),
        state: extend(&form, &state, live),
        draft,
    })
}

/// The draft's state after a change, from the [`LiveState`] the change returned.
pub fn report_state(core: &Core, draft_id: &str, live: LiveState) -> Result<ReportState> {
    let conn = core.conn();
    let draft = load(&conn, draft_id)?;
    let (_, form) = load_form(&conn, &draft.form_id)?;
    let state = evaluate(&conn, draft_id, form.clone())?;
    Ok(extend(&form, &state, live))
}

/// The draft's answers as [`DraftView::values`] has them (after a repeat row was added, removed
/// or moved, the paths of later rows change).
pub fn draft_values(core: &Core, draft_id: &str) -> Result<Answers> {
    let conn = core.conn();
    let draft = load(&conn, draft_id)?;
    let (_, form) = load_form(&conn, &draft.form_id)?;
    Ok(evaluate(&conn, draft_id, form)?.answers().clone())
}

fn kind_name(kind: &QuestionType) -> &'static str {
    match kind {
        QuestionType::Integer => "integer",
        QuestionType::Decimal => "decimal",
        QuestionType::Range => "range",
        QuestionType::Date => "date",
        QuestionType::SelectOne(_) => "select_one",
        QuestionType::SelectMultiple(_) => "select_multiple",
        QuestionType::Rank(_) => "rank",
        QuestionType::Note => "note",
        QuestionType::File => "file",
        QuestionType::Calculate => "calculate",
        QuestionType::Geopoint => "geopoint",
        QuestionType::Geotrace => "geotrace",
        QuestionType::Geoshape => "geoshape",
        QuestionType::Group => "group",
        QuestionType::Repeat => "repeat",
        QuestionType::Text | QuestionType::Other(_) | QuestionType::Metadata(_) => "text",
    }
}

/// `start=1 end=5 step=1` (any order, any subset, any case: pyxform reads `Start=3 End=14`);
/// unreadable numbers keep the default.
fn range_of(q: &Question) -> RangeView {
    let mut r = RangeView {
        start: 1.0,
        end: 10.0,
        step: 1.0,
    };
    for pair in q.parameters.as_deref().unwrap_or("").split_whitespace() {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let Ok(n) = value.trim().parse::<f64>() else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "start" => r.start = n,
            "end" => r.end = n,
            "step" if n > 0.0 => r.step = n,
            _ => {}
        }
    }
    r
}

fn node(q: &Question, lang: &str, fallback: Option<&str>) -> Option<NodeView> {
    if matches!(q.kind, QuestionType::Metadata(_)) {
        return None;
    }
    let text = |t: &stopover_forms::Translated| {
        t.get(lang, fallback)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Some(NodeView {
        name: q.name.clone(),
        path: q.path.clone(),
        kind: kind_name(&q.kind),
        label: text(&q.label),
        hint: text(&q.hint),
        appearance: q
            .appearance
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        list: q.kind.list().map(str::to_string),
        or_other: q.or_other,
        choice_filter: q.choice_filter.is_some(),
        required: q.required == Flag::Always(true),
        read_only: q.read_only == Flag::Always(true) || q.calculation.is_some(),
        range: (q.kind == QuestionType::Range).then(|| range_of(q)),
        fixed_rows: q.repeat_count.is_some(),
        reference: reference(q),
        children: q
            .children
            .iter()
            .filter_map(|c| node(c, lang, fallback))
            .collect(),
    })
}

/// Top-level groups as sections; runs of loose top-level questions as unnamed sections.
fn sections(form: &Form, lang: &str) -> Vec<NodeView> {
    let fallback = Some(form.default_language());
    let mut out: Vec<NodeView> = Vec::new();
    for q in &form.questions {
        let Some(n) = node(q, lang, fallback) else {
            continue;
        };
        if q.kind == QuestionType::Group {
            out.push(n);
        } else if let Some(last) = out.last_mut().filter(|s| s.name.is_empty()) {
            last.children.push(n);
        } else {
            out.push(NodeView {
                name: String::new(),
                path: String::new(),
                kind: "group",
                label: None,
                hint: None,
                appearance: Vec::new(),
                list: None,
                or_other: false,
                choice_filter: false,
                required: false,
                read_only: false,
                range: None,
                fixed_rows: false,
                reference: None,
                children: vec![n],
            });
        }
    }
    out
}

/// The parent instance path of a path (`a/b[2]/c` → `a/b[2]`), `""` at the top.
fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

fn extend(form: &Form, state: &FormState, live: LiveState) -> ReportState {
    let all = instances(form, state);
    let mut repeats = BTreeMap::new();
    let mut computed = BTreeMap::new();
    let mut read_only = Vec::new();
    let mut choices = BTreeMap::new();
    // Repeat bases: the top-level repeats, and the repeats inside every group or row instance
    // (found this way also when they have no rows yet).
    let mut bases: Vec<(&Question, String)> = form
        .questions
        .iter()
        .filter(|q| q.kind == QuestionType::Repeat)
        .map(|q| (q, q.name.clone()))
        .collect();
    for (q, path) in &all {
        if q.kind.is_container() {
            bases.extend(
                q.children
                    .iter()
                    .filter(|c| c.kind == QuestionType::Repeat)
                    .map(|c| (c, format!("{path}/{}", c.name))),
            );
        }
    }
    for (q, base) in bases {
        let rows = state.repeat_count(&base);
        let parent = parent_of(&base);
        let relevant = if rows > 0 {
            (1..=rows).any(|i| state.is_relevant(&format!("{base}[{i}]")))
        } else {
            (parent.is_empty() || state.is_relevant(parent))
                && q.relevant.as_ref().is_none_or(|e| {
                    let env = Context {
                        form,
                        state,
                        all: &all,
                        at: parent,
                    };
                    eval_expr(&e.ast, &env).as_bool()
                })
        };
        if relevant {
            repeats.insert(base, rows);
        }
    }
    for (q, path) in &all {
        if !state.is_relevant(path) {
            continue;
        }
        if q.kind == QuestionType::Calculate || (q.kind.is_input() && q.calculation.is_some()) {
            computed.insert(path.clone(), state.value(path));
        }
        if q.kind.is_input() && state.is_read_only(path) {
            read_only.push(path.clone());
        }
        if q.choice_filter.is_some() {
            let names = state
                .choices(path)
                .into_iter()
                .map(|c| c.name)
                .filter(|n| !(q.or_other && n == "other"))
                .collect();
            choices.insert(path.clone(), names);
        }
    }
    ReportState {
        live,
        repeats,
        computed,
        read_only,
        choices,
    }
}

/// Evaluates the `relevant` of a repeat that has no rows yet, in its parent's instance (the
/// engine only evaluates expressions per row, and an empty repeat has none).
struct Context<'a> {
    form: &'a Form,
    state: &'a FormState,
    all: &'a [(&'a Question, String)],
    /// The parent instance path (`""` at the top).
    at: &'a str,
}

impl Context<'_> {
    /// Whether the row numbers in `path` agree with the context's wherever both pass through
    /// the same repeat; `Some(true)` when every repeat of `path` is one of the context's.
    fn in_scope(&self, path: &str) -> Option<bool> {
        let ctx: Vec<&str> = if self.at.is_empty() {
            Vec::new()
        } else {
            self.at.split('/').collect()
        };
        let mut single = true;
        for (i, seg) in path.split('/').enumerate() {
            if !seg.contains('[') {
                continue;
            }
            match ctx.get(i) {
                Some(c) if *c == seg => {}
                Some(c) if c.split('[').next() == seg.split('[').next() => return None,
                _ => single = false,
            }
        }
        Some(single)
    }

    fn value(&self, path: &str) -> String {
        if self.state.is_relevant(path) {
            self.state.value(path)
        } else {
            String::new()
        }
    }
}

impl Env for Context<'_> {
    fn reference(&self, name: &str) -> Value {
        let Some(target) = self.form.question(name) else {
            return Value::Str(String::new());
        };
        let mut nodes = Vec::new();
        for (q, path) in self.all {
            if !std::ptr::eq(*q, target) {
                continue;
            }
            match self.in_scope(path) {
                Some(true) if q.kind != QuestionType::Repeat => {
                    return Value::Str(self.value(path));
                }
                Some(_) => nodes.push(self.value(path)),
                None => {}
            }
        }
        Value::Nodes(nodes)
    }

    fn current(&self) -> Value {
        Value::Str(String::new())
    }

    fn position(&self) -> Option<usize> {
        let seg = self.at.rsplit('/').next()?;
        seg.split_once('[')?.1.strip_suffix(']')?.parse().ok()
    }

    fn today(&self) -> Date {
        today()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_parameters_fall_back_to_the_xlsform_defaults() {
        let form = stopover_forms::load_text(
            "[survey]\ntype | name | label | parameters\nrange | a | A | start=0 end=100 step=5\nrange | b | B | end=x step=-1\nrange | c | C | Start=3 End=14 STEP=2\n",
        )
        .unwrap();
        let a = range_of(form.question("a").unwrap());
        assert_eq!((a.start, a.end, a.step), (0.0, 100.0, 5.0));
        let b = range_of(form.question("b").unwrap());
        assert_eq!((b.start, b.end, b.step), (1.0, 10.0, 1.0));
        let c = range_of(form.question("c").unwrap());
        assert_eq!((c.start, c.end, c.step), (3.0, 14.0, 2.0));
    }

    fn live() -> LiveState {
        LiveState {
            draft_id: "d".into(),
            visible: Vec::new(),
            required: Vec::new(),
            issues: Vec::new(),
            completion: Default::default(),
        }
    }

    fn state(src: &str, answers: &[(&str, &str)]) -> (std::sync::Arc<Form>, FormState) {
        let form = std::sync::Arc::new(stopover_forms::load_text(src).unwrap());
        let answers = answers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let st = FormState::new(
            form.clone(),
            answers,
            stopover_forms::EvalContext { today: today() },
        );
        (form, st)
    }

    const NESTED: &str = "[survey]
type | name | label | relevant | read_only | calculation
text | country | Country
begin_group | sp | Species
begin_repeat | species | Species
select_one yn | tracked | Tracked?
begin_repeat | tags | Tags | ${tracked} = 'yes'
text | tag_id | Tag
end_repeat | tags
text | code | Code | | ${tracked} = 'no'
text | upper | Upper | | | concat(${country}, '!')
end_repeat | species
end_group | sp
start | started
[choices]
list_name | name | label
yn | yes | Yes
yn | no | No
";

    #[test]
    fn an_empty_repeat_inside_a_row_is_relevant_by_that_rows_answers() {
        let (form, st) = state(
            NESTED,
            &[
                ("country", "Chad"),
                ("sp/species[1]/tracked", "yes"),
                ("sp/species[2]/tracked", "no"),
            ],
        );
        let s = extend(&form, &st, live());
        assert_eq!(s.repeats.get("sp/species"), Some(&2));
        assert_eq!(s.repeats.get("sp/species[1]/tags"), Some(&0));
        assert!(
            !s.repeats.contains_key("sp/species[2]/tags"),
            "{:?}",
            s.repeats
        );
        // read-only by expression in row 2 only; a calculated input is read-only everywhere
        assert_eq!(
            s.read_only,
            [
                "sp/species[1]/upper",
                "sp/species[2]/code",
                "sp/species[2]/upper"
            ]
        );
        assert_eq!(s.computed["sp/species[1]/upper"], "Chad!");
    }

    #[test]
    fn loose_top_level_questions_form_unnamed_sections_and_metadata_is_left_out() {
        let (form, _) = state(NESTED, &[]);
        let sections = sections(&form, "en");
        let names: Vec<&str> = sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["", "sp"]);
        assert_eq!(
            sections[0].children.len(),
            1,
            "`started` (metadata) is left out"
        );
        assert_eq!(sections[0].children[0].name, "country");
        let species = &sections[1].children[0];
        assert_eq!(species.kind, "repeat");
        assert_eq!(species.children[1].kind, "repeat");
        assert_eq!(species.children[1].path, "sp/species/tags");
    }

    #[test]
    fn parent_paths() {
        assert_eq!(parent_of("a/b[2]/c"), "a/b[2]");
        assert_eq!(parent_of("a"), "");
    }
}
