//! Four kinds of damage to a real database file, and what comes back: a truncated file,
//! garbage over a user table's pages, a damaged search index only, and a file that is not a
//! database any more. Each names exactly which of the person's rows return, and checks the
//! damaged file is kept, byte for byte. Plus: backups rotate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rusqlite::Connection;
use stopover_core::content::PackFiles;
use stopover_core::store::recovery::{self, BACKUPS_KEPT};
use stopover_core::store::{self, DATABASE_FILE};
use stopover_core::{ContentStatus, Core, ErrorCode};

const DRAFTS: usize = 6;
const ANSWERS_PER_DRAFT: usize = 300;
const TICKS: usize = 1500;
const FORUM_DRAFTS: usize = 200;

/// Markers of the person's rows: one unique word per row, found again in the file's bytes.
const PREFIXES: [&str; 3] = ["answer-", "tick-", "fdraft-"];

/// A database as a person's would be: the pack imported, then report answers, checklist
/// ticks and forum drafts. Closed on return (its WAL checkpointed into the file).
fn fill(dir: &Path, from: usize) {
    let core = Core::open(dir, Ok(PackFiles::embedded())).unwrap();
    let mut conn = core.conn();
    let tx = conn.transaction().unwrap();
    for d in 0..DRAFTS {
        tx.execute(
            "INSERT OR IGNORE INTO report_draft (id, form_id, form_version, cycle, status, created_at, updated_at)
             VALUES (?1, 'national-report', '1', '2027', 'draft', '2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z')",
            [format!("draft-{d}")],
        )
        .unwrap();
        for a in from..from + ANSWERS_PER_DRAFT {
            tx.execute(
                "INSERT INTO report_answer (draft_id, path, value, updated_at) VALUES (?1, ?2, ?3, '2026-12-01T00:00:00Z')",
                [
                    format!("draft-{d}"),
                    format!("sec/q{a:05}"),
                    format!("answer-{d}-{a:05} {}", ".".repeat(60)),
                ],
            )
            .unwrap();
        }
    }
    for i in from..from + TICKS {
        tx.execute(
            "INSERT INTO checklist_progress (checklist_id, step_id, done, note, updated_at) VALUES (?1, ?2, 1, ?3, '2026-12-01T00:00:00Z')",
            [
                format!("list-{:03}", i / 50),
                format!("step-{i:05}"),
                format!("tick-{i:05} {}", ".".repeat(40)),
            ],
        )
        .unwrap();
    }
    for i in from..from + FORUM_DRAFTS {
        tx.execute(
            "INSERT INTO forum_draft (key, body, updated_at) VALUES (?1, ?2, '2026-12-01T00:00:00Z')",
            [format!("thread-{i:05}"), format!("fdraft-{i:05} {}", ".".repeat(80))],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

/// The person's rows in the database, by their markers.
fn user_rows(conn: &Connection) -> BTreeSet<String> {
    let mut rows = BTreeSet::new();
    for sql in [
        "SELECT value FROM report_answer",
        "SELECT note FROM checklist_progress",
        "SELECT body FROM forum_draft",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        for v in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
            rows.insert(v.unwrap().split(' ').next().unwrap().to_string());
        }
    }
    rows
}

/// Markers of the rows a leaf page holds: read from its cells (the page's free space may
/// still hold old copies of rows that moved elsewhere).
fn rows_on_leaf(page: &[u8], pageno: i64) -> BTreeSet<String> {
    let header = if pageno == 1 { 100 } else { 0 };
    assert!(matches!(page[header], 0x0A | 0x0D), "a leaf page");
    let cells = u16::from_be_bytes([page[header + 3], page[header + 4]]) as usize;
    (0..cells)
        .map(|i| {
            let at = header + 8 + 2 * i;
            let start = u16::from_be_bytes([page[at], page[at + 1]]) as usize;
            let first = markers_in(&page[start..(start + 256).min(page.len())], true);
            first.into_iter().next().expect("each row has its marker")
        })
        .collect()
}

/// Markers written in `bytes` (only the first one when `first`).
fn markers_in(bytes: &[u8], first: bool) -> BTreeSet<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for prefix in PREFIXES {
        let p = prefix.as_bytes();
        let mut i = 0;
        while i + p.len() <= bytes.len() {
            if &bytes[i..i + p.len()] == p {
                let end = bytes[i..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-'))
                    .map_or(bytes.len(), |n| i + n);
                found.push((i, String::from_utf8_lossy(&bytes[i..end]).into_owned()));
                i = end;
            } else {
                i += 1;
            }
        }
    }
    found.sort();
    if first {
        found.truncate(1);
    }
    found.into_iter().map(|(_, m)| m).collect()
}

/// The pages of `table`'s b-tree: page number by dbstat path ("/", "/000/", ...), and type.
fn pages_of(conn: &Connection, table: &str) -> Vec<(String, i64, String)> {
    conn.prepare("SELECT path, pageno, pagetype FROM dbstat WHERE name = ?1 AND pagetype != 'overflow' ORDER BY path")
        .unwrap()
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn page_size(conn: &Connection) -> usize {
    conn.pragma_query_value(None, "page_size", |r| r.get::<_, i64>(0))
        .unwrap() as usize
}

fn page(bytes: &[u8], size: usize, pageno: i64) -> &[u8] {
    let at = (pageno as usize - 1) * size;
    &bytes[at..(at + size).min(bytes.len())]
}

fn expect_damaged(dir: &Path) -> Vec<String> {
    match Core::open(dir, Ok(PackFiles::embedded())) {
        Ok(_) => panic!("a damaged database opened as if whole"),
        Err(e) => {
            assert_eq!(e.code(), ErrorCode::DatabaseDamaged, "{e}");
            let params = e.params();
            assert!(
                format!("{:?}", params.get("file")).contains(DATABASE_FILE),
                "{params:?}"
            );
            match params.get("tables") {
                Some(stopover_core::error::Param::Text(t)) => {
                    t.split(", ").map(str::to_string).collect()
                }
                other => panic!("no tables named: {other:?}"),
            }
        }
    }
}

fn open_after(dir: &Path) -> Core {
    let core = Core::open(dir, Ok(PackFiles::embedded())).unwrap();
    assert!(
        matches!(core.content_status(), ContentStatus::Ready { .. }),
        "content is imported again"
    );
    let hits = stopover_core::content::search(&core.conn(), "report", "en", 10).unwrap();
    assert!(!hits.is_empty(), "the content search works again");
    core
}

#[test]
fn garbage_over_a_user_tables_pages_loses_only_those_pages_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    fill(dir.path(), 0);
    let all = user_rows(&Connection::open(&path).unwrap());
    assert_eq!(all.len(), DRAFTS * ANSWERS_PER_DRAFT + TICKS + FORUM_DRAFTS);

    // One leaf in the middle of the answers and one in the middle of the ticks.
    let mut bytes = std::fs::read(&path).unwrap();
    let (size, targets) = {
        let conn = Connection::open(&path).unwrap();
        let size = page_size(&conn);
        let targets: Vec<i64> = ["report_answer", "checklist_progress"]
            .iter()
            .map(|t| {
                let leaves: Vec<i64> = pages_of(&conn, t)
                    .into_iter()
                    .filter(|(_, _, kind)| kind == "leaf")
                    .map(|(_, n, _)| n)
                    .collect();
                assert!(leaves.len() > 4, "{t} spans several pages");
                leaves[leaves.len() / 2]
            })
            .collect();
        (size, targets)
    };
    let mut lost = BTreeSet::new();
    for &n in &targets {
        lost.extend(rows_on_leaf(page(&bytes, size, n), n));
        let at = (n as usize - 1) * size;
        bytes[at..at + size].fill(0xA5);
    }
    assert!(lost.iter().any(|m| m.starts_with("answer-")));
    assert!(lost.iter().any(|m| m.starts_with("tick-")));
    std::fs::write(&path, &bytes).unwrap();

    let tables = expect_damaged(dir.path());
    assert!(tables.contains(&"report_answer".to_string()), "{tables:?}");
    assert!(
        tables.contains(&"checklist_progress".to_string()),
        "{tables:?}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "nothing written to it"
    );

    let report = recovery::recover(&path).unwrap();
    assert_eq!(
        std::fs::read(&report.damaged_file).unwrap(),
        bytes,
        "kept as it was"
    );
    assert!(
        report.damaged_file.contains(".damaged-"),
        "{}",
        report.damaged_file
    );
    let by_table: BTreeMap<_, _> = report
        .tables
        .iter()
        .map(|t| (t.table.as_str(), t))
        .collect();
    let ticks_lost = lost.iter().filter(|m| m.starts_with("tick-")).count() as u64;
    let answers_lost = lost.iter().filter(|m| m.starts_with("answer-")).count() as u64;
    // The ticks' primary-key index is intact: it still counts the rows that are gone.
    assert_eq!(by_table["checklist_progress"].lost, Some(ticks_lost));
    assert_eq!(
        by_table["checklist_progress"].recovered,
        TICKS as u64 - ticks_lost
    );
    assert!(by_table["report_answer"].damaged);
    assert_eq!(
        by_table["report_answer"].recovered,
        (DRAFTS * ANSWERS_PER_DRAFT) as u64 - answers_lost
    );
    assert_eq!(by_table["forum_draft"].lost, Some(0));
    assert_eq!(by_table["report_draft"].recovered, DRAFTS as u64);
    assert!(report.rebuilt.contains(&"search_index".to_string()));

    let core = open_after(dir.path());
    let expected: BTreeSet<String> = all.difference(&lost).cloned().collect();
    assert_eq!(user_rows(&core.conn()), expected);
}

#[test]
fn a_tables_first_and_last_pages_damaged_lose_only_their_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    fill(dir.path(), 0);
    let all = user_rows(&Connection::open(&path).unwrap());
    let mut bytes = std::fs::read(&path).unwrap();
    let conn = Connection::open(&path).unwrap();
    let size = page_size(&conn);
    let mut lost = BTreeSet::new();
    for table in ["checklist_progress", "forum_draft"] {
        let leaves: Vec<i64> = pages_of(&conn, table)
            .into_iter()
            .filter(|(_, _, kind)| kind == "leaf")
            .map(|(_, n, _)| n)
            .collect();
        for n in [leaves[0], leaves[leaves.len() - 1]] {
            lost.extend(rows_on_leaf(page(&bytes, size, n), n));
            let at = (n as usize - 1) * size;
            bytes[at..at + size].fill(0xA5);
        }
    }
    drop(conn);
    std::fs::write(&path, &bytes).unwrap();

    expect_damaged(dir.path());
    let report = recovery::recover(&path).unwrap();
    let ticks = report
        .tables
        .iter()
        .find(|t| t.table == "checklist_progress")
        .unwrap();
    let ticks_lost = lost.iter().filter(|m| m.starts_with("tick-")).count() as u64;
    assert_eq!(ticks.lost, Some(ticks_lost));
    let core = open_after(dir.path());
    let expected: BTreeSet<String> = all.difference(&lost).cloned().collect();
    assert_eq!(user_rows(&core.conn()), expected);
}

#[test]
fn a_file_cut_in_half_gives_back_the_rows_on_its_first_half() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    fill(dir.path(), 0);
    // Tables laid out one after the other, so the cut falls inside a table, not everywhere.
    Connection::open(&path)
        .unwrap()
        .execute_batch("VACUUM")
        .unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let conn = Connection::open(&path).unwrap();
    let size = page_size(&conn);
    let pages = (bytes.len() / size) as i64;
    let cut = pages / 2;
    // A row survives when its leaf and every page above it are in the first half.
    let mut expected = BTreeSet::new();
    for table in ["report_answer", "checklist_progress", "forum_draft"] {
        let tree = pages_of(&conn, table);
        let by_path: BTreeMap<&str, i64> = tree.iter().map(|(p, n, _)| (p.as_str(), *n)).collect();
        for (p, n, kind) in &tree {
            if kind != "leaf" {
                continue;
            }
            let readable = by_path
                .iter()
                .filter(|(ancestor, _)| p.starts_with(*ancestor))
                .all(|(_, page)| *page <= cut);
            if readable && *n <= cut {
                expected.extend(rows_on_leaf(page(&bytes, size, *n), *n));
            }
        }
    }
    let all = user_rows(&conn);
    drop(conn);
    assert!(
        !expected.is_empty() && expected.len() < all.len(),
        "the cut falls among the person's rows ({} of {})",
        expected.len(),
        all.len()
    );
    let truncated = &bytes[..cut as usize * size];
    std::fs::write(&path, truncated).unwrap();

    expect_damaged(dir.path());
    assert_eq!(std::fs::read(&path).unwrap(), truncated);
    let report = recovery::recover(&path).unwrap();
    assert_eq!(std::fs::read(&report.damaged_file).unwrap(), truncated);
    let marked: u64 = report
        .tables
        .iter()
        .filter(|t| {
            ["report_answer", "checklist_progress", "forum_draft"].contains(&t.table.as_str())
        })
        .map(|t| t.recovered)
        .sum();
    assert_eq!(
        marked as usize,
        expected.len(),
        "the report counts what came back"
    );
    assert!(report.tables.iter().any(|t| t.damaged));

    let core = open_after(dir.path());
    assert_eq!(user_rows(&core.conn()), expected);
}

#[test]
fn a_damaged_search_index_is_rebuilt_without_asking_and_no_row_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    fill(dir.path(), 0);
    let all = user_rows(&Connection::open(&path).unwrap());

    let mut bytes = std::fs::read(&path).unwrap();
    {
        let conn = Connection::open(&path).unwrap();
        let size = page_size(&conn);
        for table in ["search_index_content", "search_index_data"] {
            let leaves: Vec<i64> = pages_of(&conn, table)
                .into_iter()
                .filter(|(_, _, k)| k == "leaf")
                .map(|(_, n, _)| n)
                .collect();
            assert!(!leaves.is_empty(), "{table}");
            for n in [leaves[0], leaves[leaves.len() / 2]] {
                let at = (n as usize - 1) * size;
                bytes[at..at + size].fill(0xA5);
            }
        }
    }
    std::fs::write(&path, &bytes).unwrap();

    let core = open_after(dir.path());
    let report = core.rebuilt_on_open().expect("the rebuild is reported");
    assert_eq!(report.rows_lost, 0);
    assert!(!report.losses_uncounted);
    assert!(
        report.tables.iter().all(|t| !t.damaged),
        "{:?}",
        report.tables
    );
    assert_eq!(
        std::fs::read(&report.damaged_file).unwrap(),
        bytes,
        "the damaged file is kept"
    );
    assert_eq!(user_rows(&core.conn()), all);
    assert_eq!(store::recovery::check(&core.conn()), recovery::Health::Ok);
}

#[test]
fn a_file_that_is_no_database_is_restored_from_its_backup() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    fill(dir.path(), 0);
    let backup = recovery::backup_now(&path).unwrap();
    let at_backup = user_rows(&Connection::open(&path).unwrap());
    // Typed after the backup: gone with the file, as the restore screen says.
    fill(dir.path(), 50_000);
    assert!(user_rows(&Connection::open(&path).unwrap()).len() > at_backup.len());

    let mut bytes = std::fs::read(&path).unwrap();
    bytes[..100].copy_from_slice(&[b'#'; 100]);
    std::fs::write(&path, &bytes).unwrap();

    assert_eq!(expect_damaged(dir.path()), ["*"]);
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    // Recovering reads nothing from it, and keeps it.
    let report = recovery::recover(&path).unwrap();
    assert_eq!(report.rows_recovered, 0);
    assert!(report.losses_uncounted);
    assert_eq!(std::fs::read(&report.damaged_file).unwrap(), bytes);

    let listed = recovery::list_backups(&path).unwrap();
    assert_eq!(listed, vec![backup.clone()]);
    let restored = recovery::restore(&path, &backup.name).unwrap();
    let previous = restored
        .previous_file
        .expect("the recovered file is kept too");
    assert!(previous.contains(".replaced-"), "{previous}");
    assert!(Path::new(&previous).exists());
    assert!(Path::new(&report.damaged_file).exists());

    let core = open_after(dir.path());
    assert_eq!(user_rows(&core.conn()), at_backup);
    // The backup itself stays, for another restore.
    assert_eq!(recovery::list_backups(&path).unwrap().len(), 1);
}

#[test]
fn backups_rotate_keeping_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    fill(dir.path(), 0);
    let mut written = Vec::new();
    for _ in 0..BACKUPS_KEPT + 2 {
        written.push(recovery::backup_now(&path).unwrap().name);
    }
    let listed: Vec<String> = recovery::list_backups(&path)
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    let newest: Vec<String> = written.iter().rev().take(BACKUPS_KEPT).cloned().collect();
    assert_eq!(listed, newest, "newest first, the two oldest removed");
    let files = std::fs::read_dir(recovery::backups::backup_dir(&path))
        .unwrap()
        .count();
    assert_eq!(files, BACKUPS_KEPT, "no partial or stray file left");
    // Within the interval no second automatic backup is written.
    assert_eq!(
        recovery::backup_if_due(&path, recovery::BACKUP_INTERVAL).unwrap(),
        None
    );
    assert!(
        recovery::backup_if_due(&path, std::time::Duration::ZERO)
            .unwrap()
            .is_some()
    );
    // Each backup opens as a whole database with the person's rows.
    let b = recovery::list_backups(&path).unwrap().remove(0);
    let conn = Connection::open(recovery::backups::backup_dir(&path).join(&b.name)).unwrap();
    assert_eq!(
        user_rows(&conn).len(),
        DRAFTS * ANSWERS_PER_DRAFT + TICKS + FORUM_DRAFTS
    );
}

#[test]
fn after_a_malformed_error_nothing_more_is_written_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 0);
    let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
    assert!(core.check_not_damaged().is_ok());
    // What a query on a damaged page returns.
    let malformed = stopover_core::Error::Sqlite(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
        Some("database disk image is malformed".into()),
    ));
    assert_eq!(malformed.code(), ErrorCode::DatabaseDamaged);
    let e = core.damaged(malformed);
    assert_eq!(e.code(), ErrorCode::DatabaseDamaged);
    assert!(
        format!("{:?}", e.params().get("file")).contains(DATABASE_FILE),
        "{e:?}"
    );
    assert_eq!(
        core.check_not_damaged().unwrap_err().code(),
        ErrorCode::DatabaseDamaged
    );
    let before = user_rows(&core.conn());
    let write = core.conn().execute(
        "INSERT INTO forum_draft (key, body, updated_at) VALUES ('late', 'fdraft-late', 'x')",
        [],
    );
    assert!(write.is_err(), "the connection refuses writes");
    assert_eq!(user_rows(&core.conn()), before, "reads still work");
}

/// Figures for BENCHMARKS.md: `cargo test -p stopover-core --test recovery measure -- --ignored
/// --nocapture`. A database of a realistic size: the pack, the rows above and 4,000 forum
/// drafts of 2.5 KB standing in for the cached forum (about 12 MB in all).
#[test]
#[ignore = "a measurement, not a check"]
fn measure_check_backup_and_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    fill(dir.path(), 0);
    {
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        for i in 0..4000 {
            tx.execute(
                "INSERT INTO forum_draft (key, body, updated_at) VALUES (?1, ?2, '2026-12-01T00:00:00Z')",
                [format!("post-{i:05}"), format!("fdraft-9{i:05} {}", "lorem ipsum ".repeat(210))],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let bytes = std::fs::metadata(&path).unwrap().len();
    let conn = Connection::open(&path).unwrap();
    let t = std::time::Instant::now();
    assert_eq!(recovery::check(&conn), recovery::Health::Ok);
    let check_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = std::time::Instant::now();
    conn.execute(
        "INSERT INTO search_index (search_index) VALUES ('integrity-check')",
        [],
    )
    .unwrap();
    let fts_ms = t.elapsed().as_secs_f64() * 1000.0;
    drop(conn);
    let t = std::time::Instant::now();
    let backup = recovery::backup_now(&path).unwrap();
    let backup_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = std::time::Instant::now();
    let report = recovery::recover(&path).unwrap();
    let recover_ms = t.elapsed().as_secs_f64() * 1000.0;
    eprintln!(
        "database {:.1} MB: quick_check {check_ms:.0} ms, search_index integrity-check {fts_ms:.0} ms, \
         backup {backup_ms:.0} ms ({:.1} MB), recovery of {} rows {recover_ms:.0} ms",
        bytes as f64 / 1e6,
        backup.bytes as f64 / 1e6,
        report.rows_recovered
    );
    if let Some(out) = std::env::var_os("STOPOVER_MEASURE_OUT") {
        std::fs::copy(recovery::backups::backup_dir(&path).join(&backup.name), out).unwrap();
    }
}
