//! A wrong clock, on the laptop or on the server, three years either way, against the real
//! `ecommunity` process (its clock shifted by `ECOMMUNITY_TEST_CLOCK_SHIFT_SECS`) and a real
//! core whose laptop clock is shifted ([`ShiftedClock`]): nothing is pruned that the
//! retention setting would keep by the server's time, an event open on the server reads
//! open (and takes the registration), and the laptop knows how far off its clock is.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stopover_core::clock::ShiftedClock;
use stopover_core::forum::{self, Registration, Retention};
use stopover_core::sync;
use stopover_tests::api::within;
use stopover_tests::client::Device;
use stopover_tests::server::{NewUser, Server};

const T: Duration = Duration::from_secs(180);
const YEAR: i64 = 365 * 86_400;
const GENERAL: &str = "general";

/// `YYYY-MM-DD` (UTC) of now shifted by `shift_secs`, as SQLite reckons it.
fn day(shift_secs: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    rusqlite::Connection::open_in_memory()
        .unwrap()
        .query_row("SELECT date(?1, 'unixepoch')", [now + shift_secs], |r| {
            r.get(0)
        })
        .unwrap()
}

async fn sync(device: &Device) {
    device
        .sync()
        .await
        .unwrap_or_else(|e| panic!("{}: sync failed: {e} ({})", device.name, e.code()));
}

/// One world: the server's clock `server_shift` off, Baraka's laptop `laptop_shift` off.
async fn skewed(server_shift: i64, laptop_shift: i64) {
    let what = format!("server {server_shift:+} s, laptop {laptop_shift:+} s");
    let shift = server_shift.to_string();
    let server =
        Server::start_with_env(&[], &[("ECOMMUNITY_TEST_CLOCK_SHIFT_SECS", shift.as_str())]);
    let (amina, baraka) = (NewUser::nfp("amina", "KE"), NewUser::nfp("baraka", "UG"));
    server.user_add_approved(&amina);
    server.user_add_approved(&baraka);
    // Open on the server for three more weeks, by the server's calendar.
    let closes = day(server_shift + 21 * 86_400);
    let starts = day(server_shift + 30 * 86_400);
    server.cli_ok(&[
        "event",
        "add",
        "skew-workshop",
        "--title-en",
        "Workshop",
        "--starts",
        &starts,
        "--ends",
        &starts,
        "--closes",
        &closes,
        "--location",
        "Online",
    ]);

    // Amina, whose clock is right, starts a thread; it is stamped by the server's clock.
    let a = Device::sign_in("amina-laptop", &server.base_url, &amina).await;
    sync(&a).await;
    let t = forum::new_thread(&a.core, GENERAL, "Skewed clocks", "Is it 2030 yet?").unwrap();
    forum::reply(&a.core, &t.id, "Not on my laptop.").unwrap();
    sync(&a).await;

    // Baraka's laptop, its clock off, syncs: retention (24 months) runs after the pull.
    let clock = Arc::new(ShiftedClock::new(laptop_shift));
    let client = stopover_core::sync::SyncClient::new(&server.base_url).unwrap();
    let b = Device::sign_in_with_clock("baraka-laptop", client, &baraka, clock).await;
    sync(&b).await;
    let view = forum::thread(&b.core, &t.id)
        .unwrap_or_else(|e| panic!("{what}: the thread was pruned: {e}"));
    assert_eq!(view.posts.len(), 2, "{what}");
    // Applying the setting again (as changing it does) keeps them too.
    forum::set_retention(&b.core, Retention::default()).unwrap();
    let pruned: i64 = b
        .core
        .conn()
        .query_row("SELECT count(*) FROM forum_pruned", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pruned, 0, "{what}: nothing pruned");
    assert_eq!(forum::thread(&b.core, &t.id).unwrap().posts.len(), 2);

    // The event reads open, and the registration goes through.
    let events = forum::events(&b.core, "en").unwrap();
    let event = events.iter().find(|e| e.id == "skew-workshop").unwrap();
    assert!(event.registration_open, "{what}: {event:?}");
    forum::register_for_event(&b.core, "skew-workshop", true)
        .unwrap_or_else(|e| panic!("{what}: registering was refused: {e}"));
    sync(&b).await;
    let event = forum::events(&b.core, "en")
        .unwrap()
        .into_iter()
        .find(|e| e.id == "skew-workshop")
        .unwrap();
    assert_eq!(event.registration, Registration::Registered, "{what}");

    // The laptop knows how far off it is, and warns when that is more than a few minutes.
    let skew = sync::status(&b.core).unwrap().clock_skew_secs;
    let expected = server_shift - laptop_shift;
    if expected == 0 {
        assert_eq!(skew, None, "{what}");
    } else {
        let skew = skew.unwrap_or_else(|| panic!("{what}: no warning"));
        assert!((skew - expected).abs() < 60, "{what}: skew {skew}");
    }
    assert_eq!(
        sync::status(&a.core).unwrap().clock_skew_secs.is_some(),
        server_shift != 0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_laptop_three_years_ahead_prunes_nothing_and_closes_no_open_event() {
    within(T, "laptop ahead", skewed(0, 3 * YEAR)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_laptop_three_years_behind_prunes_nothing_and_closes_no_open_event() {
    within(T, "laptop behind", skewed(0, -3 * YEAR)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_three_years_behind_has_nothing_pruned_on_arrival() {
    within(T, "server behind", skewed(-3 * YEAR, 0)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_three_years_ahead_has_its_events_open_on_the_laptop() {
    within(T, "server ahead", skewed(3 * YEAR, 0)).await;
}
