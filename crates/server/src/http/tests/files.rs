//! Attachments over tus 1.0: creation, resumption, offsets, checksums, dedupe, scope.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::Value;
use sha2::{Digest, Sha256};
use stopover_protocol::Role;
use stopover_protocol::files::{DEFAULT_MAX_ATTACHMENT_BYTES, UploadMetadata, hex};

use super::{TestServer, split};

fn sha(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn bytes_of(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

/// A tus request; `tus` false leaves out `Tus-Resumable`.
fn tus(method: Method, path: &str, token: Option<&str>, tus: bool) -> axum::http::request::Builder {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if tus {
        b = b.header("tus-resumable", "1.0.0");
    }
    b
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn offset(&self) -> u64 {
        self.header("upload-offset")
            .unwrap_or_else(|| panic!("no Upload-Offset: {:?} {}", self.status, self.body))
            .parse()
            .unwrap()
    }

    /// An error answer. (A HEAD answer has no body: only its status is checked.)
    #[track_caller]
    fn error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        if !self.body.is_null() || status != StatusCode::NOT_FOUND {
            assert_eq!(self.body["code"], code, "{}", self.body);
        }
        assert_eq!(
            self.header("tus-resumable"),
            Some("1.0.0"),
            "errors carry Tus-Resumable too"
        );
    }
}

async fn send(s: &TestServer, req: Request<Body>) -> Answer {
    let (status, headers, body) = split(s.raw(req).await).await;
    Answer {
        status,
        headers,
        body,
    }
}

async fn create(s: &TestServer, token: &str, content: &[u8]) -> Answer {
    create_as(s, token, content.len() as u64, &sha(content)).await
}

async fn create_as(s: &TestServer, token: &str, length: u64, sha256: &str) -> Answer {
    let meta = UploadMetadata {
        sha256: sha256.into(),
        filename: Some("report.pdf".into()),
    };
    let req = tus(Method::POST, "/v1/files", Some(token), true)
        .header("upload-length", length.to_string())
        .header("upload-metadata", meta.encode())
        .body(Body::empty())
        .unwrap();
    send(s, req).await
}

async fn head(s: &TestServer, token: &str, location: &str) -> Answer {
    send(
        s,
        tus(Method::HEAD, location, Some(token), true)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

async fn patch_body(
    s: &TestServer,
    token: &str,
    location: &str,
    offset: u64,
    body: Body,
) -> Answer {
    let req = tus(Method::PATCH, location, Some(token), true)
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .header("upload-offset", offset.to_string())
        .body(body)
        .unwrap();
    send(s, req).await
}

async fn patch(s: &TestServer, token: &str, location: &str, offset: u64, bytes: &[u8]) -> Answer {
    patch_body(s, token, location, offset, Body::from(bytes.to_vec())).await
}

async fn download(s: &TestServer, token: &str, path: &str) -> (StatusCode, Vec<u8>) {
    let res = s
        .raw(
            tus(Method::GET, path, Some(token), true)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let status = res.status();
    (
        status,
        axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec(),
    )
}

/// Uploads `content` completely in one PATCH; returns its Location.
async fn upload(s: &TestServer, token: &str, content: &[u8]) -> String {
    let created = create(s, token, content).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let location = created.header("location").unwrap().to_string();
    let done = patch(s, token, &location, 0, content).await;
    assert_eq!(
        (done.status, done.offset()),
        (StatusCode::NO_CONTENT, content.len() as u64),
        "{}",
        done.body
    );
    location
}

#[tokio::test]
async fn options_tells_what_the_server_supports() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let a = send(
        &s,
        tus(Method::OPTIONS, "/v1/files", Some(&t), false)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(a.header("tus-resumable"), Some("1.0.0"));
    assert_eq!(a.header("tus-version"), Some("1.0.0"));
    assert_eq!(a.header("tus-extension"), Some("creation"));
    assert_eq!(
        a.header("tus-max-size"),
        Some(DEFAULT_MAX_ATTACHMENT_BYTES.to_string().as_str())
    );
    let anonymous = send(
        &s,
        tus(Method::OPTIONS, "/v1/files", None, false)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    anonymous.error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn every_other_request_needs_tus_resumable() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let path = "/v1/files/0123456789abcdef0123456789abcdef";
    for (method, path) in [
        (Method::POST, "/v1/files"),
        (Method::HEAD, path),
        (Method::PATCH, path),
        (Method::GET, path),
    ] {
        let a = send(
            &s,
            tus(method.clone(), path, Some(&t), false)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(a.status, StatusCode::PRECONDITION_FAILED, "{method} {path}");
        assert_eq!(a.header("tus-version"), Some("1.0.0"));
        assert_eq!(a.header("tus-resumable"), Some("1.0.0"));
        if method != Method::HEAD {
            assert_eq!(a.body["code"], "unsupported_tus_version");
        }
    }
    let wrong = send(
        &s,
        tus(Method::POST, "/v1/files", Some(&t), false)
            .header("tus-resumable", "0.2.2")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    wrong.error(StatusCode::PRECONDITION_FAILED, "unsupported_tus_version");
    // Authentication still applies with the header.
    let anonymous = send(
        &s,
        tus(Method::HEAD, path, None, true)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn create_upload_in_chunks_then_download() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let content = bytes_of(300_000);
    let created = create(&s, &t, &content).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.offset(), 0);
    let location = created.header("location").unwrap().to_string();
    assert!(
        location.starts_with("/v1/files/") && location.len() == "/v1/files/".len() + 32,
        "{location}"
    );

    let h = head(&s, &t, &location).await;
    assert_eq!((h.status, h.offset()), (StatusCode::OK, 0));
    assert_eq!(h.header("upload-length"), Some("300000"));
    assert_eq!(h.header("cache-control"), Some("no-store"));
    assert_eq!(h.header("tus-resumable"), Some("1.0.0"));
    assert!(h.header("upload-metadata").unwrap().starts_with("sha256 "));

    let mut offset = 0;
    for chunk in content.chunks(128 * 1024) {
        let a = patch(&s, &t, &location, offset, chunk).await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.body);
        assert_eq!(a.header("tus-resumable"), Some("1.0.0"));
        offset = a.offset();
    }
    assert_eq!(offset, content.len() as u64);
    assert_eq!(head(&s, &t, &location).await.offset(), content.len() as u64);

    let digest = sha(&content);
    let stored = s.dir.path().join("files").join(&digest);
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        content,
        "moved to DATA/files/<sha256>"
    );
    assert_eq!(
        std::fs::read_dir(s.dir.path().join("files/partial"))
            .unwrap()
            .count(),
        0,
        "no partial left"
    );

    let (status, got) = download(&s, &t, &location).await;
    assert_eq!((status, got.len()), (StatusCode::OK, content.len()));
    assert_eq!(got, content);
    let (status, got) = download(&s, &t, &format!("/v1/files/{digest}")).await;
    assert_eq!(status, StatusCode::OK, "by SHA-256 too");
    assert_eq!(got, content);
}

#[tokio::test]
async fn an_interrupted_upload_resumes_from_the_acknowledged_offset() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let content = bytes_of(100_000);
    let location = create(&s, &t, &content)
        .await
        .header("location")
        .unwrap()
        .to_string();
    assert_eq!(
        patch(&s, &t, &location, 0, &content[..40_000])
            .await
            .offset(),
        40_000
    );

    // The client restarts and knows only the file: creating again finds the upload.
    let again = create(&s, &t, &content).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.header("location"), Some(location.as_str()));
    assert_eq!(again.offset(), 40_000);

    // A connection that breaks mid-body: what arrived is kept and acknowledged by HEAD.
    let broken = Body::from_stream(tokio_util::io::ReaderStream::new(BreaksAfter {
        data: content[40_000..70_000].to_vec(),
        sent: 0,
    }));
    let a = patch_body(&s, &t, &location, 40_000, broken).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert_eq!(a.body["code"], "bad_body");
    let at = head(&s, &t, &location).await.offset();
    assert_eq!(at, 70_000);

    let done = patch(&s, &t, &location, at, &content[at as usize..]).await;
    assert_eq!(
        (done.status, done.offset()),
        (StatusCode::NO_CONTENT, 100_000)
    );
    assert_eq!(download(&s, &t, &location).await.1, content);
}

/// An `AsyncRead` that gives its data, then fails like a reset connection.
struct BreaksAfter {
    data: Vec<u8>,
    sent: usize,
}

impl tokio::io::AsyncRead for BreaksAfter {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.sent == self.data.len() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset",
            )));
        }
        let n = buf.remaining().min(self.data.len() - self.sent);
        let start = self.sent;
        buf.put_slice(&self.data[start..start + n]);
        self.sent += n;
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_patch_at_the_wrong_offset_is_409_and_changes_nothing() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let content = bytes_of(10_000);
    let location = create(&s, &t, &content)
        .await
        .header("location")
        .unwrap()
        .to_string();
    assert_eq!(
        patch(&s, &t, &location, 0, &content[..4_000])
            .await
            .offset(),
        4_000
    );

    for wrong in [0, 3_999, 4_001, 10_000] {
        let a = patch(&s, &t, &location, wrong, &content[wrong as usize..]).await;
        a.error(StatusCode::CONFLICT, "offset_mismatch");
        assert_eq!(a.offset(), 4_000, "the 409 names the server's offset");
    }
    assert_eq!(head(&s, &t, &location).await.offset(), 4_000);
    // Past Upload-Length: refused, nothing stored.
    let mut too_much = content[4_000..].to_vec();
    too_much.push(0);
    patch(&s, &t, &location, 4_000, &too_much)
        .await
        .error(StatusCode::BAD_REQUEST, "bad_body");
    assert_eq!(head(&s, &t, &location).await.offset(), 4_000);
    // Malformed requests.
    let no_type = tus(Method::PATCH, &location, Some(&t), true)
        .header("upload-offset", "4000")
        .body(Body::from("x"))
        .unwrap();
    send(&s, no_type)
        .await
        .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let bad_offset = tus(Method::PATCH, &location, Some(&t), true)
        .header(header::CONTENT_TYPE, "application/offset+octet-stream")
        .header("upload-offset", "-1")
        .body(Body::from("x"))
        .unwrap();
    send(&s, bad_offset)
        .await
        .error(StatusCode::BAD_REQUEST, "bad_header");
    assert_eq!(
        patch(&s, &t, &location, 4_000, &content[4_000..])
            .await
            .offset(),
        10_000
    );
}

#[tokio::test]
async fn a_checksum_mismatch_discards_the_upload() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let content = bytes_of(5_000);
    let claimed = sha(b"something else entirely");
    let created = create_as(&s, &t, content.len() as u64, &claimed).await;
    let location = created.header("location").unwrap().to_string();
    assert_eq!(
        patch(&s, &t, &location, 0, &content[..2_000])
            .await
            .offset(),
        2_000
    );
    let a = patch(&s, &t, &location, 2_000, &content[2_000..]).await;
    a.error(StatusCode::BAD_REQUEST, "checksum_mismatch");

    head(&s, &t, &location)
        .await
        .error(StatusCode::NOT_FOUND, "no_such_upload");
    assert!(!s.dir.path().join("files").join(&claimed).exists());
    assert_eq!(
        std::fs::read_dir(s.dir.path().join("files/partial"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(s.count("upload").await, 0);
    // Starting again is a new upload.
    let again = create_as(&s, &t, content.len() as u64, &claimed).await;
    assert_eq!((again.status, again.offset()), (StatusCode::CREATED, 0));
}

#[tokio::test]
async fn a_file_already_uploaded_is_not_sent_again() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let content = bytes_of(20_000);
    let location = upload(&s, &t, &content).await;

    // Another device of the same account creates the same file: nothing to send.
    let office = s.sign_in("amina").await;
    let again = create(&s, &office, &content).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.header("location"), Some(location.as_str()));
    assert_eq!(again.offset(), content.len() as u64);
    // An empty PATCH at the end confirms; any other offset is a mismatch.
    assert_eq!(
        patch(&s, &office, &location, 20_000, b"").await.status,
        StatusCode::NO_CONTENT
    );
    patch(&s, &office, &location, 0, &content)
        .await
        .error(StatusCode::CONFLICT, "offset_mismatch");
    // The same SHA-256 with another length is a mistake.
    create_as(&s, &t, 19_999, &sha(&content))
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request");
    assert_eq!(s.count("upload").await, 1);
}

#[tokio::test]
async fn another_account_never_sees_an_upload() {
    let s = TestServer::new().await;
    let amina = s.user("amina", Role::Nfp, Some("KE")).await;
    let baraka = s.user("baraka", Role::Nfp, Some("KE")).await;
    let admin = s.user("root", Role::Admin, None).await;
    let content = bytes_of(8_000);
    let location = upload(&s, &amina, &content).await;
    let by_sha = format!("/v1/files/{}", sha(&content));

    for other in [&baraka, &admin] {
        head(&s, other, &location)
            .await
            .error(StatusCode::NOT_FOUND, "no_such_upload");
        patch(&s, other, &location, 8_000, b"")
            .await
            .error(StatusCode::NOT_FOUND, "no_such_upload");
        assert_eq!(
            download(&s, other, &location).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(download(&s, other, &by_sha).await.0, StatusCode::NOT_FOUND);
    }
    // Knowing the hash is not having the file: baraka must upload it himself.
    let his = create(&s, &baraka, &content).await;
    assert_eq!((his.status, his.offset()), (StatusCode::CREATED, 0));
    let his_location = his.header("location").unwrap().to_string();
    assert_ne!(his_location, location);
    patch(&s, &amina, &his_location, 0, &content)
        .await
        .error(StatusCode::NOT_FOUND, "no_such_upload");
    assert_eq!(
        patch(&s, &baraka, &his_location, 0, &content)
            .await
            .offset(),
        8_000
    );
    assert_eq!(download(&s, &baraka, &by_sha).await.1, content);
    // One copy on disk.
    let files: Vec<_> = std::fs::read_dir(s.dir.path().join("files"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .collect();
    assert_eq!(files.len(), 1);
}

#[tokio::test]
async fn creation_checks_its_headers() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let meta = UploadMetadata {
        sha256: sha(b"x"),
        filename: None,
    }
    .encode();
    let post = |length: Option<&str>, metadata: Option<&str>| {
        let mut b = tus(Method::POST, "/v1/files", Some(&t), true);
        if let Some(l) = length {
            b = b.header("upload-length", l);
        }
        if let Some(m) = metadata {
            b = b.header("upload-metadata", m);
        }
        b.body(Body::empty()).unwrap()
    };
    send(&s, post(None, Some(&meta)))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_header");
    send(&s, post(Some("1"), None))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_header");
    send(&s, post(Some("ten"), Some(&meta)))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_header");
    send(&s, post(Some("1"), Some("filename eC5wZGY=")))
        .await
        .error(StatusCode::BAD_REQUEST, "bad_header");
    let big = send(
        &s,
        post(
            Some(&(DEFAULT_MAX_ATTACHMENT_BYTES + 1).to_string()),
            Some(&meta),
        ),
    )
    .await;
    big.error(StatusCode::PAYLOAD_TOO_LARGE, "attachment_too_large");
    assert_eq!(
        big.header("tus-max-size"),
        Some(DEFAULT_MAX_ATTACHMENT_BYTES.to_string().as_str())
    );
    assert_eq!(s.count("upload").await, 0);
    // An empty file is complete at once.
    let empty = create(&s, &t, b"").await;
    assert_eq!((empty.status, empty.offset()), (StatusCode::CREATED, 0));
    assert_eq!(
        download(&s, &t, empty.header("location").unwrap()).await,
        (StatusCode::OK, vec![])
    );
}

#[tokio::test]
async fn an_upload_whose_last_step_was_cut_short_is_finished_by_an_empty_patch() {
    let s = TestServer::new().await;
    let t = s.user("amina", Role::Nfp, Some("KE")).await;
    let content = bytes_of(3_000);
    let location = create(&s, &t, &content)
        .await
        .header("location")
        .unwrap()
        .to_string();
    let id = location.rsplit('/').next().unwrap().to_string();
    // As after a crash between storing the last offset and the checksum check.
    std::fs::write(s.dir.path().join("files/partial").join(&id), &content).unwrap();
    s.state
        .db
        .write(move |c| Ok(c.execute("UPDATE upload SET received = length WHERE id = ?1", [&id])?))
        .await
        .unwrap();
    assert_eq!(head(&s, &t, &location).await.offset(), 3_000);
    assert_eq!(
        download(&s, &t, &location).await.0,
        StatusCode::CONFLICT,
        "not verified yet"
    );
    let a = patch(&s, &t, &location, 3_000, b"").await;
    assert_eq!(
        (a.status, a.offset()),
        (StatusCode::NO_CONTENT, 3_000),
        "{}",
        a.body
    );
    assert_eq!(download(&s, &t, &location).await.1, content);
}
