//! Background sync for the app: one long-lived task that syncs when there is something to
//! send, when the network comes back, on a jittered timer, or when the person asks — and
//! backs off (exponential, full jitter, Retry-After honoured) while the server is away.
//!
//! Attachments upload in a task of their own beside the rounds (smallest first, resuming from
//! the server's offset), so a large file on a slow link never holds back a ticked box: the
//! rounds go on meanwhile, and the indicator shows the bytes and time left.
//!
//! The rules of sync live in stopover-core; this file only decides *when*, and tells the UI
//! (the `sync-status` event) what is happening.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use stopover_core::content;
use stopover_core::reports::{Draft, submission};
use stopover_core::secrets::SecretStore;
use stopover_core::sync::attachments::{self, UploadsProgress};
use stopover_core::sync::{self, Backoff, RelayStatus, SyncClient, SyncPhase, SyncProgress};
use stopover_core::{Core, Error, ErrorCode};
use tauri::{AppHandle, Emitter};
use tokio::sync::Notify;

use crate::error::{CommandError, CommandResult};

/// Event carrying a [`SyncStatusView`] whenever it changes (ui/src/lib/api.ts).
pub const SYNC_STATUS_EVENT: &str = "sync-status";
/// Event carrying the new pack version after a signed content pack was installed.
pub const CONTENT_UPDATED_EVENT: &str = "content-updated";
/// Quiet period after a local edit before pushing, so a burst of ticks goes in one push.
const EDIT_DEBOUNCE: Duration = Duration::from_secs(2);
/// How often to look for news from the server when nothing else happens (jittered ±50%,
/// so fifty laptops at one workshop do not ask in the same second).
const IDLE_PERIOD: Duration = Duration::from_secs(120);
/// How soon a round follows one that left changes waiting at a workshop relay.
const HELD_AT_RELAY_PERIOD: Duration = Duration::from_secs(15);
/// How often a sync round also asks for a newer content pack (and at the first round after
/// start). Packs are published a few times a year; asking every round would add a second
/// exchange to each (0.6 s on a 300 ms link) for nothing.
const PACK_CHECK_PERIOD: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
pub struct ProgressView {
    phase: SyncPhase,
    done: u64,
    total: u64,
    /// Bytes sent and received so far in this round. There is no byte total: the server does
    /// not say how much a pull will bring.
    bytes_done: u64,
}

/// Where sync stands, as the header's indicator says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// No account on this device (never signed in, or signed out).
    SignedOut,
    Syncing,
    /// A person must act: sign in again, settle a conflict, read a refusal, fix a setting.
    NeedsAttention,
    /// The server cannot be reached for now; sync retries by itself.
    Offline,
    /// Changes wait to be sent.
    Waiting,
    UpToDate,
}

/// The indicator's view of sync.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct SyncStatusView {
    state: SyncState,
    server: Option<String>,
    account: Option<String>,
    waiting: u32,
    conflicts: u32,
    rejected: u32,
    last_sync: Option<String>,
    last_error: Option<CommandError>,
    next_attempt: Option<String>,
    progress: Option<ProgressView>,
    sign_in_required: bool,
    /// Seconds this laptop's clock is off the server's (positive: behind), when more than a
    /// few minutes: the app warns, and dates follow the server's time meanwhile.
    clock_skew_secs: Option<i64>,
    /// Attachments on this device not yet on the server (refused ones not counted).
    files_waiting: u32,
    /// Attachments the server would not take: the person replaces them at their question.
    files_refused: u32,
    /// While attachments upload: bytes and time left.
    uploads: Option<UploadsProgress>,
    /// The workshop relay rounds go through, when one is set (its uplink, the changes it
    /// holds for this laptop).
    relay: Option<RelayStatus>,
}

#[derive(Default)]
struct Live {
    syncing: bool,
    progress: Option<ProgressView>,
    next_attempt: Option<SystemTime>,
    uploads: Option<UploadsProgress>,
}

pub struct SyncService {
    core: Arc<Core>,
    secrets: Arc<dyn SecretStore>,
    app: AppHandle,
    wake: Notify,
    /// Set by a local edit: the loop waits [`EDIT_DEBOUNCE`] before syncing.
    edited: Notify,
    live: Mutex<Live>,
    /// The client of the server signed in to, kept across rounds: its pool keeps the
    /// connection (HTTP/2 or keep-alive) and its TLS session cache resumes the session when a
    /// new connection is needed. A new client per round would pay TCP and a full TLS
    /// handshake every time (two round trips and the certificate chain on a slow link).
    client: Mutex<Option<SyncClient>>,
    /// When the last content pack check succeeded.
    pack_checked: Mutex<Option<std::time::Instant>>,
    /// A pack version a relay offered whose archive was refused (a changed or damaged copy),
    /// and when: not fetched from a relay again for [`PACK_CHECK_PERIOD`].
    relay_pack_refused: Mutex<Option<(String, std::time::Instant)>>,
    /// Held while attachments upload (the background task, or a submission finishing them).
    uploading: tokio::sync::Mutex<()>,
}

fn iso(t: SystemTime) -> String {
    // Whole seconds, UTC, as the UI shows them (`time` is already in the app through tauri).
    let t = time::OffsetDateTime::from(t);
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl SyncService {
    pub fn start(
        core: Arc<Core>,
        secrets: Arc<dyn SecretStore>,
        app: AppHandle,
    ) -> Arc<SyncService> {
        let service = Arc::new(SyncService {
            core,
            secrets,
            app,
            wake: Notify::new(),
            edited: Notify::new(),
            live: Mutex::new(Live::default()),
            client: Mutex::new(None),
            pack_checked: Mutex::new(None),
            relay_pack_refused: Mutex::new(None),
            uploading: tokio::sync::Mutex::new(()),
        });
        tauri::async_runtime::spawn(Arc::clone(&service).run_loop());
        service
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sync as soon as possible (network came back, signed in).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A local change was queued: sync after a short quiet period.
    pub fn edited(&self) {
        self.edited.notify_one();
    }

    pub fn status(&self) -> CommandResult<SyncStatusView> {
        let s = sync::status(&self.core)?;
        let files = attachments::attachments(&self.core)?;
        let files_waiting = files
            .iter()
            .filter(|a| !a.uploaded && a.refused.is_none())
            .count() as u32;
        let files_refused = files
            .iter()
            .filter(|a| !a.uploaded && a.refused.is_some())
            .count() as u32;
        let live = self.live();
        let last_code = s.last_error.as_ref().map(|e| e.code);
        let sign_in_required = last_code == Some(ErrorCode::SignInRequired);
        let transient = matches!(
            last_code,
            Some(
                ErrorCode::Network
                    | ErrorCode::NotOurServer
                    | ErrorCode::BadAnswer
                    | ErrorCode::ServerBusy
            )
        );
        // Signed out by the person (or never signed in): the sign-in form, whatever the last
        // error was. Signed out by the server (token revoked): that needs attention.
        let state = if !s.signed_in && !sign_in_required {
            SyncState::SignedOut
        } else if live.syncing {
            SyncState::Syncing
        } else if sign_in_required
            || s.conflicts > 0
            || s.rejected > 0
            || files_refused > 0
            || (s.last_error.is_some() && !transient)
        {
            SyncState::NeedsAttention
        } else if transient {
            SyncState::Offline
        } else if s.waiting > 0 || files_waiting > 0 {
            SyncState::Waiting
        } else {
            SyncState::UpToDate
        };
        Ok(SyncStatusView {
            state,
            server: s.server_url,
            account: s.account,
            waiting: s.waiting,
            conflicts: s.conflicts,
            rejected: s.rejected,
            last_sync: s.last_sync_at,
            last_error: s.last_error,
            next_attempt: live.next_attempt.map(iso),
            progress: live.progress.clone(),
            sign_in_required,
            clock_skew_secs: s.clock_skew_secs,
            files_waiting,
            files_refused,
            uploads: live.uploads.clone(),
            relay: s.relay,
        })
    }

    pub fn publish(&self) {
        match self.status() {
            Ok(status) => {
                if let Err(e) = self.app.emit(SYNC_STATUS_EVENT, status) {
                    tracing::warn!(error = %e, "cannot emit the sync status");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the sync status"),
        }
    }

    pub fn secrets(&self) -> &dyn SecretStore {
        self.secrets.as_ref()
    }

    pub fn core(&self) -> &Core {
        &self.core
    }

    /// "Sync now" by hand: files the server refused are tried again (its limits or the quota
    /// may have changed), then one round.
    pub async fn sync_now_by_hand(self: &Arc<Self>) -> Result<(), Error> {
        let core = Arc::clone(&self.core);
        tauri::async_runtime::spawn_blocking(move || attachments::retry_refused(&core))
            .await
            .map_err(|e| Error::internal(e.to_string()))??;
        self.sync_now().await
    }

    /// One sync round now, then the attachments in the background. Errors are recorded by
    /// core in the sync state (the indicator shows them) and returned.
    pub async fn sync_now(self: &Arc<Self>) -> Result<(), Error> {
        // Nothing pulled goes into a file known to be damaged.
        self.core.check_not_damaged()?;
        let (client, token) = self.connection()?;
        {
            let mut live = self.live();
            live.syncing = true;
            live.progress = None;
        }
        self.publish();
        let on_progress = |p: SyncProgress| {
            self.live().progress = Some(ProgressView {
                phase: p.phase,
                done: p.done,
                total: p.total.unwrap_or(p.done),
                bytes_done: p.bytes_sent + p.bytes_received,
            });
            self.publish();
        };
        let relay = sync::relay_url(&self.core.conn())?;
        let mut result = match &relay {
            // At a workshop: through the relay on the LAN (the server may be out of reach).
            Some(relay) => match sync::sync_through_relay(&self.core, relay, &token).await {
                Ok(report) => {
                    // A newer pack the relay holds: over the LAN, so no waiting for a period.
                    let pack = match &report.pack {
                        Some(release) => {
                            self.update_content_pack_from_relay(relay, &token, release)
                                .await
                        }
                        None => Ok(()),
                    };
                    // More waits at the relay and the last answer brought some: go on soon.
                    if report.more && report.pulled + report.community_pages > 0 {
                        self.wake();
                    } else if report.held > 0 {
                        // Changes wait at the relay for the server: ask again soon (a LAN
                        // round; the relay spares the uplink), so they show as sent soon after
                        // the server answers.
                        let service = Arc::clone(self);
                        tauri::async_runtime::spawn(async move {
                            tokio::time::sleep(sync::jittered(HELD_AT_RELAY_PERIOD)).await;
                            service.wake();
                        });
                    }
                    pack
                }
                Err(e) => Err(e),
            },
            None => sync::sync_once_with_progress(&self.core, &client, &token, &on_progress)
                .await
                .map(|_| ()),
        };
        // Through a relay, packs come with its answer (above).
        let pack_due = relay.is_none()
            && self
                .pack_checked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_none_or(|at| at.elapsed() >= PACK_CHECK_PERIOD);
        if result.is_ok() && pack_due {
            result = self.update_content_pack(&client, &token).await;
            if result.is_ok() {
                *self.pack_checked.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(std::time::Instant::now());
            }
        }
        {
            let mut live = self.live();
            live.syncing = false;
            live.progress = None;
        }
        match &result {
            Ok(()) => {
                tracing::info!("sync round done");
                backup_if_due(Arc::clone(&self.core));
            }
            Err(e) => tracing::info!(code = %e.code(), error = %e, "sync round failed"),
        }
        // A damaged page met by the sync: stop writing to the file, as a command would.
        let result = result.map_err(|e| match e.is_corruption() {
            true => self.core.damaged(e),
            false => e,
        });
        if result.is_ok() {
            self.start_uploads();
        }
        self.publish();
        result
    }

    /// Starts uploading the attachments that wait, in a task of its own, unless that task
    /// already runs or nothing waits.
    pub fn start_uploads(self: &Arc<Self>) {
        let waiting = attachments::pending_uploads(&self.core).map(|p| !p.is_empty());
        if !matches!(waiting, Ok(true)) {
            return;
        }
        let Ok(guard) = self.uploading.try_lock() else {
            return; // already running
        };
        drop(guard);
        let service = Arc::clone(self);
        tauri::async_runtime::spawn(async move {
            if let Err(e) = service.upload_waiting().await {
                tracing::info!(code = %e.code(), error = %e, "attachments: upload stopped; it resumes at the next sync");
            }
        });
    }

    /// Uploads every attachment that waits, smallest first, telling the indicator the bytes
    /// and time left; one run at a time (a second waits for the first, then finds less to do).
    async fn upload_waiting(&self) -> Result<(), Error> {
        let _running = self.uploading.lock().await;
        let (client, token) = self.connection()?;
        let on_progress = |p: UploadsProgress| {
            self.live().uploads = Some(p);
            self.publish();
        };
        let result = attachments::upload_pending(&self.core, &client, &token, &on_progress).await;
        self.live().uploads = None;
        self.publish();
        match result {
            Ok(report) => {
                tracing::info!(
                    uploaded = report.uploaded.len(),
                    refused = report.refused.len(),
                    "attachments uploaded"
                );
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Downloads a colleague's attachment (checked against its SHA-256) into this device's
    /// data folder, when someone opens it.
    pub async fn download_attachment(&self, sha256: &str, filename: &str) -> Result<(), Error> {
        let (client, token) = self.connection()?;
        let bytes = match attachments::download(&client, &token, sha256).await {
            Ok(bytes) => bytes,
            Err(Error::Server { status: 404, .. } | Error::Server { status: 409, .. }) => {
                return Err(Error::invalid(
                    ErrorCode::AttachmentNotOnServer,
                    format!("`{filename}` has not reached the server yet"),
                )
                .with("file", filename));
            }
            Err(e) => return Err(e),
        };
        let core = Arc::clone(&self.core);
        let (sha, name) = (sha256.to_string(), filename.to_string());
        tauri::async_runtime::spawn_blocking(move || {
            stopover_core::reports::files::keep_downloaded(&core, &sha, &name, &bytes)
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))??;
        Ok(())
    }

    /// The client for the server this device is signed in to, and the device token.
    fn connection(&self) -> Result<(SyncClient, String), Error> {
        let status = sync::status(&self.core)?;
        let Some(url) = status.server_url.filter(|_| status.signed_in) else {
            return Err(Error::SignInRequired(
                "sign in to the e-community server first".into(),
            ));
        };
        let client = {
            let mut kept = self.client.lock().unwrap_or_else(|p| p.into_inner());
            match kept.as_ref() {
                Some(c) if c.server_url() == url => c.clone(),
                _ => {
                    let c = SyncClient::new(&url)?;
                    *kept = Some(c.clone());
                    c
                }
            }
        };
        let token = sync::device_token(&self.core, self.secrets.as_ref())?;
        Ok((client, token))
    }

    /// True when this device is signed in to a server (reports are then submitted through it).
    pub fn signed_in(&self) -> Result<bool, Error> {
        Ok(sync::status(&self.core)?.signed_in)
    }

    /// Submits a report through the server: a sync round first, so every answer typed here
    /// is there and every colleague's is here, then the submission, which the server checks
    /// against its own copy.
    pub async fn submit_report(self: &Arc<Self>, draft_id: &str) -> Result<Draft, Error> {
        self.sync_now().await?;
        // The report travels with its files: whatever of them waits goes first.
        self.upload_waiting().await?;
        let (client, token) = self.connection()?;
        let draft = submission::submit_to_server(&self.core, &client, &token, draft_id).await?;
        self.publish();
        Ok(draft)
    }

    /// Installs a newer signed content pack if the server has one. A refused pack (bad
    /// signature, damaged) is logged and skipped: the installed one stays, sync goes on.
    async fn update_content_pack(&self, client: &SyncClient, token: &str) -> Result<(), Error> {
        let Some(release) =
            content::update::check_for_pack_update(&self.core, client, token).await?
        else {
            return Ok(());
        };
        if self.pack_waits(&release)? {
            return Ok(());
        }
        let keys = content::update::trusted_pack_keys();
        let installed =
            content::update::download_and_install(&self.core, client, token, &release, &keys).await;
        self.content_pack_installed(&release, installed)
    }

    /// Installs the newer content pack a workshop relay holds (see
    /// [`sync::pack_from_relay`]), as [`Self::update_content_pack`] does from the server.
    async fn update_content_pack_from_relay(
        &self,
        relay: &str,
        token: &str,
        release: &content::PackRelease,
    ) -> Result<(), Error> {
        let refused_lately = self
            .relay_pack_refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|(v, at)| *v == release.version && at.elapsed() < PACK_CHECK_PERIOD);
        if refused_lately || self.pack_waits(release)? {
            return Ok(());
        }
        let keys = content::update::trusted_pack_keys();
        let installed = sync::pack_from_relay(&self.core, relay, token, release, &keys).await;
        if matches!(installed, Err(Error::PackRefused { .. })) {
            *self
                .relay_pack_refused
                .lock()
                .unwrap_or_else(|p| p.into_inner()) =
                Some((release.version.clone(), std::time::Instant::now()));
        }
        self.content_pack_installed(release, installed)
    }

    /// A pack is the traffic that waits on a metered connection or a spent budget.
    fn pack_waits(&self, release: &content::PackRelease) -> Result<bool, Error> {
        let waits = sync::meter::defers(&self.core)?;
        if waits {
            tracing::info!(version = %release.version, "content pack waits: metered connection or budget spent");
        }
        Ok(waits)
    }

    fn content_pack_installed(
        &self,
        release: &content::PackRelease,
        installed: Result<content::ImportReport, Error>,
    ) -> Result<(), Error> {
        let size = release.size;
        match installed {
            Ok(report) => {
                tracing::info!(version = %report.version, items = report.items, "content pack updated");
                sync::meter::record(&self.core.conn(), sync::TrafficKind::Content, 0, size)?;
                if let Err(e) = self.app.emit(CONTENT_UPDATED_EVENT, &report.version) {
                    tracing::warn!(error = %e, "cannot emit the content update");
                }
                Ok(())
            }
            Err(e @ Error::PackRefused { .. }) => {
                tracing::warn!(version = %release.version, error = %e, "content pack refused");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn run_loop(self: Arc<Self>) {
        let mut backoff = Backoff::default();
        // A first look shortly after start, once the window is up.
        let mut delay = Duration::from_secs(3);
        loop {
            self.live().next_attempt = Some(SystemTime::now() + delay);
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = self.wake.notified() => {}
                _ = self.edited.notified() => tokio::time::sleep(EDIT_DEBOUNCE).await,
            }
            self.live().next_attempt = None;
            let signed_in = sync::status(&self.core)
                .map(|s| s.signed_in)
                .unwrap_or(false);
            if !signed_in {
                delay = IDLE_PERIOD;
                continue;
            }
            delay = match self.sync_now().await {
                Ok(()) => {
                    backoff.reset();
                    sync::jittered(IDLE_PERIOD)
                }
                Err(Error::SyncInProgress) => sync::jittered(EDIT_DEBOUNCE),
                // None: a person has to act (sign in again, resolve): just keep an eye out.
                Err(e) => backoff
                    .delay_after(&e)
                    .unwrap_or_else(|| sync::jittered(IDLE_PERIOD)),
            };
            self.publish();
        }
    }
}

/// A local backup of the database unless one is less than a day old, on the blocking pool
/// (it reads through its own connection: nothing waits for it).
pub fn backup_if_due(core: Arc<Core>) {
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(e) = core.backup_if_due() {
            tracing::warn!(code = %e.code(), error = %e, "no backup written");
        }
    });
}

/// The `SyncService`, once the store is open: at start, or after a recovery or restore
/// from the error screen (until then the app shows that screen).
#[derive(Default)]
pub struct SyncHandle(std::sync::OnceLock<Arc<SyncService>>);

impl SyncHandle {
    pub fn started(service: Option<Arc<SyncService>>) -> SyncHandle {
        let handle = SyncHandle::default();
        if let Some(service) = service {
            let _ = handle.0.set(service);
        }
        handle
    }

    /// Starts the service if it is not running yet (the store opened after a recovery).
    pub fn start_once(&self, start: impl FnOnce() -> Arc<SyncService>) {
        self.0.get_or_init(start);
    }

    pub fn service(&self) -> Option<Arc<SyncService>> {
        self.0.get().cloned()
    }

    /// Tells the loop a local change was queued and the indicator that one more waits
    /// (no-op when sync is unavailable).
    pub fn edited(&self) {
        if let Some(service) = self.0.get() {
            service.edited();
            service.publish();
        }
    }

    pub fn get(&self) -> CommandResult<Arc<SyncService>> {
        self.service().ok_or_else(|| {
            crate::error::report(Error::invalid(
                ErrorCode::SyncUnavailable,
                "sync is unavailable because the local database could not be opened",
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::iso;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn formats_utc_timestamps() {
        assert_eq!(iso(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            iso(UNIX_EPOCH + Duration::from_secs(1_795_822_245)),
            "2026-11-27T23:30:45Z"
        );
        assert_eq!(
            iso(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }
}
