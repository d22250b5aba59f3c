//! The forum rules through the real push engine on a real SQLite file.

use rusqlite::Connection;
use serde_json::{Value, json};
use stopover_protocol::forum::{CategoryInfo, EventInfo, Localized, PostMeta, ProfileAccount};
use stopover_protocol::{AccountStatus, Change, EntityRef, Operation, Outcome, RecordKind, Role};

use super::*;
use crate::accounts::store::{insert, set_status, tests::new_account};
use crate::auth::policy::SyncScope;
use crate::auth::policy::sync_scope;
use crate::sync::pull::pull;
use crate::sync::push::apply;
use stopover_protocol::sync_file::FeedPart;

const THREAD: &str = "01939a2b-7c4d-7e8f-9a0b-00000000a001";
const REPLY: &str = "01939a2b-7c4d-7e8f-9a0b-00000000a002";
const REPLY2: &str = "01939a2b-7c4d-7e8f-9a0b-00000000a003";
const NOWHERE: &str = "01939a2b-7c4d-7e8f-9a0b-00000000dead";

struct World {
    _dir: tempfile::TempDir,
    c: Connection,
    amina: SyncScope,
    baraka: SyncScope,
    sec: SyncScope,
    admin: SyncScope,
    next_op: std::cell::Cell<u32>,
}

/// Two Kenyan NFPs, the Secretariat and an admin, and the default categories.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let mut c = crate::db::open(dir.path()).unwrap();
    let add = |name: &str, role: Role, country: Option<&str>| {
        sync_scope(
            &insert(
                &c,
                &new_account(name, role, country, AccountStatus::Approved),
            )
            .unwrap(),
        )
    };
    let (amina, baraka) = (
        add("amina", Role::Nfp, Some("KE")),
        add("baraka", Role::Nfp, Some("KE")),
    );
    let (sec, admin) = (
        add("secretariat", Role::Secretariat, None),
        add("root", Role::Admin, None),
    );
    seed(&mut c).unwrap();
    World {
        _dir: dir,
        c,
        amina,
        baraka,
        sec,
        admin,
        next_op: std::cell::Cell::new(1),
    }
}

impl World {
    fn op(&self, kind: RecordKind, id: &str, field: &str, base: u64, value: Value) -> Operation {
        let n = self.next_op.get();
        self.next_op.set(n + 1);
        Operation {
            id: format!("01939a2b-7c4d-7e8f-9a0b-{n:012}"),
            entity: EntityRef {
                kind: kind.name().into(),
                id: id.into(),
            },
            field: field.into(),
            base_version: base,
            value,
        }
    }

    fn push(&self, who: &SyncScope, op: Operation) -> Outcome {
        apply(&self.c, who, &[op]).unwrap().remove(0).outcome
    }

    fn post(&self, id: &str, base: u64, content: Value) -> Operation {
        self.op(RecordKind::ForumPost, id, "content", base, content)
    }

    fn feed(&self, who: &SyncScope) -> Vec<Change> {
        pull(&self.c, who, 0, 500, FeedPart::All).unwrap().changes
    }

    fn community(&self, kind: RecordKind) -> Vec<Change> {
        self.feed(&self.sec)
            .into_iter()
            .filter(|c| c.entity.kind == kind.name())
            .collect()
    }
}

fn thread(category: &str, title: &str, body: &str) -> Value {
    json!({"thread": THREAD, "category": category, "title": title, "body": body})
}

fn reply(thread: &str, category: &str, body: &str) -> Value {
    json!({"thread": thread, "category": category, "body": body})
}

fn rejected(o: Outcome) -> String {
    match o {
        Outcome::Rejected { reason, .. } => reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[track_caller]
fn assert_refused(o: Outcome, needle: &str) {
    let reason = rejected(o);
    assert!(
        reason.contains(needle),
        "`{reason}` does not say `{needle}`"
    );
}

#[test]
fn a_thread_and_its_reply_in_one_push_each_get_their_meta_after_the_content() {
    let w = world();
    let ops = [
        w.post(THREAD, 0, thread("qa", "Credentials for COP15", "How?")),
        w.post(REPLY, 0, reply(THREAD, "qa", "Like this.")),
    ];
    let results = apply(&w.c, &w.amina, &ops).unwrap();
    assert!(
        results
            .iter()
            .all(|r| r.outcome == Outcome::Applied { version: 1 }),
        "{results:?}"
    );
    let posts = w.community(RecordKind::ForumPost);
    let order: Vec<(&str, &str)> = posts
        .iter()
        .map(|c| (c.entity.id.as_str(), c.field.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            (THREAD, "content"),
            (THREAD, "meta"),
            (REPLY, "content"),
            (REPLY, "meta")
        ]
    );
    let meta: PostMeta = serde_json::from_value(posts[1].value.clone()).unwrap();
    assert_eq!(
        (
            meta.author.as_str(),
            meta.author_name.as_str(),
            meta.country.as_deref()
        ),
        ("amina", "amina display", Some("KE"))
    );
    assert_eq!(posts[1].version, 1);
    assert_ne!(
        posts[1].op_id, ops[0].id,
        "the meta is the server's own change"
    );
    assert!(
        meta.created_at.len() == 20 && meta.created_at.ends_with('Z'),
        "{}",
        meta.created_at
    );
    // Every approved account reads the community feed, a colleague too.
    assert_eq!(
        w.feed(&w.baraka)
            .iter()
            .filter(|c| c.entity.kind == "forum_post")
            .count(),
        4
    );
    // The Secretariat's posts carry no country.
    let sec_thread = "01939a2b-7c4d-7e8f-9a0b-00000000b001";
    let mut content = thread("general", "Welcome", "Hello all");
    content["thread"] = json!(sec_thread);
    assert_eq!(
        w.push(&w.sec, w.post(sec_thread, 0, content)),
        Outcome::Applied { version: 1 }
    );
    let meta = current(&w.c, RecordKind::ForumPost, sec_thread, "meta")
        .unwrap()
        .unwrap();
    assert_eq!(meta["country"], Value::Null, "{meta}");
    assert_eq!(meta["author"], "secretariat");
}

#[test]
fn a_retried_post_is_one_post_with_one_meta() {
    let w = world();
    let op = w.post(THREAD, 0, thread("general", "Hi", "First"));
    for _ in 0..3 {
        apply(&w.c, &w.amina, std::slice::from_ref(&op)).unwrap();
    }
    assert_eq!(
        w.push(&w.amina, op.clone()),
        Outcome::Duplicate { version: 1 }
    );
    assert_eq!(
        w.community(RecordKind::ForumPost).len(),
        2,
        "content + meta"
    );
}

#[test]
fn a_new_post_needs_a_category_and_an_open_thread() {
    let w = world();
    let mut content = thread("no-such-place", "T", "B");
    assert_refused(
        w.push(&w.amina, w.post(THREAD, 0, content.clone())),
        "there is no forum category `no-such-place`",
    );
    assert_refused(
        w.push(&w.amina, w.post(REPLY, 0, reply(NOWHERE, "qa", "?"))),
        &format!("there is no thread {NOWHERE} on the server"),
    );
    content["category"] = json!("qa");
    assert_eq!(
        w.push(&w.amina, w.post(THREAD, 0, content)),
        Outcome::Applied { version: 1 }
    );
    assert_refused(
        w.push(&w.baraka, w.post(REPLY, 0, reply(THREAD, "general", "x"))),
        "a reply belongs to its thread's category `qa`",
    );
    assert_eq!(
        w.push(&w.baraka, w.post(REPLY, 0, reply(THREAD, "qa", "x"))),
        Outcome::Applied { version: 1 }
    );
    assert_refused(
        w.push(&w.amina, w.post(REPLY2, 0, reply(REPLY, "qa", "nested"))),
        "is a reply, not a thread",
    );
    // Locked: no new replies.
    assert_eq!(
        w.push(
            &w.sec,
            w.op(RecordKind::ForumThread, THREAD, "locked", 0, json!(true))
        ),
        Outcome::Applied { version: 1 }
    );
    assert_refused(
        w.push(&w.baraka, w.post(REPLY2, 0, reply(THREAD, "qa", "late"))),
        "locked by the Secretariat",
    );
    // Nothing refused reached the feed or the post table.
    assert_eq!(
        w.community(RecordKind::ForumPost).len(),
        4,
        "two posts: content + meta each"
    );
    assert!(posts::find(&w.c, REPLY2).unwrap().is_none());
}

#[test]
fn only_the_author_edits_a_post_in_place() {
    let w = world();
    w.push(&w.amina, w.post(THREAD, 0, thread("qa", "Q", "v1")));
    // A colleague cannot edit it, even against the right version.
    assert_refused(
        w.push(&w.baraka, w.post(THREAD, 1, thread("qa", "Q", "mine now"))),
        "only its author can edit a post",
    );
    // The author edits: version 2, the title may change; meta is not stamped again.
    assert_eq!(
        w.push(
            &w.amina,
            w.post(THREAD, 1, thread("qa", "Q (edited)", "v2"))
        ),
        Outcome::Applied { version: 2 }
    );
    let metas = w
        .community(RecordKind::ForumPost)
        .into_iter()
        .filter(|c| c.field == "meta")
        .count();
    assert_eq!(metas, 1);
    // An edit from an old version is the engine's conflict, with the server's text.
    let stale = w.push(
        &w.amina,
        w.post(THREAD, 1, thread("qa", "Q", "other laptop")),
    );
    assert!(
        matches!(&stale, Outcome::Conflict { server_version: 2, server_value } if server_value["body"] == "v2"),
        "{stale:?}"
    );
    // A post never moves.
    assert_refused(
        w.push(&w.amina, w.post(THREAD, 2, thread("general", "Q", "moved"))),
        "cannot move to another thread or category",
    );
    // The author's reply, then hidden by the Secretariat: no more edits.
    w.push(&w.amina, w.post(REPLY, 0, reply(THREAD, "qa", "r1")));
    assert_refused(
        w.push(&w.amina, w.post(REPLY, 1, reply(REPLY2, "qa", "r1"))),
        "cannot move",
    );
    w.push(
        &w.sec,
        w.op(RecordKind::ForumPost, REPLY, "hidden", 0, json!(true)),
    );
    assert_refused(
        w.push(&w.amina, w.post(REPLY, 1, reply(THREAD, "qa", "r1 edited"))),
        "hidden by the Secretariat and can no longer be edited",
    );
    // Shown again: editable again.
    w.push(
        &w.sec,
        w.op(RecordKind::ForumPost, REPLY, "hidden", 1, json!(false)),
    );
    assert_eq!(
        w.push(&w.amina, w.post(REPLY, 1, reply(THREAD, "qa", "r1 edited"))),
        Outcome::Applied { version: 2 }
    );
    // A locked thread takes no edits either.
    w.push(
        &w.admin,
        w.op(RecordKind::ForumThread, THREAD, "locked", 0, json!(true)),
    );
    assert_refused(
        w.push(&w.amina, w.post(THREAD, 2, thread("qa", "Q", "v3"))),
        "locked",
    );
}

#[test]
fn only_the_secretariat_and_admins_moderate() {
    let w = world();
    w.push(&w.amina, w.post(THREAD, 0, thread("qa", "Q", "B")));
    w.push(&w.baraka, w.post(REPLY, 0, reply(THREAD, "qa", "R")));
    let hide = |id: &str, base| w.op(RecordKind::ForumPost, id, "hidden", base, json!(true));
    let lock = |id: &str| w.op(RecordKind::ForumThread, id, "locked", 0, json!(true));
    // NFPs: not even their own posts or threads.
    assert_refused(
        w.push(&w.amina, hide(REPLY, 0)),
        "only the Secretariat can hide",
    );
    assert_refused(
        w.push(&w.amina, hide(THREAD, 0)),
        "only the Secretariat can hide",
    );
    assert_refused(
        w.push(&w.amina, lock(THREAD)),
        "only the Secretariat can lock",
    );
    // Moderation needs something to moderate.
    assert_refused(
        w.push(&w.sec, hide(NOWHERE, 0)),
        &format!("there is no post {NOWHERE}"),
    );
    assert_refused(
        w.push(&w.sec, lock(NOWHERE)),
        &format!("there is no thread {NOWHERE}"),
    );
    assert_refused(w.push(&w.sec, lock(REPLY)), "is a reply, not a thread");
    // The Secretariat and admins do.
    assert_eq!(
        w.push(&w.sec, hide(REPLY, 0)),
        Outcome::Applied { version: 1 }
    );
    assert_eq!(
        w.push(&w.admin, lock(THREAD)),
        Outcome::Applied { version: 1 }
    );
    let feed = w.feed(&w.amina);
    assert!(
        feed.iter()
            .any(|c| c.entity.id == REPLY && c.field == "hidden" && c.value == json!(true))
    );
    assert!(
        feed.iter()
            .any(|c| c.entity.kind == "forum_thread" && c.value == json!(true))
    );
}

#[test]
fn the_admin_cli_moderates_into_the_feed() {
    let w = world();
    w.push(&w.amina, w.post(THREAD, 0, thread("qa", "Q", "B")));
    w.push(&w.baraka, w.post(REPLY, 0, reply(THREAD, "qa", "R")));
    assert!(posts::set_hidden(&w.c, REPLY, true).unwrap());
    assert!(
        !posts::set_hidden(&w.c, REPLY, true).unwrap(),
        "already hidden"
    );
    assert!(
        !posts::set_locked(&w.c, THREAD, false).unwrap(),
        "never locked = unlocked"
    );
    assert!(posts::set_locked(&w.c, THREAD, true).unwrap());
    let e = posts::set_hidden(&w.c, NOWHERE, true).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("there is no post {NOWHERE} on this server")
    );
    let e = posts::set_locked(&w.c, REPLY, true).unwrap_err();
    assert!(e.to_string().contains("is a reply, not a thread"), "{e}");
    // Written in the server's name, pulled by everyone; the app's moderation continues from
    // these versions.
    let hidden: Vec<_> = w
        .community(RecordKind::ForumPost)
        .into_iter()
        .filter(|c| c.field == "hidden")
        .collect();
    assert_eq!((hidden.len(), hidden[0].version), (1, 1));
    assert_eq!(
        w.push(
            &w.sec,
            w.op(RecordKind::ForumPost, REPLY, "hidden", 1, json!(false))
        ),
        Outcome::Applied { version: 2 }
    );
    assert_refused(
        w.push(&w.baraka, w.post(REPLY2, 0, reply(THREAD, "qa", "x"))),
        "locked",
    );
}

#[test]
fn each_person_shares_only_their_own_contact_details() {
    let w = world();
    let shared = |who: &str| {
        w.op(
            RecordKind::Profile,
            who,
            "shared",
            0,
            json!({"email": "a@example.org", "languages": ["en", "sw"]}),
        )
    };
    assert_refused(
        w.push(&w.baraka, shared("amina")),
        "only share your own contact details, not those of `amina`",
    );
    assert_refused(w.push(&w.sec, shared("amina")), "your own");
    assert_eq!(
        w.push(&w.amina, shared("amina")),
        Outcome::Applied { version: 1 }
    );
    assert!(
        w.feed(&w.baraka)
            .iter()
            .any(|c| c.entity.id == "amina" && c.field == "shared")
    );
    // The card itself is the server's.
    assert_refused(
        w.push(
            &w.amina,
            w.op(RecordKind::Profile, "amina", "account", 0, json!({})),
        ),
        "kept by the server",
    );
}

#[test]
fn approved_accounts_get_a_directory_card_once() {
    let w = world();
    // `seed` gave the four approved accounts their cards.
    let cards = w.community(RecordKind::Profile);
    let names: Vec<&str> = cards.iter().map(|c| c.entity.id.as_str()).collect();
    assert_eq!(names, ["amina", "baraka", "root", "secretariat"]);
    let amina: ProfileAccount = serde_json::from_value(cards[0].value.clone()).unwrap();
    assert_eq!(
        amina,
        ProfileAccount {
            display_name: "amina display".into(),
            role: Role::Nfp,
            country: Some("KE".into()),
            instruments: vec!["CMS".into()],
        }
    );
    // A pending account has none until approved; approving twice publishes once.
    insert(
        &w.c,
        &new_account("dalia", Role::Nfp, Some("UG"), AccountStatus::Pending),
    )
    .unwrap();
    assert_eq!(directory::publish_missing_cards(&w.c).unwrap(), 0);
    let dalia = set_status(&w.c, "dalia", AccountStatus::Approved).unwrap();
    assert!(directory::publish_card(&w.c, &dalia).unwrap());
    assert!(!directory::publish_card(&w.c, &dalia).unwrap());
    // Revoked: the card stays as it was.
    set_status(&w.c, "dalia", AccountStatus::Revoked).unwrap();
    assert_eq!(directory::publish_missing_cards(&w.c).unwrap(), 0);
    let dalia_cards = w
        .community(RecordKind::Profile)
        .into_iter()
        .filter(|c| c.entity.id == "dalia")
        .count();
    assert_eq!(dalia_cards, 1);
}

#[test]
fn default_categories_are_published_once_in_three_languages() {
    let w = world();
    let cats = w.community(RecordKind::ForumCategory);
    let slugs: Vec<&str> = cats.iter().map(|c| c.entity.id.as_str()).collect();
    for slug in [
        "general",
        "qa",
        "africa",
        "asia",
        "europe",
        "oceania",
        "south-central-america-caribbean",
        "north-america",
        "cms",
        "aewa",
        "iosea",
        "raptors",
        "sharks",
    ] {
        assert!(slugs.contains(&slug), "{slug} missing from {slugs:?}");
    }
    for c in &cats {
        let info: CategoryInfo = serde_json::from_value(c.value.clone()).unwrap();
        let (fr, es) = (info.title.fr.unwrap(), info.title.es.unwrap());
        assert!(!fr.is_empty() && !es.is_empty(), "{}", c.entity.id);
        assert_eq!((c.field.as_str(), c.version), ("info", 1));
    }
    let qa: CategoryInfo = serde_json::from_value(cats[1].value.clone()).unwrap();
    assert_eq!(qa.title.fr.as_deref(), Some("Questions et réponses"));
    // A second start publishes nothing; a category the Secretariat adds goes last.
    let mut c = w.c;
    assert_eq!(seed(&mut c).unwrap(), 0);
    let info = categories::add(
        &c,
        "west-africa",
        stopover_protocol::forum::CategoryKind::Region,
        Localized {
            en: "West Africa".into(),
            fr: None,
            es: None,
        },
        None,
    )
    .unwrap();
    assert_eq!(info.order as usize, cats.len());
    let e = categories::add(
        &c,
        "west-africa",
        stopover_protocol::forum::CategoryKind::Region,
        info.title.clone(),
        None,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the forum category `west-africa` already exists"
    );
    for (slug, title, why) in [
        ("West Africa", "x", "is not a category id"),
        ("wa", "", "the en title is empty"),
        ("wa", "two\nlines", "must be one line"),
    ] {
        let e = categories::add(
            &c,
            slug,
            stopover_protocol::forum::CategoryKind::Region,
            Localized {
                en: title.into(),
                fr: None,
                es: None,
            },
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains(why), "{e}");
    }
}

fn event(closes: &str, capacity: Option<u32>) -> EventInfo {
    EventInfo {
        title: Localized {
            en: "AEWA reporting workshop".into(),
            fr: None,
            es: None,
        },
        starts_on: "2026-09-14".into(),
        ends_on: "2026-09-16".into(),
        location: "Bonn, Germany".into(),
        region: Some("europe".into()),
        instrument: Some("aewa".into()),
        registration_closes_on: closes.into(),
        capacity,
    }
}

/// `YYYY-MM-DD`, `days` from today (UTC).
fn day(days: i64) -> String {
    stopover_forms::Date(crate::db::unix_now().div_euclid(86_400) + days).to_string()
}

#[test]
fn registering_needs_an_open_event_with_room_and_cancelling_always_works() {
    let w = world();
    let mut open = event(&day(0), Some(2)); // closes at the end of today
    (open.starts_on, open.ends_on) = (day(10), day(12));
    events::add(&w.c, "open", &open).unwrap();
    let mut closed = open.clone();
    closed.registration_closes_on = day(-1);
    events::add(&w.c, "closed", &closed).unwrap();
    let reg = |event: &str, base, v: bool| {
        w.op(
            RecordKind::EventRegistration,
            event,
            "registered",
            base,
            json!(v),
        )
    };
    assert_refused(
        w.push(&w.amina, reg("no-such-event", 0, true)),
        "there is no event `no-such-event`",
    );
    assert_refused(
        w.push(&w.amina, reg("closed", 0, true)),
        &format!(
            "registration for “AEWA reporting workshop” closed on {}",
            day(-1)
        ),
    );
    // Cancelling is fine even after the closing day.
    assert_eq!(
        w.push(&w.amina, reg("closed", 0, false)),
        Outcome::Applied { version: 1 }
    );
    // The closing day itself is open.
    assert_eq!(
        w.push(&w.amina, reg("open", 0, true)),
        Outcome::Applied { version: 1 }
    );
    assert_eq!(
        w.push(&w.baraka, reg("open", 0, true)),
        Outcome::Applied { version: 1 }
    );
    // Two places, two taken.
    assert_refused(
        w.push(&w.sec, reg("open", 0, true)),
        "is full: all 2 places are taken",
    );
    // Registering again (e.g. from a second laptop) does not count against oneself.
    assert_eq!(
        w.push(&w.amina, reg("open", 0, true)),
        Outcome::Applied { version: 1 }
    );
    // A cancellation frees the place.
    assert_eq!(
        w.push(&w.baraka, reg("open", 1, false)),
        Outcome::Applied { version: 2 }
    );
    assert_eq!(
        w.push(&w.sec, reg("open", 0, true)),
        Outcome::Applied { version: 1 }
    );
    let who: Vec<String> = events::registrations(&w.c, "open")
        .unwrap()
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert_eq!(who, ["amina", "secretariat"]);
    // A registration is the account's own: a colleague pulls only his own two.
    let seen = w
        .feed(&w.baraka)
        .into_iter()
        .filter(|c| c.entity.kind == "event_registration")
        .count();
    assert_eq!(seen, 2, "baraka's register and cancel, none of amina's");
    // A revoked account's place is free again.
    set_status(&w.c, "amina", AccountStatus::Revoked).unwrap();
    assert_eq!(
        w.push(&w.baraka, reg("open", 2, true)),
        Outcome::Applied { version: 3 }
    );
}

#[test]
fn events_are_checked_before_they_are_published() {
    let w = world();
    let mut ok = event("2026-08-31", None);
    events::add(&w.c, "aewa-2026", &ok).unwrap();
    let published = w.community(RecordKind::Event);
    assert_eq!(published.len(), 1);
    assert_eq!(
        serde_json::from_value::<EventInfo>(published[0].value.clone()).unwrap(),
        ok
    );
    assert_eq!(
        events::add(&w.c, "aewa-2026", &ok).unwrap_err().to_string(),
        "the event `aewa-2026` already exists"
    );
    let bad = |f: &dyn Fn(&mut EventInfo)| {
        let mut e = event("2026-08-31", None);
        f(&mut e);
        events::check("e", &e).unwrap_err()
    };
    assert_eq!(
        bad(&|e| e.starts_on = "2026-02-30".into()),
        "--starts `2026-02-30` is not a date like 2026-09-14"
    );
    assert!(bad(&|e| e.ends_on = "14/09/2026".into()).starts_with("--ends"));
    assert_eq!(
        bad(&|e| e.ends_on = "2026-09-13".into()),
        "--ends 2026-09-13 is before --starts 2026-09-14"
    );
    assert!(
        bad(&|e| e.registration_closes_on = "2026-09-17".into()).contains("after the event ends")
    );
    assert!(bad(&|e| e.location = " ".into()).starts_with("--location is empty"));
    assert!(bad(&|e| e.region = Some("mars".into())).contains("not a CMS region"));
    assert!(bad(&|e| e.instrument = Some("AEWA!".into())).contains("--instrument"));
    assert!(bad(&|e| e.capacity = Some(0)).contains("at least 1"));
    assert!(bad(&|e| e.title.en = String::new()).contains("title is empty"));
    ok.region = None;
    assert!(
        events::check("Bad Slug", &ok)
            .unwrap_err()
            .contains("not an event id")
    );
    let e = events::registrations(&w.c, "nope").unwrap_err();
    assert_eq!(e.to_string(), "there is no event `nope` on this server");
}

#[test]
fn dates_and_times_on_the_wire() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_788_000_000), "2026-08-29T10:40:00Z");
    assert!(is_date("2024-02-29"));
    for bad in [
        "2023-02-29",
        "2026-9-14",
        "2026-09-14T00:00",
        " 2026-09-14",
        "",
    ] {
        assert!(!is_date(bad), "{bad}");
    }
    assert_eq!(today().len(), 10);
    assert!(is_date(&today()));
}

#[test]
fn a_post_nesting_quotes_too_deep_is_refused_with_its_code_and_nothing_is_stored() {
    let w = world();
    let bomb = format!("{}boom", ">".repeat(5_000));
    match w.push(&w.amina, w.post(THREAD, 0, thread("qa", "Deep", &bomb))) {
        Outcome::Rejected { code, params, .. } => {
            assert_eq!(code, stopover_protocol::RefusalCode::NestingTooDeep);
            assert_eq!(
                params.get("max"),
                Some(&stopover_protocol::Param::Number(
                    stopover_protocol::nesting::MAX_POST_NESTING as i64
                ))
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(w.community(RecordKind::ForumPost).is_empty());
    // Quoting at the limit is fine.
    let deep_enough = format!(
        "{} quoted",
        "> ".repeat(stopover_protocol::nesting::MAX_POST_NESTING)
    );
    assert_eq!(
        w.push(
            &w.amina,
            w.post(THREAD, 0, thread("qa", "Deep", &deep_enough))
        ),
        Outcome::Applied { version: 1 }
    );
}
