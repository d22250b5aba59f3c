//! Forum figures for BENCHMARKS.md (a scenario, not a timed test): the real client
//! (stopover-core in-process) and the real `ecommunity` process, with the test proxy between
//! them counting every byte of HTTP it carries (request and status lines, headers and bodies;
//! not TCP/IP framing).
//!
//! ```text
//! cargo build --release -p ecommunity
//! ECOMMUNITY_BIN=target/release/ecommunity \
//!   cargo test -p stopover-tests --release --test forum_bench -- --ignored --nocapture
//! ```
//!
//! Prints `BENCH …` lines:
//! - the bytes to pull a day of forum activity: 200 new posts (20 threads of 10) by four
//!   colleagues, in a whole sync round and in its pull exchanges alone, against the size of
//!   the changes' JSON;
//! - the bytes to push one reply (the push exchange alone, and the whole round, which also
//!   pulls back the reply and the server's stamp).

use std::time::Duration;

use serde_json::json;
use stopover_core::forum;
use stopover_protocol::{EntityRef, MAX_PULL_LIMIT, Operation, Outcome};
use stopover_tests::api::{Api, new_op_id, within};
use stopover_tests::client::Device;
use stopover_tests::proxy::Proxy;
use stopover_tests::server::{NewUser, Server, ecommunity_binary};

const THREADS: usize = 20;
const POSTS_PER_THREAD: usize = 10;

/// Words of the NFPs' everyday business, for post bodies.
const VOCABULARY: &str = "our delegation will travel to the meeting with two experts from ministry \
    credentials were signed last week and originals go by diplomatic pouch has anyone used small \
    grants programme for a waterbird census before we translated national report template can \
    share French version flyway workshop in Nairobi still places registration closes on Friday \
    please check Appendix II listing proposals Standing Committee meets poisoning incidents \
    involving raptors increased northern provinces this year focal point changed new contact \
    details are directory could Secretariat confirm deadline comments draft resolution wetland \
    sites monitoring data shared partners regional coordinator budget travel support visa \
    invitation letter embassy agenda item species action plan turtles sharks dugong bats \
    migratory landbirds energy infrastructure power lines collisions electrocution renewable \
    wind farms guidelines adopted COP decisions implementation review gap analysis capacity \
    building training course online module certificate colleagues thanks for information \
    useful experience similar situation recommend contacting IOSEA AEWA EUROBATS Raptors MOU \
    Sharks MOU Bonn Geneva Samarkand Gandhinagar Uzbekistan India Brazil Kenya Morocco";

/// A forum post of a typical length (50–110 words of that vocabulary), varied by `n`.
fn body(n: usize) -> String {
    let words: Vec<&str> = VOCABULARY.split_whitespace().collect();
    let mut rng = stopover_tests::proxy::Rng::new(n as u64 + 1);
    let count = 50 + rng.below(60) as usize;
    let mut text = String::new();
    for i in 0..count {
        let w = words[rng.below(words.len() as u64) as usize];
        if i > 0 {
            text.push(if rng.below(12) == 0 { '.' } else { ' ' });
            if text.ends_with('.') {
                text.push(' ');
            }
        }
        text.push_str(w);
    }
    text.push('.');
    text
}

fn content_op(post: &str, thread: &str, title: Option<&str>, body: &str) -> Operation {
    let mut value = json!({"thread": thread, "category": "general", "body": body});
    if let Some(t) = title {
        value["title"] = json!(t);
    }
    Operation {
        id: new_op_id(),
        entity: EntityRef {
            kind: "forum_post".into(),
            id: post.into(),
        },
        field: "content".into(),
        base_version: 0,
        value,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark scenario for BENCHMARKS.md: run with --release --ignored --nocapture"]
async fn forum_wire_figures() {
    within(Duration::from_secs(600), "forum benchmark", async {
        println!("BENCH server binary: {}", ecommunity_binary().display());
        // A day of activity compressed into seconds: above the default posting rate.
        let server = Server::start_with(&["--forum-posts-per-hour", "1000"]);
        let reader = NewUser::nfp("amina", "KE");
        server.user_add_approved(&reader);
        let mut writers = Vec::new();
        for (name, country) in [("baraka", "UG"), ("chidi", "NG"), ("elodie", "FR"), ("farid", "MA")] {
            let user = NewUser::nfp(name, country);
            server.user_add_approved(&user);
            let token = server.sign_in(&user.username, &user.password).await;
            writers.push(Api::new(&server.base_url).with_token(&token));
        }
        let proxy = Proxy::start(server.addr()).await;
        let laptop = Device::sign_in("amina-laptop", &proxy.url(), &reader).await;
        // Up to date before the day starts, the connection open as after the app's probe.
        laptop.sync().await.unwrap();

        // 1. A day of activity: 20 threads of 10 posts by four colleagues.
        let mut n = 0;
        let mut json_bytes = 0;
        let mut last_thread = String::new();
        for t in 0..THREADS {
            let thread = new_op_id();
            for i in 0..POSTS_PER_THREAD {
                let post = if i == 0 { thread.clone() } else { new_op_id() };
                let title = format!("Question {t} about the COP15 preparations");
                let op = content_op(&post, &thread, (i == 0).then_some(title.as_str()), &body(n));
                let answer = writers[n % writers.len()].push(&[op]).await.unwrap();
                assert!(matches!(answer.results[0].outcome, Outcome::Applied { .. }), "{answer:?}");
                n += 1;
            }
            last_thread = thread;
        }
        // The changes as JSON (content and the server's stamp), for scale.
        let observer = Api::new(&server.base_url).with_token(&server.sign_in(&reader.username, &reader.password).await);
        let cursor = laptop.cursor();
        let (day, _) = observer.pull_everything(cursor).await.unwrap();
        assert_eq!(day.len(), 2 * THREADS * POSTS_PER_THREAD, "content and meta per post");
        json_bytes += serde_json::to_vec(&day).unwrap().len();

        proxy.reset_stats();
        let report = laptop.sync().await.unwrap();
        let round = proxy.stats();
        let pulls: Vec<_> = proxy.events().into_iter().filter(|e| e.path.starts_with("/v1/sync/pull")).collect();
        let pull_bytes: usize = pulls.iter().map(|e| e.request_bytes + e.response_bytes).sum();
        assert_eq!(report.pulled as usize, day.len());
        assert_eq!(forum::thread(&laptop.core, &last_thread).unwrap().posts.len(), POSTS_PER_THREAD);
        let posts = (THREADS * POSTS_PER_THREAD) as f64;
        println!(
            "BENCH pull a day of forum activity ({} posts in {THREADS} threads, {} changes, pages of {MAX_PULL_LIMIT}): \
             whole sync round {} B in {} requests (up {} B, down {} B) = {:.0} B a post; pull exchanges {} B in {} page(s); \
             the changes' JSON {} B (wire/JSON = {:.2}); exchanges: {}",
            posts,
            day.len(),
            round.wire(),
            round.requests,
            round.bytes_up,
            round.bytes_down,
            round.wire() as f64 / posts,
            pull_bytes,
            pulls.len(),
            json_bytes,
            round.wire() as f64 / json_bytes as f64,
            proxy.exchanges(),
        );

        // 2. One reply.
        let reply = forum::reply(&laptop.core, &last_thread, &body(7)).unwrap();
        let value_bytes = serde_json::to_vec(&laptop.pending()[0].value).unwrap().len();
        proxy.reset_stats();
        let report = laptop.sync().await.unwrap();
        let round = proxy.stats();
        assert_eq!(report.pushed, 1);
        let push = proxy
            .events()
            .into_iter()
            .find(|e| e.path == "/v1/sync/push")
            .expect("the reply was pushed");
        assert!(!forum::thread(&laptop.core, &last_thread).unwrap().posts.iter().any(|p| p.id == reply.id && p.pending));
        println!(
            "BENCH push one reply ({} B of post JSON): push exchange {} B (request {} B, answer {} B); \
             whole sync round {} B in {} requests (probe, push, pull of the reply and its stamp); exchanges: {}",
            value_bytes,
            push.request_bytes + push.response_bytes,
            push.request_bytes,
            push.response_bytes,
            round.wire(),
            round.requests,
            proxy.exchanges(),
        );
    })
    .await;
}
