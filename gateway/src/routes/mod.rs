//! Handlers, one module per family of operations. Each takes the shared state, the resolved
//! caller and the request DTO, checks authorization through [`mayfly_app::access`], and returns a
//! response DTO.

pub mod access;
pub mod audit_events;
pub mod health;
pub mod items;
pub mod metrics;
pub mod producers;
pub mod rotation;
mod target_input;
pub mod targets;
pub mod tmp_creds;
pub mod values;

/// Trims a field and treats an empty string as absent: the SDK sends `""` for unset strings.
pub(crate) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
