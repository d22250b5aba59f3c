//! The real Stopover binary driven through tauri-driver → WebKitWebDriver.
//!
//! Run under `dbus-run-session -- xvfb-run -a` (see the Makefile): without a session bus
//! every app launch stalls for ~25 s waiting for one.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

/// How long a UI condition may take before the test fails.
pub const UI_TIMEOUT: Duration = Duration::from_secs(20);

/// One tauri-driver process; each [`Driver::launch`] starts the app in a new session.
pub struct Driver {
    child: Child,
    /// tauri-driver's and the app's stderr (the app's logs), for scans and failure reports.
    log: tempfile::NamedTempFile,
    port: u16,
    pub data_dir: PathBuf,
}

fn tauri_driver_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cargo")
        });
    let path = home.join("bin/tauri-driver");
    assert!(
        path.is_file(),
        "tauri-driver not found at {}; `make test` installs it",
        path.display()
    );
    path
}

impl Driver {
    /// Starts tauri-driver; the app it launches keeps its data in `data_dir`.
    pub fn start(data_dir: &Path) -> Driver {
        Self::start_with_env(data_dir, &[])
    }

    /// Like [`Driver::start`], with extra environment for the app (e.g. a content pack folder).
    pub fn start_with_env(data_dir: &Path, env: &[(&str, &Path)]) -> Driver {
        let log = tempfile::NamedTempFile::new().expect("log file");
        let port = crate::free_port();
        let native_port = crate::free_port();
        let child = Command::new(tauri_driver_binary())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("STOPOVER_DATA_DIR", data_dir)
            .env(
                "RUST_LOG",
                std::env::var("STOPOVER_E2E_LOG").unwrap_or_else(|_| "info".into()),
            )
            .envs(env.iter().map(|(k, v)| (*k, *v)))
            .stdout(Stdio::null())
            .stderr(Stdio::from(log.reopen().expect("log file reopens")))
            .spawn()
            .expect("tauri-driver starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not open port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            log,
            port,
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// Launches the app (a new WebDriver session) and waits for the home view.
    pub async fn launch(&self) -> App {
        let app = self.launch_to_any().await;
        app.wait_testid("nav-home").await;
        app
    }

    /// Launches the app without expecting the home view (error screens).
    pub async fn launch_to_any(&self) -> App {
        let mut caps = serde_json::Map::new();
        // No browserName: WebKitWebDriver rejects it for a Tauri app.
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": crate::workspace_binary("stopover") }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("WebDriver session with the app");
        App { client }
    }
}

impl Driver {
    /// Everything the app (and tauri-driver) wrote to stderr so far: the app's logs.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running app window.
pub struct App {
    pub client: Client,
}

pub fn testid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

impl App {
    /// The first element with this test id, waiting for it to appear.
    pub async fn wait_testid(&self, id: &str) -> Element {
        self.client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(&testid(id)))
            .await
            .unwrap_or_else(|e| panic!("no element [data-testid={id}] within {UI_TIMEOUT:?}: {e}"))
    }

    /// All elements with this test id, waiting until there is at least one.
    pub async fn wait_all(&self, id: &str) -> Vec<Element> {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let found = self
                .client
                .find_all(Locator::Css(&testid(id)))
                .await
                .unwrap();
            if !found.is_empty() {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no elements [data-testid={id}] within {UI_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn click_testid(&self, id: &str) {
        self.wait_testid(id)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {id}: {e}"));
    }

    /// Polls a JavaScript condition until it returns true.
    pub async fn wait_js(&self, what: &str, script: &str) {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            if self
                .client
                .execute(script, vec![])
                .await
                .ok()
                .and_then(|v| v.as_bool())
                == Some(true)
            {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn hash(&self) -> String {
        self.client
            .execute("return location.hash", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Saves a PNG of the window to `$STOPOVER_E2E_SCREENSHOTS/<name>.png` when that is set
    /// (for looking at the real app, and for the README's screenshots).
    pub async fn screenshot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("STOPOVER_E2E_SCREENSHOTS") {
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
            // The whole screen too, as a person sees the window (Xvfb's display).
            let screen = Path::new(&dir).join(format!("{name}-screen.png"));
            let taken = std::process::Command::new("import")
                .args(["-window", "root"])
                .arg(&screen)
                .status();
            if !taken.is_ok_and(|s| s.success()) {
                eprintln!("import -window root did not take {}", screen.display());
            }
        }
    }

    /// Ends the session, which closes the app.
    pub async fn quit(self) {
        self.client.close().await.expect("session closes");
    }
}

/// The CSS selector of the question `name` (its `data-name`) in the open report.
pub fn question(name: &str) -> String {
    format!("{}[data-name=\"{name}\"]", testid("question"))
}

impl App {
    /// The first element matching `css`, waiting for it.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css} within {UI_TIMEOUT:?}: {e}"))
    }

    /// Waits until the header's sync indicator shows `state` (`up_to_date`, `signed_out`, …).
    pub async fn sync_state_is(&self, state: &str) {
        self.wait_js(
            &format!("sync state `{state}`"),
            &format!(
                "return document.querySelector('{}')?.dataset.state === '{state}'",
                testid("sync-status")
            ),
        )
        .await;
    }

    /// Signs in through the Sync page's form, as a person would, and waits for the first sync.
    pub async fn sign_in(&self, server_url: &str, username: &str, password: &str) {
        self.click_testid("nav-sync").await;
        for (id, text) in [
            ("signin-server", server_url),
            ("signin-user", username),
            ("signin-password", password),
        ] {
            let field = self.wait_testid(id).await;
            field.clear().await.unwrap();
            field.send_keys(text).await.unwrap();
        }
        self.click_testid("signin-submit").await;
        self.sync_state_is("up_to_date").await;
    }

    /// Starts a report of `form` for `cycle` from the Reports page and waits for its sections.
    pub async fn new_report(&self, form: &str, cycle: &str) {
        self.click_testid("nav-reports").await;
        // The forms arrive a moment after the page: wait for this one's option.
        self.find(&format!(
            "{} option[value=\"{form}\"]",
            testid("report-new-form")
        ))
        .await;
        self.wait_testid("report-new-form")
            .await
            .select_by_value(form)
            .await
            .unwrap();
        let field = self.wait_testid("report-new-cycle").await;
        field.clear().await.unwrap();
        field.send_keys(cycle).await.unwrap();
        self.click_testid("report-new").await;
        self.wait_testid("section-nav").await;
    }

    /// Shows the report section `name` and waits until it is the one shown.
    pub async fn open_section(&self, name: &str) {
        self.find(&format!("{}[data-name=\"{name}\"]", testid("section-link")))
            .await
            .click()
            .await
            .unwrap();
        self.wait_js(
            &format!("section {name} shown"),
            &format!(
                "return document.querySelector('{}')?.dataset.name === '{name}'",
                testid("report-section")
            ),
        )
        .await;
    }

    /// Waits until every change of the open report is confirmed saved by the core.
    pub async fn wait_saved(&self) {
        self.wait_js(
            "the answers to be saved",
            &format!(
                "return document.querySelector('{}')?.dataset.state === 'saved'",
                testid("save-state")
            ),
        )
        .await;
    }
}

/// Every answer of every report draft in the app's database (`stopover.sqlite3` in its data
/// folder), path → value, read while the app runs.
pub fn stored_answers(data_dir: &Path) -> std::collections::BTreeMap<String, String> {
    let conn = rusqlite::Connection::open_with_flags(
        data_dir.join("stopover.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the app's database opens read-only");
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    let mut stmt = conn
        .prepare("SELECT path, value FROM report_answer")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}
