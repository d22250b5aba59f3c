//! National report helpers shared by the report tests and benchmarks.

#[path = "../../crates/core/tests/support/fill_required.rs"]
mod fill;

pub use fill::fill_required;

use std::process::Command;

use crate::server::{Server, ecommunity_binary};

/// Publishes the repository's content pack (with its report forms) on the server, signed
/// with a throw-away key: the server judges submissions with the forms it publishes, and
/// learns from them which instrument's focal point leads each report.
pub fn publish_pack(server: &Server) {
    let key_dir = tempfile::tempdir().unwrap();
    let key = key_dir.path().join("pack.key");
    let out = Command::new(ecommunity_binary())
        .args(["pack", "keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let assets = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets");
    server.cli_ok(&["pack", "publish", "--key", key.to_str().unwrap(), assets]);
}
