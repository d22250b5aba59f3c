//! Record kinds as this device holds them. Each domain declares its kinds beside its tables
//! (`user::checklists::KINDS`, `reports::kinds::KINDS`, `forum::kinds::KINDS`, each a list of
//! [`KindFns`]); the sync engine reaches them only through
//! [`Core::local_kind`](crate::Core::local_kind), so it depends on no domain.

use rusqlite::Connection;
use serde::Serialize;
use serde_json::Value;
use stopover_protocol::RecordKind;

use crate::{Core, Result};

/// A synced field in words, for the person who must act on it (a refusal, a conflict): what
/// it is (`title`, e.g. the report or the event) and where inside it (`detail`, e.g. the
/// section and question), in the app's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Subject {
    pub kind: RecordKind,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub detail: Option<String>,
}

/// How one record kind lives in the local database.
pub trait LocalKind: Sync {
    fn kind(&self) -> RecordKind;

    /// Writes a value that came from the server (a pull, or the server's side of a conflict)
    /// into the local tables. Queues nothing. Returns false (and logs) when the value does not
    /// fit: a malformed id or a value of the wrong type.
    fn write(&self, conn: &Connection, entity_id: &str, field: &str, value: &Value)
    -> Result<bool>;

    /// Puts a field back to what it is when the server never held it: the server refused the
    /// first change to it, so the screen must not go on showing the refused value (the
    /// refusal keeps it, for the person to read). Returns whether anything was written.
    fn revert(&self, conn: &Connection, entity_id: &str, field: &str) -> Result<bool>;

    /// The local value of one field, `None` if the record does not exist here.
    fn read(&self, conn: &Connection, entity_id: &str, field: &str) -> Result<Option<Value>>;

    /// Every field holding local work that differs from its default, as (entity id, field,
    /// value): what the first sign-in queues so work done before it reaches the account.
    fn unsynced(&self, _conn: &Connection) -> Result<Vec<(String, String, Value)>> {
        Ok(Vec::new())
    }

    /// The field in words, in `lang`.
    fn describe(
        &self,
        conn: &Connection,
        entity_id: &str,
        field: &str,
        lang: &str,
    ) -> Result<Subject>;

    /// What this kind does once a sync round has pulled changes (e.g. the forum keeps within
    /// its retention setting). A failure here loses nothing.
    fn after_pull(&self, _core: &Core) -> Result<()> {
        Ok(())
    }
}

/// Local work of one kind to queue at sign-in, as (entity id, field, value).
pub type Unsynced = Vec<(String, String, Value)>;

/// A record kind as its domain's functions: most domains store several kinds through the same
/// functions, which take the kind. This is how every kind is declared.
pub struct KindFns {
    pub kind: RecordKind,
    pub write: fn(&Connection, RecordKind, &str, &str, &Value) -> Result<bool>,
    pub read: fn(&Connection, RecordKind, &str, &str) -> Result<Option<Value>>,
    pub revert: fn(&Connection, RecordKind, &str, &str) -> Result<bool>,
    pub unsynced: fn(&Connection, RecordKind) -> Result<Unsynced>,
    pub describe: fn(&Connection, RecordKind, &str, &str, &str) -> Result<Subject>,
    pub after_pull: fn(&Core) -> Result<()>,
}

/// For kinds with no local work to queue at sign-in (the server's own records).
pub fn nothing_unsynced(_: &Connection, _: RecordKind) -> Result<Vec<(String, String, Value)>> {
    Ok(Vec::new())
}

/// For kinds whose refused value stays as it is (a refused forum post keeps its text for the
/// author to fix; the server's own records are never pushed).
pub fn never_revert(_: &Connection, _: RecordKind, _: &str, _: &str) -> Result<bool> {
    Ok(false)
}

/// For kinds with nothing to do after a pull.
pub fn nothing_after(_: &Core) -> Result<()> {
    Ok(())
}

impl LocalKind for KindFns {
    fn kind(&self) -> RecordKind {
        self.kind
    }

    fn write(
        &self,
        conn: &Connection,
        entity_id: &str,
        field: &str,
        value: &Value,
    ) -> Result<bool> {
        (self.write)(conn, self.kind, entity_id, field, value)
    }

    fn read(&self, conn: &Connection, entity_id: &str, field: &str) -> Result<Option<Value>> {
        (self.read)(conn, self.kind, entity_id, field)
    }

    fn revert(&self, conn: &Connection, entity_id: &str, field: &str) -> Result<bool> {
        (self.revert)(conn, self.kind, entity_id, field)
    }

    fn unsynced(&self, conn: &Connection) -> Result<Vec<(String, String, Value)>> {
        (self.unsynced)(conn, self.kind)
    }

    fn describe(
        &self,
        conn: &Connection,
        entity_id: &str,
        field: &str,
        lang: &str,
    ) -> Result<Subject> {
        (self.describe)(conn, self.kind, entity_id, field, lang)
    }

    fn after_pull(&self, core: &Core) -> Result<()> {
        (self.after_pull)(core)
    }
}

/// Which [`LocalKind`] holds each kind: given to [`Core`] when it opens, so the engine finds
/// the kinds without depending on their domains.
pub type KindRegistry = fn(RecordKind) -> &'static dyn LocalKind;

/// The kind named `name`, or `None` (and a warning) for a kind this version does not know.
pub(crate) fn by_name(core: &Core, name: &str) -> Option<&'static dyn LocalKind> {
    let kind = RecordKind::from_name(name).map(|k| core.local_kind(k));
    if kind.is_none() {
        tracing::warn!(
            kind = name,
            "sync: ignoring a record kind this version does not know"
        );
    }
    kind
}

/// Writes a server value of the kind named `kind`; false when the kind is unknown here.
pub(crate) fn write(
    core: &Core,
    conn: &Connection,
    kind: &str,
    entity_id: &str,
    field: &str,
    value: &Value,
) -> Result<bool> {
    match by_name(core, kind) {
        Some(k) => k.write(conn, entity_id, field, value),
        None => Ok(false),
    }
}

/// Reverts a field of the kind named `kind` to its default ([`LocalKind::revert`]).
pub(crate) fn revert(
    core: &Core,
    conn: &Connection,
    kind: &str,
    entity_id: &str,
    field: &str,
) -> Result<bool> {
    match by_name(core, kind) {
        Some(k) => k.revert(conn, entity_id, field),
        None => Ok(false),
    }
}

/// The rows of `sql` (its first three columns: kind, entity id, field), each built by `build`
/// with its kind and its [`Subject`] in the app's language. Rows of kinds this version does
/// not know are left out. For the lists the Sync page shows.
pub(crate) fn described<T>(
    core: &Core,
    sql: &str,
    build: impl Fn(&rusqlite::Row, RecordKind, Subject) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let lang = core.language()?;
    let conn = core.conn();
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let Some(kind) = RecordKind::from_name(&row.get::<_, String>(0)?) else {
            continue;
        };
        let (entity_id, field): (String, String) = (row.get(1)?, row.get(2)?);
        let subject = describe(core, &conn, kind, &entity_id, &field, &lang)?;
        out.push(build(row, kind, subject)?);
    }
    Ok(out)
}

/// The field in words; an unknown kind is described by its name.
pub(crate) fn describe(
    core: &Core,
    conn: &Connection,
    kind: RecordKind,
    entity_id: &str,
    field: &str,
    lang: &str,
) -> Result<Subject> {
    core.local_kind(kind).describe(conn, entity_id, field, lang)
}
