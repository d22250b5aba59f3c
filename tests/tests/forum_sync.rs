//! The forum, the directory and events against the real `ecommunity` process: posts composed
//! offline reach the server exactly once and in order whatever the link does (lost answers,
//! resets, 429s through the fault-injecting proxy); two people replying offline to one
//! thread both see both replies; an edit racing the Secretariat's moderation (or another
//! edit) becomes a conflict on the author's device with nothing lost; an event registration
//! made offline is sent later, and a full event refuses with its reason shown.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use stopover_core::forum::{self, Retention, ThreadView};
use stopover_core::sync::Backoff;
use stopover_protocol::forum::PostMeta;
use stopover_protocol::{Change, EntityRef, Operation, Outcome};
use stopover_tests::api::{Api, new_op_id, within};
use stopover_tests::client::Device;
use stopover_tests::proxy::{Fault, Proxy};
use stopover_tests::server::{NewUser, Server};

const T: Duration = Duration::from_secs(120);
const GENERAL: &str = "general";

async fn sync(device: &Device) {
    device
        .sync()
        .await
        .unwrap_or_else(|e| panic!("{}: sync failed: {e} ({})", device.name, e.code()));
}

/// The whole change feed as `user` sees it, straight from the server (no proxy).
async fn feed_of(server: &Server, user: &NewUser) -> Vec<Change> {
    let token = server.sign_in(&user.username, &user.password).await;
    Api::new(&server.base_url)
        .with_token(&token)
        .pull_everything(0)
        .await
        .unwrap_or_else(|e| panic!("reading the feed as {}: {e}", user.username))
        .0
}

fn of<'a>(feed: &'a [Change], kind: &str, id: &str, field: &str) -> Vec<&'a Change> {
    feed.iter()
        .filter(|c| c.entity.kind == kind && c.entity.id == id && c.field == field)
        .collect()
}

fn ids(view: &ThreadView) -> Vec<&str> {
    view.posts.iter().map(|p| p.id.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_composed_offline_reach_the_server_once_each_in_order_through_faults() {
    within(T, "three posts through a faulty link", async {
        let mut server = Server::start();
        let (amina, baraka) = (NewUser::nfp("amina", "KE"), NewUser::nfp("baraka", "UG"));
        server.user_add_approved(&amina);
        server.user_add_approved(&baraka);
        let proxy = Proxy::start(server.addr()).await;
        let a = Device::sign_in("amina-laptop", &proxy.url(), &amina).await;
        sync(&a).await;
        assert!(
            forum::categories(&a.core, "en")
                .unwrap()
                .iter()
                .any(|c| c.id == GENERAL),
            "the server's default categories arrive with the first sync"
        );

        // Off the grid: the server is down while Amina writes a thread and two replies.
        server.stop();
        let t = forum::new_thread(
            &a.core,
            GENERAL,
            "Credentials for COP15",
            "How do we send them?",
        )
        .unwrap();
        let r1 = forum::reply(&a.core, &t.id, "The originals by diplomatic pouch.").unwrap();
        let r2 = forum::reply(&a.core, &t.id, "Scanned copies by e-mail first.").unwrap();
        let err = a.sync().await.expect_err("no server");
        assert!(err.is_transient(), "{err} ({})", err.code());
        let view = forum::thread(&a.core, &t.id).unwrap();
        assert_eq!(ids(&view), [t.id.as_str(), r1.id.as_str(), r2.id.as_str()]);
        assert!(
            view.posts
                .iter()
                .all(|p| p.pending && p.created_at.is_none())
        );
        assert_eq!(a.pending().len(), 3);

        // The server comes back behind a bad link: a 429, a push whose answer is lost after
        // the server committed, one reset half-way through its answer, one 429.
        server.restart();
        proxy.set_upstream(server.addr());
        proxy.fault_next("/v1/sync/push", Fault::Status(429));
        proxy.fault_next("/v1/sync/push", Fault::LoseResponse);
        proxy.fault_next("/v1/sync/push", Fault::ResetMidResponse);
        proxy.fault_next("/v1/sync/push", Fault::Status(429));
        let (report, errors) = a.sync_with_backoff(&mut Backoff::default(), T).await;
        assert!(errors.len() >= 4, "every fault was met: {errors:?}");
        assert_eq!(report.pushed, 3, "{report:?}");
        assert_eq!(
            report.duplicates, 3,
            "the lost push was applied; its retry is told so: {report:?}"
        );
        let pushes_reaching_server = proxy
            .events()
            .iter()
            .filter(|e| e.path == "/v1/sync/push" && e.forwarded)
            .count();
        assert!(pushes_reaching_server >= 3, "{:?}", proxy.events());

        // The server holds each post once, in the order written, stamped by the server.
        let feed = feed_of(&server, &baraka).await;
        let mut seqs = Vec::new();
        for (post, body) in [
            (&t, "How do we send them?"),
            (&r1, "The originals by diplomatic pouch."),
            (&r2, "Scanned copies by e-mail first."),
        ] {
            let content = of(&feed, "forum_post", &post.id, "content");
            assert_eq!(
                content.len(),
                1,
                "post {} is on the server {} times",
                post.id,
                content.len()
            );
            assert_eq!(content[0].version, 1);
            assert_eq!(content[0].value["body"], body);
            assert_eq!(content[0].value["thread"], json!(t.id));
            let meta = of(&feed, "forum_post", &post.id, "meta");
            assert_eq!(meta.len(), 1, "one stamp per post");
            let meta: PostMeta = serde_json::from_value(meta[0].value.clone()).unwrap();
            assert_eq!(
                (meta.author.as_str(), meta.country.as_deref()),
                ("amina", Some("KE"))
            );
            seqs.push((content[0].seq, meta.created_at));
        }
        assert!(
            seqs.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
            "in order: {seqs:?}"
        );
        let mut op_ids = HashMap::new();
        for c in &feed {
            *op_ids.entry(c.op_id.as_str()).or_insert(0) += 1;
        }
        assert!(
            op_ids.values().all(|n| *n == 1),
            "an operation applied twice"
        );

        // On the author's laptop the markers cleared and the server's dates arrived.
        let view = forum::thread(&a.core, &t.id).unwrap();
        assert!(
            view.posts
                .iter()
                .all(|p| !p.pending && p.created_at.is_some()),
            "{view:?}"
        );
        assert!(a.pending().is_empty());

        // Another NFP's device shows the thread the same way.
        let b = Device::sign_in("baraka-laptop", &server.base_url, &baraka).await;
        sync(&b).await;
        let seen = forum::thread(&b.core, &t.id).unwrap();
        assert_eq!(ids(&seen), ids(&view));
        assert_eq!(seen.title, "Credentials for COP15");
        assert!(
            seen.posts
                .iter()
                .all(|p| p.author_name == "NFP amina" && !p.mine)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_replying_offline_to_one_thread_both_see_both_replies() {
    within(T, "two offline replies", async {
        let mut server = Server::start();
        let (amina, baraka, chidi) = (
            NewUser::nfp("amina", "KE"),
            NewUser::nfp("baraka", "UG"),
            NewUser::nfp("chidi", "NG"),
        );
        for u in [&amina, &baraka, &chidi] {
            server.user_add_approved(u);
        }
        let proxy = Proxy::start(server.addr()).await;
        let a = Device::sign_in("amina-laptop", &proxy.url(), &amina).await;
        let b = Device::sign_in("baraka-laptop", &proxy.url(), &baraka).await;
        let c = Device::sign_in("chidi-laptop", &proxy.url(), &chidi).await;
        sync(&c).await;
        let thread = forum::new_thread(&c.core, "qa", "Who attends the AEWA MOP?", "Please reply.")
            .unwrap()
            .id;
        sync(&c).await;
        sync(&a).await;
        sync(&b).await;

        server.stop();
        let ra = forum::reply(&a.core, &thread, "Kenya sends two delegates.")
            .unwrap()
            .id;
        let rb = forum::reply(&b.core, &thread, "Uganda sends one.")
            .unwrap()
            .id;
        assert!(
            a.sync().await.is_err() && b.sync().await.is_err(),
            "offline"
        );
        server.restart();
        proxy.set_upstream(server.addr());
        sync(&b).await;
        sync(&a).await;
        sync(&b).await;
        sync(&c).await;

        for d in [&a, &b, &c] {
            let view = forum::thread(&d.core, &thread).unwrap();
            assert_eq!(
                ids(&view),
                [thread.as_str(), rb.as_str(), ra.as_str()],
                "{}: every reply, in the server's order",
                d.name
            );
            assert!(view.posts.iter().all(|p| !p.pending), "{}", d.name);
            let summary = forum::threads(&d.core, "qa").unwrap().remove(0);
            assert_eq!(summary.replies, 2, "{}", d.name);
        }
        assert!(forum::thread(&a.core, &thread).unwrap().posts[2].mine);
        assert!(!forum::thread(&a.core, &thread).unwrap().posts[1].mine);
        // Chidi's home view says that two replies came to his thread.
        let notice = forum::home_notice(&c.core).unwrap();
        assert_eq!(notice.new_replies_to_my_threads, 2);
        assert_eq!(notice.threads[0].id, thread);
    })
    .await;
}

fn hide_op(post_id: &str) -> Operation {
    Operation {
        id: new_op_id(),
        entity: EntityRef {
            kind: "forum_post".into(),
            id: post_id.into(),
        },
        field: "hidden".into(),
        base_version: 0,
        value: Value::Bool(true),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_racing_moderation_or_another_edit_becomes_a_conflict_with_nothing_lost() {
    within(T, "edit against moderation", async {
        let server = Server::start();
        let amina = NewUser::nfp("amina", "KE");
        let sec = NewUser::staff("secretariat", "secretariat");
        server.user_add_approved(&amina);
        server.user_add_approved(&sec);
        let laptop = Device::sign_in("amina-laptop", &server.base_url, &amina).await;
        let phone = Device::sign_in("amina-phone", &server.base_url, &amina).await;
        sync(&laptop).await;
        let first = forum::new_thread(
            &laptop.core,
            GENERAL,
            "Offer",
            "Spare seats on our charter.",
        )
        .unwrap()
        .id;
        let second = forum::reply(&laptop.core, &first, "Two seats left.")
            .unwrap()
            .id;
        sync(&laptop).await;

        // 1. Offline, Amina edits her post while the Secretariat hides it (by push).
        forum::edit_post(
            &laptop.core,
            &first,
            "Spare seats on our charter, 300 USD each.",
        )
        .unwrap();
        let sec_token = server.sign_in(&sec.username, &sec.password).await;
        let answer = Api::new(&server.base_url)
            .with_token(&sec_token)
            .push(&[hide_op(&first)])
            .await
            .unwrap();
        assert!(
            matches!(answer.results[0].outcome, Outcome::Applied { .. }),
            "{answer:?}"
        );
        sync(&laptop).await;
        let view = forum::thread(&laptop.core, &first).unwrap();
        let p = &view.posts[0];
        assert!(p.hidden && p.mine && !p.pending);
        let c = p
            .conflict
            .as_ref()
            .expect("the refused edit is a conflict on the post");
        assert_eq!(c.mine, "Spare seats on our charter, 300 USD each.");
        assert_eq!(c.theirs, "Spare seats on our charter.");
        assert!(
            p.refusal
                .as_ref()
                .is_some_and(|r| r.code == stopover_protocol::RefusalCode::PostHidden),
            "{:?}",
            p.refusal
        );
        let err = forum::resolve_post_conflict(&laptop.core, &first, true).unwrap_err();
        assert!(err.to_string().contains("copy your text"), "{err}");
        assert!(
            forum::thread(&laptop.core, &first).unwrap().posts[0]
                .conflict
                .is_some(),
            "kept to copy"
        );
        let feed = feed_of(&server, &amina).await;
        let contents = of(&feed, "forum_post", &first, "content");
        assert_eq!(contents.len(), 1, "the server kept the original only");

        // 2. The same race against the CLI (the Secretariat's admin console).
        forum::edit_post(&laptop.core, &second, "One seat left.").unwrap();
        server.cli_ok(&["forum", "hide", &second]);
        sync(&laptop).await;
        let p = forum::thread(&laptop.core, &first).unwrap().posts.remove(1);
        assert_eq!(p.id, second);
        let c = p.conflict.expect("conflict after the CLI's hide");
        assert_eq!(
            (c.mine.as_str(), c.theirs.as_str()),
            ("One seat left.", "Two seats left.")
        );
        forum::resolve_post_conflict(&laptop.core, &second, false).unwrap();
        let p = forum::thread(&laptop.core, &first).unwrap().posts.remove(1);
        assert!(p.conflict.is_none() && p.refusal.is_none() && p.hidden);

        // 3. Two edits of one post from the author's two devices: the later one conflicts.
        let third = forum::new_thread(&laptop.core, GENERAL, "Agenda", "Draft agenda v1")
            .unwrap()
            .id;
        sync(&laptop).await;
        sync(&phone).await;
        forum::edit_post(&laptop.core, &third, "Draft agenda v2 (laptop)").unwrap();
        forum::edit_post(&phone.core, &third, "Draft agenda v2 (phone)").unwrap();
        sync(&phone).await;
        sync(&laptop).await;
        let p = forum::thread(&laptop.core, &third).unwrap().posts.remove(0);
        let c = p
            .conflict
            .expect("the laptop's edit conflicts with the phone's");
        assert_eq!(
            (c.mine.as_str(), c.theirs.as_str()),
            ("Draft agenda v2 (laptop)", "Draft agenda v2 (phone)")
        );
        forum::resolve_post_conflict(&laptop.core, &third, true).unwrap();
        sync(&laptop).await;
        sync(&phone).await;
        for d in [&laptop, &phone] {
            let p = forum::thread(&d.core, &third).unwrap().posts.remove(0);
            assert!(
                p.body_html.contains("(laptop)") && p.edited && p.conflict.is_none(),
                "{}: {p:?}",
                d.name
            );
        }
        let feed = feed_of(&server, &amina).await;
        let versions: Vec<u64> = of(&feed, "forum_post", &third, "content")
            .iter()
            .map(|c| c.version)
            .collect();
        assert_eq!(versions, [1, 2, 3], "every version kept in the history");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_registration_made_offline_is_sent_and_a_full_event_refuses_with_its_reason() {
    within(T, "event registration", async {
        let mut server = Server::start();
        let (amina, baraka) = (NewUser::nfp("amina", "KE"), NewUser::nfp("baraka", "UG"));
        server.user_add_approved(&amina);
        server.user_add_approved(&baraka);
        server.cli_ok(&[
            "event",
            "add",
            "flyway-training-2099",
            "--title-en",
            "Flyway training",
            "--title-fr",
            "Formation voies de migration",
            "--starts",
            "2099-06-01",
            "--ends",
            "2099-06-03",
            "--closes",
            "2099-05-01",
            "--location",
            "Nairobi, Kenya",
            "--capacity",
            "1",
            "--region",
            "africa",
        ]);
        let proxy = Proxy::start(server.addr()).await;
        let a = Device::sign_in("amina-laptop", &proxy.url(), &amina).await;
        let b = Device::sign_in("baraka-laptop", &proxy.url(), &baraka).await;
        sync(&a).await;
        sync(&b).await;
        let event = forum::events(&a.core, "fr").unwrap().remove(0);
        assert_eq!(
            (event.id.as_str(), event.title.as_str()),
            ("flyway-training-2099", "Formation voies de migration")
        );
        assert_eq!(event.capacity, Some(1));

        server.stop();
        let state = |d: &Device| {
            serde_json::to_value(forum::events(&d.core, "en").unwrap().remove(0)).unwrap()
        };
        forum::register_for_event(&a.core, &event.id, true).unwrap();
        forum::register_for_event(&b.core, &event.id, true).unwrap();
        assert_eq!(state(&a)["registration"], "waiting");
        assert!(a.sync().await.is_err(), "offline: it waits");
        assert_eq!(state(&a)["registration"], "waiting");

        server.restart();
        proxy.set_upstream(server.addr());
        sync(&a).await;
        assert_eq!(state(&a)["registration"], "registered");
        sync(&b).await;
        let refused = state(&b);
        assert_eq!(refused["registration"], "none", "{refused}");
        assert_eq!(refused["refusal"]["code"], "event_full", "{refused}");
        assert_eq!(refused["refusal"]["params"]["capacity"], 1, "{refused}");
        let listed = server.cli_ok(&["event", "registrations", "flyway-training-2099"]);
        assert!(
            listed.contains("amina") && !listed.contains("baraka"),
            "{listed}"
        );

        // Amina cancels offline; once sent, Baraka's second try gets the place.
        forum::register_for_event(&a.core, &event.id, false).unwrap();
        assert_eq!(state(&a)["registration"], "cancel_waiting");
        sync(&a).await;
        assert_eq!(state(&a)["registration"], "none");
        let retried =
            serde_json::to_value(forum::register_for_event(&b.core, &event.id, true).unwrap())
                .unwrap();
        assert_eq!(retried["registration"], "waiting");
        assert!(
            retried.get("refusal").is_none(),
            "trying again clears the old reason"
        );
        sync(&b).await;
        assert_eq!(state(&b)["registration"], "registered");
        let listed = server.cli_ok(&["event", "registrations", "flyway-training-2099"]);
        assert!(
            listed.contains("baraka") && !listed.contains("amina"),
            "{listed}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_round_keeps_the_cache_within_its_retention_bound() {
    within(T, "retention after a pull", async {
        // A busy week compressed into seconds: above the default posting rate per account.
        let server = Server::start_with(&["--forum-posts-per-hour", "1000"]);
        let (amina, baraka) = (NewUser::nfp("amina", "KE"), NewUser::nfp("baraka", "UG"));
        server.user_add_approved(&amina);
        server.user_add_approved(&baraka);
        let a = Device::sign_in("amina-laptop", &server.base_url, &amina).await;
        sync(&a).await;
        forum::set_retention(
            &a.core,
            Retention {
                months: 0,
                categories: vec![],
                max_posts: 100,
            },
        )
        .unwrap();
        // A busy week: 15 threads of 10 posts by a colleague.
        let token = server.sign_in(&baraka.username, &baraka.password).await;
        let api = Api::new(&server.base_url).with_token(&token);
        let mut threads = Vec::new();
        for t in 0..15 {
            let thread = new_op_id();
            let mut ops = Vec::new();
            for i in 0..10 {
                let post = if i == 0 { thread.clone() } else { new_op_id() };
                let mut value = json!({"thread": thread, "category": GENERAL, "body": format!("Post {i} of thread {t}")});
                if i == 0 {
                    value["title"] = json!(format!("Thread {t}"));
                }
                ops.push(Operation {
                    id: new_op_id(),
                    entity: EntityRef { kind: "forum_post".into(), id: post },
                    field: "content".into(),
                    base_version: 0,
                    value,
                });
            }
            let answer = api.push(&ops).await.unwrap();
            assert!(answer.results.iter().all(|r| matches!(r.outcome, Outcome::Applied { .. })), "{answer:?}");
            threads.push(thread);
        }
        let report = a.sync().await.unwrap().pulled;
        assert_eq!(report, 300, "every post and its stamp were pulled");
        let kept = || -> u32 { forum::threads(&a.core, GENERAL).unwrap().iter().map(|t| t.replies + 1).sum() };
        // What was just pulled is never pruned (issue 16): the person has not seen it yet.
        assert_eq!(kept(), 150, "nothing pulled in this round was pruned");
        // The next round that brings something keeps the cache within its bound, by whole
        // threads, least recently active first; the new post is kept.
        let last = new_op_id();
        let one = Operation {
            id: new_op_id(),
            entity: EntityRef { kind: "forum_post".into(), id: last.clone() },
            field: "content".into(),
            base_version: 0,
            value: json!({"thread": last, "category": GENERAL, "title": "One more", "body": "A late post"}),
        };
        api.push(&[one]).await.unwrap();
        assert!(a.sync().await.unwrap().pulled > 0);
        let now = kept();
        assert!((91..=100).contains(&now), "pruned to the bound at the next pull: {now}");
        let listed: Vec<String> = forum::threads(&a.core, GENERAL).unwrap().into_iter().map(|t| t.id).collect();
        assert!(listed.contains(&last), "the new thread stays");
        assert!(listed.contains(threads.last().unwrap()), "the newest older thread stays");
        assert!(!listed.contains(&threads[0]), "the oldest went");
        // Pruning is reversible: opening the oldest thread brings its posts back.
        let back = forum::thread(&a.core, &threads[0]).expect("a pruned thread opens again");
        assert_eq!(back.posts.len(), 10, "all its posts are back");
    })
    .await;
}
