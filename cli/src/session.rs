//! Connecting to the gateway and getting a token: the steps every API command shares.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::cli::GlobalArgs;
use crate::client::GatewayClient;
use crate::error::CliError;
use crate::settings::{self, ApiKey, LoadedProfile};

/// The `/auth` request body for an API key.
#[derive(Serialize)]
struct AuthRequest<'a> {
    #[serde(rename = "access-id")]
    access_id: &'a str,
    #[serde(rename = "access-key")]
    access_key: &'a str,
    #[serde(rename = "access-type")]
    access_type: &'static str,
}

/// Builds the client from the resolved URL and TLS settings. `--insecure` is announced on
/// stderr every time, so that it cannot quietly become the normal way to run.
pub fn connect(
    global: &GlobalArgs,
    profile: &LoadedProfile,
    timeout: Duration,
    stderr: &mut dyn Write,
) -> Result<GatewayClient, CliError> {
    let url = settings::gateway_url(global, profile)?;
    let tls = settings::tls_options(global, profile);
    if tls.insecure {
        // A failed warning must not stop the command; there is nowhere else to report it.
        let _ = writeln!(
            stderr,
            "warning: --insecure: the gateway's TLS certificate is not verified; use only for development"
        );
    }
    GatewayClient::new(url, &tls, timeout)
}

/// Calls `/auth` with an API key and returns the whole answer.
pub fn authenticate(client: &GatewayClient, key: &ApiKey) -> Result<Value, CliError> {
    let body = serde_json::to_value(AuthRequest {
        access_id: &key.access_id,
        access_key: &key.access_key,
        access_type: "access_key",
    })
    .map_err(|e| CliError::InvalidResponse(e.to_string()))?;
    client.post("auth", &body)
}

/// The `token` of an `/auth` answer.
pub fn token_from_auth(answer: &Value) -> Result<String, CliError> {
    answer
        .get("token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| CliError::InvalidResponse("the /auth answer has no \"token\"".into()))
}

/// The token for an API command: `--token` / `MAYFLY_TOKEN` as given, else a fresh login
/// with the API key from the environment or the profile.
pub fn token(
    client: &GatewayClient,
    global: &GlobalArgs,
    env_key: (Option<String>, Option<String>),
    profile: &LoadedProfile,
) -> Result<String, CliError> {
    if let Some(token) = global.token.clone().filter(|t| !t.is_empty()) {
        return Ok(token);
    }
    let key = settings::api_key(env_key.0, env_key.1, profile)?;
    token_from_auth(&authenticate(client, &key)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_is_read_from_the_auth_answer() {
        let answer = json!({"token": "t-123", "expiration": "2030-01-01T00:00:00Z"});
        assert_eq!(token_from_auth(&answer).unwrap(), "t-123");
        assert!(token_from_auth(&json!({"token": ""})).is_err());
        assert!(token_from_auth(&json!({})).is_err());
    }

    #[test]
    fn auth_body_has_the_akeyless_field_names() {
        let body = serde_json::to_value(AuthRequest {
            access_id: "p-1",
            access_key: "k",
            access_type: "access_key",
        })
        .unwrap();
        assert_eq!(
            body,
            json!({"access-id": "p-1", "access-key": "k", "access-type": "access_key"})
        );
    }
}
