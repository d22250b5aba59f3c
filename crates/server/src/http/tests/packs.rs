//! Signed content packs: publishing (versions only go up), the latest release, the archive.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier};
use sha2::{Digest, Sha256};
use stopover_protocol::files::hex;
use stopover_protocol::packs::PackArchive;
use stopover_protocol::{PackRelease, Role};

use super::{TestServer, assert_error};
use crate::packs;

fn write_pack(dir: &std::path::Path, version: &str) {
    std::fs::create_dir_all(dir.join("manual/en")).unwrap();
    std::fs::write(
        dir.join("manifest.toml"),
        format!("id = \"t\"\nversion = \"{version}\"\nlanguages = [\"en\"]\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("manual/en/meetings.md"),
        format!("+++\ntitle = \"Meetings\"\nsummary = \"S\"\norder = 1\n+++\nVersion {version}.\n"),
    )
    .unwrap();
}

/// Publishes a pack of `version` into the test server's data folder.
pub(super) fn publish(
    s: &TestServer,
    key: &std::path::Path,
    version: &str,
) -> crate::Result<PackRelease> {
    let pack = tempfile::tempdir().unwrap();
    write_pack(pack.path(), version);
    let mut conn = crate::db::open(s.dir.path()).unwrap();
    packs::publish(&mut conn, s.dir.path(), key, pack.path())
}

async fn archive(
    s: &TestServer,
    token: &str,
    version: &str,
) -> (StatusCode, Option<String>, Vec<u8>) {
    let req = Request::get(format!("/v1/packs/{version}/archive"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let res = s.raw(req).await;
    let status = res.status();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string());
    assert!(
        res.headers().get(header::CONTENT_ENCODING).is_none(),
        "an archive is gzip already: never compressed again"
    );
    (
        status,
        content_type,
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
}

#[tokio::test]
async fn publish_then_latest_then_archive() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("pack.key");
    let public = packs::keygen(&key_file).unwrap();

    let none = s
        .send(Method::GET, "/v1/packs/latest", Some(&t), None)
        .await;
    assert_error(&none, StatusCode::NOT_FOUND, "no_pack");

    let first = publish(&s, &key_file, "2026.12.0").unwrap();
    assert!(s.dir.path().join("packs/2026.12.0.json.gz").is_file());
    let second = publish(&s, &key_file, "2026.12.1").unwrap();

    let (status, body) = s
        .send(Method::GET, "/v1/packs/latest", Some(&t), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let latest: PackRelease = serde_json::from_value(body).unwrap();
    assert_eq!(latest, second);
    assert_eq!(latest.key_id, hex(public.as_bytes()));

    for release in [&first, &second] {
        let (status, content_type, bytes) = archive(&s, &t, &release.version).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some("application/gzip"));
        assert_eq!(bytes.len() as u64, release.size);
        assert_eq!(hex(&Sha256::digest(&bytes)), release.sha256);
        let sig = Signature::from_slice(
            &base64::engine::general_purpose::STANDARD
                .decode(&release.signature)
                .unwrap(),
        )
        .unwrap();
        public
            .verify(&bytes, &sig)
            .expect("the signature covers the archive's bytes");
        let files = PackArchive::decode(&bytes).unwrap().files;
        assert!(files["manual/en/meetings.md"].contains(&format!("Version {}.", release.version)));
    }
}

#[tokio::test]
async fn versions_only_go_up() {
    let s = TestServer::new().await;
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("pack.key");
    packs::keygen(&key_file).unwrap();
    publish(&s, &key_file, "1.10").unwrap();
    for stale in ["1.10", "1.10.0", "1.9", "0.99"] {
        let e = publish(&s, &key_file, stale).unwrap_err().to_string();
        assert!(
            e.contains("not newer than the latest published pack 1.10"),
            "{stale}: {e}"
        );
    }
    assert!(
        !s.dir.path().join("packs/1.9.json.gz").exists(),
        "a refused version stores nothing"
    );
    assert_eq!(s.count("pack_release").await, 1);
    publish(&s, &key_file, "1.11").unwrap();
    assert_eq!(s.count("pack_release").await, 2);
}

#[tokio::test]
async fn archives_need_a_signed_in_user_and_a_published_version() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let keys = tempfile::tempdir().unwrap();
    let key_file = keys.path().join("pack.key");
    packs::keygen(&key_file).unwrap();
    publish(&s, &key_file, "3.0").unwrap();

    assert_error(
        &s.send(Method::GET, "/v1/packs/latest", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &s.send(Method::GET, "/v1/packs/3.0/archive", None, None)
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    for missing in ["2.0", "3.0.1", "..%2F..%2Fecommunity.sqlite3", "latest"] {
        let got = s
            .send(
                Method::GET,
                &format!("/v1/packs/{missing}/archive"),
                Some(&t),
                None,
            )
            .await;
        assert_error(&got, StatusCode::NOT_FOUND, "no_pack");
    }
    // Every role may read.
    for (name, role, country) in [
        ("sec", Role::Secretariat, None),
        ("root", Role::Admin, None),
    ] {
        let token = s.user(name, role, country).await;
        assert_eq!(archive(&s, &token, "3.0").await.0, StatusCode::OK);
    }
}
