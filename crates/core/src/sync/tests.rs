//! Unit tests of the outbox, pull, conflicts and the client, against a temporary database and a
//! small in-process fake server (axum). The real server is exercised in the workspace's tests/.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde_json::{Value, json};
use stopover_protocol::{
    Account, AccountStatus, Change, EntityRef, ErrorBody, Health, OpResult, Operation, Outcome,
    PullResponse, PushRequest, PushResponse, Role, SignInRequest, SignInResponse,
    validate_operation,
};

use super::*;
use crate::content::PackError;
use crate::secrets::{MemoryStore, SecretStore};
use crate::user::checklists;
use crate::{Core, Error};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const KIND: &str = "checklist_progress";
const CHECKLIST: stopover_protocol::RecordKind = stopover_protocol::RecordKind::ChecklistProgress;

fn open_core() -> (tempfile::TempDir, Core) {
    let dir = tempfile::tempdir().unwrap();
    let no_pack = Err(PackError {
        file: "manifest.toml".into(),
        reason: "no pack in unit tests".into(),
    });
    let core = Core::open(dir.path(), no_pack).unwrap();
    {
        let conn = core.conn();
        for (ord, step) in ["a", "b", "c"].iter().enumerate() {
            conn.execute(
                "INSERT INTO checklist_step (checklist_id, step_id, lang, ord, text, detail_html) VALUES ('list', ?1, 'en', ?2, 'Step', '')",
                rusqlite::params![step, ord as i64],
            )
            .unwrap();
        }
    }
    (dir, core)
}

/// Marks sync as configured without a server (what sign-in does, minus the network).
fn configure(core: &Core, url: &str) {
    let conn = core.conn();
    state::set(&conn, state::SERVER_URL, url).unwrap();
    state::set(&conn, state::ACCOUNT, "amina").unwrap();
    state::set(&conn, state::SIGNED_IN, "1").unwrap();
}

fn set_done(core: &Core, step: &str, done: bool) {
    checklists::set_done(&mut core.conn(), "list", step, done).unwrap();
}

fn set_note(core: &Core, step: &str, note: &str) {
    checklists::set_note(&mut core.conn(), "list", step, note).unwrap();
}

fn local(core: &Core, step: &str, field: &str) -> Option<Value> {
    core.local_kind(stopover_protocol::RecordKind::ChecklistProgress)
        .read(&core.conn(), &format!("list/{step}"), field)
        .unwrap()
}

fn known(core: &Core, step: &str, field: &str) -> u64 {
    let entity = format!("list/{step}");
    outbox::known_version(&core.conn(), outbox::FieldRef::new(KIND, &entity, field)).unwrap()
}

fn answer(batch: &[Operation], outcome: impl Fn(&Operation) -> Outcome) -> PushResponse {
    PushResponse {
        protocol: 1,
        results: batch
            .iter()
            .map(|op| OpResult {
                id: op.id.clone(),
                outcome: outcome(op),
            })
            .collect(),
        pull: None,
    }
}

fn change(seq: u64, step: &str, field: &str, value: Value, version: u64) -> Change {
    Change {
        seq,
        entity: EntityRef {
            kind: KIND.into(),
            id: format!("list/{step}"),
        },
        field: field.into(),
        value,
        version,
        op_id: format!("0190aaaa-0000-7000-8000-{seq:012}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Outbox
// ---------------------------------------------------------------------------------------------

#[test]
fn nothing_is_queued_before_sign_in_and_seeding_queues_earlier_work() {
    let (_dir, core) = open_core();
    set_done(&core, "a", true);
    set_note(&core, "b", "call the ministry");
    set_done(&core, "c", false); // a default value: nothing to seed
    assert!(pending_operations(&core).unwrap().is_empty());

    configure(&core, "http://127.0.0.1:9");
    let seeded = seed_outbox(&core, &core.conn()).unwrap();
    assert_eq!(seeded, 2);
    let ops = pending_operations(&core).unwrap();
    let fields: Vec<(&str, &str, &Value)> = ops
        .iter()
        .map(|o| (o.entity_id.as_str(), o.field.as_str(), &o.value))
        .collect();
    assert!(fields.contains(&("list/a", "done", &json!(true))));
    assert!(fields.contains(&("list/b", "note", &json!("call the ministry"))));
    assert!(ops.iter().all(|o| o.base_version == Some(0) && !o.sent));
    // Seeding again coalesces instead of doubling.
    seed_outbox(&core, &core.conn()).unwrap();
    assert_eq!(pending_operations(&core).unwrap().len(), 2);
}

#[test]
fn unsent_edits_coalesce_and_sent_ones_are_never_touched() {
    let (_dir, core) = open_core();
    configure(&core, "http://127.0.0.1:9");
    set_note(&core, "a", "one");
    set_note(&core, "a", "two");
    set_note(&core, "a", "three");
    set_done(&core, "a", true);
    let ops = pending_operations(&core).unwrap();
    assert_eq!(ops.len(), 2, "one op per field: {ops:?}");
    let note_op = ops.iter().find(|o| o.field == "note").unwrap();
    assert_eq!(note_op.value, json!("three"));
    assert_eq!(note_op.base_version, Some(0));
    let first_id = note_op.op_id.clone();
    assert_eq!(first_id.len(), 36);
    assert_eq!(&first_id[14..15], "7", "a UUIDv7: {first_id}");

    let batch = next_batch(&core, 200).unwrap();
    assert_eq!(batch.len(), 2);
    assert!(pending_operations(&core).unwrap().iter().all(|o| o.sent));

    // In flight: a new edit is a new op with no base yet…
    set_note(&core, "a", "four");
    // …and the next one coalesces into that unsent op.
    set_note(&core, "a", "five");
    let notes: Vec<PendingOperation> = pending_operations(&core)
        .unwrap()
        .into_iter()
        .filter(|o| o.field == "note")
        .collect();
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[0].op_id, first_id);
    assert_eq!(notes[0].value, json!("three"), "a sent op keeps its value");
    assert_eq!(notes[1].base_version, None);
    assert_eq!(notes[1].value, json!("five"));
    assert!(!notes[1].sent);
    // A retry sends the in-flight ops again (same ids), never the one waiting for a base.
    let retry = next_batch(&core, 200).unwrap();
    assert_eq!(
        retry.iter().map(|o| &o.id).collect::<HashSet<_>>(),
        batch.iter().map(|o| &o.id).collect::<HashSet<_>>()
    );
}

#[test]
fn applied_answer_removes_the_op_and_bases_the_next_one_on_its_version() {
    let (_dir, core) = open_core();
    configure(&core, "http://127.0.0.1:9");
    set_note(&core, "a", "first");
    let batch = next_batch(&core, 200).unwrap();
    set_note(&core, "a", "second");
    let summary = apply_push_results(
        &core,
        &batch,
        &answer(&batch, |_| Outcome::Applied { version: 4 }),
    )
    .unwrap();
    assert_eq!(summary.applied, 1);
    assert_eq!(known(&core, "a", "note"), 4);
    let ops = pending_operations(&core).unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].base_version, Some(4));
    assert_eq!(ops[0].value, json!("second"));

    let batch = next_batch(&core, 200).unwrap();
    assert_eq!(batch[0].base_version, 4);
    let summary = apply_push_results(
        &core,
        &batch,
        &answer(&batch, |_| Outcome::Duplicate { version: 5 }),
    )
    .unwrap();
    assert_eq!((summary.applied, summary.duplicates), (1, 1));
    assert!(pending_operations(&core).unwrap().is_empty());
    assert_eq!(known(&core, "a", "note"), 5);
    // A later edit is based on the known version.
    set_note(&core, "a", "third");
    assert_eq!(pending_operations(&core).unwrap()[0].base_version, Some(5));
}

#[test]
fn a_batch_holds_one_op_per_field_in_order_and_respects_the_limit() {
    let (_dir, core) = open_core();
    configure(&core, "http://127.0.0.1:9");
    set_note(&core, "a", "x");
    set_done(&core, "b", true);
    set_note(&core, "c", "y");
    let small = next_batch(&core, 2).unwrap();
    assert_eq!(
        small
            .iter()
            .map(|o| o.entity.id.as_str())
            .collect::<Vec<_>>(),
        ["list/a", "list/b"]
    );
    for op in &small {
        validate_operation(op).unwrap();
    }
}

#[test]
fn a_conflict_keeps_both_values_and_a_person_resolves_it() {
    let (_dir, core) = open_core();
    configure(&core, "http://127.0.0.1:9");
    set_note(&core, "a", "mine");
    let batch = next_batch(&core, 200).unwrap();
    set_note(&core, "a", "mine, edited while in flight");
    let conflict = |_: &Operation| Outcome::Conflict {
        server_value: json!("theirs"),
        server_version: 3,
    };
    let summary = apply_push_results(&core, &batch, &answer(&batch, conflict)).unwrap();
    assert_eq!(summary.conflicts, 1);
    assert!(
        pending_operations(&core).unwrap().is_empty(),
        "the field's ops left the outbox"
    );
    let c = &conflicts(&core).unwrap()[0];
    assert_eq!((c.entity_id.as_str(), c.field.as_str()), ("list/a", "note"));
    assert_eq!(c.local_value, json!("mine, edited while in flight"));
    assert_eq!(c.server_value, json!("theirs"));
    assert_eq!(c.server_version, 3);
    assert_eq!(
        local(&core, "a", "note"),
        Some(json!("mine, edited while in flight")),
        "nothing dropped locally"
    );

    // An edit during the conflict updates the person's side; nothing is sent behind their back.
    set_note(&core, "a", "mine, latest");
    assert!(pending_operations(&core).unwrap().is_empty());
    assert_eq!(
        conflicts(&core).unwrap()[0].local_value,
        json!("mine, latest")
    );
    assert_eq!(status(&core).unwrap().conflicts, 1);

    resolve_conflict(&core, CHECKLIST, "list/a", "note", Resolution::KeepMine).unwrap();
    assert!(conflicts(&core).unwrap().is_empty());
    let ops = pending_operations(&core).unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(
        (ops[0].base_version, &ops[0].value),
        (Some(3), &json!("mine, latest"))
    );
    let err =
        resolve_conflict(&core, CHECKLIST, "list/a", "note", Resolution::KeepMine).unwrap_err();
    assert_eq!(err.code().as_str(), "not_found");
}

#[test]
fn taking_theirs_writes_the_server_value_locally() {
    let (_dir, core) = open_core();
    configure(&core, "http://127.0.0.1:9");
    set_done(&core, "b", true);
    let batch = next_batch(&core, 200).unwrap();
    apply_push_results(
        &core,
        &batch,
        &answer(&batch, |_| Outcome::Conflict {
            server_value: json!(false),
            server_version: 7,
        }),
    )
    .unwrap();
    resolve_conflict(&core, CHECKLIST, "list/b", "done", Resolution::TakeTheirs).unwrap();
    assert_eq!(local(&core, "b", "done"), Some(json!(false)));
    assert_eq!(known(&core, "b", "done"), 7);
    assert!(pending_operations(&core).unwrap().is_empty());
    assert!(conflicts(&core).unwrap().is_empty());
}

#[test]
fn a_conflict_between_equal_values_is_settled_without_asking() {
    let (_dir, core) = open_core();
    configure(&core, "http://127.0.0.1:9");
    set_done(&core, "a", true);
    let batch = next_batch(&core, 200).unwrap();
    let summary = apply_push_results(
        &core,
        &batch,
        &answer(&batch, |_| Outcome::Conflict {
            server_value: json!(true),
            server_version: 2,
        }),
    )
    .unwrap();
    assert_eq!((summary.conflicts, summary.settled), (0, 1));
    assert!(conflicts(&core).unwrap().is_empty());
    assert!(pending_operations(&core).unwrap().is_empty());
    assert_eq!(known(&core, "a", "done"), 2);
}

#[test]
fn a_rejected_op_is_kept_with_its_reason() {
    let (_dir, core) = open_core();
    configure(&core, "http://127.0.0.1:9");
    // The server is known to hold "agreed" at version 2.
    apply_pull(
        &core,
        &PullResponse {
            protocol: 1,
            changes: vec![change(1, "a", "note", json!("agreed"), 2)],
            cursor: 1,
            more: false,
        },
    )
    .unwrap();
    set_note(&core, "a", "refused text");
    let batch = next_batch(&core, 200).unwrap();
    assert_eq!(batch[0].base_version, 2);
    let summary = apply_push_results(
        &core,
        &batch,
        &answer(&batch, |_| {
            stopover_protocol::Refusal::new(
                stopover_protocol::RefusalCode::NotAuthor,
                "not allowed",
            )
            .into()
        }),
    )
    .unwrap();
    assert_eq!(summary.rejected, 1);
    assert!(pending_operations(&core).unwrap().is_empty());
    let r = &rejected(&core).unwrap()[0];
    assert_eq!(r.op_id, batch[0].id);
    assert_eq!(
        (
            r.entity_id.as_str(),
            r.field.as_str(),
            &r.value,
            r.reason.as_str()
        ),
        ("list/a", "note", &json!("refused text"), "not allowed")
    );
    assert_eq!(
        local(&core, "a", "note"),
        Some(json!("agreed")),
        "the field shows the server's value again"
    );
    assert_eq!(status(&core).unwrap().rejected, 1);
    dismiss_rejected(&core, &r.op_id).unwrap();
    assert!(rejected(&core).unwrap().is_empty());
}

#[test]
fn an_answer_that_does_not_match_the_batch_changes_nothing() {
    let (_dir, core) = open_core();
    configure(&core, "http://127.0.0.1:9");
    set_note(&core, "a", "x");
    set_done(&core, "b", true);
    let batch = next_batch(&core, 200).unwrap();
    let before = pending_operations(&core).unwrap();

    let mut short = answer(&batch, |_| Outcome::Applied { version: 1 });
    short.results.pop();
    assert_eq!(
        apply_push_results(&core, &batch, &short)
            .unwrap_err()
            .code()
            .as_str(),
        "bad_answer"
    );

    let mut stranger = answer(&batch, |_| Outcome::Applied { version: 1 });
    stranger.results[0].id = "0190aaaa-0000-7000-8000-000000000000".into();
    assert_eq!(
        apply_push_results(&core, &batch, &stranger)
            .unwrap_err()
            .code()
            .as_str(),
        "bad_answer"
    );

    let mut twice = answer(&batch, |_| Outcome::Applied { version: 1 });
    twice.results[1].id = twice.results[0].id.clone();
    assert_eq!(
        apply_push_results(&core, &batch, &twice)
            .unwrap_err()
            .code()
            .as_str(),
        "bad_answer"
    );

    assert_eq!(pending_operations(&core).unwrap(), before);
}

// ---------------------------------------------------------------------------------------------
// Pull
// ---------------------------------------------------------------------------------------------

#[test]
fn pull_writes_changes_and_their_cursor_but_never_over_a_queued_edit() {
    let (_dir, core) = open_core();
    configure(&core, "http://127.0.0.1:9");
    set_note(&core, "a", "my unsent note");
    let page = PullResponse {
        protocol: 1,
        changes: vec![
            change(10, "a", "note", json!("from another laptop"), 1),
            change(11, "b", "done", json!(true), 1),
            change(12, "c", "note", json!("hello"), 1),
        ],
        cursor: 12,
        more: true,
    };
    let summary = apply_pull(&core, &page).unwrap();
    assert_eq!(
        (summary.received, summary.applied_locally, summary.held_back),
        (3, 2, 1)
    );
    assert_eq!(
        local(&core, "a", "note"),
        Some(json!("my unsent note")),
        "the queued local edit wins until pushed"
    );
    assert_eq!(
        known(&core, "a", "note"),
        1,
        "but its server version is known"
    );
    assert_eq!(local(&core, "b", "done"), Some(json!(true)));
    assert_eq!(local(&core, "c", "note"), Some(json!("hello")));
    assert_eq!(pull_cursor(&core.conn()).unwrap(), 12);
    assert!(
        pending_operations(&core)
            .unwrap()
            .iter()
            .all(|o| o.field == "note" && o.entity_id == "list/a"),
        "pulling queues nothing"
    );

    // Stale changes (an older version) change nothing.
    let stale = PullResponse {
        protocol: 1,
        changes: vec![change(13, "c", "note", json!("old"), 1)],
        cursor: 13,
        more: false,
    };
    apply_pull(&core, &stale).unwrap();
    assert_eq!(local(&core, "c", "note"), Some(json!("hello")));
    assert_eq!(pull_cursor(&core.conn()).unwrap(), 13);

    // The queued edit goes out based on the version pulled meanwhile? No: it was queued at 0,
    // and the server will answer with a conflict for a person to settle.
    let batch = next_batch(&core, 200).unwrap();
    assert_eq!(batch[0].base_version, 0);
}

#[test]
fn a_failed_page_stores_neither_its_changes_nor_its_cursor() {
    let (_dir, core) = open_core();
    configure(&core, "http://127.0.0.1:9");
    apply_pull(
        &core,
        &PullResponse {
            protocol: 1,
            changes: vec![change(1, "a", "done", json!(true), 1)],
            cursor: 1,
            more: false,
        },
    )
    .unwrap();
    // Make the next write to checklist_progress fail inside the page's transaction.
    core.conn()
        .execute_batch("CREATE TRIGGER fail_b BEFORE INSERT ON checklist_progress WHEN NEW.step_id = 'b' BEGIN SELECT RAISE(ABORT, 'disk trouble'); END;")
        .unwrap();
    let page = PullResponse {
        protocol: 1,
        changes: vec![
            change(2, "c", "note", json!("kept?"), 1),
            change(3, "b", "done", json!(true), 1),
        ],
        cursor: 3,
        more: false,
    };
    assert!(apply_pull(&core, &page).is_err());
    assert_eq!(pull_cursor(&core.conn()).unwrap(), 1);
    assert_eq!(local(&core, "c", "note"), None);
    assert_eq!(known(&core, "c", "note"), 0);
}

#[test]
fn pull_refreshes_the_server_side_of_a_waiting_conflict() {
    let (_dir, core) = open_core();
    configure(&core, "http://127.0.0.1:9");
    set_note(&core, "a", "mine");
    let batch = next_batch(&core, 200).unwrap();
    apply_push_results(
        &core,
        &batch,
        &answer(&batch, |_| Outcome::Conflict {
            server_value: json!("theirs"),
            server_version: 3,
        }),
    )
    .unwrap();
    apply_pull(
        &core,
        &PullResponse {
            protocol: 1,
            changes: vec![change(4, "a", "note", json!("theirs, newer"), 4)],
            cursor: 4,
            more: false,
        },
    )
    .unwrap();
    let c = &conflicts(&core).unwrap()[0];
    assert_eq!(
        (c.server_value.clone(), c.server_version),
        (json!("theirs, newer"), 4)
    );
    assert_eq!(local(&core, "a", "note"), Some(json!("mine")));
    // Another device chose my value: nothing left to ask.
    apply_pull(
        &core,
        &PullResponse {
            protocol: 1,
            changes: vec![change(5, "a", "note", json!("mine"), 5)],
            cursor: 5,
            more: false,
        },
    )
    .unwrap();
    assert!(conflicts(&core).unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// The client's rules
// ---------------------------------------------------------------------------------------------

#[test]
fn plain_http_only_to_this_computer() {
    for ok in [
        "https://ecommunity.example.org",
        "https://ecommunity.example.org/",
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://localhost:3000/",
        "http://LOCALHOST",
        "http://[::1]:8080",
    ] {
        normalize_server_url(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    assert_eq!(
        normalize_server_url(" https://Example.org/base/?x=1#f ").unwrap(),
        "https://example.org/base"
    );
    assert_eq!(
        normalize_server_url("http://127.0.0.1:8080/").unwrap(),
        "http://127.0.0.1:8080"
    );

    for insecure in [
        "http://ecommunity.example.org",
        "http://192.168.1.10:8080",
        "http://10.0.0.1",
        "http://[fe80::1]",
        "http://localhost.evil.org",
    ] {
        let e = normalize_server_url(insecure).unwrap_err();
        assert_eq!(e.code().as_str(), "insecure_url", "{insecure}");
        assert!(e.to_string().contains("https://"), "{e}");
    }
    for bad in [
        "ecommunity.example.org",
        "ftp://example.org",
        "https://user:pw@example.org",
        "",
    ] {
        assert!(
            matches!(
                normalize_server_url(bad).unwrap_err().code(),
                crate::ErrorCode::ServerUrlInvalid
                    | crate::ErrorCode::ServerUrlScheme
                    | crate::ErrorCode::ServerUrlCredentials
            ),
            "{bad}"
        );
    }
    assert_eq!(
        SyncClient::new("http://example.org")
            .unwrap_err()
            .code()
            .as_str(),
        "insecure_url"
    );
}

// ---------------------------------------------------------------------------------------------
// A fake server, just enough protocol for the engine
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    #[default]
    Normal,
    /// Every path answers 200 with a wifi login page.
    CaptivePortal,
    /// Every authenticated path answers 401 token_revoked.
    Revoked,
    /// Every path answers 429 with Retry-After: 7.
    Busy,
    /// Health answers JSON from another service.
    Stranger,
    /// Push answers lose their last result.
    ShortAnswers,
    /// Sync answers name another protocol version.
    OtherProtocol,
}

const TOKEN: &str = "tok-SECRET-0123456789abcdef";

#[derive(Default)]
struct Fake {
    mode: Mode,
    fields: HashMap<(String, String, String), (u64, Value)>,
    applied: HashMap<String, u64>,
    log: Vec<Change>,
    /// Paths requested, in order.
    requests: Vec<String>,
    pushes: u32,
    gzip_pushes: u32,
    tokens: HashSet<String>,
}

impl Fake {
    fn protocol(&self) -> u32 {
        if self.mode == Mode::OtherProtocol {
            7
        } else {
            1
        }
    }
}

type Shared = Arc<Mutex<Fake>>;

fn captive() -> Response {
    Html("<html><body>Welcome to Hotel Wifi. Please accept the terms.</body></html>")
        .into_response()
}

fn gate(fake: &Fake, headers: &HeaderMap, authenticated: bool) -> Option<Response> {
    match fake.mode {
        Mode::CaptivePortal => return Some(captive()),
        Mode::Busy => {
            return Some(
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "7")],
                    "slow down",
                )
                    .into_response(),
            );
        }
        Mode::Revoked if authenticated => {
            let body = ErrorBody {
                code: stopover_protocol::ErrorCode::TokenRevoked,
                message: "this device was signed out".into(),
                params: Default::default(),
            };
            return Some((StatusCode::UNAUTHORIZED, Json(body)).into_response());
        }
        _ => {}
    }
    if authenticated {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !bearer.is_some_and(|t| fake.tokens.contains(t)) {
            let body = ErrorBody {
                code: stopover_protocol::ErrorCode::Unauthenticated,
                message: "sign in first".into(),
                params: Default::default(),
            };
            return Some((StatusCode::UNAUTHORIZED, Json(body)).into_response());
        }
    }
    None
}

async fn health(State(fake): State<Shared>, headers: HeaderMap) -> Response {
    let mut fake = fake.lock().unwrap();
    if let Some(r) = gate(&fake, &headers, false) {
        return r;
    }
    fake.requests.push("health".into());
    let service = if fake.mode == Mode::Stranger {
        "someone-else"
    } else {
        "ecommunity"
    };
    Json(Health {
        service: service.into(),
        protocol: 1,
        version: "test".into(),
    })
    .into_response()
}

async fn sessions(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Json(req): Json<SignInRequest>,
) -> Response {
    let mut fake = fake.lock().unwrap();
    if let Some(r) = gate(&fake, &headers, false) {
        return r;
    }
    if req.password != "correct horse battery" {
        let body = ErrorBody {
            code: stopover_protocol::ErrorCode::BadCredentials,
            message: "wrong user name or password".into(),
            params: Default::default(),
        };
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    fake.tokens.insert(TOKEN.into());
    Json(SignInResponse {
        token: TOKEN.into(),
        device_id: "device-1".into(),
        account: Account {
            username: req.username,
            display_name: "Amina".into(),
            role: Role::Nfp,
            country: Some("KE".into()),
            instruments: vec!["CMS".into()],
            status: AccountStatus::Approved,
        },
    })
    .into_response()
}

async fn sign_out_handler(State(fake): State<Shared>, headers: HeaderMap) -> Response {
    let mut fake = fake.lock().unwrap();
    if let Some(r) = gate(&fake, &headers, true) {
        return r;
    }
    fake.tokens.remove(TOKEN);
    StatusCode::NO_CONTENT.into_response()
}

async fn push(State(fake): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut fake = fake.lock().unwrap();
    if let Some(r) = gate(&fake, &headers, true) {
        return r;
    }
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| v == "gzip");
    let json = if gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        body.to_vec()
    };
    let req: PushRequest = serde_json::from_slice(&json).unwrap();
    fake.requests.push("push".into());
    fake.pushes += 1;
    fake.gzip_pushes += u32::from(gzip);
    let mut results = Vec::new();
    for op in req.ops {
        let id = op.id.clone();
        let outcome = apply_op(&mut fake, op);
        results.push(OpResult { id, outcome });
    }
    if fake.mode == Mode::ShortAnswers {
        results.pop();
    }
    let pull = req
        .pull
        .map(|p| page_after(&fake, p.cursor, p.limit.unwrap_or(200)));
    Json(PushResponse {
        protocol: fake.protocol(),
        results,
        pull,
    })
    .into_response()
}

/// The fake server applies one operation (idempotent by its id).
fn apply_op(fake: &mut Fake, op: Operation) -> Outcome {
    if let Some(version) = fake.applied.get(&op.id) {
        Outcome::Duplicate { version: *version }
    } else if let Err(refusal) = validate_operation(&op) {
        refusal.into()
    } else {
        let key = (
            op.entity.kind.clone(),
            op.entity.id.clone(),
            op.field.clone(),
        );
        let (version, value) = fake.fields.get(&key).cloned().unwrap_or((0, Value::Null));
        if version != op.base_version {
            Outcome::Conflict {
                server_value: value,
                server_version: version,
            }
        } else {
            let version = version + 1;
            fake.fields.insert(key, (version, op.value.clone()));
            fake.applied.insert(op.id.clone(), version);
            let seq = fake.log.len() as u64 + 1;
            fake.log.push(Change {
                seq,
                entity: op.entity,
                field: op.field,
                value: op.value,
                version,
                op_id: op.id.clone(),
            });
            Outcome::Applied { version }
        }
    }
}

/// The fake's page: small on purpose (at most 2 changes), echoes included.
fn page_after(fake: &Fake, cursor: u64, limit: u32) -> PullResponse {
    let after: Vec<Change> = fake
        .log
        .iter()
        .filter(|c| c.seq > cursor)
        .cloned()
        .collect();
    let page: Vec<Change> = after.iter().take(limit.min(2) as usize).cloned().collect();
    PullResponse {
        protocol: fake.protocol(),
        more: after.len() > page.len(),
        cursor: page.last().map_or(cursor, |c| c.seq),
        changes: page,
    }
}

#[derive(serde::Deserialize)]
struct PullQuery {
    cursor: u64,
    limit: u32,
}

async fn pull_handler(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<PullQuery>,
) -> Response {
    let mut fake = fake.lock().unwrap();
    if let Some(r) = gate(&fake, &headers, true) {
        return r;
    }
    fake.requests.push("pull".into());
    Json(page_after(&fake, q.cursor, q.limit)).into_response()
}

async fn redirect() -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, "http://login.hotel.example/")],
    )
        .into_response()
}

/// Starts the fake on 127.0.0.1:0; returns its URL and state.
async fn start_fake() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let app = Router::new()
        .route("/v1/health", get(health))
        .route("/v1/sessions", post(sessions))
        .route("/v1/sessions/current", delete(sign_out_handler))
        .route("/v1/sync/push", post(push))
        .route("/v1/sync/pull", get(pull_handler))
        .route("/redirect/v1/health", get(redirect))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, shared)
}

fn set_mode(fake: &Shared, mode: Mode) {
    fake.lock().unwrap().mode = mode;
}

async fn signed_in_core(url: &str, secrets: &MemoryStore) -> (tempfile::TempDir, Core) {
    let (dir, core) = open_core();
    sign_in(
        &core,
        secrets,
        url,
        "amina",
        "correct horse battery",
        "Test laptop",
    )
    .await
    .unwrap();
    (dir, core)
}

// ---------------------------------------------------------------------------------------------
// Client and engine against the fake
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn health_counts_only_a_protocol_valid_answer() {
    let (url, fake) = start_fake().await;
    let client = SyncClient::new(&url).unwrap();
    assert!(client.health().await.unwrap().is_compatible());

    set_mode(&fake, Mode::CaptivePortal);
    let e = client.health().await.unwrap_err();
    assert_eq!(e.code().as_str(), "not_our_server");
    assert!(e.to_string().contains("web page"), "{e}");
    assert!(e.is_transient());

    set_mode(&fake, Mode::Stranger);
    assert_eq!(
        client.health().await.unwrap_err().code().as_str(),
        "not_our_server"
    );

    set_mode(&fake, Mode::Busy);
    match client.health().await.unwrap_err() {
        Error::Busy { retry_after } => assert_eq!(retry_after, Some(Duration::from_secs(7))),
        other => panic!("{other:?}"),
    }

    set_mode(&fake, Mode::Normal);
    let redirected = SyncClient::new(&format!("{url}/redirect")).unwrap();
    let e = redirected.health().await.unwrap_err();
    assert_eq!(e.code().as_str(), "not_our_server");
    assert!(e.to_string().contains("redirected"), "{e}");
}

#[tokio::test]
async fn health_rejects_a_raw_captive_portal_and_a_dead_port() {
    // A bare TCP server that answers every request with 200 and HTML, without a content type.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let body = "<!DOCTYPE html><title>Login</title>";
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    let e = SyncClient::new(&url).unwrap().health().await.unwrap_err();
    assert_eq!(e.code().as_str(), "not_our_server", "{e}");

    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let e = SyncClient::new(&format!("http://{dead}"))
        .unwrap()
        .health()
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "network", "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_keeps_the_token_in_the_secret_store_only() {
    let (url, _fake) = start_fake().await;
    let secrets = MemoryStore::new();
    let (dir, core) = open_core();
    set_done(&core, "a", true); // before sign-in: local only

    let e = sign_in(&core, &secrets, &url, "amina", "wrong", "Test laptop")
        .await
        .unwrap_err();
    assert_eq!(
        (e.code().as_str(), e.to_string().contains("wrong user name")),
        ("server", true),
        "{e}"
    );
    assert!(secrets.is_empty());
    assert!(!is_configured(&core.conn()).unwrap());

    let account = sign_in(
        &core,
        &secrets,
        &url,
        "amina",
        "correct horse battery",
        "Test laptop",
    )
    .await
    .unwrap();
    assert_eq!(account.username, "amina");
    assert_eq!(
        secrets.get(&token_key(&url)).unwrap().as_deref(),
        Some(TOKEN)
    );
    assert_eq!(device_token(&core, &secrets).unwrap(), TOKEN);
    // the name the server gave, for the author of exported documents
    assert_eq!(
        crate::reports::export_model::signed_in_name(&core).as_deref(),
        Some("Amina")
    );
    let st = status(&core).unwrap();
    assert_eq!(
        (
            st.server_url.as_deref(),
            st.account.as_deref(),
            st.signed_in,
            st.waiting
        ),
        (Some(url.as_str()), Some("amina"), true, 1)
    );

    let client = SyncClient::new(&url).unwrap();
    sync_once(&core, &client, TOKEN).await.unwrap();
    drop(core);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
            "token found in {}",
            path.display()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_converge_through_push_and_pull() {
    let (url, fake) = start_fake().await;
    let secrets_1 = MemoryStore::new();
    let secrets_2 = MemoryStore::new();
    let (_d1, one) = signed_in_core(&url, &secrets_1).await;
    let (_d2, two) = signed_in_core(&url, &secrets_2).await;
    let client = SyncClient::new(&url).unwrap();

    set_done(&one, "a", true);
    set_note(&one, "b", "booked the flight");
    set_note(&one, "c", "visa");
    set_note(&two, "a", "from the second laptop");

    let events = Mutex::new(Vec::new());
    let report = sync_once_with_progress(&one, &client, TOKEN, &|p: SyncProgress| {
        events.lock().unwrap().push(p)
    })
    .await
    .unwrap();
    assert_eq!(
        (report.pushed, report.push_batches, report.conflicts),
        (3, 1, 0)
    );
    assert!(report.bytes_sent > 0 && report.bytes_received > 0);
    let events = events.into_inner().unwrap();
    assert_eq!(
        events.first().unwrap().phase,
        SyncPhase::Pushing,
        "no probe: the push is the first exchange"
    );
    assert_eq!(events.last().unwrap().phase, SyncPhase::Done);
    assert!(
        events
            .iter()
            .any(|p| p.phase == SyncPhase::Pushing && p.done == 3 && p.total == Some(3))
    );

    let report = sync_once(&two, &client, TOKEN).await.unwrap();
    assert_eq!(report.pushed, 1);
    assert!(report.pull_pages >= 2, "small pages: {report:?}");
    assert_eq!(local(&two, "a", "done"), Some(json!(true)));
    assert_eq!(local(&two, "b", "note"), Some(json!("booked the flight")));
    assert_eq!(
        local(&two, "a", "note"),
        Some(json!("from the second laptop"))
    );

    // Both edit the same field: the later push conflicts; nothing is dropped.
    set_note(&one, "c", "visa granted");
    set_note(&two, "c", "visa refused");
    sync_once(&one, &client, TOKEN).await.unwrap();
    let report = sync_once(&two, &client, TOKEN).await.unwrap();
    assert_eq!(report.conflicts, 1);
    assert_eq!(local(&two, "c", "note"), Some(json!("visa refused")));
    resolve_conflict(&two, CHECKLIST, "list/c", "note", Resolution::KeepMine).unwrap();
    sync_once(&two, &client, TOKEN).await.unwrap();
    sync_once(&one, &client, TOKEN).await.unwrap();

    for step in ["a", "b", "c"] {
        for field in ["done", "note"] {
            assert_eq!(
                local(&one, step, field),
                local(&two, step, field),
                "{step}.{field}"
            );
        }
    }
    assert_eq!(local(&one, "c", "note"), Some(json!("visa refused")));
    for core in [&one, &two] {
        let st = status(core).unwrap();
        assert_eq!((st.waiting, st.conflicts, st.rejected), (0, 0, 0));
        assert!(st.last_sync_at.is_some() && st.last_error.is_none());
    }
    let fake = fake.lock().unwrap();
    assert_eq!(
        fake.gzip_pushes, fake.pushes,
        "every push is gzip-compressed"
    );
    let mut ids: Vec<&str> = fake.log.iter().map(|c| c.op_id.as_str()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "each operation applied once");
}

/// A round with something to send is one exchange (the push brings the page), a round with
/// nothing to send is one pull; no health probe before either. An answer of another
/// protocol version counts for nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_is_one_exchange_without_a_probe() {
    let (url, fake) = start_fake().await;
    let secrets = MemoryStore::new();
    let (_d, core) = signed_in_core(&url, &secrets).await;
    let client = SyncClient::new(&url).unwrap();
    fake.lock().unwrap().requests.clear();
    set_note(&core, "a", "one exchange");
    let report = sync_once(&core, &client, TOKEN).await.unwrap();
    assert_eq!((report.pushed, report.pull_pages), (1, 1), "{report:?}");
    assert_eq!(fake.lock().unwrap().requests, ["push"]);
    assert_eq!(pull_cursor(&core.conn()).unwrap(), 1);

    fake.lock().unwrap().requests.clear();
    sync_once(&core, &client, TOKEN).await.unwrap();
    assert_eq!(fake.lock().unwrap().requests, ["pull"]);

    set_note(&core, "a", "elsewhere");
    set_mode(&fake, Mode::OtherProtocol);
    let e = sync_once(&core, &client, TOKEN).await.unwrap_err();
    assert_eq!(e.code().as_str(), "not_our_server", "{e}");
    assert!(e.to_string().contains("protocol 7"), "{e}");
    assert_eq!(
        pending_operations(&core).unwrap().len(),
        1,
        "nothing left the outbox"
    );
    assert_eq!(pull_cursor(&core.conn()).unwrap(), 1);
    set_mode(&fake, Mode::Normal);
    let report = sync_once(&core, &client, TOKEN).await.unwrap();
    assert_eq!((report.pushed, report.duplicates), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_retried_under_the_same_ids() {
    let (url, fake) = start_fake().await;
    let secrets = MemoryStore::new();
    let (_d, core) = signed_in_core(&url, &secrets).await;
    let client = SyncClient::new(&url).unwrap();
    set_note(&core, "a", "once");
    // The server applies the batch but the answer never arrives.
    let batch = next_batch(&core, 200).unwrap();
    client.push(TOKEN, &batch).await.unwrap();
    // Meanwhile a new edit queues behind the in-flight op.
    set_note(&core, "a", "twice");
    let report = sync_once(&core, &client, TOKEN).await.unwrap();
    assert_eq!(
        (report.pushed, report.duplicates, report.push_batches),
        (2, 1, 2)
    );
    assert_eq!(fake.lock().unwrap().log.len(), 2);
    assert!(pending_operations(&core).unwrap().is_empty());
    assert_eq!(local(&core, "a", "note"), Some(json!("twice")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_answers_keep_the_outbox_and_say_why() {
    let (url, fake) = start_fake().await;
    let secrets = MemoryStore::new();
    let (_d, core) = signed_in_core(&url, &secrets).await;
    let client = SyncClient::new(&url).unwrap();
    set_note(&core, "a", "precious");
    set_done(&core, "b", true);

    for (mode, code) in [
        (Mode::CaptivePortal, "not_our_server"),
        (Mode::Busy, "server_busy"),
        (Mode::ShortAnswers, "bad_answer"),
    ] {
        set_mode(&fake, mode);
        let e = sync_once(&core, &client, TOKEN).await.unwrap_err();
        assert_eq!(e.code().as_str(), code, "{e}");
        assert_eq!(
            pending_operations(&core).unwrap().len(),
            2,
            "{code}: nothing left the outbox"
        );
        let st = status(&core).unwrap();
        assert_eq!(st.last_error.as_ref().map(|e| e.code.as_str()), Some(code));
        assert!(st.signed_in);
    }
    // The short answer was applied by the server: the retry is told "duplicate".
    set_mode(&fake, Mode::Revoked);
    let e = sync_once(&core, &client, TOKEN).await.unwrap_err();
    assert!(matches!(e, Error::SignInRequired(_)), "{e:?}");
    assert!(!e.to_string().contains(TOKEN));
    assert_eq!(
        pending_operations(&core).unwrap().len(),
        2,
        "queued operations are kept"
    );
    assert!(!status(&core).unwrap().signed_in);

    set_mode(&fake, Mode::Normal);
    let report = sync_once(&core, &client, TOKEN).await.unwrap();
    assert_eq!((report.pushed, report.duplicates), (2, 2));
    assert!(pending_operations(&core).unwrap().is_empty());
    assert!(status(&core).unwrap().last_error.is_none());

    // A client for another server is refused before anything is sent.
    let other = SyncClient::new("http://127.0.0.1:9").unwrap();
    assert_eq!(
        sync_once(&core, &other, TOKEN)
            .await
            .unwrap_err()
            .code()
            .as_str(),
        "signed_in_elsewhere"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_and_forget_remove_the_token_and_keep_local_data() {
    let (url, fake) = start_fake().await;
    let secrets = MemoryStore::new();
    let (_d, core) = signed_in_core(&url, &secrets).await;
    set_note(&core, "a", "keep me");

    sign_out(&core, &secrets).await.unwrap();
    assert!(secrets.is_empty());
    assert!(
        fake.lock().unwrap().tokens.is_empty(),
        "the server revoked the token"
    );
    assert_eq!(
        device_token(&core, &secrets).unwrap_err().code().as_str(),
        "sign_in_required"
    );
    assert_eq!(
        status(&core).unwrap().waiting,
        1,
        "queued operations survive sign-out"
    );

    // Signing in again to the same account keeps the outbox as it was.
    sign_in(
        &core,
        &secrets,
        &url,
        "amina",
        "correct horse battery",
        "Test laptop",
    )
    .await
    .unwrap();
    assert_eq!(pending_operations(&core).unwrap().len(), 1);

    forget_device(&core, &secrets).unwrap();
    assert!(secrets.is_empty());
    let st = status(&core).unwrap();
    assert_eq!((st.server_url, st.waiting, st.signed_in), (None, 0, false));
    assert_eq!(local(&core, "a", "note"), Some(json!("keep me")));
    set_note(&core, "a", "still local");
    assert!(
        pending_operations(&core).unwrap().is_empty(),
        "nothing queued once forgotten"
    );
}

#[test]
fn a_second_sync_in_the_same_process_waits_its_turn() {
    let (_dir, core) = open_core();
    let _running = core.begin_sync().unwrap();
    let client = SyncClient::new("http://127.0.0.1:9").unwrap();
    let e = block_on(sync_once(&core, &client, "t")).unwrap_err();
    assert_eq!(e.code().as_str(), "sync_in_progress");
}

#[test]
fn block_on_runs_the_engine_without_a_runtime() {
    let (_dir, core) = open_core();
    let client = SyncClient::new("http://127.0.0.1:9").unwrap();
    let e = block_on(sync_once(&core, &client, "t")).unwrap_err();
    assert_eq!(e.code().as_str(), "sign_in_required");
}

/// The futures of the public async API can be spawned on a multi-threaded runtime (Tauri's).
#[allow(dead_code)]
fn futures_are_send(core: &Core, client: &SyncClient, secrets: &MemoryStore) {
    fn assert_send<T: Send>(_: T) {}
    assert_send(sync_once(core, client, "t"));
    assert_send(sync_once_with_progress(core, client, "t", &|_| {}));
    assert_send(sign_in(core, secrets, "u", "n", "p", "d"));
    assert_send(sign_out(core, secrets));
    assert_send(client.health());
    assert_send(sync_through_relay(core, "192.168.1.20:8787", "t"));
    assert_send(use_relay(core, "192.168.1.20:8787"));
}

mod relay;
