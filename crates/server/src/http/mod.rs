//! The HTTP face of the server: the axum router, its layers, and `serve`.

pub mod client_ip;
pub mod handlers;
pub mod json;
pub mod layers;
pub mod openapi;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tower::ServiceExt;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{delete, get, options, post, put};
use stopover_protocol::MAX_BODY_BYTES;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::error::{Error, Result};
use crate::state::{AppState, Timeouts};
use handlers::{accounts, admin, files, health, packs, reports, sessions, sync};

/// Every endpoint, with the layers every request passes through.
pub fn router(state: AppState) -> Router {
    let timeouts = state.config.timeouts;
    // The console answers in HTML with its own layers (never the API's JSON errors).
    with_layers(routes(&state), timeouts)
        .merge(crate::console::router(&state))
        .with_state(state)
}

fn routes(state: &AppState) -> Router<AppState> {
    let sync_routes = Router::new()
        .route("/v1/sync/push", post(sync::push))
        .route("/v1/sync/pull", get(sync::pull))
        .route("/v1/sync/file-key", put(sync::file_key))
        .route("/v1/sync/credential", get(sync::credential))
        .route_layer(from_fn_with_state(state.clone(), layers::shed_sync_load));
    // Signed by a device's or a relay's key instead of a token.
    let signed_sync_routes = Router::new()
        .route("/v1/sync/file", post(sync::sync_file))
        .route("/v1/relay/community", post(sync::relay_community))
        .route("/v1/relay/pack", post(sync::relay_pack))
        .route_layer(from_fn_with_state(
            state.clone(),
            layers::shed_signed_sync_load,
        ));

    let tus_routes = Router::new()
        .route("/v1/files", options(files::options).post(files::create))
        .route(
            "/v1/files/{id}",
            get(files::download).head(files::head).patch(files::patch),
        )
        .route_layer(from_fn(layers::tus_resumable));

    Router::new()
        .route("/v1/health", get(health::health))
        .route("/v1/accounts", post(accounts::request_account))
        .route("/v1/me", get(accounts::me))
        .route("/v1/me/password", post(sessions::change_password))
        .route("/v1/sessions", post(sessions::sign_in))
        .route("/v1/sessions/current", delete(sessions::sign_out))
        .route("/v1/admin/accounts", get(admin::list_accounts))
        .route(
            "/v1/admin/accounts/{username}/approve",
            post(admin::approve_account),
        )
        .route(
            "/v1/admin/accounts/{username}/revoke",
            post(admin::revoke_account),
        )
        .route(
            "/v1/admin/accounts/{username}",
            axum::routing::patch(admin::correct_account),
        )
        .route(
            "/v1/admin/accounts/{username}/reset-password",
            post(admin::reset_password),
        )
        .route("/v1/reports/submissions", post(reports::submit))
        .route("/v1/packs/latest", get(packs::latest))
        .route("/v1/packs/{version}/archive", get(packs::archive))
        .route("/v1/sync/server-key", get(sync::server_key))
        .merge(sync_routes)
        .merge(signed_sync_routes)
        .merge(tus_routes)
        .fallback(|| async { Error::UnknownPath })
}

/// gzip or zstd, as the client's Accept-Encoding asks; not for pack archives (gzip already)
/// nor attachments and sealed files (mostly compressed formats, and large). The relay's too.
pub(crate) fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new().compress_when(
        DefaultPredicate::new()
            .and(NotForContentType::const_new(
                stopover_protocol::packs::PACK_ARCHIVE_CONTENT_TYPE,
            ))
            .and(NotForContentType::const_new("application/octet-stream")),
    )
}

/// The layers, outermost first.
fn with_layers(routes: Router<AppState>, timeouts: Timeouts) -> Router<AppState> {
    routes.layer(
        ServiceBuilder::new()
            .layer(from_fn(layers::server_date))
            .layer(CatchPanicLayer::custom(layers::panic_response))
            .layer(from_fn(layers::log_requests))
            .layer(compression())
            .layer(from_fn(layers::json_errors))
            // A whole request (body included) is answered within `request` (408), and a
            // body that pauses longer than `body_idle` is cut: a slow client holds its own
            // connection for a bounded time, and nothing else.
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                timeouts.request,
            ))
            .layer(from_fn(layers::check_protocol))
            // Attachment chunks are stored as sent: a compressed chunk would be a bomb.
            .layer(from_fn(layers::refuse_encoded_uploads))
            .layer(RequestBodyTimeoutLayer::new(timeouts.body_idle))
            // Bounds the bytes on the wire; the JSON extractor bounds them again after
            // decompression, so a small zip bomb cannot grow past the limit either.
            .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
            .layer(RequestDecompressionLayer::new()),
    )
}

/// Binds, prints `listening on http://ADDR` as the first line on stdout (tests read it),
/// and serves until Ctrl-C or SIGTERM.
///
/// Connections are served by hyper's HTTP/1 directly (not `axum::serve`) so they get a
/// timer: a request line and headers must arrive within the header timeout, which also
/// closes connections left idle that long (`axum::serve` installs no timer, so slowly sent
/// headers and idle connections were kept forever).
pub async fn serve(state: AppState, listen: SocketAddr) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| Error::Listen {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(Error::Serve)?;
    println!("listening on http://{addr}");
    tracing::info!(%addr, "ecommunity listening");
    // In the background, so start-up (which tests wait for) does not pay for a hash.
    let passwords = state.passwords.clone();
    tokio::task::spawn_blocking(move || passwords.warm_up());
    tokio::spawn(crate::janitor::run(state.clone()));
    let header_timeout = state.config.timeouts.header;
    serve_router(listener, router(state), header_timeout).await
}

/// Serves `app` on `listener` until Ctrl-C or SIGTERM, each connection with a timer (see
/// [`serve`]). The workshop relay serves its own router the same way.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: std::time::Duration,
) -> Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: axum::http::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended");
            }
        });
    }
    drop(listener);
    // Requests under way get a moment to finish; idle connections close at once.
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {
            tracing::warn!("requests still running at shutdown were cut");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
