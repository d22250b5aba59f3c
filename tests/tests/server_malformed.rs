//! Malformed requests to the real `ecommunity` process: each gets a clear 4xx with an
//! [`ErrorBody`] whose code names the problem; the server stays healthy and stores nothing.
//!
//! The expected statuses and codes are listed in ONE place, [`CASES`]. Where the protocol
//! does not fix a code, a few precise synonyms are accepted; generic codes ("error",
//! "bad_request", "internal") never are.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use stopover_protocol::{
    MAX_BODY_BYTES, MAX_OPS_PER_PUSH, MAX_TEXT_CHARS, Outcome, PROTOCOL_HEADER,
};
use stopover_tests::api::{self, Api, Body, Reply, gzip, raw_request, within};
use stopover_tests::server::{NewUser, Server};

const T: Duration = Duration::from_secs(180);

/// Codes for "this is not JSON at all".
const C_JSON: &[&str] = &["invalid_json", "bad_json", "malformed_json"];
/// Codes for "JSON, but not the shape this endpoint takes".
const C_SHAPE: &[&str] = &[
    "invalid_request",
    "invalid_body",
    "bad_body",
    "invalid_json",
    "bad_json",
    "malformed_json",
    "unprocessable",
];
const C_TOO_LARGE: &[&str] = &[
    "body_too_large",
    "payload_too_large",
    "request_too_large",
    "too_large",
];
const C_MEDIA: &[&str] = &[
    "unsupported_media_type",
    "unsupported_content_type",
    "invalid_content_type",
    "bad_content_type",
];
const C_ENCODING: &[&str] = &[
    "unsupported_encoding",
    "unsupported_content_encoding",
    "unsupported_media_type",
];
const C_CORRUPT: &[&str] = &[
    "invalid_encoding",
    "bad_encoding",
    "corrupt_body",
    "invalid_gzip",
    "decompression_failed",
    "invalid_body",
    "bad_body",
    "invalid_compression",
];
const C_PROTOCOL: &[&str] = &["unsupported_protocol"];
const C_NOT_FOUND: &[&str] = &["not_found", "unknown_endpoint", "unsupported_protocol"];
const C_METHOD: &[&str] = &["method_not_allowed"];
const C_TOO_MANY: &[&str] = &["too_many_ops", "too_many_operations", "batch_too_large"];
const C_QUERY: &[&str] = &[
    "invalid_cursor",
    "invalid_query",
    "bad_query",
    "invalid_request",
];
const C_AUTH: &[&str] = &[
    "unauthorized",
    "unauthenticated",
    "invalid_token",
    "missing_token",
    "bad_token",
    "not_signed_in",
    "token_revoked",
];

/// Codes that say nothing about the problem.
const GENERIC: &[&str] = &[
    "error",
    "bad_request",
    "internal",
    "internal_error",
    "unknown",
    "client_error",
    "failed",
];

/// How a case's request is made.
enum Req {
    /// Through reqwest: method, path, body, extra headers, with the NFP's token.
    Http(Method, String, Body, Vec<(&'static str, String)>),
    /// Through reqwest without any token.
    Anonymous(Method, String, Vec<(&'static str, String)>),
    /// These exact bytes over TCP (head built with the token by `raw_head`).
    Raw(Vec<u8>),
}

struct Case {
    name: &'static str,
    req: Req,
    statuses: &'static [u16],
    codes: &'static [&'static str],
}

fn json_ct() -> Vec<(&'static str, String)> {
    vec![("content-type", "application/json".to_string())]
}

fn push_path() -> String {
    "/v1/sync/push".into()
}

fn valid_push() -> Value {
    json!({ "ops": [api::op("malformed/control", "done", json!(true), 0)] })
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// The head of a raw POST to `path` with the token, `Connection: close` and these headers.
fn raw_head(token: &str, path: &str, extra: &str) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nConnection: close\r\n{extra}\r\n").into_bytes()
}

/// A push whose JSON is valid and bigger than the limit: one note padded past MAX_BODY_BYTES.
fn oversized_push() -> Vec<u8> {
    let mut v = valid_push();
    v["ops"][0]["field"] = json!("note");
    v["ops"][0]["value"] = json!("x".repeat(MAX_BODY_BYTES + 1024));
    bytes(&v)
}

/// THE table of malformed requests and what each must get.
fn cases(token: &str) -> Vec<Case> {
    let op = |f: &dyn Fn(&mut Value)| {
        let mut v = valid_push();
        f(&mut v["ops"][0]);
        Body::Raw(bytes(&v))
    };
    let huge = oversized_push();
    let mut chunked = raw_head(token, "/v1/sync/push", "Transfer-Encoding: chunked\r\n");
    for piece in huge.chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let mut with_length = raw_head(
        token,
        "/v1/sync/push",
        &format!("Content-Length: {}\r\n", huge.len()),
    );
    with_length.extend_from_slice(&huge);
    // 16 MiB of zeros inside a valid push: a few kB compressed, far past the limit inflated.
    let mut bomb_json = valid_push();
    bomb_json["ops"][0]["field"] = json!("note");
    bomb_json["ops"][0]["value"] = json!("0".repeat(16 * 1024 * 1024));
    let bomb = gzip(&bytes(&bomb_json));
    assert!(
        bomb.len() < 100 * 1024,
        "the bomb should be small on the wire ({} bytes)",
        bomb.len()
    );
    let too_many: Vec<_> = (0..=MAX_OPS_PER_PUSH)
        .map(|i| api::op(&format!("too-many/step-{i}"), "done", json!(true), 0))
        .collect();
    // Deep nesting where the schema takes any JSON (an op's `value`): a recursion bomb.
    let nested = bytes(&valid_push()).pipe_replace(
        b"\"value\":true",
        format!("\"value\":{}{}", "[".repeat(100_000), "]".repeat(100_000)).as_bytes(),
    );
    let gz = || {
        vec![
            ("content-type", "application/json".to_string()),
            ("content-encoding", "gzip".to_string()),
        ]
    };
    #[rustfmt::skip]
    let cases = vec![
        Case { name: "not JSON at all", req: Req::Http(Method::POST, push_path(), Body::Raw(b"{\"ops\": [".to_vec()), json_ct()), statuses: &[400], codes: C_JSON },
        Case { name: "empty body", req: Req::Http(Method::POST, push_path(), Body::Raw(Vec::new()), json_ct()), statuses: &[400], codes: C_SHAPE },
        Case { name: "invalid UTF-8", req: Req::Http(Method::POST, push_path(), Body::Raw(b"{\"ops\": [\"\xff\xfe\"]}".to_vec()), json_ct()), statuses: &[400], codes: C_SHAPE },
        Case { name: "JSON nested 100 000 deep", req: Req::Http(Method::POST, push_path(), Body::Raw(nested), json_ct()), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "a JSON array instead of an object", req: Req::Http(Method::POST, push_path(), Body::Raw(b"[1,2,3]".to_vec()), json_ct()), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "`ops` missing", req: Req::Http(Method::POST, push_path(), Body::Raw(b"{}".to_vec()), json_ct()), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "`ops` a string", req: Req::Http(Method::POST, push_path(), Body::Raw(b"{\"ops\": \"all of them\"}".to_vec()), json_ct()), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "unknown top-level field", req: Req::Http(Method::POST, push_path(), Body::Raw(bytes(&json!({"ops": [], "force": true}))), json_ct()), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "op without `id`", req: Req::Http(Method::POST, push_path(), op(&|o| { o.as_object_mut().unwrap().remove("id"); }), json_ct()), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "op without `entity`", req: Req::Http(Method::POST, push_path(), op(&|o| { o.as_object_mut().unwrap().remove("entity"); }), json_ct()), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "`base_version` a string", req: Req::Http(Method::POST, push_path(), op(&|o| o["base_version"] = json!("3")), json_ct()), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "`base_version` negative", req: Req::Http(Method::POST, push_path(), op(&|o| o["base_version"] = json!(-1)), json_ct()), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "`base_version` past u64", req: Req::Http(Method::POST, push_path(), Body::Raw(bytes(&valid_push()).pipe_replace(b"\"base_version\":0", b"\"base_version\":99999999999999999999999")), json_ct()), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "`entity` a string", req: Req::Http(Method::POST, push_path(), op(&|o| o["entity"] = json!("checklist_progress:a/b")), json_ct()), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "unknown field in an op", req: Req::Http(Method::POST, push_path(), op(&|o| o["sudo"] = json!(true)), json_ct()), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "text/plain content type", req: Req::Http(Method::POST, push_path(), Body::Raw(bytes(&valid_push())), vec![("content-type", "text/plain".into())]), statuses: &[415, 400], codes: C_MEDIA },
        Case { name: "no content type", req: Req::Http(Method::POST, push_path(), Body::Raw(bytes(&valid_push())), vec![]), statuses: &[415, 400], codes: C_MEDIA },
        Case { name: "form content type", req: Req::Http(Method::POST, push_path(), Body::Raw(b"ops=1".to_vec()), vec![("content-type", "application/x-www-form-urlencoded".into())]), statuses: &[415, 400], codes: C_MEDIA },
        Case { name: "unknown content encoding", req: Req::Http(Method::POST, push_path(), Body::Raw(bytes(&valid_push())), vec![("content-type", "application/json".into()), ("content-encoding", "x-snappy".into())]), statuses: &[415, 400], codes: C_ENCODING },
        Case { name: "gzip header on plain JSON", req: Req::Http(Method::POST, push_path(), Body::Raw(bytes(&valid_push())), gz()), statuses: &[400, 415], codes: C_CORRUPT },
        Case { name: "truncated gzip", req: Req::Http(Method::POST, push_path(), Body::Raw({ let g = gzip(&bytes(&valid_push())); g[..g.len() / 2].to_vec() }), gz()), statuses: &[400, 415], codes: C_CORRUPT },
        Case { name: "gzip bomb past MAX_BODY_BYTES", req: Req::Http(Method::POST, push_path(), Body::Raw(bomb), gz()), statuses: &[413], codes: C_TOO_LARGE },
        Case { name: "body past MAX_BODY_BYTES, with Content-Length", req: Req::Raw(with_length), statuses: &[413], codes: C_TOO_LARGE },
        Case { name: "body past MAX_BODY_BYTES, chunked", req: Req::Raw(chunked), statuses: &[413], codes: C_TOO_LARGE },
        Case { name: "more than MAX_OPS_PER_PUSH operations", req: Req::Http(Method::POST, push_path(), Body::Raw(bytes(&json!({ "ops": too_many }))), json_ct()), statuses: &[413, 400, 422], codes: C_TOO_MANY },
        Case { name: "protocol header 99", req: Req::Http(Method::POST, push_path(), Body::Raw(bytes(&valid_push())), vec![("content-type", "application/json".into()), (PROTOCOL_HEADER, "99".into())]), statuses: &[400], codes: C_PROTOCOL },
        Case { name: "protocol header not a number", req: Req::Http(Method::POST, push_path(), Body::Raw(bytes(&valid_push())), vec![("content-type", "application/json".into()), (PROTOCOL_HEADER, "one".into())]), statuses: &[400], codes: C_PROTOCOL },
        Case { name: "protocol header 99 on GET /v1/me", req: Req::Http(Method::GET, "/v1/me".into(), Body::None, vec![(PROTOCOL_HEADER, "99".into())]), statuses: &[400], codes: C_PROTOCOL },
        Case { name: "POST /v2/sync/push", req: Req::Http(Method::POST, "/v2/sync/push".into(), Body::Raw(bytes(&valid_push())), json_ct()), statuses: &[404], codes: C_NOT_FOUND },
        Case { name: "GET /v2/sync/pull", req: Req::Http(Method::GET, "/v2/sync/pull?cursor=0".into(), Body::None, vec![]), statuses: &[404], codes: C_NOT_FOUND },
        Case { name: "GET /v1/no-such-thing", req: Req::Http(Method::GET, "/v1/no-such-thing".into(), Body::None, vec![]), statuses: &[404], codes: &["not_found", "unknown_endpoint"] },
        Case { name: "GET on the push endpoint", req: Req::Http(Method::GET, push_path(), Body::None, vec![]), statuses: &[405], codes: C_METHOD },
        Case { name: "pull cursor not a number", req: Req::Http(Method::GET, "/v1/sync/pull?cursor=abc&limit=10".into(), Body::None, vec![]), statuses: &[400, 422], codes: C_QUERY },
        Case { name: "pull cursor negative", req: Req::Http(Method::GET, "/v1/sync/pull?cursor=-1&limit=10".into(), Body::None, vec![]), statuses: &[400, 422], codes: C_QUERY },
        Case { name: "pull limit not a number", req: Req::Http(Method::GET, "/v1/sync/pull?cursor=0&limit=lots".into(), Body::None, vec![]), statuses: &[400, 422], codes: C_QUERY },
        Case { name: "sign-in with wrong types", req: Req::Anonymous(Method::POST, "/v1/sessions".into(), vec![("content-type", "application/json".into()), ("x-body", "{\"username\": 1, \"password\": [], \"device_name\": null}".into())]), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "account request missing fields", req: Req::Anonymous(Method::POST, "/v1/accounts".into(), vec![("content-type", "application/json".into()), ("x-body", "{\"username\": \"someone\"}".into())]), statuses: &[400, 422], codes: C_SHAPE },
        Case { name: "Authorization without a token", req: Req::Anonymous(Method::GET, "/v1/me".into(), vec![("authorization", "Bearer".into())]), statuses: &[401], codes: C_AUTH },
        Case { name: "Authorization, Basic scheme", req: Req::Anonymous(Method::GET, "/v1/me".into(), vec![("authorization", "Basic bmZwOnBhc3N3b3Jk".into())]), statuses: &[401], codes: C_AUTH },
        Case { name: "Authorization, made-up token", req: Req::Anonymous(Method::GET, "/v1/sync/pull?cursor=0".into(), vec![("authorization", "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into())]), statuses: &[401], codes: C_AUTH },
    ];
    cases
}

/// `Vec<u8>` search-and-replace, for the one case JSON cannot express.
trait PipeReplace {
    fn pipe_replace(self, from: &[u8], to: &[u8]) -> Vec<u8>;
}

impl PipeReplace for Vec<u8> {
    fn pipe_replace(self, from: &[u8], to: &[u8]) -> Vec<u8> {
        let text = String::from_utf8(self).unwrap();
        let (from, to) = (
            std::str::from_utf8(from).unwrap(),
            std::str::from_utf8(to).unwrap(),
        );
        assert!(text.contains(from), "{from} not in {text}");
        text.replace(from, to).into_bytes()
    }
}

async fn send(api: &Api, server: &Server, req: Req) -> Result<Reply, String> {
    match req {
        Req::Http(method, path, body, headers) => {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            api.request(method, &path, body, &h)
                .await
                .map_err(|e| format!("no answer: {e}"))
        }
        Req::Anonymous(method, path, headers) => {
            let anon = Api::new(&server.base_url);
            let body = headers
                .iter()
                .find(|(k, _)| *k == "x-body")
                .map(|(_, v)| Body::Raw(v.clone().into_bytes()))
                .unwrap_or(Body::None);
            let h: Vec<(&str, &str)> = headers
                .iter()
                .filter(|(k, _)| *k != "x-body")
                .map(|(k, v)| (*k, v.as_str()))
                .collect();
            anon.request(method, &path, body, &h)
                .await
                .map_err(|e| format!("no answer: {e}"))
        }
        Req::Raw(bytes) => raw_request(server.addr(), bytes).await,
    }
}

/// What is wrong with this answer to case `name`, if anything.
fn judge(
    name: &str,
    statuses: &[u16],
    codes: &[&str],
    reply: &Result<Reply, String>,
) -> Option<String> {
    let r = match reply {
        Ok(r) => r,
        Err(e) => return Some(format!("{:<45} expected {:?}, got {e}", name, statuses)),
    };
    if !statuses.contains(&r.status) {
        return Some(format!(
            "{:<45} expected status {:?}, got {}",
            name,
            statuses,
            r.describe()
        ));
    }
    if !r
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return Some(format!(
            "{:<45} the error is not JSON: {}",
            name,
            r.describe()
        ));
    }
    let Some(err) = r.error_body() else {
        return Some(format!(
            "{:<45} the body is not an ErrorBody {{code, message}}: {}",
            name,
            r.describe()
        ));
    };
    if err.message.trim().is_empty() {
        return Some(format!(
            "{:<45} the error has no message for people: {err:?}",
            name
        ));
    }
    if GENERIC.contains(&err.code.as_str()) || !codes.contains(&err.code.as_str()) {
        return Some(format!(
            "{:<45} code `{}` is not one of {:?} (message: {})",
            name, err.code, codes, err.message
        ));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_clear_4xx_and_store_nothing() {
    within(T, "malformed requests", async {
        let mut server = Server::start();
        let nfp = NewUser::nfp("nfp-ke", "KE");
        let token = server.signed_in(&nfp).await.token;
        let api = Api::new(&server.base_url).with_token(&token);
        // What was stored, read from another device (a device's pulls leave out its own).
        let stored = Api::new(&server.base_url)
            .with_token(&server.sign_in(&nfp.username, &nfp.password).await);
        let mut failures = Vec::new();
        for case in cases(&token) {
            let (name, statuses, codes) = (case.name, case.statuses, case.codes);
            let reply = send(&api, &server, case.req).await;
            match &reply {
                Ok(r) => eprintln!("{name:<45} → {}", r.describe()),
                Err(e) => eprintln!("{name:<45} → {e}"),
            }
            if let Some(f) = judge(name, statuses, codes, &reply) {
                failures.push(f);
            }
            // Still standing after each one.
            server.assert_alive();
            let health = api.get("/v1/health").await;
            match health {
                Ok(h) if h.status == 200 => {}
                other => {
                    failures.push(format!(
                        "{name:<45} the health probe failed afterwards: {other:?}"
                    ));
                    break;
                }
            }
        }
        // Nothing of any of it was stored.
        let (changes, _) = stored.pull_all(0).await.unwrap_or_else(|e| panic!("{e}"));
        if !changes.is_empty() {
            failures.push(format!(
                "malformed pushes stored {} changes: {:?}",
                changes.len(),
                changes.iter().map(|c| &c.entity.id).collect::<Vec<_>>()
            ));
        }
        assert!(
            failures.is_empty(),
            "{} malformed-request failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_operations_are_rejected_one_by_one_and_not_stored() {
    within(T, "rejected operations", async {
        let server = Server::start();
        let user = NewUser::nfp("nfp-ke", "KE");
        let token = server.signed_in(&user).await.token;
        let api = Api::new(&server.base_url).with_token(&token);
        // What was stored, read from another device of the account (a device's pulls leave
        // out its own changes).
        let stored = Api::new(&server.base_url).with_token(&server.sign_in(&user.username, &user.password).await);
        let mut not_uuid = api::op("a/b", "done", json!(true), 0);
        not_uuid.id = "not-a-uuid-at-all".into();
        let mut unknown_kind = api::op("a/b", "done", json!(true), 0);
        unknown_kind.entity.kind = "report_answer".into();
        #[rustfmt::skip]
        let ops = [
            ("not a UUID id",        not_uuid),
            ("unknown record kind",  unknown_kind),
            ("entity id escapes",    api::op("../etc/passwd", "done", json!(true), 0)),
            ("entity id no step",    api::op("cop14", "done", json!(true), 0)),
            ("unknown field",        api::op("a/b", "owner", json!("me"), 0)),
            ("done not a bool",      api::op("a/b", "done", json!("yes"), 0)),
            ("note not text",        api::op("a/b", "note", json!({"html": "<b>"}), 0)),
            ("note too long",        api::op("a/b", "note", json!("n".repeat(MAX_TEXT_CHARS + 1)), 0)),
        ];
        let batch: Vec<_> = ops.iter().map(|(_, o)| o.clone()).collect();
        let resp = api.push(&batch).await.unwrap_or_else(|e| panic!("a batch of invalid operations is still a valid push: {e}"));
        let mut failures = Vec::new();
        for ((what, _), result) in ops.iter().zip(&resp.results) {
            match &result.outcome {
                Outcome::Rejected { reason, .. } if !reason.trim().is_empty() => {}
                other => failures.push(format!("{what}: expected Rejected with a reason, got {other:?}")),
            }
        }
        let (changes, _) = stored.pull_all(0).await.unwrap_or_else(|e| panic!("{e}"));
        if !changes.is_empty() {
            failures.push(format!("rejected operations were stored: {changes:?}"));
        }
        // A valid operation in the same batch as invalid ones still applies, alone.
        let good = api::op("cop14/register", "done", json!(true), 0);
        let resp = api.push(&[good.clone(), api::op("a/b", "done", json!(7), 0)]).await.unwrap_or_else(|e| panic!("{e}"));
        if !matches!(resp.results[0].outcome, Outcome::Applied { version: 1 }) || !matches!(resp.results[1].outcome, Outcome::Rejected { .. }) {
            failures.push(format!("mixed batch: expected [Applied v1, Rejected], got {:?}", resp.results));
        }
        let (changes, _) = stored.pull_all(0).await.unwrap_or_else(|e| panic!("{e}"));
        if changes.len() != 1 || changes[0].op_id != good.id {
            failures.push(format!("after the mixed batch exactly the valid change must be stored, got {changes:?}"));
        }
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    })
    .await;
}

/// What is sent, with which headers, and how many results must come back.
type Variant<'a> = (&'a str, Body, Vec<(&'a str, &'a str)>, usize);

/// Positive controls, so the refusals above mean something: the same server takes a valid
/// push plain, gzip-compressed, with the right protocol header, and with exactly
/// MAX_OPS_PER_PUSH operations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn well_formed_variants_are_accepted() {
    within(T, "well-formed pushes", async {
        let server = Server::start();
        let token = server.signed_in(&NewUser::nfp("nfp-ke", "KE")).await.token;
        let api = Api::new(&server.base_url).with_token(&token);
        let mut failures = Vec::new();
        let plain = valid_push();
        let gz = gzip(&bytes(&json!({"ops": [api::op("controls/gzip", "done", json!(true), 0)]})));
        let full: Vec<_> = (0..MAX_OPS_PER_PUSH).map(|i| api::op(&format!("controls/max-{i}"), "done", json!(true), 0)).collect();
        let json_header = [("content-type", "application/json")];
        #[rustfmt::skip]
        let variants: Vec<Variant> = vec![
            ("plain JSON",                        Body::Raw(bytes(&plain)), json_header.to_vec(), 1),
            ("charset in the content type",      Body::Raw(bytes(&json!({"ops": [api::op("controls/charset", "done", json!(true), 0)]}))), vec![("content-type", "application/json; charset=utf-8")], 1),
            ("gzip",                              Body::Raw(gz), vec![("content-type", "application/json"), ("content-encoding", "gzip")], 1),
            ("protocol header 1",                 Body::Raw(bytes(&json!({"ops": [api::op("controls/header", "done", json!(true), 0)]}))), vec![("content-type", "application/json"), (PROTOCOL_HEADER, "1")], 1),
            ("exactly MAX_OPS_PER_PUSH",          Body::Raw(bytes(&json!({"ops": full}))), json_header.to_vec(), MAX_OPS_PER_PUSH),
            ("an empty batch",                    Body::Raw(b"{\"ops\": []}".to_vec()), json_header.to_vec(), 0),
        ];
        for (what, body, headers, n) in variants {
            let r = api.request(Method::POST, "/v1/sync/push", body, &headers).await;
            match r {
                Ok(r) if r.status == 200 => match r.json::<stopover_protocol::PushResponse>() {
                    Ok(p) if p.results.len() == n && p.results.iter().all(|x| matches!(x.outcome, Outcome::Applied { .. })) => {}
                    other => failures.push(format!("{what}: expected {n} Applied results, got {other:?}")),
                },
                Ok(r) => failures.push(format!("{what}: expected 200, got {}", r.describe())),
                Err(e) => failures.push(format!("{what}: no answer: {e}")),
            }
        }
        // A pull larger than the cap is capped, not refused.
        match api.get("/v1/sync/pull?cursor=0&limit=100000").await {
            Ok(r) if r.status == 200 => match r.json::<stopover_protocol::PullResponse>() {
                Ok(p) if p.changes.len() <= stopover_protocol::MAX_PULL_LIMIT as usize => {}
                other => failures.push(format!("pull with limit=100000 must be capped at MAX_PULL_LIMIT: {other:?}")),
            },
            other => failures.push(format!("pull with limit=100000: expected 200 (capped), got {other:?}")),
        }
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    })
    .await;
}
