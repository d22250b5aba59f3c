//! [`SyncClient`]: the HTTP side of sync, async (reqwest over rustls).
//!
//! Only a protocol-valid answer counts as success. A captive portal's `200` with an HTML page,
//! a redirect, a truncated body, a push answer that does not match the operations sent: each
//! is an error, and the caller changes nothing in the outbox.

use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, DATE, HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use stopover_protocol::{
    ErrorBody, Health, Operation, PROTOCOL_HEADER, PROTOCOL_VERSION, PullRequest, PullResponse,
    PushRequest, PushResponse, SignInRequest, SignInResponse, is_versioned,
};

use super::outbox::check_push_response;
use crate::ErrorCode;
use crate::clock::ServerClock;
use crate::{Error, Result};

/// Longest time to open a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time for a whole request, answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest Retry-After honoured; a larger one is taken as this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Bytes moved by one request: the request body as sent (compressed), and the answer's body
/// as received after decompression.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transfer {
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// Checks and normalises a server address: `https://…` anywhere, `http://…` only to this
/// computer (127.0.0.0/8, ::1, `localhost`). Returns it without a trailing slash, without
/// query or fragment, e.g. `https://ecommunity.example.org` or `http://127.0.0.1:8080/base`.
pub fn normalize_server_url(server_url: &str) -> Result<String> {
    let trimmed = server_url.trim();
    let mut url = Url::parse(trimmed)
        .map_err(|e| Error::invalid(ErrorCode::ServerUrlInvalid, format!("`{trimmed}` is not a server address ({e}); expected e.g. https://ecommunity.example.org")).with("address", trimmed))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            Error::invalid(
                ErrorCode::ServerUrlInvalid,
                format!(
                    "`{trimmed}` has no host name; expected e.g. https://ecommunity.example.org"
                ),
            )
            .with("address", trimmed)
        })?
        .to_string();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&host) => {}
        "http" => return Err(Error::InsecureUrl { host }),
        other => {
            return Err(Error::invalid(ErrorCode::ServerUrlScheme, format!(
                "`{other}:` addresses are not supported; use https:// (e.g. https://ecommunity.example.org)"
            )).with("scheme", other));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            ErrorCode::ServerUrlCredentials,
            "a server address must not contain a user name or password",
        ));
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// This computer: `localhost`, 127.0.0.0/8, `[::1]` (and ::ffff:127.x.y.z).
fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host.eq_ignore_ascii_case("localhost.") {
        return true;
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse::<IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// The client for one e-community server. Cheap to clone (the connection pool is shared).
///
/// Keep one per server for as long as the app runs and use it for every round: its pool keeps
/// the connection open between requests (HTTP/2 when the server offers it through ALPN,
/// else HTTP/1.1 keep-alive), and its TLS session cache lets a new connection resume the
/// previous session (TLS 1.3 tickets: no certificate chain sent again). A new client per
/// round pays TCP and a full TLS handshake each time: two more round trips and ~1 KB.
#[derive(Debug, Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    /// Normalised address, no trailing slash.
    server_url: String,
    /// The same with a trailing slash, for joining paths.
    base: Url,
    /// Told the server's `Date` of every protocol-valid answer ([`SyncClient::observed_by`]).
    server_clock: Option<std::sync::Arc<ServerClock>>,
}

impl SyncClient {
    /// A client for `server_url`, checked by [`normalize_server_url`] (plain http only to
    /// loopback). Timeouts: [`CONNECT_TIMEOUT`], [`REQUEST_TIMEOUT`]. Redirects are not
    /// followed: a server never sends one, a captive portal does.
    pub fn new(server_url: &str) -> Result<SyncClient> {
        Self::build(server_url, None)
    }

    /// A client that also trusts the certificate authority `ca_pem` (PEM), besides the
    /// built-in roots. For tests against a server with a test certificate on loopback; the
    /// app never calls it, so what it trusts stays the built-in roots.
    pub fn with_extra_root(server_url: &str, ca_pem: &[u8]) -> Result<SyncClient> {
        let ca = reqwest::Certificate::from_pem(ca_pem).map_err(|e| {
            Error::invalid(
                ErrorCode::ServerUrlInvalid,
                format!("not a PEM certificate: {e}"),
            )
        })?;
        Self::build(server_url, Some(ca))
    }

    fn build(server_url: &str, extra_root: Option<reqwest::Certificate>) -> Result<SyncClient> {
        Self::build_normalized(normalize_server_url(server_url)?, extra_root)
    }

    /// A client for a workshop relay at `relay_url`, checked by
    /// [`normalize_relay_url`](super::relay::normalize_relay_url) (plain http on a LAN). It is
    /// never given the device token: what goes to a relay is signed, not secret.
    pub(crate) fn for_relay(relay_url: &str) -> Result<SyncClient> {
        Self::build_normalized(super::relay::normalize_relay_url(relay_url)?, None)
    }

    fn build_normalized(
        server_url: String,
        extra_root: Option<reqwest::Certificate>,
    ) -> Result<SyncClient> {
        let base = Url::parse(&format!("{server_url}/")).map_err(Error::internal)?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("stopover/", env!("CARGO_PKG_VERSION")))
            .gzip(true)
            .zstd(true);
        if let Some(ca) = extra_root {
            builder = builder.add_root_certificate(ca);
        }
        let http = builder
            .build()
            .map_err(|e| Error::Network(format!("cannot set up the HTTP client: {e}")))?;
        Ok(SyncClient {
            http,
            server_url,
            base,
            server_clock: None,
        })
    }

    /// This client, telling `clock` the server's time (its `Date` header) at every answer
    /// that is valid in the protocol: the laptop then knows how far its own clock is off.
    pub fn observed_by(mut self, clock: std::sync::Arc<ServerClock>) -> SyncClient {
        self.server_clock = Some(clock);
        self
    }

    /// Records the server's `Date` of a protocol-valid answer.
    fn observe_date(&self, headers: &HeaderMap) {
        let Some(clock) = &self.server_clock else {
            return;
        };
        if let Some(date) = headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
        {
            clock.observe(date);
        }
    }

    /// The normalised server address.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    pub(crate) fn url(&self, path: &str) -> Url {
        self.base
            .join(path)
            .expect("static API paths join onto a valid base")
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.request_url(method, self.url(path))
    }

    /// A request to `url` (which callers take from [`SyncClient::url`] or check to be under
    /// [`SyncClient::server_url`]: the token must never go to another host).
    pub(crate) fn request_url(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
    }

    /// `GET /v1/health`. Succeeds only when the answer is a [`Health`] from a server speaking
    /// our protocol; anything else (an HTML login page, another service) is
    /// [`Error::NotOurServer`].
    ///
    /// Sync rounds do not call it (their answers carry `protocol`, which a captive portal
    /// cannot produce); [`sign_in`](super::sign_in) does, so a password never goes to an
    /// address that is not an e-community server.
    pub async fn health(&self) -> Result<Health> {
        let response = self
            .request(reqwest::Method::GET, "v1/health")
            .send()
            .await
            .map_err(network_error)?;
        let (health, _): (Health, _) = self.read_json(response, "a health answer").await?;
        if !health.is_compatible() {
            return Err(Error::NotOurServer {
                url: self.server_url.clone(),
                reason: format!(
                    "it is `{}` speaking protocol {}, this Stopover speaks `{}` protocol {}; one of them needs updating",
                    health.service,
                    health.protocol,
                    stopover_protocol::SERVICE_NAME,
                    PROTOCOL_VERSION
                ),
            });
        }
        Ok(health)
    }

    /// `POST /v1/sessions`: exchanges user name and password for a device token.
    pub async fn sign_in(&self, request: &SignInRequest) -> Result<SignInResponse> {
        let response = self
            .request(reqwest::Method::POST, "v1/sessions")
            .json(request)
            .send()
            .await
            .map_err(network_error)?;
        Ok(self.read_json(response, "a sign-in answer").await?.0)
    }

    /// `POST /v1/me/password`: changes the password of the token's account; the server signs
    /// the account's other devices out.
    pub async fn change_password(
        &self,
        token: &str,
        current_password: &str,
        new_password: &str,
    ) -> Result<()> {
        let response = self
            .request(reqwest::Method::POST, "v1/me/password")
            .bearer_auth(token)
            .json(&stopover_protocol::ChangePassword {
                current_password: current_password.to_string(),
                new_password: new_password.to_string(),
            })
            .send()
            .await
            .map_err(network_error)?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(self.error_from(response).await)
    }

    /// `DELETE /v1/sessions/current`: revokes this device token on the server. A token the
    /// server no longer knows counts as signed out.
    pub async fn sign_out(&self, token: &str) -> Result<()> {
        let response = self
            .request(reqwest::Method::DELETE, "v1/sessions/current")
            .bearer_auth(token)
            .send()
            .await
            .map_err(network_error)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        match self.error_from(response).await {
            Error::SignInRequired(_) => Ok(()),
            e => Err(e),
        }
    }

    /// `POST /v1/sync/push` with the body gzip-compressed. The answer must be a
    /// [`PushResponse`] with exactly one result per operation sent.
    pub async fn push(&self, token: &str, ops: &[Operation]) -> Result<(PushResponse, Transfer)> {
        self.push_and_pull(token, ops, None).await
    }

    /// [`SyncClient::push`] that also asks for the page of changes after `pull.cursor`, in
    /// the same exchange. When asked, the answer must carry the page (checked as
    /// [`SyncClient::pull`] checks one).
    pub async fn push_and_pull(
        &self,
        token: &str,
        ops: &[Operation],
        pull: Option<PullRequest>,
    ) -> Result<(PushResponse, Transfer)> {
        let json = serde_json::to_vec(&PushRequest {
            ops: ops.to_vec(),
            pull,
        })
        .map_err(Error::internal)?;
        let body = gzip(&json)?;
        let bytes_sent = body.len() as u64;
        let response = self
            .request(reqwest::Method::POST, "v1/sync/push")
            .bearer_auth(token)
            .header(CONTENT_TYPE, "application/json")
            .header(CONTENT_ENCODING, "gzip")
            .body(body)
            .send()
            .await
            .map_err(network_error)?;
        let (answer, bytes_received): (PushResponse, _) =
            self.read_json(response, "a push answer").await?;
        self.check_versioned(answer.protocol, "a push answer")?;
        check_push_response(ops, &answer)?;
        match (pull, &answer.pull) {
            (Some(asked), Some(page)) => self.check_page(page, asked.cursor)?,
            (Some(_), None) => {
                return Err(Error::BadAnswer(
                    "the push answer lacks the changes it was asked for".into(),
                ));
            }
            (None, _) => {}
        }
        Ok((
            answer,
            Transfer {
                bytes_sent,
                bytes_received,
            },
        ))
    }

    /// `PUT /v1/sync/file-key`: registers the public key this device signs its sync files
    /// with; the answer names the server's own file key.
    pub async fn register_file_key(
        &self,
        token: &str,
        public_key: &str,
    ) -> Result<(stopover_protocol::sync_file::FileKeyResponse, Transfer)> {
        let request = stopover_protocol::sync_file::FileKeyRequest {
            public_key: public_key.to_string(),
        };
        let bytes_sent = serde_json::to_vec(&request).map_err(Error::internal)?.len() as u64;
        let response = self
            .request(reqwest::Method::PUT, "v1/sync/file-key")
            .bearer_auth(token)
            .json(&request)
            .send()
            .await
            .map_err(network_error)?;
        let (answer, bytes_received): (stopover_protocol::sync_file::FileKeyResponse, _) =
            self.read_json(response, "a file-key answer").await?;
        self.check_versioned(answer.protocol, "a file-key answer")?;
        Ok((
            answer,
            Transfer {
                bytes_sent,
                bytes_received,
            },
        ))
    }

    /// `GET /v1/sync/credential`: the server's signed pass for workshop relays.
    pub async fn credential(
        &self,
        token: &str,
    ) -> Result<(stopover_protocol::relay::CredentialResponse, Transfer)> {
        let response = self
            .request(reqwest::Method::GET, "v1/sync/credential")
            .bearer_auth(token)
            .send()
            .await
            .map_err(network_error)?;
        let (answer, bytes_received): (stopover_protocol::relay::CredentialResponse, _) =
            self.read_json(response, "a credential answer").await?;
        self.check_versioned(answer.protocol, "a credential answer")?;
        Ok((
            answer,
            Transfer {
                bytes_sent: 0,
                bytes_received,
            },
        ))
    }

    /// `GET /v1/relay/info` of a workshop relay (a client made by `for_relay`): no token.
    /// An answer without our protocol, or not saying it is a relay, is
    /// [`ErrorCode::NotARelay`].
    pub(crate) async fn relay_info(
        &self,
    ) -> Result<(stopover_protocol::relay::RelayInfo, Transfer)> {
        let response = self
            .request(reqwest::Method::GET, "v1/relay/info")
            .send()
            .await
            .map_err(network_error)?;
        let not_a_relay = |why: &str| {
            Error::invalid(
                ErrorCode::NotARelay,
                format!("{} is not a workshop relay: {why}", self.server_url),
            )
            .with("address", self.server_url.as_str())
        };
        if response.status() == StatusCode::NOT_FOUND {
            return Err(not_a_relay(
                "it has no relay information (an e-community server, or another service)",
            ));
        }
        let (info, bytes_received): (stopover_protocol::relay::RelayInfo, _) =
            match self.read_json(response, "a relay's information").await {
                Ok(answer) => answer,
                Err(Error::BadAnswer(why)) => return Err(not_a_relay(&why)),
                Err(e) => return Err(e),
            };
        if !is_versioned(info.protocol) || !info.relay {
            return Err(not_a_relay(&format!(
                "it answered protocol {} (this Stopover speaks {PROTOCOL_VERSION})",
                info.protocol
            )));
        }
        Ok((
            info,
            Transfer {
                bytes_sent: 0,
                bytes_received,
            },
        ))
    }

    /// `POST /v1/relay/sync` of a workshop relay: one round, no token (the request is signed).
    pub(crate) async fn relay_sync(
        &self,
        request: &stopover_protocol::relay::RelaySyncRequest,
    ) -> Result<(stopover_protocol::relay::RelaySyncResponse, Transfer)> {
        // Plain JSON: the sealed objects inside are compressed already, and it goes over the
        // venue's LAN.
        let body = serde_json::to_vec(request).map_err(Error::internal)?;
        let bytes_sent = body.len() as u64;
        let response = self
            .request(reqwest::Method::POST, "v1/relay/sync")
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(network_error)?;
        let (answer, bytes_received): (stopover_protocol::relay::RelaySyncResponse, _) =
            self.read_json(response, "a relay's answer").await?;
        self.check_versioned(answer.protocol, "a relay's answer")?;
        Ok((
            answer,
            Transfer {
                bytes_sent,
                bytes_received,
            },
        ))
    }

    /// `POST /v1/reports/submissions`: submits the caller's country's report; the receipt.
    pub async fn submit_report(
        &self,
        token: &str,
        request: &stopover_protocol::reports::SubmitReport,
    ) -> Result<stopover_protocol::reports::SubmissionReceipt> {
        let response = self
            .request(reqwest::Method::POST, "v1/reports/submissions")
            .bearer_auth(token)
            .json(request)
            .send()
            .await
            .map_err(network_error)?;
        Ok(self.read_json(response, "a submission receipt").await?.0)
    }

    /// `GET /v1/sync/pull?cursor=…&limit=…`: one page of changes after `cursor`.
    pub async fn pull(
        &self,
        token: &str,
        cursor: u64,
        limit: u32,
    ) -> Result<(PullResponse, Transfer)> {
        let response = self
            .request(reqwest::Method::GET, "v1/sync/pull")
            .query(&[("cursor", cursor.to_string()), ("limit", limit.to_string())])
            .bearer_auth(token)
            .send()
            .await
            .map_err(network_error)?;
        let (page, bytes_received): (PullResponse, _) =
            self.read_json(response, "a pull answer").await?;
        self.check_page(&page, cursor)?;
        Ok((
            page,
            Transfer {
                bytes_sent: 0,
                bytes_received,
            },
        ))
    }

    /// A page of changes must be this protocol's and move forward.
    fn check_page(&self, page: &PullResponse, cursor: u64) -> Result<()> {
        self.check_versioned(page.protocol, "a pull answer")?;
        if page.more && page.cursor <= cursor {
            return Err(Error::BadAnswer(format!(
                "the pull cursor did not advance past {cursor}"
            )));
        }
        if page.cursor < cursor {
            return Err(Error::BadAnswer(format!(
                "the pull cursor went back from {cursor} to {}",
                page.cursor
            )));
        }
        Ok(())
    }

    /// Only an answer naming our protocol version counts: this is what tells a sync answer
    /// from a captive portal's (or another service's) 200, in place of a health probe.
    fn check_versioned(&self, protocol: u32, what: &str) -> Result<()> {
        if is_versioned(protocol) {
            return Ok(());
        }
        Err(Error::NotOurServer {
            url: self.server_url.clone(),
            reason: format!(
                "it answered {what} of protocol {protocol}; this Stopover speaks protocol {PROTOCOL_VERSION}; one of them needs updating"
            ),
        })
    }

    /// Reads a successful answer as `T`, or turns anything else into the matching error.
    pub(crate) async fn read_json<T: DeserializeOwned>(
        &self,
        response: reqwest::Response,
        what: &str,
    ) -> Result<(T, u64)> {
        let status = response.status();
        if !status.is_success() {
            return Err(self.error_from(response).await);
        }
        let html = looks_like_html(response.headers());
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(network_error)?;
        match serde_json::from_slice::<T>(&body) {
            Ok(value) => {
                self.observe_date(&headers);
                Ok((value, body.len() as u64))
            }
            Err(_) if html || body.trim_ascii_start().starts_with(b"<") => {
                Err(Error::NotOurServer {
                    url: self.server_url.clone(),
                    reason: format!("it answered with a web page instead of {what}"),
                })
            }
            Err(e) => Err(Error::BadAnswer(format!("expected {what}: {e}"))),
        }
    }

    /// The error for a non-success answer.
    pub(crate) async fn error_from(&self, response: reqwest::Response) -> Error {
        let status = response.status();
        let headers = response.headers().clone();
        if status.is_redirection() {
            let to = headers
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or("somewhere else");
            return Error::NotOurServer {
                url: self.server_url.clone(),
                reason: format!("it redirected to {to}"),
            };
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            return Error::Busy {
                retry_after: retry_after(&headers),
            };
        }
        let body = response.bytes().await.unwrap_or_default();
        let parsed = serde_json::from_slice::<ErrorBody>(&body);
        if parsed.is_ok() {
            self.observe_date(&headers);
        }
        match parsed {
            Ok(e)
                if status == StatusCode::UNAUTHORIZED
                    && matches!(
                        e.code,
                        stopover_protocol::ErrorCode::TokenRevoked
                            | stopover_protocol::ErrorCode::Unauthenticated
                    ) =>
            {
                Error::SignInRequired(e.message)
            }
            Ok(e) => Error::Server {
                status: status.as_u16(),
                code: e.code,
                params: e.params,
                message: e.message,
            },
            Err(_) if looks_like_html(&headers) || body.trim_ascii_start().starts_with(b"<") => {
                Error::NotOurServer {
                    url: self.server_url.clone(),
                    reason: format!("it answered {status} with a web page"),
                }
            }
            Err(_) => Error::Server {
                status: status.as_u16(),
                code: if status.is_server_error() {
                    stopover_protocol::ErrorCode::Internal
                } else {
                    stopover_protocol::ErrorCode::BadRequest
                },
                params: Default::default(),
                message: status
                    .canonical_reason()
                    .unwrap_or("no explanation given")
                    .to_string(),
            },
        }
    }
}

pub(crate) fn looks_like_html(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("html"))
}

/// `Retry-After` in seconds (an HTTP date is ignored: a server of ours sends seconds).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 4 + 64),
        flate2::Compression::default(),
    );
    encoder
        .write_all(data)
        .and_then(|_| encoder.finish())
        .map_err(|e| Error::internal(format!("cannot compress the request: {e}")))
}

/// A transport error as [`Error::Network`], with its causes (never headers, so never the token).
pub(crate) fn network_error(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        return Error::Network("the server took too long to answer".to_string());
    }
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    Error::Network(message)
}
