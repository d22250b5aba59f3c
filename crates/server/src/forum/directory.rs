//! The NFP directory: a card per approved account (`profile` / `account`, written by the
//! server from the account when it is approved) and the contact details each person chooses to
//! share (`profile` / `shared`, written by that person only).
//!
//! Revoking an account leaves its card as it is: the directory is who took part, and a card
//! carries no contact details of its own (those are `shared`, which the person controls). The
//! app shows whatever cards it pulled; re-approving republishes the card only if it changed.

use stopover_protocol::forum::ProfileAccount;
use stopover_protocol::{AccountStatus, RecordKind, Refusal, RefusalCode};

use crate::accounts::AccountRow;
use crate::accounts::store as accounts;
use crate::error::Result;

/// Why a `profile` / `shared` write is refused: it is someone else's card.
pub fn shared_refusal(caller: &AccountRow, username: &str) -> Option<Refusal> {
    (caller.username != username).then(|| {
        Refusal::new(
            RefusalCode::NotYourProfile,
            format!("you can only share your own contact details, not those of `{username}`"),
        )
    })
}

/// The directory card of an account.
pub fn card(account: &AccountRow) -> ProfileAccount {
    ProfileAccount {
        display_name: account.display_name.clone(),
        role: account.role,
        country: account.country.clone(),
        instruments: account.instruments.clone(),
    }
}

/// Publishes the account's card in the community feed (when the account is approved).
/// Returns false when the feed already holds this very card.
pub fn publish_card(conn: &rusqlite::Connection, account: &AccountRow) -> Result<bool> {
    let value = serde_json::to_value(card(account))?;
    Ok(super::publish(
        conn,
        RecordKind::Profile,
        &account.username,
        "account",
        &value,
    )?
    .is_some())
}

/// Publishes a card for every approved account that has none (accounts approved before this
/// server knew the directory). Returns how many were published.
pub fn publish_missing_cards(conn: &rusqlite::Connection) -> Result<usize> {
    let mut published = 0;
    for account in accounts::list(conn)? {
        if account.status != AccountStatus::Approved
            || super::current(conn, RecordKind::Profile, &account.username, "account")?.is_some()
        {
            continue;
        }
        if publish_card(conn, &account)? {
            published += 1;
        }
    }
    Ok(published)
}
