//! Sign-in limits: password guessing is slowed per account *and* address, without letting an
//! outsider lock a person out.
//!
//! - **One check at a time.** An attempt waits for its turn on its account and on its address
//!   before anything is read, and holds both until its outcome is recorded; so parallel
//!   guesses are checked one after another, each seeing the failures of the ones before it.
//!   (Waiting longer than [`SignInPolicy::queue_wait`] is answered 429.)
//! - **Growing delays, keyed on account + address.** Past a few free failures, each further
//!   failure doubles the wait before the next attempt of that pair (up to a cap); they are
//!   forgotten after a quiet period or a success. Nothing is ever locked for good.
//! - **Per address and per account** (guessing many accounts from one address, or one account
//!   from many addresses) the same growing delays apply, but only to pairs that never signed
//!   in: an account's known addresses (where it signed in successfully) keep working while an
//!   outsider hammers it from elsewhere, and people behind the same address (a workshop NAT)
//!   who signed in before are not slowed by someone else's failures.
//!
//! All in memory: a restart forgets it, which gives an attacker nothing (each attempt still
//! costs a password hash) and frees any delay.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::OwnedMutexGuard;

use crate::error::{Error, Result};

/// Free failures, then a wait of `base` × 2^(failures − free), at most `max`; failures older
/// than `forget_after` (counted from the last one) are forgotten.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub free: u32,
    pub base: Duration,
    pub max: Duration,
    pub forget_after: Duration,
}

impl Rule {
    /// The wait after `failures` failures.
    pub fn delay(&self, failures: u32) -> Duration {
        if failures < self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free).min(30);
        self.base.saturating_mul(1 << doublings).min(self.max)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct SignInPolicy {
    /// One account from one address.
    pub pair: Rule,
    /// Any account from one address (pairs that never signed in).
    pub address: Rule,
    /// One account from any address (pairs that never signed in).
    pub account: Rule,
    /// How long an attempt waits for its turn before it is answered 429.
    pub queue_wait: Duration,
    /// How long a successful (account, address) pair stays known.
    pub known_for: Duration,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        let rule = |free, forget_hours: u64| Rule {
            free,
            base: Duration::from_secs(1),
            max: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(forget_hours * 3600),
        };
        SignInPolicy {
            pair: rule(5, 24),
            address: rule(30, 1),
            account: rule(20, 1),
            queue_wait: Duration::from_secs(10),
            known_for: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Past this many entries, forgotten ones are swept before adding another.
const SWEEP_ABOVE: usize = 50_000;

pub struct SignInLimits {
    policy: SignInPolicy,
    /// Keys: `p:<account>\0<address>`, `a:<address>`, `u:<account>`.
    failures: Mutex<HashMap<String, Failures>>,
    /// `<account>\0<address>` of successful sign-ins, with when.
    known: Mutex<HashMap<String, Instant>>,
    /// Whose turn it is: one async mutex per account and per address being checked.
    turns: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits::new(SignInPolicy::default())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Limit keys for addresses: an IPv6 client controls its whole /64, so that is one key.
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn account_key(username: &str) -> String {
    // Usernames are at most 64 characters; longer input cannot be an account anyway.
    username.chars().take(64).collect::<String>().to_lowercase()
}

pub(crate) fn too_many(wait: Duration) -> Error {
    Error::TooManyAttempts {
        retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}

impl SignInLimits {
    pub fn new(policy: SignInPolicy) -> Self {
        SignInLimits {
            policy,
            failures: Mutex::default(),
            known: Mutex::default(),
            turns: Mutex::default(),
        }
    }

    /// Waits for this account's and this address's turn, then checks the delays. The
    /// [`Attempt`] holds both turns until its outcome is recorded (or it is dropped, which
    /// counts as a failure).
    pub async fn begin(self: &Arc<Self>, username: &str, ip: IpAddr) -> Result<Attempt> {
        let (account, address) = (account_key(username), address_key(ip));
        let turns = async {
            // Always address first, then account: no two attempts wait on each other.
            let a = self.turn(format!("a:{address}")).lock_owned().await;
            let u = self.turn(format!("u:{account}")).lock_owned().await;
            (a, u)
        };
        let turns = tokio::time::timeout(self.policy.queue_wait, turns)
            .await
            .map_err(|_| Error::TooManyAttempts { retry_after: 1 })?;
        let attempt = Attempt {
            limits: self.clone(),
            account,
            address,
            turns: Some(turns),
            resolved: false,
        };
        if let Some(wait) = self.wait(&attempt.account, &attempt.address, Instant::now()) {
            let mut attempt = attempt;
            attempt.resolved = true; // refused unchecked: not a failure
            return Err(too_many(wait));
        }
        Ok(attempt)
    }

    fn turn(&self, key: String) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.turns).entry(key).or_default().clone()
    }

    fn release_turns(&self, keys: [String; 2]) {
        let mut turns = lock(&self.turns);
        for key in keys {
            if turns.get(&key).is_some_and(|t| Arc::strong_count(t) == 1) {
                turns.remove(&key);
            }
        }
    }

    fn is_known(&self, pair: &str, now: Instant) -> bool {
        lock(&self.known)
            .get(pair)
            .is_some_and(|t| now.saturating_duration_since(*t) < self.policy.known_for)
    }

    /// How long this account must wait from this address, if at all.
    pub fn wait(&self, account: &str, address: &str, now: Instant) -> Option<Duration> {
        let pair = format!("{account}\0{address}");
        let known = self.is_known(&pair, now);
        let failures = lock(&self.failures);
        let wait_for = |key: String, rule: &Rule| -> Duration {
            match failures.get(&key) {
                Some(f) if now.saturating_duration_since(f.last) < rule.forget_after => {
                    (f.last + rule.delay(f.count)).saturating_duration_since(now)
                }
                _ => Duration::ZERO,
            }
        };
        let mut wait = wait_for(format!("p:{pair}"), &self.policy.pair);
        if !known {
            wait = wait
                .max(wait_for(format!("a:{address}"), &self.policy.address))
                .max(wait_for(format!("u:{account}"), &self.policy.account));
        }
        (!wait.is_zero()).then_some(wait)
    }

    /// Records the outcome of a checked attempt.
    pub fn record(&self, account: &str, address: &str, success: bool, now: Instant) {
        let pair = format!("{account}\0{address}");
        if success {
            lock(&self.failures).remove(&format!("p:{pair}"));
            let mut known = lock(&self.known);
            if known.len() > SWEEP_ABOVE {
                let keep = self.policy.known_for;
                known.retain(|_, t| now.saturating_duration_since(*t) < keep);
            }
            if known.len() <= SWEEP_ABOVE || known.contains_key(&pair) {
                known.insert(pair, now);
            }
            return;
        }
        let known = self.is_known(&pair, now);
        let mut failures = lock(&self.failures);
        if failures.len() > SWEEP_ABOVE {
            let longest = self
                .policy
                .pair
                .forget_after
                .max(self.policy.address.forget_after);
            failures.retain(|_, f| now.saturating_duration_since(f.last) < longest);
        }
        let mut bump = |key: String, rule: &Rule| {
            let f = failures.entry(key).or_insert(Failures {
                count: 0,
                last: now,
            });
            if now.saturating_duration_since(f.last) >= rule.forget_after {
                f.count = 0;
            }
            f.count = f.count.saturating_add(1);
            f.last = now;
        };
        bump(format!("p:{pair}"), &self.policy.pair);
        if !known {
            bump(format!("a:{address}"), &self.policy.address);
            bump(format!("u:{account}"), &self.policy.account);
        }
    }
}

/// A sign-in attempt whose turn it is. Record its outcome with [`Attempt::failed`] or
/// [`Attempt::succeeded`]; dropping it unresolved counts as a failure (a request that
/// vanished mid-check must not be a free guess).
pub struct Attempt {
    limits: Arc<SignInLimits>,
    account: String,
    address: String,
    turns: Option<(OwnedMutexGuard<()>, OwnedMutexGuard<()>)>,
    resolved: bool,
}

impl Attempt {
    pub fn failed(mut self) {
        self.resolve(false);
    }

    /// A correct password: forgets this pair's failures and remembers the address as one
    /// this account signs in from.
    pub fn succeeded(mut self) {
        self.resolve(true);
    }

    fn resolve(&mut self, success: bool) {
        if !self.resolved {
            self.resolved = true;
            self.limits
                .record(&self.account, &self.address, success, Instant::now());
        }
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.resolve(false);
        drop(self.turns.take());
        self.limits
            .release_turns([format!("a:{}", self.address), format!("u:{}", self.account)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn delays_grow_after_the_free_failures_and_are_capped() {
        let r = SignInPolicy::default().pair;
        assert_eq!(
            (0..9).map(|n| r.delay(n).as_secs()).collect::<Vec<_>>(),
            [0, 0, 0, 0, 0, 1, 2, 4, 8]
        );
        assert_eq!(r.delay(40), secs(15 * 60));
    }

    #[test]
    fn a_pair_is_slowed_and_other_addresses_are_not() {
        let l = SignInLimits::default();
        let (ip, other) = (address_key(IP), address_key(OTHER));
        let t = Instant::now();
        for _ in 0..5 {
            assert_eq!(l.wait("amina", &ip, t), None);
            l.record("amina", &ip, false, t);
        }
        assert_eq!(l.wait("amina", &ip, t), Some(secs(1)));
        l.record("amina", &ip, false, t + secs(1));
        assert_eq!(l.wait("amina", &ip, t + secs(1)), Some(secs(2)));
        assert_eq!(
            l.wait("amina", &ip, t + secs(3)),
            None,
            "a delay, not a lock"
        );
        // The owner, elsewhere, is not touched by this pair's failures.
        assert_eq!(l.wait("amina", &other, t + secs(1)), None);
        // Case does not dodge the key.
        assert!(l.wait(&account_key("AMINA"), &ip, t + secs(1)).is_some());
        // Forgotten after a quiet day.
        assert_eq!(l.wait("amina", &ip, t + secs(25 * 3600)), None);
    }

    #[test]
    fn an_account_hammered_from_everywhere_still_opens_from_its_known_address() {
        let l = SignInLimits::default();
        let t = Instant::now();
        let home = address_key(IP);
        l.record("amina", &home, true, t);
        for i in 0..60 {
            let attacker = format!("198.51.100.{i}");
            l.record("amina", &attacker, false, t);
        }
        let stranger = address_key("203.0.113.9".parse().unwrap());
        assert!(
            l.wait("amina", &stranger, t).is_some(),
            "new addresses are slowed"
        );
        assert_eq!(
            l.wait("amina", &home, t),
            None,
            "the owner's address is not"
        );
    }

    #[test]
    fn one_address_guessing_many_accounts_is_slowed_but_not_its_known_users() {
        let l = SignInLimits::default();
        let t = Instant::now();
        let nat = address_key(IP);
        l.record("baraka", &nat, true, t);
        for i in 0..40 {
            l.record(&format!("guess{i}"), &nat, false, t);
        }
        assert!(l.wait("carla", &nat, t).is_some());
        assert_eq!(l.wait("baraka", &nat, t), None);
        assert_eq!(l.wait("carla", &address_key(OTHER), t), None);
    }

    #[test]
    fn success_forgets_the_pair() {
        let l = SignInLimits::default();
        let (t, ip) = (Instant::now(), address_key(IP));
        for _ in 0..8 {
            l.record("amina", &ip, false, t);
        }
        assert!(l.wait("amina", &ip, t).is_some());
        l.record("amina", &ip, true, t);
        assert_eq!(l.wait("amina", &ip, t), None);
    }

    #[tokio::test]
    async fn attempts_take_turns_and_a_dropped_one_counts() {
        let l = Arc::new(SignInLimits::default());
        let first = l.begin("amina", IP).await.unwrap();
        // The same account from another address waits for the first to finish.
        let l2 = l.clone();
        let second = tokio::spawn(async move { l2.begin("amina", OTHER).await.map(|_| ()) });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!second.is_finished(), "checked one at a time");
        drop(first);
        second.await.unwrap().unwrap();
        // The dropped attempt was recorded as a failure of its pair.
        let f = lock(&l.failures);
        assert_eq!(f[&format!("p:amina\0{}", address_key(IP))].count, 1);
        drop(f);
        assert!(lock(&l.turns).is_empty(), "turns are released");
    }

    #[tokio::test]
    async fn a_long_queue_is_answered_429() {
        let policy = SignInPolicy {
            queue_wait: Duration::from_millis(50),
            ..SignInPolicy::default()
        };
        let l = Arc::new(SignInLimits::new(policy));
        let _first = l.begin("amina", IP).await.unwrap();
        assert!(matches!(
            l.begin("boris", IP).await,
            Err(Error::TooManyAttempts { retry_after: 1 })
        ));
    }

    #[test]
    fn ipv6_clients_are_limited_per_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        assert_eq!(address_key("::ffff:10.0.0.1".parse().unwrap()), "10.0.0.1");
    }
}
