//! A fault-injecting HTTP/1.1 proxy between a client and the real server, on loopback.
//!
//! The proxy reads each request and each response as whole HTTP/1.1 messages (`httparse` for
//! the head, then `Content-Length`, chunked encoding or read-to-close for the body), so it
//! knows where one exchange ends on a keep-alive connection and can break exactly the part a
//! test wants broken: the answer after the server has committed ("lost acknowledgement"), a
//! reset or a truncated body half-way, a made-up 500 / 429, a captive portal's HTML page, a
//! slow link, or no link at all.
//!
//! The fault is read at every request, so [`Proxy::set_fault`] takes effect on live keep-alive
//! connections too; [`Proxy::queue_faults`] applies faults to the next requests only, then
//! falls back to the standing fault; [`Proxy::fault_next`] breaks the next request to one path
//! (e.g. the next push, whatever comes before it). Every task ends when the [`Proxy`] is
//! dropped.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// How long the proxy waits for the server's answer before giving up on the exchange.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest message head (request line or status line plus headers) the proxy accepts.
const MAX_HEAD: usize = 64 * 1024;

/// What the proxy does to the next exchange.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Pass everything through untouched.
    None,
    /// Forward the request, wait for the server's whole answer, then close the client's
    /// connection without sending any of it: the server committed, the client never knows.
    LoseResponse,
    /// Forward the request, then send the first half of the server's answer (headers included)
    /// and reset the connection (RST).
    ResetMidResponse,
    /// Forward the request, then send the answer's head and half its body, and close (FIN).
    TruncateBody,
    /// Answer this status with `Retry-After: 1` and a short text body, never contacting the
    /// server (a struggling load balancer: 500, 502, 503, 429…).
    Status(u16),
    /// Answer `200 OK` with an HTML login page, never contacting the server (hotel wifi).
    CaptivePortal,
    /// A slow, far link: each direction waits `delay_ms` before a message and then sends it
    /// at `bytes_per_sec`; the first request on a new connection also waits one round trip
    /// (`2 × delay_ms`) for TCP's handshake. 64 kbit/s with 300 ms one-way delay is
    /// [`Fault::SLOW_LINK`]. (Over TLS, see [`crate::tls_front`], which models the link under
    /// the TLS handshake too.)
    Throttle { bytes_per_sec: u64, delay_ms: u64 },
    /// Like [`Fault::Throttle`], but every exchange shares one link: what crosses it at once
    /// splits `bytes_per_sec` (each direction has its own). A venue's uplink, which fifty
    /// laptops (or one relay) share.
    SharedLink { bytes_per_sec: u64, delay_ms: u64 },
    /// No link: connections are reset as soon as they open (or as soon as a request arrives
    /// on one that was already open).
    Down,
    /// For simulations: each request draws, from a seeded RNG, one of [`Fault::RANDOM_CHOICES`]
    /// with probability `p` and [`Fault::None`] otherwise. Setting it (re)seeds the RNG.
    Random { seed: u64, p: f64 },
}

impl Fault {
    /// 64 kbit/s (8000 bytes a second) with 300 ms one-way delay.
    pub const SLOW_LINK: Fault = Fault::Throttle {
        bytes_per_sec: 8000,
        delay_ms: 300,
    };

    /// What [`Fault::Random`] picks from, uniformly.
    pub const RANDOM_CHOICES: [Fault; 8] = [
        Fault::LoseResponse,
        Fault::ResetMidResponse,
        Fault::TruncateBody,
        Fault::Status(500),
        Fault::Status(503),
        Fault::Status(429),
        Fault::CaptivePortal,
        Fault::Down,
    ];

    /// True when the request reaches the server under this fault.
    pub fn reaches_server(self) -> bool {
        matches!(
            self,
            Fault::None
                | Fault::LoseResponse
                | Fault::ResetMidResponse
                | Fault::TruncateBody
                | Fault::Throttle { .. }
                | Fault::SharedLink { .. }
        )
    }
}

/// Counters since the proxy started or since [`Proxy::reset_stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Client connections accepted.
    pub connections: u64,
    /// Requests read from clients.
    pub requests: u64,
    /// Requests forwarded to the server.
    pub forwarded: u64,
    /// Bytes read from clients (requests, headers included).
    pub bytes_up: u64,
    /// Bytes written to clients (responses, headers included).
    pub bytes_down: u64,
}

impl Stats {
    /// Bytes on the wire both ways (request and status lines, headers and bodies).
    pub fn wire(&self) -> u64 {
        self.bytes_up + self.bytes_down
    }
}

/// One request the proxy saw, and what it did with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub connection: u64,
    pub method: String,
    pub path: String,
    pub fault: Fault,
    /// The request reached the server.
    pub forwarded: bool,
    /// The status line the server answered, when it answered.
    pub upstream_status: Option<u16>,
    /// Size of the request as read from the client (head and body).
    pub request_bytes: usize,
    /// Size of the answer the proxy sends back (head and body; what it cuts, when it cuts).
    pub response_bytes: usize,
}

/// SplitMix64: small, seeded, good enough to pick faults reproducibly.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

struct Control {
    fault: Fault,
    queued: VecDeque<Fault>,
    /// (path prefix, fault): for the next request whose path starts with the prefix.
    targeted: Vec<(String, Fault)>,
    rng: Rng,
    upstream: SocketAddr,
}

#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    requests: AtomicU64,
    forwarded: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
}

struct Shared {
    control: Mutex<Control>,
    counters: Counters,
    events: Mutex<Vec<Event>>,
    /// Paths of the requests read so far, as soon as each is read (events come when done).
    started: Mutex<Vec<String>>,
    tasks: Mutex<Vec<AbortHandle>>,
    /// When the shared link is next free in each direction ([`Fault::SharedLink`]).
    link_up: Arc<Mutex<Instant>>,
    link_down: Arc<Mutex<Instant>>,
}

/// How a message is paced on a slow link: its rate and one-way delay, and the link it shares
/// with other exchanges, if any.
#[derive(Clone)]
struct Pace {
    bytes_per_sec: u64,
    delay_ms: u64,
    link: Option<Arc<Mutex<Instant>>>,
}

impl Shared {
    fn control(&self) -> std::sync::MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The fault for the next request to `path`: a targeted one first, then a queued one, else
    /// the standing one (drawn, when it is `Random`).
    fn next_fault(&self, path: &str) -> Fault {
        let mut c = self.control();
        if let Some(i) = c
            .targeted
            .iter()
            .position(|(prefix, _)| path.starts_with(prefix.as_str()))
        {
            return c.targeted.remove(i).1;
        }
        if let Some(f) = c.queued.pop_front() {
            return f;
        }
        match c.fault {
            Fault::Random { p, .. } => {
                if c.rng.next_f64() < p {
                    let i = c.rng.below(Fault::RANDOM_CHOICES.len() as u64) as usize;
                    Fault::RANDOM_CHOICES[i]
                } else {
                    Fault::None
                }
            }
            f => f,
        }
    }

    fn record(&self, e: Event) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(e);
    }
}

/// A running proxy on `127.0.0.1:<port>`; stops (with all its connections) when dropped.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Starts a pass-through proxy to `upstream` (which must be on loopback). Needs a Tokio
    /// runtime.
    pub async fn start(upstream: SocketAddr) -> Proxy {
        assert!(
            upstream.ip().is_loopback(),
            "the proxy only talks to loopback, not {upstream}"
        );
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy binds a loopback port");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            control: Mutex::new(Control {
                fault: Fault::None,
                queued: VecDeque::new(),
                targeted: Vec::new(),
                rng: Rng::new(0),
                upstream,
            }),
            counters: Counters::default(),
            events: Mutex::new(Vec::new()),
            started: Mutex::new(Vec::new()),
            tasks: Mutex::new(Vec::new()),
            link_up: Arc::new(Mutex::new(Instant::now())),
            link_down: Arc::new(Mutex::new(Instant::now())),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Proxy {
            addr,
            shared,
            accept,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, to use as a server address.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets the standing fault (and reseeds the RNG for [`Fault::Random`]).
    pub fn set_fault(&self, fault: Fault) {
        let mut c = self.shared.control();
        if let Fault::Random { seed, p } = fault {
            assert!(
                (0.0..=1.0).contains(&p),
                "Random fault probability {p} is not in [0, 1]"
            );
            c.rng = Rng::new(seed);
        }
        c.fault = fault;
    }

    pub fn fault(&self) -> Fault {
        self.shared.control().fault
    }

    /// Applies these faults to the next requests, one each, before the standing fault again.
    pub fn queue_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.shared.control().queued.extend(faults);
    }

    /// Applies `fault` to the next request whose path starts with `path_prefix` (e.g.
    /// `/v1/sync/push`), once; requests to other paths are not affected. Takes precedence over
    /// queued and standing faults.
    pub fn fault_next(&self, path_prefix: &str, fault: Fault) {
        self.shared
            .control()
            .targeted
            .push((path_prefix.to_string(), fault));
    }

    /// Points the proxy at another server address (e.g. after a restart on a new port).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        assert!(
            upstream.ip().is_loopback(),
            "the proxy only talks to loopback, not {upstream}"
        );
        self.shared.control().upstream = upstream;
    }

    pub fn stats(&self) -> Stats {
        let c = &self.shared.counters;
        Stats {
            connections: c.connections.load(Ordering::SeqCst),
            requests: c.requests.load(Ordering::SeqCst),
            forwarded: c.forwarded.load(Ordering::SeqCst),
            bytes_up: c.bytes_up.load(Ordering::SeqCst),
            bytes_down: c.bytes_down.load(Ordering::SeqCst),
        }
    }

    pub fn reset_stats(&self) {
        let c = &self.shared.counters;
        for a in [
            &c.connections,
            &c.requests,
            &c.forwarded,
            &c.bytes_up,
            &c.bytes_down,
        ] {
            a.store(0, Ordering::SeqCst);
        }
        self.shared
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.shared
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The path of every request read since start (or [`Proxy::reset_stats`]), in order, as
    /// soon as it is read: unlike [`Proxy::events`] it includes requests still in flight.
    pub fn started_paths(&self) -> Vec<String> {
        self.shared
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `METHOD /path up/down B` for every exchange since the last reset, for benchmark output.
    pub fn exchanges(&self) -> String {
        self.events()
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}/{} B",
                    e.method,
                    e.path.split('?').next().unwrap_or(""),
                    e.request_bytes,
                    e.response_bytes
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Every request seen since start (or [`Proxy::reset_stats`]), in order.
    pub fn events(&self) -> Vec<Event> {
        self.shared
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Cuts every open connection now (keep-alive ones included).
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

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.drop_connections();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut next_id = 0u64;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        shared.counters.connections.fetch_add(1, Ordering::SeqCst);
        next_id += 1;
        let standing = shared.control().fault;
        let queued_empty =
            shared.control().queued.is_empty() && shared.control().targeted.is_empty();
        if standing == Fault::Down && queued_empty {
            reset(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let task = tokio::spawn(connection(stream, shared.clone(), next_id));
        let mut tasks = shared.tasks.lock().unwrap_or_else(|e| e.into_inner());
        tasks.retain(|t| !t.is_finished());
        tasks.push(task.abort_handle());
    }
}

/// Closes with RST instead of FIN.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// A client or server connection with a read buffer holding bytes past the last message.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Add bytes read to this counter (client side only).
    count_reads: Option<Arc<Shared>>,
}

impl Conn {
    fn new(stream: TcpStream, count_reads: Option<Arc<Shared>>) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            count_reads,
        }
    }

    /// Reads more bytes into the buffer; Ok(0) at end of stream.
    async fn fill(&mut self) -> std::io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        if let Some(s) = &self.count_reads {
            s.counters.bytes_up.fetch_add(n as u64, Ordering::SeqCst);
        }
        Ok(n)
    }
}

/// One whole HTTP/1.1 message, as its raw bytes.
#[derive(Debug)]
struct Message {
    raw: Vec<u8>,
    head_len: usize,
    /// Request method or empty for responses.
    method: String,
    path: String,
    /// Response status, 0 for requests.
    status: u16,
    /// The sender asked to close the connection after this message.
    close: bool,
}

enum BodyLen {
    Fixed(usize),
    Chunked,
    UntilClose,
}

#[derive(Debug)]
enum ReadError {
    /// The peer closed before sending anything of a new message.
    Closed,
    Io,
    Malformed(String),
}

impl From<std::io::Error> for ReadError {
    fn from(_: std::io::Error) -> Self {
        ReadError::Io
    }
}

fn header<'a>(headers: &'a [httparse::Header<'a>], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .and_then(|h| std::str::from_utf8(h.value).ok())
}

fn has_token(value: Option<&str>, token: &str) -> bool {
    value.is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

/// Where a chunked body starting at `start` ends (index past its last CRLF), if all of it is
/// in `buf`.
fn chunked_end(buf: &[u8], start: usize) -> Result<Option<usize>, ReadError> {
    let mut i = start;
    loop {
        let Some(line_end) = find_crlf(buf, i) else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&buf[i..line_end])
            .map_err(|_| ReadError::Malformed("chunk size".into()))?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Malformed(format!("bad chunk size line {line:?}")))?;
        i = line_end + 2;
        if size == 0 {
            // Trailers, then an empty line.
            loop {
                let Some(end) = find_crlf(buf, i) else {
                    return Ok(None);
                };
                let empty = end == i;
                i = end + 2;
                if empty {
                    return Ok(Some(i));
                }
            }
        }
        if buf.len() < i + size + 2 {
            return Ok(None);
        }
        i += size + 2;
    }
}

fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|p| from + p)
}

/// Reads one request (`request_method` None) or the response to a request with that method.
async fn read_message(conn: &mut Conn, request_method: Option<&str>) -> Result<Message, ReadError> {
    // The head.
    let (head_len, method, path, status, close, body) = loop {
        let mut headers = [httparse::EMPTY_HEADER; 96];
        let parsed = if request_method.is_none() {
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&conn.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let version = req.version.unwrap_or(1);
                    let conn_hdr = header(req.headers, "connection");
                    let close = has_token(conn_hdr, "close")
                        || (version == 0 && !has_token(conn_hdr, "keep-alive"));
                    let body = if has_token(header(req.headers, "transfer-encoding"), "chunked") {
                        BodyLen::Chunked
                    } else if let Some(len) = header(req.headers, "content-length") {
                        BodyLen::Fixed(
                            len.trim()
                                .parse()
                                .map_err(|_| ReadError::Malformed("content-length".into()))?,
                        )
                    } else {
                        BodyLen::Fixed(0)
                    };
                    Some((
                        n,
                        req.method.unwrap_or("").to_string(),
                        req.path.unwrap_or("").to_string(),
                        0,
                        close,
                        body,
                    ))
                }
                Ok(httparse::Status::Partial) => None,
                Err(e) => return Err(ReadError::Malformed(format!("request head: {e}"))),
            }
        } else {
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&conn.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let status = resp.code.unwrap_or(0);
                    let version = resp.version.unwrap_or(1);
                    let conn_hdr = header(resp.headers, "connection");
                    let mut close = has_token(conn_hdr, "close")
                        || (version == 0 && !has_token(conn_hdr, "keep-alive"));
                    let body = if request_method == Some("HEAD")
                        || (100..200).contains(&status)
                        || status == 204
                        || status == 304
                    {
                        BodyLen::Fixed(0)
                    } else if has_token(header(resp.headers, "transfer-encoding"), "chunked") {
                        BodyLen::Chunked
                    } else if let Some(len) = header(resp.headers, "content-length") {
                        BodyLen::Fixed(
                            len.trim()
                                .parse()
                                .map_err(|_| ReadError::Malformed("content-length".into()))?,
                        )
                    } else {
                        close = true;
                        BodyLen::UntilClose
                    };
                    Some((n, String::new(), String::new(), status, close, body))
                }
                Ok(httparse::Status::Partial) => None,
                Err(e) => return Err(ReadError::Malformed(format!("response head: {e}"))),
            }
        };
        if let Some(p) = parsed {
            break p;
        }
        if conn.buf.len() > MAX_HEAD {
            return Err(ReadError::Malformed("message head too long".into()));
        }
        let was_empty = conn.buf.is_empty();
        if conn.fill().await? == 0 {
            return Err(if was_empty {
                ReadError::Closed
            } else {
                ReadError::Malformed("closed inside a message head".into())
            });
        }
    };
    // The body.
    let end = match body {
        BodyLen::Fixed(n) => {
            while conn.buf.len() < head_len + n {
                if conn.fill().await? == 0 {
                    return Err(ReadError::Malformed("closed inside a body".into()));
                }
            }
            head_len + n
        }
        BodyLen::Chunked => loop {
            if let Some(end) = chunked_end(&conn.buf, head_len)? {
                break end;
            }
            if conn.fill().await? == 0 {
                return Err(ReadError::Malformed("closed inside a chunked body".into()));
            }
        },
        BodyLen::UntilClose => {
            while conn.fill().await? > 0 {}
            conn.buf.len()
        }
    };
    let raw: Vec<u8> = conn.buf.drain(..end).collect();
    Ok(Message {
        raw,
        head_len,
        method,
        path,
        status,
        close,
    })
}

/// Writes `bytes`, at `throttle`'s pace when there is one: after the delay, each piece leaves
/// when the rate allows it, so the last byte leaves at `delay + len / rate`. Adds each piece
/// to `counted` just before writing it, so a reader of the counter never lags behind what the
/// peer has received.
async fn send(
    stream: &mut TcpStream,
    bytes: &[u8],
    throttle: Option<Pace>,
    counted: Option<&AtomicU64>,
) -> std::io::Result<()> {
    let count = |n: usize| {
        if let Some(c) = counted {
            c.fetch_add(n as u64, Ordering::SeqCst);
        }
    };
    match throttle {
        None => {
            count(bytes.len());
            stream.write_all(bytes).await?;
        }
        Some(pace) => {
            tokio::time::sleep(Duration::from_millis(pace.delay_ms)).await;
            let rate = pace.bytes_per_sec.max(1);
            let chunk = (rate / 50).max(1) as usize;
            let start = Instant::now();
            let mut sent = 0usize;
            for piece in bytes.chunks(chunk) {
                sent += piece.len();
                let airtime = Duration::from_secs_f64(piece.len() as f64 / rate as f64);
                let due = match &pace.link {
                    // The piece takes the link after whatever is already booked on it.
                    Some(link) => {
                        let mut free = link.lock().unwrap_or_else(|e| e.into_inner());
                        *free = (*free).max(Instant::now()) + airtime;
                        *free
                    }
                    None => start + Duration::from_secs_f64(sent as f64 / rate as f64),
                };
                tokio::time::sleep_until(due.into()).await;
                count(piece.len());
                stream.write_all(piece).await?;
                stream.flush().await?;
            }
        }
    }
    stream.flush().await
}

fn canned(status: u16, content_type: &str, body: &str) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Injected",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nRetry-After: 1\r\nCache-Control: no-store\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The page a hotel wifi shows instead of the internet.
pub const CAPTIVE_PORTAL_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Welcome to Hotel Wifi</title></head>\
<body><h1>Welcome!</h1><form method=\"post\" action=\"/login\">Room number <input name=\"room\"> \
Surname <input name=\"surname\"> <button>Connect</button></form></body></html>\n";

async fn connect_upstream(shared: &Shared) -> Option<Conn> {
    let upstream = shared.control().upstream;
    match tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(upstream)).await {
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Some(Conn::new(s, None))
        }
        _ => None,
    }
}

/// Forwards `request` and reads the answer; reconnects once when a reused keep-alive
/// connection turns out to have been closed by the server before answering anything.
async fn exchange(
    upstream: &mut Option<(Conn, bool)>,
    shared: &Shared,
    request: &Message,
    throttle: Option<Pace>,
) -> Option<Message> {
    for _attempt in 0..2 {
        if upstream.is_none() {
            *upstream = Some((connect_upstream(shared).await?, false));
        }
        let (conn, reused) = upstream.as_mut().expect("upstream is connected");
        let reused = *reused;
        let up = throttle.clone().map(|p| Pace {
            link: p.link.map(|_| shared.link_up.clone()),
            ..p
        });
        if send(&mut conn.stream, &request.raw, up, None)
            .await
            .is_err()
        {
            *upstream = None;
            if reused {
                continue;
            }
            return None;
        }
        match tokio::time::timeout(UPSTREAM_TIMEOUT, read_message(conn, Some(&request.method)))
            .await
        {
            Ok(Ok(resp)) => {
                if let Some((_, r)) = upstream.as_mut() {
                    *r = true;
                }
                return Some(resp);
            }
            Ok(Err(ReadError::Closed)) if reused => {
                *upstream = None;
                continue;
            }
            _ => {
                *upstream = None;
                return None;
            }
        }
    }
    None
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, id: u64) {
    let accepted = Instant::now();
    let mut client = Conn::new(stream, Some(shared.clone()));
    // The server connection and whether it has already carried an exchange.
    let mut upstream: Option<(Conn, bool)> = None;
    let mut first = true;
    loop {
        let request = match read_message(&mut client, None).await {
            Ok(m) => m,
            Err(ReadError::Malformed(why)) => {
                eprintln!("test proxy: dropping connection {id}: malformed request: {why}");
                return;
            }
            Err(ReadError::Closed | ReadError::Io) => return,
        };
        shared
            .started
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(request.path.clone());
        shared.counters.requests.fetch_add(1, Ordering::SeqCst);
        let fault = shared.next_fault(&request.path);
        let mut event = Event {
            connection: id,
            method: request.method.clone(),
            path: request.path.clone(),
            fault,
            forwarded: false,
            upstream_status: None,
            request_bytes: request.raw.len(),
            response_bytes: 0,
        };
        let canned_reply = match fault {
            Fault::Down => {
                shared.record(event);
                reset(client.stream);
                return;
            }
            Fault::Status(code) => Some(canned(
                code,
                "text/plain; charset=utf-8",
                "injected by the test proxy\n",
            )),
            Fault::CaptivePortal => {
                Some(canned(200, "text/html; charset=utf-8", CAPTIVE_PORTAL_PAGE))
            }
            _ => None,
        };
        if let Some(bytes) = canned_reply {
            event.response_bytes = bytes.len();
            shared.record(event);
            if send(
                &mut client.stream,
                &bytes,
                None,
                Some(&shared.counters.bytes_down),
            )
            .await
            .is_err()
            {
                return;
            }
            if request.close {
                return;
            }
            continue;
        }
        let throttle = match fault {
            Fault::Throttle {
                bytes_per_sec,
                delay_ms,
            } => Some(Pace {
                bytes_per_sec,
                delay_ms,
                link: None,
            }),
            Fault::SharedLink {
                bytes_per_sec,
                delay_ms,
            } => Some(Pace {
                bytes_per_sec,
                delay_ms,
                link: Some(shared.link_down.clone()),
            }),
            _ => None,
        };
        if let (Some(Pace { delay_ms, .. }), true) = (&throttle, first) {
            // TCP's handshake: on the slow link the request could not have left before one
            // round trip after the client connected.
            let established = accepted + Duration::from_millis(2 * *delay_ms);
            tokio::time::sleep_until(established.into()).await;
        }
        first = false;
        shared.counters.forwarded.fetch_add(1, Ordering::SeqCst);
        event.forwarded = true;
        let Some(response) = exchange(&mut upstream, &shared, &request, throttle.clone()).await
        else {
            // The server is unreachable or broke off: so is the link, for the client.
            shared.record(event);
            reset(client.stream);
            return;
        };
        event.upstream_status = Some(response.status);
        let to_send: &[u8] = match fault {
            Fault::LoseResponse => &[],
            Fault::ResetMidResponse => &response.raw[..response.raw.len() / 2],
            Fault::TruncateBody => {
                let body_len = response.raw.len() - response.head_len;
                &response.raw[..response.head_len + body_len / 2]
            }
            _ => &response.raw,
        };
        event.response_bytes = to_send.len();
        shared.record(event);
        if fault == Fault::LoseResponse {
            drop(client);
            return;
        }
        if send(
            &mut client.stream,
            to_send,
            throttle,
            Some(&shared.counters.bytes_down),
        )
        .await
        .is_err()
        {
            return;
        }
        match fault {
            Fault::ResetMidResponse => {
                reset(client.stream);
                return;
            }
            Fault::TruncateBody => {
                let _ = client.stream.shutdown().await;
                return;
            }
            _ => {}
        }
        if request.close || response.close {
            let _ = client.stream.shutdown().await;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::{get, post};
    use std::sync::atomic::AtomicUsize;

    const T: Duration = Duration::from_secs(10);

    struct Upstream {
        addr: SocketAddr,
        hits: Arc<AtomicUsize>,
        _task: JoinHandle<()>,
    }

    impl Drop for Upstream {
        fn drop(&mut self) {
            self._task.abort();
        }
    }

    /// A tiny server: `/echo` answers the body it got, `/big` 100 000 bytes with a length,
    /// `/stream` a chunked body; each counts its hits.
    async fn upstream() -> Upstream {
        let hits = Arc::new(AtomicUsize::new(0));
        let (h1, h2, h3) = (hits.clone(), hits.clone(), hits.clone());
        let app = Router::new()
            .route(
                "/echo",
                post(move |body: String| async move {
                    h1.fetch_add(1, Ordering::SeqCst);
                    body
                }),
            )
            .route(
                "/big",
                get(move || async move {
                    h2.fetch_add(1, Ordering::SeqCst);
                    "x".repeat(100_000)
                }),
            )
            .route(
                "/stream",
                get(move || async move {
                    h3.fetch_add(1, Ordering::SeqCst);
                    let parts: Vec<Result<String, std::io::Error>> =
                        (0..50).map(|i| Ok(format!("part {i};"))).collect();
                    Body::from_stream(futures_util::stream::iter(parts))
                }),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Upstream {
            addr,
            hits,
            _task: task,
        }
    }

    fn client() -> reqwest::Client {
        reqwest::Client::builder().timeout(T).build().unwrap()
    }

    #[tokio::test]
    async fn passes_through_keep_alive_and_counts_bytes() {
        let up = upstream().await;
        let proxy = Proxy::start(up.addr).await;
        let c = client();
        for i in 0..5 {
            let body = format!("hello {i}");
            let r = c
                .post(format!("{}/echo", proxy.url()))
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.text().await.unwrap(), body);
        }
        let big = c
            .get(format!("{}/big", proxy.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(big.len(), 100_000);
        let streamed = c
            .get(format!("{}/stream", proxy.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            streamed.starts_with("part 0;") && streamed.ends_with("part 49;"),
            "{streamed}"
        );
        let s = proxy.stats();
        assert_eq!(s.requests, 7);
        assert_eq!(s.forwarded, 7);
        assert_eq!(
            s.connections, 1,
            "reqwest reuses one keep-alive connection: {s:?}"
        );
        assert!(s.bytes_down > 100_000 && s.bytes_up > 5 * 40, "{s:?}");
        assert_eq!(up.hits.load(Ordering::SeqCst), 7);
    }

    #[tokio::test]
    async fn lose_response_reaches_the_server_but_not_the_client() {
        let up = upstream().await;
        let proxy = Proxy::start(up.addr).await;
        proxy.set_fault(Fault::LoseResponse);
        let err = client()
            .post(format!("{}/echo", proxy.url()))
            .body("commit me")
            .send()
            .await;
        assert!(err.is_err(), "the client must not get an answer: {err:?}");
        assert_eq!(
            up.hits.load(Ordering::SeqCst),
            1,
            "the server handled the request"
        );
        let ev = proxy.events();
        assert_eq!(ev.len(), 1);
        assert!(
            ev[0].forwarded && ev[0].upstream_status == Some(200),
            "{ev:?}"
        );
        proxy.set_fault(Fault::None);
        let ok = client()
            .post(format!("{}/echo", proxy.url()))
            .body("again")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.text().await.unwrap(), "again");
    }

    #[tokio::test]
    async fn reset_and_truncation_break_the_body() {
        let up = upstream().await;
        let proxy = Proxy::start(up.addr).await;
        for fault in [Fault::ResetMidResponse, Fault::TruncateBody] {
            proxy.set_fault(fault);
            let result = async {
                client()
                    .get(format!("{}/big", proxy.url()))
                    .send()
                    .await?
                    .bytes()
                    .await
            }
            .await;
            assert!(
                result.is_err(),
                "{fault:?} must break the body, got {} bytes",
                result.map(|b| b.len()).unwrap_or(0)
            );
        }
        assert_eq!(up.hits.load(Ordering::SeqCst), 2);
        // A truncated body sends the head: the client sees the status, then the body fails.
        proxy.set_fault(Fault::TruncateBody);
        let r = client()
            .get(format!("{}/big", proxy.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.is_err());
    }

    #[tokio::test]
    async fn canned_answers_never_reach_the_server() {
        let up = upstream().await;
        let proxy = Proxy::start(up.addr).await;
        for code in [500u16, 429] {
            proxy.set_fault(Fault::Status(code));
            let r = client()
                .post(format!("{}/echo", proxy.url()))
                .body("x")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), code);
            assert_eq!(r.headers()["retry-after"], "1");
        }
        proxy.set_fault(Fault::CaptivePortal);
        let r = client()
            .get(format!("{}/big", proxy.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(r.text().await.unwrap().contains("<html>"));
        proxy.set_fault(Fault::Down);
        let down = client().get(format!("{}/big", proxy.url())).send().await;
        assert!(down.is_err(), "{down:?}");
        assert_eq!(
            up.hits.load(Ordering::SeqCst),
            0,
            "no request may reach the server"
        );
        assert_eq!(proxy.stats().forwarded, 0);
    }

    #[tokio::test]
    async fn queued_faults_apply_once_then_the_standing_fault() {
        let up = upstream().await;
        let proxy = Proxy::start(up.addr).await;
        proxy.queue_faults([Fault::Status(503), Fault::CaptivePortal]);
        let c = client();
        let codes: Vec<u16> = statuses(&c, &proxy.url(), 3).await;
        assert_eq!(codes, vec![503, 200, 200]);
        assert_eq!(up.hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_targeted_fault_waits_for_its_path() {
        let up = upstream().await;
        let proxy = Proxy::start(up.addr).await;
        proxy.queue_faults([Fault::Status(502)]);
        proxy.fault_next("/big", Fault::Status(503));
        let c = client();
        let codes = statuses(&c, &proxy.url(), 2).await;
        assert_eq!(
            codes,
            vec![502, 200],
            "the targeted fault leaves /echo alone"
        );
        let big = c.get(format!("{}/big", proxy.url())).send().await.unwrap();
        assert_eq!(big.status().as_u16(), 503);
        let big = c.get(format!("{}/big", proxy.url())).send().await.unwrap();
        assert_eq!(big.status().as_u16(), 200, "a targeted fault applies once");
    }

    async fn statuses(c: &reqwest::Client, base: &str, n: usize) -> Vec<u16> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(
                c.post(format!("{base}/echo"))
                    .body("q")
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16(),
            );
        }
        out
    }

    #[tokio::test]
    async fn throttle_paces_both_directions() {
        let up = upstream().await;
        let proxy = Proxy::start(up.addr).await;
        proxy.set_fault(Fault::Throttle {
            bytes_per_sec: 100_000,
            delay_ms: 100,
        });
        let started = Instant::now();
        let body = client()
            .get(format!("{}/big", proxy.url()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(body.len(), 100_000);
        // 2 × 100 ms delay + ~1 s for 100 kB at 100 kB/s.
        assert!(
            took >= Duration::from_millis(1150),
            "too fast for the throttle: {took:?}"
        );
        assert!(took < Duration::from_secs(5), "far too slow: {took:?}");
    }

    /// Two downloads at once over a shared link take as long as both in a row: they split it.
    /// (Over per-exchange throttles they would each get the whole rate and end in half.)
    #[tokio::test]
    async fn a_shared_link_splits_its_rate_between_exchanges() {
        let up = upstream().await;
        let proxy = Proxy::start(up.addr).await;
        proxy.set_fault(Fault::SharedLink {
            bytes_per_sec: 200_000,
            delay_ms: 10,
        });
        let started = Instant::now();
        let fetch = || async {
            client()
                .get(format!("{}/big", proxy.url()))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .len()
        };
        let (a, b) = tokio::join!(fetch(), fetch());
        let took = started.elapsed();
        assert_eq!((a, b), (100_000, 100_000));
        // 200 kB at 200 kB/s: 1 s, whichever way the two interleave.
        assert!(
            took >= Duration::from_millis(980),
            "the two got more than the link: {took:?}"
        );
        assert!(took < Duration::from_secs(4), "far too slow: {took:?}");
    }

    /// A new connection pays TCP's handshake (one round trip) before its first request; the
    /// next request on the same keep-alive connection does not.
    #[tokio::test]
    async fn throttle_charges_the_tcp_handshake_once_per_connection() {
        let up = upstream().await;
        let proxy = Proxy::start(up.addr).await;
        proxy.set_fault(Fault::Throttle {
            bytes_per_sec: 1_000_000,
            delay_ms: 150,
        });
        let c = client();
        let timed = || async {
            let started = Instant::now();
            let r = c
                .post(format!("{}/echo", proxy.url()))
                .body("x")
                .send()
                .await
                .unwrap();
            assert_eq!(r.text().await.unwrap(), "x");
            started.elapsed()
        };
        let cold = timed().await;
        let warm = timed().await;
        assert_eq!(proxy.stats().connections, 1);
        // Cold: 2 round trips (handshake, exchange) = 600 ms; warm: one = 300 ms.
        assert!(cold >= Duration::from_millis(600), "cold {cold:?}");
        assert!(
            warm >= Duration::from_millis(300) && warm < Duration::from_millis(550),
            "warm {warm:?}"
        );
    }

    #[tokio::test]
    async fn random_faults_are_reproducible_from_the_seed() {
        let draw = |seed| {
            let shared = Shared {
                control: Mutex::new(Control {
                    fault: Fault::Random { seed, p: 0.5 },
                    queued: VecDeque::new(),
                    targeted: Vec::new(),
                    rng: Rng::new(seed),
                    upstream: "127.0.0.1:9".parse().unwrap(),
                }),
                counters: Counters::default(),
                events: Mutex::new(Vec::new()),
                started: Mutex::new(Vec::new()),
                tasks: Mutex::new(Vec::new()),
                link_up: Arc::new(Mutex::new(Instant::now())),
                link_down: Arc::new(Mutex::new(Instant::now())),
            };
            (0..200).map(|_| shared.next_fault("/")).collect::<Vec<_>>()
        };
        let a = draw(7);
        assert_eq!(a, draw(7));
        assert_ne!(a, draw(8));
        let faulty = a.iter().filter(|f| **f != Fault::None).count();
        assert!(
            (60..140).contains(&faulty),
            "p = 0.5 gave {faulty} faults in 200"
        );
        for f in Fault::RANDOM_CHOICES {
            assert!(a.contains(&f), "{f:?} never drawn in 200");
        }
    }

    #[tokio::test]
    async fn unreachable_server_looks_like_a_dead_link() {
        let port = crate::free_port();
        let proxy = Proxy::start(SocketAddr::from(([127, 0, 0, 1], port))).await;
        let r = client().get(format!("{}/big", proxy.url())).send().await;
        assert!(r.is_err(), "{r:?}");
    }
}
