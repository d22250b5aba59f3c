//! Training events and registration. The Secretariat adds an event (`ecommunity event add`);
//! it is published as `event` / `info`. Each account registers with its own
//! `event_registration` / `registered` record (account scope): the server refuses a
//! registration after the closing day or when the event is full; cancelling is always fine.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use stopover_protocol::forum::{EventInfo, is_slug};
use stopover_protocol::{Operation, RecordKind};
use stopover_protocol::{Refusal, RefusalCode};

use super::categories::{REGIONS, check_title};
use super::is_date;
use crate::accounts::AccountRow;
use crate::accounts::store::from_row;
use crate::auth::policy::SyncScope;
use crate::db::unix_now;
use crate::error::{Error, Result};

pub fn find(conn: &Connection, slug: &str) -> Result<Option<EventInfo>> {
    let json: Option<String> = conn
        .query_row("SELECT info FROM event WHERE slug = ?1", [slug], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
}

/// Every event, soonest first.
pub fn list(conn: &Connection) -> Result<Vec<(String, EventInfo)>> {
    let mut stmt = conn.prepare("SELECT slug, info FROM event")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut events = rows
        .map(|row| {
            let (slug, info) = row?;
            Ok((slug, serde_json::from_str::<EventInfo>(&info)?))
        })
        .collect::<Result<Vec<_>>>()?;
    events.sort_by(|a, b| (&a.1.starts_on, &a.0).cmp(&(&b.1.starts_on, &b.0)));
    Ok(events)
}

/// Checks an event before it is published; the reason names the option at fault.
pub fn check(slug: &str, info: &EventInfo) -> Result<(), String> {
    if !is_slug(slug) {
        return Err(format!(
            "`{slug}` is not an event id: use 1-64 of a-z, 0-9 and `-` (e.g. `aewa-training-2026`)"
        ));
    }
    check_title(&info.title)?;
    for (option, date) in [
        ("--starts", &info.starts_on),
        ("--ends", &info.ends_on),
        ("--closes", &info.registration_closes_on),
    ] {
        if !is_date(date) {
            return Err(format!("{option} `{date}` is not a date like 2026-09-14"));
        }
    }
    if info.ends_on < info.starts_on {
        return Err(format!(
            "--ends {} is before --starts {}",
            info.ends_on, info.starts_on
        ));
    }
    if info.registration_closes_on > info.ends_on {
        return Err(format!(
            "--closes {} is after the event ends ({})",
            info.registration_closes_on, info.ends_on
        ));
    }
    if info.location.trim().is_empty() {
        return Err("--location is empty: say where, e.g. \"Online\" or \"Bonn, Germany\"".into());
    }
    if info.location.chars().count() > 200 || info.location.contains(['\n', '\r']) {
        return Err("--location is one line of at most 200 characters".into());
    }
    if let Some(region) = &info.region
        && !REGIONS.contains(&region.as_str())
    {
        return Err(format!(
            "--region `{region}` is not a CMS region; use one of {}",
            REGIONS.join(", ")
        ));
    }
    if let Some(instrument) = &info.instrument
        && !is_slug(instrument)
    {
        return Err(format!(
            "--instrument `{instrument}` is not an instrument id like `aewa`"
        ));
    }
    if info.capacity == Some(0) {
        return Err("--capacity must be at least 1 (leave it out for no limit)".into());
    }
    Ok(())
}

/// Adds an event and publishes it.
pub fn add(conn: &Connection, slug: &str, info: &EventInfo) -> Result<()> {
    check(slug, info).map_err(Error::Usage)?;
    if find(conn, slug)?.is_some() {
        return Err(Error::Forum(format!("the event `{slug}` already exists")));
    }
    let json = serde_json::to_value(info)?;
    conn.execute(
        "INSERT INTO event (slug, info, registration_closes_on, capacity, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            slug,
            json.to_string(),
            info.registration_closes_on,
            info.capacity,
            unix_now()
        ],
    )?;
    super::publish(conn, RecordKind::Event, slug, "info", &json)?;
    Ok(())
}

/// Changes an event (the Secretariat's correction of a title, date, place or capacity) and
/// publishes it again. Registrations made stay; a smaller capacity refuses only new ones.
pub fn update(conn: &Connection, slug: &str, info: &EventInfo) -> Result<()> {
    check(slug, info).map_err(Error::Usage)?;
    if find(conn, slug)?.is_none() {
        return Err(Error::Forum(format!(
            "there is no event `{slug}` on this server"
        )));
    }
    let json = serde_json::to_value(info)?;
    conn.execute(
        "UPDATE event SET info = ?2, registration_closes_on = ?3, capacity = ?4 WHERE slug = ?1",
        params![
            slug,
            json.to_string(),
            info.registration_closes_on,
            info.capacity
        ],
    )?;
    super::publish(conn, RecordKind::Event, slug, "info", &json)?;
    Ok(())
}

/// The approved accounts registered for an event (their latest `registered` is true), by
/// username; `except_scope` leaves one account out (the one registering now).
fn registered(conn: &Connection, slug: &str, except_scope: &str) -> Result<Vec<AccountRow>> {
    let sql = format!(
        "SELECT {} FROM field f JOIN account a ON f.scope = 'account:' || a.id
         WHERE f.kind = ?1 AND f.entity_id = ?2 AND f.field = 'registered' AND f.value = 'true'
           AND a.status = 'approved' AND f.scope <> ?3
         ORDER BY a.username",
        crate::accounts::store::columns("a")
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(
        params![RecordKind::EventRegistration.name(), slug, except_scope],
        |r| Ok(from_row(r, 0)),
    )?;
    rows.map(|r| r?).collect()
}

/// Who is registered for an event, for the Secretariat.
pub fn registrations(conn: &Connection, slug: &str) -> Result<Vec<AccountRow>> {
    if find(conn, slug)?.is_none() {
        return Err(Error::Forum(format!(
            "there is no event `{slug}` on this server"
        )));
    }
    registered(conn, slug, "")
}

/// Why a registration (or cancellation) is refused, on `today` (`YYYY-MM-DD`).
pub fn registration_refusal(
    conn: &Connection,
    scope: &SyncScope,
    op: &Operation,
    today: &str,
) -> Result<Option<Refusal>> {
    let slug = &op.entity.id;
    let Some(event) = find(conn, slug)? else {
        return Ok(Some(
            Refusal::new(
                RefusalCode::NoSuchEvent,
                format!("there is no event `{slug}` on the server"),
            )
            .with("event", slug.as_str()),
        ));
    };
    if op.value != Value::Bool(true) {
        return Ok(None); // cancelling is always fine
    }
    if today > event.registration_closes_on.as_str() {
        return Ok(Some(
            Refusal::new(
                RefusalCode::RegistrationClosed,
                format!(
                    "registration for “{}” closed on {}",
                    event.title.en, event.registration_closes_on
                ),
            )
            .with("event", slug.as_str())
            .with("closes", event.registration_closes_on.as_str()),
        ));
    }
    if let Some(capacity) = event.capacity {
        let others = registered(conn, slug, &scope.account_key())?.len();
        if others >= capacity as usize {
            return Ok(Some(
                Refusal::new(
                    RefusalCode::EventFull,
                    format!(
                        "“{}” is full: all {capacity} places are taken",
                        event.title.en
                    ),
                )
                .with("event", slug.as_str())
                .with("capacity", u64::from(capacity)),
            ));
        }
    }
    Ok(None)
}
