//! Which rules belong to which record kind: the one place a new kind is registered (the match
//! is exhaustive, so a kind without rules does not compile). Each kind's rules live with its
//! domain.

use stopover_protocol::RecordKind;

use crate::records::KindRules;
use crate::{checklists, forum, monitoring, reports};

/// The rules of `kind`.
pub fn rules(kind: RecordKind) -> &'static dyn KindRules {
    match kind {
        RecordKind::ChecklistProgress => &checklists::ChecklistProgress,
        RecordKind::ReportAnswer => &reports::kinds::ReportAnswer,
        RecordKind::ReportAssignment => &reports::kinds::ReportAssignment,
        RecordKind::ReportSubmission => &reports::kinds::ReportSubmission,
        RecordKind::ForumCategory => &forum::kinds::ForumCategory,
        RecordKind::ForumPost => &forum::kinds::ForumPost,
        RecordKind::ForumThread => &forum::kinds::ForumThread,
        RecordKind::Profile => &forum::kinds::Profile,
        RecordKind::Event => &forum::kinds::Event,
        RecordKind::EventRegistration => &forum::kinds::EventRegistration,
        RecordKind::Feedback => &monitoring::feedback::Feedback,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_rules() {
        for kind in RecordKind::ALL {
            assert_eq!(rules(kind).kind(), kind);
        }
    }
}
