//! Copying what can still be read out of a damaged file into a fresh one, table by table and
//! row by row, stepping over unreadable pages. The damaged file is kept under another name.
//!
//! SQLite's own recovery extension (`sqlite3_recover`, the shell's `.recover`) is not part of
//! the amalgamation that rusqlite bundles (rusqlite issue #1333), so this reads through
//! ordinary queries: a forward scan in key order, and past a damaged page a seek beyond it
//! (rowid tables) or past the rest of its group and a scan back from the end (keyed tables).

use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, params_from_iter};
use serde::Serialize;

use super::check::is_rebuildable;
use super::file_stamp;
use crate::Result;

/// What one table gave back.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TableRecovery {
    pub table: String,
    pub recovered: u64,
    /// Rows that could not be read, when the file still says how many there were (an intact
    /// index counts them); `None` when part of the table was unreadable and nothing counts it.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub lost: Option<u64>,
    /// True when some of the table's pages could not be read.
    pub damaged: bool,
}

/// The outcome of a recovery, shown on screen.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RecoveryReport {
    /// Where the damaged file now is: kept, never deleted.
    pub damaged_file: String,
    /// The person's tables (content and search come back from the pack and are not listed).
    pub tables: Vec<TableRecovery>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub rows_recovered: u64,
    /// Rows counted as lost (see [`TableRecovery::lost`]).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub rows_lost: u64,
    /// True when some table lost rows nobody could count.
    pub losses_uncounted: bool,
    /// Tables rebuilt from the content pack and the cached posts instead of copied.
    pub rebuilt: Vec<String>,
}

/// Copies every readable row of the database at `db_path` into a fresh file that takes its
/// place; the damaged file (with its `-wal`) is renamed `<name>.damaged-<UTC time>`.
/// Content and search tables are not copied: the next open imports the pack again, and the
/// forum's search index is rebuilt here from the posts.
pub fn recover(db_path: &Path) -> Result<RecoveryReport> {
    let fresh_path = sibling(db_path, ".recovering");
    remove_with_journal(&fresh_path);
    let mut fresh = crate::store::open(&fresh_path)?;
    // Rows whose parent row was on a lost page still belong to the person: keep them.
    fresh.pragma_update(None, "foreign_keys", "OFF")?;

    let mut tables = Vec::new();
    let rebuilt;
    {
        let src = Connection::open_with_flags(
            db_path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // A file shorter than its header says is refused as a whole unless the schema is
        // "writable"; the connection stays read-only, this only lets the first half be read.
        let _ = src.pragma_update(None, "writable_schema", "ON");
        let tx = fresh.transaction()?;
        let (user, rebuildable) = table_names(&tx)?;
        rebuilt = rebuildable;
        for table in &user {
            let outcome = copy_table(&src, &tx, table);
            tracing::info!(table, recovered = outcome.recovered, lost = ?outcome.lost, damaged = outcome.damaged, "recovery: table copied");
            tables.push(outcome);
        }
        // The pack facts go, so the next open imports the pack into the empty content tables.
        tx.execute(
            "DELETE FROM meta WHERE key IN ('pack_version', 'pack_hash')",
            [],
        )?;
        let posts: Vec<i64> = tx
            .prepare("SELECT n FROM forum_post")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for n in posts {
            crate::forum::search::reindex_post(&tx, n)?;
        }
        tx.commit()?;
    }
    fresh.pragma_update(None, "foreign_keys", "ON")?;
    fresh.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
    drop(fresh);

    let kept = set_aside(db_path, "damaged")?;
    std::fs::rename(&fresh_path, db_path).map_err(|source| crate::Error::DataDir {
        path: db_path.to_path_buf(),
        source,
    })?;
    remove_with_journal(&fresh_path);

    let rows_recovered = tables.iter().map(|t| t.recovered).sum();
    let rows_lost = tables.iter().filter_map(|t| t.lost).sum();
    let losses_uncounted = tables.iter().any(|t| t.damaged && t.lost.is_none());
    let report = RecoveryReport {
        damaged_file: kept.display().to_string(),
        tables,
        rows_recovered,
        rows_lost,
        losses_uncounted,
        rebuilt,
    };
    tracing::warn!(damaged_file = %report.damaged_file, rows_recovered, rows_lost, losses_uncounted, "database recovered into a fresh file");
    Ok(report)
}

/// `<db_path><suffix>`, e.g. `stopover.sqlite3.recovering`.
pub(super) fn sibling(db_path: &Path, suffix: &str) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Renames the database and its journal files to `<name>.<why>-<UTC time>`, never over an
/// existing file. Returns the new name of the database file.
pub(super) fn set_aside(db_path: &Path, why: &str) -> Result<PathBuf> {
    let stamp = file_stamp();
    let mut target = sibling(db_path, &format!(".{why}-{stamp}"));
    let mut n = 2;
    while target.exists() {
        target = sibling(db_path, &format!(".{why}-{stamp}-{n}"));
        n += 1;
    }
    let io = |source| crate::Error::DataDir {
        path: db_path.to_path_buf(),
        source,
    };
    for journal in ["-wal", "-shm"] {
        let from = sibling(db_path, journal);
        if from.exists() {
            std::fs::rename(&from, sibling(&target, journal)).map_err(io)?;
        }
    }
    if db_path.exists() {
        std::fs::rename(db_path, &target).map_err(io)?;
    }
    Ok(target)
}

fn remove_with_journal(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(path, suffix));
    }
}

/// The fresh file's tables: (the person's, the rebuildable ones).
fn table_names(conn: &Connection) -> Result<(Vec<String>, Vec<String>)> {
    let all: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let (rebuildable, user): (Vec<String>, Vec<String>) =
        all.into_iter().partition(|t| is_rebuildable(t));
    // Only the index names themselves, not their shadow tables.
    let rebuilt = rebuildable
        .into_iter()
        .filter(|t| {
            !t.contains('_')
                || !super::check::SEARCH_TABLES
                    .iter()
                    .any(|s| t.starts_with(&format!("{s}_")))
        })
        .collect();
    Ok((user, rebuilt))
}

struct Shape {
    columns: Vec<String>,
    /// The primary key's columns, for a table without rowid.
    key: Option<Vec<String>>,
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The columns both files have, and how the table is ordered.
fn shape(src: &Connection, dst: &Connection, table: &str) -> rusqlite::Result<Shape> {
    let info = |conn: &Connection| -> rusqlite::Result<Vec<(String, String, i64)>> {
        conn.prepare(&format!("PRAGMA table_info({})", quote(table)))?
            .query_map([], |r| Ok((r.get(1)?, r.get(2)?, r.get(5)?)))?
            .collect()
    };
    let wanted = info(dst)?;
    let found: Vec<String> = info(src)?.into_iter().map(|(name, _, _)| name).collect();
    if found.is_empty() {
        return Err(rusqlite::Error::QueryReturnedNoRows);
    }
    let without_rowid: bool = dst.query_row(
        "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_schema WHERE name = ?1",
        [table],
        |r| r.get(0),
    )?;
    let mut key: Vec<(i64, String)> = wanted
        .iter()
        .filter(|(_, _, pk)| *pk > 0)
        .map(|(name, _, pk)| (*pk, name.clone()))
        .collect();
    key.sort();
    // An INTEGER PRIMARY KEY is the rowid itself: copied as a column, not twice.
    let rowid_alias = !without_rowid
        && key.len() == 1
        && wanted.iter().any(|(name, ty, pk)| {
            *pk > 0 && name == &key[0].1 && ty.eq_ignore_ascii_case("INTEGER")
        });
    let mut columns: Vec<String> = wanted
        .into_iter()
        .map(|(name, _, _)| name)
        .filter(|name| found.contains(name))
        .collect();
    if !without_rowid && !rowid_alias {
        columns.insert(0, "rowid".into());
    }
    Ok(Shape {
        columns,
        key: without_rowid.then(|| key.into_iter().map(|(_, name)| name).collect()),
    })
}

/// True when the file's schema can be read and has no table `table`.
fn absent(src: &Connection, table: &str) -> bool {
    src.query_row(
        "SELECT count(*) = 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get::<_, bool>(0),
    )
    .unwrap_or(false)
}

/// Rows read until the end or the first unreadable page.
struct Scan {
    rows: Vec<Vec<Value>>,
    failed: bool,
}

fn scan(src: &Connection, sql: &str, params: &[Value]) -> Scan {
    let mut rows = Vec::new();
    let result = (|| -> rusqlite::Result<()> {
        let mut stmt = src.prepare(sql)?;
        let width = stmt.column_count();
        let mut cursor = stmt.query(params_from_iter(params))?;
        while let Some(row) = cursor.next()? {
            rows.push(
                (0..width)
                    .map(|i| row.get::<_, Value>(i))
                    .collect::<rusqlite::Result<_>>()?,
            );
        }
        Ok(())
    })();
    if let Err(e) = &result {
        tracing::debug!(error = %e, sql, "recovery: scan stopped");
    }
    Scan {
        rows,
        failed: result.is_err(),
    }
}

fn copy_table(src: &Connection, dst: &Connection, table: &str) -> TableRecovery {
    let mut outcome = TableRecovery {
        table: table.to_string(),
        recovered: 0,
        lost: None,
        damaged: true,
    };
    let shape = match shape(src, dst, table) {
        Ok(shape) => shape,
        // A table the damaged file never had (it came with a newer schema): nothing to lose.
        Err(_) if absent(src, table) => {
            outcome.lost = Some(0);
            outcome.damaged = false;
            return outcome;
        }
        // The table's definition itself is unreadable (or the file is not a database).
        Err(e) => {
            tracing::warn!(table, error = %e, "recovery: table unreadable");
            return outcome;
        }
    };
    let list = shape
        .columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = format!(
        "INSERT OR REPLACE INTO {} ({list}) VALUES ({})",
        quote(table),
        vec!["?"; shape.columns.len()].join(", ")
    );
    let mut copied = std::collections::BTreeSet::new();
    let mut damaged = false;
    let mut put = |rows: Vec<Vec<Value>>, key_of: &dyn Fn(&[Value]) -> Vec<Value>| {
        for row in rows {
            let key = key_of(&row);
            match dst.execute(&insert, params_from_iter(row.iter())) {
                Ok(_) => {
                    copied.insert(format!("{key:?}"));
                }
                Err(e) => {
                    tracing::warn!(table, error = %e, "recovery: a row read back could not be written")
                }
            }
        }
    };
    match &shape.key {
        None => {
            let rowid_at = 0; // rowid (or its alias) is the first column when present
            let has_rowid_first = shape.columns.first().is_some_and(|c| c == "rowid");
            let select = if has_rowid_first {
                format!(
                    "SELECT {list} FROM {} WHERE rowid > ?1 ORDER BY rowid",
                    quote(table)
                )
            } else {
                format!(
                    "SELECT rowid, {list} FROM {} WHERE rowid > ?1 ORDER BY rowid",
                    quote(table)
                )
            };
            let strip = !has_rowid_first;
            let mut after = i64::MIN;
            loop {
                let found = scan(src, &select, &[Value::Integer(after)]);
                if let Some(last) = found.rows.last().and_then(|r| match r[rowid_at] {
                    Value::Integer(i) => Some(i),
                    _ => None,
                }) {
                    after = last;
                }
                let rows = found
                    .rows
                    .into_iter()
                    .map(|mut r| {
                        if strip {
                            r.remove(0);
                        }
                        r
                    })
                    .collect();
                put(rows, &|r| r.to_vec());
                if !found.failed {
                    break;
                }
                damaged = true;
                // `next`: the first readable rowid past the damage, or past the last row.
                let (next, more) = match next_readable_rowid(src, table, after) {
                    Seek::Found(next) => (next, true),
                    Seek::End(at) => (at, false),
                    Seek::Nothing => break,
                };
                // The seek may have landed past readable rows: read back from there down to
                // the damage.
                let back = scan(
                    src,
                    &format!(
                        "SELECT rowid, {list} FROM {} WHERE rowid < ?1 AND rowid > ?2 ORDER BY rowid DESC",
                        quote(table)
                    ),
                    &[Value::Integer(next), Value::Integer(after)],
                );
                put(
                    back.rows
                        .into_iter()
                        .map(|mut r| {
                            r.remove(0);
                            r
                        })
                        .collect(),
                    &|r| r.to_vec(),
                );
                if !more {
                    break;
                }
                after = next - 1;
            }
        }
        Some(key) => {
            let key_at: Vec<usize> = key
                .iter()
                .filter_map(|k| shape.columns.iter().position(|c| c == k))
                .collect();
            let key_of = |r: &[Value]| key_at.iter().map(|i| r[*i].clone()).collect::<Vec<_>>();
            let keys = key.iter().map(|k| quote(k)).collect::<Vec<_>>();
            let tuple = format!("({})", keys.join(", "));
            let marks = format!("({})", vec!["?"; keys.len()].join(", "));
            let asc = keys.join(", ");
            let desc = keys
                .iter()
                .map(|k| format!("{k} DESC"))
                .collect::<Vec<_>>()
                .join(", ");
            let from = quote(table);
            let mut last: Option<Vec<Value>> = None;
            let mut skipped_group: Option<Value> = None;
            let mut found = scan(
                src,
                &format!("SELECT {list} FROM {from} ORDER BY {asc}"),
                &[],
            );
            loop {
                if let Some(r) = found.rows.last() {
                    last = Some(key_of(r));
                }
                put(std::mem::take(&mut found.rows), &key_of);
                if !found.failed {
                    break;
                }
                damaged = true;
                // Past a damaged page: the next group of the first key column (e.g. the next
                // report's answers), once per group.
                let Some(k) = last.as_ref().filter(|k| k.len() > 1) else {
                    break;
                };
                if skipped_group.as_ref() == Some(&k[0]) {
                    break;
                }
                skipped_group = Some(k[0].clone());
                found = scan(
                    src,
                    &format!(
                        "SELECT {list} FROM {from} WHERE {} > ?1 ORDER BY {asc}",
                        keys[0]
                    ),
                    &[k[0].clone()],
                );
            }
            if damaged {
                // And from the end backwards, down to the last row read forwards.
                let back = match &last {
                    Some(k) => scan(
                        src,
                        &format!(
                            "SELECT {list} FROM {from} WHERE {tuple} > {marks} ORDER BY {desc}"
                        ),
                        k,
                    ),
                    None => scan(
                        src,
                        &format!("SELECT {list} FROM {from} ORDER BY {desc}"),
                        &[],
                    ),
                };
                put(back.rows, &key_of);
            }
        }
    }
    outcome.recovered = copied.len() as u64;
    outcome.damaged = damaged;
    // count(*) reads the smallest b-tree holding every row: an intact index still knows how
    // many rows there were when the table's own pages are gone.
    let counted: Option<u64> = src
        .query_row(&format!("SELECT count(*) FROM {}", quote(table)), [], |r| {
            r.get::<_, i64>(0)
        })
        .ok()
        .map(|n| n.max(0) as u64);
    outcome.lost = match counted {
        Some(n) => Some(n.saturating_sub(outcome.recovered)),
        None if !damaged => Some(0),
        None => None,
    };
    if outcome.lost.is_some_and(|n| n > 0) {
        outcome.damaged = true;
    }
    outcome
}

enum Seek {
    /// A readable row at this rowid.
    Found(i64),
    /// No row at or after this rowid (the rows before it may still be read backwards).
    End(i64),
    /// No seek got past the damage.
    Nothing,
}

/// The first rowid after `after` whose page can be read: seeks further and further ahead
/// (1, 2, ... 16 rows, then 16 more at a time, then doubling) until a seek lands on a
/// readable page.
fn next_readable_rowid(src: &Connection, table: &str, after: i64) -> Seek {
    let sql = format!(
        "SELECT rowid FROM {} WHERE rowid >= ?1 ORDER BY rowid LIMIT 1",
        quote(table)
    );
    // Before any row was read, `after` is the lowest rowid there is: this app's rowids start
    // at 1, so the seeks start there rather than a quintillion below.
    let after = after.max(0);
    let mut step: i64 = 1;
    while let Some(at) = after.checked_add(step) {
        match src.query_row(&sql, [at], |r| r.get::<_, i64>(0)) {
            Ok(next) => return Seek::Found(next),
            Err(rusqlite::Error::QueryReturnedNoRows) => return Seek::End(at),
            Err(_) => {}
        }
        step = match step {
            ..16 => step + 1,
            // rows of a page or two at a time for a while, then faster over a long gap
            16..16_384 => step + 16,
            _ => match step.checked_mul(2) {
                Some(step) => step,
                None => return Seek::Nothing,
            },
        };
    }
    Seek::Nothing
}
