//! Delegation enforced by the real `ecommunity` process, the Secretariat correcting what a
//! person claimed when asking for an account, password changes and resets through the real
//! client, and the audit log of every admin action (API and CLI).

use std::time::Duration;

use serde_json::{Value, json};
use stopover_core::Error;
use stopover_core::content::PackFiles;
use stopover_core::secrets::MemoryStore;
use stopover_core::sync;
use stopover_protocol::{EntityRef, Operation, Outcome};
use stopover_tests::api::{Api, new_op_id, within};
use stopover_tests::client::Device;
use stopover_tests::reports::publish_pack;
use stopover_tests::server::{NewUser, Server};

const T: Duration = Duration::from_secs(90);
const REPORT: &str = "cms-national-report/COP15";

fn answer(path: &str, base_version: u64, value: &str) -> Operation {
    Operation {
        id: new_op_id(),
        entity: EntityRef {
            kind: "report_answer".into(),
            id: REPORT.into(),
        },
        field: path.into(),
        base_version,
        value: json!(value),
    }
}

fn assign(section: &str, base_version: u64, who: Value) -> Operation {
    Operation {
        id: new_op_id(),
        entity: EntityRef {
            kind: "report_assignment".into(),
            id: REPORT.into(),
        },
        field: section.into(),
        base_version,
        value: who,
    }
}

async fn outcome(api: &Api, op: Operation) -> Outcome {
    api.push(&[op]).await.unwrap().results.remove(0).outcome
}

fn rejected(o: Outcome) -> String {
    match o {
        Outcome::Rejected { reason, .. } => reason,
        other => panic!("accepted: {other:?}"),
    }
}

fn audit(server: &Server) -> Vec<Value> {
    let out = server.cli_ok(&["audit", "list", "--json"]);
    serde_json::from_str::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The review's replay: a colleague of the same country with no assignment (and no
/// instrument) overwrote the NFP's answer. A self-registered account claimed a country and
/// instruments nobody could correct.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delegation_is_enforced_and_the_secretariat_corrects_claims() {
    within(T, "delegation", async {
        let server = Server::start();
        publish_pack(&server);
        let amina = NewUser::nfp("amina", "KE");
        let mut baraka = NewUser::nfp("baraka", "KE");
        baraka.instruments.clear();
        let sec = NewUser::staff("sec", "secretariat");
        for u in [&amina, &baraka, &sec] {
            server.user_add_approved(u);
        }
        let token = |u: &NewUser| {
            let server = &server;
            let (name, password) = (u.username.clone(), u.password.clone());
            async move { server.sign_in(&name, &password).await }
        };
        let anon = Api::new(&server.base_url);
        let a = anon.with_token(&token(&amina).await);
        let b = anon.with_token(&token(&baraka).await);
        let s = anon.with_token(&token(&sec).await);

        let lead = "general_info/lead_institution";
        assert_eq!(
            outcome(&a, answer(lead, 0, "Kenya Wildlife Service")).await,
            Outcome::Applied { version: 1 }
        );
        // Baraka overwrites it, with the right version: refused, and why.
        let why = rejected(outcome(&b, answer(lead, 1, "Ministry of Tourism")).await);
        assert_eq!(
            why,
            "the section `general_info` of the cms-national-report report is not given to you: amina can give it to you"
        );
        let why = rejected(outcome(&b, assign("general_info", 0, json!("baraka"))).await);
        assert!(why.contains("only amina, KE's focal point for CMS"), "{why}");
        // Given the section, he writes in it; the NFP still writes anywhere.
        assert_eq!(
            outcome(&a, assign("general_info", 0, json!("baraka"))).await,
            Outcome::Applied { version: 1 }
        );
        assert_eq!(
            outcome(&b, answer(lead, 1, "Ministry of Tourism")).await,
            Outcome::Applied { version: 2 }
        );
        let why = rejected(outcome(&b, answer("appendix_i/app1_present", 0, "yes")).await);
        assert!(why.contains("section `appendix_i`"), "{why}");

        // Eve asks for an account claiming to be Kenya's CMS focal point.
        let eve = json!({"username": "eve", "password": "correct horse battery", "display_name": "Eve",
            "email": "eve@example.org", "country": "KE", "instruments": ["CMS"]});
        assert_eq!(anon.post_json("/v1/accounts", &eve).await.unwrap().status, 201);
        // The Secretariat approves her as a colleague without instruments, in one step.
        let r = s
            .post_json("/v1/admin/accounts/eve/approve", &json!({"instruments": []}))
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.describe());
        let account: Value = r.json().unwrap();
        assert_eq!((account["status"].as_str(), account["instruments"].clone()), (Some("approved"), json!([])));
        let e = anon.with_token(&server.sign_in("eve", "correct horse battery").await);
        assert!(rejected(outcome(&e, answer(lead, 2, "Eve was here")).await).contains("not given to you"));
        // Later, a correction of her country (admin API), and one with the CLI.
        let r = s
            .request(
                reqwest::Method::PATCH,
                "/v1/admin/accounts/eve",
                stopover_tests::api::Body::Json(json!({"country": "UG"})),
                &[],
            )
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{}", r.describe());
        assert_eq!(r.json::<Value>().unwrap()["country"], "UG");
        let bad = s
            .request(
                reqwest::Method::PATCH,
                "/v1/admin/accounts/eve",
                stopover_tests::api::Body::Json(json!({"country": "Uganda"})),
                &[],
            )
            .await
            .unwrap();
        assert_eq!(bad.status, 422, "{}", bad.describe());
        // An NFP cannot correct anyone.
        let r = a
            .request(
                reqwest::Method::PATCH,
                "/v1/admin/accounts/eve",
                stopover_tests::api::Body::Json(json!({"instruments": ["CMS"]})),
                &[],
            )
            .await
            .unwrap();
        assert_eq!(r.status, 403);
        server.cli_ok(&["user", "correct", "eve", "--instruments", "AEWA"]);

        // Every admin action is in the log: who, what, on whom, from where.
        let log = audit(&server);
        let find = |action: &str, actor: &str| {
            log.iter()
                .find(|e| e["action"] == action && e["actor"].as_str().is_some_and(|a| a.starts_with(actor)))
                .unwrap_or_else(|| panic!("no {action} by {actor} in {log:#?}"))
                .clone()
        };
        let approve = find("account.approve", "sec");
        assert_eq!((approve["target"].as_str(), approve["source"].as_str()), (Some("eve"), Some("127.0.0.1")));
        let corrected = find("account.correct", "sec");
        assert_eq!(corrected["detail"]["after"]["country"], "UG");
        let cli = find("account.correct", "cli:");
        assert_eq!(cli["detail"]["after"]["instruments"], json!(["AEWA"]));
        assert_eq!(cli["source"], "local");
        assert!(log.iter().any(|e| e["action"] == "account.add" && e["target"] == "amina"));
        assert!(log.iter().any(|e| e["action"] == "pack.publish"));
        let table = server.cli_ok(&["audit", "list", "--limit", "3"]);
        assert_eq!(table.lines().count(), 4, "a header and 3 actions:\n{table}");
    })
    .await;
}

/// A leaked password used to be recoverable only by revoking the account. Now a person
/// changes it (the current one required) and their other devices are signed out; and the
/// Secretariat can reset it, forcing a new one at the next sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_changed_and_reset_through_the_real_client() {
    within(T, "password change", async {
        let server = Server::start();
        let amina = NewUser::nfp("amina", "KE");
        server.user_add_approved(&amina);
        let url = server.base_url.clone();
        let laptop = Device::sign_in("laptop", &url, &amina).await;
        let phone = Device::sign_in("phone", &url, &amina).await;

        let err = sync::change_password(&laptop.core, &laptop.secrets, "not my password", "a new long password")
            .await
            .unwrap_err();
        assert!(matches!(&err, Error::Server { status: 403, code, .. } if code.as_str() == "wrong_password"), "{err:?}");
        sync::change_password(&laptop.core, &laptop.secrets, &amina.password, "a new long password")
            .await
            .unwrap();
        // This device goes on syncing; the phone must sign in again.
        laptop.sync().await.unwrap();
        let err = phone.sync().await.unwrap_err();
        assert!(matches!(err, Error::SignInRequired(_)), "{err:?}");
        let err = server.sign_in_full("amina", &amina.password, "old").await.unwrap_err();
        assert!(err.contains("bad_credentials"), "{err}");

        // The Secretariat resets it: every device is signed out; a one-time password.
        let out = server.cli_ok(&["user", "reset-password", "amina"]);
        let temporary = out.lines().last().unwrap().trim().to_string();
        assert_eq!(temporary.len(), 19, "{out}");
        assert!(matches!(laptop.sync().await.unwrap_err(), Error::SignInRequired(_)));
        let dir = tempfile::tempdir().unwrap();
        let core = stopover_core::Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
        let secrets = MemoryStore::new();
        let err = sync::sign_in(&core, &secrets, &url, "amina", &temporary, "new laptop")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Server { status: 403, code, .. } if *code == stopover_protocol::ErrorCode::PasswordChangeRequired),
            "{err:?}"
        );
        let account = sync::sign_in_with_new_password(
            &core,
            &secrets,
            &url,
            "amina",
            &temporary,
            "chosen after the reset",
            "new laptop",
        )
        .await
        .unwrap();
        assert_eq!(account.username, "amina");
        assert!(server.sign_in_full("amina", "chosen after the reset", "x").await.is_ok());
        let log = audit(&server);
        assert_eq!(log[0]["action"], "account.reset_password", "{log:#?}");
        // The laptop; the phone was signed out by the change already.
        assert_eq!(log[0]["detail"]["devices_signed_out"], 1);
    })
    .await;
}
