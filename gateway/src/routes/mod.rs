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

/// Whether a listing shows `name`: it contains the (lower-cased) `filter`, if any, and the
/// caller may `list` it. Every listing filters through here, so none shows more than allowed.
pub(crate) fn listed(
    caller: &mayfly_app::access::Caller,
    kind: mayfly_app::access::ResourceKind,
    filter: Option<&str>,
    name: &str,
) -> bool {
    filter.is_none_or(|f| name.to_lowercase().contains(f))
        && mayfly_app::access::authorize(caller, mayfly_app::access::Capability::List, kind, name)
            .is_ok()
}

/// Trims a field and treats an empty string as absent: the SDK sends `""` for unset strings.
pub(crate) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
