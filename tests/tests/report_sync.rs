//! A country's national report shared by colleagues, against the real `ecommunity` process:
//! edits of different answers made offline on two devices both survive; two edits of one
//! answer become a conflict a person settles; sections go only to colleagues of the same
//! country; another country never sees the report; only the instrument's NFP submits, the
//! server checks the answers with the same forms engine, and the submitted version is
//! immutable, with a receipt every device of the country receives.

use std::process::Command;

use stopover_core::Error;
use stopover_core::reports::{self, DraftStatus, delegation, submission};
use stopover_core::sync::{self, Resolution};
use stopover_tests::client::Device;
use stopover_tests::reports::fill_required;
use stopover_tests::server::{NewUser, Server, ecommunity_binary};

const CMS: &str = "cms-national-report";
const ENTITY: &str = "cms-national-report/COP15";

/// Publishes the repository's content pack (with its report forms) on the server, signed
/// with a throw-away key: the server judges submissions with the forms it publishes.
fn publish_pack(server: &Server) {
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

fn kenya_colleague(name: &str) -> NewUser {
    // A colleague from another ministry: same country, no instrument of their own.
    let mut user = NewUser::nfp(name, "KE");
    user.instruments.clear();
    user
}

/// The one open draft of the CMS report for COP15 on a device.
fn draft_id(device: &Device) -> String {
    let drafts: Vec<_> = reports::list_drafts(&device.core)
        .unwrap()
        .into_iter()
        .filter(|d| d.form_id == CMS && d.cycle == "COP15")
        .collect();
    assert_eq!(drafts.len(), 1, "{}: {drafts:?}", device.name);
    drafts[0].id.clone()
}

fn answer(device: &Device, path: &str) -> Option<String> {
    reports::draft_answers(&device.core, &draft_id(device))
        .unwrap()
        .get(path)
        .cloned()
}

fn set(device: &Device, path: &str, value: &str) {
    reports::set_answer(&device.core, &draft_id(device), path, value)
        .unwrap_or_else(|e| panic!("{}: {path}: {e}", device.name));
}

/// The full answer path of a visible question by its name.
fn path_of(device: &Device, name: &str) -> String {
    let state = reports::live_state(&device.core, &draft_id(device)).unwrap();
    state
        .visible
        .into_iter()
        .find(|p| p.rsplit('/').next() == Some(name))
        .unwrap_or_else(|| panic!("no visible question `{name}`"))
}

async fn sync(device: &Device) {
    device
        .sync()
        .await
        .unwrap_or_else(|e| panic!("{}: sync: {e}", device.name));
}

#[tokio::test(flavor = "multi_thread")]
async fn colleagues_share_one_report_per_country_merged_per_answer() {
    let server = Server::start();
    let (amina, baraka, chidi) = (
        NewUser::nfp("amina", "KE"),
        kenya_colleague("baraka"),
        NewUser::nfp("chidi", "NG"),
    );
    for u in [&amina, &baraka, &chidi] {
        server.user_add_approved(u);
    }
    let url = server.base_url.clone();
    let a = Device::sign_in("amina-laptop", &url, &amina).await;
    let b = Device::sign_in("baraka-office-pc", &url, &baraka).await;
    let c = Device::sign_in("chidi-laptop", &url, &chidi).await;

    // Amina starts the report; Baraka's device receives it with the first answer.
    reports::create_draft(&a.core, CMS, "COP15").unwrap();
    let party = path_of(&a, "party_name");
    set(&a, &party, "Kenya");
    sync(&a).await;
    sync(&b).await;
    assert_eq!(answer(&b, &party).as_deref(), Some("Kenya"));

    // Offline, each edits a different answer: both survive on both devices.
    let lead = path_of(&a, "lead_institution");
    let gate = path_of(&a, "app1_present");
    set(&a, &lead, "Kenya Wildlife Service");
    set(&b, &gate, "yes");
    sync(&a).await;
    sync(&b).await;
    sync(&a).await;
    for d in [&a, &b] {
        assert_eq!(
            answer(d, &lead).as_deref(),
            Some("Kenya Wildlife Service"),
            "{}",
            d.name
        );
        assert_eq!(answer(d, &gate).as_deref(), Some("yes"), "{}", d.name);
    }

    // Both edit the same answer: the second to arrive gets a conflict showing both values.
    set(&a, &party, "Kenya (Republic of)");
    set(&b, &party, "Republic of Kenya");
    sync(&a).await;
    sync(&b).await;
    let conflicts = sync::conflicts(&b.core).unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let conflict = &conflicts[0];
    assert_eq!(
        (
            conflict.kind.name(),
            conflict.entity_id.as_str(),
            conflict.field.as_str()
        ),
        ("report_answer", ENTITY, party.as_str())
    );
    assert_eq!(conflict.local_value, "Republic of Kenya");
    assert_eq!(conflict.server_value, "Kenya (Republic of)");
    assert_eq!(
        answer(&b, &party).as_deref(),
        Some("Republic of Kenya"),
        "nothing overwritten while the person chooses"
    );
    sync::resolve_conflict(
        &b.core,
        conflict.kind,
        &conflict.entity_id,
        &conflict.field,
        Resolution::KeepMine,
    )
    .unwrap();
    sync(&b).await;
    sync(&a).await;
    assert_eq!(answer(&a, &party).as_deref(), Some("Republic of Kenya"));
    assert!(sync::conflicts(&a.core).unwrap().is_empty());

    // Delegation: a section to a Kenyan colleague travels; one to a Nigerian NFP is refused.
    let id_a = draft_id(&a);
    delegation::assign_section(&a.core, &id_a, "appendix_i", Some("baraka")).unwrap();
    delegation::assign_section(&a.core, &id_a, "goal_5", Some("chidi")).unwrap();
    sync(&a).await;
    sync(&b).await;
    let on_b = delegation::assignments(&b.core, &draft_id(&b)).unwrap();
    assert_eq!(on_b.len(), 1, "{on_b:?}");
    assert_eq!(
        (on_b[0].section.as_str(), on_b[0].username.as_str()),
        ("appendix_i", "baraka")
    );
    let refused = sync::rejected(&a.core).unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0]
            .reason
            .contains("`chidi` is not an approved account of KE"),
        "{}",
        refused[0].reason
    );

    // Signing this laptop in as someone else while its changes wait is refused: they were
    // made as Baraka and would be dropped (or sent as someone else).
    set(&b, &lead, "Typed offline by Baraka");
    let err = sync::sign_in(
        &b.core,
        &b.secrets,
        &url,
        &chidi.username,
        &chidi.password,
        "same laptop",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("have not reached"), "{err}");
    sync(&b).await;
    sync(&a).await;
    assert_eq!(
        answer(&a, &lead).as_deref(),
        Some("Typed offline by Baraka")
    );

    // A colleague the report is delegated to does not hand out sections.
    delegation::assign_section(&b.core, &draft_id(&b), "goal_5", Some("amina")).unwrap();
    sync(&b).await;
    let refused = sync::rejected(&b.core).unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0]
            .reason
            .contains("only your country's focal point"),
        "{}",
        refused[0].reason
    );

    // Another country's NFP never receives Kenya's report, and writes only Nigeria's.
    sync(&c).await;
    assert!(reports::list_drafts(&c.core).unwrap().is_empty());
    reports::create_draft(&c.core, CMS, "COP15").unwrap();
    set(&c, &party, "Nigeria");
    sync(&c).await;
    sync(&a).await;
    assert_eq!(answer(&a, &party).as_deref(), Some("Republic of Kenya"));
    assert_eq!(answer(&c, &party).as_deref(), Some("Nigeria"));
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_nfp_submits_and_the_submitted_report_is_immutable() {
    let server = Server::start();
    publish_pack(&server);
    let (amina, baraka) = (NewUser::nfp("amina", "KE"), kenya_colleague("baraka"));
    server.user_add_approved(&amina);
    server.user_add_approved(&baraka);
    let url = server.base_url.clone();
    let a = Device::sign_in("amina-laptop", &url, &amina).await;
    let b = Device::sign_in("baraka-office-pc", &url, &baraka).await;

    reports::create_draft(&a.core, CMS, "COP15").unwrap();
    fill_required(&a.core, &draft_id(&a));
    let id_a = draft_id(&a);

    // Not yet sent: refused here, before asking the server.
    let err = submission::submit_to_server(&a.core, &a.client, &a.token(), &id_a)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("have not reached the server yet"),
        "{err}"
    );
    sync(&a).await;
    sync(&b).await;

    // A colleague without the CMS instrument cannot submit.
    let id_b = draft_id(&b);
    let err = submission::submit_to_server(&b.core, &b.client, &b.token(), &id_b)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Server { status: 403, code, .. } if code.as_str() == "forbidden"),
        "{err:?}"
    );
    assert!(err.to_string().contains("not the NFP for CMS"), "{err}");

    // The server's copy moved on (Baraka's edit): Amina must sync and read it first.
    let lead = path_of(&b, "lead_institution");
    set(&b, &lead, "Ministry of Environment");
    sync(&b).await;
    let err = submission::submit_to_server(&a.core, &a.client, &a.token(), &id_a)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Server { status: 409, code, .. } if code.as_str() == "answers_differ"),
        "{err:?}"
    );
    assert_eq!(
        reports::get_draft(&a.core, &id_a).unwrap().status,
        DraftStatus::Draft
    );
    sync(&a).await;

    let submitted = submission::submit_to_server(&a.core, &a.client, &a.token(), &id_a)
        .await
        .unwrap();
    assert_eq!(submitted.status, DraftStatus::Submitted);
    let receipt = submitted.receipt.clone().expect("a receipt");
    assert_eq!(
        (
            receipt.country.as_str(),
            receipt.cycle.as_str(),
            receipt.submitted_by.as_str()
        ),
        ("KE", "COP15", "amina")
    );
    assert!(receipt.answers_submitted > 20, "{receipt:?}");

    // The receipt coming back in the feed changes nothing on the submitting device: still one
    // report for the cycle (draft_id asserts it), the same one.
    sync(&a).await;
    assert_eq!(draft_id(&a), id_a);

    // Every device of the country learns it; the draft freezes there too.
    sync(&b).await;
    let on_b = reports::get_draft(&b.core, &id_b).unwrap();
    assert_eq!(on_b.status, DraftStatus::Submitted);
    assert_eq!(on_b.receipt.as_ref(), Some(&receipt));
    assert!(reports::set_answer(&b.core, &id_b, &lead, "too late").is_err());
    sync(&b).await;
    assert_eq!(draft_id(&b), id_b, "still one report for the cycle");
    let err = reports::create_draft(&b.core, CMS, "cop15").unwrap_err();
    assert!(err.to_string().contains("was already submitted"), "{err}");

    // A retry of the same submission (its answer lost) gets the same receipt.
    let request = stopover_protocol::reports::SubmitReport {
        form_id: CMS.into(),
        cycle: "COP15".into(),
        answers_sha256: receipt.answers_sha256.clone(),
    };
    let again = a.client.submit_report(&a.token(), &request).await.unwrap();
    assert_eq!(again, receipt);

    // An edit sent after submission (a device that had not heard yet) is refused with why.
    let op = stopover_protocol::Operation {
        id: "01939a2b-7c4d-7e8f-9a0b-000000000001".into(),
        entity: stopover_protocol::EntityRef {
            kind: "report_answer".into(),
            id: ENTITY.into(),
        },
        field: lead.clone(),
        base_version: 0,
        value: serde_json::json!("late edit"),
    };
    let (answer_to_push, _) = a.client.push(&a.token(), &[op]).await.unwrap();
    match &answer_to_push.results[0].outcome {
        stopover_protocol::Outcome::Rejected { reason, .. } => {
            assert!(reason.contains("was submitted on"), "{reason}")
        }
        other => panic!("an edit after submission was not refused: {other:?}"),
    }
}
