//! How the relay refuses a laptop's round: the server's error bodies and codes, so the app
//! says why in its person's language exactly as it does for the server.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use stopover_protocol::sync_file::FileRefusal;
use stopover_protocol::{ErrorBody, ErrorCode, params};

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("the request is not JSON the relay reads: {0}")]
    BadJson(String),
    #[error("{0}")]
    Invalid(&'static str),
    #[error("the device credential was not issued by this relay's server: {0}")]
    Credential(FileRefusal),
    #[error("the device credential has expired: sync directly with the server once for a new one")]
    CredentialExpired,
    #[error("the changes are not signed by the device the credential names: {0}")]
    Changes(FileRefusal),
    #[error("the grant is not signed by the device: {0}")]
    Grant(FileRefusal),
    #[error("the grant is for another relay (this one restarted): ask /v1/relay/info again")]
    GrantForAnotherRelay,
    #[error("the grant has expired")]
    GrantExpired,
    #[error("this relay holds no content pack {0}")]
    NoPack(String),
    #[error("the relay has not reached its server yet, so it cannot check anyone; try again soon")]
    NotReady,
    #[error("the relay failed: {0}")]
    Internal(String),
}

impl From<crate::error::Error> for RelayError {
    fn from(e: crate::error::Error) -> Self {
        RelayError::Internal(e.to_string())
    }
}

impl RelayError {
    fn status_and_code(&self) -> (StatusCode, ErrorCode) {
        use RelayError::*;
        match self {
            BadJson(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadJson),
            Credential(_) | CredentialExpired => {
                (StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated)
            }
            Invalid(_) | Changes(_) | Grant(_) | GrantForAnotherRelay | GrantExpired => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidRequest)
            }
            NoPack(_) => (StatusCode::NOT_FOUND, ErrorCode::NoPack),
            NotReady => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
        }
    }
}

/// Seconds a laptop waits before asking a relay that is not ready yet.
const NOT_READY_RETRY_SECS: u32 = 10;

impl IntoResponse for RelayError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "relay round failed");
        }
        let params = match &self {
            RelayError::NotReady => params! {"retry_after" => NOT_READY_RETRY_SECS},
            _ => params! {},
        };
        let body = ErrorBody {
            code,
            message: self.to_string(),
            params,
        };
        let mut response = (status, Json(body)).into_response();
        if matches!(self, RelayError::NotReady) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(NOT_READY_RETRY_SECS));
        }
        response
    }
}
