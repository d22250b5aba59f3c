use axum::Json;
use axum::extract::State;
use rusqlite::TransactionBehavior;
use serde::Deserialize;
use stopover_protocol::sync_file::{self, FeedPart, FileKeyRequest, FileKeyResponse};
use stopover_protocol::{
    MAX_OPS_PER_PUSH, PROTOCOL_VERSION, PullResponse, PushRequest, PushResponse,
};

use crate::auth::policy::{Action, authorize, sync_scope};
use crate::auth::{Caller, devices};
use crate::error::{Error, Result};
use crate::http::json::{ApiJson, ApiQuery};
use crate::http::openapi::schemas as s;
use crate::state::AppState;
use crate::sync::{file, pull as feed, push as apply};

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
