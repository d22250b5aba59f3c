//! The one place a record kind is registered on this device: which module holds it. The
//! match is exhaustive, so a kind the protocol adds does not compile until it has a home.

use stopover_protocol::RecordKind;

use crate::sync::kinds::LocalKind;
use crate::{forum, reports, user};

pub(crate) fn local(kind: RecordKind) -> &'static dyn LocalKind {
    match kind {
        RecordKind::ChecklistProgress => &user::checklists::ChecklistProgress,
        RecordKind::ReportAnswer => &reports::kinds::ReportAnswer,
        RecordKind::ReportAssignment => &reports::kinds::ReportAssignment,
        RecordKind::ReportSubmission => &reports::kinds::ReportSubmission,
        RecordKind::ForumCategory => &forum::kinds::ForumCategory,
        RecordKind::ForumPost => &forum::kinds::ForumPost,
        RecordKind::ForumThread => &forum::kinds::ForumThread,
        RecordKind::Profile => &forum::kinds::Profile,
        RecordKind::Event => &forum::kinds::Event,
        RecordKind::EventRegistration => &forum::kinds::EventRegistration,
        RecordKind::Feedback => &user::feedback::FeedbackKind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_home() {
        for kind in RecordKind::ALL {
            assert_eq!(local(kind).kind(), kind);
        }
    }
}
