use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use stopover_protocol::Role;

use super::{TestServer, assert_error};

fn request(username: &str) -> Value {
    json!({
        "username": username,
        "password": "correct horse battery",
        "display_name": "Amina K.",
        "email": "amina@example.org",
        "country": "KE",
        "instruments": ["CMS", "AEWA"],
    })
}

#[tokio::test]
async fn anyone_may_request_a_pending_nfp_account() {
    let s = TestServer::new().await;
    let (status, body) = s
        .send(Method::POST, "/v1/accounts", None, Some(request("amina")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body,
        json!({"username": "amina", "display_name": "Amina K.", "role": "nfp", "country": "KE",
               "instruments": ["CMS", "AEWA"], "status": "pending"})
    );
    // Pending: the right password is not enough yet.
    let sign_in =
        json!({"username": "amina", "password": "correct horse battery", "device_name": "laptop"});
    let got = s
        .send(Method::POST, "/v1/sessions", None, Some(sign_in))
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "account_pending");
    assert_eq!(s.count("device").await, 0);
}

#[tokio::test]
async fn a_taken_username_is_409_and_changes_nothing() {
    let s = TestServer::new().await;
    s.send(Method::POST, "/v1/accounts", None, Some(request("amina")))
        .await;
    let before = s.snapshot().await;
    let mut again = request("amina");
    again["country"] = json!("UG");
    let got = s
        .send(Method::POST, "/v1/accounts", None, Some(again))
        .await;
    assert_error(&got, StatusCode::CONFLICT, "username_taken");
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn invalid_requests_are_422_naming_the_field() {
    let s = TestServer::new().await;
    let cases = [
        ("username", json!("Amina Upper")),
        ("password", json!("short")),
        ("country", json!("Kenya")),
        ("display_name", json!("")),
        ("email", json!("no-at-sign")),
    ];
    for (field, value) in cases {
        let mut body = request("amina");
        body[field] = value;
        let got = s.send(Method::POST, "/v1/accounts", None, Some(body)).await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
        assert!(
            got.1["message"].as_str().unwrap().starts_with(field),
            "{}",
            got.1
        );
    }
    // A role cannot be asked for: unknown fields are refused.
    let mut body = request("amina");
    body["role"] = json!("admin");
    let got = s.send(Method::POST, "/v1/accounts", None, Some(body)).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert_eq!(s.count("account").await, 0);
}

#[tokio::test]
async fn me_is_the_callers_account_without_secrets() {
    let s = TestServer::new().await;
    let token = s.user("amina", Role::Nfp, Some("KE")).await;
    let (status, body) = s.send(Method::GET, "/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["username"], "amina");
    assert_eq!(body["country"], "KE");
    assert!(
        body.get("email").is_none() && body.get("password_hash").is_none(),
        "{body}"
    );
}
