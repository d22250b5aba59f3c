//! End to end through the real app window: tauri-driver + WebKitWebDriver, the app built
//! with its UI embedded, a fresh data folder. Needs a display and a session bus, so it is
//! `#[ignore]`d in plain `cargo test` and run by `make test` under
//! `dbus-run-session -- xvfb-run -a` with `--ignored`.

use fantoccini::Locator;
use stopover_tests::app::{Driver, testid};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tauri-driver, Xvfb and D-Bus: run by `make test`"]
async fn search_read_switch_language_tick_and_survive_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path());
    let app = driver.launch().await;
    app.screenshot("home").await;

    // Search "credentials" and open the first result.
    app.click_testid("nav-search").await;
    let input = app.wait_testid("search-input").await;
    input.send_keys("credentials").await.unwrap();
    let results = app.wait_all("search-result").await;
    let first_href = results[0]
        .attr("href")
        .await
        .unwrap()
        .expect("a result links to its item");
    let first_title = results[0].text().await.unwrap();
    assert!(
        first_title.to_lowercase().contains("credential")
            || first_title.to_lowercase().contains("meeting"),
        "first result: {first_title}"
    );
    app.screenshot("search").await;
    results[0].click().await.unwrap();
    let expected_hash = first_href.trim_start_matches(|c| c != '#').to_string();
    app.wait_js(
        "the first result's route",
        &format!("return location.hash === {expected_hash:?}"),
    )
    .await;
    let view = if expected_hash.starts_with("#/checklists/") {
        "checklist"
    } else {
        "reader"
    };
    let body = app.wait_testid(view).await.text().await.unwrap();
    assert!(
        body.to_lowercase().contains("credential"),
        "the opened item talks about credentials"
    );
    app.screenshot("reader").await;

    // Switch to French and search "lettres de créance".
    let select = app.wait_testid("lang-select").await;
    select.select_by_value("fr").await.unwrap();
    app.wait_js("French UI", "return document.documentElement.lang === 'fr'")
        .await;
    app.click_testid("nav-search").await;
    let input = app.wait_testid("search-input").await;
    input.clear().await.unwrap();
    input.send_keys("lettres de créance").await.unwrap();
    app.wait_js(
        "French results highlighting créance",
        &format!(
            "const r = document.querySelectorAll('{}'); return r.length > 0 && [...r].some(e => /créance/i.test(e.textContent))",
            testid("search-result")
        ),
    )
    .await;

    // Tick the first item of the first checklist.
    app.click_testid("nav-checklists").await;
    app.wait_all("checklist-open").await[0]
        .click()
        .await
        .unwrap();
    let item = app.wait_all("checklist-item").await.remove(0);
    let checkbox = item
        .find(Locator::Css("input[type=checkbox]"))
        .await
        .unwrap();
    assert!(
        !checkbox.is_selected().await.unwrap(),
        "a fresh install starts unticked"
    );
    checkbox.click().await.unwrap();
    app.wait_js(
        "the tick to be saved",
        &format!(
            "return document.querySelector('{} input[type=checkbox]').checked",
            testid("checklist-item")
        ),
    )
    .await;
    // The UI only shows progress once the back end has answered, i.e. the tick is on disk.
    app.wait_js("progress 1 of N", "return /\\b1\\b/.test(document.querySelector('[data-testid=progress]')?.textContent ?? '')")
        .await;
    app.screenshot("checklist-fr").await;
    app.quit().await;

    // Relaunch: still ticked, and still in French.
    let app = driver.launch().await;
    app.wait_js(
        "French restored",
        "return document.documentElement.lang === 'fr'",
    )
    .await;
    app.click_testid("nav-checklists").await;
    app.wait_all("checklist-open").await[0]
        .click()
        .await
        .unwrap();
    let item = app.wait_all("checklist-item").await.remove(0);
    let checkbox = item
        .find(Locator::Css("input[type=checkbox]"))
        .await
        .unwrap();
    assert!(
        checkbox.is_selected().await.unwrap(),
        "the tick survived the restart"
    );
    app.quit().await;
}
