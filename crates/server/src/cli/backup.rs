//! `ecommunity backup --to FILE` and `ecommunity restore --from FILE`.

use serde_json::json;

use super::args::{BackupArgs, RestoreArgs};
use super::audit_cli;
use crate::audit::action;
use crate::backup;
use crate::error::Result;

pub fn backup(a: BackupArgs) -> Result<()> {
    let dir = a.data.dir()?;
    let manifest = backup::backup(dir, &a.to)?;
    let bytes: u64 = manifest.entries.iter().map(|e| e.size).sum();
    // Logged in the live database (after the copy: the backup does not contain its own entry).
    let conn = a.data.open()?;
    audit_cli(
        &conn,
        action::BACKUP,
        Some(&a.to.to_string_lossy()),
        json!({"entries": manifest.entries.len(), "bytes": bytes}),
    )?;
    println!(
        "backed up {} ({} entries, {bytes} bytes) to {}",
        dir.display(),
        manifest.entries.len(),
        a.to.display()
    );
    Ok(())
}

pub fn restore(a: RestoreArgs) -> Result<()> {
    let dir = a.data.dir()?;
    let manifest = backup::restore(dir, &a.from)?;
    let conn = a.data.open()?;
    audit_cli(
        &conn,
        action::RESTORE,
        Some(&a.from.to_string_lossy()),
        json!({"entries": manifest.entries.len(), "backup_made_at": manifest.created_at}),
    )?;
    println!(
        "restored {} entries from {} into {} (backup made at {})",
        manifest.entries.len(),
        a.from.display(),
        dir.display(),
        crate::forum::rfc3339(manifest.created_at)
    );
    Ok(())
}
