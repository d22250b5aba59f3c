//! National report helpers shared by the report tests and benchmarks.

#[path = "../../crates/core/tests/support/fill_required.rs"]
mod fill;

pub use fill::fill_required;

use std::path::Path;
use std::process::Command;

use crate::copy_dir;
use crate::server::{Server, ecommunity_binary};

/// Publishes the repository's content pack (with its report forms) on the server, signed
/// with a throw-away key: the server judges submissions with the forms it publishes, and
/// learns from them which instrument's focal point leads each report.
pub fn publish_pack(server: &Server) {
    let assets = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets");
    publish_pack_from(server, Path::new(assets));
}

/// Publishes the repository's content pack as `version` (newer than the one built into the
/// app, so a laptop takes it as an update); returns the public key that signed it (hex), for
/// the laptop's trusted keys.
pub fn publish_pack_as(server: &Server, version: &str) -> String {
    let copy = tempfile::tempdir().unwrap();
    let assets = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../assets"));
    copy_dir(assets, copy.path());
    let manifest = copy.path().join("manifest.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let bumped: String = text
        .lines()
        .map(|l| match l.starts_with("version = ") {
            true => format!("version = \"{version}\"\n"),
            false => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&manifest, bumped).unwrap();
    publish_pack_from(server, copy.path())
}

/// Publishes the pack in `dir` signed with a throw-away key; returns its public key (hex).
fn publish_pack_from(server: &Server, dir: &Path) -> String {
    let key_dir = tempfile::tempdir().unwrap();
    let key = key_dir.path().join("pack.key");
    let out = Command::new(ecommunity_binary())
        .args(["pack", "keygen", "--out"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    server.cli_ok(&[
        "pack",
        "publish",
        "--key",
        key.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            l.split("public key (hex, for the app's trusted keys): ")
                .nth(1)
        })
        .expect("keygen prints the public key")
        .trim()
        .to_string()
}
