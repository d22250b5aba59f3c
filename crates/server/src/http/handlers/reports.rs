//! National reports: submission by the country's NFP, with a receipt.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use rusqlite::TransactionBehavior;
use stopover_protocol::reports::{SubmissionReceipt, SubmitReport};

use crate::auth::Caller;
use crate::error::Result;
use crate::http::json::ApiJson;
use crate::http::openapi::schemas as s;
use crate::reports;
use crate::state::AppState;

/// Submits the caller's country's report as the server holds it. The submitted version is
/// immutable: later edits of the report are rejected, and a retry with the same digest gets
/// the same receipt.
#[utoipa::path(post, path = "/v1/reports/submissions", tag = "reports", security(("device_token" = [])), request_body = s::SubmitReport,
    responses(
        (status = 201, description = "Submitted (or a retry of a submission that went through): the receipt", body = s::SubmissionReceipt),
        (status = 400, description = "`bad_json`, `unsupported_protocol`", body = s::ErrorBody),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 403, description = "`forbidden`: not the country's NFP for the form's instrument", body = s::ErrorBody),
        (status = 409, description = "`already_submitted`, or `answers_differ`: the server's copy is not what the submitter saw (sync first), or `attachments_missing`: a file an answer names has not been uploaded yet (`files`)", body = s::ErrorBody),
        (status = 422, description = "`invalid_request`, `unknown_form`, `report_incomplete`: required answers missing or not valid", body = s::ErrorBody),
        (status = 500, description = "`internal`", body = s::ErrorBody),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SubmitReport>,
) -> Result<(StatusCode, Json<SubmissionReceipt>)> {
    let packs_dir = state.storage.packs_dir();
    let receipt = state
        .db
        .write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let receipt = reports::submit(&tx, &packs_dir, &caller.account, &req)?;
            tx.commit()?;
            Ok(receipt)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}
