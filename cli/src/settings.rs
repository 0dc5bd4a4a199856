//! Where each setting comes from: a flag, then an environment variable, then the profile.
//!
//! clap already merges flags with their environment variables ([`GlobalArgs`]); this module
//! adds the profile as the last layer and turns a missing setting into an error that says
//! how to provide it.

use std::ffi::{OsStr, OsString};
use std::fmt;

use clap::builder::{EnumValueParser, PossibleValue, TypedValueParser};
use clap::ValueEnum;

use crate::cli::GlobalArgs;
use crate::client::{GatewayUrl, TlsOptions};
use crate::error::CliError;
use crate::profile::{Profile, ProfileStore};

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
                    "MAYFLY_ACCESS_TYPE={raw:?} is not an access type: use access_key, jwt or oidc"
                ))
            }),
        }
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
}

impl AccessType {
    /// The `access-type` value of the `/auth` body.
    pub fn wire_name(self) -> &'static str {
        match self {
            AccessType::AccessKey => "access_key",
            AccessType::Jwt => "jwt",
            AccessType::Oidc => "oidc",
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

/// What `/auth` is called with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    ApiKey(ApiKey),
    Jwt(JwtLogin),
}

/// The login for `access_type`: an API key ([`api_key`]) or a JWT ([`jwt_login`]). `jwt` must
/// already be resolved (`-` and `@FILE` read) when the type takes one; for an API key it only
/// serves a hint when the key is missing.
pub fn login(
    access_type: AccessType,
    explicit_id: Option<String>,
    explicit_key: Option<String>,
    jwt: Option<String>,
    profile: &LoadedProfile,
) -> Result<Login, CliError> {
    match access_type {
        AccessType::AccessKey => match api_key(explicit_id, explicit_key, profile) {
            Ok(key) => Ok(Login::ApiKey(key)),
            Err(CliError::Usage(message)) if jwt.is_some() => Err(CliError::Usage(format!(
                "{message}; a JWT was given: it is used with --access-type jwt (or \
                 MAYFLY_ACCESS_TYPE=jwt)"
            ))),
            Err(error) => Err(error),
        },
        AccessType::Jwt | AccessType::Oidc => {
            jwt_login(access_type, explicit_id, jwt, profile).map(Login::Jwt)
        }
    }
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
    let access_id = explicit_id
        .filter(|v| !v.is_empty())
        .or_else(|| profile.get(|p| p.access_id.clone()))
        .ok_or_else(|| {
            CliError::usage(format!(
                "no access id to log in with (access type {name}): give the JWT auth method's \
                 access id (p-..., printed by create-auth-method-oauth2) with --access-id or \
                 MAYFLY_ACCESS_ID ({})",
                profile.describe()
            ))
        })?;
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
        let error = env(Some("k8s")).access_type().unwrap_err();
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
        let error = login(
            AccessType::AccessKey,
            Some("p-1".into()),
            None,
            Some("eyJ.x.y".into()),
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
            Some("k".into()),
            Some("eyJ.x.y".into()),
            &LoadedProfile::default(),
        )
        .unwrap();
        assert!(matches!(key, Login::ApiKey(ApiKey { .. })));
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
