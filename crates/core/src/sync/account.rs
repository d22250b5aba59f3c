//! Signing in and out. The device token goes to the [`SecretStore`] and nowhere else.

use stopover_protocol::{Account, SignInRequest};

use super::client::{SyncClient, normalize_server_url};
use super::{outbox, state};
use crate::ErrorCode;
use crate::secrets::SecretStore;
use crate::{Core, Error, Result};

/// The [`SecretStore`] key of the device token for a server (normalised address).
pub fn token_key(server_url: &str) -> String {
    format!("device-token:{server_url}")
}

/// The device token for the server this device is signed in to, from `secrets`.
/// [`Error::SignInRequired`] when there is no server or no token.
pub fn device_token(core: &Core, secrets: &dyn SecretStore) -> Result<String> {
    let Some(url) = state::server_url(&core.conn())? else {
        return Err(Error::SignInRequired(
            "this device is not signed in to an e-community server".into(),
        ));
    };
    secrets.get(&token_key(&url))?.ok_or_else(|| {
        Error::SignInRequired(format!("there is no sign-in for {url} on this device"))
    })
}

/// Signs in to `server_url` and sets this device up to sync with it:
/// 1. checks the address (https, or http to loopback) and that an e-community server answers
///    there (so a password never goes to a wifi login page);
/// 2. exchanges user name and password for a device token;
/// 3. stores the token in `secrets` only (key [`token_key`]);
/// 4. in one transaction, records the server and account in `sync_state`; when they differ
///    from the previous ones (or on the first sign-in), starts sync afresh and queues every
///    existing local change ([`seed_outbox`](outbox::seed_outbox)). Signing in again to the
///    same account keeps the outbox, conflicts and cursor as they are.
///
/// The password is used for this one request and not kept.
pub async fn sign_in(
    core: &Core,
    secrets: &dyn SecretStore,
    server_url: &str,
    username: &str,
    password: &str,
    device_name: &str,
) -> Result<Account> {
    sign_in_inner(
        core,
        secrets,
        server_url,
        username,
        password,
        None,
        device_name,
    )
    .await
}

/// [`sign_in`] that also sets a new password: what a person does after the Secretariat reset
/// theirs (the plain sign-in is then answered `Error::Server` with code
/// `password_change_required`). The other
/// devices of the account are signed out.
pub async fn sign_in_with_new_password(
    core: &Core,
    secrets: &dyn SecretStore,
    server_url: &str,
    username: &str,
    password: &str,
    new_password: &str,
    device_name: &str,
) -> Result<Account> {
    sign_in_inner(
        core,
        secrets,
        server_url,
        username,
        password,
        Some(new_password),
        device_name,
    )
    .await
}

/// Changes the password of the account this device is signed in as (the current password is
/// required). This device stays signed in; the account's other devices are signed out by the
/// server. A wrong current password is `Error::Server` with code `wrong_password`.
pub async fn change_password(
    core: &Core,
    secrets: &dyn SecretStore,
    current_password: &str,
    new_password: &str,
) -> Result<()> {
    let token = device_token(core, secrets)?;
    let url = state::server_url(&core.conn())?.ok_or_else(|| {
        Error::SignInRequired("this device is not signed in to an e-community server".into())
    })?;
    SyncClient::new(&url)?
        .change_password(&token, current_password, new_password)
        .await
}

#[allow(clippy::too_many_arguments)] // the sign-in form's fields, one by one
async fn sign_in_inner(
    core: &Core,
    secrets: &dyn SecretStore,
    server_url: &str,
    username: &str,
    password: &str,
    new_password: Option<&str>,
    device_name: &str,
) -> Result<Account> {
    let client = SyncClient::new(server_url)?.observed_by(core.server_clock().clone());
    sign_in_through(
        core,
        secrets,
        &client,
        username,
        password,
        new_password,
        device_name,
    )
    .await
}

/// [`sign_in`] through a given client (the one the caller then keeps for its rounds, or, in
/// tests, one that trusts a test certificate authority).
pub async fn sign_in_with(
    core: &Core,
    secrets: &dyn SecretStore,
    client: &SyncClient,
    username: &str,
    password: &str,
    device_name: &str,
) -> Result<Account> {
    sign_in_through(core, secrets, client, username, password, None, device_name).await
}

#[allow(clippy::too_many_arguments)] // the sign-in form's fields, one by one
async fn sign_in_through(
    core: &Core,
    secrets: &dyn SecretStore,
    client: &SyncClient,
    username: &str,
    password: &str,
    new_password: Option<&str>,
    device_name: &str,
) -> Result<Account> {
    let url = client.server_url().to_string();
    let username = username.trim();
    if username.is_empty() {
        return Err(Error::invalid(
            ErrorCode::UsernameEmpty,
            "enter your user name",
        ));
    }
    refuse_switch_with_waiting_changes(core, &url, username)?;
    // The one place a probe still prevents something: the password must not go to an address
    // that is not an e-community server (a mistyped one, another service), which answers the
    // probe with something else. Sync rounds need no probe: their answers carry `protocol`.
    client.health().await?;
    let request = SignInRequest {
        username: username.to_string(),
        password: password.to_string(),
        device_name: device_name.trim().to_string(),
        new_password: new_password.map(str::to_string),
    };
    let session = client.sign_in(&request).await?;

    if let Err(e) = secrets.set(&token_key(&url), &session.token) {
        // The token cannot be kept: revoke it rather than leave it valid and unreachable.
        if let Err(revoke) = client.sign_out(&session.token).await {
            tracing::warn!(
                code = %revoke.code().as_str(),
                "sign-in: could not revoke the token that could not be stored"
            );
        }
        return Err(e);
    }

    {
        let mut conn = core.conn();
        let tx = conn.transaction()?;
        let same = state::get(&tx, state::SERVER_URL)?.as_deref() == Some(url.as_str())
            && state::get(&tx, state::ACCOUNT)?.as_deref()
                == Some(session.account.username.as_str());
        if !same {
            state::reset(&tx)?;
            state::set(&tx, state::SERVER_URL, &url)?;
            state::set(&tx, state::ACCOUNT, &session.account.username)?;
            let seeded = outbox::seed_outbox(core, &tx)?;
            tracing::info!(
                seeded,
                "sync: signed in to a new account; queued the existing local changes"
            );
        }
        state::set(&tx, state::DEVICE_ID, &session.device_id)?;
        state::set(&tx, state::DISPLAY_NAME, &session.account.display_name)?;
        state::set(&tx, state::SIGNED_IN, "1")?;
        state::delete(&tx, state::LAST_ERROR)?;
        tx.commit()?;
    }
    // Best effort: a failure here is tried again at the next sync round.
    if let Err(e) = super::file::ensure_file_key(core, client, &session.token).await {
        tracing::warn!(code = %e.code(), error = %e, "sign-in: sync-file key not registered yet");
    }
    Ok(session.account)
}

/// Another server or account starts sync afresh, and the outbox with it: refused while changes
/// made as the previous account still wait, so nothing typed is dropped (or sent as someone
/// else). The person syncs them first, or chooses "forget this device".
fn refuse_switch_with_waiting_changes(core: &Core, url: &str, username: &str) -> Result<()> {
    let conn = core.conn();
    let (Some(old_url), Some(old_account)) = (
        state::get(&conn, state::SERVER_URL)?,
        state::get(&conn, state::ACCOUNT)?,
    ) else {
        return Ok(());
    };
    if old_url == url && old_account == username {
        return Ok(());
    }
    let waiting: i64 = conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
    if waiting == 0 {
        return Ok(());
    }
    Err(Error::invalid(ErrorCode::ChangesWaitForAccount, format!(
        "{waiting} change(s) made as {old_account} have not reached {old_url} yet: sign in as {old_account} and sync first, or forget this device to drop them"
    )).with("count", waiting).with("account", old_account.as_str()).with("server", old_url.as_str()))
}

/// Signs out: asks the server to revoke the device token (best effort: offline, the token is
/// still forgotten here) and deletes it from `secrets`. Queued operations, conflicts and the
/// server set-up stay: signing in again to the same account sends them.
pub async fn sign_out(core: &Core, secrets: &dyn SecretStore) -> Result<()> {
    let Some(url) = state::server_url(&core.conn())? else {
        return Ok(());
    };
    let key = token_key(&url);
    if let Some(token) = secrets.get(&key)? {
        match SyncClient::new(&url) {
            Ok(client) => {
                if let Err(e) = client.sign_out(&token).await {
                    tracing::warn!(code = %e.code(), error = %e, "sign-out: the server could not be told; the token is forgotten here anyway");
                }
            }
            Err(e) => tracing::warn!(code = %e.code().as_str(), "sign-out: bad server address"),
        }
    }
    secrets.delete(&key)?;
    state::set(&core.conn(), state::SIGNED_IN, "0")?;
    Ok(())
}

/// Forgets this device's sync set-up without the network: deletes the device token from
/// `secrets` and empties every sync table (server, account, cursor, outbox, conflicts,
/// refusals). The user's own data (checklist progress…) stays, and is queued again at the
/// next sign-in. Call [`sign_out`] first when online, so the server revokes the token too.
pub fn forget_device(core: &Core, secrets: &dyn SecretStore) -> Result<()> {
    let url = state::server_url(&core.conn())?;
    if let Some(url) = url {
        secrets.delete(&token_key(&url))?;
    }
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    state::reset(&tx)?;
    tx.commit()?;
    Ok(())
}

/// Checks a server address the way [`sign_in`] will, without the network (for the sign-in
/// form): returns it normalised.
pub fn check_server_url(server_url: &str) -> Result<String> {
    normalize_server_url(server_url)
}
