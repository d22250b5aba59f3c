//! The audit log: one row per admin action — who did what to whom, when, and from where —
//! written in the same transaction as the action itself, so a logged action happened and an
//! action that happened is logged. The admin API and the CLI both write it; `ecommunity audit
//! list` reads it (and so will the console).

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::Value;

use crate::db::unix_now;
use crate::error::Result;

/// Stable action names (the console and scripts switch on them).
pub mod action {
    pub const ACCOUNT_ADD: &str = "account.add";
    pub const ACCOUNT_APPROVE: &str = "account.approve";
    pub const ACCOUNT_REVOKE: &str = "account.revoke";
    pub const ACCOUNT_CORRECT: &str = "account.correct";
    pub const ACCOUNT_RESET_PASSWORD: &str = "account.reset_password";
    pub const DEVICE_REVOKE: &str = "device.revoke";
    pub const PACK_PUBLISH: &str = "pack.publish";
    pub const FORUM_CATEGORY_ADD: &str = "forum.category_add";
    pub const FORUM_HIDE: &str = "forum.hide";
    pub const FORUM_UNHIDE: &str = "forum.unhide";
    pub const FORUM_LOCK: &str = "forum.lock";
    pub const FORUM_UNLOCK: &str = "forum.unlock";
    pub const EVENT_ADD: &str = "event.add";
    pub const ACCOUNT_REFUSE: &str = "account.refuse";
    pub const EVENT_EDIT: &str = "event.edit";
    pub const CYCLE_SET: &str = "cycle.set";
    pub const CONSOLE_SIGN_IN: &str = "console.sign_in";
    pub const CONSOLE_SIGN_OUT: &str = "console.sign_out";
    pub const BACKUP: &str = "backup";
    pub const RESTORE: &str = "restore";
    pub const BUNDLE_IMPORT: &str = "bundle.import";
    /// A device's sync file applied over HTTP (`POST /v1/sync/file`, a relay's forward).
    pub const SYNC_FILE: &str = "sync.file";
}

/// `source` of an action taken with the admin CLI on the server's machine.
pub const LOCAL: &str = "local";

/// Longest text kept in any column of the log (actor, target, source).
const MAX_TEXT: usize = 200;

/// Who acts when the admin CLI runs: the system user who ran it.
pub fn cli_actor() -> String {
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{}", clip(&user))
}

fn clip(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect()
}

/// One action to log.
pub struct Entry<'a> {
    pub actor: &'a str,
    pub action: &'static str,
    pub target: Option<&'a str>,
    /// What changed, as JSON (never a password or a token).
    pub detail: Value,
    /// The client address (admin API) or [`LOCAL`] (CLI).
    pub source: &'a str,
}

pub fn record(conn: &Connection, e: &Entry<'_>) -> Result<()> {
    conn.execute(
        "INSERT INTO audit (at, actor, action, target, detail, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            unix_now(),
            clip(e.actor),
            e.action,
            e.target.map(clip),
            e.detail.to_string(),
            clip(e.source)
        ],
    )?;
    Ok(())
}

/// A logged action as `audit list` prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRow {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Value,
    pub source: String,
}

/// The newest `limit` actions, newest first; only those of `actor` or on `target` when given.
pub fn list(
    conn: &Connection,
    limit: u32,
    actor: Option<&str>,
    target: Option<&str>,
) -> Result<Vec<AuditRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, actor, action, target, detail, source FROM audit
         WHERE (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR target = ?3)
         ORDER BY at DESC, id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map(params![limit, actor, target], |r| {
        let detail: String = r.get(5)?;
        Ok(AuditRow {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            target: r.get(4)?,
            detail: serde_json::from_str(&detail).unwrap_or(Value::String(detail)),
            source: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_and_lists_newest_first_with_filters() {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::db::open(dir.path()).unwrap();
        for (actor, target) in [("sec", "amina"), ("root", "baraka"), ("sec", "baraka")] {
            record(
                &c,
                &Entry {
                    actor,
                    action: action::ACCOUNT_APPROVE,
                    target: Some(target),
                    detail: json!({"status": "approved"}),
                    source: "192.0.2.1",
                },
            )
            .unwrap();
        }
        let all = list(&c, 10, None, None).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].target.as_deref(), Some("baraka"));
        assert_eq!(all[0].actor, "sec");
        assert_eq!(all[0].detail, json!({"status": "approved"}));
        assert_eq!(list(&c, 10, Some("sec"), None).unwrap().len(), 2);
        assert_eq!(list(&c, 10, None, Some("baraka")).unwrap().len(), 2);
        assert_eq!(list(&c, 1, None, None).unwrap().len(), 1);
        // Control characters never reach the log (no forged lines in a terminal).
        record(
            &c,
            &Entry {
                actor: "evil\nname",
                action: action::BACKUP,
                target: None,
                detail: json!({}),
                source: LOCAL,
            },
        )
        .unwrap();
        assert_eq!(list(&c, 1, None, None).unwrap()[0].actor, "evilname");
        assert!(cli_actor().starts_with("cli:"));
    }
}
