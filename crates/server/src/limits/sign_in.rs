//! Failed sign-ins are limited per account and per client address, in memory (a restart
//! forgets them, which is acceptable: it also restarts nothing an attacker gains from).
//! Only failures count, so a busy workshop of correct passwords is never locked out.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A sliding window of failures per key.
pub struct AttemptLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Past this many keys, expired ones are swept before adding another.
const SWEEP_ABOVE: usize = 10_000;

impl AttemptLimiter {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        AttemptLimiter {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(wait)` while `key` has used up its failures in the window.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.lock();
        let Some(times) = map.get_mut(key) else {
            return Ok(());
        };
        prune(times, now, self.window);
        if times.len() < self.max_failures {
            return Ok(());
        }
        let oldest = *times.front().expect("non-empty: len >= max_failures >= 1");
        Err((oldest + self.window).saturating_duration_since(now))
    }

    pub fn record_failure(&self, key: &str, now: Instant) {
        let mut map = self.lock();
        if map.len() > SWEEP_ABOVE {
            let window = self.window;
            map.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
        }
        let times = map.entry(key.to_string()).or_default();
        prune(times, now, self.window);
        times.push_back(now);
        // Never keep more than needed to decide.
        while times.len() > self.max_failures {
            times.pop_front();
        }
    }

    pub fn clear(&self, key: &str) {
        self.lock().remove(key);
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

/// The two limits `POST /v1/sessions` applies.
pub struct SignInLimits {
    per_account: AttemptLimiter,
    per_address: AttemptLimiter,
}

impl Default for SignInLimits {
    /// 5 failures per account and 30 per address in 15 minutes.
    fn default() -> Self {
        let window = Duration::from_secs(15 * 60);
        SignInLimits {
            per_account: AttemptLimiter::new(5, window),
            per_address: AttemptLimiter::new(30, window),
        }
    }
}

/// Limit keys for addresses: an IPv6 client controls its whole /64, so that is one key.
fn address_key(ip: IpAddr) -> String {
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

fn too_many(wait: Duration) -> Error {
    Error::TooManyAttempts {
        retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}

impl SignInLimits {
    pub fn new(per_account: AttemptLimiter, per_address: AttemptLimiter) -> Self {
        SignInLimits {
            per_account,
            per_address,
        }
    }

    /// Called before the password is checked, so a locked-out guesser learns nothing.
    pub fn check(&self, username: &str, ip: IpAddr, now: Instant) -> Result<()> {
        self.per_address
            .check(&address_key(ip), now)
            .map_err(too_many)?;
        self.per_account
            .check(&account_key(username), now)
            .map_err(too_many)
    }

    pub fn failed(&self, username: &str, ip: IpAddr, now: Instant) {
        self.per_address.record_failure(&address_key(ip), now);
        self.per_account.record_failure(&account_key(username), now);
    }

    /// A correct password clears the account's failures (not the address's: one good
    /// account must not launder guesses against others from the same address).
    pub fn succeeded(&self, username: &str) {
        self.per_account.clear(&account_key(username));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));

    #[test]
    fn five_failures_lock_the_account_until_the_window_passes() {
        let limits = SignInLimits::default();
        let t0 = Instant::now();
        for i in 0..5 {
            assert!(
                limits
                    .check("amina", IP, t0 + Duration::from_secs(i))
                    .is_ok()
            );
            limits.failed("amina", IP, t0 + Duration::from_secs(i));
        }
        let Err(Error::TooManyAttempts { retry_after }) =
            limits.check("amina", IP, t0 + Duration::from_secs(10))
        else {
            panic!("sixth attempt should be refused")
        };
        assert_eq!(retry_after, 15 * 60 - 10);
        // Other accounts are untouched; case does not dodge the limit.
        assert!(limits.check("boris", IP, t0).is_ok());
        assert!(
            limits
                .check("AMINA", IP, t0 + Duration::from_secs(10))
                .is_err()
        );
        // The oldest failure expires after 15 minutes.
        assert!(
            limits
                .check("amina", IP, t0 + Duration::from_secs(15 * 60))
                .is_ok()
        );
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let limits = SignInLimits::new(
            AttemptLimiter::new(2, Duration::from_secs(60)),
            AttemptLimiter::new(3, Duration::from_secs(60)),
        );
        let t = Instant::now();
        limits.failed("amina", IP, t);
        limits.failed("amina", IP, t);
        assert!(limits.check("amina", IP, t).is_err());
        limits.succeeded("amina");
        assert!(limits.check("amina", IP, t).is_ok());
        limits.failed("boris", IP, t);
        // Third failure from this address: every account is now refused from here.
        assert!(limits.check("carla", IP, t).is_err());
        let other = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));
        assert!(limits.check("carla", other, t).is_ok());
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

    #[test]
    fn memory_is_swept() {
        let limiter = AttemptLimiter::new(1, Duration::from_secs(1));
        let t = Instant::now();
        for i in 0..=SWEEP_ABOVE {
            limiter.record_failure(&i.to_string(), t);
        }
        limiter.record_failure("late", t + Duration::from_secs(2));
        assert_eq!(limiter.lock().len(), 1);
    }
}
