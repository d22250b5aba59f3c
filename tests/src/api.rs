//! A raw protocol client for black-box tests of the server: plain reqwest, every answer kept
//! whole (status, headers, body) so tests can judge what the server really said, plus
//! builders for operations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::Value;
use stopover_protocol::{
    Change, EntityRef, ErrorBody, Operation, PullResponse, PushRequest, PushResponse,
};

use crate::proxy::Rng;

/// Timeout of every request an [`Api`] makes.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A whole HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as `T`, or why not.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_slice(&self.body).map_err(|e| format!("{e} in {}", self.describe()))
    }

    /// The body as the protocol's error body, when it is one.
    pub fn error_body(&self) -> Option<ErrorBody> {
        serde_json::from_slice(&self.body).ok()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Retry-After` in seconds, when present and numeric.
    pub fn retry_after(&self) -> Option<u64> {
        self.header("retry-after")
            .and_then(|v| v.trim().parse().ok())
    }

    /// `STATUS content-type body` (body cut at 300 characters), for assertion messages.
    pub fn describe(&self) -> String {
        let mut text = self.text();
        if text.len() > 300 {
            let mut cut = 300;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        format!(
            "{} [{}] {}",
            self.status,
            self.header("content-type").unwrap_or("no content-type"),
            text
        )
    }
}

/// The body of a raw request.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    /// Serialized as JSON with `Content-Type: application/json`.
    Json(Value),
    /// These bytes, with these extra headers (content type, encoding…) given separately.
    Raw(Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    client: reqwest::Client,
}

impl Api {
    pub fn new(base: &str) -> Api {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("HTTP client");
        Api {
            base: base.trim_end_matches('/').to_string(),
            token: None,
            client,
        }
    }

    /// Like [`Api::new`], with connections made from `local`, a loopback address such as
    /// 127.0.0.2: the server sees another client address (all of 127.0.0.0/8 is this machine).
    pub fn new_from(base: &str, local: std::net::IpAddr) -> Api {
        assert!(local.is_loopback(), "{local} is not a loopback address");
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .local_address(local)
            .build()
            .expect("HTTP client");
        Api {
            base: base.trim_end_matches('/').to_string(),
            token: None,
            client,
        }
    }

    /// The same server, as the holder of this device token.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    /// The same identity, with a fresh connection pool (a new "device").
    pub fn fresh(&self) -> Api {
        Api {
            token: self.token.clone(),
            ..Api::new(&self.base)
        }
    }

    /// Any request; `Err` only when no whole answer came back (connection or timeout).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Body,
        headers: &[(&str, &str)],
    ) -> Result<Reply, reqwest::Error> {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&v).unwrap()),
            Body::Raw(bytes) => req.body(bytes),
        };
        for (k, v) in headers {
            req = req.header(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?.to_vec();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    pub async fn get(&self, path: &str) -> Result<Reply, reqwest::Error> {
        self.request(Method::GET, path, Body::None, &[]).await
    }

    pub async fn post_json(&self, path: &str, json: &Value) -> Result<Reply, reqwest::Error> {
        self.request(Method::POST, path, Body::Json(json.clone()), &[])
            .await
    }

    pub async fn delete(&self, path: &str) -> Result<Reply, reqwest::Error> {
        self.request(Method::DELETE, path, Body::None, &[]).await
    }

    /// `POST /v1/sync/push` with these operations, uncompressed.
    pub async fn push_raw(&self, ops: &[Operation]) -> Result<Reply, reqwest::Error> {
        let body = serde_json::to_value(PushRequest {
            ops: ops.to_vec(),
            pull: None,
        })
        .unwrap();
        self.post_json("/v1/sync/push", &body).await
    }

    /// Pushes and insists on a 200 with one result per operation, in order.
    pub async fn push(&self, ops: &[Operation]) -> Result<PushResponse, String> {
        let reply = self
            .push_raw(ops)
            .await
            .map_err(|e| format!("push failed: {e}"))?;
        if reply.status != 200 {
            return Err(format!("push answered {}", reply.describe()));
        }
        let resp: PushResponse = reply.json()?;
        if resp.results.len() != ops.len()
            || resp.results.iter().zip(ops).any(|(r, o)| r.id != o.id)
        {
            return Err(format!(
                "push results do not match the operations one for one, in order: {}",
                reply.describe()
            ));
        }
        Ok(resp)
    }

    /// One page of `GET /v1/sync/pull`.
    pub async fn pull_page(&self, cursor: u64, limit: u32) -> Result<PullResponse, String> {
        let reply = self
            .get(&format!("/v1/sync/pull?cursor={cursor}&limit={limit}"))
            .await
            .map_err(|e| format!("pull failed: {e}"))?;
        if reply.status != 200 {
            return Err(format!("pull answered {}", reply.describe()));
        }
        reply.json()
    }

    /// Every change after `cursor` except those the server publishes in its own name (see
    /// [`is_server_published`]), following `more`; returns them and the last cursor. What a
    /// test pushed is all there is, so tests can count it.
    pub async fn pull_all(&self, cursor: u64) -> Result<(Vec<Change>, u64), String> {
        let (mut all, cursor) = self.pull_everything(cursor).await?;
        all.retain(|c| !is_server_published(c));
        Ok((all, cursor))
    }

    /// Every change after `cursor`, following `more` (at most 1000 pages); returns them and
    /// the last cursor.
    pub async fn pull_everything(&self, cursor: u64) -> Result<(Vec<Change>, u64), String> {
        let mut cursor = cursor;
        let mut all = Vec::new();
        for _ in 0..1000 {
            let page = self
                .pull_page(cursor, stopover_protocol::MAX_PULL_LIMIT)
                .await?;
            if page.more && page.changes.is_empty() {
                return Err(format!(
                    "pull said more=true with an empty page at cursor {cursor}"
                ));
            }
            all.extend(page.changes);
            cursor = page.cursor;
            if !page.more {
                return Ok((all, cursor));
            }
        }
        Err("pull did not finish within 1000 pages".into())
    }
}

/// Records every feed holds from the server's first start, written by the server itself:
/// forum categories, training events and directory cards (one per approved account, so
/// `user add` makes one). A post's `meta` is not among them: it follows a pushed post.
pub fn is_server_published(c: &Change) -> bool {
    matches!(
        (c.entity.kind.as_str(), c.field.as_str()),
        ("forum_category", "info") | ("event", "info") | ("profile", "account")
    )
}

static OP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh UUIDv7 (time-ordered, random tail), as clients make operation ids.
pub fn new_op_id() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let n = OP_COUNTER.fetch_add(1, Ordering::SeqCst);
    let mut rng = Rng::new(ms ^ (n << 20) ^ (u64::from(std::process::id()) << 44));
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
        (ms >> 16) & 0xffff_ffff,
        ms & 0xffff,
        a & 0xfff,
        0x8000 | ((a >> 12) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// A `checklist_progress` operation on `<checklist>/<step>` made against `base_version`.
pub fn op(entity_id: &str, field: &str, value: Value, base_version: u64) -> Operation {
    Operation {
        id: new_op_id(),
        entity: EntityRef {
            kind: "checklist_progress".into(),
            id: entity_id.into(),
        },
        field: field.into(),
        base_version,
        value,
    }
}

/// `n` valid operations on distinct new entities `<list>/step-<i>` (field `done`, version 0).
pub fn fresh_ops(list: &str, n: usize) -> Vec<Operation> {
    (0..n)
        .map(|i| {
            op(
                &format!("{list}/step-{i}"),
                "done",
                Value::Bool(i % 2 == 0),
                0,
            )
        })
        .collect()
}

/// Gzip (for `Content-Encoding: gzip` bodies).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Sends these exact bytes to `addr` (a whole HTTP/1.1 request, best with
/// `Connection: close`) while reading the answer, so a server that answers early (413 before
/// the body is all sent) is still heard. Reads one response (by `Content-Length`, else to
/// the end of the stream) within 30 s.
pub async fn raw_request(addr: std::net::SocketAddr, bytes: Vec<u8>) -> Result<Reply, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    assert!(
        addr.ip().is_loopback(),
        "raw requests go to loopback only, not {addr}"
    );
    let stream = tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("connect: {e}"))?;
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        for piece in bytes.chunks(64 * 1024) {
            if wr.write_all(piece).await.is_err() {
                return;
            }
        }
        let _ = wr.flush().await;
        // Keep the write half open: shutting it could end the exchange early.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(wr);
    });
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut resp = httparse::Response::new(&mut headers);
            if let Ok(httparse::Status::Complete(head_len)) = resp.parse(&buf) {
                let len = resp
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| {
                        std::str::from_utf8(h.value)
                            .ok()?
                            .trim()
                            .parse::<usize>()
                            .ok()
                    });
                if len.is_some_and(|len| buf.len() >= head_len + len) {
                    return Ok::<_, String>(buf);
                }
            }
            match rd.read(&mut chunk).await {
                Ok(0) => return Ok(buf),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if !buf.is_empty() => {
                    let _ = e;
                    return Ok(buf);
                }
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    };
    let buf = tokio::time::timeout(REQUEST_TIMEOUT, read)
        .await
        .map_err(|_| "no answer within 30 s".to_string())??;
    writer.abort();
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(&buf) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => {
            return Err(format!(
                "no HTTP answer, got {} bytes: {:?}",
                buf.len(),
                String::from_utf8_lossy(&buf[..buf.len().min(200)])
            ));
        }
    };
    let mut map = HeaderMap::new();
    for h in resp.headers.iter() {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_bytes(h.value),
        ) {
            map.append(n, v);
        }
    }
    let mut body = buf[head_len..].to_vec();
    if let Some(len) = map
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    Ok(Reply {
        status: resp.code.unwrap_or(0),
        headers: map,
        body,
    })
}

/// Runs `fut`, failing the test with `what` when it takes longer than `limit`.
pub async fn within<T>(
    limit: Duration,
    what: &str,
    fut: impl std::future::Future<Output = T>,
) -> T {
    tokio::time::timeout(limit, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out after {limit:?}: {what}"))
}

/// Asks `probe` every 200 ms until it answers `Some`, failing the test with `what` after
/// `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_ids_are_valid_distinct_uuid_v7() {
        let ids: Vec<String> = (0..1000).map(|_| new_op_id()).collect();
        let unique: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        for id in &ids {
            assert_eq!(id.len(), 36, "{id}");
            assert_eq!(&id[14..15], "7", "{id}");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
            let o = op("a/b", "done", Value::Bool(true), 0);
            assert!(
                stopover_protocol::validate_operation(&Operation {
                    id: id.clone(),
                    ..o
                })
                .is_ok()
            );
        }
    }
}
