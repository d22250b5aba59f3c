//! Housekeeping: pending accounts nobody approved within `--pending-days` are deleted, and
//! unfinished uploads that received nothing within `--upload-expiry-hours` are discarded with
//! their partial files; once a day the reporting counts of the current cycle are recorded (the
//! console's progress chart). It runs every few minutes, and also right where it matters: before an
//! account request counts the pending ones, and before an upload counts its account's.

use std::time::Duration;

use crate::accounts::store as accounts;
use crate::attachments::store as uploads;
use crate::db::unix_now;
use crate::error::Result;
use crate::state::AppState;

/// How often the housekeeping runs in the background.
const EVERY: Duration = Duration::from_secs(300);

pub async fn run(state: AppState) {
    loop {
        let swept = async {
            let accounts = expire_pending_accounts(&state).await?;
            let uploads = expire_uploads(&state, None).await?;
            // The day's reporting counts, for the console's progress chart.
            let dir = state.db.dir().to_path_buf();
            state
                .db
                .write(move |c| crate::monitoring::reporting::snapshot_if_due(c, &dir))
                .await?;
            Ok::<_, crate::Error>((accounts, uploads))
        };
        match swept.await {
            Ok((0, 0)) => {}
            Ok((accounts, uploads)) => {
                tracing::info!(
                    accounts,
                    uploads,
                    "expired pending accounts and abandoned uploads"
                )
            }
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; it runs again later"),
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// Deletes pending accounts older than `--pending-days`; returns how many.
pub async fn expire_pending_accounts(state: &AppState) -> Result<usize> {
    let cutoff = unix_now() - (state.config.pending_days * 86_400.0) as i64;
    let expired = state
        .db
        .write(move |c| accounts::expire_pending(c, cutoff))
        .await?;
    for name in &expired {
        tracing::info!(username = %name, "pending account expired");
    }
    Ok(expired.len())
}

/// Discards unfinished uploads (of one account, or all) untouched for `--upload-expiry-hours`,
/// partial files included; returns how many.
pub async fn expire_uploads(state: &AppState, account: Option<i64>) -> Result<usize> {
    let cutoff = unix_now() - state.config.upload_expiry.as_secs() as i64;
    let ids = state
        .db
        .write(move |c| uploads::expire_unfinished(c, cutoff, account))
        .await?;
    let files: Vec<_> = ids
        .iter()
        .map(|id| state.storage.partial_path(id))
        .collect();
    tokio::task::spawn_blocking(move || {
        for f in files {
            if let Err(e) = uploads::remove_if_exists(&f) {
                tracing::warn!(file = %f.display(), error = %e, "could not remove an expired upload");
            }
        }
    })
    .await?;
    Ok(ids.len())
}
