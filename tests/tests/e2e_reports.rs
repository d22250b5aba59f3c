//! End to end through the real app window: start the CMS national report, answer a yes/no
//! gate and see its follow-up appear, fill a field of a new repeat row, quit, relaunch with the
//! same data folder and find every answer intact, then export a DOCX (and a PDF) and read the
//! answers back out of the file. Needs a display and a session bus: `#[ignore]`d in plain
//! `cargo test`, run by `make test-e2e` under `dbus-run-session -- xvfb-run -a`.

use std::path::Path;
use std::process::Command;

use fantoccini::Locator;
use fantoccini::elements::Element;
use stopover_tests::app::{App, Driver, testid};

/// Typed with accents and guillemets, to see them survive the save, the restart and the DOCX.
const TARGETS: &str = "Cibles «voies de migration» révisées en 2030";
const SPECIES: &str = "Falco cherrug";

fn question(name: &str) -> String {
    format!("{}[data-name=\"{name}\"]", testid("question"))
}

async fn find(app: &App, css: &str) -> Element {
    app.client
        .wait()
        .at_most(stopover_tests::app::UI_TIMEOUT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
}

async fn open_section(app: &App, name: &str) {
    find(
        app,
        &format!("{}[data-name=\"{name}\"]", testid("section-link")),
    )
    .await
    .click()
    .await
    .unwrap();
    app.wait_js(
        &format!("section {name} shown"),
        &format!(
            "return document.querySelector('{}')?.dataset.name === '{name}'",
            testid("report-section")
        ),
    )
    .await;
}

/// Waits until every change is confirmed saved by the core (the indicator's own state).
async fn wait_saved(app: &App) {
    app.wait_js(
        "the answers to be saved",
        &format!(
            "return document.querySelector('{}')?.dataset.state === 'saved'",
            testid("save-state")
        ),
    )
    .await;
}

async fn is_present(app: &App, css: &str) -> bool {
    !app.client
        .find_all(Locator::Css(css))
        .await
        .unwrap()
        .is_empty()
}

async fn value_of(app: &App, css: &str) -> String {
    app.client
        .execute(
            &format!("return document.querySelector('{css}')?.value ?? null"),
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_else(|| panic!("no field {css}"))
        .to_string()
}

/// Exports in `format` and returns the path the app says it wrote.
async fn export(app: &App, format: &str, previous: Option<&str>) -> String {
    app.click_testid(&format!("report-export-{format}")).await;
    let prev = previous.unwrap_or("");
    app.wait_js(
        &format!("the {format} export"),
        &format!(
            "const r = document.querySelector('{}'); return !!r && r.dataset.path !== '{prev}'",
            testid("report-export-result")
        ),
    )
    .await;
    app.wait_testid("report-export-result")
        .await
        .attr("data-path")
        .await
        .unwrap()
        .expect("the export result names its file")
}

fn document_xml(docx: &Path) -> String {
    let out = Command::new("unzip")
        .arg("-p")
        .arg(docx)
        .arg("word/document.xml")
        .output()
        .expect("unzip runs");
    assert!(
        out.status.success(),
        "unzip {}: {}",
        docx.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("document.xml is UTF-8")
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tauri-driver, Xvfb and D-Bus: run by `make test`"]
async fn answer_a_gate_and_a_repeat_row_survive_a_restart_and_reach_the_docx() {
    let data = tempfile::tempdir().unwrap();
    let exports = tempfile::tempdir().unwrap();
    let driver = Driver::start_with_env(data.path(), &[("STOPOVER_EXPORT_DIR", exports.path())]);
    let app = driver.launch().await;

    // Start the CMS report for COP15 (once the forms are listed).
    app.new_report("cms-national-report", "COP15").await;
    let sections = app.wait_all("section-link").await;
    assert_eq!(sections.len(), 9, "the CMS form has nine sections");

    // A yes/no gate opens its follow-up.
    open_section(&app, "goal_5").await;
    assert!(!is_present(&app, &question("nbsap_date")).await);
    assert!(!is_present(&app, &question("nbsap_targets")).await);
    find(
        &app,
        &format!("{} input[value=\"yes\"]", question("nbsap_exists")),
    )
    .await
    .click()
    .await
    .unwrap();
    find(&app, &question("nbsap_date")).await;
    find(
        &app,
        &format!("{} input[value=\"yes\"]", question("nbsap_migratory")),
    )
    .await
    .click()
    .await
    .unwrap();
    let targets = find(&app, &format!("{} textarea", question("nbsap_targets"))).await;
    targets.send_keys(TARGETS).await.unwrap();
    wait_saved(&app).await;
    app.screenshot("report-gate").await;

    // A repeat opens with its gate; add a row and fill it.
    open_section(&app, "appendix_i").await;
    assert!(!is_present(&app, &testid("repeat-add")).await);
    find(
        &app,
        &format!("{} input[value=\"yes\"]", question("app1_present")),
    )
    .await
    .click()
    .await
    .unwrap();
    app.click_testid("repeat-add").await;
    let row = app.wait_testid("repeat-row").await;
    assert_eq!(
        row.attr("data-path").await.unwrap().as_deref(),
        Some("appendix_i/app1_species[1]")
    );
    // The species is picked from the CMS species list (a searchable list read from the form's
    // CSV file); one missing from it goes under "Other", always offered, whose free text opens
    // below the list.
    let other_choice = format!(
        "{} {}[data-value=\"other\"]",
        question("app1_sp_name"),
        testid("choice")
    );
    find(&app, &other_choice).await.click().await.unwrap();
    let other = find(
        &app,
        &format!("{} {}", question("app1_sp_name"), testid("other-input")),
    )
    .await;
    other.send_keys(SPECIES).await.unwrap();
    wait_saved(&app).await;
    let answered: u64 = app
        .wait_testid("report-completion")
        .await
        .attr("data-answered")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        answered, 5,
        "nbsap_exists, nbsap_migratory, nbsap_targets, app1_present, the species (other)"
    );
    app.screenshot("report-repeat").await;
    app.quit().await;

    // Relaunch on the same data: the report, the gate, its follow-up and the row are all there.
    let app = driver.launch().await;
    app.click_testid("nav-reports").await;
    let list = app.wait_testid("report-list").await;
    assert!(list.text().await.unwrap().contains("COP15"));
    let opens = app.wait_all("report-open").await;
    assert_eq!(opens.len(), 1);
    opens[0].click().await.unwrap();
    app.wait_testid("section-nav").await;
    open_section(&app, "goal_5").await;
    find(&app, &question("nbsap_date")).await;
    assert_eq!(
        value_of(&app, &format!("{} textarea", question("nbsap_targets"))).await,
        TARGETS
    );
    let checked = app
        .client
        .execute(
            &format!(
                "return document.querySelector('{} input[value=\"yes\"]').checked",
                question("nbsap_exists")
            ),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(checked.as_bool(), Some(true), "the gate's answer survived");
    open_section(&app, "appendix_i").await;
    find(&app, &testid("repeat-row")).await;
    let other_checked = app
        .client
        .execute(
            &format!("return document.querySelector('{other_choice}').checked"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        other_checked.as_bool(),
        Some(true),
        "the species stayed under Other"
    );
    assert_eq!(
        value_of(
            &app,
            &format!("{} {}", question("app1_sp_name"), testid("other-input"))
        )
        .await,
        SPECIES
    );

    // Export: the DOCX holds the answers, with their accents.
    let docx = export(&app, "docx", None).await;
    let docx = Path::new(&docx);
    assert_eq!(docx.parent(), Some(exports.path()), "{}", docx.display());
    assert_eq!(
        docx.file_name().and_then(|n| n.to_str()),
        Some("cms-national-report-COP15.docx")
    );
    let xml = document_xml(docx);
    assert!(xml.contains(SPECIES), "the species name is in the DOCX");
    assert!(xml.contains(TARGETS), "the accented answer is in the DOCX");
    // A second export never overwrites the first one.
    let again = export(&app, "docx", docx.to_str()).await;
    assert!(
        again.ends_with("cms-national-report-COP15-2.docx"),
        "{again}"
    );
    assert!(document_xml(Path::new(&again)).contains(SPECIES));
    // And the PDF button writes a PDF.
    let pdf = export(&app, "pdf", Some(&again)).await;
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "{pdf} is a PDF");
    app.quit().await;
}
