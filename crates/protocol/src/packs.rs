//! Signed content packs: what the server publishes and the client installs.
//!
//! | method & path                       | answer                                          | who       |
//! |-------------------------------------|-------------------------------------------------|-----------|
//! | `GET /v1/packs/latest`              | [`PackRelease`] (404 `no_pack` when none)       | signed in |
//! | `GET /v1/packs/{version}/archive`   | the archive's bytes, `application/gzip`         | signed in |
//!
//! The archive ([`PackArchive`]) is gzip-compressed JSON `{"files": {"<path>": "<text>"}}`:
//! every file of a pack is UTF-8 text (`manifest.toml`, `manual/en/meetings.md`, …). The
//! release names its SHA-256 and size, and carries an ed25519 signature over the archive's raw
//! bytes (as downloaded, still compressed) by the key [`PackRelease::key_id`] names. A client
//! installs a pack only when the signature verifies against a key built into it.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

/// Largest archive a client downloads, compressed.
pub const MAX_PACK_ARCHIVE_BYTES: u64 = 32 * 1024 * 1024;
/// Largest an archive may grow to when decompressed (a guard against zip bombs).
pub const MAX_PACK_UNPACKED_BYTES: u64 = 128 * 1024 * 1024;
/// Most files in one pack.
pub const MAX_PACK_FILES: usize = 20_000;
/// `Content-Type` of an archive.
pub const PACK_ARCHIVE_CONTENT_TYPE: &str = "application/gzip";

/// `GET /v1/packs/latest`: one published pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct PackRelease {
    /// Dotted numeric, e.g. `2026.12.0`; the manifest's `version`.
    pub version: String,
    /// SHA-256 of the archive's bytes, 64 lowercase hex digits.
    pub sha256: String,
    /// Size of the archive in bytes.
    pub size: u64,
    /// Base64 (standard, padded) of the 64-byte ed25519 signature over the archive's bytes.
    pub signature: String,
    /// The signing key: [`key_id`] of its public key.
    pub key_id: String,
}

/// The name of an ed25519 public key in a [`PackRelease`]: its 32 bytes in lowercase hex.
pub fn key_id(public_key: &[u8; 32]) -> String {
    crate::files::hex(public_key)
}

/// The contents of a pack archive: path inside the pack → UTF-8 text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct PackArchive {
    pub files: BTreeMap<String, String>,
}

impl PackArchive {
    /// The archive's bytes: gzip of the JSON, deterministic (sorted paths, no timestamp), so
    /// the same files always give the same bytes and signature.
    pub fn encode(&self) -> Vec<u8> {
        let json = serde_json::to_vec(self).expect("a map of strings serializes");
        let mut gz = flate2::GzBuilder::new().mtime(0).write(
            Vec::with_capacity(json.len() / 3 + 64),
            flate2::Compression::best(),
        );
        gz.write_all(&json).expect("writing to memory cannot fail");
        gz.finish().expect("writing to memory cannot fail")
    }

    /// Reads archive bytes, refusing more than [`MAX_PACK_UNPACKED_BYTES`] once decompressed,
    /// more than [`MAX_PACK_FILES`] files, and any path that is not a plain relative path.
    /// Returns a reason a person can read.
    pub fn decode(bytes: &[u8]) -> Result<PackArchive, String> {
        Self::decode_at_most(bytes, MAX_PACK_UNPACKED_BYTES)
    }

    fn decode_at_most(bytes: &[u8], max_unpacked: u64) -> Result<PackArchive, String> {
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(max_unpacked + 1)
            .read_to_end(&mut json)
            .map_err(|e| format!("not a gzip archive: {e}"))?;
        if json.len() as u64 > max_unpacked {
            return Err(format!(
                "larger than {} KiB once unpacked",
                max_unpacked >> 10
            ));
        }
        let archive: PackArchive =
            serde_json::from_slice(&json).map_err(|e| format!("not a pack archive: {e}"))?;
        if archive.files.len() > MAX_PACK_FILES {
            return Err(format!("more than {MAX_PACK_FILES} files"));
        }
        if let Some(bad) = archive.files.keys().find(|p| !is_pack_path(p)) {
            return Err(format!("`{bad}` is not a relative path inside a pack"));
        }
        Ok(archive)
    }
}

/// A path inside a pack: `/`-separated, relative, no empty, `.` or `..` segment, no backslash
/// or control character.
pub fn is_pack_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 512
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// The numbers of a dotted numeric version (`2026.12.0` → `[2026, 12, 0]`); `None` for
/// anything else (empty parts, letters, more than 8 parts).
pub fn parse_version(version: &str) -> Option<Vec<u64>> {
    let parts: Vec<&str> = version.split('.').collect();
    if parts.len() > 8 {
        return None;
    }
    parts
        .into_iter()
        .map(|p| {
            if !p.is_empty() && p.len() <= 19 && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().ok()
            } else {
                None
            }
        })
        .collect()
}

/// Compares two dotted numeric versions part by part, a missing part counting as 0
/// (`1.2` = `1.2.0` < `1.10`). `None` when either is not a dotted numeric version.
pub fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (parse_version(a)?, parse_version(b)?);
    let len = a.len().max(b.len());
    let part = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    Some(
        (0..len)
            .map(|i| part(&a, i).cmp(&part(&b, i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal),
    )
}

/// True when `candidate` is a dotted numeric version greater than `than` (or `than` is not
/// one: any valid version is newer than an unreadable one).
pub fn is_newer_version(candidate: &str, than: &str) -> bool {
    match compare_versions(candidate, than) {
        Some(o) => o == Ordering::Greater,
        None => parse_version(candidate).is_some() && parse_version(than).is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("1.10", "1.9"), Some(Ordering::Greater));
        assert_eq!(compare_versions("1.2", "1.2.0"), Some(Ordering::Equal));
        assert_eq!(
            compare_versions("2026.11.1", "2026.12.0"),
            Some(Ordering::Less)
        );
        assert_eq!(compare_versions("1.a", "1"), None);
        assert_eq!(compare_versions("1..2", "1"), None);
        assert_eq!(compare_versions("", "1"), None);
        assert_eq!(compare_versions("-1", "1"), None);
        assert!(is_newer_version("2026.12.0", "2026.11.1"));
        assert!(!is_newer_version("2026.11.1", "2026.11.1"));
        assert!(is_newer_version("1.0", "garbage"));
        assert!(!is_newer_version("garbage", "1.0"));
    }

    #[test]
    fn archives_round_trip_deterministically() {
        let mut a = PackArchive::default();
        a.files.insert(
            "manual/en/meetings.md".into(),
            "+++\ntitle = \"Réunions\"\n+++\nText".into(),
        );
        a.files
            .insert("manifest.toml".into(), "version = \"1\"".into());
        let bytes = a.encode();
        assert_eq!(bytes, a.encode(), "same files, same bytes");
        assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip magic");
        assert_eq!(PackArchive::decode(&bytes).unwrap(), a);
    }

    #[test]
    fn decode_refuses_what_is_not_a_pack() {
        assert!(
            PackArchive::decode(b"plain text")
                .unwrap_err()
                .contains("gzip")
        );
        let gz = |json: &str| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            e.write_all(json.as_bytes()).unwrap();
            e.finish().unwrap()
        };
        assert!(
            PackArchive::decode(&gz("{\"files\": {\"a\": 3}}"))
                .unwrap_err()
                .contains("not a pack archive")
        );
        assert!(PackArchive::decode(&gz("{\"files\": {}, \"extra\": 1}")).is_err());
        assert!(
            PackArchive::decode(&gz("{\"files\": {\"../etc/passwd\": \"x\"}}"))
                .unwrap_err()
                .contains("relative path")
        );
        assert!(PackArchive::decode(&gz("{\"files\": {\"/abs\": \"x\"}}")).is_err());
        // A bomb: small compressed, huge unpacked.
        let bomb = gz(&format!(
            "{{\"files\": {{\"a\": \"{}\"}}}}",
            " ".repeat(1 << 20)
        ));
        assert!(bomb.len() < 64 << 10, "{} bytes compressed", bomb.len());
        assert!(
            PackArchive::decode_at_most(&bomb, 1 << 19)
                .unwrap_err()
                .contains("once unpacked")
        );
        assert!(PackArchive::decode_at_most(&bomb, 2 << 20).is_ok());
    }

    #[test]
    fn release_wire_format() {
        let r = PackRelease {
            version: "1.0".into(),
            sha256: "ab".into(),
            size: 3,
            signature: "c2ln".into(),
            key_id: "k".into(),
        };
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"version": "1.0", "sha256": "ab", "size": 3, "signature": "c2ln", "key_id": "k"})
        );
        assert_eq!(serde_json::from_value::<PackRelease>(json).unwrap(), r);
        assert_eq!(key_id(&[0xab; 32]), "ab".repeat(32));
    }
}
