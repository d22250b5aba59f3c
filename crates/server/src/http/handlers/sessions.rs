use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use stopover_protocol::{AccountStatus, ChangePassword, SignInRequest, SignInResponse};

use crate::accounts::{store, validate};
use crate::auth::{Caller, devices, token};
use crate::error::{Error, Result};
use crate::http::client_ip::ClientIp;
use crate::http::json::ApiJson;
use crate::http::openapi::schemas as s;
use crate::state::AppState;

/// Signs in and issues a new device token. Unknown users and wrong passwords get the same
/// answer in the same time; whether an account is pending or revoked, or must change its
/// password, is only told to someone who knows its password.
///
/// Attempts are checked one at a time per account and per address; past a few failures each
/// further one doubles the wait for that account from that address (429 with `Retry-After`),
/// and an account's known addresses keep working while it is guessed at from elsewhere.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = s::SignInRequest,
    responses(
        (status = 201, description = "Signed in: the device token, shown once", body = s::SignInResponse),
        (status = 400, description = "`bad_json`, `bad_body`, `unsupported_protocol`", body = s::ErrorBody),
        (status = 401, description = "`bad_credentials`", body = s::ErrorBody),
        (status = 403, description = "`account_pending`, `account_revoked`, `password_change_required`: the Secretariat reset the password; sign in again with `new_password`", body = s::ErrorBody),
        (status = 413, description = "`too_large`", body = s::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = s::ErrorBody),
        (status = 422, description = "`invalid_request`: e.g. a `new_password` too short", body = s::ErrorBody),
        (status = 429, description = "`too_many_attempts`: wait before trying this account from this address again",
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
        new_password,
    } = req;
    validate::device_name(&device_name).map_err(Error::InvalidRequest)?;
    if let Some(p) = &new_password {
        validate::password(p).map_err(|e| Error::InvalidRequest(format!("new_{e}")))?;
    }
    let attempt = state.sign_in_limits.begin(&username, ip).await?;

    let probe = username.clone();
    let account = state.db.read(move |c| store::find(c, &probe)).await?;
    let matches = state
        .passwords
        .verify_async(password, account.as_ref().map(|a| a.password_hash.clone()))
        .await?;
    let account = match account {
        Some(a) if matches => a,
        _ => {
            attempt.failed();
            // Not the username: people type their password into that field.
            tracing::info!(%ip, "sign-in failed");
            return Err(Error::BadCredentials);
        }
    };
    attempt.succeeded();
    match account.status {
        AccountStatus::Approved => {}
        AccountStatus::Pending => return Err(Error::AccountPending),
        AccountStatus::Revoked => return Err(Error::AccountRevoked),
    }
    let new_hash = match new_password {
        Some(p) => Some(state.passwords.hash_async(p).await?),
        None if account.must_change_password => return Err(Error::PasswordChangeRequired),
        None => None,
    };

    let device_id = token::new_device_id()?;
    let new = token::generate()?;
    let name = if device_name.trim().is_empty() {
        "unnamed device".to_string()
    } else {
        device_name.trim().to_string()
    };
    let (id, account_id, hash) = (device_id.clone(), account.id, new.hash);
    let renewed = new_hash.is_some();
    state
        .db
        .write(move |c| {
            let tx = c.transaction()?;
            if let Some(h) = &new_hash {
                // A new password signs every other device out, as a change does.
                store::set_password(&tx, account_id, h, false)?;
                devices::revoke_all(&tx, account_id)?;
            }
            devices::insert(&tx, &id, account_id, &name, &hash)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    tracing::info!(username = %account.username, %device_id, renewed, "signed in");
    Ok((
        StatusCode::CREATED,
        Json(SignInResponse {
            token: new.token,
            device_id,
            account: account.to_account(),
        }),
    ))
}

/// Changes the caller's password (the current one is required) and signs every other device
/// of the account out; this device stays signed in. Wrong current passwords count against the
/// same limits as sign-ins.
#[utoipa::path(post, path = "/v1/me/password", tag = "accounts", security(("device_token" = [])),
    request_body = s::ChangePassword,
    responses(
        (status = 204, description = "Changed; the account's other device tokens are revoked"),
        (status = 400, description = "`bad_json`, `bad_body`, `unsupported_protocol`", body = s::ErrorBody),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 403, description = "`wrong_password`: the current password is not right", body = s::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = s::ErrorBody),
        (status = 422, description = "`invalid_request`: the new password breaks its rule", body = s::ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = s::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    caller: Caller,
    ApiJson(req): ApiJson<ChangePassword>,
) -> Result<StatusCode> {
    validate::password(&req.new_password).map_err(|e| Error::InvalidRequest(format!("new_{e}")))?;
    let attempt = state
        .sign_in_limits
        .begin(&caller.account.username, ip)
        .await?;
    let matches = state
        .passwords
        .verify_async(
            req.current_password,
            Some(caller.account.password_hash.clone()),
        )
        .await?;
    if !matches {
        attempt.failed();
        return Err(Error::WrongPassword);
    }
    attempt.succeeded();
    let hash = state.passwords.hash_async(req.new_password).await?;
    let (account_id, device_id) = (caller.account.id, caller.device_id.clone());
    let revoked = state
        .db
        .write(move |c| {
            let tx = c.transaction()?;
            store::set_password(&tx, account_id, &hash, false)?;
            let n = tx.execute(
                "UPDATE device SET revoked_at = unixepoch() WHERE account_id = ?1 AND id <> ?2 AND revoked_at IS NULL",
                rusqlite::params![account_id, device_id],
            )?;
            tx.commit()?;
            Ok(n)
        })
        .await?;
    tracing::info!(username = %caller.account.username, revoked, "password changed");
    Ok(StatusCode::NO_CONTENT)
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
