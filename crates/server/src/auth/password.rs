//! Password hashes: argon2id, PHC strings (the parameters travel with each hash, so raising
//! the cost later keeps old hashes verifiable).

use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::Semaphore;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::{Error, Result};

/// Work memory for one argon2 run (19 MiB with the default parameters). Each hashing slot
/// keeps one and reuses it: allocating 19 MiB per hash and freeing it left the allocator
/// holding hundreds of megabytes under a registration flood.
type Memory = Vec<Block>;

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// A hash of nothing in particular, verified against when the username is unknown so that
    /// "no such user" takes as long as "wrong password".
    dummy: Arc<OnceLock<String>>,
    /// Each argon2 run holds its memory and a core: a sign-in storm waits its turn here
    /// instead of holding hundreds of them at once.
    slots: Arc<Semaphore>,
    /// One work memory per slot, handed to whichever run holds the slot.
    memories: Arc<Mutex<Vec<Memory>>>,
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
            memories: Arc::default(),
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
        self.in_slot(move |memory| this.hash_in(&password, memory))
            .await?
    }

    /// Checks `password` against `hash`, or burns the same time when there is no account.
    pub async fn verify_async(&self, password: String, hash: Option<String>) -> Result<bool> {
        let this = self.clone();
        self.in_slot(move |memory| match hash {
            Some(h) => this.verify_in(&password, &h, memory),
            None => this.verify_nobody_in(&password, memory),
        })
        .await
    }

    async fn in_slot<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Memory) -> R + Send + 'static,
    ) -> Result<R> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| Error::Task(e.to_string()))?;
        // At most one memory per slot exists: taken while the slot is held, given back after.
        let mut memory = self
            .memories
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default();
        let (result, memory) = tokio::task::spawn_blocking(move || {
            let result = f(&mut memory);
            (result, memory)
        })
        .await?;
        self.memories
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(memory);
        Ok(result)
    }

    /// Cheap parameters so unit tests do not spend seconds hashing. Never used by `serve`.
    #[cfg(test)]
    pub fn fast_for_tests() -> Self {
        Passwords::with_params(Params::new(256, 1, 1, None).expect("valid argon2 params"))
    }

    /// A hash of `password` (a PHC string with its parameters and salt), with a fresh memory:
    /// for the admin CLI, which hashes once.
    pub fn hash(&self, password: &str) -> Result<String> {
        self.hash_in(password, &mut Memory::new())
    }

    fn hash_in(&self, password: &str, memory: &mut Memory) -> Result<String> {
        let fail = |e: String| Error::PasswordHash(e);
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| Error::Random(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| fail(e.to_string()))?;
        let mut raw = [0u8; 64];
        let salt_bytes = salt
            .as_salt()
            .decode_b64(&mut raw)
            .map_err(|e| fail(e.to_string()))?;
        let len = self
            .params
            .output_len()
            .unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = Output::init_with(len, |out| {
            run(&self.params, password.as_bytes(), salt_bytes, out, memory)
                .map_err(|_| argon2::password_hash::Error::Crypto)
        })
        .map_err(|e| fail(e.to_string()))?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(|e| fail(e.to_string()))?,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok(hash.to_string())
    }

    /// True when `password` matches `hash`. A damaged hash never matches.
    pub fn verify(&self, password: &str, hash: &str) -> bool {
        self.verify_in(password, hash, &mut Memory::new())
    }

    fn verify_in(&self, password: &str, hash: &str, memory: &mut Memory) -> bool {
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        if Algorithm::try_from(parsed.algorithm) != Ok(Algorithm::Argon2id)
            || parsed
                .version
                .is_some_and(|v| v != u32::from(Version::V0x13))
        {
            return false;
        }
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        let mut raw = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut raw) else {
            return false;
        };
        let mut out = vec![0u8; expected.len()];
        if run(&params, password.as_bytes(), salt, &mut out, memory).is_err() {
            return false;
        }
        // Output's comparison is constant-time.
        Output::new(&out).is_ok_and(|got| got == expected)
    }

    /// Burns the same work as a real check, for unknown usernames. Always false.
    pub fn verify_nobody(&self, password: &str) -> bool {
        self.verify_nobody_in(password, &mut Memory::new())
    }

    fn verify_nobody_in(&self, password: &str, memory: &mut Memory) -> bool {
        let dummy = self.dummy.get_or_init(|| {
            self.hash_in("no account has this password", memory)
                .unwrap_or_default()
        });
        let _ = self.verify_in(password, dummy, memory);
        false
    }
}

/// One argon2id run in `memory`, grown (once) when these parameters need more.
fn run(
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Memory,
) -> std::result::Result<(), argon2::Error> {
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut memory[..blocks],
    )
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
    fn hashes_of_the_argon2_crate_verify_and_ours_verify_there() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let p = Passwords::fast_for_tests();
        let salt = SaltString::encode_b64(b"sixteen bytes!!!").unwrap();
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, p.params.clone())
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(p.verify("correct horse battery", &theirs));
        let ours = p.hash("correct horse battery").unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &PasswordHash::new(&ours).unwrap())
                .is_ok()
        );
    }

    #[tokio::test]
    async fn each_slot_reuses_one_memory() {
        let p = Passwords::fast_for_tests();
        for _ in 0..20 {
            let h = p.hash_async("correct horse battery".into()).await.unwrap();
            assert!(
                p.verify_async("correct horse battery".into(), Some(h))
                    .await
                    .unwrap()
            );
        }
        let kept = p.memories.lock().unwrap().len();
        assert!(
            (1..=2).contains(&kept),
            "{kept} memories for sequential runs"
        );
    }

    #[test]
    fn nobody_never_matches() {
        assert!(!Passwords::fast_for_tests().verify_nobody("no account has this password"));
    }
}
