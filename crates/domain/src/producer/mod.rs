//! Producers (dynamic secrets): from the raw request values to a checked definition.
//!
//! - [`draft`]: [`ProducerDraft`], the request values as they arrived, all optional.
//! - [`fields`]: the wire names every error is reported under.
//! - [`spec`]: [`ProducerSpec`], the checked definition the gateway stores (as JSON) and
//!   issues credentials from.
//! - `parse`: the rules that turn one into the other, collecting every problem.

pub mod draft;
pub mod fields;
mod parse;
pub mod spec;

pub use draft::ProducerDraft;
pub use spec::{IssueRate, ProducerSpec};

#[cfg(test)]
mod tests;
