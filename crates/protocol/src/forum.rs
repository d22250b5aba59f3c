//! The e-community forum, directory and training events on the wire. They ride the same push
//! and pull as everything else (see [`crate::sync`]): records of scope
//! [`Scope::Community`](crate::Scope::Community) are read by every approved account.
//!
//! | kind                 | entity id            | field        | value                          | written by |
//! |----------------------|----------------------|--------------|--------------------------------|------------|
//! | `forum_category`     | category slug        | `info`       | [`CategoryInfo`]               | server     |
//! | `forum_post`         | post UUID (client)   | `content`    | [`PostContent`]                | the author |
//! | `forum_post`         | post UUID            | `meta`       | [`PostMeta`]                   | server, when the post is created |
//! | `forum_post`         | post UUID            | `hidden`     | bool                           | Secretariat, admin |
//! | `forum_thread`       | thread id (its first post's id) | `locked` | bool                 | Secretariat, admin |
//! | `profile`            | username             | `account`    | [`ProfileAccount`]             | server (from the account) |
//! | `profile`            | username             | `shared`     | [`SharedContact`]              | that user only |
//! | `event`              | event slug           | `info`       | [`EventInfo`]                  | server (`ecommunity event add`) |
//! | `event_registration` | event slug           | `registered` | bool                           | the user (account scope) |
//!
//! A new post is one operation on `content` with base version 0 and a fresh UUIDv7 as entity
//! id, so a retried push never makes it twice. An edit is an operation on `content` based on
//! the version the author saw: if the post changed meanwhile, the author gets a conflict with
//! both texts. Every version stays in the change feed (the edit history).

use serde::{Deserialize, Serialize};

use crate::errors::{Refusal, RefusalCode};

/// The CMS regions, as the slugs of the forum's region categories, of events' regions and of
/// the directory's region filter (one list, so client and server cannot disagree).
pub const REGIONS: [&str; 6] = [
    "africa",
    "asia",
    "europe",
    "oceania",
    "south-central-america-caribbean",
    "north-america",
];

/// The CMS region of each country (ISO 3166-1 alpha-2), following the CMS COP regional groups
/// (Israel, Türkiye, Cyprus and the Caucasus in Europe; the Middle East and Central Asia in
/// Asia). The app's directory filter and the server's console group countries with it.
const REGION_COUNTRIES: [(&str, &str); 6] = [
    (
        "africa",
        "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG \
         MW ML MR MU MA MZ NA NE NG RW ST SN SC SL SO ZA SS SD TZ TG TN UG ZM ZW EH YT RE SH",
    ),
    (
        "asia",
        "AF BH BD BT BN KH CN IN ID IR IQ JP JO KZ KW KG LA LB MY MV MN MM NP KP OM PK PS PH QA SA \
         SG KR LK SY TJ TH TL TM AE UZ VN YE HK MO TW",
    ),
    (
        "europe",
        "AL AD AM AT AZ BY BE BA BG HR CY CZ DK EE FI FR GE DE GR HU IS IE IL IT XK LV LI LT LU MT \
         MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SE CH TR UA GB VA FO GI GL IM JE GG AX SJ",
    ),
    (
        "oceania",
        "AU FJ KI MH FM NR NZ PW PG WS SB TO TV VU CK NU AS GU NC PF NF MP PN TK WF",
    ),
    (
        "south-central-america-caribbean",
        "AG AR BS BB BZ BO BR CL CO CR CU DM DO EC SV GD GT GY HT HN JM MX NI PA PY PE KN LC VC SR \
         TT UY VE AI AW BQ VG KY CW GF GP MQ MS PR BL MF SX TC VI FK",
    ),
    ("north-america", "CA US BM PM"),
];

/// The CMS region (one of [`REGIONS`]) of a country code (any case), if known.
pub fn region_of(country: &str) -> Option<&'static str> {
    let code = country.trim().to_ascii_uppercase();
    if code.len() != 2 {
        return None;
    }
    REGION_COUNTRIES
        .iter()
        .find(|(_, codes)| codes.split_ascii_whitespace().any(|c| c == code))
        .map(|(region, _)| *region)
}

/// Longest post body, in characters (about 1,300 words): every account pulls every post.
pub const MAX_POST_CHARS: usize = 8_000;
/// Longest thread title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest single contact value (e-mail, phone, organisation…), in characters.
pub const MAX_CONTACT_CHARS: usize = 300;

/// What groups a category: a region, an instrument, general talk, or questions and answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum CategoryKind {
    Region,
    Instrument,
    General,
    Qa,
}

/// A text in the three languages of the app (English always present).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub fr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub es: Option<String>,
}

impl Localized {
    /// The text in `lang`, English when there is none.
    pub fn get(&self, lang: &str) -> &str {
        match lang {
            "fr" => self.fr.as_deref(),
            "es" => self.es.as_deref(),
            _ => None,
        }
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(&self.en)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct CategoryInfo {
    pub title: Localized,
    pub kind: CategoryKind,
    /// Position in the category list.
    pub order: u32,
}

/// A post as its author writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct PostContent {
    /// The thread: the entity id of its first post (equal to this post's id for a new thread).
    pub thread: String,
    /// The category slug (must exist on the server).
    pub category: String,
    /// The thread's title: present on a thread's first post, absent on replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub title: Option<String>,
    /// Markdown, shown sanitized (no script, no remote images or frames).
    pub body: String,
}

/// Who wrote a post and when, stamped by the server when the post is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct PostMeta {
    pub author: String,
    pub author_name: String,
    /// None for Secretariat and admin accounts.
    pub country: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// The directory card the server keeps from the account (not editable by its owner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct ProfileAccount {
    pub display_name: String,
    pub role: crate::Role,
    pub country: Option<String>,
    pub instruments: Vec<String>,
}

/// The contact details an NFP chooses to share with the other NFPs (each optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct SharedContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub organisation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub phone: Option<String>,
    /// Languages the NFP works in, e.g. `["en", "fr"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
}

/// A training event NFPs register for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct EventInfo {
    pub title: Localized,
    /// `YYYY-MM-DD`.
    pub starts_on: String,
    pub ends_on: String,
    /// e.g. "Online" or "Nairobi, Kenya".
    pub location: String,
    /// CMS region, when the event is for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub region: Option<String>,
    /// Instrument, when the event is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub instrument: Option<String>,
    /// Registrations close at the end of this day (`YYYY-MM-DD`).
    pub registration_closes_on: String,
    /// Most participants; `None`: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub capacity: Option<u32>,
}

/// A UUID as clients make them (any version; 36 characters, lowercase or uppercase hex).
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A slug: 1–64 of `a-z 0-9 -`.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn too_long(reason: String, max: usize) -> Refusal {
    Refusal::new(RefusalCode::TextTooLong, reason).with("max", max)
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

impl PostContent {
    /// Checks the shape of a post sent as the content of entity `post_id`.
    pub fn validate(&self, post_id: &str) -> Result<(), Refusal> {
        if !is_uuid(&self.thread) {
            return Err(Refusal::malformed(format!(
                "thread `{}` is not a post id",
                self.thread
            )));
        }
        if !is_slug(&self.category) {
            return Err(Refusal::malformed(format!(
                "`{}` is not a category",
                self.category
            )));
        }
        let starts_thread = self.thread == post_id;
        match &self.title {
            None if starts_thread => return Err(Refusal::malformed("a new thread needs a title")),
            Some(_) if !starts_thread => {
                return Err(Refusal::malformed("a reply has no title of its own"));
            }
            Some(t) if t.trim().is_empty() => return Err(Refusal::malformed("the title is empty")),
            Some(t) if chars(t) > MAX_TITLE_CHARS => {
                return Err(too_long(
                    format!("a title holds at most {MAX_TITLE_CHARS} characters"),
                    MAX_TITLE_CHARS,
                ));
            }
            _ => {}
        }
        if self.body.trim().is_empty() {
            return Err(Refusal::malformed("the post is empty"));
        }
        if chars(&self.body) > MAX_POST_CHARS {
            return Err(too_long(
                format!("a post holds at most {MAX_POST_CHARS} characters"),
                MAX_POST_CHARS,
            ));
        }
        let depth = crate::nesting::markdown_nesting(&self.body);
        if depth > crate::nesting::MAX_POST_NESTING {
            return Err(Refusal::new(
                RefusalCode::NestingTooDeep,
                format!(
                    "quotes and lists in a post nest at most {} levels deep, this one {depth}",
                    crate::nesting::MAX_POST_NESTING
                ),
            )
            .with("max", crate::nesting::MAX_POST_NESTING));
        }
        Ok(())
    }
}

impl SharedContact {
    pub fn validate(&self) -> Result<(), Refusal> {
        for (name, v) in [
            ("organisation", &self.organisation),
            ("email", &self.email),
            ("phone", &self.phone),
        ] {
            if v.as_deref().is_some_and(|v| chars(v) > MAX_CONTACT_CHARS) {
                return Err(too_long(
                    format!("`{name}` holds at most {MAX_CONTACT_CHARS} characters"),
                    MAX_CONTACT_CHARS,
                ));
            }
        }
        if self.languages.len() > 10 || self.languages.iter().any(|l| !is_slug(l) || l.len() > 8) {
            return Err(Refusal::malformed(
                "`languages` lists up to 10 language codes like `en`",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_country_is_in_one_known_region_only() {
        let mut seen = std::collections::HashSet::new();
        for (region, codes) in REGION_COUNTRIES {
            assert!(REGIONS.contains(&region), "{region}");
            for c in codes.split_ascii_whitespace() {
                assert_eq!(c.len(), 2, "{c}");
                assert!(seen.insert(c), "{c} is in two regions");
            }
        }
        assert_eq!(region_of(" ke"), Some("africa"));
        assert_eq!(region_of("XX"), None);
    }

    const POST: &str = "01939a2b-7c4d-7e8f-9a0b-1c2d3e4f5a6b";
    const OTHER: &str = "01939a2b-7c4d-7e8f-9a0b-000000000001";

    fn post(thread: &str, title: Option<&str>, body: &str) -> PostContent {
        PostContent {
            thread: thread.into(),
            category: "general".into(),
            title: title.map(Into::into),
            body: body.into(),
        }
    }

    #[test]
    fn threads_have_titles_and_replies_do_not() {
        assert!(
            post(POST, Some("Credentials for COP15"), "How?")
                .validate(POST)
                .is_ok()
        );
        assert!(post(POST, None, "Reply").validate(OTHER).is_ok());
        assert_eq!(
            post(POST, None, "x").validate(POST).unwrap_err().reason,
            "a new thread needs a title"
        );
        assert_eq!(
            post(POST, Some("t"), "x")
                .validate(OTHER)
                .unwrap_err()
                .reason,
            "a reply has no title of its own"
        );
        assert_eq!(
            post(POST, Some("t"), "  ")
                .validate(POST)
                .unwrap_err()
                .reason,
            "the post is empty"
        );
        assert!(post("not-a-uuid", None, "x").validate(OTHER).is_err());
        let long = "é".repeat(MAX_POST_CHARS + 1);
        assert!(
            post(POST, None, &long).validate(OTHER).unwrap_err().code == RefusalCode::TextTooLong
        );
        // A nesting bomb is refused with its own code; quoting at the limit is fine.
        let deep = post(POST, None, &">".repeat(4_000)).validate(OTHER);
        let refusal = deep.unwrap_err();
        assert_eq!(refusal.code, RefusalCode::NestingTooDeep);
        assert_eq!(
            refusal.params.get("max"),
            Some(&crate::Param::Number(
                crate::nesting::MAX_POST_NESTING as i64
            ))
        );
        let at_limit = format!("{} quoted", ">".repeat(crate::nesting::MAX_POST_NESTING));
        assert!(post(POST, None, &at_limit).validate(OTHER).is_ok());
        // Hostile text is data, not an error: sanitizing is the display's job.
        assert!(
            post(POST, None, "<script>alert(1)</script>\u{202e}")
                .validate(OTHER)
                .is_ok()
        );
    }

    #[test]
    fn wire_format_is_stable() {
        let v = serde_json::to_value(post(POST, None, "hi")).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"thread": POST, "category": "general", "body": "hi"})
        );
        assert!(
            serde_json::from_value::<PostContent>(
                serde_json::json!({"thread": POST, "category": "g", "body": "b", "extra": 1})
            )
            .is_err()
        );
        assert!(is_uuid(POST) && !is_uuid("01939a2b7c4d7e8f9a0b1c2d3e4f5a6b0000"));
    }
}
