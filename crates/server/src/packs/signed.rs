//! Signed pack files: a pack signed offline (`ecommunity pack sign`) and published later from
//! the console, so the private key never has to be on the server. The file is a zip holding
//! `release.json` (the [`PackRelease`]: version, SHA-256, size, signature, key) and
//! `archive.json.gz` (the archive's bytes, as signed).
//!
//! Before anything is replaced, [`verify`] checks: the size and SHA-256, the ed25519 signature
//! over the bytes, that the key is one this server trusts (the key of a pack it published
//! before, or one given with `serve --pack-signer`), that the archive opens within its
//! limits, that its manifest names the signed version, that the version is newer than the
//! latest, and that every report form in it loads. [`publish`] then stores it as the CLI does.

use std::io::{Cursor, Read, Write};
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use rusqlite::{Connection, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use stopover_protocol::PackRelease;
use stopover_protocol::files::hex;
use stopover_protocol::packs::{MAX_PACK_ARCHIVE_BYTES, PackArchive, is_newer_version};

use super::{archive_path, latest, load_signing_key, manifest_version, read_pack_dir, sign};
use crate::db::unix_now;
use crate::error::{Error, Result};

pub const RELEASE_FILE: &str = "release.json";
pub const ARCHIVE_FILE: &str = "archive.json.gz";

/// `ecommunity pack sign`: the signed pack file of `pack_dir`, written to `out` (never over
/// an existing file).
pub fn sign_to_file(key_file: &Path, pack_dir: &Path, out: &Path) -> Result<PackRelease> {
    let key = load_signing_key(key_file)?;
    let archive = read_pack_dir(pack_dir)?;
    let version = manifest_version(&archive)?;
    let bytes = archive.encode();
    let release = sign(&version, &bytes, &key);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let fail = |e: zip::result::ZipError| Error::Pack(format!("cannot write the signed pack: {e}"));
    zip.start_file(RELEASE_FILE, stored).map_err(fail)?;
    zip.write_all(serde_json::to_string_pretty(&release)?.as_bytes())
        .map_err(|e| Error::Pack(e.to_string()))?;
    zip.start_file(ARCHIVE_FILE, stored).map_err(fail)?;
    zip.write_all(&bytes)
        .map_err(|e| Error::Pack(e.to_string()))?;
    let file = zip.finish().map_err(fail)?.into_inner();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .map_err(|e| Error::Pack(format!("cannot create {}: {e}", out.display())))?;
    f.write_all(&file)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::Pack(format!("cannot write {}: {e}", out.display())))?;
    Ok(release)
}

/// The release and archive bytes of a signed pack file (nothing checked yet but its shape).
pub fn read(file: &[u8]) -> Result<(PackRelease, Vec<u8>)> {
    let not_one = |why: String| {
        Error::Pack(format!(
            "this is not a signed pack file from `ecommunity pack sign`: {why}"
        ))
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(file)).map_err(|e| not_one(e.to_string()))?;
    let mut take = |name: &str, max: u64| -> Result<Vec<u8>> {
        let entry = zip
            .by_name(name)
            .map_err(|_| not_one(format!("{name} is missing")))?;
        let mut out = Vec::new();
        entry
            .take(max + 1)
            .read_to_end(&mut out)
            .map_err(|e| not_one(format!("{name}: {e}")))?;
        if out.len() as u64 > max {
            return Err(not_one(format!("{name} is larger than {max} bytes")));
        }
        Ok(out)
    };
    let release: PackRelease = serde_json::from_slice(&take(RELEASE_FILE, 64 * 1024)?)
        .map_err(|e| not_one(format!("{RELEASE_FILE}: {e}")))?;
    let bytes = take(ARCHIVE_FILE, MAX_PACK_ARCHIVE_BYTES)?;
    Ok((release, bytes))
}

fn public_key(key_id: &str) -> Option<VerifyingKey> {
    if key_id.len() != 64 || !key_id.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&key_id[2 * i..2 * i + 2], 16).ok()?;
    }
    VerifyingKey::from_bytes(&bytes).ok()
}

/// The keys this server takes signed packs from: those of packs it published, and `extra`.
pub fn trusted_keys(conn: &Connection, extra: &[String]) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT DISTINCT key_id FROM pack_release")?;
    let mut keys: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    keys.extend(extra.iter().map(|k| k.trim().to_ascii_lowercase()));
    Ok(keys)
}

/// Every check before a signed pack may replace the published one. Returns the archive.
pub fn verify(
    conn: &Connection,
    release: &PackRelease,
    bytes: &[u8],
    trusted: &[String],
) -> Result<PackArchive> {
    let refuse = |why: String| Error::Pack(format!("pack {} refused: {why}", release.version));
    if bytes.len() as u64 != release.size {
        return Err(refuse(format!(
            "the archive holds {} bytes, the release says {}",
            bytes.len(),
            release.size
        )));
    }
    if hex(&Sha256::digest(bytes)) != release.sha256 {
        return Err(refuse("the archive's SHA-256 is not the one signed".into()));
    }
    if !trusted.contains(&release.key_id) {
        return Err(refuse(if trusted.is_empty() {
            "this server trusts no signing key yet: publish the first pack with `ecommunity pack publish`, or start the server with --pack-signer".into()
        } else {
            format!(
                "it is signed with key {}, which this server does not trust",
                release.key_id
            )
        }));
    }
    let key = public_key(&release.key_id)
        .ok_or_else(|| refuse("its key is not an ed25519 public key".into()))?;
    let signature = STANDARD
        .decode(&release.signature)
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| refuse("its signature is not an ed25519 signature".into()))?;
    key.verify_strict(bytes, &signature)
        .map_err(|_| refuse("the signature does not match the archive".into()))?;
    let archive = PackArchive::decode(bytes).map_err(refuse)?;
    let version = manifest_version(&archive)?;
    if version != release.version {
        return Err(refuse(format!(
            "its manifest says version {version}, the signature says {}",
            release.version
        )));
    }
    if let Some(latest) = latest(conn)?
        && !is_newer_version(&release.version, &latest.version)
    {
        return Err(refuse(format!(
            "version {} is not newer than the published {}",
            release.version, latest.version
        )));
    }
    let broken: Vec<String> = crate::monitoring::pack::forms_of(&archive)
        .into_iter()
        .filter_map(|f| {
            f.loaded
                .err()
                .map(|errors| format!("forms/{}.txt: {}", f.id, errors.join("; ")))
        })
        .collect();
    if !broken.is_empty() {
        return Err(refuse(format!(
            "a report form does not load: {}",
            broken.join(" | ")
        )));
    }
    Ok(archive)
}

/// Verifies, then publishes: the archive stored under `packs/`, the release recorded and the
/// publication logged (by `actor`, from `source`), in one IMMEDIATE transaction (two
/// publishers cannot both pass the version check).
pub fn publish(
    conn: &mut Connection,
    data_dir: &Path,
    release: &PackRelease,
    bytes: &[u8],
    extra_keys: &[String],
    actor: &str,
    source: &str,
) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let trusted = trusted_keys(&tx, extra_keys)?;
    verify(&tx, release, bytes, &trusted)?;
    let packs_dir = data_dir.join("packs");
    super::write_atomically(
        &packs_dir,
        &archive_path(&packs_dir, &release.version),
        bytes,
    )
    .map_err(|e| {
        Error::Pack(format!(
            "cannot store the archive in {}: {e}",
            packs_dir.display()
        ))
    })?;
    tx.execute(
        "INSERT INTO pack_release (version, sha256, size, signature, key_id, published_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![release.version, release.sha256, release.size as i64, release.signature, release.key_id, unix_now()],
    )?;
    crate::audit::record(
        &tx,
        &crate::audit::Entry {
            actor,
            action: crate::audit::action::PACK_PUBLISH,
            target: Some(&release.version),
            detail: serde_json::json!({"sha256": release.sha256, "size": release.size, "key_id": release.key_id, "via": "console"}),
            source,
        },
    )?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_pack_is_verified_before_it_is_published() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = crate::db::open(dir.path()).unwrap();
        let key = dir.path().join("key");
        let public = super::super::keygen(&key).unwrap();
        let key_id = hex(public.as_bytes());
        let pack = dir.path().join("pack");
        super::super::tests::write_pack(&pack, "2026.12.0");
        let file = dir.path().join("signed.zip");
        sign_to_file(&key, &pack, &file).unwrap();
        assert!(
            sign_to_file(&key, &pack, &file).is_err(),
            "never overwrites"
        );
        let (release, bytes) = read(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(release.version, "2026.12.0");

        // Nobody trusted yet: refused, nothing published.
        let e = publish(&mut c, dir.path(), &release, &bytes, &[], "sec", "local").unwrap_err();
        assert!(e.to_string().contains("trusts no signing key"), "{e}");
        assert!(latest(&c).unwrap().is_none());
        // A byte changed: refused.
        let mut bad = bytes.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let e = publish(
            &mut c,
            dir.path(),
            &release,
            &bad,
            std::slice::from_ref(&key_id),
            "sec",
            "local",
        )
        .unwrap_err();
        assert!(e.to_string().contains("SHA-256"), "{e}");
        // Trusted: published, logged.
        publish(
            &mut c,
            dir.path(),
            &release,
            &bytes,
            std::slice::from_ref(&key_id),
            "sec",
            "local",
        )
        .unwrap();
        assert_eq!(latest(&c).unwrap().unwrap().version, "2026.12.0");
        assert_eq!(
            crate::audit::list(&c, 1, None, None).unwrap()[0].action,
            "pack.publish"
        );
        // The same version again: not newer. (The key is now trusted from the first pack.)
        let e = publish(&mut c, dir.path(), &release, &bytes, &[], "sec", "local").unwrap_err();
        assert!(e.to_string().contains("not newer"), "{e}");
        // Another key: refused.
        let other = dir.path().join("other-key");
        super::super::keygen(&other).unwrap();
        super::super::tests::write_pack(&pack, "2026.12.1");
        let file2 = dir.path().join("signed2.zip");
        sign_to_file(&other, &pack, &file2).unwrap();
        let (release2, bytes2) = read(&std::fs::read(&file2).unwrap()).unwrap();
        let e = publish(&mut c, dir.path(), &release2, &bytes2, &[], "sec", "local").unwrap_err();
        assert!(e.to_string().contains("does not trust"), "{e}");
        assert!(read(b"not a zip").is_err());
    }
}
