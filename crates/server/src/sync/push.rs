//! Applying a push: each operation at most once, per-field versions, conflicts kept for a
//! person to resolve. The caller runs [`apply`] inside one transaction for the whole push.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use stopover_protocol::{OpResult, Operation, Outcome, Refusal, RefusalCode, validate_operation};

use super::kinds;
use crate::auth::policy::SyncScope;
use crate::db::unix_now;
use crate::error::Result;
use crate::records::feed::{current_field, write_field};

/// Answers every operation in order, changing only records in the caller's `scope`.
pub fn apply(conn: &Connection, scope: &SyncScope, ops: &[Operation]) -> Result<Vec<OpResult>> {
    let now = unix_now();
    let account = scope.account_id;
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        let outcome = match stored_outcome(conn, account, &op.id)? {
            Some(earlier) => replay(earlier),
            None => {
                let outcome = decide(conn, scope, op)?;
                if is_idempotency_key(&op.id) {
                    store_outcome(conn, account, &op.id, &outcome, now)?;
                }
                outcome
            }
        };
        results.push(OpResult {
            id: op.id.clone(),
            outcome,
        });
    }
    Ok(results)
}

/// Only UUID-shaped ids are remembered: anything else is rejected anyway, and storing
/// arbitrary strings would let a client fill the disk.
fn is_idempotency_key(id: &str) -> bool {
    id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// What a retry of an operation is told: applied ones become duplicates with the version
/// they got; conflicts and rejections are repeated as they were.
fn replay(earlier: Outcome) -> Outcome {
    match earlier {
        Outcome::Applied { version } | Outcome::Duplicate { version } => {
            Outcome::Duplicate { version }
        }
        other => other,
    }
}

fn decide(conn: &Connection, scope: &SyncScope, op: &Operation) -> Result<Outcome> {
    let kind = match validate_operation(op) {
        Ok(kind) => kind,
        Err(refusal) => return Ok(refusal.into()),
    };
    let Some(key) = scope.key_for(kind) else {
        return Ok(Refusal::new(
            RefusalCode::NoCountry,
            "national report records belong to a country: only an NFP account with a country can change them",
        )
        .into());
    };
    let rules = kinds::rules(kind);
    if let Some(refusal) = rules.refusal(conn, scope, op)? {
        return Ok(refusal.into());
    }
    let current = current_field(conn, &key, op)?;
    let current_version = current.as_ref().map_or(0, |(_, v)| *v);
    if op.base_version == current_version {
        let version = current_version + 1;
        write_field(
            conn,
            &key,
            scope.account_id,
            scope.device.as_deref(),
            op,
            version,
        )?;
        rules.applied(conn, scope, op)?;
        return Ok(Outcome::Applied { version });
    }
    match current {
        // Someone already made exactly this change: nothing for a person to choose.
        Some((value, version)) if value == op.value => Ok(Outcome::Applied { version }),
        Some((server_value, server_version)) => Ok(Outcome::Conflict {
            server_value,
            server_version,
        }),
        None => Ok(Outcome::Conflict {
            server_value: Value::Null,
            server_version: 0,
        }),
    }
}

fn stored_outcome(conn: &Connection, scope: i64, op_id: &str) -> Result<Option<Outcome>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT outcome FROM op_result WHERE account_id = ?1 AND op_id = ?2",
            params![scope, op_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
}

fn store_outcome(
    conn: &Connection,
    scope: i64,
    op_id: &str,
    outcome: &Outcome,
    now: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO op_result (account_id, op_id, outcome, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![scope, op_id, serde_json::to_string(outcome)?, now],
    )?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::accounts::store::{insert, tests::new_account};
    use serde_json::json;
    use stopover_protocol::{AccountStatus, EntityRef, Role};

    pub(crate) fn op(
        n: u32,
        entity: &str,
        field: &str,
        base_version: u64,
        value: Value,
    ) -> Operation {
        Operation {
            id: format!("01939a2b-7c4d-7e8f-9a0b-{n:012}"),
            entity: EntityRef {
                kind: "checklist_progress".into(),
                id: entity.into(),
            },
            field: field.into(),
            base_version,
            value,
        }
    }

    /// A database with two approved NFP accounts of the same country; returns their scopes.
    pub(crate) fn setup() -> (tempfile::TempDir, Connection, SyncScope, SyncScope) {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::db::open(dir.path()).unwrap();
        let a = insert(
            &c,
            &new_account("amina", Role::Nfp, Some("KE"), AccountStatus::Approved),
        )
        .unwrap();
        let b = insert(
            &c,
            &new_account("baraka", Role::Nfp, Some("KE"), AccountStatus::Approved),
        )
        .unwrap();
        let scope = crate::auth::policy::sync_scope;
        (dir, c, scope(&a), scope(&b))
    }

    fn outcomes(r: Vec<OpResult>) -> Vec<Outcome> {
        r.into_iter().map(|r| r.outcome).collect()
    }

    fn count(c: &Connection, table: &str) -> i64 {
        c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn applies_in_order_with_per_field_versions() {
        let (_d, c, a, _) = setup();
        let r = apply(
            &c,
            &a,
            &[
                op(1, "cop/register", "done", 0, json!(true)),
                op(2, "cop/register", "note", 0, json!("booked")),
                op(3, "cop/register", "done", 1, json!(false)),
            ],
        )
        .unwrap();
        assert_eq!(
            outcomes(r),
            [
                Outcome::Applied { version: 1 },
                Outcome::Applied { version: 1 },
                Outcome::Applied { version: 2 }
            ]
        );
        assert_eq!(count(&c, "change"), 3);
    }

    #[test]
    fn a_retry_is_a_duplicate_with_the_version_it_got() {
        let (_d, c, a, _) = setup();
        let first = op(1, "cop/register", "done", 0, json!(true));
        apply(&c, &a, std::slice::from_ref(&first)).unwrap();
        apply(&c, &a, &[op(2, "cop/register", "done", 1, json!(false))]).unwrap();
        for _ in 0..2 {
            let again = apply(&c, &a, std::slice::from_ref(&first)).unwrap();
            assert_eq!(outcomes(again), [Outcome::Duplicate { version: 1 }]);
        }
        // The same id twice in one push is applied once.
        let twice = apply(
            &c,
            &a,
            &[
                op(3, "x/y", "done", 0, json!(true)),
                op(3, "x/y", "done", 0, json!(true)),
            ],
        )
        .unwrap();
        assert_eq!(
            outcomes(twice),
            [
                Outcome::Applied { version: 1 },
                Outcome::Duplicate { version: 1 }
            ]
        );
        assert_eq!(count(&c, "change"), 3);
    }

    #[test]
    fn a_stale_base_version_is_a_conflict_showing_the_server_side() {
        let (_d, c, a, _) = setup();
        apply(
            &c,
            &a,
            &[op(1, "cop/register", "note", 0, json!("from laptop"))],
        )
        .unwrap();
        let r = apply(
            &c,
            &a,
            &[op(2, "cop/register", "note", 0, json!("from office pc"))],
        )
        .unwrap();
        let conflict = Outcome::Conflict {
            server_value: json!("from laptop"),
            server_version: 1,
        };
        assert_eq!(outcomes(r), std::slice::from_ref(&conflict));
        // A retried conflict gets its stored answer, even after the field moved on.
        apply(
            &c,
            &a,
            &[op(3, "cop/register", "note", 1, json!("resolved"))],
        )
        .unwrap();
        assert_eq!(
            outcomes(
                apply(
                    &c,
                    &a,
                    &[op(2, "cop/register", "note", 0, json!("from office pc"))]
                )
                .unwrap()
            ),
            [conflict]
        );
        // A base version from the future also conflicts, against an absent field too.
        let r = apply(&c, &a, &[op(4, "cop/other", "done", 5, json!(true))]).unwrap();
        assert_eq!(
            outcomes(r),
            [Outcome::Conflict {
                server_value: Value::Null,
                server_version: 0
            }]
        );
    }

    #[test]
    fn the_same_value_is_not_a_conflict() {
        let (_d, c, a, _) = setup();
        apply(&c, &a, &[op(1, "cop/register", "done", 0, json!(true))]).unwrap();
        let r = apply(&c, &a, &[op(2, "cop/register", "done", 0, json!(true))]).unwrap();
        assert_eq!(outcomes(r), [Outcome::Applied { version: 1 }]);
        assert_eq!(count(&c, "change"), 1, "nothing new to pull");
        let retry = apply(&c, &a, &[op(2, "cop/register", "done", 0, json!(true))]).unwrap();
        assert_eq!(outcomes(retry), [Outcome::Duplicate { version: 1 }]);
    }

    #[test]
    fn invalid_operations_are_rejected_and_remembered() {
        let (_d, c, a, _) = setup();
        let bad = op(1, "cop/register", "done", 0, json!("yes"));
        let r = apply(&c, &a, std::slice::from_ref(&bad)).unwrap();
        assert_eq!(
            outcomes(r),
            [Outcome::Rejected {
                code: RefusalCode::Malformed,
                params: Default::default(),
                reason: "field `done` takes true or false".into()
            }]
        );
        assert_eq!(count(&c, "field"), 0);
        assert_eq!(count(&c, "op_result"), 1);
        assert!(matches!(
            apply(&c, &a, &[bad]).unwrap()[0].outcome,
            Outcome::Rejected { .. }
        ));
        // A non-UUID id is rejected and not stored.
        let mut junk = op(2, "cop/register", "done", 0, json!(true));
        junk.id = "x".repeat(5000);
        assert!(matches!(
            apply(&c, &a, &[junk]).unwrap()[0].outcome,
            Outcome::Rejected { .. }
        ));
        assert_eq!(count(&c, "op_result"), 1);
    }

    #[test]
    fn accounts_never_see_each_others_fields_or_op_ids() {
        let (_d, c, a, b) = setup();
        apply(&c, &a, &[op(1, "cop/register", "done", 0, json!(true))]).unwrap();
        // Same entity, same op id, other account: its own field, its own idempotency key.
        let r = apply(&c, &b, &[op(1, "cop/register", "done", 0, json!(false))]).unwrap();
        assert_eq!(outcomes(r), [Outcome::Applied { version: 1 }]);
    }
}
