//! The relay's side of the uplink: four requests to the e-community server, each answer
//! sorted into "answered", "refused for good" and "try again later".

use std::time::Duration;

use stopover_protocol::relay::CommunityPullRequest;
use stopover_protocol::sync_file::FileKeyResponse;
use stopover_protocol::{ErrorBody, ErrorCode, PROTOCOL_HEADER, PROTOCOL_VERSION};

/// How one upstream request ended.
#[derive(Debug)]
pub enum Upstream<T> {
    Answered(T),
    /// The server will not take it as it is (a revoked device, a forged file): telling it
    /// again changes nothing.
    Refused {
        code: String,
        message: String,
    },
    /// No answer, or "busy": the uplink or the server may do better later.
    Later {
        why: String,
        retry_after: Option<Duration>,
    },
}

#[derive(Clone)]
pub struct Server {
    base: String,
    http: reqwest::Client,
}

impl Server {
    pub fn new(base: &str) -> Result<Server, String> {
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(format!("`{base}` is not an http(s) address"));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            // A page over a 256 kbit/s uplink takes half a minute; a stuck request ends.
            .timeout(Duration::from_secs(300))
            .user_agent(concat!("ecommunity-relay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Server { base, http })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The key the server signs credentials, replies and pages with.
    pub async fn server_key(&self) -> Upstream<String> {
        let request = self.http.get(format!("{}/v1/sync/server-key", self.base));
        match self.send(request).await {
            Upstream::Answered(bytes) => match serde_json::from_slice::<FileKeyResponse>(&bytes) {
                Ok(r) if stopover_protocol::is_versioned(r.protocol) => {
                    Upstream::Answered(r.server_key)
                }
                _ => Upstream::Later {
                    why: "the upstream answer is not an e-community server's".into(),
                    retry_after: None,
                },
            },
            Upstream::Refused { code, message } => Upstream::Refused { code, message },
            Upstream::Later { why, retry_after } => Upstream::Later { why, retry_after },
        }
    }

    /// Forwards a laptop's sealed push as it signed it; the answer is the server's sealed
    /// reply.
    pub async fn forward(&self, file: Vec<u8>) -> Upstream<Vec<u8>> {
        let request = self
            .http
            .post(format!("{}/v1/sync/file", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(file);
        self.send(request).await
    }

    /// One community page, as the server sealed it.
    pub async fn community(&self, body: &CommunityPullRequest) -> Upstream<Vec<u8>> {
        let request = self
            .http
            .post(format!("{}/v1/relay/community", self.base))
            .json(body);
        self.send(request).await
    }

    /// A content pack's archive, exactly the bytes its release's SHA-256 covers.
    pub async fn pack(&self, body: &CommunityPullRequest) -> Upstream<Vec<u8>> {
        let request = self
            .http
            .post(format!("{}/v1/relay/pack", self.base))
            .json(body);
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Upstream<Vec<u8>> {
        let response = match request
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                return Upstream::Later {
                    why: e.to_string(),
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = match response.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                return Upstream::Later {
                    why: e.to_string(),
                    retry_after: None,
                };
            }
        };
        if status.is_success() {
            return Upstream::Answered(bytes);
        }
        let body = serde_json::from_slice::<ErrorBody>(&bytes).ok();
        let transient = status.is_server_error()
            // The relay's clock is far from the server's: the trainer can set it right.
            || body.as_ref().is_some_and(|b| b.code == ErrorCode::RelayClockSkew)
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
            // Not the server's JSON: a proxy or a captive portal between relay and server.
            || body.is_none();
        match body {
            Some(body) if !transient => Upstream::Refused {
                code: body.code.as_str().to_string(),
                message: body.message,
            },
            _ => Upstream::Later {
                why: format!("the server answered {status}"),
                retry_after,
            },
        }
    }
}
