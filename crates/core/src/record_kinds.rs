//! Where each record kind lives on this device: every domain lists its kinds beside its
//! tables, and this joins the lists. Adding a kind is adding it to its domain's list; the
//! test below fails for a kind of the protocol that has no home here.

use stopover_protocol::RecordKind;

use crate::sync::kinds::{KindFns, LocalKind};
use crate::{forum, reports, user};

static DOMAINS: [&[KindFns]; 4] = [
    user::checklists::KINDS,
    reports::kinds::KINDS,
    forum::kinds::KINDS,
    user::feedback::KINDS,
];

pub(crate) fn local(kind: RecordKind) -> &'static dyn LocalKind {
    DOMAINS
        .iter()
        .flat_map(|kinds| kinds.iter())
        .find(|k| k.kind == kind)
        // `every_kind_has_one_home` below proves each kind of the protocol is listed.
        .unwrap_or_else(|| unreachable!("record kind {kind:?} is listed in no domain"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_home() {
        for kind in RecordKind::ALL {
            let homes = DOMAINS
                .iter()
                .flat_map(|k| k.iter())
                .filter(|k| k.kind == kind)
                .count();
            assert_eq!(homes, 1, "{kind:?} is listed in {homes} domains");
            assert_eq!(local(kind).kind(), kind);
        }
    }
}
