//! No silent discard (issue 16, item 4), through the real app window: the data folder sits on
//! a small tmpfs that is then filled up, so the next saves fail the way a full disk fails. The
//! answer that could not be saved stays on screen marked "Not saved" at its own field (not
//! only at the top); leaving the report asks first; once space is freed the app saves it by
//! itself, and the database then holds every answer typed. Needs root (to mount the tmpfs),
//! tauri-driver, Xvfb and D-Bus: run by `make test-e2e`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use stopover_tests::app::{Driver, question, stored_answers, testid};

/// A tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs to fill it up and needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a filler file until the disk is full but for about `leave` bytes.
    fn fill(&self, leave: u64) -> PathBuf {
        let filler = self.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 4096];
        loop {
            let free = free_bytes(self.path());
            if free <= leave + chunk.len() as u64 {
                break;
            }
            if f.write_all(&chunk).is_err() {
                break;
            }
        }
        f.sync_all().ok();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn free_bytes(path: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0)
}

const FIELDS: &[(&str, &str)] = &[
    ("party_name", "general_info/party_name"),
    ("nfp_name", "general_info/focal_point/nfp_name"),
    ("nfp_position", "general_info/focal_point/nfp_position"),
    (
        "nfp_institution",
        "general_info/focal_point/nfp_institution",
    ),
    ("nfp_address", "general_info/focal_point/nfp_address"),
    ("lead_institution", "general_info/lead_institution"),
    ("submitter_name", "general_info/submission/submitter_name"),
    (
        "submitter_position",
        "general_info/submission/submitter_position",
    ),
    ("general_comments", "general_info/general_comments"),
];

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root, tauri-driver, Xvfb and D-Bus: run by `make test-e2e`"]
async fn an_answer_a_full_disk_refused_stays_marked_asks_before_leaving_and_is_saved_later() {
    let disk = SmallDisk::mount("96m");
    let data = disk.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let driver = Driver::start(&data);

    // First run: the content is imported and a report started; quitting folds the journal
    // back into the database, so what is free afterwards is all the next run can write.
    let app = driver.launch().await;
    app.new_report("cms-national-report", "COP15").await;
    app.quit().await;
    let filler = disk.fill(48 * 1024);

    let app = driver.launch().await;
    app.click_testid("nav-reports").await;
    app.wait_all("report-open").await[0].click().await.unwrap();
    app.wait_testid("section-nav").await;
    app.open_section("general_info").await;

    // Type into one field after another until a save fails for want of space.
    let mut typed = Vec::new();
    let mut failed = None;
    for (name, path) in FIELDS {
        let text = format!("Réponse à {name}, saisie hors ligne");
        let field = app
            .find(&format!("{} {}", question(name), testid("answer-input")))
            .await;
        field.send_keys(&text).await.unwrap();
        field.send_keys("\u{e004}").await.unwrap(); // Tab: leave the field, which saves it
        typed.push((*name, *path, text));
        tokio::time::sleep(Duration::from_millis(700)).await;
        let state: Option<String> = app
            .client
            .execute(
                &format!(
                    "return document.querySelector('{} {}')?.dataset.state ?? null",
                    question(name),
                    testid("field-save-state")
                ),
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .map(str::to_string);
        if state.as_deref() == Some("error") {
            failed = Some(*name);
            break;
        }
    }
    let failed = failed.expect("a save failed once the disk was full");
    app.screenshot("disk-full-field").await;

    // Marked at its field, with the reason and a way to try again; the text stays on screen.
    let marker = app
        .find(&format!(
            "{} {}",
            question(failed),
            testid("field-save-state")
        ))
        .await;
    let words = marker.text().await.unwrap();
    assert!(words.contains("Not saved"), "{words}");
    let (_, failed_path, failed_text) = typed.iter().find(|(n, ..)| *n == failed).unwrap();
    let shown = app
        .client
        .execute(
            &format!(
                "return document.querySelector('{} {}').value",
                question(failed),
                testid("answer-input")
            ),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(shown.as_str(), Some(failed_text.as_str()));

    // Leaving the report asks first; staying keeps everything.
    app.click_testid("nav-home").await;
    app.wait_testid("leave-confirm").await;
    assert!(
        app.hash().await.starts_with("#/reports/"),
        "still in the report"
    );
    app.click_testid("leave-stay").await;

    // Space comes back: the app saves the answer by itself.
    std::fs::remove_file(&filler).unwrap();
    app.wait_js(
        "the failed answer to be saved by itself",
        &format!(
            "return document.querySelector('{} {}')?.dataset.state === 'saved'",
            question(failed),
            testid("field-save-state")
        ),
    )
    .await;
    app.wait_saved().await;
    let stored = stored_answers(&data);
    for (name, path, text) in &typed {
        assert_eq!(stored.get(*path), Some(text), "{name} in the database");
    }
    assert_eq!(stored.get(*failed_path), Some(failed_text));

    // With nothing pending, leaving does not ask.
    app.click_testid("nav-home").await;
    app.wait_js(
        "the home page",
        "return location.hash === '#/' || location.hash === ''",
    )
    .await;
    app.quit().await;
}
