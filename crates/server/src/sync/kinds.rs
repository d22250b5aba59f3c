//! Where each record kind's rules live: every domain lists its kinds beside its tables, and
//! this joins the lists. Adding a kind is adding it to its domain's list; the test below fails
//! for a kind of the protocol without rules.

use stopover_protocol::RecordKind;

use crate::records::KindRules;
use crate::{checklists, forum, monitoring, reports};

static DOMAINS: [&[KindRules]; 4] = [
    checklists::KINDS,
    reports::kinds::KINDS,
    forum::kinds::KINDS,
    monitoring::feedback::KINDS,
];

/// The rules of `kind`.
pub fn rules(kind: RecordKind) -> &'static KindRules {
    DOMAINS
        .iter()
        .flat_map(|kinds| kinds.iter())
        .find(|k| k.kind == kind)
        // `every_kind_has_its_own_rules` below proves each kind of the protocol is listed.
        .unwrap_or_else(|| unreachable!("record kind {kind:?} has no rules"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_rules() {
        for kind in RecordKind::ALL {
            let listed = DOMAINS
                .iter()
                .flat_map(|k| k.iter())
                .filter(|k| k.kind == kind)
                .count();
            assert_eq!(listed, 1, "{kind:?} has rules in {listed} domains");
            assert_eq!(rules(kind).kind, kind);
        }
    }
}
