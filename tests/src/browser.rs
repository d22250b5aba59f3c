//! A real headless Chromium driven through chromedriver (WebDriver, with fantoccini), for the
//! Secretariat's console served by the real `ecommunity`. Debian packages `chromium` and
//! `chromium-driver` (the Makefile installs them). Each [`Browser`] has its own chromedriver
//! process and a fresh profile folder, both gone when it is dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

/// How long a page condition may take before the test fails.
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(20);

fn which(name: &str, env: &str, candidates: &[&str]) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return PathBuf::from(p);
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} not found (tried {candidates:?}, or set {env}); `make test` installs the Debian packages chromium and chromium-driver")
        })
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    pub base_url: String,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session that will browse `base_url`.
    pub async fn start(base_url: &str) -> Browser {
        let driver_bin = which(
            "chromedriver",
            "CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        );
        let chromium = which(
            "chromium",
            "CHROMIUM",
            &["/usr/bin/chromium", "/usr/lib/chromium/chromium"],
        );
        let port = crate::free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not open port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("profile folder");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--disable-dev-shm-usage",
                    "--window-size=1366,900",
                    "--lang=en",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {"intl.accept_languages": "en"},
            }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("WebDriver session with headless Chromium");
        Browser {
            client,
            driver,
            _profile: profile,
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base_url))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        let mut p = url.path().to_string();
        if let Some(q) = url.query() {
            p.push('?');
            p.push_str(q);
        }
        p
    }

    /// The first element matching `css`, waiting for it.
    pub async fn wait(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(PAGE_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css} within {PAGE_TIMEOUT:?}: {e}"))
    }

    pub async fn testid(&self, id: &str) -> Element {
        self.wait(&format!("[data-testid=\"{id}\"]")).await
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.unwrap()
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let el = self.wait(css).await;
        el.clear().await.unwrap();
        el.send_keys(value).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.wait(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Runs a script in the page and returns its value.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Downloads `path` as the page would (its cookies, same origin) and returns the status,
    /// content type and bytes.
    pub async fn fetch(&self, path: &str) -> (u16, String, Vec<u8>) {
        let script = format!(
            r#"const done = arguments[arguments.length - 1];
               fetch({path:?}, {{credentials: 'same-origin'}}).then(async (r) => {{
                 const bytes = new Uint8Array(await r.arrayBuffer());
                 let s = ''; for (const b of bytes) s += String.fromCharCode(b);
                 done([r.status, r.headers.get('content-type') || '', btoa(s)]);
               }}, (e) => done([0, String(e), '']));"#
        );
        let v = self
            .client
            .execute_async(&script, vec![])
            .await
            .unwrap_or_else(|e| panic!("fetch {path}: {e}"));
        let status = v[0].as_u64().unwrap_or(0) as u16;
        let mime = v[1].as_str().unwrap_or("").to_string();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(v[2].as_str().unwrap_or(""))
            .unwrap_or_default();
        (status, mime, bytes)
    }

    /// Saves a PNG of the page to `$STOPOVER_SCREENSHOTS/console-<name>.png` when that is set
    /// (the README's screenshots are made so), after scrolling to the top.
    pub async fn screenshot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("STOPOVER_SCREENSHOTS") {
            self.js("window.scrollTo(0, 0); return true;").await;
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(Path::new(&dir).join(format!("console-{name}.png")), png).unwrap();
        }
    }

    /// Saves a PNG of one element (e.g. a chart) as `console-<name>.png`, like [`Self::screenshot`].
    pub async fn screenshot_of(&self, css: &str, name: &str) {
        if let Some(dir) = std::env::var_os("STOPOVER_SCREENSHOTS") {
            let png = self
                .wait(css)
                .await
                .screenshot()
                .await
                .expect("element screenshot");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(Path::new(&dir).join(format!("console-{name}.png")), png).unwrap();
        }
    }

    /// Sets the window's size (taller windows for full-page screenshots).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("window resizes");
    }

    pub async fn quit(self) {
        let Browser { client, .. } = &self;
        let _ = client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
