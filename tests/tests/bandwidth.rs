//! The bandwidth meter and budget against the real `ecommunity` process: a sync round's bytes
//! are counted by kind; on a metered connection the round sends the person's ticks and takes
//! the page its push brings, while the backfill (here a colleague's busy forum week) waits
//! until the person allows it.

use serde_json::json;
use stopover_core::sync;
use stopover_core::sync::meter::{self, BandwidthSettings, TrafficKind};
use stopover_protocol::{EntityRef, Operation, Outcome};
use stopover_tests::api::{Api, new_op_id};
use stopover_tests::client::Device;
use stopover_tests::server::{NewUser, Server};

fn bytes(list: &[meter::KindUse], kind: TrafficKind) -> (u64, u64) {
    list.iter()
        .find(|u| u.kind == kind)
        .map_or((0, 0), |u| (u.bytes_up, u.bytes_down))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metered_connection_sends_ticks_and_defers_the_backfill() {
    let server = Server::start_with(&["--forum-posts-per-hour", "1000"]);
    let (amina, baraka) = (NewUser::nfp("amina", "KE"), NewUser::nfp("baraka", "UG"));
    server.user_add_approved(&amina);
    server.user_add_approved(&baraka);
    let laptop = Device::sign_in("amina-laptop", &server.base_url, &amina).await;
    laptop.sync().await.unwrap();

    // A colleague's busy week: 300 posts, 600 changes with their stamps (more than a page).
    let token = server.sign_in(&baraka.username, &baraka.password).await;
    let api = Api::new(&server.base_url).with_token(&token);
    for t in 0..30 {
        let thread = new_op_id();
        let ops: Vec<Operation> = (0..10)
            .map(|i| {
                let post = if i == 0 { thread.clone() } else { new_op_id() };
                let mut value = json!({"thread": thread, "category": "general", "body": format!("Post {i} of thread {t}")});
                if i == 0 {
                    value["title"] = json!(format!("Thread {t}"));
                }
                Operation {
                    id: new_op_id(),
                    entity: EntityRef {
                        kind: "forum_post".into(),
                        id: post,
                    },
                    field: "content".into(),
                    base_version: 0,
                    value,
                }
            })
            .collect();
        let answer = api.push(&ops).await.unwrap();
        assert!(
            answer
                .results
                .iter()
                .all(|r| matches!(r.outcome, Outcome::Applied { .. }))
        );
    }

    meter::set_settings(
        &laptop.core,
        &BandwidthSettings {
            monthly_budget_mib: None,
            metered: true,
        },
    )
    .unwrap();
    let before = meter::usage(&laptop.core).unwrap();
    let steps = laptop.steps();
    laptop.tick(&steps[0].0, &steps[0].1, true);

    // Metered: the tick goes, with the small page its push brings; the backlog waits.
    let round = laptop.sync().await.unwrap();
    assert_eq!(round.pushed, 1);
    assert!(round.deferred, "{round:?}");
    assert_eq!(round.pull_pages, 1);
    assert_eq!(round.pulled, sync::DEFERRED_PAGE, "{round:?}");
    assert_eq!(laptop.waiting(), 0, "the tick is sent all the same");
    let after = meter::usage(&laptop.core).unwrap();
    let (tick_up, _) = bytes(&after.today, TrafficKind::Checklists);
    let (_, forum_down) = bytes(&after.today, TrafficKind::Forum);
    assert!(tick_up > bytes(&before.today, TrafficKind::Checklists).0);
    assert!(forum_down > bytes(&before.today, TrafficKind::Forum).1);
    let counted: u64 = after
        .today
        .iter()
        .map(|u| u.bytes_up + u.bytes_down)
        .sum::<u64>()
        - before
            .today
            .iter()
            .map(|u| u.bytes_up + u.bytes_down)
            .sum::<u64>();
    assert_eq!(
        counted,
        round.bytes_sent + round.bytes_received,
        "every byte of the round is counted once"
    );

    // Still metered, nothing to send: the known backlog is not fetched a page per round.
    let again = laptop.sync().await.unwrap();
    assert_eq!((again.pull_pages, again.pulled), (0, 0), "{again:?}");
    assert!(again.deferred);
    // A new tick still goes (with its small page).
    laptop.tick(&steps[1].0, &steps[1].1, true);
    let ticked = laptop.sync().await.unwrap();
    assert_eq!((ticked.pushed, ticked.pulled), (1, sync::DEFERRED_PAGE));

    // The person allows it: the rest comes in one round.
    meter::allow_deferred(&laptop.core).unwrap();
    let allowed = laptop.sync().await.unwrap();
    assert!(!allowed.deferred, "{allowed:?}");
    assert_eq!(round.pulled + ticked.pulled + allowed.pulled, 600);
    // Back to normal once allowed: no backlog left, nothing deferred.
    let calm = laptop.sync().await.unwrap();
    assert!(!calm.deferred && calm.pulled == 0, "{calm:?}");
}
