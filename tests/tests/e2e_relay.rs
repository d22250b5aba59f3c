//! End to end, in French then English: the real app syncs through a real `ecommunity relay`
//! whose uplink (a proxy) to the real server is cut. A tick shows as "at the relay" on the
//! Sync page and is not on the server; once the uplink is back it reaches the server exactly
//! once and the count goes; "Sync directly" goes back to the server. Run by `make test`.

use fantoccini::Locator;
use stopover_tests::api::Api;
use stopover_tests::app::{App, Driver, testid};
use stopover_tests::proxy::{Fault, Proxy};
use stopover_tests::relay::Relay;
use stopover_tests::server::{NewUser, Server};

async fn text_of(app: &App, id: &str) -> String {
    app.wait_testid(id).await.text().await.unwrap()
}

/// Waits until the element `id` shows text containing `needle`.
async fn shows(app: &App, id: &str, needle: &str) {
    app.wait_js(
        &format!("[data-testid={id}] to show {needle:?}"),
        &format!(
            "return (document.querySelector('{}')?.textContent ?? '').includes({})",
            testid(id),
            serde_json::to_string(needle).unwrap()
        ),
    )
    .await;
}

/// Scrolls the Sync page to the relay's section, for the screenshots.
async fn look_at_relay_section(app: &App) {
    app.wait_js(
        "the relay section in view",
        &format!(
            "document.querySelector('{}')?.scrollIntoView({{block: 'center'}}); return true",
            testid("relay")
        ),
    )
    .await;
}

async fn ticks_on_server(server: &Server, user: &NewUser) -> Vec<serde_json::Value> {
    let token = server.sign_in(&user.username, &user.password).await;
    let (changes, _) = Api::new(&server.base_url)
        .with_token(&token)
        .pull_all(0)
        .await
        .unwrap();
    changes
        .into_iter()
        .filter(|c| c.entity.kind == "checklist_progress" && c.field == "done")
        .map(|c| c.value)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tauri-driver, Xvfb, D-Bus and gnome-keyring: run by `make test`"]
async fn through_a_relay_a_tick_waits_at_the_relay_then_reaches_the_server_once() {
    let server = Server::start();
    let user = NewUser::nfp("amina", "KE");
    server.user_add_approved(&user);
    let uplink = Proxy::start(server.addr()).await;
    let relay = Relay::start(&uplink.url(), &["--answer-wait-ms", "500"]);

    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path());
    let app = driver.launch().await;
    app.wait_testid("lang-select")
        .await
        .select_by_value("fr")
        .await
        .unwrap();
    // Signed in at home: the direct round brings the pass a relay checks.
    app.sign_in(&server.base_url, &user.username, &user.password)
        .await;

    // At the workshop: the address the trainer gave.
    app.click_testid("nav-sync").await;
    shows(&app, "relay-status", "Synchronisation directe").await;
    app.wait_testid("relay-address")
        .await
        .send_keys(&relay.url())
        .await
        .unwrap();
    app.click_testid("relay-use").await;
    app.wait_js(
        "the relay is in use",
        &format!(
            "return document.querySelector('{}')?.dataset.relay === 'on'",
            testid("relay-status")
        ),
    )
    .await;
    shows(&app, "relay-status", "Synchronisation par le relais").await;

    // The venue's uplink drops; a tick goes to the relay and waits there.
    uplink.set_fault(Fault::Down);
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
    app.click_testid("nav-sync").await;
    app.click_testid("sync-now").await;
    shows(&app, "relay-held", "1 modification au relais").await;
    shows(&app, "relay-status", "ne peut pas joindre le serveur").await;
    look_at_relay_section(&app).await;
    app.screenshot("relay-fr-held").await;
    assert!(
        ticks_on_server(&server, &user).await.is_empty(),
        "nothing reached the server while the uplink was down"
    );

    // The uplink comes back: the relay forwards the tick; the next round brings the answer.
    uplink.set_fault(Fault::None);
    app.wait_js(
        "the change at the relay is answered",
        &format!(
            "document.querySelector('{}')?.click(); return document.querySelector('{}') === null",
            testid("sync-now"),
            testid("relay-held")
        ),
    )
    .await;
    assert_eq!(
        ticks_on_server(&server, &user).await,
        vec![serde_json::json!(true)],
        "the tick reached the server exactly once"
    );

    // In English, the same page says the same.
    app.wait_testid("lang-select")
        .await
        .select_by_value("en")
        .await
        .unwrap();
    shows(&app, "relay-status", "Syncing through the relay at").await;
    look_at_relay_section(&app).await;
    app.screenshot("relay-en").await;
    let status = text_of(&app, "relay-status").await;
    assert!(
        status.contains(&relay.url().replace("http://", "")),
        "{status}"
    );

    // And in Spanish.
    app.wait_testid("lang-select")
        .await
        .select_by_value("es")
        .await
        .unwrap();
    shows(&app, "relay-status", "Sincronizando a través del relé").await;
    look_at_relay_section(&app).await;
    app.screenshot("relay-es").await;
    app.wait_testid("lang-select")
        .await
        .select_by_value("en")
        .await
        .unwrap();

    // Back to direct sync: nothing sent twice.
    app.click_testid("relay-clear").await;
    shows(&app, "relay-status", "Syncing directly").await;
    app.click_testid("sync-now").await;
    app.sync_state_is("up_to_date").await;
    assert_eq!(ticks_on_server(&server, &user).await.len(), 1);
    app.quit().await;
}
