//! `get-dynamic-secret-value`: the Akeyless request parsed into the core's command.

use std::time::Duration;

use mayfly_api_types::request;
use mayfly_app::leases::issue::GetValue;

use super::required_name;
use crate::error::ApiResult;

/// Checks the name and turns the SDK's `timeout` (seconds; it always sends 15) into a
/// duration; `args` are parsed by the core.
pub fn get_value_command(req: request::GetDynamicSecretValue) -> ApiResult<GetValue> {
    let name = required_name("name", &req.name, "the dynamic secret to get a value from")?;
    Ok(GetValue {
        name,
        args: req.args.unwrap_or_default(),
        timeout: req
            .timeout
            .filter(|t| *t > 0)
            .map(|t| Duration::from_secs(t.unsigned_abs())),
    })
}
