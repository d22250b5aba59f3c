//! `ecommunity user add|approve|revoke|correct|reset-password|list`. Every change is written
//! to the audit log in its own transaction, as `cli:<system user>` from `local`.

use serde_json::json;
use stopover_protocol::{AccountStatus, Role};

use super::args::{RoleArg, UserAdd, UserApprove, UserList, UserTarget};
use super::audit_cli;
use crate::accounts::store::Correction;
use crate::accounts::{AccountRow, NewAccount, password_reset, store, validate};
use crate::audit::action;
use crate::auth::Passwords;
use crate::error::{Error, Result};
use crate::forum::directory;

fn role_of(r: RoleArg) -> Role {
    match r {
        RoleArg::Nfp => Role::Nfp,
        RoleArg::Secretariat => Role::Secretariat,
        RoleArg::Admin => Role::Admin,
    }
}

pub fn add(a: UserAdd) -> Result<()> {
    let role = role_of(a.role);
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
    audit_cli(
        &tx,
        action::ACCOUNT_ADD,
        Some(&row.username),
        json!({"role": store::role_name(row.role), "country": row.country, "instruments": row.instruments}),
    )?;
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

fn correction_of(a: &UserApprove) -> Correction {
    Correction {
        role: a.role.map(role_of),
        country: a.country.clone().map(Some),
        instruments: a.instruments.as_ref().map(|list| {
            list.iter()
                .map(|i| i.trim().to_string())
                .filter(|i| !i.is_empty())
                .collect()
        }),
    }
}

/// Corrects (when asked) and logs before and after; the card follows an approved account.
fn apply_correction(
    tx: &rusqlite::Connection,
    username: &str,
    c: &Correction,
) -> Result<AccountRow> {
    let before = store::get(tx, username)?;
    if c.is_empty() {
        return Ok(before);
    }
    c.check(&before).map_err(Error::Usage)?;
    let row = store::correct(tx, username, c)?;
    if row.status == AccountStatus::Approved {
        directory::publish_card(tx, &row)?;
    }
    audit_cli(
        tx,
        action::ACCOUNT_CORRECT,
        Some(username),
        json!({
            "before": {"role": store::role_name(before.role), "country": before.country, "instruments": before.instruments},
            "after": {"role": store::role_name(row.role), "country": row.country, "instruments": row.instruments},
        }),
    )?;
    Ok(row)
}

fn describe(row: &AccountRow) -> String {
    format!(
        "{} ({}{}{})",
        row.username,
        store::role_name(row.role),
        row.country
            .as_deref()
            .map(|c| format!(", {c}"))
            .unwrap_or_default(),
        if row.instruments.is_empty() {
            String::new()
        } else {
            format!(", {}", row.instruments.join(","))
        }
    )
}

pub fn approve(a: UserApprove) -> Result<()> {
    let mut conn = a.data.open()?;
    let tx = conn.transaction()?;
    apply_correction(&tx, &a.username, &correction_of(&a))?;
    let row = store::set_status(&tx, &a.username, AccountStatus::Approved)?;
    directory::publish_card(&tx, &row)?;
    audit_cli(&tx, action::ACCOUNT_APPROVE, Some(&row.username), json!({}))?;
    tx.commit()?;
    println!("approved {}", describe(&row));
    Ok(())
}

pub fn correct(a: UserApprove) -> Result<()> {
    let c = correction_of(&a);
    if c.is_empty() {
        return Err(Error::Usage(
            "nothing to correct: give --role, --country or --instruments".into(),
        ));
    }
    let mut conn = a.data.open()?;
    let tx = conn.transaction()?;
    let row = apply_correction(&tx, &a.username, &c)?;
    tx.commit()?;
    println!("corrected {}", describe(&row));
    Ok(())
}

/// The account's directory card stays (see `forum::directory`).
pub fn revoke(t: UserTarget) -> Result<()> {
    let mut conn = t.data.open()?;
    let tx = conn.transaction()?;
    let row = store::set_status(&tx, &t.username, AccountStatus::Revoked)?;
    audit_cli(&tx, action::ACCOUNT_REVOKE, Some(&row.username), json!({}))?;
    tx.commit()?;
    println!("revoked {} and all its device tokens", row.username);
    Ok(())
}

pub fn reset_password(t: UserTarget) -> Result<()> {
    let temporary = password_reset::temporary_password()?;
    let hash = Passwords::default().hash(&temporary)?;
    let mut conn = t.data.open()?;
    let tx = conn.transaction()?;
    let row = store::get(&tx, &t.username)?;
    let revoked = password_reset::apply(&tx, &row, &hash)?;
    audit_cli(
        &tx,
        action::ACCOUNT_RESET_PASSWORD,
        Some(&row.username),
        json!({"devices_signed_out": revoked}),
    )?;
    tx.commit()?;
    println!(
        "reset the password of {}: {revoked} device(s) signed out",
        row.username
    );
    println!("one-time password (give it to the person; their next sign-in sets a new one):");
    println!("{temporary}");
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
