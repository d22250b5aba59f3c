//! Attachments end to end, through the real app window and the real server: a file picked
//! for a report answer is kept in the app's data folder (deleting the original loses nothing),
//! reaches the server byte for byte after "Sync now", a colleague of the same country fetches
//! it in their app when they open it (not before), someone of another country cannot, and a
//! file of a refused type is refused before anything is copied, with a clear message. The
//! colleague works in French. Run by `make test-e2e` (`#[ignore]`d in plain `cargo test`).

use std::path::Path;

use reqwest::Method;
use sha2::{Digest, Sha256};
use stopover_protocol::files::hex;
use stopover_tests::api::{Api, Body};
use stopover_tests::app::{App, Driver, question, testid};
use stopover_tests::reports::publish_pack;
use stopover_tests::server::{NewUser, Server};

const SECTION: &str = "closing";
const QUESTION: &str = "supporting_documents";
const FILE_NAME: &str = "Carte des sites – Łódź.pdf";

/// Picks `path` in the question's file input, as a person choosing it in the file dialog.
async fn pick(app: &App, path: &Path) {
    let input = app
        .find(&format!("{} {}", question(QUESTION), testid("file-input")))
        .await;
    input
        .send_keys(path.to_str().expect("a UTF-8 path"))
        .await
        .unwrap_or_else(|e| panic!("cannot pick {}: {e}", path.display()));
}

async fn file_state_is(app: &App, state: &str) {
    app.wait_js(
        &format!("the file to be `{state}`"),
        &format!(
            "return document.querySelector('{} {}')?.dataset.state === '{state}'",
            question(QUESTION),
            testid("file-state")
        ),
    )
    .await;
}

async fn text_of(app: &App, css: &str) -> String {
    app.find(css).await.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tauri-driver, Xvfb, D-Bus and gnome-keyring: run by `make test-e2e`"]
async fn a_file_reaches_the_server_whole_and_only_the_country_can_fetch_it() {
    let server = Server::start();
    publish_pack(&server);
    let amina = NewUser::nfp("amina", "KE");
    let baraka = NewUser::nfp("baraka", "KE");
    let juma = NewUser::nfp("juma", "TZ");
    let secretariat = NewUser::staff("sofia", "secretariat");
    for u in [&amina, &baraka, &juma, &secretariat] {
        server.user_add_approved(u);
    }

    // A 300 KB "map", with a name in Polish, picked from a folder the person later cleans up.
    let picked_from = tempfile::tempdir().unwrap();
    let original = picked_from.path().join(FILE_NAME);
    let bytes: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&original, &bytes).unwrap();
    let sha = hex(&Sha256::digest(&bytes));

    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path());
    let app = driver.launch().await;
    app.sign_in(&server.base_url, &amina.username, &amina.password)
        .await;
    app.new_report("cms-national-report", "COP15").await;
    app.open_section(SECTION).await;

    // The limits are said before picking.
    let limits = text_of(
        &app,
        &format!("{} {}", question(QUESTION), testid("file-limits")),
    )
    .await;
    assert!(
        limits.contains("25 MB") && limits.contains("PDF"),
        "{limits}"
    );

    // A type attachments may not have is refused at once, and nothing is kept.
    let exe = picked_from.path().join("outil.exe");
    std::fs::write(&exe, b"MZ not a report").unwrap();
    pick(&app, &exe).await;
    let refused = text_of(
        &app,
        &format!("{} {}", question(QUESTION), testid("file-error")),
    )
    .await;
    assert!(
        refused.contains("outil.exe") && refused.contains("pdf"),
        "{refused}"
    );
    assert!(
        !data.path().join("attachments").exists()
            || std::fs::read_dir(data.path().join("attachments"))
                .unwrap()
                .count()
                == 0
    );

    // The map: copied into the data folder at once, then the original is deleted.
    pick(&app, &original).await;
    app.wait_js(
        "the file's name in the answer",
        &format!(
            "return document.querySelector('{} {}')?.dataset.sha256 === '{sha}'",
            question(QUESTION),
            testid("file-name")
        ),
    )
    .await;
    app.wait_saved().await;
    let kept = data.path().join("attachments").join(&sha);
    assert_eq!(std::fs::read(&kept).unwrap(), bytes, "kept byte for byte");
    std::fs::remove_file(&original).unwrap();
    assert!(
        text_of(
            &app,
            &format!("{} {}", question(QUESTION), testid("file-name"))
        )
        .await
        .contains(FILE_NAME)
    );

    // Sync now: the answer and the file go; the file is then on the server.
    app.click_testid("sync-now").await;
    file_state_is(&app, "uploaded").await;
    app.sync_state_is("up_to_date").await;
    app.screenshot("attachment-uploaded").await;
    app.quit().await;

    // On the server, byte for byte: the owner, a colleague of the same country and the
    // Secretariat fetch it; an NFP of another country is told it does not exist.
    let tus = ("Tus-Resumable", "1.0.0");
    let path = format!("/v1/files/{sha}");
    for (who, user, expect) in [
        ("owner", &amina, 200),
        ("colleague", &baraka, 200),
        ("Secretariat", &secretariat, 200),
        ("other country", &juma, 404),
    ] {
        let token = server.sign_in(&user.username, &user.password).await;
        let got = Api::new(&server.base_url)
            .with_token(&token)
            .request(Method::GET, &path, Body::None, &[tus])
            .await
            .unwrap();
        assert_eq!(got.status, expect, "{who}: {}", got.describe());
        if expect == 200 {
            assert_eq!(
                hex(&Sha256::digest(&got.body)),
                sha,
                "{who} got other bytes"
            );
        }
    }

    // The colleague's app, in French: the answer arrives with the report, the file only
    // when opened.
    let colleague_data = tempfile::tempdir().unwrap();
    let exports = tempfile::tempdir().unwrap();
    let colleague = Driver::start_with_env(
        colleague_data.path(),
        &[("STOPOVER_EXPORT_DIR", exports.path())],
    );
    let app = colleague.launch().await;
    app.wait_testid("lang-select")
        .await
        .select_by_value("fr")
        .await
        .unwrap();
    app.sign_in(&server.base_url, &baraka.username, &baraka.password)
        .await;
    app.click_testid("nav-reports").await;
    let opens = app.wait_all("report-open").await;
    assert_eq!(opens.len(), 1, "amina's report arrived");
    opens[0].click().await.unwrap();
    app.wait_testid("section-nav").await;
    app.open_section(SECTION).await;
    file_state_is(&app, "remote").await;
    let state = text_of(
        &app,
        &format!("{} {}", question(QUESTION), testid("file-state")),
    )
    .await;
    assert!(state.contains("e-communauté"), "said in French: {state}");
    let fetched = colleague_data.path().join("attachments").join(&sha);
    assert!(!fetched.exists(), "not fetched before it is opened");

    app.click_testid("file-save").await;
    let saved = app
        .find(&format!("{} {}", question(QUESTION), testid("file-saved")))
        .await
        .attr("data-path")
        .await
        .unwrap()
        .expect("the copy's path");
    assert_eq!(
        hex(&Sha256::digest(std::fs::read(&saved).unwrap())),
        sha,
        "the colleague's copy is the same file"
    );
    assert_eq!(
        std::fs::read(&fetched).unwrap(),
        bytes,
        "kept in the colleague's data folder"
    );
    file_state_is(&app, "uploaded").await;
    app.quit().await;
}
