//! National reports on the server: the checks on a country's report records beyond their
//! shape (closed once submitted; sections given only to colleagues of the same country), and
//! submission — judged with the same forms engine as the app, against the form of the latest
//! published content pack.

use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use stopover_forms::{Date, EvalContext, Form, FormState};
use stopover_protocol::RecordKind;
use stopover_protocol::packs::PackArchive;
use stopover_protocol::reports::{
    SubmissionReceipt, SubmitReport, answers_digest, is_cycle, is_form_id, report_entity_id,
};

use crate::accounts::AccountRow;
use crate::auth::policy::{Action, authorize, sync_scope};
use crate::db::unix_now;
use crate::error::{Error, Result};
use crate::packs;

pub mod kinds;
use crate::records::feed::write_record;

/// The settings column naming the instrument whose NFP submits a form (`CMS`, `AEWA`).
const INSTRUMENT_SETTING: &str = "instrument";

/// The receipt of a submitted report, if it was submitted.
pub fn receipt(
    conn: &Connection,
    country: &str,
    form_id: &str,
    cycle: &str,
) -> Result<Option<SubmissionReceipt>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT receipt FROM report_submission WHERE country = ?1 AND form_id = ?2 AND cycle = ?3",
            params![country, form_id, cycle],
            |r| r.get(0),
        )
        .optional()?;
    Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
}

/// The form `form_id` of the latest published pack, with the pack's version.
fn published_form(conn: &Connection, packs_dir: &std::path::Path, form_id: &str) -> Result<Form> {
    let no_form = || Error::NoSuchForm {
        form: form_id.to_string(),
        message: format!(
            "this server has no published report form `{form_id}`: the Secretariat publishes it with the content pack"
        ),
    };
    let release = packs::latest(conn)?.ok_or_else(no_form)?;
    let bytes = std::fs::read(packs::archive_path(packs_dir, &release.version))
        .map_err(|e| Error::Storage(format!("pack {}: {e}", release.version)))?;
    let archive = PackArchive::decode(&bytes).map_err(Error::Corrupt)?;
    let source = archive
        .files
        .get(&format!("forms/{form_id}.txt"))
        .ok_or_else(no_form)?;
    // the CSV files published beside it (`forms/<id>/<file>.csv`)
    let prefix = format!("forms/{form_id}/");
    let files: stopover_forms::Attachments = archive
        .files
        .iter()
        .filter_map(|(path, text)| {
            let name = path.strip_prefix(&prefix)?;
            (!name.contains('/')).then(|| (name.to_string(), text.clone().into_bytes()))
        })
        .collect();
    let form = stopover_forms::load_text_with(source, &files).map_err(|errors| {
        Error::Corrupt(format!(
            "published form `{form_id}` does not load: {errors}"
        ))
    })?;
    let missing = form.missing_files();
    if !missing.is_empty() {
        return Err(Error::Corrupt(format!(
            "published form `{form_id}` reads {}, which the pack does not carry in {prefix}",
            missing.join(", ")
        )));
    }
    Ok(form)
}

/// Every stored answer of a country's report (cleared ones, stored as null, left out).
fn stored_answers(
    conn: &Connection,
    scope_key: &str,
    entity_id: &str,
) -> Result<BTreeMap<String, String>> {
    let mut stmt = conn.prepare(
        "SELECT field, value FROM field WHERE scope = ?1 AND kind = ?2 AND entity_id = ?3",
    )?;
    let rows = stmt.query_map(
        params![scope_key, RecordKind::ReportAnswer.name(), entity_id],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
    )?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (path, json) = row?;
        if let Value::String(s) = serde_json::from_str(&json)? {
            out.insert(path, s);
        }
    }
    Ok(out)
}

fn today() -> Date {
    Date(unix_now().div_euclid(86_400))
}

/// Submits the caller's country's report: only the country's NFP for the form's instrument,
/// only when the server's copy is what the submitter saw (same digest) and every relevant
/// required answer is present and valid. A retry of a submission that went through gets the
/// same receipt; anything else after it is refused.
pub fn submit(
    conn: &Connection,
    packs_dir: &std::path::Path,
    caller: &AccountRow,
    req: &SubmitReport,
) -> Result<SubmissionReceipt> {
    if !is_form_id(&req.form_id) || !is_cycle(&req.cycle) {
        return Err(Error::InvalidRequest(format!(
            "`{}` / `{}` is not a report form id and cycle (e.g. `cms-national-report` / `COP15`)",
            req.form_id, req.cycle
        )));
    }
    let form = Arc::new(published_form(conn, packs_dir, &req.form_id)?);
    let instrument = form
        .settings
        .extra
        .get(INSTRUMENT_SETTING)
        .cloned()
        .ok_or_else(|| Error::NoSuchForm {
            form: req.form_id.clone(),
            message: format!(
                "the form `{}` names no instrument in its settings, so nobody may submit it",
                req.form_id
            ),
        })?;
    authorize(
        caller,
        Action::SubmitReport {
            instrument: &instrument,
        },
    )?;
    let scope = sync_scope(caller);
    let (Some(country), Some(key)) = (
        scope.country.clone(),
        scope.key_for(RecordKind::ReportAnswer),
    ) else {
        return Err(Error::Forbidden(
            "only a country's NFP submits its national report".into(),
        ));
    };
    if let Some(earlier) = receipt(conn, &country, &req.form_id, &req.cycle)? {
        if earlier.answers_sha256 == req.answers_sha256 {
            return Ok(earlier);
        }
        return Err(Error::AlreadySubmitted {
            form: req.form_id.clone(),
            cycle: req.cycle.clone(),
            submitted_at: earlier.submitted_at,
            submitted_by: earlier.submitted_by,
        });
    }
    let entity_id = report_entity_id(&req.form_id, &req.cycle);
    let answers = stored_answers(conn, &key, &entity_id)?;
    let digest = answers_digest(answers.iter().map(|(p, v)| (p.as_str(), v.as_str())));
    if digest != req.answers_sha256 {
        return Err(Error::AnswersDiffer);
    }
    let state = FormState::new(
        form.clone(),
        answers.into_iter().collect(),
        EvalContext { today: today() },
    );
    let issues = state.issues("en");
    if !issues.is_empty() {
        let first: Vec<String> = issues
            .iter()
            .take(5)
            .map(|i| format!("{} ({})", i.path, i.message))
            .collect();
        return Err(Error::ReportIncomplete {
            paths: issues.iter().map(|i| i.path.clone()).collect(),
            message: format!(
                "the report cannot be submitted: {} answer(s) missing or not valid, e.g. {}",
                issues.len(),
                first.join("; ")
            ),
        });
    }
    let submitted: BTreeMap<String, String> = state.submission_answers().into_iter().collect();
    let now = unix_now();
    let submitted_at: String = conn.query_row(
        "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ?1, 'unixepoch')",
        [now],
        |r| r.get(0),
    )?;
    let receipt = SubmissionReceipt {
        receipt_id: uuid::Uuid::now_v7().to_string(),
        country: country.clone(),
        form_id: req.form_id.clone(),
        form_version: form.settings.version.clone().unwrap_or_default(),
        cycle: req.cycle.clone(),
        submitted_by: caller.username.clone(),
        submitted_at,
        answers_sha256: digest,
        answers_submitted: submitted.len() as u32,
    };
    let receipt_json = serde_json::to_string(&receipt)?;
    conn.execute(
        "INSERT INTO report_submission (country, form_id, cycle, receipt_id, receipt, answers, account_id, submitted_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            country,
            req.form_id,
            req.cycle,
            receipt.receipt_id,
            receipt_json,
            serde_json::to_string(&submitted)?,
            caller.id,
            now
        ],
    )?;
    // Every device of the country learns it from the change feed.
    write_record(
        conn,
        &key,
        caller.id,
        RecordKind::ReportSubmission.name(),
        &entity_id,
        "receipt",
        &serde_json::to_value(&receipt)?,
        1,
        &receipt.receipt_id,
    )?;
    Ok(receipt)
}

/// The answers as submitted, for the Secretariat (path → value).
pub fn submitted_answers(
    conn: &Connection,
    country: &str,
    form_id: &str,
    cycle: &str,
) -> Result<Option<BTreeMap<String, String>>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT answers FROM report_submission WHERE country = ?1 AND form_id = ?2 AND cycle = ?3",
            params![country, form_id, cycle],
            |r| r.get(0),
        )
        .optional()?;
    Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use stopover_protocol::{AccountStatus, EntityRef, Operation, Outcome, Role};

    use crate::auth::policy::SyncScope;

    use crate::accounts::store::{insert, tests::new_account};
    use crate::auth::policy::sync_scope;
    use crate::sync::pull::pull;
    use crate::sync::push::apply;

    use super::*;

    fn op(n: u32, kind: &str, field: &str, base_version: u64, value: Value) -> Operation {
        Operation {
            id: format!("01939a2b-7c4d-7e8f-9a0b-{n:012}"),
            entity: EntityRef {
                kind: kind.into(),
                id: "cms-national-report/COP15".into(),
            },
            field: field.into(),
            base_version,
            value,
        }
    }

    fn account(c: &Connection, name: &str, role: Role, country: Option<&str>) -> SyncScope {
        sync_scope(
            &insert(
                c,
                &new_account(name, role, country, AccountStatus::Approved),
            )
            .unwrap(),
        )
    }

    fn outcome(c: &Connection, s: &SyncScope, op: Operation) -> Outcome {
        apply(c, s, &[op]).unwrap().remove(0).outcome
    }

    #[test]
    fn colleagues_of_one_country_share_the_report_and_others_never_see_it() {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::db::open(dir.path()).unwrap();
        let amina = account(&c, "amina", Role::Nfp, Some("KE"));
        let baraka = account(&c, "baraka", Role::Nfp, Some("KE"));
        let chidi = account(&c, "chidi", Role::Nfp, Some("NG"));
        let sec = account(&c, "secretariat", Role::Secretariat, None);
        let answer = |n, field: &str, base, v: &str| op(n, "report_answer", field, base, json!(v));

        // Different fields: both apply. The same field from the same base: a conflict.
        assert_eq!(
            outcome(&c, &amina, answer(1, "general/q1", 0, "a")),
            Outcome::Applied { version: 1 }
        );
        assert_eq!(
            outcome(&c, &baraka, answer(2, "general/q2", 0, "b")),
            Outcome::Applied { version: 1 }
        );
        assert_eq!(
            outcome(&c, &baraka, answer(3, "general/q1", 0, "b's")),
            Outcome::Conflict {
                server_value: json!("a"),
                server_version: 1
            }
        );
        // Another country writes its own report, not Kenya's.
        assert_eq!(
            outcome(&c, &chidi, answer(4, "general/q1", 0, "c")),
            Outcome::Applied { version: 1 }
        );
        let fields = |s: &SyncScope| -> Vec<(String, Value)> {
            pull(&c, s, 0, 100)
                .unwrap()
                .changes
                .into_iter()
                .map(|ch| (ch.field, ch.value))
                .collect()
        };
        assert_eq!(
            fields(&baraka),
            [
                ("general/q1".to_string(), json!("a")),
                ("general/q2".to_string(), json!("b"))
            ]
        );
        assert_eq!(fields(&chidi), [("general/q1".to_string(), json!("c"))]);
        // The Secretariat has no country, hence no report to write.
        assert!(matches!(
            outcome(&c, &sec, answer(5, "general/q1", 0, "s")),
            Outcome::Rejected { reason, .. } if reason.contains("belong to a country")
        ));
        assert!(fields(&sec).is_empty());
    }

    #[test]
    fn sections_go_only_to_approved_colleagues_of_the_same_country() {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::db::open(dir.path()).unwrap();
        let amina = account(&c, "amina", Role::Nfp, Some("KE"));
        account(&c, "baraka", Role::Nfp, Some("KE"));
        account(&c, "chidi", Role::Nfp, Some("NG"));
        insert(
            &c,
            &new_account("dalia", Role::Nfp, Some("KE"), AccountStatus::Pending),
        )
        .unwrap();
        let assign = |n, who: Value| op(n, "report_assignment", "species", 0, who);
        assert_eq!(
            outcome(&c, &amina, assign(1, json!("baraka"))),
            Outcome::Applied { version: 1 }
        );
        for (n, who) in [(2, "chidi"), (3, "dalia"), (4, "nobody")] {
            let Outcome::Rejected { reason, .. } = outcome(&c, &amina, assign(n, json!(who)))
            else {
                panic!("{who} accepted");
            };
            assert!(
                reason.contains(&format!("`{who}` is not an approved account of KE")),
                "{reason}"
            );
        }
        // Taking a section back (null) is always fine.
        assert_eq!(
            outcome(
                &c,
                &amina,
                op(5, "report_assignment", "species", 1, Value::Null)
            ),
            Outcome::Applied { version: 2 }
        );
    }

    #[test]
    fn a_submitted_report_is_closed_to_edits() {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::db::open(dir.path()).unwrap();
        let amina = account(&c, "amina", Role::Nfp, Some("KE"));
        let receipt = SubmissionReceipt {
            receipt_id: "r1".into(),
            country: "KE".into(),
            form_id: "cms-national-report".into(),
            form_version: "1".into(),
            cycle: "COP15".into(),
            submitted_by: "amina".into(),
            submitted_at: "2027-01-01T00:00:00Z".into(),
            answers_sha256: String::new(),
            answers_submitted: 0,
        };
        c.execute(
            "INSERT INTO report_submission VALUES ('KE', 'cms-national-report', 'COP15', 'r1', ?1, '{}', ?2, 0)",
            params![serde_json::to_string(&receipt).unwrap(), amina.account_id],
        )
        .unwrap();
        let Outcome::Rejected { reason, .. } = outcome(
            &c,
            &amina,
            op(1, "report_answer", "general/q1", 0, json!("late")),
        ) else {
            panic!("an edit after submission was accepted");
        };
        assert_eq!(
            reason,
            "the cms-national-report report for COP15 was submitted on 2027-01-01T00:00:00Z by amina; it can no longer change"
        );
    }

    /// The submission check loads the published form with the CSV files published beside it
    /// (`forms/<id>/<file>.csv`), and refuses a published form whose files are missing.
    #[test]
    fn the_published_form_is_loaded_with_its_csv_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = crate::db::open(dir.path()).unwrap();
        let key = dir.path().join("key");
        packs::keygen(&key).unwrap();
        let publish = |c: &mut Connection, version: &str, with_csv: bool| {
            let pack = dir.path().join(format!("pack-{version}"));
            std::fs::create_dir_all(pack.join("forms/birds-report")).unwrap();
            std::fs::write(
                pack.join("manifest.toml"),
                format!("id = \"t\"\nversion = \"{version}\"\nlanguages = [\"en\"]\n"),
            )
            .unwrap();
            std::fs::write(
                pack.join("forms/birds-report.txt"),
                "[survey]\ntype | name | label\nselect_one_from_file birds.csv | bird | Bird\n[settings]\nform_id | version\nbirds_report | 1\n",
            )
            .unwrap();
            if with_csv {
                std::fs::write(
                    pack.join("forms/birds-report/birds.csv"),
                    "name,label\nstork,White stork\n",
                )
                .unwrap();
            }
            packs::publish(c, dir.path(), &key, &pack).unwrap();
        };
        publish(&mut c, "1.0.0", true);
        let packs_dir = dir.path().join("packs");
        let form = published_form(&c, &packs_dir, "birds-report").unwrap();
        let birds = form.choice_list("birds.csv");
        assert_eq!(birds.len(), 1);
        assert_eq!(birds[0].label.get("en", None), Some("White stork"));

        publish(&mut c, "1.0.1", false);
        let e = published_form(&c, &packs_dir, "birds-report")
            .unwrap_err()
            .to_string();
        assert!(e.contains("reads birds.csv"), "{e}");
    }
}
