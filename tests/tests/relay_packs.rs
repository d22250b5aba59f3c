//! Content packs through a workshop relay (issue 12: "shared data fetched once"), with the
//! real `ecommunity` server, the real `ecommunity relay` behind the proxy that stands for the
//! venue's uplink, and laptops running the real stopover-core on their own SQLite files.
//!
//! A pack published on the server crosses the uplink once and installs on every laptop from
//! the relay; a relay that changed the archive is caught by the Secretariat's signature and
//! the laptop keeps its content; the relay hands a pack only to a laptop the server vouches
//! for.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use stopover_core::content::{self, PackRelease, update::parse_public_key};
use stopover_core::sync;
use stopover_protocol::PROTOCOL_VERSION;
use stopover_tests::api::within;
use stopover_tests::client::Device;
use stopover_tests::proxy::Proxy;
use stopover_tests::relay::Relay;
use stopover_tests::reports::publish_pack_as;
use stopover_tests::server::{NewUser, Server};

const T: Duration = Duration::from_secs(120);
const NEWER: &str = "2099.1.0";

fn installed(device: &Device) -> Option<String> {
    content::imported_pack(&device.core.conn())
        .unwrap()
        .map(|(version, _)| version)
}

/// Rounds through the relay until its answer names a pack newer than the laptop's (the
/// relay hears of it in a community page, then fetches the archive once).
async fn relay_names_a_pack(device: &Device, relay: &str) -> PackRelease {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let report = sync::sync_through_relay(&device.core, relay, &device.token())
            .await
            .unwrap_or_else(|e| panic!("{}: a relay round failed: {e}", device.name));
        if let Some(release) = report.pack {
            return release;
        }
        assert!(
            Instant::now() < deadline,
            "{}: the relay named no pack within a minute",
            device.name
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_pack_crosses_the_uplink_once_and_a_changed_one_is_refused() {
    within(T, "content packs through a relay", async {
        let server = Server::start();
        let user = NewUser::nfp("amina", "KE");
        server.user_add_approved(&user);
        let uplink = Proxy::start(server.addr()).await;
        let relay = Relay::start(&uplink.url(), &[]);
        let mut laptops = Vec::new();
        for name in ["laptop-1", "laptop-2", "laptop-3"] {
            let device = Device::sign_in(name, &server.base_url, &user).await;
            // At home, the week before: a direct round brings the pass for relays.
            device.sync().await.unwrap_or_else(|e| panic!("{e}"));
            laptops.push(device);
        }
        let built_in = installed(&laptops[0]).expect("the app imports its built-in pack");
        assert_ne!(built_in, NEWER);

        // The Secretariat publishes a new pack while the workshop runs; one laptop took it
        // from the server already.
        let key = publish_pack_as(&server, NEWER);
        let trusted = [parse_public_key(&key).unwrap()];
        let early = Device::sign_in("laptop-0", &server.base_url, &user).await;
        early.sync().await.unwrap_or_else(|e| panic!("{e}"));
        let release = content::update::check_for_pack_update(&early.core, &early.client, &early.token())
            .await
            .unwrap()
            .expect("the server has a newer pack");
        content::update::download_and_install(&early.core, &early.client, &early.token(), &release, &trusted)
            .await
            .unwrap();

        // While only laptops that have it come by, the relay learns of it but fetches nothing.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !relay.log().contains("the server names a new content pack") {
            let report = sync::sync_through_relay(&early.core, &relay.url(), &early.token())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(report.pack, None);
            assert!(Instant::now() < deadline, "the relay never heard of the pack:\n{}", relay.log());
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        for _ in 0..3 {
            sync::sync_through_relay(&early.core, &relay.url(), &early.token())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let fetches = || {
            uplink
                .events()
                .into_iter()
                .filter(|e| e.path == "/v1/relay/pack")
                .collect::<Vec<_>>()
        };
        assert_eq!(fetches().len(), 0, "no laptop needed the pack: {:?}", fetches());

        // Laptops with the built-in pack need it.
        for device in &laptops[..2] {
            let release = relay_names_a_pack(device, &relay.url()).await;
            assert_eq!(release.version, NEWER);
            let report =
                sync::pack_from_relay(&device.core, &relay.url(), &device.token(), &release, &trusted)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}", device.name));
            assert_eq!(report.version, NEWER);
            assert_eq!(installed(device).as_deref(), Some(NEWER));
            let again = sync::sync_through_relay(&device.core, &relay.url(), &device.token())
                .await
                .unwrap();
            assert_eq!(again.pack, None, "an installed pack is not offered again");
        }

        // The archive crossed the uplink once, for every laptop.
        let fetched = fetches();
        assert_eq!(fetched.len(), 1, "{fetched:?}");
        assert_eq!(fetched[0].upstream_status, Some(200));
        let release = relay_names_a_pack(&laptops[2], &relay.url()).await;
        assert!(fetched[0].response_bytes as u64 >= release.size);
        eprintln!(
            "pack {NEWER}: archive {} B, {} B across the uplink once for 3 laptops",
            release.size, fetched[0].response_bytes
        );

        // A relay that changed the archive: the third laptop refuses it and keeps its content.
        let archive = relay.data_dir().join("packs").join(format!("{NEWER}.json.gz"));
        let mut bytes = std::fs::read(&archive).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x20;
        std::fs::write(&archive, bytes).unwrap();
        let third = &laptops[2];
        let err =
            sync::pack_from_relay(&third.core, &relay.url(), &third.token(), &release, &trusted)
                .await
                .expect_err("a changed archive is not installed");
        assert_eq!(err.code().as_str(), "pack_refused", "{err}");
        assert_eq!(installed(third), Some(built_in.clone()));
        // Nor one the relay claims is signed by a key the app does not trust.
        let mut forged = release.clone();
        forged.key_id = "00".repeat(32);
        let err = sync::pack_from_relay(&third.core, &relay.url(), &third.token(), &forged, &trusted)
            .await
            .expect_err("an untrusted key is not taken");
        assert_eq!(err.code().as_str(), "pack_refused", "{err}");
        assert_eq!(installed(third), Some(built_in));

        // The relay hands its pack only to a device the server vouches for.
        let http = reqwest::Client::new();
        let ask = |credential: &str, version: &str| {
            http.post(format!("{}/v1/relay/pack", relay.url()))
                .header("Stopover-Protocol", PROTOCOL_VERSION.to_string())
                .json(&json!({"protocol": PROTOCOL_VERSION, "credential": credential, "version": version}))
                .send()
        };
        let answer = ask("bm90IGEgY3JlZGVudGlhbA==", NEWER).await.unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
        let credential: String = {
            let conn = third.core.conn();
            conn.query_row(
                "SELECT value FROM sync_state WHERE key = 'relay_credential'",
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        let answer = ask(&credential, "2000.1.0").await.unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "no_pack", "{body}");
        let answer = ask(&credential, NEWER).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    })
    .await;
}
