//! Report files and refusals against the real `ecommunity` process, with the app's own calls:
//! a file attached to an answer travels beside sync (smallest first), the submission carries
//! it and its receipt names it with its SHA-256; a file the server will not take is marked at
//! its question while the others go on; and a refused change does not stay on screen as if it
//! had been accepted (a section given to someone of another country goes back to nobody; an
//! answer in a section not given to its author goes back to none).

use sha2::{Digest, Sha256};
use stopover_core::ErrorCode;
use stopover_core::reports::files::{self, FileState};
use stopover_core::reports::{self, DraftStatus, delegation, submission};
use stopover_core::sync::{self, attachments};
use stopover_protocol::files::hex;
use stopover_tests::client::Device;
use stopover_tests::reports::{fill_required, publish_pack};
use stopover_tests::server::{NewUser, Server};

const CMS: &str = "cms-national-report";
const FILE_QUESTION: &str = "closing/supporting_documents";
const MAP_QUESTION: &str = "goal_3/target_10/pa_map";

fn draft_id(device: &Device) -> String {
    let drafts = reports::list_drafts(&device.core).unwrap();
    let d: Vec<_> = drafts
        .into_iter()
        .filter(|d| d.form_id == CMS && d.cycle == "COP15" && d.status == DraftStatus::Draft)
        .collect();
    assert_eq!(d.len(), 1, "{}: {d:?}", device.name);
    d[0].id.clone()
}

async fn sync(device: &Device) {
    device
        .sync()
        .await
        .unwrap_or_else(|e| panic!("{}: sync: {e}", device.name));
}

async fn upload(device: &Device) -> attachments::UploadsReport {
    attachments::upload_pending(&device.core, &device.client, &device.token(), &|_| {})
        .await
        .unwrap_or_else(|e| panic!("{}: upload: {e}", device.name))
}

fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = stopover_tests::proxy::Rng::new(seed);
    (0..n).map(|_| rng.next_u64() as u8).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_is_submitted_with_its_files_named_in_the_receipt() {
    let server = Server::start();
    publish_pack(&server);
    let (amina, baraka, chidi) = (
        NewUser::nfp("amina", "KE"),
        NewUser::nfp("baraka", "KE"),
        NewUser::nfp("chidi", "NG"),
    );
    for u in [&amina, &baraka, &chidi] {
        server.user_add_approved(u);
    }
    let a = Device::sign_in("amina-laptop", &server.base_url, &amina).await;
    let b = Device::sign_in("baraka-pc", &server.base_url, &baraka).await;
    let c = Device::sign_in("chidi-laptop", &server.base_url, &chidi).await;

    let draft = reports::create_draft(&a.core, CMS, "COP15").unwrap();
    fill_required(&a.core, &draft.id);
    let (small, large) = (bytes(20_000, 1), bytes(700_000, 2));
    files::attach_file(
        &a.core,
        &draft.id,
        FILE_QUESTION,
        "liste des sites.csv",
        &small,
    )
    .unwrap();
    let map_path = reports::live_state(&a.core, &draft.id)
        .unwrap()
        .visible
        .into_iter()
        .find(|p| p.ends_with("/pa_map"))
        .unwrap_or_else(|| MAP_QUESTION.to_string());
    files::attach_file(&a.core, &draft.id, &map_path, "carte.pdf", &large).unwrap();
    let listed = files::report_files(&a.core, &draft.id).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed.iter().all(|f| f.state == FileState::Waiting),
        "{listed:?}"
    );

    // The answers are synced, the files not yet: submitting is refused here, in words.
    sync(&a).await;
    let err = submission::submit_to_server(&a.core, &a.client, &a.token(), &draft.id)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ReportFilesWaiting, "{err}");

    // Smallest first; then both are on the server.
    let report = upload(&a).await;
    let (small_sha, large_sha) = (hex(&Sha256::digest(&small)), hex(&Sha256::digest(&large)));
    assert_eq!(
        report.uploaded,
        vec![small_sha.clone(), large_sha.clone()],
        "the small file first"
    );
    assert!(
        files::report_files(&a.core, &draft.id)
            .unwrap()
            .iter()
            .all(|f| f.state == FileState::Uploaded)
    );

    // The colleague's device has the answers after a pull, the files only when asked for.
    sync(&b).await;
    let on_b = files::report_files(&b.core, &draft_id(&b)).unwrap();
    assert!(
        on_b.iter().all(|f| f.state == FileState::Remote),
        "{on_b:?}"
    );
    let fetched = attachments::download(&b.client, &b.token(), &large_sha)
        .await
        .unwrap();
    assert!(fetched == large);
    // Someone of another country cannot fetch it.
    let denied = attachments::download(&c.client, &c.token(), &large_sha)
        .await
        .unwrap_err();
    assert!(
        matches!(denied, stopover_core::Error::Server { status: 404, .. }),
        "{denied:?}"
    );

    let submitted = submission::submit_to_server(&a.core, &a.client, &a.token(), &draft.id)
        .await
        .unwrap();
    let receipt = submitted.receipt.expect("a receipt");
    let mut named: Vec<(String, String, u64)> = receipt
        .attachments
        .iter()
        .map(|f| (f.filename.clone(), f.sha256.clone(), f.size))
        .collect();
    named.sort();
    assert_eq!(
        named,
        vec![
            ("carte.pdf".to_string(), large_sha, large.len() as u64),
            (
                "liste des sites.csv".to_string(),
                small_sha,
                small.len() as u64
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_the_server_will_not_take_is_marked_and_the_others_go_on() {
    let server = Server::start_with(&["--max-attachment-mib", "1"]);
    publish_pack(&server);
    let amina = NewUser::nfp("amina", "KE");
    server.user_add_approved(&amina);
    let a = Device::sign_in("amina-laptop", &server.base_url, &amina).await;
    let draft = reports::create_draft(&a.core, CMS, "COP15").unwrap();
    // Before it has asked, the app assumes 25 MB: the 2 MB file is taken here…
    let big = bytes(2_000_000, 3);
    files::attach_file(
        &a.core,
        &draft.id,
        FILE_QUESTION,
        "rapport complet.pdf",
        &big,
    )
    .unwrap();
    let map_path = reports::live_state(&a.core, &draft.id)
        .unwrap()
        .visible
        .into_iter()
        .find(|p| p.ends_with("/pa_map"));
    if let Some(map_path) = &map_path {
        files::attach_file(&a.core, &draft.id, map_path, "carte.png", &bytes(5_000, 4)).unwrap();
    }
    sync(&a).await;
    // …and refused by the server, which says its limit; the small one goes.
    let report = upload(&a).await;
    assert_eq!(report.refused, vec![hex(&Sha256::digest(&big))]);
    assert_eq!(report.uploaded.len(), usize::from(map_path.is_some()));
    let listed = files::report_files(&a.core, &draft.id).unwrap();
    let refused = listed.iter().find(|f| f.path == FILE_QUESTION).unwrap();
    assert_eq!(refused.state, FileState::Refused);
    let why = refused.refused.as_ref().unwrap();
    assert_eq!(
        why.server_code.map(|c| c.as_str()),
        Some("attachment_too_large"),
        "{why:?}"
    );
    // The app now knows the server's limit and says it before a file is picked.
    assert_eq!(attachments::limits(&a.core).unwrap().max_bytes, 1024 * 1024);
    let err =
        files::attach_file(&a.core, &draft.id, FILE_QUESTION, "encore.pdf", &big).unwrap_err();
    assert_eq!(err.code(), ErrorCode::AttachmentTooLarge);
    // A type attachments may not have is refused here, before anything is kept.
    let err =
        files::attach_file(&a.core, &draft.id, FILE_QUESTION, "outil.exe", b"MZ").unwrap_err();
    assert_eq!(err.code(), ErrorCode::AttachmentTypeRefused);
    assert!(err.to_string().contains("outil.exe"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_changes_go_back_to_what_the_server_holds() {
    let server = Server::start();
    publish_pack(&server);
    let (amina, chidi) = (NewUser::nfp("amina", "KE"), NewUser::nfp("chidi", "NG"));
    let mut baraka = NewUser::nfp("baraka", "KE");
    baraka.instruments.clear();
    for u in [&amina, &baraka, &chidi] {
        server.user_add_approved(u);
    }
    let a = Device::sign_in("amina-laptop", &server.base_url, &amina).await;
    let b = Device::sign_in("baraka-pc", &server.base_url, &baraka).await;
    let draft = reports::create_draft(&a.core, CMS, "COP15").unwrap();

    // A section given to someone of another country: refused, and the section is nobody's
    // again on Amina's screen.
    delegation::assign_section(&a.core, &draft.id, "appendix_i", Some("chidi")).unwrap();
    let owner = |d: &Device, id: &str| {
        delegation::assignments(&d.core, id)
            .unwrap()
            .into_iter()
            .find(|x| x.section == "appendix_i")
            .map(|x| x.username)
    };
    assert_eq!(owner(&a, &draft.id).as_deref(), Some("chidi"));
    sync(&a).await;
    let refused = sync::rejected(&a.core).unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].refusal.code.as_str(), "not_a_colleague");
    assert_eq!(
        owner(&a, &draft.id),
        None,
        "the refused colleague is not shown as the owner"
    );

    // An answer in a section not given to its author: refused, the answer is back to none on
    // his screen, and what he typed is kept in the refusal for him to read.
    reports::set_answer(&a.core, &draft.id, "general_info/party_name", "Kenya").unwrap();
    sync(&a).await;
    sync(&b).await;
    let on_b = draft_id(&b);
    reports::set_answer(&b.core, &on_b, "appendix_i/app1_present", "yes").unwrap();
    sync(&b).await;
    let refused = sync::rejected(&b.core).unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].refusal.code.as_str(), "not_assigned");
    assert_eq!(refused[0].value, serde_json::json!("yes"));
    let answers = reports::draft_answers(&b.core, &on_b).unwrap();
    assert_eq!(answers.get("appendix_i/app1_present"), None);
    assert_eq!(
        answers.get("general_info/party_name").map(String::as_str),
        Some("Kenya")
    );
}
