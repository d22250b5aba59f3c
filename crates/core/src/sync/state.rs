//! `sync_state`: what this device knows about its sync set-up (server address, account, pull
//! cursor, last sync and error). Never the device token: that lives only in a
//! [`SecretStore`](crate::secrets::SecretStore).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::{Core, ErrorReport, Result};

pub(crate) const SERVER_URL: &str = "server_url";
pub(crate) const ACCOUNT: &str = "account";
/// The signed-in account's display name, as the server gave it at sign-in (the author of
/// exported documents).
pub(crate) const DISPLAY_NAME: &str = "display_name";
pub(crate) const DEVICE_ID: &str = "device_id";
pub(crate) const SIGNED_IN: &str = "signed_in";
pub(crate) const PULL_CURSOR: &str = "pull_cursor";
/// Where this device's copy of the community feed stands, when it differs from
/// [`PULL_CURSOR`]: set by rounds through a workshop relay (which serves the private part and
/// the community part apart), dropped by a direct round. Absent: the same as the pull cursor.
pub(crate) const COMMUNITY_CURSOR: &str = "community_cursor";
pub(crate) const LAST_SYNC_AT: &str = "last_sync_at";
/// The last sync's error as an [`ErrorReport`] in JSON.
pub(crate) const LAST_ERROR: &str = "last_error_report";

pub(crate) use crate::store::NOW;

pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

pub(crate) fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub(crate) fn delete(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM sync_state WHERE key = ?1", [key])?;
    Ok(())
}

/// True once an account has been signed in on this device (until [`forget_device`]).
/// Before that, local edits stay local and nothing is queued.
///
/// [`forget_device`]: super::forget_device
pub fn is_configured(conn: &Connection) -> Result<bool> {
    Ok(get(conn, SERVER_URL)?.is_some())
}

/// The server address this device syncs with, normalised (no trailing slash).
pub fn server_url(conn: &Connection) -> Result<Option<String>> {
    get(conn, SERVER_URL)
}

/// The pull cursor: the server's position in its change feed this device has reached.
pub fn pull_cursor(conn: &Connection) -> Result<u64> {
    Ok(get(conn, PULL_CURSOR)?
        .and_then(|c| c.parse().ok())
        .unwrap_or(0))
}

/// Where the community feed stands (see [`COMMUNITY_CURSOR`]).
pub fn community_cursor(conn: &Connection) -> Result<u64> {
    match get(conn, COMMUNITY_CURSOR)?.and_then(|c| c.parse().ok()) {
        Some(c) => Ok(c),
        None => pull_cursor(conn),
    }
}

/// Before a pull of the whole feed (a direct round, a sync file): one cursor again. The
/// lower of the two is where both parts are complete; the changes between it and the higher
/// one come a second time, which is harmless (known versions change nothing, see
/// [`apply_pull`](super::apply_pull)). One transaction. Returns the cursor to pull from.
pub(crate) fn merge_cursors(conn: &mut Connection) -> Result<u64> {
    let tx = conn.transaction()?;
    let merged = pull_cursor(&tx)?.min(community_cursor(&tx)?);
    set(&tx, PULL_CURSOR, &merged.to_string())?;
    delete(&tx, COMMUNITY_CURSOR)?;
    tx.commit()?;
    Ok(merged)
}

/// What the sync indicator shows.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    /// The server this device syncs with; `None` before the first sign-in.
    pub server_url: Option<String>,
    pub account: Option<String>,
    /// False after sign-out or when the server revoked the device token.
    pub signed_in: bool,
    /// Operations waiting to be sent or acknowledged.
    pub waiting: u32,
    /// Conflicts waiting for a person to choose.
    pub conflicts: u32,
    /// Changes the server refused, kept for the person to read.
    pub rejected: u32,
    /// End of the last successful sync (RFC 3339, UTC).
    pub last_sync_at: Option<String>,
    /// The last sync's error, if it failed (cleared by a successful sync).
    pub last_error: Option<ErrorReport>,
    /// How far this laptop's clock is off the server's, in seconds (positive when the laptop
    /// is behind), when that is more than a few minutes
    /// ([`CLOCK_SKEW_WARNING`](crate::clock::CLOCK_SKEW_WARNING)): the app warns.
    pub clock_skew_secs: Option<i64>,
    /// The workshop relay this device syncs through, when one is set.
    pub relay: Option<super::relay::RelayStatus>,
}

pub fn status(core: &Core) -> Result<SyncStatus> {
    let conn = core.conn();
    let (waiting, conflicts, rejected) = conn.query_row(
        "SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM sync_conflict), (SELECT count(*) FROM sync_rejected WHERE dismissed_at IS NULL)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(SyncStatus {
        server_url: get(&conn, SERVER_URL)?,
        account: get(&conn, ACCOUNT)?,
        signed_in: get(&conn, SIGNED_IN)?.as_deref() == Some("1"),
        waiting,
        conflicts,
        rejected,
        last_sync_at: get(&conn, LAST_SYNC_AT)?,
        last_error: get(&conn, LAST_ERROR)?.and_then(|json| serde_json::from_str(&json).ok()),
        clock_skew_secs: core.server_clock().skew_secs(),
        relay: super::relay::relay_status(&conn)?,
    })
}

/// Records how a sync ended, for [`status`].
pub(crate) fn record_outcome(
    conn: &Connection,
    outcome: std::result::Result<(), &crate::Error>,
) -> Result<()> {
    match outcome {
        Ok(()) => {
            conn.execute(
                &format!("INSERT INTO sync_state (key, value) VALUES (?1, {NOW}) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
                [LAST_SYNC_AT],
            )?;
            delete(conn, LAST_ERROR)?;
        }
        Err(e) => {
            let report =
                serde_json::to_string(&ErrorReport::from(e)).map_err(crate::Error::internal)?;
            set(conn, LAST_ERROR, &report)?;
            if matches!(e, crate::Error::SignInRequired(_)) {
                set(conn, SIGNED_IN, "0")?;
            }
        }
    }
    Ok(())
}

/// Empties every sync table: the outbox, what is known of the server, conflicts, refusals and
/// `sync_state`, and forgets where attachments were uploaded (they go again to the next
/// account). The user's own records (checklist progress, attachments) are not touched.
pub(crate) fn reset(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "DELETE FROM outbox; DELETE FROM sync_field; DELETE FROM sync_conflict; DELETE FROM sync_rejected; DELETE FROM sync_state;
         UPDATE attachment SET upload_url = NULL, uploaded = 0;",
    )?;
    Ok(())
}
