use std::collections::HashMap;
use stopover_forms::expr::{Date, Env, Expr, Expression, Value, evaluate, parse};

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

#[test]
fn string_and_number_functions() {
    // substr(s, start[, end]): 0-based start, end exclusive, clamped
    assert_eq!(s("substr('abcdef', 1, 3)"), "bc");
    assert_eq!(s("substr('abcdef', 4)"), "ef");
    assert_eq!(s("substr('abc', 5)"), "");
    assert_eq!(s("substr('été', 0, 2)"), "ét", "characters, not bytes");
    assert_eq!(s("substring-before('a-b-c', '-')"), "a");
    assert_eq!(s("substring-after('a-b-c', '-')"), "b-c");
    assert_eq!(s("substring-after('abc', '-')"), "");
    assert!(b("ends-with(${name}, 'na')"));
    assert!(!b("ends-with(${name}, 'An')"));
    assert_eq!(
        s("translate('abcab', 'ab', 'A')"),
        "AcA",
        "b has no counterpart: dropped"
    );
    assert_eq!(s("normalize-space('  a   b ')"), "a b");
    assert_eq!(s("join(', ', ${nodes})"), "1, 2, 5");
    assert_eq!(s("selected-at(${multi}, 1)"), "blue");
    assert_eq!(s("selected-at(${multi}, 5)"), "");
    assert_eq!(n("count-non-empty(${nodes})"), 3.0);
    assert_eq!(n("count-non-empty(${empty})"), 0.0);
    assert_eq!(n("floor(-1.5)"), -2.0);
    assert_eq!(n("ceiling(1.2)"), 2.0);
    assert_eq!(n("abs(-3)"), 3.0);
    assert_eq!(n("pow(2, 10)"), 1024.0);
    assert!(b("boolean-from-string('true')"));
    assert!(b("boolean-from-string('1')"));
    assert!(
        !b("boolean-from-string('yes')"),
        "only 'true' and '1' are true"
    );
}

#[test]
fn once_keeps_the_current_value() {
    let e = parse("once(concat('x', ${a}))").unwrap();
    assert_eq!(
        evaluate(&e, &env()).as_string(),
        "hello",
        "current value wins"
    );
    let empty = TestEnv {
        current: "",
        ..env()
    };
    assert_eq!(
        evaluate(&e, &empty).as_string(),
        "x3",
        "computed when empty"
    );
    assert!(e.uses_current());
}

#[test]
fn predicates_filter_node_sets() {
    assert_eq!(
        ev("${nodes}[. > 1]"),
        Value::Nodes(vec!["2".into(), "5".into()])
    );
    assert_eq!(n("count(${nodes}[. > 1])"), 2.0);
    assert_eq!(s("${nodes}[2]"), "2", "a number picks by position");
    assert_eq!(s("${nodes}[position() = 3]"), "5");
    assert_eq!(n("sum(${nodes}[. != 2])"), 6.0);
    assert_eq!(s("${nodes}[. > 1][1]"), "2", "predicates chain");
    assert_eq!(n("count(${nodes}[. > 9])"), 0.0);
    assert!(b("${status}[. = 'bad']"), "non-empty node-set is true");
    assert_eq!(n("count(${a}[. = 3])"), 1.0, "a single value is one node");
    let e = parse("count(${nodes}[. > ${a}])").unwrap();
    assert_eq!(
        e.references().into_iter().collect::<Vec<_>>(),
        ["a", "nodes"]
    );
    assert!(!e.uses_current(), "'.' in a predicate is the node");
}

#[test]
fn indexed_repeat_and_choice_name_take_question_names() {
    assert_eq!(
        parse("indexed-repeat(${a}, ${r}, 1)").unwrap(),
        Expr::Call(
            "indexed-repeat".into(),
            vec![Expr::Ref("a".into()), Expr::Ref("r".into()), Expr::Num(1.0)]
        )
    );
    // the question named in a string becomes a reference (checked at load like any other)
    assert_eq!(
        parse("jr:choice-name(${x}, '${x}')").unwrap(),
        Expr::Call(
            "choice-name".into(),
            vec![Expr::Ref("x".into()), Expr::Ref("x".into())]
        )
    );
    // without a form behind it, an Env answers empty
    assert_eq!(s("indexed-repeat(${a}, ${r}, 1)"), "");
    assert_eq!(s("jr:choice-name(${a}, '${a}')"), "");
}

#[test]
fn refused_functions_say_why() {
    for (src, start) in [
        ("instance('list')", "instance() reads a secondary instance"),
        (
            "once(uuid())",
            "this function reads randomness or device state",
        ),
        ("random()", "this function reads randomness or device state"),
    ] {
        let e = parse(src).expect_err(src);
        assert!(e.unsupported, "{src}");
        assert!(e.message.starts_with(start), "{src}: {}", e.message);
    }
    assert!(!parse("foo(1)").unwrap_err().unsupported);
    // pulldata() reads a CSV file attached to the form: parsed, and its file is named
    let e = Expression::parse("pulldata('fruits', 'name', 'key', ${a})").unwrap();
    assert_eq!(
        e.ast.pulldata_files().into_iter().collect::<Vec<_>>(),
        ["fruits.csv"]
    );
    assert_eq!(
        parse("pulldata('fruits', 'name')").unwrap_err().message,
        "pulldata() takes 4 argument(s), got 2"
    );
}

#[test]
fn typographic_quotes_are_refused_with_the_fix() {
    for (src, pos, c, straight) in [
        ("${a} = ’yes’", 8, '’', "'"),
        ("${a} = “yes”", 8, '“', "\""),
        ("selected(${a}, ‘x’)", 16, '‘', "'"),
    ] {
        let e = parse(src).expect_err(src);
        assert_eq!(e.position, pos, "{src}");
        assert!(
            e.message.starts_with(&format!(
                "typographic quote '{c}': write a straight quote {straight} instead"
            )),
            "{src}: {}",
            e.message
        );
        assert!(e.message.contains("smart quotes"), "{}", e.message);
    }
}

#[test]
fn new_syntax_errors_with_position() {
    let cases = [
        (
            "'a'[1]",
            4,
            "a predicate [...] can only follow a ${name} reference",
        ),
        ("${a}[1", 7, "expected ']' before the end"),
        (
            "${a}]",
            5,
            "unexpected token after the end of the expression",
        ),
        ("[1]", 1, "unexpected '['"),
        (
            "indexed-repeat(${a}, ${r})",
            1,
            "indexed-repeat() takes 3 to 7 argument(s), got 2",
        ),
        (
            "indexed-repeat('a', ${r}, 1)",
            1,
            "indexed-repeat() argument 1 must be a question as ${name}",
        ),
        (
            "indexed-repeat(${a}, 2, 1)",
            1,
            "indexed-repeat() argument 2 must be a repeat as ${name}",
        ),
        (
            "indexed-repeat(${a}, ${r}, 1, ${s})",
            1,
            "indexed-repeat() takes a question, then pairs of a repeat and an index",
        ),
        (
            "jr:choice-name(${x}, 'x')",
            1,
            "jr:choice-name() needs the select question as its second argument, written '${name}'",
        ),
    ];
    for (src, pos, msg) in cases {
        let e = parse(src).expect_err(src);
        assert_eq!((e.position, e.message.as_str()), (pos, msg), "{src}");
    }
}
