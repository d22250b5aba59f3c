//! Compression of answers and the health probe.

use std::io::Read;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use stopover_protocol::{Health, Role};

use super::TestServer;

async fn pull_with(s: &TestServer, token: &str, accept: &str) -> (Option<String>, Vec<u8>) {
    let req = Request::get("/v1/sync/pull")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT_ENCODING, accept)
        .body(Body::empty())
        .unwrap();
    let res = s.raw(req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let enc = res
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_string());
    (
        enc,
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
}

#[tokio::test]
async fn answers_are_compressed_as_the_client_asks() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let ops: Vec<_> = (0..50)
        .map(|i| {
            serde_json::json!({"id": format!("01939a2b-7c4d-7e8f-9a0b-{i:012}"),
                "entity": {"kind": "checklist_progress", "id": format!("list/step-{i}")},
                "field": "note", "base_version": 0, "value": "the same words compress well"})
        })
        .collect();
    s.send(
        axum::http::Method::POST,
        "/v1/sync/push",
        Some(&t),
        Some(serde_json::json!({"ops": ops})),
    )
    .await;
    // Another device of the account pulls them (the one that pushed holds them already).
    let t = s.sign_in("amina").await;

    let (enc, plain) = pull_with(&s, &t, "identity").await;
    assert_eq!(enc, None);
    let plain: Value = serde_json::from_slice(&plain).unwrap();

    let (enc, gz) = pull_with(&s, &t, "gzip").await;
    assert_eq!(enc.as_deref(), Some("gzip"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), plain);
    assert!(gz.len() * 4 < text.len(), "{} vs {}", gz.len(), text.len());

    let (enc, zs) = pull_with(&s, &t, "zstd").await;
    assert_eq!(enc.as_deref(), Some("zstd"));
    assert_eq!(
        serde_json::from_slice::<Value>(&zstd::decode_all(&zs[..]).unwrap()).unwrap(),
        plain
    );
}

#[tokio::test]
async fn health_identifies_the_server() {
    let s = TestServer::new().await;
    let (status, body) = s
        .send(axum::http::Method::GET, "/v1/health", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let health: Health = serde_json::from_value(body).unwrap();
    assert!(health.is_compatible());
}
