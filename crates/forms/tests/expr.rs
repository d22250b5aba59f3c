use std::collections::HashMap;
use stopover_forms::expr::{Date, Env, Expr, Value, evaluate, parse};

struct TestEnv {
    vars: HashMap<&'static str, Value>,
    current: &'static str,
    pos: Option<usize>,
}

impl Env for TestEnv {
    fn reference(&self, name: &str) -> Value {
        self.vars
            .get(name)
            .cloned()
            .unwrap_or(Value::Str(String::new()))
    }
    fn current(&self) -> Value {
        Value::Str(self.current.into())
    }
    fn column(&self, name: &str) -> Value {
        Value::Str(if name == "country" {
            "fr".into()
        } else {
            String::new()
        })
    }
    fn position(&self) -> Option<usize> {
        self.pos
    }
    fn today(&self) -> Date {
        Date::from_ymd(2026, 3, 15).unwrap()
    }
}

fn env() -> TestEnv {
    let mut vars = HashMap::new();
    vars.insert("a", Value::Str("3".into()));
    vars.insert("b", Value::Str("4".into()));
    vars.insert("empty", Value::Str(String::new()));
    vars.insert("name", Value::Str("Ana".into()));
    vars.insert("multi", Value::Str("red blue".into()));
    vars.insert("d", Value::Str("2026-03-01".into()));
    vars.insert(
        "nodes",
        Value::Nodes(vec!["1".into(), "2".into(), "5".into()]),
    );
    vars.insert("status", Value::Nodes(vec!["ok".into(), "bad".into()]));
    TestEnv {
        vars,
        current: "hello",
        pos: Some(2),
    }
}

fn ev(src: &str) -> Value {
    evaluate(&parse(src).unwrap_or_else(|e| panic!("{src}: {e}")), &env())
}
fn s(src: &str) -> String {
    ev(src).as_string()
}
fn b(src: &str) -> bool {
    ev(src).as_bool()
}
fn n(src: &str) -> f64 {
    ev(src).as_number()
}

#[test]
fn literals_and_arithmetic() {
    assert_eq!(n("1 + 2 * 3"), 7.0);
    assert_eq!(n("(1 + 2) * 3"), 9.0);
    assert_eq!(n("7 div 2"), 3.5);
    assert_eq!(n("7 mod 3"), 1.0);
    assert_eq!(n("-3 + 1"), -2.0);
    assert_eq!(n("- ${a}"), -3.0);
    assert_eq!(n("10 - 2 - 3"), 5.0, "left associative");
    assert_eq!(n(".5 + 1"), 1.5);
    assert_eq!(s("\"it's\""), "it's");
    assert!(
        parse("'it''s'").is_err(),
        "XPath 1.0 has no doubled-quote escape"
    );
}

#[test]
fn references_and_current() {
    assert_eq!(n("${a} * ${b}"), 12.0);
    assert_eq!(s("."), "hello");
    assert!(
        n("${empty} + 1").is_nan(),
        "empty string is NaN in arithmetic"
    );
    assert_eq!(s("${empty} + 1"), "", "NaN formats as empty");
}

#[test]
fn comparisons() {
    assert!(b("${a} = 3"));
    assert!(b("${a} = '3'"));
    assert!(b("${a} != 4"));
    assert!(b("${a} < ${b}"));
    assert!(b("${a} <= 3"));
    assert!(b("${b} > ${a}"));
    assert!(b("${b} >= 4"));
    assert!(b("${name} = 'Ana'"));
    assert!(!b("${name} = 'ana'"));
    assert!(b("'10' > '9'"), "relational compares numbers");
    assert!(b("${empty} = ''"));
    assert!(!b("${empty} > 0"));
}

#[test]
fn logic() {
    assert!(b("${a} = 3 and ${b} = 4"));
    assert!(b("${a} = 1 or ${b} = 4"));
    assert!(!b("not(${a} = 3)"));
    assert!(b("1 = 1 or 1 = 2 and 1 = 2"), "and binds tighter than or");
    assert!(b("true()") && !b("false()"));
    assert!(!b("${empty}"));
    assert!(b("${name}"));
    assert!(b("boolean(1)"));
}

#[test]
fn functions() {
    assert_eq!(s("if(${a} > 2, 'big', 'small')"), "big");
    assert_eq!(s("if(${a} > 5, 'big', 'small')"), "small");
    assert!(b("selected(${multi}, 'blue')"));
    assert!(!b("selected(${multi}, 'green')"));
    assert_eq!(n("count-selected(${multi})"), 2.0);
    assert_eq!(n("count-selected(${empty})"), 0.0);
    assert_eq!(n("count(${nodes})"), 3.0);
    assert_eq!(n("sum(${nodes})"), 8.0);
    assert_eq!(n("min(${nodes})"), 1.0);
    assert_eq!(n("max(${nodes}, 7)"), 7.0);
    assert_eq!(n("string-length(${name})"), 3.0);
    assert_eq!(n("string-length('été')"), 3.0, "characters, not bytes");
    assert!(b("regex(${name}, '^[A-Z][a-z]+$')"));
    assert!(!b("regex('abc1', '^[a-z]+$')"));
    assert!(!b("regex('x', '(')"), "an invalid pattern is false");
    assert_eq!(s("coalesce(${empty}, 'fallback')"), "fallback");
    assert_eq!(s("coalesce(${name}, 'fallback')"), "Ana");
    assert_eq!(s("concat(${name}, '-', ${a}, 1 + 1)"), "Ana-32");
    assert_eq!(s("concat(${nodes})"), "125");
    assert!(b("contains(${name}, 'n')"));
    assert!(b("starts-with(${name}, 'A')"));
    assert_eq!(n("int(3.7)"), 3.0);
    assert_eq!(n("round(2.5)"), 3.0);
    assert_eq!(n("round(2.71828, 2)"), 2.72);
    assert_eq!(n("number('12')"), 12.0);
    assert_eq!(s("string(12)"), "12");
    assert_eq!(n("position(..)"), 2.0);
    assert_eq!(
        s("jr:choice-name-is-unknown"),
        "",
        "bare names are choice columns"
    );
}

#[test]
fn dates() {
    assert_eq!(s("today()"), "2026-03-15");
    assert!(b("${d} < today()"));
    assert!(b("today() > ${d}"));
    assert!(b("${d} = date('2026-03-01')"));
    assert_eq!(n("today() - ${d}"), 14.0);
    assert_eq!(s("today() + 20"), "2026-04-04");
    assert_eq!(
        Date::parse("2024-02-29").map(|d| d.to_string()),
        Some("2024-02-29".into())
    );
    assert_eq!(Date::parse("2023-02-29"), None);
    assert_eq!(Date::from_ymd(1970, 1, 1), Some(Date(0)));
    assert_eq!(Date(-1).to_string(), "1969-12-31");
}

#[test]
fn node_sets_compare_existentially() {
    assert!(b("${status} = 'bad'"));
    assert!(!b("${status} = 'missing'"));
    assert!(b("count(${status}) = 2"));
}

#[test]
fn choice_filter_columns() {
    assert!(b("country = 'fr'"));
    assert!(!b("country = 'es'"));
}

#[test]
fn parse_tree_and_references() {
    let e = parse("${a} + ${b} * 2 > . and selected(${m}, 'x')").unwrap();
    let refs: Vec<String> = e.references().into_iter().collect();
    assert_eq!(refs, vec!["a", "b", "m"]);
    assert!(e.uses_current());
    assert_eq!(parse("-1").unwrap(), Expr::Neg(Box::new(Expr::Num(1.0))));
}

#[test]
fn syntax_errors_with_position() {
    let cases = [
        ("${a} +", 7, "unexpected end of expression"),
        ("${a} = 'x", 8, "unterminated string literal"),
        ("foo(1)", 1, "unknown function 'foo()'"),
        ("if(1, 2)", 1, "if() takes 3 argument(s), got 2"),
        ("(1 + 2", 7, "expected ')' before the end"),
        ("1 + # 2", 5, "unexpected character '#'"),
        ("${a b}", 1, "invalid reference name 'a b'"),
        ("1 2", 3, "unexpected token after the end of the expression"),
        ("${a", 1, "unterminated ${…} reference"),
        ("", 1, "empty expression"),
        ("1 ! 2", 3, "'!' must be followed by '='"),
    ];
    for (src, pos, msg) in cases {
        let e = parse(src).expect_err(src);
        assert_eq!((e.position, e.message.as_str()), (pos, msg), "{src}");
    }
    assert_eq!(
        parse("${a} +").unwrap_err().to_string(),
        "syntax error at character 7: unexpected end of expression"
    );
}
