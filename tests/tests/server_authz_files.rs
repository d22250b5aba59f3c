//! Attachments (tus) and content packs on the real server: who may touch what. An upload
//! belongs to the account that made it; any other account — same country or not — is told
//! it does not exist (404), never shown it. Packs are readable by any signed-in account.

use reqwest::Method;
use sha2::{Digest, Sha256};
use stopover_protocol::files::{UploadMetadata, hex};
use stopover_tests::api::{Api, Body};
use stopover_tests::server::{NewUser, Server};

const TUS: (&str, &str) = ("Tus-Resumable", "1.0.0");

/// Creates and completes an upload as `api`; returns its path (`/v1/files/<id>`).
async fn upload(api: &Api, bytes: &[u8]) -> String {
    let meta = UploadMetadata {
        sha256: hex(&Sha256::digest(bytes)),
        filename: Some("map.pdf".into()),
    }
    .encode();
    let len = bytes.len().to_string();
    let created = api
        .request(
            Method::POST,
            "/v1/files",
            Body::None,
            &[TUS, ("Upload-Length", &len), ("Upload-Metadata", &meta)],
        )
        .await
        .unwrap();
    assert!(
        created.status == 201 || created.status == 200,
        "create: {}",
        created.describe()
    );
    let location = created.header("location").expect("Location").to_string();
    let path = format!("/v1/files/{}", location.rsplit('/').next().unwrap());
    let patched = api
        .request(
            Method::PATCH,
            &path,
            Body::Raw(bytes.to_vec()),
            &[
                TUS,
                ("Upload-Offset", "0"),
                ("Content-Type", "application/offset+octet-stream"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(patched.status, 204, "patch: {}", patched.describe());
    path
}

#[tokio::test]
async fn uploads_belong_to_their_account_and_packs_need_a_sign_in() {
    let server = Server::start();
    let amina = server.signed_in(&NewUser::nfp("amina", "KE")).await;
    let baraka = server.signed_in(&NewUser::nfp("baraka", "KE")).await;
    let juma = server.signed_in(&NewUser::nfp("juma", "TZ")).await;
    let anon = Api::new(&server.base_url);
    let owner = anon.with_token(&amina.token);

    let path = upload(&owner, b"a workshop report, 2027").await;

    // The owner may read it back.
    let got = owner
        .request(Method::GET, &path, Body::None, &[TUS])
        .await
        .unwrap();
    assert_eq!(
        (got.status, got.body.as_slice()),
        (200, b"a workshop report, 2027".as_slice()),
        "{}",
        got.describe()
    );

    // Nobody else may see, resume or read it: not a colleague of the same country, not another country.
    for (who, token) in [
        ("same-country NFP", &baraka.token),
        ("other-country NFP", &juma.token),
    ] {
        let api = anon.with_token(token);
        for (method, headers) in [
            (Method::HEAD, vec![TUS]),
            (Method::GET, vec![TUS]),
            (
                Method::PATCH,
                vec![
                    TUS,
                    ("Upload-Offset", "0"),
                    ("Content-Type", "application/offset+octet-stream"),
                ],
            ),
        ] {
            let reply = api
                .request(method.clone(), &path, Body::Raw(Vec::new()), &headers)
                .await
                .unwrap();
            assert_eq!(
                reply.status,
                404,
                "{who} {method} {path}: {}",
                reply.describe()
            );
        }
    }

    // Anonymous callers get nothing from files or packs.
    for (method, p) in [
        (Method::OPTIONS, "/v1/files".to_string()),
        (Method::POST, "/v1/files".to_string()),
        (Method::HEAD, path.clone()),
        (Method::GET, path.clone()),
        (Method::GET, "/v1/packs/latest".to_string()),
        (Method::GET, "/v1/packs/1.0/archive".to_string()),
    ] {
        let reply = anon
            .request(method.clone(), &p, Body::None, &[TUS])
            .await
            .unwrap();
        assert_eq!(
            reply.status,
            401,
            "anonymous {method} {p}: {}",
            reply.describe()
        );
    }

    // Any signed-in account may ask for packs (none published yet: a clear 404).
    let latest = anon
        .with_token(&juma.token)
        .get("/v1/packs/latest")
        .await
        .unwrap();
    assert_eq!(latest.status, 404, "{}", latest.describe());
    assert_eq!(
        latest.error_body().map(|e| e.code.as_str()),
        Some("no_pack")
    );

    // A signed-out device loses access to its own uploads too.
    assert_eq!(
        owner.delete("/v1/sessions/current").await.unwrap().status,
        204
    );
    let after = owner
        .request(Method::GET, &path, Body::None, &[TUS])
        .await
        .unwrap();
    assert_eq!(after.status, 401, "{}", after.describe());
}
