//! Training events, cached for offline use, and this account's registrations: registering
//! offline queues the registration (record kind `event_registration`, account scope); the
//! server accepts it or refuses it with a reason (closed, full) that the event then shows.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;
use stopover_protocol::RecordKind;
use stopover_protocol::forum::EventInfo;

use super::read::localized;
use super::sync::write_registration;
use crate::ErrorCode;
use crate::store::NOW;
use crate::sync::RefusalView;
use crate::sync::outbox;
use crate::{Core, Error, Result, check_language};

const KIND: RecordKind = RecordKind::EventRegistration;
const FIELD: &str = "registered";

/// Where this account stands with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    None,
    /// Registered here, waiting to be sent.
    Waiting,
    /// The server has the registration.
    Registered,
    /// Cancelled here, waiting to be sent.
    CancelWaiting,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventView {
    pub id: String,
    /// In the reader's language, English when there is no translation.
    pub title: String,
    pub starts_on: String,
    pub ends_on: String,
    pub location: String,
    pub region: Option<String>,
    pub instrument: Option<String>,
    pub registration_closes_on: String,
    /// Whether registration is still open today by the server's calendar (UTC, as the
    /// server decides), whatever the laptop's clock says.
    pub registration_open: bool,
    pub capacity: Option<u32>,
    pub registration: Registration,
    /// Why the server refused the last registration (e.g. the event is full), until the
    /// reader tries again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub refusal: Option<RefusalView>,
}

/// Today by the server's clock (see [`crate::clock`]), `YYYY-MM-DD` in UTC like the server.
fn server_today(core: &Core, conn: &Connection) -> Result<String> {
    Ok(conn.query_row(
        "SELECT date(?1, 'unixepoch')",
        [core.server_clock().now_unix()],
        |r| r.get(0),
    )?)
}

fn view(
    conn: &Connection,
    id: String,
    info: EventInfo,
    lang: &str,
    today: &str,
) -> Result<EventView> {
    let queued: Option<String> = conn
        .query_row(
            "SELECT value_json FROM outbox WHERE kind = ?1 AND entity_id = ?2 AND field = ?3
             ORDER BY seq DESC LIMIT 1",
            params![KIND.name(), id, FIELD],
            |r| r.get(0),
        )
        .optional()?;
    let on_server = outbox::known_value(conn, outbox::FieldRef::new(KIND.name(), &id, FIELD))?;
    let registration = match queued.as_deref() {
        Some("true") => Registration::Waiting,
        Some(_) => Registration::CancelWaiting,
        None if on_server == Some(Value::Bool(true)) => Registration::Registered,
        None => Registration::None,
    };
    let refusal = if registration == Registration::None {
        conn.query_row(
            "SELECT code, params_json FROM sync_rejected WHERE kind = ?1 AND entity_id = ?2 AND field = ?3
               AND dismissed_at IS NULL
             ORDER BY created_at DESC, op_id DESC LIMIT 1",
            params![KIND.name(), id, FIELD],
            |r| {
                Ok(RefusalView::from_columns(
                    &r.get::<_, String>(0)?,
                    &r.get::<_, String>(1)?,
                ))
            },
        )
        .optional()?
    } else {
        None
    };
    Ok(EventView {
        title: localized(&info.title, lang),
        id,
        starts_on: info.starts_on,
        ends_on: info.ends_on,
        location: info.location,
        region: info.region,
        instrument: info.instrument,
        registration_open: today <= info.registration_closes_on.as_str(),
        registration_closes_on: info.registration_closes_on,
        capacity: info.capacity,
        registration,
        refusal,
    })
}

fn load(conn: &Connection, id: &str) -> Result<Option<EventInfo>> {
    let json: Option<String> = conn
        .query_row("SELECT info_json FROM event WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// The events this device knows, soonest first.
pub fn events(core: &Core, lang: &str) -> Result<Vec<EventView>> {
    let lang = check_language(lang)?;
    let conn = core.conn();
    let today = server_today(core, &conn)?;
    let mut stmt = conn.prepare("SELECT id, info_json FROM event")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, json) = row?;
        let Ok(info) = serde_json::from_str::<EventInfo>(&json) else {
            continue;
        };
        out.push(view(&conn, id, info, lang, &today)?);
    }
    out.sort_by(|a, b| a.starts_on.cmp(&b.starts_on).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

/// Registers for an event, or cancels, offline: written here and queued in one
/// transaction. A registration after the closing day is refused here already; whether a
/// place is left only the server knows (a refusal comes back as the event's `refusal`).
pub fn register_for_event(core: &Core, event_id: &str, registered: bool) -> Result<EventView> {
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    super::require_account(&tx, "Registering for an event")?;
    let Some(info) = load(&tx, event_id)? else {
        return Err(Error::NotFound(format!("training event `{event_id}`")));
    };
    let today = server_today(core, &tx)?;
    if registered {
        // By the server's calendar: a laptop years ahead must not close what is open.
        if today.as_str() > info.registration_closes_on.as_str() {
            return Err(Error::invalid(
                ErrorCode::RegistrationClosed,
                format!(
                    "registration for this event closed on {}",
                    info.registration_closes_on
                ),
            )
            .with("closes", info.registration_closes_on.as_str()));
        }
    }
    write_registration(&tx, event_id, registered)?;
    outbox::record_change(&tx, KIND, event_id, FIELD, &Value::Bool(registered))?;
    // The person acted on any earlier refusal: it is not shown any more.
    tx.execute(
        &format!("UPDATE sync_rejected SET dismissed_at = {NOW} WHERE kind = ?1 AND entity_id = ?2 AND field = ?3 AND dismissed_at IS NULL"),
        params![KIND.name(), event_id, FIELD],
    )?;
    let lang = crate::user::settings::get(&tx, "language")?
        .filter(|l| check_language(l).is_ok())
        .unwrap_or_else(|| crate::FALLBACK_LANGUAGE.to_string());
    let out = view(&tx, event_id.to_string(), info, &lang, &today)?;
    tx.commit()?;
    Ok(out)
}
