//! Attachments over tus 1.0 (core protocol + `creation`). The `tus_resumable` layer adds
//! `Tus-Resumable: 1.0.0` to every answer and refuses requests without it (412).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, LOCATION};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use stopover_protocol::files::{
    ATTACHMENT_EXTENSIONS, FILES_PATH, MAX_ATTACHMENT_BYTES, OFFSET_OCTET_STREAM, TUS_EXTENSIONS,
    TUS_VERSION,
};
use tokio_util::io::ReaderStream;

use crate::attachments;
use crate::auth::Caller;
use crate::auth::policy::{Action, attachment_scope, authorize};
use crate::error::{Error, Result};
use crate::http::openapi::schemas as s;
use crate::state::AppState;

const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");

fn header_u64(headers: &HeaderMap, name: &HeaderName) -> Result<Option<u64>> {
    let Some(v) = headers.get(name) else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("").trim();
    // tus: a non-negative integer; no sign, no spaces inside.
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::BadHeader(format!(
            "{name} must be a non-negative integer"
        )));
    }
    text.parse()
        .map(Some)
        .map_err(|_| Error::BadHeader(format!("{name} is too large")))
}

fn location(id: &str) -> HeaderValue {
    HeaderValue::try_from(format!("{FILES_PATH}/{id}")).expect("upload ids are hex")
}

/// tus discovery: version, extensions and the largest attachment.
#[utoipa::path(options, path = "/v1/files", tag = "files", security(("device_token" = [])),
    responses(
        (status = 204, description = "What this tus server supports",
            headers(
                ("Tus-Resumable" = String, description = "1.0.0"),
                ("Tus-Version" = String, description = "1.0.0"),
                ("Tus-Extension" = String, description = "creation"),
                ("Tus-Max-Size" = u64, description = "Largest attachment this server takes, in bytes (`--max-attachment-mib`, 25 MiB by default)"),
                ("X-Attachment-Types" = String, description = "File name extensions an attachment may have, comma-separated"),
            )),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
    ))]
pub async fn options(State(state): State<AppState>, caller: Caller) -> Result<Response> {
    authorize(&caller.account, Action::Attachments)?;
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("tus-version"),
        HeaderValue::from_static(TUS_VERSION),
    );
    headers.insert(
        HeaderName::from_static("tus-extension"),
        HeaderValue::from_static(TUS_EXTENSIONS),
    );
    headers.insert(
        HeaderName::from_static("tus-max-size"),
        HeaderValue::from(state.config.max_attachment_bytes.min(MAX_ATTACHMENT_BYTES)),
    );
    if let Ok(types) = HeaderValue::try_from(ATTACHMENT_EXTENSIONS.join(",")) {
        headers.insert(HeaderName::from_static("x-attachment-types"), types);
    }
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

/// Creates an upload, or finds the caller's upload of the same file (by SHA-256): 200 with
/// `Upload-Offset` = `Upload-Length` when it is complete (nothing to send), or with its
/// current offset to resume from.
#[utoipa::path(post, path = "/v1/files", tag = "files", security(("device_token" = [])),
    params(
        ("Tus-Resumable" = String, Header, description = "Must be 1.0.0"),
        ("Upload-Length" = u64, Header, description = "Size of the file in bytes (at most 50 MiB)"),
        ("Upload-Metadata" = String, Header,
            description = "`sha256 <base64 of the hex SHA-256>` (required), `filename <base64 of the UTF-8 name>` (optional), comma-separated"),
    ),
    responses(
        (status = 201, description = "A new upload",
            headers(("Location" = String, description = "/v1/files/{id}"), ("Upload-Offset" = u64, description = "0"))),
        (status = 200, description = "The caller's existing upload of this file: resume from `Upload-Offset`, or skip when it equals the length",
            headers(("Location" = String, description = "/v1/files/{id}"), ("Upload-Offset" = u64, description = "Bytes the server holds"))),
        (status = 400, description = "`bad_header`: Upload-Length or Upload-Metadata missing or malformed", body = s::ErrorBody),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 409, description = "`upload_busy`", body = s::ErrorBody),
        (status = 412, description = "`unsupported_tus_version`: no `Tus-Resumable: 1.0.0`", body = s::ErrorBody),
        (status = 413, description = "`attachment_too_large`: over `Tus-Max-Size` (`max`); `quota_exceeded`", body = s::ErrorBody),
        (status = 415, description = "`attachment_type_refused`: the `filename` is not a PDF, office document, image, CSV or ZIP (`file`, `types`)", body = s::ErrorBody),
        (status = 422, description = "`invalid_request`: a complete file with this SHA-256 has another length", body = s::ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response> {
    authorize(&caller.account, Action::Attachments)?;
    let length = header_u64(&headers, &UPLOAD_LENGTH)?.ok_or_else(|| {
        Error::BadHeader("Upload-Length is required (deferred lengths are not supported)".into())
    })?;
    let metadata = headers
        .get(UPLOAD_METADATA)
        .ok_or_else(|| {
            Error::BadHeader("Upload-Metadata is required and must carry `sha256`".into())
        })?
        .to_str()
        .map_err(|_| Error::BadHeader("Upload-Metadata must be ASCII".into()))?;
    let created =
        attachments::create(&state, attachment_scope(&caller.account), length, metadata).await?;
    let status = if created.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut out = HeaderMap::new();
    out.insert(LOCATION, location(&created.id));
    out.insert(UPLOAD_OFFSET, HeaderValue::from(created.offset));
    out.insert(UPLOAD_LENGTH, HeaderValue::from(created.length));
    Ok((status, out).into_response())
}

/// How far an upload has come.
#[utoipa::path(head, path = "/v1/files/{id}", tag = "files", security(("device_token" = [])),
    params(("id" = String, Path, description = "Upload id from `Location`"),
        ("Tus-Resumable" = String, Header, description = "Must be 1.0.0")),
    responses(
        (status = 200, description = "The upload's offset and length",
            headers(
                ("Upload-Offset" = u64, description = "Bytes the server holds; equal to Upload-Length when complete"),
                ("Upload-Length" = u64),
                ("Upload-Metadata" = String, description = "As sent at creation"),
                ("Cache-Control" = String, description = "no-store"),
            )),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`"),
        (status = 404, description = "`no_such_upload` (also another account's)"),
        (status = 412, description = "`unsupported_tus_version`"),
    ))]
pub async fn head(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response> {
    authorize(&caller.account, Action::Attachments)?;
    let row = attachments::find(&state, attachment_scope(&caller.account), &id).await?;
    let mut out = HeaderMap::new();
    out.insert(
        UPLOAD_OFFSET,
        HeaderValue::from(attachments::offset_of(&row)),
    );
    out.insert(UPLOAD_LENGTH, HeaderValue::from(row.length));
    if let Ok(v) = HeaderValue::try_from(row.metadata) {
        out.insert(UPLOAD_METADATA, v);
    }
    out.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok((StatusCode::OK, out).into_response())
}

/// Appends bytes at `Upload-Offset`, which must be where the upload stands. The bytes are on
/// disk before the new offset is answered. When the last byte arrives the SHA-256 is checked:
/// a mismatch discards the upload (400 `checksum_mismatch`). An empty body at the final
/// offset confirms a complete upload.
#[utoipa::path(patch, path = "/v1/files/{id}", tag = "files", security(("device_token" = [])),
    params(("id" = String, Path, description = "Upload id from `Location`"),
        ("Tus-Resumable" = String, Header, description = "Must be 1.0.0"),
        ("Upload-Offset" = u64, Header, description = "Where these bytes go: the server's current offset")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream",
        description = "The next bytes of the file, at most 2 MiB per request"),
    responses(
        (status = 204, description = "Stored", headers(("Upload-Offset" = u64, description = "The new offset"))),
        (status = 400, description = "`bad_header`, `bad_body`, or `checksum_mismatch`: the completed file does not have the announced SHA-256 (discarded)", body = s::ErrorBody),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 404, description = "`no_such_upload` (also another account's)", body = s::ErrorBody),
        (status = 409, description = "`offset_mismatch` (the server's offset is in `Upload-Offset`) or `upload_busy`", body = s::ErrorBody,
            headers(("Upload-Offset" = u64, description = "The server's offset"))),
        (status = 412, description = "`unsupported_tus_version`", body = s::ErrorBody),
        (status = 413, description = "`too_large`: a body over 2 MiB", body = s::ErrorBody),
        (status = 415, description = "`unsupported_media_type`: not application/offset+octet-stream", body = s::ErrorBody),
    ))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    authorize(&caller.account, Action::Attachments)?;
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .trim()
        .eq_ignore_ascii_case(OFFSET_OCTET_STREAM)
    {
        return Err(Error::UnsupportedMediaType(format!(
            "send `Content-Type: {OFFSET_OCTET_STREAM}`"
        )));
    }
    let offset = header_u64(&headers, &UPLOAD_OFFSET)?
        .ok_or_else(|| Error::BadHeader("Upload-Offset is required".into()))?;
    let announced = header_u64(&headers, &CONTENT_LENGTH).unwrap_or(None);
    let new_offset = attachments::append(
        &state,
        attachment_scope(&caller.account),
        &id,
        offset,
        announced,
        body,
    )
    .await?;
    let mut out = HeaderMap::new();
    out.insert(UPLOAD_OFFSET, HeaderValue::from(new_offset));
    Ok((StatusCode::NO_CONTENT, out).into_response())
}

/// Downloads a complete attachment: the caller's own (by upload id or SHA-256), or by SHA-256
/// a file that a national report the caller may read names in an answer (their country's; any
/// country's for the Secretariat).
#[utoipa::path(get, path = "/v1/files/{id}", tag = "files", security(("device_token" = [])),
    params(("id" = String, Path, description = "Upload id, or the file's SHA-256 (64 hex digits)"),
        ("Tus-Resumable" = String, Header, description = "Must be 1.0.0")),
    responses(
        (status = 200, description = "The file's bytes", body = Vec<u8>, content_type = "application/octet-stream",
            headers(("ETag" = String, description = "The SHA-256, quoted"))),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 404, description = "`no_such_upload` (also another account's)", body = s::ErrorBody),
        (status = 409, description = "`upload_incomplete`", body = s::ErrorBody),
        (status = 412, description = "`unsupported_tus_version`", body = s::ErrorBody),
    ))]
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response> {
    authorize(&caller.account, Action::Attachments)?;
    let reader = attachments::Reader {
        account_id: attachment_scope(&caller.account),
        role: caller.account.role,
        country: caller.account.country.clone(),
    };
    let (path, row) = attachments::downloadable(&state, &reader, &id).await?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| Error::Storage(format!("{}: {e}", path.display())))?;
    let mut out = HeaderMap::new();
    out.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    out.insert(CONTENT_LENGTH, HeaderValue::from(row.length));
    out.insert(
        ETAG,
        HeaderValue::try_from(format!("\"{}\"", row.sha256)).expect("hex is a valid header"),
    );
    out.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    out.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    Ok((
        StatusCode::OK,
        out,
        Body::from_stream(ReaderStream::new(file)),
    )
        .into_response())
}
