use axum::http::{Method, StatusCode};
use stopover_protocol::{AccountStatus, Role};

use super::{TestServer, assert_error};

struct Staff {
    nfp: String,
    secretariat: String,
    admin: String,
}

async fn setup() -> (TestServer, Staff) {
    let s = TestServer::new().await;
    let staff = Staff {
        nfp: s.user("nfp-ke", Role::Nfp, Some("KE")).await,
        secretariat: s.user("sec", Role::Secretariat, None).await,
        admin: s.user("root", Role::Admin, None).await,
    };
    s.add_account("pending-ug", Role::Nfp, Some("UG"), AccountStatus::Pending)
        .await;
    (s, staff)
}

#[tokio::test]
async fn listing_accounts_is_for_staff() {
    let (s, t) = setup().await;
    assert_error(
        &s.send(Method::GET, "/v1/admin/accounts", Some(&t.nfp), None)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    for token in [&t.secretariat, &t.admin] {
        let (status, body) = s
            .send(Method::GET, "/v1/admin/accounts", Some(token), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let names: Vec<_> = body
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["nfp-ke", "pending-ug", "root", "sec"]);
    }
    assert_error(
        &s.send(Method::GET, "/v1/admin/accounts", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

#[tokio::test]
async fn the_secretariat_approves() {
    let (s, t) = setup().await;
    let path = "/v1/admin/accounts/pending-ug/approve";
    assert_error(
        &s.send(Method::POST, path, Some(&t.nfp), None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, body) = s.send(Method::POST, path, Some(&t.secretariat), None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("approved"))
    );
    // Approved accounts can sign in, and everyone finds them in the directory.
    let token = s.sign_in("pending-ug").await;
    let cards = |body: serde_json::Value| -> Vec<serde_json::Value> {
        body["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["entity"] == serde_json::json!({"kind": "profile", "id": "pending-ug"}))
            .cloned()
            .collect()
    };
    let (_, feed) = s
        .send(Method::GET, "/v1/sync/pull?cursor=0", Some(&t.nfp), None)
        .await;
    let card = cards(feed);
    assert_eq!(card.len(), 1, "one directory card");
    assert_eq!(card[0]["field"], "account");
    assert_eq!(
        card[0]["value"],
        serde_json::json!({"display_name": "PENDING-UG", "role": "nfp", "country": "UG", "instruments": ["CMS"]})
    );
    // Approving again is harmless, and publishes nothing new.
    assert_eq!(
        s.send(Method::POST, path, Some(&t.admin), None).await.0,
        StatusCode::OK
    );
    let (_, feed) = s
        .send(Method::GET, "/v1/sync/pull?cursor=0", Some(&token), None)
        .await;
    assert_eq!(cards(feed).len(), 1);
    // A refused approval publishes nothing.
    s.add_account("pending-tz", Role::Nfp, Some("TZ"), AccountStatus::Pending)
        .await;
    let refused = s
        .send(
            Method::POST,
            "/v1/admin/accounts/pending-tz/approve",
            Some(&t.nfp),
            None,
        )
        .await;
    assert_error(&refused, StatusCode::FORBIDDEN, "forbidden");
    let (_, feed) = s
        .send(Method::GET, "/v1/sync/pull?cursor=0", Some(&token), None)
        .await;
    assert!(
        !feed.to_string().contains("pending-tz"),
        "a refused approval published a card: {feed}"
    );
}

#[tokio::test]
async fn only_admins_revoke_and_lift_revocations() {
    let (s, t) = setup().await;
    let revoke = "/v1/admin/accounts/pending-ug/revoke";
    assert_error(
        &s.send(Method::POST, revoke, Some(&t.nfp), None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &s.send(Method::POST, revoke, Some(&t.secretariat), None)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, body) = s.send(Method::POST, revoke, Some(&t.admin), None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("revoked"))
    );

    let approve = "/v1/admin/accounts/pending-ug/approve";
    assert_error(
        &s.send(Method::POST, approve, Some(&t.secretariat), None)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(
        s.send(Method::POST, approve, Some(&t.admin), None).await.0,
        StatusCode::OK
    );

    assert_error(
        &s.send(
            Method::POST,
            "/v1/admin/accounts/root/revoke",
            Some(&t.admin),
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
}

#[tokio::test]
async fn unknown_accounts_are_404_only_for_staff() {
    let (s, t) = setup().await;
    let path = "/v1/admin/accounts/nobody/approve";
    assert_error(
        &s.send(Method::POST, path, Some(&t.secretariat), None).await,
        StatusCode::NOT_FOUND,
        "no_such_account",
    );
    // An NFP cannot probe which usernames exist.
    assert_error(
        &s.send(Method::POST, path, Some(&t.nfp), None).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &s.send(
            Method::POST,
            "/v1/admin/accounts/nobody/revoke",
            Some(&t.nfp),
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
}
