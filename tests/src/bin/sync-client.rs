//! `sync-client`: a headless Stopover client — the real stopover-core with its SQLite file —
//! that tests start, kill with SIGKILL at random points, and restart.
//!
//! ```text
//! sync-client DATA_DIR sign-in URL USER PASSWORD DEVICE
//! sync-client DATA_DIR tick LIST STEP true|false
//! sync-client DATA_DIR stream SEED COUNT SYNC_EVERY   # random edits, syncing every N edits
//! sync-client DATA_DIR sync                           # one round; exit 0 only on success
//! sync-client DATA_DIR relay URL|direct               # rounds through a workshop relay, or not
//! sync-client DATA_DIR relay-status                   # the relay part of the status as JSON
//! sync-client DATA_DIR relay-sync URL                 # one round through the relay at URL;
//!                                                     # prints its report and where the laptop
//!                                                     # stands as one JSON line
//! sync-client DATA_DIR dump                           # local checklist progress as JSON
//! sync-client DATA_DIR answers SEED COUNT             # type answers into a CMS report draft
//! sync-client DATA_DIR dump-answers                   # that draft's stored answers as JSON
//! ```
//! Each edit prints `saved <list>/<step> <field> <json>` only after its transaction
//! committed: what a test may demand to find after a crash.

use std::io::Write;
use std::path::Path;

use stopover_core::content::{self, PackFiles};
use stopover_core::reports;
use stopover_core::sync::{self, SyncClient};
use stopover_core::user::checklists;
use stopover_core::{Core, Error};
use stopover_tests::secrets_file::FileSecrets;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (data, cmd, rest) = match args.as_slice() {
        [data, cmd, rest @ ..] => (Path::new(data), cmd.as_str(), rest),
        _ => usage(),
    };
    let core = Core::open(data, Ok(PackFiles::embedded())).expect("store opens");
    let secrets = FileSecrets::new(data.join("secrets"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = std::io::stdout();
    match (cmd, rest) {
        ("sign-in", [url, user, password, device]) => {
            runtime
                .block_on(sync::sign_in(&core, &secrets, url, user, password, device))
                .unwrap_or_else(|e| fail(e));
        }
        ("tick", [list, step, done]) => {
            checklists::set_done(&mut core.conn(), list, step, done == "true")
                .unwrap_or_else(|e| fail(e));
            println!("saved {list}/{step} done {done}");
        }
        ("stream", [seed, count, every]) => {
            let mut rng = fastrand::Rng::with_seed(seed.parse().unwrap());
            let steps = all_steps(&core);
            let every: usize = every.parse().unwrap();
            for n in 0..count.parse::<usize>().unwrap() {
                let (list, step) = &steps[rng.usize(..steps.len())];
                if rng.bool() {
                    let done = rng.bool();
                    checklists::set_done(&mut core.conn(), list, step, done)
                        .unwrap_or_else(|e| fail(e));
                    writeln!(out.lock(), "saved {list}/{step} done {done}").unwrap();
                } else {
                    let note = format!("note {seed}-{n}");
                    checklists::set_note(&mut core.conn(), list, step, &note)
                        .unwrap_or_else(|e| fail(e));
                    writeln!(
                        out.lock(),
                        "saved {list}/{step} note {}",
                        serde_json::json!(note)
                    )
                    .unwrap();
                }
                if every > 0 && (n + 1) % every == 0 {
                    // Network trouble is expected here; the edits stay queued.
                    let _ = runtime.block_on(sync_round(&core, &secrets));
                }
            }
        }
        ("sync", []) => match runtime.block_on(sync_round(&core, &secrets)) {
            Ok(()) => println!("synced"),
            Err(e) => {
                eprintln!("sync failed: {} ({})", e, e.code());
                std::process::exit(3);
            }
        },
        ("relay", [url]) => {
            let relay = (url != "direct").then_some(url.as_str());
            sync::set_relay(&core, relay).unwrap_or_else(|e| fail(e));
        }
        ("relay-status", []) => println!(
            "{}",
            serde_json::to_string(&sync::status(&core).unwrap_or_else(|e| fail(e)).relay).unwrap()
        ),
        ("relay-sync", [url]) => {
            let token = sync::device_token(&core, &secrets).unwrap_or_else(|e| fail(e));
            match runtime.block_on(sync::sync_through_relay(&core, url, &token)) {
                Ok(report) => {
                    let conn = core.conn();
                    let count =
                        |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
                    println!(
                        "{}",
                        serde_json::json!({
                            "report": report,
                            "outbox": count("SELECT count(*) FROM outbox"),
                            "at_relay": count("SELECT count(*) FROM outbox WHERE at_relay = 1"),
                            "community_more": report.community_more,
                            "community_cursor": sync::community_cursor(&conn).unwrap(),
                            "pull_cursor": sync::pull_cursor(&conn).unwrap(),
                            "forum_posts": count("SELECT count(*) FROM forum_post"),
                        })
                    );
                }
                Err(e) => {
                    eprintln!("relay sync failed: {} ({})", e, e.code());
                    std::process::exit(3);
                }
            }
        }
        ("dump", []) => println!("{}", serde_json::to_string(&dump(&core)).unwrap()),
        ("answers", [seed, count]) => {
            // Free-text questions of the CMS report that are always visible.
            const PATHS: [&str; 8] = [
                "general_info/party_name",
                "general_info/focal_point/nfp_name",
                "general_info/focal_point/nfp_position",
                "general_info/focal_point/nfp_institution",
                "general_info/focal_point/nfp_address",
                "general_info/focal_point/nfp_email",
                "general_info/focal_point/nfp_phone",
                "general_info/cms_entry_year",
            ];
            let draft = report_draft(&core);
            let mut rng = fastrand::Rng::with_seed(seed.parse().unwrap());
            for n in 0..count.parse::<usize>().unwrap() {
                let path = PATHS[rng.usize(..PATHS.len())];
                // Every value names its edit number, so a test can tell which edit it came from.
                let value = if path.ends_with("year") {
                    (1_000_000 + n).to_string()
                } else {
                    format!("réponse {seed}-{n} « ñ »")
                };
                reports::set_answer(&core, &draft, path, &value).unwrap_or_else(|e| fail(e));
                // Only now is it "saved" for the person: the transaction has committed.
                writeln!(out.lock(), "saved {path} {}", serde_json::json!(value)).unwrap();
            }
        }
        ("dump-answers", []) => {
            let draft = report_draft(&core);
            let answers = reports::draft_answers(&core, &draft).unwrap_or_else(|e| fail(e));
            println!("{}", serde_json::to_string(&answers).unwrap());
        }
        _ => usage(),
    }
}

async fn sync_round(core: &Core, secrets: &FileSecrets) -> Result<(), Error> {
    let url = sync::status(core)?
        .server_url
        .ok_or_else(|| Error::SignInRequired("not signed in".into()))?;
    let client = SyncClient::new(&url)?;
    let token = sync::device_token(core, secrets)?;
    // As the app does: through the workshop relay when one is set.
    let relay = sync::relay_url(&core.conn())?;
    match relay {
        Some(relay) => sync::sync_through_relay(core, &relay, &token)
            .await
            .map(|_| ()),
        None => sync::sync_once(core, &client, &token).await.map(|_| ()),
    }
}

/// The one CMS report draft of this data folder, created on first use.
fn report_draft(core: &Core) -> String {
    let drafts = reports::list_drafts(core).unwrap_or_else(|e| fail(e));
    match drafts
        .into_iter()
        .find(|d| d.form_id == "cms-national-report")
    {
        Some(d) => d.id,
        None => {
            reports::create_draft(core, "cms-national-report", "COP15")
                .unwrap_or_else(|e| fail(e))
                .id
        }
    }
}

/// Every (checklist, step) of the pack, in a stable order.
fn all_steps(core: &Core) -> Vec<(String, String)> {
    let conn = core.conn();
    let mut steps = Vec::new();
    for list in content::list_checklists(&conn, "en").unwrap() {
        for step in content::checklist(&conn, &list.id, "en").unwrap().steps {
            steps.push((list.id.clone(), step.id));
        }
    }
    steps
}

/// `{"<list>/<step>": {"done": bool, "note": "..."}}` for every step with progress.
fn dump(core: &Core) -> serde_json::Value {
    let conn = core.conn();
    let mut stmt = conn
        .prepare("SELECT checklist_id, step_id, done, note FROM checklist_progress ORDER BY 1, 2")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                format!("{}/{}", r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                r.get::<_, bool>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .unwrap();
    let mut map = serde_json::Map::new();
    for row in rows {
        let (key, done, note) = row.unwrap();
        map.insert(key, serde_json::json!({ "done": done, "note": note }));
    }
    serde_json::Value::Object(map)
}

fn fail(e: Error) -> ! {
    eprintln!("sync-client: {e} ({})", e.code());
    std::process::exit(2)
}

fn usage() -> ! {
    eprintln!(
        "usage: sync-client DATA_DIR (sign-in URL USER PASSWORD DEVICE | tick LIST STEP true|false | stream SEED COUNT SYNC_EVERY | sync | relay URL|direct | relay-status | relay-sync URL | dump)"
    );
    std::process::exit(2)
}
