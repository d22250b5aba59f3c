//! Malformed requests: a clear 4xx in `ErrorBody` form, no panic, nothing stored.

use std::io::Write;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use stopover_protocol::{MAX_BODY_BYTES, PROTOCOL_HEADER, Role};

use super::{TestServer, assert_error, split};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn one_op() -> Value {
    json!({"ops": [{
        "id": "01939a2b-7c4d-7e8f-9a0b-000000000001",
        "entity": {"kind": "checklist_progress", "id": "a/b"},
        "field": "done", "base_version": 0, "value": true
    }]})
}

struct Push<'a> {
    token: &'a str,
    content_type: Option<&'a str>,
    encoding: Option<&'a str>,
    extra: Option<(&'a str, &'a str)>,
}

impl<'a> Push<'a> {
    fn new(token: &'a str) -> Self {
        Push {
            token,
            content_type: Some("application/json"),
            encoding: None,
            extra: None,
        }
    }

    async fn send(&self, s: &TestServer, body: impl Into<Body>) -> (StatusCode, Value) {
        let mut req = Request::post("/v1/sync/push")
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        if let Some(ct) = self.content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        if let Some(enc) = self.encoding {
            req = req.header(header::CONTENT_ENCODING, enc);
        }
        if let Some((name, value)) = self.extra {
            req = req.header(name, value);
        }
        let (status, _, body) = split(s.raw(req.body(body.into()).unwrap()).await).await;
        (status, body)
    }
}

async fn setup() -> (TestServer, String, Vec<i64>) {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let before = s.snapshot().await;
    (s, t, before)
}

#[tokio::test]
async fn bad_json_is_400_saying_where() {
    let (s, t, before) = setup().await;
    for body in [
        "{\"ops\": [",
        "not json at all",
        "",
        "{\"ops\": []} trailing",
        "\u{0}\u{1}",
    ] {
        let got = Push::new(&t).send(&s, body).await;
        assert_error(&got, StatusCode::BAD_REQUEST, "bad_json");
    }
    let got = Push::new(&t).send(&s, "{\"ops\": [}").await;
    assert!(
        got.1["message"].as_str().unwrap().contains("line 1 column"),
        "{}",
        got.1
    );
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn wrong_shapes_are_422_with_serdes_words() {
    let (s, t, before) = setup().await;
    let mut wrong_type = one_op();
    wrong_type["ops"][0]["base_version"] = json!("three");
    let mut negative = one_op();
    negative["ops"][0]["base_version"] = json!(-1);
    let mut missing = one_op();
    missing["ops"][0].as_object_mut().unwrap().remove("field");
    let cases = [
        (json!({}), "missing field `ops`"),
        (json!({"ops": {}}), "invalid type"),
        (json!([1, 2]), "invalid type"),
        (wrong_type, "invalid type"),
        (negative, "invalid value"),
        (missing, "missing field `field`"),
        (json!({"ops": [], "extra": 1}), "unknown field `extra`"),
    ];
    for (body, words) in cases {
        let got = Push::new(&t).send(&s, body.to_string()).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
        assert!(
            got.1["message"].as_str().unwrap().contains(words),
            "{body}: {}",
            got.1
        );
    }
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn huge_bodies_are_413() {
    let (s, t, before) = setup().await;
    let big = vec![b' '; MAX_BODY_BYTES + 1];
    // Declared size over the limit: refused before reading.
    let len = big.len().to_string();
    let declared = Push {
        extra: Some(("content-length", &len)),
        ..Push::new(&t)
    };
    assert_error(
        &declared.send(&s, big.clone()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
    // Undeclared size: refused while reading.
    assert_error(
        &Push::new(&t).send(&s, big).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    );
    // Small on the wire, over the limit once decompressed.
    let bomb = gzip(&vec![b' '; MAX_BODY_BYTES * 4]);
    assert!(bomb.len() < MAX_BODY_BYTES / 100);
    let got = Push {
        encoding: Some("gzip"),
        ..Push::new(&t)
    }
    .send(&s, bomb)
    .await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn unknown_protocol_versions_are_400() {
    let (s, t, before) = setup().await;
    for version in ["2", "0", "one", ""] {
        let got = Push {
            extra: Some((PROTOCOL_HEADER, version)),
            ..Push::new(&t)
        }
        .send(&s, one_op().to_string())
        .await;
        assert_error(&got, StatusCode::BAD_REQUEST, "unsupported_protocol");
    }
    assert_eq!(s.snapshot().await, before);
    let ok = Push {
        extra: Some((PROTOCOL_HEADER, "1")),
        ..Push::new(&t)
    }
    .send(&s, one_op().to_string())
    .await;
    assert_eq!(ok.0, StatusCode::OK);
}

#[tokio::test]
async fn wrong_content_types_are_415() {
    let (s, t, before) = setup().await;
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let got = Push {
            content_type: ct,
            ..Push::new(&t)
        }
        .send(&s, one_op().to_string())
        .await;
        assert_error(
            &got,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        );
    }
    let got = Push {
        encoding: Some("br"),
        ..Push::new(&t)
    }
    .send(&s, one_op().to_string())
    .await;
    assert_error(
        &got,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn compressed_bodies_are_accepted() {
    let (s, t, _) = setup().await;
    let body = one_op().to_string();
    let got = Push {
        encoding: Some("gzip"),
        ..Push::new(&t)
    }
    .send(&s, gzip(body.as_bytes()))
    .await;
    assert_eq!(got.0, StatusCode::OK, "{}", got.1);
    assert_eq!(got.1["results"][0]["outcome"], "applied");
    let zstd = zstd::encode_all(body.as_bytes(), 3).unwrap();
    let got = Push {
        encoding: Some("zstd"),
        ..Push::new(&t)
    }
    .send(&s, zstd)
    .await;
    assert_eq!(got.1["results"][0]["outcome"], "duplicate", "{}", got.1);
}

#[tokio::test]
async fn corrupt_compressed_bodies_are_400() {
    let (s, t, before) = setup().await;
    let mut broken = gzip(one_op().to_string().as_bytes());
    broken.truncate(broken.len() / 2);
    for body in [b"definitely not gzip".to_vec(), broken] {
        let got = Push {
            encoding: Some("gzip"),
            ..Push::new(&t)
        }
        .send(&s, body)
        .await;
        assert!(got.0 == StatusCode::BAD_REQUEST, "{got:?}");
        assert!(
            matches!(got.1["code"].as_str(), Some("bad_body" | "bad_json")),
            "{}",
            got.1
        );
    }
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_in_json() {
    let s = TestServer::new().await;
    assert_error(
        &s.send(Method::GET, "/", None, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.send(Method::GET, "/v2/health", None, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &s.send(Method::GET, "/v1/sync/push", None, None).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    assert_error(
        &s.send(Method::PUT, "/v1/health", None, None).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
}

#[tokio::test]
async fn panics_become_a_json_500() {
    let s = TestServer::new().await;
    async fn boom() -> &'static str {
        panic!("deliberate test panic")
    }
    let routes = axum::Router::new().route("/boom", axum::routing::get(boom));
    let app = crate::http::with_layers(routes, Default::default()).with_state(s.state.clone());
    let res = tower::ServiceExt::oneshot(app, Request::get("/boom").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let got = split(res).await;
    assert_error(
        &(got.0, got.2),
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
    );
}
