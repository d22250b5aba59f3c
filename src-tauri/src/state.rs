//! What the commands share: the core (or why it could not open) and start-up timing.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use stopover_core::Core;
use stopover_core::content::{self, PackFiles};
use stopover_core::store::DataDirLock;

use crate::error::{CommandError, CommandResult};

/// Overrides the data folder (tests, portable installs).
const DATA_DIR_ENV: &str = "STOPOVER_DATA_DIR";
/// Loads the content pack from a folder instead of the one built in (pack authors, tests).
const CONTENT_DIR_ENV: &str = "STOPOVER_CONTENT_DIR";
/// When set, `ui_ready` appends `<ms since main> <unix ms> <pid>` to this file (benchmarks).
const READY_FILE_ENV: &str = "STOPOVER_READY_FILE";

/// The data folder named by [`DATA_DIR_ENV`], when it is set (known before the app starts).
pub fn data_dir_override() -> Option<PathBuf> {
    std::env::var_os(DATA_DIR_ENV).map(PathBuf::from)
}

pub fn data_dir(platform_default: Option<PathBuf>) -> PathBuf {
    std::env::var_os(DATA_DIR_ENV)
        .map(PathBuf::from)
        .or(platform_default)
        .unwrap_or_else(|| PathBuf::from("stopover-data"))
}

/// The OS keyring, kept for a sync service started after a recovery.
pub struct Secrets(pub Arc<dyn stopover_core::secrets::SecretStore>);

/// The content pack to open the store with: [`CONTENT_DIR_ENV`] when set, else the newest
/// pack that arrived by sync (its signature checked again), else the one built in.
fn load_pack(data_dir: &Path) -> Result<PackFiles, content::PackError> {
    match std::env::var_os(CONTENT_DIR_ENV) {
        Some(dir) => PackFiles::from_dir(Path::new(&dir)),
        None => Ok(PackFiles::installed_or_embedded(
            data_dir,
            &content::update::trusted_pack_keys(),
        )),
    }
}

pub struct AppState {
    /// The data folder's lock, held as long as the app runs (one Stopover per folder).
    _lock: Option<DataDirLock>,
    /// Replaced once, when a recovery or restore from the error screen lets the store open.
    core: RwLock<Result<Arc<Core>, CommandError>>,
    pub data_dir: PathBuf,
    launched: Instant,
    ready: AtomicBool,
}

impl AppState {
    pub fn open(data_dir: &Path, launched: Instant) -> Self {
        // Another Stopover on this folder (in another session, where the single-instance
        // plugin cannot see it): say so, and leave the database alone.
        let lock = match DataDirLock::acquire(data_dir) {
            Ok(lock) => lock,
            Err(e) => {
                tracing::error!(code = %e.code(), error = %e, data_dir = %data_dir.display(), "data folder in use: the database was not opened");
                return Self {
                    _lock: None,
                    core: RwLock::new(Err(crate::error::report(e))),
                    data_dir: data_dir.to_path_buf(),
                    launched,
                    ready: AtomicBool::new(false),
                };
            }
        };
        let core = Core::open(data_dir, load_pack(data_dir))
            .map(Arc::new)
            .map_err(|e| {
                tracing::error!(error = %e, "cannot open the store");
                crate::error::report(e)
            });
        tracing::info!(elapsed_ms = launched.elapsed().as_millis() as u64, data_dir = %data_dir.display(), "core opened");
        Self {
            _lock: Some(lock),
            core: RwLock::new(core),
            data_dir: data_dir.to_path_buf(),
            launched,
            ready: AtomicBool::new(false),
        }
    }

    pub fn core(&self) -> CommandResult<Arc<Core>> {
        self.core
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(stopover_core::store::DATABASE_FILE)
    }

    /// Runs `repair` on the database file while no core has it open (the store could not
    /// open, e.g. it is damaged), then opens the store again. The data folder's lock is
    /// still held, so nothing else has the file either.
    pub async fn repair<T, F>(&self, repair: F) -> CommandResult<(T, Arc<Core>)>
    where
        T: Send + 'static,
        F: FnOnce(&Path) -> stopover_core::Result<T> + Send + 'static,
    {
        if self._lock.is_none() || self.core().is_ok() {
            return Err(crate::error::report(stopover_core::Error::invalid(
                stopover_core::ErrorCode::InvalidValue,
                "the database is open or its folder is in use: recovery runs from the error screen only",
            )));
        }
        let data_dir = self.data_dir.clone();
        let path = self.database_path();
        let (done, core) = tauri::async_runtime::spawn_blocking(move || {
            let done = repair(&path)?;
            let core = Core::open(&data_dir, load_pack(&data_dir))?;
            Ok::<_, stopover_core::Error>((done, Arc::new(core)))
        })
        .await
        .map_err(crate::error::internal)?
        .map_err(crate::error::report)?;
        *self
            .core
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Ok(Arc::clone(&core));
        Ok((done, core))
    }

    /// Runs `f` against the core on the blocking thread pool. Once a query has met a damaged
    /// page, every command answers `database_damaged` (the file is no longer written to).
    pub async fn run<T, F>(&self, f: F) -> CommandResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Core) -> stopover_core::Result<T> + Send + 'static,
    {
        let core = self.core()?;
        tauri::async_runtime::spawn_blocking(move || {
            core.check_not_damaged()?;
            f(&core).map_err(|e| core.damaged(e))
        })
        .await
        .map_err(crate::error::internal)?
        .map_err(crate::error::report)
    }

    /// Records the first "UI on screen" signal: logs it and, for benchmarks, writes it out.
    pub fn mark_ready(&self) {
        if self.ready.swap(true, Ordering::SeqCst) {
            return;
        }
        let ms = self.launched.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(startup_ms = ms, "home view rendered");
        if let Some(path) = std::env::var_os(READY_FILE_ENV) {
            use std::io::Write;
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| {
                    let unix_ms = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis())
                        .unwrap_or(0);
                    writeln!(f, "{ms:.1} {unix_ms} {}", std::process::id())
                });
            if let Err(e) = written {
                tracing::warn!(error = %e, "cannot write the ready file");
            }
        }
    }
}
