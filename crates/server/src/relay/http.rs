//! The relay's HTTP face on the LAN: `GET /v1/relay/info`, `POST /v1/relay/sync` and
//! `POST /v1/relay/pack`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use stopover_protocol::packs::PACK_ARCHIVE_CONTENT_TYPE;
use stopover_protocol::relay::{
    self, MAX_COMMUNITY_BYTES_PER_ANSWER, RelayInfo, RelayPackRequest, RelayRefusal,
    RelaySyncRequest, RelaySyncResponse,
};
use stopover_protocol::sync_file;
use stopover_protocol::{ErrorBody, ErrorCode, PROTOCOL_VERSION};
use tokio_util::io::ReaderStream;
use tower::ServiceBuilder;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use super::error::RelayError;
use super::{Relay, check, store};
use crate::db::unix_now;

/// A laptop with nothing new to send gets its private changes (its account's and country's,
/// e.g. a colleague's answers) fetched again once its last answer is this old.
const PRIVATE_FRESH_SECS: i64 = 60;

/// Largest round a laptop sends: a sync file's worth of operations, in base64.
const MAX_ROUND_BYTES: usize = 48 * 1024 * 1024;

pub fn router(relay: Relay) -> Router {
    Router::new()
        .route("/v1/relay/info", get(info))
        .route("/v1/relay/sync", post(sync))
        .route("/v1/relay/pack", post(pack))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                Json(ErrorBody {
                    code: ErrorCode::NotFound,
                    message:
                        "a relay answers /v1/relay/info, /v1/relay/sync and /v1/relay/pack only"
                            .into(),
                    params: Default::default(),
                }),
            )
        })
        .layer(
            ServiceBuilder::new()
                .layer(crate::http::compression())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(120),
                ))
                .layer(axum::middleware::from_fn(
                    crate::http::layers::check_protocol,
                ))
                .layer(RequestBodyLimitLayer::new(MAX_ROUND_BYTES))
                .layer(RequestDecompressionLayer::new()),
        )
        .with_state(relay)
}

async fn info(State(relay): State<Relay>) -> Result<Json<RelayInfo>, RelayError> {
    Ok(Json(RelayInfo {
        protocol: PROTOCOL_VERSION,
        relay: true,
        relay_key: sync_file::to_hex(relay.relay_key().as_bytes()),
        upstream: relay.inner.server.base().to_string(),
        server_key: relay.server_key().map(|k| sync_file::to_hex(k.as_bytes())),
        uplink: relay.uplink().await?,
    }))
}

/// The archive of the content pack the relay holds, for a laptop the server vouches for
/// (its credential, checked offline). The laptop checks the Secretariat's signature on it.
async fn pack(State(relay): State<Relay>, body: Bytes) -> Result<Response, RelayError> {
    let req: RelayPackRequest =
        serde_json::from_slice(&body).map_err(|e| RelayError::BadJson(e.to_string()))?;
    let server_key = relay.server_key().ok_or(RelayError::NotReady)?;
    check::credential(&req.credential, &server_key, unix_now())?;
    let kept = relay.db(|c| store::pack(c, store::PACK_KEPT)).await?;
    let no_pack = || RelayError::NoPack(req.version.chars().take(40).collect());
    let release = kept
        .filter(|r| r.version == req.version)
        .ok_or_else(no_pack)?;
    let path = crate::packs::archive_path(&relay.packs_dir(), &release.version);
    // Streamed: fifty laptops asking at once do not hold fifty copies in memory.
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| RelayError::Internal(format!("{}: {e}", path.display())))?;
    Ok((
        [(
            CONTENT_TYPE,
            HeaderValue::from_static(PACK_ARCHIVE_CONTENT_TYPE),
        )],
        Body::from_stream(ReaderStream::new(file)),
    )
        .into_response())
}

/// One laptop round: check it offline, hold its push durably, give the forwarder a moment to
/// bring the server's answer, then answer with the newest reply, what is still held, and the
/// community pages the laptop lacks.
async fn sync(
    State(relay): State<Relay>,
    body: Bytes,
) -> Result<Json<RelaySyncResponse>, RelayError> {
    let req: RelaySyncRequest =
        serde_json::from_slice(&body).map_err(|e| RelayError::BadJson(e.to_string()))?;
    let server_key = relay.server_key().ok_or(RelayError::NotReady)?;
    let now = unix_now();
    let round = check::round(&req, &server_key, &relay.relay_key(), now)?;
    relay.offer_grant(round.grant_file.clone(), round.grant_expires);

    let device = round.device_id.clone();
    let (file, ids) = (round.changes_file, round.op_ids.clone());
    let community_cursor = req.community_cursor;
    let (held, named_pack) = relay
        .db(move |c| {
            store::note_laptop_cursor(c, community_cursor)?;
            // Nothing new to send and a fresh answer at hand: the uplink is spared.
            let needed = store::needs_server(c, &device, &ids, now, PRIVATE_FRESH_SECS)?;
            if needed {
                store::hold(c, &device, &file, &ids, now)?;
            }
            Ok((needed, store::pack(c, store::PACK_NAMED)?))
        })
        .await?;
    relay.note_laptop_pack(named_pack, req.pack_version.as_deref());
    if held {
        relay.inner.pushes_waiting.notify_one();
    }

    // On a working uplink the answer comes within the round; otherwise the laptop sees its
    // operations as held, and the next round brings the answer.
    let deadline = tokio::time::Instant::now() + relay.inner.config.answer_wait;
    loop {
        let answered = relay.inner.answered.notified();
        let device = round.device_id.clone();
        if !relay.db(move |c| store::device_waits(c, &device)).await? {
            break;
        }
        if tokio::time::timeout_at(deadline, answered).await.is_err() {
            break;
        }
    }

    let device = round.device_id.clone();
    let cursor = req.community_cursor;
    let (reply, refusal, (pages, more), pack) = relay
        .db(move |c| {
            Ok((
                store::reply(c, &device)?,
                store::refusal(c, &device)?,
                store::pages_after(c, cursor, MAX_COMMUNITY_BYTES_PER_ANSWER)?,
                store::pack(c, store::PACK_KEPT)?,
            ))
        })
        .await?;
    let answered_ids = reply
        .as_ref()
        .map(|(_, ids)| ids.clone())
        .unwrap_or_default();
    let held = round
        .op_ids
        .into_iter()
        .filter(|id| !answered_ids.contains(id))
        .collect();
    Ok(Json(RelaySyncResponse {
        protocol: PROTOCOL_VERSION,
        held,
        reply: reply.map(|(file, _)| relay::encode(&file)),
        refused: refusal.map(|(code, message)| RelayRefusal { code, message }),
        community: pages.iter().map(|p| relay::encode(p)).collect(),
        // More pages here, or the relay has not yet heard how far the server's feed goes.
        community_more: more || !*super::lock(&relay.inner.caught_up),
        uplink: relay.uplink().await?,
        pack,
    }))
}

/// Prints, after the first line, the address laptops type on their Sync page and the same as
/// a QR code for a phone or a projector.
pub fn print_where_to_find(addr: SocketAddr) {
    let shown = if addr.ip().is_unspecified() {
        lan_address().map_or(addr, |ip| SocketAddr::new(ip, addr.port()))
    } else {
        addr
    };
    let url = format!("http://{shown}");
    println!("Laptops: on the Sync page, under \"Workshop relay\", enter {url}");
    if let Ok(code) = qrcode::QrCode::new(url.as_bytes()) {
        let art = code
            .render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build();
        println!("{art}");
    }
}

/// This machine's address on its LAN: the source address a packet to a public address would
/// leave from (no packet is sent).
fn lan_address() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    socket.local_addr().ok().map(|a| a.ip())
}
