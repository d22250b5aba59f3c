//! The console's defences, against the real `ecommunity` over HTTP: only Secretariat and
//! admin accounts get a session; a session ends when idle; a form without the session's CSRF
//! token, with a wrong one, or posted from another site is refused and changes nothing; the
//! session cookie is HttpOnly and SameSite=Strict (and Secure unless on loopback); every page
//! carries a strict Content-Security-Policy.

use std::time::Duration;

use reqwest::header::{COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use stopover_tests::api::Api;
use stopover_tests::server::{NewUser, Server};

/// A browser-like client: keeps cookies by hand (so the test sees every flag), never follows
/// redirects.
struct Visitor {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok())
    }

    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a csrf field")
            + 19;
        self.body[at..].split('"').next().unwrap().to_string()
    }
}

impl Visitor {
    fn new(base: &str) -> Visitor {
        Visitor {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: base.to_string(),
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, page: &Page) {
        for c in page.set_cookies() {
            let pair = c.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let req = if self.cookies.is_empty() {
            req
        } else {
            req.header(COOKIE, self.cookie_header())
        };
        let r = req.send().await.expect("the server answers");
        let page = Page {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        };
        self.keep(&page);
        page
    }

    async fn get(&mut self, path: &str) -> Page {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)], extra: &[(&str, &str)]) -> Page {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(form);
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        self.send(req).await
    }

    async fn sign_in(&mut self, user: &NewUser) -> Page {
        let form = self.get("/console/sign-in").await;
        assert_eq!(form.status, 200);
        let token = form.csrf();
        self.post(
            "/console/sign-in",
            &[
                ("csrf", &token),
                ("username", &user.username),
                ("password", &user.password),
            ],
            &[],
        )
        .await
    }
}

fn staff() -> NewUser {
    NewUser::staff("officer", "secretariat")
}

async fn pending(server: &Server, name: &str) {
    let asked = Api::new(&server.base_url)
        .post_json(
            "/v1/accounts",
            &serde_json::json!({
                "username": name, "password": format!("{name}-Passw0rd!"), "display_name": name,
                "email": format!("{name}@example.org"), "country": "KE", "instruments": ["CMS"]
            }),
        )
        .await
        .unwrap();
    assert_eq!(asked.status, 201, "{}", asked.describe());
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_secretariat_signs_in_and_cookies_and_headers_are_strict() {
    let server = Server::start();
    let nfp = NewUser::nfp("amina", "KE");
    server.user_add_approved(&nfp);
    server.user_add_approved(&staff());

    // An NFP with the right password: refused, and no session.
    let mut v = Visitor::new(&server.base_url);
    let refused = v.sign_in(&nfp).await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("cannot use the console"),
        "{}",
        refused.body
    );
    assert!(!v.cookies.iter().any(|(n, _)| n == "stopover-console"));
    let page = v.get("/console/reporting").await;
    assert_eq!(
        (page.status, page.location()),
        (303, Some("/console/sign-in"))
    );
    // Nor does the NFP's device token open the console.
    let token = server.sign_in(&nfp.username, &nfp.password).await;
    let page = v
        .send(
            v.http
                .get(format!("{}/console/accounts", server.base_url))
                .bearer_auth(&token),
        )
        .await;
    assert_eq!(page.status, 303);

    // The Secretariat: a session cookie, HttpOnly and SameSite=Strict; not Secure on loopback.
    let mut v = Visitor::new(&server.base_url);
    let signed = v.sign_in(&staff()).await;
    assert_eq!(
        (signed.status, signed.location()),
        (303, Some("/console/reporting"))
    );
    let cookie = signed
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("stopover-console="))
        .expect("a session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    let page = v.get("/console/reporting").await;
    assert_eq!(page.status, 200);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    for rule in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(rule), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert!(
        !page.body.contains("<script>") && !page.body.contains(" style="),
        "no inline script or style"
    );

    // Reached through a public name (a proxy on this machine): the cookies are Secure and
    // __Host- prefixed.
    let mut far = Visitor::new(&server.base_url);
    let form = far
        .send(
            far.http
                .get(format!("{}/console/sign-in", server.base_url))
                .header("host", "console.example.org"),
        )
        .await;
    let signin_cookie = &form.set_cookies()[0];
    assert!(
        signin_cookie.starts_with("__Host-stopover-console-signin="),
        "{signin_cookie}"
    );
    assert!(signin_cookie.contains("Secure"), "{signin_cookie}");
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_and_cross_site_forms_are_refused_and_change_nothing() {
    let server = Server::start();
    server.user_add_approved(&staff());
    pending(&server, "dalia").await;
    let mut v = Visitor::new(&server.base_url);
    assert_eq!(v.sign_in(&staff()).await.status, 303);
    let accounts = v.get("/console/accounts").await;
    let token = accounts.csrf();
    let approve = "/console/accounts/dalia/approve";

    // No token.
    let p = v.post(approve, &[("country", "KE")], &[]).await;
    assert_eq!(p.status, 403);
    assert!(p.body.contains("security token"), "{}", p.body);
    // A wrong token (another session's, or made up).
    let p = v
        .post(
            approve,
            &[("csrf", "not-the-token"), ("country", "KE")],
            &[],
        )
        .await;
    assert_eq!(p.status, 403);
    // The right token, but posted by another site (as a browser says so).
    let p = v
        .post(
            approve,
            &[("csrf", &token)],
            &[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
        )
        .await;
    assert_eq!(p.status, 403);
    let p = v
        .post(approve, &[("csrf", &token)], &[("origin", "null")])
        .await;
    assert_eq!(p.status, 403);
    // A cross-site sign-in form (login forgery) is refused too.
    let p = v
        .post(
            "/console/sign-in",
            &[("username", "officer"), ("password", "x")],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(p.status, 403);
    assert_eq!(
        server.user_status("dalia").as_deref(),
        Some("pending"),
        "nothing was approved"
    );

    // The same form, from the console page itself: done, and logged.
    let origin = server.base_url.clone();
    let p = v
        .post(
            approve,
            &[
                ("csrf", &token),
                ("country", "KE"),
                ("instruments", "CMS"),
                ("role", "nfp"),
            ],
            &[("origin", &origin), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(
        (p.status, p.location()),
        (303, Some("/console/accounts?done=approved&who=dalia"))
    );
    assert_eq!(server.user_status("dalia").as_deref(), Some("approved"));
    let log = server.cli_ok(&["audit", "list", "--json"]);
    let log: serde_json::Value = serde_json::from_str(&log).unwrap();
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "account.approve"
                && e["actor"] == "officer"
                && e["target"] == "dalia"
                && e["detail"]["via"] == "console"),
        "{log:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_session_ends_and_its_forms_are_refused() {
    let server = Server::start_with(&["--console-idle-timeout", "2"]);
    server.user_add_approved(&staff());
    pending(&server, "dalia").await;
    let mut v = Visitor::new(&server.base_url);
    assert_eq!(v.sign_in(&staff()).await.status, 303);
    let token = v.get("/console/accounts").await.csrf();
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let page = v.get("/console/accounts").await;
    assert_eq!(
        (page.status, page.location()),
        (303, Some("/console/sign-in?expired=1"))
    );
    let p = v
        .post("/console/accounts/dalia/approve", &[("csrf", &token)], &[])
        .await;
    assert_eq!(p.status, 401, "{}", p.body);
    assert_eq!(server.user_status("dalia").as_deref(), Some("pending"));
    // Signing in again works, with a new token.
    assert_eq!(v.sign_in(&staff()).await.status, 303);
    let fresh = v.get("/console/accounts").await.csrf();
    assert_ne!(fresh, token);
}
