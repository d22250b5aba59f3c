//! Device tokens: 32 random bytes, base64url. The client keeps the token in its OS keyring;
//! we keep only its SHA-256, so a copy of the database signs nobody in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A freshly made token. Deliberately not `Debug`/`Display`: it must never reach a log.
pub struct NewToken {
    pub token: String,
    pub hash: [u8; 32],
}

pub fn generate() -> Result<NewToken> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    Ok(NewToken { token, hash })
}

/// What the database stores and looks tokens up by.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A device id for the device list and `ecommunity device revoke`: 16 random bytes, hex.
pub fn new_device_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_32_random_bytes_in_base64url() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.token.len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a.token).unwrap().len(), 32);
        assert!(
            a.token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a.token, b.token);
    }

    #[test]
    fn the_stored_hash_is_sha256_of_the_token() {
        let t = generate().unwrap();
        assert_eq!(t.hash, hash(&t.token));
        // Known answer, so the hash cannot silently change and lock every device out.
        let h = hash("abc");
        assert_eq!(h[..4], [0xba, 0x78, 0x16, 0xbf]);
        assert_ne!(hash("abd"), h);
    }

    #[test]
    fn device_ids_are_random_hex() {
        let id = new_device_id().unwrap();
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(id, new_device_id().unwrap());
    }
}
