//! The Secretariat's and admins' endpoints. The rules of who may do what live in
//! `auth::policy`; each handler checks them inside the same transaction that acts, and logs
//! the action to the audit log in that transaction, so a concurrent change cannot slip
//! between check and act, and nothing is done unlogged.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use rusqlite::{Connection, TransactionBehavior};
use serde_json::json;
use stopover_protocol::{Account, AccountCorrection, AccountStatus, PasswordReset};

use crate::accounts::store::{self, Correction};
use crate::accounts::{AccountRow, password_reset};
use crate::audit::{self, action};
use crate::auth::Caller;
use crate::auth::policy::{Action, authorize};
use crate::error::Result;
use crate::forum::directory;
use crate::http::client_ip::ClientIp;
use crate::http::json::{ApiJson, parse};
use crate::http::openapi::schemas as s;
use crate::state::AppState;

/// Every account, pending ones included (Secretariat and admin).
#[utoipa::path(get, path = "/v1/admin/accounts", tag = "admin", security(("device_token" = [])),
    responses(
        (status = 200, description = "All accounts, by username", body = Vec<s::Account>),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 403, description = "`forbidden`: not Secretariat or admin", body = s::ErrorBody),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn list_accounts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Account>>> {
    authorize(&caller.account, Action::ListAccounts)?;
    let rows = state.db.read(store::list).await?;
    Ok(Json(rows.iter().map(|r| r.to_account()).collect()))
}

/// Approves a pending account (Secretariat and admin); re-enabling a revoked one is for
/// admins only. An optional [`AccountCorrection`] body corrects what the person asked for
/// (their country, instruments, role) in the same step. The account's directory card
/// (`profile` / `account`) goes into the community feed.
#[utoipa::path(post, path = "/v1/admin/accounts/{username}/approve", tag = "admin", security(("device_token" = [])),
    params(("username" = String, Path, description = "The account to approve")),
    request_body(content = Option<s::AccountCorrection>, description = "Optional: corrections made at approval"),
    responses(
        (status = 200, description = "The approved account", body = s::Account),
        (status = 400, description = "`bad_json`", body = s::ErrorBody),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 403, description = "`forbidden`", body = s::ErrorBody),
        (status = 404, description = "`no_such_account`", body = s::ErrorBody),
        (status = 422, description = "`invalid_request`: a correction breaks a field's rule", body = s::ErrorBody),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn approve_account(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    caller: Caller,
    Path(username): Path<String>,
    body: Bytes,
) -> Result<Json<Account>> {
    let correction = if body.iter().all(u8::is_ascii_whitespace) {
        AccountCorrection::default()
    } else {
        parse::<AccountCorrection>(&body)?
    };
    let source = ip.to_string();
    act(&state, caller, username, move |tx, actor, target| {
        let row = apply_correction(tx, actor, target, &correction, &source)?;
        authorize(actor, Action::ApproveAccount { target: &row })?;
        let row = store::set_status(tx, &row.username, AccountStatus::Approved)?;
        // An approved account joins the directory.
        directory::publish_card(tx, &row)?;
        log(tx, actor, action::ACCOUNT_APPROVE, &row, json!({}), &source)?;
        Ok(row)
    })
    .await
}

/// Revokes an account and every device token it holds (admin only).
#[utoipa::path(post, path = "/v1/admin/accounts/{username}/revoke", tag = "admin", security(("device_token" = [])),
    params(("username" = String, Path, description = "The account to revoke")),
    responses(
        (status = 200, description = "The revoked account", body = s::Account),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 403, description = "`forbidden`", body = s::ErrorBody),
        (status = 404, description = "`no_such_account`", body = s::ErrorBody),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn revoke_account(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<Account>> {
    let source = ip.to_string();
    act(&state, caller, username, move |tx, actor, target| {
        authorize(actor, Action::RevokeAccount { target })?;
        // The account's directory card stays (see `forum::directory`).
        let row = store::set_status(tx, &target.username, AccountStatus::Revoked)?;
        log(tx, actor, action::ACCOUNT_REVOKE, &row, json!({}), &source)?;
        Ok(row)
    })
    .await
}

/// Corrects an account's role, country or instruments (Secretariat and admin; admin accounts
/// and the admin role are for admins). Absent fields stay as they are. The change is logged
/// with the values before and after.
#[utoipa::path(patch, path = "/v1/admin/accounts/{username}", tag = "admin", security(("device_token" = [])),
    params(("username" = String, Path, description = "The account to correct")),
    request_body = s::AccountCorrection,
    responses(
        (status = 200, description = "The corrected account", body = s::Account),
        (status = 400, description = "`bad_json`", body = s::ErrorBody),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 403, description = "`forbidden`", body = s::ErrorBody),
        (status = 404, description = "`no_such_account`", body = s::ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = s::ErrorBody),
        (status = 422, description = "`invalid_request`: a field breaks its rule (an NFP needs a country)", body = s::ErrorBody),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn correct_account(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    caller: Caller,
    Path(username): Path<String>,
    ApiJson(correction): ApiJson<AccountCorrection>,
) -> Result<Json<Account>> {
    let source = ip.to_string();
    act(&state, caller, username, move |tx, actor, target| {
        apply_correction(tx, actor, target, &correction, &source)
    })
    .await
}

/// Resets an account's password: every device of the account is signed out, and the answer
/// holds a one-time password to give the person, whose next sign-in must set a new password
/// (answered 403 `password_change_required` until it does).
#[utoipa::path(post, path = "/v1/admin/accounts/{username}/reset-password", tag = "admin", security(("device_token" = [])),
    params(("username" = String, Path, description = "The account whose password is reset")),
    responses(
        (status = 200, description = "The one-time password", body = s::PasswordReset),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 403, description = "`forbidden`", body = s::ErrorBody),
        (status = 404, description = "`no_such_account`", body = s::ErrorBody),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn reset_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<PasswordReset>> {
    let temporary = password_reset::temporary_password()?;
    let hash = state.passwords.hash_async(temporary.clone()).await?;
    let source = ip.to_string();
    let _account = act(&state, caller, username, move |tx, actor, target| {
        authorize(actor, Action::ResetPassword { target })?;
        let revoked = password_reset::apply(tx, target, &hash)?;
        log(
            tx,
            actor,
            action::ACCOUNT_RESET_PASSWORD,
            target,
            json!({"devices_signed_out": revoked}),
            &source,
        )?;
        Ok(target.clone())
    })
    .await?;
    Ok(Json(PasswordReset {
        temporary_password: temporary,
    }))
}

/// Runs `f` on the target account in one IMMEDIATE transaction, after checking the caller
/// may see accounts at all (so nobody else learns whether one exists).
async fn act<F>(state: &AppState, caller: Caller, username: String, f: F) -> Result<Json<Account>>
where
    F: FnOnce(&Connection, &AccountRow, &AccountRow) -> Result<AccountRow> + Send + 'static,
{
    let actor = caller.account;
    authorize(&actor, Action::ListAccounts)?;
    let row = state
        .db
        .write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let target = store::get(&tx, &username)?;
            let row = f(&tx, &actor, &target)?;
            tx.commit()?;
            Ok(row)
        })
        .await?;
    Ok(Json(row.to_account()))
}

/// Checks and applies a correction (nothing when it is empty), republishes the directory
/// card of an approved account, and logs before and after.
pub(crate) fn apply_correction(
    tx: &Connection,
    actor: &AccountRow,
    target: &AccountRow,
    c: &AccountCorrection,
    source: &str,
) -> Result<AccountRow> {
    let correction = Correction {
        role: c.role,
        country: c.country.clone().map(Some),
        instruments: c.instruments.clone(),
    };
    if correction.is_empty() {
        return Ok(target.clone());
    }
    authorize(
        actor,
        Action::CorrectAccount {
            target,
            new_role: c.role,
        },
    )?;
    let row = store::correct(tx, &target.username, &correction)?;
    if row.status == AccountStatus::Approved {
        directory::publish_card(tx, &row)?;
    }
    log(
        tx,
        actor,
        action::ACCOUNT_CORRECT,
        &row,
        json!({
            "before": {"role": store::role_name(target.role), "country": target.country, "instruments": target.instruments},
            "after": {"role": store::role_name(row.role), "country": row.country, "instruments": row.instruments},
        }),
        source,
    )?;
    Ok(row)
}

pub(crate) fn log(
    tx: &Connection,
    actor: &AccountRow,
    action: &'static str,
    target: &AccountRow,
    detail: serde_json::Value,
    source: &str,
) -> Result<()> {
    audit::record(
        tx,
        &audit::Entry {
            actor: &actor.username,
            action,
            target: Some(&target.username),
            detail,
            source,
        },
    )
}
