//! The forum, the directory and events through the real `ecommunity` binary: what the
//! Secretariat does on the command line reaches every app through the sync feed, and the
//! push rules hold against a running server.

mod common;

use std::path::Path;

use common::{NFP_PASSWORD, Server, add_user, cli, cli_ok};
use serde_json::{Value, json};

const THREAD: &str = "01939a2b-7c4d-7e8f-9a0b-00000000a001";
const REPLY: &str = "01939a2b-7c4d-7e8f-9a0b-00000000a002";
const LATE: &str = "01939a2b-7c4d-7e8f-9a0b-00000000a003";

fn d(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A failing command: its exit code and what it said on stderr.
fn fails(args: &[&str]) -> (i32, String) {
    let out = cli(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn token(server: &Server, username: &str) -> String {
    let (status, body) = server.sign_in(username, NFP_PASSWORD);
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().unwrap().to_string()
}

static OP: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// Pushes one operation; returns its result (`outcome`, `version` or `reason`).
fn push(
    server: &Server,
    token: &str,
    kind: &str,
    id: &str,
    field: &str,
    base: u64,
    value: Value,
) -> Value {
    let n = OP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let op = json!({"id": format!("01939a2b-7c4d-7e8f-9a0b-{n:012}"), "entity": {"kind": kind, "id": id},
        "field": field, "base_version": base, "value": value});
    let (status, body) = server.call(
        "POST",
        "/v1/sync/push",
        Some(token),
        Some(json!({"ops": [op]})),
    );
    assert_eq!(status, 200, "{body}");
    body["results"][0].clone()
}

/// The whole feed the caller pulls.
fn feed(server: &Server, token: &str) -> Vec<Value> {
    let (mut all, mut cursor) = (Vec::new(), 0);
    loop {
        let (status, page) = server.call(
            "GET",
            &format!("/v1/sync/pull?cursor={cursor}&limit=500"),
            Some(token),
            None,
        );
        assert_eq!(status, 200, "{page}");
        all.extend(page["changes"].as_array().unwrap().iter().cloned());
        cursor = page["cursor"].as_u64().unwrap();
        if page["more"] != json!(true) {
            return all;
        }
    }
}

/// The latest value of one field in a feed.
fn latest<'a>(feed: &'a [Value], kind: &str, id: &str, field: &str) -> Option<&'a Value> {
    feed.iter()
        .rev()
        .find(|c| c["entity"]["kind"] == kind && c["entity"]["id"] == id && c["field"] == field)
        .map(|c| &c["value"])
}

#[track_caller]
fn assert_rejected(result: &Value, needle: &str) {
    assert_eq!(result["outcome"], "rejected", "{result}");
    let reason = result["reason"].as_str().unwrap();
    assert!(
        reason.contains(needle),
        "`{reason}` does not say `{needle}`"
    );
}

#[test]
fn the_secretariat_adds_categories_that_every_app_pulls() {
    let data = tempfile::tempdir().unwrap();
    let dd = d(data.path());
    // The default categories are there from the start, in three languages.
    let list: Value = serde_json::from_str(&cli_ok(&[
        "forum", "category", "list", "--data", dd, "--json",
    ]))
    .unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(&ids[..3], ["general", "qa", "africa"], "{ids:?}");
    for id in [
        "north-america",
        "south-central-america-caribbean",
        "cms",
        "aewa",
        "iosea",
        "raptors",
        "sharks",
    ] {
        assert!(ids.contains(&id), "{id} missing: {ids:?}");
    }
    assert_eq!(list[1]["title"]["es"], "Preguntas y respuestas");

    let out = cli_ok(&[
        "forum",
        "category",
        "add",
        "--data",
        dd,
        "west-africa",
        "--kind",
        "region",
        "--title-en",
        "West Africa",
        "--title-fr",
        "Afrique de l'Ouest",
    ]);
    assert_eq!(
        out.trim(),
        "added forum category west-africa (region): West Africa"
    );
    let (code, err) = fails(&[
        "forum",
        "category",
        "add",
        "--data",
        dd,
        "west-africa",
        "--kind",
        "region",
        "--title-en",
        "Again",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("the forum category `west-africa` already exists"),
        "{err}"
    );
    let (code, err) = fails(&[
        "forum",
        "category",
        "add",
        "--data",
        dd,
        "West Africa",
        "--kind",
        "region",
        "--title-en",
        "W",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("`West Africa` is not a category id"), "{err}");
    let (code, err) = fails(&[
        "forum",
        "category",
        "add",
        "--data",
        dd,
        "wa",
        "--kind",
        "continent",
        "--title-en",
        "W",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("continent"), "{err}");
    assert_eq!(
        fails(&[
            "forum", "category", "add", "--data", dd, "wa", "--kind", "region"
        ])
        .0,
        2,
        "--title-en is required"
    );
    assert!(cli_ok(&["forum", "category", "list", "--data", dd]).contains("west-africa"));

    add_user(data.path(), "amina", NFP_PASSWORD, "nfp", Some("KE"));
    let server = Server::start(data.path());
    let feed = feed(&server, &token(&server, "amina"));
    let info = latest(&feed, "forum_category", "west-africa", "info")
        .expect("the new category is in the feed");
    assert_eq!(info["title"]["fr"], "Afrique de l'Ouest");
    assert_eq!(info["kind"], "region");
    let categories = feed
        .iter()
        .filter(|c| c["entity"]["kind"] == "forum_category")
        .count();
    assert_eq!(categories, ids.len() + 1, "each category published once");
}

#[test]
fn moderation_from_the_command_line_reaches_every_app() {
    let data = tempfile::tempdir().unwrap();
    let dd = d(data.path());
    add_user(data.path(), "amina", NFP_PASSWORD, "nfp", Some("KE"));
    add_user(data.path(), "chidi", NFP_PASSWORD, "nfp", Some("NG"));
    let server = Server::start(data.path());
    let (amina, chidi) = (token(&server, "amina"), token(&server, "chidi"));
    let content = |thread: &str, title: Option<&str>, body: &str| {
        let mut c = json!({"thread": thread, "category": "qa", "body": body});
        if let Some(t) = title {
            c["title"] = json!(t);
        }
        c
    };
    let r = push(
        &server,
        &amina,
        "forum_post",
        THREAD,
        "content",
        0,
        content(THREAD, Some("Credentials"), "How?"),
    );
    assert_eq!(r["outcome"], "applied", "{r}");
    let r = push(
        &server,
        &chidi,
        "forum_post",
        REPLY,
        "content",
        0,
        content(THREAD, None, "Like this"),
    );
    assert_eq!(r["outcome"], "applied", "{r}");
    // An NFP cannot moderate, nor edit someone else's post.
    assert_rejected(
        &push(
            &server,
            &chidi,
            "forum_post",
            REPLY,
            "hidden",
            0,
            json!(true),
        ),
        "only the Secretariat",
    );
    assert_rejected(
        &push(
            &server,
            &chidi,
            "forum_thread",
            THREAD,
            "locked",
            0,
            json!(true),
        ),
        "only the Secretariat",
    );
    assert_rejected(
        &push(
            &server,
            &amina,
            "forum_post",
            REPLY,
            "content",
            1,
            content(THREAD, None, "edited"),
        ),
        "only its author",
    );

    assert_eq!(
        cli_ok(&["forum", "hide", "--data", dd, REPLY]).trim(),
        format!("post {REPLY} is now hidden")
    );
    assert_eq!(
        cli_ok(&["forum", "hide", "--data", dd, REPLY]).trim(),
        format!("post {REPLY} was already hidden")
    );
    assert_rejected(
        &push(
            &server,
            &chidi,
            "forum_post",
            REPLY,
            "content",
            1,
            content(THREAD, None, "edited"),
        ),
        "hidden by the Secretariat",
    );
    assert_eq!(
        cli_ok(&["forum", "lock", "--data", dd, THREAD]).trim(),
        format!("thread {THREAD} is now locked")
    );
    assert_rejected(
        &push(
            &server,
            &amina,
            "forum_post",
            LATE,
            "content",
            0,
            content(THREAD, None, "late"),
        ),
        "locked",
    );

    let seen = feed(&server, &amina);
    assert_eq!(
        latest(&seen, "forum_post", REPLY, "hidden"),
        Some(&json!(true))
    );
    assert_eq!(
        latest(&seen, "forum_thread", THREAD, "locked"),
        Some(&json!(true))
    );
    let meta = latest(&seen, "forum_post", REPLY, "meta").expect("the reply's meta");
    assert_eq!(
        (&meta["author"], &meta["country"]),
        (&json!("chidi"), &json!("NG"))
    );
    assert!(
        latest(&seen, "forum_post", LATE, "content").is_none(),
        "a refused reply is not stored"
    );

    // Errors name what is wrong.
    let (code, err) = fails(&["forum", "hide", "--data", dd, "not-a-post"]);
    assert_eq!(code, 2);
    assert!(err.contains("`not-a-post` is not a post id"), "{err}");
    let (code, err) = fails(&["forum", "hide", "--data", dd, LATE]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("there is no post {LATE} on this server")),
        "{err}"
    );
    let (code, err) = fails(&["forum", "lock", "--data", dd, REPLY]);
    assert_eq!(code, 1);
    assert!(err.contains("is a reply, not a thread"), "{err}");

    // Undone, and the app's rules follow.
    assert_eq!(
        cli_ok(&["forum", "unhide", "--data", dd, REPLY]).trim(),
        format!("post {REPLY} is now shown")
    );
    assert_eq!(
        cli_ok(&["forum", "unlock", "--data", dd, THREAD]).trim(),
        format!("thread {THREAD} is now unlocked")
    );
    let r = push(
        &server,
        &amina,
        "forum_post",
        LATE,
        "content",
        0,
        content(THREAD, None, "now open"),
    );
    assert_eq!(r["outcome"], "applied", "{r}");
}

#[test]
fn events_from_the_command_line_and_registrations_through_sync() {
    let data = tempfile::tempdir().unwrap();
    let dd = d(data.path());
    let event = |slug: &str, extra: &[&str]| {
        let mut args = vec![
            "event",
            "add",
            "--data",
            dd,
            slug,
            "--title-en",
            "AEWA reporting workshop",
            "--title-fr",
            "Atelier sur les rapports AEWA",
            "--starts",
            "2099-02-01",
            "--ends",
            "2099-02-03",
            "--closes",
            "2099-01-15",
            "--location",
            "Bonn, Germany",
        ];
        args.extend(extra);
        cli(&args)
    };
    for (extra, code, says) in [
        (
            &["--starts", "2099-02-30"][..],
            2,
            "--starts `2099-02-30` is not a date like",
        ),
        (
            &["--ends", "2099-01-31"][..],
            2,
            "--ends 2099-01-31 is before --starts 2099-02-01",
        ),
        (
            &["--region", "mars"][..],
            2,
            "--region `mars` is not a CMS region",
        ),
        (&["--capacity", "0"][..], 2, "--capacity must be at least 1"),
        (&["--capacity", "many"][..], 2, "many"),
    ] {
        // clap refuses a flag given twice, so each case replaces the default it overrides.
        let mut args: Vec<&str> = vec![
            "event",
            "add",
            "--data",
            dd,
            "aewa-2099",
            "--title-en",
            "T",
            "--location",
            "Online",
        ];
        for (flag, default) in [
            ("--starts", "2099-02-01"),
            ("--ends", "2099-02-03"),
            ("--closes", "2099-01-15"),
        ] {
            if !extra.contains(&flag) {
                args.extend([flag, default]);
            }
        }
        args.extend(extra);
        let out = cli(&args);
        assert_eq!(out.status.code(), Some(code), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{extra:?}: {err}");
    }
    let out = event(
        "aewa-2099",
        &[
            "--capacity",
            "1",
            "--region",
            "europe",
            "--instrument",
            "aewa",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("added event aewa-2099"));
    let again = event("aewa-2099", &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("the event `aewa-2099` already exists")
    );

    add_user(data.path(), "amina", NFP_PASSWORD, "nfp", Some("KE"));
    add_user(data.path(), "chidi", NFP_PASSWORD, "nfp", Some("NG"));
    let server = Server::start(data.path());
    let (amina, chidi) = (token(&server, "amina"), token(&server, "chidi"));
    let info = latest(&feed(&server, &chidi), "event", "aewa-2099", "info")
        .cloned()
        .expect("the event is in the feed");
    assert_eq!(
        (
            &info["registration_closes_on"],
            &info["capacity"],
            &info["title"]["fr"]
        ),
        (
            &json!("2099-01-15"),
            &json!(1),
            &json!("Atelier sur les rapports AEWA")
        )
    );
    let r = push(
        &server,
        &amina,
        "event_registration",
        "aewa-2099",
        "registered",
        0,
        json!(true),
    );
    assert_eq!(r["outcome"], "applied", "{r}");
    assert_rejected(
        &push(
            &server,
            &chidi,
            "event_registration",
            "aewa-2099",
            "registered",
            0,
            json!(true),
        ),
        "is full",
    );
    assert_rejected(
        &push(
            &server,
            &chidi,
            "event_registration",
            "nope",
            "registered",
            0,
            json!(true),
        ),
        "there is no event `nope`",
    );

    let list: Value =
        serde_json::from_str(&cli_ok(&["event", "list", "--data", dd, "--json"])).unwrap();
    assert_eq!(
        (&list[0]["id"], &list[0]["registered"]),
        (&json!("aewa-2099"), &json!(1))
    );
    assert!(cli_ok(&["event", "list", "--data", dd]).contains("1/1"));
    let who: Value = serde_json::from_str(&cli_ok(&[
        "event",
        "registrations",
        "--data",
        dd,
        "aewa-2099",
        "--json",
    ]))
    .unwrap();
    assert_eq!(who.as_array().unwrap().len(), 1);
    assert_eq!(who[0]["username"], "amina");
    let (code, err) = fails(&["event", "registrations", "--data", dd, "nope"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("there is no event `nope` on this server"),
        "{err}"
    );

    // Amina cancels: the place is Chidi's.
    let r = push(
        &server,
        &amina,
        "event_registration",
        "aewa-2099",
        "registered",
        1,
        json!(false),
    );
    assert_eq!(r["outcome"], "applied", "{r}");
    let r = push(
        &server,
        &chidi,
        "event_registration",
        "aewa-2099",
        "registered",
        0,
        json!(true),
    );
    assert_eq!(r["outcome"], "applied", "{r}");
    assert!(cli_ok(&["event", "registrations", "--data", dd, "aewa-2099"]).contains("chidi"));
}

#[test]
fn approved_accounts_are_in_the_directory_and_share_their_own_contact_details() {
    let data = tempfile::tempdir().unwrap();
    let dd = d(data.path());
    add_user(data.path(), "amina", NFP_PASSWORD, "nfp", Some("KE"));
    let server = Server::start(data.path());
    let amina = token(&server, "amina");
    let request = json!({"username": "dalia", "password": NFP_PASSWORD, "display_name": "Dalia",
        "email": "dalia@example.org", "country": "UG", "instruments": ["CMS"]});
    assert_eq!(
        server.call("POST", "/v1/accounts", None, Some(request)).0,
        201
    );
    let card = |feed: &[Value]| latest(feed, "profile", "dalia", "account").cloned();
    assert_eq!(
        card(&feed(&server, &amina)),
        None,
        "a pending account is not in the directory"
    );
    cli_ok(&["user", "approve", "--data", dd, "dalia"]);
    let seen = feed(&server, &amina);
    assert_eq!(
        card(&seen),
        Some(
            json!({"display_name": "Dalia", "role": "nfp", "country": "UG", "instruments": ["CMS"]})
        )
    );
    assert_eq!(
        latest(&seen, "profile", "amina", "account").unwrap()["country"],
        "KE",
        "`user add` published amina's card"
    );
    // Revoked: the card stays (it holds no contact details).
    cli_ok(&["user", "revoke", "--data", dd, "dalia"]);
    assert!(card(&feed(&server, &amina)).is_some());

    let shared = json!({"email": "amina@example.org", "languages": ["en", "sw"]});
    assert_rejected(
        &push(
            &server,
            &amina,
            "profile",
            "dalia",
            "shared",
            0,
            shared.clone(),
        ),
        "only share your own contact details",
    );
    let r = push(
        &server,
        &amina,
        "profile",
        "amina",
        "shared",
        0,
        shared.clone(),
    );
    assert_eq!(r["outcome"], "applied", "{r}");
    // Her other device sees the card (the one that pushed it holds it already).
    let amina_phone = token(&server, "amina");
    assert_eq!(
        latest(&feed(&server, &amina_phone), "profile", "amina", "shared"),
        Some(&shared)
    );
    assert_eq!(
        latest(&feed(&server, &amina), "profile", "amina", "shared"),
        None
    );
}
