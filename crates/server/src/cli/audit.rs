//! `ecommunity audit list`: the admin actions, newest first.

use super::args::AuditList;
use crate::audit;
use crate::error::Result;

pub fn list(a: AuditList) -> Result<()> {
    let rows = audit::list(
        &a.data.open()?,
        a.limit,
        a.actor.as_deref(),
        a.target.as_deref(),
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<20} {:<24} {:<24} {:<24} {:<16} detail",
        "when (UTC)", "actor", "action", "target", "from"
    );
    for r in rows {
        println!(
            "{:<20} {:<24} {:<24} {:<24} {:<16} {}",
            crate::forum::rfc3339(r.at),
            r.actor,
            r.action,
            r.target.as_deref().unwrap_or("-"),
            r.source,
            r.detail
        );
    }
    Ok(())
}
