//! The e-community on the laptop: a cache of the forum (categories, threads, posts), the NFP
//! directory and the training events, filled from the pull feed; posts, replies, edits,
//! contact details and event registrations composed offline and sent through the outbox.
//!
//! # How it fits the sync engine
//!
//! Every record here is a synced field of a community record kind (see
//! [`stopover_protocol::forum`]). Pulled values reach the tables through [`sync::write_local`]
//! (each kind registered as a `LocalKind` in [`kinds`]); local changes are written to the
//! tables and queued with [`crate::sync::outbox::record_change`] in one transaction.
//!
//! - A new post is one operation on its `content`, entity id a fresh UUIDv7 made here: a
//!   retried push can never create it twice. It shows `pending` while its operation waits,
//!   can be edited in place (the unsent operation is coalesced) or withdrawn (post and
//!   operation removed together; refused once sent).
//! - An edit of a post someone changed meanwhile comes back as a conflict of the engine,
//!   shown on the post with both texts ([`PostConflict`]); an edit the server refused (the
//!   post was hidden by moderation) is shown the same way, the refused text kept.
//! - Nothing is queued before the first sign-in, so composing needs a signed-in account (the
//!   author is its username).
//! - [`Retention`] bounds the cache; it runs after each sync round and when it changes.
//!
//! All functions are blocking (SQLite) and take a [`Core`](crate::Core): the app runs them off
//! its main thread.

mod archive;
mod directory;
mod drafts;
mod events;
pub(crate) mod kinds;
mod links;
mod markdown;
mod posts;
mod read;
mod regions;
pub mod retention;
pub(crate) mod search;
pub(crate) mod sync;

use rusqlite::Connection;

pub use archive::restore_thread;
pub use directory::{Profile, directory, set_my_contact};
pub use drafts::{DraftKey, clear_composer_draft, composer_draft, save_composer_draft};
pub use events::{EventView, Registration, events, register_for_event};
pub use links::{MAX_LINK_CHARS, is_disguised_url, is_format_char, is_hidden_char, openable_link};
pub use markdown::{render_post_html, strip_bidi_controls};
pub use posts::{edit_post, new_thread, reply, resolve_post_conflict, withdraw_post};
pub use read::{
    Category, HomeNotice, PostConflict, PostView, ThreadSummary, ThreadView,
    acknowledge_home_notice, categories, home_notice, thread, threads,
};
pub use regions::{REGIONS, region_of};
pub use retention::{Retention, retention, set_retention};
pub use search::{PostHit, search};
/// The contact details an NFP shares in the directory (a wire type), for [`set_my_contact`].
pub use stopover_protocol::forum::SharedContact;

use crate::sync::state;
use crate::{Error, Result};

/// The account this device is signed in to (its username), once sync is set up.
pub(crate) fn account(conn: &Connection) -> Result<Option<String>> {
    if !state::is_configured(conn)? {
        return Ok(None);
    }
    state::get(conn, state::ACCOUNT)
}

/// The signed-in account's username, or a clear refusal saying why `what` needs one.
pub(crate) fn require_account(conn: &Connection, what: &str) -> Result<String> {
    account(conn)?.ok_or_else(|| {
        Error::SignInRequired(format!(
            "{what} needs an e-community account: sign in once, then you can do it offline"
        ))
    })
}
