//! What the tests of the real `ecommunity` binary share: running its command line, and
//! `serve` on a loopback port with its log captured.
#![allow(dead_code)] // each test file uses a part

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_ecommunity");
pub const ADMIN_PASSWORD: &str = "admin-pass-4c9e1a";
pub const NFP_PASSWORD: &str = "nfp-pass-77d0b2";

pub fn cli(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

pub fn cli_ok(args: &[&str]) -> String {
    let out = cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn add_user(data: &Path, username: &str, password: &str, role: &str, country: Option<&str>) {
    let d = data.to_str().unwrap();
    let mut args = vec![
        "user",
        "add",
        "--data",
        d,
        "--username",
        username,
        "--password",
        password,
    ];
    args.extend([
        "--display-name",
        "Someone",
        "--email",
        "someone@example.org",
        "--role",
        role,
    ]);
    if let Some(c) = country {
        args.extend(["--country", c, "--instruments", "CMS,AEWA"]);
    }
    cli_ok(&args);
}

/// `ecommunity serve` on port 0, logging at trace level into `log`.
pub struct Server {
    child: Child,
    pub addr: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    pub fn start(data: &Path) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("RUST_LOG", "trace")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let addr = first
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("first line: {first:?}"))
            .to_string();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let mut stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Server { child, addr, log }
    }

    /// One request on a fresh connection; returns status and JSON body (Null if empty).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        if !body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        if let Some(t) = token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        stream
            .write_all(format!("{head}\r\n{body}").as_bytes())
            .unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let json = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
        };
        (status, json)
    }

    pub fn sign_in(&self, username: &str, password: &str) -> (u16, Value) {
        self.call(
            "POST",
            "/v1/sessions",
            None,
            Some(json!({"username": username, "password": password, "device_name": "test"})),
        )
    }

    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Give the reader thread a moment to drain what was written before the kill.
        std::thread::sleep(std::time::Duration::from_millis(50));
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
