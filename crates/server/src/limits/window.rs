//! A sliding window of events per key, in memory: at most `max` events in `window`. Used for
//! registrations per address.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A sliding window of events per key.
pub struct WindowLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Past this many keys, expired ones are swept before adding another.
const SWEEP_ABOVE: usize = 10_000;

impl WindowLimiter {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        WindowLimiter {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(wait)` while `key` has used up its events in the window.
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

    pub fn record(&self, key: &str, now: Instant) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_within_the_window() {
        let l = WindowLimiter::new(2, Duration::from_secs(60));
        let t = Instant::now();
        l.record("a", t);
        l.record("a", t + Duration::from_secs(10));
        assert_eq!(
            l.check("a", t + Duration::from_secs(20)),
            Err(Duration::from_secs(40))
        );
        assert!(l.check("b", t).is_ok());
        assert!(l.check("a", t + Duration::from_secs(60)).is_ok());
        l.clear("a");
        assert!(l.check("a", t + Duration::from_secs(20)).is_ok());
    }

    #[test]
    fn memory_is_swept() {
        let limiter = WindowLimiter::new(1, Duration::from_secs(1));
        let t = Instant::now();
        for i in 0..=SWEEP_ABOVE {
            limiter.record(&i.to_string(), t);
        }
        limiter.record("late", t + Duration::from_secs(2));
        assert_eq!(limiter.lock().len(), 1);
    }
}
