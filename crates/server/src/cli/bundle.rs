//! `ecommunity bundle import FILE --reply OUT`

use std::io::Write;

use super::args::BundleImport;
use crate::error::{Error, Result};

pub fn import(a: BundleImport) -> Result<()> {
    let bytes = std::fs::read(&a.file).map_err(|e| {
        Error::Usage(format!(
            "cannot read the sync file {}: {e}",
            a.file.display()
        ))
    })?;
    // Refuse before applying: the reply must have somewhere to go, or the person never gets
    // the acknowledgements (the push itself would be harmless to repeat, but say it first).
    if a.reply.exists() {
        return Err(Error::Usage(format!(
            "{} exists already; choose another --reply file",
            a.reply.display()
        )));
    }
    let mut conn = a.data.open()?;
    let (reply, summary) = crate::sync::file::import(&mut conn, &bytes)?;
    // Written beside, then renamed: a half-written reply never carries the final name.
    let partial = a.reply.with_extension("partial");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&partial)?;
        f.write_all(&reply)?;
        f.sync_all()?;
        std::fs::rename(&partial, &a.reply)
    };
    write().map_err(|e| {
        Error::Usage(format!(
            "the changes were applied, but the reply could not be written to {}: {e}; import the same file again to get it (nothing is applied twice)",
            a.reply.display()
        ))
    })?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).map_err(|e| Error::Corrupt(e.to_string()))?
        );
    } else {
        println!(
            "{} ({}): {} operations: {} applied, {} already applied, {} conflicts, {} refused; {} changes in the reply{}; reply written to {}",
            summary.username,
            summary.device_id,
            summary.operations,
            summary.applied,
            summary.duplicates,
            summary.conflicts,
            summary.rejected,
            summary.changes_in_reply,
            if summary.more {
                " (more wait: sync again)"
            } else {
                ""
            },
            a.reply.display()
        );
    }
    Ok(())
}
