//! The one error type of stopover-core. Each error has a stable [`ErrorCode`] and named
//! parameters: the app shows its own sentence for the code in its person's language; the
//! English `Display` text is for logs.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
pub use stopover_protocol::{Param, Params};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Declares the code enum with its wire names in one list, so `ALL` cannot drift.
macro_rules! error_codes {
    ($($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+) => {
        /// Every error the app can show, by a stable name. Parameters, where a code has them,
        /// are listed in its comment.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum ErrorCode {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant,)+
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $wire,)+
                }
            }
        }
    };
}

error_codes! {
    // ---- the store and the content pack ----
    Database = "database",
    Migration = "migration",
    /// `found`, `supported`: schema versions.
    DatabaseTooNew = "database_too_new",
    /// `path`.
    DataDir = "data_dir",
    /// `path`: another Stopover has this data folder open.
    DataDirInUse = "data_dir_in_use",
    /// `file`: the damaged database file; `tables`: the tables the damage touches, comma
    /// separated (`*` when the file cannot be read as a database at all).
    DatabaseDamaged = "database_damaged",
    /// `file`, `reason` (a pack file named with its problem, in English: for the details box).
    ContentPack = "content_pack",
    /// `version`.
    PackRefused = "pack_refused",
    NotFound = "not_found",
    /// A failure that is a bug, not something a person did.
    Internal = "internal",
    Secrets = "secrets",

    // ---- the network and the server ----
    /// `host`.
    InsecureUrl = "insecure_url",
    Network = "network",
    /// `url`.
    NotOurServer = "not_our_server",
    BadAnswer = "bad_answer",
    SignInRequired = "sign_in_required",
    /// `retry_after` seconds, when the server said.
    ServerBusy = "server_busy",
    /// The server refused: see `server_code` beside it.
    Server = "server",
    SyncInProgress = "sync_in_progress",
    /// The local database could not be opened, so sync cannot run.
    SyncUnavailable = "sync_unavailable",
    /// `address`.
    ServerUrlInvalid = "server_url_invalid",
    /// `scheme`.
    ServerUrlScheme = "server_url_scheme",
    ServerUrlCredentials = "server_url_credentials",
    UsernameEmpty = "username_empty",
    /// `count`, `account`, `server`: changes made as another account wait to be sent.
    ChangesWaitForAccount = "changes_wait_for_account",
    /// `current`, `requested`: server addresses.
    SignedInElsewhere = "signed_in_elsewhere",

    // ---- sync files and the bandwidth budget ----
    /// Not a Stopover sync file (another file was chosen).
    SyncFileNotOurs = "sync_file_not_ours",
    /// Written by a newer Stopover or server.
    SyncFileNewerVersion = "sync_file_newer_version",
    /// The changes file chosen where the server's reply was expected.
    SyncFileWrongKind = "sync_file_wrong_kind",
    /// Cut off while copied or sent.
    SyncFileTruncated = "sync_file_truncated",
    /// Changed after it was written: the signature does not match.
    SyncFileTampered = "sync_file_tampered",
    /// Signed by another server, or a reply meant for another device.
    SyncFileForeign = "sync_file_foreign",
    SyncFileTooLarge = "sync_file_too_large",
    /// This device has not exchanged file keys with its server yet: sync online once.
    SyncFileKeyMissing = "sync_file_key_missing",
    /// `path`, `reason`: the file could not be read or written.
    SyncFileIo = "sync_file_io",
    /// `max_mib`: a monthly budget out of range.
    BandwidthBudgetInvalid = "bandwidth_budget_invalid",

    // ---- the workshop relay ----
    /// `address`: not a relay address (e.g. `192.168.1.20:8787` or `http://relay.local:8787`).
    RelayAddressInvalid = "relay_address_invalid",
    /// `address`: no workshop relay answers there (an e-community server, another service).
    NotARelay = "not_a_relay",
    /// `address`: the relay forwards to another e-community server than this device's.
    RelayOtherServer = "relay_other_server",
    /// `address`, `what`: the relay passed on data the server did not sign (forged or
    /// damaged); nothing of its answer was applied.
    RelayForged = "relay_forged",
    /// This device has no pass for relays yet: it must sync directly (online) once.
    RelayCredentialMissing = "relay_credential_missing",
    /// `expired`: the date the pass for relays ran out; sync directly (online) once to renew it.
    RelayCredentialExpired = "relay_credential_expired",
    /// `server_code`, `reason`: the server refused this device's changes the relay forwarded.
    RelayPushRefused = "relay_push_refused",

    /// `max` characters.
    TextTooLong = "text_too_long",
    /// A value the app itself should not have sent (a bug); the details are in the log.
    InvalidValue = "invalid_value",

    // ---- checklists, content, language ----
    /// `max` characters.
    NoteTooLong = "note_too_long",
    UnknownItem = "unknown_item",
    /// `lang`.
    UnknownLanguage = "unknown_language",

    // ---- forum, directory, events ----
    /// `category`.
    ForumCategoryUnknown = "forum_category_unknown",
    ThreadLocked = "thread_locked",
    NotPostAuthor = "not_post_author",
    PostHidden = "post_hidden",
    PostAlreadySent = "post_already_sent",
    PostNotPending = "post_not_pending",
    /// `count` replies.
    WithdrawRepliesFirst = "withdraw_replies_first",
    /// `closes`: a date.
    RegistrationClosed = "registration_closed",
    /// `region`.
    UnknownRegion = "unknown_region",
    /// `address`: not a web or e-mail address the browser may be handed.
    LinkNotOpenable = "link_not_openable",
    /// `address` (its invisible characters shown as U+FFFD): spaces, control or format
    /// characters that can disguise where a link leads.
    LinkHiddenCharacters = "link_hidden_characters",
    /// `max` characters.
    LinkTooLong = "link_too_long",
    /// The system's web browser could not be started.
    NoBrowser = "no_browser",
    /// `max` months.
    RetentionMonths = "retention_months",
    /// `min`, `max` posts.
    RetentionPosts = "retention_posts",
    /// `max` characters.
    DraftTooLong = "draft_too_long",
    /// `max` levels of quotes and lists.
    PostNestingTooDeep = "post_nesting_too_deep",

    // ---- attachments ----
    /// `file`.
    AttachmentUnreadable = "attachment_unreadable",
    /// `max_mib`, `size_mib`.
    AttachmentTooLarge = "attachment_too_large",
    /// `file`.
    AttachmentChanged = "attachment_changed",
    /// `file`, `types`: the extensions attachments may have.
    AttachmentTypeRefused = "attachment_type_refused",
    /// `file`: a file of a report answer that has not reached the server yet (the colleague
    /// who attached it has not synced).
    AttachmentNotOnServer = "attachment_not_on_server",
    /// `file`: only a `file` question takes a file.
    NotAFileQuestion = "not_a_file_question",
    /// `count`: files of this report still to upload before it can be submitted.
    ReportFilesWaiting = "report_files_waiting",

    // ---- national reports ----
    /// `form`.
    FormUnloadable = "form_unloadable",
    /// `question`: its label.
    NotAnswerable = "not_answerable",
    /// `chars`, `max`.
    AnswerTooLong = "answer_too_long",
    /// `question`: the repeat's label.
    RepeatRowsFixed = "repeat_rows_fixed",
    /// `question`, `rows`, `row`.
    NoSuchRow = "no_such_row",
    /// `section`.
    NotASection = "not_a_section",
    /// `username`.
    NotAUsername = "not_a_username",
    /// `count`.
    ReportChangesWaiting = "report_changes_waiting",
    /// `count`.
    ReportConflictsWaiting = "report_conflicts_waiting",
    /// `form`, `cycle`.
    ReportSubmittedReadOnly = "report_submitted_read_only",
    CycleMissing = "cycle_missing",
    /// `cycle`.
    CycleInvalid = "cycle_invalid",
    /// `form`, `cycle`.
    DraftExists = "draft_exists",
    /// `form`, `cycle`.
    CycleAlreadySubmitted = "cycle_already_submitted",
    /// `count`, `questions`: labels of the first few.
    ReportIncomplete = "report_incomplete",
    /// `format`.
    ExportFailed = "export_failed",
    /// `question`: the label of the question (or heading) holding it; `character`.
    PdfRightToLeft = "pdf_right_to_left",
    /// `question`, `character`, `code_point` (`U+1F986`).
    PdfCharacterMissing = "pdf_character_missing",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as the app's UI receives it, and as the last sync error is kept: the code and
/// parameters the UI words in its person's language, the server's own code when the server
/// refused, and the English message for logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorReport {
    pub code: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub server_code: Option<stopover_protocol::ErrorCode>,
    #[serde(default)]
    pub params: Params,
    /// English, for logs; the UI shows its own text for `code`.
    pub message: String,
}

impl From<&Error> for ErrorReport {
    fn from(e: &Error) -> Self {
        ErrorReport {
            code: e.code(),
            server_code: e.server_code(),
            params: e.params(),
            message: e.to_string(),
        }
    }
}

impl std::fmt::Display for ErrorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl From<Error> for ErrorReport {
    fn from(e: Error) -> Self {
        ErrorReport::from(&e)
    }
}

fn wait_hint(retry_after: &Option<std::time::Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (it asked to wait {} s)", d.as_secs()),
        None => String::new(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),

    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),

    #[error(
        "the database at {path} was written by a newer version of Stopover (schema version {found}; \
         this version understands up to {supported}). Please update Stopover. Your data has not been changed."
    )]
    DatabaseTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    /// The database file is damaged (SQLite: "malformed", "not a database") in `tables`
    /// (`*`: the whole file). Nothing is written to it; see [`crate::store::recovery`].
    #[error("the database file {path} is damaged (tables: {})", tables.join(", "))]
    DatabaseDamaged { path: PathBuf, tables: Vec<String> },

    #[error("cannot use the data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("content pack: {0}")]
    Pack(#[from] crate::content::PackError),

    /// A content pack update that was not installed: its archive is unsigned, tampered with,
    /// signed by a key this app does not trust, or not a valid pack. The content in use stays.
    #[error(
        "the content pack update {version} was refused: {reason}. The content you have stays as it is."
    )]
    PackRefused { version: String, reason: String },

    #[error("not found: {0}")]
    NotFound(String),

    /// Something a person asked that this app will not do, or typed that it cannot keep: the
    /// code says which, the parameters fill its sentence, `detail` is for logs.
    #[error("{detail}")]
    Invalid {
        code: ErrorCode,
        params: Params,
        detail: String,
    },

    /// A failure that is a bug (a value that would not serialize, a task that died).
    #[error("internal error: {0}")]
    Internal(String),

    /// The OS keyring (or whatever [`crate::secrets::SecretStore`] is in use) failed.
    #[error("{0}")]
    Secrets(String),

    /// A server address this app will not talk to: plain `http://` to anything but this computer.
    #[error(
        "refusing to send your data unencrypted to {host}: use an https:// address \
         (plain http:// is only allowed to this computer, e.g. http://127.0.0.1)"
    )]
    InsecureUrl { host: String },

    /// The server could not be reached at all (no network, DNS, refused, reset, timed out).
    #[error("could not reach the server: {0}")]
    Network(String),

    /// Something answered, but not an e-community server speaking our protocol: typically a
    /// hotel or conference wifi login page (a "captive portal").
    #[error(
        "the address {url} did not answer like an e-community server ({reason}). On a hotel or conference wifi, open a web page in your browser to accept its terms first, then try again."
    )]
    NotOurServer { url: String, reason: String },

    /// Our server answered with something that is not a valid answer to the request (for example
    /// a truncated body). Nothing was changed; syncing again is safe.
    #[error(
        "the server's answer could not be understood ({0}); nothing was lost, syncing again is safe"
    )]
    BadAnswer(String),

    /// The device token is missing, revoked or expired: the person must sign in again. Queued
    /// changes are kept.
    #[error("sign-in needed: {}. Your changes waiting to be sent are kept.", .0.trim_end_matches('.'))]
    SignInRequired(String),

    /// The server is shedding load (429) or unavailable (503); try again after `retry_after`.
    #[error("the server is busy{}; sync will try again", wait_hint(.retry_after))]
    Busy {
        retry_after: Option<std::time::Duration>,
    },

    /// Any other refusal by the server: its code and parameters, and its English message.
    #[error("the server answered {status}: {message}")]
    Server {
        status: u16,
        code: stopover_protocol::ErrorCode,
        params: Params,
        message: String,
    },

    /// A sync is already running in this process.
    #[error("a sync is already running")]
    SyncInProgress,
}

impl Error {
    /// An [`Error::Invalid`] with no parameters yet; add them with [`Error::with`].
    pub fn invalid(code: ErrorCode, detail: impl Into<String>) -> Error {
        Error::Invalid {
            code,
            params: Params::new(),
            detail: detail.into(),
        }
    }

    /// Adds a parameter to an [`Error::Invalid`] (other errors carry theirs in their fields).
    pub fn with(mut self, name: &str, value: impl Into<Param>) -> Error {
        if let Error::Invalid { params, .. } = &mut self {
            params.insert(name.to_string(), value.into());
        }
        self
    }

    /// A value the server would refuse, caught before it is saved.
    pub fn refused(refusal: stopover_protocol::Refusal) -> Error {
        let code = match refusal.code {
            stopover_protocol::RefusalCode::TextTooLong => ErrorCode::TextTooLong,
            stopover_protocol::RefusalCode::NestingTooDeep => ErrorCode::PostNestingTooDeep,
            _ => ErrorCode::InvalidValue,
        };
        Error::Invalid {
            code,
            params: refusal.params,
            detail: refusal.reason,
        }
    }

    /// A failure that is a bug, e.g. a value that would not serialize.
    pub fn internal(e: impl std::fmt::Display) -> Error {
        Error::Internal(e.to_string())
    }

    /// Stable machine-readable code, sent to the UI beside the parameters.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Sqlite(e) if crate::store::recovery::check::is_corruption(e) => {
                ErrorCode::DatabaseDamaged
            }
            Error::Sqlite(_) => ErrorCode::Database,
            Error::DatabaseDamaged { .. } => ErrorCode::DatabaseDamaged,
            Error::Migration(_) => ErrorCode::Migration,
            Error::DatabaseTooNew { .. } => ErrorCode::DatabaseTooNew,
            Error::DataDir { .. } => ErrorCode::DataDir,
            Error::Pack(_) => ErrorCode::ContentPack,
            Error::PackRefused { .. } => ErrorCode::PackRefused,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::Invalid { code, .. } => *code,
            Error::Internal(_) => ErrorCode::Internal,
            Error::Secrets(_) => ErrorCode::Secrets,
            Error::InsecureUrl { .. } => ErrorCode::InsecureUrl,
            Error::Network(_) => ErrorCode::Network,
            Error::NotOurServer { .. } => ErrorCode::NotOurServer,
            Error::BadAnswer(_) => ErrorCode::BadAnswer,
            Error::SignInRequired(_) => ErrorCode::SignInRequired,
            Error::Busy { .. } => ErrorCode::ServerBusy,
            Error::Server { .. } => ErrorCode::Server,
            Error::SyncInProgress => ErrorCode::SyncInProgress,
        }
    }

    /// The server's own code, for [`ErrorCode::Server`].
    pub fn server_code(&self) -> Option<stopover_protocol::ErrorCode> {
        match self {
            Error::Server { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The parameters of [`Error::code`]'s sentence.
    pub fn params(&self) -> Params {
        use stopover_protocol::params;
        match self {
            Error::DatabaseTooNew {
                path,
                found,
                supported,
            } => params! {
                "path" => path.display().to_string(),
                "found" => *found,
                "supported" => *supported,
            },
            Error::DataDir { path, .. } => params! {"path" => path.display().to_string()},
            Error::DatabaseDamaged { path, tables } => params! {
                "file" => path.display().to_string(),
                "tables" => tables.join(", "),
            },
            Error::Pack(e) => params! {"file" => e.file.as_str(), "reason" => e.reason.as_str()},
            Error::PackRefused { version, .. } => params! {"version" => version.as_str()},
            Error::Invalid { params, .. } | Error::Server { params, .. } => params.clone(),
            Error::InsecureUrl { host } => params! {"host" => host.as_str()},
            Error::NotOurServer { url, .. } => params! {"url" => url.as_str()},
            Error::Busy {
                retry_after: Some(wait),
            } => params! {"retry_after" => wait.as_secs()},
            _ => Params::new(),
        }
    }

    /// True for failures that may go away by themselves (network down, captive portal, server
    /// busy or failing): a background sync retries them with [`crate::sync::Backoff`]. False
    /// when a person has to act first (sign in, fix the address) or trying again cannot help.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Network(_)
            | Error::NotOurServer { .. }
            | Error::BadAnswer(_)
            | Error::Busy { .. } => true,
            Error::Server { status, .. } => *status >= 500 || *status == 408,
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                )
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_own_wire_name() {
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        for code in ErrorCode::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::json!(code.as_str())
            );
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn invalid_errors_carry_their_parameters() {
        let e = Error::invalid(
            ErrorCode::NoteTooLong,
            "a note can hold at most 5 characters",
        )
        .with("max", 5usize);
        assert_eq!(e.code(), ErrorCode::NoteTooLong);
        assert_eq!(e.params().get("max"), Some(&Param::Number(5)));
        assert_eq!(e.to_string(), "a note can hold at most 5 characters");
    }
}
