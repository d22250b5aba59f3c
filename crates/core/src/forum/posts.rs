//! Composing offline: new threads, replies and edits are written to the cache and queued in
//! the outbox in one transaction; a post not yet sent can be withdrawn; conflicts on a post
//! are settled with both texts in view.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use stopover_protocol::RecordKind;
use stopover_protocol::forum::{PostContent, ProfileAccount, is_uuid};

use super::drafts;
use super::drafts::DraftKey;
use super::markdown::Prerendered;
use super::read::{PostView, post_view};
use super::sync::store_content;
use crate::ErrorCode;
use crate::store::NOW;
use crate::sync::outbox::{self, FieldRef};
use crate::sync::{self, Resolution};
use crate::{Core, Error, Result};

const KIND: RecordKind = RecordKind::ForumPost;
const CONTENT: &str = "content";

fn checked(content: &PostContent, post_id: &str) -> Result<()> {
    content.validate(post_id).map_err(Error::refused)
}

/// The author's card as far as this device knows it: the directory's, else the username.
fn my_card(conn: &Connection, me: &str) -> Result<(String, Option<String>)> {
    let json: Option<Option<String>> = conn
        .query_row(
            "SELECT account_json FROM profile WHERE username = ?1",
            [me],
            |r| r.get(0),
        )
        .optional()?;
    let card = json
        .flatten()
        .and_then(|j| serde_json::from_str::<ProfileAccount>(&j).ok());
    Ok(match card {
        Some(card) => (card.display_name, card.country),
        None => (me.to_string(), None),
    })
}

/// Writes a post composed here and queues it: one transaction.
fn compose(
    core: &Core,
    content: PostContent,
    post_id: &str,
    me: &str,
    draft_key: &DraftKey,
) -> Result<()> {
    checked(&content, post_id)?;
    let _rendered = Prerendered::bodies([content.body.as_str()]);
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let (name, country) = my_card(&tx, me)?;
    tx.execute(
        &format!(
            "INSERT INTO forum_post (id, author, author_name, country, local_at) VALUES (?1, ?2, ?3, ?4, {NOW})"
        ),
        params![post_id, me, name, country],
    )?;
    store_content(&tx, post_id, &content)?;
    if content.thread == post_id {
        tx.execute(
            "UPDATE forum_thread SET author = ?2, author_name = ?3, country = ?4 WHERE id = ?1",
            params![post_id, me, name, country],
        )?;
    }
    let value = serde_json::to_value(&content).map_err(|e| Error::internal(e.to_string()))?;
    outbox::record_change(&tx, KIND, post_id, CONTENT, &value)?;
    drafts::clear_key(&tx, draft_key)?;
    tx.commit()?;
    Ok(())
}

/// Starts a thread in `category_id`: written here and queued, `pending` until the server
/// has it. Clears the composer draft `new:<category>`.
pub fn new_thread(core: &Core, category_id: &str, title: &str, body: &str) -> Result<PostView> {
    let me = {
        let conn = core.conn();
        let me = super::require_account(&conn, "Writing in the forum")?;
        let known: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM forum_category WHERE id = ?1)",
            [category_id],
            |r| r.get(0),
        )?;
        if !known {
            return Err(Error::invalid(ErrorCode::ForumCategoryUnknown, format!(
                "there is no forum category `{category_id}` on this device (sync to receive the categories)"
            )).with("category", category_id));
        }
        me
    };
    let id = uuid::Uuid::now_v7().to_string();
    let content = PostContent {
        thread: id.clone(),
        category: category_id.to_string(),
        title: Some(title.trim().to_string()),
        body: body.to_string(),
    };
    compose(
        core,
        content,
        &id,
        &me,
        &DraftKey::New {
            category: category_id.to_string(),
        },
    )?;
    post_view(core, &id)
}

/// Replies to a thread: written here and queued. Clears the composer draft `reply:<thread>`.
pub fn reply(core: &Core, thread_id: &str, body: &str) -> Result<PostView> {
    let (me, category) = {
        let conn = core.conn();
        let me = super::require_account(&conn, "Writing in the forum")?;
        let thread: Option<(Option<String>, bool)> = conn
            .query_row(
                "SELECT category, locked FROM forum_thread WHERE id = ?1",
                [thread_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match thread {
            None | Some((None, _)) => {
                return Err(Error::NotFound(format!("forum thread `{thread_id}`")));
            }
            Some((_, true)) => {
                return Err(Error::invalid(
                    ErrorCode::ThreadLocked,
                    "this thread was locked by the Secretariat: no more replies can be added",
                ));
            }
            Some((Some(category), false)) => (me, category),
        }
    };
    let id = uuid::Uuid::now_v7().to_string();
    let content = PostContent {
        thread: thread_id.to_string(),
        category,
        title: None,
        body: body.to_string(),
    };
    compose(
        core,
        content,
        &id,
        &me,
        &DraftKey::Reply {
            thread: thread_id.to_string(),
        },
    )?;
    post_view(core, &id)
}

/// The post's content as this device holds it, with its author.
fn own_post(conn: &Connection, post_id: &str, me: &str) -> Result<(PostContent, bool)> {
    type Row = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let row: Option<(Row, Option<String>, bool)> = conn
        .query_row(
            "SELECT thread_id, category, title, body, author, hidden FROM forum_post WHERE id = ?1",
            [post_id],
            |r| {
                Ok((
                    (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .optional()?;
    let Some(((Some(thread), Some(category), title, Some(body)), author, hidden)) = row else {
        return Err(Error::NotFound(format!("forum post `{post_id}`")));
    };
    if author.as_deref() != Some(me) {
        return Err(Error::invalid(
            ErrorCode::NotPostAuthor,
            "only its author can edit a post",
        ));
    }
    Ok((
        PostContent {
            thread,
            category,
            title,
            body,
        },
        hidden,
    ))
}

/// Edits one of the reader's posts. A post still waiting to be sent is changed in place (its
/// operation carries the new text); a post on the server gets an edit based on the version
/// this device knows, which becomes a conflict if it changed meanwhile. A post hidden by
/// moderation cannot be edited. Clears the composer draft `edit:<post>`.
pub fn edit_post(core: &Core, post_id: &str, body: &str) -> Result<PostView> {
    {
        let _rendered = Prerendered::bodies([body]);
        let mut conn = core.conn();
        let tx = conn.transaction()?;
        let me = super::require_account(&tx, "Editing a post")?;
        let (mut content, hidden) = own_post(&tx, post_id, &me)?;
        check_editable(&tx, &content, hidden, "")?;
        content.body = body.to_string();
        checked(&content, post_id)?;
        store_content(&tx, post_id, &content)?;
        let value = serde_json::to_value(&content).map_err(|e| Error::internal(e.to_string()))?;
        outbox::record_change(&tx, KIND, post_id, CONTENT, &value)?;
        drafts::clear_key(
            &tx,
            &DraftKey::Edit {
                post: post_id.to_string(),
            },
        )?;
        tx.commit()?;
    }
    post_view(core, post_id)
}

/// Refuses, as the server would, an edit of a post hidden by moderation or in a locked thread.
fn check_editable(
    conn: &Connection,
    content: &PostContent,
    hidden: bool,
    hint: &str,
) -> Result<()> {
    if hidden {
        return Err(Error::invalid(
            ErrorCode::PostHidden,
            format!("this post was hidden by the Secretariat and can no longer be edited{hint}"),
        ));
    }
    let locked: bool = conn
        .query_row(
            "SELECT locked FROM forum_thread WHERE id = ?1",
            [&content.thread],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false);
    if locked {
        return Err(Error::invalid(
            ErrorCode::ThreadLocked,
            format!(
                "this thread was locked by the Secretariat: its posts can no longer be edited{hint}"
            ),
        ));
    }
    Ok(())
}

/// Withdraws a post that never left this device: the post and its operation go in one
/// transaction. A post that was sent (even if its answer was lost) may already be on the
/// server and cannot be withdrawn; neither can a thread with replies waiting under it.
/// A new post the server refused can be withdrawn too (it is on no server).
pub fn withdraw_post(core: &Core, post_id: &str) -> Result<()> {
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let me = super::require_account(&tx, "Withdrawing a post")?;
    let (content, _) = own_post(&tx, post_id, &me)?;
    let f = FieldRef::new(KIND.name(), post_id, CONTENT);
    let (queued, sent): (i64, i64) = tx.query_row(
        "SELECT count(*), coalesce(sum(sent), 0) FROM outbox WHERE kind = ?1 AND entity_id = ?2 AND field = ?3",
        params![f.kind, f.entity_id, f.field],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let on_server = outbox::known_version(&tx, f)? > 0;
    let refused: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sync_rejected WHERE kind = ?1 AND entity_id = ?2 AND field = ?3 AND dismissed_at IS NULL)",
        params![f.kind, f.entity_id, f.field],
        |r| r.get(0),
    )?;
    if on_server || sent > 0 {
        return Err(Error::invalid(
            ErrorCode::PostAlreadySent,
            "this post has already been sent to the e-community and cannot be withdrawn; you can still edit it",
        ));
    }
    if queued == 0 && !refused {
        return Err(Error::invalid(
            ErrorCode::PostNotPending,
            "only a post waiting to be sent can be withdrawn",
        ));
    }
    if content.thread == post_id {
        let replies: i64 = tx.query_row(
            "SELECT count(*) FROM forum_post WHERE thread_id = ?1 AND id <> ?1",
            [post_id],
            |r| r.get(0),
        )?;
        if replies > 0 {
            return Err(Error::invalid(
                ErrorCode::WithdrawRepliesFirst,
                format!(
                    "withdraw the {replies} repl{} under this thread first",
                    if replies == 1 { "y" } else { "ies" }
                ),
            )
            .with("count", replies));
        }
    }
    let n: i64 = tx.query_row("SELECT n FROM forum_post WHERE id = ?1", [post_id], |r| {
        r.get(0)
    })?;
    super::search::unindex_post(&tx, n)?;
    tx.execute("DELETE FROM forum_post WHERE n = ?1", [n])?;
    if content.thread == post_id {
        tx.execute("DELETE FROM forum_thread WHERE id = ?1", [post_id])?;
    }
    tx.execute(
        "DELETE FROM outbox WHERE kind = ?1 AND entity_id = ?2",
        params![f.kind, f.entity_id],
    )?;
    tx.execute(
        &format!("UPDATE sync_rejected SET dismissed_at = {NOW} WHERE kind = ?1 AND entity_id = ?2 AND dismissed_at IS NULL"),
        params![f.kind, f.entity_id],
    )?;
    tx.commit()?;
    Ok(())
}

/// Settles the conflict shown on a post. For a conflict of the engine (the post changed on
/// the server meanwhile): `keep_mine` sends the reader's text again, based on the server's
/// version; otherwise the server's text replaces it. For an edit the server refused: not
/// keeping it dismisses it (the server's text stays); keeping it sends it again, unless the
/// post was hidden by moderation, which no edit can pass (the text stays in view to copy).
pub fn resolve_post_conflict(core: &Core, post_id: &str, keep_mine: bool) -> Result<()> {
    let f = FieldRef::new(KIND.name(), post_id, CONTENT);
    let engine_conflict = outbox::has_conflict(&core.conn(), f)?;
    if engine_conflict {
        let choice = if keep_mine {
            Resolution::KeepMine
        } else {
            Resolution::TakeTheirs
        };
        return sync::resolve_conflict(core, KIND, f.entity_id, f.field, choice);
    }
    let mut conn = core.conn();
    let tx = conn.transaction()?;
    let refused: Option<String> = tx
        .query_row(
            "SELECT value_json FROM sync_rejected WHERE kind = ?1 AND entity_id = ?2 AND field = ?3 AND dismissed_at IS NULL
             ORDER BY created_at DESC, op_id DESC LIMIT 1",
            params![f.kind, f.entity_id, f.field],
            |r| r.get(0),
        )
        .optional()?;
    let Some(refused) = refused else {
        return Err(Error::NotFound(format!(
            "a conflict on forum post `{post_id}`"
        )));
    };
    if keep_mine {
        let me = super::require_account(&tx, "Editing a post")?;
        let (content, hidden) = own_post(&tx, post_id, &me)?;
        check_editable(
            &tx,
            &content,
            hidden,
            "; copy your text into a new reply if it is still needed",
        )?;
        let value: Value = serde_json::from_str(&refused)
            .map_err(|e| Error::internal(format!("the refused edit cannot be read: {e}")))?;
        let content: PostContent = serde_json::from_value(value.clone())
            .map_err(|e| Error::internal(format!("the refused edit cannot be read: {e}")))?;
        store_content(&tx, post_id, &content)?;
        outbox::record_change(&tx, KIND, post_id, CONTENT, &value)?;
    }
    tx.execute(
        &format!("UPDATE sync_rejected SET dismissed_at = {NOW} WHERE kind = ?1 AND entity_id = ?2 AND field = ?3 AND dismissed_at IS NULL"),
        params![f.kind, f.entity_id, f.field],
    )?;
    tx.commit()?;
    Ok(())
}

/// Whether `id` could be a post or thread id (for clear errors on malformed input).
pub(crate) fn check_post_id(id: &str) -> Result<()> {
    if is_uuid(id) {
        Ok(())
    } else {
        Err(Error::invalid(
            ErrorCode::UnknownItem,
            format!("`{id}` is not a post id"),
        ))
    }
}
