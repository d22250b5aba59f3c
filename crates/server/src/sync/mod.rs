//! Push and pull against the per-account record store. Pure database work on a connection;
//! the HTTP layer wraps it in a transaction and a load-shedding slot.

pub mod community;
pub mod file;
pub mod kinds;
pub mod pull;
pub mod push;

#[cfg(test)]
mod merge_props;
