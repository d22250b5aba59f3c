//! Middleware every request passes: protocol version check, load shedding for sync,
//! JSON for every error (even those made by axum or tower-http), panics caught, and a log
//! line per request that never contains headers, bodies or query strings.

use std::any::Any;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use stopover_protocol::{ErrorBody, ErrorCode, PROTOCOL_HEADER, PROTOCOL_VERSION};

use crate::auth::Caller;
use crate::error::Error;
use crate::state::AppState;

/// 400 `unsupported_protocol` when the client names a protocol version we do not speak.
/// Clients that send no header are assumed to speak ours.
pub async fn check_protocol(req: Request, next: Next) -> Response {
    if let Some(v) = req.headers().get(PROTOCOL_HEADER) {
        let spoken = v
            .to_str()
            .ok()
            .map(str::trim)
            .and_then(|s| s.parse::<u32>().ok());
        if spoken != Some(PROTOCOL_VERSION) {
            let shown: String = String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(40)
                .collect();
            return Error::UnsupportedProtocol(shown).into_response();
        }
    }
    next.run(req).await
}

/// For the tus endpoints (`/v1/files…`): every answer carries `Tus-Resumable: 1.0.0`; a
/// request other than `OPTIONS` without it is answered 412 (with `Tus-Version`).
pub async fn tus_resumable(req: Request, next: Next) -> Response {
    use axum::http::{HeaderName, Method};
    use stopover_protocol::files::TUS_RESUMABLE;
    const HEADER: HeaderName = HeaderName::from_static("tus-resumable");
    let speaks_ours = req
        .headers()
        .get(HEADER)
        .is_some_and(|v| v.as_bytes() == TUS_RESUMABLE.as_bytes());
    let mut response = if speaks_ours || req.method() == Method::OPTIONS {
        next.run(req).await
    } else {
        Error::TusVersion.into_response()
    };
    response
        .headers_mut()
        .insert(HEADER, HeaderValue::from_static(TUS_RESUMABLE));
    response
}

/// Holds a sync slot for the length of the request, or answers 429 `busy` at once. A push's
/// body is read in full *before* a slot is taken (after the caller is known, so strangers
/// cannot make the server buffer bodies): a client sending slowly holds its own connection,
/// never a slot everyone else needs.
pub async fn shed_sync_load(State(state): State<AppState>, req: Request, next: Next) -> Response {
    shed(state, req, next, true).await
}

/// [`shed_sync_load`] for the sync endpoints without a token (a sealed file, a relay's
/// signed request): their bodies, bounded, are read before a slot is taken, as a push's.
pub async fn shed_signed_sync_load(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    shed(state, req, next, false).await
}

async fn shed(state: AppState, req: Request, next: Next, bearer: bool) -> Response {
    let req = if req.method() == axum::http::Method::POST {
        let (mut parts, body) = req.into_parts();
        if bearer && let Err(e) = Caller::from_request_parts(&mut parts, &state).await {
            return e.into_response();
        }
        match crate::http::json::read_body(body).await {
            Ok(bytes) => Request::from_parts(parts, Body::from(bytes)),
            Err(e) => return e.into_response(),
        }
    } else {
        req
    };
    match state.sync_slots.try_enter() {
        Ok(_slot) => next.run(req).await,
        Err(busy) => busy.into_response(),
    }
}

/// 415 for a request to `/v1/files…` with a `Content-Encoding`: chunks are stored as they
/// arrive, and a decoded chunk could be many times its size on the wire (51 KB of gzip made
/// 50 MiB). Runs before the decompression layer, which would hide the header.
pub async fn refuse_encoded_uploads(req: Request, next: Next) -> Response {
    let encoded = req
        .headers()
        .get(axum::http::header::CONTENT_ENCODING)
        .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
    if encoded
        && req
            .uri()
            .path()
            .starts_with(stopover_protocol::files::FILES_PATH)
    {
        return Error::UnsupportedMediaType(
            "attachment chunks are sent as they are: no Content-Encoding".into(),
        )
        .into_response();
    }
    next.run(req).await
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

/// Turns any error response that is not already JSON (axum's 405, the body-limit layer's
/// 413, the decompressor's 415, …) into an [`ErrorBody`], keeping its status and headers.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 2048)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (code, fallback) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such endpoint".to_string()),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "this endpoint does not take that method".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::TooLarge, Error::TooLarge.to_string()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType,
            "send JSON, optionally with Content-Encoding gzip or zstd".to_string(),
        ),
        StatusCode::UNPROCESSABLE_ENTITY => (
            ErrorCode::InvalidRequest,
            "the request is not valid".to_string(),
        ),
        StatusCode::REQUEST_TIMEOUT => (
            ErrorCode::RequestTimeout,
            "the request took too long to arrive".to_string(),
        ),
        s if s.is_server_error() => (
            ErrorCode::Internal,
            "the server failed; try again later".to_string(),
        ),
        s => (
            ErrorCode::BadRequest,
            s.canonical_reason().unwrap_or("bad request").to_string(),
        ),
    };
    // A layer's own text is kept for client errors when it says more than the status does.
    let message = if status.is_client_error()
        && status != StatusCode::PAYLOAD_TOO_LARGE
        && status != StatusCode::REQUEST_TIMEOUT
        && !text.is_empty()
    {
        text
    } else {
        fallback
    };
    let params = if code == ErrorCode::TooLarge {
        Error::TooLarge.params()
    } else {
        Default::default()
    };
    let body = serde_json::to_vec(&ErrorBody {
        code,
        message,
        params,
    })
    .unwrap_or_default();
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body))
}

/// For `CatchPanicLayer`: a 500 in our usual shape. The panic message is not echoed.
pub fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    Error::Task("request handler panicked".into()).into_response()
}

/// One line per request: method, path, status, time. Tokens travel in headers and passwords
/// in bodies, neither of which is logged.
/// The `Date` of every answer from the server's clock ([`crate::db::server_time`]), which a
/// test may shift: clients take the server's time from it. Without a shift hyper's own is
/// the same time.
pub async fn server_date(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    if crate::db::clock_shift_secs() != 0
        && let Ok(date) =
            axum::http::HeaderValue::from_str(&httpdate::fmt_http_date(crate::db::server_time()))
    {
        response
            .headers_mut()
            .insert(axum::http::header::DATE, date);
    }
    response
}

pub async fn log_requests(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path: String = req.uri().path().chars().take(200).collect();
    let started = Instant::now();
    let response = next.run(req).await;
    let ms = started.elapsed().as_millis() as u64;
    tracing::info!(%method, %path, status = response.status().as_u16(), ms, "request");
    response
}
