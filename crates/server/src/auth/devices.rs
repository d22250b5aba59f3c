//! Signed-in devices: one row per device token, looked up by the token's hash.

use rusqlite::{Connection, OptionalExtension, params};

use crate::accounts::AccountRow;
use crate::accounts::store::{columns, from_row};
use crate::db::unix_now;
use crate::error::{Error, Result};

#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceRow {
    pub id: String,
    pub username: String,
    pub name: String,
    pub created_at: i64,
    pub revoked: bool,
}

pub fn insert(
    conn: &Connection,
    device_id: &str,
    account_id: i64,
    name: &str,
    token_hash: &[u8; 32],
) -> Result<()> {
    conn.execute(
        "INSERT INTO device (id, account_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![device_id, account_id, name, token_hash.as_slice(), unix_now()],
    )?;
    Ok(())
}

/// A device found by its token hash, with its account.
pub struct TokenOwner {
    pub device_id: String,
    pub revoked: bool,
    pub account: AccountRow,
}

impl TokenOwner {
    /// The device is still signed in and its account approved: what a token, a sync file and
    /// a relay grant all need before anything else.
    pub fn check_in_good_standing(&self) -> Result<()> {
        if self.revoked {
            return Err(Error::TokenRevoked);
        }
        match self.account.status {
            stopover_protocol::AccountStatus::Approved => Ok(()),
            stopover_protocol::AccountStatus::Revoked => Err(Error::AccountRevokedToken),
            stopover_protocol::AccountStatus::Pending => Err(Error::AccountPending),
        }
    }
}

pub fn find_by_token(conn: &Connection, token_hash: &[u8; 32]) -> Result<Option<TokenOwner>> {
    find_by(conn, "token_hash", token_hash)
}

/// The device whose `column` (a unique key of `device`) holds `key`, with its account.
fn find_by(conn: &Connection, column: &str, key: &[u8; 32]) -> Result<Option<TokenOwner>> {
    let sql = format!(
        "SELECT d.id, d.revoked_at IS NOT NULL, {} FROM device d JOIN account a ON a.id = d.account_id WHERE d.{column} = ?1",
        columns("a")
    );
    let found = conn
        .query_row(&sql, [key.as_slice()], |row| {
            let device_id: String = row.get(0)?;
            let revoked: bool = row.get(1)?;
            Ok(from_row(row, 2).map(|account| TokenOwner {
                device_id,
                revoked,
                account,
            }))
        })
        .optional()?;
    found.transpose()
}

/// Registers the public key a device signs its sync files with (the same key again is fine).
pub fn set_file_key(conn: &Connection, device_id: &str, key: &[u8; 32]) -> Result<()> {
    conn.execute(
        "UPDATE device SET file_key = ?1 WHERE id = ?2",
        params![key.as_slice(), device_id],
    )?;
    Ok(())
}

/// The device whose sync files `key` signs, with its account.
pub fn find_by_file_key(conn: &Connection, key: &[u8; 32]) -> Result<Option<TokenOwner>> {
    find_by(conn, "file_key", key)
}

/// Revokes one device. Revoking a revoked device is fine; an unknown id is an error.
pub fn revoke(conn: &Connection, device_id: &str) -> Result<()> {
    let changed = conn.execute(
        "UPDATE device SET revoked_at = coalesce(revoked_at, ?1) WHERE id = ?2",
        params![unix_now(), device_id],
    )?;
    if changed == 0 {
        return Err(Error::NoSuchDevice(device_id.to_string()));
    }
    Ok(())
}

pub fn revoke_all(conn: &Connection, account_id: i64) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE device SET revoked_at = ?1 WHERE account_id = ?2 AND revoked_at IS NULL",
        params![unix_now(), account_id],
    )?)
}

/// Devices, newest first, optionally of one account (for the admin CLI).
pub fn list(conn: &Connection, username: Option<&str>) -> Result<Vec<DeviceRow>> {
    let mut stmt = conn.prepare(
        "SELECT d.id, a.username, d.name, d.created_at, d.revoked_at IS NOT NULL
         FROM device d JOIN account a ON a.id = d.account_id
         WHERE ?1 IS NULL OR a.username = ?1
         ORDER BY d.created_at DESC, d.id",
    )?;
    let rows = stmt.query_map([username], |row| {
        Ok(DeviceRow {
            id: row.get(0)?,
            username: row.get(1)?,
            name: row.get(2)?,
            created_at: row.get(3)?,
            revoked: row.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::store::{insert as insert_account, set_status, tests::new_account};
    use crate::auth::token;
    use stopover_protocol::{AccountStatus, Role};

    #[test]
    fn lookup_revoke_and_revoke_with_the_account() {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::db::open(dir.path()).unwrap();
        let acc = insert_account(
            &c,
            &new_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved),
        )
        .unwrap();
        let t1 = token::generate().unwrap();
        let t2 = token::generate().unwrap();
        insert(&c, "d1", acc.id, "laptop", &t1.hash).unwrap();
        insert(&c, "d2", acc.id, "phone", &t2.hash).unwrap();

        let owner = find_by_token(&c, &t1.hash).unwrap().unwrap();
        assert_eq!(
            (
                owner.device_id.as_str(),
                owner.revoked,
                owner.account.username.as_str()
            ),
            ("d1", false, "amina")
        );
        assert!(
            find_by_token(&c, &token::hash("made up"))
                .unwrap()
                .is_none()
        );

        revoke(&c, "d1").unwrap();
        assert!(find_by_token(&c, &t1.hash).unwrap().unwrap().revoked);
        assert!(!find_by_token(&c, &t2.hash).unwrap().unwrap().revoked);
        assert!(matches!(revoke(&c, "nope"), Err(Error::NoSuchDevice(_))));

        set_status(&c, "amina", AccountStatus::Revoked).unwrap();
        assert!(find_by_token(&c, &t2.hash).unwrap().unwrap().revoked);
        assert_eq!(list(&c, Some("amina")).unwrap().len(), 2);
        assert!(list(&c, Some("other")).unwrap().is_empty());
    }
}
