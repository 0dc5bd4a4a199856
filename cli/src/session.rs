//! Connecting to the gateway and getting a token: the steps every API command shares.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::aws_iam;
use crate::cli::GlobalArgs;
use crate::client::GatewayClient;
use crate::error::CliError;
use crate::input::Inputs;
use crate::settings::{self, AccessType, Credential, Environment, LoadedProfile, Login};

/// The `/auth` request body: an API key, a JWT (what the Akeyless GitHub action sends), a
/// Kubernetes service-account token or a signed sts:GetCallerIdentity (what the Akeyless
/// tools send for k8s and aws_iam).
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
    #[serde(
        rename = "k8s-service-account-token",
        skip_serializing_if = "Option::is_none"
    )]
    k8s_service_account_token: Option<&'a str>,
    #[serde(
        rename = "k8s-auth-config-name",
        skip_serializing_if = "Option::is_none"
    )]
    k8s_auth_config_name: Option<&'a str>,
    #[serde(rename = "cloud-id", skip_serializing_if = "Option::is_none")]
    cloud_id: Option<&'a str>,
}

impl<'a> AuthRequest<'a> {
    /// The body for `login`; `cloud_id` is the signed request of an AWS IAM login.
    fn new(login: &'a Login, cloud_id: Option<&'a str>) -> Self {
        let body = |access_id: &'a str, access_type: AccessType| AuthRequest {
            access_id,
            access_key: None,
            access_type: access_type.wire_name(),
            jwt: None,
            k8s_service_account_token: None,
            k8s_auth_config_name: None,
            cloud_id: None,
        };
        match login {
            Login::ApiKey(key) => AuthRequest {
                access_key: Some(&key.access_key),
                ..body(&key.access_id, AccessType::AccessKey)
            },
            Login::Jwt(jwt) => AuthRequest {
                jwt: Some(&jwt.jwt),
                ..body(&jwt.access_id, jwt.access_type)
            },
            Login::K8s(k8s) => AuthRequest {
                k8s_service_account_token: Some(&k8s.service_account_token),
                k8s_auth_config_name: k8s.auth_config_name.as_deref(),
                ..body(&k8s.access_id, AccessType::K8s)
            },
            Login::AwsIam(aws) => AuthRequest {
                cloud_id,
                ..body(&aws.access_id, AccessType::AwsIam)
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

/// Calls `/auth` and returns the whole answer. An AWS IAM login signs its
/// sts:GetCallerIdentity here, with the machine's AWS credentials, just before it is sent.
pub fn authenticate(client: &GatewayClient, login: &Login) -> Result<Value, CliError> {
    let cloud_id = match login {
        Login::AwsIam(_) => Some(aws_iam::cloud_id_from_ambient_credentials()?),
        _ => None,
    };
    let body = serde_json::to_value(AuthRequest::new(login, cloud_id.as_deref()))
        .map_err(|e| CliError::InvalidResponse(e.to_string()))?;
    client.post("auth", &body)
}

/// The service-account token of a Kubernetes login: `given` (from `flag`: the token, `@FILE`
/// or `-`), else the token file Kubernetes mounts in every pod
/// ([`Environment::k8s_token_path`]). Errors name the flag or the file, never the token.
pub fn k8s_service_account_token(
    inputs: &mut Inputs<'_>,
    flag: &'static str,
    given: Option<String>,
    env: &Environment,
) -> Result<String, CliError> {
    if let Some(mut value) = given.filter(|v| !v.is_empty()) {
        inputs.token(flag, &mut value)?;
        return Ok(value);
    }
    let path = env.k8s_token_path();
    let outside_a_pod = "outside a pod, give --k8s-service-account-token TOKEN|@FILE|- (mayfly \
                         auth) or MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN";
    let text = std::fs::read_to_string(&path).map_err(|e| {
        CliError::usage(format!(
            "no service-account token given, and the pod's token file {} cannot be read ({e}); \
             {outside_a_pod}",
            path.display()
        ))
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(CliError::usage(format!(
            "no service-account token given, and the pod's token file {} is empty; \
             {outside_a_pod}",
            path.display()
        )));
    }
    Ok(token.to_owned())
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
/// `jwt` or `oidc`, with `MAYFLY_JWT` (read through `inputs` when it is `@FILE` or `-`); `k8s`
/// with `MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN` or the pod's token file; `aws_iam` with the
/// machine's AWS credentials.
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
    let mut credential = Credential {
        access_key: env.access_key.clone(),
        jwt: env.jwt.clone(),
        k8s_service_account_token: None,
        k8s_auth_config_name: env.k8s_auth_config_name.clone(),
    };
    match access_type {
        AccessType::AccessKey | AccessType::AwsIam => {}
        AccessType::Jwt | AccessType::Oidc => {
            inputs.optional_token("MAYFLY_JWT", &mut credential.jwt)?;
        }
        AccessType::K8s => {
            credential.k8s_service_account_token = Some(k8s_service_account_token(
                inputs,
                "MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN",
                env.k8s_service_account_token.clone(),
                env,
            )?);
        }
    }
    let login = settings::login(access_type, env.access_id.clone(), credential, profile)?;
    token_from_auth(&authenticate(client, &login)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{ApiKey, AwsIamLogin, JwtLogin, K8sLogin};
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
        let body = serde_json::to_value(AuthRequest::new(&key, None)).unwrap();
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
            let body = serde_json::to_value(AuthRequest::new(&login, None)).unwrap();
            assert_eq!(
                body,
                json!({"access-id": "p-ci", "access-type": access_type.wire_name(), "jwt": "eyJ.x.y"})
            );
        }
    }

    #[test]
    fn k8s_and_aws_iam_auth_bodies_are_what_the_akeyless_tools_send() {
        let login = Login::K8s(K8sLogin {
            access_id: "p-k8s".into(),
            service_account_token: "ZXlKLngueQ==".into(),
            auth_config_name: Some("prod".into()),
        });
        let body = serde_json::to_value(AuthRequest::new(&login, None)).unwrap();
        assert_eq!(
            body,
            json!({"access-id": "p-k8s", "access-type": "k8s",
                   "k8s-service-account-token": "ZXlKLngueQ==", "k8s-auth-config-name": "prod"})
        );
        let login = Login::K8s(K8sLogin {
            auth_config_name: None,
            ..match login {
                Login::K8s(k8s) => k8s,
                _ => unreachable!(),
            }
        });
        let body = serde_json::to_value(AuthRequest::new(&login, None)).unwrap();
        assert!(body.get("k8s-auth-config-name").is_none(), "{body}");

        let login = Login::AwsIam(AwsIamLogin {
            access_id: "p-aws".into(),
        });
        let body = serde_json::to_value(AuthRequest::new(&login, Some("eyJzdHM="))).unwrap();
        assert_eq!(
            body,
            json!({"access-id": "p-aws", "access-type": "aws_iam", "cloud-id": "eyJzdHM="})
        );
    }

    #[test]
    fn the_k8s_token_comes_from_the_flag_or_else_the_pods_token_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        let env = Environment {
            k8s_token_path: Some(file.clone().into_os_string()),
            ..Environment::default()
        };
        let mut stdin: &[u8] = b"";
        let mut inputs = Inputs::new(&mut stdin);
        let read = |inputs: &mut Inputs<'_>, given: Option<&str>| {
            k8s_service_account_token(inputs, "--k8s", given.map(str::to_owned), &env)
        };
        // Missing: a usage error naming the file, not the token.
        let error = read(&mut inputs, None).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        let text = error.to_string();
        assert!(text.contains(&file.display().to_string()), "{text}");
        assert!(text.contains("--k8s-service-account-token"), "{text}");
        std::fs::write(&file, " \n").unwrap();
        let error = read(&mut inputs, None).unwrap_err();
        assert!(error.to_string().contains("is empty"), "{error}");
        std::fs::write(&file, "eyJ.pod.sig\n").unwrap();
        assert_eq!(read(&mut inputs, None).unwrap(), "eyJ.pod.sig");
        // Given (an empty value counts as not given): the file is not read.
        assert_eq!(
            read(&mut inputs, Some("eyJ.flag.sig")).unwrap(),
            "eyJ.flag.sig"
        );
        assert_eq!(read(&mut inputs, Some("")).unwrap(), "eyJ.pod.sig");
        let other = dir.path().join("other");
        std::fs::write(&other, "eyJ.other.sig").unwrap();
        assert_eq!(
            read(&mut inputs, Some(&format!("@{}", other.display()))).unwrap(),
            "eyJ.other.sig"
        );

        // The default path itself, in its error (this machine is not a pod).
        let default = Environment::default();
        if !std::path::Path::new(settings::K8S_TOKEN_PATH).exists() {
            let error =
                k8s_service_account_token(&mut inputs, "--k8s", None, &default).unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("/var/run/secrets/kubernetes.io/serviceaccount/token"),
                "{error}"
            );
        }
    }
}
