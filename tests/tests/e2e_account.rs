//! Signing out and back in, through the real app window and the real server: sign-out keeps
//! what waits and shows the sign-in form again; another account is refused while changes made
//! as the first one wait, with the reason in words (in French here); the same account resumes
//! and the change reaches the server. Then the password: changed from the Sync page, and set
//! anew at sign-in after the Secretariat reset it. Run by `make test-e2e`.

use fantoccini::Locator;
use stopover_tests::api::Api;
use stopover_tests::app::{App, Driver};
use stopover_tests::server::{NewUser, Server};

async fn fill(app: &App, id: &str, text: &str) {
    let field = app.wait_testid(id).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn sign_in_form(app: &App, server: &str, user: &str, password: &str) {
    fill(app, "signin-server", server).await;
    fill(app, "signin-user", user).await;
    fill(app, "signin-password", password).await;
    app.click_testid("signin-submit").await;
}

/// Ticks (or unticks) the first step of the first checklist.
async fn tick_first_step(app: &App) {
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
}

async fn ticks_on_server(server: &Server, user: &NewUser, password: &str) -> usize {
    let token = server.sign_in(&user.username, password).await;
    let (changes, _) = Api::new(&server.base_url)
        .with_token(&token)
        .pull_all(0)
        .await
        .unwrap();
    changes
        .iter()
        .filter(|c| c.entity.kind == "checklist_progress" && c.field == "done")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tauri-driver, Xvfb, D-Bus and gnome-keyring: run by `make test-e2e`"]
async fn sign_out_then_in_again_keeps_what_waits_and_refuses_another_account_in_words() {
    let server = Server::start();
    let amina = NewUser::nfp("amina", "KE");
    let baraka = NewUser::nfp("baraka", "KE");
    server.user_add_approved(&amina);
    server.user_add_approved(&baraka);

    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path());
    let app = driver.launch().await;
    app.wait_testid("lang-select")
        .await
        .select_by_value("fr")
        .await
        .unwrap();
    app.sign_in(&server.base_url, &amina.username, &amina.password)
        .await;

    // Sign out: the sign-in form is back, with the account filled in.
    app.click_testid("nav-sync").await;
    app.click_testid("signout").await;
    app.sync_state_is("signed_out").await;
    app.wait_testid("signin-form").await;
    assert_eq!(
        app.wait_testid("signin-user")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("amina")
    );

    // A tick made while signed out waits for amina's account.
    tick_first_step(&app).await;
    app.click_testid("nav-sync").await;
    let waits = app.wait_testid("changes-wait").await.text().await.unwrap();
    assert!(
        waits.contains("amina") && waits.contains("Connectez-vous"),
        "{waits}"
    );

    // Another account is refused while it waits, and the page says why, in French.
    sign_in_form(&app, &server.base_url, &baraka.username, &baraka.password).await;
    let refused = app.wait_testid("signin-error").await.text().await.unwrap();
    assert!(
        refused.contains("amina") && refused.contains("ne sont pas encore parvenues"),
        "{refused}"
    );
    app.sync_state_is("signed_out").await;

    // The same account resumes: the tick goes out.
    sign_in_form(&app, &server.base_url, &amina.username, &amina.password).await;
    app.sync_state_is("up_to_date").await;
    assert_eq!(ticks_on_server(&server, &amina, &amina.password).await, 1);

    // The password, changed from the Sync page; the app stays signed in.
    let new_password = "Un-nouveau-Passw0rd!";
    app.click_testid("nav-sync").await;
    fill(&app, "password-current", &amina.password).await;
    fill(&app, "password-new", new_password).await;
    fill(&app, "password-again", new_password).await;
    app.click_testid("password-submit").await;
    app.wait_testid("password-done").await;
    app.click_testid("sync-now").await;
    app.sync_state_is("up_to_date").await;

    // The Secretariat resets it: signing in asks for a new one, which then works.
    let reset = server.cli_ok(&["user", "reset-password", "amina"]);
    let temporary = reset
        .lines()
        .last()
        .expect("the one-time password")
        .trim()
        .to_string();
    app.click_testid("sync-now").await;
    app.wait_testid("signin-form").await;
    sign_in_form(&app, &server.base_url, &amina.username, &temporary).await;
    app.wait_testid("signin-new-password").await;
    let third = "Encore-un-Passw0rd!";
    fill(&app, "signin-password", &temporary).await;
    fill(&app, "signin-new-password", third).await;
    fill(&app, "signin-new-password-again", third).await;
    app.click_testid("signin-submit").await;
    app.sync_state_is("up_to_date").await;
    assert_eq!(ticks_on_server(&server, &amina, third).await, 1);
    app.quit().await;
}
