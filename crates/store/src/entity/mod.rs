//! sea-orm entities, one per table. Column names match the migrations exactly.

pub mod audit_event;
pub mod auth_method;
pub mod gateway_meta;
pub mod k8s_auth_config;
pub mod lease;
pub mod producer;
pub mod role;
pub mod role_assoc;
pub mod role_rule;
pub mod session_denial;
pub mod target;
pub mod token;
