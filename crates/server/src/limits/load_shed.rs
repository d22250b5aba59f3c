//! Load shedding for sync: a fixed number of pushes and pulls run at once; the next one is
//! told to come back in 1–3 s (jittered, so a room of laptops does not return in step)
//! instead of waiting in an unbounded queue.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::token::jitter_seconds;
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct SyncSlots {
    slots: Arc<Semaphore>,
}

impl SyncSlots {
    pub fn new(max_inflight: usize) -> Self {
        SyncSlots { slots: Arc::new(Semaphore::new(max_inflight)) }
    }

    /// A slot held until the permit drops, or `Busy` at once.
    pub fn try_enter(&self) -> Result<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().map_err(|_| Error::Busy { retry_after: jitter_seconds(1, 3) })
    }
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
}
