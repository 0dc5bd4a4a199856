//! One module per row of docs/benchmarks.md; each prints Markdown table rows to stdout.

pub mod assume_role;
pub mod burst;
pub mod control_plane;
pub mod first_use;
pub mod iam_user;
pub mod revocation;
pub mod scrape;
pub mod soak;
pub mod startup;
