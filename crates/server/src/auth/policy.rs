//! Every authorization rule of the server, in one place. Handlers name the [`Action`] they
//! are about to take and call [`authorize`] before touching anything.
//!
//! The country rule needs no check of its own because of how data is keyed: every synced
//! record belongs to exactly one account or one country ([`sync_scope`]), and a caller's
//! scope holds only their own account and, for an NFP, their own country — so nobody can
//! read or change another NFP's records or another country's report.

use stopover_protocol::{AccountStatus, RecordKind, Role, Scope};

use crate::accounts::AccountRow;
use crate::error::{Error, Result};

pub enum Action<'a> {
    /// Push to or pull from the caller's own sync scope.
    Sync,
    /// Upload attachments to, and download them from, the caller's own sync scope.
    Attachments,
    /// Read the published content packs (the same for everyone).
    ReadPacks,
    /// See every account, pending ones included.
    ListAccounts,
    ApproveAccount {
        target: &'a AccountRow,
    },
    RevokeAccount {
        target: &'a AccountRow,
    },
    /// Correct an account's role, country or instruments (at approval or later).
    CorrectAccount {
        target: &'a AccountRow,
        new_role: Option<Role>,
    },
    /// Reset an account's password: its devices are signed out and the next sign-in must
    /// choose a new one.
    ResetPassword {
        target: &'a AccountRow,
    },
    /// Submit the country's national report of a form for this instrument (e.g. `CMS`).
    SubmitReport {
        instrument: &'a str,
    },
}

fn is_staff(role: Role) -> bool {
    matches!(role, Role::Secretariat | Role::Admin)
}

/// Hiding forum posts and locking threads: the Secretariat and admins. (Every other forum
/// rule — only the author edits a post, only the owner shares their contact details — is
/// about whose record it is, and lives with the records in `forum`.)
pub fn may_moderate(role: Role) -> bool {
    is_staff(role)
}

/// `caller` is an approved account (the `Caller` extractor guarantees it).
pub fn authorize(caller: &AccountRow, action: Action<'_>) -> Result<()> {
    let allowed = match action {
        Action::Sync | Action::Attachments | Action::ReadPacks => true,
        Action::ListAccounts => is_staff(caller.role),
        // The Secretariat approves requests; lifting a revocation is an admin's call, since
        // only an admin may revoke.
        Action::ApproveAccount { target } => match target.status {
            AccountStatus::Revoked => caller.role == Role::Admin,
            AccountStatus::Pending | AccountStatus::Approved => is_staff(caller.role),
        },
        // The focal point of that instrument for the country; colleagues the report is
        // delegated to edit sections but do not submit.
        Action::SubmitReport { instrument } => {
            if caller.role != Role::Nfp || caller.country.is_none() {
                return Err(Error::Forbidden(
                    "only a country's NFP submits its national report".into(),
                ));
            }
            if !caller
                .instruments
                .iter()
                .any(|i| i.eq_ignore_ascii_case(instrument))
            {
                return Err(Error::Forbidden(format!(
                    "your account is not the NFP for {instrument}, so it cannot submit this report; the Secretariat can add {instrument} to your account"
                )));
            }
            true
        }
        // The Secretariat corrects NFP and Secretariat accounts; admin accounts, and making
        // anyone an admin, are for admins.
        Action::CorrectAccount { target, new_role } => {
            let touches_admin = target.role == Role::Admin || new_role == Some(Role::Admin);
            if touches_admin {
                caller.role == Role::Admin
            } else {
                is_staff(caller.role)
            }
        }
        Action::ResetPassword { target } => {
            if target.id == caller.id {
                return Err(Error::Forbidden(
                    "change your own password with POST /v1/me/password".into(),
                ));
            }
            if target.role == Role::Admin {
                caller.role == Role::Admin
            } else {
                is_staff(caller.role)
            }
        }
        Action::RevokeAccount { target } => {
            if target.id == caller.id && caller.role == Role::Admin {
                return Err(Error::Forbidden(
                    "an admin cannot revoke their own account".into(),
                ));
            }
            caller.role == Role::Admin
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::Forbidden("your role does not allow this".into()))
    }
}

/// The scope key of the records every approved account reads (forum, directory, events).
pub const COMMUNITY_KEY: &str = "community";

/// Where a caller's synced records live: their own account's, and for an NFP their country's
/// (the national report they share with colleagues).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncScope {
    pub account_id: i64,
    pub country: Option<String>,
    /// The device making the request, when known: the changes it pushes are marked with it,
    /// and its pulls leave them out (it holds them already).
    pub device: Option<String>,
}

impl SyncScope {
    /// The stored scope key of records of `kind`, or `None` when the caller has no such scope
    /// (Secretariat and admin accounts have no country, hence no national report).
    pub fn key_for(&self, kind: RecordKind) -> Option<String> {
        match kind.scope() {
            Scope::Account => Some(self.account_key()),
            Scope::Country => self.country.as_ref().map(|c| format!("country:{c}")),
            Scope::Community => Some(COMMUNITY_KEY.into()),
        }
    }

    pub fn account_key(&self) -> String {
        format!("account:{}", self.account_id)
    }

    /// The same scope, as seen from one of the account's devices.
    pub fn on_device(self, device_id: &str) -> SyncScope {
        SyncScope {
            device: Some(device_id.to_string()),
            ..self
        }
    }
}

/// The scope a caller's push changes and pull reads: always their own.
pub fn sync_scope(caller: &AccountRow) -> SyncScope {
    SyncScope {
        account_id: caller.id,
        country: (caller.role == Role::Nfp)
            .then(|| caller.country.clone())
            .flatten(),
        device: None,
    }
}

/// The account whose attachments an upload joins and a download comes from: the caller's own.
pub fn attachment_scope(caller: &AccountRow) -> i64 {
    caller.id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: i64, role: Role, status: AccountStatus) -> AccountRow {
        AccountRow {
            id,
            username: format!("user{id}"),
            password_hash: String::new(),
            display_name: String::new(),
            email: String::new(),
            role,
            country: (role == Role::Nfp).then(|| "KE".to_string()),
            instruments: vec![],
            status,
            must_change_password: false,
        }
    }

    #[test]
    fn the_matrix() {
        use AccountStatus::*;
        let nfp = account(1, Role::Nfp, Approved);
        let sec = account(2, Role::Secretariat, Approved);
        let admin = account(3, Role::Admin, Approved);
        let pending = account(4, Role::Nfp, Pending);
        let revoked = account(5, Role::Nfp, Revoked);
        let ok = |c: &AccountRow, a: Action| authorize(c, a).is_ok();

        for c in [&nfp, &sec, &admin] {
            assert!(ok(c, Action::Sync));
            assert!(ok(c, Action::Attachments));
            assert!(ok(c, Action::ReadPacks));
        }
        assert!(!ok(&nfp, Action::ListAccounts));
        assert!(ok(&sec, Action::ListAccounts));
        assert!(ok(&admin, Action::ListAccounts));

        assert!(!ok(&nfp, Action::ApproveAccount { target: &pending }));
        assert!(ok(&sec, Action::ApproveAccount { target: &pending }));
        assert!(ok(&admin, Action::ApproveAccount { target: &pending }));
        assert!(!ok(&sec, Action::ApproveAccount { target: &revoked }));
        assert!(ok(&admin, Action::ApproveAccount { target: &revoked }));

        assert!(!ok(&nfp, Action::RevokeAccount { target: &pending }));
        assert!(!ok(&sec, Action::RevokeAccount { target: &nfp }));
        assert!(ok(&admin, Action::RevokeAccount { target: &nfp }));
        assert!(ok(&admin, Action::RevokeAccount { target: &sec }));
        assert!(!ok(&admin, Action::RevokeAccount { target: &admin }));

        let correct = |c: &AccountRow, t: &AccountRow, r: Option<Role>| {
            ok(
                c,
                Action::CorrectAccount {
                    target: t,
                    new_role: r,
                },
            )
        };
        assert!(!correct(&nfp, &pending, None));
        assert!(correct(&sec, &pending, None));
        assert!(correct(&sec, &pending, Some(Role::Secretariat)));
        assert!(!correct(&sec, &pending, Some(Role::Admin)));
        assert!(!correct(&sec, &admin, Some(Role::Nfp)));
        assert!(correct(&admin, &pending, Some(Role::Admin)));
        let reset = |c: &AccountRow, t: &AccountRow| ok(c, Action::ResetPassword { target: t });
        assert!(!reset(&nfp, &pending));
        assert!(reset(&sec, &nfp));
        assert!(!reset(&sec, &admin));
        assert!(reset(&admin, &sec));
        assert!(
            !reset(&sec, &sec),
            "not one's own: that is a password change"
        );

        assert!(!may_moderate(nfp.role));
        assert!(may_moderate(sec.role));
        assert!(may_moderate(admin.role));
    }

    #[test]
    fn each_account_is_its_own_scope() {
        let a = account(1, Role::Nfp, AccountStatus::Approved);
        let b = account(2, Role::Nfp, AccountStatus::Approved); // same country
        assert_ne!(sync_scope(&a), sync_scope(&b));
        let report = RecordKind::ReportAnswer;
        assert_eq!(
            sync_scope(&a).key_for(report),
            sync_scope(&b).key_for(report)
        );
        assert_eq!(
            sync_scope(&a).key_for(report).as_deref(),
            Some("country:KE")
        );
        let sec = account(3, Role::Secretariat, AccountStatus::Approved);
        assert_eq!(sync_scope(&sec).key_for(report), None);
    }

    #[test]
    fn only_the_instruments_nfp_submits() {
        let mut nfp = account(1, Role::Nfp, AccountStatus::Approved);
        nfp.instruments = vec!["CMS".into()];
        let submit = |c: &AccountRow, i: &str| authorize(c, Action::SubmitReport { instrument: i });
        assert!(submit(&nfp, "CMS").is_ok());
        assert!(submit(&nfp, "cms").is_ok());
        let e = submit(&nfp, "AEWA").unwrap_err().to_string();
        assert!(e.contains("not the NFP for AEWA"), "{e}");
        let sec = account(2, Role::Secretariat, AccountStatus::Approved);
        assert!(submit(&sec, "CMS").is_err());
    }
}
