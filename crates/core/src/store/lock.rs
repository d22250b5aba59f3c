//! One Stopover per data folder: a lock on `stopover.lock` in the folder, held for as long as
//! the app runs. A second launch on the same folder (another window, another session, the
//! same folder on a shared drive) finds it taken and opens nothing: two writers on one
//! database showed "Saved" in one window for a value the other had overwritten.
//!
//! The operating system releases the lock when the process ends, however it ends, so a crash
//! never leaves the folder locked.

use std::fs::{File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, ErrorCode, Result};

/// The lock file's name inside the data folder.
pub const LOCK_FILE: &str = "stopover.lock";

/// Held while the app uses the data folder; dropping it lets the next launch in.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    path: PathBuf,
}

impl DataDirLock {
    /// Takes the data folder's lock, or fails with [`ErrorCode::DataDirInUse`] when another
    /// Stopover holds it.
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock> {
        std::fs::create_dir_all(data_dir).map_err(|source| Error::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(LOCK_FILE);
        let mut file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|source| Error::DataDir {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let display = data_dir.display().to_string();
                return Err(Error::invalid(
                    ErrorCode::DataDirInUse,
                    format!("another Stopover is already using the data folder {display}"),
                )
                .with("path", display));
            }
            Err(TryLockError::Error(source)) => {
                return Err(Error::DataDir { path, source });
            }
        }
        // Who holds it, for a person looking at the folder (the lock is what counts).
        let _ = file
            .set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()));
        Ok(DataDirLock { _file: file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let second = DataDirLock::acquire(dir.path()).unwrap_err();
        assert_eq!(second.code(), ErrorCode::DataDirInUse);
        assert!(second.to_string().contains("already using"), "{second}");
        drop(first);
        DataDirLock::acquire(dir.path()).expect("free again");
    }
}
