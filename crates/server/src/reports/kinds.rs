//! The national report's record kinds and their rules: nothing changes once the report is
//! submitted; sections are given (or taken back) only by one of the country's focal points (an
//! account covering at least one instrument; colleagues the report is delegated to cover none),
//! and only to an approved account of the same country. The receipt is the server's own.

use rusqlite::Connection;
use serde_json::Value;
use stopover_protocol::{AccountStatus, Operation, RecordKind, Refusal, RefusalCode};

use super::receipt;
use crate::accounts::store as accounts;
use crate::auth::policy::SyncScope;
use crate::error::Result;
use crate::records::KindRules;

pub struct ReportAnswer;
pub struct ReportAssignment;
pub struct ReportSubmission;

/// The report was submitted: no record of it changes any more.
fn submitted_refusal(
    conn: &Connection,
    scope: &SyncScope,
    op: &Operation,
) -> Result<Option<Refusal>> {
    let Some(country) = scope.country.as_deref() else {
        return Ok(None); // refused earlier: no country, no report
    };
    let Some((form_id, cycle)) = op.entity.id.split_once('/') else {
        return Ok(None); // refused earlier by the shape check
    };
    Ok(receipt(conn, country, form_id, cycle)?.map(|receipt| {
        Refusal::new(
            RefusalCode::ReportSubmitted,
            format!(
                "the {form_id} report for {cycle} was submitted on {} by {}; it can no longer change",
                receipt.submitted_at, receipt.submitted_by
            ),
        )
        .with("submitted_at", receipt.submitted_at)
        .with("submitted_by", receipt.submitted_by)
    }))
}

impl KindRules for ReportAnswer {
    fn kind(&self) -> RecordKind {
        RecordKind::ReportAnswer
    }

    fn refusal(
        &self,
        conn: &Connection,
        scope: &SyncScope,
        op: &Operation,
    ) -> Result<Option<Refusal>> {
        submitted_refusal(conn, scope, op)
    }
}

impl KindRules for ReportAssignment {
    fn kind(&self) -> RecordKind {
        RecordKind::ReportAssignment
    }

    fn refusal(
        &self,
        conn: &Connection,
        scope: &SyncScope,
        op: &Operation,
    ) -> Result<Option<Refusal>> {
        if let Some(refusal) = submitted_refusal(conn, scope, op)? {
            return Ok(Some(refusal));
        }
        let Some(country) = scope.country.as_deref() else {
            return Ok(None); // refused earlier: no country, no report
        };
        if accounts::get_by_id(conn, scope.account_id)?
            .instruments
            .is_empty()
        {
            return Ok(Some(Refusal::new(
                RefusalCode::NotFocalPoint,
                "only your country's focal point gives sections of the report to colleagues",
            )));
        }
        if let Value::String(username) = &op.value {
            let colleague = accounts::find(conn, username)?;
            let same_country = colleague.as_ref().is_some_and(|a| {
                a.status == AccountStatus::Approved && a.country.as_deref() == Some(country)
            });
            if !same_country {
                return Ok(Some(
                    Refusal::new(
                        RefusalCode::NotAColleague,
                        format!(
                            "`{username}` is not an approved account of {country}: a section can only be given to a colleague of the same country"
                        ),
                    )
                    .with("username", username.as_str())
                    .with("country", country),
                ));
            }
        }
        Ok(None)
    }
}

impl KindRules for ReportSubmission {
    fn kind(&self) -> RecordKind {
        RecordKind::ReportSubmission
    }
}
