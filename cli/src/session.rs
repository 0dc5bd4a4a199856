//! Connecting to the gateway and getting a token: the steps every API command shares.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::cli::GlobalArgs;
use crate::client::GatewayClient;
use crate::error::CliError;
use crate::input::Inputs;
use crate::settings::{self, AccessType, Environment, LoadedProfile, Login};

/// The `/auth` request body: an API key, or a JWT (what the Akeyless GitHub action sends).
#[derive(Serialize)]
struct AuthRequest<'a> {
    #[serde(rename = "access-id")]
    access_id: &'a str,
    #[serde(rename = "access-key", skip_serializing_if = "Option::is_none")]
    access_key: Option<&'a str>,
    #[serde(rename = "access-type")]
    access_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwt: Option<&'a str>,
}

impl<'a> AuthRequest<'a> {
    fn new(login: &'a Login) -> Self {
        match login {
            Login::ApiKey(key) => AuthRequest {
                access_id: &key.access_id,
                access_key: Some(&key.access_key),
                access_type: AccessType::AccessKey.wire_name(),
                jwt: None,
            },
            Login::Jwt(jwt) => AuthRequest {
                access_id: &jwt.access_id,
                access_key: None,
                access_type: jwt.access_type.wire_name(),
                jwt: Some(&jwt.jwt),
            },
        }
    }
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

/// Calls `/auth` and returns the whole answer.
pub fn authenticate(client: &GatewayClient, login: &Login) -> Result<Value, CliError> {
    let body = serde_json::to_value(AuthRequest::new(login))
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
/// with the API key from the environment or the profile, or, when `MAYFLY_ACCESS_TYPE` is
/// `jwt` or `oidc`, with `MAYFLY_JWT` (read through `inputs` when it is `@FILE` or `-`).
pub fn token(
    client: &GatewayClient,
    global: &GlobalArgs,
    env: &Environment,
    profile: &LoadedProfile,
    inputs: &mut Inputs<'_>,
) -> Result<String, CliError> {
    if let Some(token) = global.token.clone().filter(|t| !t.is_empty()) {
        return Ok(token);
    }
    let access_type = env.access_type()?;
    let mut jwt = env.jwt.clone();
    if access_type != AccessType::AccessKey {
        inputs.optional_token("MAYFLY_JWT", &mut jwt)?;
    }
    let login = settings::login(
        access_type,
        env.access_id.clone(),
        env.access_key.clone(),
        jwt,
        profile,
    )?;
    token_from_auth(&authenticate(client, &login)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{ApiKey, JwtLogin};
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
        let key = Login::ApiKey(ApiKey {
            access_id: "p-1".into(),
            access_key: "k".into(),
        });
        let body = serde_json::to_value(AuthRequest::new(&key)).unwrap();
        assert_eq!(
            body,
            json!({"access-id": "p-1", "access-key": "k", "access-type": "access_key"})
        );
    }

    #[test]
    fn jwt_auth_body_is_what_the_akeyless_github_action_sends() {
        for access_type in [AccessType::Jwt, AccessType::Oidc] {
            let login = Login::Jwt(JwtLogin {
                access_type,
                access_id: "p-ci".into(),
                jwt: "eyJ.x.y".into(),
            });
            let body = serde_json::to_value(AuthRequest::new(&login)).unwrap();
            assert_eq!(
                body,
                json!({"access-id": "p-ci", "access-type": access_type.wire_name(), "jwt": "eyJ.x.y"})
            );
        }
    }
}
