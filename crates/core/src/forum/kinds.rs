//! The community record kinds on this device (forum categories, posts and threads, directory
//! profiles, events and this account's registrations), registered as [`LocalKind`]s. Their
//! storage rules are in [`super::sync`]; here they are also put in words for the person.

use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;
use stopover_protocol::RecordKind;
use stopover_protocol::forum::{CategoryInfo, EventInfo};

use super::sync::{read_local, revert_local, write_local};
use crate::Result;
use crate::sync::kinds::{LocalKind, Subject};

pub struct ForumCategory;
pub struct ForumPost;
pub struct ForumThread;
pub struct Profile;
pub struct Event;
pub struct EventRegistration;

fn json_of<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    id: &str,
) -> Result<Option<T>> {
    let json: Option<String> = conn.query_row(sql, [id], |r| r.get(0)).optional()?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// A post or thread by its title (a reply by its thread's title).
fn thread_title(conn: &Connection, post_id: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT t.title FROM forum_post p JOIN forum_post t ON t.id = coalesce(p.thread_id, p.id)
             WHERE p.id = ?1",
            [post_id],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten())
}

fn subject(kind: RecordKind, title: Option<String>, fallback: &str) -> Subject {
    Subject {
        kind,
        title: title.unwrap_or_else(|| fallback.to_string()),
        detail: None,
    }
}

macro_rules! community_kind {
    ($ty:ident, $kind:expr, |$conn:ident, $id:ident, $lang:ident| $title:expr) => {
        impl LocalKind for $ty {
            fn kind(&self) -> RecordKind {
                $kind
            }

            fn write(
                &self,
                conn: &Connection,
                entity_id: &str,
                field: &str,
                value: &Value,
            ) -> Result<bool> {
                write_local(conn, $kind, entity_id, field, value)
            }

            fn read(
                &self,
                conn: &Connection,
                entity_id: &str,
                field: &str,
            ) -> Result<Option<Value>> {
                read_local(conn, $kind, entity_id, field)
            }

            fn revert(&self, conn: &Connection, entity_id: &str, field: &str) -> Result<bool> {
                revert_local(conn, $kind, entity_id, field)
            }

            fn describe(
                &self,
                $conn: &Connection,
                $id: &str,
                _field: &str,
                $lang: &str,
            ) -> Result<Subject> {
                let title: Option<String> = $title;
                Ok(subject($kind, title, $id))
            }
        }
    };
}

community_kind!(
    ForumCategory,
    RecordKind::ForumCategory,
    |conn, id, lang| {
        json_of::<CategoryInfo>(
            conn,
            "SELECT info_json FROM forum_category WHERE id = ?1",
            id,
        )?
        .map(|c| c.title.get(lang).to_string())
    }
);
community_kind!(ForumPost, RecordKind::ForumPost, |conn, id, _lang| {
    thread_title(conn, id)?
});
community_kind!(ForumThread, RecordKind::ForumThread, |conn, id, _lang| {
    thread_title(conn, id)?
});
community_kind!(Profile, RecordKind::Profile, |_conn, id, _lang| Some(
    id.to_string()
));
community_kind!(Event, RecordKind::Event, |conn, id, lang| {
    json_of::<EventInfo>(conn, "SELECT info_json FROM event WHERE id = ?1", id)?
        .map(|e| e.title.get(lang).to_string())
});
community_kind!(
    EventRegistration,
    RecordKind::EventRegistration,
    |conn, id, lang| {
        json_of::<EventInfo>(conn, "SELECT info_json FROM event WHERE id = ?1", id)?
            .map(|e| e.title.get(lang).to_string())
    }
);
