//! Crash safety of report answers: a real client process types answers into a CMS report
//! draft and is killed with SIGKILL at random moments. Every answer it reported as saved (it
//! prints `saved <path> <value>` only after the write returned) must be there after restart.
//! Seeds: STOPOVER_SIM_SEED (first seed), STOPOVER_KILL_RUNS (how many kills).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn client() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sync-client"))
}

/// The edit number a value encodes (`réponse <seed>-<n> …` or `1000000 + n`).
fn edit_number(value: &str) -> u64 {
    match value.strip_prefix("réponse ") {
        Some(rest) => rest
            .split(['-', ' '])
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("value names its edit"),
        None => value.parse::<u64>().expect("numeric value") - 1_000_000,
    }
}

#[test]
fn every_answer_shown_as_saved_survives_a_kill() {
    let first_seed: u64 = std::env::var("STOPOVER_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let runs: u64 = std::env::var("STOPOVER_KILL_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let data = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(first_seed);
    let mut total_saved = 0;
    for run in 0..runs {
        let seed = first_seed * 1000 + run;
        let mut child = client()
            .arg(data.path())
            .args(["answers", &seed.to_string(), "1000000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<_>>()
        });
        std::thread::sleep(Duration::from_millis(rng.u64(30..400)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let lines = reader.join().unwrap();

        // The last value shown as saved, per path, in this run.
        let mut shown: BTreeMap<String, String> = BTreeMap::new();
        let mut last_n = None;
        for line in &lines {
            let Some(rest) = line.strip_prefix("saved ") else {
                continue;
            };
            let (path, json) = rest.split_once(' ').unwrap();
            let value: String = serde_json::from_str(json).unwrap();
            last_n = Some(edit_number(&value));
            shown.insert(path.to_string(), value);
        }
        total_saved += lines.len();

        let out = client()
            .arg(data.path())
            .arg("dump-answers")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "seed {seed}: the draft reopens after the kill: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stored: BTreeMap<String, String> = serde_json::from_slice(&out.stdout).unwrap();
        for (path, value) in &shown {
            let got = stored
                .get(path)
                .unwrap_or_else(|| panic!("seed {seed}: `{path}` was shown as saved and is gone"));
            // The kill may land between a write's commit and its `saved` line: then the
            // stored value is that one next edit, never anything older than what was shown.
            let next = last_n.map_or(0, |n| n + 1);
            assert!(
                got == value || edit_number(got) == next,
                "seed {seed}: `{path}` shows {got:?}, but {value:?} was the last value shown as saved (next edit {next})"
            );
        }
    }
    assert!(
        total_saved > runs as usize,
        "the client saved too little before the kills to test anything ({total_saved} answers)"
    );
}
