use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use ed25519_dalek::SigningKey;
use rusqlite::TransactionBehavior;
use serde::Deserialize;
use stopover_protocol::relay::{self, CommunityPullRequest, CredentialResponse};
use stopover_protocol::sync_file::{self, FeedPart, FileKeyRequest, FileKeyResponse};
use stopover_protocol::{
    MAX_OPS_PER_PUSH, PROTOCOL_VERSION, PullResponse, PushRequest, PushResponse,
};

use crate::auth::policy::{Action, authorize, sync_scope};
use crate::auth::{Caller, devices};
use crate::db::unix_now;
use crate::error::{Error, Result};
use crate::http::client_ip::ClientIp;
use crate::http::json::{ApiJson, ApiQuery, read_body};
use crate::http::openapi::schemas as s;
use crate::state::AppState;
use crate::sync::{community, file, pull as feed, push as apply};

/// Applies a batch of operations, each at most once, in one transaction; one answer per
/// operation in the order sent. Forum, directory and event operations also follow the
/// community's rules (only a post's author edits it, only the Secretariat hides posts and
/// locks threads, each person shares only their own contact details, registrations close on
/// the event's day and when it is full); a broken rule is `rejected` with the reason. A new
/// post gets its `meta` (author, date) from the server, in the feed right after its content.
///
/// With `pull`, the answer also carries the page of changes after `pull.cursor`, read once
/// the operations are committed, exactly as `GET /v1/sync/pull` would return it: a sync
/// round with something to send is this one exchange. The changes this device pushed (now or
/// before) are left out of the page: it holds them, and `results` gave it their versions.
#[utoipa::path(post, path = "/v1/sync/push", tag = "sync", security(("device_token" = [])), request_body = s::PushRequest,
    responses(
        (status = 200, description = "One result per operation, in order, and the page of changes when `pull` was asked", body = s::PushResponse),
        (status = 400, description = "`bad_json`, `bad_body`, `unsupported_protocol`", body = s::ErrorBody),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 413, description = "`too_large`, `too_many_operations`", body = s::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = s::ErrorBody),
        (status = 422, description = "`invalid_request`", body = s::ErrorBody),
        (status = 429, description = "`busy`: too many syncs in flight; `too_many_writes`: this account pushed more than its hourly budget", body = s::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn push(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>> {
    authorize(&caller.account, Action::Sync)?;
    if req.ops.len() > MAX_OPS_PER_PUSH {
        return Err(Error::TooManyOperations);
    }
    state.write_budget.charge(
        caller.account.id,
        crate::limits::budget::push_bytes(&req.ops),
        std::time::Instant::now(),
    )?;
    let scope = sync_scope(&caller.account).on_device(&caller.device_id);
    let pull_scope = scope.clone();
    let ops = req.ops;
    let results = if ops.is_empty() {
        Vec::new()
    } else {
        state
            .db
            .write(move |conn| {
                // IMMEDIATE: take the write lock up front, so the push never fails half-way
                // on a lock upgrade.
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let results = apply::apply(&tx, &scope, &ops)?;
                tx.commit()?;
                Ok(results)
            })
            .await?
    };
    // After the commit, on a reader: the write lock is not held while the page is read, and
    // the page sees everything the push did.
    let pull = match req.pull {
        Some(p) => {
            let limit = feed::effective_limit(p.limit);
            Some(
                state
                    .db
                    .read(move |conn| feed::pull(conn, &pull_scope, p.cursor, limit, FeedPart::All))
                    .await?,
            )
        }
        None => None,
    };
    Ok(Json(PushResponse {
        protocol: PROTOCOL_VERSION,
        results,
        pull,
    }))
}

/// `GET /v1/sync/pull` query parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullParams {
    /// The `cursor` of the last page applied; 0 or absent for everything.
    pub cursor: Option<u64>,
    /// Page size: default 200, capped at 500.
    pub limit: Option<u32>,
}

/// The caller's changes after `cursor`, oldest first; the changes this device pushed itself
/// are left out (the cursor moves past them).
#[utoipa::path(get, path = "/v1/sync/pull", tag = "sync", security(("device_token" = [])), params(PullParams),
    responses(
        (status = 200, description = "A page of changes", body = s::PullResponse),
        (status = 400, description = "`unsupported_protocol`", body = s::ErrorBody),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 422, description = "`invalid_request`: a query parameter is malformed", body = s::ErrorBody),
        (status = 429, description = "`busy`: too many syncs in flight", body = s::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (1-3)"))),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn pull(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PullParams>,
) -> Result<Json<PullResponse>> {
    authorize(&caller.account, Action::Sync)?;
    let scope = sync_scope(&caller.account).on_device(&caller.device_id);
    let (cursor, limit) = (q.cursor.unwrap_or(0), feed::effective_limit(q.limit));
    let page = state
        .db
        .read(move |conn| feed::pull(conn, &scope, cursor, limit, FeedPart::All))
        .await?;
    Ok(Json(page))
}

/// Registers the public key this device signs its sync files with (a key derived from its
/// device token, so it changes with each sign-in), and answers with the key the server signs
/// reply files with. The same key again is fine; a key another device registered is refused.
#[utoipa::path(put, path = "/v1/sync/file-key", tag = "sync", security(("device_token" = [])), request_body = s::FileKeyRequest,
    responses(
        (status = 200, description = "Registered; the server's own file key", body = s::FileKeyResponse),
        (status = 400, description = "`bad_json`, `bad_body`, `unsupported_protocol`", body = s::ErrorBody),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 422, description = "`invalid_request`: not an ed25519 public key in hex, or another device's", body = s::ErrorBody),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn file_key(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<FileKeyRequest>,
) -> Result<Json<FileKeyResponse>> {
    authorize(&caller.account, Action::Sync)?;
    let key = sync_file::parse_key(&req.public_key).ok_or_else(|| {
        Error::InvalidRequest("`public_key` must be an ed25519 public key as 64 hex digits".into())
    })?;
    let device = caller.device_id;
    let server = state
        .db
        .write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(owner) = devices::find_by_file_key(&tx, key.as_bytes())?
                && owner.device_id != device
            {
                return Err(Error::InvalidRequest(
                    "this file key belongs to another device".into(),
                ));
            }
            devices::set_file_key(&tx, &device, key.as_bytes())?;
            let server = file::server_key(&tx)?;
            tx.commit()?;
            Ok(server)
        })
        .await?;
    Ok(Json(FileKeyResponse {
        protocol: PROTOCOL_VERSION,
        server_key: sync_file::to_hex(server.verifying_key().as_bytes()),
    }))
}

/// The server's signing key, made on first use (on the writer: readers are read-only).
async fn signing_key(state: &AppState) -> Result<SigningKey> {
    if let Some(key) = state.db.read(file::existing_server_key).await? {
        return Ok(key);
    }
    state.db.write(|conn| file::server_key(conn)).await
}

const OCTET_STREAM: &str = "application/octet-stream";

fn octet_stream(bytes: Vec<u8>) -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static(OCTET_STREAM))],
        bytes,
    )
        .into_response()
}

/// Applies a device's sealed sync file (a push a workshop relay forwards unchanged, or a
/// sync file sent over any connection) exactly as `bundle import` would, and answers with the
/// reply file the server signs. No token: the file is signed by the key its device registered
/// (`PUT /v1/sync/file-key`), which must still be signed in, of an approved account. The same
/// file twice applies once (its operations answer `duplicate`). Charged to the account's
/// write budget like a push; logged as `sync.file` when it applied something.
#[utoipa::path(post, path = "/v1/sync/file", tag = "sync",
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "A sealed `DeviceChanges` file (`feed`: `all` or `private`), at most 2 MiB"),
    responses(
        (status = 200, description = "The sealed `SyncFileReply`: one result per operation and the changes after the file's cursor (of the part its `feed` names; at most 2000, `more` says when others wait)", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 400, description = "`bad_body`, `unsupported_protocol`; the file refused: `sync_file_not_ours`, `sync_file_newer_version`, `sync_file_wrong_kind`, `sync_file_truncated`, `sync_file_tampered`, `sync_file_foreign` (no device registered its key)", body = s::ErrorBody),
        (status = 401, description = "`token_revoked`: the device was signed out; `account_revoked`", body = s::ErrorBody),
        (status = 403, description = "`account_pending`, `forbidden`", body = s::ErrorBody),
        (status = 413, description = "`too_large`, `too_many_operations`, `sync_file_too_large`", body = s::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not application/octet-stream", body = s::ErrorBody),
        (status = 422, description = "`invalid_request`: the file asks for the community part alone", body = s::ErrorBody),
        (status = 429, description = "`busy`: too many syncs in flight; `too_many_writes`: this account wrote more than its hourly budget", body = s::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn sync_file(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case(OCTET_STREAM)
    {
        return Err(Error::UnsupportedMediaType(format!(
            "send the sealed sync file as `Content-Type: {OCTET_STREAM}`"
        )));
    }
    let bytes = read_body(body).await?;
    // Checked on a reader first, so the budget is charged to the right account before the
    // writer is asked for; the writer checks again (a sign-out may come in between).
    let first = bytes.clone();
    let checked = state.db.read(move |conn| file::check(conn, &first)).await?;
    state.write_budget.charge(
        checked.owner.account.id,
        crate::limits::budget::push_bytes(&checked.changes.ops),
        std::time::Instant::now(),
    )?;
    let source = ip.to_string();
    let to_apply = bytes.clone();
    let (applied, key) = state
        .db
        .write(move |conn| {
            let applied = file::apply_file(conn, &to_apply, file::Via::Http { source: &source })?;
            Ok((applied, file::server_key(conn)?))
        })
        .await?;
    // After the commit, on a reader, as a push's page.
    let (reply, _) = state
        .db
        .read(move |conn| file::reply(conn, &key, &bytes, applied, file::MAX_HTTP_REPLY_CHANGES))
        .await?;
    Ok(octet_stream(reply))
}

/// The key the server signs reply files, device credentials and community pages with: how a
/// workshop relay learns it (over TLS, once) to check credentials and pages offline.
#[utoipa::path(get, path = "/v1/sync/server-key", tag = "sync",
    responses(
        (status = 200, description = "The server's public key", body = s::FileKeyResponse),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn server_key(State(state): State<AppState>) -> Result<Json<FileKeyResponse>> {
    let key = signing_key(&state).await?;
    Ok(Json(FileKeyResponse {
        protocol: PROTOCOL_VERSION,
        server_key: sync_file::to_hex(key.verifying_key().as_bytes()),
    }))
}

/// A credential for the calling device, which a workshop relay checks offline with the
/// server's key alone: it names the device, its account and its registered file key, and
/// expires after 14 days. The device must have registered its file key first.
#[utoipa::path(get, path = "/v1/sync/credential", tag = "sync", security(("device_token" = [])),
    responses(
        (status = 200, description = "A sealed `DeviceCredential`, base64", body = s::CredentialResponse),
        (status = 400, description = "`unsupported_protocol`", body = s::ErrorBody),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 409, description = "`file_key_missing`: `PUT /v1/sync/file-key` first", body = s::ErrorBody),
        (status = 429, description = "`busy`: too many syncs in flight", body = s::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (1-3)"))),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn credential(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<CredentialResponse>> {
    authorize(&caller.account, Action::Sync)?;
    let key = signing_key(&state).await?;
    let (device, username) = (caller.device_id, caller.account.username);
    let answer = state
        .db
        .read(move |conn| community::credential(conn, &key, &device, &username, unix_now()))
        .await?;
    Ok(Json(answer))
}

/// A page of the community's changes (forum, directory, events) for a workshop relay, the
/// same for everyone, signed by the server so the laptops it serves can tell a forged one.
/// No token: the relay shows a device's grant for its key (a sealed `RelayGrant`, signed by
/// a registered device still signed in, of an approved account, at most 7 days long) and its
/// request (a sealed `CommunityPull`) signed with that key, written within a day of the
/// server's clock.
#[utoipa::path(post, path = "/v1/relay/community", tag = "sync", request_body = s::CommunityPullRequest,
    responses(
        (status = 200, description = "A sealed `CommunityPage`: the community's changes after the request's cursor", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 400, description = "`bad_json`, `bad_body`, `unsupported_protocol`", body = s::ErrorBody),
        (status = 401, description = "`token_revoked`: the granting device was signed out; `account_revoked`", body = s::ErrorBody),
        (status = 403, description = "`grant_invalid`, `grant_expired`, `relay_request_invalid` (e.g. signed by another key than the grant names), `relay_clock_skew` (`server_time`, `max_skew`), `account_pending`", body = s::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = s::ErrorBody),
        (status = 429, description = "`busy`: too many syncs in flight", body = s::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait (1-3)"))),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn relay_community(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CommunityPullRequest>,
) -> Result<Response> {
    let key = signing_key(&state).await?;
    let started = tokio::time::Instant::now();
    loop {
        let (key, req) = (key.clone(), req.clone());
        let (page, quiet) = state
            .db
            .read(move |conn| community::community_page(conn, &key, &req, unix_now()))
            .await?;
        // Nothing new: hold the answer (long poll) up to the wait the relay asked for, looking
        // again each second, so news reaches it at once and a quiet forum costs little.
        let wait = quiet.map_or(0, |w| w.min(relay::MAX_COMMUNITY_WAIT_SECS));
        if started.elapsed() + std::time::Duration::from_secs(1)
            > std::time::Duration::from_secs(u64::from(wait))
        {
            return Ok(octet_stream(page));
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// The archive of a published content pack for a workshop relay, which hands it to every
/// laptop on its LAN (each checks the Secretariat's signature on it, as on a pack from here).
/// The same grant and checks as `POST /v1/relay/community`; the request is a sealed
/// `PackPull` naming the version.
#[utoipa::path(post, path = "/v1/relay/pack", tag = "sync", request_body = s::CommunityPullRequest,
    responses(
        (status = 200, description = "The archive's bytes", body = Vec<u8>, content_type = "application/gzip"),
        (status = 400, description = "`bad_json`, `bad_body`, `unsupported_protocol`", body = s::ErrorBody),
        (status = 401, description = "`token_revoked`: the granting device was signed out; `account_revoked`", body = s::ErrorBody),
        (status = 403, description = "`grant_invalid`, `grant_expired`, `relay_request_invalid`, `relay_clock_skew` (`server_time`, `max_skew`), `account_pending`", body = s::ErrorBody),
        (status = 404, description = "`no_pack`: no such version", body = s::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = s::ErrorBody),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn relay_pack(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CommunityPullRequest>,
) -> Result<Response> {
    let release = state
        .db
        .read(move |conn| community::pack_release(conn, &req, unix_now()))
        .await?;
    super::packs::archive_response(&state, &release).await
}
