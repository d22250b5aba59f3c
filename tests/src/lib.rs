//! Harness for black-box tests: locating the workspace's binaries, starting the real
//! `ecommunity` server on a free loopback port, and driving the real app through
//! tauri-driver (WebDriver) with `data-testid` selectors.

pub mod api;
pub mod app;
pub mod browser;
pub mod client;
pub mod load;
pub mod proxy;
pub mod relay;
pub mod reports;
pub mod secrets_file;
pub mod server;
pub mod tls_front;

use std::path::PathBuf;

/// `target/debug/<name>` of this workspace (or `$CARGO_TARGET_DIR`), which must already be
/// built: `make test` builds everything before running tests.
pub fn workspace_binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug").join(name);
    assert!(
        path.is_file(),
        "{} is not built; run `cargo build --workspace` (make test does) first",
        path.display()
    );
    path.canonicalize().expect("binary path resolves")
}

/// Copies the files and folders under `from` into `to` (made if missing).
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A TCP port on loopback that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
