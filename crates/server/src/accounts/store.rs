//! Account rows in SQLite. Functions take a `&Connection` so they run inside whatever
//! transaction the caller holds (a `Transaction` derefs to one).

use rusqlite::{Connection, OptionalExtension, Row, params};
use stopover_protocol::{Account, AccountStatus, Role};

use crate::db::unix_now;
use crate::error::{Error, Result};

/// An account as stored, including what never leaves the server (hash, email).
#[derive(Clone)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub country: Option<String>,
    pub instruments: Vec<String>,
    pub status: AccountStatus,
    /// Set by a Secretariat reset: the next sign-in must choose a new password.
    pub must_change_password: bool,
}

// Hand-written so the password hash never lands in a log through `{:?}`.
impl std::fmt::Debug for AccountRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRow")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("country", &self.country)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl AccountRow {
    /// What the account's owner and the Secretariat see.
    pub fn to_account(&self) -> Account {
        Account {
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            country: self.country.clone(),
            instruments: self.instruments.clone(),
            status: self.status,
        }
    }
}

/// A validated account to create; the password is already hashed.
pub struct NewAccount {
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub country: Option<String>,
    pub instruments: Vec<String>,
    pub status: AccountStatus,
}

pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Nfp => "nfp",
        Role::Secretariat => "secretariat",
        Role::Admin => "admin",
    }
}

pub fn role_from(s: &str) -> Result<Role> {
    match s {
        "nfp" => Ok(Role::Nfp),
        "secretariat" => Ok(Role::Secretariat),
        "admin" => Ok(Role::Admin),
        other => Err(Error::Corrupt(format!("unknown role `{other}`"))),
    }
}

pub fn status_name(s: AccountStatus) -> &'static str {
    match s {
        AccountStatus::Pending => "pending",
        AccountStatus::Approved => "approved",
        AccountStatus::Revoked => "revoked",
    }
}

fn status_from(s: &str) -> Result<AccountStatus> {
    match s {
        "pending" => Ok(AccountStatus::Pending),
        "approved" => Ok(AccountStatus::Approved),
        "revoked" => Ok(AccountStatus::Revoked),
        other => Err(Error::Corrupt(format!("unknown account status `{other}`"))),
    }
}

const COLUMNS: &str = "id, username, password_hash, display_name, email, role, country, instruments, status, must_change_password";

/// Reads a row selected with [`COLUMNS`] starting at column `at`.
pub(crate) fn from_row(row: &Row, at: usize) -> Result<AccountRow> {
    let role: String = row.get(at + 5)?;
    let instruments: String = row.get(at + 7)?;
    let status: String = row.get(at + 8)?;
    Ok(AccountRow {
        id: row.get(at)?,
        username: row.get(at + 1)?,
        password_hash: row.get(at + 2)?,
        display_name: row.get(at + 3)?,
        email: row.get(at + 4)?,
        role: role_from(&role)?,
        country: row.get(at + 6)?,
        instruments: serde_json::from_str(&instruments)?,
        status: status_from(&status)?,
        must_change_password: row.get(at + 9)?,
    })
}

/// The account columns prefixed with `alias.`, for joins.
pub(crate) fn columns(alias: &str) -> String {
    COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn insert(conn: &Connection, a: &NewAccount) -> Result<AccountRow> {
    let instruments =
        serde_json::to_string(&a.instruments).map_err(|e| Error::Corrupt(e.to_string()))?;
    let inserted = conn.execute(
        "INSERT INTO account (username, password_hash, display_name, email, role, country, instruments, status, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (username) DO NOTHING",
        params![
            a.username,
            a.password_hash,
            a.display_name.trim(),
            a.email,
            role_name(a.role),
            a.country,
            instruments,
            status_name(a.status),
            unix_now()
        ],
    )?;
    if inserted == 0 {
        return Err(Error::UsernameTaken(a.username.clone()));
    }
    find(conn, &a.username)?.ok_or_else(|| Error::Corrupt("account vanished after insert".into()))
}

pub fn find(conn: &Connection, username: &str) -> Result<Option<AccountRow>> {
    let sql = format!("SELECT {COLUMNS} FROM account WHERE username = ?1");
    let row = conn
        .query_row(&sql, [username], |row| Ok(from_row(row, 0)))
        .optional()?;
    row.transpose()
}

/// The account with this row id (the id a sync scope carries).
pub fn get_by_id(conn: &Connection, id: i64) -> Result<AccountRow> {
    let sql = format!("SELECT {COLUMNS} FROM account WHERE id = ?1");
    let row = conn
        .query_row(&sql, [id], |row| Ok(from_row(row, 0)))
        .optional()?;
    row.transpose()?
        .ok_or_else(|| Error::Corrupt(format!("no account with id {id}")))
}

pub fn get(conn: &Connection, username: &str) -> Result<AccountRow> {
    find(conn, username)?.ok_or_else(|| Error::NoSuchAccount(username.to_string()))
}

pub fn list(conn: &Connection) -> Result<Vec<AccountRow>> {
    let sql = format!("SELECT {COLUMNS} FROM account ORDER BY username");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |row| Ok(from_row(row, 0)))?;
    rows.map(|r| r?).collect()
}

/// Sets the status; revoking also revokes every device token of the account, in the same
/// statement batch (the caller's transaction makes it atomic).
pub fn set_status(conn: &Connection, username: &str, status: AccountStatus) -> Result<AccountRow> {
    let changed = conn.execute(
        "UPDATE account SET status = ?1 WHERE username = ?2",
        params![status_name(status), username],
    )?;
    if changed == 0 {
        return Err(Error::NoSuchAccount(username.to_string()));
    }
    let row = get(conn, username)?;
    if status == AccountStatus::Revoked {
        crate::auth::devices::revoke_all(conn, row.id)?;
    }
    Ok(row)
}

/// What the Secretariat may correct on an account (at approval or later); `None` keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Correction {
    pub role: Option<Role>,
    /// `Some(None)` clears the country (staff accounts only).
    pub country: Option<Option<String>>,
    pub instruments: Option<Vec<String>>,
}

impl Correction {
    pub fn is_empty(&self) -> bool {
        self.role.is_none() && self.country.is_none() && self.instruments.is_none()
    }

    /// The field rules, and an NFP always has a country. A sentence naming the field.
    pub fn check(&self, current: &AccountRow) -> Result<(), String> {
        if let Some(Some(c)) = &self.country {
            super::validate::country(c)?;
        }
        if let Some(list) = &self.instruments {
            super::validate::instruments(list)?;
        }
        let role = self.role.unwrap_or(current.role);
        let country = match &self.country {
            Some(c) => c.clone(),
            None => current.country.clone(),
        };
        if role == Role::Nfp && country.is_none() {
            return Err("country: an NFP account needs a country (e.g. KE)".into());
        }
        Ok(())
    }
}

/// Applies a checked [`Correction`]; returns the account as it now is.
pub fn correct(conn: &Connection, username: &str, c: &Correction) -> Result<AccountRow> {
    let current = get(conn, username)?;
    c.check(&current).map_err(Error::InvalidRequest)?;
    let role = c.role.unwrap_or(current.role);
    let country = match &c.country {
        Some(country) => country.clone(),
        None => current.country.clone(),
    };
    let instruments: Vec<String> = match &c.instruments {
        Some(list) => list.iter().map(|i| i.trim().to_string()).collect(),
        None => current.instruments.clone(),
    };
    let instruments_json =
        serde_json::to_string(&instruments).map_err(|e| Error::Corrupt(e.to_string()))?;
    conn.execute(
        "UPDATE account SET role = ?2, country = ?3, instruments = ?4 WHERE id = ?1",
        params![current.id, role_name(role), country, instruments_json],
    )?;
    get(conn, username)
}

/// Stores a new password hash; `must_change` forces another change at the next sign-in.
pub fn set_password(
    conn: &Connection,
    account_id: i64,
    hash: &str,
    must_change: bool,
) -> Result<()> {
    conn.execute(
        "UPDATE account SET password_hash = ?2, must_change_password = ?3 WHERE id = ?1",
        params![account_id, hash, must_change],
    )?;
    Ok(())
}

/// Accounts waiting for approval.
pub fn count_pending(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM account WHERE status = 'pending'",
        [],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// Deletes pending accounts requested before `cutoff` (unix seconds) that nothing refers to
/// (a pending account cannot sign in, so nothing does); returns their usernames.
pub fn expire_pending(conn: &Connection, cutoff: i64) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "DELETE FROM account WHERE status = 'pending' AND created_at < ?1
           AND NOT EXISTS (SELECT 1 FROM device d WHERE d.account_id = account.id)
           AND NOT EXISTS (SELECT 1 FROM change c WHERE c.account_id = account.id)
           AND NOT EXISTS (SELECT 1 FROM upload u WHERE u.account_id = account.id)
           AND NOT EXISTS (SELECT 1 FROM op_result o WHERE o.account_id = account.id)
         RETURNING username",
    )?;
    let names = stmt.query_map([cutoff], |r| r.get(0))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn new_account(
        username: &str,
        role: Role,
        country: Option<&str>,
        status: AccountStatus,
    ) -> NewAccount {
        NewAccount {
            username: username.into(),
            password_hash: "$argon2id$not-a-real-hash".into(),
            display_name: format!("{username} display"),
            email: format!("{username}@example.org"),
            role,
            country: country.map(Into::into),
            instruments: vec!["CMS".into()],
            status,
        }
    }

    fn conn() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::db::open(dir.path()).unwrap();
        (dir, c)
    }

    #[test]
    fn insert_find_list_round_trip() {
        let (_d, c) = conn();
        let row = insert(
            &c,
            &new_account("amina", Role::Nfp, Some("KE"), AccountStatus::Pending),
        )
        .unwrap();
        assert_eq!(row.to_account().country.as_deref(), Some("KE"));
        assert_eq!(row.instruments, vec!["CMS".to_string()]);
        assert_eq!(find(&c, "amina").unwrap().unwrap().id, row.id);
        assert!(find(&c, "nobody").unwrap().is_none());
        insert(
            &c,
            &new_account("boris", Role::Admin, None, AccountStatus::Approved),
        )
        .unwrap();
        let names: Vec<_> = list(&c).unwrap().into_iter().map(|a| a.username).collect();
        assert_eq!(names, ["amina", "boris"]);
    }

    #[test]
    fn duplicate_username_is_taken() {
        let (_d, c) = conn();
        insert(
            &c,
            &new_account("amina", Role::Nfp, Some("KE"), AccountStatus::Pending),
        )
        .unwrap();
        let again = insert(
            &c,
            &new_account("amina", Role::Nfp, Some("UG"), AccountStatus::Pending),
        );
        assert!(matches!(again, Err(Error::UsernameTaken(u)) if u == "amina"));
    }

    #[test]
    fn nfp_without_country_is_refused_by_the_schema() {
        let (_d, c) = conn();
        assert!(
            insert(
                &c,
                &new_account("amina", Role::Nfp, None, AccountStatus::Pending)
            )
            .is_err()
        );
    }

    #[test]
    fn debug_never_shows_the_hash() {
        let (_d, c) = conn();
        let row = insert(
            &c,
            &new_account("amina", Role::Nfp, Some("KE"), AccountStatus::Pending),
        )
        .unwrap();
        assert!(!format!("{row:?}").contains("argon2"));
    }
}
