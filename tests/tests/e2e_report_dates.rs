//! Dates in the app's language, through the real app window (issue 9): in French on an English
//! system, typing 2021-01-01 stores 2021-01-01 (it once stored 0001-12-01, the system's date
//! picker reading it month first), and so does 01/01/2021 typed day first; the field shows the
//! date day first and in French words; in English the words are English. Run by `make test-e2e`.

use stopover_tests::app::{App, Driver, question, stored_answers, testid};

const START: (&str, &str) = ("period_start", "general_info/period_start");
const END: (&str, &str) = ("period_end", "general_info/period_end");

async fn type_date(app: &App, name: &str, text: &str) {
    let field = app
        .find(&format!("{} {}", question(name), testid("answer-input")))
        .await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
    field.send_keys("\u{e004}").await.unwrap(); // Tab: leave the field
}

async fn shown(app: &App, name: &str) -> (String, String) {
    let value = app
        .client
        .execute(
            &format!(
                "return document.querySelector('{} {}').value",
                question(name),
                testid("answer-input")
            ),
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    let words = app
        .find(&format!("{} {}", question(name), testid("date-in-words")))
        .await
        .text()
        .await
        .unwrap();
    (value, words)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tauri-driver, Xvfb and D-Bus: run by `make test-e2e`"]
async fn dates_are_read_and_shown_in_the_apps_language_and_stored_as_iso() {
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path());
    let app = driver.launch().await;
    app.wait_testid("lang-select")
        .await
        .select_by_value("fr")
        .await
        .unwrap();
    app.new_report("cms-national-report", "COP15").await;
    app.open_section("general_info").await;

    let placeholder = app
        .find(&format!("{} {}", question(START.0), testid("answer-input")))
        .await
        .attr("placeholder")
        .await
        .unwrap();
    assert_eq!(placeholder.as_deref(), Some("JJ/MM/AAAA"));

    type_date(&app, START.0, "2021-01-01").await;
    type_date(&app, END.0, "31/12/2023").await;
    app.wait_saved().await;
    let stored = stored_answers(data.path());
    assert_eq!(stored.get(START.1).map(String::as_str), Some("2021-01-01"));
    assert_eq!(stored.get(END.1).map(String::as_str), Some("2023-12-31"));
    assert_eq!(
        shown(&app, START.0).await,
        ("01/01/2021".to_string(), "1 janvier 2021".to_string())
    );
    assert_eq!(
        shown(&app, END.0).await,
        ("31/12/2023".to_string(), "31 décembre 2023".to_string())
    );

    // What is not a date is kept as typed and said to be invalid, in French.
    type_date(&app, END.0, "31/02/2023").await;
    app.wait_saved().await;
    let issue = app
        .find(&format!("{} {}", question(END.0), testid("question-issue")))
        .await
        .text()
        .await
        .unwrap();
    assert!(!issue.is_empty(), "an invalid date is named");
    assert_eq!(
        stored_answers(data.path()).get(END.1).map(String::as_str),
        Some("31/02/2023")
    );

    // In English the same stored date reads in English words.
    app.wait_testid("lang-select")
        .await
        .select_by_value("en")
        .await
        .unwrap();
    app.wait_js(
        "the date in English words",
        &format!(
            "return document.querySelector('{} {}')?.textContent.includes('January 1, 2021')",
            question(START.0),
            testid("date-in-words")
        ),
    )
    .await;
    app.quit().await;
}
