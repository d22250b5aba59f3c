//! Accounts: who may sign in, with which role, for which country and instruments.

pub mod password_reset;
pub mod store;
pub mod validate;

pub use store::{AccountRow, NewAccount};
