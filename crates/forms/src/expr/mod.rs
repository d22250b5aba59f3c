//! XLSForm / XPath expression subset: tokenizer, precedence-climbing parser and evaluator.
//!
//! Supported syntax: `${name}` references, `.` (the current question's value), `..` (only as
//! the argument of `position(..)`), bare names (choice columns inside a `choice_filter`),
//! number and string literals (`'…'` or `"…"`), `= != < <= > >=`, `and`, `or`, `+ - *`,
//! `div`, `mod`, unary minus, parentheses and function calls (see [`FUNCTIONS`]).

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
    ("position", 1, 1),
    ("min", 1, usize::MAX),
    ("max", 1, usize::MAX),
];

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
            Expr::Bin(_, a, b) => {
                a.collect_refs(out);
                b.collect_refs(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect_refs(out)),
            _ => {}
        }
    }

    /// Whether the expression uses `.` (the current value).
    pub fn uses_current(&self) -> bool {
        match self {
            Expr::Current => true,
            Expr::Neg(e) => e.uses_current(),
            Expr::Bin(_, a, b) => a.uses_current() || b.uses_current(),
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
