//! `ecommunity user add|approve|revoke|list`

use stopover_protocol::{AccountStatus, Role};

use super::args::{RoleArg, UserAdd, UserList, UserTarget};
use crate::accounts::{NewAccount, store, validate};
use crate::auth::Passwords;
use crate::error::{Error, Result};
use crate::forum::directory;

pub fn add(a: UserAdd) -> Result<()> {
    let role = match a.role {
        RoleArg::Nfp => Role::Nfp,
        RoleArg::Secretariat => Role::Secretariat,
        RoleArg::Admin => Role::Admin,
    };
    let instruments: Vec<String> = a
        .instruments
        .iter()
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty())
        .collect();
    check_new(&a, role, &instruments).map_err(Error::Usage)?;
    let password_hash = Passwords::default().hash(&a.password)?;
    let mut conn = a.data.open()?;
    let tx = conn.transaction()?;
    let row = store::insert(
        &tx,
        &NewAccount {
            username: a.username,
            password_hash,
            display_name: a.display_name,
            email: a.email,
            role,
            country: a.country,
            instruments,
            status: AccountStatus::Approved,
        },
    )?;
    // Approved from the start: into the directory.
    directory::publish_card(&tx, &row)?;
    tx.commit()?;
    println!(
        "added {} ({}{})",
        row.username,
        store::role_name(row.role),
        row.country.map(|c| format!(", {c}")).unwrap_or_default()
    );
    Ok(())
}

fn check_new(a: &UserAdd, role: Role, instruments: &[String]) -> Result<(), String> {
    validate::username(&a.username)?;
    validate::password(&a.password)?;
    validate::display_name(&a.display_name)?;
    validate::email(&a.email)?;
    validate::instruments(instruments)?;
    match (&a.country, role) {
        (Some(c), _) => validate::country(c),
        (None, Role::Nfp) => Err("an nfp account needs --country (e.g. --country KE)".into()),
        (None, _) => Ok(()),
    }
}

pub fn approve(t: UserTarget) -> Result<()> {
    let mut conn = t.data.open()?;
    let tx = conn.transaction()?;
    let row = store::set_status(&tx, &t.username, AccountStatus::Approved)?;
    directory::publish_card(&tx, &row)?;
    tx.commit()?;
    println!("approved {}", row.username);
    Ok(())
}

/// The account's directory card stays (see `forum::directory`).
pub fn revoke(t: UserTarget) -> Result<()> {
    let mut conn = t.data.open()?;
    let tx = conn.transaction()?;
    let row = store::set_status(&tx, &t.username, AccountStatus::Revoked)?;
    tx.commit()?;
    println!("revoked {} and all its device tokens", row.username);
    Ok(())
}

pub fn list(l: UserList) -> Result<()> {
    let rows = store::list(&l.data.open()?)?;
    if l.json {
        let accounts: Vec<_> = rows.iter().map(|r| r.to_account()).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&accounts).map_err(|e| Error::Corrupt(e.to_string()))?
        );
        return Ok(());
    }
    println!(
        "{:<24} {:<12} {:<8} {:<9} display name",
        "username", "role", "country", "status"
    );
    for r in rows {
        println!(
            "{:<24} {:<12} {:<8} {:<9} {}",
            r.username,
            store::role_name(r.role),
            r.country.as_deref().unwrap_or("-"),
            store::status_name(r.status),
            r.display_name
        );
    }
    Ok(())
}
