//! `ecommunity`: the Stopover e-community server and its admin CLI.
//!
//! - [`cli`] — the command line: `serve`, `user …`, `device …`, `pack …`, `forum …`, `event …`
//! - [`db`] — the SQLite database and its embedded migrations
//! - [`accounts`] — account rules and rows, password resets
//! - [`audit`] — the log of every admin action
//! - [`auth`] — passwords, device tokens, the `Caller` extractor, the authorization policy
//! - [`limits`] — sign-in attempt limits and sync load shedding
//! - [`sync`] — push and pull; [`records`] — how synced records are stored, and the rules
//!   each record kind adds ([`checklists`], `reports::kinds`, `forum::kinds`)
//! - [`forum`] — the forum, the NFP directory and training events: rules and publishing
//! - [`attachments`] — tus uploads and downloads, content-addressed by SHA-256
//! - [`packs`] — building, signing and publishing content packs
//! - [`http`] — the axum router, its layers, the OpenAPI document
//! - [`relay`] — `ecommunity relay`: the workshop relay on a venue's LAN (store and forward)
//! - [`console`] — the Secretariat's web console at `/console` (server-rendered pages);
//!   [`monitoring`] computes what it shows (reporting status, cycles, capacity self-assessments
//!   in aggregate, Manual feedback) and [`charts`] draws it (SVG, PNG, CSV)

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod charts;
pub mod checklists;
pub mod cli;
pub mod console;
pub mod db;
pub mod error;
pub mod forum;
pub mod http;
pub mod janitor;
pub mod limits;
pub mod monitoring;
pub mod packs;
pub mod records;
pub mod relay;
pub mod reports;
pub mod state;
pub mod sync;

pub use error::{Error, Result};
