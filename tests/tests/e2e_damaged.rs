//! End to end: what a person sees when the content pack is damaged or the database comes
//! from a newer Stopover — a clear screen, and their own data intact. Run by `make test`.

use std::path::PathBuf;
use stopover_tests::copy_dir;

use fantoccini::Locator;
use stopover_tests::app::{App, Driver};

fn assets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets")
}

async fn first_step_checkbox(app: &App) -> fantoccini::elements::Element {
    app.click_testid("nav-checklists").await;
    app.wait_all("checklist-open").await[0]
        .click()
        .await
        .unwrap();
    let item = app.wait_all("checklist-item").await.remove(0);
    item.find(Locator::Css("input[type=checkbox]"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tauri-driver, Xvfb and D-Bus: run by `make test`"]
async fn a_damaged_pack_is_explained_and_the_users_ticks_survive() {
    let data = tempfile::tempdir().unwrap();
    let pack = tempfile::tempdir().unwrap();
    copy_dir(&assets(), pack.path());

    // A good pack first, and a tick.
    {
        let driver = Driver::start_with_env(data.path(), &[("STOPOVER_CONTENT_DIR", pack.path())]);
        let app = driver.launch().await;
        first_step_checkbox(&app).await.click().await.unwrap();
        app.wait_js("progress saved", "return /\\b1\\b/.test(document.querySelector('[data-testid=progress]')?.textContent ?? '')").await;
        app.quit().await;
    }

    // Then the pack is damaged: the error screen names the file, and the user can go on.
    std::fs::write(
        pack.path().join("manual/fr/meetings.md"),
        "+++\ntitle = \"Réunions\"\nsummary = 42\n+++\n",
    )
    .unwrap();
    let driver = Driver::start_with_env(data.path(), &[("STOPOVER_CONTENT_DIR", pack.path())]);
    let app = driver.launch_to_any().await;
    let screen = app.wait_testid("error-screen").await.text().await.unwrap();
    assert!(
        screen.contains("manual/fr/meetings.md"),
        "the screen names the file: {screen}"
    );
    assert!(screen.contains("line 3"), "and the line: {screen}");
    let safe = app
        .wait_testid("user-data-safe")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        safe.contains('1'),
        "it reassures that the tick is safe: {safe}"
    );
    app.click_testid("continue-installed").await;
    app.wait_testid("degraded-banner").await;
    assert!(
        first_step_checkbox(&app).await.is_selected().await.unwrap(),
        "the tick is still there"
    );
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tauri-driver, Xvfb and D-Bus: run by `make test`"]
async fn a_database_from_a_newer_stopover_is_refused_and_left_alone() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("stopover.sqlite3");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE future (x); INSERT INTO future VALUES ('keep me'); PRAGMA user_version = 99;").unwrap();
    }
    let before = std::fs::read(&db).unwrap();

    let driver = Driver::start(data.path());
    let app = driver.launch_to_any().await;
    let screen = app.wait_testid("error-screen").await.text().await.unwrap();
    assert!(screen.contains("newer version of Stopover"), "{screen}");
    app.quit().await;
    drop(driver);

    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the newer database is untouched"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tauri-driver, Xvfb and D-Bus: run by `make test`"]
async fn a_damaged_database_is_recovered_from_the_error_screen_and_the_tick_survives() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("stopover.sqlite3");
    {
        let driver = Driver::start(data.path());
        let app = driver.launch().await;
        first_step_checkbox(&app).await.click().await.unwrap();
        app.wait_js("progress saved", "return /\\b1\\b/.test(document.querySelector('[data-testid=progress]')?.textContent ?? '')").await;
        app.quit().await;
    }

    // Garbage over the bookmarks table's page: one of the person's tables is damaged.
    let page = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
        let root: i64 = conn
            .query_row(
                "SELECT rootpage FROM sqlite_schema WHERE name = 'bookmark'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let size: i64 = conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .unwrap();
        (root, size)
    };
    let mut bytes = std::fs::read(&db).unwrap();
    let at = ((page.0 - 1) * page.1) as usize;
    bytes[at..at + page.1 as usize].fill(0xA5);
    std::fs::write(&db, &bytes).unwrap();

    let driver = Driver::start(data.path());
    let app = driver.launch_to_any().await;
    let file = app.wait_testid("damaged-file").await.text().await.unwrap();
    assert!(
        file.ends_with("stopover.sqlite3"),
        "the file is named: {file}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), bytes, "nothing written to it");
    app.click_testid("recover-data").await;
    let kept = app
        .wait_testid("recovery-damaged-file")
        .await
        .text()
        .await
        .unwrap();
    assert!(kept.contains(".damaged-"), "{kept}");
    assert_eq!(
        std::fs::read(&kept).unwrap(),
        bytes,
        "the damaged file is kept"
    );
    app.click_testid("recovery-continue").await;
    app.wait_testid("nav-home").await;
    assert!(
        first_step_checkbox(&app).await.is_selected().await.unwrap(),
        "the tick came back"
    );
    app.quit().await;
}
