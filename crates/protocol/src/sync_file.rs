//! Sync files: a push and its answer carried on a USB stick or by e-mail, for a person with no
//! usable connection.
//!
//! The app writes its outbox to a [`DeviceChanges`] file; `ecommunity bundle import FILE
//! --reply OUT` applies it exactly as `POST /v1/sync/push` would (same operation ids, so
//! importing a file twice changes nothing) and writes a [`SyncFileReply`] with one result per
//! operation and the changes after the file's cursor; the app imports that reply as it would a
//! push answer and a pull.
//!
//! Both files are signed with ed25519 and tamper-evident. A device signs with a key derived
//! from its device token ([`device_file_seed`]), whose public half it registers once online
//! (`PUT /v1/sync/file-key` → [`FileKeyResponse`], which names the server's own file key); the
//! server signs replies with that key, so the app can tell a forged reply.
//!
//! Layout (integers little-endian):
//!
//! | bytes | what |
//! |-------|------|
//! | 8     | [`MAGIC`] `STOPSYNC` |
//! | 1     | [`FORMAT_VERSION`] |
//! | 1     | [`FileKind`] (1: a device's changes, 2: the server's reply) |
//! | 32    | the signer's ed25519 public key |
//! | 8     | payload length `n` |
//! | n     | payload: gzip of the JSON of [`DeviceChanges`] or [`SyncFileReply`] |
//! | 64    | ed25519 signature of every byte before it |
//!
//! The signature is checked before the payload is decompressed or read.

use std::io::{Read, Write};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::sync::{OpResult, Operation, PullResponse};

pub const MAGIC: &[u8; 8] = b"STOPSYNC";
pub const FORMAT_VERSION: u8 = 1;
const HEADER_LEN: usize = 8 + 1 + 1 + 32 + 8;
const SIGNATURE_LEN: usize = 64;
/// Most operations one file carries (a week of work is a few hundred).
pub const MAX_FILE_OPS: usize = 20_000;
/// Most changes one reply carries; beyond them the reply says `more` and the next file (or an
/// online sync) brings the rest.
pub const MAX_REPLY_CHANGES: usize = 50_000;
/// Largest payload, compressed or not: a file is refused beyond it (a zip bomb never
/// decompresses further).
pub const MAX_PAYLOAD_BYTES: u64 = 64 * 1024 * 1024;

/// Which of the two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A device's changes, for `ecommunity bundle import`.
    Changes = 1,
    /// The server's reply, for the app.
    Reply = 2,
    /// A device credential the server signs, which a workshop relay checks offline
    /// ([`crate::relay::DeviceCredential`]).
    Credential = 3,
    /// A device's leave for one relay to read the community feed for it
    /// ([`crate::relay::RelayGrant`]).
    Grant = 4,
    /// A page of the community feed the server signs, which a relay passes on unchanged
    /// ([`crate::relay::CommunityPage`]).
    CommunityPage = 5,
    /// A relay's request for a community page, signed with its own key
    /// ([`crate::relay::CommunityPull`]).
    CommunityPull = 6,
    /// A relay's request for a content pack's archive, signed with its own key
    /// ([`crate::relay::PackPull`]).
    PackPull = 7,
}

impl FileKind {
    const ALL: [FileKind; 7] = [
        FileKind::Changes,
        FileKind::Reply,
        FileKind::Credential,
        FileKind::Grant,
        FileKind::CommunityPage,
        FileKind::CommunityPull,
        FileKind::PackPull,
    ];
}

/// Why a file is refused. Nothing of a refused file is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum FileRefusal {
    /// Not a Stopover sync file at all (another file chosen by mistake).
    NotASyncFile,
    /// A sync file of a newer format than this program reads.
    UnsupportedVersion,
    /// A reply where changes were expected, or the other way round.
    WrongKind,
    /// Shorter than it says: cut off while copying or sending.
    Truncated,
    /// Its signature does not match its content: changed after it was written.
    Tampered,
    /// Signed by a key this side does not know: another device's or another server's file.
    Foreign,
    /// Larger than any sync file may be.
    TooLarge,
}

impl FileRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            FileRefusal::NotASyncFile => "not_a_sync_file",
            FileRefusal::UnsupportedVersion => "unsupported_version",
            FileRefusal::WrongKind => "wrong_kind",
            FileRefusal::Truncated => "truncated",
            FileRefusal::Tampered => "tampered",
            FileRefusal::Foreign => "foreign",
            FileRefusal::TooLarge => "too_large",
        }
    }

    /// An English sentence for logs and the command line.
    pub fn describe(self) -> &'static str {
        match self {
            FileRefusal::NotASyncFile => "this is not a Stopover sync file",
            FileRefusal::UnsupportedVersion => {
                "this sync file was written by a newer version; update first"
            }
            FileRefusal::WrongKind => {
                "this is the other kind of sync file (changes where a reply was expected, or a reply where changes were)"
            }
            FileRefusal::Truncated => {
                "this sync file is incomplete: it was cut off while being copied or sent"
            }
            FileRefusal::Tampered => {
                "this sync file was changed after it was written: its signature does not match"
            }
            FileRefusal::Foreign => {
                "this sync file is signed by a key not known here: it comes from another device or server"
            }
            FileRefusal::TooLarge => "this sync file is larger than any sync file may be",
        }
    }
}

impl std::fmt::Display for FileRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl std::error::Error for FileRefusal {}

/// What a device's sync file holds: its outbox and where its pull stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceChanges {
    /// Always [`crate::PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The device id the server gave at sign-in.
    pub device_id: String,
    pub username: String,
    /// When the file was written (Unix seconds, the laptop's clock): for people, not rules.
    pub written_at: i64,
    /// Operations to apply, each at most once, in order.
    pub ops: Vec<Operation>,
    /// The device's pull cursor: the reply carries the changes after it.
    pub cursor: u64,
    /// Which changes the reply carries: all of them (a file on a USB stick), or only the
    /// device's own account's and country's (a push through a workshop relay, which serves
    /// the community's changes to every laptop from one copy).
    #[serde(default, skip_serializing_if = "FeedPart::is_all")]
    pub feed: FeedPart,
}

/// Which part of a caller's change feed a pull reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedPart {
    /// Everything the caller may read.
    #[default]
    All,
    /// The caller's account's and country's changes, without the community's.
    Private,
    /// The community's changes only (forum, directory, events), the same for everyone.
    Community,
}

impl FeedPart {
    pub fn is_all(&self) -> bool {
        *self == FeedPart::All
    }
}

/// What the server's reply file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncFileReply {
    /// Always [`crate::PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The device the changes file came from: a reply is for it and no other.
    pub device_id: String,
    /// SHA-256 (hex) of the changes file this answers.
    pub answers: String,
    /// One result per operation of the file, in order.
    pub results: Vec<OpResult>,
    /// The file's cursor: `pull` holds the changes after it.
    pub from_cursor: u64,
    /// The changes after `from_cursor` (all of them, up to [`MAX_REPLY_CHANGES`]; `more` says
    /// whether some wait beyond), read once the operations were committed.
    pub pull: PullResponse,
}

/// `PUT /v1/sync/file-key`: the public half of the key this device signs its sync files with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FileKeyRequest {
    /// 64 hex digits.
    pub public_key: String,
}

/// The answer to `PUT /v1/sync/file-key`: the key the server signs its reply files with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileKeyResponse {
    /// Always [`crate::PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The server's public key, 64 hex digits.
    pub server_key: String,
}

/// The 32-byte seed of a device's file key: SHA-256 of a domain label and the device token.
/// Only the device knows its token (the server keeps its hash), so only the device can sign;
/// the key lives and dies with the sign-in and needs no storage of its own.
pub fn device_file_seed(device_token: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"stopover sync file key v1\0");
    h.update(device_token.as_bytes());
    h.finalize().into()
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An ed25519 public key from 64 hex digits.
pub fn parse_key(hex_key: &str) -> Option<VerifyingKey> {
    let hex_key = hex_key.trim();
    if hex_key.len() != 64 || !hex_key.is_ascii() {
        return None;
    }
    let mut bytes = [0u8; 32];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex_key[2 * i..2 * i + 2], 16).ok()?;
    }
    VerifyingKey::from_bytes(&bytes).ok()
}

/// SHA-256 (hex) of a file's bytes: how a reply names the file it answers.
pub fn file_digest(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// Writes a signed file of `kind` holding `payload` (as JSON, gzip-compressed).
pub fn seal<T: Serialize>(kind: FileKind, key: &SigningKey, payload: &T) -> Vec<u8> {
    let json = serde_json::to_vec(payload).expect("sync file payloads serialize");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&json).expect("writing to memory");
    let compressed = gz.finish().expect("writing to memory");
    let mut out = Vec::with_capacity(HEADER_LEN + compressed.len() + SIGNATURE_LEN);
    out.extend_from_slice(MAGIC);
    out.push(FORMAT_VERSION);
    out.push(kind as u8);
    out.extend_from_slice(key.verifying_key().as_bytes());
    out.extend_from_slice(&(compressed.len() as u64).to_le_bytes());
    out.extend_from_slice(&compressed);
    let signature = key.sign(&out);
    out.extend_from_slice(&signature.to_bytes());
    out
}

/// A file whose layout is sound, its signature not yet checked.
pub struct Envelope<'a> {
    /// The signer's public key as written in the file.
    pub signer: VerifyingKey,
    signed: &'a [u8],
    signature: Signature,
    payload: &'a [u8],
}

/// Reads a file's layout: magic, version, kind, length. Does not trust anything yet: call
/// [`Envelope::open`] with the key the signer must have.
pub fn envelope(bytes: &[u8], expected: FileKind) -> Result<Envelope<'_>, FileRefusal> {
    if bytes.len() < MAGIC.len() {
        return Err(if MAGIC.starts_with(bytes) && !bytes.is_empty() {
            FileRefusal::Truncated
        } else {
            FileRefusal::NotASyncFile
        });
    }
    if &bytes[..8] != MAGIC {
        return Err(FileRefusal::NotASyncFile);
    }
    if bytes.len() < HEADER_LEN {
        return Err(FileRefusal::Truncated);
    }
    if bytes[8] != FORMAT_VERSION {
        return Err(FileRefusal::UnsupportedVersion);
    }
    let kind = bytes[9];
    if !FileKind::ALL.iter().any(|k| *k as u8 == kind) {
        return Err(FileRefusal::Tampered);
    }
    if kind != expected as u8 {
        return Err(FileRefusal::WrongKind);
    }
    let signer_bytes: [u8; 32] = bytes[10..42].try_into().expect("32 bytes");
    let len = u64::from_le_bytes(bytes[42..50].try_into().expect("8 bytes"));
    if len > MAX_PAYLOAD_BYTES {
        return Err(FileRefusal::TooLarge);
    }
    let end = HEADER_LEN + len as usize;
    if bytes.len() < end + SIGNATURE_LEN {
        return Err(FileRefusal::Truncated);
    }
    if bytes.len() > end + SIGNATURE_LEN {
        // Bytes appended after the signature.
        return Err(FileRefusal::Tampered);
    }
    let signer = VerifyingKey::from_bytes(&signer_bytes).map_err(|_| FileRefusal::Tampered)?;
    let signature = Signature::from_slice(&bytes[end..]).map_err(|_| FileRefusal::Tampered)?;
    Ok(Envelope {
        signer,
        signed: &bytes[..end],
        signature,
        payload: &bytes[HEADER_LEN..end],
    })
}

impl Envelope<'_> {
    /// Checks the signature with `key` (the key the signer must have: a file naming another
    /// is [`FileRefusal::Foreign`]), then decompresses and reads the payload.
    pub fn open<T: serde::de::DeserializeOwned>(
        &self,
        key: &VerifyingKey,
    ) -> Result<T, FileRefusal> {
        if &self.signer != key {
            return Err(FileRefusal::Foreign);
        }
        key.verify_strict(self.signed, &self.signature)
            .map_err(|_| FileRefusal::Tampered)?;
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(self.payload)
            .take(MAX_PAYLOAD_BYTES + 1)
            .read_to_end(&mut json)
            .map_err(|_| FileRefusal::Tampered)?;
        if json.len() as u64 > MAX_PAYLOAD_BYTES {
            return Err(FileRefusal::TooLarge);
        }
        // Signed yet unreadable: written by something that is not Stopover.
        serde_json::from_slice(&json).map_err(|_| FileRefusal::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn sample() -> DeviceChanges {
        DeviceChanges {
            protocol: 1,
            device_id: "d1".into(),
            username: "amina".into(),
            written_at: 1,
            ops: Vec::new(),
            cursor: 7,
            feed: FeedPart::All,
        }
    }

    #[test]
    fn a_sealed_file_opens_with_its_key_only() {
        let file = seal(FileKind::Changes, &key(1), &sample());
        let env = envelope(&file, FileKind::Changes).unwrap();
        assert_eq!(
            env.open::<DeviceChanges>(&key(1).verifying_key()).unwrap(),
            sample()
        );
        assert_eq!(
            env.open::<DeviceChanges>(&key(2).verifying_key()).err(),
            Some(FileRefusal::Foreign)
        );
        assert_eq!(
            envelope(&file, FileKind::Reply).err(),
            Some(FileRefusal::WrongKind)
        );
    }

    #[test]
    fn truncated_tampered_and_other_files_are_told_apart() {
        let file = seal(FileKind::Changes, &key(1), &sample());
        let k = key(1).verifying_key();
        let open = |bytes: &[u8]| {
            envelope(bytes, FileKind::Changes).and_then(|e| e.open::<DeviceChanges>(&k))
        };
        for cut in [4, 20, HEADER_LEN, file.len() - 1, file.len() - 64] {
            assert_eq!(
                open(&file[..cut]).err(),
                Some(FileRefusal::Truncated),
                "{cut}"
            );
        }
        for at in [HEADER_LEN, file.len() - 70, file.len() - 1] {
            let mut bad = file.clone();
            bad[at] ^= 1;
            assert_eq!(open(&bad).err(), Some(FileRefusal::Tampered), "{at}");
        }
        let mut longer = file.clone();
        longer.push(0);
        assert_eq!(open(&longer).err(), Some(FileRefusal::Tampered));
        assert_eq!(
            open(b"PK\x03\x04 a zip").err(),
            Some(FileRefusal::NotASyncFile)
        );
        assert_eq!(open(b"").err(), Some(FileRefusal::NotASyncFile));
        let mut newer = file.clone();
        newer[8] = 9;
        assert_eq!(open(&newer).err(), Some(FileRefusal::UnsupportedVersion));
        // Another signer written into the header: its own key does not verify the signature.
        let mut swapped = file.clone();
        swapped[10..42].copy_from_slice(key(2).verifying_key().as_bytes());
        let e = envelope(&swapped, FileKind::Changes).unwrap();
        assert_eq!(
            e.open::<DeviceChanges>(&key(2).verifying_key()).err(),
            Some(FileRefusal::Tampered)
        );
    }

    #[test]
    fn the_device_seed_depends_on_the_token() {
        assert_ne!(device_file_seed("a"), device_file_seed("b"));
        let k = SigningKey::from_bytes(&device_file_seed("a"));
        let hex = to_hex(k.verifying_key().as_bytes());
        assert_eq!(parse_key(&hex), Some(k.verifying_key()));
        assert_eq!(parse_key("zz"), None);
    }
}
