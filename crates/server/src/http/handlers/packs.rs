//! Signed content packs, published with `ecommunity pack publish`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use stopover_protocol::PackRelease;
use stopover_protocol::packs::{PACK_ARCHIVE_CONTENT_TYPE, parse_version};
use tokio_util::io::ReaderStream;

use crate::auth::Caller;
use crate::auth::policy::{Action, authorize};
use crate::error::{Error, Result};
use crate::http::openapi::schemas as s;
use crate::packs;
use crate::state::AppState;

/// The latest published pack: version, SHA-256, size and ed25519 signature of its archive.
#[utoipa::path(get, path = "/v1/packs/latest", tag = "packs", security(("device_token" = [])),
    responses(
        (status = 200, description = "The latest release", body = s::PackRelease),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 404, description = "`no_pack`: nothing published yet", body = s::ErrorBody),
    ))]
pub async fn latest(State(state): State<AppState>, caller: Caller) -> Result<Json<PackRelease>> {
    authorize(&caller.account, Action::ReadPacks)?;
    let release = state.db.read(packs::latest).await?;
    release
        .map(Json)
        .ok_or_else(|| Error::NoPack("no content pack has been published yet".into()))
}

/// The archive of a published pack: gzip-compressed JSON `{"files": {"<path>": "<text>"}}`,
/// exactly the bytes the release's SHA-256 and signature cover.
#[utoipa::path(get, path = "/v1/packs/{version}/archive", tag = "packs", security(("device_token" = [])),
    params(("version" = String, Path, description = "A published version, e.g. 2026.12.0")),
    responses(
        (status = 200, description = "The archive's bytes", body = Vec<u8>, content_type = "application/gzip"),
        (status = 401, description = "`unauthenticated`, `token_revoked`, `account_revoked`", body = s::ErrorBody),
        (status = 404, description = "`no_pack`: no such version", body = s::ErrorBody),
    ))]
pub async fn archive(
    State(state): State<AppState>,
    caller: Caller,
    Path(version): Path<String>,
) -> Result<Response> {
    authorize(&caller.account, Action::ReadPacks)?;
    let no_pack = || {
        Error::NoPack(format!(
            "no content pack {} has been published",
            version.chars().take(40).collect::<String>()
        ))
    };
    if parse_version(&version).is_none() {
        return Err(no_pack());
    }
    let wanted = version.clone();
    let release = state
        .db
        .read(move |c| packs::find(c, &wanted))
        .await?
        .ok_or_else(no_pack)?;
    archive_response(&state, &release).await
}

/// The archive of `release` as a streamed answer, with its ETag and a year's caching (a
/// published version never changes). Shared with `POST /v1/relay/pack`.
pub async fn archive_response(state: &AppState, release: &PackRelease) -> Result<Response> {
    let path = packs::archive_path(&state.storage.packs_dir(), &release.version);
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| Error::Storage(format!("{}: {e}", path.display())))?;
    let mut out = HeaderMap::new();
    out.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(PACK_ARCHIVE_CONTENT_TYPE),
    );
    out.insert(CONTENT_LENGTH, HeaderValue::from(release.size));
    out.insert(
        ETAG,
        HeaderValue::try_from(format!("\"{}\"", release.sha256)).expect("hex is a valid header"),
    );
    out.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok((
        StatusCode::OK,
        out,
        Body::from_stream(ReaderStream::new(file)),
    )
        .into_response())
}
