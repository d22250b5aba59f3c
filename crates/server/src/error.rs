//! The crate's one error type. Every variant knows its HTTP status and stable `code`, so a
//! handler can simply use `?` and the client always receives an [`ErrorBody`].

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use stopover_protocol::{ErrorBody, ErrorCode, Params, params};

const UPLOAD_OFFSET: header::HeaderName = header::HeaderName::from_static("upload-offset");
const TUS_VERSION: header::HeaderName = header::HeaderName::from_static("tus-version");
const TUS_MAX_SIZE: header::HeaderName = header::HeaderName::from_static("tus-max-size");

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- start-up and admin CLI ----
    /// A command line the user must correct (exit code 2).
    #[error("{0}")]
    Usage(String),
    #[error("cannot use the data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the database {path} was written by a newer ecommunity (schema {found}, this build knows {supported})"
    )]
    DatabaseTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
    /// `ecommunity pack …` could not do what was asked (exit code 1).
    #[error("{0}")]
    Pack(String),
    /// `ecommunity forum …` or `event …` could not do what was asked (exit code 1).
    #[error("{0}")]
    Forum(String),
    /// `ecommunity bundle import` refused a sync file (nothing of it applied).
    #[error("sync file refused ({code}): {0}", code = .0.as_str())]
    SyncFile(stopover_protocol::sync_file::FileRefusal),

    // ---- internal failures: 500, details only in the log ----
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("database migration: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("password hashing: {0}")]
    PasswordHash(String),
    #[error("random source: {0}")]
    Random(String),
    #[error("background task: {0}")]
    Task(String),
    #[error("file storage: {0}")]
    Storage(String),

    // ---- what clients did wrong, or what they must wait for ----
    #[error("{0}")]
    BadJson(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    BadBody(String),
    #[error("protocol version `{0}` is not supported; this server speaks 1")]
    UnsupportedProtocol(String),
    #[error("request body larger than {max} bytes", max = stopover_protocol::MAX_BODY_BYTES)]
    TooLarge,
    #[error("at most {max} operations per push", max = stopover_protocol::MAX_OPS_PER_PUSH)]
    TooManyOperations,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("sign in first: send `Authorization: Bearer <device token>`")]
    Unauthenticated,
    #[error("this device was signed out; sign in again")]
    TokenRevoked,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("this account waits for approval by the Secretariat")]
    AccountPending,
    #[error("this account has been revoked")]
    AccountRevoked,
    /// A revoked account presenting a token (401: the device must sign in again).
    #[error("this account has been revoked; sign in again")]
    AccountRevokedToken,
    #[error("{0}")]
    Forbidden(String),
    #[error("the username `{0}` is taken")]
    UsernameTaken(String),
    #[error("no account named `{0}`")]
    NoSuchAccount(String),
    #[error("no device `{0}`")]
    NoSuchDevice(String),
    #[error("no such endpoint")]
    UnknownPath,
    #[error("too many failed sign-ins; try again in {retry_after} s")]
    TooManyAttempts { retry_after: u64 },
    #[error("the server is busy; retry in {retry_after} s")]
    Busy { retry_after: u64 },
    /// 429: this account pushed more than its write budget; the client retries later.
    #[error("too much written in a short time; retry in {retry_after} s")]
    TooManyWrites { retry_after: u64 },
    /// 429: too many account requests from this address.
    #[error("too many account requests from this address; try again in {retry_after} s")]
    TooManyRegistrations { retry_after: u64 },
    /// 503: too many accounts wait for approval; requests are taken again later.
    #[error("too many account requests wait for approval; try again in {retry_after} s")]
    RegistrationClosed { retry_after: u64 },
    /// 403: the password was reset by the Secretariat; sign in again with `new_password`.
    #[error("this password must be changed: sign in again with a new password")]
    PasswordChangeRequired,
    /// 403: the current password given to change it is wrong.
    #[error("the current password is not right")]
    WrongPassword,
    /// 408: the request (or its body) did not arrive in time.
    #[error("the request did not arrive in time: its body paused too long")]
    RequestTimeout,
    /// 413: the account's attachments would pass its storage quota.
    #[error("attachments of an account are limited to {limit_bytes} bytes; {used_bytes} are used")]
    QuotaExceeded { limit_bytes: u64, used_bytes: u64 },
    /// 409: the account has this many unfinished uploads already.
    #[error("at most {limit} unfinished uploads per account: finish or abandon one first")]
    TooManyUploads { limit: u64 },

    // ---- attachments (tus) and content packs ----
    /// 412: a tus request without `Tus-Resumable: 1.0.0`.
    #[error("send `Tus-Resumable: 1.0.0`: this server speaks tus 1.0.0")]
    TusVersion,
    /// 400: a tus header missing or malformed.
    #[error("{0}")]
    BadHeader(String),
    #[error("attachments are limited to {max} bytes on this server")]
    AttachmentTooLarge { max: u64 },
    /// 415: the file name's type is not one attachments may have.
    #[error(
        "`{file}` is not a type of file attachments may be (PDF, office documents, images, CSV, ZIP)"
    )]
    AttachmentTypeRefused { file: String },
    /// 409: answers of the report name files that have not reached the server yet.
    #[error("{} file(s) named by the report have not reached the server yet: {}", files.len(), files.join(", "))]
    AttachmentsMissing { files: Vec<String> },
    #[error("no such upload")]
    NoSuchUpload,
    /// 409: the `PATCH` does not continue where the upload stands (sent as `Upload-Offset`).
    #[error("the upload stands at byte {offset}; send from there (ask with HEAD)")]
    OffsetMismatch { offset: u64 },
    #[error("another request is writing to this upload; ask with HEAD and retry")]
    UploadBusy,
    #[error("this upload is not complete yet")]
    UploadIncomplete,
    #[error(
        "the bytes received do not have the SHA-256 announced at creation; the upload was discarded, start again"
    )]
    ChecksumMismatch,
    #[error("{0}")]
    NoPack(String),
    /// `form check` found problems (already printed, one per line).
    #[error("{file}: the form has {count} error(s)")]
    FormInvalid { file: String, count: usize },
    #[error("cannot read the form {file}: {reason}")]
    FormUnreadable { file: String, reason: String },

    // ---- national reports ----
    /// `form` is not in the published pack (or the cycle is not one of its own).
    #[error("{message}")]
    NoSuchForm { form: String, message: String },
    #[error(
        "the {form} report for {cycle} was already submitted on {submitted_at} by {submitted_by}; it can no longer change"
    )]
    AlreadySubmitted {
        form: String,
        cycle: String,
        submitted_at: String,
        submitted_by: String,
    },
    #[error(
        "the server's copy of the report differs from what you see: sync, check the report, then submit again"
    )]
    AnswersDiffer,
    /// Required answers missing or not valid, by answer path.
    #[error("{message}")]
    ReportIncomplete { paths: Vec<String>, message: String },

    // ---- workshop relays ----
    /// 409: a credential names the device's file key, which it has not registered.
    #[error("this device has not registered its sync file key: `PUT /v1/sync/file-key` first")]
    FileKeyMissing,
    /// 403: the grant cannot be read, was changed, or is not a registered device's.
    #[error("relay grant refused: {0}")]
    GrantInvalid(String),
    /// 403: the grant has run out, or claims to last longer than a grant may.
    #[error("relay grant refused: {0}")]
    GrantExpired(String),
    /// 403: the relay's request cannot be read, was changed, or is not signed by the relay
    /// key the grant names.
    #[error("relay request refused: {0}")]
    RelayRequestInvalid(String),
    /// 403: the relay's clock differs from the server's by more than allowed.
    #[error(
        "the relay's request was written at {written_at}, the server's clock says {server_time}: more than {max_skew} s apart; set the relay's clock"
    )]
    RelayClockSkew {
        written_at: i64,
        server_time: i64,
        max_skew: i64,
    },
}

impl Error {
    pub fn status(&self) -> StatusCode {
        use Error::*;
        match self {
            BadJson(_)
            | BadBody(_)
            | UnsupportedProtocol(_)
            | Usage(_)
            | BadHeader(_)
            | ChecksumMismatch => StatusCode::BAD_REQUEST,
            SyncFile(r) => match r {
                stopover_protocol::sync_file::FileRefusal::TooLarge => {
                    StatusCode::PAYLOAD_TOO_LARGE
                }
                _ => StatusCode::BAD_REQUEST,
            },
            FileKeyMissing => StatusCode::CONFLICT,
            GrantInvalid(_) | GrantExpired(_) | RelayRequestInvalid(_) | RelayClockSkew { .. } => {
                StatusCode::FORBIDDEN
            }
            TusVersion => StatusCode::PRECONDITION_FAILED,
            AttachmentTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AttachmentTypeRefused { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AttachmentsMissing { .. } => StatusCode::CONFLICT,
            NoSuchUpload | NoPack(_) => StatusCode::NOT_FOUND,
            OffsetMismatch { .. } | UploadBusy | UploadIncomplete => StatusCode::CONFLICT,
            InvalidRequest(_) | FormInvalid { .. } | FormUnreadable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            TooLarge | TooManyOperations => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Unauthenticated | TokenRevoked | BadCredentials | AccountRevokedToken => {
                StatusCode::UNAUTHORIZED
            }
            AccountPending | AccountRevoked | Forbidden(_) => StatusCode::FORBIDDEN,
            UsernameTaken(_) | AlreadySubmitted { .. } | AnswersDiffer => StatusCode::CONFLICT,
            NoSuchForm { .. } | ReportIncomplete { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            NoSuchAccount(_) | NoSuchDevice(_) | UnknownPath => StatusCode::NOT_FOUND,
            TooManyAttempts { .. }
            | Busy { .. }
            | TooManyWrites { .. }
            | TooManyRegistrations { .. } => StatusCode::TOO_MANY_REQUESTS,
            RegistrationClosed { .. } => StatusCode::SERVICE_UNAVAILABLE,
            PasswordChangeRequired | WrongPassword => StatusCode::FORBIDDEN,
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            QuotaExceeded { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            TooManyUploads { .. } => StatusCode::CONFLICT,
            DataDir { .. }
            | DatabaseTooNew { .. }
            | Listen { .. }
            | Serve(_)
            | Pack(_)
            | Forum(_)
            | Database(_)
            | Migration(_)
            | Corrupt(_)
            | PasswordHash(_)
            | Random(_)
            | Task(_)
            | Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable code clients switch on.
    pub fn code(&self) -> ErrorCode {
        use Error::*;
        match self {
            BadJson(_) => ErrorCode::BadJson,
            InvalidRequest(_) => ErrorCode::InvalidRequest,
            BadBody(_) => ErrorCode::BadBody,
            UnsupportedProtocol(_) => ErrorCode::UnsupportedProtocol,
            TooLarge => ErrorCode::TooLarge,
            AttachmentTooLarge { .. } => ErrorCode::AttachmentTooLarge,
            AttachmentTypeRefused { .. } => ErrorCode::AttachmentTypeRefused,
            AttachmentsMissing { .. } => ErrorCode::AttachmentsMissing,
            TooManyOperations => ErrorCode::TooManyOperations,
            UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Unauthenticated => ErrorCode::Unauthenticated,
            TokenRevoked => ErrorCode::TokenRevoked,
            BadCredentials => ErrorCode::BadCredentials,
            AccountPending => ErrorCode::AccountPending,
            AccountRevoked | AccountRevokedToken => ErrorCode::AccountRevoked,
            Forbidden(_) => ErrorCode::Forbidden,
            UsernameTaken(_) => ErrorCode::UsernameTaken,
            NoSuchAccount(_) => ErrorCode::NoSuchAccount,
            NoSuchDevice(_) => ErrorCode::NoSuchDevice,
            UnknownPath => ErrorCode::NotFound,
            TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            Busy { .. } => ErrorCode::Busy,
            TooManyWrites { .. } => ErrorCode::TooManyWrites,
            TooManyRegistrations { .. } => ErrorCode::TooManyRegistrations,
            RegistrationClosed { .. } => ErrorCode::RegistrationClosed,
            PasswordChangeRequired => ErrorCode::PasswordChangeRequired,
            WrongPassword => ErrorCode::WrongPassword,
            RequestTimeout => ErrorCode::RequestTimeout,
            QuotaExceeded { .. } => ErrorCode::QuotaExceeded,
            TooManyUploads { .. } => ErrorCode::TooManyUploads,
            TusVersion => ErrorCode::UnsupportedTusVersion,
            BadHeader(_) => ErrorCode::BadHeader,
            NoSuchUpload => ErrorCode::NoSuchUpload,
            OffsetMismatch { .. } => ErrorCode::OffsetMismatch,
            UploadBusy => ErrorCode::UploadBusy,
            UploadIncomplete => ErrorCode::UploadIncomplete,
            ChecksumMismatch => ErrorCode::ChecksumMismatch,
            NoPack(_) => ErrorCode::NoPack,
            FormInvalid { .. } => ErrorCode::FormInvalid,
            FormUnreadable { .. } => ErrorCode::FormUnreadable,
            NoSuchForm { .. } => ErrorCode::UnknownForm,
            AlreadySubmitted { .. } => ErrorCode::AlreadySubmitted,
            AnswersDiffer => ErrorCode::AnswersDiffer,
            ReportIncomplete { .. } => ErrorCode::ReportIncomplete,
            SyncFile(r) => {
                use stopover_protocol::sync_file::FileRefusal as R;
                match r {
                    R::NotASyncFile => ErrorCode::SyncFileNotOurs,
                    R::UnsupportedVersion => ErrorCode::SyncFileNewerVersion,
                    R::WrongKind => ErrorCode::SyncFileWrongKind,
                    R::Truncated => ErrorCode::SyncFileTruncated,
                    R::Tampered => ErrorCode::SyncFileTampered,
                    R::Foreign => ErrorCode::SyncFileForeign,
                    R::TooLarge => ErrorCode::SyncFileTooLarge,
                }
            }
            FileKeyMissing => ErrorCode::FileKeyMissing,
            GrantInvalid(_) => ErrorCode::GrantInvalid,
            GrantExpired(_) => ErrorCode::GrantExpired,
            RelayRequestInvalid(_) => ErrorCode::RelayRequestInvalid,
            RelayClockSkew { .. } => ErrorCode::RelayClockSkew,
            Usage(_)
            | DataDir { .. }
            | DatabaseTooNew { .. }
            | Listen { .. }
            | Serve(_)
            | Pack(_)
            | Forum(_)
            | Database(_)
            | Migration(_)
            | Corrupt(_)
            | PasswordHash(_)
            | Random(_)
            | Task(_)
            | Storage(_) => ErrorCode::Internal,
        }
    }

    /// The parameters the client fills its own sentence for [`Error::code`] with.
    pub fn params(&self) -> Params {
        use Error::*;
        match self {
            TooManyAttempts { retry_after }
            | Busy { retry_after }
            | TooManyWrites { retry_after }
            | TooManyRegistrations { retry_after }
            | RegistrationClosed { retry_after } => params! {"retry_after" => *retry_after},
            QuotaExceeded {
                limit_bytes,
                used_bytes,
            } => params! {"limit_bytes" => *limit_bytes, "used_bytes" => *used_bytes},
            TooManyUploads { limit } => params! {"limit" => *limit},
            TooLarge => params! {"max" => stopover_protocol::MAX_BODY_BYTES},
            AttachmentTooLarge { max } => params! {"max" => *max},
            AttachmentTypeRefused { file } => params! {
                "file" => file.as_str(),
                "types" => stopover_protocol::files::ATTACHMENT_EXTENSIONS.join(", "),
            },
            AttachmentsMissing { files } => params! {"files" => files.clone()},
            OffsetMismatch { offset } => params! {"offset" => *offset},
            UsernameTaken(name) | NoSuchAccount(name) => params! {"username" => name.as_str()},
            NoSuchForm { form, .. } => params! {"form" => form.as_str()},
            AlreadySubmitted {
                form,
                cycle,
                submitted_at,
                submitted_by,
            } => params! {
                "form" => form.as_str(),
                "cycle" => cycle.as_str(),
                "submitted_at" => submitted_at.as_str(),
                "submitted_by" => submitted_by.as_str(),
            },
            ReportIncomplete { paths, .. } => params! {"paths" => paths.clone()},
            RelayClockSkew {
                server_time,
                max_skew,
                ..
            } => params! {"server_time" => *server_time, "max_skew" => *max_skew},
            _ => Params::new(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Error::TooManyAttempts { retry_after }
            | Error::Busy { retry_after }
            | Error::TooManyWrites { retry_after }
            | Error::TooManyRegistrations { retry_after }
            | Error::RegistrationClosed { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let message = if self.status().is_server_error() {
            // Internal details stay in the log.
            "the server failed; try again later".to_string()
        } else {
            self.to_string()
        };
        ErrorBody {
            code: self.code(),
            message,
            params: self.params(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = (status, Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        match &self {
            Error::OffsetMismatch { offset } => {
                response
                    .headers_mut()
                    .insert(UPLOAD_OFFSET, HeaderValue::from(*offset));
            }
            Error::TusVersion => {
                response.headers_mut().insert(
                    TUS_VERSION,
                    HeaderValue::from_static(stopover_protocol::files::TUS_VERSION),
                );
            }
            Error::AttachmentTooLarge { max } => {
                response
                    .headers_mut()
                    .insert(TUS_MAX_SIZE, HeaderValue::from(*max));
            }
            _ => {}
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Task(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    /// Only for data we stored ourselves; request bodies go through `http::json`.
    fn from(e: serde_json::Error) -> Self {
        Error::Corrupt(e.to_string())
    }
}
