//! Protection against abuse and crowds: sign-in limits, registration limits, write budgets
//! and sync load shedding.

pub mod budget;
pub mod load_shed;
pub mod sign_in;
pub mod window;

pub use budget::ByteBudget;
pub use load_shed::SyncSlots;
pub use sign_in::SignInLimits;
pub use window::WindowLimiter;
