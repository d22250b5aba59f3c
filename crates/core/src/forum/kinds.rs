//! The community record kinds on this device (forum categories, posts and threads, directory
//! profiles, events and this account's registrations), declared with their storage functions
//! ([`super::sync`]) and put in words for the person.

use rusqlite::{Connection, OptionalExtension};
use stopover_protocol::RecordKind;
use stopover_protocol::forum::{CategoryInfo, EventInfo};

use super::sync::{read_local, revert_local, write_local};
use crate::sync::kinds::{KindFns, Subject, nothing_after, nothing_unsynced};
use crate::{Core, Result};

/// Nothing of the community is queued at sign-in: posts, cards and registrations made before
/// it need an account anyway. A pull that brought posts keeps the cache within its retention.
pub(crate) static KINDS: &[KindFns] = &[
    community(RecordKind::ForumCategory, nothing_after),
    community(RecordKind::ForumPost, apply_retention),
    community(RecordKind::ForumThread, nothing_after),
    community(RecordKind::Profile, nothing_after),
    community(RecordKind::Event, nothing_after),
    community(RecordKind::EventRegistration, nothing_after),
];

const fn community(kind: RecordKind, after_pull: fn(&Core) -> Result<()>) -> KindFns {
    KindFns {
        kind,
        write: write_local,
        read: read_local,
        revert: revert_local,
        unsynced: nothing_unsynced,
        describe,
        after_pull,
    }
}

/// By the server's time, never pruning what just arrived.
fn apply_retention(core: &Core) -> Result<()> {
    super::retention::apply_after_pull(core).map(|_pruned| ())
}

fn json_of<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    id: &str,
) -> Result<Option<T>> {
    let json: Option<String> = conn.query_row(sql, [id], |r| r.get(0)).optional()?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// A post or thread by its thread's title.
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

/// The record by its title in `lang` (a category's or event's), its thread's title (a post),
/// or its username (a profile).
fn describe(
    conn: &Connection,
    kind: RecordKind,
    id: &str,
    _field: &str,
    lang: &str,
) -> Result<Subject> {
    let title = match kind {
        RecordKind::ForumCategory => json_of::<CategoryInfo>(
            conn,
            "SELECT info_json FROM forum_category WHERE id = ?1",
            id,
        )?
        .map(|c| c.title.get(lang).to_string()),
        RecordKind::ForumPost | RecordKind::ForumThread => thread_title(conn, id)?,
        RecordKind::Event | RecordKind::EventRegistration => {
            json_of::<EventInfo>(conn, "SELECT info_json FROM event WHERE id = ?1", id)?
                .map(|e| e.title.get(lang).to_string())
        }
        _ => None,
    };
    Ok(Subject {
        kind,
        title: title.unwrap_or_else(|| id.to_string()),
        detail: None,
    })
}
