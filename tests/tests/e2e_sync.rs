//! End to end: the real app signs in to the real ecommunity server through its sign-in page,
//! keeps the device token only in the real OS keyring (gnome-keyring in a private D-Bus
//! session), and a checklist tick reaches the server exactly once. Run by `make test`.

use fantoccini::Locator;
use stopover_core::secrets::{KeyringStore, SecretStore};
use stopover_core::sync::{normalize_server_url, token_key};
use stopover_tests::api::Api;
use stopover_tests::app::{App, Driver, testid};
use stopover_tests::server::{NewUser, Server};

async fn sync_state_is(app: &App, state: &str) {
    app.wait_js(
        &format!("sync state `{state}`"),
        &format!(
            "return document.querySelector('{}')?.dataset.state === '{state}'",
            testid("sync-status")
        ),
    )
    .await;
}

/// Every file in `dir` (database, WAL, anything), searched for `needle` as raw bytes.
fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            hits.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        {
            hits.push(path.display().to_string());
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tauri-driver, Xvfb, D-Bus and gnome-keyring: run by `make test`"]
async fn sign_in_from_the_app_and_sync_a_tick_with_the_token_only_in_the_keyring() {
    let server = Server::start();
    let user = NewUser::nfp("amina", "KE");
    server.user_add_approved(&user);

    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path());
    let app = driver.launch().await;
    sync_state_is(&app, "signed_out").await;

    // Sign in through the page, as a person would.
    app.click_testid("nav-sync").await;
    app.wait_testid("signin-server")
        .await
        .send_keys(&server.base_url)
        .await
        .unwrap();
    app.wait_testid("signin-user")
        .await
        .send_keys(&user.username)
        .await
        .unwrap();
    app.wait_testid("signin-password")
        .await
        .send_keys(&user.password)
        .await
        .unwrap();
    app.click_testid("signin-submit").await;
    sync_state_is(&app, "up_to_date").await;

    // Tick a step: it waits, then goes out (the app syncs by itself after a short pause).
    app.click_testid("nav-checklists").await;
    app.wait_all("checklist-open").await[0]
        .click()
        .await
        .unwrap();
    let item = app.wait_all("checklist-item").await.remove(0);
    item.find(Locator::Css("input[type=checkbox]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    sync_state_is(&app, "waiting").await;
    sync_state_is(&app, "up_to_date").await;

    // The server holds the tick exactly once, visible to the same account on another device.
    let token2 = server.sign_in(&user.username, &user.password).await;
    let other_device = Api::new(&server.base_url).with_token(&token2);
    let (changes, _) = other_device.pull_all(0).await.unwrap();
    let done: Vec<_> = changes
        .iter()
        .filter(|c| c.entity.kind == "checklist_progress" && c.field == "done")
        .collect();
    assert_eq!(done.len(), 1, "exactly one tick on the server: {changes:?}");
    assert_eq!(done[0].value, serde_json::json!(true));

    // "Sync now" works by hand too.
    app.click_testid("sync-now").await;
    sync_state_is(&app, "up_to_date").await;
    app.click_testid("nav-sync").await;
    app.wait_testid("sync-page").await;
    app.screenshot("sync").await;
    app.quit().await;

    // The token is in the OS keyring, and nowhere in the data folder or the app's logs.
    let url = normalize_server_url(&server.base_url).unwrap();
    let token = KeyringStore::new()
        .get(&token_key(&url))
        .unwrap()
        .expect("the device token is in the keyring");
    assert!(token.len() >= 32);
    assert_eq!(
        files_containing(data.path(), &token),
        Vec::<String>::new(),
        "token found in the data folder"
    );
    assert!(
        !driver.log().contains(&token),
        "token found in the app's logs"
    );
    assert!(
        !driver.log().contains(&user.password),
        "password found in the app's logs"
    );
}
