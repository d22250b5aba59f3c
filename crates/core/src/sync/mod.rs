//! Sync: the outbox, push and pull, conflicts, back-off and progress.
//!
//! # How to use
//!
//! ```no_run
//! # async fn demo(core: &stopover_core::Core) -> stopover_core::Result<()> {
//! use stopover_core::secrets::{KeyringStore, SecretStore};
//! use stopover_core::sync::{self, Backoff, Resolution, SyncClient};
//!
//! let secrets = KeyringStore::new(); // MemoryStore::new() in tests
//!
//! // 1. Sign in once. The token goes to the keyring only; existing local work is queued.
//! sync::sign_in(core, &secrets, "https://ecommunity.example.org", "amina", "password", "Ministry laptop").await?;
//!
//! // 2. Local edits queue themselves from now on, in their own transactions:
//! stopover_core::user::checklists::set_done(&mut core.conn(), "cop-preparation", "register", true)?;
//!
//! // 3. Sync when the network is there ("Sync now", a timer, a network change).
//! let client = SyncClient::new(&sync::status(core)?.server_url.unwrap())?;
//! let token = sync::device_token(core, &secrets)?;
//! let mut backoff = Backoff::default();
//! match sync::sync_once_with_progress(core, &client, &token, &|p| println!("{p:?}")).await {
//!     Ok(report) => { backoff.reset(); println!("{report:?}") }
//!     // None: a person must act (e.g. Error::SignInRequired); Some(wait): retry after it.
//!     Err(e) => { let _wait = backoff.delay_after(&e); }
//! }
//!
//! // 4. Show what waits, and let the person settle conflicts.
//! for c in sync::conflicts(core)? {
//!     sync::resolve_conflict(core, c.kind, &c.entity_id, &c.field, Resolution::KeepMine)?;
//! }
//! let _status = sync::status(core)?; // waiting / conflicts / rejected / last sync / last error
//!
//! // 5. Leave: sign_out revokes the token on the server (best effort) and deletes it here;
//! //    forget_device also empties the sync tables (local data stays).
//! sync::sign_out(core, &secrets).await?;
//! sync::forget_device(core, &secrets)?;
//! # Ok(()) }
//! ```
//!
//! ## Sync or async
//!
//! The network calls ([`SyncClient`], [`sign_in`], [`sign_out`], [`sync_once`]) are `async`
//! (reqwest on tokio) and their futures are `Send`. Everything that only touches the database
//! ([`apply_push_results`], [`apply_pull`], [`resolve_conflict`], the lists and [`status`],
//! [`forget_device`]) is a plain blocking function taking `&Core`, each one short transaction.
//! From code with no runtime (a CLI, a plain `#[test]`), wrap an async call in [`block_on`].
//!
//! ## The rules
//!
//! - A local change and its outbox operation are written in one transaction
//!   ([`outbox::record_change`]); nothing is queued before the first sign-in.
//! - An operation leaves the outbox only in the transaction that stores the server's answer.
//!   A push whose answer is lost is retried under the same operation ids; the server answers
//!   `duplicate`.
//! - Pull never overwrites a field with a queued local edit or a waiting conflict.
//! - Only a protocol-valid answer counts: an HTML page with 200 (a captive portal), a redirect
//!   or a truncated body is an error and changes nothing.
//! - The device token lives only in the [`SecretStore`](crate::secrets::SecretStore): never in
//!   SQLite, a log or an error message.
//!
//! The engine knows record kinds only through [`kinds::LocalKind`], which each kind implements
//! beside its domain (`crate::record_kinds` says which module holds which kind).
//!
//! Attachments (resumable tus uploads by SHA-256) are in [`attachments`]; content pack
//! updates in [`crate::content::update`]. Sync files (the outbox on a USB stick, the server's
//! signed reply loaded back) are in [`file`]; the bandwidth meter, budget and "metered
//! connection" setting in [`meter`].

mod account;
pub mod attachments;
mod backoff;
pub mod client;
mod conflicts;
mod engine;
pub mod file;
pub mod kinds;
pub mod meter;
pub mod outbox;
mod pull;
pub mod relay;
mod relay_discovery;
pub(crate) mod state;

pub use account::{
    change_password, check_server_url, device_token, forget_device, sign_in, sign_in_with,
    sign_in_with_new_password, sign_out, token_key,
};
pub use backoff::{Backoff, jittered};
pub use client::{SyncClient, Transfer, normalize_server_url};
pub use conflicts::{
    RefusalView, RejectedOperation, Resolution, SyncConflict, conflicts, dismiss_rejected,
    rejected, resolve_conflict,
};
pub use engine::{
    DEFERRED_PAGE, SyncPhase, SyncProgress, SyncReport, sync_once, sync_once_with_progress,
};
pub use file::{
    SyncFileLoaded, SyncFileSaved, can_write_files, changes_file, ensure_file_key, load_reply,
    load_reply_bytes, save_changes,
};
pub use meter::{BandwidthSettings, BandwidthUsage, KindUse, TrafficKind};
pub use outbox::{
    PendingOperation, PushSummary, apply_push_results, enqueue, next_batch, pending_operations,
    seed_outbox,
};
pub use pull::{PullSummary, apply_pull};
pub use relay::{
    RelayRoundReport, RelayStatus, check_relay, ensure_credential, normalize_relay_url,
    pack_from_relay, relay_url, set_relay, sync_through_relay, use_relay,
};
pub use relay_discovery::{FoundRelay, discover_relays};
pub use state::{SyncStatus, community_cursor, is_configured, pull_cursor, server_url, status};

use crate::{Error, Result};

/// Runs one of this module's async calls to completion on a private single-thread runtime,
/// for callers without one. Must not be called from inside a tokio runtime (it panics there).
pub fn block_on<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Network(format!("cannot start the network runtime: {e}")))?
        .block_on(future)
}

#[cfg(test)]
mod tests;
