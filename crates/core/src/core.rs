//! [`Core`]: the open database plus the state of the content pack, shared by the app's
//! commands. One connection behind a mutex is the single writer the store asks for.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use rusqlite::Connection;
use serde::Serialize;
use stopover_protocol::RecordKind;

use crate::clock::{Clock, ServerClock, SystemClock};
use crate::content::{self, Pack, PackError, PackFiles};
use crate::store::recovery::{BackupInfo, RecoveryReport};
use crate::store::{self, DATABASE_FILE};
use crate::sync::kinds::{KindRegistry, LocalKind};
use crate::user::settings;
use crate::{Error, FALLBACK_LANGUAGE, Result, check_language};

/// Whether the content pack could be used at start-up.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ContentStatus {
    Ready {
        version: String,
    },
    /// The pack is missing or damaged. `installed_version` is the last good pack still in the
    /// database, if any: the reader can go on with it.
    Broken {
        file: String,
        reason: String,
        installed_version: Option<String>,
    },
}

pub struct Core {
    conn: Mutex<Connection>,
    /// Changes when a pack update is installed ([`crate::content::update`]).
    content: RwLock<ContentStatus>,
    data_dir: PathBuf,
    /// Set while a sync runs, so two (the timer's and "Sync now") never overlap.
    sync_running: AtomicBool,
    /// Set while attachments upload: beside a sync round, never two at once.
    uploads_running: AtomicBool,
    /// Where each record kind lives here ([`crate::record_kinds`]), for the sync engine.
    kinds: KindRegistry,
    /// The server's time as last measured: every time rule uses it ([`crate::clock`]).
    server_clock: Arc<ServerClock>,
    /// Set when opening found damage only in content and search tables and rebuilt them.
    rebuilt: Option<RecoveryReport>,
    /// Set when a query met damage: the connection is then read-only (see [`Core::damaged`]).
    damaged: Mutex<Option<Vec<String>>>,
}

/// Held while a sync runs; dropping it lets the next one start.
pub(crate) struct SyncRunning<'a>(&'a AtomicBool);

impl Drop for SyncRunning<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Core {
    /// Opens the store in `data_dir` and imports `pack` if it differs from the one installed.
    /// A bad pack is not an error here: it is recorded in [`ContentStatus::Broken`] and the
    /// user's data stays reachable. A database this version cannot read is an error.
    pub fn open(data_dir: &Path, pack: std::result::Result<PackFiles, PackError>) -> Result<Core> {
        Core::open_with_clock(data_dir, pack, Arc::new(SystemClock))
    }

    /// [`Core::open`] with the laptop's clock given (tests set it years off).
    pub fn open_with_clock(
        data_dir: &Path,
        pack: std::result::Result<PackFiles, PackError>,
        clock: Arc<dyn Clock>,
    ) -> Result<Core> {
        let (mut conn, rebuilt) = store::open_checked(&data_dir.join(DATABASE_FILE))?;
        let server_clock = Arc::new(ServerClock::new(clock));
        server_clock.load(&conn)?;
        // The usual start: the pack is the one already imported (and validated then), so a
        // hash comparison replaces parsing every file, form and link again.
        let installed = content::imported_pack(&conn)?;
        if let (Ok(files), Some((version, hash))) = (&pack, &installed)
            && files.hash() == *hash
        {
            return Ok(Core::with(
                conn,
                ContentStatus::Ready {
                    version: version.clone(),
                },
                data_dir,
                server_clock,
                rebuilt,
            ));
        }
        let content = match pack.and_then(|files| Pack::parse(&files)) {
            Ok(pack) => {
                content::import(&mut conn, &pack)?;
                ContentStatus::Ready {
                    version: pack.manifest.version,
                }
            }
            Err(e) => {
                tracing::error!(file = %e.file, reason = %e.reason, "content pack refused");
                ContentStatus::Broken {
                    file: e.file,
                    reason: e.reason,
                    installed_version: installed.map(|(version, _)| version),
                }
            }
        };
        Ok(Core::with(conn, content, data_dir, server_clock, rebuilt))
    }

    fn with(
        conn: Connection,
        content: ContentStatus,
        data_dir: &Path,
        server_clock: Arc<ServerClock>,
        rebuilt: Option<RecoveryReport>,
    ) -> Core {
        Core {
            conn: Mutex::new(conn),
            content: RwLock::new(content),
            data_dir: data_dir.to_path_buf(),
            sync_running: AtomicBool::new(false),
            uploads_running: AtomicBool::new(false),
            kinds: crate::record_kinds::local,
            server_clock,
            rebuilt,
            damaged: Mutex::new(None),
        }
    }

    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    /// What opening repaired without asking (damaged content or search tables), if anything.
    pub fn rebuilt_on_open(&self) -> Option<&RecoveryReport> {
        self.rebuilt.as_ref()
    }

    /// A backup of the database unless one was written in the last day
    /// ([`store::recovery::BACKUP_INTERVAL`]); it reads through its own connection.
    pub fn backup_if_due(&self) -> Result<Option<BackupInfo>> {
        store::recovery::backup_if_due(&self.database_path(), store::recovery::BACKUP_INTERVAL)
    }

    /// A "malformed" or "not a database" error turned into [`Error::DatabaseDamaged`], with
    /// the file and the tables a quick check finds damaged; any other error unchanged.
    /// From then on the connection is read-only (`query_only`): nothing more goes into a
    /// damaged file; the next start checks it and offers recovery.
    pub fn damaged(&self, e: Error) -> Error {
        if !e.is_corruption() || matches!(e, Error::DatabaseDamaged { .. }) {
            return e;
        }
        let conn = self.conn();
        let tables = match store::recovery::check(&conn) {
            store::recovery::Health::Damaged(tables) => tables,
            store::recovery::Health::Ok => vec!["*".into()],
        };
        if let Err(e) = conn.pragma_update(None, "query_only", true) {
            tracing::error!(error = %e, "cannot stop writing to the damaged database");
        }
        drop(conn);
        tracing::error!(error = %e, ?tables, "the database is damaged: no more writes to it");
        *self
            .damaged
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(tables.clone());
        Error::DatabaseDamaged {
            path: self.database_path(),
            tables,
        }
    }

    /// [`Error::DatabaseDamaged`] once a query met damage (see [`Core::damaged`]).
    pub fn check_not_damaged(&self) -> Result<()> {
        match &*self
            .damaged
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
        {
            Some(tables) => Err(Error::DatabaseDamaged {
                path: self.database_path(),
                tables: tables.clone(),
            }),
            None => Ok(()),
        }
    }

    /// The server's time as this laptop knows it: what every time rule uses.
    pub fn server_clock(&self) -> &Arc<ServerClock> {
        &self.server_clock
    }

    /// The content pack in use: the one found at start-up, or the update installed since.
    pub fn content_status(&self) -> ContentStatus {
        self.content
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub(crate) fn set_content_status(&self, status: ContentStatus) {
        *self
            .content
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = status;
    }

    /// How the record kind `kind` is held on this device.
    pub fn local_kind(&self, kind: RecordKind) -> &'static dyn LocalKind {
        (self.kinds)(kind)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The connection, for one unit of work. Callers keep the guard short.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll
        // back on drop), so a poisoned lock is safe to reuse.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks a sync as running, or fails with [`Error::SyncInProgress`] if one already is.
    pub(crate) fn begin_sync(&self) -> Result<SyncRunning<'_>> {
        if self.sync_running.swap(true, Ordering::AcqRel) {
            return Err(Error::SyncInProgress);
        }
        Ok(SyncRunning(&self.sync_running))
    }

    /// Marks attachment uploads as running (they go beside sync rounds, so a large file never
    /// holds back a tick), or fails with [`Error::SyncInProgress`] if they already are.
    pub(crate) fn begin_uploads(&self) -> Result<SyncRunning<'_>> {
        if self.uploads_running.swap(true, Ordering::AcqRel) {
            return Err(Error::SyncInProgress);
        }
        Ok(SyncRunning(&self.uploads_running))
    }

    pub fn language(&self) -> Result<String> {
        let stored = settings::get(&self.conn(), "language")?;
        Ok(stored
            .filter(|l| check_language(l).is_ok())
            .unwrap_or_else(|| FALLBACK_LANGUAGE.to_string()))
    }

    pub fn set_language(&self, lang: &str) -> Result<()> {
        let lang = check_language(lang)?;
        settings::set(&self.conn(), "language", lang)
    }
}
