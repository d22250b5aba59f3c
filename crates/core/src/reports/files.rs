//! Files attached to report answers. A `file` question's answer names the file and its
//! SHA-256 (`carte des sites.pdf sha256:9f86…`, see `stopover_protocol::reports::file_answer`);
//! the bytes live in the data folder under `attachments/<sha256>`, copied there when the file
//! is picked, so deleting or moving the original loses nothing. They reach the server by
//! [`crate::sync::attachments::upload_pending`]; a colleague's device fetches them only when
//! someone opens them ([`keep_downloaded`]).

use std::path::PathBuf;

use rusqlite::params;
use serde::Serialize;
use sha2::{Digest, Sha256};
use stopover_forms::QuestionType;
use stopover_protocol::files::{MAX_FILENAME_CHARS, attachment_type_allowed, hex};
use stopover_protocol::reports::{file_answer, parse_file_answer};

use super::answers::{LiveState, change, upsert};
use super::{NOW, Target, resolve};
use crate::sync::attachments::{self, ATTACHMENTS_DIR, keep_copy};
use crate::{Core, Error, ErrorCode, ErrorReport, Result};

/// Folder of the data directory holding copies named as the person knows them, for opening.
pub const OPENED_DIR: &str = "opened";

/// Where a report's file stands on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// On this device, waiting to be uploaded (the next sync sends it).
    Waiting,
    /// On this device and on the server.
    Uploaded,
    /// The server will not take it: see `refused`.
    Refused,
    /// Attached by a colleague: on the server, fetched when opened.
    Remote,
}

/// One file named by an answer of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportFile {
    /// The answer path of the `file` question.
    pub path: String,
    pub filename: String,
    pub sha256: String,
    /// Bytes, when the file is on this device.
    pub size: Option<u64>,
    pub state: FileState,
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<ErrorReport>,
}

/// The file name as kept: no folders, no control characters, at most 255 characters.
fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_FILENAME_CHARS)
        .collect();
    cleaned.trim().to_string()
}

fn size_mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1048576.0)
}

/// Checks a file against what attachments may be (type by its name, size by the server's
/// limit as last heard), before anything is copied: the refusal says what is allowed.
pub fn check_file(core: &Core, filename: &str, size: u64) -> Result<()> {
    let limits = attachments::limits(core)?;
    if !attachment_type_allowed(filename) {
        return Err(Error::invalid(
            ErrorCode::AttachmentTypeRefused,
            format!(
                "`{filename}` is not a type of file attachments may be ({})",
                limits.extensions.join(", ")
            ),
        )
        .with("file", filename)
        .with("types", limits.extensions.join(", ")));
    }
    if size > limits.max_bytes {
        return Err(Error::invalid(
            ErrorCode::AttachmentTooLarge,
            format!(
                "`{filename}` has {} MiB; attachments are limited to {} MiB",
                size_mib(size),
                size_mib(limits.max_bytes)
            ),
        )
        .with("file", filename)
        .with("max_mib", size_mib(limits.max_bytes))
        .with("size_mib", size_mib(size)));
    }
    Ok(())
}

/// Attaches `bytes` (the picked file, named `filename`) to the `file` question at `path`:
/// checks type and size, keeps the bytes under `attachments/<sha256>` in the data folder
/// (durably, before anything points at them), then in one transaction records the attachment
/// for upload, sets the answer and queues it for sync. Returns the live state after it.
pub fn attach_file(
    core: &Core,
    draft_id: &str,
    path: &str,
    filename: &str,
    bytes: &[u8],
) -> Result<LiveState> {
    let filename = clean_filename(filename);
    check_file(core, &filename, bytes.len() as u64)?;
    let sha256 = hex(&Sha256::digest(bytes));
    let dir = core.data_dir().join(ATTACHMENTS_DIR);
    let target = dir.join(&sha256);
    keep_copy(&dir, &target, bytes)?;
    let stored = target.to_string_lossy().into_owned();
    change(core, draft_id, |tx, form, state| {
        match resolve(form, Some(state), path)? {
            Target::Question(q) if q.kind == QuestionType::File => {}
            _ => {
                return Err(Error::invalid(
                    ErrorCode::NotAFileQuestion,
                    format!("`{path}` does not take a file"),
                )
                .with("question", path));
            }
        }
        tx.execute(
            &format!(
                "INSERT INTO attachment (sha256, path, size, filename, created_at) VALUES (?1, ?2, ?3, ?4, {NOW})
                 ON CONFLICT (sha256) DO UPDATE SET path = excluded.path, filename = excluded.filename, refused_json = NULL"
            ),
            params![sha256, stored, bytes.len() as i64, filename],
        )?;
        upsert(tx, draft_id, path, &file_answer(&filename, &sha256))
    })
}

/// Every file the answers of a draft name, in answer path order, with where each stands.
pub fn report_files(core: &Core, draft_id: &str) -> Result<Vec<ReportFile>> {
    let answers = super::draft_answers(core, draft_id)?;
    let mut out = Vec::new();
    for (path, value) in answers {
        let Some((filename, sha256)) = parse_file_answer(&value) else {
            continue;
        };
        let row = attachments::get_attachment(core, sha256)?;
        let local = row.as_ref().is_some_and(|a| on_disk(&a.path, a.size));
        let (state, refused) = match &row {
            Some(a) if a.uploaded => (FileState::Uploaded, None),
            Some(a) if a.refused.is_some() => (FileState::Refused, a.refused.clone()),
            Some(_) if local => (FileState::Waiting, None),
            _ => (FileState::Remote, None),
        };
        out.push(ReportFile {
            path,
            filename: filename.to_string(),
            sha256: sha256.to_string(),
            size: row.filter(|_| local).map(|a| a.size),
            state,
            refused,
        });
    }
    Ok(out)
}

fn on_disk(path: &std::path::Path, size: u64) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.len() == size)
}

/// How many files of a draft are on this device but not yet on the server (refused ones
/// included): a report is submitted with its files or not at all.
pub fn files_waiting(core: &Core, draft_id: &str) -> Result<usize> {
    Ok(report_files(core, draft_id)?
        .iter()
        .filter(|f| matches!(f.state, FileState::Waiting | FileState::Refused))
        .count())
}

/// The bytes of an attachment as kept on this device, if they are here and whole.
pub fn local_path(core: &Core, sha256: &str) -> Result<Option<PathBuf>> {
    if let Some(a) = attachments::get_attachment(core, sha256)?
        && on_disk(&a.path, a.size)
    {
        return Ok(Some(a.path));
    }
    Ok(None)
}

/// Keeps the bytes of a colleague's attachment fetched from the server (their SHA-256 checked)
/// under `attachments/<sha256>`, recorded as already on the server.
pub fn keep_downloaded(core: &Core, sha256: &str, filename: &str, bytes: &[u8]) -> Result<PathBuf> {
    if hex(&Sha256::digest(bytes)) != sha256 {
        return Err(Error::BadAnswer(format!(
            "the file fetched does not have the SHA-256 {sha256}"
        )));
    }
    let dir = core.data_dir().join(ATTACHMENTS_DIR);
    let target = dir.join(sha256);
    keep_copy(&dir, &target, bytes)?;
    core.conn().execute(
        &format!(
            "INSERT INTO attachment (sha256, path, size, filename, uploaded, created_at) VALUES (?1, ?2, ?3, ?4, 1, {NOW})
             ON CONFLICT (sha256) DO UPDATE SET path = excluded.path, uploaded = 1, refused_json = NULL"
        ),
        params![sha256, target.to_string_lossy(), bytes.len() as i64, clean_filename(filename)],
    )?;
    Ok(target)
}

/// A copy of a kept attachment under its own name (`opened/<first 12 hex digits>/<name>`), for
/// the system to open with the right program. Made again when missing.
pub fn openable_copy(core: &Core, sha256: &str, filename: &str) -> Result<PathBuf> {
    let Some(source) = local_path(core, sha256)? else {
        return Err(Error::NotFound(format!(
            "attachment {sha256} on this device"
        )));
    };
    let name = match clean_filename(filename) {
        n if n.is_empty() || n == "." || n == ".." => "attachment".to_string(),
        n => n,
    };
    let dir = core
        .data_dir()
        .join(OPENED_DIR)
        .join(&sha256[..12.min(sha256.len())]);
    let target = dir.join(name);
    let io = |e: std::io::Error| Error::DataDir {
        path: dir.clone(),
        source: e,
    };
    if !target
        .metadata()
        .is_ok_and(|m| m.len() == source.metadata().map_or(0, |s| s.len()))
    {
        std::fs::create_dir_all(&dir).map_err(io)?;
        std::fs::copy(&source, &target).map_err(io)?;
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_no_folders_or_control_characters() {
        assert_eq!(
            clean_filename("/home/amina/Carte des sites.pdf"),
            "Carte des sites.pdf"
        );
        assert_eq!(clean_filename("C:\\Users\\x\\Łódź.docx"), "Łódź.docx");
        assert_eq!(clean_filename("a\nb.pdf"), "ab.pdf");
        assert_eq!(clean_filename(&"é".repeat(300)).chars().count(), 255);
    }
}
