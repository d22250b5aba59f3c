//! Signed pack updates: signatures, tampering, unknown keys, bad content, the atomic swap,
//! start-up choice, and the HTTP side against an in-process fake server.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ed25519_dalek::{Signer, SigningKey};

use super::*;
use crate::content::{self, ItemKind};
use crate::user::{bookmarks, checklists, settings};

const MODULE: &str = "+++\ntitle = \"Meetings\"\nsummary = \"How meetings work\"\norder = 1\nreviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n+++\n## Agenda\n\nVersion VERSION text.\n";
const CHECKLIST: &str = "title = \"Prepare\"\nsummary = \"Before the COP\"\norder = 1\nreviewed = \"2026-12-06\"\n[[sources]]\ntitle = \"CMS\"\nurl = \"https://www.cms.int/\"\n[[items]]\nid = \"register\"\ntext = \"Register\"\n";

fn pack_files(version: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "manifest.toml".to_string(),
            format!("id = \"test\"\nversion = \"{version}\"\nlanguages = [\"en\"]\n"),
        ),
        (
            "manual/en/meetings.md".to_string(),
            MODULE.replace("VERSION", version),
        ),
        ("checklists/en/prep.toml".to_string(), CHECKLIST.to_string()),
    ])
}

fn as_pack_files(files: &BTreeMap<String, String>) -> PackFiles {
    PackFiles(
        files
            .iter()
            .map(|(p, t)| (p.clone(), t.clone().into_bytes()))
            .collect(),
    )
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn release_for(version: &str, bytes: &[u8], signer: &SigningKey) -> PackRelease {
    PackRelease {
        version: version.into(),
        sha256: hex(&Sha256::digest(bytes)),
        size: bytes.len() as u64,
        signature: STANDARD.encode(signer.sign(bytes).to_bytes()),
        key_id: key_id(signer.verifying_key().as_bytes()),
    }
}

/// The archive of `files` and its release, signed by `signer`.
fn signed(
    files: &BTreeMap<String, String>,
    version: &str,
    signer: &SigningKey,
) -> (PackRelease, Vec<u8>) {
    let bytes = PackArchive {
        files: files.clone(),
    }
    .encode();
    (release_for(version, &bytes, signer), bytes)
}

/// A core on pack 9000.1 with user data: a tick, a note, a bookmark, a setting.
fn core_with_user_data() -> (tempfile::TempDir, Core) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(as_pack_files(&pack_files("9000.1")))).unwrap();
    {
        let mut conn = core.conn();
        checklists::set_done(&mut conn, "prep", "register", true).unwrap();
        checklists::set_note(&mut conn, "prep", "register", "ask the ministry").unwrap();
        bookmarks::set(&conn, ItemKind::Manual, "meetings", true).unwrap();
        settings::set(&conn, "language", "fr").unwrap();
    }
    (dir, core)
}

fn trusted() -> Vec<VerifyingKey> {
    vec![key(1).verifying_key()]
}

/// The content version in the database, the status, the Manual text, the user data counts
/// (ticks, notes, bookmarks) and a setting.
type Snapshot = (
    Option<String>,
    ContentStatus,
    String,
    (u32, u32, u32),
    Option<String>,
);

fn snapshot(core: &Core) -> Snapshot {
    let conn = core.conn();
    let version = imported_pack(&conn).unwrap().map(|(v, _)| v);
    let item = content::get_item(&conn, ItemKind::Manual, "meetings", "en").unwrap();
    let counts = checklists::counts(&conn).unwrap();
    let lang = settings::get(&conn, "language").unwrap();
    (
        version,
        core.content_status(),
        item.html,
        (counts.ticks, counts.notes, counts.bookmarks),
        lang,
    )
}

#[track_caller]
fn assert_refused(result: Result<ImportReport>, why: &str) {
    match result {
        Err(e @ Error::PackRefused { .. }) => {
            let message = e.to_string();
            assert!(message.contains(why), "expected `{why}` in: {message}");
            assert!(message.contains("The content you have stays"), "{message}");
            assert_eq!(e.code().as_str(), "pack_refused");
        }
        other => panic!("expected a refusal ({why}), got {other:?}"),
    }
}

#[test]
fn the_built_in_trusted_key_is_a_valid_public_key() {
    assert_eq!(trusted_pack_keys().len(), TRUSTED_PACK_KEYS.len());
    assert!(!TRUSTED_PACK_KEYS.is_empty());
    assert!(parse_public_key("zz").is_none());
}

#[test]
fn a_signed_pack_installs_and_keeps_user_data() {
    let (dir, core) = core_with_user_data();
    let (release, bytes) = signed(&pack_files("9000.2"), "9000.2", &key(1));
    let report = install_archive(&core, &release, &bytes, &trusted()).unwrap();
    assert_eq!(report.version, "9000.2");

    let (version, status, body, user, lang) = snapshot(&core);
    assert_eq!(version.as_deref(), Some("9000.2"));
    assert_eq!(
        status,
        ContentStatus::Ready {
            version: "9000.2".into()
        }
    );
    assert!(body.contains("Version 9000.2 text."), "{body}");
    assert_eq!(user, (1, 1, 1));
    assert_eq!(lang.as_deref(), Some("fr"));

    let packs = dir.path().join(PACKS_DIR);
    assert_eq!(
        fs::read(packs.join(format!("{}.json.gz", release.sha256))).unwrap(),
        bytes
    );
    let pointer: PackRelease =
        serde_json::from_slice(&fs::read(packs.join(ACTIVE_FILE)).unwrap()).unwrap();
    assert_eq!(pointer, release);

    // Start-up picks it (newer than the built-in pack), verified again.
    let (installed, files) = installed_pack(dir.path(), &trusted()).unwrap().unwrap();
    assert_eq!(installed, release);
    let chosen = PackFiles::installed_or_embedded(dir.path(), &trusted());
    assert_eq!(chosen.hash(), files.hash());
    drop(core);
    let reopened = Core::open(dir.path(), Ok(chosen)).unwrap();
    assert_eq!(
        reopened.content_status(),
        ContentStatus::Ready {
            version: "9000.2".into()
        }
    );
    assert_eq!(snapshot(&reopened).3, (1, 1, 1));

    // A second update replaces the first; the old archive is cleaned away.
    let (next, next_bytes) = signed(&pack_files("9000.10"), "9000.10", &key(1));
    install_archive(&reopened, &next, &next_bytes, &trusted()).unwrap();
    let archives: Vec<_> = fs::read_dir(&packs)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json.gz"))
        .collect();
    assert_eq!(archives.len(), 1);
}

#[test]
fn a_tampered_byte_is_refused() {
    let (_dir, core) = core_with_user_data();
    let before = snapshot(&core);
    let (release, bytes) = signed(&pack_files("9000.2"), "9000.2", &key(1));
    let mut tampered = bytes.clone();
    let last = tampered.len() - 9;
    tampered[last] ^= 0x01;
    // The release as published: the bytes do not match it.
    assert_refused(
        install_archive(&core, &release, &tampered, &trusted()),
        "SHA-256 does not match the release",
    );
    // A release rewritten to match the tampered bytes (a hostile server): the signature fails.
    let forged = PackRelease {
        sha256: hex(&Sha256::digest(&tampered)),
        ..release.clone()
    };
    assert_refused(
        install_archive(&core, &forged, &tampered, &trusted()),
        "signature does not match",
    );
    // A truncated download.
    assert_refused(
        install_archive(&core, &release, &bytes[..bytes.len() - 1], &trusted()),
        "the release says",
    );
    assert_eq!(snapshot(&core), before, "old pack and user data untouched");
    assert!(!core.data_dir().join(PACKS_DIR).join(ACTIVE_FILE).exists());
}

#[test]
fn a_pack_signed_by_another_key_is_refused() {
    let (_dir, core) = core_with_user_data();
    let before = snapshot(&core);
    let (release, bytes) = signed(&pack_files("9000.2"), "9000.2", &key(2));
    assert_refused(
        install_archive(&core, &release, &bytes, &trusted()),
        "unknown signing key",
    );
    // Signed by key 2 while naming the trusted key 1.
    let claimed = PackRelease {
        key_id: key_id(key(1).verifying_key().as_bytes()),
        ..release
    };
    assert_refused(
        install_archive(&core, &claimed, &bytes, &trusted()),
        "signature does not match",
    );
    // The built-in key trusts neither test key.
    let (release, bytes) = signed(&pack_files("9000.2"), "9000.2", &key(1));
    assert_refused(
        install_archive(&core, &release, &bytes, &trusted_pack_keys()),
        "unknown signing key",
    );
    assert_eq!(snapshot(&core), before);
}

#[test]
fn an_unsigned_pack_is_refused() {
    let (_dir, core) = core_with_user_data();
    let before = snapshot(&core);
    let (release, bytes) = signed(&pack_files("9000.2"), "9000.2", &key(1));
    let unsigned = PackRelease {
        signature: String::new(),
        ..release.clone()
    };
    assert_refused(
        install_archive(&core, &unsigned, &bytes, &trusted()),
        "the pack is not signed",
    );
    let garbage = PackRelease {
        signature: "bm90IGEgc2lnbmF0dXJl".into(),
        ..release
    };
    assert_refused(
        install_archive(&core, &garbage, &bytes, &trusted()),
        "signature is malformed",
    );
    assert_eq!(snapshot(&core), before);
}

#[test]
fn a_signed_but_invalid_pack_is_refused_naming_the_file() {
    let (dir, core) = core_with_user_data();
    // Install a good update first, so there is an active pack that must survive.
    let (good, good_bytes) = signed(&pack_files("9000.2"), "9000.2", &key(1));
    install_archive(&core, &good, &good_bytes, &trusted()).unwrap();
    let before = snapshot(&core);
    let pointer_before = fs::read(dir.path().join(PACKS_DIR).join(ACTIVE_FILE)).unwrap();

    let mut files = pack_files("9000.3");
    files.insert(
        "manual/en/meetings.md".into(),
        "+++\ntitle = \"T\"\nsummary = 3\n+++\nx".into(),
    );
    let (release, bytes) = signed(&files, "9000.3", &key(1));
    assert_refused(
        install_archive(&core, &release, &bytes, &trusted()),
        "archive is not a valid pack: manual/en/meetings.md: line 3:",
    );

    // Signed garbage that is not even an archive.
    let junk = b"signed, but not gzip".to_vec();
    let release = release_for("9000.3", &junk, &key(1));
    assert_refused(
        install_archive(&core, &release, &junk, &trusted()),
        "archive is not a valid pack: archive: not a gzip archive",
    );

    // The manifest says another version than the release.
    let (release, bytes) = signed(&pack_files("9000.4"), "9000.5", &key(1));
    assert_refused(
        install_archive(&core, &release, &bytes, &trusted()),
        "holds version 9000.4, the release says 9000.5",
    );

    // Not newer than what is installed (a replayed old release).
    let (release, bytes) = signed(&pack_files("9000.1"), "9000.1", &key(1));
    assert_refused(
        install_archive(&core, &release, &bytes, &trusted()),
        "not newer than the installed content 9000.2",
    );

    assert_eq!(
        snapshot(&core),
        before,
        "the old pack and the user data stay"
    );
    assert_eq!(
        fs::read(dir.path().join(PACKS_DIR).join(ACTIVE_FILE)).unwrap(),
        pointer_before
    );
    assert_eq!(
        installed_pack(dir.path(), &trusted()).unwrap().unwrap().0,
        good
    );
}

#[test]
fn the_swap_is_atomic() {
    let (dir, core) = core_with_user_data();
    let (first, first_bytes) = signed(&pack_files("9000.2"), "9000.2", &key(1));
    install_archive(&core, &first, &first_bytes, &trusted()).unwrap();
    let packs = dir.path().join(PACKS_DIR);

    // A crash after the new archive was written, before the pointer moved: the old pack is
    // still the installed one.
    let (second, second_bytes) = signed(&pack_files("9000.3"), "9000.3", &key(1));
    fs::write(
        packs.join(format!("{}.json.gz", second.sha256)),
        &second_bytes,
    )
    .unwrap();
    fs::write(
        packs.join(format!(".{ACTIVE_FILE}.1234.tmp")),
        b"{half a pointer",
    )
    .unwrap();
    assert_eq!(
        installed_pack(dir.path(), &trusted()).unwrap().unwrap().0,
        first
    );

    // The pointer cannot be replaced (here: a folder in its way): the import is rolled back.
    let before = snapshot(&core);
    fs::remove_file(packs.join(ACTIVE_FILE)).unwrap();
    fs::create_dir(packs.join(ACTIVE_FILE)).unwrap();
    fs::write(packs.join(ACTIVE_FILE).join("x"), b"x").unwrap();
    let e = install_archive(&core, &second, &second_bytes, &trusted()).unwrap_err();
    assert_eq!(e.code().as_str(), "data_dir", "{e}");
    assert_eq!(snapshot(&core), before, "database content unchanged");
    fs::remove_dir_all(packs.join(ACTIVE_FILE)).unwrap();

    // Now it works, and the leftovers of the failed attempts are gone.
    install_archive(&core, &second, &second_bytes, &trusted()).unwrap();
    let names: Vec<String> = fs::read_dir(&packs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&ACTIVE_FILE.to_string()));
}

#[test]
fn start_up_falls_back_to_the_built_in_pack_and_says_why() {
    let (dir, core) = core_with_user_data();
    let (release, bytes) = signed(&pack_files("9000.2"), "9000.2", &key(1));
    install_archive(&core, &release, &bytes, &trusted()).unwrap();
    let embedded = PackFiles::embedded().hash();
    let archive = dir
        .path()
        .join(PACKS_DIR)
        .join(format!("{}.json.gz", release.sha256));

    // Not trusted by this build (e.g. the key was removed): the built-in pack.
    let e = installed_pack(dir.path(), &[key(3).verifying_key()]).unwrap_err();
    assert!(e.contains("unknown signing key"), "{e}");
    assert_eq!(
        PackFiles::installed_or_embedded(dir.path(), &[key(3).verifying_key()]).hash(),
        embedded
    );

    // Damaged on disk after installation.
    let mut damaged = bytes.clone();
    damaged[20] ^= 0xff;
    fs::write(&archive, &damaged).unwrap();
    assert!(
        installed_pack(dir.path(), &trusted())
            .unwrap_err()
            .contains("SHA-256")
    );
    assert_eq!(
        PackFiles::installed_or_embedded(dir.path(), &trusted()).hash(),
        embedded
    );

    // Missing.
    fs::remove_file(&archive).unwrap();
    assert!(
        installed_pack(dir.path(), &trusted())
            .unwrap_err()
            .contains("cannot read")
    );

    // Nothing installed at all.
    let empty = tempfile::tempdir().unwrap();
    assert!(installed_pack(empty.path(), &trusted()).unwrap().is_none());
    assert_eq!(
        PackFiles::installed_or_embedded(empty.path(), &trusted()).hash(),
        embedded
    );
}

#[test]
fn start_up_prefers_a_newer_built_in_pack() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(dir.path(), Ok(as_pack_files(&pack_files("1.0")))).unwrap();
    let (release, bytes) = signed(&pack_files("1.1"), "1.1", &key(1));
    install_archive(&core, &release, &bytes, &trusted()).unwrap();
    assert!(installed_pack(dir.path(), &trusted()).unwrap().is_some());
    // The app was updated with content 2026.x: that is newer than the downloaded 1.1.
    assert_eq!(
        PackFiles::installed_or_embedded(dir.path(), &trusted()).hash(),
        PackFiles::embedded().hash()
    );
}

// ---- over HTTP --------------------------------------------------------------------------------

#[derive(Default)]
struct Fake {
    latest: Option<PackRelease>,
    archives: BTreeMap<String, Vec<u8>>,
    requests: Vec<String>,
}

type Shared = Arc<Mutex<Fake>>;

async fn latest_handler(State(fake): State<Shared>, headers: axum::http::HeaderMap) -> Response {
    let mut fake = fake.lock().unwrap();
    fake.requests.push(format!(
        "latest {}",
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    ));
    match &fake.latest {
        Some(r) => axum::Json(r.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"code": "no_pack", "message": "nothing published"})),
        )
            .into_response(),
    }
}

async fn archive_handler(
    State(fake): State<Shared>,
    UrlPath(version): UrlPath<String>,
) -> Response {
    let mut fake = fake.lock().unwrap();
    fake.requests.push(format!("archive {version}"));
    match fake.archives.get(&version) {
        Some(bytes) => {
            ([(header::CONTENT_TYPE, "application/gzip")], bytes.clone()).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"code": "no_pack", "message": "no such version"})),
        )
            .into_response(),
    }
}

async fn start_fake() -> (SyncClient, Shared) {
    let shared: Shared = Arc::default();
    let app = Router::new()
        .route("/v1/packs/latest", get(latest_handler))
        .route("/v1/packs/{version}/archive", get(archive_handler))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (SyncClient::new(&url).unwrap(), shared)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_download_and_install_over_http() {
    let (client, fake) = start_fake().await;
    let (_dir, core) = core_with_user_data();

    assert_eq!(
        check_for_pack_update(&core, &client, "tok").await.unwrap(),
        None,
        "nothing published"
    );
    let (same, same_bytes) = signed(&pack_files("9000.1"), "9000.1", &key(1));
    fake.lock().unwrap().latest = Some(same);
    fake.lock()
        .unwrap()
        .archives
        .insert("9000.1".into(), same_bytes);
    assert_eq!(
        check_for_pack_update(&core, &client, "tok").await.unwrap(),
        None,
        "not newer than the installed 9000.1"
    );

    let (release, bytes) = signed(&pack_files("9000.2"), "9000.2", &key(1));
    fake.lock().unwrap().latest = Some(release.clone());
    fake.lock()
        .unwrap()
        .archives
        .insert("9000.2".into(), bytes.clone());
    let found = check_for_pack_update(&core, &client, "tok")
        .await
        .unwrap()
        .expect("an update");
    assert_eq!(found, release);
    let report = download_and_install(&core, &client, "tok", &found, &trusted())
        .await
        .unwrap();
    assert_eq!(report.version, "9000.2");
    assert_eq!(
        core.content_status(),
        ContentStatus::Ready {
            version: "9000.2".into()
        }
    );
    assert!(
        fake.lock()
            .unwrap()
            .requests
            .iter()
            .any(|r| r == "latest Bearer tok")
    );

    // A server that sends more than the release announces is cut off.
    let (next, next_bytes) = signed(&pack_files("9000.3"), "9000.3", &key(1));
    let mut longer = next_bytes.clone();
    longer.extend_from_slice(&[0; 100]);
    fake.lock()
        .unwrap()
        .archives
        .insert("9000.3".into(), longer);
    let e = download_and_install(&core, &client, "tok", &next, &trusted()).await;
    assert_refused(e, "more than the");
    // A tampered archive from the server is refused; the content stays.
    let mut tampered = next_bytes.clone();
    tampered[30] ^= 1;
    fake.lock()
        .unwrap()
        .archives
        .insert("9000.3".into(), tampered);
    assert_refused(
        download_and_install(&core, &client, "tok", &next, &trusted()).await,
        "SHA-256 does not match",
    );
    // Unknown version on the server: its own error.
    let missing = PackRelease {
        version: "9000.9".into(),
        ..next
    };
    let e = download_and_install(&core, &client, "tok", &missing, &trusted())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Server { status: 404, code, .. } if code.as_str() == "no_pack"),
        "{e:?}"
    );
    assert_eq!(
        core.content_status(),
        ContentStatus::Ready {
            version: "9000.2".into()
        }
    );
}
