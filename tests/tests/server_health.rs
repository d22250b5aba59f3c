//! The real ecommunity binary answers its health probe with the shared protocol type, and
//! refuses bad command lines with a clear message.

use std::process::Command;

use stopover_protocol::{Health, PROTOCOL_VERSION};
use stopover_tests::{server::Server, workspace_binary};

#[tokio::test]
async fn health_probe_speaks_the_protocol() {
    let server = Server::start();
    let response = reqwest::get(format!("{}/v1/health", server.base_url))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let health: Health = response.json().await.unwrap();
    assert!(health.is_compatible());
    assert_eq!(health.protocol, PROTOCOL_VERSION);

    let missing = reqwest::get(format!("{}/v2/health", server.base_url))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[test]
fn bad_command_lines_are_explained() {
    let out = Command::new(workspace_binary("ecommunity"))
        .args(["serve", "--listen", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`nowhere` is not an address"), "{stderr}");

    let out = Command::new(workspace_binary("ecommunity"))
        .arg("serve")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--data is required"));
}
