//! The forum cache and offline composing, in a real SQLite file: the pull path fills it
//! (content and meta in either order), new posts and edits queue one operation each in the
//! change's transaction, pending posts edit in place or withdraw, conflicts and refusals keep
//! both texts, search folds accents, retention bounds the cache, drafts autosave, and the
//! directory and events work offline.

mod forum_feed;

use forum_feed::*;
use serde_json::json;
use stopover_core::forum::DraftKey;
use stopover_core::forum::{self, Retention};
use stopover_core::sync;
use stopover_core::{Error, Result};
use stopover_protocol::Outcome;
use stopover_protocol::forum::SharedContact;

const GENERAL: &str = "general";

fn with_categories(core: &stopover_core::Core, feed: &mut Feed) {
    feed.category(GENERAL, "General", Some("Général"), 2)
        .category("qa", "Questions", None, 1);
    feed.pull(core);
}

fn err_text<T: std::fmt::Debug>(r: Result<T>) -> (String, String) {
    let e = r.unwrap_err();
    (e.code().to_string(), e.to_string())
}

#[test]
fn pulled_posts_form_threads_whichever_of_content_and_meta_comes_first() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);

    let thread = uuid();
    let (r1, r2) = (uuid(), uuid());
    // Meta before content for the thread, content before meta for a reply, and a second
    // reply whose meta comes only in the next page.
    feed.meta(&thread, "baraka", "2025-03-01T08:00:00Z")
        .content(
            &thread,
            &thread,
            GENERAL,
            Some("Credentials for COP15"),
            "How do we **send** them?",
        )
        .content(&r1, &thread, GENERAL, None, "By diplomatic pouch.")
        .meta(&r1, "chidi", "2025-03-01T09:00:00Z")
        .content(&r2, &thread, GENERAL, None, "Scanned copies first.");
    feed.pull(&core);

    let cats = forum::categories(&core, "fr").unwrap();
    assert_eq!(
        cats.iter()
            .map(|c| (c.id.as_str(), c.title.as_str()))
            .collect::<Vec<_>>(),
        [("qa", "Questions"), (GENERAL, "Général")],
        "in the Secretariat's order, French with the English fallback"
    );
    assert_eq!((cats[1].threads, cats[1].unread_threads), (1, 1));

    let list = forum::threads(&core, GENERAL).unwrap();
    assert_eq!(list.len(), 1);
    let s = &list[0];
    assert_eq!(s.title, "Credentials for COP15");
    assert_eq!(s.author_name, "NFP baraka");
    assert_eq!(s.country.as_deref(), Some("KE"));
    assert_eq!(s.replies, 2);
    assert!(s.unread && !s.pending && !s.locked);

    feed.meta(&r2, "baraka", "2025-03-01T10:00:00Z");
    feed.pull(&core);
    let view = forum::thread(&core, &thread).unwrap();
    assert_eq!(view.title, "Credentials for COP15");
    assert_eq!(
        view.posts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        [thread.as_str(), r1.as_str(), r2.as_str()],
        "oldest first by the server's dates"
    );
    assert!(view.posts[0].body_html.contains("<strong>send</strong>"));
    assert_eq!(view.posts[1].author, "chidi");
    assert_eq!(
        view.posts[2].created_at.as_deref(),
        Some("2025-03-01T10:00:00Z")
    );
    assert!(
        view.posts
            .iter()
            .all(|p| !p.mine && !p.pending && !p.edited)
    );

    // Opening it marked it read; a new reply by someone else makes it unread again, one by
    // the reader does not.
    assert!(!forum::threads(&core, GENERAL).unwrap()[0].unread);
    let r3 = uuid();
    feed.post(
        &r3,
        &thread,
        GENERAL,
        None,
        "Mine, from another device.",
        "amina",
        "2025-03-02T08:00:00Z",
    );
    feed.pull(&core);
    assert!(!forum::threads(&core, GENERAL).unwrap()[0].unread);
    let r4 = uuid();
    feed.post(
        &r4,
        &thread,
        GENERAL,
        None,
        "And one more.",
        "chidi",
        "2025-03-02T09:00:00Z",
    );
    feed.pull(&core);
    let s = &forum::threads(&core, GENERAL).unwrap()[0];
    assert!(s.unread);
    assert_eq!(s.last_activity, "2025-03-02T09:00:00Z");
    assert!(forum::thread(&core, &thread).unwrap().posts[3].mine);

    // An edit arriving later marks the post edited; moderation hides it from others.
    feed.content(
        &r1,
        &thread,
        GENERAL,
        None,
        "By diplomatic pouch, or by courier.",
    )
    .put("forum_post", &r1, "hidden", json!(true))
    .put("forum_thread", &thread, "locked", json!(true));
    feed.pull(&core);
    let view = forum::thread(&core, &thread).unwrap();
    assert!(view.locked);
    let p = &view.posts[1];
    assert!(p.edited && p.hidden);
    assert_eq!(
        p.body_html, "",
        "a hidden post's text is not shown to others"
    );
    // Only the copies the engine may need (the reader's own posts, to restore a refused edit)
    // are kept beside the cache.
    let copies: Vec<String> = {
        let conn = core.conn();
        let mut stmt = conn
            .prepare(
                "SELECT entity_id FROM sync_field WHERE kind = 'forum_post' AND field IN ('content', 'meta')
                 AND server_value_json IS NOT NULL",
            )
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert_eq!(copies.as_slice(), std::slice::from_ref(&r3));
    assert!(forum::threads(&core, "nope").is_err());
    assert_eq!(err_text(forum::thread(&core, &uuid())).0, "not_found");
}

#[test]
fn posts_stamped_in_the_same_second_keep_the_servers_order() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);
    let t = uuid();
    feed.post(
        &t,
        &t,
        GENERAL,
        Some("T"),
        "first",
        "chidi",
        "2025-01-01T00:00:00Z",
    );
    feed.pull(&core);
    // Written here first, taken by the server second.
    let mine = forum::reply(&core, &t, "mine, written first").unwrap().id;
    let theirs = uuid();
    feed.post(
        &theirs,
        &t,
        GENERAL,
        None,
        "theirs, sent first",
        "baraka",
        "2025-01-01T00:05:00Z",
    );
    feed.pull(&core);
    let order = |core: &stopover_core::Core| -> Vec<String> {
        forum::thread(core, &t)
            .unwrap()
            .posts
            .into_iter()
            .map(|p| p.id)
            .collect()
    };
    assert_eq!(
        order(&core),
        [t.clone(), theirs.clone(), mine.clone()],
        "pending last"
    );
    push(&core, applied);
    feed.meta(&mine, "amina", "2025-01-01T00:05:00Z");
    feed.pull(&core);
    assert_eq!(
        order(&core),
        [t, theirs, mine],
        "the same second: the feed's order"
    );
}

#[test]
fn composing_needs_an_account_and_queues_nothing_before_one() {
    let (_d, core) = open();
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);
    let (code, message) = err_text(forum::new_thread(&core, GENERAL, "Hello", "Body"));
    assert_eq!(code, "sign_in_required");
    assert!(
        message.contains("Writing in the forum needs an e-community account"),
        "{message}"
    );
    assert_eq!(post_count(&core), 0);
    assert!(sync::pending_operations(&core).unwrap().is_empty());
    let (code, _) = err_text(forum::register_for_event(&core, "x", true));
    assert_eq!(code, "sign_in_required");
    let (code, _) = err_text(forum::set_my_contact(&core, SharedContact::default()));
    assert_eq!(code, "sign_in_required");
}

#[test]
fn a_post_is_written_and_queued_together_pending_until_answered_and_edited_in_place() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);

    forum::save_composer_draft(
        &core,
        &DraftKey::New {
            category: "general".into(),
        },
        "Half a thought",
    )
    .unwrap();
    let t = forum::new_thread(
        &core,
        GENERAL,
        "  Flyway workshop  ",
        "Who goes to *Nairobi*?",
    )
    .unwrap();
    assert!(t.pending && t.mine && t.created_at.is_none());
    assert_eq!(t.author, "amina");
    assert_eq!(uuid::Uuid::parse_str(&t.id).unwrap().get_version_num(), 7);
    assert_eq!(
        forum::composer_draft(
            &core,
            &DraftKey::New {
                category: "general".into()
            }
        )
        .unwrap(),
        None,
        "sending clears the composer's draft"
    );
    let r = forum::reply(&core, &t.id, "I do.").unwrap();
    let ops = sync::pending_operations(&core).unwrap();
    assert_eq!(ops.len(), 2);
    assert_eq!(
        (
            ops[0].entity_id.as_str(),
            ops[0].field.as_str(),
            ops[0].base_version
        ),
        (t.id.as_str(), "content", Some(0))
    );
    assert_eq!(ops[0].value["title"], "Flyway workshop");
    assert_eq!(ops[1].entity_id, r.id);
    assert_eq!(ops[1].value["thread"], json!(t.id));
    assert!(ops[1].value.get("title").is_none());

    // Editing a pending post changes its queued operation, not the count.
    let edited = forum::edit_post(&core, &r.id, "I do, with two colleagues.").unwrap();
    assert!(
        edited.pending && !edited.edited,
        "a post never sent is not 'edited'"
    );
    let ops = sync::pending_operations(&core).unwrap();
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[1].value["body"], "I do, with two colleagues.");
    let summary = &forum::threads(&core, GENERAL).unwrap()[0];
    assert!(summary.pending && summary.replies == 1 && !summary.unread);

    // Bad input is refused with the reason, nothing written.
    let (code, message) = err_text(forum::reply(&core, &t.id, "   "));
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("invalid_value", "the post is empty")
    );
    let (_, message) = err_text(forum::new_thread(&core, GENERAL, "", "x"));
    assert_eq!(message, "the title is empty");
    let (_, message) = err_text(forum::new_thread(&core, "no-such", "T", "x"));
    assert!(message.contains("no forum category `no-such`"), "{message}");
    assert_eq!(sync::pending_operations(&core).unwrap().len(), 2);

    // Sent: answered by the server; then its stamp arrives with the pull.
    let batch = push(&core, applied);
    assert_eq!(batch.len(), 2);
    let view = forum::thread(&core, &t.id).unwrap();
    assert!(view.posts.iter().all(|p| !p.pending));
    feed.meta(&t.id, "amina", "2025-05-01T10:00:00Z")
        .meta(&r.id, "amina", "2025-05-01T10:00:01Z");
    feed.pull(&core);
    let view = forum::thread(&core, &t.id).unwrap();
    assert_eq!(
        view.posts[0].created_at.as_deref(),
        Some("2025-05-01T10:00:00Z")
    );
    assert_eq!(view.posts[0].author_name, "NFP amina");

    // An edit of a post on the server is an edit based on the version known here.
    let e = forum::edit_post(&core, &t.id, "Who goes to Nairobi in June?").unwrap();
    assert!(e.pending && e.edited);
    let ops = sync::pending_operations(&core).unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].base_version, Some(1));
    assert_eq!(
        ops[0].value["title"], "Flyway workshop",
        "the thread and title stay"
    );
}

#[test]
fn only_a_post_never_sent_can_be_withdrawn() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);
    let t = forum::new_thread(&core, GENERAL, "T", "first").unwrap();
    let r = forum::reply(&core, &t.id, "second").unwrap();
    let (_, message) = err_text(forum::withdraw_post(&core, &t.id));
    assert!(
        message.contains("withdraw the 1 reply under this thread first"),
        "{message}"
    );

    forum::withdraw_post(&core, &r.id).unwrap();
    let ops = sync::pending_operations(&core).unwrap();
    assert_eq!(ops.len(), 1, "the reply's operation went with it: {ops:?}");
    assert_eq!(forum::thread(&core, &t.id).unwrap().posts.len(), 1);
    assert!(forum::search(&core, "second", "en").unwrap().is_empty());

    // Once sent (even with its answer lost), it may be on the server: refused.
    let batch = sync::next_batch(&core, 200).unwrap();
    assert_eq!(batch.len(), 1);
    let (code, message) = err_text(forum::withdraw_post(&core, &t.id));
    assert_eq!(code, "post_already_sent");
    assert!(message.contains("already been sent"), "{message}");
    assert_eq!(sync::pending_operations(&core).unwrap().len(), 1);

    // Another's post is not the reader's to change.
    let other = uuid();
    feed.post(
        &other,
        &other,
        GENERAL,
        Some("Theirs"),
        "text",
        "chidi",
        "2025-01-01T00:00:00Z",
    );
    feed.pull(&core);
    let (_, message) = err_text(forum::edit_post(&core, &other, "mine now"));
    assert_eq!(message, "only its author can edit a post");
    let (_, message) = err_text(forum::withdraw_post(&core, &other));
    assert_eq!(message, "only its author can edit a post");
}

#[test]
fn an_edit_racing_another_becomes_a_conflict_with_both_texts() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);
    let post = uuid();
    feed.post(
        &post,
        &post,
        GENERAL,
        Some("Quorum"),
        "Original text",
        "amina",
        "2025-01-01T00:00:00Z",
    );
    feed.pull(&core);

    forum::edit_post(&core, &post, "My laptop's edit").unwrap();
    // The server has another edit (from the author's other device) at version 2.
    let theirs =
        json!({"thread": post, "category": GENERAL, "title": "Quorum", "body": "My phone's edit"});
    let batch = push(&core, |_| Outcome::Conflict {
        server_value: theirs.clone(),
        server_version: 2,
    });
    assert_eq!(batch[0].base_version, 1);
    let p = &forum::thread(&core, &post).unwrap().posts[0];
    let c = p.conflict.as_ref().expect("a conflict on the post");
    assert_eq!(
        (c.mine.as_str(), c.theirs.as_str()),
        ("My laptop's edit", "My phone's edit")
    );
    assert!(
        p.body_html.contains("My laptop"),
        "nothing overwritten while the person chooses"
    );
    assert!(!p.pending);

    forum::resolve_post_conflict(&core, &post, true).unwrap();
    let ops = sync::pending_operations(&core).unwrap();
    assert_eq!((ops.len(), ops[0].base_version), (1, Some(2)));
    assert_eq!(ops[0].value["body"], "My laptop's edit");
    assert!(
        forum::thread(&core, &post).unwrap().posts[0]
            .conflict
            .is_none()
    );

    // The same race, settled the other way.
    forum::edit_post(&core, &post, "Third try").unwrap();
    let theirs =
        json!({"thread": post, "category": GENERAL, "title": "Quorum", "body": "Phone again"});
    push(&core, |_| Outcome::Conflict {
        server_value: theirs.clone(),
        server_version: 4,
    });
    forum::resolve_post_conflict(&core, &post, false).unwrap();
    let p = &forum::thread(&core, &post).unwrap().posts[0];
    assert!(p.body_html.contains("Phone again") && p.conflict.is_none() && p.edited);
    assert!(sync::pending_operations(&core).unwrap().is_empty());
    assert_eq!(
        err_text(forum::resolve_post_conflict(&core, &post, true)).0,
        "not_found"
    );
}

#[test]
fn an_edit_refused_because_the_post_was_hidden_keeps_both_texts() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);
    let post = forum::new_thread(&core, GENERAL, "Offer", "Original")
        .unwrap()
        .id;
    push(&core, applied);
    feed.meta(&post, "amina", "2025-01-01T00:00:00Z");
    feed.pull(&core);

    forum::edit_post(&core, &post, "Edited offline").unwrap();
    let reason = "this post was hidden by moderation and can no longer be edited";
    push(&core, |_| {
        stopover_protocol::Refusal::new(stopover_protocol::RefusalCode::PostHidden, reason).into()
    });
    feed.put("forum_post", &post, "hidden", json!(true));
    feed.pull(&core);

    let p = &forum::thread(&core, &post).unwrap().posts[0];
    assert!(p.hidden && p.mine);
    assert_eq!(
        p.refusal.as_ref().map(|r| r.code),
        Some(stopover_protocol::RefusalCode::PostHidden)
    );
    let c = p
        .conflict
        .as_ref()
        .expect("the refused edit is shown beside the server's text");
    assert_eq!(
        (c.mine.as_str(), c.theirs.as_str()),
        ("Edited offline", "Original")
    );
    assert!(
        p.body_html.contains("Original"),
        "the author still sees the server's text"
    );
    let (_, message) = err_text(forum::edit_post(&core, &post, "again"));
    assert!(message.contains("hidden by the Secretariat"), "{message}");
    let (_, message) = err_text(forum::resolve_post_conflict(&core, &post, true));
    assert!(message.contains("copy your text"), "{message}");
    assert!(
        forum::thread(&core, &post).unwrap().posts[0]
            .conflict
            .is_some(),
        "still there to copy"
    );

    forum::resolve_post_conflict(&core, &post, false).unwrap();
    let p = &forum::thread(&core, &post).unwrap().posts[0];
    assert!(p.conflict.is_none() && p.refusal.is_none());
    assert!(sync::rejected(&core).unwrap().is_empty());
}

#[test]
fn a_locked_thread_takes_no_reply_and_no_edit() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);
    let t = uuid();
    feed.post(
        &t,
        &t,
        GENERAL,
        Some("Closed"),
        "x",
        "chidi",
        "2025-01-01T00:00:00Z",
    )
    .put("forum_thread", &t, "locked", json!(true));
    let mine = uuid();
    feed.post(
        &mine,
        &t,
        GENERAL,
        None,
        "my reply",
        "amina",
        "2025-01-01T00:01:00Z",
    );
    feed.pull(&core);
    let (_, message) = err_text(forum::edit_post(&core, &mine, "changed"));
    assert_eq!(
        message,
        "this thread was locked by the Secretariat: its posts can no longer be edited"
    );
    let (code, message) = err_text(forum::reply(&core, &t, "late"));
    assert_eq!(code, "thread_locked");
    assert!(message.contains("locked by the Secretariat"), "{message}");
    assert_eq!(err_text(forum::reply(&core, &uuid(), "x")).0, "not_found");
}

#[test]
fn search_folds_accents_marks_matches_only_and_skips_hidden_posts() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);
    let (a, b, c) = (uuid(), uuid(), uuid());
    feed.post(
        &a,
        &a,
        GENERAL,
        Some("Délégation à la COP"),
        "Les lettres de <b>créance</b> arrivent.",
        "chidi",
        "2025-01-01T00:00:00Z",
    )
    .post(
        &b,
        &a,
        GENERAL,
        None,
        "Credenciales: enviadas por valija diplomática.",
        "baraka",
        "2025-01-02T00:00:00Z",
    )
    .post(
        &c,
        &a,
        GENERAL,
        None,
        "delegation spam",
        "baraka",
        "2025-01-03T00:00:00Z",
    )
    .put("forum_post", &c, "hidden", json!(true));
    feed.pull(&core);

    let hits = forum::search(&core, "delegation", "en").unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].post_id, a);
    assert_eq!(hits[0].thread_title, "Délégation à la COP");
    assert!(
        hits[0].snippet_html.contains("<mark>Délégation</mark>"),
        "{}",
        hits[0].snippet_html
    );
    let hits = forum::search(&core, "creance", "fr").unwrap();
    assert_eq!(hits.len(), 1);
    let snippet = &hits[0].snippet_html;
    assert!(snippet.contains("<mark>créance</mark>"), "{snippet}");
    assert!(
        !snippet.contains("<b>"),
        "no markup but the marks: {snippet}"
    );
    assert_eq!(
        forum::search(&core, "valija diplom", "es").unwrap()[0].post_id,
        b
    );
    assert!(
        forum::search(&core, "\" OR * NEAR(", "en")
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        err_text(forum::search(&core, "x", "de")).0,
        "unknown_language"
    );

    // A post written here is found at once; an edit replaces its words.
    let mine = forum::reply(&core, &a, "Nous enverrons les originaux.").unwrap();
    assert_eq!(
        forum::search(&core, "originaux", "fr").unwrap()[0].post_id,
        mine.id
    );
    forum::edit_post(&core, &mine.id, "Copies numérisées d'abord.").unwrap();
    assert!(forum::search(&core, "originaux", "fr").unwrap().is_empty());
    assert_eq!(forum::search(&core, "numerisees", "fr").unwrap().len(), 1);
}

#[test]
fn retention_prunes_stale_and_excess_threads_but_never_what_waits_to_be_sent() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);
    let (old, _) = thread_with_replies(&mut feed, GENERAL, "Old news", "chidi", "2019-01-10", 5);
    let (old_qa, _) =
        thread_with_replies(&mut feed, "qa", "Old question", "chidi", "2019-02-10", 3);
    let (recent, _) =
        thread_with_replies(&mut feed, GENERAL, "This week", "chidi", "2099-01-01", 4);
    feed.pull(&core);
    // A reply written here to an old thread keeps that thread whole.
    forum::reply(&core, &old_qa, "Still relevant to me").unwrap();
    assert_eq!(post_count(&core), 6 + 4 + 5 + 1);

    forum::set_retention(
        &core,
        Retention {
            months: 12,
            categories: vec![],
            max_posts: 1000,
        },
    )
    .unwrap();
    assert!(
        forum::threads(&core, GENERAL)
            .unwrap()
            .iter()
            .all(|t| t.id != old)
    );
    assert_eq!(
        forum::thread(&core, &old_qa).unwrap().posts.len(),
        5,
        "protected by the pending reply"
    );
    assert_eq!(post_count(&core), 5 + 5);
    assert!(
        forum::search(&core, "Old news", "en")
            .unwrap()
            .iter()
            .all(|h| h.thread_id != old),
        "gone from the index too"
    );

    // Later changes of a pruned post update its archived copy, not a fragment in the cache;
    // opening the thread brings it back whole, edit included.
    feed.content(&old, &old, GENERAL, Some("Old news"), "edited long after");
    feed.pull(&core);
    assert_eq!(post_count(&core), 5 + 5, "nothing came back by itself");
    let back = forum::thread(&core, &old).unwrap();
    assert_eq!(back.posts.len(), 6, "the thread came back whole");
    assert!(back.posts[0].body_html.contains("edited long after"));
    assert_eq!(back.posts[0].author, "chidi");
    assert_eq!(post_count(&core), 5 + 5 + 6);

    // The bound on the number of posts: least recently active threads go first.
    push(&core, applied);
    let many: Vec<String> = (0..30)
        .map(|i| {
            thread_with_replies(
                &mut feed,
                GENERAL,
                &format!("T{i}"),
                "chidi",
                &format!("2098-01-{:02}", i % 28 + 1),
                9,
            )
            .0
        })
        .collect();
    feed.pull(&core);
    forum::set_retention(
        &core,
        Retention {
            months: 0,
            categories: vec![],
            max_posts: 100,
        },
    )
    .unwrap();
    let n = post_count(&core);
    assert!(n <= 100 && n > 80, "{n} posts kept");
    assert!(
        forum::thread(&core, &recent).is_ok(),
        "the most recent thread stays"
    );
    assert!(
        forum::threads(&core, GENERAL)
            .unwrap()
            .iter()
            .all(|t| t.id != many[0]),
        "the least recently active went"
    );
    assert_eq!(
        forum::thread(&core, &many[0]).unwrap().posts.len(),
        10,
        "and comes back when opened"
    );

    // Categories: only the kept ones stay.
    forum::set_retention(
        &core,
        Retention {
            months: 0,
            categories: vec!["qa".into()],
            max_posts: 1000,
        },
    )
    .unwrap();
    assert!(forum::threads(&core, GENERAL).unwrap().is_empty());
    assert_eq!(forum::retention(&core).unwrap().categories, ["qa"]);

    let (_, message) = err_text(forum::set_retention(
        &core,
        Retention {
            months: 0,
            categories: vec!["nowhere".into()],
            max_posts: 1000,
        },
    ));
    assert_eq!(message, "there is no forum category `nowhere` to keep");
    let (_, message) = err_text(forum::set_retention(
        &core,
        Retention {
            months: 0,
            categories: vec![],
            max_posts: 5,
        },
    ));
    assert!(message.contains("between 100 and"), "{message}");
    assert_eq!(
        forum::retention(&core).unwrap().categories,
        ["qa"],
        "the setting is untouched"
    );
}

#[test]
fn a_late_reply_to_a_pruned_thread_still_shows_its_title() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);
    let (old, _) = thread_with_replies(&mut feed, GENERAL, "Ancient", "chidi", "2018-05-01", 2);
    feed.pull(&core);
    forum::set_retention(
        &core,
        Retention {
            months: 6,
            categories: vec![],
            max_posts: 1000,
        },
    )
    .unwrap();
    assert_eq!(post_count(&core), 0);
    let late = uuid();
    feed.post(
        &late,
        &old,
        GENERAL,
        None,
        "Reviving this",
        "baraka",
        "2099-01-01T00:00:00Z",
    );
    feed.pull(&core);
    assert_eq!(post_count(&core), 1, "only the late reply is in the cache");
    let view = forum::thread(&core, &old).unwrap();
    assert_eq!(view.title, "Ancient");
    assert_eq!(
        view.posts.len(),
        4,
        "opening it brought the pruned posts back"
    );
    assert!(
        view.posts
            .last()
            .unwrap()
            .body_html
            .contains("Reviving this")
    );
}

#[test]
fn composer_drafts_autosave_per_place() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let thread = uuid();
    let key = DraftKey::Reply {
        thread: thread.to_string(),
    };
    assert_eq!(forum::composer_draft(&core, &key).unwrap(), None);
    forum::save_composer_draft(&core, &key, "Dear colleagues,").unwrap();
    forum::save_composer_draft(&core, &key, "Dear colleagues, thank you").unwrap();
    forum::save_composer_draft(
        &core,
        &DraftKey::New {
            category: "qa".into(),
        },
        "Question?",
    )
    .unwrap();
    assert_eq!(
        forum::composer_draft(&core, &key).unwrap().as_deref(),
        Some("Dear colleagues, thank you")
    );
    forum::clear_composer_draft(&core, &key).unwrap();
    assert_eq!(forum::composer_draft(&core, &key).unwrap(), None);
    assert_eq!(
        forum::composer_draft(
            &core,
            &DraftKey::New {
                category: "qa".into()
            }
        )
        .unwrap()
        .as_deref(),
        Some("Question?")
    );
    forum::save_composer_draft(
        &core,
        &DraftKey::New {
            category: "qa".into(),
        },
        "  ",
    )
    .unwrap();
    assert_eq!(
        forum::composer_draft(
            &core,
            &DraftKey::New {
                category: "qa".into()
            }
        )
        .unwrap(),
        None,
        "an empty composer keeps no draft"
    );
    let (_, message) = err_text(forum::save_composer_draft(
        &core,
        &DraftKey::Reply {
            thread: "../x".into(),
        },
        "y",
    ));
    assert_eq!(message, "`../x` is not a post id");
    let (_, message) = err_text(forum::composer_draft(
        &core,
        &DraftKey::New {
            category: "No Such".into(),
        },
    ));
    assert!(message.contains("not a forum category id"), "{message}");
}

#[test]
fn the_directory_filters_offline_and_my_contact_is_queued() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    let card = |name: &str, country: Option<&str>, instruments: &[&str]| json!({"display_name": name, "role": if country.is_some() {"nfp"} else {"secretariat"}, "country": country, "instruments": instruments});
    feed.put(
        "profile",
        "amina",
        "account",
        card("Amina Wanjiru", Some("KE"), &["CMS", "AEWA"]),
    )
    .put(
        "profile",
        "chidi",
        "account",
        card("Chidi Okeke", Some("NG"), &["CMS"]),
    )
    .put(
        "profile",
        "elodie",
        "account",
        card("Élodie Martin", Some("FR"), &["AEWA", "EUROBATS"]),
    )
    .put(
        "profile",
        "sec",
        "account",
        card("CMS Secretariat", None, &[]),
    )
    .put(
        "profile",
        "chidi",
        "shared",
        json!({"organisation": "Federal Ministry of Environment", "email": "chidi@example.org"}),
    );
    feed.pull(&core);

    let names = |v: Vec<forum::Profile>| v.into_iter().map(|p| p.username).collect::<Vec<_>>();
    assert_eq!(
        names(forum::directory(&core, "", None, None, None).unwrap()).len(),
        4
    );
    assert_eq!(
        names(forum::directory(&core, "elodie", None, None, None).unwrap()),
        ["elodie"],
        "accents folded"
    );
    assert_eq!(
        names(forum::directory(&core, "federal ministry", None, None, None).unwrap()),
        ["chidi"]
    );
    assert_eq!(
        names(forum::directory(&core, "", Some("ng"), None, None).unwrap()),
        ["chidi"]
    );
    assert_eq!(
        names(forum::directory(&core, "", None, Some("aewa"), None).unwrap()),
        ["elodie", "amina"],
        "by country, then name"
    );
    assert_eq!(
        names(forum::directory(&core, "", None, None, Some("africa")).unwrap()),
        ["amina", "chidi"]
    );
    assert_eq!(
        names(forum::directory(&core, "", None, None, Some("europe")).unwrap()),
        ["elodie"]
    );
    let chidi = forum::directory(&core, "chidi", None, None, None)
        .unwrap()
        .remove(0);
    assert_eq!(chidi.shared.email.as_deref(), Some("chidi@example.org"));
    let (_, message) = err_text(forum::directory(&core, "", None, None, Some("atlantis")));
    assert!(
        message.starts_with("unknown region `atlantis`"),
        "{message}"
    );

    forum::set_my_contact(
        &core,
        SharedContact {
            organisation: Some(" Kenya Wildlife Service ".into()),
            email: Some("".into()),
            phone: None,
            languages: vec!["en".into(), "sw".into()],
        },
    )
    .unwrap();
    let ops = sync::pending_operations(&core).unwrap();
    assert_eq!(
        (
            ops[0].kind.name(),
            ops[0].entity_id.as_str(),
            ops[0].field.as_str()
        ),
        ("profile", "amina", "shared")
    );
    assert_eq!(
        ops[0].value,
        json!({"organisation": "Kenya Wildlife Service", "languages": ["en", "sw"]})
    );
    assert_eq!(
        forum::directory(&core, "kenya wildlife", None, None, None).unwrap()[0].username,
        "amina"
    );
    let (code, _) = err_text(forum::set_my_contact(
        &core,
        SharedContact {
            email: Some("x".repeat(400)),
            ..SharedContact::default()
        },
    ));
    assert_eq!(code, "text_too_long");
    assert_eq!(sync::pending_operations(&core).unwrap().len(), 1);
}

#[test]
fn event_registration_is_queued_offline_and_a_refusal_is_shown() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    let event = |closes: &str, capacity: u32| {
        json!({"title": {"en": "Flyway training", "es": "Formación sobre rutas"}, "starts_on": "2099-06-01", "ends_on": "2099-06-03",
               "location": "Nairobi, Kenya", "region": "africa", "registration_closes_on": closes, "capacity": capacity})
    };
    feed.put("event", "flyway-2099", "info", event("2099-05-01", 2))
        .put("event", "past-2001", "info", event("2001-01-01", 10));
    feed.pull(&core);
    let evs = forum::events(&core, "es").unwrap();
    assert_eq!(evs.len(), 2);
    let e = evs.iter().find(|e| e.id == "flyway-2099").unwrap();
    assert_eq!(e.title, "Formación sobre rutas");
    assert_eq!(serde_json::to_value(e).unwrap()["registration"], "none");

    let v = forum::register_for_event(&core, "flyway-2099", true).unwrap();
    assert_eq!(serde_json::to_value(&v).unwrap()["registration"], "waiting");
    let ops = sync::pending_operations(&core).unwrap();
    assert_eq!(
        (
            ops[0].kind.name(),
            ops[0].field.as_str(),
            ops[0].value.clone()
        ),
        ("event_registration", "registered", json!(true))
    );
    push(&core, applied);
    let flyway = |core: &stopover_core::Core| {
        let all = forum::events(core, "en").unwrap();
        serde_json::to_value(all.iter().find(|e| e.id == "flyway-2099").unwrap()).unwrap()
    };
    assert_eq!(flyway(&core)["registration"], "registered");

    forum::register_for_event(&core, "flyway-2099", false).unwrap();
    assert_eq!(flyway(&core)["registration"], "cancel_waiting");
    push(&core, applied);

    // Registering again, but the event filled up meanwhile: the reason is shown.
    forum::register_for_event(&core, "flyway-2099", true).unwrap();
    push(&core, |_| {
        stopover_protocol::Refusal::new(
            stopover_protocol::RefusalCode::EventFull,
            "the event is full (2 places)",
        )
        .with("capacity", 2u64)
        .into()
    });
    let v = flyway(&core);
    assert_eq!(v["registration"], "none");
    assert_eq!(v["refusal"]["code"], "event_full");
    assert_eq!(v["refusal"]["params"]["capacity"], 2);

    let (_, message) = err_text(forum::register_for_event(&core, "past-2001", true));
    assert_eq!(message, "registration for this event closed on 2001-01-01");
    assert_eq!(
        err_text(forum::register_for_event(&core, "nope", true)).0,
        "not_found"
    );
    assert!(sync::pending_operations(&core).unwrap().is_empty());
}

#[test]
fn the_home_notice_counts_new_replies_to_my_threads() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);
    let mine = forum::new_thread(&core, GENERAL, "My question", "Anyone?")
        .unwrap()
        .id;
    push(&core, applied);
    feed.meta(&mine, "amina", "2025-01-01T00:00:00Z");
    let (theirs, _) = thread_with_replies(&mut feed, GENERAL, "Theirs", "chidi", "2025-01-02", 3);
    feed.pull(&core);
    assert_eq!(
        forum::home_notice(&core).unwrap().new_replies_to_my_threads,
        0
    );

    let (r1, r2) = (uuid(), uuid());
    feed.post(
        &r1,
        &mine,
        GENERAL,
        None,
        "Yes!",
        "chidi",
        "2025-01-03T00:00:00Z",
    )
    .post(
        &r2,
        &mine,
        GENERAL,
        None,
        "Me too",
        "baraka",
        "2025-01-03T01:00:00Z",
    );
    feed.pull(&core);
    forum::reply(&core, &mine, "Thanks both").unwrap();
    let notice = forum::home_notice(&core).unwrap();
    assert_eq!(notice.new_replies_to_my_threads, 2);
    assert_eq!(notice.threads.len(), 1);
    assert_eq!(notice.threads[0].id, mine);
    assert!(notice.threads.iter().all(|t| t.id != theirs));

    forum::acknowledge_home_notice(&core).unwrap();
    assert_eq!(
        forum::home_notice(&core).unwrap().new_replies_to_my_threads,
        0
    );
}

#[test]
fn retention_runs_in_one_transaction_with_the_cache_reopened_intact() -> Result<()> {
    // The setting and the pruned cache survive a restart (a real file, reopened).
    let dir = tempfile::tempdir().unwrap();
    let open_at = |p: &std::path::Path| {
        stopover_core::Core::open(
            p,
            Err(stopover_core::content::PackError {
                file: "manifest.toml".into(),
                reason: "none".into(),
            }),
        )
    };
    let thread;
    {
        let core = open_at(dir.path())?;
        signed_in_as(&core, "amina");
        let mut feed = Feed::default();
        with_categories(&core, &mut feed);
        thread = thread_with_replies(&mut feed, GENERAL, "Kept", "chidi", "2099-01-01", 2).0;
        feed.pull(&core);
        forum::set_retention(
            &core,
            Retention {
                months: 3,
                categories: vec![GENERAL.into()],
                max_posts: 500,
            },
        )?;
    }
    let core = open_at(dir.path())?;
    assert_eq!(
        forum::retention(&core)?,
        Retention {
            months: 3,
            categories: vec![GENERAL.into()],
            max_posts: 500
        }
    );
    assert_eq!(forum::thread(&core, &thread)?.posts.len(), 3);
    let missing = forum::thread(&core, "nope");
    assert!(matches!(missing, Err(Error::NotFound(_))));
    Ok(())
}

/// A thread whose first post the Secretariat hid, with a reply by baraka, pulled by `core`.
fn thread_with_hidden_first_post(core: &stopover_core::Core, feed: &mut Feed) -> (String, String) {
    let (thread, reply) = (uuid(), uuid());
    feed.post(
        &thread,
        &thread,
        GENERAL,
        Some("Smuggling routes for sale"),
        "Contact me for the smuggling routes.",
        "chidi",
        "2025-01-01T00:00:00Z",
    )
    .post(
        &reply,
        &thread,
        GENERAL,
        None,
        "Reported to the Secretariat: falconry permits are not for sale.",
        "baraka",
        "2025-01-02T00:00:00Z",
    )
    .put("forum_post", &thread, "hidden", json!(true));
    feed.pull(core);
    (thread, reply)
}

#[test]
fn a_thread_whose_first_post_was_hidden_shows_no_title_author_or_search_hit_to_others() {
    let (_d, core) = open();
    signed_in_as(&core, "amina");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);
    let (visible, _) = thread_with_replies(
        &mut feed,
        GENERAL,
        "Permits for falconry",
        "chidi",
        "2025-01-03",
        1,
    );
    let (hidden, reply) = thread_with_hidden_first_post(&core, &mut feed);

    let list = forum::threads(&core, GENERAL).unwrap();
    let t = list.iter().find(|t| t.id == hidden).unwrap();
    assert!(t.hidden, "{t:?}");
    assert_eq!(t.title, "");
    assert_eq!(t.author_name, "");
    assert_eq!(t.country, None);
    assert_eq!(t.replies, 1, "the thread itself is still listed");
    let v = list.iter().find(|t| t.id == visible).unwrap();
    assert!(!v.hidden && v.title == "Permits for falconry" && v.author_name == "NFP chidi");
    let json = serde_json::to_value(t).unwrap();
    assert_eq!(json["hidden"], json!(true));
    assert_eq!(json["title"], json!(""));

    let view = forum::thread(&core, &hidden).unwrap();
    assert!(view.hidden);
    assert_eq!(view.title, "");
    assert_eq!(serde_json::to_value(&view).unwrap()["hidden"], json!(true));
    assert!(!forum::thread(&core, &visible).unwrap().hidden);

    // Neither the hidden post's words nor its thread (through a reply) are found.
    assert!(forum::search(&core, "smuggling", "en").unwrap().is_empty());
    let hits = forum::search(&core, "falconry", "en").unwrap();
    assert!(
        hits.iter()
            .all(|h| h.thread_id != hidden && h.post_id != reply),
        "{hits:?}"
    );
    assert!(!hits.is_empty(), "the visible thread is still found");
    assert!(
        hits.iter().all(|h| !h.thread_title.contains("Smuggling")),
        "{hits:?}"
    );

    // Unhidden, it is back everywhere.
    feed.put("forum_post", &hidden, "hidden", json!(false));
    feed.pull(&core);
    let t = forum::threads(&core, GENERAL)
        .unwrap()
        .into_iter()
        .find(|t| t.id == hidden)
        .unwrap();
    assert!(!t.hidden && t.title == "Smuggling routes for sale" && t.author_name == "NFP chidi");
    assert_eq!(
        forum::thread(&core, &hidden).unwrap().title,
        "Smuggling routes for sale"
    );
    let hits = forum::search(&core, "smuggling", "en").unwrap();
    assert!(hits.iter().any(|h| h.post_id == hidden), "{hits:?}");
}

#[test]
fn the_author_of_a_hidden_first_post_still_sees_the_thread_but_not_in_the_home_notice() {
    let (_d, core) = open();
    signed_in_as(&core, "chidi");
    let mut feed = Feed::default();
    with_categories(&core, &mut feed);
    let (hidden, reply) = thread_with_hidden_first_post(&core, &mut feed);

    let t = forum::threads(&core, GENERAL)
        .unwrap()
        .into_iter()
        .find(|t| t.id == hidden)
        .unwrap();
    assert!(!t.hidden, "{t:?}");
    assert_eq!(t.title, "Smuggling routes for sale");
    assert_eq!(t.author_name, "NFP chidi");
    let view = forum::thread(&core, &hidden).unwrap();
    assert!(!view.hidden);
    assert_eq!(view.title, "Smuggling routes for sale");
    assert!(view.posts[0].hidden && view.posts[0].mine);

    // The replies in it are found by their author's search, under the thread's title.
    let hits = forum::search(&core, "falconry", "en").unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].post_id, reply);
    assert_eq!(hits[0].thread_title, "Smuggling routes for sale");

    // A reply to the hidden thread is not announced on the home view.
    let notice = forum::home_notice(&core).unwrap();
    assert_eq!(notice.new_replies_to_my_threads, 0, "{notice:?}");
    assert!(notice.threads.is_empty(), "{notice:?}");

    // A visible thread of theirs still is.
    let (mine, _) = thread_with_replies(&mut feed, GENERAL, "Permits", "chidi", "2025-01-04", 2);
    feed.pull(&core);
    let notice = forum::home_notice(&core).unwrap();
    assert_eq!(notice.new_replies_to_my_threads, 2);
    assert_eq!(notice.threads.len(), 1);
    assert_eq!(notice.threads[0].id, mine);
}
