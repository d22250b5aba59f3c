//! `ecommunity event add|list|registrations`: training events, published to every app, and
//! who registered for them.

use serde_json::json;
use stopover_protocol::forum::{EventInfo, Localized};

use super::args::{EventAdd, EventTarget, JsonList};
use super::forum::open_seeded;
use crate::accounts::store;
use crate::error::Result;
use crate::forum::events;

pub fn add(a: EventAdd) -> Result<()> {
    let info = EventInfo {
        title: Localized {
            en: a.title_en,
            fr: a.title_fr,
            es: a.title_es,
        },
        starts_on: a.starts,
        ends_on: a.ends,
        location: a.location,
        region: a.region,
        instrument: a.instrument,
        registration_closes_on: a.closes,
        capacity: a.capacity,
    };
    let mut conn = a.data.open()?;
    let tx = conn.transaction()?;
    events::add(&tx, &a.slug, &info)?;
    super::audit_cli(
        &tx,
        crate::audit::action::EVENT_ADD,
        Some(&a.slug),
        json!({"starts_on": info.starts_on, "capacity": info.capacity}),
    )?;
    tx.commit()?;
    println!(
        "added event {} ({} to {}, {}); registration closes on {}",
        a.slug, info.starts_on, info.ends_on, info.location, info.registration_closes_on
    );
    Ok(())
}

pub fn list(l: JsonList) -> Result<()> {
    let conn = open_seeded(&l.data)?;
    let mut rows = Vec::new();
    for (slug, info) in events::list(&conn)? {
        let registered = events::registrations(&conn, &slug)?.len();
        rows.push((slug, info, registered));
    }
    if l.json {
        let items: Vec<_> = rows
            .iter()
            .map(|(slug, info, registered)| json!({"id": slug, "info": info, "registered": registered}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    println!(
        "{:<28} {:<10} {:<10} {:<10} {:<11} title",
        "id", "starts", "ends", "closes", "registered"
    );
    for (slug, info, registered) in rows {
        let places = match info.capacity {
            Some(c) => format!("{registered}/{c}"),
            None => registered.to_string(),
        };
        println!(
            "{:<28} {:<10} {:<10} {:<10} {:<11} {}",
            slug, info.starts_on, info.ends_on, info.registration_closes_on, places, info.title.en
        );
    }
    Ok(())
}

pub fn registrations(t: EventTarget) -> Result<()> {
    let accounts = events::registrations(&t.data.open()?, &t.slug)?;
    if t.json {
        let items: Vec<_> = accounts.iter().map(|a| a.to_account()).collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    println!("{} registered for {}", accounts.len(), t.slug);
    for a in accounts {
        println!(
            "{:<24} {:<12} {:<8} {}",
            a.username,
            store::role_name(a.role),
            a.country.as_deref().unwrap_or("-"),
            a.display_name
        );
    }
    Ok(())
}
