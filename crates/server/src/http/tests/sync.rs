use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use stopover_protocol::{MAX_OPS_PER_PUSH, PullResponse, PushResponse, Role};

use super::{TestServer, assert_error};

fn op(n: u32, entity: &str, field: &str, base_version: u64, value: Value) -> Value {
    json!({
        "id": format!("01939a2b-7c4d-7e8f-9a0b-{n:012}"),
        "entity": {"kind": "checklist_progress", "id": entity},
        "field": field,
        "base_version": base_version,
        "value": value,
    })
}

async fn push(s: &TestServer, token: &str, ops: Vec<Value>) -> PushResponse {
    let (status, body) = s
        .send(
            Method::POST,
            "/v1/sync/push",
            Some(token),
            Some(json!({"ops": ops})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

async fn pull(s: &TestServer, token: &str, query: &str) -> PullResponse {
    let (status, body) = s
        .send(
            Method::GET,
            &format!("/v1/sync/pull{query}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).unwrap()
}

#[tokio::test]
async fn push_then_pull_on_another_device_of_the_same_account() {
    let s = TestServer::new().await;
    let laptop = s.user("amina", Role::Nfp, Some("KE")).await;
    let office = s.sign_in("amina").await;
    let answer = push(
        &s,
        &laptop,
        vec![
            op(1, "cop/register", "done", 0, json!(true)),
            op(2, "cop/register", "note", 0, json!("booked")),
        ],
    )
    .await;
    let wire = serde_json::to_value(&answer).unwrap();
    assert_eq!(
        wire["results"][0],
        json!({"id": "01939a2b-7c4d-7e8f-9a0b-000000000001", "outcome": "applied", "version": 1})
    );

    let page = pull(&s, &office, "?cursor=0&limit=1").await;
    assert_eq!((page.changes.len(), page.more), (1, true));
    let rest = pull(&s, &office, &format!("?cursor={}", page.cursor)).await;
    assert_eq!((rest.changes.len(), rest.more), (1, false));
    assert_eq!(rest.changes[0].value, json!("booked"));
    assert_eq!(
        pull(&s, &office, "").await.changes.len(),
        2,
        "no cursor: from the start"
    );
}

#[tokio::test]
async fn a_retried_push_is_all_duplicates() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let ops = vec![
        op(1, "a/b", "done", 0, json!(true)),
        op(2, "a/c", "done", 0, json!(true)),
    ];
    push(&s, &t, ops.clone()).await;
    let again = serde_json::to_value(push(&s, &t, ops).await).unwrap();
    assert_eq!(
        again["results"][1],
        json!({"id": "01939a2b-7c4d-7e8f-9a0b-000000000002", "outcome": "duplicate", "version": 1})
    );
    assert_eq!(s.count("change").await, 2);
}

#[tokio::test]
async fn nfps_of_the_same_country_never_see_each_others_records() {
    let s = TestServer::new().await;
    let amina = s.user("amina", Role::Nfp, Some("KE")).await;
    let baraka = s.user("baraka", Role::Nfp, Some("KE")).await;
    let other = s.user("chidi", Role::Nfp, Some("NG")).await;
    push(&s, &amina, vec![op(1, "a/b", "note", 0, json!("amina's"))]).await;
    assert!(pull(&s, &baraka, "").await.changes.is_empty());
    assert!(pull(&s, &other, "").await.changes.is_empty());
    // Writing "the same" entity creates their own record, not a conflict with amina's.
    let r = serde_json::to_value(
        push(
            &s,
            &baraka,
            vec![op(2, "a/b", "note", 0, json!("baraka's"))],
        )
        .await,
    )
    .unwrap();
    assert_eq!(r["results"][0]["outcome"], "applied");
    // Amina's other device sees her record only (the one that pushed it holds it already).
    let amina_office = s.sign_in("amina").await;
    let page = pull(&s, &amina_office, "").await;
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].value, json!("amina's"));
    assert!(pull(&s, &amina, "").await.changes.is_empty());
}

#[tokio::test]
async fn too_many_operations_is_413_and_stores_nothing() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let before = s.snapshot().await;
    let ops: Vec<_> = (0..=MAX_OPS_PER_PUSH as u32)
        .map(|i| op(i, &format!("l/s-{i}"), "done", 0, json!(true)))
        .collect();
    let got = s
        .send(
            Method::POST,
            "/v1/sync/push",
            Some(&t),
            Some(json!({"ops": ops})),
        )
        .await;
    assert_error(&got, StatusCode::PAYLOAD_TOO_LARGE, "too_many_operations");
    assert_eq!(s.snapshot().await, before);
}

#[tokio::test]
async fn a_push_is_one_transaction() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    // Make the database fail on the third operation's change row.
    s.state
        .db
        .write(|c| {
            c.execute_batch(
                "CREATE TRIGGER fail_third BEFORE INSERT ON change WHEN NEW.entity_id = 'l/boom'
                 BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let before = s.snapshot().await;
    let ops = vec![
        op(1, "l/a", "done", 0, json!(true)),
        op(2, "l/b", "done", 0, json!(true)),
        op(3, "l/boom", "done", 0, json!(true)),
    ];
    let got = s
        .send(
            Method::POST,
            "/v1/sync/push",
            Some(&t),
            Some(json!({"ops": ops.clone()})),
        )
        .await;
    assert_error(&got, StatusCode::INTERNAL_SERVER_ERROR, "internal");
    assert!(
        !got.1["message"].as_str().unwrap().contains("injected"),
        "internal details stay in the log"
    );
    assert_eq!(
        s.snapshot().await,
        before,
        "the first two operations were rolled back with the third"
    );

    // Once the fault is gone, the same push applies whole (nothing was half-remembered).
    s.state
        .db
        .write(|c| Ok(c.execute_batch("DROP TRIGGER fail_third")?))
        .await
        .unwrap();
    let r = serde_json::to_value(push(&s, &t, ops).await).unwrap();
    let outcomes: Vec<_> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["applied", "applied", "applied"]);
}

#[tokio::test]
async fn bad_pull_queries_are_422() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    for q in ["?cursor=abc", "?cursor=-1", "?limit=lots"] {
        let got = s
            .send(Method::GET, &format!("/v1/sync/pull{q}"), Some(&t), None)
            .await;
        assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    }
    let page = pull(&s, &t, "?limit=100000").await;
    assert!(!page.more);
}

#[tokio::test]
async fn sync_needs_a_token() {
    let s = TestServer::new().await;
    let got = s
        .send(
            Method::POST,
            "/v1/sync/push",
            None,
            Some(json!({"ops": []})),
        )
        .await;
    assert_error(&got, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_error(
        &s.send(Method::GET, "/v1/sync/pull", None, None).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

/// One exchange per round: the push answers its operations and brings the page since the
/// device's cursor, without the device's own changes (a conflict included: the other
/// device's value comes with it); a retry is all duplicates and still brings no echo.
#[tokio::test]
async fn a_push_brings_the_page_without_the_devices_own_changes() {
    let s = TestServer::new().await;
    let laptop = s.user("amina", Role::Nfp, Some("KE")).await;
    let office = s.sign_in("amina").await;
    push(
        &s,
        &office,
        vec![op(1, "cop/register", "note", 0, json!("from the office"))],
    )
    .await;
    let body = json!({
        "ops": [
            op(2, "cop/register", "note", 0, json!("from the laptop")),
            op(3, "cop/register", "done", 0, json!(true)),
            op(4, "cop/visa", "done", 0, json!(true)),
        ],
        "pull": {"cursor": 0},
    });
    let (status, wire) = s
        .send(
            Method::POST,
            "/v1/sync/push",
            Some(&laptop),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{wire}");
    assert_eq!(wire["protocol"], 1, "{wire}");
    let answer: PushResponse = serde_json::from_value(wire).unwrap();
    let outcomes: Vec<Value> = answer
        .results
        .iter()
        .map(|r| serde_json::to_value(&r.outcome).unwrap()["outcome"].clone())
        .collect();
    assert_eq!(
        outcomes,
        [json!("conflict"), json!("applied"), json!("applied")]
    );
    let page = answer.pull.expect("the page was asked for");
    let values: Vec<&Value> = page.changes.iter().map(|c| &c.value).collect();
    assert_eq!(
        values,
        [&json!("from the office")],
        "no echo of the laptop's own two changes"
    );
    assert_eq!(
        (page.more, page.cursor),
        (false, 3),
        "the cursor moves past them"
    );
    let again = pull(&s, &laptop, &format!("?cursor={}", page.cursor)).await;
    assert_eq!((again.changes.len(), again.cursor), (0, 3));
    // The other device of the same account sees them.
    let office_page = pull(&s, &office, "?cursor=0").await;
    let values: Vec<&Value> = office_page.changes.iter().map(|c| &c.value).collect();
    assert_eq!(
        values,
        [&json!(true), &json!(true)],
        "the laptop's, not its own"
    );

    // The answer was lost: the retry is all duplicates (the conflict as it was), no echo.
    let (status, wire) = s
        .send(Method::POST, "/v1/sync/push", Some(&laptop), Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{wire}");
    assert_eq!(wire["results"][1]["outcome"], "duplicate");
    assert_eq!(wire["results"][2]["outcome"], "duplicate");
    assert_eq!(
        wire["pull"]["changes"].as_array().unwrap().len(),
        1,
        "{wire}"
    );
    assert_eq!(s.count("change").await, 3, "applied once");

    // Without `pull`, no page; with no operations, just the page.
    let plain = push(
        &s,
        &laptop,
        vec![op(5, "cop/hotel", "done", 0, json!(true))],
    )
    .await;
    assert!(plain.pull.is_none());
    let (_, wire) = s
        .send(
            Method::POST,
            "/v1/sync/push",
            Some(&laptop),
            Some(json!({"ops": [], "pull": {"cursor": 3, "limit": 1}})),
        )
        .await;
    assert_eq!(wire["results"], json!([]));
    assert_eq!(
        wire["pull"]["changes"],
        json!([]),
        "op 5 is the laptop's own"
    );
    assert_eq!(wire["pull"]["cursor"], 4);
    let (status, _) = s
        .send(
            Method::POST,
            "/v1/sync/push",
            Some(&laptop),
            Some(json!({"ops": [], "pull": {"cursor": 0, "since": 3}})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );
}
