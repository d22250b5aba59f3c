//! End to end through the real app window and the real `ecommunity` server: the forum read and
//! written offline, and hostile text in posts.
//!
//! 1. The app signs in and syncs a thread another NFP started; the server goes away; a reply
//!    written in the app shows at once, marked waiting to be sent; the server comes back on
//!    the same data, "Sync now", the marker clears and the server holds the reply once.
//! 2. Another account posts a hostile corpus (script tags, event handlers, `javascript:`
//!    links, SVG and iframe payloads, malformed Markdown, the longest line a post may hold,
//!    right-to-left overrides); the app syncs and opens the thread: no injected script ran
//!    (read back with WebDriver scripts) and every post still shows its words.
//!
//! Needs a display and a session bus: `#[ignore]`d in plain `cargo test`, run by
//! `make test-e2e` under `dbus-run-session -- tools/with-keyring.sh xvfb-run -a`.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::Value;
use stopover_core::forum;
use stopover_protocol::Change;
use stopover_protocol::forum::MAX_POST_CHARS;
use stopover_tests::api::Api;
use stopover_tests::app::{App, Driver, UI_TIMEOUT, testid};
use stopover_tests::client::Device;
use stopover_tests::server::{NewUser, Server};

const GENERAL: &str = "general";

/// Signs the app in through its Sync page, as a person would.
async fn sign_in(app: &App, server: &Server, user: &NewUser) {
    app.click_testid("nav-sync").await;
    for (id, text) in [
        ("signin-server", server.base_url.as_str()),
        ("signin-user", user.username.as_str()),
        ("signin-password", user.password.as_str()),
    ] {
        app.wait_testid(id).await.send_keys(text).await.unwrap();
    }
    app.click_testid("signin-submit").await;
    app.wait_js(
        "signed in",
        &format!(
            "const s = document.querySelector('{}')?.dataset.state; return !!s && s !== 'signed_out'",
            testid("sync-status")
        ),
    )
    .await;
}

async fn count(app: &App, css: &str) -> usize {
    app.client.find_all(Locator::Css(css)).await.unwrap().len()
}

/// Opens the forum, the category and the thread titled `title` (waiting for sync to bring
/// them), and returns once its posts are on screen.
async fn open_thread(app: &App, category: &str, title: &str) {
    app.click_testid("nav-forum").await;
    // The first sync after signing in brings the categories; the view reloads by itself.
    let cat = format!("{}[data-id=\"{category}\"] a", testid("forum-category"));
    app.client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::Css(&cat))
        .await
        .unwrap_or_else(|e| panic!("category {category} not shown: {e}"))
        .click()
        .await
        .unwrap();
    let threads = app.wait_all("forum-thread").await;
    let mut link = None;
    for t in threads {
        if t.text().await.unwrap().contains(title) {
            link = Some(t.find(Locator::Css("a")).await.unwrap());
        }
    }
    link.unwrap_or_else(|| panic!("no thread titled {title:?}"))
        .click()
        .await
        .unwrap();
    app.wait_all("forum-post").await;
}

/// Every change the server's feed holds, as `user` reads it.
async fn feed_of(server: &Server, user: &NewUser) -> Vec<Change> {
    let token = server.sign_in(&user.username, &user.password).await;
    Api::new(&server.base_url)
        .with_token(&token)
        .pull_all(0)
        .await
        .unwrap_or_else(|e| panic!("reading the feed as {}: {e}", user.username))
        .0
}

async fn sync(device: &Device) {
    device
        .sync()
        .await
        .unwrap_or_else(|e| panic!("{}: sync failed: {e} ({})", device.name, e.code()));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tauri-driver, Xvfb, D-Bus and gnome-keyring: run by `make test-e2e`"]
async fn a_reply_written_offline_waits_then_reaches_the_server_once() {
    const REPLY: &str = "Les originaux par valise diplomatique — written offline";
    let mut server = Server::start();
    let (amina, baraka) = (NewUser::nfp("amina", "KE"), NewUser::nfp("baraka", "UG"));
    server.user_add_approved(&amina);
    server.user_add_approved(&baraka);

    // Baraka starts a thread from his own laptop.
    let b = Device::sign_in("baraka-laptop", &server.base_url, &baraka).await;
    sync(&b).await;
    let thread = forum::new_thread(
        &b.core,
        GENERAL,
        "Credentials for COP15",
        "How do we send them?",
    )
    .unwrap();
    sync(&b).await;

    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path());
    let app = driver.launch().await;
    sign_in(&app, &server, &amina).await;
    open_thread(&app, GENERAL, "Credentials for COP15").await;
    assert_eq!(count(&app, &testid("post-pending")).await, 0);

    // Off the grid.
    let url_before = server.base_url.clone();
    server.stop();
    app.wait_testid("composer-body")
        .await
        .send_keys(REPLY)
        .await
        .unwrap();
    app.click_testid("composer-send").await;
    app.wait_testid("post-pending").await;
    assert_eq!(app.wait_all("forum-post").await.len(), 2);
    // The app tried to send it and could not: still waiting, nothing lost.
    app.wait_js(
        "the failed attempt to show as offline",
        &format!(
            "return document.querySelector('{}')?.dataset.state === 'offline'",
            testid("sync-status")
        ),
    )
    .await;
    assert_eq!(count(&app, &testid("post-pending")).await, 1);
    app.screenshot("forum-pending").await;

    // The server comes back with the same data; "Sync now" (again, should a background
    // attempt be running at that moment) until the marker clears.
    server.restart();
    assert_eq!(
        server.base_url, url_before,
        "the server came back on another port"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        app.click_testid("sync-now").await;
        let waited = Instant::now();
        while waited.elapsed() < Duration::from_secs(5)
            && count(&app, &testid("post-pending")).await > 0
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if count(&app, &testid("post-pending")).await == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the reply was still waiting after a minute of syncing\n{}",
            driver.log()
        );
    }
    assert_eq!(app.wait_all("forum-post").await.len(), 2);
    let shown = app.wait_all("forum-post").await[1].text().await.unwrap();
    assert!(shown.contains(REPLY), "{shown}");

    // The server holds the reply exactly once, in Baraka's thread.
    let feed = feed_of(&server, &baraka).await;
    let replies: Vec<&Change> = feed
        .iter()
        .filter(|c| {
            c.entity.kind == "forum_post"
                && c.field == "content"
                && c.value.get("body").and_then(Value::as_str) == Some(REPLY)
        })
        .collect();
    assert_eq!(replies.len(), 1, "the reply on the server: {replies:?}");
    assert_eq!(replies[0].value["thread"], Value::String(thread.id.clone()));
    app.quit().await;
}

/// (Markdown, a word of it that must still be shown). Each payload, if it ever ran, would set
/// `window.__pwned`, change `document.title` or add an element with id `pwned-marker`.
const CORPUS: &[(&str, &str)] = &[
    (
        "<script>window.__pwned='script';document.title='pwned';var d=document.createElement('div');d.id='pwned-marker';document.body.appendChild(d)</script> word-script",
        "word-script",
    ),
    (
        "<img src=x onerror=\"window.__pwned='img';document.title='pwned'\"> word-img",
        "word-img",
    ),
    (
        "[word-jslink](javascript:window.__pwned='jslink';document.title='pwned')",
        "word-jslink",
    ),
    (
        "<a href=\"JaVaScRiPt:window.__pwned='mixed'\" onclick=\"window.__pwned='onclick'\">word-mixed</a>",
        "word-mixed",
    ),
    (
        "<svg onload=\"window.__pwned='svg'\"><script>window.__pwned='svg-script'</script></svg> word-svg",
        "word-svg",
    ),
    (
        "<iframe srcdoc=\"<script>parent.__pwned='srcdoc'</script>\"></iframe><iframe src=\"javascript:parent.__pwned='frame'\"></iframe> word-iframe",
        "word-iframe",
    ),
    (
        "<details open ontoggle=\"window.__pwned='toggle'\"><summary>word-details</summary>x</details>",
        "word-details",
    ),
    (
        "<math><mtext><table><mglyph><style><img src=x onerror=\"window.__pwned='mxss'\">\n\nword-mxss",
        "word-mxss",
    ),
    (
        "<style>body{display:none}</style><link rel=stylesheet href=https://evil.example/x.css> word-style",
        "word-style",
    ),
    (
        "<div id=\"pwned-marker\" data-testid=\"nav-home\" class=\"shell\">word-spoof</div>",
        "word-spoof",
    ),
    (
        "**unclosed bold [and a link( <b><i>nested and `tick word-malformed",
        "word-malformed",
    ),
    (
        "\u{202E}txet desrever\u{202C} word-rtl \u{2067}isolate",
        "word-rtl",
    ),
    (
        "![word-pixel](https://tracker.example/p.gif?u=nfp) and [a safe link](https://www.cms.int/en)",
        "word-pixel",
    ),
];

/// Asks the page whether anything injected ran.
const PWNED: &str = "return {
    pwned: typeof window.__pwned === 'undefined' ? null : String(window.__pwned),
    title: document.title,
    marker: document.getElementById('pwned-marker') !== null,
    navHome: document.querySelectorAll('[data-testid=\"nav-home\"]').length,
    active: document.querySelectorAll(
        '[data-testid=\"post-body\"] :is(script, iframe, img, svg, math, style, link, object, embed, form, [id], [style], [onerror], [onload], [onclick], [ontoggle])'
    ).length,
    badLinks: [...document.querySelectorAll('[data-testid=\"post-body\"] a[href]')].filter(a =>
        !/^(https?:|mailto:)/i.test(a.getAttribute('href') || '') || !a.hasAttribute('data-external')
    ).length,
    bodyShown: getComputedStyle(document.body).display !== 'none',
    overflow: document.querySelector('main').scrollWidth - document.querySelector('main').clientWidth,
}";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tauri-driver, Xvfb, D-Bus and gnome-keyring: run by `make test-e2e`"]
async fn hostile_posts_run_nothing_in_the_app_and_the_thread_still_renders() {
    let server = Server::start();
    let (amina, mallory) = (NewUser::nfp("amina", "KE"), NewUser::nfp("mallory", "FR"));
    server.user_add_approved(&amina);
    server.user_add_approved(&mallory);

    // Mallory posts the corpus, and the longest line a post may hold.
    let m = Device::sign_in("mallory-laptop", &server.base_url, &mallory).await;
    sync(&m).await;
    let title = "<script>window.__pwned='title'</script>Hostile corpus\u{202E}";
    let thread = forum::new_thread(&m.core, GENERAL, title, CORPUS[0].0).unwrap();
    for (body, _) in &CORPUS[1..] {
        forum::reply(&m.core, &thread.id, body).unwrap();
    }
    let long_line = format!("{}word-long", "x".repeat(MAX_POST_CHARS - 9));
    forum::reply(&m.core, &thread.id, &long_line).unwrap();
    // A 50,000-character line cannot be posted at all: refused before it is queued.
    let too_long = forum::reply(&m.core, &thread.id, &"y".repeat(50_000)).unwrap_err();
    assert!(
        matches!(too_long, stopover_core::Error::Invalid { .. }),
        "{too_long}"
    );
    sync(&m).await;
    let words: Vec<&str> = CORPUS
        .iter()
        .map(|(_, w)| *w)
        .chain(["word-long"])
        .collect();

    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path());
    let app = driver.launch().await;
    let clean = app.client.execute(PWNED, vec![]).await.unwrap();
    assert_eq!(clean["title"], "Stopover", "{clean}");
    sign_in(&app, &server, &amina).await;
    open_thread(&app, GENERAL, "Hostile corpus").await;

    // Every post is there and shows its words.
    app.wait_js(
        "every post of the corpus",
        &format!(
            "return document.querySelectorAll('{}').length === {}",
            testid("forum-post"),
            words.len()
        ),
    )
    .await;
    let posts = app.wait_all("forum-post").await;
    for (post, word) in posts.iter().zip(&words) {
        let text = post.text().await.unwrap();
        assert!(text.contains(word), "post without `{word}`: {text:.300}");
    }
    let heading = app.wait_testid("thread-title").await.text().await.unwrap();
    assert_eq!(
        heading,
        "<script>window.__pwned='title'</script>Hostile corpus"
    );

    // Give handlers that fire late (image errors, SVG loads) their chance, then look.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Click every link of the posts (those the sanitizer left an address): each only asks,
    // none runs anything or leaves the app.
    let hash = app.hash().await;
    let links = app
        .client
        .find_all(Locator::Css(&format!("{} a[href]", testid("post-body"))))
        .await
        .unwrap();
    assert!(!links.is_empty(), "the corpus has plain links");
    for link in links {
        link.click().await.unwrap();
        app.wait_testid("external-link-notice").await;
        app.client
            .execute(
                "document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}))",
                vec![],
            )
            .await
            .unwrap();
        app.wait_js(
            "the link notice to close",
            &format!(
                "return !document.querySelector('{}')",
                testid("external-link-notice")
            ),
        )
        .await;
    }
    assert_eq!(app.hash().await, hash, "a link changed the app's page");
    app.screenshot("forum-hostile").await;

    let seen = app.client.execute(PWNED, vec![]).await.unwrap();
    assert_eq!(seen["pwned"], Value::Null, "an injected script ran: {seen}");
    assert_eq!(seen["title"], "Stopover", "the title was changed: {seen}");
    assert_eq!(
        seen["marker"], false,
        "an injected element appeared: {seen}"
    );
    assert_eq!(seen["navHome"], 1, "a post forged a test id: {seen}");
    assert_eq!(seen["active"], 0, "active markup in a post: {seen}");
    assert_eq!(
        seen["badLinks"], 0,
        "a link that is not marked external: {seen}"
    );
    assert_eq!(
        seen["bodyShown"], true,
        "a post's style hid the page: {seen}"
    );
    assert!(
        seen["overflow"].as_i64().unwrap_or(i64::MAX) <= 1,
        "the long line widens the page: {seen}"
    );

    // The probe itself sees active markup and a script's mark when there are some, so the
    // checks above can fail.
    app.client
        .execute(
            "document.querySelector('[data-testid=\"post-body\"]').insertAdjacentHTML('beforeend', '<img alt=\"\" src=\"data:,\">'); window.__pwned = 'probe';",
            vec![],
        )
        .await
        .unwrap();
    let probe = app.client.execute(PWNED, vec![]).await.unwrap();
    assert_eq!(probe["pwned"], "probe", "{probe}");
    assert_eq!(probe["active"], 1, "{probe}");
    app.quit().await;
}
