//! Who is calling and what they may do: password hashes, device tokens, the `Caller`
//! extractor and the authorization policy.

pub mod caller;
pub mod devices;
pub mod password;
pub mod policy;
pub mod token;

pub use caller::Caller;
pub use password::Passwords;
