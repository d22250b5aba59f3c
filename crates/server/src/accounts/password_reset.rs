//! A Secretariat password reset: a one-time password to give the person, every device of the
//! account signed out, and the next sign-in required to set a new password.

use rusqlite::Connection;

use super::AccountRow;
use super::store;
use crate::auth::devices;
use crate::error::{Error, Result};

/// Letters and digits that cannot be mistaken for one another when read out on the phone.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// 16 random characters (about 79 bits), in groups of four: `k7mq-x2pa-…`.
pub fn temporary_password() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
    let mut out = String::with_capacity(19);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        // 256 % 31 != 0: a slight bias, irrelevant for a one-time password of this length.
        out.push(ALPHABET[usize::from(*b) % ALPHABET.len()] as char);
    }
    Ok(out)
}

/// Stores the hash of the one-time password, marks the account to change it, and revokes every
/// device token of the account. Returns how many devices were signed out.
pub fn apply(conn: &Connection, target: &AccountRow, hash: &str) -> Result<usize> {
    store::set_password(conn, target.id, hash, true)?;
    devices::revoke_all(conn, target.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_are_long_readable_and_random() {
        let a = temporary_password().unwrap();
        assert_eq!(a.len(), 19);
        assert!(super::super::validate::password(&a).is_ok());
        assert!(a.chars().all(|c| c == '-' || ALPHABET.contains(&(c as u8))));
        assert_ne!(a, temporary_password().unwrap());
    }
}
