//! Property tests of the expression parser and evaluator: nothing panics, whatever is typed
//! into a spreadsheet cell; and what the printer writes, the parser reads back as the same tree.

use proptest::prelude::*;
use stopover_forms::expr::{BinOp, Date, Env, Expr, FUNCTIONS, Value, evaluate, parse};

/// Answers for any name: a few kinds of values, and node-sets for names starting with `r`.
struct AnyEnv;

impl Env for AnyEnv {
    fn reference(&self, name: &str) -> Value {
        match name.len() % 5 {
            0 => Value::Str(String::new()),
            1 => Value::Str("12".into()),
            2 => Value::Str("2026-02-28".into()),
            3 if name.starts_with('r') => Value::Nodes(vec!["1".into(), "".into(), "x y".into()]),
            _ => Value::Str(name.to_string()),
        }
    }
    fn current(&self) -> Value {
        Value::Str("7".into())
    }
    fn column(&self, name: &str) -> Value {
        Value::Str(name.to_uppercase())
    }
    fn position(&self) -> Option<usize> {
        Some(2)
    }
    fn today(&self) -> Date {
        Date::from_ymd(2026, 6, 1).unwrap()
    }
}

const KEYWORDS: &[&str] = &["and", "or", "div", "mod"];

fn name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,6}".prop_filter("not an operator word", |n| !KEYWORDS.contains(&n.as_str()))
}

fn op() -> impl Strategy<Value = BinOp> {
    use BinOp::*;
    prop::sample::select(vec![
        Or, And, Eq, Ne, Lt, Le, Gt, Ge, Add, Sub, Mul, Div, Mod,
    ])
}

/// Trees the parser can produce: numbers without a sign (a minus is `Neg`), strings that one
/// kind of quote can hold, predicates only after references, functions with a valid number of
/// arguments (those whose arguments name questions are left out).
fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (0u32..100_000, 0u32..4).prop_map(|(n, d)| Expr::Num(f64::from(n) / 10f64.powi(d as i32))),
        any::<u64>().prop_map(|n| Expr::Num(n as f64 * 1e6)),
        "[^'\"\\\\]{0,8}".prop_map(Expr::Str),
        "[^'\"]{0,4}'[^'\"]{0,4}".prop_map(Expr::Str),
        name().prop_map(Expr::Ref),
        name().prop_map(Expr::Column),
        Just(Expr::Current),
        Just(Expr::Parent),
    ];
    let callable: Vec<(&'static str, usize, usize)> = FUNCTIONS
        .iter()
        .copied()
        .filter(|(f, ..)| !matches!(*f, "indexed-repeat" | "choice-name"))
        .collect();
    leaf.prop_recursive(5, 48, 4, move |inner| {
        let callable = callable.clone();
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Neg(Box::new(e))),
            (op(), inner.clone(), inner.clone()).prop_map(|(o, a, b)| Expr::Bin(
                o,
                Box::new(a),
                Box::new(b)
            )),
            (name(), inner.clone())
                .prop_map(|(r, p)| Expr::Filter(Box::new(Expr::Ref(r)), Box::new(p))),
            (
                prop::sample::select(callable),
                prop::collection::vec(inner, 0..5)
            )
                .prop_map(|((f, min, max), mut args)| {
                    while args.len() < min {
                        args.push(Expr::Num(1.0));
                    }
                    args.truncate(max.min(args.len().max(min)));
                    Expr::Call(f.to_string(), args)
                }),
        ]
    })
}

/// Text shaped like expressions: their tokens in any order, plus any characters.
fn expression_like() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("${a}".to_string()),
        Just("${".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("’".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just(".".to_string()),
        Just("..".to_string()),
        Just("-".to_string()),
        Just(" and ".to_string()),
        Just(" div ".to_string()),
        Just("!=".to_string()),
        Just("<=".to_string()),
        Just("today()".to_string()),
        Just("selected(".to_string()),
        Just("jr:choice-name(".to_string()),
        Just("indexed-repeat(".to_string()),
        Just("pulldata(".to_string()),
        "[0-9.]{1,4}",
        "[a-z:-]{1,5}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(token, 0..24).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn printed_expressions_parse_back_to_the_same_tree(e in expr()) {
        let text = e.to_string();
        prop_assert_eq!(parse(&text), Ok(e), "printed as {}", text);
    }

    #[test]
    fn generated_trees_evaluate_without_panicking(e in expr()) {
        let _ = evaluate(&e, &AnyEnv).as_string();
    }

    #[test]
    fn any_text_parses_or_is_refused_without_panicking(s in any::<String>()) {
        if let Ok(e) = parse(&s) {
            let _ = evaluate(&e, &AnyEnv);
        }
    }

    #[test]
    fn expression_like_text_never_panics(s in expression_like()) {
        match parse(&s) {
            Ok(e) => {
                let _ = evaluate(&e, &AnyEnv).as_string();
                // and what parses, prints to something that parses to the same tree
                prop_assert_eq!(parse(&e.to_string()), Ok(e));
            }
            Err(err) => {
                let len = s.chars().count() + 1;
                prop_assert!(err.position >= 1 && err.position <= len, "{} in {:?}", err.position, s);
            }
        }
    }
}

/// Dates far outside any calendar a report uses: no overflow, no panic.
#[test]
fn huge_dates_do_not_overflow() {
    for src in [
        "today() + 99999999999999999999",
        "today() - 99999999999999999999",
        "date(99999999999999999999)",
        "date(-99999999999999999999) + 1",
        "string(today() + 9999999999)",
        "decimal-date-time(date(99999999999999999999))",
        "format-date-time(1)",
    ] {
        if let Ok(e) = parse(src) {
            let _ = evaluate(&e, &AnyEnv).as_string();
        }
    }
}
