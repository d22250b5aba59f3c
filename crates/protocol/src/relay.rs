//! The workshop relay: `ecommunity relay` on a trainer's laptop at the venue, which the app
//! laptops on the LAN sync with when the uplink is poor or down.
//!
//! The relay stores and forwards; it never decides and never holds a password or a token.
//! Everything it passes on is signed by someone else, so a laptop can tell a relay that serves
//! forged data:
//!
//! - **Who may use it**: each laptop shows a [`DeviceCredential`] the server signed (a
//!   `GET /v1/sync/credential` while online). It names the device and the public half of the
//!   device's file key, and expires after [`CREDENTIAL_DAYS`] days. The relay checks it offline
//!   with the server's public key alone.
//! - **Pushes**: a laptop sends its outbox as a signed [`DeviceChanges`] file (the same as a
//!   sync file on a USB stick, `feed: private`). The relay keeps the file and forwards it
//!   unchanged to `POST /v1/sync/file` when the uplink works; the server applies it as it would
//!   a push (same operation ids: a late or repeated forward changes nothing) and answers with a
//!   [`SyncFileReply`] it signs, which the relay hands to the laptop unchanged. Until then the
//!   laptop shows the operations as "at the relay".
//! - **Shared data once**: the community's changes (forum, directory, events) are pulled
//!   upstream once, in [`CommunityPage`]s the server signs, and served to every laptop. To pull
//!   them the relay shows a [`RelayGrant`]: a laptop's signed leave for this relay's key to
//!   read the community feed, with a [`CommunityPull`] the relay signs with that key.
//! - **Content packs once**: a community page names the latest published pack when the relay
//!   does not know it yet; once a laptop's round says it has an older one, the relay fetches
//!   the archive once (`POST /v1/relay/pack`, a [`PackPull`] under the same grant) and hands
//!   it to every laptop. The archive carries the Secretariat's signature, which the app
//!   checks as it does on a pack from the server.
//!
//! Every signed object uses the sync-file envelope ([`crate::sync_file::seal`]), travelling
//! as base64 (standard alphabet) inside JSON.
//!
//! [`DeviceChanges`]: crate::sync_file::DeviceChanges
//! [`SyncFileReply`]: crate::sync_file::SyncFileReply

use serde::{Deserialize, Serialize};

use crate::packs::PackRelease;
use crate::sync::PullResponse;

/// The DNS-SD service type a relay announces on its LAN (multicast DNS), so the app can
/// offer it without anyone typing an address. Its TXT record `path` is empty; `upstream`
/// names the server it forwards to.
pub const RELAY_SERVICE_TYPE: &str = "_stopover-relay._tcp.local.";

/// How long a device credential is good for: long enough for a workshop week without an
/// uplink, short enough that a revoked laptop is not let in by a relay for long.
pub const CREDENTIAL_DAYS: i64 = 14;
/// The app asks for a new credential once the one it holds has fewer days than this left.
pub const CREDENTIAL_RENEW_DAYS: i64 = 7;
/// How long a laptop's leave to a relay lasts.
pub const GRANT_DAYS: i64 = 7;
/// A relay's community pull is refused when its clock and the server's differ by more.
pub const COMMUNITY_PULL_SKEW_SECS: i64 = 24 * 3600;
/// Most bytes of community pages one relay answer carries; the laptop asks again for more.
pub const MAX_COMMUNITY_BYTES_PER_ANSWER: usize = 4 * 1024 * 1024;

/// What the server vouches for: this device, of this approved account, signs with this key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceCredential {
    /// Always [`crate::PROTOCOL_VERSION`].
    pub protocol: u32,
    pub device_id: String,
    pub username: String,
    /// The device's file key (ed25519, 64 hex digits): its pushes and grants are signed with it.
    pub device_key: String,
    /// Unix seconds, the server's clock.
    pub issued_at: i64,
    pub expires_at: i64,
}

/// `GET /v1/sync/credential`: a fresh credential for the calling device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialResponse {
    /// Always [`crate::PROTOCOL_VERSION`].
    pub protocol: u32,
    /// A sealed [`DeviceCredential`] (kind 3), base64.
    pub credential: String,
    /// The key that signed it (and signs reply files and community pages), 64 hex digits.
    pub server_key: String,
    pub expires_at: i64,
}

/// A laptop's leave for the relay holding `relay_key` to read the community feed for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayGrant {
    pub protocol: u32,
    pub device_id: String,
    /// The relay's public key, 64 hex digits (from `GET /v1/relay/info`).
    pub relay_key: String,
    /// Unix seconds, the laptop's clock.
    pub expires_at: i64,
}

/// What a relay signs, with its own key, to pull a community page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityPull {
    pub protocol: u32,
    pub cursor: u64,
    pub limit: u32,
    /// Unix seconds, the relay's clock: the server refuses a request far from its own time,
    /// so a copied request cannot be replayed for ever.
    pub written_at: i64,
    /// While nothing is new, the server may hold the answer this many seconds (at most
    /// [`MAX_COMMUNITY_WAIT_SECS`]) and answer as soon as something is: news reaches the relay
    /// within a second, and a quiet forum costs one exchange per wait, not one per poll.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub wait_secs: u32,
    /// The content pack version the relay knows of: the page names the latest published one
    /// only when it is another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_pack: Option<String>,
}

/// Longest a server holds a community pull while nothing is new.
pub const MAX_COMMUNITY_WAIT_SECS: u32 = 25;

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// `POST /v1/relay/community` and `POST /v1/relay/pack`: a relay's signed request and the
/// grant that allows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommunityPullRequest {
    /// A sealed [`RelayGrant`] (kind 4), signed by a device, base64.
    pub grant: String,
    /// A sealed [`CommunityPull`] (kind 6) or [`PackPull`] (kind 7), signed by the relay key
    /// the grant names, base64.
    pub request: String,
}

/// A page of the community feed, as the server signed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityPage {
    pub protocol: u32,
    /// The cursor the page was asked from: its changes are the community's after it.
    pub from_cursor: u64,
    /// When the server signed it (Unix seconds, the server's clock): how fresh a relay's copy
    /// is.
    pub signed_at: i64,
    pub pull: PullResponse,
    /// The latest published content pack, when it is not the one the relay said it knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackRelease>,
}

/// What a relay signs, with its own key, to fetch a content pack's archive once for every
/// laptop (`POST /v1/relay/pack`, with a grant, as a [`CommunityPullRequest`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackPull {
    pub protocol: u32,
    /// A published version, e.g. `2026.12.0`.
    pub version: String,
    /// Unix seconds, the relay's clock (see [`CommunityPull::written_at`]).
    pub written_at: i64,
}

/// `POST /v1/relay/pack` (to a relay): a laptop fetching the pack the relay holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayPackRequest {
    pub protocol: u32,
    /// A sealed [`DeviceCredential`], base64: only a device the server vouches for gets it.
    pub credential: String,
    pub version: String,
}

/// `GET /v1/relay/info`: who the relay is and how its uplink fares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayInfo {
    /// Always [`crate::PROTOCOL_VERSION`].
    pub protocol: u32,
    /// Marks the answer as a relay's (a server has no `/v1/relay/info`).
    pub relay: bool,
    /// The relay's public key, 64 hex digits: what a laptop's grant names.
    pub relay_key: String,
    /// The server it forwards to.
    pub upstream: String,
    /// The server's public key, once the relay has it (64 hex digits).
    pub server_key: Option<String>,
    pub uplink: UplinkState,
}

/// How the relay's uplink fares, for the laptops' Sync page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UplinkState {
    /// The last exchange with the server worked.
    pub reachable: bool,
    /// When the relay last heard from the server (Unix seconds, the relay's clock).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_contact: Option<i64>,
    /// Pushes held at the relay, not yet answered by the server (every laptop's).
    pub held_pushes: u32,
    /// The community feed the relay holds reaches this cursor.
    pub community_cursor: u64,
}

/// `POST /v1/relay/sync` (to a relay): one round of a laptop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaySyncRequest {
    pub protocol: u32,
    /// A sealed [`DeviceCredential`], base64.
    pub credential: String,
    /// A sealed [`DeviceChanges`](crate::sync_file::DeviceChanges) with `feed: private`,
    /// signed by the device key the credential names, base64.
    pub changes: String,
    /// A sealed [`RelayGrant`] for this relay, base64.
    pub grant: String,
    /// Where the laptop's copy of the community feed stands.
    pub community_cursor: u64,
    /// The content pack version the laptop has: the relay fetches a newer one only once a
    /// laptop needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack_version: Option<String>,
}

/// The relay's answer to a round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelaySyncResponse {
    pub protocol: u32,
    /// Operation ids of this laptop the relay holds and the server has not answered yet.
    pub held: Vec<String>,
    /// The newest [`SyncFileReply`](crate::sync_file::SyncFileReply) the server signed for
    /// this laptop (it may answer an earlier round), base64.
    pub reply: Option<String>,
    /// The server refused this laptop's last forwarded push (a revoked device, a pending
    /// account): the code and the server's reason.
    pub refused: Option<RelayRefusal>,
    /// Signed [`CommunityPage`]s after `community_cursor`, oldest first, base64.
    pub community: Vec<String>,
    /// More community pages wait at the relay.
    pub community_more: bool,
    pub uplink: UplinkState,
    /// The latest content pack the relay holds in full (`POST /v1/relay/pack` fetches it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<PackRelease>,
}

/// A server's refusal of a forwarded push, as the relay heard it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayRefusal {
    pub code: String,
    pub message: String,
}

/// Base64 (standard alphabet, padded) of a sealed object, as it travels in JSON.
pub fn encode(sealed: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(sealed)
}

/// The bytes of a sealed object from its base64; `None` when it is not base64.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync_file::{FileKind, envelope, seal};
    use ed25519_dalek::SigningKey;

    #[test]
    fn a_credential_travels_as_base64_and_opens_with_the_server_key() {
        let server = SigningKey::from_bytes(&[3; 32]);
        let cred = DeviceCredential {
            protocol: 1,
            device_id: "d1".into(),
            username: "amina".into(),
            device_key: "00".repeat(32),
            issued_at: 1,
            expires_at: 2,
        };
        let text = encode(&seal(FileKind::Credential, &server, &cred));
        let bytes = decode(&text).unwrap();
        let opened: DeviceCredential = envelope(&bytes, FileKind::Credential)
            .unwrap()
            .open(&server.verifying_key())
            .unwrap();
        assert_eq!(opened, cred);
        assert!(envelope(&bytes, FileKind::Grant).is_err());
        assert_eq!(decode("not base64!"), None);
    }
}
