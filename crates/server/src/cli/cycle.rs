//! `ecommunity cycle set CYCLE [--deadline DATE] [--not-current]`, `cycle list [--json]`: the
//! reporting cycles the console's reporting table follows, with the deadlines the Secretariat
//! sets (never guessed).

use serde_json::json;

use super::args::{CycleSet, JsonList};
use crate::error::{Error, Result};
use crate::monitoring::cycles;

pub fn set(a: CycleSet) -> Result<()> {
    let mut conn = a.data.open()?;
    let tx = conn.transaction()?;
    let cycle =
        cycles::set(&tx, &a.cycle, a.deadline.as_deref(), !a.not_current).map_err(|e| match e {
            Error::InvalidRequest(m) => Error::Usage(m),
            e => e,
        })?;
    super::audit_cli(
        &tx,
        crate::audit::action::CYCLE_SET,
        Some(&cycle.cycle),
        json!({"deadline": cycle.deadline, "current": cycle.current}),
    )?;
    tx.commit()?;
    println!(
        "cycle {}: deadline {}{}",
        cycle.cycle,
        cycle.deadline.as_deref().unwrap_or("none"),
        if cycle.current { " (current)" } else { "" }
    );
    Ok(())
}

pub fn list(l: JsonList) -> Result<()> {
    let known = cycles::known(&l.data.open()?)?;
    if l.json {
        println!("{}", serde_json::to_string_pretty(&known)?);
        return Ok(());
    }
    for c in known {
        println!(
            "{}\t{}\t{}",
            c.cycle,
            c.deadline.as_deref().unwrap_or("-"),
            if c.current { "current" } else { "" }
        );
    }
    Ok(())
}
