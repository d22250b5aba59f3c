//! The real `ecommunity relay` process on loopback, stopped when dropped: killed and started
//! again on the same data folder and port, as a trainer's laptop that crashed would be.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::{ecommunity_binary, first_line};

pub struct Relay {
    child: Option<Child>,
    addr: SocketAddr,
    upstream: String,
    extra_args: Vec<String>,
    root: tempfile::TempDir,
}

impl Relay {
    /// Starts `ecommunity relay --upstream URL` on a free loopback port with a fresh data
    /// folder, asking for community news every second (`extra_args` adds options).
    pub fn start(upstream: &str, extra_args: &[&str]) -> Relay {
        let mut relay = Relay {
            child: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream: upstream.to_string(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            root: tempfile::tempdir().unwrap(),
        };
        let (child, addr) = relay
            .spawn(0)
            .unwrap_or_else(|why| panic!("the relay did not start: {why}\n{}", relay.log()));
        relay.child = Some(child);
        relay.addr = addr;
        relay
    }

    fn spawn(&self, port: u16) -> Result<(Child, SocketAddr), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let mut child = Command::new(ecommunity_binary())
            .args(["relay", "--upstream", &self.upstream, "--poll-secs", "1"])
            .args(["--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(self.data_dir())
            .args(&self.extra_args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("cannot run ecommunity relay: {e}"))?;
        let line = first_line(&mut child).ok_or_else(|| {
            let _ = child.kill();
            "no `listening on` line".to_string()
        })?;
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse::<SocketAddr>().ok())
            .ok_or_else(|| format!("unexpected first line from the relay: {line:?}"))?;
        Ok((child, addr))
    }

    /// `http://127.0.0.1:<port>`: what a laptop types on its Sync page.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    pub fn log_path(&self) -> PathBuf {
        self.root.path().join("relay.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// SIGKILL, as a crash or a pulled plug would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same data folder and port (laptops keep its address).
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        let child = loop {
            match self.spawn(self.addr.port()) {
                Ok((child, _)) => break child,
                Err(why) if Instant::now() > deadline => {
                    panic!("the relay did not restart: {why}\n{}", self.log())
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        self.child = Some(child);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = self.log();
            let tail: String = log
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            eprintln!("--- relay log (tail) ---\n{tail}");
        }
    }
}
