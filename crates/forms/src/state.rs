//! Live evaluation state of a form over a set of answers.
//!
//! Answer paths are slash-separated names from the top, with a 1-based `[n]` after each repeat:
//! `general/country`, `species[2]/status`, `species[2]/sites[1]/area`. Values are strings as
//! XForms stores them: numbers in decimal, dates `YYYY-MM-DD`, `select_multiple` as
//! space-separated choice names, `rank` as space-separated names in order, files as a reference
//! (e.g. a SHA-256). The free text of `or_other` is stored at `PATH_other`.

use crate::expr::{Date, Env, Expr, Value, evaluate};
use crate::model::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Answers by answer path.
pub type Answers = BTreeMap<String, String>;

/// What evaluation needs from outside: the date `today()` returns (never read from the clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalContext {
    pub today: Date,
}

struct Def {
    q: Question, // children cleared
    parent: Option<usize>,
    /// Repeat defs on the chain from the top to this def (this def included if it is a repeat).
    repeats: Vec<usize>,
    /// Defs on the chain from the top to this def, this def included.
    chain: Vec<usize>,
    /// Top-level group this def is in (its section), if any.
    section: Option<usize>,
}

/// Kind of a validation issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    Required,
    Constraint,
    /// Not a valid value for the question type (integer, decimal, date, choice).
    Invalid,
}

/// A validation issue on one answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Issue {
    pub path: String,
    pub kind: IssueKind,
    pub message: String,
}

/// Answered / total of the relevant input questions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "AnswerProgress"))]
pub struct Progress {
    pub answered: usize,
    pub total: usize,
    pub required_missing: usize,
}

impl Progress {
    /// Fraction answered, 1.0 when there is nothing to answer.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.answered as f64 / self.total as f64
        }
    }
}

/// Completion per section (top-level group) and overall.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Completion {
    pub sections: Vec<(String, Progress)>,
    pub overall: Progress,
}

/// Live state: relevance, requiredness, constraints, calculations, repeat counts.
pub struct FormState {
    form: Arc<Form>,
    ctx: EvalContext,
    defs: Vec<Def>,
    by_name: HashMap<String, usize>,
    by_path: HashMap<String, usize>,
    /// Choice list → choice name → index in the list, so checking an answer against a list
    /// of thousands of choices (a species list from a file) costs one lookup.
    choice_index: HashMap<String, HashMap<String, Vec<usize>>>,
    dependents: Vec<Vec<usize>>,
    order_pos: Vec<usize>,
    answers: Answers,
    counts: HashMap<String, usize>,
    relevant: HashMap<String, bool>,
    calc: HashMap<String, String>,
    required: HashMap<String, bool>,
    read_only: HashMap<String, bool>,
    constraint_failed: HashSet<String>,
}

fn strip_indices(path: &str) -> (String, Vec<usize>) {
    let mut plain = Vec::new();
    let mut idx = Vec::new();
    for seg in path.split('/') {
        match seg.split_once('[') {
            Some((n, rest)) => {
                plain.push(n);
                idx.push(rest.trim_end_matches(']').parse().unwrap_or(0));
            }
            None => plain.push(seg),
        }
    }
    (plain.join("/"), idx)
}

fn flag(f: &Flag, env: &dyn Env) -> bool {
    match f {
        Flag::Always(b) => *b,
        Flag::When(e) => evaluate(&e.ast, env).as_bool(),
    }
}

struct Scope<'a> {
    st: &'a FormState,
    def: usize,
    idx: &'a [usize],
    current: Option<&'a str>,
    choice: Option<&'a Choice>,
}

impl Env for Scope<'_> {
    fn reference(&self, name: &str) -> Value {
        let Some(&t) = self.st.by_name.get(name) else {
            return Value::Str(String::new());
        };
        let trep = &self.st.defs[t].repeats;
        let crep = &self.st.defs[self.def].repeats;
        let k = trep
            .iter()
            .zip(crep)
            .take_while(|(a, b)| a == b)
            .count()
            .min(self.idx.len());
        if k == trep.len() {
            if self.st.defs[t].q.kind == QuestionType::Repeat {
                return Value::Str(String::new());
            }
            return Value::Str(self.st.value_at(t, &self.idx[..k]));
        }
        let values = self
            .st
            .instances_from(t, &self.idx[..k])
            .iter()
            .map(|i| self.st.value_at(t, i))
            .collect();
        Value::Nodes(values)
    }
    fn current(&self) -> Value {
        Value::Str(match self.current {
            Some(c) => c.to_string(),
            None => self.st.value_at(self.def, self.idx),
        })
    }
    fn column(&self, name: &str) -> Value {
        let Some(c) = self.choice else {
            return Value::Str(String::new());
        };
        Value::Str(match name {
            "name" => c.name.clone(),
            _ => c.extra.get(name).cloned().unwrap_or_default(),
        })
    }
    fn position(&self) -> Option<usize> {
        self.idx.last().copied()
    }
    fn today(&self) -> Date {
        self.st.ctx.today
    }
    fn indexed(&self, name: &str, instances: &[(String, usize)]) -> Value {
        let Some(&t) = self.st.by_name.get(name) else {
            return Value::Str(String::new());
        };
        let crep = &self.st.defs[self.def].repeats;
        let mut idx = Vec::new();
        for (level, &r) in self.st.defs[t].repeats.iter().enumerate() {
            let named = instances
                .iter()
                .find(|(n, _)| *n == self.st.defs[r].q.name)
                .map(|&(_, i)| i);
            // a level not named: the context's instance when the context is inside it, else
            // the first (as JavaRosa resolves a missing index)
            let from_context = (crep.get(level) == Some(&r))
                .then(|| self.idx.get(level).copied())
                .flatten();
            let i = named.or(from_context).unwrap_or(1);
            let base = self.st.repeat_base(r, &idx);
            if i > self.st.counts.get(&base).copied().unwrap_or(0) {
                return Value::Str(String::new());
            }
            idx.push(i);
        }
        Value::Str(self.st.value_at(t, &idx))
    }
    fn choice_label(&self, question: &str, value: &str) -> String {
        let Some(&q) = self.st.by_name.get(question) else {
            return String::new();
        };
        let Some(list) = self.st.defs[q].q.kind.list() else {
            return String::new();
        };
        let form = &self.st.form;
        form.choice_list(list)
            .iter()
            .find(|c| c.name == value)
            .and_then(|c| c.label.get(form.default_language(), None))
            .unwrap_or_default()
            .to_string()
    }
    fn pulldata(&self, file: &str, column: &str, key_column: &str, key: &str) -> String {
        self.st
            .form
            .files
            .get(file)
            .and_then(|f| f.lookup(column, key_column, key))
            .unwrap_or_default()
            .to_string()
    }
}

impl FormState {
    /// Evaluate `form` over `answers`. Defaults fill answers that are absent (not empty).
    pub fn new(form: Arc<Form>, answers: Answers, ctx: EvalContext) -> Self {
        let mut defs = Vec::new();
        fn flatten(q: &Question, parent: Option<usize>, defs: &mut Vec<Def>) {
            let id = defs.len();
            let (mut repeats, mut chain, section) = match parent {
                Some(p) => (
                    defs[p].repeats.clone(),
                    defs[p].chain.clone(),
                    defs[p].section.or(Some(p)),
                ),
                None => (Vec::new(), Vec::new(), None),
            };
            let section = section.filter(|&s| defs[s].q.kind == QuestionType::Group);
            if q.kind == QuestionType::Repeat {
                repeats.push(id);
            }
            chain.push(id);
            let mut flat = q.clone();
            flat.children.clear();
            defs.push(Def {
                q: flat,
                parent,
                repeats,
                chain,
                section,
            });
            for c in &q.children {
                flatten(c, Some(id), defs);
            }
        }
        for q in &form.questions {
            flatten(q, None, &mut defs);
        }
        let by_name = defs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.q.name.clone(), i))
            .collect::<HashMap<_, _>>();
        let by_path = defs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.q.path.clone(), i))
            .collect();
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); defs.len()];
        for (i, d) in defs.iter().enumerate() {
            let q = &d.q;
            let mut exprs: Vec<&Expr> = [
                &q.relevant,
                &q.constraint,
                &q.calculation,
                &q.choice_filter,
                &q.repeat_count,
            ]
            .into_iter()
            .flatten()
            .map(|e| &e.ast)
            .collect();
            for f in [&q.required, &q.read_only] {
                if let Flag::When(e) = f {
                    exprs.push(&e.ast);
                }
            }
            for e in exprs {
                for r in e.references() {
                    if let Some(&t) = by_name.get(&r)
                        && t != i
                    {
                        deps[i].push(t);
                    }
                }
            }
            if let Some(p) = d.parent {
                deps[i].push(p);
            }
        }
        let mut dependents = vec![Vec::new(); defs.len()];
        for (i, ds) in deps.iter().enumerate() {
            for &t in ds {
                dependents[t].push(i);
            }
        }
        // topological order by DFS post-order over dependencies (cycles were refused at load)
        let mut order = Vec::with_capacity(defs.len());
        let mut seen = vec![false; defs.len()];
        fn visit(n: usize, deps: &[Vec<usize>], seen: &mut [bool], order: &mut Vec<usize>) {
            if seen[n] {
                return;
            }
            seen[n] = true;
            for &d in &deps[n] {
                visit(d, deps, seen, order);
            }
            order.push(n);
        }
        for i in 0..defs.len() {
            visit(i, &deps, &mut seen, &mut order);
        }
        let mut order_pos = vec![0; defs.len()];
        for (p, &d) in order.iter().enumerate() {
            order_pos[d] = p;
        }
        let choice_index = form
            .choices
            .iter()
            .map(|(list, choices)| {
                let mut names: HashMap<String, Vec<usize>> = HashMap::with_capacity(choices.len());
                for (i, c) in choices.iter().enumerate() {
                    names.entry(c.name.clone()).or_default().push(i);
                }
                (list.clone(), names)
            })
            .collect();
        let mut st = FormState {
            form,
            ctx,
            defs,
            by_name,
            by_path,
            choice_index,
            dependents,
            order_pos,
            answers,
            counts: HashMap::new(),
            relevant: HashMap::new(),
            calc: HashMap::new(),
            required: HashMap::new(),
            read_only: HashMap::new(),
            constraint_failed: HashSet::new(),
        };
        // repeat counts from the answers present
        let keys: Vec<String> = st.answers.keys().cloned().collect();
        for k in keys {
            st.note_indices(&k);
        }
        let all: Vec<usize> = order;
        st.apply_defaults(&all);
        st.evaluate_defs(all);
        st
    }

    /// Grow repeat counts so that the indices in `path` exist. Returns whether any grew.
    fn note_indices(&mut self, path: &str) -> bool {
        let mut grew = false;
        let mut prefix = String::new();
        for seg in path.split('/') {
            if let Some((n, rest)) = seg.split_once('[') {
                let i: usize = rest.trim_end_matches(']').parse().unwrap_or(0);
                let base = if prefix.is_empty() {
                    n.to_string()
                } else {
                    format!("{prefix}/{n}")
                };
                let c = self.counts.entry(base).or_insert(0);
                if i > *c && i <= 100_000 {
                    *c = i;
                    grew = true;
                }
            }
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(seg);
        }
        grew
    }

    fn apply_defaults(&mut self, defs: &[usize]) {
        for &d in defs {
            if let Some(def) = self.defs[d].q.default.clone()
                && self.defs[d].q.kind.is_input()
            {
                for i in self.instances(d) {
                    let p = self.path_of(d, &i);
                    self.answers.entry(p).or_insert_with(|| def.clone());
                }
            }
        }
    }

    /// The answer path of def `d` at repeat indices `idx`.
    fn path_of(&self, d: usize, idx: &[usize]) -> String {
        let mut s = String::new();
        let mut k = 0;
        for &c in &self.defs[d].chain {
            if !s.is_empty() {
                s.push('/');
            }
            s.push_str(&self.defs[c].q.name);
            if self.defs[c].q.kind == QuestionType::Repeat && k < idx.len() {
                s.push('[');
                s.push_str(&idx[k].to_string());
                s.push(']');
                k += 1;
            }
        }
        s
    }

    /// Base path (no own index) of repeat def `r` given the outer indices.
    fn repeat_base(&self, r: usize, outer: &[usize]) -> String {
        let p = self.path_of(r, outer);
        p.strip_suffix(']')
            .and_then(|x| x.rsplit_once('['))
            .map_or(p.clone(), |(b, _)| b.to_string())
    }

    fn instances(&self, d: usize) -> Vec<Vec<usize>> {
        self.instances_from(d, &[])
    }

    /// All index vectors of def `d` whose first indices are `fixed`.
    fn instances_from(&self, d: usize, fixed: &[usize]) -> Vec<Vec<usize>> {
        let reps = &self.defs[d].repeats;
        let mut out = vec![fixed.to_vec()];
        for &r in &reps[fixed.len().min(reps.len())..] {
            let mut next = Vec::new();
            for prefix in out {
                let n = self
                    .counts
                    .get(&self.repeat_base(r, &prefix))
                    .copied()
                    .unwrap_or(0);
                for i in 1..=n {
                    let mut v = prefix.clone();
                    v.push(i);
                    next.push(v);
                }
            }
            out = next;
        }
        out
    }

    fn value_at(&self, d: usize, idx: &[usize]) -> String {
        let p = self.path_of(d, idx);
        if !self.relevant.get(&p).copied().unwrap_or(true) {
            return String::new();
        }
        if self.defs[d].q.kind == QuestionType::Calculate {
            self.calc.get(&p).cloned().unwrap_or_default()
        } else {
            self.answers.get(&p).cloned().unwrap_or_default()
        }
    }

    fn evaluate_defs(&mut self, mut defs: Vec<usize>) {
        defs.sort_by_key(|&d| self.order_pos[d]);
        defs.dedup();
        for d in defs {
            self.evaluate_def(d);
        }
    }

    fn evaluate_def(&mut self, d: usize) {
        // repeat counts first: evaluated in the context of the repeat's parent instance
        if let Some(rc) = self.defs[d].q.repeat_count.clone() {
            let outer_def = self.defs[d].parent;
            let outers = match outer_def {
                Some(p) => self.instances(p),
                None => vec![vec![]],
            };
            for o in outers {
                let env = Scope {
                    st: self,
                    def: outer_def.unwrap_or(d),
                    idx: &o,
                    current: None,
                    choice: None,
                };
                let parent_rel = outer_def.is_none_or(|p| {
                    self.relevant
                        .get(&self.path_of(p, &o))
                        .copied()
                        .unwrap_or(true)
                });
                let n = evaluate(&rc.ast, &env).as_number();
                let n = if n.is_finite() && parent_rel {
                    n.clamp(0.0, 10_000.0) as usize
                } else {
                    0
                };
                let base = self.repeat_base(d, &o);
                let before = self.counts.insert(base.clone(), n).unwrap_or(0);
                if n < before {
                    self.forget_instances(&base, n);
                }
            }
        }
        let insts = self.instances(d);
        let q = &self.defs[d].q;
        for idx in insts {
            let path = self.path_of(d, &idx);
            let parent_rel = match self.defs[d].parent {
                Some(p) => {
                    let pr = &self.defs[p].repeats;
                    self.relevant
                        .get(&self.path_of(p, &idx[..pr.len()]))
                        .copied()
                        .unwrap_or(true)
                }
                None => true,
            };
            let env = Scope {
                st: self,
                def: d,
                idx: &idx,
                current: None,
                choice: None,
            };
            let rel = parent_rel
                && q.relevant
                    .as_ref()
                    .is_none_or(|e| evaluate(&e.ast, &env).as_bool());
            let calc = match (&q.calculation, rel, &q.kind) {
                (Some(e), true, _) => Some(evaluate(&e.ast, &env).as_string()),
                (None, true, QuestionType::Calculate) => q.default.clone(),
                (_, false, QuestionType::Calculate) => Some(String::new()),
                _ => None,
            };
            let req = rel && flag(&q.required, &env);
            let ro = flag(&q.read_only, &env) || q.calculation.is_some();
            let value = calc
                .clone()
                .unwrap_or_else(|| self.answers.get(&path).cloned().unwrap_or_default());
            let failed = rel
                && !value.is_empty()
                && q.constraint.as_ref().is_some_and(|c| {
                    let env = Scope {
                        st: self,
                        def: d,
                        idx: &idx,
                        current: Some(&value),
                        choice: None,
                    };
                    !evaluate(&c.ast, &env).as_bool()
                });
            self.relevant.insert(path.clone(), rel);
            if let Some(c) = calc {
                if q.kind == QuestionType::Calculate {
                    self.calc.insert(path.clone(), c);
                } else {
                    // calculation on an input question: the answer follows the calculation
                    self.answers.insert(path.clone(), c);
                }
            }
            self.required.insert(path.clone(), req);
            self.read_only.insert(path.clone(), ro);
            if failed {
                self.constraint_failed.insert(path);
            } else {
                self.constraint_failed.remove(&path);
            }
        }
    }

    /// Drop the evaluated state of instances past `keep` of the repeat at `base`, so a repeat
    /// that shrinks (its count fell, or its group closed) leaves nothing stale behind.
    /// Answers and the counts of repeats nested in those instances are kept: they belong to
    /// the draft, and come back if the repeat grows again.
    fn forget_instances(&mut self, base: &str, keep: usize) {
        let prefix = format!("{base}[");
        let gone = |k: &str| {
            k.strip_prefix(&prefix)
                .and_then(|rest| rest.split_once(']'))
                .and_then(|(i, _)| i.parse::<usize>().ok())
                .is_some_and(|i| i > keep)
        };
        self.relevant.retain(|k, _| !gone(k));
        self.calc.retain(|k, _| !gone(k));
        self.required.retain(|k, _| !gone(k));
        self.read_only.retain(|k, _| !gone(k));
        self.constraint_failed.retain(|k| !gone(k));
    }

    /// All defs affected by a change to `d` (itself included), in no particular order.
    fn affected(&self, d: usize) -> Vec<usize> {
        let mut seen = vec![false; self.defs.len()];
        let mut stack = vec![d];
        let mut out = Vec::new();
        while let Some(n) = stack.pop() {
            if std::mem::replace(&mut seen[n], true) {
                continue;
            }
            out.push(n);
            stack.extend(self.dependents[n].iter().copied());
        }
        out
    }

    fn def_of(&self, path: &str) -> Option<usize> {
        let (plain, _) = strip_indices(path);
        self.by_path.get(&plain).copied().or_else(|| {
            // `PATH_other` text of an or_other select
            let base = plain.strip_suffix("_other")?;
            self.by_path
                .get(base)
                .copied()
                .filter(|&d| self.defs[d].q.or_other)
        })
    }

    /// Set an answer and re-evaluate what depends on it. Unknown paths are stored but change
    /// nothing else.
    pub fn set_answer(&mut self, path: &str, value: impl Into<String>) {
        let value = value.into();
        if self.answers.get(path) == Some(&value) {
            return;
        }
        self.answers.insert(path.to_string(), value);
        let Some(d) = self.def_of(path) else { return };
        let mut affected = self.affected(d);
        if self.note_indices(path) {
            for r in self.defs[d].repeats.clone() {
                affected.extend(self.affected(r));
            }
        }
        self.evaluate_defs(affected);
    }

    /// Clear an answer (the key stays, empty, so a default does not come back).
    pub fn clear_answer(&mut self, path: &str) {
        self.set_answer(path, "");
    }

    /// Number of instances of a repeat, by base path (`species`, `species[2]/sites`).
    pub fn repeat_count(&self, base: &str) -> usize {
        self.counts.get(base).copied().unwrap_or(0)
    }

    /// Add an instance at the end of a repeat (base path); returns its 1-based index.
    pub fn add_repeat_instance(&mut self, base: &str) -> usize {
        let n = self.repeat_count(base) + 1;
        self.counts.insert(base.to_string(), n);
        if let Some(r) = self.def_of(base) {
            let affected = self.affected(r);
            self.apply_defaults(&affected);
            self.evaluate_defs(affected);
        }
        n
    }

    /// Remove instance `index` (1-based) of a repeat; later instances move up one.
    pub fn remove_repeat_instance(&mut self, base: &str, index: usize) {
        let n = self.repeat_count(base);
        if index == 0 || index > n {
            return;
        }
        let prefix = format!("{base}[");
        let moved: Vec<(String, String)> = self
            .answers
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut renamed_counts = Vec::new();
        for (k, v) in moved {
            self.answers.remove(&k);
            let rest = &k[prefix.len()..];
            let Some((i, tail)) = rest.split_once(']') else {
                continue;
            };
            let Ok(i) = i.parse::<usize>() else { continue };
            if i == index {
                continue;
            }
            let ni = if i > index { i - 1 } else { i };
            self.answers.insert(format!("{prefix}{ni}]{tail}"), v);
        }
        for (k, &c) in &self.counts {
            if let Some(rest) = k.strip_prefix(&prefix)
                && let Some((i, tail)) = rest.split_once(']')
                && let Ok(i) = i.parse::<usize>()
            {
                if i != index {
                    let ni = if i > index { i - 1 } else { i };
                    renamed_counts.push((k.clone(), Some(format!("{prefix}{ni}]{tail}")), c));
                } else {
                    renamed_counts.push((k.clone(), None, c));
                }
            }
        }
        for (old, _, _) in &renamed_counts {
            self.counts.remove(old);
        }
        for (_, new, c) in renamed_counts {
            if let Some(new) = new {
                self.counts.insert(new, c);
            }
        }
        self.counts.insert(base.to_string(), n - 1);
        self.forget_instances(base, n - 1);
        let all: Vec<usize> = (0..self.defs.len()).collect();
        self.evaluate_defs(all);
    }

    /// All answers, including hidden ones.
    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    /// The current value at a path: the answer, or the calculated value.
    pub fn value(&self, path: &str) -> String {
        match self.def_of(path) {
            Some(d)
                if self.defs[d].q.kind == QuestionType::Calculate && !path.ends_with("_other") =>
            {
                self.calc.get(path).cloned().unwrap_or_default()
            }
            _ => self.answers.get(path).cloned().unwrap_or_default(),
        }
    }

    /// Whether the question at `path` is shown (it and all its groups are relevant).
    pub fn is_relevant(&self, path: &str) -> bool {
        self.relevant.get(path).copied().unwrap_or(false)
    }

    pub fn is_required(&self, path: &str) -> bool {
        self.required.get(path).copied().unwrap_or(false)
    }

    pub fn is_read_only(&self, path: &str) -> bool {
        self.read_only.get(path).copied().unwrap_or(false)
    }

    /// Whether a non-empty answer fails its constraint.
    pub fn constraint_failed(&self, path: &str) -> bool {
        self.constraint_failed.contains(path)
    }

    /// The choices offered at `path`, after `choice_filter`, plus `other` for `or_other`.
    pub fn choices(&self, path: &str) -> Vec<Choice> {
        let Some(d) = self.def_of(path) else {
            return Vec::new();
        };
        let q = &self.defs[d].q;
        let Some(list) = q.kind.list() else {
            return Vec::new();
        };
        let (_, idx) = strip_indices(path);
        let mut out: Vec<Choice> = self
            .form
            .choice_list(list)
            .iter()
            .filter(|c| {
                q.choice_filter.as_ref().is_none_or(|f| {
                    let env = Scope {
                        st: self,
                        def: d,
                        idx: &idx,
                        current: None,
                        choice: Some(c),
                    };
                    evaluate(&f.ast, &env).as_bool()
                })
            })
            .cloned()
            .collect();
        if q.or_other {
            let mut label = Translated::default();
            label.0.insert(DEFAULT_LANG.into(), "Other".into());
            out.push(Choice {
                name: "other".into(),
                label,
                extra: BTreeMap::new(),
                row: 0,
            });
        }
        out
    }

    /// Every answer path of every relevant input question instance, in form order.
    fn input_instances(&self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (d, def) in self.defs.iter().enumerate() {
            if def.q.kind.is_input() {
                for i in self.instances(d) {
                    let p = self.path_of(d, &i);
                    if self.is_relevant(&p) {
                        out.push((d, p));
                    }
                }
            }
        }
        out
    }

    /// Whether `name` is a choice offered at `path` (after `choice_filter`; `other` for
    /// `or_other`), without listing the choices.
    fn choice_allowed(&self, d: usize, path: &str, name: &str) -> bool {
        let q = &self.defs[d].q;
        if q.or_other && name == "other" {
            return true;
        }
        let Some(list) = q.kind.list() else {
            return false;
        };
        let Some(rows) = self.choice_index.get(list).and_then(|m| m.get(name)) else {
            return false;
        };
        let Some(filter) = &q.choice_filter else {
            return true;
        };
        let (_, idx) = strip_indices(path);
        // the same name may be listed twice (under two parents): any one offered will do
        rows.iter().any(|&i| {
            let env = Scope {
                st: self,
                def: d,
                idx: &idx,
                current: None,
                choice: Some(&self.form.choice_list(list)[i]),
            };
            evaluate(&filter.ast, &env).as_bool()
        })
    }

    fn type_ok(&self, d: usize, path: &str, v: &str) -> bool {
        let q = &self.defs[d].q;
        match &q.kind {
            QuestionType::Integer => v.trim().parse::<i64>().is_ok(),
            QuestionType::Decimal | QuestionType::Range => {
                v.trim().parse::<f64>().is_ok_and(f64::is_finite)
            }
            QuestionType::Date => Date::parse(v).is_some(),
            QuestionType::SelectOne(_) => self.choice_allowed(d, path, v.trim()),
            QuestionType::SelectMultiple(_) | QuestionType::Rank(_) => v
                .split_whitespace()
                .all(|s| self.choice_allowed(d, path, s)),
            k if k.is_geo() => crate::geo::validate(k, v).is_ok(),
            _ => true,
        }
    }

    /// Required answers missing, constraint failures and invalid values, with messages in `lang`.
    pub fn issues(&self, lang: &str) -> Vec<Issue> {
        let fallback = Some(self.form.default_language());
        let mut out = Vec::new();
        for (d, path) in self.input_instances() {
            let q = &self.defs[d].q;
            let v = self.value(&path);
            if v.trim().is_empty() {
                if self.is_required(&path) {
                    let message = q
                        .required_message
                        .get(lang, fallback)
                        .unwrap_or("This answer is required.");
                    out.push(Issue {
                        message: self.interpolate(&path, message),
                        path,
                        kind: IssueKind::Required,
                    });
                }
            } else if !self.type_ok(d, &path, &v) {
                out.push(Issue {
                    path,
                    kind: IssueKind::Invalid,
                    message: "This value is not valid for this question.".into(),
                });
            } else if self.constraint_failed(&path) {
                let message = q
                    .constraint_message
                    .get(lang, fallback)
                    .unwrap_or("This answer is not valid.");
                out.push(Issue {
                    message: self.interpolate(&path, message),
                    path,
                    kind: IssueKind::Constraint,
                });
            }
        }
        out
    }

    /// Completion per top-level group and overall (relevant input questions answered).
    pub fn completion(&self) -> Completion {
        let mut sections: Vec<(String, Progress)> = Vec::new();
        let mut index: HashMap<usize, usize> = HashMap::new();
        for (d, def) in self.defs.iter().enumerate() {
            if def.parent.is_none() && def.q.kind == QuestionType::Group {
                index.insert(d, sections.len());
                sections.push((def.q.name.clone(), Progress::default()));
            }
        }
        let mut overall = Progress::default();
        for (d, path) in self.input_instances() {
            let answered = !self.value(&path).trim().is_empty();
            let missing = !answered && self.is_required(&path);
            let bump = |p: &mut Progress| {
                p.total += 1;
                p.answered += usize::from(answered);
                p.required_missing += usize::from(missing);
            };
            bump(&mut overall);
            if let Some(s) = self.defs[d].section.and_then(|s| index.get(&s)) {
                bump(&mut sections[*s].1);
            }
        }
        Completion { sections, overall }
    }

    /// The answers to submit: relevant questions (and calculations) with a value. Hidden
    /// answers stay in [`FormState::answers`] but are left out here.
    pub fn submission_answers(&self) -> Answers {
        let mut out = Answers::new();
        for (d, def) in self.defs.iter().enumerate() {
            if !(def.q.kind.is_input() || def.q.kind == QuestionType::Calculate) {
                continue;
            }
            for i in self.instances(d) {
                let p = self.path_of(d, &i);
                if !self.is_relevant(&p) {
                    continue;
                }
                let v = self.value(&p);
                if !v.is_empty() {
                    if def.q.or_other && v.split_whitespace().any(|s| s == "other") {
                        let o = format!("{p}_other");
                        if let Some(t) = self.answers.get(&o).filter(|t| !t.is_empty()) {
                            out.insert(o, t.clone());
                        }
                    }
                    out.insert(p, v);
                }
            }
        }
        out
    }

    /// The form this state evaluates.
    pub fn form(&self) -> &Form {
        &self.form
    }

    /// `text` (a label, hint or message) with each `${name}` replaced by that question's
    /// value as seen from the question at `path` (so inside a repeat, the same instance's).
    /// A reference to an unknown name is left as written.
    pub fn interpolate(&self, path: &str, text: &str) -> String {
        if !text.contains("${") {
            return text.to_string();
        }
        let (_, idx) = strip_indices(path);
        let Some(def) = self.def_of(path) else {
            return text.to_string();
        };
        let env = Scope {
            st: self,
            def,
            idx: &idx,
            current: None,
            choice: None,
        };
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            match after.find('}') {
                Some(end) if self.by_name.contains_key(after[..end].trim()) => {
                    out.push_str(&env.reference(after[..end].trim()).as_string());
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push_str("${");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}
