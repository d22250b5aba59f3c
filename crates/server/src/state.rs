//! What every request handler shares.

use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;
use tokio::sync::Semaphore;

use crate::attachments::Storage;
use crate::auth::Passwords;
use crate::db::Db;
use crate::limits::{ByteBudget, SignInLimits, SyncSlots, WindowLimiter};

/// Tunables of a running server (`ecommunity serve --help` documents each).
#[derive(Debug, Clone)]
pub struct Config {
    /// Pushes and pulls served at once; the next gets 429 `busy`.
    pub max_inflight_syncs: usize,
    /// Proxies whose `X-Forwarded-For` names the client (none by default).
    pub trusted_proxies: Vec<IpNet>,
    /// Account requests per client address per hour.
    pub registrations_per_hour: u32,
    /// Accounts waiting for approval at most; past that, requests are refused (503).
    pub max_pending_accounts: u64,
    /// Pending accounts older than this are deleted.
    pub pending_days: f64,
    /// Bytes of attachments one account may keep (finished and announced unfinished ones).
    pub quota_bytes: u64,
    /// Unfinished uploads one account may have at once.
    pub max_unfinished_uploads: u64,
    /// Largest attachment taken, in bytes (at most `files::MAX_ATTACHMENT_BYTES`); announced
    /// as `Tus-Max-Size`, so the app says it before a file is picked.
    pub max_attachment_bytes: u64,
    /// Unfinished uploads that received nothing for this long are discarded.
    pub upload_expiry: Duration,
    /// Bytes of operations one account may push per hour (also the burst).
    pub write_budget_per_hour: u64,
    /// New forum posts (threads and replies) per account per hour.
    pub forum_posts_per_hour: u32,
    pub timeouts: Timeouts,
    pub console: ConsoleConfig,
}

/// The Secretariat's console (`/console`).
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// A console session ends after this long without a request.
    pub idle: Duration,
    /// A console session ends this long after sign-in, whatever the activity.
    pub lifetime: Duration,
    /// Capacity charts show a region (or cycle) only when at least this many countries
    /// answered, unless every one of them agreed to be named.
    pub min_respondents: u32,
    /// Public keys (hex) whose signed packs the console publishes, besides the keys of packs
    /// this server published before.
    pub pack_signers: Vec<String>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            idle: Duration::from_secs(30 * 60),
            lifetime: Duration::from_secs(12 * 3600),
            min_respondents: 3,
            pack_signers: Vec::new(),
        }
    }
}

/// Timeouts of every connection and request.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To send a request's line and headers; also how long an idle connection stays open.
    pub header: Duration,
    /// Longest pause between two pieces of a request body.
    pub body_idle: Duration,
    /// Longest time for a whole request (body included) to be answered.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header: Duration::from_secs(10),
            body_idle: Duration::from_secs(10),
            request: Duration::from_secs(120),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_inflight_syncs: 64,
            trusted_proxies: Vec::new(),
            registrations_per_hour: 5,
            max_pending_accounts: 500,
            pending_days: 30.0,
            quota_bytes: 1024 * 1024 * 1024,
            max_unfinished_uploads: 20,
            max_attachment_bytes: stopover_protocol::files::DEFAULT_MAX_ATTACHMENT_BYTES,
            upload_expiry: Duration::from_secs(7 * 24 * 3600),
            write_budget_per_hour: 32 * 1024 * 1024,
            forum_posts_per_hour: 30,
            timeouts: Timeouts::default(),
            console: ConsoleConfig::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub passwords: Passwords,
    pub sign_in_limits: Arc<SignInLimits>,
    /// Account requests per client address.
    pub registrations: Arc<WindowLimiter>,
    /// One account request hashes its password at a time, so a flood of them never takes the
    /// hashing slots that sign-ins need.
    pub registration_slot: Arc<Semaphore>,
    /// Bytes pushed per account.
    pub write_budget: Arc<ByteBudget>,
    pub sync_slots: SyncSlots,
    /// Attachments and pack archives in the data folder.
    pub storage: Storage,
}

impl AppState {
    pub fn new(db: Db, config: &Config) -> Self {
        AppState::with_passwords(db, config, Passwords::default())
    }

    pub fn with_passwords(db: Db, config: &Config, passwords: Passwords) -> Self {
        crate::forum::posts::set_posts_per_hour(config.forum_posts_per_hour);
        AppState {
            storage: Storage::new(db.dir()),
            db,
            config: Arc::new(config.clone()),
            passwords,
            sign_in_limits: Arc::new(SignInLimits::default()),
            registrations: Arc::new(WindowLimiter::new(
                config.registrations_per_hour.max(1) as usize,
                Duration::from_secs(3600),
            )),
            registration_slot: Arc::new(Semaphore::new(1)),
            write_budget: Arc::new(ByteBudget::new(
                config.write_budget_per_hour,
                config.write_budget_per_hour,
            )),
            sync_slots: SyncSlots::new(config.max_inflight_syncs),
        }
    }
}
