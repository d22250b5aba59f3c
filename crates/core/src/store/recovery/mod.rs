//! A way back from a damaged database file:
//! - [`check`]: `PRAGMA quick_check` at open and after any "malformed" error, and which
//!   tables the damage touches;
//! - [`salvage`]: every readable row copied into a fresh file (content and search tables are
//!   rebuilt from the pack and the posts instead), the damaged file kept under another name;
//! - [`backups`]: `VACUUM INTO` copies in `backups/`, rotated, and restoring one.

pub mod backups;
pub mod check;
pub mod salvage;

pub use backups::{
    BACKUP_INTERVAL, BACKUPS_KEPT, BackupInfo, RestoreReport, backup_if_due, backup_now,
    list_backups, restore,
};
pub use check::{Health, check, check_file, is_rebuildable};
pub use salvage::{RecoveryReport, TableRecovery, recover};

/// The UTC time now for file names (`20261207T031500Z`): fixed width, so names sort by time.
pub(crate) fn file_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rest = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
