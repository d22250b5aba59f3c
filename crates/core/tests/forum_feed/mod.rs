//! Shared by the forum tests: a real core on a real SQLite file, "signed in" as the sync
//! set-up after a sign-in leaves it, and a change feed written the way the server writes it
//! (per-field versions, one op id per change), applied with the real pull path.

#![allow(dead_code)] // each test file uses its own part

use std::collections::HashMap;

use serde_json::{Value, json};
use stopover_core::content::PackError;
use stopover_core::sync::{self, PullSummary};
use stopover_core::{Core, forum};
use stopover_protocol::{
    Change, EntityRef, OpResult, Operation, Outcome, PullResponse, PushResponse,
};

pub fn open() -> (tempfile::TempDir, Core) {
    let dir = tempfile::tempdir().unwrap();
    // The forum needs no content pack: start without one.
    let no_pack = Err(PackError {
        file: "manifest.toml".into(),
        reason: "not needed by the forum tests".into(),
    });
    let core = Core::open(dir.path(), no_pack).unwrap();
    (dir, core)
}

/// What a successful sign-in as `username` leaves in `sync_state` (the network part is the
/// black-box tests' job, against the real server).
pub fn signed_in_as(core: &Core, username: &str) {
    core.conn()
        .execute(
            "INSERT INTO sync_state (key, value) VALUES ('server_url', 'https://ecommunity.example.org'),
                 ('account', ?1), ('signed_in', '1')",
            [username],
        )
        .unwrap();
}

pub fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The server's change feed, as far as a test needs it.
#[derive(Default)]
pub struct Feed {
    seq: u64,
    versions: HashMap<(String, String, String), u64>,
    pending: Vec<Change>,
}

impl Feed {
    /// Adds a change of one field (next version of that field) to the next page.
    pub fn put(&mut self, kind: &str, id: &str, field: &str, value: Value) -> &mut Self {
        let v = self
            .versions
            .entry((kind.into(), id.into(), field.into()))
            .or_default();
        *v += 1;
        self.seq += 1;
        self.pending.push(Change {
            seq: self.seq,
            entity: EntityRef {
                kind: kind.into(),
                id: id.into(),
            },
            field: field.into(),
            value,
            version: *v,
            op_id: uuid(),
        });
        self
    }

    pub fn version(&self, kind: &str, id: &str, field: &str) -> u64 {
        self.versions
            .get(&(kind.into(), id.into(), field.into()))
            .copied()
            .unwrap_or(0)
    }

    pub fn category(&mut self, slug: &str, en: &str, fr: Option<&str>, order: u32) -> &mut Self {
        let mut title = json!({"en": en});
        if let Some(fr) = fr {
            title["fr"] = json!(fr);
        }
        self.put(
            "forum_category",
            slug,
            "info",
            json!({"title": title, "kind": "general", "order": order}),
        )
    }

    pub fn content(
        &mut self,
        id: &str,
        thread: &str,
        category: &str,
        title: Option<&str>,
        body: &str,
    ) -> &mut Self {
        let mut v = json!({"thread": thread, "category": category, "body": body});
        if let Some(t) = title {
            v["title"] = json!(t);
        }
        self.put("forum_post", id, "content", v)
    }

    pub fn meta(&mut self, id: &str, author: &str, created_at: &str) -> &mut Self {
        self.put(
            "forum_post",
            id,
            "meta",
            json!({"author": author, "author_name": format!("NFP {author}"), "country": "KE", "created_at": created_at}),
        )
    }

    /// A whole post: its content, then its meta.
    #[allow(clippy::too_many_arguments)] // one argument per field of a post
    pub fn post(
        &mut self,
        id: &str,
        thread: &str,
        category: &str,
        title: Option<&str>,
        body: &str,
        author: &str,
        created_at: &str,
    ) -> &mut Self {
        self.content(id, thread, category, title, body)
            .meta(id, author, created_at)
    }

    /// Everything put since the last call, for a test that pages it itself.
    pub fn take(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.pending)
    }

    /// Applies everything put since the last call as one pulled page, with the real pull.
    pub fn pull(&mut self, core: &Core) -> PullSummary {
        let page = PullResponse {
            protocol: 1,
            changes: std::mem::take(&mut self.pending),
            cursor: self.seq,
            more: false,
        };
        sync::apply_pull(core, &page).unwrap()
    }
}

/// Takes the next push batch and answers every operation with `outcome`, with the real
/// outbox code. Returns the batch.
pub fn push(core: &Core, outcome: impl Fn(&Operation) -> Outcome) -> Vec<Operation> {
    let batch = sync::next_batch(core, 200).unwrap();
    let answer = PushResponse {
        protocol: 1,
        results: batch
            .iter()
            .map(|op| OpResult {
                id: op.id.clone(),
                outcome: outcome(op),
            })
            .collect(),
        pull: None,
    };
    sync::apply_push_results(core, &batch, &answer).unwrap();
    batch
}

pub fn applied(op: &Operation) -> Outcome {
    Outcome::Applied {
        version: op.base_version + 1,
    }
}

/// A thread by `author` with `replies` replies, one a minute from `day` (YYYY-MM-DD).
pub fn thread_with_replies(
    feed: &mut Feed,
    category: &str,
    title: &str,
    author: &str,
    day: &str,
    replies: usize,
) -> (String, Vec<String>) {
    let thread = uuid();
    feed.post(
        &thread,
        &thread,
        category,
        Some(title),
        &format!("Opening post of {title}"),
        author,
        &format!("{day}T08:00:00Z"),
    );
    let mut ids = Vec::new();
    for i in 0..replies {
        let id = uuid();
        feed.post(
            &id,
            &thread,
            category,
            None,
            &format!("Reply {i} about {title}: the delegation's credentials"),
            "baraka",
            &format!("{day}T{:02}:{:02}:00Z", 9 + i / 60 % 14, i % 60),
        );
        ids.push(id);
    }
    (thread, ids)
}

pub fn post_count(core: &Core) -> i64 {
    core.conn()
        .query_row("SELECT count(*) FROM forum_post", [], |r| r.get(0))
        .unwrap()
}

pub fn bodies(core: &Core, thread: &str) -> Vec<String> {
    forum::thread(core, thread)
        .unwrap()
        .posts
        .into_iter()
        .map(|p| p.body_html)
        .collect()
}
