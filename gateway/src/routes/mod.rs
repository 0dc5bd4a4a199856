//! Handlers, one module per family of operations. Each takes the shared state, the resolved
//! caller and the request DTO, checks authorization through [`mayfly_app::access`], and returns a
//! response DTO.

pub mod access;
pub mod audit_events;
pub mod health;
pub mod items;
pub mod k8s_auth_config;
pub mod metrics;
pub mod producers;
pub mod rotation;
pub(crate) mod target_input;
pub mod targets;
pub mod tmp_creds;
pub mod values;

/// The item name in the request field `field` (trimmed; `""` counts as missing), or a 400
/// that names the field: `{field}: required: {when_missing}` or `{field}: <why it is not a
/// name>`. Every handler parses names through here.
pub(crate) fn required_name(
    field: &str,
    raw: &Option<String>,
    when_missing: &str,
) -> crate::error::ApiResult<mayfly_domain::ItemName> {
    let raw = given(raw).ok_or_else(|| {
        crate::error::ApiError::bad_request(format!("{field}: required: {when_missing}"))
    })?;
    mayfly_domain::ItemName::parse(raw)
        .map_err(|e| crate::error::ApiError::bad_request(format!("{field}: {e}")))
}

/// Trims a field and treats an empty string as absent: the SDK sends `""` for unset strings.
pub(crate) fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
