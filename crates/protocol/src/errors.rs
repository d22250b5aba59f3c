//! What the server says when it will not do something: a stable code and named parameters,
//! never a sentence for the client to show. The app renders each code in its person's language
//! (`ui/src/lib/i18n`); the English `message` / `reason` beside it is for logs and `curl`.
//!
//! Two families: [`ErrorCode`] answers a whole request (an HTTP status with an
//! [`ErrorBody`]); [`RefusalCode`] answers one pushed operation
//! ([`Outcome::Rejected`](crate::Outcome::Rejected)), the rest of the push going on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One parameter of a message: a name, a number of seconds, a list of answer paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Param {
    Number(i64),
    Text(String),
    List(Vec<String>),
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Text(s.to_string())
    }
}

impl From<String> for Param {
    fn from(s: String) -> Self {
        Param::Text(s)
    }
}

impl From<i64> for Param {
    fn from(n: i64) -> Self {
        Param::Number(n)
    }
}

impl From<u32> for Param {
    fn from(n: u32) -> Self {
        Param::Number(i64::from(n))
    }
}

impl From<i32> for Param {
    fn from(n: i32) -> Self {
        Param::Number(i64::from(n))
    }
}

impl From<&String> for Param {
    fn from(s: &String) -> Self {
        Param::Text(s.clone())
    }
}

impl From<u64> for Param {
    fn from(n: u64) -> Self {
        Param::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<usize> for Param {
    fn from(n: usize) -> Self {
        Param::Number(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<Vec<String>> for Param {
    fn from(list: Vec<String>) -> Self {
        Param::List(list)
    }
}

/// Named parameters of a code, e.g. `{"retry_after": 30}`.
pub type Params = BTreeMap<String, Param>;

/// Builds [`Params`] from `name => value` pairs.
#[macro_export]
macro_rules! params {
    () => { $crate::errors::Params::new() };
    ($($name:literal => $value:expr),+ $(,)?) => {{
        let mut p = $crate::errors::Params::new();
        $( p.insert($name.to_string(), $crate::errors::Param::from($value)); )+
        p
    }};
}

/// Declares a code enum with its wire names in one list, so `ALL` and `as_str` cannot drift
/// from the variants.
macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+ }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        $(#[$meta])*
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant,)+
            /// A code this build does not know (sent by a newer server). Never sent.
            #[serde(other, rename = "unknown")]
            Unknown,
        }

        impl $name {
            /// Every code a server may send.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Unknown => "unknown",
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

codes! {
    /// Why a whole request was refused. Parameters, where a code has them, are listed.
    #[cfg_attr(feature = "ts", ts(rename = "ServerErrorCode"))]
    ErrorCode {
        /// A request the server could not read (a header, the query, the framing).
        BadRequest = "bad_request",
        BadJson = "bad_json",
        BadBody = "bad_body",
        InvalidRequest = "invalid_request",
        UnsupportedProtocol = "unsupported_protocol",
        /// `max` bytes.
        TooLarge = "too_large",
        TooManyOperations = "too_many_operations",
        UnsupportedMediaType = "unsupported_media_type",
        Unauthenticated = "unauthenticated",
        TokenRevoked = "token_revoked",
        BadCredentials = "bad_credentials",
        AccountPending = "account_pending",
        AccountRevoked = "account_revoked",
        Forbidden = "forbidden",
        UsernameTaken = "username_taken",
        NoSuchAccount = "no_such_account",
        NoSuchDevice = "no_such_device",
        NotFound = "not_found",
        MethodNotAllowed = "method_not_allowed",
        /// `retry_after` seconds.
        TooManyAttempts = "too_many_attempts",
        /// `retry_after` seconds.
        Busy = "busy",
        /// `retry_after` seconds: this account sent more than its hourly share of changes.
        TooManyWrites = "too_many_writes",
        /// `retry_after` seconds: too many account requests from this address.
        TooManyRegistrations = "too_many_registrations",
        /// `retry_after` seconds: the server takes no more account requests for now.
        RegistrationClosed = "registration_closed",
        /// The Secretariat reset the password: sign in again with a new one.
        PasswordChangeRequired = "password_change_required",
        /// The current password given for a change is wrong.
        WrongPassword = "wrong_password",
        RequestTimeout = "request_timeout",
        /// `max` bytes: the largest attachment this server takes.
        AttachmentTooLarge = "attachment_too_large",
        /// `file`: a file name whose type is not one attachments may have (`types`: the
        /// extensions that are).
        AttachmentTypeRefused = "attachment_type_refused",
        /// `files`: names of files the report's answers name that have not reached the server.
        AttachmentsMissing = "attachments_missing",
        /// `limit_bytes`, `used_bytes`: this account's attachment quota.
        QuotaExceeded = "quota_exceeded",
        /// `limit`: unfinished uploads this account may have.
        TooManyUploads = "too_many_uploads",
        UnsupportedTusVersion = "unsupported_tus_version",
        BadHeader = "bad_header",
        NoSuchUpload = "no_such_upload",
        /// `offset`: where the upload stands.
        OffsetMismatch = "offset_mismatch",
        UploadBusy = "upload_busy",
        UploadIncomplete = "upload_incomplete",
        ChecksumMismatch = "checksum_mismatch",
        NoPack = "no_pack",
        FormInvalid = "form_invalid",
        FormUnreadable = "form_unreadable",
        /// `form`.
        UnknownForm = "unknown_form",
        /// `form`, `cycle`, `submitted_at`, `submitted_by`.
        AlreadySubmitted = "already_submitted",
        AnswersDiffer = "answers_differ",
        /// `paths`: the answer paths missing or not valid.
        ReportIncomplete = "report_incomplete",
        /// A sync file (or a push a workshop relay forwarded) that is not a Stopover sync file.
        SyncFileNotOurs = "sync_file_not_ours",
        /// A sync file of a newer format than the server reads.
        SyncFileNewerVersion = "sync_file_newer_version",
        /// A reply file where a device's changes were expected.
        SyncFileWrongKind = "sync_file_wrong_kind",
        /// A sync file cut off while copied or sent.
        SyncFileTruncated = "sync_file_truncated",
        /// A sync file whose signature does not match its content.
        SyncFileTampered = "sync_file_tampered",
        /// A sync file signed by a key no device registered (another server's device, or a
        /// sign-in since replaced: its key went with it).
        SyncFileForeign = "sync_file_foreign",
        /// A sync file larger than any may be.
        SyncFileTooLarge = "sync_file_too_large",
        /// The device has not registered its file key (`PUT /v1/sync/file-key`) yet.
        FileKeyMissing = "file_key_missing",
        /// A relay grant that is not one, was changed, or is not signed by a registered
        /// device's key.
        GrantInvalid = "grant_invalid",
        /// A relay grant past its end, or lasting longer than a grant may.
        GrantExpired = "grant_expired",
        /// A relay's request that is not one, was changed, or is not signed by the key the
        /// grant names.
        RelayRequestInvalid = "relay_request_invalid",
        /// `server_time` (Unix seconds), `max_skew` (seconds): the relay's clock is too far
        /// from the server's.
        RelayClockSkew = "relay_clock_skew",
        Internal = "internal",
    }
}

codes! {
    /// Why one pushed operation was refused for good. The client names the thing refused in
    /// words itself (it knows the record); these say why.
    RefusalCode {
        /// The operation is not well formed (a client bug): the English `reason` says how.
        Malformed = "malformed",
        /// `max` characters.
        TextTooLong = "text_too_long",
        /// Report records belong to a country; this account has none.
        NoCountry = "no_country",
        /// `submitted_at`, `submitted_by`.
        ReportSubmitted = "report_submitted",
        /// Only the country's focal point (`assigners`, for `instrument`) gives sections to
        /// colleagues.
        NotFocalPoint = "not_focal_point",
        /// `username`: not an approved account of the same country.
        NotAColleague = "not_a_colleague",
        /// `section` (absent for a question outside any section) is not given to this account;
        /// `assigners`: the focal points who can give it; `instrument`.
        NotAssigned = "not_assigned",
        /// `form`: the server has not published this report form, so nobody can tell who
        /// leads the report yet.
        FormNotPublished = "form_not_published",
        /// Records the server writes itself (categories, events, receipts, directory cards).
        ServerOwned = "server_owned",
        /// Only its author edits a post.
        NotAuthor = "not_author",
        /// Only the Secretariat and admins moderate.
        NotModerator = "not_moderator",
        ThreadLocked = "thread_locked",
        /// `thread`: no such thread on the server.
        NoSuchThread = "no_such_thread",
        /// `post`: no such post on the server.
        NoSuchPost = "no_such_post",
        /// A post's thread or category cannot change once it exists (and a reply stays in
        /// its thread's category).
        PostMoved = "post_moved",
        /// The Secretariat hid the post: it can no longer be edited.
        PostHidden = "post_hidden",
        /// `category`: no such forum category on the server.
        NoSuchCategory = "no_such_category",
        /// Only the owner shares their contact details.
        NotYourProfile = "not_your_profile",
        /// `event`.
        NoSuchEvent = "no_such_event",
        /// `event`, `capacity`.
        EventFull = "event_full",
        /// `event`, `closes`: registration closed on that date.
        RegistrationClosed = "registration_closed",
        /// `retry_after` seconds: too many posts in a short time.
        PostingTooFast = "posting_too_fast",
        /// `max` levels: quotes and lists in a post nest deeper than that.
        NestingTooDeep = "nesting_too_deep",
    }
}

/// Every error body the server sends: a stable code, its parameters, and an English sentence
/// for logs and command-line users (the app shows its own text for the code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Params::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Params>"))]
    pub params: Params,
}

/// A refusal of one operation, as [`validate_operation`](crate::validate_operation) and the
/// server's rules make it; it travels inside [`Outcome::Rejected`](crate::Outcome::Rejected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: RefusalCode,
    pub params: Params,
    /// English, for logs.
    pub reason: String,
}

impl Refusal {
    pub fn new(code: RefusalCode, reason: impl Into<String>) -> Self {
        Refusal {
            code,
            params: Params::new(),
            reason: reason.into(),
        }
    }

    /// A shape error: the client sent what no client of this protocol should.
    pub fn malformed(reason: impl Into<String>) -> Self {
        Refusal::new(RefusalCode::Malformed, reason)
    }

    pub fn with(mut self, name: &str, value: impl Into<Param>) -> Self {
        self.params.insert(name.to_string(), value.into());
        self
    }
}

/// A plain reason is a shape error.
impl From<String> for Refusal {
    fn from(reason: String) -> Self {
        Refusal::malformed(reason)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_travel_by_their_wire_names_and_unknown_ones_still_parse() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, json!(code.as_str()));
            assert_eq!(serde_json::from_value::<ErrorCode>(json).unwrap(), *code);
        }
        for code in RefusalCode::ALL {
            let back: RefusalCode = serde_json::from_value(json!(code.as_str())).unwrap();
            assert_eq!(back, *code);
        }
        let newer: ErrorBody =
            serde_json::from_value(json!({"code": "from_the_future", "message": "x"})).unwrap();
        assert_eq!(newer.code, ErrorCode::Unknown);
        assert!(newer.params.is_empty());
    }

    #[test]
    fn params_are_numbers_texts_or_lists() {
        let body = ErrorBody {
            code: ErrorCode::Busy,
            message: "busy".into(),
            params: params! {"retry_after" => 30u64, "host" => "a", "paths" => vec!["x".to_string()]},
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            json!({"code": "busy", "message": "busy", "params": {"host": "a", "paths": ["x"], "retry_after": 30}})
        );
        assert_eq!(serde_json::from_value::<ErrorBody>(json).unwrap(), body);
        // No params: the key is left out, as older servers sent it.
        let bare = ErrorBody {
            code: ErrorCode::Internal,
            message: "m".into(),
            params: Params::new(),
        };
        assert_eq!(
            serde_json::to_value(&bare).unwrap(),
            json!({"code": "internal", "message": "m"})
        );
    }
}
