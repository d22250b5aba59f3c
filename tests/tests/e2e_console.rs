//! The Secretariat's console in a real browser (headless Chromium through chromedriver)
//! against the real `ecommunity`, with real app clients (stopover-core) putting in the data:
//! an officer signs in, approves an account (correcting its instruments), sees that Kenya's CMS
//! report is 60 % complete, shared with two colleagues and late, downloads Kenya's submitted
//! report with its attachment, and sees the capacity needs by region built from
//! self-assessments submitted through the app — with a region of one country held back.
//!
//! Ignored by default (it needs Chromium); `make test` runs it. With `STOPOVER_SCREENSHOTS`
//! set to a folder, it saves a screenshot of each console page there (`docs/screenshots`).

use std::collections::BTreeSet;
use std::io::Read;

use serde_json::Value;
use stopover_core::reports::{self, delegation, submission};
use stopover_core::sync::attachments::{self, AttachmentSource};
use stopover_forms::QuestionType;
use stopover_tests::api::Api;
use stopover_tests::browser::Browser;
use stopover_tests::client::Device;
use stopover_tests::reports::{fill_required, publish_pack};
use stopover_tests::server::{NewUser, Server};

const CMS: &str = "cms-national-report";
const CAPACITY: &str = "capacity-self-assessment";

fn colleague(name: &str) -> NewUser {
    let mut u = NewUser::nfp(name, "KE");
    u.instruments.clear();
    u
}

async fn sync(d: &Device) {
    d.sync()
        .await
        .unwrap_or_else(|e| panic!("{}: sync: {e}", d.name));
}

fn draft(d: &Device, form: &str, cycle: &str) -> String {
    reports::list_drafts(&d.core)
        .unwrap()
        .into_iter()
        .find(|x| x.form_id == form && x.cycle == cycle)
        .map(|x| x.id)
        .unwrap_or_else(|| reports::create_draft(&d.core, form, cycle).unwrap().id)
}

fn path_of(d: &Device, id: &str, name: &str) -> String {
    reports::live_state(&d.core, id)
        .unwrap()
        .visible
        .into_iter()
        .find(|p| p.rsplit('/').next() == Some(name))
        .unwrap_or_else(|| panic!("no visible question `{name}`"))
}

fn percent(d: &Device, id: &str) -> usize {
    let p = reports::live_state(&d.core, id).unwrap().completion.overall;
    p.answered * 100 / p.total.max(1)
}

/// Answers visible questions one by one, with plausible values, until the report is exactly
/// `target` % complete as the forms engine counts it (answered / relevant questions).
fn answer_until(d: &Device, id: &str, target: usize) {
    let form = reports::draft_form(&d.core, id).unwrap();
    let mut tried = BTreeSet::new();
    while percent(d, id) < target {
        let state = reports::live_state(&d.core, id).unwrap();
        let answers = reports::draft_answers(&d.core, id).unwrap();
        let next = state.visible.iter().find(|p| {
            let name = p.rsplit('/').next().unwrap().split('[').next().unwrap();
            !answers.contains_key(*p)
                && !tried.contains(*p)
                && form
                    .question(name)
                    .is_some_and(|q| q.kind.is_input() && !matches!(q.kind, QuestionType::File))
        });
        let Some(path) = next.cloned() else {
            panic!("ran out of questions at {} %", percent(d, id));
        };
        tried.insert(path.clone());
        let name = path.rsplit('/').next().unwrap().split('[').next().unwrap();
        let q = form.question(name).unwrap();
        let value = match &q.kind {
            QuestionType::SelectOne(l)
            | QuestionType::SelectMultiple(l)
            | QuestionType::Rank(l) => match form.choice_list(l).first() {
                Some(c) => c.name.clone(),
                None => continue,
            },
            QuestionType::Integer | QuestionType::Decimal | QuestionType::Range => "1".into(),
            QuestionType::Date => "2024-01-01".into(),
            _ => "Réponse de test".into(),
        };
        reports::set_answer(&d.core, id, &path, &value).unwrap();
        if percent(d, id) > target {
            // It opened nothing and overshot: take it back and try another.
            reports::clear_answer(&d.core, id, &path).unwrap();
        }
    }
    assert_eq!(percent(d, id), target);
}

/// A capacity self-assessment filled and submitted through the app.
async fn self_assessment(d: &Device, cycle: &str, needs: &str, consent: &str) {
    let id = draft(d, CAPACITY, cycle);
    fill_required(&d.core, &id);
    let needs_path = path_of(d, &id, "need_topics");
    reports::set_answer(&d.core, &id, &needs_path, needs).unwrap();
    let consent_path = path_of(d, &id, "consent");
    reports::set_answer(&d.core, &id, &consent_path, consent).unwrap();
    sync(d).await;
    submission::submit_to_server(&d.core, &d.client, &d.token(), &id)
        .await
        .unwrap_or_else(|e| panic!("{}: submit the self-assessment: {e}", d.name));
}

async fn sign_in(b: &Browser, user: &NewUser) {
    b.goto("/console/sign-in").await;
    b.fill("[data-testid=signin-username]", &user.username)
        .await;
    b.fill("[data-testid=signin-password]", &user.password)
        .await;
    b.click("[data-testid=signin-submit]").await;
    b.testid("signed-in-as").await;
}

/// The `data-value` of the element `css` (a bar of a chart).
async fn attr_value(b: &Browser, css: String) -> String {
    b.wait(&css)
        .await
        .attr("data-value")
        .await
        .unwrap()
        .unwrap_or_default()
}

fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut out = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).unwrap();
        out.insert(f.name().to_string(), buf);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver (make test runs it)"]
async fn a_secretariat_officer_follows_reporting_and_capacity_in_the_console() {
    let server = Server::start_with(&["--capacity-min-respondents", "3"]);
    publish_pack(&server);
    let officer = NewUser::staff("officer", "secretariat");
    server.user_add_approved(&officer);
    let amina = NewUser::nfp("amina", "KE");
    let (baraka, chidi) = (colleague("baraka"), colleague("chidi"));
    let (ug, tz, fr) = (
        NewUser::nfp("okello", "UG"),
        NewUser::nfp("neema", "TZ"),
        NewUser::nfp("claire", "FR"),
    );
    for u in [&amina, &baraka, &chidi, &ug, &tz, &fr] {
        server.user_add_approved(u);
    }
    // The deadline the Secretariat set, passed (a test date, not a real one).
    server.cli_ok(&["cycle", "set", "COP15", "--deadline", "2020-01-31"]);
    let url = server.base_url.clone();

    // Kenya: the COP14 report submitted with an attachment...
    let a = Device::sign_in("amina-laptop", &url, &amina).await;
    let cop14 = draft(&a, CMS, "COP14");
    fill_required(&a.core, &cop14);
    let minutes = b"meeting,date\nNational CMS committee (test file),2024\n".to_vec();
    let sha = attachments::upload(
        &a.core,
        &a.client,
        &a.token(),
        AttachmentSource::bytes(&minutes, Some("committee-minutes.csv")),
        &|_| {},
    )
    .await
    .expect("attachment uploaded");
    let docs = path_of(&a, &cop14, "supporting_documents");
    reports::set_answer(&a.core, &cop14, &docs, &sha).unwrap();
    sync(&a).await;
    submission::submit_to_server(&a.core, &a.client, &a.token(), &cop14)
        .await
        .expect("COP14 submitted");

    // ...and the COP15 report 60 % done, two sections given to two colleagues.
    let cop15 = draft(&a, CMS, "COP15");
    answer_until(&a, &cop15, 60);
    delegation::assign_section(&a.core, &cop15, "general_info", Some("baraka")).unwrap();
    delegation::assign_section(&a.core, &cop15, "appendix_i", Some("chidi")).unwrap();
    sync(&a).await;
    assert!(stopover_core::sync::rejected(&a.core).unwrap().is_empty());

    // Self-assessments of COP15: three African countries and one European that does not
    // agree to be named (below the threshold of 3: not shown).
    self_assessment(&a, "COP15", "finances national_reporting", "no").await;
    for (user, needs) in [
        (&ug, "finances"),
        (&tz, "finances meetings"),
        (&fr, "finances"),
    ] {
        let d = Device::sign_in(&format!("{}-laptop", user.username), &url, user).await;
        self_assessment(&d, "COP15", needs, "no").await;
    }

    // "Was this useful? What was missing?" at the foot of a Manual module and a checklist,
    // answered in the app and synced.
    {
        use stopover_core::user::feedback;
        let mut conn = a.core.conn();
        feedback::set_useful(&mut conn, "manual", "meetings", Some(false)).unwrap();
        feedback::set_missing(
            &mut conn,
            "manual",
            "meetings",
            "A model letter of credentials",
        )
        .unwrap();
        feedback::set_useful(&mut conn, "checklist", "cop-preparation", Some(true)).unwrap();
    }
    sync(&a).await;
    assert!(stopover_core::sync::rejected(&a.core).unwrap().is_empty());

    // Someone asks for an account (as the app does), for AEWA; the Secretariat corrects it.
    let request = serde_json::json!({
        "username": "dalia", "password": "dalia-Passw0rd!", "display_name": "Dalia Wanjiru",
        "email": "dalia@example.org", "country": "KE", "instruments": ["AEWA"]
    });
    let asked = Api::new(&url)
        .post_json("/v1/accounts", &request)
        .await
        .unwrap();
    assert_eq!(asked.status, 201, "{}", asked.describe());

    let b = Browser::start(&url).await;
    b.goto("/console/sign-in").await;
    b.testid("signin-form").await;
    b.screenshot("sign-in").await;
    sign_in(&b, &officer).await;
    assert_eq!(b.path().await, "/console/reporting");

    // --- Accounts: approve with a correction ---
    b.click("[data-testid=nav-accounts]").await;
    let row = "[data-testid=pending-dalia]";
    b.wait(row).await;
    b.screenshot("accounts").await;
    b.fill(
        &format!("{row} [data-testid=field-instruments]"),
        "CMS, AEWA",
    )
    .await;
    b.click(&format!("{row} [data-testid=approve]")).await;
    let notice = b.text("[data-testid=notice]").await;
    assert_eq!(notice, "dalia is approved.");
    let dalia = server
        .user_list()
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "dalia")
        .cloned()
        .unwrap();
    assert_eq!(dalia["status"], "approved");
    assert_eq!(dalia["instruments"], serde_json::json!(["CMS", "AEWA"]));
    b.wait("[data-testid=account-dalia]").await;

    // --- Reporting: Kenya's CMS report, 60 %, shared with two colleagues, late ---
    b.click("[data-testid=nav-reporting]").await;
    let kenya = "[data-testid=report-KE-CMS]";
    b.wait(kenya).await;
    assert_eq!(
        b.text(&format!("{kenya} [data-testid=percent]")).await,
        "60 %"
    );
    assert_eq!(
        b.text(&format!("{kenya} [data-testid=shared-count]")).await,
        "2 colleague(s)"
    );
    let shared = b.text(&format!("{kenya} [data-testid=shared]")).await;
    assert!(shared.contains("baraka, chidi"), "{shared}");
    let status = b.text(&format!("{kenya} [data-testid=status]")).await;
    assert!(
        status.starts_with("In progress") && status.contains("Late"),
        "{status}"
    );
    // The self-assessment is not a report row: it is read in aggregate only.
    assert!(
        b.client
            .find(fantoccini::Locator::Css(
                "[data-testid^=report-KE-][data-testid$=capacity]"
            ))
            .await
            .is_err()
    );
    // Uganda and Tanzania have focal points but no report yet.
    let ug_status = b
        .text("[data-testid=report-UG-CMS] [data-testid=status]")
        .await;
    assert!(ug_status.starts_with("Not started"), "{ug_status}");
    b.goto("/console/reporting?cycle=COP15&instrument=CMS")
        .await;
    b.wait(kenya).await;
    b.screenshot("reporting").await;
    // Filter: Europe holds only France.
    b.goto("/console/reporting?cycle=COP15&region=europe").await;
    b.wait("[data-testid=report-FR-CMS]").await;
    assert!(
        b.client
            .find(fantoccini::Locator::Css(kenya))
            .await
            .is_err()
    );
    // The CSV of the whole table.
    let (code, mime, csv) = b
        .fetch("/console/reporting.csv?cycle=COP15&instrument=CMS")
        .await;
    assert_eq!((code, mime.as_str()), (200, "text/csv; charset=utf-8"));
    let csv = String::from_utf8(csv).unwrap();
    let ke = csv
        .lines()
        .find(|l| l.starts_with("COP15,KE,"))
        .expect("Kenya in the CSV");
    assert!(
        ke.starts_with("COP15,KE,africa,CMS,cms-national-report,in_progress,60,"),
        "{ke}"
    );
    assert!(ke.contains(",2,baraka chidi,"), "{ke}");
    assert!(ke.ends_with(",true,2020-01-31"), "{ke}");

    // --- Kenya's submitted COP14 report, read and downloaded with its attachment ---
    b.goto("/console/reporting?cycle=COP14").await;
    let row14 = "[data-testid=report-KE-CMS]";
    assert_eq!(
        b.text(&format!("{row14} [data-testid=attachments]")).await,
        "1"
    );
    b.click(&format!("{row14} [data-testid=open-report]")).await;
    let listed = b.text("[data-testid=attachment-list]").await;
    assert!(listed.contains("committee-minutes.csv"), "{listed}");
    let receipt_id = b.text("[data-testid=receipt-id]").await;
    b.screenshot("report").await;
    let base = "/console/reports/KE/cms-national-report/COP14";
    let (code, mime, zip) = b.fetch(&format!("{base}/package.zip")).await;
    assert_eq!((code, mime.as_str()), (200, "application/zip"));
    let files = unzip(&zip);
    assert_eq!(files["attachments/committee-minutes.csv"], minutes);
    let report: Value = serde_json::from_slice(&files["report.json"]).unwrap();
    assert_eq!(report["receipt"]["receipt_id"], receipt_id.as_str());
    assert_eq!(report["answers"][&docs], sha.as_str());
    assert!(files.contains_key("answers.csv") && files.contains_key("report.html"));
    let (code, _, json) = b.fetch(&format!("{base}/report.json")).await;
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_slice::<Value>(&json).unwrap()["receipt"]["country"],
        "KE"
    );
    // One country's self-assessment is never shown.
    let (code, _, _) = b
        .fetch("/console/reports/KE/capacity-self-assessment/COP15")
        .await;
    assert_eq!(code, 403);

    // --- Capacity: needs by topic and region, from the four self-assessments ---
    b.click("[data-testid=nav-capacity]").await;
    let chart = "[data-testid=chart-needs-by-region]";
    b.wait(chart).await;
    let bar = |topic: &str| {
        format!("{chart} rect[data-series=\"Africa (3)\"][data-category=\"{topic}\"]")
    };

    assert_eq!(attr_value(&b, bar("Finances")).await, "3");
    assert_eq!(attr_value(&b, bar("National reporting")).await, "1");
    assert_eq!(attr_value(&b, bar("Meetings")).await, "1");
    // Europe has one self-assessment and no consent: held back, and said so.
    let svg = b.text("[data-testid=figure-needs-by-region]").await;
    assert!(!svg.contains("Europe (1)"), "{svg}");
    let note = b
        .text("[data-testid=figure-needs-by-region] [data-testid=chart-note]")
        .await;
    assert!(
        note.starts_with("Europe: 1 self-assessment(s), fewer than 3"),
        "{note}"
    );
    // The table alternative holds the same numbers.
    let table = b.text("[data-testid=table-needs-by-region]").await;
    assert!(table.contains("Finances 3"), "{table}");
    b.resize(1366, 2400).await;
    b.screenshot("capacity").await;
    b.resize(1366, 900).await;
    // The Manual's usefulness, from the feedback synced above: counts, and what was missing
    // without a name.
    let useful = "[data-testid=chart-manual-usefulness]";
    let meetings = "Meetings: registration, credentials and follow-up (module)";
    assert_eq!(
        attr_value(
            &b,
            format!("{useful} rect[data-series=\"Not useful\"][data-category=\"{meetings}\"]")
        )
        .await,
        "1"
    );
    assert_eq!(
        attr_value(&b, format!("{useful} rect[data-series=\"Useful\"][data-category=\"Preparing for a COP (checklist)\"]")).await,
        "1"
    );
    b.screenshot_of("[data-testid=figure-manual-usefulness]", "chart-usefulness")
        .await;
    let missing = b.text("[data-testid=missing-list]").await;
    assert!(
        missing.contains("A model letter of credentials") && !missing.contains("amina"),
        "{missing}"
    );
    // Downloads: SVG, PNG, CSV.
    let (code, mime, png) = b.fetch("/console/charts/needs-by-region.png").await;
    assert_eq!((code, mime.as_str()), (200, "image/png"));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (code, _, csv) = b.fetch("/console/charts/needs-by-region.csv").await;
    assert_eq!(code, 200);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("Topic,Africa (3)\r\n"), "{csv}");
    assert!(csv.contains("Finances,3\r\n"), "{csv}");
    let (code, mime, svg) = b.fetch("/console/charts/needs-by-region.svg").await;
    assert_eq!((code, mime.as_str()), (200, "image/svg+xml"));
    assert!(
        String::from_utf8(svg)
            .unwrap()
            .contains("<title>Africa (3) — Finances: 3</title>")
    );

    // --- In French: the same chart, labelled from the form's French choices ---
    b.click("[data-testid=lang-fr]").await;
    b.wait("html[lang=fr]").await;
    assert_eq!(
        attr_value(
            &b,
            format!("{chart} rect[data-series=\"Afrique (3)\"][data-category=\"Finances\"]")
        )
        .await,
        "3"
    );
    assert_eq!(b.text("[data-testid=nav-reporting]").await, "Rapports");
    b.click("[data-testid=lang-en]").await;
    b.wait("html[lang=en]").await;

    // --- The other pages render, and every action above is in the audit log ---
    for (nav, shot) in [
        ("nav-forum", "forum"),
        ("nav-events", "events"),
        ("nav-content", "content"),
    ] {
        b.click(&format!("[data-testid={nav}]")).await;
        b.wait("main h1").await;
        b.screenshot(shot).await;
    }
    let form_check = b
        .text("[data-testid=form-capacity-self-assessment] [data-testid=form-check]")
        .await;
    assert!(form_check.starts_with("OK"), "{form_check}");
    b.click("[data-testid=nav-audit]").await;
    b.wait("[data-testid=audit-table]").await;
    let actions: Vec<String> = {
        let mut out = Vec::new();
        for el in b
            .client
            .find_all(fantoccini::Locator::Css("[data-testid=audit-action]"))
            .await
            .unwrap()
        {
            out.push(el.text().await.unwrap());
        }
        out
    };
    for expected in [
        "console.sign_in",
        "account.approve",
        "account.correct",
        "cycle.set",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} not in {actions:?}"
        );
    }
    b.screenshot("audit").await;

    b.click("[data-testid=sign-out]").await;
    b.testid("signin-form").await;
    b.goto("/console/reporting").await;
    b.testid("signin-form").await;
    b.quit().await;
}
