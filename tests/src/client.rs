//! The real Stopover client in-process — stopover-core with its own SQLite file in a temporary
//! folder, the real [`SyncClient`] — as a "device" of an account, and the checks the client
//! fault tests share: the server's state read from its change feed, the local state read from
//! the device's tables, and a field-by-field comparison of the two.
//!
//! A field is `(entity id, field)`, e.g. `("cop-preparation/register", "done")`; every synced
//! field here is of the record kind `checklist_progress`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde_json::Value;
use stopover_core::clock::{Clock, SystemClock};
use stopover_core::content::{self, PackFiles};
use stopover_core::secrets::MemoryStore;
use stopover_core::sync::{
    self, Backoff, PendingOperation, Resolution, SyncClient, SyncConflict, SyncReport,
};
use stopover_core::user::checklists;
use stopover_core::{Core, Error};
use stopover_protocol::Change;

use crate::api::Api;
use crate::server::NewUser;

/// `(entity id, field)`.
pub type FieldKey = (String, String);
/// A value per field.
pub type State = BTreeMap<FieldKey, Value>;

pub const KIND: &str = "checklist_progress";

/// The value a field has when nobody ever wrote it.
pub fn default_value(field: &str) -> Value {
    match field {
        "done" => Value::Bool(false),
        _ => Value::String(String::new()),
    }
}

/// One device: the real core on its own data folder, signed in through `url` (usually a
/// [`Proxy`](crate::proxy::Proxy) in front of the real server).
pub struct Device {
    pub name: String,
    pub core: Core,
    pub secrets: MemoryStore,
    pub client: SyncClient,
    dir: tempfile::TempDir,
}

impl Device {
    /// A fresh data folder with the embedded content pack, signed in as `user` at `url` with
    /// the real [`sync::sign_in`].
    pub async fn sign_in(name: &str, url: &str, user: &NewUser) -> Device {
        Device::sign_in_with(name, SyncClient::new(url).expect("sync client"), user).await
    }

    /// [`Device::sign_in`] with a given client, kept for the device's rounds (e.g. one that
    /// trusts the [`TlsFront`](crate::tls_front::TlsFront)'s test CA).
    pub async fn sign_in_with(name: &str, client: SyncClient, user: &NewUser) -> Device {
        Self::sign_in_with_clock(name, client, user, std::sync::Arc::new(SystemClock)).await
    }

    /// [`Device::sign_in_with`] on a laptop whose clock is `clock` (e.g. years off).
    pub async fn sign_in_with_clock(
        name: &str,
        client: SyncClient,
        user: &NewUser,
        clock: std::sync::Arc<dyn Clock>,
    ) -> Device {
        let dir = tempfile::tempdir().expect("device data folder");
        let core = Core::open_with_clock(dir.path(), Ok(PackFiles::embedded()), clock)
            .expect("the device's store opens");
        let secrets = MemoryStore::new();
        let url = client.server_url().to_string();
        sync::sign_in_with(
            &core,
            &secrets,
            &client,
            &user.username,
            &user.password,
            name,
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: sign-in through {url} failed: {e} ({})", e.code()));
        Device {
            name: name.to_string(),
            core,
            secrets,
            client,
            dir,
        }
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The device token, as the app reads it from its secret store.
    pub fn token(&self) -> String {
        sync::device_token(&self.core, &self.secrets).expect("device token")
    }

    /// Every `(checklist, step)` of the content pack, in a stable order.
    pub fn steps(&self) -> Vec<(String, String)> {
        let conn = self.core.conn();
        let mut steps = Vec::new();
        for list in content::list_checklists(&conn, "en").unwrap() {
            for step in content::checklist(&conn, &list.id, "en").unwrap().steps {
                steps.push((list.id.clone(), step.id));
            }
        }
        assert!(!steps.is_empty(), "the embedded pack has checklist steps");
        steps
    }

    /// Ticks or unticks a step, as the app does (one transaction, queued for sync).
    pub fn tick(&self, list: &str, step: &str, done: bool) -> (FieldKey, Value) {
        checklists::set_done(&mut self.core.conn(), list, step, done)
            .unwrap_or_else(|e| panic!("{}: tick: {e}", self.name));
        (
            (format!("{list}/{step}"), "done".to_string()),
            Value::Bool(done),
        )
    }

    /// Writes a step's note.
    pub fn note(&self, list: &str, step: &str, note: &str) -> (FieldKey, Value) {
        checklists::set_note(&mut self.core.conn(), list, step, note)
            .unwrap_or_else(|e| panic!("{}: note: {e}", self.name));
        (
            (format!("{list}/{step}"), "note".to_string()),
            Value::String(note.to_string()),
        )
    }

    /// One sync round with the real engine (one exchange: the push with its page, or a pull).
    pub async fn sync(&self) -> Result<SyncReport, Error> {
        let token = self.token();
        sync::sync_once(&self.core, &self.client, &token).await
    }

    /// Syncs as the app's background loop does: on a transient error waits what
    /// [`Backoff::delay_after`] says and tries again, until success or `limit` has passed.
    /// Returns the report and the errors met on the way.
    pub async fn sync_with_backoff(
        &self,
        backoff: &mut Backoff,
        limit: Duration,
    ) -> (SyncReport, Vec<Error>) {
        let deadline = Instant::now() + limit;
        let mut errors = Vec::new();
        loop {
            match self.sync().await {
                Ok(report) => {
                    backoff.reset();
                    return (report, errors);
                }
                Err(e) => {
                    let wait = backoff.delay_after(&e).unwrap_or_else(|| {
                        panic!(
                            "{}: sync failed for good ({}): {e}; errors before: {errors:?}",
                            self.name,
                            e.code()
                        )
                    });
                    errors.push(e);
                    assert!(
                        Instant::now() + wait < deadline,
                        "{}: sync did not succeed within {limit:?}; errors: {:?}",
                        self.name,
                        errors
                            .iter()
                            .map(|e| format!("{} ({})", e, e.code()))
                            .collect::<Vec<_>>()
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Operations waiting in the outbox.
    pub fn pending(&self) -> Vec<PendingOperation> {
        sync::pending_operations(&self.core).unwrap()
    }

    pub fn waiting(&self) -> u32 {
        sync::status(&self.core).unwrap().waiting
    }

    pub fn conflicts(&self) -> Vec<SyncConflict> {
        sync::conflicts(&self.core).unwrap()
    }

    pub fn resolve(&self, c: &SyncConflict, choice: Resolution) {
        sync::resolve_conflict(&self.core, c.kind, &c.entity_id, &c.field, choice).unwrap_or_else(
            |e| panic!("{}: resolving {}/{}: {e}", self.name, c.entity_id, c.field),
        );
    }

    pub fn cursor(&self) -> u64 {
        sync::pull_cursor(&self.core.conn()).unwrap()
    }

    /// The code of the sync status's last error.
    pub fn last_error_code(&self) -> Option<String> {
        sync::status(&self.core)
            .unwrap()
            .last_error
            .map(|e| e.code.as_str().to_string())
    }

    /// The device's own tables: both fields of every step with progress.
    pub fn local_state(&self) -> State {
        local_state_of(&self.core)
    }
}

/// Both fields of every row of `checklist_progress`.
pub fn local_state_of(core: &Core) -> State {
    let conn = core.conn();
    let mut stmt = conn
        .prepare("SELECT checklist_id, step_id, done, note FROM checklist_progress")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .unwrap();
    let mut state = State::new();
    for row in rows {
        let (list, step, done, note) = row.unwrap();
        let entity = format!("{list}/{step}");
        state.insert((entity.clone(), "done".into()), Value::Bool(done));
        state.insert((entity, "note".into()), Value::String(note));
    }
    state
}

/// The `dump` of the `sync-client` binary (`{"<list>/<step>": {"done": …, "note": …}}`) as a
/// [`State`].
pub fn state_from_dump(dump: &Value) -> State {
    let mut state = State::new();
    for (entity, fields) in dump.as_object().expect("dump is an object") {
        for field in ["done", "note"] {
            let v = fields
                .get(field)
                .unwrap_or_else(|| panic!("dump of {entity} lacks {field}: {dump}"));
            state.insert((entity.clone(), field.to_string()), v.clone());
        }
    }
    state
}

/// The server's change feed for one account, read whole from cursor 0.
pub struct Feed {
    pub changes: Vec<Change>,
    /// The latest value of every field ever written.
    pub state: State,
}

impl Feed {
    /// How many times each operation id appears.
    pub fn op_counts(&self) -> HashMap<&str, usize> {
        let mut counts = HashMap::new();
        for c in &self.changes {
            *counts.entry(c.op_id.as_str()).or_default() += 1;
        }
        counts
    }

    /// The changes of one field, in feed order.
    pub fn of_field(&self, key: &FieldKey) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| c.entity.id == key.0 && c.field == key.1)
            .collect()
    }
}

/// Reads the whole change feed with `api` (a device token straight to the server) and checks
/// what must always hold whatever the network did: every operation id appears once, seqs
/// increase, and each field's versions go 1, 2, 3… in feed order (no version applied twice,
/// none skipped).
pub async fn server_feed(api: &Api) -> Feed {
    let (changes, _) = api
        .pull_all(0)
        .await
        .unwrap_or_else(|e| panic!("reading the server's change feed: {e}"));
    let mut problems = Vec::new();
    let mut seen: HashMap<&str, u64> = HashMap::new();
    for c in &changes {
        if let Some(first) = seen.insert(c.op_id.as_str(), c.seq) {
            problems.push(format!(
                "operation {} is in the feed twice (seq {first} and {})",
                c.op_id, c.seq
            ));
        }
        if c.entity.kind != KIND {
            problems.push(format!("unexpected record kind in the feed: {c:?}"));
        }
    }
    for w in changes.windows(2) {
        if w[1].seq <= w[0].seq {
            problems.push(format!(
                "feed seqs do not increase: {} then {}",
                w[0].seq, w[1].seq
            ));
        }
    }
    let mut versions: HashMap<FieldKey, u64> = HashMap::new();
    let mut state = State::new();
    for c in &changes {
        let key = (c.entity.id.clone(), c.field.clone());
        let last = versions.entry(key.clone()).or_default();
        if c.version != *last + 1 {
            problems.push(format!(
                "{}/{}: version {} follows version {} (seq {}, op {})",
                key.0, key.1, c.version, last, c.seq, c.op_id
            ));
        }
        *last = c.version;
        state.insert(key, c.value.clone());
    }
    assert!(
        problems.is_empty(),
        "the server's change feed is inconsistent:\n{}",
        problems.join("\n")
    );
    Feed { changes, state }
}

/// Field-by-field differences between two states; a field missing on one side counts as its
/// default value (a step never ticked is not done; an absent note is empty).
pub fn differences(a: &State, b: &State) -> Vec<String> {
    let mut keys: Vec<&FieldKey> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        let default = default_value(&key.1);
        let va = a.get(key).unwrap_or(&default);
        let vb = b.get(key).unwrap_or(&default);
        if va != vb {
            out.push(format!("{}/{}: {va} vs {vb}", key.0, key.1));
        }
    }
    out
}

/// Panics, listing every field that differs, unless `a` and `b` agree field by field.
pub fn assert_same_state(what_a: &str, a: &State, what_b: &str, b: &State) {
    let diff = differences(a, b);
    assert!(
        diff.is_empty(),
        "{what_a} and {what_b} differ in {} field(s) ({what_a} vs {what_b}):\n{}",
        diff.len(),
        diff.join("\n")
    );
}

/// Polls `cond` every 20 ms until it holds, failing with `what` after `limit`.
pub async fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs the `sync-client` binary (a laptop: the real stopover-core and its SQLite file in
/// `dir`) to the end; its stdout, or what it said on stderr when it failed.
pub fn sync_client(dir: &std::path::Path, args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new(crate::workspace_binary("sync-client"))
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "sync-client {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
