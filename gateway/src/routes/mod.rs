//! Handlers, one module per family of operations. Each takes the shared state, the resolved
//! caller and the request DTO, checks authorization through [`crate::authz`], and returns a
//! response DTO.

pub mod access;
pub mod audit_events;
pub mod health;
pub mod items;
pub mod producers;
mod target_input;
pub mod targets;
pub mod tmp_creds;

use chrono::{TimeZone, Utc};

/// RFC 3339 (UTC, seconds) from stored milliseconds: the SDK parses these as datetimes.
pub(crate) fn rfc3339(millis: i64) -> String {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Whether a listing shows `name`: it contains the (lower-cased) `filter`, if any, and the
/// caller may `list` it. Every listing filters through here, so none shows more than allowed.
pub(crate) fn listed(
    caller: &crate::authn::Caller,
    kind: crate::authz::ResourceKind,
    filter: Option<&str>,
    name: &str,
) -> bool {
    filter.is_none_or(|f| name.to_lowercase().contains(f))
        && crate::authz::authorize(caller, crate::authz::Capability::List, kind, name).is_ok()
}

/// Trims a field and treats an empty string as absent: the SDK sends `""` for unset strings.
pub(crate) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
