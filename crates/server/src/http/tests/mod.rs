//! In-process tests of the whole HTTP stack: the real router and layers, driven with
//! `tower::ServiceExt::oneshot`, on a database in a temporary folder.

mod accounts;
mod admin;
mod files;
mod malformed;
mod packs;
mod relay;
mod sessions;
mod shedding;
mod sync;
mod wire;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use stopover_protocol::{AccountStatus, Role};
use tower::ServiceExt;

use crate::accounts::{NewAccount, store};
use crate::auth::Passwords;
use crate::db::Db;
use crate::state::{AppState, Config};

pub(crate) struct TestServer {
    pub router: Router,
    pub state: AppState,
    pub dir: tempfile::TempDir,
}

/// Every account made by [`TestServer::add_account`] has this password.
pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) const CLIENT: &str = "192.0.2.10:50000";

impl TestServer {
    pub async fn new() -> Self {
        Self::with_config(Config::default()).await
    }

    pub async fn with_config(config: Config) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path()).unwrap();
        let state = AppState::with_passwords(db, &config, Passwords::fast_for_tests());
        TestServer {
            router: super::router(state.clone()),
            state,
            dir,
        }
    }

    /// Sends a request as if from `CLIENT` (unless it already names a peer).
    pub async fn raw(&self, mut req: Request<Body>) -> Response {
        if req.extensions().get::<ConnectInfo<SocketAddr>>().is_none() {
            req.extensions_mut()
                .insert(ConnectInfo(CLIENT.parse::<SocketAddr>().unwrap()));
        }
        self.router.clone().oneshot(req).await.unwrap()
    }

    /// A JSON request; returns the status and the body as JSON (Null when empty).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        };
        let (status, _, body) = split(self.raw(req.unwrap()).await).await;
        (status, body)
    }

    pub async fn add_account(
        &self,
        username: &str,
        role: Role,
        country: Option<&str>,
        status: AccountStatus,
    ) {
        let new = NewAccount {
            username: username.into(),
            password_hash: self.state.passwords.hash(PASSWORD).unwrap(),
            display_name: username.to_uppercase(),
            email: format!("{username}@example.org"),
            role,
            country: country.map(Into::into),
            instruments: vec!["CMS".into()],
            status,
        };
        self.state
            .db
            .write(move |c| store::insert(c, &new))
            .await
            .unwrap();
    }

    pub async fn sign_in(&self, username: &str) -> String {
        let body = serde_json::json!({"username": username, "password": PASSWORD, "device_name": "test laptop"});
        let (status, body) = self
            .send(Method::POST, "/v1/sessions", None, Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// An approved account, signed in; returns its token.
    pub async fn user(&self, username: &str, role: Role, country: Option<&str>) -> String {
        self.add_account(username, role, country, AccountStatus::Approved)
            .await;
        self.sign_in(username).await
    }

    pub async fn count(&self, table: &'static str) -> i64 {
        self.state
            .db
            .read(move |c| {
                Ok(c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
            })
            .await
            .unwrap()
    }

    /// Rows in every table, to show a request stored nothing.
    pub async fn snapshot(&self) -> Vec<i64> {
        let mut counts = Vec::new();
        for table in ["account", "device", "field", "change", "op_result"] {
            counts.push(self.count(table).await);
        }
        counts
    }
}

pub(crate) async fn split(res: Response) -> (StatusCode, HeaderMap, Value) {
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
    };
    (status, headers, body)
}

/// Asserts an error answer: status, code, and that it is an `ErrorBody`.
#[track_caller]
pub(crate) fn assert_error(got: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert!(
        got.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        got.1
    );
}
