//! The real `ecommunity` process on loopback, stopped when dropped, with its admin CLI and
//! sign-in as helpers.
//!
//! Its stderr goes to a log file beside (not inside) its data folder: [`Server::log_path`].
//! When a test panics the log's tail is printed, so a failure shows what the server said.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use stopover_protocol::{SignInRequest, SignInResponse};

/// How long the server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one admin CLI command may take.
const CLI_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout of every HTTP request the helpers make.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:<port>`; may change on [`Server::restart`] when the old port is taken.
    pub base_url: String,
    addr: SocketAddr,
    extra_args: Vec<String>,
    /// Environment of the server and its CLI (e.g. a shifted clock for a test).
    env: Vec<(String, String)>,
    root: tempfile::TempDir,
}

/// An account made with `ecommunity user add`.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub email: String,
    /// `nfp`, `secretariat` or `admin`.
    pub role: String,
    pub country: Option<String>,
    pub instruments: Vec<String>,
}

impl NewUser {
    /// An NFP of `country` covering CMS and AEWA, with a password derived from the name.
    pub fn nfp(username: &str, country: &str) -> NewUser {
        NewUser {
            username: username.into(),
            password: format!("{username}-Passw0rd!"),
            display_name: format!("NFP {username}"),
            email: format!("{username}@example.org"),
            role: "nfp".into(),
            country: Some(country.into()),
            instruments: vec!["CMS".into(), "AEWA".into()],
        }
    }

    /// A Secretariat or admin account (no country).
    pub fn staff(username: &str, role: &str) -> NewUser {
        NewUser {
            username: username.into(),
            password: format!("{username}-Passw0rd!"),
            display_name: format!("Staff {username}"),
            email: format!("{username}@example.org"),
            role: role.into(),
            country: None,
            instruments: vec![],
        }
    }
}

/// The `ecommunity` binary: `$ECOMMUNITY_BIN` when set (e.g. a release build for
/// benchmarks), else the workspace's debug build.
pub fn ecommunity_binary() -> PathBuf {
    match std::env::var_os("ECOMMUNITY_BIN") {
        Some(p) => {
            let p = PathBuf::from(p);
            assert!(p.is_file(), "ECOMMUNITY_BIN={} is not a file", p.display());
            p
        }
        None => crate::workspace_binary("ecommunity"),
    }
}

/// Reads the first stdout line within the timeout, then keeps draining stdout so the server
/// never writes into a closed pipe.
pub(crate) fn first_line(child: &mut Child) -> Option<String> {
    let stdout = child.stdout.take()?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let n = reader.read_line(&mut line).unwrap_or(0);
        let _ = tx.send(if n == 0 { None } else { Some(line) });
        let mut sink = Vec::new();
        let _ = reader.read_to_end(&mut sink);
    });
    rx.recv_timeout(START_TIMEOUT).ok().flatten()
}

pub(crate) fn wait_with_timeout(
    child: &mut Child,
    timeout: Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Server {
    /// Starts `ecommunity serve` on port 0 with a fresh data folder and waits for its address.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    /// Like [`Server::start`], with more `serve` options (e.g. `["--max-inflight-syncs", "4"]`).
    pub fn start_with(args: &[&str]) -> Server {
        Self::start_with_env(args, &[])
    }

    /// Like [`Server::start_with`], with environment for the server and its CLI, e.g.
    /// `ECOMMUNITY_TEST_CLOCK_SHIFT_SECS` to set its clock years off.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("data")).unwrap();
        let mut server = Server {
            child: None,
            base_url: String::new(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            extra_args: args.iter().map(|s| s.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            root,
        };
        let (child, addr) = server
            .spawn(0)
            .unwrap_or_else(|why| panic!("ecommunity did not start: {why}\n{}", server.log_tail()));
        server.set_running(child, addr);
        server
    }

    fn set_running(&mut self, child: Child, addr: SocketAddr) {
        self.child = Some(child);
        self.addr = addr;
        self.base_url = format!("http://{addr}");
    }

    fn spawn(&self, port: u16) -> Result<(Child, SocketAddr), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let mut child = Command::new(ecommunity_binary())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(self.data_dir())
            .args(&self.extra_args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("cannot run ecommunity: {e}"))?;
        let Some(line) = first_line(&mut child) else {
            let _ = child.kill();
            let status = child.wait();
            return Err(format!(
                "no `listening on` line within {START_TIMEOUT:?} (exit: {status:?})"
            ));
        };
        let url = line
            .trim()
            .strip_prefix("listening on http://")
            .map(str::to_string);
        let Some(addr) = url.and_then(|u| u.parse::<SocketAddr>().ok()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("unexpected first line from ecommunity: {line:?}"));
        };
        assert!(
            addr.ip().is_loopback(),
            "ecommunity listens on {addr}, not loopback"
        );
        Ok((child, addr))
    }

    /// The folder passed as `--data`.
    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// The server's stderr, across restarts.
    pub fn log_path(&self) -> PathBuf {
        self.root.path().join("ecommunity.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let from = lines.len().saturating_sub(40);
        format!(
            "--- last lines of {} ---\n{}",
            self.log_path().display(),
            lines[from..].join("\n")
        )
    }

    /// The process id of the running server, if it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The server's resident memory (VmRSS) in bytes, from `/proc` (Linux).
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Stops the server as Ctrl-C does (SIGINT, graceful), killing it if it has not exited
    /// within 5 s. The data folder stays.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        if wait_with_timeout(&mut child, Duration::from_secs(5)).is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server at once (SIGKILL), as a crash or power cut would. The data folder stays.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same data folder, on the same port when it is still free
    /// (tried for 3 s), else on a new one: check [`Server::base_url`] / [`Server::addr`].
    pub fn restart(&mut self) {
        self.stop();
        let port = self.addr.port();
        let deadline = Instant::now() + Duration::from_secs(3);
        let (child, addr) = loop {
            match self.spawn(port) {
                Ok(started) => break started,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(_) => {
                    break self.spawn(0).unwrap_or_else(|why| {
                        panic!("ecommunity did not restart: {why}\n{}", self.log_tail())
                    });
                }
            }
        };
        self.set_running(child, addr);
    }

    /// Runs `ecommunity <args…> --data DIR` (the data option after the subcommand's words),
    /// within a timeout.
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut child = Command::new(ecommunity_binary())
            .args(args)
            .arg("--data")
            .arg(self.data_dir())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ecommunity CLI runs");
        // Pipes are read on threads so a chatty command cannot block on a full pipe.
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let out_t = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = out.read_to_end(&mut v);
            v
        });
        let err_t = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = err.read_to_end(&mut v);
            v
        });
        let status = wait_with_timeout(&mut child, CLI_TIMEOUT).unwrap_or_else(|| {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`ecommunity {}` did not finish within {CLI_TIMEOUT:?}",
                args.join(" ")
            )
        });
        Output {
            status,
            stdout: out_t.join().unwrap(),
            stderr: err_t.join().unwrap(),
        }
    }

    /// Runs the CLI and panics with its output unless it succeeded; returns stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "`ecommunity {}` failed ({}):\nstdout: {}\nstderr: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `ecommunity user add …`.
    pub fn user_add(&self, user: &NewUser) {
        let mut args = vec![
            "user",
            "add",
            "--username",
            &user.username,
            "--password",
            &user.password,
            "--display-name",
            &user.display_name,
            "--email",
            &user.email,
            "--role",
            &user.role,
        ];
        let instruments = user.instruments.join(",");
        if let Some(c) = &user.country {
            args.extend(["--country", c.as_str()]);
        }
        if !user.instruments.is_empty() {
            args.extend(["--instruments", instruments.as_str()]);
        }
        self.cli_ok(&args);
    }

    /// `user add` then `user approve`: an account that can sign in.
    /// (`approve` may refuse an account that `add` already approved: that is fine.)
    pub fn user_add_approved(&self, user: &NewUser) {
        self.user_add(user);
        let out = self.cli(&["user", "approve", &user.username]);
        if !out.status.success() {
            assert_eq!(
                self.user_status(&user.username).as_deref(),
                Some("approved"),
                "`user approve {}` failed and the account is not approved: {}",
                user.username,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// `ecommunity user approve USER`.
    pub fn approve(&self, username: &str) {
        self.cli_ok(&["user", "approve", username]);
    }

    /// `ecommunity user revoke USER`.
    pub fn revoke(&self, username: &str) {
        self.cli_ok(&["user", "revoke", username]);
    }

    /// `ecommunity device revoke DEVICE_ID`.
    pub fn device_revoke(&self, device_id: &str) {
        self.cli_ok(&["device", "revoke", device_id]);
    }

    /// `ecommunity user list --json`, parsed.
    pub fn user_list(&self) -> serde_json::Value {
        let out = self.cli_ok(&["user", "list", "--json"]);
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("`user list --json` is not JSON ({e}): {out}"))
    }

    /// The `status` of one account as `user list --json` shows it (e.g. "approved").
    pub fn user_status(&self, username: &str) -> Option<String> {
        let list = self.user_list();
        let accounts = list
            .as_array()
            .cloned()
            .or_else(|| list.get("accounts").and_then(|a| a.as_array()).cloned())?;
        accounts
            .iter()
            .find(|a| a.get("username").and_then(|u| u.as_str()) == Some(username))
            .and_then(|a| a.get("status").and_then(|s| s.as_str()).map(str::to_string))
    }

    /// Signs in over HTTP and returns the whole answer. Retries (for up to 60 s) while the
    /// server answers 429, honouring `Retry-After`, since sign-in is rate-limited per address.
    pub async fn sign_in_full(
        &self,
        username: &str,
        password: &str,
        device_name: &str,
    ) -> Result<SignInResponse, String> {
        let client = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .unwrap();
        let body = SignInRequest {
            username: username.into(),
            password: password.into(),
            device_name: device_name.into(),
            new_password: None,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = client
                .post(format!("{}/v1/sessions", self.base_url))
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("sign-in request failed: {e}"))?;
            let status = r.status().as_u16();
            if status == 429 && Instant::now() < deadline {
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1u64);
                tokio::time::sleep(Duration::from_secs(wait.clamp(1, 10))).await;
                continue;
            }
            let text = r
                .text()
                .await
                .map_err(|e| format!("sign-in answer unreadable: {e}"))?;
            if status != 200 && status != 201 {
                return Err(format!("sign-in as {username} answered {status}: {text}"));
            }
            return serde_json::from_str(&text)
                .map_err(|e| format!("sign-in answer is not a SignInResponse ({e}): {text}"));
        }
    }

    /// Signs in and returns the device token; panics when that fails.
    pub async fn sign_in(&self, username: &str, password: &str) -> String {
        self.sign_in_full(username, password, "test device")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .token
    }

    /// Adds an approved account and signs it in.
    pub async fn signed_in(&self, user: &NewUser) -> SignInResponse {
        self.user_add_approved(user);
        self.sign_in_full(&user.username, &user.password, "test device")
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Fails when the server process has exited (a crash under a test's requests).
    pub fn assert_alive(&mut self) {
        if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
            panic!("ecommunity exited ({status})\n{}", self.log_tail());
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("{}", self.log_tail());
        }
    }
}
