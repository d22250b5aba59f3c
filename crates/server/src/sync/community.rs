//! What the server does for workshop relays: it vouches for a device with a credential the
//! relay checks offline, and serves the community's changes to a relay a device let read
//! them, in pages it signs (so a laptop can tell a relay that forged or changed one).

use ed25519_dalek::{SigningKey, VerifyingKey};
use rusqlite::{Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use stopover_protocol::PROTOCOL_VERSION;
use stopover_protocol::PackRelease;
use stopover_protocol::relay::{
    self, COMMUNITY_PULL_SKEW_SECS, CREDENTIAL_DAYS, CommunityPage, CommunityPull,
    CommunityPullRequest, CredentialResponse, DeviceCredential, GRANT_DAYS, PackPull, RelayGrant,
};
use stopover_protocol::sync_file::{self, FeedPart, FileKind};

use super::pull as feed;
use crate::auth::devices;
use crate::auth::policy::{Action, authorize, sync_scope};
use crate::error::{Error, Result};
use crate::packs;

const DAY: i64 = 24 * 3600;

/// A fresh credential for `device_id` (which must have registered its file key), signed with
/// `server`, good for [`CREDENTIAL_DAYS`] from `now`.
pub fn credential(
    conn: &Connection,
    server: &SigningKey,
    device_id: &str,
    username: &str,
    now: i64,
) -> Result<CredentialResponse> {
    let key: Option<Vec<u8>> = conn
        .query_row(
            "SELECT file_key FROM device WHERE id = ?1",
            [device_id],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let key = key.ok_or(Error::FileKeyMissing)?;
    let expires_at = now + CREDENTIAL_DAYS * DAY;
    let credential = DeviceCredential {
        protocol: PROTOCOL_VERSION,
        device_id: device_id.to_string(),
        username: username.to_string(),
        device_key: sync_file::to_hex(&key),
        issued_at: now,
        expires_at,
    };
    Ok(CredentialResponse {
        protocol: PROTOCOL_VERSION,
        credential: relay::encode(&sync_file::seal(FileKind::Credential, server, &credential)),
        server_key: sync_file::to_hex(server.verifying_key().as_bytes()),
        expires_at,
    })
}

/// Checks a relay's grant and request (see [`check`]) and answers with the sealed
/// [`CommunityPage`] after the request's cursor, and how long the relay asked to wait while
/// nothing is new (`None` when the page holds something).
pub fn community_page(
    conn: &Connection,
    server: &SigningKey,
    req: &CommunityPullRequest,
    now: i64,
) -> Result<(Vec<u8>, Option<u32>)> {
    let (grant, pull) = check::<CommunityPull>(conn, req, now)?;
    // The community part is the same for everyone: the scope only names who let it be read.
    let scope = sync_scope(&grant.owner.account);
    let limit = feed::effective_limit(Some(pull.limit));
    let page = feed::pull(conn, &scope, pull.cursor, limit, FeedPart::Community)?;
    // A pack the relay does not know yet is news too: the page names it at once.
    let pack = packs::latest(conn)?.filter(|p| pull.known_pack.as_deref() != Some(&p.version));
    let quiet = (page.changes.is_empty() && pack.is_none()).then_some(pull.wait_secs);
    let page = CommunityPage {
        protocol: PROTOCOL_VERSION,
        from_cursor: pull.cursor,
        signed_at: now,
        pull: page,
        pack,
    };
    Ok((
        sync_file::seal(FileKind::CommunityPage, server, &page),
        quiet,
    ))
}

/// Checks a relay's grant and [`PackPull`] (see [`check`]) and answers with the published
/// release it names (the handler streams its archive).
pub fn pack_release(
    conn: &Connection,
    req: &CommunityPullRequest,
    now: i64,
) -> Result<PackRelease> {
    let (_, pull) = check::<PackPull>(conn, req, now)?;
    let no_pack = || {
        Error::NoPack(format!(
            "no content pack {} has been published",
            pull.version.chars().take(40).collect::<String>()
        ))
    };
    if stopover_protocol::packs::parse_version(&pull.version).is_none() {
        return Err(no_pack());
    }
    packs::find(conn, &pull.version)?.ok_or_else(no_pack)
}

/// A request a relay signs with its own key under a laptop's grant.
pub trait RelayRequest: DeserializeOwned {
    const KIND: FileKind;
    fn protocol(&self) -> u32;
    /// Unix seconds, the relay's clock.
    fn written_at(&self) -> i64;
}

impl RelayRequest for CommunityPull {
    const KIND: FileKind = FileKind::CommunityPull;
    fn protocol(&self) -> u32 {
        self.protocol
    }
    fn written_at(&self) -> i64 {
        self.written_at
    }
}

impl RelayRequest for PackPull {
    const KIND: FileKind = FileKind::PackPull;
    fn protocol(&self) -> u32 {
        self.protocol
    }
    fn written_at(&self) -> i64 {
        self.written_at
    }
}

/// A grant whose checks passed.
pub struct CheckedGrant {
    pub grant: RelayGrant,
    /// The device whose key signed it, with its account.
    pub owner: devices::TokenOwner,
    pub relay_key: VerifyingKey,
}

/// Every check of a relay's request, each refused with its own code: the grant is a sealed
/// [`RelayGrant`] signed by the registered file key of a device still signed in, of an
/// approved account, naming that device; it has not run out and lasts no longer than a
/// grant may; it names a relay key; the request is a sealed `T` signed by that key, written
/// within [`COMMUNITY_PULL_SKEW_SECS`] of `now`.
pub fn check<T: RelayRequest>(
    conn: &Connection,
    req: &CommunityPullRequest,
    now: i64,
) -> Result<(CheckedGrant, T)> {
    let grant_bytes = relay::decode(&req.grant)
        .ok_or_else(|| Error::GrantInvalid("`grant` is not base64".into()))?;
    let envelope = sync_file::envelope(&grant_bytes, FileKind::Grant)
        .map_err(|r| Error::GrantInvalid(r.describe().into()))?;
    let owner = devices::find_by_file_key(conn, envelope.signer.as_bytes())?.ok_or_else(|| {
        Error::GrantInvalid("it is not signed by the key of a device registered here".into())
    })?;
    let grant: RelayGrant = envelope
        .open(&envelope.signer)
        .map_err(|r| Error::GrantInvalid(r.describe().into()))?;
    if grant.device_id != owner.device_id {
        return Err(Error::GrantInvalid(
            "it names another device than the one whose key signed it".into(),
        ));
    }
    owner.check_in_good_standing()?;
    authorize(&owner.account, Action::Sync)?;
    if grant.expires_at <= now {
        return Err(Error::GrantExpired(format!(
            "it ran out at {} (the server's clock says {now}); the laptop gives a new one at its next round",
            grant.expires_at
        )));
    }
    // The laptop's clock may run ahead a little; a grant for longer is not one the app writes.
    if grant.expires_at > now + GRANT_DAYS * DAY + DAY {
        return Err(Error::GrantExpired(format!(
            "it claims to last until {}, longer than a grant may ({GRANT_DAYS} days)",
            grant.expires_at
        )));
    }
    let relay_key = sync_file::parse_key(&grant.relay_key).ok_or_else(|| {
        Error::GrantInvalid("its `relay_key` is not an ed25519 public key in hex".into())
    })?;

    let request_bytes = relay::decode(&req.request)
        .ok_or_else(|| Error::RelayRequestInvalid("`request` is not base64".into()))?;
    let envelope = sync_file::envelope(&request_bytes, T::KIND)
        .map_err(|r| Error::RelayRequestInvalid(r.describe().into()))?;
    let pull: T = envelope.open(&relay_key).map_err(|r| match r {
        sync_file::FileRefusal::Foreign => Error::RelayRequestInvalid(
            "it is signed by another key than the relay key the grant names".into(),
        ),
        r => Error::RelayRequestInvalid(r.describe().into()),
    })?;
    if pull.protocol() != PROTOCOL_VERSION {
        return Err(Error::UnsupportedProtocol(pull.protocol().to_string()));
    }
    if pull.written_at().abs_diff(now) > COMMUNITY_PULL_SKEW_SECS.unsigned_abs() {
        return Err(Error::RelayClockSkew {
            written_at: pull.written_at(),
            server_time: now,
            max_skew: COMMUNITY_PULL_SKEW_SECS,
        });
    }
    Ok((
        CheckedGrant {
            grant,
            owner,
            relay_key,
        },
        pull,
    ))
}
