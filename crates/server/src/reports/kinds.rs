//! The national report's record kinds: answers and section assignments follow the report's
//! rules ([`super::refusal`]: closed once submitted, delegation enforced); the receipt is the
//! server's own (the shape check refuses it from clients).

use rusqlite::Connection;
use stopover_protocol::{Operation, RecordKind, Refusal};

use super::refusal;
use crate::auth::policy::SyncScope;
use crate::error::Result;
use crate::records::{KindRules, nothing_after};

pub static KINDS: &[KindRules] = &[
    KindRules {
        kind: RecordKind::ReportAnswer,
        refuse: answer_refusal,
        after_apply: nothing_after,
    },
    KindRules {
        kind: RecordKind::ReportAssignment,
        refuse: assignment_refusal,
        after_apply: nothing_after,
    },
    KindRules::plain(RecordKind::ReportSubmission),
];

fn answer_refusal(conn: &Connection, scope: &SyncScope, op: &Operation) -> Result<Option<Refusal>> {
    refusal(conn, scope, RecordKind::ReportAnswer, op)
}

fn assignment_refusal(
    conn: &Connection,
    scope: &SyncScope,
    op: &Operation,
) -> Result<Option<Refusal>> {
    refusal(conn, scope, RecordKind::ReportAssignment, op)
}
