//! Uploads against a small in-process tus server (axum) that can drop connections and lose
//! acknowledgements. The real server is exercised in the workspace's tests/.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Once};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use super::*;
use crate::content::PackError;

#[derive(Default)]
struct Upload {
    sha256: String,
    length: u64,
    data: Vec<u8>,
    complete: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
enum Fault {
    #[default]
    None,
    /// The n-th PATCH (from 1) stores its bytes, then the connection drops before the answer.
    ResetAfterStoring(usize),
    /// The n-th PATCH stores only its first half, then the connection drops.
    ResetHalfway(usize),
    /// The n-th PATCH stores its bytes and answers 500 (the acknowledgement is lost).
    LoseAck(usize),
    /// Before the n-th PATCH, another device moves the upload on by some bytes.
    MovedByAnotherDevice(usize),
    /// POST answers a wifi login page.
    CaptivePortal,
}

#[derive(Default)]
struct Fake {
    uploads: BTreeMap<String, Upload>,
    /// Every request, e.g. `POST`, `HEAD`, `PATCH 262144+262144`.
    log: Vec<String>,
    patches: usize,
    fault: Fault,
}

type Shared = Arc<Mutex<Fake>>;

const SIMULATED: &str = "simulated connection reset";

/// The fake drops a connection by panicking in its handler; keep those out of the test output.
fn quiet_simulated_resets() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let text = info.payload().downcast_ref::<&str>().copied().unwrap_or("");
            if text != SIMULATED {
                default(info);
            }
        }));
    });
}

fn tus_headers(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("tus-resumable", HeaderValue::from_static("1.0.0"));
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

fn error(status: StatusCode, code: &str) -> Response {
    (
        status,
        tus_headers(&[]),
        axum::Json(serde_json::json!({"code": code, "message": code})),
    )
        .into_response()
}

fn has_tus(headers: &HeaderMap) -> bool {
    headers.get("tus-resumable").is_some_and(|v| v == "1.0.0")
        && headers.get("authorization").is_some()
}

async fn create_handler(State(fake): State<Shared>, headers: HeaderMap) -> Response {
    let mut fake = fake.lock().unwrap();
    fake.log.push("POST".into());
    if fake.fault == Fault::CaptivePortal {
        return Html("<html><body>Welcome to the hotel wifi</body></html>").into_response();
    }
    if !has_tus(&headers) {
        return error(StatusCode::PRECONDITION_FAILED, "unsupported_tus_version");
    }
    let length: u64 = headers["upload-length"].to_str().unwrap().parse().unwrap();
    let meta = UploadMetadata::parse(headers["upload-metadata"].to_str().unwrap()).unwrap();
    if let Some((id, u)) = fake.uploads.iter().find(|(_, u)| u.sha256 == meta.sha256) {
        let offset = if u.complete {
            u.length
        } else {
            u.data.len() as u64
        };
        return (
            StatusCode::OK,
            tus_headers(&[
                ("location", format!("/v1/files/{id}")),
                ("upload-offset", offset.to_string()),
            ]),
        )
            .into_response();
    }
    let id = format!("{:032x}", fake.uploads.len() + 1);
    fake.uploads.insert(
        id.clone(),
        Upload {
            sha256: meta.sha256,
            length,
            data: Vec::new(),
            complete: length == 0,
        },
    );
    (
        StatusCode::CREATED,
        tus_headers(&[
            ("location", format!("/v1/files/{id}")),
            ("upload-offset", "0".into()),
        ]),
    )
        .into_response()
}

async fn head_handler(
    State(fake): State<Shared>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let mut fake = fake.lock().unwrap();
    fake.log.push("HEAD".into());
    assert!(has_tus(&headers));
    match fake.uploads.get(&id) {
        Some(u) => {
            let offset = if u.complete {
                u.length
            } else {
                u.data.len() as u64
            };
            (
                StatusCode::OK,
                tus_headers(&[
                    ("upload-offset", offset.to_string()),
                    ("upload-length", u.length.to_string()),
                    ("cache-control", "no-store".into()),
                ]),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, tus_headers(&[])).into_response(),
    }
}

async fn patch_handler(
    State(fake): State<Shared>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut fake = fake.lock().unwrap();
    assert!(has_tus(&headers));
    assert_eq!(headers["content-type"], "application/offset+octet-stream");
    let offset: u64 = headers["upload-offset"].to_str().unwrap().parse().unwrap();
    fake.log.push(format!("PATCH {offset}+{}", body.len()));
    fake.patches += 1;
    let n = fake.patches;
    let fault = fake.fault;
    let Some(upload) = fake.uploads.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "no_such_upload");
    };
    if fault == Fault::MovedByAnotherDevice(n) && !upload.complete {
        let more = (upload.length as usize - upload.data.len()).min(1000);
        let start = upload.data.len();
        let filler = fake_bytes_for(&upload.sha256, start, more);
        upload.data.extend_from_slice(&filler);
    }
    let at = if upload.complete {
        upload.length
    } else {
        upload.data.len() as u64
    };
    if offset != at {
        let mut r = error(StatusCode::CONFLICT, "offset_mismatch");
        r.headers_mut()
            .insert("upload-offset", HeaderValue::from(at));
        return r;
    }
    if upload.complete {
        return (
            StatusCode::NO_CONTENT,
            tus_headers(&[("upload-offset", at.to_string())]),
        )
            .into_response();
    }
    let keep = if fault == Fault::ResetHalfway(n) {
        body.len() / 2
    } else {
        body.len()
    };
    upload.data.extend_from_slice(&body[..keep]);
    if matches!(fault, Fault::ResetAfterStoring(k) | Fault::ResetHalfway(k) if k == n) {
        drop(fake);
        panic!("{}", SIMULATED);
    }
    if upload.data.len() as u64 == upload.length {
        if hex(&Sha256::digest(&upload.data)) != upload.sha256 {
            fake.uploads.remove(&id);
            return error(StatusCode::BAD_REQUEST, "checksum_mismatch");
        }
        upload.complete = true;
    }
    let new = upload.data.len() as u64;
    if fault == Fault::LoseAck(n) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "internal");
    }
    (
        StatusCode::NO_CONTENT,
        tus_headers(&[("upload-offset", new.to_string())]),
    )
        .into_response()
}

/// The bytes "another device" sends: the real content, which the test registers here.
static CONTENTS: Mutex<BTreeMap<String, Vec<u8>>> = Mutex::new(BTreeMap::new());

fn fake_bytes_for(sha256: &str, start: usize, n: usize) -> Vec<u8> {
    CONTENTS
        .lock()
        .unwrap()
        .get(sha256)
        .map(|c| c[start..start + n].to_vec())
        .unwrap_or_else(|| vec![0; n])
}

async fn download_handler(State(fake): State<Shared>, UrlPath(sha): UrlPath<String>) -> Response {
    let mut fake = fake.lock().unwrap();
    fake.log.push("GET".into());
    match fake
        .uploads
        .values()
        .find(|u| u.sha256 == sha && u.complete)
    {
        Some(u) => (StatusCode::OK, tus_headers(&[]), u.data.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "no_such_upload"),
    }
}

async fn start_fake() -> (SyncClient, Shared) {
    quiet_simulated_resets();
    let shared: Shared = Arc::default();
    let app = Router::new()
        .route("/v1/files", post(create_handler))
        .route(
            "/v1/files/{id}",
            get(download_handler)
                .head(head_handler)
                .patch(patch_handler),
        )
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (SyncClient::new(&url).unwrap(), shared)
}

fn open_core_at(dir: &Path) -> Core {
    let no_pack = Err(PackError {
        file: "manifest.toml".into(),
        reason: "no pack in unit tests".into(),
    });
    Core::open(dir, no_pack).unwrap()
}

fn content(n: usize) -> Vec<u8> {
    let bytes: Vec<u8> = (0..n).map(|i| (i * 31 % 253) as u8).collect();
    CONTENTS
        .lock()
        .unwrap()
        .insert(hex(&Sha256::digest(&bytes)), bytes.clone());
    bytes
}

fn log(fake: &Shared) -> Vec<String> {
    std::mem::take(&mut fake.lock().unwrap().log)
}

fn stored(fake: &Shared, sha: &str) -> Option<Vec<u8>> {
    fake.lock()
        .unwrap()
        .uploads
        .values()
        .find(|u| u.sha256 == sha && u.complete)
        .map(|u| u.data.clone())
}

const CHUNK: usize = 64 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_in_chunks_with_progress_and_never_twice() {
    let (client, fake) = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_core_at(dir.path());
    let bytes = content(200_000);
    let events = Mutex::new(Vec::new());
    let sha = upload_in_chunks(
        &core,
        &client,
        "tok",
        AttachmentSource::bytes(&bytes, Some("minutes.txt")),
        CHUNK,
        &|p: UploadProgress| events.lock().unwrap().push((p.bytes_done, p.bytes_total)),
    )
    .await
    .unwrap();
    assert_eq!(sha, hex(&Sha256::digest(&bytes)));
    assert_eq!(stored(&fake, &sha).unwrap(), bytes);
    assert_eq!(
        log(&fake),
        [
            "POST",
            "PATCH 0+65536",
            "PATCH 65536+65536",
            "PATCH 131072+65536",
            "PATCH 196608+3392"
        ]
    );
    let events = events.into_inner().unwrap();
    assert_eq!(events.first(), Some(&(0, 200_000)));
    assert_eq!(events.last(), Some(&(200_000, 200_000)));
    assert!(events.windows(2).all(|w| w[0].0 <= w[1].0));

    let rows = attachments(&core).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].uploaded && rows[0].upload_url.is_some());
    assert_eq!(rows[0].filename.as_deref(), Some("minutes.txt"));
    assert_eq!(
        std::fs::read(&rows[0].path).unwrap(),
        bytes,
        "bytes kept in the data folder"
    );
    assert!(rows[0].path.starts_with(dir.path().join(ATTACHMENTS_DIR)));

    // Already uploaded: no request at all.
    upload(&core, &client, "tok", bytes.as_slice(), &|_| {})
        .await
        .unwrap();
    assert!(log(&fake).is_empty());
    assert_eq!(download(&client, "tok", &sha).await.unwrap(), bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_resumes_from_the_servers_offset_on_the_next_call() {
    let (client, fake) = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_core_at(dir.path());
    let bytes = content(300_000);
    fake.lock().unwrap().fault = Fault::ResetAfterStoring(2);

    let e = upload_in_chunks(&core, &client, "tok", bytes.as_slice(), CHUNK, &|_| {})
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "network", "{e}");
    assert!(e.is_transient());
    assert_eq!(log(&fake), ["POST", "PATCH 0+65536", "PATCH 65536+65536"]);
    let pending = pending_uploads(&core).unwrap();
    assert_eq!(pending.len(), 1);
    assert!(
        pending[0].upload_url.is_some(),
        "the upload URL is kept for the next call"
    );

    // Next call: HEAD, then on from 131072 (the server stored the second chunk before the
    // connection dropped), never from zero.
    fake.lock().unwrap().fault = Fault::None;
    let first = Mutex::new(None);
    let sha = upload_in_chunks(
        &core,
        &client,
        "tok",
        bytes.as_slice(),
        CHUNK,
        &|p: UploadProgress| {
            first.lock().unwrap().get_or_insert(p.bytes_done);
        },
    )
    .await
    .unwrap();
    assert_eq!(
        *first.lock().unwrap(),
        Some(131_072),
        "progress starts at the server's offset"
    );
    assert_eq!(
        log(&fake),
        [
            "HEAD",
            "PATCH 131072+65536",
            "PATCH 196608+65536",
            "PATCH 262144+37856"
        ]
    );
    assert_eq!(stored(&fake, &sha).unwrap(), bytes);
    assert!(pending_uploads(&core).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_cut_halfway_or_a_lost_answer_sends_only_what_is_missing() {
    let (client, fake) = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_core_at(dir.path());
    let bytes = content(150_000);

    fake.lock().unwrap().fault = Fault::ResetHalfway(1);
    assert_eq!(
        upload_in_chunks(&core, &client, "tok", bytes.as_slice(), CHUNK, &|_| {})
            .await
            .unwrap_err()
            .code()
            .as_str(),
        "network"
    );
    fake.lock().unwrap().fault = Fault::LoseAck(3);
    let e = upload_in_chunks(&core, &client, "tok", bytes.as_slice(), CHUNK, &|_| {})
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Server { status: 500, .. }), "{e:?}");
    fake.lock().unwrap().fault = Fault::None;
    let sha = upload_in_chunks(&core, &client, "tok", bytes.as_slice(), CHUNK, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        log(&fake),
        [
            "POST",
            "PATCH 0+65536", // half of it stored, then the reset
            "HEAD",
            "PATCH 32768+65536",
            "PATCH 98304+51696", // the last answer lost
            "HEAD",
            "PATCH 150000+0", // the server has it all: confirm
        ]
    );
    assert_eq!(stored(&fake, &sha).unwrap(), bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_interrupted_by_a_crash_resumes_after_restart() {
    let (client, fake) = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("annex.pdf");
    let bytes = content(250_000);
    std::fs::write(&file, &bytes).unwrap();
    {
        let core = open_core_at(dir.path());
        fake.lock().unwrap().fault = Fault::ResetAfterStoring(3);
        assert!(
            upload_in_chunks(&core, &client, "tok", &file, CHUNK, &|_| {})
                .await
                .is_err()
        );
    } // the app is gone
    fake.lock().unwrap().fault = Fault::None;
    log(&fake);

    let core = open_core_at(dir.path());
    let pending = pending_uploads(&core).unwrap();
    assert_eq!(
        (pending.len(), pending[0].path.as_path(), pending[0].size),
        (1, file.as_path(), 250_000)
    );
    assert_eq!(pending[0].filename.as_deref(), Some("annex.pdf"));
    let done = resume_pending(&core, &client, "tok", &|_| {})
        .await
        .unwrap();
    assert_eq!(done, [hex(&Sha256::digest(&bytes))]);
    assert_eq!(log(&fake), ["HEAD", "PATCH 196608+53392"]);
    assert_eq!(stored(&fake, &done[0]).unwrap(), bytes);
    assert!(
        resume_pending(&core, &client, "tok", &|_| {})
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_the_server_already_has_is_not_sent() {
    let (client, fake) = start_fake().await;
    let bytes = content(90_000);
    // Uploaded from another device of the same account.
    let other = tempfile::tempdir().unwrap();
    upload(
        &open_core_at(other.path()),
        &client,
        "tok",
        bytes.as_slice(),
        &|_| {},
    )
    .await
    .unwrap();
    log(&fake);

    let dir = tempfile::tempdir().unwrap();
    let core = open_core_at(dir.path());
    let last = Mutex::new((0, 0));
    upload(
        &core,
        &client,
        "tok",
        bytes.as_slice(),
        &|p: UploadProgress| *last.lock().unwrap() = (p.bytes_done, p.bytes_total),
    )
    .await
    .unwrap();
    assert_eq!(log(&fake), ["POST"]);
    assert_eq!(*last.lock().unwrap(), (90_000, 90_000));
    assert!(attachments(&core).unwrap()[0].uploaded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_device_moving_the_upload_on_is_followed() {
    let (client, fake) = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_core_at(dir.path());
    let bytes = content(100_000);
    fake.lock().unwrap().fault = Fault::MovedByAnotherDevice(2);
    let sha = upload_in_chunks(&core, &client, "tok", bytes.as_slice(), CHUNK, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        log(&fake),
        [
            "POST",
            "PATCH 0+65536",
            "PATCH 65536+34464",
            "HEAD",
            "PATCH 66536+33464"
        ]
    );
    assert_eq!(stored(&fake, &sha).unwrap(), bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_changed_while_uploading_is_refused_and_starts_over() {
    let (client, fake) = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_core_at(dir.path());
    let file = dir.path().join("draft.docx");
    let bytes = content(100_000);
    std::fs::write(&file, &bytes).unwrap();
    fake.lock().unwrap().fault = Fault::ResetAfterStoring(1);
    assert!(
        upload_in_chunks(&core, &client, "tok", &file, CHUNK, &|_| {})
            .await
            .is_err()
    );
    fake.lock().unwrap().fault = Fault::None;

    // Same length, other bytes: the server's checksum catches it.
    let mut edited = bytes.clone();
    edited[99_000] ^= 0xff;
    std::fs::write(&file, &edited).unwrap();
    let old_sha = hex(&Sha256::digest(&bytes));
    let e = resume_pending(&core, &client, "tok", &|_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Server { status: 400, code, .. } if code.as_str() == "checksum_mismatch"),
        "{e:?}"
    );
    assert!(
        super::get(&core.conn(), &old_sha)
            .unwrap()
            .unwrap()
            .upload_url
            .is_none(),
        "the discarded upload is forgotten"
    );

    // Other length: noticed before sending; resuming skips it, it stays listed.
    std::fs::write(&file, b"short").unwrap();
    let stale = super::get(&core.conn(), &old_sha).unwrap().unwrap();
    let e = send(&core, &client, "tok", &stale, CHUNK, &|_| {})
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("draft.docx changed or disappeared since it was added"),
        "{e}"
    );
    assert!(
        resume_pending(&core, &client, "tok", &|_| {})
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(pending_uploads(&core).unwrap().len(), 1);
    forget(&core, &old_sha).unwrap();
    assert!(pending_uploads(&core).unwrap().is_empty());
    assert!(
        file.exists(),
        "forgetting never deletes the user's own file"
    );

    // Uploading the file as it is now works.
    let sha = upload(&core, &client, "tok", &file, &|_| {}).await.unwrap();
    assert_eq!(stored(&fake, &sha).unwrap(), b"short");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captive_portal_is_not_an_upload() {
    let (client, fake) = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_core_at(dir.path());
    fake.lock().unwrap().fault = Fault::CaptivePortal;
    let e = upload(&core, &client, "tok", content(1000).as_slice(), &|_| {})
        .await
        .unwrap_err();
    assert_eq!(e.code().as_str(), "not_our_server", "{e}");
    let rows = attachments(&core).unwrap();
    assert!(!rows[0].uploaded && rows[0].upload_url.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_and_bad_input() {
    let (client, _fake) = start_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_core_at(dir.path());
    let e = upload(
        &core,
        &client,
        "tok",
        Path::new("/no/such/file.pdf"),
        &|_| {},
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot read the attachment /no/such/file.pdf"),
        "{e}"
    );
    let big = vec![0u8; MAX_ATTACHMENT_BYTES as usize + 1];
    assert!(
        upload(&core, &client, "tok", big.as_slice(), &|_| {})
            .await
            .unwrap_err()
            .to_string()
            .contains("limited to 50 MiB")
    );
    assert!(attachments(&core).unwrap().is_empty());
    assert_eq!(
        download(&client, "tok", "abc")
            .await
            .unwrap_err()
            .code()
            .as_str(),
        "internal"
    );
    // Nothing recorded for that hash on the server.
    let missing = hex(&Sha256::digest(b"nothing"));
    assert!(matches!(
        download(&client, "tok", &missing).await.unwrap_err(),
        Error::Server { status: 404, .. }
    ));
    // An empty attachment is complete at once.
    let sha = upload(&core, &client, "tok", b"".as_slice(), &|_| {})
        .await
        .unwrap();
    assert!(
        attachments(&core)
            .unwrap()
            .iter()
            .any(|a| a.sha256 == sha && a.uploaded)
    );
}

#[test]
fn the_pace_says_bytes_and_time_left_and_a_resumed_file_does_not_count_as_sent() {
    let file = |sha: &str, size| Attachment {
        sha256: sha.into(),
        path: PathBuf::from("/x"),
        size,
        filename: None,
        upload_url: None,
        uploaded: false,
        refused: None,
    };
    let files = [file("a", 1000), file("b", 3000)];
    let pace = Pace::new(&files);
    let progress = |sha: &str, done| UploadProgress {
        sha256: sha.into(),
        bytes_done: done,
        bytes_total: 0,
    };
    // Nothing sent yet: no time can be told.
    let p = pace.file_progress(&progress("a", 0));
    assert_eq!(
        (p.bytes_done, p.bytes_total, p.seconds_left),
        (0, 4000, None)
    );
    std::thread::sleep(std::time::Duration::from_millis(50));
    let p = pace.file_progress(&progress("a", 1000));
    assert_eq!(p.bytes_done, 1000);
    let left = p.seconds_left.expect("a pace once bytes went");
    assert!(left >= 1, "3000 bytes at about 20 kB/s: {left}");
    pace.file_done(&files[0]);
    // The second file was half on the server already (resumed): done, not sent now.
    let p = pace.file_progress(&progress("b", 1500));
    assert_eq!((p.bytes_done, p.files_done, p.files_total), (2500, 1, 2));
    assert_eq!(pace.lock().sent, 1000);
}
