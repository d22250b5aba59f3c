//! Time rules by the server's clock, not the laptop's alone: a laptop three years ahead or
//! behind (a fake clock in the core) prunes nothing the setting keeps and shows no open event
//! closed; what was just pulled is never pruned by the run after the pull; and pruning can be
//! undone (a pruned thread comes back when opened). The same against the real server, its
//! clock shifted too: tests/tests/clock_skew.rs.

mod forum_feed;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use forum_feed::*;
use serde_json::json;
use stopover_core::clock::ShiftedClock;
use stopover_core::content::PackError;
use stopover_core::forum::{self, Retention};
use stopover_core::{Core, ErrorCode};

const YEAR: i64 = 365 * 86_400;

fn open_with_clock(shift_secs: i64) -> (tempfile::TempDir, Core, Arc<ShiftedClock>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ShiftedClock::new(shift_secs));
    let no_pack = Err(PackError {
        file: "manifest.toml".into(),
        reason: "not needed".into(),
    });
    let core = Core::open_with_clock(dir.path(), no_pack, clock.clone()).unwrap();
    signed_in_as(&core, "amina");
    (dir, core, clock)
}

/// The date and time `days` from now (real time), as the server stamps posts.
fn stamp(days: i64) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        + days * 86_400;
    rusqlite::Connection::open_in_memory()
        .unwrap()
        .query_row(
            "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ?1, 'unixepoch')",
            [secs],
            |r| r.get(0),
        )
        .unwrap()
}

fn recent_thread(feed: &mut Feed, title: &str, days_ago: i64) -> String {
    let id = uuid();
    feed.post(
        &id,
        &id,
        "general",
        Some(title),
        "Body",
        "chidi",
        &stamp(-days_ago),
    );
    id
}

fn categories(feed: &mut Feed) {
    feed.category("general", "General", None, 1);
}

#[test]
fn a_laptop_years_off_prunes_by_the_servers_time() {
    for shift in [3 * YEAR, -3 * YEAR] {
        let (_d, core, _clock) = open_with_clock(shift);
        // A server answered: its Date says what time it really is.
        core.server_clock().observe(SystemTime::now());
        let mut feed = Feed::default();
        categories(&mut feed);
        let fresh = recent_thread(&mut feed, "Last week", 7);
        let old = recent_thread(&mut feed, "Three years back", 3 * 365);
        feed.pull(&core);
        forum::retention::apply_after_pull(&core).unwrap();
        // By the server's time, one is a week old, the other three years: the latter goes
        // (24 months), whatever the laptop's clock says.
        forum::set_retention(&core, Retention::default()).unwrap();
        let listed: Vec<String> = forum::threads(&core, "general")
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(listed, [fresh.as_str()], "laptop {shift:+} s");
        // Undone by opening it.
        assert_eq!(forum::thread(&core, &old).unwrap().posts.len(), 1);
    }
}

#[test]
fn the_laptops_clock_alone_would_have_pruned_everything() {
    // The same laptop three years ahead before any server answered: its own clock is all it
    // has, and a week-old post looks three years old. (Shows the test above can fail.)
    let (_d, core, _clock) = open_with_clock(3 * YEAR);
    let mut feed = Feed::default();
    categories(&mut feed);
    let fresh = recent_thread(&mut feed, "Last week", 7);
    feed.pull(&core);
    forum::set_retention(&core, Retention::default()).unwrap();
    assert!(forum::threads(&core, "general").unwrap().is_empty());
    // Nothing is lost for good: opening it brings it back.
    assert_eq!(forum::thread(&core, &fresh).unwrap().posts.len(), 1);
}

#[test]
fn what_was_just_pulled_is_not_pruned_by_the_run_after_the_pull() {
    // A server whose clock was years behind stamped these posts long ago.
    let (_d, core, _clock) = open_with_clock(0);
    core.server_clock().observe(SystemTime::now());
    let mut feed = Feed::default();
    categories(&mut feed);
    let stamped_long_ago = recent_thread(&mut feed, "Stamped in the past", 4 * 365);
    feed.pull(&core);
    assert_eq!(forum::retention::apply_after_pull(&core).unwrap(), 0);
    // The next run (nothing new arrived) ages it like the rest...
    assert_eq!(forum::retention::apply_after_pull(&core).unwrap(), 1);
    // ...and opening it brings it back, counted as active again.
    assert_eq!(
        forum::thread(&core, &stamped_long_ago).unwrap().posts.len(),
        1
    );
    assert_eq!(forum::retention::apply_after_pull(&core).unwrap(), 0);
    assert_eq!(forum::threads(&core, "general").unwrap().len(), 1);
}

#[test]
fn events_open_by_the_servers_calendar() {
    for shift in [3 * YEAR, -3 * YEAR] {
        let (_d, core, clock) = open_with_clock(shift);
        let mut feed = Feed::default();
        let closes = stamp(20)[..10].to_string();
        let closed = stamp(-20)[..10].to_string();
        for (id, day) in [("open", &closes), ("closed", &closed)] {
            feed.put(
                "event",
                id,
                "info",
                json!({"title": {"en": id}, "starts_on": "2099-01-01", "ends_on": "2099-01-02",
                       "location": "Online", "registration_closes_on": day}),
            );
        }
        feed.pull(&core);
        core.server_clock().observe(SystemTime::now());
        let events = forum::events(&core, "en").unwrap();
        let open = |id: &str| {
            events
                .iter()
                .find(|e| e.id == id)
                .unwrap()
                .registration_open
        };
        assert!(open("open"), "laptop {shift:+} s");
        assert!(!open("closed"), "laptop {shift:+} s");
        forum::register_for_event(&core, "open", true).unwrap();
        let e = forum::register_for_event(&core, "closed", true).unwrap_err();
        assert_eq!(e.code(), ErrorCode::RegistrationClosed);
        // The warning: the laptop knows how far off it is.
        let skew = core.server_clock().skew_secs().unwrap();
        assert!((skew + shift).abs() < 5, "{skew}");
        clock.set_shift_secs(30);
        core.server_clock()
            .observe(SystemTime::now() + Duration::from_secs(0));
        assert_eq!(core.server_clock().skew_secs(), None);
    }
}
