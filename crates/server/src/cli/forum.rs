//! `ecommunity forum category add|list`, `forum hide|unhide POST_ID`,
//! `forum lock|unlock THREAD_ID`: what the Secretariat does, written into the community feed
//! as the app's moderation would be.

use rusqlite::Connection;
use serde_json::json;
use stopover_protocol::forum::{CategoryKind, Localized, is_uuid};

use super::args::{CategoryAdd, CategoryKindArg, DataArg, JsonList, PostTarget, ThreadTarget};
use crate::error::{Error, Result};
use crate::forum::{self, categories, posts};

/// The database with the default categories in place (as after the first `serve`).
pub(super) fn open_seeded(data: &DataArg) -> Result<Connection> {
    let mut conn = data.open()?;
    forum::seed(&mut conn)?;
    Ok(conn)
}

pub fn category_add(a: CategoryAdd) -> Result<()> {
    let kind = match a.kind {
        CategoryKindArg::Region => CategoryKind::Region,
        CategoryKindArg::Instrument => CategoryKind::Instrument,
        CategoryKindArg::General => CategoryKind::General,
        CategoryKindArg::Qa => CategoryKind::Qa,
    };
    let title = Localized {
        en: a.title_en,
        fr: a.title_fr,
        es: a.title_es,
    };
    let mut conn = open_seeded(&a.data)?;
    let tx = conn.transaction()?;
    let info = categories::add(&tx, &a.slug, kind, title, a.order)?;
    super::audit_cli(
        &tx,
        crate::audit::action::FORUM_CATEGORY_ADD,
        Some(&a.slug),
        json!({"kind": categories::kind_name(kind)}),
    )?;
    tx.commit()?;
    println!(
        "added forum category {} ({}): {}",
        a.slug,
        categories::kind_name(kind),
        info.title.en
    );
    Ok(())
}

pub fn category_list(l: JsonList) -> Result<()> {
    let list = categories::list(&open_seeded(&l.data)?)?;
    if l.json {
        let items: Vec<_> = list
            .iter()
            .map(|(slug, info)| json!({"id": slug, "kind": info.kind, "title": info.title, "order": info.order}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    println!("{:<34} {:<11} title", "id", "kind");
    for (slug, info) in list {
        println!(
            "{:<34} {:<11} {}",
            slug,
            categories::kind_name(info.kind),
            info.title.en
        );
    }
    Ok(())
}

fn check_id(what: &str, id: &str) -> Result<()> {
    if is_uuid(id) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "`{id}` is not a {what} id: it is a UUID like 01939a2b-7c4d-7e8f-9a0b-1c2d3e4f5a6b"
        )))
    }
}

pub fn hide(t: PostTarget, hidden: bool) -> Result<()> {
    check_id("post", &t.post_id)?;
    let mut conn = t.data.open()?;
    let tx = conn.transaction()?;
    let changed = posts::set_hidden(&tx, &t.post_id, hidden)?;
    let what = if hidden {
        crate::audit::action::FORUM_HIDE
    } else {
        crate::audit::action::FORUM_UNHIDE
    };
    super::audit_cli(&tx, what, Some(&t.post_id), json!({"changed": changed}))?;
    tx.commit()?;
    let state = if hidden { "hidden" } else { "shown" };
    if changed {
        println!("post {} is now {state}", t.post_id);
    } else {
        println!("post {} was already {state}", t.post_id);
    }
    Ok(())
}

pub fn lock(t: ThreadTarget, locked: bool) -> Result<()> {
    check_id("thread", &t.thread_id)?;
    let mut conn = t.data.open()?;
    let tx = conn.transaction()?;
    let changed = posts::set_locked(&tx, &t.thread_id, locked)?;
    let what = if locked {
        crate::audit::action::FORUM_LOCK
    } else {
        crate::audit::action::FORUM_UNLOCK
    };
    super::audit_cli(&tx, what, Some(&t.thread_id), json!({"changed": changed}))?;
    tx.commit()?;
    let state = if locked { "locked" } else { "unlocked" };
    if changed {
        println!("thread {} is now {state}", t.thread_id);
    } else {
        println!("thread {} was already {state}", t.thread_id);
    }
    Ok(())
}
