//! Content pack updates: signed packs from the e-community server, verified before they
//! replace anything.
//!
//! # How to use
//!
//! ```no_run
//! # async fn demo(core: &stopover_core::Core, client: &stopover_core::sync::SyncClient, token: &str) -> stopover_core::Result<()> {
//! use stopover_core::content::update;
//!
//! // At start-up, instead of `PackFiles::embedded()`:
//! // let pack = Ok(PackFiles::installed_or_embedded(&data_dir, &update::trusted_pack_keys()));
//!
//! // When online:
//! if let Some(release) = update::check_for_pack_update(core, client, token).await? {
//!     let report = update::download_and_install(core, client, token, &release, &update::trusted_pack_keys()).await?;
//!     println!("now on content {}", report.version);
//! }
//! # Ok(()) }
//! ```
//!
//! # What installing does, in order
//!
//! 1. Downloads the archive (at most the release's size, capped at
//!    [`MAX_PACK_ARCHIVE_BYTES`]) and checks its size and SHA-256 against the release.
//! 2. Verifies the ed25519 signature over the archive's bytes with the trusted key the release
//!    names, before reading anything inside it. Unsigned, tampered or signed by an unknown key:
//!    refused ([`Error::PackRefused`] saying which).
//! 3. Unpacks it and validates it as a pack ([`Pack::parse`]); its manifest version must be the
//!    release's and newer than the installed one.
//! 4. Stores the archive as `packs/<sha256>.json.gz` in the data folder (temporary file, fsync,
//!    rename), imports it into SQLite in one transaction, and, inside that transaction, points
//!    `packs/active.json` at it (again temporary file, fsync, rename) before committing.
//!
//! If any step fails, the content in use and the user's data are untouched. If the app dies
//! after the pointer moved but before the commit, the next start-up finds the new, verified pack
//! installed and imports it then.
//!
//! At start-up [`PackFiles::installed_or_embedded`] verifies the installed archive again
//! (signature included) and uses it when it is newer than the pack built into the app; anything
//! wrong with it is logged and the built-in pack used.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use reqwest::Method;
use sha2::{Digest, Sha256};
use stopover_protocol::PackRelease;
use stopover_protocol::files::{hex, is_sha256_hex};
use stopover_protocol::packs::{
    MAX_PACK_ARCHIVE_BYTES, PackArchive, compare_versions, is_newer_version, key_id, parse_version,
};

use super::import::{ImportReport, import_in, imported_pack};
use super::pack::{Pack, PackFiles};
use crate::sync::SyncClient;
use crate::sync::client::{REQUEST_TIMEOUT, network_error};
use crate::{ContentStatus, Core, Error, Result};

/// The public keys (ed25519, hex) whose signatures this app accepts on content packs. The
/// Secretariat holds the matching private key offline (`ecommunity pack keygen` made it; it
/// is in no repository). To rotate: add the new public key here, ship the app, then sign with
/// the new key.
pub const TRUSTED_PACK_KEYS: &[&str] =
    &["df65fbd613522cd268b22ab713cf6365606b960b22be376927ddab01577b211c"];

/// Folder of the data directory holding installed packs.
pub const PACKS_DIR: &str = "packs";
/// The release of the installed pack, in [`PACKS_DIR`]: the atomic "which pack" pointer.
pub const ACTIVE_FILE: &str = "active.json";

/// [`TRUSTED_PACK_KEYS`] as keys.
pub fn trusted_pack_keys() -> Vec<VerifyingKey> {
    TRUSTED_PACK_KEYS
        .iter()
        .map(|h| parse_public_key(h).expect("TRUSTED_PACK_KEYS holds valid ed25519 public keys"))
        .collect()
}

/// An ed25519 public key from 64 hex digits.
pub fn parse_public_key(hex_key: &str) -> Option<VerifyingKey> {
    let h = hex_key.trim();
    if h.len() != 64 || !h.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok()?;
    }
    VerifyingKey::from_bytes(&bytes).ok()
}

fn refused(release: &PackRelease, reason: impl Into<String>) -> Error {
    Error::PackRefused {
        version: release.version.chars().take(40).collect(),
        reason: reason.into(),
    }
}

/// Checks archive bytes against their release and the trusted keys, then unpacks and
/// validates them as a pack. Nothing inside the archive is read before the signature verifies.
pub fn verify_archive(
    release: &PackRelease,
    bytes: &[u8],
    trusted_keys: &[VerifyingKey],
) -> Result<(PackFiles, Pack)> {
    if bytes.len() as u64 != release.size {
        return Err(refused(
            release,
            format!(
                "the archive has {} bytes, the release says {}",
                bytes.len(),
                release.size
            ),
        ));
    }
    if hex(&Sha256::digest(bytes)) != release.sha256 {
        return Err(refused(
            release,
            "the archive's SHA-256 does not match the release",
        ));
    }
    if release.signature.trim().is_empty() {
        return Err(refused(release, "the pack is not signed"));
    }
    let key = trusted_keys
        .iter()
        .find(|k| key_id(k.as_bytes()) == release.key_id)
        .ok_or_else(|| {
            refused(
                release,
                format!(
                    "unknown signing key `{}`",
                    release.key_id.chars().take(64).collect::<String>()
                ),
            )
        })?;
    let signature = STANDARD
        .decode(release.signature.trim())
        .ok()
        .and_then(|raw| Signature::from_slice(&raw).ok())
        .ok_or_else(|| {
            refused(
                release,
                "the signature is malformed (expected base64 of 64 bytes)",
            )
        })?;
    key.verify_strict(bytes, &signature)
        .map_err(|_| refused(release, "signature does not match"))?;

    let archive = PackArchive::decode(bytes).map_err(|reason| {
        refused(
            release,
            format!("archive is not a valid pack: archive: {reason}"),
        )
    })?;
    let files = PackFiles(
        archive
            .files
            .into_iter()
            .map(|(path, text)| (path, text.into_bytes()))
            .collect(),
    );
    let pack = Pack::parse(&files).map_err(|e| {
        refused(
            release,
            format!("archive is not a valid pack: {}: {}", e.file, e.reason),
        )
    })?;
    if compare_versions(&pack.manifest.version, &release.version) != Some(std::cmp::Ordering::Equal)
    {
        return Err(refused(
            release,
            format!(
                "the archive holds version {}, the release says {}",
                pack.manifest.version, release.version
            ),
        ));
    }
    Ok((files, pack))
}

/// `GET /v1/packs/latest`, when it is newer than the pack in the database. `None` when the
/// server has published nothing or nothing newer.
pub async fn check_for_pack_update(
    core: &Core,
    client: &SyncClient,
    token: &str,
) -> Result<Option<PackRelease>> {
    let response = client
        .request_url(Method::GET, client.url("v1/packs/latest"))
        .bearer_auth(token)
        .send()
        .await
        .map_err(network_error)?;
    if !response.status().is_success() {
        return match client.error_from(response).await {
            Error::Server {
                status: 404,
                code: stopover_protocol::ErrorCode::NoPack,
                ..
            } => Ok(None),
            e => Err(e),
        };
    }
    let (release, _): (PackRelease, _) =
        client.read_json(response, "a content pack release").await?;
    if parse_version(&release.version).is_none() || !is_sha256_hex(&release.sha256) {
        return Err(Error::BadAnswer(format!(
            "the pack release `{}` is malformed",
            release.version.chars().take(40).collect::<String>()
        )));
    }
    Ok(is_newer_than_installed(core, &release)?.then_some(release))
}

/// Whether `release` is newer than the pack in the database (or none is there).
pub fn is_newer_than_installed(core: &Core, release: &PackRelease) -> Result<bool> {
    let installed = imported_pack(&core.conn())?.map(|(version, _)| version);
    Ok(installed.is_none_or(|v| is_newer_version(&release.version, &v)))
}

/// Downloads, verifies and installs `release` (see the module documentation). On any
/// failure the content in use stays and the user's data is untouched.
pub async fn download_and_install(
    core: &Core,
    client: &SyncClient,
    token: &str,
    release: &PackRelease,
    trusted_keys: &[VerifyingKey],
) -> Result<ImportReport> {
    let request = || {
        let url = client.url(&format!("v1/packs/{}/archive", release.version));
        client.request_url(Method::GET, url).bearer_auth(token)
    };
    fetch_and_install(core, client, request, release, trusted_keys).await
}

/// Checks `release` (from the server or a workshop relay), sends the request `request`
/// makes for its archive (with `client`, which reads its errors), reads no more than the release's size, and installs what came if
/// its signature holds.
pub(crate) async fn fetch_and_install(
    core: &Core,
    client: &SyncClient,
    request: impl FnOnce() -> reqwest::RequestBuilder,
    release: &PackRelease,
    trusted_keys: &[VerifyingKey],
) -> Result<ImportReport> {
    if release.size > MAX_PACK_ARCHIVE_BYTES {
        return Err(refused(
            release,
            format!(
                "the archive would be {} MiB, more than the {} MiB allowed",
                release.size >> 20,
                MAX_PACK_ARCHIVE_BYTES >> 20
            ),
        ));
    }
    if parse_version(&release.version).is_none() {
        return Err(refused(release, "its version is not dotted numbers"));
    }
    // Enough time for the archive at 32 kbit/s, on top of the usual.
    let timeout = REQUEST_TIMEOUT + Duration::from_secs(release.size / 4096);
    let mut response = request()
        .timeout(timeout)
        .send()
        .await
        .map_err(network_error)?;
    if !response.status().is_success() {
        return Err(client.error_from(response).await);
    }
    let mut bytes = Vec::with_capacity(release.size as usize);
    while let Some(chunk) = response.chunk().await.map_err(network_error)? {
        if (bytes.len() + chunk.len()) as u64 > release.size {
            return Err(refused(
                release,
                format!(
                    "{} sent more than the {} bytes of the release",
                    client.server_url(),
                    release.size
                ),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    install_archive(core, release, &bytes, trusted_keys)
}

/// Installs archive bytes already at hand: [`download_and_install`] without the download.
pub fn install_archive(
    core: &Core,
    release: &PackRelease,
    bytes: &[u8],
    trusted_keys: &[VerifyingKey],
) -> Result<ImportReport> {
    let (_, pack) = verify_archive(release, bytes, trusted_keys)?;
    let mut conn = core.conn();
    if let Some((installed, _)) = imported_pack(&conn)?
        && !is_newer_version(&pack.manifest.version, &installed)
    {
        return Err(refused(
            release,
            format!("it is not newer than the installed content {installed}"),
        ));
    }

    let dir = core.data_dir().join(PACKS_DIR);
    let storage = |e: std::io::Error| Error::DataDir {
        path: dir.clone(),
        source: e,
    };
    fs::create_dir_all(&dir).map_err(storage)?;
    let archive_path = dir.join(archive_name(&release.sha256));
    write_atomically(&archive_path, bytes).map_err(storage)?;

    let active = dir.join(ACTIVE_FILE);
    let previous = fs::read(&active).ok();
    let pointer = serde_json::to_vec_pretty(release).expect("a release serializes");

    let tx = conn.transaction()?;
    let report = import_in(&tx, &pack)?;
    write_atomically(&active, &pointer).map_err(storage)?;
    if let Err(e) = tx.commit() {
        // Put the old pointer back, so files and database agree on the old pack.
        let restored = match &previous {
            Some(old) => write_atomically(&active, old),
            None => fs::remove_file(&active),
        };
        if let Err(r) = restored {
            tracing::error!(error = %r, "content pack: could not restore the previous pointer; the new pack will be imported at start-up");
        }
        return Err(e.into());
    }
    drop(conn);
    remove_other_archives(&dir, &archive_path);
    core.set_content_status(ContentStatus::Ready {
        version: report.version.clone(),
    });
    tracing::info!(version = %report.version, items = report.items, "content pack update installed");
    Ok(report)
}

fn archive_name(sha256: &str) -> String {
    format!("{sha256}.json.gz")
}

/// Temporary file beside `path`, fsync, rename over `path`, fsync of the folder.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Best effort: archives of older packs and temporary files of interrupted installs.
fn remove_other_archives(dir: &Path, keep: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = (name.ends_with(".json.gz") && path != keep)
            || (name.starts_with('.') && name.ends_with(".tmp"));
        if stale && let Err(e) = fs::remove_file(&path) {
            tracing::warn!(file = %path.display(), error = %e, "content pack: could not remove an old file");
        }
    }
}

/// The installed pack in `data_dir`, verified again: `Ok(None)` when none is installed, the
/// reason when it cannot be used.
pub fn installed_pack(
    data_dir: &Path,
    trusted_keys: &[VerifyingKey],
) -> std::result::Result<Option<(PackRelease, PackFiles)>, String> {
    let dir = data_dir.join(PACKS_DIR);
    let pointer = match fs::read(dir.join(ACTIVE_FILE)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "cannot read {}: {e}",
                dir.join(ACTIVE_FILE).display()
            ));
        }
    };
    let release: PackRelease =
        serde_json::from_slice(&pointer).map_err(|e| format!("{ACTIVE_FILE} is damaged: {e}"))?;
    if !is_sha256_hex(&release.sha256) {
        return Err(format!("{ACTIVE_FILE} names no valid archive"));
    }
    let path: PathBuf = dir.join(archive_name(&release.sha256));
    let bytes = fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let (files, _) = verify_archive(&release, &bytes, trusted_keys).map_err(|e| e.to_string())?;
    Ok(Some((release, files)))
}

impl PackFiles {
    /// The pack to open the app with: the installed update (verified again, signature
    /// included) when it is newer than the pack built into the app, else the built-in one.
    /// Whatever is wrong with an installed pack is logged, and the built-in pack used.
    pub fn installed_or_embedded(data_dir: &Path, trusted_keys: &[VerifyingKey]) -> PackFiles {
        let embedded = PackFiles::embedded();
        match installed_pack(data_dir, trusted_keys) {
            Ok(None) => embedded,
            Ok(Some((release, files))) => {
                let built_in = embedded_version(&embedded);
                match built_in {
                    Some(v) if !is_newer_version(&release.version, &v) => {
                        tracing::info!(installed = %release.version, built_in = %v, "content pack: the built-in pack is as new as the installed update; using it");
                        embedded
                    }
                    _ => {
                        tracing::info!(version = %release.version, "content pack: using the installed update");
                        files
                    }
                }
            }
            Err(reason) => {
                tracing::warn!(%reason, "content pack: the installed update cannot be used; using the built-in pack");
                embedded
            }
        }
    }
}

/// The version in a pack's manifest, without parsing the rest.
fn embedded_version(files: &PackFiles) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Version {
        version: String,
    }
    let text = std::str::from_utf8(files.0.get("manifest.toml")?).ok()?;
    toml::from_str::<Version>(text).ok().map(|v| v.version)
}

#[cfg(test)]
mod tests;
