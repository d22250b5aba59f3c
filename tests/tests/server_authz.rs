//! Authorization matrix against the real `ecommunity` process: every endpoint of the protocol
//! table × every kind of caller, with the expected answer listed in ONE place ([`MATRIX`]).
//! Then country isolation: what an NFP pushes, no NFP of another country can ever pull or
//! learn through a conflict.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use stopover_protocol::{Account, AccountStatus, Outcome, Role};
use stopover_tests::api::{self, Api, Body, Reply, within};
use stopover_tests::server::{NewUser, Server};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// No `Authorization` header.
    Anonymous,
    /// An approved NFP of Kenya.
    NfpA,
    /// An approved NFP of Tanzania.
    NfpB,
    Secretariat,
    Admin,
    /// A token whose device was revoked (`ecommunity device revoke`); the account is fine.
    RevokedToken,
    /// A token of an account the Secretariat revoked (`ecommunity user revoke`).
    RevokedAccount,
}

const CALLERS: [Caller; 7] = [
    Caller::Anonymous,
    Caller::NfpA,
    Caller::NfpB,
    Caller::Secretariat,
    Caller::Admin,
    Caller::RevokedToken,
    Caller::RevokedAccount,
];

impl Caller {
    fn slug(self) -> &'static str {
        match self {
            Caller::Anonymous => "anon",
            Caller::NfpA => "nfpa",
            Caller::NfpB => "nfpb",
            Caller::Secretariat => "sec",
            Caller::Admin => "admin",
            Caller::RevokedToken => "revtok",
            Caller::RevokedAccount => "revacct",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Health,
    RequestAccount,
    /// The caller signs in with its own credentials (anonymous: a wrong password).
    SignIn,
    /// With a token of its own made for this row, so the caller's main token lives on.
    SignOut,
    Me,
    Push,
    Pull,
    AdminList,
    /// Approves a pending account made for this row.
    Approve,
    /// Revokes an approved account made for this row.
    Revoke,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Any 2xx.
    Allow,
    /// 401: who are you?
    Unauth,
    /// 403: you may not.
    Forbid,
    /// 401 or 403 (a revoked account may be told either).
    Deny,
}

use Expect::{Allow, Deny, Forbid, Unauth};

/// THE authorization matrix.
#[rustfmt::skip]
const MATRIX: [(Endpoint, &str, [Expect; 7]); 10] = [
    //                                                                anon    nfpA    nfpB    secr    admin   revTok  revAcct
    (Endpoint::Health,         "GET /v1/health",                     [Allow,  Allow,  Allow,  Allow,  Allow,  Allow,  Allow]),
    (Endpoint::RequestAccount, "POST /v1/accounts",                  [Allow,  Allow,  Allow,  Allow,  Allow,  Allow,  Allow]),
    (Endpoint::SignIn,         "POST /v1/sessions",                  [Unauth, Allow,  Allow,  Allow,  Allow,  Allow,  Deny]),
    (Endpoint::Me,             "GET /v1/me",                         [Unauth, Allow,  Allow,  Allow,  Allow,  Unauth, Deny]),
    (Endpoint::Push,           "POST /v1/sync/push",                 [Unauth, Allow,  Allow,  Allow,  Allow,  Unauth, Deny]),
    (Endpoint::Pull,           "GET /v1/sync/pull",                  [Unauth, Allow,  Allow,  Allow,  Allow,  Unauth, Deny]),
    (Endpoint::AdminList,      "GET /v1/admin/accounts",             [Unauth, Forbid, Forbid, Allow,  Allow,  Unauth, Deny]),
    (Endpoint::Approve,        "POST /v1/admin/accounts/{u}/approve",[Unauth, Forbid, Forbid, Allow,  Allow,  Unauth, Deny]),
    (Endpoint::Revoke,         "POST /v1/admin/accounts/{u}/revoke", [Unauth, Forbid, Forbid, Forbid, Allow,  Unauth, Deny]),
    (Endpoint::SignOut,        "DELETE /v1/sessions/current",        [Unauth, Allow,  Allow,  Allow,  Allow,  Unauth, Deny]),
];

const T: Duration = Duration::from_secs(120);

struct World {
    server: Server,
    anon: Api,
    users: Vec<(Caller, NewUser)>,
    tokens: Vec<(Caller, String)>,
}

impl World {
    fn user(&self, c: Caller) -> Option<&NewUser> {
        self.users.iter().find(|(k, _)| *k == c).map(|(_, u)| u)
    }

    fn token(&self, c: Caller) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, t)| t.as_str())
    }

    fn api(&self, c: Caller) -> Api {
        match self.token(c) {
            Some(t) => self.anon.with_token(t),
            None => self.anon.clone(),
        }
    }

    fn admin(&self) -> Api {
        self.api(Caller::Admin)
    }

    /// Every account, as the admin sees it over the protocol.
    async fn accounts(&self) -> Vec<Account> {
        let r = self
            .admin()
            .get("/v1/admin/accounts")
            .await
            .expect("admin lists accounts");
        assert_eq!(
            r.status,
            200,
            "the admin must be able to list accounts: {}",
            r.describe()
        );
        r.json()
            .unwrap_or_else(|e| panic!("GET /v1/admin/accounts is not a list of Account: {e}"))
    }

    async fn status_of(&self, username: &str) -> Option<AccountStatus> {
        self.accounts()
            .await
            .into_iter()
            .find(|a| a.username == username)
            .map(|a| a.status)
    }
}

fn account_request(username: &str) -> serde_json::Value {
    json!({
        "username": username,
        "password": "a long enough password 123",
        "display_name": format!("Requester {username}"),
        "email": format!("{username}@example.org"),
        "country": "KE",
        "instruments": ["CMS"],
    })
}

async fn setup() -> World {
    // Many account requests from one test address: above the default hourly budget.
    let server = Server::start_with(&["--registrations-per-hour", "1000"]);
    let anon = Api::new(&server.base_url);
    let users = vec![
        (Caller::NfpA, NewUser::nfp("nfp-ke", "KE")),
        (Caller::NfpB, NewUser::nfp("nfp-tz", "TZ")),
        (
            Caller::Secretariat,
            NewUser::staff("secretariat", "secretariat"),
        ),
        (Caller::Admin, NewUser::staff("admin", "admin")),
        (Caller::RevokedAccount, NewUser::nfp("nfp-gone", "KE")),
    ];
    let mut tokens = Vec::new();
    for (caller, user) in &users {
        let signed = server.signed_in(user).await;
        tokens.push((*caller, signed.token));
    }
    // A second device of the Kenyan NFP, whose token is then revoked by itself.
    let nfp_a = users[0].1.clone();
    let second = server
        .sign_in_full(&nfp_a.username, &nfp_a.password, "lost laptop")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let probe = anon.with_token(&second.token).get("/v1/me").await.unwrap();
    assert_eq!(
        probe.status,
        200,
        "a fresh device token must work before it is revoked: {}",
        probe.describe()
    );
    server.device_revoke(&second.device_id);
    tokens.push((Caller::RevokedToken, second.token));
    let mut users = users;
    users.push((Caller::RevokedToken, nfp_a));
    // The revoked account had a working token before the Secretariat revoked it.
    let gone = tokens
        .iter()
        .find(|(c, _)| *c == Caller::RevokedAccount)
        .unwrap()
        .1
        .clone();
    let probe = anon.with_token(&gone).get("/v1/me").await.unwrap();
    assert_eq!(
        probe.status,
        200,
        "the account's token must work before the account is revoked: {}",
        probe.describe()
    );
    server.revoke("nfp-gone");
    World {
        server,
        anon,
        users,
        tokens,
    }
}

/// Checks one answer against its expectation; returns a line for the failure table.
fn judge(
    endpoint: &str,
    caller: Caller,
    expect: Expect,
    reply: &Result<Reply, reqwest::Error>,
) -> Option<String> {
    let reply = match reply {
        Ok(r) => r,
        Err(e) => {
            return Some(format!(
                "{endpoint:<38} as {caller:?}: expected {expect:?}, got no answer: {e}"
            ));
        }
    };
    let ok = match expect {
        Allow => (200..300).contains(&reply.status),
        Unauth => reply.status == 401,
        Forbid => reply.status == 403,
        Deny => reply.status == 401 || reply.status == 403,
    };
    if !ok {
        return Some(format!(
            "{endpoint:<38} as {caller:?}: expected {expect:?}, got {}",
            reply.describe()
        ));
    }
    if expect != Allow
        && reply
            .error_body()
            .is_none_or(|e| e.code == stopover_protocol::ErrorCode::Unknown || e.message.is_empty())
    {
        return Some(format!(
            "{endpoint:<38} as {caller:?}: the denial is not an ErrorBody {{code, message}}: {}",
            reply.describe()
        ));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_times_every_role() {
    within(T, "authorization matrix", async {
        let world = setup().await;
        // Targets made beforehand, one per caller, so each row acts on its own account.
        for caller in CALLERS {
            let pending = format!("pend-{}", caller.slug());
            let r = world.anon.post_json("/v1/accounts", &account_request(&pending)).await.unwrap();
            assert!((200..300).contains(&r.status), "requesting account {pending} must work: {}", r.describe());
            world.server.user_add_approved(&NewUser::nfp(&format!("victim-{}", caller.slug()), "KE"));
        }
        let mut failures = Vec::new();
        let mut sign_in_tokens: Vec<(Caller, String)> = Vec::new();
        for (endpoint, name, expectations) in MATRIX {
            for (caller, expect) in CALLERS.into_iter().zip(expectations) {
                let api = world.api(caller);
                let slug = caller.slug();
                let reply = match endpoint {
                    Endpoint::Health => api.get("/v1/health").await,
                    Endpoint::RequestAccount => api.post_json("/v1/accounts", &account_request(&format!("req-{slug}"))).await,
                    Endpoint::SignIn => {
                        let body = match world.user(caller) {
                            Some(u) => json!({"username": u.username, "password": u.password, "device_name": format!("row {slug}")}),
                            None => json!({"username": "nfp-ke", "password": "not the password 123", "device_name": "guess"}),
                        };
                        let r = world.anon.post_json("/v1/sessions", &body).await;
                        if let Some(reply) = r.as_ref().ok().filter(|x| (200..300).contains(&x.status)) {
                            match reply.json::<stopover_protocol::SignInResponse>() {
                                Ok(s) => sign_in_tokens.push((caller, s.token)),
                                Err(e) => failures.push(format!("{name:<38} as {caller:?}: 2xx but not a SignInResponse: {e}")),
                            }
                        }
                        r
                    }
                    Endpoint::SignOut => {
                        // Signed-in callers sign out a token of their own from the SignIn row.
                        let own = sign_in_tokens.iter().find(|(c, _)| *c == caller).map(|(_, t)| t.clone());
                        let api = match (&own, expect) {
                            (Some(t), Allow) => world.anon.with_token(t),
                            _ => api,
                        };
                        let r = api.delete("/v1/sessions/current").await;
                        if expect == Allow && own.is_none() {
                            failures.push(format!("{name:<38} as {caller:?}: no token from the SignIn row to sign out with"));
                            continue;
                        }
                        let signed_out = r.as_ref().is_ok_and(|reply| (200..300).contains(&reply.status));
                        if let (true, Some(t)) = (signed_out, &own) {
                            let after = world.anon.with_token(t).get("/v1/me").await.unwrap();
                            if after.status != 401 {
                                failures.push(format!("{name:<38} as {caller:?}: the signed-out token still answers {}", after.describe()));
                            }
                        }
                        r
                    }
                    Endpoint::Me => api.get("/v1/me").await,
                    Endpoint::Push => api.push_raw(&[api::op(&format!("authz/{slug}"), "done", json!(true), 0)]).await,
                    Endpoint::Pull => api.get("/v1/sync/pull?cursor=0&limit=10").await,
                    Endpoint::AdminList => api.get("/v1/admin/accounts").await,
                    Endpoint::Approve => api.request(Method::POST, &format!("/v1/admin/accounts/pend-{slug}/approve"), Body::None, &[]).await,
                    Endpoint::Revoke => api.request(Method::POST, &format!("/v1/admin/accounts/victim-{slug}/revoke"), Body::None, &[]).await,
                };
                if let Some(f) = judge(name, caller, expect, &reply) {
                    failures.push(f);
                }
                // What a denied admin action must not have done, and an allowed one must have.
                let state = match endpoint {
                    Endpoint::Approve => Some((format!("pend-{slug}"), if expect == Allow { AccountStatus::Approved } else { AccountStatus::Pending })),
                    Endpoint::Revoke => Some((format!("victim-{slug}"), if expect == Allow { AccountStatus::Revoked } else { AccountStatus::Approved })),
                    _ => None,
                };
                if let Some((target, want)) = state {
                    let got = world.status_of(&target).await;
                    if got != Some(want) {
                        failures.push(format!("{name:<38} as {caller:?}: account {target} is {got:?} afterwards, must be {want:?}"));
                    }
                }
            }
        }
        // The signed-in identities are the right ones.
        for (caller, role, country) in [
            (Caller::NfpA, Role::Nfp, Some("KE")),
            (Caller::NfpB, Role::Nfp, Some("TZ")),
            (Caller::Secretariat, Role::Secretariat, None),
            (Caller::Admin, Role::Admin, None),
        ] {
            let r = world.api(caller).get("/v1/me").await.unwrap();
            match r.json::<Account>() {
                Ok(me) => {
                    let user = world.user(caller).unwrap();
                    if me.username != user.username || me.role != role || me.country.as_deref() != country || me.status != AccountStatus::Approved {
                        failures.push(format!("GET /v1/me as {caller:?} answers someone else: {me:?}"));
                    }
                }
                Err(e) => failures.push(format!("GET /v1/me as {caller:?}: {e}")),
            }
        }
        let mut world = world;
        world.server.assert_alive();
        let health = world.anon.get("/v1/health").await.unwrap();
        assert_eq!(health.status, 200, "the server must still be healthy after the matrix: {}", health.describe());
        assert!(failures.is_empty(), "{} authorization failures:\n{}", failures.len(), failures.join("\n"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_only_for_approved_accounts_with_the_right_password() {
    within(T, "sign-in table", async {
        let server = Server::start();
        let anon = Api::new(&server.base_url);
        let ok = NewUser::nfp("nfp-ok", "KE");
        server.user_add_approved(&ok);
        let r = anon
            .post_json("/v1/accounts", &account_request("nfp-waiting"))
            .await
            .unwrap();
        assert!(
            (200..300).contains(&r.status),
            "requesting an account: {}",
            r.describe()
        );
        let requested: Account = r.json().expect("POST /v1/accounts answers the Account");
        assert_eq!(
            requested.status,
            AccountStatus::Pending,
            "a requested account waits for the Secretariat"
        );
        assert_eq!(
            requested.role,
            Role::Nfp,
            "anyone asking gets an NFP account, never more"
        );
        let gone = NewUser::nfp("nfp-revoked", "KE");
        server.user_add_approved(&gone);
        server.revoke(&gone.username);

        #[rustfmt::skip]
        let table: [(&str, &str, &str, &[u16]); 5] = [
            ("approved, right password",  "nfp-ok",      "nfp-ok-Passw0rd!",           &[200, 201]),
            ("approved, wrong password",  "nfp-ok",      "nfp-ok-wrong-password",      &[401]),
            ("unknown user",              "nobody-here", "whatever password 1",        &[401]),
            ("pending account",           "nfp-waiting", "a long enough password 123", &[401, 403]),
            ("revoked account",           "nfp-revoked", "nfp-revoked-Passw0rd!",      &[401, 403]),
        ];
        let mut failures = Vec::new();
        for (what, user, password, want) in table {
            let r = anon
                .post_json(
                    "/v1/sessions",
                    &json!({"username": user, "password": password, "device_name": "t"}),
                )
                .await
                .unwrap();
            if !want.contains(&r.status) {
                failures.push(format!(
                    "sign-in, {what}: expected {want:?}, got {}",
                    r.describe()
                ));
            } else if r.status >= 400 && r.error_body().is_none() {
                failures.push(format!(
                    "sign-in, {what}: the refusal is not an ErrorBody: {}",
                    r.describe()
                ));
            }
        }
        // The anonymous may not pick a role for themselves.
        let mut pushy = account_request("would-be-admin");
        pushy["role"] = json!("admin");
        let r = anon.post_json("/v1/accounts", &pushy).await.unwrap();
        if (200..300).contains(&r.status) {
            failures.push(format!(
                "POST /v1/accounts accepted a `role` field: {}",
                r.describe()
            ));
        }
        // Approving an account that does not exist is a 404, not a 200 or a 500.
        let admin = NewUser::staff("admin", "admin");
        let token = server.signed_in(&admin).await.token;
        let r = anon
            .with_token(&token)
            .request(
                Method::POST,
                "/v1/admin/accounts/no-such-user/approve",
                Body::None,
                &[],
            )
            .await
            .unwrap();
        if r.status != 404 {
            failures.push(format!(
                "approving an unknown account: expected 404, got {}",
                r.describe()
            ));
        }
        assert!(
            failures.is_empty(),
            "{} sign-in failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    })
    .await;
}

/// Pushes `n` notes from `api` on `<list>/step-i` and returns the operations.
async fn push_notes(
    api: &Api,
    list: &str,
    n: usize,
    secret: &str,
) -> Vec<stopover_protocol::Operation> {
    let ops: Vec<_> = (0..n)
        .map(|i| {
            api::op(
                &format!("{list}/step-{i}"),
                "note",
                json!(format!("{secret} #{i}")),
                0,
            )
        })
        .collect();
    let resp = api.push(&ops).await.unwrap_or_else(|e| panic!("{e}"));
    for r in &resp.results {
        assert!(
            matches!(r.outcome, Outcome::Applied { .. }),
            "a first edit of a new field must apply: {r:?}"
        );
    }
    ops
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_nfp_never_sees_another_countrys_records() {
    within(T, "country isolation", async {
        let server = Server::start();
        let anon = Api::new(&server.base_url);
        let ke = NewUser::nfp("nfp-ke", "KE");
        let ke_colleague = NewUser::nfp("nfp-ke-two", "KE");
        let tz = NewUser::nfp("nfp-tz", "TZ");
        let ke_api = anon.with_token(&server.signed_in(&ke).await.token);
        let ke_laptop2 = anon.with_token(&server.sign_in(&ke.username, &ke.password).await);
        let colleague_api = anon.with_token(&server.signed_in(&ke_colleague).await.token);
        let tz_api = anon.with_token(&server.signed_in(&tz).await.token);

        let ke_ops = push_notes(&ke_api, "cop14", 5, "KENYA-ONLY").await;

        // Positive control: the same account's other device does see them.
        let (mine, _) = ke_laptop2.pull_all(0).await.unwrap_or_else(|e| panic!("{e}"));
        for op in &ke_ops {
            assert_eq!(
                mine.iter().filter(|c| c.op_id == op.id).count(),
                1,
                "the Kenyan NFP's second device must pull each of her changes exactly once; missing {}",
                op.id
            );
        }

        // The Tanzanian NFP pulls none of them.
        let (theirs, _) = tz_api.pull_all(0).await.unwrap_or_else(|e| panic!("{e}"));
        let leaked: Vec<_> = theirs.iter().filter(|c| ke_ops.iter().any(|o| o.id == c.op_id) || c.value.to_string().contains("KENYA-ONLY")).collect();
        assert!(leaked.is_empty(), "an NFP of TZ pulled {} changes made by an NFP of KE: {leaked:?}", leaked.len());

        // Writing the same entity ids must not collide with (or reveal) Kenya's values.
        let tz_ops: Vec<_> = (0..5).map(|i| api::op(&format!("cop14/step-{i}"), "note", json!(format!("TANZANIA #{i}")), 0)).collect();
        let resp = tz_api.push(&tz_ops).await.unwrap_or_else(|e| panic!("{e}"));
        for r in &resp.results {
            match &r.outcome {
                Outcome::Applied { version } => assert_eq!(*version, 1, "TZ's first edit of its own record gets version 1: {r:?}"),
                Outcome::Conflict { server_value, .. } => {
                    panic!("TZ's edit conflicted with another country's record and was shown its value {server_value}")
                }
                other => panic!("TZ's valid edit was not applied: {other:?}"),
            }
        }
        let (ke_after, _) = ke_laptop2.pull_all(0).await.unwrap_or_else(|e| panic!("{e}"));
        let leaked: Vec<_> = ke_after.iter().filter(|c| tz_ops.iter().any(|o| o.id == c.op_id)).collect();
        assert!(leaked.is_empty(), "an NFP of KE pulled {} changes made by an NFP of TZ: {leaked:?}", leaked.len());
        let ke_values: Vec<_> = ke_after.iter().filter(|c| c.entity.id == "cop14/step-0" && c.field == "note").map(|c| c.value.clone()).collect();
        assert_eq!(ke_values, vec![json!("KENYA-ONLY #0")], "KE's own record must be untouched by TZ's edits");

        // checklist_progress belongs to one user ("synced across their own devices"): not even
        // a colleague of the same country pulls it.
        let (colleague, _) = colleague_api.pull_all(0).await.unwrap_or_else(|e| panic!("{e}"));
        let leaked: Vec<_> = colleague.iter().filter(|c| ke_ops.iter().any(|o| o.id == c.op_id)).collect();
        assert!(leaked.is_empty(), "another KE user pulled {} of nfp-ke's own checklist progress: {leaked:?}", leaked.len());

        // A cursor past the end is not a way around it either.
        let far = tz_api.pull_page(u64::MAX / 2, 500).await;
        if let Ok(page) = far {
            assert!(page.changes.iter().all(|c| !ke_ops.iter().any(|o| o.id == c.op_id)), "{page:?}");
        }
    })
    .await;
}

/// What a caller is told about one forum operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Told {
    Applied,
    Rejected,
}

#[derive(Debug, Clone, Copy)]
enum ForumAction {
    /// Edit a post NfpA wrote.
    EditNfpAsPost,
    /// Hide a post NfpA wrote.
    HideNfpAsPost,
    /// Lock a thread NfpA started.
    LockNfpAsThread,
    /// Write NfpA's shared contact details.
    ShareNfpAsContact,
    /// Reply in a thread the Secretariat locked.
    ReplyInLockedThread,
    /// Write NfpA's directory card (the server's own field).
    WriteDirectoryCard,
    /// Publish a forum category (the server's own record).
    PublishCategory,
}

/// THE forum matrix: who may do what to a post, a thread or a profile of NfpA's, over push.
/// Refusals are per operation (`rejected` with a reason), never an HTTP error.
#[rustfmt::skip]
const FORUM_MATRIX: [(ForumAction, [Told; 4]); 7] = {
    use Told::{Applied as A, Rejected as R};
    [
        //                                  nfpA  nfpB  secr  admin
        (ForumAction::EditNfpAsPost,       [A,    R,    R,    R]),
        (ForumAction::HideNfpAsPost,       [R,    R,    A,    A]),
        (ForumAction::LockNfpAsThread,     [R,    R,    A,    A]),
        (ForumAction::ShareNfpAsContact,   [A,    R,    R,    R]),
        (ForumAction::ReplyInLockedThread, [R,    R,    R,    R]),
        (ForumAction::WriteDirectoryCard,  [R,    R,    R,    R]),
        (ForumAction::PublishCategory,     [R,    R,    R,    R]),
    ]
};

fn forum_op(
    kind: &str,
    id: &str,
    field: &str,
    base_version: u64,
    value: serde_json::Value,
) -> stopover_protocol::Operation {
    stopover_protocol::Operation {
        id: api::new_op_id(),
        entity: stopover_protocol::EntityRef {
            kind: kind.into(),
            id: id.into(),
        },
        field: field.into(),
        base_version,
        value,
    }
}

/// A fresh post UUID (the client makes it).
fn post_id() -> String {
    api::new_op_id()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forum_moderation_and_ownership_by_role() {
    within(T, "forum authorization matrix", async {
        let world = setup().await;
        let callers = [Caller::NfpA, Caller::NfpB, Caller::Secretariat, Caller::Admin];
        let nfp_a = world.api(Caller::NfpA);
        let author = world.user(Caller::NfpA).unwrap().username.clone();
        // NfpA starts a thread the Secretariat locks, for the reply row.
        let locked = post_id();
        let new_thread = |id: &str, title: &str| forum_op("forum_post", id, "content", 0, json!({"thread": id, "category": "qa", "title": title, "body": "How do I…?"}));
        let sec = world.api(Caller::Secretariat);
        for (api, op) in [(&nfp_a, new_thread(&locked, "Locked")), (&sec, forum_op("forum_thread", &locked, "locked", 0, json!(true)))] {
            let r = api.push(&[op]).await.unwrap_or_else(|e| panic!("{e}"));
            assert!(matches!(r.results[0].outcome, Outcome::Applied { .. }), "setting up the locked thread: {r:?}");
        }
        let mut failures = Vec::new();
        for (action, expectations) in FORUM_MATRIX {
            for (caller, want) in callers.into_iter().zip(expectations) {
                // Each row acts on a thread of its own, written by NfpA.
                let target = post_id();
                let r = nfp_a.push(&[new_thread(&target, &format!("{action:?} by {caller:?}"))]).await.unwrap_or_else(|e| panic!("{e}"));
                assert!(matches!(r.results[0].outcome, Outcome::Applied { version: 1 }), "NfpA's thread: {r:?}");
                let op = match action {
                    ForumAction::EditNfpAsPost => forum_op("forum_post", &target, "content", 1, json!({"thread": target, "category": "qa", "title": "edited", "body": format!("edited by {caller:?}")})),
                    ForumAction::HideNfpAsPost => forum_op("forum_post", &target, "hidden", 0, json!(true)),
                    ForumAction::LockNfpAsThread => forum_op("forum_thread", &target, "locked", 0, json!(true)),
                    ForumAction::ShareNfpAsContact => forum_op("profile", &author, "shared", 0, json!({"email": format!("{}@example.org", caller.slug())})),
                    ForumAction::ReplyInLockedThread => forum_op("forum_post", &post_id(), "content", 0, json!({"thread": locked, "category": "qa", "body": "late"})),
                    ForumAction::WriteDirectoryCard => forum_op("profile", &author, "account", 0, json!({"display_name": "Someone else", "role": "admin", "country": null, "instruments": []})),
                    ForumAction::PublishCategory => forum_op("forum_category", &format!("cat-{}", caller.slug()), "info", 0, json!({"title": {"en": "Mine"}, "kind": "general", "order": 0})),
                };
                let reply = world.api(caller).push_raw(std::slice::from_ref(&op)).await;
                let got = match reply.as_ref().map(|r| (r.status, r.json::<stopover_protocol::PushResponse>())) {
                    Ok((200, Ok(resp))) => match &resp.results[0].outcome {
                        Outcome::Applied { .. } => Told::Applied,
                        Outcome::Rejected { reason, .. } if !reason.trim().is_empty() => Told::Rejected,
                        other => {
                            failures.push(format!("{action:?} as {caller:?}: expected {want:?}, got {other:?}"));
                            continue;
                        }
                    },
                    other => {
                        failures.push(format!("{action:?} as {caller:?}: the push itself failed: {other:?}"));
                        continue;
                    }
                };
                if got != want {
                    failures.push(format!("{action:?} as {caller:?}: expected {want:?}, got {got:?}"));
                }
            }
        }
        // What was refused is nowhere in the feed; the directory card is still the server's.
        let (feed, _) = world.api(Caller::NfpB).pull_everything(0).await.unwrap_or_else(|e| panic!("{e}"));
        let edited_by_others: Vec<_> = feed.iter().filter(|c| c.field == "content" && ["NfpB", "Secretariat", "Admin"].iter().any(|who| c.value.to_string().contains(&format!("edited by {who}")))).collect();
        if !edited_by_others.is_empty() {
            failures.push(format!("edits of NfpA's post by others reached the feed: {edited_by_others:?}"));
        }
        let cards: Vec<_> = feed.iter().filter(|c| c.entity.kind == "profile" && c.entity.id == author && c.field == "account").collect();
        if cards.len() != 1 || cards[0].value["display_name"] == "Someone else" {
            failures.push(format!("NfpA's directory card must be the server's one card: {cards:?}"));
        }
        if feed.iter().any(|c| c.entity.kind == "forum_category" && c.entity.id.starts_with("cat-")) {
            failures.push("a client published a forum category".into());
        }
        // Both countries read the same forum: NfpB sees NfpA's threads (with their author).
        let metas = feed.iter().filter(|c| c.entity.kind == "forum_post" && c.field == "meta" && c.value["author"] == author.as_str()).count();
        if metas < FORUM_MATRIX.len() * callers.len() {
            failures.push(format!("NfpB pulled {metas} of NfpA's posts' authors, expected at least {}", FORUM_MATRIX.len() * callers.len()));
        }
        assert!(failures.is_empty(), "{} forum authorization failures:\n{}", failures.len(), failures.join("\n"));
    })
    .await;
}
