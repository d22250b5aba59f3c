//! Back-off between failed syncs: exponential growth with full jitter, honouring Retry-After.
//!
//! After the n-th failure in a row (n from 0) the wait is a uniform random duration in
//! `[0, min(cap, base·2ⁿ)]` ("full jitter"), so fifty laptops that lost the same wifi do not
//! come back in step. When the server said `Retry-After: s`, the wait is `s` plus that jitter:
//! never sooner than asked, and still spread. A success resets the count.

use std::time::Duration;

use crate::Error;

#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Backoff::DEFAULT_BASE, Backoff::DEFAULT_CAP)
    }
}

impl Backoff {
    pub const DEFAULT_BASE: Duration = Duration::from_secs(2);
    pub const DEFAULT_CAP: Duration = Duration::from_secs(300);

    /// `base`: the ceiling after the first failure; `cap`: the ceiling never exceeded by the
    /// exponential part.
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            base,
            cap: cap.max(base),
            failures: 0,
        }
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The upper bound of the next jittered wait: `min(cap, base·2^failures)`.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX);
        self.base
            .checked_mul(factor)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// Counts one more failure and returns how long to wait before trying again:
    /// `retry_after` (or zero) plus a uniform random duration in `[0, ceiling]`.
    pub fn next_delay(&mut self, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        let jitter = random_up_to(ceiling);
        retry_after.unwrap_or_default() + jitter
    }

    /// [`next_delay`](Self::next_delay) for a failed sync: `None` when trying again by itself
    /// cannot help (sign-in needed, a bad address…) — see [`Error::is_transient`]; the
    /// server's Retry-After of [`Error::Busy`] is honoured.
    pub fn delay_after(&mut self, error: &Error) -> Option<Duration> {
        if !error.is_transient() {
            return None;
        }
        let retry_after = match error {
            Error::Busy { retry_after } => *retry_after,
            _ => None,
        };
        Some(self.next_delay(retry_after))
    }

    /// After a success: the next failure starts from `base` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// A uniform random duration in `[0, max]`, at millisecond resolution.
fn random_up_to(max: Duration) -> Duration {
    let ms = u64::try_from(max.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(0..=ms))
}

/// A period with ±50 % jitter (uniform in `[period/2, period·3/2]`), for the connectivity
/// probe timer, so devices started together do not probe together.
pub fn jittered(period: Duration) -> Duration {
    period / 2 + random_up_to(period)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_jitter_stays_within_the_growing_ceiling() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(2);
        let mut b = Backoff::new(base, cap);
        let mut seen_small = false;
        for n in 0..12u32 {
            let expected_ceiling = (base * 2u32.pow(n)).min(cap);
            assert_eq!(b.ceiling(), expected_ceiling, "failure {n}");
            let d = b.next_delay(None);
            assert!(
                d <= expected_ceiling,
                "failure {n}: {d:?} > {expected_ceiling:?}"
            );
            seen_small |= d < expected_ceiling / 2;
        }
        assert_eq!(b.failures(), 12);
        assert_eq!(b.ceiling(), cap, "capped");
        assert!(seen_small, "full jitter reaches below half the ceiling");
    }

    #[test]
    fn jitter_covers_the_whole_range() {
        let mut lowest = Duration::MAX;
        let mut highest = Duration::ZERO;
        for _ in 0..2000 {
            let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
            let d = b.next_delay(None);
            assert!(d <= Duration::from_secs(1));
            lowest = lowest.min(d);
            highest = highest.max(d);
        }
        assert!(lowest < Duration::from_millis(100), "lowest {lowest:?}");
        assert!(highest > Duration::from_millis(900), "highest {highest:?}");
    }

    #[test]
    fn retry_after_is_a_floor_and_reset_starts_over() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
        for _ in 0..200 {
            let ceiling = b.ceiling();
            let d = b.next_delay(Some(Duration::from_secs(7)));
            assert!(
                d >= Duration::from_secs(7) && d <= Duration::from_secs(7) + ceiling,
                "{d:?}"
            );
        }
        b.reset();
        assert_eq!(b.failures(), 0);
        assert_eq!(b.ceiling(), Duration::from_millis(500));
        // Huge failure counts neither overflow nor pass the cap.
        for _ in 0..100 {
            b.next_delay(None);
        }
        assert_eq!(b.ceiling(), Duration::from_secs(10));
    }

    #[test]
    fn errors_decide_whether_to_retry() {
        let mut b = Backoff::default();
        let busy = Error::Busy {
            retry_after: Some(Duration::from_secs(30)),
        };
        assert!(b.delay_after(&busy).unwrap() >= Duration::from_secs(30));
        assert!(b.delay_after(&Error::Network("reset".into())).is_some());
        assert!(
            b.delay_after(&Error::SignInRequired("token revoked".into()))
                .is_none()
        );
        assert!(
            b.delay_after(&Error::InsecureUrl {
                host: "example.org".into()
            })
            .is_none()
        );
    }

    #[test]
    fn jittered_period_stays_around_the_period() {
        for _ in 0..500 {
            let d = jittered(Duration::from_secs(60));
            assert!(d >= Duration::from_secs(30) && d <= Duration::from_secs(90));
        }
    }
}
