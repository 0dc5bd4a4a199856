//! sea-orm entities, one per table. Column names match the migrations exactly.

pub mod auth_method;
pub mod gateway_meta;
pub mod lease;
pub mod producer;
pub mod target;
pub mod token;
