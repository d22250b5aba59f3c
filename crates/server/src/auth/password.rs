//! Password hashes: argon2id, PHC strings (the parameters travel with each hash, so raising
//! the cost later keeps old hashes verifiable).

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// A hash of nothing in particular, verified against when the username is unknown so that
    /// "no such user" takes as long as "wrong password".
    dummy: Arc<OnceLock<String>>,
    /// Each argon2 run holds 19 MiB and a core: a sign-in storm waits its turn here instead
    /// of holding hundreds of them at once.
    slots: Arc<Semaphore>,
}

impl Default for Passwords {
    /// argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane), as OWASP recommends.
    fn default() -> Self {
        Passwords::with_params(Params::default())
    }
}

impl Passwords {
    pub fn with_params(params: Params) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Passwords {
            params,
            dummy: Arc::new(OnceLock::new()),
            slots: Arc::new(Semaphore::new(cores.max(2))),
        }
    }

    /// Makes the stand-in hash for unknown usernames now, so the first such sign-in is not
    /// slower than the rest (which would tell a prober the name is unknown).
    pub fn warm_up(&self) {
        self.verify_nobody("");
    }

    /// [`Passwords::hash`] on the blocking pool, within the hashing slots.
    pub async fn hash_async(&self, password: String) -> Result<String> {
        let this = self.clone();
        self.in_slot(move || this.hash(&password)).await?
    }

    /// Checks `password` against `hash`, or burns the same time when there is no account.
    pub async fn verify_async(&self, password: String, hash: Option<String>) -> Result<bool> {
        let this = self.clone();
        self.in_slot(move || match hash {
            Some(h) => this.verify(&password, &h),
            None => this.verify_nobody(&password),
        })
        .await
    }

    async fn in_slot<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| Error::Task(e.to_string()))?;
        Ok(tokio::task::spawn_blocking(f).await?)
    }

    /// Cheap parameters so unit tests do not spend seconds hashing. Never used by `serve`.
    #[cfg(test)]
    pub fn fast_for_tests() -> Self {
        Passwords::with_params(Params::new(256, 1, 1, None).expect("valid argon2 params"))
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    pub fn hash(&self, password: &str) -> Result<String> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| Error::Random(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| Error::PasswordHash(e.to_string()))?;
        let hash = self
            .argon2()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| Error::PasswordHash(e.to_string()))?;
        Ok(hash.to_string())
    }

    /// True when `password` matches `hash`. A damaged hash never matches.
    pub fn verify(&self, password: &str, hash: &str) -> bool {
        match PasswordHash::new(hash) {
            Ok(parsed) => self
                .argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Burns the same work as a real check, for unknown usernames. Always false.
    pub fn verify_nobody(&self, password: &str) -> bool {
        let dummy = self.dummy.get_or_init(|| {
            self.hash("no account has this password")
                .unwrap_or_default()
        });
        let _ = self.verify(password, dummy);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let p = Passwords::fast_for_tests();
        let a = p.hash("correct horse battery").unwrap();
        let b = p.hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("correct horse"));
        assert!(p.verify("correct horse battery", &a));
        assert!(!p.verify("correct horse batterx", &a));
        assert!(!p.verify("correct horse battery", "garbage"));
    }

    #[test]
    fn default_parameters_are_the_recommended_ones() {
        let h = Passwords::default().hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    }

    #[test]
    fn hashes_made_with_other_parameters_still_verify() {
        let old = Passwords::fast_for_tests()
            .hash("correct horse battery")
            .unwrap();
        assert!(
            Passwords::with_params(Params::new(512, 2, 1, None).unwrap())
                .verify("correct horse battery", &old)
        );
    }

    #[test]
    fn nobody_never_matches() {
        assert!(!Passwords::fast_for_tests().verify_nobody("no account has this password"));
    }
}
