//! Secrets: where the device token lives. Only here — never in SQLite, a log, a config file
//! or an error message.
//!
//! [`SecretStore`] is the seam: the app uses [`KeyringStore`] (the OS keyring: Secret Service on
//! Linux, Keychain on macOS, Credential Manager on Windows); unit tests use [`MemoryStore`].

use std::collections::HashMap;
use std::sync::Mutex;

use crate::{Error, Result};

/// The keyring service name every Stopover secret is filed under.
pub const SERVICE: &str = "org.stopover.app";

/// A small key → secret store.
pub trait SecretStore: Send + Sync {
    /// The secret under `key`, or `None` when there is none.
    fn get(&self, key: &str) -> Result<Option<String>>;
    /// Stores `value` under `key`, replacing any earlier one.
    fn set(&self, key: &str, value: &str) -> Result<()>;
    /// Removes the secret under `key`; removing a missing one is not an error.
    fn delete(&self, key: &str) -> Result<()>;
}

/// The OS keyring, through the `keyring` crate. Entries are filed under service [`SERVICE`]
/// (or the one given to [`KeyringStore::with_service`]) with the key as the user name.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
}

impl Default for KeyringStore {
    fn default() -> Self {
        KeyringStore::new()
    }
}

impl KeyringStore {
    pub fn new() -> KeyringStore {
        KeyringStore {
            service: SERVICE.to_string(),
        }
    }

    /// A store under another service name, e.g. to keep tests apart from a real installation.
    pub fn with_service(service: &str) -> KeyringStore {
        KeyringStore {
            service: service.to_string(),
        }
    }

    fn entry(&self, key: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, key).map_err(keyring_error)
    }
}

/// Turns a keyring error into [`Error::Secrets`] with a message a person can act on. Never
/// includes secret material (a `BadEncoding` error carries the stored bytes: they are dropped).
fn keyring_error(e: keyring::Error) -> Error {
    let detail = match &e {
        keyring::Error::PlatformFailure(inner) => inner.to_string(),
        keyring::Error::NoStorageAccess(inner) => {
            format!("access was refused or the keyring is locked: {inner}")
        }
        keyring::Error::NoEntry => "no such entry".to_string(),
        keyring::Error::BadEncoding(_) => "the stored secret is not valid text".to_string(),
        keyring::Error::TooLong(attr, limit) => {
            format!("`{attr}` is longer than the keyring allows ({limit})")
        }
        keyring::Error::Invalid(attr, reason) => format!("`{attr}` is invalid: {reason}"),
        keyring::Error::Ambiguous(found) => format!("{} entries match", found.len()),
        _ => "unknown keyring error".to_string(),
    };
    Error::Secrets(format!("the system keyring is not available: {detail}"))
}

impl SecretStore for KeyringStore {
    fn get(&self, key: &str) -> Result<Option<String>> {
        match self.entry(key)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<()> {
        self.entry(key)?.set_password(value).map_err(keyring_error)
    }

    fn delete(&self, key: &str) -> Result<()> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error(e)),
        }
    }
}

/// Secrets in memory only, for tests (and for a run that must leave nothing behind).
#[derive(Debug, Default)]
pub struct MemoryStore {
    secrets: Mutex<HashMap<String, String>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.secrets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many secrets are held (for tests).
    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn is_empty(&self) -> bool {
        self.map().is_empty()
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.map().get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<()> {
        self.map().insert(key.to_string(), value.to_string());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.map().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_round_trips() {
        let store = MemoryStore::new();
        assert_eq!(store.get("k").unwrap(), None);
        store.set("k", "secret").unwrap();
        assert_eq!(store.get("k").unwrap().as_deref(), Some("secret"));
        store.set("k", "newer").unwrap();
        assert_eq!(store.get("k").unwrap().as_deref(), Some("newer"));
        store.delete("k").unwrap();
        store.delete("k").unwrap();
        assert_eq!(store.get("k").unwrap(), None);
        assert!(store.is_empty());
    }

    #[test]
    fn keyring_errors_are_clear_and_carry_no_secret() {
        let e = keyring_error(keyring::Error::BadEncoding(b"my-token".to_vec()));
        assert_eq!(e.code().as_str(), "secrets");
        let msg = e.to_string();
        assert!(
            msg.starts_with("the system keyring is not available"),
            "{msg}"
        );
        assert!(!msg.contains("my-token"));
    }

    /// Against the real OS keyring. On Linux run it inside a private session bus with an
    /// unlocked gnome-keyring, e.g.:
    /// `dbus-run-session -- sh -c 'echo pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
    ///  cargo test -p stopover-core keyring_store -- --ignored'`
    #[test]
    #[ignore = "needs a Secret Service (gnome-keyring in dbus-run-session)"]
    fn keyring_store_round_trips_against_the_os_keyring() {
        let store = KeyringStore::with_service("org.stopover.app.test");
        let key = format!("device-token:test-{}", std::process::id());
        store.delete(&key).unwrap();
        assert_eq!(store.get(&key).unwrap(), None);
        store.set(&key, "secret-token").unwrap();
        assert_eq!(store.get(&key).unwrap().as_deref(), Some("secret-token"));
        store.delete(&key).unwrap();
        assert_eq!(store.get(&key).unwrap(), None);
    }
}
