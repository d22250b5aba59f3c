//! The NFP directory, cached for offline use: each account's card (kept by the server) and
//! the contact details its owner chose to share.

use rusqlite::params;
use serde::Serialize;
use stopover_protocol::forum::{ProfileAccount, SharedContact};
use stopover_protocol::{RecordKind, Role};

use super::regions::{REGIONS, normalize_region, region_of};
use crate::ErrorCode;
use crate::content::markdown::slug;
use crate::sync::outbox;
use crate::{Core, Error, Result};

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Profile {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub country: Option<String>,
    pub instruments: Vec<String>,
    pub shared: SharedContact,
}

/// The directory, filtered: `query` matches names, usernames and organisations (case and
/// accents folded); `country` (ISO code), `instrument` and `region` (a CMS region slug, see
/// [`REGIONS`](super::REGIONS)) narrow it. Sorted by country, then name.
pub fn directory(
    core: &Core,
    query: &str,
    country: Option<&str>,
    instrument: Option<&str>,
    region: Option<&str>,
) -> Result<Vec<Profile>> {
    let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => Some(normalize_region(r).ok_or_else(|| {
            Error::invalid(
                ErrorCode::UnknownRegion,
                format!(
                    "unknown region `{r}` (expected one of {})",
                    REGIONS.join(", ")
                ),
            )
            .with("region", r.to_string())
        })?),
    };
    let country = country.map(str::trim).filter(|c| !c.is_empty());
    let instrument = instrument.map(str::trim).filter(|i| !i.is_empty());
    let words = slug(query);
    let conn = core.conn();
    let mut stmt = conn.prepare(
        "SELECT username, account_json, shared_json FROM profile WHERE account_json IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (username, account, shared) = row?;
        let Ok(card) = serde_json::from_str::<ProfileAccount>(&account) else {
            continue;
        };
        let shared: SharedContact = shared
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let profile_country = card.country.as_deref();
        if country.is_some_and(|c| !profile_country.is_some_and(|p| p.eq_ignore_ascii_case(c))) {
            continue;
        }
        if region.is_some() && profile_country.and_then(region_of) != region {
            continue;
        }
        if instrument.is_some_and(|i| !card.instruments.iter().any(|x| x.eq_ignore_ascii_case(i))) {
            continue;
        }
        if !words.is_empty() {
            let haystack = slug(&format!(
                "{} {} {}",
                card.display_name,
                username,
                shared.organisation.as_deref().unwrap_or_default()
            ));
            if !haystack.contains(&words) {
                continue;
            }
        }
        out.push(Profile {
            username,
            display_name: card.display_name,
            role: card.role,
            country: card.country,
            instruments: card.instruments,
            shared,
        });
    }
    out.sort_by(|a, b| {
        a.country
            .cmp(&b.country)
            .then_with(|| {
                a.display_name
                    .to_lowercase()
                    .cmp(&b.display_name.to_lowercase())
            })
            .then_with(|| a.username.cmp(&b.username))
    });
    Ok(out)
}

/// Shares (or changes) the signed-in account's contact details in the directory: written here
/// and queued in one transaction.
pub fn set_my_contact(core: &Core, contact: SharedContact) -> Result<()> {
    let contact = SharedContact {
        organisation: tidy(contact.organisation),
        email: tidy(contact.email),
        phone: tidy(contact.phone),
        languages: contact.languages,
    };
    contact.validate().map_err(Error::refused)?;
    let value = serde_json::to_value(&contact).map_err(|e| Error::internal(e.to_string()))?;
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let me = super::require_account(&tx, "Sharing your contact details")?;
    tx.execute(
        "INSERT INTO profile (username, shared_json) VALUES (?1, ?2)
         ON CONFLICT (username) DO UPDATE SET shared_json = excluded.shared_json",
        params![me, value.to_string()],
    )?;
    outbox::record_change(&tx, RecordKind::Profile, &me, "shared", &value)?;
    tx.commit()?;
    Ok(())
}

/// Trimmed, and `None` when blank.
fn tidy(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}
