//! `ecommunity relay`: a workshop relay on the venue's LAN (see
//! [`stopover_protocol::relay`] for the protocol and why every byte it passes on is signed by
//! someone else).
//!
//! Four tasks share one [`Relay`]: the HTTP face the laptops sync with ([`http`]), the
//! forwarder that takes held pushes to the server one by one ([`forward::pushes`]), the
//! community puller that fetches the shared feed once for everyone ([`forward::community`]),
//! and the pack fetcher that does the same for content packs ([`forward::packs`]).
//! The relay's key is made at each start and kept in memory only: a copy of its data folder
//! lets nobody read the community feed, and laptops ask `/v1/relay/info` for the key each
//! round.

mod announce;
mod check;
mod error;
mod forward;
mod http;
mod store;
mod upstream;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ed25519_dalek::{SigningKey, VerifyingKey};
use rusqlite::Connection;
use stopover_protocol::PackRelease;
use stopover_protocol::relay::{self, CommunityPullRequest, UplinkState};
use stopover_protocol::sync_file::{self, FileKind};
use tokio::sync::Notify;

use crate::db::unix_now;
use crate::error::{Error, Result};

pub use store::RELAY_DATABASE_FILE;

/// `ecommunity relay`'s settings.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The e-community server, e.g. `https://ecommunity.example.org`.
    pub upstream: String,
    pub data: PathBuf,
    pub listen: SocketAddr,
    /// The server's key (64 hex digits), for a relay started where the server cannot be
    /// reached yet; otherwise fetched from the server once and kept.
    pub server_key: Option<String>,
    /// How often the community feed is asked for news when nothing else prompts it.
    pub poll: Duration,
    /// How long a laptop's round waits for its push to reach the server before the relay
    /// answers "held" (the uplink is slow; the laptop's next round brings the answer).
    pub answer_wait: Duration,
}

#[derive(Clone)]
pub struct Relay {
    inner: Arc<Inner>,
}

struct Inner {
    db: Mutex<Connection>,
    key: SigningKey,
    server: upstream::Server,
    server_key: Mutex<Option<VerifyingKey>>,
    /// The newest laptop grant and when it ends: the relay's leave to read the community
    /// feed. In memory only, like the key it names.
    grant: Mutex<Option<(Vec<u8>, i64)>>,
    reachable: Mutex<bool>,
    /// The community pages reach what the server held at the relay's last pull (which came
    /// back with nothing more): until then a laptop is told that more may come.
    caught_up: Mutex<bool>,
    /// Wakes the forwarder (a push arrived).
    pushes_waiting: Notify,
    /// Wakes the community puller (a grant arrived, a push may have made news).
    community_waiting: Notify,
    /// Tells the rounds that wait that a push was answered.
    answered: Notify,
    /// Wakes the pack fetcher (the server named a new pack, or a laptop needs it).
    pack_waiting: Notify,
    /// A laptop came by with an older pack than the one the server names: the archive is
    /// worth the uplink. In memory: after a restart the next such laptop says so again.
    pack_wanted: Mutex<bool>,
    config: RelayConfig,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Relay {
    pub fn open(config: RelayConfig) -> Result<Relay> {
        let conn = store::open(&config.data)?;
        let server = upstream::Server::new(&config.upstream).map_err(Error::Usage)?;
        let pinned = match &config.server_key {
            Some(hex) => Some(sync_file::parse_key(hex).ok_or_else(|| {
                Error::Usage(format!(
                    "--server-key `{hex}` is not an ed25519 public key in hex"
                ))
            })?),
            None => None,
        };
        let stored = store::meta(&conn, store::SERVER_KEY)?
            .as_deref()
            .and_then(sync_file::parse_key);
        if let (Some(pinned), Some(stored)) = (pinned, stored)
            && pinned != stored
        {
            return Err(Error::Usage(
                "--server-key differs from the key this relay's data folder holds: is it the same server?".into(),
            ));
        }
        if let Some(k) = pinned {
            store::set_meta(&conn, store::SERVER_KEY, &sync_file::to_hex(k.as_bytes()))?;
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| Error::Random(e.to_string()))?;
        Ok(Relay {
            inner: Arc::new(Inner {
                db: Mutex::new(conn),
                key: SigningKey::from_bytes(&seed),
                server,
                server_key: Mutex::new(pinned.or(stored)),
                grant: Mutex::new(None),
                reachable: Mutex::new(false),
                caught_up: Mutex::new(false),
                pushes_waiting: Notify::new(),
                community_waiting: Notify::new(),
                answered: Notify::new(),
                pack_waiting: Notify::new(),
                pack_wanted: Mutex::new(false),
                config,
            }),
        })
    }

    /// Runs `f` on the relay's database, off the async threads.
    async fn db<F, R>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&mut Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&mut lock(&inner.db))).await?
    }

    /// Where the archive of the pack the relay holds is kept.
    fn packs_dir(&self) -> PathBuf {
        self.inner.config.data.join("packs")
    }

    /// A laptop has `laptop_pack` (none: the pack built into its app); if the server names a
    /// newer one (`named`), the fetcher is told it is wanted.
    fn note_laptop_pack(&self, named: Option<PackRelease>, laptop_pack: Option<&str>) {
        let needed = named.is_some_and(|n| {
            laptop_pack
                .is_none_or(|have| stopover_protocol::packs::is_newer_version(&n.version, have))
        });
        if needed && !std::mem::replace(&mut *lock(&self.inner.pack_wanted), true) {
            self.inner.pack_waiting.notify_one();
        }
    }

    /// The newest laptop grant, while it lasts.
    fn grant(&self) -> Option<Vec<u8>> {
        lock(&self.inner.grant)
            .clone()
            .filter(|(_, expires)| *expires > unix_now())
            .map(|(grant, _)| grant)
    }

    /// The server refused `grant` (its device was revoked, the clocks are far apart): it is
    /// dropped, and the relay waits for another laptop's.
    fn drop_grant(&self, grant: &[u8]) {
        let mut held = lock(&self.inner.grant);
        if held.as_ref().is_some_and(|(g, _)| g == grant) {
            *held = None;
        }
    }

    /// A request to the server under `grant`, sealed with the relay's key as `kind`.
    fn signed_request<T: serde::Serialize>(
        &self,
        grant: &[u8],
        kind: FileKind,
        request: &T,
    ) -> CommunityPullRequest {
        CommunityPullRequest {
            grant: relay::encode(grant),
            request: relay::encode(&sync_file::seal(kind, &self.inner.key, request)),
        }
    }

    fn relay_key(&self) -> VerifyingKey {
        self.inner.key.verifying_key()
    }

    fn server_key(&self) -> Option<VerifyingKey> {
        *lock(&self.inner.server_key)
    }

    /// Keeps the newest of the grants laptops bring (the one that lasts longest).
    fn offer_grant(&self, grant: Vec<u8>, expires_at: i64) {
        let mut held = lock(&self.inner.grant);
        if held.as_ref().is_none_or(|(_, e)| *e < expires_at) {
            *held = Some((grant, expires_at));
            self.inner.community_waiting.notify_one();
        }
    }

    /// The relay heard from the server (or failed to).
    async fn contact(&self, reachable: bool) {
        *lock(&self.inner.reachable) = reachable;
        if reachable {
            let now = unix_now();
            let _ = self
                .db(move |c| store::set_meta(c, store::LAST_CONTACT, &now.to_string()))
                .await;
        }
    }

    async fn uplink(&self) -> Result<UplinkState> {
        let reachable = *lock(&self.inner.reachable);
        self.db(move |c| {
            Ok(UplinkState {
                reachable,
                last_contact: store::meta(c, store::LAST_CONTACT)?.and_then(|s| s.parse().ok()),
                held_pushes: store::held_count(c)?,
                community_cursor: store::community_cursor(c)?,
            })
        })
        .await
    }
}

/// Runs the relay until Ctrl-C or SIGTERM: prints `listening on http://ADDR` first (as
/// `serve` does), then where laptops find it.
pub async fn run(config: RelayConfig) -> Result<()> {
    let relay = Relay::open(config.clone())?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Listen {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(Error::Serve)?;
    println!("listening on http://{addr}");
    http::print_where_to_find(addr);
    let _announced = announce::announce(addr, &config.upstream);
    tracing::info!(%addr, upstream = %config.upstream, "relay listening");
    tokio::spawn(forward::pushes(relay.clone()));
    tokio::spawn(forward::community(relay.clone()));
    tokio::spawn(forward::packs(relay.clone()));
    crate::http::serve_router(listener, http::router(relay), Duration::from_secs(30)).await
}
