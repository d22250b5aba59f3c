//! Every authorization rule of the server, in one place. Handlers name the [`Action`] they
//! are about to take and call [`authorize`] before touching anything.
//!
//! The country rule needs no check of its own because of how data is keyed: every synced
//! record belongs to exactly one account ([`sync_scope`]), so an NFP can only ever read or
//! change their own records — never another NFP's, of their own country or any other.

use stopover_protocol::{AccountStatus, Role};

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
}

fn is_staff(role: Role) -> bool {
    matches!(role, Role::Secretariat | Role::Admin)
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

/// The account whose records a caller's push changes and pull reads, and whose attachments
/// an upload joins and a download comes from: always their own.
pub fn sync_scope(caller: &AccountRow) -> i64 {
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
    }

    #[test]
    fn each_account_is_its_own_scope() {
        let a = account(1, Role::Nfp, AccountStatus::Approved);
        let b = account(2, Role::Nfp, AccountStatus::Approved); // same country
        assert_ne!(sync_scope(&a), sync_scope(&b));
    }
}
