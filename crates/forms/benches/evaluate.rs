//! Re-evaluation cost per answer change on a synthetic form: 1,000 questions in 10 sections
//! (gated follow-ups, constraints, calculations) and a repeat filled with 500 rows.
//! Target: ≤ 5 ms per change.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use stopover_forms::*;

fn synthetic_form() -> String {
    let mut s = String::from(
        "[survey]\ntype | name | label | relevant | required | constraint | calculation\n",
    );
    for sec in 0..10 {
        s += &format!("begin_group | sec{sec} | Section {sec}\n");
        s += &format!("select_one yn | gate{sec} | Gate | | yes\n");
        for q in 0..90 {
            match q % 3 {
                0 => s += &format!("text | t{sec}_{q} | T | ${{gate{sec}}} = 'yes' | yes\n"),
                1 => {
                    s += &format!("integer | i{sec}_{q} | I | ${{gate{sec}}} = 'yes' | | . >= 0\n")
                }
                _ => {
                    s += &format!(
                        "calculate | c{sec}_{q} | | | | | ${{i{sec}_{}}} * 2\n",
                        q - 1
                    )
                }
            }
        }
        s += "end_group\n";
    }
    s += "begin_group | sp | Species\nbegin_repeat | species | Species\n";
    s += "text | sp_name | Name | | yes\ninteger | pop | Population | | | . >= 0\n";
    s += "select_one st | status | Status\ntext | why | Why | ${status} = 'declining' | yes\n";
    s += "calculate | share | | | | | ${pop} div ${total}\n";
    s += "end_repeat\ncalculate | total | | | | | sum(${pop})\ncalculate | rows | | | | | count(${species})\nend_group\n";
    s += "[choices]\nlist_name | name | label\nyn | yes | Yes\nyn | no | No\nst | stable | Stable\nst | declining | Declining\n";
    s
}

fn answers() -> Answers {
    let mut a = Answers::new();
    for r in 1..=500 {
        a.insert(format!("sp/species[{r}]/sp_name"), format!("Species {r}"));
        a.insert(format!("sp/species[{r}]/pop"), format!("{r}"));
        a.insert(
            format!("sp/species[{r}]/status"),
            if r % 2 == 0 { "stable" } else { "declining" }.into(),
        );
    }
    a
}

fn bench(c: &mut Criterion) {
    let form = Arc::new(load_text(&synthetic_form()).expect("synthetic form loads"));
    let ctx = EvalContext {
        today: Date::from_ymd(2026, 1, 1).expect("date"),
    };
    c.bench_function("load synthetic form", |b| {
        b.iter(|| load_text(black_box(&synthetic_form())))
    });
    c.bench_function("full evaluation", |b| {
        b.iter(|| FormState::new(form.clone(), answers(), ctx))
    });
    let mut st = FormState::new(form.clone(), answers(), ctx);
    let mut n = 0u64;
    c.bench_function("change: section gate", |b| {
        b.iter(|| {
            n += 1;
            st.set_answer("sec3/gate3", if n.is_multiple_of(2) { "yes" } else { "no" });
        })
    });
    c.bench_function("change: plain integer", |b| {
        b.iter(|| {
            n += 1;
            st.set_answer("sec5/i5_10", n.to_string());
        })
    });
    c.bench_function("change: repeat row feeding a sum", |b| {
        b.iter(|| {
            n += 1;
            st.set_answer("sp/species[250]/pop", n.to_string());
        })
    });
    c.bench_function("change: repeat row status", |b| {
        b.iter(|| {
            n += 1;
            st.set_answer(
                "sp/species[250]/status",
                if n.is_multiple_of(2) {
                    "stable"
                } else {
                    "declining"
                },
            );
        })
    });
    c.bench_function("completion + issues", |b| {
        b.iter(|| (st.completion(), st.issues("en").len()))
    });

    // The shipped CMS national report, as the app opens a draft of it.
    let cms = include_str!("../../../assets/forms/cms-national-report.txt");
    c.bench_function("CMS form: load", |b| b.iter(|| load_text(black_box(cms))));
    let cms_form = Arc::new(load_text(cms).expect("the CMS form loads"));
    c.bench_function("CMS form: evaluate (empty draft)", |b| {
        b.iter(|| FormState::new(cms_form.clone(), Answers::new(), ctx))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
