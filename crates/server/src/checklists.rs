//! Checklist progress on the server: a person's ticks and notes, synced across their own
//! devices. Nothing beyond the shape and version checks applies.

use stopover_protocol::RecordKind;

use crate::records::KindRules;

pub static KINDS: &[KindRules] = &[KindRules::plain(RecordKind::ChecklistProgress)];
