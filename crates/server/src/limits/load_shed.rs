//! Load shedding for sync: a fixed number of pushes and pulls run at once; the next one is
//! told to come back in 1–3 s (jittered, so a room of laptops does not return in step)
//! instead of waiting in an unbounded queue.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};

#[derive(Clone)]
pub struct SyncSlots {
    slots: Arc<Semaphore>,
}

impl SyncSlots {
    pub fn new(max_inflight: usize) -> Self {
        SyncSlots {
            slots: Arc::new(Semaphore::new(max_inflight)),
        }
    }

    /// A slot held until the permit drops, or `Busy` at once.
    pub fn try_enter(&self) -> Result<OwnedSemaphorePermit> {
        self.slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::Busy {
                retry_after: jitter_seconds(1, 3),
            })
    }
}

/// Random whole seconds in `lo..=hi`, for `Retry-After` (spreads retries of a crowd).
fn jitter_seconds(lo: u64, hi: u64) -> u64 {
    let mut b = [0u8; 1];
    if getrandom::fill(&mut b).is_err() {
        return hi;
    }
    lo + u64::from(b[0]) % (hi - lo + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheds_past_the_limit_and_recovers() {
        let slots = SyncSlots::new(2);
        let a = slots.try_enter().unwrap();
        let _b = slots.try_enter().unwrap();
        match slots.try_enter() {
            Err(Error::Busy { retry_after }) => assert!((1..=3).contains(&retry_after)),
            _ => panic!("third concurrent sync should be shed"),
        }
        drop(a);
        assert!(slots.try_enter().is_ok());
    }

    #[test]
    fn retry_after_is_jittered_within_bounds() {
        let seen: std::collections::HashSet<u64> = (0..200).map(|_| jitter_seconds(1, 3)).collect();
        assert!(seen.iter().all(|s| (1..=3).contains(s)), "{seen:?}");
        assert!(seen.len() > 1, "spread, not one fixed value: {seen:?}");
    }
}
