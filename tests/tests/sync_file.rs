//! Sync files against the real `ecommunity` binary: a laptop with no connection saves its
//! changes to a file, `ecommunity bundle import` applies it as a push and writes a signed
//! reply, the laptop loads the reply. Importing the file (or loading the reply) twice changes
//! nothing; a truncated, tampered or foreign file is refused with its reason and nothing of it
//! is applied, on either side.

use std::path::{Path, PathBuf};

use stopover_core::ErrorCode;
use stopover_core::sync;
use stopover_tests::client::Device;
use stopover_tests::server::{NewUser, Server};

/// Rows in the server's change feed: what a push or an import changed.
fn server_changes(server: &Server) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(
        server.data_dir().join("ecommunity.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    conn.query_row("SELECT count(*) FROM change", [], |r| r.get(0))
        .unwrap()
}

fn import(server: &Server, file: &Path, reply: &Path) -> std::process::Output {
    server.cli(&[
        "bundle",
        "import",
        file.to_str().unwrap(),
        "--reply",
        reply.to_str().unwrap(),
    ])
}

/// Imports and expects a refusal naming `reason`; no reply is written.
fn refused(server: &Server, file: &Path, reply: &Path, reason: &str) {
    let out = import(server, file, reply);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted: {stderr}");
    assert!(
        stderr.contains(&format!("sync file refused ({reason})")),
        "expected `{reason}`: {stderr}"
    );
    assert!(!reply.exists(), "a refused file got a reply");
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn done(device: &Device, list: &str, step: &str) -> bool {
    stopover_core::content::checklist(&device.core.conn(), list, "en")
        .unwrap()
        .steps
        .into_iter()
        .find(|s| s.id == step)
        .map(|s| s.done)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_file_round_trip_applies_once_and_refuses_bad_files() {
    let server = Server::start();
    let amina = NewUser::nfp("amina", "KE");
    server.user_add_approved(&amina);
    let url = server.base_url.clone();
    // Both devices sign in online once (which registers their sync-file keys); then the
    // laptop goes where there is no connection.
    let laptop = Device::sign_in("amina-laptop", &url, &amina).await;
    let office = Device::sign_in("amina-office", &url, &amina).await;
    assert!(sync::can_write_files(&laptop.core, &laptop.token()).unwrap());
    let steps = laptop.steps();
    let files = tempfile::tempdir().unwrap();

    // Work on both sides: the office syncs online, the laptop only through files.
    for (list, step) in &steps[..6] {
        laptop.tick(list, step, true);
    }
    laptop.note(&steps[0].0, &steps[0].1, "booked the flight");
    let (olist, ostep) = &steps[10];
    office.tick(olist, ostep, true);
    office.sync().await.unwrap();
    let before = server_changes(&server);

    let saved = sync::save_changes(
        &laptop.core,
        &laptop.token(),
        &files.path().join("week.stopover"),
    )
    .unwrap();
    assert_eq!(saved.operations, 7);
    let week = files.path().join("week.stopover");
    let week_bytes = std::fs::read(&week).unwrap();

    // Damaged and foreign files first: each refused with its reason, nothing applied.
    let reply = files.path().join("reply.stopover");
    let cut = write(
        files.path(),
        "cut.stopover",
        &week_bytes[..week_bytes.len() - 10],
    );
    refused(&server, &cut, &reply, "truncated");
    let mut flipped = week_bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let tampered = write(files.path(), "tampered.stopover", &flipped);
    refused(&server, &tampered, &reply, "tampered");
    let not_ours = write(
        files.path(),
        "photo.jpg",
        b"\xff\xd8\xff\xe0 a photo, not a sync file",
    );
    refused(&server, &not_ours, &reply, "not_a_sync_file");
    // A file from a device of another server: its key is unknown here.
    let elsewhere = Server::start();
    elsewhere.user_add_approved(&amina);
    let stranger = Device::sign_in("amina-elsewhere", &elsewhere.base_url, &amina).await;
    stranger.tick(&steps[20].0, &steps[20].1, true);
    let foreign = files.path().join("foreign.stopover");
    sync::save_changes(&stranger.core, &stranger.token(), &foreign).unwrap();
    refused(&server, &foreign, &reply, "foreign");
    assert_eq!(
        server_changes(&server),
        before,
        "a refused file changed the server"
    );

    // The real file: applied as a push.
    let out = import(&server, &week, &reply);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("7 operations: 7 applied, 0 already applied"),
        "{said}"
    );
    assert_eq!(server_changes(&server), before + 7);
    // Again: nothing changes (the same operation ids), and the second reply says so.
    let reply2 = files.path().join("reply2.stopover");
    let out = import(&server, &week, &reply2);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("7 operations: 0 applied, 7 already applied"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(server_changes(&server), before + 7);

    // The office sees the laptop's work at its next online sync.
    office.sync().await.unwrap();
    assert!(done(&office, &steps[3].0, &steps[3].1));

    // Replies the laptop must refuse, changing nothing: another server's, one meant for
    // another device, a damaged one.
    let foreign_reply = files.path().join("foreign-reply.stopover");
    let out = import(&elsewhere, &foreign, &foreign_reply);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let office_file = files.path().join("office.stopover");
    sync::save_changes(&office.core, &office.token(), &office_file).unwrap();
    let office_reply = files.path().join("office-reply.stopover");
    assert!(
        import(&server, &office_file, &office_reply)
            .status
            .success()
    );
    let reply_bytes = std::fs::read(&reply).unwrap();
    let mut forged = reply_bytes.clone();
    let at = forged.len() - 80;
    forged[at] ^= 1;
    let forged = write(files.path(), "forged-reply.stopover", &forged);
    let short = write(
        files.path(),
        "short-reply.stopover",
        &reply_bytes[..reply_bytes.len() / 2],
    );
    for (file, code) in [
        (&foreign_reply, ErrorCode::SyncFileForeign),
        (&office_reply, ErrorCode::SyncFileForeign),
        (&forged, ErrorCode::SyncFileTampered),
        (&short, ErrorCode::SyncFileTruncated),
        (&week, ErrorCode::SyncFileWrongKind),
        (&not_ours, ErrorCode::SyncFileNotOurs),
    ] {
        let e = sync::load_reply(&laptop.core, file).unwrap_err();
        assert_eq!(e.code(), code, "{}: {e}", file.display());
    }
    assert_eq!(
        laptop.waiting(),
        7,
        "a refused reply acknowledged something"
    );
    assert!(
        !done(&laptop, olist, ostep),
        "a refused reply brought changes"
    );

    // The real reply: acknowledgements as a push answer, the office's tick as a pull.
    let loaded = sync::load_reply(&laptop.core, &reply).unwrap();
    assert_eq!(
        (loaded.acknowledged, loaded.conflicts, loaded.rejected),
        (7, 0, 0)
    );
    assert!(loaded.pulled >= 1, "{loaded:?}");
    assert_eq!(laptop.waiting(), 0);
    assert!(done(&laptop, olist, ostep));
    // The second reply, and the first again: nothing more to do.
    for again in [&reply2, &reply] {
        let loaded = sync::load_reply(&laptop.core, again).unwrap();
        assert_eq!((loaded.acknowledged, loaded.pulled), (0, 0), "{loaded:?}");
    }
    // Back online, nothing is sent twice and nothing is missing.
    let round = laptop.sync().await.unwrap();
    assert_eq!(round.pushed, 0);
    assert_eq!(server_changes(&server), before + 7);
}
