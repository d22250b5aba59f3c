//! The national report's record kinds: answers and section assignments follow the report's
//! rules ([`super::refusal`]: closed once submitted, delegation enforced); the receipt is the
//! server's own (the shape check refuses it from clients).

use rusqlite::Connection;
use stopover_protocol::{Operation, RecordKind, Refusal};

use super::refusal;
use crate::auth::policy::SyncScope;
use crate::error::Result;
use crate::records::KindRules;

pub struct ReportAnswer;
pub struct ReportAssignment;
pub struct ReportSubmission;

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
        refusal(conn, scope, RecordKind::ReportAnswer, op)
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
        refusal(conn, scope, RecordKind::ReportAssignment, op)
    }
}

impl KindRules for ReportSubmission {
    fn kind(&self) -> RecordKind {
        RecordKind::ReportSubmission
    }
}
