//! Saving a file the person asked for (an export, a copy of an attachment): the system's save
//! dialog, opened where documents usually go, with a sensible name; or, with
//! `STOPOVER_EXPORT_DIR` set (tests, scripted use), straight into that folder without asking,
//! never overwriting a file there.

use std::io::Write;
use std::path::{Path, PathBuf};

use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::DialogExt;

/// Files go to this folder without a dialog when it is set.
const EXPORT_DIR_ENV: &str = "STOPOVER_EXPORT_DIR";

/// Saves `bytes` as `<stem>.<ext>`: into `STOPOVER_EXPORT_DIR` when set, else where the person
/// chooses in the save dialog. `Ok(None)` when they cancelled. The error is a sentence for the
/// log and the export error's details.
pub async fn save_file(
    app: &AppHandle,
    stem: &str,
    ext: &str,
    bytes: Vec<u8>,
) -> Result<Option<PathBuf>, String> {
    if let Some(dir) = std::env::var_os(EXPORT_DIR_ENV) {
        let (dir, stem, ext) = (PathBuf::from(dir), stem.to_string(), ext.to_string());
        return tauri::async_runtime::spawn_blocking(move || {
            write_new_file(&dir, &stem, &ext, &bytes).map(Some)
        })
        .await
        .map_err(|e| format!("background task failed: {e}"))?;
    }
    let Some(path) = ask_where(app, &format!("{stem}.{ext}"), ext).await? else {
        return Ok(None);
    };
    tauri::async_runtime::spawn_blocking(move || write_replacing(&path, &bytes).map(|_| path))
        .await
        .map_err(|e| format!("background task failed: {e}"))?
        .map(Some)
}

/// The folder the dialog opens in: Documents when the system has one, else the home folder,
/// else wherever the dialog likes (never a failure: some systems have no Documents folder).
fn start_folder(app: &AppHandle) -> Option<PathBuf> {
    let paths = app.path();
    [paths.document_dir().ok(), paths.home_dir().ok()]
        .into_iter()
        .flatten()
        .find(|d| d.is_dir())
}

/// The system's save dialog; `None` when cancelled.
async fn ask_where(app: &AppHandle, name: &str, ext: &str) -> Result<Option<PathBuf>, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let mut dialog = app
        .dialog()
        .file()
        .set_file_name(name)
        .add_filter(ext.to_uppercase(), &[ext]);
    if let Some(dir) = start_folder(app) {
        dialog = dialog.set_directory(dir);
    }
    dialog.save_file(move |chosen| {
        let _ = tx.send(chosen);
    });
    let chosen = rx
        .await
        .map_err(|_| "the save dialog closed without an answer".to_string())?;
    match chosen {
        None => Ok(None),
        Some(path) => path
            .into_path()
            .map(Some)
            .map_err(|e| format!("the save dialog gave no usable path: {e}")),
    }
}

/// Writes `bytes` to `path` (the person chose it, and confirmed replacing it if it existed)
/// through a temporary file beside it, so a failure never leaves half a file under that name.
fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp =
        tempfile_in(dir).map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    let written = tmp
        .1
        .write_all(bytes)
        .and_then(|_| tmp.1.sync_all())
        .and_then(|_| std::fs::rename(&tmp.0, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp.0);
        return Err(format!("cannot write {}: {e}", path.display()));
    }
    Ok(())
}

/// A new file with a hidden name in `dir`.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    for n in 0..1000u32 {
        let path = dir.join(format!(".stopover-save-{}-{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary name"))
}

/// Writes `bytes` to `dir/stem.ext`, or `stem-2.ext`, `stem-3.ext`… when taken: an existing
/// file is never overwritten. Returns the path written.
pub fn write_new_file(dir: &Path, stem: &str, ext: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for n in 1..10_000 {
        let name = if n == 1 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem}-{n}.{ext}")
        };
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                let written = f.write_all(bytes).and_then(|_| f.sync_all());
                if let Err(e) = written {
                    // Do not leave a half-written file behind under a name the user will see.
                    let _ = std::fs::remove_file(&path);
                    return Err(format!("cannot write {}: {e}", path.display()));
                }
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
        }
    }
    Err(format!(
        "{} already holds 9,999 files named {stem}; move some away",
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_never_overwrite_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let a = write_new_file(dir, "cms-COP15", "csv", b"one").unwrap();
        let b = write_new_file(dir, "cms-COP15", "csv", b"two").unwrap();
        let c = write_new_file(dir, "cms-COP15", "csv", b"three").unwrap();
        assert_eq!(a, dir.join("cms-COP15.csv"));
        assert_eq!(b, dir.join("cms-COP15-2.csv"));
        assert_eq!(c, dir.join("cms-COP15-3.csv"));
        assert_eq!(std::fs::read(&a).unwrap(), b"one");
        assert_eq!(std::fs::read(&c).unwrap(), b"three");
    }

    #[test]
    fn a_chosen_file_is_replaced_whole_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Rapport national.pdf");
        std::fs::write(&path, b"old and longer").unwrap();
        write_replacing(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no/such/folder/x.pdf");
        assert!(
            write_replacing(&missing, b"x")
                .unwrap_err()
                .contains("cannot write")
        );
    }
}
