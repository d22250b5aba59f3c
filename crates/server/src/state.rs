//! What every request handler shares.

use std::sync::Arc;

use crate::attachments::Storage;
use crate::auth::Passwords;
use crate::db::Db;
use crate::limits::{SignInLimits, SyncSlots};

/// Tunables of a running server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Pushes and pulls served at once; the next gets 429 `busy`.
    pub max_inflight_syncs: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_inflight_syncs: 64,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub passwords: Passwords,
    pub sign_in_limits: Arc<SignInLimits>,
    pub sync_slots: SyncSlots,
    /// Attachments and pack archives in the data folder.
    pub storage: Storage,
}

impl AppState {
    pub fn new(db: Db, config: &Config) -> Self {
        AppState::with_passwords(db, config, Passwords::default())
    }

    pub fn with_passwords(db: Db, config: &Config, passwords: Passwords) -> Self {
        AppState {
            storage: Storage::new(db.dir()),
            db,
            passwords,
            sign_in_limits: Arc::new(SignInLimits::default()),
            sync_slots: SyncSlots::new(config.max_inflight_syncs),
        }
    }
}
