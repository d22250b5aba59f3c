//! What the relay checks offline before it keeps anything of a laptop's round: the server
//! vouches for the device (its credential), the device signed its push and its grant.

use ed25519_dalek::VerifyingKey;
use stopover_protocol::relay::{self, DeviceCredential, RelayGrant, RelaySyncRequest};
use stopover_protocol::sync_file::{self, DeviceChanges, FeedPart, FileKind, MAX_FILE_OPS};

use super::error::RelayError;

/// A round whose signatures all hold.
#[derive(Debug)]
pub struct CheckedRound {
    pub device_id: String,
    /// The push as the device sealed it: forwarded unchanged.
    pub changes_file: Vec<u8>,
    pub op_ids: Vec<String>,
    /// The grant as the device sealed it, and when it ends.
    pub grant_file: Vec<u8>,
    pub grant_expires: i64,
}

fn sealed(text: &str, what: &'static str) -> Result<Vec<u8>, RelayError> {
    relay::decode(text).ok_or(RelayError::Invalid(what))
}

/// The credential a laptop shows, checked with the server's key at `now`.
pub fn credential(
    text: &str,
    server_key: &VerifyingKey,
    now: i64,
) -> Result<DeviceCredential, RelayError> {
    let cred_file = sealed(text, "credential is not base64")?;
    let cred: DeviceCredential = sync_file::envelope(&cred_file, FileKind::Credential)
        .and_then(|e| e.open(server_key))
        .map_err(RelayError::Credential)?;
    if cred.expires_at <= now {
        return Err(RelayError::CredentialExpired);
    }
    Ok(cred)
}

/// Checks a laptop's round against the server's key and this relay's key, at `now` (Unix
/// seconds, the relay's clock).
pub fn round(
    req: &RelaySyncRequest,
    server_key: &VerifyingKey,
    relay_key: &VerifyingKey,
    now: i64,
) -> Result<CheckedRound, RelayError> {
    let cred = credential(&req.credential, server_key, now)?;
    let device_key = sync_file::parse_key(&cred.device_key)
        .ok_or(RelayError::Invalid("credential names no key"))?;

    let changes_file = sealed(&req.changes, "changes are not base64")?;
    let changes: DeviceChanges = sync_file::envelope(&changes_file, FileKind::Changes)
        .and_then(|e| e.open(&device_key))
        .map_err(RelayError::Changes)?;
    if changes.device_id != cred.device_id {
        return Err(RelayError::Invalid(
            "the changes name another device than the credential",
        ));
    }
    if changes.feed != FeedPart::Private {
        return Err(RelayError::Invalid(
            "a push through a relay pulls only the private feed",
        ));
    }
    if changes.ops.len() > MAX_FILE_OPS {
        return Err(RelayError::Invalid("too many operations"));
    }

    let grant_file = sealed(&req.grant, "grant is not base64")?;
    let grant: RelayGrant = sync_file::envelope(&grant_file, FileKind::Grant)
        .and_then(|e| e.open(&device_key))
        .map_err(RelayError::Grant)?;
    if grant.device_id != cred.device_id
        || sync_file::parse_key(&grant.relay_key).as_ref() != Some(relay_key)
    {
        // A grant for another relay (this one restarted with a new key): the laptop asks
        // `/v1/relay/info` again.
        return Err(RelayError::GrantForAnotherRelay);
    }
    if grant.expires_at <= now {
        return Err(RelayError::GrantExpired);
    }
    Ok(CheckedRound {
        device_id: cred.device_id,
        op_ids: changes.ops.into_iter().map(|op| op.id).collect(),
        changes_file,
        grant_file,
        grant_expires: grant.expires_at,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use stopover_protocol::relay::encode;
    use stopover_protocol::sync_file::{FileRefusal, seal, to_hex};

    pub fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    /// A round of device `d1` (key 2) for relay key 3, vouched by server key 1.
    pub fn request(device: &SigningKey, relay: &SigningKey, now: i64) -> RelaySyncRequest {
        let cred = DeviceCredential {
            protocol: 1,
            device_id: "d1".into(),
            username: "amina".into(),
            device_key: to_hex(device.verifying_key().as_bytes()),
            issued_at: now,
            expires_at: now + 100,
        };
        let changes = DeviceChanges {
            protocol: 1,
            device_id: "d1".into(),
            username: "amina".into(),
            written_at: now,
            ops: Vec::new(),
            cursor: 0,
            feed: FeedPart::Private,
        };
        let grant = RelayGrant {
            protocol: 1,
            device_id: "d1".into(),
            relay_key: to_hex(relay.verifying_key().as_bytes()),
            expires_at: now + 100,
        };
        RelaySyncRequest {
            protocol: 1,
            credential: encode(&seal(FileKind::Credential, &key(1), &cred)),
            changes: encode(&seal(FileKind::Changes, device, &changes)),
            grant: encode(&seal(FileKind::Grant, device, &grant)),
            community_cursor: 0,
            pack_version: None,
        }
    }

    #[test]
    fn a_sound_round_passes_and_each_forgery_is_named() {
        let (server, relay) = (key(1).verifying_key(), key(3).verifying_key());
        let good = request(&key(2), &key(3), 1000);
        let checked = round(&good, &server, &relay, 1000).unwrap();
        assert_eq!(checked.device_id, "d1");

        // A credential the server did not sign (made by another key).
        let mut forged = good.clone();
        forged.credential = request(&key(2), &key(3), 1000).credential.replace('A', "B");
        assert!(round(&forged, &server, &relay, 1000).is_err());
        assert!(matches!(
            round(&good, &key(9).verifying_key(), &relay, 1000),
            Err(RelayError::Credential(FileRefusal::Foreign))
        ));
        // Expired.
        assert!(matches!(
            round(&good, &server, &relay, 1100),
            Err(RelayError::CredentialExpired)
        ));
        // Changes signed by another device key than the credential names.
        let mut other = good.clone();
        other.changes = request(&key(4), &key(3), 1000).changes;
        assert!(matches!(
            round(&other, &server, &relay, 1000),
            Err(RelayError::Changes(FileRefusal::Foreign))
        ));
        // A grant for another relay.
        assert!(matches!(
            round(&good, &server, &key(5).verifying_key(), 1000),
            Err(RelayError::GrantForAnotherRelay)
        ));
    }
}
