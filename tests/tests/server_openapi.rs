//! The checked-in OpenAPI document against the real `ecommunity` process: every documented
//! operation is served (never the router's "no such endpoint" 404, never 405), and every
//! `/v1` endpoint the protocol lists is documented. Drift in either direction fails here.

use reqwest::Method;
use serde_json::Value;
use stopover_tests::api::{Api, Body};
use stopover_tests::server::{NewUser, Server};

fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/server/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("openapi.json is checked in"))
        .expect("valid JSON")
}

#[tokio::test]
async fn every_documented_operation_is_served_by_the_real_server() {
    let server = Server::start();
    let admin = server.signed_in(&NewUser::staff("root", "admin")).await;
    let api = Api::new(&server.base_url).with_token(&admin.token);

    let doc = document();
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    for (template, operations) in paths {
        // Placeholder values: an unknown id may well be a 404, but a specific one.
        let path = template
            .replace("{username}", "nobody")
            .replace("{id}", "0")
            .replace("{version}", "0.0");
        for method in operations.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = api
                .request(
                    method.clone(),
                    &path,
                    Body::Raw(b"{}".to_vec()),
                    &[
                        ("Tus-Resumable", "1.0.0"),
                        ("content-type", "application/json"),
                    ],
                )
                .await
                .unwrap();
            assert_ne!(
                reply.status,
                405,
                "{method} {template} is documented but not routed: {}",
                reply.describe()
            );
            let code = reply.error_body().map(|e| e.code.as_str());
            assert!(
                !(reply.status == 404 && code == Some("not_found")),
                "{method} {template} is documented but the server has no such endpoint: {}",
                reply.describe()
            );
            checked += 1;
        }
    }
    assert!(checked >= 17, "only {checked} operations documented");
}

#[test]
fn the_protocol_endpoint_table_is_documented() {
    let doc = document();
    let documented: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| format!("{} {p}", m.to_uppercase()))
        })
        .collect();
    for wanted in [
        "GET /v1/health",
        "POST /v1/accounts",
        "POST /v1/sessions",
        "DELETE /v1/sessions/current",
        "GET /v1/me",
        "POST /v1/sync/push",
        "GET /v1/sync/pull",
        "GET /v1/admin/accounts",
        "POST /v1/admin/accounts/{username}/approve",
        "POST /v1/admin/accounts/{username}/revoke",
        "POST /v1/files",
        "HEAD /v1/files/{id}",
        "PATCH /v1/files/{id}",
        "GET /v1/packs/latest",
    ] {
        assert!(
            documented.iter().any(|d| d == wanted),
            "`{wanted}` is missing from openapi.json; documented: {documented:?}"
        );
    }
}
