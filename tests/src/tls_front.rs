//! A TLS front for benchmarks: what a deployment puts before the `ecommunity` server (a
//! TLS-terminating reverse proxy such as Caddy or nginx), on loopback, behind a model of the
//! link.
//!
//! ```text
//! client ──TCP──▶ [link: TCP handshake, delay, rate; bytes counted] ──▶ TLS 1.3 (test CA)
//!        ──▶ HTTP/2 or HTTP/1.1 (ALPN) ──▶ HTTP/1.1 keep-alive ──▶ ecommunity
//! ```
//!
//! The link is modelled on the byte stream under TLS, so handshakes are charged like any other
//! flight: a new connection waits one round trip for TCP's handshake before its first byte
//! leaves, then every piece of data in either direction leaves at `bytes_per_sec` (one after
//! the other) and arrives `delay` later. The bytes counted are what TLS puts on the wire
//! (handshake messages, record headers and tags, the HTTP/2 or HTTP/1.1 inside): everything but
//! TCP/IP headers.
//!
//! The certificate authority is made at start ([`TlsFront::ca_pem`]); clients trust it with
//! [`SyncClient::with_extra_root`](stopover_core::sync::SyncClient::with_extra_root). The
//! server sends its certificate and the CA's (a chain of two, as with an intermediate).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, Version};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::HandshakeKind;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// A link's speed and one-way delay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    pub bytes_per_sec: u64,
    pub delay: Duration,
}

impl Link {
    /// 64 kbit/s (8000 bytes a second) with 300 ms one-way delay, as
    /// [`Fault::SLOW_LINK`](crate::proxy::Fault::SLOW_LINK).
    pub const SLOW: Link = Link {
        bytes_per_sec: 8000,
        delay: Duration::from_millis(300),
    };

    /// The least time `bytes` and `round_trips` can take on this link.
    pub fn minimum(&self, bytes: u64, round_trips: u32) -> Duration {
        Duration::from_secs_f64(bytes as f64 / self.bytes_per_sec as f64)
            + self.delay * 2 * round_trips
    }
}

/// Counters since start or [`TlsFront::reset_stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrontStats {
    /// TCP connections accepted.
    pub connections: u64,
    /// TLS handshakes completed: full ones and resumed ones (TLS 1.3 session tickets).
    pub full_handshakes: u64,
    pub resumed_handshakes: u64,
    /// HTTP requests, and of those the ones over HTTP/2.
    pub requests: u64,
    pub http2_requests: u64,
    /// Bytes from and to the client on the wire (TLS records, handshakes included).
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// Of those, the HTTP bodies as they travel (compressed, as the client and the server
    /// sent them): the payload, without TLS, HTTP/2 framing or headers.
    pub body_up: u64,
    pub body_down: u64,
}

impl FrontStats {
    pub fn wire(&self) -> u64 {
        self.bytes_up + self.bytes_down
    }

    pub fn payload(&self) -> u64 {
        self.body_up + self.body_down
    }
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    full_handshakes: AtomicU64,
    resumed_handshakes: AtomicU64,
    requests: AtomicU64,
    http2_requests: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    body_up: AtomicU64,
    body_down: AtomicU64,
}

struct Shared {
    counters: Counters,
    link: Mutex<Option<Link>>,
    /// `METHOD /path` of every request since the last reset.
    paths: Mutex<Vec<String>>,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

/// A running front on `127.0.0.1:<port>`; stops (with its connections) when dropped.
pub struct TlsFront {
    addr: SocketAddr,
    ca_pem: String,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl TlsFront {
    /// Starts a front to `upstream` (plain HTTP on loopback). Needs a Tokio runtime.
    pub async fn start(upstream: SocketAddr) -> TlsFront {
        assert!(upstream.ip().is_loopback(), "loopback only, not {upstream}");
        let (tls, ca_pem) = test_tls_config();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("front binds a loopback port");
        let addr = listener.local_addr().expect("front address");
        let shared = Arc::new(Shared {
            counters: Counters::default(),
            link: Mutex::new(None),
            paths: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
        });
        // One keep-alive pool to the server, as a reverse proxy keeps.
        let client: Client<HttpConnector, FrontBody> =
            Client::builder(TokioExecutor::new()).build_http();
        let accept = tokio::spawn(accept_loop(
            listener,
            acceptor,
            shared.clone(),
            client,
            upstream,
        ));
        TlsFront {
            addr,
            ca_pem,
            shared,
            accept,
        }
    }

    /// `https://localhost:<port>` (the certificate names `localhost` and `127.0.0.1`).
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// The test certificate authority, PEM.
    pub fn ca_pem(&self) -> &[u8] {
        self.ca_pem.as_bytes()
    }

    /// The link new connections get (`None`: loopback as it is). Open connections keep theirs.
    pub fn set_link(&self, link: Option<Link>) {
        *self.shared.link.lock().unwrap_or_else(|e| e.into_inner()) = link;
    }

    pub fn stats(&self) -> FrontStats {
        let c = &self.shared.counters;
        FrontStats {
            connections: c.connections.load(Ordering::SeqCst),
            full_handshakes: c.full_handshakes.load(Ordering::SeqCst),
            resumed_handshakes: c.resumed_handshakes.load(Ordering::SeqCst),
            requests: c.requests.load(Ordering::SeqCst),
            http2_requests: c.http2_requests.load(Ordering::SeqCst),
            bytes_up: c.bytes_up.load(Ordering::SeqCst),
            bytes_down: c.bytes_down.load(Ordering::SeqCst),
            body_up: c.body_up.load(Ordering::SeqCst),
            body_down: c.body_down.load(Ordering::SeqCst),
        }
    }

    pub fn reset_stats(&self) {
        let c = &self.shared.counters;
        for a in [
            &c.connections,
            &c.full_handshakes,
            &c.resumed_handshakes,
            &c.requests,
            &c.http2_requests,
            &c.bytes_up,
            &c.bytes_down,
            &c.body_up,
            &c.body_down,
        ] {
            a.store(0, Ordering::SeqCst);
        }
        self.shared
            .paths
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// `METHOD /path` of every request since the last reset, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared
            .paths
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Closes every open connection now (the next request opens a new one), as a server's
    /// idle timeout would. Give clients a moment to see the close before the next request: a
    /// request already on its way over a connection being closed fails, as it would for real.
    pub fn drop_connections(&self) {
        for t in self
            .shared
            .tasks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.accept.abort();
        self.drop_connections();
    }
}

/// A CA and a server certificate for `localhost` and `127.0.0.1` signed by it (ECDSA P-256),
/// and the server's TLS configuration: TLS 1.3 and 1.2, ALPN `h2` then `http/1.1`, session
/// resumption as rustls does by default (TLS 1.3 tickets). Returns it with the CA's PEM.
fn test_tls_config() -> (rustls::ServerConfig, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Stopover test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("server key");
    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("server params");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params.signed_by(&key, &issuer).expect("server certificate");
    let chain = vec![cert.der().clone(), ca_cert.der().clone()];
    let key_der =
        rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).expect("server key in DER");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .expect("server certificate and key");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    (config, ca_cert.pem())
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: Arc<Shared>,
    client: Client<HttpConnector, FrontBody>,
    upstream: SocketAddr,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let accepted = Instant::now();
        let _ = stream.set_nodelay(true);
        shared.counters.connections.fetch_add(1, Ordering::SeqCst);
        let link = *shared.link.lock().unwrap_or_else(|e| e.into_inner());
        let task = tokio::spawn(connection(
            stream,
            accepted,
            link,
            acceptor.clone(),
            shared.clone(),
            client.clone(),
            upstream,
        ));
        let mut tasks = shared.tasks.lock().unwrap_or_else(|e| e.into_inner());
        tasks.retain(|t| !t.is_finished());
        tasks.push(task.abort_handle());
    }
}

async fn connection(
    stream: TcpStream,
    accepted: Instant,
    link: Option<Link>,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: Arc<Shared>,
    client: Client<HttpConnector, FrontBody>,
    upstream: SocketAddr,
) {
    // The front's end of the link; the pumps carry bytes between it and the client's socket
    // at the link's pace, and end with this task (aborting it aborts them).
    let (near, far) = tokio::io::duplex(256 * 1024);
    let (client_read, client_write) = stream.into_split();
    let (far_read, far_write) = tokio::io::split(far);
    // TCP's handshake: the client's first byte leaves one round trip after it connected.
    let first_departure = accepted + link.map_or(Duration::ZERO, |l| l.delay * 2);
    let up = AbortOnDrop(tokio::spawn(pump(
        client_read,
        far_write,
        link,
        first_departure,
        Way::Up,
        shared.clone(),
    )));
    let down = AbortOnDrop(tokio::spawn(pump(
        far_read,
        client_write,
        link,
        accepted,
        Way::Down,
        shared.clone(),
    )));
    let Ok(tls) = acceptor.accept(near).await else {
        return;
    };
    match tls.get_ref().1.handshake_kind() {
        Some(HandshakeKind::Resumed) => &shared.counters.resumed_handshakes,
        _ => &shared.counters.full_handshakes,
    }
    .fetch_add(1, Ordering::SeqCst);
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let (shared, client) = (shared.clone(), client.clone());
        async move { forward(req, &shared, &client, upstream).await }
    });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(tls), service)
        .await;
    drop((up, down));
}

/// Ends a pump when the connection's task ends.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

type FrontBody = http_body_util::combinators::BoxBody<hyper::body::Bytes, hyper::Error>;

/// Sends a request on to the server over HTTP/1.1 and its answer back, as a reverse proxy
/// does (connection-level headers dropped in both directions).
async fn forward(
    req: Request<Incoming>,
    shared: &Arc<Shared>,
    client: &Client<HttpConnector, FrontBody>,
    upstream: SocketAddr,
) -> Result<Response<FrontBody>, std::convert::Infallible> {
    shared.counters.requests.fetch_add(1, Ordering::SeqCst);
    if req.version() == Version::HTTP_2 {
        shared
            .counters
            .http2_requests
            .fetch_add(1, Ordering::SeqCst);
    }
    shared
        .paths
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(format!("{} {}", req.method(), req.uri().path()));
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/".to_string(), |p| p.to_string());
    parts.uri = format!("http://{upstream}{path}")
        .parse()
        .expect("upstream URI");
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers);
    let up = shared.clone();
    let body = body
        .map_frame(move |frame| {
            if let Some(data) = frame.data_ref() {
                up.counters
                    .body_up
                    .fetch_add(data.len() as u64, Ordering::SeqCst);
            }
            frame
        })
        .boxed();
    match client.request(Request::from_parts(parts, body)).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            let down = shared.clone();
            let body = body.map_frame(move |frame| {
                if let Some(data) = frame.data_ref() {
                    down.counters
                        .body_down
                        .fetch_add(data.len() as u64, Ordering::SeqCst);
                }
                frame
            });
            Ok(Response::from_parts(parts, body.boxed()))
        }
        Err(e) => {
            let body = http_body_util::Full::new(hyper::body::Bytes::from(format!(
                "the front could not reach the server: {e}"
            )))
            .map_err(|never| match never {})
            .boxed();
            let mut response = Response::new(body);
            *response.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            Ok(response)
        }
    }
}

fn strip_hop_by_hop(headers: &mut hyper::HeaderMap) {
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "te",
    ] {
        headers.remove(name);
    }
}

/// Which way a pump carries bytes: from the client (counted as read) or to it (counted as
/// written, as each piece reaches the client).
#[derive(Clone, Copy, PartialEq)]
enum Way {
    Up,
    Down,
}

/// Carries bytes from `from` to `to` over the link: each piece leaves when the link is free
/// (not before `first_departure`), takes `len / rate` to send, and arrives `delay` later.
/// Without a link, bytes pass at once. Closes `to` after `from` ends and all has arrived.
async fn pump<R, W>(
    mut from: R,
    mut to: W,
    link: Option<Link>,
    first_departure: Instant,
    way: Way,
    shared: Arc<Shared>,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let counters = &shared.counters;
    let reader = async move {
        let mut free = first_departure;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if way == Way::Up {
                counters.bytes_up.fetch_add(n as u64, Ordering::SeqCst);
            }
            let now = Instant::now();
            let Some(l) = link else {
                if tx.send((now, buf[..n].to_vec())).is_err() {
                    return;
                }
                continue;
            };
            // Pieces of 1/50 s, so the far side sees a stream, not one late lump.
            let piece = (l.bytes_per_sec / 50).max(1) as usize;
            for chunk in buf[..n].chunks(piece) {
                let depart = free.max(now);
                free =
                    depart + Duration::from_secs_f64(chunk.len() as f64 / l.bytes_per_sec as f64);
                if tx.send((free + l.delay, chunk.to_vec())).is_err() {
                    return;
                }
            }
        }
    };
    let writer = async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due.into()).await;
            if way == Way::Down {
                counters
                    .bytes_down
                    .fetch_add(bytes.len() as u64, Ordering::SeqCst);
            }
            if to.write_all(&bytes).await.is_err() || to.flush().await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::post;

    async fn echo_server() -> (SocketAddr, JoinHandle<()>) {
        let app = Router::new().route("/echo", post(|body: String| async move { body }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        (
            addr,
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }),
        )
    }

    fn client(front: &TlsFront) -> reqwest::Client {
        reqwest::Client::builder()
            .use_rustls_tls()
            .add_root_certificate(reqwest::Certificate::from_pem(front.ca_pem()).unwrap())
            .build()
            .unwrap()
    }

    /// HTTP/2 through ALPN, one connection for many requests, a resumed session on a new
    /// connection of the same client, and a client that does not trust the test CA refused.
    #[tokio::test]
    async fn http2_keep_alive_and_session_resumption() {
        let (up, _server) = echo_server().await;
        let front = TlsFront::start(up).await;
        let c = client(&front);
        for i in 0..3 {
            let r = c
                .post(format!("{}/echo", front.url()))
                .body(format!("hello {i}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.version(), reqwest::Version::HTTP_2);
            assert_eq!(r.text().await.unwrap(), format!("hello {i}"));
        }
        let s = front.stats();
        assert_eq!(
            (
                s.connections,
                s.full_handshakes,
                s.requests,
                s.http2_requests
            ),
            (1, 1, 3, 3),
            "{s:?}"
        );
        front.drop_connections();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = c
            .post(format!("{}/echo", front.url()))
            .body("again")
            .send()
            .await
            .unwrap();
        assert_eq!(r.text().await.unwrap(), "again");
        let s = front.stats();
        assert_eq!((s.connections, s.resumed_handshakes), (2, 1), "{s:?}");

        let stranger = reqwest::Client::builder().use_rustls_tls().build().unwrap();
        let refused = stranger.post(format!("{}/echo", front.url())).send().await;
        assert!(refused.is_err(), "the test CA is not trusted by default");
    }

    /// Over the link, a cold request costs three round trips (TCP, TLS, the exchange) plus
    /// its bytes; a warm one, one round trip plus its bytes.
    #[tokio::test]
    async fn the_link_charges_handshakes_and_bytes() {
        let (up, _server) = echo_server().await;
        let front = TlsFront::start(up).await;
        let link = Link {
            bytes_per_sec: 100_000,
            delay: Duration::from_millis(100),
        };
        front.set_link(Some(link));
        let c = client(&front);
        let timed = || async {
            let started = Instant::now();
            let r = c
                .post(format!("{}/echo", front.url()))
                .body("x".repeat(10_000))
                .send()
                .await
                .unwrap();
            assert_eq!(r.text().await.unwrap().len(), 10_000);
            started.elapsed()
        };
        let cold = timed().await;
        let cold_bytes = front.stats().wire();
        front.reset_stats();
        let warm = timed().await;
        let warm_bytes = front.stats().wire();
        let (cold_min, warm_min) = (link.minimum(cold_bytes, 3), link.minimum(warm_bytes, 1));
        assert!(cold >= cold_min, "cold {cold:?} < {cold_min:?}");
        assert!(warm >= warm_min, "warm {warm:?} < {warm_min:?}");
        assert!(
            warm < warm_min + Duration::from_millis(150),
            "warm {warm:?} vs {warm_min:?}"
        );
        assert!(
            cold_bytes > warm_bytes + 500,
            "the handshake's bytes: {cold_bytes} vs {warm_bytes}"
        );
    }
}
