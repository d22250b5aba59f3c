use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use stopover_protocol::{AccountStatus, Role};

use super::{PASSWORD, TestServer, assert_error, split};

fn sign_in_body(username: &str, password: &str) -> serde_json::Value {
    json!({"username": username, "password": password, "device_name": "Ministry laptop"})
}

async fn sign_in_from(
    s: &TestServer,
    peer: &str,
    username: &str,
    password: &str,
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let mut req = Request::post("/v1/sessions")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(sign_in_body(username, password).to_string()))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    split(s.raw(req).await).await
}

#[tokio::test]
async fn signing_in_issues_a_token_stored_only_as_a_hash() {
    let s = TestServer::new().await;
    s.add_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved)
        .await;
    let (status, body) = s
        .send(
            Method::POST,
            "/v1/sessions",
            None,
            Some(sign_in_body("amina", PASSWORD)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 43);
    assert_eq!(body["account"]["username"], "amina");
    let device_id = body["device_id"].as_str().unwrap().to_string();

    let (stored_hash, name): (Vec<u8>, String) = s
        .state
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT token_hash, name FROM device WHERE id = ?1",
                [device_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(stored_hash, crate::auth::token::hash(token));
    assert_eq!(name, "Ministry laptop");
    // The token itself is nowhere in the database file.
    let mut file = std::fs::read(s.dir.path().join(crate::db::DATABASE_FILE)).unwrap();
    file.extend(std::fs::read(s.dir.path().join("ecommunity.sqlite3-wal")).unwrap_or_default());
    assert!(!file.windows(token.len()).any(|w| w == token.as_bytes()));

    let (status, me) = s.send(Method::GET, "/v1/me", Some(token), None).await;
    assert_eq!(
        (status, me["username"].as_str()),
        (StatusCode::OK, Some("amina"))
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let s = TestServer::new().await;
    s.add_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved)
        .await;
    let wrong = s
        .send(
            Method::POST,
            "/v1/sessions",
            None,
            Some(sign_in_body("amina", "not the password")),
        )
        .await;
    let unknown = s
        .send(
            Method::POST,
            "/v1/sessions",
            None,
            Some(sign_in_body("nobody", PASSWORD)),
        )
        .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "bad_credentials");
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn revoked_accounts_cannot_sign_in() {
    let s = TestServer::new().await;
    s.add_account("amina", Role::Nfp, Some("KE"), AccountStatus::Revoked)
        .await;
    let got = s
        .send(
            Method::POST,
            "/v1/sessions",
            None,
            Some(sign_in_body("amina", PASSWORD)),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "account_revoked");
}

#[tokio::test]
async fn failures_slow_the_pair_and_strangers_but_never_lock_the_owner_out() {
    let s = TestServer::new().await;
    s.add_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved)
        .await;
    // Amina signs in from her office once: that address is hers.
    let (status, _, _) = sign_in_from(&s, "192.0.2.50:1000", "amina", PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED);
    // An outsider guesses from one address: after 5 failures, a growing wait for that pair.
    for _ in 0..5 {
        let (status, _, _) = sign_in_from(&s, "198.51.100.1:1000", "amina", "guess guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, headers, body) = sign_in_from(&s, "198.51.100.1:1000", "amina", PASSWORD).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")),
        "{body}"
    );
    assert_eq!(headers[header::RETRY_AFTER], "1");
    // …and from twenty more addresses: strangers are now slowed for this account…
    for i in 2..22 {
        sign_in_from(&s, &format!("198.51.100.{i}:1000"), "amina", "guess guess").await;
    }
    let (status, _, _) = sign_in_from(&s, "203.0.113.77:1000", "amina", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // …but Amina, from her own address, is not.
    let (status, _, body) = sign_in_from(&s, "192.0.2.50:1001", "amina", PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn parallel_guesses_are_checked_one_at_a_time() {
    let s = std::sync::Arc::new(TestServer::new().await);
    s.add_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved)
        .await;
    // 40 guesses at once from one address, the last one right.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = s.clone();
        let password = if i == 39 { PASSWORD } else { "guess guess" };
        tasks.push(tokio::spawn(async move {
            sign_in_from(&s, "198.51.100.9:1000", "amina", password)
                .await
                .0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let checked = statuses
        .iter()
        .filter(|s| **s != StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        checked <= 6,
        "at most the free failures (and one more) are checked: {statuses:?}"
    );
    assert_eq!(
        s.count("device").await,
        0,
        "no guess got through: {statuses:?}"
    );
}

#[tokio::test]
async fn failures_are_limited_per_address() {
    let s = TestServer::new().await;
    s.add_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved)
        .await;
    for i in 0..30 {
        let (status, _, _) = sign_in_from(
            &s,
            "203.0.113.7:4000",
            &format!("guess{i}"),
            "guess guess guess",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, headers, _) = sign_in_from(&s, "203.0.113.7:4001", "amina", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key(header::RETRY_AFTER));
    // Another address is unaffected.
    let (status, _, _) = sign_in_from(&s, "203.0.113.8:4000", "amina", PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_password_change_keeps_this_device_and_signs_out_the_others() {
    let s = TestServer::new().await;
    s.add_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved)
        .await;
    let laptop = s.sign_in("amina").await;
    let phone = s.sign_in("amina").await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    let got = s
        .send(
            Method::POST,
            "/v1/me/password",
            Some(&laptop),
            Some(change("wrong one", "brand new password")),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "wrong_password");
    let got = s
        .send(
            Method::POST,
            "/v1/me/password",
            Some(&laptop),
            Some(change(PASSWORD, "short")),
        )
        .await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    let (status, _) = s
        .send(
            Method::POST,
            "/v1/me/password",
            Some(&laptop),
            Some(change(PASSWORD, "brand new password")),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.send(Method::GET, "/v1/me", Some(&laptop), None).await.0,
        StatusCode::OK
    );
    assert_error(
        &s.send(Method::GET, "/v1/me", Some(&phone), None).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );
    let old = s
        .send(
            Method::POST,
            "/v1/sessions",
            None,
            Some(sign_in_body("amina", PASSWORD)),
        )
        .await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "bad_credentials");
    let new = s
        .send(
            Method::POST,
            "/v1/sessions",
            None,
            Some(sign_in_body("amina", "brand new password")),
        )
        .await;
    assert_eq!(new.0, StatusCode::CREATED);
}

#[tokio::test]
async fn after_a_reset_the_next_sign_in_must_set_a_new_password() {
    let s = TestServer::new().await;
    let sec = s.user("sec", Role::Secretariat, None).await;
    let amina = s.user("amina", Role::Nfp, Some("KE")).await;
    let (status, reset) = s
        .send(
            Method::POST,
            "/v1/admin/accounts/amina/reset-password",
            Some(&sec),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reset}");
    let temporary = reset["temporary_password"].as_str().unwrap().to_string();
    assert_error(
        &s.send(Method::GET, "/v1/me", Some(&amina), None).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );
    let got = s
        .send(
            Method::POST,
            "/v1/sessions",
            None,
            Some(sign_in_body("amina", &temporary)),
        )
        .await;
    assert_error(&got, StatusCode::FORBIDDEN, "password_change_required");
    let mut renew = sign_in_body("amina", &temporary);
    renew["new_password"] = json!("my own new password");
    let (status, body) = s
        .send(Method::POST, "/v1/sessions", None, Some(renew))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The one-time password is spent; the new one works without more ado.
    let again = s
        .send(
            Method::POST,
            "/v1/sessions",
            None,
            Some(sign_in_body("amina", &temporary)),
        )
        .await;
    assert_error(&again, StatusCode::UNAUTHORIZED, "bad_credentials");
    let ok = s
        .send(
            Method::POST,
            "/v1/sessions",
            None,
            Some(sign_in_body("amina", "my own new password")),
        )
        .await;
    assert_eq!(ok.0, StatusCode::CREATED);
    // Logged: who reset whom, from where.
    let log = s
        .state
        .db
        .read(|c| crate::audit::list(c, 10, None, Some("amina")))
        .await
        .unwrap();
    assert_eq!(log[0].action, "account.reset_password");
    assert_eq!(
        (log[0].actor.as_str(), log[0].source.as_str()),
        ("sec", "192.0.2.10")
    );
}

#[tokio::test]
async fn tokens_are_checked_and_revocable_one_by_one() {
    let s = TestServer::new().await;
    s.add_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved)
        .await;
    let laptop = s.sign_in("amina").await;
    let phone = s.sign_in("amina").await;
    assert_ne!(laptop, phone);

    assert_error(
        &s.send(Method::GET, "/v1/me", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &s.send(Method::GET, "/v1/me", Some("made-up"), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let basic = Request::get("/v1/me")
        .header(header::AUTHORIZATION, "Basic YTpi")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = split(s.raw(basic).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");

    let (status, body) = s
        .send(Method::DELETE, "/v1/sessions/current", Some(&laptop), None)
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::NO_CONTENT, serde_json::Value::Null)
    );
    assert_error(
        &s.send(Method::GET, "/v1/me", Some(&laptop), None).await,
        StatusCode::UNAUTHORIZED,
        "token_revoked",
    );
    assert_eq!(
        s.send(Method::GET, "/v1/me", Some(&phone), None).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn revoking_the_account_locks_out_its_devices() {
    let s = TestServer::new().await;
    let admin = s.user("root", Role::Admin, None).await;
    let amina = s.user("amina", Role::Nfp, Some("KE")).await;
    let (status, _) = s
        .send(
            Method::POST,
            "/v1/admin/accounts/amina/revoke",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let got = s.send(Method::GET, "/v1/me", Some(&amina), None).await;
    assert_eq!(got.0, StatusCode::UNAUTHORIZED);
    // A device left active while the account is revoked (e.g. a hand-edited database) is
    // still refused.
    s.state
        .db
        .write(|c| Ok(c.execute("UPDATE device SET revoked_at = NULL", [])?))
        .await
        .unwrap();
    assert_error(
        &s.send(Method::GET, "/v1/me", Some(&amina), None).await,
        StatusCode::UNAUTHORIZED,
        "account_revoked",
    );
}

#[tokio::test]
async fn device_names_are_checked() {
    let s = TestServer::new().await;
    s.add_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved)
        .await;
    let body = json!({"username": "amina", "password": PASSWORD, "device_name": "x".repeat(500)});
    let got = s.send(Method::POST, "/v1/sessions", None, Some(body)).await;
    assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    let body = json!({"username": "amina", "password": PASSWORD, "device_name": ""});
    assert_eq!(
        s.send(Method::POST, "/v1/sessions", None, Some(body))
            .await
            .0,
        StatusCode::CREATED
    );
}
