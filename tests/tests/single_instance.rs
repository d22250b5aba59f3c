//! Two launches of the real Stopover binary on one data folder (issue 16): the second never
//! opens the database. On the same desktop session the single-instance plugin hands over to
//! the first, which comes forward, and the second exits; from another session (another
//! D-Bus, where the plugin cannot see the first) the data folder's lock refuses it, and it
//! shows why instead of opening anything.
//!
//! Needs the built app and a desktop session: run under the Makefile's HEADLESS wrapper,
//! `dbus-run-session -- tools/with-keyring.sh xvfb-run -a cargo test -p stopover-tests
//! --test single_instance -- --ignored --test-threads=1` (`make test-e2e` runs it).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

/// The app on `data`, its logs (stderr) going to `log`; `dbus`: in a session bus of its own.
fn launch(data: &Path, log: &Path, own_bus: bool) -> Child {
    let app = stopover_tests::workspace_binary("stopover");
    let mut command = if own_bus {
        let mut c = Command::new("dbus-run-session");
        c.arg("--").arg(&app);
        c
    } else {
        Command::new(&app)
    };
    command
        .env("STOPOVER_DATA_DIR", data)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
        .spawn()
        .expect("the app starts")
}

fn log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn wait_for_log(path: &Path, what: &str) {
    let deadline = Instant::now() + WAIT;
    while !log(path).contains(what) {
        assert!(
            Instant::now() < deadline,
            "no {what:?} in the log within {WAIT:?}:\n{}",
            log(path)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[ignore = "needs the built app, Xvfb and D-Bus: run by `make test-e2e`"]
fn a_second_launch_on_the_same_session_brings_the_first_forward_and_exits() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let (first_log, second_log) = (logs.path().join("first"), logs.path().join("second"));
    let _first = Running(launch(data.path(), &first_log, false));
    wait_for_log(&first_log, "core opened");

    let mut second = launch(data.path(), &second_log, false);
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the second launch is still running:\n{}",
            log(&second_log)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}\n{}", log(&second_log));
    assert!(
        !log(&second_log).contains("core opened"),
        "the second launch opened the database:\n{}",
        log(&second_log)
    );
    wait_for_log(&first_log, "bringing this window forward");
}

#[test]
#[ignore = "needs the built app, Xvfb and D-Bus: run by `make test-e2e`"]
fn a_launch_from_another_session_is_refused_by_the_lock_and_opens_nothing() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let (first_log, second_log) = (logs.path().join("first"), logs.path().join("second"));
    let _first = Running(launch(data.path(), &first_log, false));
    wait_for_log(&first_log, "core opened");
    let db = data.path().join("stopover.sqlite3");
    let before = std::fs::metadata(&db).unwrap().modified().unwrap();

    let _second = Running(launch(data.path(), &second_log, true));
    wait_for_log(&second_log, "data folder in use");
    let second = log(&second_log);
    assert!(second.contains("data_dir_in_use"), "{second}");
    assert!(
        !second.contains("core opened"),
        "the second launch opened the database:\n{second}"
    );
    assert_eq!(
        std::fs::metadata(&db).unwrap().modified().unwrap(),
        before,
        "the database was not touched"
    );
    // Once the first is gone, a launch opens the folder as usual.
    drop(_first);
    drop(_second);
    let third_log = logs.path().join("third");
    let _third = Running(launch(data.path(), &third_log, true));
    wait_for_log(&third_log, "core opened");
}
