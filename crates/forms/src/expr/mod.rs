//! XLSForm / XPath expression subset: tokenizer, precedence-climbing parser and evaluator.
//!
//! Supported syntax: `${name}` references, `.` (the current question's value), `..` (only as
//! the argument of `position(..)`), bare names (choice columns inside a `choice_filter`),
//! number and string literals (`'…'` or `"…"`), `= != < <= > >=`, `and`, `or`, `+ - *`,
//! `div`, `mod`, unary minus, parentheses, function calls (see [`FUNCTIONS`]) and XPath
//! predicates on references (`${age}[. >= 18]`, `${name}[2]`).

mod eval;
mod parse;
mod value;

pub use eval::{Env, evaluate};
pub use parse::{SyntaxError, parse};
pub use value::{Date, Value, format_number};

use std::collections::BTreeSet;

/// Functions the evaluator knows, with their (min, max) argument counts (`usize::MAX` = any).
pub const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("if", 3, 3),
    ("not", 1, 1),
    ("true", 0, 0),
    ("false", 0, 0),
    ("boolean", 1, 1),
    ("number", 1, 1),
    ("string", 1, 1),
    ("int", 1, 1),
    ("round", 1, 2),
    ("selected", 2, 2),
    ("count-selected", 1, 1),
    ("count", 1, 1),
    ("sum", 1, 1),
    ("string-length", 1, 1),
    ("regex", 2, 2),
    ("coalesce", 2, 2),
    ("concat", 0, usize::MAX),
    ("contains", 2, 2),
    ("starts-with", 2, 2),
    ("today", 0, 0),
    ("date", 1, 1),
    ("position", 0, 1),
    ("min", 1, usize::MAX),
    ("max", 1, usize::MAX),
    ("boolean-from-string", 1, 1),
    ("substr", 2, 3),
    ("substring-before", 2, 2),
    ("substring-after", 2, 2),
    ("ends-with", 2, 2),
    ("translate", 3, 3),
    ("normalize-space", 1, 1),
    ("join", 2, usize::MAX),
    ("selected-at", 2, 2),
    ("count-non-empty", 1, 1),
    ("floor", 1, 1),
    ("ceiling", 1, 1),
    ("abs", 1, 1),
    ("pow", 2, 2),
    ("once", 1, 1),
    ("indexed-repeat", 3, 7),
    ("choice-name", 2, 2),
    ("pulldata", 4, 4),
    ("now", 0, 0),
    ("decimal-date-time", 1, 1),
    ("area", 1, 1),
    ("enclosed-area", 1, 1),
    ("distance", 1, 1),
];

/// The file an instance name reads (`fruits` → `fruits.csv`), as `pulldata()` names them.
pub fn data_file_name(instance: &str) -> String {
    let instance = instance.trim();
    if instance.to_ascii_lowercase().ends_with(".csv") {
        instance.to_string()
    } else {
        format!("{instance}.csv")
    }
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Str(String),
    /// `${name}`
    Ref(String),
    /// `.`
    Current,
    /// `..` (only meaningful inside `position(..)`)
    Parent,
    /// A bare name: a column of the choice row in a `choice_filter`.
    Column(String),
    Neg(Box<Expr>),
    /// `${x}[predicate]`: the nodes of `${x}` for which the predicate holds (`.` is the node,
    /// a number picks the node at that 1-based position).
    Filter(Box<Expr>, Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

impl Expr {
    /// Every `${name}` this expression references.
    pub fn references(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs(&self, out: &mut BTreeSet<String>) {
        match self {
            Expr::Ref(n) => {
                out.insert(n.clone());
            }
            Expr::Neg(e) => e.collect_refs(out),
            Expr::Bin(_, a, b) | Expr::Filter(a, b) => {
                a.collect_refs(out);
                b.collect_refs(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect_refs(out)),
            _ => {}
        }
    }

    /// The files `pulldata('name', …)` reads, as file names (`name.csv`); a first argument
    /// that is not a literal string names no file known at load.
    pub fn pulldata_files(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        self.walk(&mut |e| {
            if let Expr::Call(f, args) = e
                && f == "pulldata"
                && let Some(Expr::Str(name)) = args.first()
            {
                out.insert(data_file_name(name));
            }
        });
        out
    }

    /// Every `indexed-repeat(${q}, ${repeat}, n, …)` call: the question and the repeats named.
    pub fn indexed_repeats(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Call(f, args) = e
                && f == "indexed-repeat"
                && let Some(Expr::Ref(q)) = args.first()
            {
                let repeats = args
                    .iter()
                    .skip(1)
                    .step_by(2)
                    .filter_map(|a| match a {
                        Expr::Ref(r) => Some(r.clone()),
                        _ => None,
                    })
                    .collect();
                out.push((q.clone(), repeats));
            }
        });
        out
    }

    /// Visit this expression and every sub-expression.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Neg(e) => e.walk(f),
            Expr::Bin(_, a, b) | Expr::Filter(a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.walk(f)),
            _ => {}
        }
    }

    /// Whether the expression uses `.` (the current value).
    pub fn uses_current(&self) -> bool {
        match self {
            Expr::Current => true,
            Expr::Neg(e) => e.uses_current(),
            Expr::Bin(_, a, b) => a.uses_current() || b.uses_current(),
            // inside a predicate `.` is the node being filtered, not the question's value
            Expr::Filter(a, _) => a.uses_current(),
            // once() reads the question's own value
            Expr::Call(f, _) if f == "once" => true,
            Expr::Call(_, args) => args.iter().any(Expr::uses_current),
            _ => false,
        }
    }
}

/// An expression as written in the form, with its parsed tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    pub source: String,
    pub ast: Expr,
}

impl Expression {
    /// Parse `source`.
    pub fn parse(source: &str) -> Result<Self, SyntaxError> {
        Ok(Self {
            source: source.to_string(),
            ast: parse(source)?,
        })
    }
}

impl serde::Serialize for Expression {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl BinOp {
    /// The operator as written in an expression.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "div",
            BinOp::Mod => "mod",
        }
    }
}

/// Prints an expression so that [`parse`] reads it back as the same tree: parentheses only
/// where precedence needs them, a string in whichever quote it does not contain.
///
/// (A string holding both `'` and `"` cannot be written in XPath 1.0; it is printed with
/// `'…'` and will not read back.)
impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn operand(e: &Expr, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match e {
                Expr::Bin(..) => write!(f, "({e})"),
                _ => write!(f, "{e}"),
            }
        }
        match self {
            Expr::Num(n) => write!(f, "{n}"),
            Expr::Str(s) if s.contains('\'') => write!(f, "\"{s}\""),
            Expr::Str(s) => write!(f, "'{s}'"),
            Expr::Ref(n) => write!(f, "${{{n}}}"),
            Expr::Current => write!(f, "."),
            Expr::Parent => write!(f, ".."),
            Expr::Column(c) => write!(f, "{c}"),
            Expr::Neg(e) => {
                write!(f, "-")?;
                operand(e, f)
            }
            Expr::Filter(base, predicate) => write!(f, "{base}[{predicate}]"),
            Expr::Bin(op, a, b) => {
                let p = parse::precedence(*op);
                match a.as_ref() {
                    Expr::Bin(x, ..) if parse::precedence(*x) < p => write!(f, "({a})")?,
                    _ => write!(f, "{a}")?,
                }
                write!(f, " {} ", op.symbol())?;
                match b.as_ref() {
                    Expr::Bin(x, ..) if parse::precedence(*x) <= p => write!(f, "({b})"),
                    _ => write!(f, "{b}"),
                }
            }
            Expr::Call(name, args) => {
                // the jr: prefix is dropped when parsed; choice-name keeps it for readers
                let name = if name == "choice-name" {
                    "jr:choice-name"
                } else {
                    name
                };
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, ")")
            }
        }
    }
}
