//! National reports on the server: the checks on a country's report records beyond their
//! shape (closed once submitted; delegation: the instrument's NFP leads, colleagues write
//! only the sections given to them), and
//! submission — judged with the same forms engine as the app, against the form of the latest
//! published content pack.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use stopover_forms::{Date, EvalContext, Form, FormState};
use stopover_protocol::{AccountStatus, Operation, RecordKind, Refusal, RefusalCode};

use crate::accounts::AccountRow;
use crate::accounts::store as accounts;
use crate::auth::policy::SyncScope;
use stopover_protocol::packs::PackArchive;
use stopover_protocol::reports::{
    ReceiptAttachment, SubmissionReceipt, SubmitReport, answers_digest, is_cycle, is_form_id,
    parse_file_answer, report_entity_id,
};

use crate::auth::policy::{Action, authorize, sync_scope};
use crate::db::unix_now;
use crate::error::{Error, Result};
use crate::packs;

pub mod kinds;
use crate::records::feed::write_record;

/// The settings column naming the instrument whose NFP submits a form (`CMS`, `AEWA`).
const INSTRUMENT_SETTING: &str = "instrument";

/// Why an operation on a report record is refused, if it is. The rules, in order:
/// - a submitted report no longer changes;
/// - the server must publish the report's form (its settings name the instrument, e.g. CMS,
///   whose focal point leads the report);
/// - the country's NFP for that instrument (an account of the country listing it) writes
///   any answer and gives sections (top-level groups) to colleagues, only to approved
///   accounts of the same country;
/// - anyone else of the country (a colleague, or the NFP of another instrument) writes only
///   answers in sections given to them; the refusal names the section and who can give it.
///
/// Called for every report operation of a push, inside its transaction (`sync::push`).
pub fn refusal(
    conn: &Connection,
    scope: &SyncScope,
    kind: RecordKind,
    op: &Operation,
) -> Result<Option<Refusal>> {
    let Some(country) = scope.country.as_deref() else {
        return Ok(None); // refused earlier: no country, no report
    };
    let Some((form_id, cycle)) = op.entity.id.split_once('/') else {
        return Ok(None); // refused earlier by the shape check
    };
    if let Some(receipt) = receipt(conn, country, form_id, cycle)? {
        return Ok(Some(
            Refusal::new(
                RefusalCode::ReportSubmitted,
                format!(
                    "the {form_id} report for {cycle} was submitted on {} by {}; it can no longer change",
                    receipt.submitted_at, receipt.submitted_by
                ),
            )
            .with("submitted_at", receipt.submitted_at)
            .with("submitted_by", receipt.submitted_by),
        ));
    }
    let Some(instrument) = form_instrument(conn, form_id)? else {
        return Ok(Some(
            Refusal::new(
                RefusalCode::FormNotPublished,
                format!(
                    "this server has not published the report form `{form_id}` (the Secretariat publishes it with the content pack), so nobody can tell who leads it yet"
                ),
            )
            .with("form", form_id),
        ));
    };
    let caller = accounts::get_by_id(conn, scope.account_id)?;
    if covers(&caller, &instrument) {
        return nfp_refusal(conn, country, kind, op);
    }
    let leads = || -> Result<Vec<String>> { who_leads(conn, country, &instrument) };
    match kind {
        RecordKind::ReportAssignment => {
            let leads = leads()?;
            Ok(Some(
                Refusal::new(
                    RefusalCode::NotFocalPoint,
                    format!(
                        "only {}, {country}'s focal point for {instrument}, gives sections of the report to colleagues",
                        in_words(&leads, &instrument)
                    ),
                )
                .with("assigners", leads)
                .with("instrument", instrument.as_str()),
            ))
        }
        RecordKind::ReportAnswer => {
            let section = section_of(&op.field);
            if let Some(section) = section {
                let key = format!("country:{country}");
                let assignee = assignee(conn, &key, &op.entity.id, section)?;
                if assignee.as_deref() == Some(caller.username.as_str()) {
                    return Ok(None);
                }
            }
            let leads = leads()?;
            let reason = match section {
                Some(section) => format!(
                    "the section `{section}` of the {form_id} report is not given to you: {} can give it to you",
                    in_words(&leads, &instrument)
                ),
                None => format!(
                    "the answer `{}` is in no section that can be given to a colleague: only {} writes it",
                    op.field,
                    in_words(&leads, &instrument)
                ),
            };
            let mut refusal = Refusal::new(RefusalCode::NotAssigned, reason)
                .with("assigners", leads)
                .with("instrument", instrument.as_str());
            if let Some(section) = section {
                refusal = refusal.with("section", section);
            }
            Ok(Some(refusal))
        }
        _ => Ok(None),
    }
}

/// What the country's NFP may not do either: give a section to someone who is not an
/// approved account of the country.
fn nfp_refusal(
    conn: &Connection,
    country: &str,
    kind: RecordKind,
    op: &Operation,
) -> Result<Option<Refusal>> {
    if kind == RecordKind::ReportAssignment
        && let Value::String(username) = &op.value
    {
        let colleague = accounts::find(conn, username)?;
        let same_country = colleague.as_ref().is_some_and(|a| {
            a.status == AccountStatus::Approved && a.country.as_deref() == Some(country)
        });
        if !same_country {
            return Ok(Some(
                Refusal::new(
                    RefusalCode::NotAColleague,
                    format!(
                        "`{username}` is not an approved account of {country}: a section can only be given to a colleague of the same country"
                    ),
                )
                .with("username", username.as_str())
                .with("country", country),
            ));
        }
    }
    Ok(None)
}

/// True when the account is a focal point for `instrument` (case does not matter).
fn covers(account: &AccountRow, instrument: &str) -> bool {
    account.role == stopover_protocol::Role::Nfp
        && account
            .instruments
            .iter()
            .any(|i| i.eq_ignore_ascii_case(instrument))
}

/// The section (top-level group) an answer path belongs to; `None` for a top-level question.
pub fn section_of(path: &str) -> Option<&str> {
    let (first, _) = path.split_once('/')?;
    Some(first.split_once('[').map_or(first, |(name, _)| name))
}

/// Who a section of a report is given to, if anyone.
fn assignee(
    conn: &Connection,
    key: &str,
    entity_id: &str,
    section: &str,
) -> Result<Option<String>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT value FROM field WHERE scope = ?1 AND kind = ?2 AND entity_id = ?3 AND field = ?4",
            params![key, RecordKind::ReportAssignment.name(), entity_id, section],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match json.map(|j| serde_json::from_str(&j)).transpose()? {
        Some(Value::String(u)) => Some(u),
        _ => None,
    })
}

/// The approved NFPs of `country` for `instrument`, for a refusal that says whom to ask
/// (empty when there is none yet).
fn who_leads(conn: &Connection, country: &str, instrument: &str) -> Result<Vec<String>> {
    let names: Vec<String> = accounts::list(conn)?
        .into_iter()
        .filter(|a| {
            a.status == AccountStatus::Approved
                && a.country.as_deref() == Some(country)
                && covers(a, instrument)
        })
        .map(|a| a.username)
        .take(5)
        .collect();
    Ok(names)
}

/// "amina" / "amina or baraka" for the English reason; who can make one when there is none.
fn in_words(leads: &[String], instrument: &str) -> String {
    if leads.is_empty() {
        format!("the NFP for {instrument} (none yet: the Secretariat sets one up)")
    } else {
        leads.join(" or ")
    }
}

/// The instrument of report form `form_id` in the latest published pack, or `None` when the
/// pack has no such form (or no pack was published). Read from the pack archive once per pack
/// version and form, then remembered.
pub fn form_instrument(conn: &Connection, form_id: &str) -> Result<Option<String>> {
    static KNOWN: Mutex<BTreeMap<(String, String, String), Option<String>>> =
        Mutex::new(BTreeMap::new());
    let Some(release) = packs::latest(conn)? else {
        return Ok(None);
    };
    let Some(data_dir) = conn.path().map(Path::new).and_then(Path::parent) else {
        return Ok(None);
    };
    let key = (
        data_dir.to_string_lossy().into_owned(),
        release.version.clone(),
        form_id.to_string(),
    );
    if let Some(known) = KNOWN.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(known.clone());
    }
    let instrument = match published_form(conn, &data_dir.join("packs"), form_id) {
        Ok(form) => form.settings.extra.get(INSTRUMENT_SETTING).cloned(),
        Err(Error::NoSuchForm { .. }) => None,
        Err(e) => return Err(e),
    };
    KNOWN
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, instrument.clone());
    Ok(instrument)
}

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
    let attachments = submitted_files(conn, &submitted)?;
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
        attachments,
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

/// The files the submitted answers name, each complete on the server, for the receipt; or
/// [`Error::AttachmentsMissing`] naming those not (yet) uploaded: a report travels with its
/// files or not at all.
fn submitted_files(
    conn: &Connection,
    answers: &BTreeMap<String, String>,
) -> Result<Vec<ReceiptAttachment>> {
    let mut files = Vec::new();
    let mut missing = Vec::new();
    for (path, value) in answers {
        let Some((filename, sha256)) = parse_file_answer(value) else {
            continue;
        };
        match crate::attachments::store::find_complete_by_sha(conn, sha256)? {
            Some(row) => files.push(ReceiptAttachment {
                path: path.clone(),
                filename: filename.to_string(),
                sha256: sha256.to_string(),
                size: row.length,
            }),
            None => missing.push(filename.to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(Error::AttachmentsMissing { files: missing });
    }
    Ok(files)
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
pub(crate) mod tests {
    use serde_json::json;
    use stopover_protocol::{AccountStatus, EntityRef, Operation, Outcome, Role};

    use crate::auth::policy::SyncScope;

    use crate::accounts::store::{insert, tests::new_account};
    use crate::auth::policy::sync_scope;
    use crate::sync::pull::pull;
    use crate::sync::push::apply;
    use stopover_protocol::sync_file::FeedPart;

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

    /// Opens a database in `dir` with the repository's CMS report form published (its
    /// settings name the CMS instrument), as `pack publish` does.
    pub(crate) fn open_with_forms(dir: &std::path::Path) -> Connection {
        let mut c = crate::db::open(dir).unwrap();
        let pack = dir.join("pack-src");
        std::fs::create_dir_all(pack.join("forms")).unwrap();
        std::fs::write(
            pack.join("manifest.toml"),
            "id = \"test\"\nversion = \"1.0\"\n",
        )
        .unwrap();
        std::fs::write(
            pack.join("forms/cms-national-report.txt"),
            include_str!("../../../../assets/forms/cms-national-report.txt"),
        )
        .unwrap();
        // The form reads its species list from a CSV file published with it.
        std::fs::create_dir_all(pack.join("forms/cms-national-report")).unwrap();
        std::fs::write(
            pack.join("forms/cms-national-report/cms-species.csv"),
            include_str!("../../../../assets/forms/cms-national-report/cms-species.csv"),
        )
        .unwrap();
        let key = dir.join("pack.key");
        packs::keygen(&key).unwrap();
        packs::publish(&mut c, dir, &key, &pack).unwrap();
        c
    }

    fn colleague(c: &Connection, name: &str, country: &str, instruments: &[&str]) -> SyncScope {
        let mut new = new_account(name, Role::Nfp, Some(country), AccountStatus::Approved);
        new.instruments = instruments.iter().map(|i| i.to_string()).collect();
        sync_scope(&insert(c, &new).unwrap())
    }

    #[test]
    fn colleagues_write_only_the_sections_given_to_them() {
        let dir = tempfile::tempdir().unwrap();
        let c = open_with_forms(dir.path());
        assert_eq!(
            form_instrument(&c, "cms-national-report")
                .unwrap()
                .as_deref(),
            Some("CMS")
        );
        assert_eq!(form_instrument(&c, "no-such-form").unwrap(), None);
        let amina = account(&c, "amina", Role::Nfp, Some("KE")); // the NFP for CMS
        let baraka = colleague(&c, "baraka", "KE", &[]);
        let dalia = colleague(&c, "dalia", "KE", &["AEWA"]); // another instrument's NFP
        let answer = |n, field: &str, v: &str| op(n, "report_answer", field, 0, json!(v));
        let rejected = |o: Outcome| match o {
            Outcome::Rejected { reason, .. } => reason,
            other => panic!("accepted: {other:?}"),
        };

        // The NFP writes anywhere; a colleague without the section nowhere, told whom to ask.
        assert_eq!(
            outcome(&c, &amina, answer(1, "general/q1", "a")),
            Outcome::Applied { version: 1 }
        );
        let why = rejected(outcome(&c, &baraka, answer(2, "species/q1", "b")));
        assert_eq!(
            why,
            "the section `species` of the cms-national-report report is not given to you: amina can give it to you"
        );
        let why = rejected(outcome(&c, &dalia, answer(3, "species/q1", "d")));
        assert!(why.contains("section `species`"), "{why}");
        // Nor can a colleague give sections (to themselves or anyone).
        let why = rejected(outcome(
            &c,
            &baraka,
            op(4, "report_assignment", "species", 0, json!("baraka")),
        ));
        assert_eq!(
            why,
            "only amina, KE's focal point for CMS, gives sections of the report to colleagues"
        );

        // Given the section, the colleague writes in it (repeat rows too), and only in it.
        assert_eq!(
            outcome(
                &c,
                &amina,
                op(5, "report_assignment", "species", 0, json!("baraka"))
            ),
            Outcome::Applied { version: 1 }
        );
        assert_eq!(
            outcome(&c, &baraka, answer(6, "species/q1", "b")),
            Outcome::Applied { version: 1 }
        );
        assert_eq!(
            outcome(&c, &baraka, answer(7, "species[2]/row/q", "b")),
            Outcome::Applied { version: 1 }
        );
        assert!(
            rejected(outcome(&c, &baraka, answer(8, "general/q1", "overwrite")))
                .contains("`general`")
        );
        // A question outside any section is the NFP's.
        let why = rejected(outcome(&c, &baraka, answer(9, "lonely", "b")));
        assert!(why.contains("in no section"), "{why}");
        // Taken back, the section is closed to the colleague again.
        outcome(
            &c,
            &amina,
            op(10, "report_assignment", "species", 1, Value::Null),
        );
        assert!(
            rejected(outcome(&c, &baraka, answer(11, "species/q2", "b"))).contains("`species`")
        );
    }

    #[test]
    fn without_a_published_form_nobody_writes_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let c = crate::db::open(dir.path()).unwrap();
        let amina = account(&c, "amina", Role::Nfp, Some("KE"));
        let Outcome::Rejected { reason, .. } = outcome(
            &c,
            &amina,
            op(1, "report_answer", "general/q1", 0, json!("a")),
        ) else {
            panic!("accepted without a form")
        };
        assert!(
            reason.contains("has not published the report form"),
            "{reason}"
        );
    }

    #[test]
    fn sections_are_the_first_segment_of_a_path() {
        assert_eq!(section_of("general/q1"), Some("general"));
        assert_eq!(
            section_of("appendix_i/app1_species[2]/trend"),
            Some("appendix_i")
        );
        assert_eq!(section_of("rows[3]/x"), Some("rows"));
        assert_eq!(section_of("lonely"), None);
    }

    #[test]
    fn colleagues_of_one_country_share_the_report_and_others_never_see_it() {
        let dir = tempfile::tempdir().unwrap();
        let c = open_with_forms(dir.path());
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
            pull(&c, s, 0, 100, FeedPart::All)
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
        let c = open_with_forms(dir.path());
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
            attachments: Vec::new(),
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
