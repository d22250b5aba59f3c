//! Request extractors that answer in our own words: JSON bodies and query strings whose
//! failures become `bad_json` / `invalid_request` / `too_large` / 415 [`Error`]s.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use http_body_util::LengthLimitError;
use serde::de::DeserializeOwned;
use serde_json::error::Category;
use stopover_protocol::MAX_BODY_BYTES;
use tower_http::timeout::TimeoutError;

use crate::error::{Error, Result};

/// A JSON request body of type `T`, at most [`MAX_BODY_BYTES`] after decompression.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, _state: &S) -> Result<Self> {
        require_json(req.headers())?;
        let bytes = read_body(req.into_body()).await?;
        parse(&bytes).map(ApiJson)
    }
}

fn require_json(headers: &HeaderMap) -> Result<()> {
    let given = headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let mime = given
        .as_deref()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")) {
        return Ok(());
    }
    let got = given.map_or("none".to_string(), |g| {
        format!("`{}`", g.chars().take(80).collect::<String>())
    });
    Err(Error::UnsupportedMediaType(format!(
        "send `Content-Type: application/json` (got {got})"
    )))
}

/// The whole body, at most [`MAX_BODY_BYTES`] after decompression.
pub async fn read_body(body: Body) -> Result<Bytes> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| body_error(&e))
}

/// What a body that could not be read is answered: too large, too slow, or broken off.
pub fn body_error(e: &(dyn std::error::Error + 'static)) -> Error {
    if is_length_limit(e) {
        Error::TooLarge
    } else if caused_by::<TimeoutError>(e) {
        Error::RequestTimeout
    } else {
        Error::BadBody(format!("could not read the request body: {e}"))
    }
}

fn is_length_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    caused_by::<LengthLimitError>(e)
}

/// The size limit can trip here or in the body-limit layer, and the body timeout in its own
/// layer, under a decompressor that wraps errors in `io::Error`; look through the whole chain.
fn caused_by<T: std::error::Error + 'static>(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(e);
    while let Some(err) = current {
        if err.is::<T>() {
            return true;
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && caused_by::<T>(inner)
        {
            return true;
        }
        current = err.source();
    }
    false
}

/// Syntax errors are 400 `bad_json`; well-formed JSON of the wrong shape is 422. serde's
/// messages say where ("at line 1 column 12").
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        Category::Data => Error::InvalidRequest(e.to_string()),
        Category::Syntax | Category::Eof | Category::Io => {
            Error::BadJson(format!("not valid JSON: {e}"))
        }
    })
}

/// Query parameters of type `T`; a malformed one is 422 `invalid_request`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| ApiQuery(q.0))
            .map_err(|e| Error::InvalidRequest(e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stopover_protocol::PushRequest;

    #[test]
    fn syntax_and_shape_errors_are_told_apart() {
        let e = parse::<PushRequest>(b"{\"ops\": [").unwrap_err();
        assert!(
            matches!(&e, Error::BadJson(m) if m.contains("line 1")),
            "{e:?}"
        );
        let e = parse::<PushRequest>(b"{\"ops\": 3}").unwrap_err();
        assert!(
            matches!(&e, Error::InvalidRequest(m) if m.contains("invalid type")),
            "{e:?}"
        );
        let e = parse::<PushRequest>(b"{}").unwrap_err();
        assert!(
            matches!(&e, Error::InvalidRequest(m) if m.contains("missing field `ops`")),
            "{e:?}"
        );
        let e = parse::<PushRequest>(b"").unwrap_err();
        assert!(matches!(e, Error::BadJson(_)));
        let deep = "[".repeat(10_000);
        assert!(matches!(
            parse::<serde_json::Value>(deep.as_bytes()),
            Err(Error::BadJson(_))
        ));
    }

    #[test]
    fn content_types() {
        let mut h = HeaderMap::new();
        assert!(require_json(&h).is_err());
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/problem+json",
        ] {
            h.insert(CONTENT_TYPE, ok.parse().unwrap());
            assert!(require_json(&h).is_ok(), "{ok}");
        }
        h.insert(CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(
            matches!(require_json(&h), Err(Error::UnsupportedMediaType(m)) if m.contains("text/plain"))
        );
    }
}
