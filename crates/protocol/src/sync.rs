//! Push and pull: the outbox operations and the change feed.
//!
//! A client changes one field of one entity at a time. Each change is an [`Operation`] with a
//! client-made id (UUIDv7), the version of that field it was made against, and the new value.
//! The server applies each operation at most once (keyed by its id) and answers per operation.
//! Versions are per field: edits to different fields never conflict; two edits to the same
//! field made against the same version do, and a person resolves it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors::{Params, Refusal, RefusalCode};

/// Most operations in one push; a client splits larger outboxes into several pushes.
pub const MAX_OPS_PER_PUSH: usize = 200;
/// Largest page of changes a pull returns (the `limit` is capped to this).
pub const MAX_PULL_LIMIT: u32 = 500;
/// Longest text value a field may hold, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Which thing an operation changes. `kind` is one of [`RecordKind`]'s names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct EntityRef {
    /// A [`RecordKind`] name; a string on the wire so an unknown kind is refused per operation
    /// rather than failing the whole push.
    #[cfg_attr(feature = "openapi", schema(value_type = RecordKind))]
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// UUIDv7 made by the client; the server's idempotency key.
    pub id: String,
    pub entity: EntityRef,
    pub field: String,
    /// The field's version this edit was made against (0: the field did not exist yet).
    pub base_version: u64,
    pub value: Value,
}

/// `POST /v1/sync/push`: operations to apply and, with `pull`, the page of changes to bring
/// back in the same exchange. A sync round with something to send is this one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub ops: Vec<Operation>,
    /// Also pull: the answer carries the changes after this cursor, read once the operations
    /// are committed (so it never misses what they caused, e.g. a post's `meta`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub pull: Option<PullRequest>,
}

/// Where a pull starts and how much it may bring: the query of `GET /v1/sync/pull`, or the
/// `pull` of a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    /// The `cursor` of the last page applied; 0 for everything.
    pub cursor: u64,
    /// Page size: default 200, capped at [`MAX_PULL_LIMIT`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub limit: Option<u32>,
}

/// One answer per operation, in the order sent; with the page of changes when the push asked
/// for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PushResponse {
    /// Always [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION): the answer is this protocol's,
    /// not a captive portal's or another service's (see [`is_versioned`]).
    pub protocol: u32,
    pub results: Vec<OpResult>,
    /// The changes after the request's `pull.cursor` (absent when it asked for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub pull: Option<PullResponse>,
}

/// True when an answer's `protocol` says it comes from a server speaking this protocol. A
/// client trusts no answer without it: a 200 from a wifi login page or another service is
/// not a sync, and this check replaces a separate health probe before each round.
pub fn is_versioned(protocol: u32) -> bool {
    protocol == crate::PROTOCOL_VERSION
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OpResult {
    pub id: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Applied now; the field's new version.
    Applied { version: u64 },
    /// Already applied earlier (a retry): the version it got then.
    Duplicate { version: u64 },
    /// The field moved on since `base_version`: the server's value and version, for a person
    /// to choose between.
    Conflict {
        server_value: Value,
        server_version: u64,
    },
    /// Never applicable (bad field, value out of range, not allowed): a stable code and its
    /// parameters for the client to say why in its person's language, and an English reason
    /// for logs.
    Rejected {
        code: RefusalCode,
        #[serde(default, skip_serializing_if = "Params::is_empty")]
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        params: Params,
        reason: String,
    },
}

impl From<Refusal> for Outcome {
    fn from(r: Refusal) -> Self {
        Outcome::Rejected {
            code: r.code,
            params: r.params,
            reason: r.reason,
        }
    }
}

/// `GET /v1/sync/pull?cursor=N&limit=M`: changes after `cursor`, oldest first. The changes
/// the calling device pushed itself are left out (it holds them, and the push answered with
/// their versions); the cursor still moves past them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PullResponse {
    /// Always [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION) (see [`is_versioned`]).
    pub protocol: u32,
    pub changes: Vec<Change>,
    /// Pass this as `cursor` next time (store it with the changes, in one transaction). Every
    /// change up to it was either in a page or made by the calling device.
    pub cursor: u64,
    /// True when more changes wait beyond this page.
    pub more: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Change {
    pub seq: u64,
    pub entity: EntityRef,
    pub field: String,
    pub value: Value,
    pub version: u64,
    /// The operation that made it, so a client recognises its own edits.
    pub op_id: String,
}

/// Whose records a kind holds: one account's (synced across that person's devices), one
/// country's (shared by every account of the country, e.g. its national report), or the whole
/// community's (the forum, the directory, training events: read by every approved account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Scope {
    Account,
    Country,
    Community,
}

/// The record kinds the protocol knows, with their fields and the values each may take.
/// Both sides validate with [`validate_operation`], so neither can accept what the other
/// would refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RecordKind {
    /// A user's tick and note on one checklist step, synced across their own devices.
    /// Entity id: `<checklist-id>/<step-id>`; fields `done` (bool) and `note` (text).
    ChecklistProgress,
    /// One answer of a country's national report. Entity id: `<form-id>/<cycle>`; the field is
    /// the answer path; the value is text, or null once the answer (or its repeat row) is gone.
    ReportAnswer,
    /// Who in the country works on a section of the report. Entity id as for answers; the
    /// field is the section (top-level group) name; the value is a username, or null.
    ReportAssignment,
    /// Written by the server only, when the report is submitted: field `receipt`, value a
    /// [`SubmissionReceipt`](crate::reports::SubmissionReceipt).
    ReportSubmission,
    /// Forum, directory and events: see [`crate::forum`] for ids, fields and values.
    ForumCategory,
    ForumPost,
    ForumThread,
    Profile,
    Event,
    EventRegistration,
    /// "Was this useful? What was missing?" on a Manual module or checklist, one per person
    /// and item (account scope). Entity id `manual/<module>` or `checklist/<checklist>`;
    /// fields `useful` (true, false, or null once withdrawn) and `missing` (text).
    Feedback,
}

impl RecordKind {
    pub const ALL: [RecordKind; 11] = [
        RecordKind::ChecklistProgress,
        RecordKind::ReportAnswer,
        RecordKind::ReportAssignment,
        RecordKind::ReportSubmission,
        RecordKind::ForumCategory,
        RecordKind::ForumPost,
        RecordKind::ForumThread,
        RecordKind::Profile,
        RecordKind::Event,
        RecordKind::EventRegistration,
        RecordKind::Feedback,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RecordKind::ChecklistProgress => "checklist_progress",
            RecordKind::ReportAnswer => "report_answer",
            RecordKind::ReportAssignment => "report_assignment",
            RecordKind::ReportSubmission => "report_submission",
            RecordKind::ForumCategory => "forum_category",
            RecordKind::ForumPost => "forum_post",
            RecordKind::ForumThread => "forum_thread",
            RecordKind::Profile => "profile",
            RecordKind::Event => "event",
            RecordKind::EventRegistration => "event_registration",
            RecordKind::Feedback => "feedback",
        }
    }

    pub fn from_name(name: &str) -> Option<RecordKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// For readers of the API: the shape of the entity id, and each field with the value it
    /// takes (who may write it is the server's business; `validate_operation` checks shapes).
    pub fn wire_doc(self) -> (&'static str, &'static [(&'static str, &'static str)]) {
        match self {
            RecordKind::ChecklistProgress => (
                "`<checklist>/<step>`",
                &[("done", "true or false"), ("note", "text")],
            ),
            RecordKind::ReportAnswer => (
                "`<form-id>/<cycle>`",
                &[("`<answer path>`", "text, or null once removed")],
            ),
            RecordKind::ReportAssignment => (
                "`<form-id>/<cycle>`",
                &[("`<section>`", "a username, or null")],
            ),
            RecordKind::ReportSubmission => (
                "`<form-id>/<cycle>`",
                &[("receipt", "`SubmissionReceipt` (written by the server)")],
            ),
            RecordKind::ForumCategory => (
                "a slug",
                &[("info", "`CategoryInfo` (published by the Secretariat)")],
            ),
            RecordKind::ForumPost => (
                "a UUID",
                &[
                    ("content", "`PostContent`"),
                    ("meta", "`PostMeta` (stamped by the server)"),
                    ("hidden", "true or false (moderators)"),
                ],
            ),
            RecordKind::ForumThread => (
                "the first post's UUID",
                &[("locked", "true or false (moderators)")],
            ),
            RecordKind::Profile => (
                "a username",
                &[
                    ("account", "`ProfileAccount` (kept by the server)"),
                    ("shared", "`SharedContact` (its owner)"),
                ],
            ),
            RecordKind::Event => (
                "a slug",
                &[("info", "`EventInfo` (published by the Secretariat)")],
            ),
            RecordKind::EventRegistration => {
                ("the event's slug", &[("registered", "true or false")])
            }
            RecordKind::Feedback => (
                "`manual/<module>` or `checklist/<checklist>`",
                &[
                    ("useful", "true, false, or null once withdrawn"),
                    ("missing", "text"),
                ],
            ),
        }
    }

    pub fn scope(self) -> Scope {
        match self {
            RecordKind::ChecklistProgress
            | RecordKind::EventRegistration
            | RecordKind::Feedback => Scope::Account,
            RecordKind::ReportAnswer
            | RecordKind::ReportAssignment
            | RecordKind::ReportSubmission => Scope::Country,
            RecordKind::ForumCategory
            | RecordKind::ForumPost
            | RecordKind::ForumThread
            | RecordKind::Profile
            | RecordKind::Event => Scope::Community,
        }
    }

    /// True for the kinds of the national report (closed to edits once it is submitted).
    pub fn is_report(self) -> bool {
        self.scope() == Scope::Country
    }

    /// True for the community kinds (forum, directory, events).
    pub fn is_community(self) -> bool {
        matches!(
            self,
            RecordKind::ForumCategory
                | RecordKind::ForumPost
                | RecordKind::ForumThread
                | RecordKind::Profile
                | RecordKind::Event
                | RecordKind::EventRegistration
        )
    }
}

/// What feedback is given on: Manual modules and checklists (`<item>/<id>` entity ids).
pub const FEEDBACK_ITEMS: [&str; 2] = ["manual", "checklist"];

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A username as accounts are made (3–64 of `a-z 0-9 . _ -`).
pub fn is_username(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

fn check_text(field: &str, s: &str) -> Result<(), Refusal> {
    if s.chars().count() <= MAX_TEXT_CHARS {
        Ok(())
    } else {
        Err(Refusal::new(
            RefusalCode::TextTooLong,
            format!("field `{field}` holds at most {MAX_TEXT_CHARS} characters"),
        )
        .with("max", MAX_TEXT_CHARS))
    }
}

/// Records only the server writes (it stamps, publishes or receipts them).
fn server_owned(what: &str) -> Refusal {
    Refusal::new(RefusalCode::ServerOwned, what)
}

/// Longest reason a rejection gives, in characters. Reasons quote what was sent (a kind, an
/// id, a field): a client must not be able to make the server keep and echo megabytes.
pub const MAX_REASON_CHARS: usize = 300;

/// Cuts a reason to [`MAX_REASON_CHARS`], marking the cut with `…`.
pub fn cap_reason(reason: String) -> String {
    match reason.char_indices().nth(MAX_REASON_CHARS) {
        Some((at, _)) => {
            let mut cut = reason[..at].to_string();
            cut.push('…');
            cut
        }
        None => reason,
    }
}

/// Checks an operation's shape: known kind, well-formed entity id, known field, value of the
/// right type and size. A refusal says why with a code (most are [`RefusalCode::Malformed`]:
/// no client of this protocol sends them) and an English reason of at most
/// [`MAX_REASON_CHARS`].
pub fn validate_operation(op: &Operation) -> Result<RecordKind, Refusal> {
    check_shape(op).map_err(|mut refusal| {
        refusal.reason = cap_reason(refusal.reason);
        refusal
    })
}

fn check_shape(op: &Operation) -> Result<RecordKind, Refusal> {
    if op.id.len() != 36
        || op.id.chars().filter(|c| *c == '-').count() != 4
        || !op.id.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
    {
        return Err(Refusal::malformed(format!(
            "operation id `{}` is not a UUID",
            op.id
        )));
    }
    let kind = RecordKind::from_name(&op.entity.kind)
        .ok_or_else(|| format!("unknown record kind `{}`", op.entity.kind))?;
    match kind {
        RecordKind::ChecklistProgress => {
            let valid_id = op
                .entity
                .id
                .split_once('/')
                .is_some_and(|(list, step)| is_slug(list) && is_slug(step));
            if !valid_id {
                return Err(Refusal::malformed(format!(
                    "checklist_progress id `{}` must be `<checklist>/<step>`",
                    op.entity.id
                )));
            }
            match (op.field.as_str(), &op.value) {
                ("done", Value::Bool(_)) => Ok(kind),
                ("done", _) => Err(Refusal::malformed("field `done` takes true or false")),
                ("note", Value::String(s)) => check_text("note", s).map(|()| kind),
                ("note", _) => Err(Refusal::malformed("field `note` takes text")),
                (other, _) => Err(Refusal::malformed(format!(
                    "checklist_progress has no field `{other}`"
                ))),
            }
        }
        RecordKind::ReportAnswer => {
            crate::reports::parse_report_entity_id(&op.entity.id)?;
            if !crate::reports::is_answer_path(&op.field) {
                return Err(Refusal::malformed(format!(
                    "`{}` is not an answer path",
                    op.field
                )));
            }
            match &op.value {
                Value::String(s) => check_text(&op.field, s).map(|()| kind),
                Value::Null => Ok(kind),
                _ => Err(Refusal::malformed(format!(
                    "the answer `{}` takes text or null",
                    op.field
                ))),
            }
        }
        RecordKind::ReportAssignment => {
            crate::reports::parse_report_entity_id(&op.entity.id)?;
            if !crate::reports::is_question_name(&op.field) {
                return Err(Refusal::malformed(format!(
                    "`{}` is not a section name",
                    op.field
                )));
            }
            match &op.value {
                Value::String(s) if is_username(s) => Ok(kind),
                Value::Null => Ok(kind),
                _ => Err(Refusal::malformed(format!(
                    "section `{}` is assigned to a username or to nobody (null)",
                    op.field
                ))),
            }
        }
        RecordKind::ReportSubmission => Err(server_owned(
            "a report is submitted with POST /v1/reports/submissions, not by sync",
        )),
        RecordKind::ForumPost => {
            if !crate::forum::is_uuid(&op.entity.id) {
                return Err(Refusal::malformed(format!(
                    "post id `{}` is not a UUID",
                    op.entity.id
                )));
            }
            match op.field.as_str() {
                "content" => {
                    let post: crate::forum::PostContent = serde_json::from_value(op.value.clone())
                        .map_err(|e| {
                            format!("a post's content is {{thread, category, title?, body}}: {e}")
                        })?;
                    post.validate(&op.entity.id).map(|()| kind)
                }
                "hidden" if op.value.is_boolean() => Ok(kind),
                "hidden" => Err(Refusal::malformed("field `hidden` takes true or false")),
                "meta" => Err(server_owned(
                    "a post's author and date are stamped by the server",
                )),
                other => Err(Refusal::malformed(format!(
                    "forum_post has no field `{other}`"
                ))),
            }
        }
        RecordKind::ForumThread => {
            if !crate::forum::is_uuid(&op.entity.id) {
                return Err(Refusal::malformed(format!(
                    "thread id `{}` is not a UUID",
                    op.entity.id
                )));
            }
            match (op.field.as_str(), &op.value) {
                ("locked", Value::Bool(_)) => Ok(kind),
                ("locked", _) => Err(Refusal::malformed("field `locked` takes true or false")),
                (other, _) => Err(Refusal::malformed(format!(
                    "forum_thread has no field `{other}`"
                ))),
            }
        }
        RecordKind::Profile => {
            if !is_username(&op.entity.id) {
                return Err(Refusal::malformed(format!(
                    "`{}` is not a username",
                    op.entity.id
                )));
            }
            match op.field.as_str() {
                "shared" => {
                    let card: crate::forum::SharedContact =
                        serde_json::from_value(op.value.clone())
                            .map_err(|e| format!("shared contact details: {e}"))?;
                    card.validate().map(|()| kind)
                }
                "account" => Err(server_owned(
                    "the directory's account card is kept by the server",
                )),
                other => Err(Refusal::malformed(format!(
                    "profile has no field `{other}`"
                ))),
            }
        }
        RecordKind::EventRegistration => {
            if !crate::forum::is_slug(&op.entity.id) {
                return Err(Refusal::malformed(format!(
                    "`{}` is not an event id",
                    op.entity.id
                )));
            }
            match (op.field.as_str(), &op.value) {
                ("registered", Value::Bool(_)) => Ok(kind),
                ("registered", _) => {
                    Err(Refusal::malformed("field `registered` takes true or false"))
                }
                (other, _) => Err(Refusal::malformed(format!(
                    "event_registration has no field `{other}`"
                ))),
            }
        }
        RecordKind::Feedback => {
            let valid_id = op
                .entity
                .id
                .split_once('/')
                .is_some_and(|(item, id)| FEEDBACK_ITEMS.contains(&item) && is_slug(id));
            if !valid_id {
                return Err(Refusal::malformed(format!(
                    "feedback id `{}` must be `manual/<module>` or `checklist/<checklist>`",
                    op.entity.id
                )));
            }
            match (op.field.as_str(), &op.value) {
                ("useful", Value::Bool(_) | Value::Null) => Ok(kind),
                ("useful", _) => Err(Refusal::malformed(
                    "field `useful` takes true, false or null",
                )),
                ("missing", Value::String(s)) => check_text("missing", s).map(|()| kind),
                ("missing", _) => Err(Refusal::malformed("field `missing` takes text")),
                (other, _) => Err(Refusal::malformed(format!(
                    "feedback has no field `{other}`"
                ))),
            }
        }
        RecordKind::ForumCategory | RecordKind::Event => Err(server_owned(&format!(
            "{} records are published by the Secretariat on the server",
            kind.name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(kind: &str, id: &str, field: &str, value: Value) -> Operation {
        Operation {
            id: "01939a2b-7c4d-7e8f-9a0b-1c2d3e4f5a6b".into(),
            entity: EntityRef {
                kind: kind.into(),
                id: id.into(),
            },
            field: field.into(),
            base_version: 0,
            value,
        }
    }

    #[test]
    fn outcome_wire_format() {
        let r = OpResult {
            id: "x".into(),
            outcome: Outcome::Conflict {
                server_value: json!(true),
                server_version: 3,
            },
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"id": "x", "outcome": "conflict", "server_value": true, "server_version": 3})
        );
        let back: OpResult =
            serde_json::from_value(json!({"id": "y", "outcome": "applied", "version": 2})).unwrap();
        assert_eq!(back.outcome, Outcome::Applied { version: 2 });
    }

    #[test]
    fn echoed_strings_are_capped() {
        let e = validate_operation(&op(&"k".repeat(2_000_000), "a/b", "done", json!(true)))
            .unwrap_err()
            .reason;
        assert!(e.starts_with("unknown record kind `kkk"), "{}", &e[..40]);
        assert_eq!(e.chars().count(), MAX_REASON_CHARS + 1);
        assert!(e.ends_with('…'));
        let short = "field `done` takes true or false".to_string();
        assert_eq!(cap_reason(short.clone()), short);
    }

    #[test]
    fn feedback_on_manual_modules_and_checklists() {
        for (id, field, value) in [
            ("manual/meetings", "useful", json!(true)),
            ("checklist/cop-preparation", "useful", json!(false)),
            ("manual/meetings", "useful", Value::Null),
            (
                "manual/meetings",
                "missing",
                json!("A worked example of credentials"),
            ),
        ] {
            assert_eq!(
                validate_operation(&op("feedback", id, field, value)),
                Ok(RecordKind::Feedback),
                "{id} {field}"
            );
        }
        for (id, field, value, why) in [
            (
                "library/x",
                "useful",
                json!(true),
                "must be `manual/<module>`",
            ),
            (
                "manual/Meetings",
                "useful",
                json!(true),
                "must be `manual/<module>`",
            ),
            (
                "manual/meetings",
                "useful",
                json!("yes"),
                "takes true, false or null",
            ),
            ("manual/meetings", "missing", json!(3), "takes text"),
            (
                "manual/meetings",
                "rating",
                json!(3),
                "has no field `rating`",
            ),
        ] {
            let e = validate_operation(&op("feedback", id, field, value))
                .unwrap_err()
                .reason;
            assert!(e.contains(why), "{id} {field}: {e}");
        }
        assert_eq!(RecordKind::Feedback.scope(), Scope::Account);
        assert!(!RecordKind::Feedback.is_community());
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(
            validate_operation(&op(
                "checklist_progress",
                "cop-preparation/register",
                "done",
                json!(true)
            ))
            .is_ok()
        );
        assert!(validate_operation(&op("checklist_progress", "a/b", "note", json!("x"))).is_ok());
        let e = validate_operation(&op("checklist_progress", "a/b", "done", json!("yes")))
            .unwrap_err()
            .reason;
        assert_eq!(e, "field `done` takes true or false");
        let e = validate_operation(&op("report_note", "a/b", "done", json!(true)))
            .unwrap_err()
            .reason;
        assert!(e.contains("unknown record kind"));
        let e = validate_operation(&op("checklist_progress", "../etc", "done", json!(true)))
            .unwrap_err()
            .reason;
        assert!(e.contains("must be `<checklist>/<step>`"));
        let e = validate_operation(&op(
            "checklist_progress",
            "a/b",
            "note",
            json!("x".repeat(MAX_TEXT_CHARS + 1)),
        ))
        .unwrap_err()
        .reason;
        assert!(e.contains("at most"));
        // Report answers: text or null at an answer path of `<form>/<cycle>`.
        let answer = |id: &str, field: &str, v: Value| {
            validate_operation(&op("report_answer", id, field, v))
        };
        assert!(answer("cms-national-report/COP15", "sec/sp[2]/trend", json!("up")).is_ok());
        assert!(answer("cms-national-report/COP15", "sec/q", Value::Null).is_ok());
        assert!(
            answer("cms-national-report/COP 15", "sec/q", json!("x"))
                .unwrap_err()
                .reason
                .contains("must be `<form-id>/<cycle>`")
        );
        assert_eq!(
            answer("cms-national-report/COP15", "sec/../q", json!("x"))
                .unwrap_err()
                .reason,
            "`sec/../q` is not an answer path"
        );
        assert!(
            answer("cms-national-report/COP15", "sec/q", json!(3))
                .unwrap_err()
                .reason
                .contains("takes text or null")
        );
        let assign = |v: Value| {
            validate_operation(&op(
                "report_assignment",
                "cms-national-report/COP15",
                "general",
                v,
            ))
        };
        assert!(assign(json!("baraka")).is_ok());
        assert!(assign(Value::Null).is_ok());
        assert!(
            assign(json!("Not A User"))
                .unwrap_err()
                .reason
                .contains("username")
        );
        assert!(
            validate_operation(&op(
                "report_submission",
                "cms-national-report/COP15",
                "receipt",
                json!({})
            ))
            .unwrap_err()
            .reason
            .contains("POST /v1/reports/submissions")
        );
        let mut bad = op("checklist_progress", "a/b", "done", json!(true));
        bad.id = "not-a-uuid".into();
        assert!(
            validate_operation(&bad)
                .unwrap_err()
                .reason
                .contains("not a UUID")
        );
    }
}
