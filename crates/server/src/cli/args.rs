//! The command line's shape (clap derive). Run `ecommunity --help` for the rendered form.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::{Error, Result};

#[derive(Parser)]
#[command(
    name = "ecommunity",
    version,
    about = "The Stopover e-community server and its admin tools"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server (creates its database on first start).
    Serve(ServeArgs),
    /// Run a workshop relay on the venue's LAN: laptops sync with it as with the server, and
    /// it forwards to the server whenever the uplink works (it holds no password or token).
    Relay(RelayArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage signed-in devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Publish signed content packs.
    #[command(subcommand)]
    Pack(PackCommand),
    /// Check report forms (XLSForm) before publishing them.
    #[command(subcommand)]
    Form(FormCommand),
    /// The forum: categories and moderation (as the Secretariat).
    #[command(subcommand)]
    Forum(ForumCommand),
    /// Training events and who registered for them.
    #[command(subcommand)]
    Event(EventCommand),
    /// The log of admin actions (API and CLI).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Reporting cycles and their deadlines (what the console's reporting table shows).
    #[command(subcommand)]
    Cycle(CycleCommand),
    /// Copy the database (consistently, even while the server runs) and every attachment and
    /// pack archive into one file.
    Backup(BackupArgs),
    /// Put a backup made with `backup` into an empty data folder.
    Restore(RestoreArgs),
    /// Sync files brought by people without a connection (USB stick, e-mail).
    #[command(subcommand)]
    Bundle(BundleCommand),
}

#[derive(Args)]
pub struct RelayArgs {
    /// The e-community server the relay forwards to, e.g. https://ecommunity.example.org.
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// Folder for the relay's own database (relay.sqlite3): the pushes it holds and the
    /// shared data it fetched.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Address to listen on, e.g. 0.0.0.0:8787 for the whole LAN; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8787", value_parser = parse_address)]
    pub listen: SocketAddr,
    /// The server's key (64 hex digits, `GET /v1/sync/server-key`), for a relay started
    /// where the server cannot be reached yet. Otherwise fetched once and kept.
    #[arg(long, value_name = "HEX")]
    pub server_key: Option<String>,
    /// Seconds between two asks for community news when nothing prompts one.
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub poll_secs: u64,
    /// Milliseconds a laptop's round waits for its push to reach the server before the relay
    /// answers that it holds it.
    #[arg(long, value_name = "MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub answer_wait_ms: u64,
}

#[derive(Subcommand)]
pub enum BundleCommand {
    /// Apply a sync file written by the app ("Save changes to a file") exactly as a push, and
    /// write the reply file the person loads back into the app. Importing a file twice
    /// changes nothing; a truncated, changed or unknown file is refused and nothing applied.
    Import(BundleImport),
}

#[derive(Args)]
pub struct BundleImport {
    #[command(flatten)]
    pub data: DataArg,
    /// The sync file from the app.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the reply file (an existing file is never overwritten).
    #[arg(long, value_name = "OUT")]
    pub reply: PathBuf,
    /// Print what was done as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum CycleCommand {
    /// Set a cycle's deadline and make it the current cycle.
    Set(CycleSet),
    /// List the cycles the server knows.
    List(JsonList),
}

#[derive(Args)]
pub struct CycleSet {
    #[command(flatten)]
    pub data: DataArg,
    /// The cycle as report ids name it, e.g. COP15.
    #[arg(value_name = "CYCLE")]
    pub cycle: String,
    /// The last day reports are on time, YYYY-MM-DD; leave out for none.
    #[arg(long, value_name = "DATE")]
    pub deadline: Option<String>,
    /// Record the deadline without making this the current cycle.
    #[arg(long)]
    pub not_current: bool,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// The newest admin actions first.
    List(AuditList),
}

#[derive(Args)]
pub struct AuditList {
    #[command(flatten)]
    pub data: DataArg,
    /// How many actions, at most.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: u32,
    /// Only actions by this actor (a username, or `cli:<system user>`).
    #[arg(long)]
    pub actor: Option<String>,
    /// Only actions on this target (e.g. a username).
    #[arg(long)]
    pub target: Option<String>,
    /// Print JSON (an array) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// The backup file to write (a zip archive); an existing file is never overwritten.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// The backup file made by `ecommunity backup`.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
}

#[derive(Subcommand)]
pub enum ForumCommand {
    /// Forum categories.
    #[command(subcommand)]
    Category(CategoryCommand),
    /// Hide a post from everyone (its author can no longer edit it).
    Hide(PostTarget),
    /// Show a hidden post again.
    Unhide(PostTarget),
    /// Lock a thread: no new replies, no edits.
    Lock(ThreadTarget),
    /// Unlock a locked thread.
    Unlock(ThreadTarget),
}

#[derive(Subcommand)]
pub enum CategoryCommand {
    /// Add a category and publish it to every app.
    Add(CategoryAdd),
    /// List the categories.
    List(JsonList),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CategoryKindArg {
    Region,
    Instrument,
    General,
    Qa,
}

#[derive(Args)]
pub struct CategoryAdd {
    #[command(flatten)]
    pub data: DataArg,
    /// 1-64 of a-z, 0-9, `-` (e.g. `west-africa`).
    #[arg(value_name = "SLUG")]
    pub slug: String,
    #[arg(long, value_enum)]
    pub kind: CategoryKindArg,
    #[arg(long, value_name = "TITLE")]
    pub title_en: String,
    #[arg(long, value_name = "TITLE")]
    pub title_fr: Option<String>,
    #[arg(long, value_name = "TITLE")]
    pub title_es: Option<String>,
    /// Place in the list (0 first); default: last.
    #[arg(long, value_name = "N")]
    pub order: Option<u32>,
}

#[derive(Args)]
pub struct JsonList {
    #[command(flatten)]
    pub data: DataArg,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct PostTarget {
    #[command(flatten)]
    pub data: DataArg,
    /// The post's id (a UUID), as the app shows it.
    #[arg(value_name = "POST_ID")]
    pub post_id: String,
}

#[derive(Args)]
pub struct ThreadTarget {
    #[command(flatten)]
    pub data: DataArg,
    /// The thread's id: the id of its first post.
    #[arg(value_name = "THREAD_ID")]
    pub thread_id: String,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum EventCommand {
    /// Add a training event and publish it to every app.
    Add(EventAdd),
    /// List the events with their registrations.
    List(JsonList),
    /// Who registered for an event.
    Registrations(EventTarget),
}

#[derive(Args)]
pub struct EventAdd {
    #[command(flatten)]
    pub data: DataArg,
    /// 1-64 of a-z, 0-9, `-` (e.g. `aewa-training-2026`).
    #[arg(value_name = "SLUG")]
    pub slug: String,
    #[arg(long, value_name = "TITLE")]
    pub title_en: String,
    #[arg(long, value_name = "TITLE")]
    pub title_fr: Option<String>,
    #[arg(long, value_name = "TITLE")]
    pub title_es: Option<String>,
    /// First day, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub starts: String,
    /// Last day, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub ends: String,
    /// Last day to register, YYYY-MM-DD (registrations close at its end, UTC).
    #[arg(long, value_name = "DATE")]
    pub closes: String,
    /// Where: "Online" or a place, e.g. "Bonn, Germany".
    #[arg(long)]
    pub location: String,
    /// Most participants; default: no limit.
    #[arg(long, value_name = "N")]
    pub capacity: Option<u32>,
    /// The CMS region the event is for, e.g. `africa`.
    #[arg(long)]
    pub region: Option<String>,
    /// The instrument the event is about, e.g. `aewa`.
    #[arg(long)]
    pub instrument: Option<String>,
}

#[derive(Args)]
pub struct EventTarget {
    #[command(flatten)]
    pub data: DataArg,
    #[arg(value_name = "SLUG")]
    pub slug: String,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum FormCommand {
    /// Load a form (.xlsx, or the plain-text form of its sheets) and print its errors (sheet,
    /// row, column, reason) or a summary. Exits non-zero when there are errors.
    Check(FormCheck),
}

#[derive(Args)]
pub struct FormCheck {
    /// The form: `*.xlsx`, or a plain-text form file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Print one JSON object: questions, groups, repeats, languages, errors, ...
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080", value_parser = parse_address)]
    pub listen: SocketAddr,
    /// Pushes and pulls served at once; past that, 429 `busy` with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_inflight_syncs: u32,
    /// A reverse proxy (address or network, e.g. 127.0.0.1 or 10.0.0.0/8) whose
    /// X-Forwarded-For names the client; repeat for several. Default: none, and the header
    /// is ignored (any client can write it).
    #[arg(long = "trusted-proxy", value_name = "ADDR", value_parser = crate::http::client_ip::parse_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Account requests per client address per hour (taken names count too).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub registrations_per_hour: u32,
    /// Accounts waiting for approval at most; past that, requests get 503.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub max_pending_accounts: u64,
    /// Pending accounts nobody approved within this many days are deleted.
    #[arg(long, value_name = "DAYS", default_value_t = 30.0, value_parser = positive)]
    pub pending_days: f64,
    /// Attachments one account may keep, in MiB (finished uploads and announced unfinished ones).
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub quota_mib: u64,
    /// Unfinished uploads one account may have at once.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_unfinished_uploads: u64,
    /// Largest attachment taken, in MiB (1 to 50); the app tells people before they pick a file.
    #[arg(long, value_name = "MIB", default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..=50))]
    pub max_attachment_mib: u64,
    /// Unfinished uploads that received nothing for this many hours are discarded.
    #[arg(long, value_name = "HOURS", default_value_t = 168.0, value_parser = positive)]
    pub upload_expiry_hours: f64,
    /// Bytes of operations one account may push per hour (and at once), in MiB; past that,
    /// 429 `too_many_writes` with Retry-After.
    #[arg(long, value_name = "MIB", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    pub write_budget_mib_per_hour: u64,
    /// New forum posts per account per hour.
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub forum_posts_per_hour: u32,
    /// Seconds to send a request's headers; also how long an idle connection stays open.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
    /// Longest pause, in seconds, while a request body is sent.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout: u64,
    /// Seconds for a whole request, body included, to be answered (408 past that).
    #[arg(long, value_name = "SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,
    /// Seconds without a request after which a console session ends (sign in again).
    #[arg(long, value_name = "SECS", default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    pub console_idle_timeout: u64,
    /// Hours after sign-in at which a console session ends, however active.
    #[arg(long, value_name = "HOURS", default_value_t = 12.0, value_parser = positive)]
    pub console_session_hours: f64,
    /// Capacity charts show a region or cycle only when at least this many countries answered
    /// the self-assessment (unless every one of them agreed to be named).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub capacity_min_respondents: u32,
    /// A public key (64 hex digits, as `pack keygen` prints it) whose signed packs the console
    /// may publish; repeat for several. Keys of packs published before are trusted anyway.
    #[arg(long = "pack-signer", value_name = "HEX", value_parser = parse_public_key)]
    pub pack_signers: Vec<String>,
}

fn parse_public_key(s: &str) -> Result<String, String> {
    let k = s.trim().to_ascii_lowercase();
    if k.len() == 64 && k.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(k)
    } else {
        Err(format!(
            "`{s}` is not a public key: 64 hex digits, as `ecommunity pack keygen` prints it"
        ))
    }
}

fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("`{s}` is not a positive number")),
    }
}

fn parse_address(s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|_| format!("`{s}` is not an address like 127.0.0.1:8080"))
}

#[derive(Args)]
pub struct DataArg {
    /// Folder holding ecommunity.sqlite3 (required).
    // Optional to clap so the missing-folder message is ours and stable: scripts and the
    // workspace tests match on "--data is required".
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
}

impl DataArg {
    pub fn dir(&self) -> Result<&Path> {
        self.data.as_deref().ok_or_else(|| {
            Error::Usage("--data is required: the folder holding ecommunity.sqlite3".into())
        })
    }

    /// Opens (creating and migrating if needed) the database for an admin command. An admin
    /// command waits up to a minute for a busy server's writes (the server's own connections
    /// wait 5 s): under a steady write load the gaps between transactions are short.
    pub fn open(&self) -> Result<rusqlite::Connection> {
        let conn = crate::db::open(self.dir()?)?;
        conn.busy_timeout(std::time::Duration::from_secs(60))?;
        Ok(conn)
    }
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an approved account.
    Add(UserAdd),
    /// Approve a pending (or revoked) account, optionally correcting what it asked for.
    Approve(UserApprove),
    /// Revoke an account and every device token it holds.
    Revoke(UserTarget),
    /// Correct an account's role, country or instruments.
    Correct(UserApprove),
    /// Reset an account's password: prints a one-time password to give the person, signs
    /// every device of the account out; the next sign-in must set a new password.
    ResetPassword(UserTarget),
    /// List accounts.
    List(UserList),
}

#[derive(Args)]
pub struct UserApprove {
    #[command(flatten)]
    pub data: DataArg,
    #[arg(value_name = "USERNAME")]
    pub username: String,
    /// Set the role.
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,
    /// Set the country (ISO 3166-1 alpha-2, e.g. KE).
    #[arg(long)]
    pub country: Option<String>,
    /// Set the instruments, comma-separated (e.g. CMS,AEWA); an empty value clears them.
    #[arg(long, value_delimiter = ',', num_args = 0..)]
    pub instruments: Option<Vec<String>>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Nfp,
    Secretariat,
    Admin,
}

#[derive(Args)]
pub struct UserAdd {
    #[command(flatten)]
    pub data: DataArg,
    /// 3-64 characters of a-z, 0-9, `.`, `_`, `-`.
    #[arg(long)]
    pub username: String,
    /// At least 10 characters.
    #[arg(long)]
    pub password: String,
    /// The name people see, e.g. "Amina Kariuki".
    #[arg(long)]
    pub display_name: String,
    #[arg(long)]
    pub email: String,
    /// nfp: a National Focal Point; secretariat: approves accounts; admin: everything.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// ISO 3166-1 alpha-2 (e.g. KE); required for nfp.
    #[arg(long)]
    pub country: Option<String>,
    /// Comma-separated, e.g. CMS,AEWA.
    #[arg(long, value_delimiter = ',')]
    pub instruments: Vec<String>,
}

#[derive(Args)]
pub struct UserTarget {
    #[command(flatten)]
    pub data: DataArg,
    #[arg(value_name = "USERNAME")]
    pub username: String,
}

#[derive(Args)]
pub struct UserList {
    #[command(flatten)]
    pub data: DataArg,
    /// Print JSON (an array of accounts) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Revoke one device token.
    Revoke(DeviceTarget),
    /// List devices (newest first).
    List(DeviceList),
}

#[derive(Args)]
pub struct DeviceTarget {
    #[command(flatten)]
    pub data: DataArg,
    /// As shown by `ecommunity device list`.
    #[arg(value_name = "DEVICE_ID")]
    pub device_id: String,
}

#[derive(Args)]
pub struct DeviceList {
    #[command(flatten)]
    pub data: DataArg,
    /// Only this account's devices.
    #[arg(long)]
    pub username: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum PackCommand {
    /// Build, sign and publish the content pack in PACKDIR. Its manifest.toml `version`
    /// must be greater than the latest published one.
    Publish(PackPublish),
    /// Build and sign the content pack in PACKDIR into one file, to publish later from the
    /// console (the private key stays where you sign; the server never sees it).
    Sign(PackSign),
    /// Write a new ed25519 private key to a file and print its public key (hex) for the app.
    Keygen(PackKeygen),
}

#[derive(Args)]
pub struct PackPublish {
    #[command(flatten)]
    pub data: DataArg,
    /// The private key file (32-byte ed25519 seed in hex, from `pack keygen`).
    #[arg(long, value_name = "KEYFILE")]
    pub key: PathBuf,
    /// The pack folder: manifest.toml, manual/, checklists/, library/ (text files only).
    #[arg(value_name = "PACKDIR")]
    pub pack_dir: PathBuf,
}

#[derive(Args)]
pub struct PackSign {
    /// The private key file (from `pack keygen`).
    #[arg(long, value_name = "KEYFILE")]
    pub key: PathBuf,
    /// The signed pack file to write (never over an existing file).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The pack folder: manifest.toml, manual/, checklists/, library/, forms/.
    #[arg(value_name = "PACKDIR")]
    pub pack_dir: PathBuf,
}

#[derive(Args)]
pub struct PackKeygen {
    /// Where to write the private key; an existing file is never overwritten.
    #[arg(long, value_name = "KEYFILE")]
    pub out: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_the_documented_forms() {
        let cli = Cli::try_parse_from([
            "ecommunity",
            "serve",
            "--data",
            "/tmp/x",
            "--listen",
            "127.0.0.1:0",
            "--max-inflight-syncs",
            "8",
        ])
        .unwrap();
        let Command::Serve(s) = cli.command else {
            panic!()
        };
        assert_eq!((s.max_inflight_syncs, s.listen.port()), (8, 0));
        assert_eq!(s.data.dir().unwrap(), Path::new("/tmp/x"));
        let Command::Serve(s) = Cli::try_parse_from(["ecommunity", "serve"])
            .unwrap()
            .command
        else {
            panic!()
        };
        assert!(matches!(s.data.dir(), Err(Error::Usage(m)) if m.contains("--data is required")));
        let bad =
            Cli::try_parse_from(["ecommunity", "serve", "--data", "d", "--listen", "nowhere"])
                .err()
                .unwrap();
        assert!(
            bad.to_string().contains("`nowhere` is not an address"),
            "{bad}"
        );
        let cli = Cli::try_parse_from([
            "ecommunity",
            "user",
            "add",
            "--data",
            "d",
            "--username",
            "amina",
            "--password",
            "correct horse",
            "--display-name",
            "Amina",
            "--email",
            "a@example.org",
            "--role",
            "nfp",
            "--country",
            "KE",
            "--instruments",
            "CMS,AEWA",
        ])
        .unwrap();
        let Command::User(UserCommand::Add(a)) = cli.command else {
            panic!()
        };
        assert_eq!(a.instruments, ["CMS", "AEWA"]);
        assert!(
            Cli::try_parse_from([
                "ecommunity",
                "serve",
                "--data",
                "d",
                "--max-inflight-syncs",
                "0"
            ])
            .is_err()
        );
        assert!(
            Cli::try_parse_from(["ecommunity", "user", "add", "--data", "d", "--role", "king"])
                .is_err()
        );
        assert!(
            Cli::try_parse_from(["ecommunity", "device", "revoke", "--data", "d", "abc"]).is_ok()
        );
        let cli = Cli::try_parse_from([
            "ecommunity",
            "pack",
            "publish",
            "--data",
            "d",
            "--key",
            "k.hex",
            "assets",
        ])
        .unwrap();
        let Command::Pack(PackCommand::Publish(p)) = cli.command else {
            panic!()
        };
        assert_eq!(
            (p.key.as_path(), p.pack_dir.as_path()),
            (Path::new("k.hex"), Path::new("assets"))
        );
        assert!(
            Cli::try_parse_from(["ecommunity", "pack", "publish", "--data", "d", "assets"])
                .is_err(),
            "--key is required"
        );
        assert!(Cli::try_parse_from(["ecommunity", "pack", "keygen", "--out", "k.hex"]).is_ok());
    }

    #[test]
    fn parses_the_forum_and_event_commands() {
        let cli = Cli::try_parse_from([
            "ecommunity",
            "forum",
            "category",
            "add",
            "--data",
            "d",
            "west-africa",
            "--kind",
            "region",
            "--title-en",
            "West Africa",
            "--title-es",
            "África Occidental",
        ])
        .unwrap();
        let Command::Forum(ForumCommand::Category(CategoryCommand::Add(a))) = cli.command else {
            panic!()
        };
        assert_eq!(
            (a.slug.as_str(), a.title_fr, a.title_es.as_deref(), a.order),
            ("west-africa", None, Some("África Occidental"), None)
        );
        for args in [
            &["forum", "hide", "--data", "d", "id"][..],
            &["forum", "unlock", "--data", "d", "id"],
            &["forum", "category", "list", "--data", "d", "--json"],
            &["event", "list", "--data", "d"],
            &[
                "event",
                "registrations",
                "--data",
                "d",
                "aewa-2026",
                "--json",
            ],
        ] {
            let full: Vec<&str> = std::iter::once("ecommunity")
                .chain(args.iter().copied())
                .collect();
            assert!(Cli::try_parse_from(&full).is_ok(), "{args:?}");
        }
        let cli = Cli::try_parse_from([
            "ecommunity",
            "event",
            "add",
            "--data",
            "d",
            "aewa-2026",
            "--title-en",
            "Workshop",
            "--starts",
            "2026-09-14",
            "--ends",
            "2026-09-16",
            "--closes",
            "2026-08-31",
            "--location",
            "Online",
            "--capacity",
            "30",
        ])
        .unwrap();
        let Command::Event(EventCommand::Add(e)) = cli.command else {
            panic!()
        };
        assert_eq!((e.capacity, e.region), (Some(30), None));
        // Required options and known kinds.
        for bad in [
            &[
                "forum", "category", "add", "--data", "d", "x", "--kind", "region",
            ][..],
            &[
                "forum",
                "category",
                "add",
                "--data",
                "d",
                "x",
                "--kind",
                "planet",
                "--title-en",
                "X",
            ],
            &[
                "event",
                "add",
                "--data",
                "d",
                "x",
                "--title-en",
                "X",
                "--starts",
                "2026-09-14",
            ],
            &["forum", "hide", "--data", "d"],
        ] {
            let full: Vec<&str> = std::iter::once("ecommunity")
                .chain(bad.iter().copied())
                .collect();
            assert!(Cli::try_parse_from(&full).is_err(), "{bad:?}");
        }
    }
}
