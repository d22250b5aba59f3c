//! Accounts: requests waiting for approval (approved as asked, or corrected — country,
//! instruments, role — in the same step, or refused), the active accounts with their signed-in
//! devices, and what the Secretariat does to them: correct, reset the password, revoke a
//! device, revoke the account (admins). The rules are `auth::policy`'s, checked in the
//! transaction that acts, which also writes the audit log.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{Markup, html};
use rusqlite::{Connection, TransactionBehavior, params};
use serde::Deserialize;
use serde_json::json;
use stopover_protocol::{AccountCorrection, AccountStatus, Role};

use super::{Failed, Notice, OrFail, done};
use crate::accounts::store::{self, role_name};
use crate::accounts::{AccountRow, password_reset};
use crate::audit::{self, action};
use crate::auth::devices::{self, DeviceRow};
use crate::auth::policy::{Action, authorize};
use crate::console::csrf::Checked;
use crate::console::i18n::{Lang, t, tf};
use crate::console::layout::{csrf_field, shell, when};
use crate::console::session::{self, Officer};
use crate::error::{Error, Result};
use crate::forum::directory;
use crate::http::handlers::admin::{apply_correction, log};
use crate::state::AppState;

fn role_text(l: Lang, r: Role) -> &'static str {
    t(l, &format!("role.{}", role_name(r)))
}

/// Accounts and devices, newest devices first.
pub async fn page(
    State(state): State<AppState>,
    officer: Officer,
    Query(n): Query<Notice>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let (accounts, devices) = state
        .db
        .read(|c| Ok((store::list(c)?, devices::list(c, None)?)))
        .await
        .or_fail(l)?;
    let mut by_user: BTreeMap<String, Vec<DeviceRow>> = BTreeMap::new();
    for d in devices {
        by_user.entry(d.username.clone()).or_default().push(d);
    }
    let pending: Vec<&AccountRow> = accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Pending)
        .collect();
    let active: Vec<&AccountRow> = accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Approved)
        .collect();
    let revoked: Vec<&AccountRow> = accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Revoked)
        .collect();
    let body = html! {
        section aria-labelledby="pending-heading" {
            h2 #pending-heading { (tf(l, "accounts.pending_heading", &[("n", &pending.len())])) }
            @if pending.is_empty() {
                p.empty data-testid="no-pending" { (t(l, "accounts.no_pending")) }
            } @else {
                p.hint { (t(l, "accounts.pending_hint")) }
                table.data data-testid="pending-table" {
                    thead { tr {
                        th scope="col" { (t(l, "accounts.col_person")) }
                        th scope="col" { (t(l, "accounts.col_asked")) }
                        th scope="col" { (t(l, "accounts.col_decide")) }
                    } }
                    tbody {
                        @for a in &pending {
                            tr data-testid={"pending-" (a.username)} {
                                th scope="row" {
                                    (a.display_name) br;
                                    span.muted { (a.username) " · " (a.email) }
                                }
                                td {
                                    (role_text(l, a.role)) ", "
                                    span data-country=[a.country.as_deref()] { (a.country.as_deref().unwrap_or("—")) } ", "
                                    (a.instruments.join(", "))
                                }
                                td { (decide_forms(&officer, a)) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="active-heading" {
            h2 #active-heading { (tf(l, "accounts.active_heading", &[("n", &active.len())])) }
            table.data data-testid="active-table" {
                thead { tr {
                    th scope="col" { (t(l, "accounts.col_person")) }
                    th scope="col" { (t(l, "accounts.col_role")) }
                    th scope="col" { (t(l, "accounts.col_devices")) }
                    th scope="col" { (t(l, "accounts.col_actions")) }
                } }
                tbody {
                    @for a in &active {
                        tr data-testid={"account-" (a.username)} {
                            th scope="row" { (a.display_name) br; span.muted { (a.username) " · " (a.email) } }
                            td {
                                (role_text(l, a.role))
                                @if let Some(c) = &a.country { ", " span data-country=(c) { (c) } }
                                @if !a.instruments.is_empty() { ", " (a.instruments.join(", ")) }
                            }
                            td { (devices_of(&officer, by_user.get(&a.username).map(Vec::as_slice).unwrap_or(&[]))) }
                            td { (actions(&officer, a)) }
                        }
                    }
                }
            }
        }
        @if !revoked.is_empty() {
            section aria-labelledby="revoked-heading" {
                h2 #revoked-heading { (tf(l, "accounts.revoked_heading", &[("n", &revoked.len())])) }
                ul data-testid="revoked-list" {
                    @for a in &revoked {
                        li { (a.display_name) " (" (a.username) ")"
                            @if officer.account.role == Role::Admin {
                                form.inline method="post" action={"/console/accounts/" (a.username) "/approve"} {
                                    (csrf_field(&officer))
                                    button type="submit" { (t(l, "accounts.reinstate")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(shell(
        &officer,
        "/console/accounts",
        t(l, "accounts.title"),
        n.text(l).as_deref(),
        body,
    ))
}

fn role_select(officer: &Officer, current: Role) -> Markup {
    let l = officer.lang;
    let roles: &[Role] = if officer.account.role == Role::Admin {
        &[Role::Nfp, Role::Secretariat, Role::Admin]
    } else {
        &[Role::Nfp, Role::Secretariat]
    };
    html! {
        select name="role" data-testid="field-role" {
            @for r in roles {
                option value=(role_name(*r)) selected[*r == current] { (role_text(l, *r)) }
            }
        }
    }
}

fn correction_fields(officer: &Officer, a: &AccountRow) -> Markup {
    let l = officer.lang;
    html! {
        label { (t(l, "accounts.country"))
            input type="text" name="country" value=(a.country.as_deref().unwrap_or(""))
                maxlength="2" size="3" pattern="[A-Za-z]{2}" data-testid="field-country";
        }
        label { (t(l, "accounts.instruments"))
            input type="text" name="instruments" value=(a.instruments.join(", ")) maxlength="300"
                data-testid="field-instruments";
        }
        label { (t(l, "accounts.role")) (role_select(officer, a.role)) }
    }
}

fn decide_forms(officer: &Officer, a: &AccountRow) -> Markup {
    let l = officer.lang;
    html! {
        form.stack method="post" action={"/console/accounts/" (a.username) "/approve"} data-testid="approve-form" {
            (csrf_field(officer))
            (correction_fields(officer, a))
            button type="submit" data-testid="approve" { (t(l, "accounts.approve")) }
        }
        form.inline method="post" action={"/console/accounts/" (a.username) "/refuse"} data-testid="refuse-form" {
            (csrf_field(officer))
            button.danger type="submit" data-confirm=(tf(l, "accounts.refuse_confirm", &[("username", &a.username)])) data-testid="refuse" { (t(l, "accounts.refuse")) }
        }
    }
}

fn devices_of(officer: &Officer, devices: &[DeviceRow]) -> Markup {
    let l = officer.lang;
    html! {
        @if devices.is_empty() { span.muted { (t(l, "accounts.no_devices")) } }
        ul.devices {
            @for d in devices {
                li data-testid={"device-" (d.id)} {
                    (d.name) " " span.muted { (when(d.created_at)) }
                    @if d.revoked { " " span.muted { (t(l, "accounts.device_revoked")) } }
                    @else {
                        form.inline method="post" action={"/console/devices/" (d.id) "/revoke"} {
                            (csrf_field(officer))
                            button.link type="submit" data-confirm=(t(l, "accounts.device_revoke_confirm")) { (t(l, "accounts.device_revoke")) }
                        }
                    }
                }
            }
        }
    }
}

fn actions(officer: &Officer, a: &AccountRow) -> Markup {
    let l = officer.lang;
    let me = officer.account.id == a.id;
    html! {
        details {
            summary { (t(l, "accounts.correct")) }
            form.stack method="post" action={"/console/accounts/" (a.username) "/correct"} {
                (csrf_field(officer))
                (correction_fields(officer, a))
                button type="submit" { (t(l, "accounts.save")) }
            }
        }
        @if !me {
            form.inline method="post" action={"/console/accounts/" (a.username) "/reset-password"} {
                (csrf_field(officer))
                button type="submit" data-confirm=(tf(l, "accounts.reset_confirm", &[("username", &a.username)])) data-testid="reset-password" { (t(l, "accounts.reset_password")) }
            }
        }
        @if officer.account.role == Role::Admin && !me {
            form.inline method="post" action={"/console/accounts/" (a.username) "/revoke"} {
                (csrf_field(officer))
                button.danger type="submit" data-confirm=(tf(l, "accounts.revoke_confirm", &[("username", &a.username)])) { (t(l, "accounts.revoke")) }
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct AccountForm {
    country: Option<String>,
    instruments: Option<String>,
    role: Option<String>,
}

impl AccountForm {
    /// The fields that differ from the account as it is.
    fn correction(&self, target: &AccountRow) -> Result<AccountCorrection> {
        let country = self
            .country
            .as_deref()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty() && Some(c.as_str()) != target.country.as_deref());
        let instruments = self.instruments.as_deref().map(|text| {
            text.split([',', ';'])
                .map(|i| i.trim().to_ascii_uppercase())
                .filter(|i| !i.is_empty())
                .collect::<Vec<_>>()
        });
        let instruments = instruments.filter(|list| *list != target.instruments);
        let role = match self.role.as_deref() {
            None | Some("") => None,
            Some(r) => Some(store::role_from(r).map_err(|_| {
                Error::InvalidRequest(format!("role: `{r}` is not nfp, secretariat or admin"))
            })?),
        }
        .filter(|r| *r != target.role);
        Ok(AccountCorrection {
            role,
            country,
            instruments,
        })
    }
}

/// Runs `f` on the target account in one IMMEDIATE transaction.
async fn on_account<R: Send + 'static>(
    state: &AppState,
    officer: &Officer,
    username: String,
    f: impl FnOnce(&Connection, &AccountRow, &AccountRow, &str) -> Result<R> + Send + 'static,
) -> Result<R> {
    let actor = officer.account.clone();
    let source = officer.ip.to_string();
    authorize(&actor, Action::ListAccounts)?;
    state
        .db
        .write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let target = store::get(&tx, &username)?;
            let out = f(&tx, &actor, &target, &source)?;
            tx.commit()?;
            Ok(out)
        })
        .await
}

/// approve, refuse, correct, reset-password, revoke.
pub async fn act(
    State(state): State<AppState>,
    Path((username, action_name)): Path<(String, String)>,
    Checked { officer, form }: Checked<AccountForm>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    match action_name.as_str() {
        "approve" => {
            on_account(
                &state,
                &officer,
                username.clone(),
                move |tx, actor, target, source| {
                    let correction = form.correction(target)?;
                    let row = apply_correction(tx, actor, target, &correction, source)?;
                    authorize(actor, Action::ApproveAccount { target: &row })?;
                    let row = store::set_status(tx, &row.username, AccountStatus::Approved)?;
                    directory::publish_card(tx, &row)?;
                    log(
                        tx,
                        actor,
                        action::ACCOUNT_APPROVE,
                        &row,
                        json!({"via": "console"}),
                        source,
                    )?;
                    Ok(())
                },
            )
            .await
            .or_fail(l)?;
            Ok(done("/console/accounts", "approved", Some(&username)))
        }
        "correct" => {
            on_account(
                &state,
                &officer,
                username.clone(),
                move |tx, actor, target, source| {
                    let correction = form.correction(target)?;
                    apply_correction(tx, actor, target, &correction, source)?;
                    Ok(())
                },
            )
            .await
            .or_fail(l)?;
            Ok(done("/console/accounts", "corrected", Some(&username)))
        }
        "refuse" => {
            on_account(&state, &officer, username.clone(), move |tx, actor, target, source| {
                if target.status != AccountStatus::Pending {
                    return Err(Error::InvalidRequest(format!(
                        "`{}` is not waiting for approval: only a request can be refused",
                        target.username
                    )));
                }
                authorize(actor, Action::ApproveAccount { target })?;
                log(tx, actor, action::ACCOUNT_REFUSE, target, json!({"country": target.country, "instruments": target.instruments, "via": "console"}), source)?;
                // A pending account never signed in: nothing refers to it.
                let n = tx.execute(
                    "DELETE FROM account WHERE id = ?1 AND status = 'pending'
                       AND NOT EXISTS (SELECT 1 FROM device d WHERE d.account_id = account.id)
                       AND NOT EXISTS (SELECT 1 FROM change c WHERE c.account_id = account.id)
                       AND NOT EXISTS (SELECT 1 FROM upload u WHERE u.account_id = account.id)",
                    params![target.id],
                )?;
                if n == 0 {
                    return Err(Error::InvalidRequest(format!(
                        "`{}` cannot be removed: it is referred to",
                        target.username
                    )));
                }
                Ok(())
            })
            .await
            .or_fail(l)?;
            Ok(done("/console/accounts", "refused", Some(&username)))
        }
        "revoke" => {
            on_account(
                &state,
                &officer,
                username.clone(),
                move |tx, actor, target, source| {
                    authorize(actor, Action::RevokeAccount { target })?;
                    let row = store::set_status(tx, &target.username, AccountStatus::Revoked)?;
                    session::delete_for_account(tx, row.id)?;
                    log(
                        tx,
                        actor,
                        action::ACCOUNT_REVOKE,
                        &row,
                        json!({"via": "console"}),
                        source,
                    )?;
                    Ok(())
                },
            )
            .await
            .or_fail(l)?;
            Ok(done("/console/accounts", "revoked", Some(&username)))
        }
        "reset-password" => {
            let temporary = password_reset::temporary_password().or_fail(l)?;
            let hash = state
                .passwords
                .hash_async(temporary.clone())
                .await
                .or_fail(l)?;
            let target_name = username.clone();
            on_account(
                &state,
                &officer,
                username,
                move |tx, actor, target, source| {
                    authorize(actor, Action::ResetPassword { target })?;
                    let revoked = password_reset::apply(tx, target, &hash)?;
                    session::delete_for_account(tx, target.id)?;
                    log(
                        tx,
                        actor,
                        action::ACCOUNT_RESET_PASSWORD,
                        target,
                        json!({"devices_signed_out": revoked, "via": "console"}),
                        source,
                    )?;
                    Ok(())
                },
            )
            .await
            .or_fail(l)?;
            // Shown once, here; never in a URL or a log.
            Ok(shell(
                &officer,
                "/console/accounts",
                t(l, "accounts.reset_title"),
                None,
                html! {
                    p { (tf(l, "accounts.reset_done", &[("username", &target_name)])) }
                    p.secret data-testid="temporary-password" { code { (temporary) } }
                    p.hint { (t(l, "accounts.reset_hint")) }
                    p { a href="/console/accounts" { (t(l, "common.back")) } }
                },
            ))
        }
        _ => Err(Failed::new(super::error_page(l, &Error::UnknownPath))),
    }
}

#[derive(Deserialize)]
pub struct Nothing {}

/// Signs one device out.
pub async fn revoke_device(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Checked { officer, .. }: Checked<Nothing>,
) -> Result<Response, Failed> {
    let l = officer.lang;
    let actor = officer.account.clone();
    let source = officer.ip.to_string();
    let device = id.clone();
    let owner = state
        .db
        .write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            authorize(&actor, Action::ListAccounts)?;
            let owner: String = tx
                .query_row(
                    "SELECT a.username FROM device d JOIN account a ON a.id = d.account_id WHERE d.id = ?1",
                    [&device],
                    |r| r.get(0),
                )
                .map_err(|_| Error::NoSuchDevice(device.clone()))?;
            let target = store::get(&tx, &owner)?;
            // As for password resets: an admin's devices are for admins.
            authorize(&actor, Action::CorrectAccount { target: &target, new_role: None })?;
            devices::revoke(&tx, &device)?;
            audit::record(
                &tx,
                &audit::Entry {
                    actor: &actor.username,
                    action: action::DEVICE_REVOKE,
                    target: Some(&device),
                    detail: json!({"username": owner, "via": "console"}),
                    source: &source,
                },
            )?;
            tx.commit()?;
            Ok(owner)
        })
        .await
        .or_fail(l)?;
    Ok(done("/console/accounts", "device_revoked", Some(&owner)))
}
