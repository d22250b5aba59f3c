//! The Secretariat's and admins' endpoints. The rules of who may do what live in
//! `auth::policy`; each handler checks them inside the same transaction that acts, so a
//! concurrent change cannot slip between check and act.

use axum::Json;
use axum::extract::{Path, State};
use rusqlite::TransactionBehavior;
use stopover_protocol::{Account, AccountStatus};

use crate::accounts::store;
use crate::auth::Caller;
use crate::auth::policy::{Action, authorize};
use crate::error::Result;
use crate::forum::directory;
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
/// admins only. The account's directory card (`profile` / `account`) goes into the
/// community feed.
#[utoipa::path(post, path = "/v1/admin/accounts/{username}/approve", tag = "admin", security(("device_token" = [])),
    params(("username" = String, Path, description = "The account to approve")),
    responses(
        (status = 200, description = "The approved account", body = s::Account),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 403, description = "`forbidden`", body = s::ErrorBody),
        (status = 404, description = "`no_such_account`", body = s::ErrorBody),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn approve_account(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<Account>> {
    set_status(state, caller, username, AccountStatus::Approved).await
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
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<Account>> {
    set_status(state, caller, username, AccountStatus::Revoked).await
}

async fn set_status(
    state: AppState,
    caller: Caller,
    username: String,
    status: AccountStatus,
) -> Result<Json<Account>> {
    let actor = caller.account;
    // Only those who may see accounts learn whether one exists (no 404 probing by NFPs).
    authorize(&actor, Action::ListAccounts)?;
    let row = state
        .db
        .write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let target = store::get(&tx, &username)?;
            let action = match status {
                AccountStatus::Revoked => Action::RevokeAccount { target: &target },
                _ => Action::ApproveAccount { target: &target },
            };
            authorize(&actor, action)?;
            let row = store::set_status(&tx, &username, status)?;
            // An approved account joins the directory (a revoked one keeps its card).
            if status == AccountStatus::Approved {
                directory::publish_card(&tx, &row)?;
            }
            tx.commit()?;
            tracing::info!(by = %actor.username, username = %row.username, status = store::status_name(status), "account status set");
            Ok(row)
        })
        .await?;
    Ok(Json(row.to_account()))
}
