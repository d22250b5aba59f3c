//! Protection against abuse and crowds: sign-in attempt limits and sync load shedding.

pub mod load_shed;
pub mod sign_in;

pub use load_shed::SyncSlots;
pub use sign_in::SignInLimits;
