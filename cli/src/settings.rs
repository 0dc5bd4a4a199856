//! Where each setting comes from: a flag, then an environment variable, then the profile.
//!
//! clap already merges flags with their environment variables ([`GlobalArgs`]); this module
//! adds the profile as the last layer and turns a missing setting into an error that says
//! how to provide it.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::PathBuf;

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use clap::builder::{EnumValueParser, PossibleValue, TypedValueParser};
use clap::ValueEnum;

use crate::cli::GlobalArgs;
use crate::client::{GatewayUrl, TlsOptions};
use crate::error::CliError;
use crate::profile::{Profile, ProfileStore};

/// Where Kubernetes mounts a pod's service-account token.
pub const K8S_TOKEN_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/// The environment variables that are read by hand rather than by clap: the login
/// variables apply to every command, but the `--access-key` *flag* means something else on
/// target commands, so they cannot be attached to a global flag.
#[derive(Clone, Default)]
pub struct Environment {
    pub access_id: Option<String>,
    pub access_key: Option<String>,
    /// `MAYFLY_ACCESS_TYPE` as given; parsed only when a command has to log in.
    pub access_type: Option<String>,
    /// `MAYFLY_JWT`: the token, `@FILE` or `-`.
    pub jwt: Option<String>,
    /// `MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN`: the token, `@FILE` or `-`.
    pub k8s_service_account_token: Option<String>,
    /// `MAYFLY_K8S_AUTH_CONFIG_NAME`.
    pub k8s_auth_config_name: Option<String>,
    /// `MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN_PATH`: where the service-account token is read when
    /// none is given ([`K8S_TOKEN_PATH`] when unset). Meant for tests.
    pub k8s_token_path: Option<OsString>,
    pub config_dir: Option<OsString>,
    pub home: Option<OsString>,
}

impl Environment {
    pub fn from_process() -> Self {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Environment {
            access_id: non_empty("MAYFLY_ACCESS_ID"),
            access_key: non_empty("MAYFLY_ACCESS_KEY"),
            access_type: non_empty("MAYFLY_ACCESS_TYPE"),
            jwt: non_empty("MAYFLY_JWT"),
            k8s_service_account_token: non_empty("MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN"),
            k8s_auth_config_name: non_empty("MAYFLY_K8S_AUTH_CONFIG_NAME"),
            k8s_token_path: std::env::var_os("MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN_PATH")
                .filter(|v| !v.is_empty()),
            config_dir: std::env::var_os("MAYFLY_CONFIG_DIR"),
            home: std::env::var_os("HOME"),
        }
    }

    /// `MAYFLY_ACCESS_TYPE`, [`AccessType::AccessKey`] when unset.
    pub fn access_type(&self) -> Result<AccessType, CliError> {
        match self.access_type.as_deref().map(str::trim) {
            None | Some("") => Ok(AccessType::default()),
            Some(raw) => AccessType::from_str(raw, false).map_err(|_| {
                CliError::usage(format!(
                    "MAYFLY_ACCESS_TYPE={raw:?} is not an access type: use access_key, jwt, \
                     oidc, k8s or aws_iam"
                ))
            }),
        }
    }

    /// The file a Kubernetes login reads the service-account token from when none is given.
    pub fn k8s_token_path(&self) -> PathBuf {
        self.k8s_token_path
            .as_ref()
            .map_or_else(|| PathBuf::from(K8S_TOKEN_PATH), PathBuf::from)
    }

    pub fn profile_store(&self) -> Result<ProfileStore, CliError> {
        ProfileStore::locate(self.config_dir.clone(), self.home.clone())
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("access_id", &self.access_id)
            .field("access_key", &self.access_key.as_ref().map(|_| "***"))
            .field("access_type", &self.access_type)
            .field("jwt", &self.jwt.as_ref().map(|_| "***"))
            .field(
                "k8s_service_account_token",
                &self.k8s_service_account_token.as_ref().map(|_| "***"),
            )
            .field("k8s_auth_config_name", &self.k8s_auth_config_name)
            .field("k8s_token_path", &self.k8s_token_path)
            .field("config_dir", &self.config_dir)
            .field("home", &self.home)
            .finish()
    }
}

/// The selected profile, with where it was looked for (for error messages).
#[derive(Debug, Default)]
pub struct LoadedProfile {
    pub name: String,
    pub profile: Option<Profile>,
    /// The profile file, when one could be located.
    pub location: Option<String>,
}

impl LoadedProfile {
    /// Loads `name`. A profile file that cannot even be located (no HOME, no
    /// MAYFLY_CONFIG_DIR) is not an error here: flags and environment may be enough.
    pub fn load(name: &str, env: &Environment) -> Result<Self, CliError> {
        let Ok(store) = env.profile_store() else {
            return Ok(LoadedProfile {
                name: name.to_owned(),
                ..LoadedProfile::default()
            });
        };
        Ok(LoadedProfile {
            name: name.to_owned(),
            profile: store.load(name)?,
            location: Some(store.path().display().to_string()),
        })
    }

    fn get<T>(&self, field: impl Fn(&Profile) -> Option<T>) -> Option<T> {
        self.profile.as_ref().and_then(field)
    }

    /// "profile "x" in /path" or "profile "x" (not found in /path)", for hints.
    fn describe(&self) -> String {
        match (&self.profile, &self.location) {
            (Some(_), Some(path)) => format!("profile {:?} in {path}", self.name),
            (None, Some(path)) => format!("profile {:?} not found in {path}", self.name),
            (_, None) => format!("profile {:?}: no profile file", self.name),
        }
    }
}

/// The gateway URL from `--gateway-url` / `MAYFLY_GATEWAY_URL`, else the profile.
pub fn gateway_url(global: &GlobalArgs, profile: &LoadedProfile) -> Result<GatewayUrl, CliError> {
    let raw = global
        .gateway_url
        .clone()
        .filter(|u| !u.is_empty())
        .or_else(|| profile.get(|p| p.gateway_url.clone()))
        .ok_or_else(|| {
            CliError::usage(format!(
                "no gateway URL: pass --gateway-url, set MAYFLY_GATEWAY_URL, or run \
                 `mayfly configure --gateway-url https://HOST:8000` ({})",
                profile.describe()
            ))
        })?;
    GatewayUrl::parse(&raw)
}

/// TLS settings: `--ca-cert` / `MAYFLY_CA_CERT` over the profile's CA; `--insecure` is never
/// stored in a profile, so it has to be asked for each time.
pub fn tls_options(global: &GlobalArgs, profile: &LoadedProfile) -> TlsOptions {
    TlsOptions {
        ca_cert: global
            .ca_cert
            .clone()
            .filter(|p| !p.as_os_str().is_empty())
            .or_else(|| profile.get(|p| p.ca_cert.clone())),
        insecure: global.insecure,
    }
}

/// An access id and key for `/auth`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub access_id: String,
    pub access_key: String,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("access_id", &self.access_id)
            .field("access_key", &"***")
            .finish()
    }
}

/// How `/auth` is called (the Akeyless `access-type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum AccessType {
    /// An API key: --access-id and --access-key.
    #[default]
    #[value(name = "access_key")]
    AccessKey,
    /// A JWT the workload already holds (a CI system's OIDC token): --access-id of a JWT
    /// auth method and --jwt.
    Jwt,
    /// The same login as jwt, under the name OIDC clients use.
    Oidc,
    /// A Kubernetes pod's service-account token: --access-id of a Kubernetes auth method and
    /// --k8s-service-account-token (by default the pod's token file).
    K8s,
    /// The AWS identity the machine already has (environment, profile, web identity, ECS or
    /// EC2 instance role): --access-id of an AWS IAM auth method; the CLI signs an
    /// sts:GetCallerIdentity request with it, which the gateway has STS check.
    #[value(name = "aws_iam")]
    AwsIam,
}

impl AccessType {
    /// The `access-type` value of the `/auth` body.
    pub fn wire_name(self) -> &'static str {
        match self {
            AccessType::AccessKey => "access_key",
            AccessType::Jwt => "jwt",
            AccessType::Oidc => "oidc",
            AccessType::K8s => "k8s",
            AccessType::AwsIam => "aws_iam",
        }
    }

    /// The kind of auth method the access id must name, and the command that creates one
    /// (for hints).
    fn auth_method(self) -> (&'static str, &'static str) {
        match self {
            AccessType::AccessKey => ("API key", "create-auth-method"),
            AccessType::Jwt | AccessType::Oidc => ("JWT auth method", "create-auth-method-oauth2"),
            AccessType::K8s => ("Kubernetes auth method", "create-auth-method-k8s"),
            AccessType::AwsIam => ("AWS IAM auth method", "create-auth-method-aws-iam"),
        }
    }
}

/// clap's parser of [`AccessType`], except that an empty value (an exported but empty
/// `MAYFLY_ACCESS_TYPE`) means the default, as it does for the other commands.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessTypeParser;

impl TypedValueParser for AccessTypeParser {
    type Value = AccessType;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<AccessType, clap::Error> {
        if value.is_empty() {
            return Ok(AccessType::default());
        }
        EnumValueParser::<AccessType>::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            AccessType::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

/// A login with a JWT (`access-type` `jwt` or `oidc`).
#[derive(Clone, PartialEq, Eq)]
pub struct JwtLogin {
    pub access_type: AccessType,
    pub access_id: String,
    pub jwt: String,
}

impl fmt::Debug for JwtLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtLogin")
            .field("access_type", &self.access_type)
            .field("access_id", &self.access_id)
            .field("jwt", &"***")
            .finish()
    }
}

/// A login with a Kubernetes service-account token (`access-type` `k8s`).
#[derive(Clone, PartialEq, Eq)]
pub struct K8sLogin {
    pub access_id: String,
    /// The token as sent: base64-encoded, as the Akeyless tools send it.
    pub service_account_token: String,
    pub auth_config_name: Option<String>,
}

impl fmt::Debug for K8sLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("K8sLogin")
            .field("access_id", &self.access_id)
            .field("service_account_token", &"***")
            .field("auth_config_name", &self.auth_config_name)
            .finish()
    }
}

/// A login with the caller's AWS identity (`access-type` `aws_iam`). The signed request (the
/// `cloud-id`) is made when the login is sent, so that it is as fresh as it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsIamLogin {
    pub access_id: String,
}

/// What `/auth` is called with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    ApiKey(ApiKey),
    Jwt(JwtLogin),
    K8s(K8sLogin),
    AwsIam(AwsIamLogin),
}

/// What was given to log in with besides the access id, already read (`-`, `@FILE` and the
/// pod's token file resolved). Only what the access type uses is looked at.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credential {
    /// The API key's secret.
    pub access_key: Option<String>,
    /// The JWT (for an API key login it only serves a hint when the key is missing).
    pub jwt: Option<String>,
    /// The Kubernetes service-account token, as read.
    pub k8s_service_account_token: Option<String>,
    pub k8s_auth_config_name: Option<String>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "***");
        f.debug_struct("Credential")
            .field("access_key", &hidden(&self.access_key))
            .field("jwt", &hidden(&self.jwt))
            .field(
                "k8s_service_account_token",
                &hidden(&self.k8s_service_account_token),
            )
            .field("k8s_auth_config_name", &self.k8s_auth_config_name)
            .finish()
    }
}

/// The login for `access_type`: an API key ([`api_key`]), a JWT ([`jwt_login`]), a Kubernetes
/// service-account token or the caller's AWS identity.
pub fn login(
    access_type: AccessType,
    explicit_id: Option<String>,
    credential: Credential,
    profile: &LoadedProfile,
) -> Result<Login, CliError> {
    match access_type {
        AccessType::AccessKey => match api_key(explicit_id, credential.access_key, profile) {
            Ok(key) => Ok(Login::ApiKey(key)),
            Err(CliError::Usage(message)) if credential.jwt.is_some() => {
                Err(CliError::Usage(format!(
                    "{message}; a JWT was given: it is used with --access-type jwt (or \
                     MAYFLY_ACCESS_TYPE=jwt)"
                )))
            }
            Err(error) => Err(error),
        },
        AccessType::Jwt | AccessType::Oidc => {
            jwt_login(access_type, explicit_id, credential.jwt, profile).map(Login::Jwt)
        }
        AccessType::K8s => {
            let access_id = workload_access_id(access_type, explicit_id, profile)?;
            let token = credential
                .k8s_service_account_token
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    CliError::usage(
                        "no service-account token to log in with (access type k8s): give \
                         --k8s-service-account-token TOKEN|@FILE|- or \
                         MAYFLY_K8S_SERVICE_ACCOUNT_TOKEN",
                    )
                })?;
            Ok(Login::K8s(K8sLogin {
                access_id,
                service_account_token: k8s_token_for_the_wire(&token),
                auth_config_name: credential.k8s_auth_config_name.filter(|v| !v.is_empty()),
            }))
        }
        AccessType::AwsIam => Ok(Login::AwsIam(AwsIamLogin {
            access_id: workload_access_id(access_type, explicit_id, profile)?,
        })),
    }
}

/// The service-account token travels base64-encoded, as the Akeyless tools send it: a JWT
/// (what the pod's token file holds) is encoded here; anything else is taken to be base64
/// already and sent as given (base64 has no `.`, a JWT always does).
fn k8s_token_for_the_wire(token: &str) -> String {
    if token.contains('.') {
        BASE64.encode(token)
    } else {
        token.to_owned()
    }
}

/// The access id of a workload login (JWT, Kubernetes, AWS IAM): from `explicit_id` (flag or
/// environment), else the profile.
fn workload_access_id(
    access_type: AccessType,
    explicit_id: Option<String>,
    profile: &LoadedProfile,
) -> Result<String, CliError> {
    let (kind, created_by) = access_type.auth_method();
    explicit_id
        .filter(|v| !v.is_empty())
        .or_else(|| profile.get(|p| p.access_id.clone()))
        .ok_or_else(|| {
            CliError::usage(format!(
                "no access id to log in with (access type {}): give the {kind}'s access id \
                 (p-..., printed by {created_by}) with --access-id or MAYFLY_ACCESS_ID ({})",
                access_type.wire_name(),
                profile.describe()
            ))
        })
}

/// A JWT login: the access id from `explicit_id` (flag or environment), else the profile;
/// the token as given.
pub fn jwt_login(
    access_type: AccessType,
    explicit_id: Option<String>,
    jwt: Option<String>,
    profile: &LoadedProfile,
) -> Result<JwtLogin, CliError> {
    let name = access_type.wire_name();
    let access_id = workload_access_id(access_type, explicit_id, profile)?;
    let jwt = jwt.filter(|v| !v.is_empty()).ok_or_else(|| {
        CliError::usage(format!(
            "no JWT to log in with (access type {name}): pass --token or set MAYFLY_TOKEN, or \
             give the JWT with `mayfly auth --jwt TOKEN|@FILE|-` or MAYFLY_JWT"
        ))
    })?;
    Ok(JwtLogin {
        access_type,
        access_id,
        jwt,
    })
}

/// The API key: each half from `explicit_*` (flags or environment) when given, else from the
/// profile.
pub fn api_key(
    explicit_id: Option<String>,
    explicit_key: Option<String>,
    profile: &LoadedProfile,
) -> Result<ApiKey, CliError> {
    let access_id = explicit_id
        .filter(|v| !v.is_empty())
        .or_else(|| profile.get(|p| p.access_id.clone()));
    let access_key = explicit_key
        .filter(|v| !v.is_empty())
        .or_else(|| profile.get(|p| p.access_key.clone()));
    match (access_id, access_key) {
        (Some(access_id), Some(access_key)) => Ok(ApiKey {
            access_id,
            access_key,
        }),
        (id, _) => {
            let missing = if id.is_none() {
                "access id"
            } else {
                "access key"
            };
            Err(CliError::usage(format!(
                "no API {missing} to log in with: pass --token or set MAYFLY_TOKEN, set \
                 MAYFLY_ACCESS_ID and MAYFLY_ACCESS_KEY, or run `mayfly configure --access-id \
                 p-... --access-key ...` ({})",
                profile.describe()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built by hand rather than parsed, so MAYFLY_* variables of the test process don't leak in.
    fn global(gateway_url: Option<&str>, ca_cert: Option<&str>) -> GlobalArgs {
        GlobalArgs {
            gateway_url: gateway_url.map(str::to_owned),
            token: None,
            profile: "default".into(),
            ca_cert: ca_cert.map(Into::into),
            insecure: false,
            json: false,
        }
    }

    fn with_profile(profile: Profile) -> LoadedProfile {
        LoadedProfile {
            name: "default".into(),
            profile: Some(profile),
            location: Some("/cfg/profiles.toml".into()),
        }
    }

    #[test]
    fn flag_url_wins_over_profile() {
        let profile = with_profile(Profile {
            gateway_url: Some("https://profile:8000".into()),
            ..Profile::default()
        });
        let url = gateway_url(&global(Some("https://flag:8000"), None), &profile).unwrap();
        assert_eq!(url.endpoint("auth"), "https://flag:8000/auth");
    }

    #[test]
    fn profile_url_is_used_and_checked_for_https() {
        let profile = with_profile(Profile {
            gateway_url: Some("http://profile:8000".into()),
            ..Profile::default()
        });
        let error = gateway_url(&global(None, None), &profile).unwrap_err();
        assert!(error.to_string().contains("not https://"), "{error}");
    }

    #[test]
    fn missing_url_names_the_ways_to_set_it() {
        let profile = LoadedProfile {
            name: "prod".into(),
            profile: None,
            location: Some("/cfg/profiles.toml".into()),
        };
        let error = gateway_url(&global(None, None), &profile).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("--gateway-url") && text.contains("MAYFLY_GATEWAY_URL"),
            "{text}"
        );
        assert!(
            text.contains("\"prod\" not found in /cfg/profiles.toml"),
            "{text}"
        );
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn api_key_halves_come_from_explicit_values_then_profile() {
        let profile = with_profile(Profile {
            access_id: Some("p-profile".into()),
            access_key: Some("profile-key".into()),
            ..Profile::default()
        });
        let key = api_key(Some("p-env".into()), None, &profile).unwrap();
        assert_eq!(key.access_id, "p-env");
        assert_eq!(key.access_key, "profile-key");
        let error = api_key(None, None, &LoadedProfile::default()).unwrap_err();
        assert!(error.to_string().contains("no API access id"), "{error}");
    }

    #[test]
    fn debug_output_hides_keys() {
        let key = ApiKey {
            access_id: "p-1".into(),
            access_key: "very-secret".into(),
        };
        assert!(!format!("{key:?}").contains("very-secret"));
        let env = Environment {
            access_key: Some("very-secret".into()),
            ..Environment::default()
        };
        assert!(!format!("{env:?}").contains("very-secret"));
    }

    #[test]
    fn access_type_comes_from_the_environment_and_defaults_to_the_api_key() {
        let env = |raw: Option<&str>| Environment {
            access_type: raw.map(str::to_owned),
            ..Environment::default()
        };
        assert_eq!(env(None).access_type().unwrap(), AccessType::AccessKey);
        assert_eq!(env(Some("jwt")).access_type().unwrap(), AccessType::Jwt);
        assert_eq!(env(Some(" oidc ")).access_type().unwrap(), AccessType::Oidc);
        assert_eq!(
            env(Some("access_key")).access_type().unwrap(),
            AccessType::AccessKey
        );
        assert_eq!(env(Some("k8s")).access_type().unwrap(), AccessType::K8s);
        assert_eq!(
            env(Some("aws_iam")).access_type().unwrap(),
            AccessType::AwsIam
        );
        let error = env(Some("gcp")).access_type().unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("MAYFLY_ACCESS_TYPE"), "{error}");
    }

    #[test]
    fn jwt_logins_take_the_access_id_like_the_api_key_and_never_show_the_token() {
        let profile = with_profile(Profile {
            access_id: Some("p-profile".into()),
            ..Profile::default()
        });
        let login = jwt_login(AccessType::Jwt, None, Some("eyJ.x.y".into()), &profile).unwrap();
        assert_eq!(login.access_id, "p-profile");
        let login = jwt_login(
            AccessType::Oidc,
            Some("p-env".into()),
            Some("eyJ.x.y".into()),
            &profile,
        )
        .unwrap();
        assert_eq!(login.access_id, "p-env");
        assert!(!format!("{login:?}").contains("eyJ"));
        let error = jwt_login(AccessType::Jwt, Some("p-1".into()), None, &profile).unwrap_err();
        assert!(error.to_string().contains("no JWT"), "{error}");
        let error = jwt_login(
            AccessType::Jwt,
            None,
            Some("eyJ.x.y".into()),
            &LoadedProfile::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("no access id"), "{error}");
        assert!(!error.to_string().contains("eyJ"), "{error}");
        let env = Environment {
            jwt: Some("eyJ.secret".into()),
            ..Environment::default()
        };
        assert!(!format!("{env:?}").contains("eyJ"));
    }

    #[test]
    fn a_missing_api_key_with_a_jwt_given_hints_at_the_access_type() {
        let with_jwt = |access_key: Option<&str>| Credential {
            access_key: access_key.map(str::to_owned),
            jwt: Some("eyJ.x.y".into()),
            ..Credential::default()
        };
        let error = login(
            AccessType::AccessKey,
            Some("p-1".into()),
            with_jwt(None),
            &LoadedProfile::default(),
        )
        .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("no API access key"), "{text}");
        assert!(text.contains("--access-type jwt"), "{text}");
        assert!(!text.contains("eyJ"), "{text}");
        let key = login(
            AccessType::AccessKey,
            Some("p-1".into()),
            with_jwt(Some("k")),
            &LoadedProfile::default(),
        )
        .unwrap();
        assert!(matches!(key, Login::ApiKey(ApiKey { .. })));
    }

    #[test]
    fn k8s_logins_send_the_token_base64_and_never_show_it() {
        let profile = with_profile(Profile {
            access_id: Some("p-profile".into()),
            ..Profile::default()
        });
        let credential = |token: Option<&str>, config: Option<&str>| Credential {
            k8s_service_account_token: token.map(str::to_owned),
            k8s_auth_config_name: config.map(str::to_owned),
            ..Credential::default()
        };
        let Login::K8s(k8s) = login(
            AccessType::K8s,
            None,
            credential(
                Some("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"),
                Some("prod"),
            ),
            &profile,
        )
        .unwrap() else {
            panic!("not a k8s login");
        };
        assert_eq!(k8s.access_id, "p-profile");
        assert_eq!(
            k8s.service_account_token,
            BASE64.encode("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
        );
        assert_eq!(k8s.auth_config_name.as_deref(), Some("prod"));
        assert!(!format!("{k8s:?}").contains("ZXlK"), "{k8s:?}");
        // Already base64 (what the Akeyless docs tell users to pass): sent as given.
        let encoded = BASE64.encode("eyJ.x.y");
        let Login::K8s(k8s) = login(
            AccessType::K8s,
            Some("p-env".into()),
            credential(Some(&encoded), Some("")),
            &profile,
        )
        .unwrap() else {
            panic!("not a k8s login");
        };
        assert_eq!(k8s.access_id, "p-env");
        assert_eq!(k8s.service_account_token, encoded);
        assert_eq!(k8s.auth_config_name, None);
        let error = login(AccessType::K8s, None, credential(None, None), &profile).unwrap_err();
        assert!(
            error.to_string().contains("no service-account token"),
            "{error}"
        );
        let error = login(
            AccessType::K8s,
            None,
            credential(Some("eyJ.x.y"), None),
            &LoadedProfile::default(),
        )
        .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("Kubernetes auth method"), "{text}");
        assert!(text.contains("create-auth-method-k8s"), "{text}");
        assert!(!text.contains("eyJ"), "{text}");
        let hidden = format!("{:?}", credential(Some("eyJ.x.y"), None));
        assert!(!hidden.contains("eyJ"), "{hidden}");
    }

    #[test]
    fn aws_iam_logins_need_only_the_access_id() {
        let login_of = |id: Option<&str>, profile: &LoadedProfile| {
            login(
                AccessType::AwsIam,
                id.map(str::to_owned),
                Credential::default(),
                profile,
            )
        };
        assert_eq!(
            login_of(Some("p-aws"), &LoadedProfile::default()).unwrap(),
            Login::AwsIam(AwsIamLogin {
                access_id: "p-aws".into()
            })
        );
        let error = login_of(None, &LoadedProfile::default()).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains("create-auth-method-aws-iam"),
            "{error}"
        );
    }

    #[test]
    fn the_k8s_token_path_defaults_to_the_pods_token_file() {
        assert_eq!(
            Environment::default().k8s_token_path(),
            PathBuf::from("/var/run/secrets/kubernetes.io/serviceaccount/token")
        );
        let env = Environment {
            k8s_token_path: Some("/tmp/token".into()),
            ..Environment::default()
        };
        assert_eq!(env.k8s_token_path(), PathBuf::from("/tmp/token"));
    }

    #[test]
    fn ca_cert_flag_wins_over_profile() {
        let profile = with_profile(Profile {
            ca_cert: Some("/profile/ca.pem".into()),
            ..Profile::default()
        });
        let tls = tls_options(&global(None, Some("/flag/ca.pem")), &profile);
        assert_eq!(
            tls.ca_cert.as_deref(),
            Some(std::path::Path::new("/flag/ca.pem"))
        );
        let tls = tls_options(&global(None, None), &profile);
        assert_eq!(
            tls.ca_cert.as_deref(),
            Some(std::path::Path::new("/profile/ca.pem"))
        );
    }
}
