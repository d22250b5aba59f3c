//! `ecommunity`: the e-community server. Today: `serve` with the health probe and its own
//! SQLite database; accounts, sync and the forum arrive with their issues.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use axum::routing::get;
use axum::{Json, Router};
use stopover_protocol::{Health, PROTOCOL_VERSION, SERVICE_NAME};

#[derive(Debug, thiserror::Error)]
enum ServerError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot use the data folder {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("database: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
}

const USAGE: &str = "usage: ecommunity serve --data DIR [--listen 127.0.0.1:8080]";

struct ServeArgs {
    data: PathBuf,
    listen: SocketAddr,
}

fn parse_serve(mut args: impl Iterator<Item = String>) -> Result<ServeArgs, ServerError> {
    let mut data = None;
    let mut listen: SocketAddr = "127.0.0.1:8080".parse().expect("valid default address");
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| ServerError::Usage(format!("{name} needs a value\n{USAGE}")));
        match arg.as_str() {
            "--data" => data = Some(PathBuf::from(value("--data")?)),
            "--listen" => {
                let v = value("--listen")?;
                listen = v.parse().map_err(|_| ServerError::Usage(format!("--listen: `{v}` is not an address like 127.0.0.1:8080")))?;
            }
            other => return Err(ServerError::Usage(format!("unknown option `{other}`\n{USAGE}"))),
        }
    }
    let data = data.ok_or_else(|| ServerError::Usage(format!("--data is required\n{USAGE}")))?;
    Ok(ServeArgs { data, listen })
}

fn open_database(dir: &std::path::Path) -> Result<rusqlite::Connection, ServerError> {
    std::fs::create_dir_all(dir).map_err(|source| ServerError::DataDir { path: dir.to_path_buf(), source })?;
    let conn = rusqlite::Connection::open(dir.join("ecommunity.sqlite3"))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) STRICT;")?;
    Ok(conn)
}

async fn health() -> Json<Health> {
    Json(Health { service: SERVICE_NAME.into(), protocol: PROTOCOL_VERSION, version: env!("CARGO_PKG_VERSION").into() })
}

async fn serve(args: ServeArgs) -> Result<(), ServerError> {
    let _db = open_database(&args.data)?;
    let app = Router::new().route("/v1/health", get(health));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| ServerError::Listen { addr: args.listen, source })?;
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    // Tests start us on port 0 and read the real address from this line.
    println!("listening on http://{addr}");
    tracing::info!(%addr, "ecommunity listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(ServerError::Serve)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("serve") => parse_serve(args).and_then(|a| {
            tokio::runtime::Runtime::new().map_err(ServerError::Serve)?.block_on(serve(a))
        }),
        Some(other) => Err(ServerError::Usage(format!("unknown command `{other}`\n{USAGE}"))),
        None => Err(ServerError::Usage(USAGE.into())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ecommunity: {e}");
            ExitCode::from(if matches!(e, ServerError::Usage(_)) { 2 } else { 1 })
        }
    }
}
