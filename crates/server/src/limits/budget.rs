//! A byte budget per account (token bucket): what pushes may add to the database. A person
//! typing never comes near it; a script pushing long notes in a loop is told to wait
//! (429 `too_many_writes` with `Retry-After`), and its client retries later, losing nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

pub struct ByteBudget {
    /// Bytes an account may write at once (the bucket's size).
    capacity: f64,
    /// Bytes per second the bucket refills.
    per_second: f64,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl ByteBudget {
    /// `capacity` bytes at once, refilled at `per_hour` bytes an hour.
    pub fn new(capacity: u64, per_hour: u64) -> Self {
        ByteBudget {
            capacity: capacity as f64,
            per_second: (per_hour as f64 / 3600.0).max(1.0),
            buckets: Mutex::default(),
        }
    }

    /// Takes `bytes` from `account`'s budget, or says how long to wait for them.
    pub fn charge(&self, account: i64, bytes: u64, now: Instant) -> Result<()> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 10_000 {
            // Full buckets hold no information.
            let (cap, rate) = (self.capacity, self.per_second);
            buckets.retain(|_, (left, at)| {
                *left + now.saturating_duration_since(*at).as_secs_f64() * rate < cap
            });
        }
        let (left, at) = buckets.entry(account).or_insert((self.capacity, now));
        let refilled = (*left + now.saturating_duration_since(*at).as_secs_f64() * self.per_second)
            .min(self.capacity);
        let want = (bytes as f64).min(self.capacity);
        if refilled < want {
            let wait = Duration::from_secs_f64((want - refilled) / self.per_second);
            return Err(Error::TooManyWrites {
                retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
            });
        }
        *left = refilled - want;
        *at = now;
        Ok(())
    }
}

/// What a push would write: the values, field names and entity ids of its operations.
pub fn push_bytes(ops: &[stopover_protocol::Operation]) -> u64 {
    ops.iter()
        .map(|op| (op.value.to_string().len() + op.field.len() + op.entity.id.len()) as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let b = ByteBudget::new(1000, 3600); // 1 byte a second
        let t = Instant::now();
        b.charge(1, 600, t).unwrap();
        b.charge(1, 400, t).unwrap();
        let Err(Error::TooManyWrites { retry_after }) = b.charge(1, 100, t) else {
            panic!("over budget")
        };
        assert_eq!(retry_after, 100);
        b.charge(2, 1000, t).unwrap(); // another account has its own
        b.charge(1, 100, t + Duration::from_secs(100)).unwrap();
    }
}
