use axum::http::{Method, StatusCode, header};
use stopover_protocol::Role;

use super::{TestServer, assert_error, split};
use crate::state::Config;

#[tokio::test]
async fn sync_past_the_limit_is_shed_at_once_with_retry_after() {
    let s = TestServer::with_config(Config {
        max_inflight_syncs: 2,
        ..Config::default()
    })
    .await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    // Two syncs in flight (held as a slow request would hold them).
    let a = s.state.sync_slots.try_enter().unwrap();
    let _b = s.state.sync_slots.try_enter().unwrap();

    let req = axum::http::Request::get("/v1/sync/pull")
        .header(header::AUTHORIZATION, format!("Bearer {t}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, headers, body) = split(s.raw(req).await).await;
    assert_error(&(status, body), StatusCode::TOO_MANY_REQUESTS, "busy");
    let retry: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3).contains(&retry), "{retry}");
    let push = s
        .send(
            Method::POST,
            "/v1/sync/push",
            Some(&t),
            Some(serde_json::json!({"ops": []})),
        )
        .await;
    assert_error(&push, StatusCode::TOO_MANY_REQUESTS, "busy");

    // Other endpoints are not shed.
    assert_eq!(
        s.send(Method::GET, "/v1/me", Some(&t), None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        s.send(Method::GET, "/v1/health", None, None).await.0,
        StatusCode::OK
    );

    drop(a);
    assert_eq!(
        s.send(Method::GET, "/v1/sync/pull", Some(&t), None).await.0,
        StatusCode::OK
    );
}
