//! The real `ecommunity` binary: its command line, `serve` on a loopback port, and what
//! it writes to its logs and data folder.

mod common;

use std::path::Path;

use common::{ADMIN_PASSWORD, NFP_PASSWORD, Server, add_user, cli, cli_ok};
use serde_json::{Value, json};

fn files_contain(dir: &Path, needle: &str) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| {
        let bytes = std::fs::read(e.unwrap().path()).unwrap_or_default();
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    })
}

#[test]
fn serve_creates_its_database_and_never_logs_secrets() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    assert!(
        data.path().join("ecommunity.sqlite3").exists(),
        "database created on first start"
    );
    assert_eq!(
        server.call("GET", "/v1/health", None, None).1["service"],
        "ecommunity"
    );

    add_user(data.path(), "root", ADMIN_PASSWORD, "admin", None);
    let (status, signed_in) = server.sign_in("root", ADMIN_PASSWORD);
    assert_eq!(status, 201, "{signed_in}");
    let token = signed_in["token"].as_str().unwrap().to_string();
    assert_eq!(server.sign_in("root", "wrong-password-123").0, 401);
    let request = json!({"username": "amina", "password": NFP_PASSWORD, "display_name": "Amina",
        "email": "amina@example.org", "country": "KE", "instruments": ["CMS"]});
    assert_eq!(
        server.call("POST", "/v1/accounts", None, Some(request)).0,
        201
    );

    let op = json!({"ops": [{"id": "01939a2b-7c4d-7e8f-9a0b-1c2d3e4f5a6b",
        "entity": {"kind": "checklist_progress", "id": "cop/register"}, "field": "done", "base_version": 0, "value": true}]});
    let (status, pushed) = server.call("POST", "/v1/sync/push", Some(&token), Some(op));
    assert_eq!(
        (status, pushed["results"][0]["outcome"].as_str()),
        (200, Some("applied"))
    );
    // The feed: the community's records (the default forum categories published on first
    // start, the admin's directory card), not this device's own change (it holds it).
    let feed = server
        .call("GET", "/v1/sync/pull?cursor=0", Some(&token), None)
        .1;
    let kinds: Vec<&str> = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["entity"]["kind"].as_str().unwrap())
        .collect();
    let count = |kind: &str| kinds.iter().filter(|k| **k == kind).count();
    assert_eq!(count("checklist_progress"), 0, "{kinds:?}");
    assert_eq!(count("profile"), 1, "{kinds:?}");
    assert!(count("forum_category") >= 10, "{kinds:?}");
    assert_eq!(server.call("GET", "/v1/me", Some(&token), None).0, 200);
    assert_eq!(
        server
            .call("DELETE", "/v1/sessions/current", Some(&token), None)
            .0,
        204
    );
    assert_eq!(
        server.call("GET", "/v1/me", Some(&token), None).1["code"],
        "token_revoked"
    );

    let log = server.stop();
    assert!(
        log.contains("/v1/sync/push"),
        "the log is being captured: {log}"
    );
    for secret in [
        token.as_str(),
        ADMIN_PASSWORD,
        "wrong-password-123",
        NFP_PASSWORD,
    ] {
        assert!(!log.contains(secret), "a secret reached the log");
        assert!(
            !files_contain(data.path(), secret),
            "a secret reached the data folder"
        );
    }
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let d = tempfile::tempdir().unwrap();
    let d = d.path().to_str().unwrap();
    let cases: [&[&str]; 6] = [
        &[],
        &["serve"],
        &["serve", "--data", d, "--listen", "not-an-address"],
        &[
            "user",
            "add",
            "--data",
            d,
            "--username",
            "amina",
            "--password",
            "correct horse",
            "--display-name",
            "A",
            "--email",
            "a@example.org",
            "--role",
            "nfp",
        ],
        &[
            "user",
            "add",
            "--data",
            d,
            "--username",
            "Amina!",
            "--password",
            "correct horse",
            "--display-name",
            "A",
            "--email",
            "a@example.org",
            "--role",
            "admin",
        ],
        &[
            "user",
            "add",
            "--data",
            d,
            "--username",
            "amina",
            "--password",
            "correct horse",
            "--display-name",
            "A",
            "--email",
            "a@example.org",
            "--role",
            "king",
        ],
    ];
    for args in cases {
        let out = cli(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?} says why");
    }
    let out = cli(cases[3]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--country"));
}

#[test]
fn the_cli_manages_accounts_and_devices_of_a_running_server() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path().to_str().unwrap();
    add_user(data.path(), "amina", NFP_PASSWORD, "nfp", Some("KE"));
    let again = cli(&[
        "user",
        "add",
        "--data",
        d,
        "--username",
        "amina",
        "--password",
        NFP_PASSWORD,
        "--display-name",
        "A",
        "--email",
        "a@example.org",
        "--role",
        "nfp",
        "--country",
        "KE",
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("taken"));

    let listed: Value =
        serde_json::from_str(&cli_ok(&["user", "list", "--data", d, "--json"])).unwrap();
    assert_eq!(listed[0]["country"], "KE");
    assert_eq!(listed[0]["instruments"], json!(["CMS", "AEWA"]));
    assert!(cli_ok(&["user", "list", "--data", d]).contains("amina"));

    let server = Server::start(data.path());
    let token = server.sign_in("amina", NFP_PASSWORD).1["token"]
        .as_str()
        .unwrap()
        .to_string();
    let devices: Value =
        serde_json::from_str(&cli_ok(&["device", "list", "--data", d, "--json"])).unwrap();
    let device_id = devices[0]["id"].as_str().unwrap();
    cli_ok(&["device", "revoke", "--data", d, device_id]);
    assert_eq!(
        server.call("GET", "/v1/me", Some(&token), None).1["code"],
        "token_revoked"
    );
    assert_eq!(
        cli(&["device", "revoke", "--data", d, "no-such-device"])
            .status
            .code(),
        Some(1)
    );

    let token = server.sign_in("amina", NFP_PASSWORD).1["token"]
        .as_str()
        .unwrap()
        .to_string();
    cli_ok(&["user", "revoke", "--data", d, "amina"]);
    assert_eq!(server.call("GET", "/v1/me", Some(&token), None).0, 401);
    assert_eq!(
        server.sign_in("amina", NFP_PASSWORD).1["code"],
        "account_revoked"
    );
    cli_ok(&["user", "approve", "--data", d, "amina"]);
    assert_eq!(server.sign_in("amina", NFP_PASSWORD).0, 201);
    assert_eq!(
        cli(&["user", "approve", "--data", d, "nobody"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn pack_keygen_and_publish() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let key = work.path().join("pack.key");
    let pack = work.path().join("pack");
    std::fs::create_dir_all(pack.join("manual/en")).unwrap();
    std::fs::write(
        pack.join("manual/en/meetings.md"),
        "+++\ntitle = \"M\"\nsummary = \"S\"\norder = 1\n+++\nText\n",
    )
    .unwrap();
    let write_manifest = |version: &str| {
        std::fs::write(
            pack.join("manifest.toml"),
            format!("id = \"t\"\nversion = \"{version}\"\nlanguages = [\"en\"]\n"),
        )
        .unwrap();
    };
    let (d, k, p) = (
        data.to_str().unwrap(),
        key.to_str().unwrap(),
        pack.to_str().unwrap(),
    );

    let out = cli_ok(&["pack", "keygen", "--out", k]);
    let public = out
        .lines()
        .find_map(|l| l.strip_prefix("public key (hex, for the app's trusted keys): "))
        .unwrap()
        .to_string();
    assert_eq!(public.len(), 64, "{out}");
    assert!(
        !out.contains(std::fs::read_to_string(&key).unwrap().trim()),
        "the private key is never printed"
    );
    assert_eq!(
        cli(&["pack", "keygen", "--out", k]).status.code(),
        Some(1),
        "never overwrites a key"
    );

    write_manifest("2026.12.0");
    let out = cli_ok(&["pack", "publish", "--data", d, "--key", k, p]);
    assert!(out.contains("published content pack 2026.12.0"), "{out}");
    assert!(out.contains(&public), "{out}");
    assert!(data.join("packs/2026.12.0.json.gz").is_file());

    let again = cli(&["pack", "publish", "--data", d, "--key", k, p]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr)
            .contains("not newer than the latest published pack 2026.12.0")
    );
    write_manifest("2026.12.1");
    cli_ok(&["pack", "publish", "--data", d, "--key", k, p]);
    assert_eq!(
        cli(&["pack", "publish", "--data", d, p]).status.code(),
        Some(2),
        "--key is required"
    );
}
