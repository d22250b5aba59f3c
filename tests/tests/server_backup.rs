//! `ecommunity backup` while the real server takes a write load, then `ecommunity restore`
//! into an empty folder and a server started on it: every operation acknowledged before the
//! backup began is there, each push is there whole or not at all, and the attachments come
//! back byte for byte.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stopover_protocol::files::UploadMetadata;
use stopover_tests::api::{self, Api, Body, within};
use stopover_tests::server::{NewUser, Server};

const T: Duration = Duration::from_secs(120);

/// One acknowledged push: its operation ids and when the answer came.
struct Acked {
    ids: Vec<String>,
    at: Instant,
}

async fn upload(api: &Api, bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let sha = stopover_protocol::files::hex(&Sha256::digest(bytes));
    let meta = UploadMetadata {
        sha256: sha.clone(),
        filename: Some("minutes.pdf".into()),
    }
    .encode();
    let tus = ("tus-resumable", "1.0.0");
    let created = api
        .request(
            reqwest::Method::POST,
            "/v1/files",
            Body::None,
            &[
                tus,
                ("upload-length", &bytes.len().to_string()),
                ("upload-metadata", &meta),
            ],
        )
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{}", created.describe());
    let r = api
        .request(
            reqwest::Method::PATCH,
            created.header("location").unwrap(),
            Body::Raw(bytes.to_vec()),
            &[
                tus,
                ("upload-offset", "0"),
                ("content-type", "application/offset+octet-stream"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 204, "{}", r.describe());
    sha
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_every_acknowledged_operation() {
    within(T, "backup under load", async {
        let mut server = Server::start();
        let users = [NewUser::nfp("amina", "KE"), NewUser::nfp("baraka", "UG")];
        let mut apis = Vec::new();
        for u in &users {
            let token = server.signed_in(u).await.token;
            apis.push(Api::new(&server.base_url).with_token(&token));
        }
        let attachment: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let sha = upload(&apis[0], &attachment).await;

        // The load: each writer pushes batches of 20 new fields until told to stop.
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (api, stop, acked) = (apis[w % 2].clone(), stop.clone(), acked.clone());
                tokio::spawn(async move {
                    let mut batch = 0;
                    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                        let ops = api::fresh_ops(&format!("w{w}-b{batch}"), 20);
                        let answer = api.push(&ops).await.expect("a push under load");
                        assert!(answer.results.iter().all(|r| matches!(
                            r.outcome,
                            stopover_protocol::Outcome::Applied { .. }
                        )));
                        acked.lock().unwrap().push(Acked {
                            ids: ops.into_iter().map(|o| o.id).collect(),
                            at: Instant::now(),
                        });
                        batch += 1;
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;

        let file = tempfile::tempdir().unwrap();
        let backup_path = file.path().join("ecommunity-backup.zip");
        let began = Instant::now();
        let out = {
            let (data, to) = (server.data_dir(), backup_path.clone());
            let bin = stopover_tests::server::ecommunity_binary();
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(bin)
                    .args(["backup", "--data"])
                    .arg(&data)
                    .arg("--to")
                    .arg(&to)
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        };
        assert!(
            out.status.success(),
            "backup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for w in writers {
            w.await.unwrap();
        }
        let acked = std::mem::take(&mut *acked.lock().unwrap());
        let before: Vec<&Acked> = acked.iter().filter(|a| a.at < began).collect();
        assert!(
            before.len() >= 10,
            "only {} pushes before the backup",
            before.len()
        );
        assert!(
            acked.len() > before.len(),
            "the load went on during the backup"
        );

        // Restore into the emptied data folder, and serve it.
        server.stop();
        std::fs::remove_dir_all(server.data_dir()).unwrap();
        std::fs::create_dir_all(server.data_dir()).unwrap();
        let restored = server.cli_ok(&["restore", "--from", backup_path.to_str().unwrap()]);
        assert!(restored.contains("restored"), "{restored}");
        let again = server.cli(&["restore", "--from", backup_path.to_str().unwrap()]);
        assert!(
            !again.status.success(),
            "a restore never overwrites a database"
        );
        server.restart();

        // Device tokens came back too: the same clients are still signed in. A device is never
        // sent its own changes back, so each account's feed is read by a second device of it.
        let mut present: HashSet<String> = HashSet::new();
        for (api, user) in apis.iter().zip(&users) {
            let old = Api::new(&server.base_url).with_token(api.token.as_deref().unwrap());
            old.pull_all(0)
                .await
                .unwrap_or_else(|e| panic!("{}'s restored token: {e}", user.username));
            let token = server
                .sign_in_full(&user.username, &user.password, "second device")
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .token;
            let reader = Api::new(&server.base_url).with_token(&token);
            let (changes, _) = reader.pull_all(0).await.unwrap();
            present.extend(changes.into_iter().map(|c| c.op_id));
        }
        let missing: Vec<&String> = before
            .iter()
            .flat_map(|a| &a.ids)
            .filter(|id| !present.contains(*id))
            .collect();
        assert!(
            missing.is_empty(),
            "{} acknowledged operations lost: {missing:?}",
            missing.len()
        );
        // Each push is in the backup whole, or not at all.
        let mut partial = BTreeMap::new();
        for a in &acked {
            let n = a.ids.iter().filter(|id| present.contains(*id)).count();
            if n != 0 && n != a.ids.len() {
                partial.insert(a.ids[0].clone(), n);
            }
        }
        assert!(
            partial.is_empty(),
            "pushes split by the backup: {partial:?}"
        );

        let api = Api::new(&server.base_url).with_token(apis[0].token.as_deref().unwrap());
        let got = api
            .request(
                reqwest::Method::GET,
                &format!("/v1/files/{sha}"),
                Body::None,
                &[("tus-resumable", "1.0.0")],
            )
            .await
            .unwrap();
        assert_eq!(got.status, 200, "{}", got.describe());
        assert!(
            got.body == attachment,
            "the attachment came back byte for byte"
        );
        let log = server.cli_ok(&["audit", "list"]);
        assert!(log.contains("restore"), "{log}");
        println!(
            "backup under load: {} pushes acknowledged before it began, {} in all; all found",
            before.len(),
            acked.len()
        );
    })
    .await;
}
