//! Signed content packs: building an archive from a folder, signing it, publishing it, and
//! the `pack_release` rows the HTTP side serves (see `stopover_protocol::packs`).
//!
//! The signing key is an ed25519 private key kept as its 32-byte seed in hex, in a file the
//! Secretariat holds offline (`ecommunity pack keygen`). Only its public half is built into
//! the app.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use stopover_protocol::PackRelease;
use stopover_protocol::files::hex;
use stopover_protocol::packs::{
    PackArchive, is_newer_version, is_pack_path, key_id, parse_version,
};

use crate::attachments::store::sync_dir;

pub mod signed;
use crate::db::unix_now;
use crate::error::{Error, Result};

/// Where the archive of `version` is kept under the data folder's `packs/`.
pub fn archive_path(packs_dir: &Path, version: &str) -> PathBuf {
    packs_dir.join(format!("{version}.json.gz"))
}

const COLUMNS: &str = "version, sha256, size, signature, key_id";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PackRelease> {
    Ok(PackRelease {
        version: r.get(0)?,
        sha256: r.get(1)?,
        size: r.get::<_, i64>(2)? as u64,
        signature: r.get(3)?,
        key_id: r.get(4)?,
    })
}

/// The last pack published, if any.
pub fn latest(conn: &Connection) -> Result<Option<PackRelease>> {
    let sql = format!("SELECT {COLUMNS} FROM pack_release ORDER BY seq DESC LIMIT 1");
    Ok(conn.query_row(&sql, [], from_row).optional()?)
}

/// The release of `version`, if it was published.
pub fn find(conn: &Connection, version: &str) -> Result<Option<PackRelease>> {
    let sql = format!("SELECT {COLUMNS} FROM pack_release WHERE version = ?1");
    Ok(conn.query_row(&sql, [version], from_row).optional()?)
}

/// Every file of the pack folder `dir` (dot-files and dot-folders skipped), each of which
/// must be UTF-8 text.
pub fn read_pack_dir(dir: &Path) -> Result<PackArchive> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<()> {
        let entries = fs::read_dir(dir)
            .map_err(|e| Error::Pack(format!("cannot read the folder {}: {e}", dir.display())))?;
        let mut paths: Vec<PathBuf> = Vec::new();
        for entry in entries {
            paths.push(
                entry
                    .map_err(|e| {
                        Error::Pack(format!("cannot read the folder {}: {e}", dir.display()))
                    })?
                    .path(),
            );
        }
        for path in paths {
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out)?;
                continue;
            }
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            if !is_pack_path(&rel) {
                return Err(Error::Pack(format!(
                    "{rel}: not a usable path inside a pack"
                )));
            }
            let bytes =
                fs::read(&path).map_err(|e| Error::Pack(format!("{rel}: cannot read: {e}")))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                Error::Pack(format!(
                    "{rel}: not UTF-8 text (packs hold text files only)"
                ))
            })?;
            out.insert(rel, text);
        }
        Ok(())
    }
    if !dir.is_dir() {
        return Err(Error::Pack(format!("{} is not a folder", dir.display())));
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files)?;
    Ok(PackArchive { files })
}

/// The `version` in the pack's `manifest.toml`: present and dotted numeric.
pub fn manifest_version(archive: &PackArchive) -> Result<String> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        version: String,
    }
    let text = archive.files.get("manifest.toml").ok_or_else(|| {
        Error::Pack("manifest.toml: missing: this is not a content pack folder".into())
    })?;
    let manifest: Manifest = toml::from_str(text)
        .map_err(|e| Error::Pack(format!("manifest.toml: {}", e.message().trim())))?;
    if parse_version(&manifest.version).is_none() {
        return Err(Error::Pack(format!(
            "manifest.toml: version `{}` must be dotted numbers, e.g. 2026.12.0",
            manifest.version
        )));
    }
    Ok(manifest.version)
}

/// Reads a private key file: the 32-byte seed as 64 hex digits.
pub fn load_signing_key(path: &Path) -> Result<SigningKey> {
    let text = fs::read_to_string(path)
        .map_err(|e| Error::Pack(format!("cannot read the key file {}: {e}", path.display())))?;
    let seed = decode_hex32(text.trim()).ok_or_else(|| {
        Error::Pack(format!(
            "the key file {} must hold a 32-byte ed25519 seed as 64 hex digits",
            path.display()
        ))
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A new private key written to `out` (never over an existing file; owner-only permissions
/// on Unix). Returns the public key.
pub fn keygen(out: &Path) -> Result<VerifyingKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| Error::Random(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(out)
        .map_err(|e| Error::Pack(format!("cannot create the key file {}: {e}", out.display())))?;
    file.write_all(format!("{}\n", hex(&seed)).as_bytes())
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::Pack(format!("cannot write the key file {}: {e}", out.display())))?;
    Ok(key.verifying_key())
}

/// The release describing `archive_bytes` signed with `key`.
pub fn sign(version: &str, archive_bytes: &[u8], key: &SigningKey) -> PackRelease {
    PackRelease {
        version: version.to_string(),
        sha256: hex(&Sha256::digest(archive_bytes)),
        size: archive_bytes.len() as u64,
        signature: STANDARD.encode(key.sign(archive_bytes).to_bytes()),
        key_id: key_id(&key.verifying_key().to_bytes()),
    }
}

/// `ecommunity pack publish`: builds the archive of `pack_dir`, signs it with the key in
/// `key_file`, writes it to `DATA/packs/<version>.json.gz` and records the release. Refuses a
/// version that is not greater than the latest published one.
pub fn publish(
    conn: &mut Connection,
    data_dir: &Path,
    key_file: &Path,
    pack_dir: &Path,
) -> Result<PackRelease> {
    let key = load_signing_key(key_file)?;
    let archive = read_pack_dir(pack_dir)?;
    let version = manifest_version(&archive)?;
    let bytes = archive.encode();
    let release = sign(&version, &bytes, &key);

    // IMMEDIATE: two publishers cannot both pass the version check.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(latest) = latest(&tx)?
        && !is_newer_version(&version, &latest.version)
    {
        return Err(Error::Pack(format!(
            "version {version} is not newer than the latest published pack {}; raise `version` in manifest.toml",
            latest.version
        )));
    }
    let packs_dir = data_dir.join("packs");
    write_atomically(&packs_dir, &archive_path(&packs_dir, &version), &bytes).map_err(|e| {
        Error::Pack(format!(
            "cannot store the archive in {}: {e}",
            packs_dir.display()
        ))
    })?;
    tx.execute(
        "INSERT INTO pack_release (version, sha256, size, signature, key_id, published_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![release.version, release.sha256, release.size as i64, release.signature, release.key_id, unix_now()],
    )?;
    tx.commit()?;
    Ok(release)
}

/// Temporary file, fsync, rename, fsync of the folder.
pub(crate) fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = path.with_extension("gz.tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    sync_dir(dir)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ed25519_dalek::Verifier;

    pub(crate) fn write_pack(dir: &Path, version: &str) {
        fs::create_dir_all(dir.join("manual/en")).unwrap();
        fs::write(
            dir.join("manifest.toml"),
            format!("id = \"t\"\nversion = \"{version}\"\nlanguages = [\"en\"]\n"),
        )
        .unwrap();
        fs::write(
            dir.join("manual/en/meetings.md"),
            "+++\ntitle = \"Meetings\"\nsummary = \"S\"\norder = 1\n+++\nText é.\n",
        )
        .unwrap();
        fs::write(dir.join(".DS_Store"), [0xff, 0xfe]).unwrap();
    }

    #[test]
    fn keygen_then_sign_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key");
        let public = keygen(&key_file).unwrap();
        assert!(keygen(&key_file).is_err(), "never overwrites a key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let key = load_signing_key(&key_file).unwrap();
        assert_eq!(key.verifying_key(), public);
        let release = sign("1.0", b"archive", &key);
        assert_eq!(release.key_id, hex(public.as_bytes()));
        let sig =
            ed25519_dalek::Signature::from_slice(&STANDARD.decode(&release.signature).unwrap())
                .unwrap();
        assert!(public.verify(b"archive", &sig).is_ok());
        assert!(public.verify(b"archivE", &sig).is_err());

        fs::write(&key_file, "not hex").unwrap();
        assert!(
            load_signing_key(&key_file)
                .unwrap_err()
                .to_string()
                .contains("64 hex digits")
        );
    }

    #[test]
    fn reading_a_pack_folder() {
        let dir = tempfile::tempdir().unwrap();
        write_pack(dir.path(), "2026.12.0");
        let archive = read_pack_dir(dir.path()).unwrap();
        assert_eq!(
            archive.files.keys().collect::<Vec<_>>(),
            ["manifest.toml", "manual/en/meetings.md"]
        );
        assert_eq!(manifest_version(&archive).unwrap(), "2026.12.0");
        fs::write(dir.path().join("manual/en/logo.png"), [0x89, 0x50, 0xff]).unwrap();
        let e = read_pack_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("manual/en/logo.png: not UTF-8"), "{e}");
        let mut archive = PackArchive::default();
        archive
            .files
            .insert("manifest.toml".into(), "version = \"12-beta\"".into());
        assert!(
            manifest_version(&archive)
                .unwrap_err()
                .to_string()
                .contains("dotted numbers")
        );
    }
}
