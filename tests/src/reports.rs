//! National report helpers shared by the report tests and benchmarks.

#[path = "../../crates/core/tests/support/fill_required.rs"]
mod fill;

pub use fill::fill_required;
