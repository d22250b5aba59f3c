//! One file per group of endpoints. Each handler carries its OpenAPI description
//! (`#[utoipa::path]`), so the document is generated from the code that serves it.

pub mod accounts;
pub mod admin;
pub mod files;
pub mod health;
pub mod packs;
pub mod reports;
pub mod sessions;
pub mod sync;
