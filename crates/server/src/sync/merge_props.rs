//! Property test of the report answer merge: two devices of one NFP edit the same answers,
//! push and pull in any order, and settle their conflicts. Everything is the real code: the
//! server's push ([`super::push::apply`], in a transaction as the handler runs it) and pull
//! ([`super::pull::pull`]) on a real SQLite file with the CMS form published, and on each
//! device a real `stopover_core::Core` (its own SQLite file) with its outbox, push results,
//! pull and conflict resolution. Only the HTTP layer between them is left out.
//!
//! Checked (as `tests/tests/kinds_simulation.rs` does end to end, here with every
//! interleaving proptest draws and a shrunk example when one fails): an applied edit gets the
//! next version (or the version of the equal value already there); a conflict shows the
//! server's current value and version; the feed has each operation once and each answer's
//! versions 1, 2, 3…; a pull never overwrites an edit still queued or in conflict; once both
//! devices have synced and settled every conflict (each device's person always keeps theirs,
//! or always takes the server's, as drawn) they hold the server's value of every answer; and
//! the last edit of each device was written on the server or shown to that device as a
//! conflict (never lost silently).

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, OnceLock};

use proptest::prelude::*;
use rusqlite::Connection;
use serde_json::Value;
use stopover_core::Core;
use stopover_core::content::PackError;
use stopover_core::sync::{self as device_sync, Resolution};
use stopover_protocol::{
    AccountStatus, EntityRef, Operation, Outcome, PROTOCOL_VERSION, PushResponse, RecordKind, Role,
};

use super::pull::pull;
use super::push::apply;
use crate::accounts::store::{insert, tests::new_account};
use crate::auth::policy::{SyncScope, sync_scope};
use crate::records::feed::current_field;
use crate::reports::tests::open_with_forms;
use stopover_protocol::sync_file::FeedPart;

const REPORT: &str = "cms-national-report/COP15";
const KIND: &str = "report_answer";
/// Answers in two sections, a repeat row among them.
const PATHS: [&str; 3] = ["general/q1", "general/q2", "species[1]/row/q"];

/// One thing that happens, in the order generated.
#[derive(Debug, Clone)]
enum Step {
    /// Device `device` sets answer `path` (`None` clears it; `Some(0)` is a value both devices
    /// may type, any other number a value only this edit has).
    Edit {
        device: usize,
        path: usize,
        value: Option<u8>,
    },
    Push(usize),
    Pull(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..2usize, 0..PATHS.len(), prop::option::weighted(0.85, 0..4u8))
            .prop_map(|(device, path, value)| Step::Edit { device, path, value }),
        2 => (0..2usize).prop_map(Step::Push),
        2 => (0..2usize).prop_map(Step::Pull),
    ]
}

/// A device: its core and the server's view of it.
struct Device {
    _dir: tempfile::TempDir,
    core: Core,
    scope: SyncScope,
    /// Its latest edit of each path.
    last_edit: BTreeMap<&'static str, Value>,
    /// (path, local value) of every conflict it was shown.
    shown: HashSet<(String, Value)>,
    choice: Resolution,
}

impl Device {
    fn new(scope: &SyncScope, name: &str, choice: Resolution) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let no_pack = Err(PackError {
            file: "manifest.toml".into(),
            reason: "no pack in this test".into(),
        });
        let core = Core::open(dir.path(), no_pack).unwrap();
        Device {
            _dir: dir,
            core,
            scope: scope.clone().on_device(name),
            last_edit: BTreeMap::new(),
            shown: HashSet::new(),
            choice,
        }
    }

    /// The answer as this device shows it (`null` when there is none).
    fn local(&self, path: &str) -> Value {
        self.core
            .local_kind(RecordKind::ReportAnswer)
            .read(&self.core.conn(), REPORT, path)
            .unwrap()
            .unwrap_or(Value::Null)
    }

    /// What a save of the answer does: the local row and its queued operation, together.
    fn edit(&mut self, path: &'static str, value: Value) {
        let mut conn = self.core.conn();
        let tx = conn.transaction().unwrap();
        let kind = self.core.local_kind(RecordKind::ReportAnswer);
        // a cleared answer is removed, and travels as null
        assert!(kind.write(&tx, REPORT, path, &value).unwrap());
        device_sync::enqueue(&tx, KIND, REPORT, path, &value).unwrap();
        tx.commit().unwrap();
        drop(conn);
        self.last_edit.insert(path, value);
    }

    /// Pushes the outbox, as the push handler applies it, and checks every answer.
    fn push(&mut self, server: &Connection) -> Result<(), TestCaseError> {
        let ops = device_sync::next_batch(&self.core, 100).unwrap();
        if ops.is_empty() {
            return Ok(());
        }
        let before: Vec<Option<(Value, u64)>> = ops
            .iter()
            .map(|op| current_field(server, &country(), op).unwrap())
            .collect();
        let tx = server.unchecked_transaction().unwrap();
        let results = apply(&tx, &self.scope, &ops).unwrap();
        tx.commit().unwrap();
        for ((op, result), before) in ops.iter().zip(&results).zip(before) {
            let now = current_field(server, &country(), op).unwrap();
            let before_version = before.as_ref().map_or(0, |(_, v)| *v);
            match &result.outcome {
                Outcome::Applied { version } => {
                    let new = *version == before_version + 1 && op.base_version == before_version;
                    let same = before
                        .as_ref()
                        .is_some_and(|(v, n)| *v == op.value && n == version);
                    prop_assert!(new || same, "{op:?} applied as {version} over {before:?}");
                    prop_assert_eq!(now, Some((op.value.clone(), *version)));
                }
                Outcome::Conflict {
                    server_value,
                    server_version,
                } => {
                    prop_assert_ne!(op.base_version, before_version);
                    let (value, version) = now.unwrap_or((Value::Null, 0));
                    prop_assert_eq!((server_value, *server_version), (&value, version));
                }
                other => prop_assert!(false, "{op:?} answered {other:?}"),
            }
        }
        let response = PushResponse {
            protocol: PROTOCOL_VERSION,
            results,
            pull: None,
        };
        device_sync::apply_push_results(&self.core, &ops, &response).unwrap();
        self.note_conflicts();
        Ok(())
    }

    /// Pulls the feed in small pages; an answer still queued or in conflict keeps this
    /// device's latest edit.
    fn pull(&mut self, server: &Connection) -> Result<(), TestCaseError> {
        loop {
            let cursor = device_sync::pull_cursor(&self.core.conn()).unwrap();
            let page = pull(server, &self.scope, cursor, 2, FeedPart::All).unwrap();
            device_sync::apply_pull(&self.core, &page).unwrap();
            if !page.more {
                break;
            }
        }
        self.note_conflicts();
        let waiting: HashSet<String> = device_sync::pending_operations(&self.core)
            .unwrap()
            .into_iter()
            .map(|op| op.field)
            .chain(
                device_sync::conflicts(&self.core)
                    .unwrap()
                    .into_iter()
                    .map(|c| c.field),
            )
            .collect();
        for path in waiting {
            let path = path_of(&path);
            prop_assert_eq!(
                Some(&self.local(path)),
                self.last_edit.get(path),
                "a pull overwrote an edit of {} not yet on the server",
                path
            );
        }
        Ok(())
    }

    fn note_conflicts(&mut self) {
        for c in device_sync::conflicts(&self.core).unwrap() {
            self.shown.insert((c.field, c.local_value));
        }
    }

    /// Settles every conflict the way this device's person does.
    fn settle(&mut self) {
        for c in device_sync::conflicts(&self.core).unwrap() {
            device_sync::resolve_conflict(&self.core, c.kind, &c.entity_id, &c.field, self.choice)
                .unwrap();
            if self.choice == Resolution::TakeTheirs {
                // the person chose the server's value: that is now their latest word
                let path = path_of(&c.field);
                self.last_edit.insert(path, c.server_value);
            }
        }
    }

    fn quiet(&self) -> bool {
        device_sync::pending_operations(&self.core)
            .unwrap()
            .is_empty()
            && device_sync::conflicts(&self.core).unwrap().is_empty()
    }
}

/// The path as one of [`PATHS`].
fn path_of(field: &str) -> &'static str {
    PATHS.iter().copied().find(|p| *p == field).unwrap()
}

/// The operation shape [`current_field`] reads a path with.
fn field_op(path: &str) -> Operation {
    Operation {
        id: String::new(),
        entity: EntityRef {
            kind: KIND.into(),
            id: REPORT.into(),
        },
        field: path.into(),
        base_version: 0,
        value: Value::Null,
    }
}

fn country() -> String {
    "country:KE".into()
}

fn server_value(server: &Connection, path: &str) -> Value {
    current_field(server, &country(), &field_op(path))
        .unwrap()
        .map_or(Value::Null, |(v, _)| v)
}

/// Whether `value` was ever written on the server at `path` (it is in the change feed).
fn ever_written(server: &Connection, path: &str, value: &Value) -> bool {
    server
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM change WHERE kind = ?1 AND entity_id = ?2 AND field = ?3 AND value = ?4)",
            rusqlite::params![KIND, REPORT, path, value.to_string()],
            |r| r.get(0),
        )
        .unwrap()
}

/// The server's data folder with the CMS form published and amina, Kenya's NFP for CMS: made
/// once (publishing the form takes a while), then copied for each case.
fn server() -> (tempfile::TempDir, Connection, SyncScope) {
    static TEMPLATE: OnceLock<(tempfile::TempDir, Mutex<Connection>, SyncScope)> = OnceLock::new();
    let (from, template, amina) = TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let server = open_with_forms(dir.path());
        let nfp = new_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved);
        let amina = sync_scope(&insert(&server, &nfp).unwrap());
        (dir, Mutex::new(server), amina)
    });
    let dir = tempfile::tempdir().unwrap();
    // the published pack's files, then a consistent copy of the database
    copy_files(from.path(), dir.path());
    let file = dir.path().join(crate::db::DATABASE_FILE);
    template
        .lock()
        .unwrap()
        .execute("VACUUM INTO ?1", [file.to_str().unwrap()])
        .unwrap();
    let server = crate::db::open(dir.path()).unwrap();
    (dir, server, amina.clone())
}

/// Copies the folder `from` into `to`, except the database's own files.
fn copy_files(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(crate::db::DATABASE_FILE) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_files(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn two_devices_editing_the_same_answers_converge_and_lose_nothing(
        steps in prop::collection::vec(step(), 1..40),
        keep_mine in any::<[bool; 2]>(),
    ) {
        let (_dir, server, amina) = server();
        let choice = |keep: bool| if keep { Resolution::KeepMine } else { Resolution::TakeTheirs };
        let mut devices = [
            Device::new(&amina, "laptop", choice(keep_mine[0])),
            Device::new(&amina, "office", choice(keep_mine[1])),
        ];

        for (n, step) in steps.iter().enumerate() {
            match *step {
                Step::Edit { device, path, value } => {
                    let value = match value {
                        None => Value::Null,
                        Some(0) => Value::String("the same answer".into()),
                        Some(_) => Value::String(format!("device {device}, edit {n}")),
                    };
                    devices[device].edit(PATHS[path], value);
                }
                Step::Push(device) => devices[device].push(&server)?,
                Step::Pull(device) => devices[device].pull(&server)?,
            }
        }

        // Both sync and settle until nothing waits: a few rounds are always enough.
        let mut rounds = 0;
        while !(devices.iter().all(Device::quiet)) || rounds == 0 {
            prop_assert!(rounds < 8, "still not settled after {} rounds", rounds);
            for d in devices.iter_mut() {
                d.push(&server)?;
                d.pull(&server)?;
                d.settle();
            }
            rounds += 1;
        }
        for d in devices.iter_mut() {
            d.push(&server)?;
            d.pull(&server)?;
        }

        // the feed has each operation once, and each answer's versions 1, 2, 3… in order
        let (all, distinct): (i64, i64) = server
            .query_row("SELECT count(*), count(DISTINCT op_id) FROM change", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        prop_assert_eq!(all, distinct, "an operation is in the feed twice");
        for path in PATHS {
            let versions: Vec<u64> = server
                .prepare("SELECT version FROM change WHERE field = ?1 ORDER BY seq")
                .unwrap()
                .query_map([path], |r| r.get::<_, i64>(0))
                .unwrap()
                .map(|v| v.unwrap() as u64)
                .collect();
            let expected: Vec<u64> = (1..=versions.len() as u64).collect();
            prop_assert_eq!(versions, expected, "versions of {}", path);
        }

        for path in PATHS {
            let on_server = server_value(&server, path);
            for (i, d) in devices.iter().enumerate() {
                prop_assert_eq!(d.local(path), on_server.clone(), "device {} differs on {}", i, path);
                if let Some(last) = d.last_edit.get(path) {
                    let written = *last == on_server || ever_written(&server, path, last);
                    let shown = d.shown.contains(&(path.to_string(), last.clone()));
                    prop_assert!(
                        written || shown,
                        "device {}'s last edit of {} ({:?}) was neither written nor shown as a conflict",
                        i, path, last
                    );
                }
            }
        }
    }
}
