use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use stopover_protocol::{Account, AccountRequest, AccountStatus, Role};

use crate::accounts::{NewAccount, store, validate};
use crate::auth::Caller;
use crate::error::{Error, Result};
use crate::http::client_ip::ClientIp;
use crate::http::json::ApiJson;
use crate::http::openapi::schemas as s;
use crate::limits::sign_in::address_key;
use crate::state::AppState;

/// Anyone may request an NFP account; it stays `pending` until the Secretariat approves it
/// (and may correct its country and instruments), and is deleted if nobody does within the
/// server's `--pending-days`. Every well-formed request counts against the address's hourly
/// budget, whether the name was free or taken, so probing names costs what registering does.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = s::AccountRequest,
    responses(
        (status = 201, description = "Requested; pending approval", body = s::Account),
        (status = 400, description = "`bad_json`, `bad_body`, `unsupported_protocol`", body = s::ErrorBody),
        (status = 409, description = "`username_taken`", body = s::ErrorBody),
        (status = 413, description = "`too_large`", body = s::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = s::ErrorBody),
        (status = 422, description = "`invalid_request`: a field breaks its rule", body = s::ErrorBody),
        (status = 429, description = "`too_many_registrations`: this address asked too often", body = s::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "`internal`", body = s::ErrorBody),
        (status = 503, description = "`registration_closed`: too many requests wait for approval", body = s::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn request_account(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<AccountRequest>,
) -> Result<(StatusCode, Json<Account>)> {
    validate::request(&req).map_err(Error::InvalidRequest)?;
    let address = address_key(ip);
    let now = Instant::now();
    state
        .registrations
        .check(&address, now)
        .map_err(|wait| Error::TooManyRegistrations {
            retry_after: wait.as_secs().max(1),
        })?;
    state.registrations.record(&address, now);
    let max_pending = state.config.max_pending_accounts;
    crate::janitor::expire_pending_accounts(&state).await?;
    if state.db.read(store::count_pending).await? >= max_pending {
        return Err(Error::RegistrationClosed { retry_after: 3600 });
    }
    let AccountRequest {
        username,
        password,
        display_name,
        email,
        country,
        instruments,
    } = req;
    // Cheap check first so a taken name costs no hashing.
    let probe = username.clone();
    if state
        .db
        .read(move |c| store::find(c, &probe))
        .await?
        .is_some()
    {
        return Err(Error::UsernameTaken(username));
    }
    let password_hash = {
        let _one_at_a_time = state
            .registration_slot
            .acquire()
            .await
            .map_err(|e| Error::Task(e.to_string()))?;
        state.passwords.hash_async(password).await?
    };
    let new = NewAccount {
        username,
        password_hash,
        display_name,
        email,
        role: Role::Nfp,
        country: Some(country),
        instruments: instruments
            .into_iter()
            .map(|i| i.trim().to_string())
            .collect(),
        status: AccountStatus::Pending,
    };
    let row = state.db.write(move |c| store::insert(c, &new)).await?;
    tracing::info!(username = %row.username, "account requested");
    Ok((StatusCode::CREATED, Json(row.to_account())))
}

/// The signed-in account.
#[utoipa::path(get, path = "/v1/me", tag = "accounts", security(("device_token" = [])),
    responses(
        (status = 200, description = "The caller's account", body = s::Account),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn me(caller: Caller) -> Json<Account> {
    Json(caller.account.to_account())
}
