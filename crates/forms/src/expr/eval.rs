use super::value::{compare, equals, not_equals};
use super::{BinOp, Date, Expr, Value};
use std::cmp::Ordering;

/// What an expression can see: the answers, the current node, the choice row, the date.
pub trait Env {
    /// The value of `${name}`: a single value, or [`Value::Nodes`] when the reference reaches
    /// into a repeat from outside it (or a repeat itself: one node per instance).
    fn reference(&self, name: &str) -> Value;
    /// The value of `.`.
    fn current(&self) -> Value;
    /// A bare name: a column of the current choice row (only in `choice_filter`).
    fn column(&self, name: &str) -> Value {
        let _ = name;
        Value::Str(String::new())
    }
    /// `position(..)`: the 1-based index of the innermost repeat instance around the context.
    fn position(&self) -> Option<usize>;
    /// The date `today()` returns. Never the clock: it is passed in.
    fn today(&self) -> Date;
}

/// Evaluate `e` in `env`.
pub fn evaluate(e: &Expr, env: &dyn Env) -> Value {
    match e {
        Expr::Num(n) => Value::Num(*n),
        Expr::Str(s) => Value::Str(s.clone()),
        Expr::Ref(n) => env.reference(n),
        Expr::Current => env.current(),
        Expr::Parent => Value::Str(String::new()),
        Expr::Column(c) => env.column(c),
        Expr::Neg(x) => Value::Num(-evaluate(x, env).as_number()),
        Expr::Bin(op, a, b) => binary(*op, a, b, env),
        Expr::Call(f, args) => call(f, args, env),
    }
}

fn arith(op: BinOp, a: &Value, b: &Value) -> Value {
    // date ± number stays a date (ODK); date - date is a number of days.
    if let (Value::Date(d), BinOp::Add | BinOp::Sub) = (a, op)
        && !matches!(b, Value::Date(_))
    {
        let n = b.as_number();
        if n.is_finite() {
            let n = n.trunc() as i64;
            return Value::Date(Date(if op == BinOp::Add { d.0 + n } else { d.0 - n }));
        }
    }
    let (x, y) = (a.as_number(), b.as_number());
    Value::Num(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        _ => x % y,
    })
}

fn binary(op: BinOp, a: &Expr, b: &Expr, env: &dyn Env) -> Value {
    match op {
        BinOp::Or => Value::Bool(evaluate(a, env).as_bool() || evaluate(b, env).as_bool()),
        BinOp::And => Value::Bool(evaluate(a, env).as_bool() && evaluate(b, env).as_bool()),
        _ => {
            let (x, y) = (evaluate(a, env), evaluate(b, env));
            match op {
                BinOp::Eq => Value::Bool(equals(&x, &y)),
                BinOp::Ne => Value::Bool(not_equals(&x, &y)),
                BinOp::Lt => Value::Bool(compare(&x, &y, |o| o == Ordering::Less)),
                BinOp::Le => Value::Bool(compare(&x, &y, |o| o != Ordering::Greater)),
                BinOp::Gt => Value::Bool(compare(&x, &y, |o| o == Ordering::Greater)),
                BinOp::Ge => Value::Bool(compare(&x, &y, |o| o != Ordering::Less)),
                _ => arith(op, &x, &y),
            }
        }
    }
}

fn nodes(v: Value) -> Vec<String> {
    match v {
        Value::Nodes(v) => v,
        other => vec![other.as_string()],
    }
}

fn round_half_up(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f + 0.5).floor() / f
}

fn call(f: &str, args: &[Expr], env: &dyn Env) -> Value {
    let arg = |i: usize| evaluate(&args[i], env);
    match f {
        "if" => {
            if arg(0).as_bool() {
                arg(1)
            } else {
                arg(2)
            }
        }
        "not" => Value::Bool(!arg(0).as_bool()),
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "boolean" => Value::Bool(arg(0).as_bool()),
        "number" => Value::Num(arg(0).as_number()),
        "string" => Value::Str(arg(0).as_string()),
        "int" => Value::Num(arg(0).as_number().trunc()),
        "round" => {
            let digits = if args.len() > 1 {
                arg(1).as_number()
            } else {
                0.0
            };
            let digits = if digits.is_finite() { digits as i32 } else { 0 };
            Value::Num(round_half_up(arg(0).as_number(), digits))
        }
        "selected" => {
            let want = arg(1).as_string();
            let want = want.trim();
            Value::Bool(arg(0).as_string().split_whitespace().any(|s| s == want))
        }
        "count-selected" => Value::Num(arg(0).as_string().split_whitespace().count() as f64),
        "count" => Value::Num(match arg(0) {
            Value::Nodes(v) => v.len(),
            _ => 1,
        } as f64),
        "sum" => Value::Num(
            nodes(arg(0))
                .iter()
                .map(|s| Value::Str(s.clone()).as_number())
                .sum(),
        ),
        "min" | "max" => {
            let all: Vec<f64> = (0..args.len())
                .flat_map(|i| nodes(arg(i)))
                .map(|s| Value::Str(s).as_number())
                .collect();
            if all.is_empty() || all.iter().any(|n| n.is_nan()) {
                Value::Num(f64::NAN)
            } else if f == "min" {
                Value::Num(all.into_iter().fold(f64::INFINITY, f64::min))
            } else {
                Value::Num(all.into_iter().fold(f64::NEG_INFINITY, f64::max))
            }
        }
        "string-length" => Value::Num(arg(0).as_string().chars().count() as f64),
        "regex" => {
            let pattern = arg(1).as_string();
            let subject = arg(0).as_string();
            Value::Bool(with_regex(&pattern, |re| {
                re.is_some_and(|re| re.is_match(&subject))
            }))
        }
        "coalesce" => {
            let a = arg(0);
            if a.as_string().is_empty() { arg(1) } else { a }
        }
        "concat" => Value::Str(
            (0..args.len())
                .map(|i| nodes(arg(i)).concat())
                .collect::<Vec<_>>()
                .concat(),
        ),
        "contains" => Value::Bool(arg(0).as_string().contains(&arg(1).as_string())),
        "starts-with" => Value::Bool(arg(0).as_string().starts_with(&arg(1).as_string())),
        "today" => Value::Date(env.today()),
        "date" => match arg(0).as_date() {
            Some(d) => Value::Date(d),
            None => Value::Str(String::new()),
        },
        "position" => match env.position() {
            Some(p) => Value::Num(p as f64),
            None => Value::Num(f64::NAN),
        },
        _ => Value::Str(String::new()),
    }
}

thread_local! {
    static REGEX_CACHE: std::cell::RefCell<std::collections::HashMap<String, Option<regex::Regex>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Compile each pattern once per thread (an invalid pattern matches nothing).
fn with_regex<T>(pattern: &str, f: impl FnOnce(Option<&regex::Regex>) -> T) -> T {
    REGEX_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > 256 {
            cache.clear();
        }
        let re = cache
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(pattern).ok());
        f(re.as_ref())
    })
}
