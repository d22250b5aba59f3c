//! Sync files (`ecommunity bundle import`): a device's outbox brought on a USB stick or by
//! e-mail, or forwarded by a workshop relay (`POST /v1/sync/file`), applied exactly as a push
//! ([`super::push::apply`], same operation ids: a file imported twice changes nothing),
//! answered with a reply file the server signs.
//!
//! The file is checked before anything is applied: its layout, its signer (a device that
//! registered that key and is still signed in, of an approved account), its signature. A
//! refused file changes nothing.

use ed25519_dalek::SigningKey;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use stopover_protocol::sync_file::{
    self, DeviceChanges, FeedPart, FileKind, FileRefusal, MAX_FILE_OPS, MAX_REPLY_CHANGES,
    SyncFileReply,
};
use stopover_protocol::{MAX_PULL_LIMIT, PROTOCOL_VERSION, PullResponse};

use super::{pull as feed, push};
use crate::auth::devices;
use crate::auth::policy::{Action, authorize, sync_scope};
use crate::db::unix_now;
use crate::error::{Error, Result};

/// The server's file key when it was made already (a read-only connection can tell).
pub fn existing_server_key(conn: &Connection) -> Result<Option<SigningKey>> {
    let seed: Option<Vec<u8>> = conn
        .query_row("SELECT seed FROM server_file_key WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    seed.map(key_from_seed).transpose()
}

fn key_from_seed(seed: Vec<u8>) -> Result<SigningKey> {
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| Error::Corrupt("the server's file key is not 32 bytes".into()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The server's file key, made on first use and kept in the database (so a backup keeps it,
/// and replies stay verifiable after a restore). It signs reply files, device credentials
/// and community pages.
pub fn server_key(conn: &Connection) -> Result<SigningKey> {
    let existing: Option<Vec<u8>> = conn
        .query_row("SELECT seed FROM server_file_key WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    let seed = match existing {
        Some(seed) => seed,
        None => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| Error::Random(e.to_string()))?;
            // Two first uses at once: the first insert wins, both read it back.
            conn.execute(
                "INSERT OR IGNORE INTO server_file_key (id, seed, created_at) VALUES (1, ?1, ?2)",
                params![seed.as_slice(), unix_now()],
            )?;
            conn.query_row("SELECT seed FROM server_file_key WHERE id = 1", [], |r| {
                r.get(0)
            })?
        }
    };
    key_from_seed(seed)
}

/// What an import did, for the command line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub username: String,
    pub device_id: String,
    pub operations: usize,
    pub applied: usize,
    pub duplicates: usize,
    pub conflicts: usize,
    pub rejected: usize,
    pub changes_in_reply: usize,
    pub more: bool,
}

/// Who brought a file: the admin CLI on the server's machine, or a request over HTTP (a
/// workshop relay forwarding a laptop's push, `POST /v1/sync/file`).
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    Cli,
    /// `source`: the client address, for the audit log.
    Http {
        source: &'a str,
    },
}

/// A changes file whose layout, signer and signature were checked, not yet applied.
pub struct Checked {
    pub owner: devices::TokenOwner,
    pub changes: DeviceChanges,
}

/// Every check a changes file must pass before anything of it is applied: its layout, its
/// signer (a registered file key of a device still signed in, of an approved account), its
/// signature, the part of the feed it asks for, its size.
pub fn check(conn: &Connection, file: &[u8]) -> Result<Checked> {
    let envelope = sync_file::envelope(file, FileKind::Changes).map_err(Error::SyncFile)?;
    let signer = *envelope.signer.as_bytes();
    let owner =
        devices::find_by_file_key(conn, &signer)?.ok_or(Error::SyncFile(FileRefusal::Foreign))?;
    let changes: DeviceChanges = envelope.open(&envelope.signer).map_err(Error::SyncFile)?;
    if changes.device_id != owner.device_id {
        // Signed by the key, yet naming another device: not written by Stopover.
        return Err(Error::SyncFile(FileRefusal::Tampered));
    }
    owner.check_in_good_standing()?;
    authorize(&owner.account, Action::Sync)?;
    if changes.feed == FeedPart::Community {
        // The community part is a relay's to fetch with a grant, never a device file's.
        return Err(Error::InvalidRequest(
            "a device's sync file asks for all its changes or its private ones (`feed`: `all` or `private`), never the community's alone".into(),
        ));
    }
    if changes.ops.len() > MAX_FILE_OPS {
        return Err(Error::TooManyOperations);
    }
    Ok(Checked { owner, changes })
}

/// Checks and applies a changes file brought with the admin CLI; returns the signed reply
/// file and what was done.
pub fn import(conn: &mut Connection, file: &[u8]) -> Result<(Vec<u8>, ImportSummary)> {
    import_via(conn, file, Via::Cli)
}

/// Checks and applies a changes file; returns the signed reply file and what was done.
///
/// Logged as `bundle.import` when the CLI brought it (every import, even one that applied
/// nothing new: someone carried a person's work to the server); as `sync.file` when it came
/// over HTTP and applied something (a relay forwards a laptop's every round, and a repeated
/// forward applies nothing: the log keeps the arrivals of work, not the retries).
pub fn import_via(
    conn: &mut Connection,
    file: &[u8],
    via: Via<'_>,
) -> Result<(Vec<u8>, ImportSummary)> {
    let applied = apply_file(conn, file, via)?;
    let key = server_key(conn)?;
    reply(conn, &key, file, applied, MAX_REPLY_CHANGES)
}

/// Most changes a reply over HTTP carries (a relay's round): a few pages, a few MiB at most,
/// so one answer stays small on a workshop's LAN; `more` says the next round brings the rest.
pub const MAX_HTTP_REPLY_CHANGES: usize = 4 * MAX_PULL_LIMIT as usize;

/// A changes file applied, waiting for its reply.
pub struct Applied {
    pub owner: devices::TokenOwner,
    pub changes: DeviceChanges,
    pub results: Vec<stopover_protocol::OpResult>,
}

/// Checks and applies a changes file in one transaction, and logs it (see [`import_via`]).
pub fn apply_file(conn: &mut Connection, file: &[u8], via: Via<'_>) -> Result<Applied> {
    let Checked { owner, changes } = check(conn, file)?;
    let scope = sync_scope(&owner.account).on_device(&owner.device_id);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let results = push::apply(&tx, &scope, &changes.ops)?;
    let applied = results
        .iter()
        .filter(|r| matches!(r.outcome, stopover_protocol::Outcome::Applied { .. }))
        .count();
    let cli = crate::audit::cli_actor();
    let (actor, action, source) = match via {
        Via::Cli => (
            cli.as_str(),
            crate::audit::action::BUNDLE_IMPORT,
            crate::audit::LOCAL,
        ),
        Via::Http { source } => (
            owner.account.username.as_str(),
            crate::audit::action::SYNC_FILE,
            source,
        ),
    };
    if matches!(via, Via::Cli) || applied > 0 {
        crate::audit::record(
            &tx,
            &crate::audit::Entry {
                actor,
                action,
                target: Some(&owner.account.username),
                detail: serde_json::json!({
                    "device": owner.device_id,
                    "operations": results.len(),
                    "applied": applied,
                }),
                source,
            },
        )?;
    }
    tx.commit()?;
    Ok(Applied {
        owner,
        changes,
        results,
    })
}

/// The reply to an applied file, signed with `key`: its results and the changes after its
/// cursor, about `max_changes` of them at most (read from `conn`, which may be a reader: the
/// file's changes are committed).
pub fn reply(
    conn: &Connection,
    key: &SigningKey,
    file: &[u8],
    applied: Applied,
    max_changes: usize,
) -> Result<(Vec<u8>, ImportSummary)> {
    let Applied {
        owner,
        changes,
        results,
    } = applied;
    let scope = sync_scope(&owner.account).on_device(&owner.device_id);
    // The changes after the file's cursor, page by page (each page its own snapshot; the
    // cursor makes the pages join up).
    let mut cursor = changes.cursor;
    let mut all = Vec::new();
    let mut more = true;
    while more && all.len() < max_changes {
        let page = feed::pull(conn, &scope, cursor, MAX_PULL_LIMIT, changes.feed)?;
        all.extend(page.changes);
        cursor = page.cursor;
        more = page.more;
    }

    let count = |f: fn(&stopover_protocol::Outcome) -> bool| {
        results.iter().filter(|r| f(&r.outcome)).count()
    };
    use stopover_protocol::Outcome as O;
    let summary = ImportSummary {
        username: owner.account.username.clone(),
        device_id: owner.device_id.clone(),
        operations: results.len(),
        applied: count(|o| matches!(o, O::Applied { .. })),
        duplicates: count(|o| matches!(o, O::Duplicate { .. })),
        conflicts: count(|o| matches!(o, O::Conflict { .. })),
        rejected: count(|o| matches!(o, O::Rejected { .. })),
        changes_in_reply: all.len(),
        more,
    };
    let reply = SyncFileReply {
        protocol: PROTOCOL_VERSION,
        device_id: owner.device_id,
        answers: sync_file::file_digest(file),
        results,
        from_cursor: changes.cursor,
        pull: PullResponse {
            protocol: PROTOCOL_VERSION,
            changes: all,
            cursor,
            more,
        },
    };
    Ok((sync_file::seal(FileKind::Reply, key, &reply), summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::store::{insert, tests::new_account};
    use crate::sync::push::tests::op;
    use serde_json::json;
    use stopover_protocol::{AccountStatus, Role};

    fn device_key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    fn changes(ops: Vec<stopover_protocol::Operation>) -> DeviceChanges {
        DeviceChanges {
            protocol: 1,
            device_id: "d1".into(),
            username: "amina".into(),
            written_at: 0,
            ops,
            cursor: 0,
            feed: FeedPart::All,
        }
    }

    #[test]
    fn a_file_applies_once_and_the_reply_is_signed_by_the_server() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = crate::db::open(dir.path()).unwrap();
        let acc = insert(
            &c,
            &new_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved),
        )
        .unwrap();
        devices::insert(&c, "d1", acc.id, "laptop", &[1; 32]).unwrap();
        let file = sync_file::seal(
            FileKind::Changes,
            &device_key(7),
            &changes(vec![op(1, "cop/register", "done", 0, json!(true))]),
        );
        // Unregistered key: foreign, nothing applied.
        assert!(matches!(
            import(&mut c, &file),
            Err(Error::SyncFile(FileRefusal::Foreign))
        ));
        devices::set_file_key(&c, "d1", device_key(7).verifying_key().as_bytes()).unwrap();
        let (reply, first) = import(&mut c, &file).unwrap();
        assert_eq!((first.applied, first.duplicates), (1, 0));
        let (_, second) = import(&mut c, &file).unwrap();
        assert_eq!((second.applied, second.duplicates), (0, 1));
        let server = server_key(&c).unwrap().verifying_key();
        let opened: SyncFileReply = sync_file::envelope(&reply, FileKind::Reply)
            .unwrap()
            .open(&server)
            .unwrap();
        assert_eq!(opened.device_id, "d1");
        assert_eq!(opened.answers, sync_file::file_digest(&file));
        let n: i64 = c
            .query_row("SELECT count(*) FROM change", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        let logged: i64 = c
            .query_row(
                "SELECT count(*) FROM audit WHERE action = 'bundle.import'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(logged, 2, "each import is logged, the refused one is not");
        devices::revoke(&c, "d1").unwrap();
        assert!(matches!(import(&mut c, &file), Err(Error::TokenRevoked)));
    }

    #[test]
    fn a_file_asks_for_all_or_its_private_part_never_the_community_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = crate::db::open(dir.path()).unwrap();
        let acc = insert(
            &c,
            &new_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved),
        )
        .unwrap();
        devices::insert(&c, "d1", acc.id, "laptop", &[1; 32]).unwrap();
        devices::set_file_key(&c, "d1", device_key(7).verifying_key().as_bytes()).unwrap();
        crate::records::feed::write_server_record(
            &c,
            crate::auth::policy::COMMUNITY_KEY,
            "forum_post",
            "p1",
            "body",
            &json!("hello"),
        )
        .unwrap();
        let reply_of = |c: &mut Connection, feed: FeedPart, n: u32| {
            let mut ch = changes(vec![op(n, &format!("l/{n}"), "done", 0, json!(true))]);
            ch.feed = feed;
            let file = sync_file::seal(FileKind::Changes, &device_key(7), &ch);
            let (reply, _) = import(c, &file)?;
            let server = server_key(c).unwrap().verifying_key();
            let opened: SyncFileReply = sync_file::envelope(&reply, FileKind::Reply)
                .unwrap()
                .open(&server)
                .unwrap();
            Ok::<_, Error>(opened)
        };
        let all = reply_of(&mut c, FeedPart::All, 1).unwrap();
        assert_eq!(all.pull.changes.len(), 1, "the community's post");
        let private = reply_of(&mut c, FeedPart::Private, 2).unwrap();
        assert!(
            private.pull.changes.is_empty(),
            "{:?}",
            private.pull.changes
        );
        assert!(matches!(
            reply_of(&mut c, FeedPart::Community, 3),
            Err(Error::InvalidRequest(_))
        ));
        let applied: i64 = c
            .query_row(
                "SELECT count(*) FROM change WHERE entity_id = 'l/3'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(applied, 0, "a refused file applies nothing");
    }
}
