//! The command line: `serve` runs the server; `user`, `device`, `pack`, `forum` and `event`
//! administer the database directly (no server needed, safe while one runs: SQLite
//! serializes the writes).

mod args;
mod audit;
mod backup;
mod bundle;
mod cycle;
mod device;
mod event;
mod form;
mod forum;
mod pack;
mod user;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use crate::error::{Error, Result};
use crate::state::{AppState, Config, ConsoleConfig, Timeouts};
use args::{
    AuditCommand, BundleCommand, CategoryCommand, Cli, Command, CycleCommand, DeviceCommand,
    EventCommand, FormCommand, ForumCommand, PackCommand, RelayArgs, ServeArgs, UserCommand,
};

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap prints usage errors (exit 2) and --help/--version (exit 0) itself.
        Err(e) => e.exit(),
    };
    // The admin commands print their own results; the server logs what it does.
    init_logging(
        if matches!(cli.command, Command::Serve(_) | Command::Relay(_)) {
            "info"
        } else {
            "warn"
        },
    );
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ecommunity: {e}");
            ExitCode::from(if matches!(e, Error::Usage(_)) { 2 } else { 1 })
        }
    }
}

/// Logs an admin action taken with the CLI, in the caller's transaction.
pub(crate) fn audit_cli(
    conn: &rusqlite::Connection,
    action: &'static str,
    target: Option<&str>,
    detail: serde_json::Value,
) -> Result<()> {
    crate::audit::record(
        conn,
        &crate::audit::Entry {
            actor: &crate::audit::cli_actor(),
            action,
            target,
            detail,
            source: crate::audit::LOCAL,
        },
    )
}

/// Logs go to stderr (stdout's first line belongs to `serve`'s address); `RUST_LOG`
/// overrides the level.
fn init_logging(default_level: &str) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .try_init();
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Serve(args) => serve(args),
        Command::Relay(args) => relay(args),
        Command::User(UserCommand::Add(a)) => user::add(a),
        Command::User(UserCommand::Approve(a)) => user::approve(a),
        Command::User(UserCommand::Revoke(a)) => user::revoke(a),
        Command::User(UserCommand::Correct(a)) => user::correct(a),
        Command::User(UserCommand::ResetPassword(a)) => user::reset_password(a),
        Command::User(UserCommand::List(a)) => user::list(a),
        Command::Device(DeviceCommand::Revoke(a)) => device::revoke(a),
        Command::Device(DeviceCommand::List(a)) => device::list(a),
        Command::Pack(PackCommand::Publish(a)) => pack::publish(a),
        Command::Pack(PackCommand::Keygen(a)) => pack::keygen(a),
        Command::Pack(PackCommand::Sign(a)) => pack::sign(a),
        Command::Cycle(CycleCommand::Set(a)) => cycle::set(a),
        Command::Cycle(CycleCommand::List(a)) => cycle::list(a),
        Command::Form(FormCommand::Check(a)) => form::check(a),
        Command::Forum(ForumCommand::Category(CategoryCommand::Add(a))) => forum::category_add(a),
        Command::Forum(ForumCommand::Category(CategoryCommand::List(a))) => forum::category_list(a),
        Command::Forum(ForumCommand::Hide(t)) => forum::hide(t, true),
        Command::Forum(ForumCommand::Unhide(t)) => forum::hide(t, false),
        Command::Forum(ForumCommand::Lock(t)) => forum::lock(t, true),
        Command::Forum(ForumCommand::Unlock(t)) => forum::lock(t, false),
        Command::Event(EventCommand::Add(a)) => event::add(a),
        Command::Event(EventCommand::List(a)) => event::list(a),
        Command::Event(EventCommand::Registrations(t)) => event::registrations(t),
        Command::Audit(AuditCommand::List(a)) => audit::list(a),
        Command::Backup(a) => backup::backup(a),
        Command::Restore(a) => backup::restore(a),
        Command::Bundle(BundleCommand::Import(a)) => bundle::import(a),
    }
}

fn relay(args: RelayArgs) -> Result<()> {
    let config = crate::relay::RelayConfig {
        upstream: args.upstream,
        data: args.data,
        listen: args.listen,
        server_key: args.server_key,
        poll: Duration::from_secs(args.poll_secs),
        answer_wait: Duration::from_millis(args.answer_wait_ms),
    };
    let runtime = tokio::runtime::Runtime::new().map_err(Error::Serve)?;
    runtime.block_on(crate::relay::run(config))
}

fn serve(args: ServeArgs) -> Result<()> {
    // The default forum categories and missing directory cards, before anyone can pull.
    let published = crate::forum::seed(&mut args.data.open()?)?;
    if published > 0 {
        tracing::info!(published, "forum categories and directory cards published");
    }
    let db = crate::db::Db::open(args.data.dir()?)?;
    let hours = |h: f64| Duration::from_secs_f64(h * 3600.0);
    let config = Config {
        max_inflight_syncs: args.max_inflight_syncs as usize,
        trusted_proxies: args.trusted_proxies,
        registrations_per_hour: args.registrations_per_hour,
        max_pending_accounts: args.max_pending_accounts,
        pending_days: args.pending_days,
        quota_bytes: args.quota_mib.saturating_mul(1024 * 1024),
        max_unfinished_uploads: args.max_unfinished_uploads,
        max_attachment_bytes: args.max_attachment_mib.saturating_mul(1024 * 1024),
        upload_expiry: hours(args.upload_expiry_hours),
        write_budget_per_hour: args.write_budget_mib_per_hour.saturating_mul(1024 * 1024),
        forum_posts_per_hour: args.forum_posts_per_hour,
        timeouts: Timeouts {
            header: Duration::from_secs(args.header_timeout),
            body_idle: Duration::from_secs(args.body_timeout),
            request: Duration::from_secs(args.request_timeout),
        },
        console: ConsoleConfig {
            idle: Duration::from_secs(args.console_idle_timeout),
            lifetime: hours(args.console_session_hours),
            min_respondents: args.capacity_min_respondents,
            pack_signers: args.pack_signers,
        },
    };
    let state = AppState::new(db, &config);
    let runtime = tokio::runtime::Runtime::new().map_err(Error::Serve)?;
    runtime.block_on(crate::http::serve(state, args.listen))
}
