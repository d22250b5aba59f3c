//! Checklist progress on the server: a person's ticks and notes, synced across their own
//! devices. Nothing beyond the shape and version checks applies.

use stopover_protocol::RecordKind;

use crate::records::KindRules;

pub struct ChecklistProgress;

impl KindRules for ChecklistProgress {
    fn kind(&self) -> RecordKind {
        RecordKind::ChecklistProgress
    }
}
