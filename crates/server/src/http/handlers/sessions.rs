use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use stopover_protocol::{AccountStatus, SignInRequest, SignInResponse};

use crate::accounts::{store, validate};
use crate::auth::{Caller, devices, token};
use crate::error::{Error, Result};
use crate::http::client_ip::ClientIp;
use crate::http::json::ApiJson;
use crate::http::openapi::schemas as s;
use crate::state::AppState;

/// Signs in and issues a new device token. Unknown users and wrong passwords get the same
/// answer in the same time; whether an account is pending or revoked is only told to
/// someone who knows its password.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = s::SignInRequest,
    responses(
        (status = 201, description = "Signed in: the device token, shown once", body = s::SignInResponse),
        (status = 400, description = "`bad_json`, `bad_body`, `unsupported_protocol`", body = s::ErrorBody),
        (status = 401, description = "`bad_credentials`", body = s::ErrorBody),
        (status = 403, description = "`account_pending`, `account_revoked`", body = s::ErrorBody),
        (status = 413, description = "`too_large`", body = s::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = s::ErrorBody),
        (status = 422, description = "`invalid_request`", body = s::ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many failures for this account or address",
            body = s::ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<(StatusCode, Json<SignInResponse>)> {
    let SignInRequest {
        username,
        password,
        device_name,
    } = req;
    validate::device_name(&device_name).map_err(Error::InvalidRequest)?;
    let limits = state.sign_in_limits.clone();
    limits.check(&username, ip, Instant::now())?;

    let probe = username.clone();
    let account = state.db.read(move |c| store::find(c, &probe)).await?;
    let matches = state
        .passwords
        .verify_async(password, account.as_ref().map(|a| a.password_hash.clone()))
        .await?;
    let account = match account {
        Some(a) if matches => a,
        _ => {
            limits.failed(&username, ip, Instant::now());
            // Not the username: people type their password into that field.
            tracing::info!(%ip, "sign-in failed");
            return Err(Error::BadCredentials);
        }
    };
    limits.succeeded(&username);
    match account.status {
        AccountStatus::Approved => {}
        AccountStatus::Pending => return Err(Error::AccountPending),
        AccountStatus::Revoked => return Err(Error::AccountRevoked),
    }

    let device_id = token::new_device_id()?;
    let new = token::generate()?;
    let name = if device_name.trim().is_empty() {
        "unnamed device".to_string()
    } else {
        device_name.trim().to_string()
    };
    let (id, account_id, hash) = (device_id.clone(), account.id, new.hash);
    state
        .db
        .write(move |c| devices::insert(c, &id, account_id, &name, &hash))
        .await?;
    tracing::info!(username = %account.username, %device_id, "signed in");
    Ok((
        StatusCode::CREATED,
        Json(SignInResponse {
            token: new.token,
            device_id,
            account: account.to_account(),
        }),
    ))
}

/// Signs this device out: its token stops working at once.
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "sessions", security(("device_token" = [])),
    responses(
        (status = 204, description = "This device token is revoked"),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn sign_out(State(state): State<AppState>, caller: Caller) -> Result<StatusCode> {
    let device_id = caller.device_id.clone();
    state
        .db
        .write(move |c| devices::revoke(c, &device_id))
        .await?;
    tracing::info!(username = %caller.account.username, device_id = %caller.device_id, "signed out");
    Ok(StatusCode::NO_CONTENT)
}
