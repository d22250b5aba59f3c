//! Time on the laptop, and the server's time as the laptop knows it.
//!
//! A laptop's clock can be years off (a flat battery, a wrong time zone set by hand); the
//! server's is the one the community shares: posts carry its stamps, events close by its
//! calendar. So every time rule here (forum retention, whether an event's registration is
//! open) uses [`ServerClock::now`]: the laptop's clock plus the offset to the server measured
//! at the last answer of the server (its HTTP `Date`). Until a server has answered, the
//! laptop's clock is all there is.
//!
//! The laptop's clock is a [`Clock`], so tests can set it years off ([`ShiftedClock`]).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

use crate::Result;
use crate::sync::state;

/// Beyond this difference with the server the app warns that the laptop's clock is off.
pub const CLOCK_SKEW_WARNING: Duration = Duration::from_secs(5 * 60);

/// Where the last measured offset is kept between runs (milliseconds, server minus laptop).
const OFFSET_KEY: &str = "server_clock_offset_ms";

/// The laptop's clock.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The system clock moved by a fixed amount, for tests (a laptop set years ahead or behind).
#[derive(Debug, Default)]
pub struct ShiftedClock {
    shift_ms: AtomicI64,
}

impl ShiftedClock {
    /// A clock `shift` ahead of the system's (behind when negative), in seconds.
    pub fn new(shift_secs: i64) -> ShiftedClock {
        let clock = ShiftedClock::default();
        clock.set_shift_secs(shift_secs);
        clock
    }

    pub fn set_shift_secs(&self, shift_secs: i64) {
        self.shift_ms
            .store(shift_secs.saturating_mul(1000), Ordering::Relaxed);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> SystemTime {
        shifted(SystemTime::now(), self.shift_ms.load(Ordering::Relaxed))
    }
}

fn shifted(t: SystemTime, ms: i64) -> SystemTime {
    let d = Duration::from_millis(ms.unsigned_abs());
    if ms >= 0 { t + d } else { t - d }
}

/// Milliseconds since 1970 (negative before).
fn unix_ms(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// The server's time as this laptop knows it.
#[derive(Debug)]
pub struct ServerClock {
    laptop: Arc<dyn Clock>,
    /// Server minus laptop, in milliseconds, once a server answered (or from the last run).
    offset_ms: Mutex<Option<i64>>,
}

impl ServerClock {
    pub fn new(laptop: Arc<dyn Clock>) -> ServerClock {
        ServerClock {
            laptop,
            offset_ms: Mutex::new(None),
        }
    }

    /// The laptop's own clock.
    pub fn laptop_now(&self) -> SystemTime {
        self.laptop.now()
    }

    /// The server's time now: the laptop's clock plus the last measured offset.
    pub fn now(&self) -> SystemTime {
        shifted(self.laptop.now(), self.offset_ms().unwrap_or(0))
    }

    /// [`ServerClock::now`] in seconds since 1970, for SQL (`'unixepoch'`).
    pub fn now_unix(&self) -> f64 {
        unix_ms(self.now()) as f64 / 1000.0
    }

    /// Server minus laptop, in milliseconds, once known.
    pub fn offset_ms(&self) -> Option<i64> {
        *self.offset_ms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the server's `Date` of an answer received just now.
    pub fn observe(&self, server_date: SystemTime) {
        let offset = unix_ms(server_date) - unix_ms(self.laptop.now());
        *self.offset_ms.lock().unwrap_or_else(|p| p.into_inner()) = Some(offset);
    }

    /// How far the laptop's clock is off the server's, when that is more than
    /// [`CLOCK_SKEW_WARNING`]: seconds, positive when the laptop is behind.
    pub fn skew_secs(&self) -> Option<i64> {
        self.offset_ms()
            .filter(|ms| ms.unsigned_abs() > CLOCK_SKEW_WARNING.as_millis() as u64)
            .map(|ms| ms / 1000)
    }

    /// Reads the offset kept by the last run (before any server answered in this one).
    pub(crate) fn load(&self, conn: &Connection) -> Result<()> {
        if let Some(ms) = state::get(conn, OFFSET_KEY)?.and_then(|v| v.parse::<i64>().ok()) {
            let mut offset = self.offset_ms.lock().unwrap_or_else(|p| p.into_inner());
            offset.get_or_insert(ms);
        }
        Ok(())
    }

    /// Keeps the offset for the next run (the laptop may start offline).
    pub(crate) fn save(&self, conn: &Connection) -> Result<()> {
        if let Some(ms) = self.offset_ms() {
            state::set(conn, OFFSET_KEY, &ms.to_string())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YEAR: i64 = 365 * 86_400;

    #[test]
    fn the_server_time_corrects_a_laptop_years_off() {
        for shift in [3 * YEAR, -3 * YEAR] {
            let laptop = Arc::new(ShiftedClock::new(shift));
            let server = ServerClock::new(laptop.clone());
            // Before any answer: the laptop's clock.
            let off = unix_ms(server.now()) - unix_ms(SystemTime::now());
            assert!((off - shift * 1000).abs() < 2_000, "{off}");
            server.observe(SystemTime::now());
            let off = unix_ms(server.now()) - unix_ms(SystemTime::now());
            assert!(off.abs() < 2_000, "{off}");
            let skew = server.skew_secs().expect("a warning");
            assert!((skew + shift).abs() < 2, "{skew}");
        }
    }

    #[test]
    fn a_small_difference_is_no_warning() {
        let server = ServerClock::new(Arc::new(ShiftedClock::new(90)));
        server.observe(SystemTime::now());
        assert_eq!(server.skew_secs(), None);
        assert!(server.offset_ms().is_some());
    }

    #[test]
    fn the_offset_outlives_the_run() {
        let conn = crate::store::open_in_memory().unwrap();
        let laptop: Arc<dyn Clock> = Arc::new(ShiftedClock::new(-2 * YEAR));
        let first = ServerClock::new(laptop.clone());
        first.observe(SystemTime::now());
        first.save(&conn).unwrap();
        let next = ServerClock::new(laptop);
        next.load(&conn).unwrap();
        assert_eq!(next.offset_ms(), first.offset_ms());
    }
}
