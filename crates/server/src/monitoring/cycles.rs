//! Reporting cycles and their deadlines, as the Secretariat sets them (console or
//! `ecommunity cycle set`). One cycle is current: the reporting table shows it. A deadline is
//! only ever what the Secretariat entered; without one, nothing is late.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use stopover_protocol::reports::is_cycle;

use crate::db::unix_now;
use crate::error::{Error, Result};
use crate::forum::is_date;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cycle {
    pub cycle: String,
    /// YYYY-MM-DD, the last day reports are on time.
    pub deadline: Option<String>,
    pub current: bool,
}

/// A cycle as people type it (`cop15` is `COP15`), checked.
pub fn normalize(cycle: &str) -> Result<String> {
    let c = cycle.trim().to_ascii_uppercase();
    if is_cycle(&c) {
        Ok(c)
    } else {
        Err(Error::InvalidRequest(format!(
            "`{}` is not a reporting cycle: use letters, digits and `-` only, e.g. COP15",
            cycle.trim()
        )))
    }
}

/// Sets a cycle's deadline (`None` clears it) and, when `make_current`, makes it the current
/// cycle. Returns the cycle as stored.
pub fn set(
    conn: &Connection,
    cycle: &str,
    deadline: Option<&str>,
    make_current: bool,
) -> Result<Cycle> {
    let cycle = normalize(cycle)?;
    if let Some(d) = deadline
        && !is_date(d)
    {
        return Err(Error::InvalidRequest(format!(
            "the deadline `{d}` is not a date like 2027-03-31"
        )));
    }
    if make_current {
        conn.execute(
            "UPDATE reporting_cycle SET is_current = 0 WHERE is_current = 1",
            [],
        )?;
    }
    conn.execute(
        "INSERT INTO reporting_cycle (cycle, deadline, is_current, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (cycle) DO UPDATE SET deadline = excluded.deadline,
             is_current = max(is_current, excluded.is_current), updated_at = excluded.updated_at",
        params![cycle, deadline, make_current, unix_now()],
    )?;
    get(conn, &cycle)?.ok_or_else(|| Error::Corrupt("cycle vanished after insert".into()))
}

pub fn get(conn: &Connection, cycle: &str) -> Result<Option<Cycle>> {
    Ok(conn
        .query_row(
            "SELECT cycle, deadline, is_current FROM reporting_cycle WHERE cycle = ?1",
            [cycle],
            row,
        )
        .optional()?)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Cycle> {
    Ok(Cycle {
        cycle: r.get(0)?,
        deadline: r.get(1)?,
        current: r.get(2)?,
    })
}

/// The current cycle, if the Secretariat named one.
pub fn current(conn: &Connection) -> Result<Option<Cycle>> {
    Ok(conn
        .query_row(
            "SELECT cycle, deadline, is_current FROM reporting_cycle WHERE is_current = 1",
            [],
            row,
        )
        .optional()?)
}

/// Every cycle the Secretariat named, and every cycle a report or self-assessment was
/// started in, current first, then by name.
pub fn known(conn: &Connection) -> Result<Vec<Cycle>> {
    let mut stmt =
        conn.prepare("SELECT cycle, deadline, is_current FROM reporting_cycle ORDER BY cycle")?;
    let mut out: Vec<Cycle> = stmt.query_map([], row)?.collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare(
        "SELECT DISTINCT substr(entity_id, instr(entity_id, '/') + 1) FROM field
         WHERE kind = 'report_answer' AND scope LIKE 'country:%'
         UNION SELECT DISTINCT cycle FROM report_submission",
    )?;
    let seen: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for c in seen {
        if is_cycle(&c) && !out.iter().any(|k| k.cycle == c) {
            out.push(Cycle {
                cycle: c,
                deadline: None,
                current: false,
            });
        }
    }
    out.sort_by(|a, b| b.current.cmp(&a.current).then(a.cycle.cmp(&b.cycle)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_current_cycle_and_checked_deadlines() {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::db::open(dir.path()).unwrap();
        assert_eq!(current(&c).unwrap(), None);
        set(&c, "cop14", Some("2023-06-30"), true).unwrap();
        let cop15 = set(&c, "COP15", Some("2027-03-31"), true).unwrap();
        assert!(cop15.current);
        assert_eq!(current(&c).unwrap().unwrap().cycle, "COP15");
        assert!(!get(&c, "COP14").unwrap().unwrap().current);
        // Changing a deadline keeps the cycle current.
        set(&c, "COP15", None, false).unwrap();
        assert_eq!(
            current(&c).unwrap(),
            Some(Cycle {
                cycle: "COP15".into(),
                deadline: None,
                current: true
            })
        );
        assert!(set(&c, "COP15", Some("2027-02-30"), false).is_err());
        assert!(set(&c, "COP 15", None, false).is_err());
        let names: Vec<_> = known(&c).unwrap().into_iter().map(|k| k.cycle).collect();
        assert_eq!(names, ["COP15", "COP14"]);
    }
}
