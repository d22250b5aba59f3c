//! "Was this useful? What was missing?" at the foot of each Manual module and checklist:
//! optional, kept on this device, and synced once an account is signed in (record kind
//! `feedback`, account scope, entity `manual/<module>` or `checklist/<checklist>`, fields
//! `useful` — true, false, or null once withdrawn — and `missing`, text). The Secretariat sees
//! the counts by item and what was said to be missing, never who said it.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use stopover_protocol::{FEEDBACK_ITEMS, MAX_TEXT_CHARS, RecordKind};

use crate::sync::kinds::{KindFns, Subject, Unsynced, never_revert, nothing_after};
use crate::sync::outbox;
use crate::{Error, ErrorCode, Result};

/// A person's feedback on one item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Feedback {
    /// `None` until answered.
    pub useful: Option<bool>,
    pub missing: String,
}

/// The entity id of an item's feedback: `manual/<id>` or `checklist/<id>`.
pub fn entity_id(item_kind: &str, item_id: &str) -> String {
    format!("{item_kind}/{item_id}")
}

fn split(entity_id: &str) -> Option<(&str, &str)> {
    entity_id
        .split_once('/')
        .filter(|(kind, id)| FEEDBACK_ITEMS.contains(kind) && !id.is_empty())
}

/// The item must be a Manual module or checklist of the installed content.
fn check_item(conn: &Connection, item_kind: &str, item_id: &str) -> Result<()> {
    let known = FEEDBACK_ITEMS.contains(&item_kind)
        && conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM content_item WHERE kind = ?1 AND id = ?2)",
            params![item_kind, item_id],
            |r| r.get::<_, bool>(0),
        )?;
    if known {
        Ok(())
    } else {
        Err(Error::NotFound(format!("{item_kind} `{item_id}`")))
    }
}

/// The person's feedback on an item (empty when none was given).
pub fn get(conn: &Connection, item_kind: &str, item_id: &str) -> Result<Feedback> {
    Ok(conn
        .query_row(
            "SELECT useful, missing FROM feedback WHERE item_kind = ?1 AND item_id = ?2",
            params![item_kind, item_id],
            |r| {
                Ok(Feedback {
                    useful: r.get(0)?,
                    missing: r.get(1)?,
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

fn write_local(
    conn: &Connection,
    item_kind: &str,
    item_id: &str,
    field: &str,
    value: &Value,
) -> Result<bool> {
    let sql_value: rusqlite::types::Value = match (field, value) {
        ("useful", Value::Bool(b)) => i64::from(*b).into(),
        ("useful", Value::Null) => rusqlite::types::Value::Null,
        ("missing", Value::String(s)) => s.clone().into(),
        _ => return Ok(false),
    };
    conn.execute(
        &format!(
            "INSERT INTO feedback (item_kind, item_id, {field}, updated_at)
             VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             ON CONFLICT (item_kind, item_id) DO UPDATE SET {field} = excluded.{field}, updated_at = excluded.updated_at"
        ),
        params![item_kind, item_id, sql_value],
    )?;
    Ok(true)
}

/// Records (or withdraws, with `None`) whether the item was useful; queued for sync in the
/// same transaction.
pub fn set_useful(
    conn: &mut Connection,
    item_kind: &str,
    item_id: &str,
    useful: Option<bool>,
) -> Result<Feedback> {
    let value = useful.map_or(Value::Null, Value::Bool);
    set(conn, item_kind, item_id, "useful", value)
}

/// Records what was missing from the item; queued for sync in the same transaction.
pub fn set_missing(
    conn: &mut Connection,
    item_kind: &str,
    item_id: &str,
    missing: &str,
) -> Result<Feedback> {
    if missing.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::invalid(
            ErrorCode::TextTooLong,
            format!("what was missing can be at most {MAX_TEXT_CHARS} characters"),
        )
        .with("max", MAX_TEXT_CHARS));
    }
    set(
        conn,
        item_kind,
        item_id,
        "missing",
        Value::String(missing.to_string()),
    )
}

fn set(
    conn: &mut Connection,
    item_kind: &str,
    item_id: &str,
    field: &str,
    value: Value,
) -> Result<Feedback> {
    let tx = conn.transaction()?;
    check_item(&tx, item_kind, item_id)?;
    write_local(&tx, item_kind, item_id, field, &value)?;
    outbox::record_change(
        &tx,
        RecordKind::Feedback,
        &entity_id(item_kind, item_id),
        field,
        &value,
    )?;
    let now = get(&tx, item_kind, item_id)?;
    tx.commit()?;
    Ok(now)
}

/// The record kind on this device: answers given before the first sign-in reach the account
/// then.
pub(crate) static KINDS: &[KindFns] = &[KindFns {
    kind: RecordKind::Feedback,
    write: write_synced,
    read: read_synced,
    revert: never_revert,
    unsynced,
    describe,
    after_pull: nothing_after,
}];

fn write_synced(
    conn: &Connection,
    _: RecordKind,
    entity_id: &str,
    field: &str,
    value: &Value,
) -> Result<bool> {
    let Some((kind, id)) = split(entity_id) else {
        tracing::warn!(entity_id, "sync: ignoring feedback with a malformed id");
        return Ok(false);
    };
    let written = write_local(conn, kind, id, field, value)?;
    if !written {
        tracing::warn!(
            entity_id,
            field,
            "sync: ignoring a feedback value of the wrong type"
        );
    }
    Ok(written)
}

fn read_synced(
    conn: &Connection,
    _: RecordKind,
    entity_id: &str,
    field: &str,
) -> Result<Option<Value>> {
    let Some((kind, id)) = split(entity_id) else {
        return Ok(None);
    };
    let row: Option<(Option<bool>, String)> = conn
        .query_row(
            "SELECT useful, missing FROM feedback WHERE item_kind = ?1 AND item_id = ?2",
            params![kind, id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.and_then(|(useful, missing)| match field {
        "useful" => Some(useful.map_or(Value::Null, Value::Bool)),
        "missing" => Some(Value::String(missing)),
        _ => None,
    }))
}

fn unsynced(conn: &Connection, _: RecordKind) -> Result<Unsynced> {
    let mut stmt = conn.prepare(
        "SELECT item_kind, item_id, useful, missing FROM feedback
         WHERE useful IS NOT NULL OR missing <> '' ORDER BY updated_at, item_kind, item_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<bool>>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, id, useful, missing) = row?;
        let entity = entity_id(&kind, &id);
        if let Some(u) = useful {
            out.push((entity.clone(), "useful".into(), Value::Bool(u)));
        }
        if !missing.is_empty() {
            out.push((entity, "missing".into(), Value::String(missing)));
        }
    }
    Ok(out)
}

/// The module's or checklist's title, in `lang`.
fn describe(
    conn: &Connection,
    _: RecordKind,
    entity_id: &str,
    _field: &str,
    lang: &str,
) -> Result<Subject> {
    let (kind, id) = split(entity_id).unwrap_or(("", entity_id));
    let title = crate::content::title_of(conn, kind, id, lang)?;
    Ok(Subject {
        kind: RecordKind::Feedback,
        title: title.unwrap_or_else(|| id.to_string()),
        detail: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Core;
    use crate::content::PackFiles;
    use crate::sync::kinds::LocalKind;

    #[test]
    fn feedback_is_kept_queued_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let core = Core::open(dir.path(), Ok(PackFiles::embedded())).unwrap();
        let mut conn = core.conn();
        assert_eq!(
            get(&conn, "manual", "meetings").unwrap(),
            Feedback::default()
        );
        let f = set_useful(&mut conn, "manual", "meetings", Some(false)).unwrap();
        assert_eq!(f.useful, Some(false));
        let f = set_missing(
            &mut conn,
            "manual",
            "meetings",
            "Un exemple de lettre de créance",
        )
        .unwrap();
        assert_eq!(
            f,
            Feedback {
                useful: Some(false),
                missing: "Un exemple de lettre de créance".into()
            }
        );
        set_useful(&mut conn, "checklist", "cop-preparation", Some(true)).unwrap();
        assert!(set_useful(&mut conn, "manual", "no-such-module", Some(true)).is_err());
        assert!(set_useful(&mut conn, "library", "x", Some(true)).is_err());
        let too_long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            set_missing(&mut conn, "manual", "meetings", &too_long)
                .unwrap_err()
                .code(),
            ErrorCode::TextTooLong
        );
        // What the first sign-in would queue, and what the kind reads back.
        let pending = KINDS[0].unsynced(&conn).unwrap();
        assert_eq!(pending.len(), 3, "{pending:?}");
        assert_eq!(
            KINDS[0].read(&conn, "manual/meetings", "useful").unwrap(),
            Some(Value::Bool(false))
        );
        // A value from the server; withdrawing is null.
        assert!(
            KINDS[0]
                .write(&conn, "manual/meetings", "useful", &Value::Null)
                .unwrap()
        );
        assert_eq!(get(&conn, "manual", "meetings").unwrap().useful, None);
        assert!(
            !KINDS[0]
                .write(&conn, "bad", "useful", &Value::Bool(true))
                .unwrap()
        );
        let s = KINDS[0]
            .describe(&conn, "checklist/cop-preparation", "useful", "fr")
            .unwrap();
        assert_eq!(s.title, "Préparer une COP");
    }
}
