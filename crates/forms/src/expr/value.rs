use std::cmp::Ordering;

/// A calendar date, stored as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i64);

impl Date {
    /// How far from 1970-01-01 a date may be, in days (back to the year -9999, and as far
    /// forward): arithmetic past that gives no date, never an overflow.
    pub const LIMIT: i64 = 4_371_587;

    /// Build a date from year, month (1-12) and day (1-31); `None` if it does not exist.
    pub fn from_ymd(y: i64, m: u32, d: u32) -> Option<Self> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(m);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date(era * 146_097 + doe - 719_468))
    }

    /// Year, month, day.
    pub fn ymd(self) -> (i64, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        (y, m, d)
    }

    /// Parse `YYYY-MM-DD` (anything after the date, such as a time, is ignored).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        if b.len() > 10 && b[10] != b'T' && b[10] != b' ' {
            return None;
        }
        let y = s.get(0..4)?.parse().ok()?;
        let m = s.get(5..7)?.parse().ok()?;
        let d = s.get(8..10)?.parse().ok()?;
        Self::from_ymd(y, m, d)
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// A dynamically typed value, XPath style.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Num(f64),
    Bool(bool),
    Date(Date),
    /// The values of several nodes (a reference from outside a repeat into it).
    Nodes(Vec<String>),
}

/// Format a number the way XForms does: integers without a fraction, NaN and infinities as "".
pub fn format_number(n: f64) -> String {
    if !n.is_finite() {
        String::new()
    } else if n == n.trunc() && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn str_to_num(s: &str) -> f64 {
    let t = s.trim();
    if t.is_empty() {
        return f64::NAN;
    }
    // XPath numbers: digits, optional sign and point; no exponent, no "inf"/"nan".
    if t.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
    {
        t.parse().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

impl Value {
    /// XPath `string()`: a node-set gives its first value.
    pub fn as_string(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Num(n) => format_number(*n),
            Value::Bool(b) => b.to_string(),
            Value::Date(d) => d.to_string(),
            Value::Nodes(v) => v.first().cloned().unwrap_or_default(),
        }
    }

    /// XPath `number()`: "" and non-numbers are NaN; dates are days since 1970-01-01.
    pub fn as_number(&self) -> f64 {
        match self {
            Value::Str(s) => match Date::parse(s) {
                Some(d) if s.trim().len() >= 10 => d.0 as f64,
                _ => str_to_num(s),
            },
            Value::Num(n) => *n,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Date(d) => d.0 as f64,
            Value::Nodes(v) => v
                .first()
                .map_or(f64::NAN, |s| Value::Str(s.clone()).as_number()),
        }
    }

    /// XPath `boolean()`, applied to values (a reference to an empty answer is false).
    pub fn as_bool(&self) -> bool {
        match self {
            Value::Str(s) => !s.is_empty(),
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Bool(b) => *b,
            Value::Date(_) => true,
            Value::Nodes(v) => !v.is_empty(),
        }
    }

    /// As a date, if it is one or parses as one.
    pub fn as_date(&self) -> Option<Date> {
        match self {
            Value::Date(d) => Some(*d),
            Value::Num(n) if n.is_finite() && n.abs() <= Date::LIMIT as f64 => {
                Some(Date(n.floor() as i64))
            }
            Value::Str(s) => Date::parse(s),
            Value::Nodes(v) => v.first().and_then(|s| Date::parse(s)),
            _ => None,
        }
    }

    fn items(&self) -> Vec<Value> {
        match self {
            Value::Nodes(v) => v.iter().map(|s| Value::Str(s.clone())).collect(),
            other => vec![other.clone()],
        }
    }
}

/// Compare two scalar values for `=`/`!=` (XPath 1.0 rules, with dates compared as dates).
fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Bool(_), _) | (_, Value::Bool(_)) => a.as_bool() == b.as_bool(),
        (Value::Date(x), o) | (o, Value::Date(x)) => o.as_date() == Some(*x),
        (Value::Num(_), _) | (_, Value::Num(_)) => a.as_number() == b.as_number(),
        _ => a.as_string() == b.as_string(),
    }
}

fn scalar_order(a: &Value, b: &Value) -> Option<Ordering> {
    let is_date = |v: &Value| matches!(v, Value::Date(_));
    if is_date(a) || is_date(b) {
        return a.as_date()?.partial_cmp(&b.as_date()?).or(None);
    }
    a.as_number().partial_cmp(&b.as_number())
}

/// `=`, `!=`: a node-set matches when any of its values does (XPath existential semantics).
pub(crate) fn equals(a: &Value, b: &Value) -> bool {
    let (xs, ys) = (a.items(), b.items());
    xs.iter().any(|x| ys.iter().any(|y| scalar_eq(x, y)))
}

pub(crate) fn not_equals(a: &Value, b: &Value) -> bool {
    let (xs, ys) = (a.items(), b.items());
    xs.iter().any(|x| ys.iter().any(|y| !scalar_eq(x, y)))
}

pub(crate) fn compare(a: &Value, b: &Value, ok: impl Fn(Ordering) -> bool) -> bool {
    let (xs, ys) = (a.items(), b.items());
    xs.iter()
        .any(|x| ys.iter().any(|y| scalar_order(x, y).is_some_and(&ok)))
}
