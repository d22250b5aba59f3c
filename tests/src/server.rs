//! The real `ecommunity` process on loopback, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct Server {
    child: Child,
    pub base_url: String,
    _data: tempfile::TempDir,
}

impl Server {
    /// Starts `ecommunity serve` on port 0 with a fresh data folder and waits for its address.
    pub fn start() -> Server {
        let data = tempfile::tempdir().unwrap();
        let mut child = Command::new(crate::workspace_binary("ecommunity"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ecommunity starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let base_url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from ecommunity: {line:?}"))
            .to_string();
        Server { child, base_url, _data: data }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
