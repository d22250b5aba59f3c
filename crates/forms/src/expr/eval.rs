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
    /// `indexed-repeat(${name}, ${repeat}, n, …)`: the value of `name` in the given instances
    /// (1-based) of the named repeats; levels not named follow the current context.
    fn indexed(&self, name: &str, instances: &[(String, usize)]) -> Value {
        let _ = (name, instances);
        Value::Str(String::new())
    }
    /// `jr:choice-name(value, '${question}')`: the label of choice `value` of the question's
    /// list, in the form's default language ("" if there is no such choice).
    fn choice_label(&self, question: &str, value: &str) -> String {
        let _ = (question, value);
        String::new()
    }
    /// `pulldata('file', 'column', 'key_column', key)`: the value in `column` of the first row
    /// of the attached `file.csv` whose `key_column` is `key` ("" if none).
    fn pulldata(&self, file: &str, column: &str, key_column: &str, key: &str) -> String {
        let _ = (file, column, key_column, key);
        String::new()
    }
}

/// The context inside a predicate: `.` is the node being tested, `position()` its index.
struct PredicateEnv<'a> {
    outer: &'a dyn Env,
    node: &'a str,
    position: usize,
}

impl Env for PredicateEnv<'_> {
    fn reference(&self, name: &str) -> Value {
        self.outer.reference(name)
    }
    fn current(&self) -> Value {
        Value::Str(self.node.to_string())
    }
    fn column(&self, name: &str) -> Value {
        self.outer.column(name)
    }
    fn position(&self) -> Option<usize> {
        Some(self.position)
    }
    fn today(&self) -> Date {
        self.outer.today()
    }
    fn indexed(&self, name: &str, instances: &[(String, usize)]) -> Value {
        self.outer.indexed(name, instances)
    }
    fn choice_label(&self, question: &str, value: &str) -> String {
        self.outer.choice_label(question, value)
    }
    fn pulldata(&self, file: &str, column: &str, key_column: &str, key: &str) -> String {
        self.outer.pulldata(file, column, key_column, key)
    }
}

/// `nodes[predicate]`, XPath style: a numeric predicate keeps the node at that position, any
/// other keeps the nodes for which it is true.
fn filter(base: Value, predicate: &Expr, env: &dyn Env) -> Value {
    let kept = nodes(base)
        .into_iter()
        .enumerate()
        .filter(|(i, node)| {
            let penv = PredicateEnv {
                outer: env,
                node,
                position: i + 1,
            };
            match evaluate(predicate, &penv) {
                Value::Num(n) => n == (i + 1) as f64,
                v => v.as_bool(),
            }
        })
        .map(|(_, n)| n)
        .collect();
    Value::Nodes(kept)
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
        Expr::Filter(base, predicate) => filter(evaluate(base, env), predicate, env),
        Expr::Bin(op, a, b) => binary(*op, a, b, env),
        Expr::Call(f, args) => call(f, args, env),
    }
}

fn arith(op: BinOp, a: &Value, b: &Value) -> Value {
    // date ± number stays a date (ODK); date - date is a number of days.
    if let (Value::Date(d), BinOp::Add | BinOp::Sub) = (a, op)
        && !matches!(b, Value::Date(_))
    {
        let n = b.as_number().trunc();
        if n.is_finite() {
            let days = if op == BinOp::Add {
                d.0 as f64 + n
            } else {
                d.0 as f64 - n
            };
            // far beyond any calendar a report uses, a date is no date
            return if days.abs() <= Date::LIMIT as f64 {
                Value::Date(Date(days as i64))
            } else {
                Value::Num(f64::NAN)
            };
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
        // the engine has no clock: `now()` is today, to the day (no time of day)
        "now" => Value::Date(env.today()),
        "decimal-date-time" => match arg(0).as_date() {
            Some(d) => Value::Num(d.0 as f64),
            None => Value::Num(f64::NAN),
        },
        "area" | "enclosed-area" => Value::Num(geo_measure(&arg(0).as_string(), true)),
        "distance" => Value::Num(geo_measure(&arg(0).as_string(), false)),
        "date" => match arg(0).as_date() {
            Some(d) => Value::Date(d),
            None => Value::Str(String::new()),
        },
        "position" => match env.position() {
            Some(p) => Value::Num(p as f64),
            None => Value::Num(f64::NAN),
        },
        "boolean-from-string" => {
            let s = arg(0).as_string();
            Value::Bool(matches!(s.trim(), "true" | "1"))
        }
        "substr" => {
            // XForms substr(s, start[, end]): 0-based start, end exclusive, in characters.
            let chars: Vec<char> = arg(0).as_string().chars().collect();
            let len = chars.len() as f64;
            let clamp = |n: f64| if n.is_nan() { 0.0 } else { n.clamp(0.0, len) } as usize;
            let start = clamp(arg(1).as_number().trunc());
            let end = if args.len() > 2 {
                clamp(arg(2).as_number().trunc())
            } else {
                chars.len()
            };
            Value::Str(if start < end {
                chars[start..end].iter().collect()
            } else {
                String::new()
            })
        }
        "substring-before" | "substring-after" => {
            let (s, sep) = (arg(0).as_string(), arg(1).as_string());
            Value::Str(match s.split_once(&sep) {
                Some((before, after)) => if f == "substring-before" {
                    before
                } else {
                    after
                }
                .into(),
                None => String::new(),
            })
        }
        "ends-with" => Value::Bool(arg(0).as_string().ends_with(&arg(1).as_string())),
        "translate" => {
            let (from, to): (Vec<char>, Vec<char>) = (
                arg(1).as_string().chars().collect(),
                arg(2).as_string().chars().collect(),
            );
            Value::Str(
                arg(0)
                    .as_string()
                    .chars()
                    .filter_map(|c| match from.iter().position(|&x| x == c) {
                        Some(i) => to.get(i).copied(),
                        None => Some(c),
                    })
                    .collect(),
            )
        }
        "normalize-space" => Value::Str(
            arg(0)
                .as_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "join" => {
            let sep = arg(0).as_string();
            let all: Vec<String> = (1..args.len()).flat_map(|i| nodes(arg(i))).collect();
            Value::Str(all.join(&sep))
        }
        "selected-at" => {
            let n = arg(1).as_number();
            let v = arg(0).as_string();
            Value::Str(if n.is_finite() && n >= 0.0 {
                v.split_whitespace()
                    .nth(n as usize)
                    .unwrap_or_default()
                    .to_string()
            } else {
                String::new()
            })
        }
        "count-non-empty" => Value::Num(match arg(0) {
            Value::Nodes(v) => v.iter().filter(|s| !s.is_empty()).count(),
            other => usize::from(!other.as_string().is_empty()),
        } as f64),
        "floor" => Value::Num(arg(0).as_number().floor()),
        "ceiling" => Value::Num(arg(0).as_number().ceil()),
        "abs" => Value::Num(arg(0).as_number().abs()),
        "pow" => Value::Num(arg(0).as_number().powf(arg(1).as_number())),
        // The value is computed once, then kept: the question's own value wins when it has one.
        "once" => {
            let own = env.current();
            if own.as_string().is_empty() {
                arg(0)
            } else {
                own
            }
        }
        "indexed-repeat" => {
            let Some(Expr::Ref(name)) = args.first() else {
                return Value::Str(String::new());
            };
            let mut instances = Vec::new();
            for pair in args[1..].chunks(2) {
                if let [Expr::Ref(repeat), index] = pair {
                    let n = evaluate(index, env).as_number();
                    if !(n.is_finite() && n >= 1.0) {
                        return Value::Str(String::new());
                    }
                    instances.push((repeat.clone(), n as usize));
                }
            }
            env.indexed(name, &instances)
        }
        "choice-name" => match &args[1] {
            Expr::Ref(question) => {
                Value::Str(env.choice_label(question, arg(0).as_string().trim()))
            }
            _ => Value::Str(String::new()),
        },
        "pulldata" => {
            let file = super::data_file_name(&arg(0).as_string());
            Value::Str(env.pulldata(
                &file,
                arg(1).as_string().trim(),
                arg(2).as_string().trim(),
                arg(3).as_string().trim(),
            ))
        }
        _ => Value::Str(String::new()),
    }
}

/// The area (m², of the polygon the points enclose) or length (m, along the points) of a
/// geoshape / geotrace value, on a sphere of the WGS 84 equatorial radius; NaN when the value is
/// not points.
fn geo_measure(value: &str, area: bool) -> f64 {
    const R: f64 = 6_378_137.0;
    let Ok(points) = crate::geo::parse(value) else {
        return f64::NAN;
    };
    let ll: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.0[0].to_radians(), p.0[1].to_radians()))
        .collect();
    if area {
        if ll.len() < 3 {
            return 0.0;
        }
        // spherical excess of the polygon, summed edge by edge
        let mut sum = 0.0;
        for i in 0..ll.len() {
            let (p1, p2) = (ll[i], ll[(i + 1) % ll.len()]);
            sum += (p2.1 - p1.1) * (2.0 + p1.0.sin() + p2.0.sin());
        }
        (sum * R * R / 2.0).abs()
    } else {
        ll.windows(2)
            .map(|w| {
                let (a, b) = (w[0], w[1]);
                let h = ((b.0 - a.0) / 2.0).sin().powi(2)
                    + a.0.cos() * b.0.cos() * ((b.1 - a.1) / 2.0).sin().powi(2);
                2.0 * R * h.sqrt().asin()
            })
            .sum()
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
