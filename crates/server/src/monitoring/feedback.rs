//! "Was this useful? What was missing?" on each Manual module and checklist: a person's answer
//! is a `feedback` record of their own account (synced like checklist ticks); the Secretariat
//! sees the counts by item and what people said was missing, never who said it.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde_json::Value;
use stopover_protocol::RecordKind;

use crate::error::Result;
use crate::records::KindRules;

/// The record kind's rules: nothing beyond the shape and version checks.
pub(crate) static KINDS: &[KindRules] = &[KindRules::plain(RecordKind::Feedback)];

/// What was said of one item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFeedback {
    pub useful: u32,
    pub not_useful: u32,
    /// What people said was missing (non-empty), oldest first, without names.
    pub missing: Vec<String>,
}

/// Feedback by entity (`manual/<id>`, `checklist/<id>`).
pub fn by_item(conn: &Connection) -> Result<BTreeMap<String, ItemFeedback>> {
    let mut stmt = conn.prepare(
        "SELECT entity_id, field, value FROM field WHERE kind = ?1 AND scope LIKE 'account:%'
         ORDER BY entity_id, scope",
    )?;
    let rows = stmt.query_map([RecordKind::Feedback.name()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out: BTreeMap<String, ItemFeedback> = BTreeMap::new();
    for row in rows {
        let (entity, field, json) = row?;
        let value: Value = serde_json::from_str(&json)?;
        let item = out.entry(entity).or_default();
        match (field.as_str(), value) {
            ("useful", Value::Bool(true)) => item.useful += 1,
            ("useful", Value::Bool(false)) => item.not_useful += 1,
            ("missing", Value::String(s)) if !s.trim().is_empty() => {
                item.missing.push(s.trim().to_string())
            }
            _ => {}
        }
    }
    out.retain(|_, f| f.useful + f.not_useful > 0 || !f.missing.is_empty());
    Ok(out)
}
