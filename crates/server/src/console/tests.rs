//! In-process tests of console pages through the whole router (the browser test in
//! `tests/tests/e2e_console.rs` and the security tests in `tests/tests/console_security.rs` run
//! against the real binary): publishing a signed pack, events, moderation, the aggregate-only
//! rule for self-assessments.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use stopover_protocol::{AccountStatus, Role};
use tower::ServiceExt;

use crate::accounts::store::{insert, tests::new_account};
use crate::auth::Passwords;
use crate::db::Db;
use crate::state::{AppState, Config};

struct Console {
    router: Router,
    state: AppState,
    dir: tempfile::TempDir,
    cookie: String,
    csrf: String,
}

impl Console {
    async fn new() -> Console {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let state = AppState::with_passwords(db, &Config::default(), Passwords::fast_for_tests());
        let (cookie, csrf) = state
            .db
            .write(|c| {
                crate::forum::seed(c)?;
                let sec = insert(
                    c,
                    &new_account("officer", Role::Secretariat, None, AccountStatus::Approved),
                )?;
                insert(
                    c,
                    &new_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved),
                )?;
                super::session::create(c, sec.id, 3600)
            })
            .await
            .unwrap();
        Console {
            router: crate::http::router(state.clone()),
            state,
            dir,
            cookie,
            csrf,
        }
    }

    async fn send(
        &self,
        req: axum::http::request::Builder,
        body: Body,
    ) -> (StatusCode, String, Response) {
        let mut req = req
            .header(header::HOST, "127.0.0.1:8080")
            .header(
                header::COOKIE,
                format!("{}={}", super::session::COOKIE_LOOPBACK, self.cookie),
            )
            .body(body)
            .unwrap();
        req.extensions_mut().insert(ConnectInfo(
            "127.0.0.1:50000".parse::<SocketAddr>().unwrap(),
        ));
        let r = self.router.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let (parts, body) = r.into_parts();
        let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap();
        (
            status,
            String::from_utf8_lossy(&bytes).into_owned(),
            Response::from_parts(parts, Body::empty()),
        )
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let (s, b, _) = self.send(Request::get(path), Body::empty()).await;
        (s, b)
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, Response) {
        let mut fields = vec![("csrf", self.csrf.as_str())];
        fields.extend_from_slice(form);
        let body = serde_urlencoded::to_string(&fields).unwrap();
        self.send(
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(body),
        )
        .await
    }

    fn multipart(&self, csrf: &str, file: &[u8]) -> (String, Vec<u8>) {
        let boundary = "stopover-test-boundary";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"signed\"; filename=\"pack.zip\"\r\nContent-Type: application/zip\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    }
}

#[tokio::test]
async fn a_pack_signed_offline_is_published_from_the_console_once_verified() {
    let c = Console::new().await;
    let key = c.dir.path().join("key");
    let public = crate::packs::keygen(&key).unwrap();
    let pack = c.dir.path().join("pack");
    crate::packs::tests::write_pack(&pack, "2027.1.0");
    let file = c.dir.path().join("signed.zip");
    crate::packs::signed::sign_to_file(&key, &pack, &file).unwrap();
    let bytes = std::fs::read(&file).unwrap();

    // A wrong token: refused before the file is read.
    let (ct, body) = c.multipart("wrong", &bytes);
    let (status, _, _) = c
        .send(
            Request::post("/console/content/pack").header(header::CONTENT_TYPE, ct),
            Body::from(body),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The right token, but no key is trusted yet: refused, said why, nothing published.
    let (ct, body) = c.multipart(&c.csrf, &bytes);
    let (status, page, _) = c
        .send(
            Request::post("/console/content/pack").header(header::CONTENT_TYPE, ct.clone()),
            Body::from(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("trusts no signing key"), "{page}");
    assert!(
        c.state
            .db
            .read(crate::packs::latest)
            .await
            .unwrap()
            .is_none()
    );

    // With the key trusted (`serve --pack-signer`): published and logged.
    let mut config = Config::default();
    config.console.pack_signers = vec![stopover_protocol::files::hex(public.as_bytes())];
    let state = AppState::with_passwords(c.state.db.clone(), &config, Passwords::fast_for_tests());
    let c = Console {
        router: crate::http::router(state.clone()),
        state,
        ..c
    };
    let (status, _, r) = c
        .send(
            Request::post("/console/content/pack").header(header::CONTENT_TYPE, ct),
            Body::from(body),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[header::LOCATION],
        "/console/content?done=pack_published&who=2027.1.0"
    );
    let latest = c
        .state
        .db
        .read(crate::packs::latest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.version, "2027.1.0");
    let (status, page) = c.get("/console/content").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("data-testid=\"pack-version\">2027.1.0<"),
        "{page}"
    );
    let log = c
        .state
        .db
        .read(|c| crate::audit::list(c, 5, Some("officer"), None))
        .await
        .unwrap();
    assert_eq!(log[0].action, "pack.publish");
}

#[tokio::test]
async fn events_are_created_edited_and_their_registrations_exported() {
    let c = Console::new().await;
    let event = [
        ("slug", "reporting-webinar"),
        ("title_en", "Reporting webinar"),
        ("title_fr", "Webinaire sur les rapports"),
        ("title_es", ""),
        ("starts", "2027-02-10"),
        ("ends", "2027-02-10"),
        ("closes", "2027-02-01"),
        ("location", "Online"),
        ("capacity", "40"),
        ("region", "africa"),
        ("instrument", ""),
    ];
    let (status, _, r) = c.post("/console/events", &event).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()[header::LOCATION],
        "/console/events/reporting-webinar?done=event_created&who=reporting-webinar"
    );
    let mut edited = event.to_vec();
    edited.retain(|(k, _)| *k != "slug");
    edited.iter_mut().for_each(|(k, v)| {
        if *k == "location" {
            *v = "Nairobi, Kenya";
        }
    });
    let (status, _, _) = c.post("/console/events/reporting-webinar", &edited).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let info = c
        .state
        .db
        .read(|c| crate::forum::events::find(c, "reporting-webinar"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (info.location.as_str(), info.capacity),
        ("Nairobi, Kenya", Some(40))
    );
    // Published to the apps (the community feed holds the edited event).
    let feed = c
        .state
        .db
        .read(|c| {
            crate::forum::current(
                c,
                stopover_protocol::RecordKind::Event,
                "reporting-webinar",
                "info",
            )
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(feed["location"], "Nairobi, Kenya");
    // A bad date: refused with the reason, nothing changed.
    let mut bad = edited.clone();
    bad.iter_mut().for_each(|(k, v)| {
        if *k == "ends" {
            *v = "2027-01-01";
        }
    });
    let (status, page, _) = c.post("/console/events/reporting-webinar", &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("is before --starts"), "{page}");
    let (status, csv) = c
        .get("/console/events/reporting-webinar/registrations.csv")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(csv, "username,name,country,instruments,email\r\n");
    let (status, page) = c.get("/console/events").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Reporting webinar"));
}

#[tokio::test]
async fn self_assessments_are_never_shown_one_country_at_a_time() {
    let c = Console::new().await;
    let (status, page) = c
        .get("/console/reports/KE/capacity-self-assessment/COP15")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("only in aggregate"), "{page}");
    let (status, _) = c.get("/console/reports/KE/cms-national-report/COP15").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = c.get("/console/reports/ke/../x/COP15").await;
    assert_ne!(status, StatusCode::OK);
    // Every section answers, in each language, with its security headers.
    for path in [
        "/console/reporting",
        "/console/accounts",
        "/console/forum",
        "/console/events",
        "/console/content",
        "/console/capacity",
        "/console/audit",
    ] {
        let (status, page, r) = c.send(Request::get(path), Body::empty()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            r.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        assert!(!page.contains(" style="), "{path}: inline style");
    }
}

#[tokio::test]
async fn posts_are_hidden_and_threads_locked_from_the_moderation_queue() {
    let c = Console::new().await;
    let post = "01939a2b-7c4d-7e8f-9a0b-000000000042";
    c.state
        .db
        .write(move |conn| {
            let amina = crate::accounts::store::get(conn, "amina")?;
            let op = stopover_protocol::Operation {
                id: "01939a2b-7c4d-7e8f-9a0b-000000000001".into(),
                entity: stopover_protocol::EntityRef {
                    kind: "forum_post".into(),
                    id: post.into(),
                },
                field: "content".into(),
                base_version: 0,
                value: serde_json::json!({"thread": post, "category": "general", "title": "Credentials", "body": "Who signs the credentials?"}),
            };
            let results = crate::sync::push::apply(conn, &crate::auth::policy::sync_scope(&amina), &[op])?;
            assert!(matches!(results[0].outcome, stopover_protocol::Outcome::Applied { .. }));
            Ok(())
        })
        .await
        .unwrap();
    let (status, page) = c.get("/console/forum").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("Who signs the credentials?") && page.contains("(1 new this week)"),
        "{page}"
    );
    let (status, _, r) = c
        .post(&format!("/console/forum/posts/{post}/hide"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[header::LOCATION], "/console/forum?done=hidden");
    let (status, _, _) = c
        .post(&format!("/console/forum/threads/{post}/lock"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (hidden, locked) = c
        .state
        .db
        .read(move |conn| {
            Ok((
                crate::forum::posts::is_hidden(conn, post)?,
                crate::forum::posts::is_locked(conn, post)?,
            ))
        })
        .await
        .unwrap();
    assert!(hidden && locked);
    let actions: Vec<String> = c
        .state
        .db
        .read(|conn| crate::audit::list(conn, 5, Some("officer"), None))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["forum.lock", "forum.hide"]);
    // An unknown post: refused with the reason.
    let (status, page, _) = c
        .post(
            "/console/forum/posts/01939a2b-7c4d-7e8f-9a0b-000000000099/hide",
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("there is no post"), "{page}");
}
