//! Configuration: defaults, then a TOML file, then `MAYFLY_*` environment variables, then
//! command-line flags, each layer overriding the one before. Everything is validated at load,
//! and every problem is reported at once with the name of the setting, so an operator fixes a
//! broken deployment in one go.
//!
//! Every setting is one row of the table below (`settings!`, see `config/table.rs`): its name
//! (the TOML key; the flag is the same in kebab-case), type, default, environment variable and
//! doc. The clap flags and their `--help` text (with `[default: ...]`), the TOML file's keys and
//! the merge of the layers are derived from it; [`Config::from_layers`] then turns the merged
//! values into domain values, naming a setting through its row ([`SETTINGS`]). clap keeps every
//! value as text, so a bad `MAYFLY_*` variable is reported here with the others instead of
//! stopping commands that need no configuration (`mayfly-gateway openapi`).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use mayfly_domain::Ttl;
use secrecy::{ExposeSecret, SecretString};

use mayfly_crypto::KeyList;

mod table;

pub use table::Setting;
use table::{settings, CommaList};

settings! {
    flag_and_environment {
        /// TOML configuration file; flags and environment variables override it.
        config: PathBuf, env "MAYFLY_CONFIG";
    }
    everywhere {
        /// Address to listen on.
        listen: String = "0.0.0.0:8000", env "MAYFLY_LISTEN";
        /// Directory for the SQLite database, generated TLS files and master key.
        data_dir: PathBuf = "./data", env "MAYFLY_DATA_DIR";
        /// Database URL: sqlite://FILE or postgres://...
        database_url: String, default "sqlite in the data directory",
            env "DATABASE_URL", also "MAYFLY_DATABASE_URL";
        /// TLS certificate chain (PEM). Without it a local CA and certificate are generated.
        tls_cert: PathBuf, env "MAYFLY_TLS_CERT";
        /// TLS private key (PEM).
        tls_key: PathBuf, env "MAYFLY_TLS_KEY";
        /// Serve plain HTTP. Only behind a TLS-terminating proxy: tokens and secrets cross the wire.
        insecure_plain_http: bool = "false", env "MAYFLY_INSECURE_PLAIN_HTTP";
        /// Master keys `KEYID:BASE64` (32 bytes each), comma-separated: the first seals stored
        /// secrets, the others (previous keys) still open them. Without it keys are kept in
        /// DATA_DIR/master.key (one per line, generated on first start).
        master_key: SecretString, env "MAYFLY_MASTER_KEY";
        /// Lifetime of tokens from /auth, e.g. 60m.
        token_ttl: String = "60m", env "MAYFLY_TOKEN_TTL";
        /// Log format: pretty or json.
        ///
        /// Levels come from RUST_LOG.
        log_format: String = "pretty", env "MAYFLY_LOG_FORMAT";
        /// Largest request body accepted, in bytes.
        max_body_bytes: usize = "1048576", env "MAYFLY_MAX_BODY_BYTES";
        /// Deadline for one request, e.g. 60s.
        request_timeout: String = "60s", env "MAYFLY_REQUEST_TIMEOUT";
        /// Largest number of database connections.
        db_max_connections: u32 = "10", env "MAYFLY_DB_MAX_CONNECTIONS";
        /// IAM path for temporary users, e.g. /mayfly/.
        iam_user_path: String = "/mayfly/", env "MAYFLY_IAM_USER_PATH";
        /// How often the revoker looks for expired credentials.
        revoke_interval: String = "1s", env "MAYFLY_REVOKE_INTERVAL";
        /// How often the reconciler runs.
        reconcile_interval: String = "5m", env "MAYFLY_RECONCILE_INTERVAL";
        /// How old a stuck lease or an untracked IAM user must be before the reconciler acts.
        reconcile_min_age: String = "2m", env "MAYFLY_RECONCILE_MIN_AGE";
        /// How often to look for targets whose scheduled admin key rotation is due.
        admin_rotation_check_interval: String = "10m", env "MAYFLY_ADMIN_ROTATION_CHECK_INTERVAL";
        /// How long a gateway may reuse a resolved token (its roles and rules) and a dynamic
        /// secret with its target before reading them again; changes made through another
        /// gateway are seen within this time. 0 turns the caches off.
        cache_ttl: String = "2s", env "MAYFLY_CACHE_TTL";
        /// Who may read GET /metrics: off (404), open (anyone who reaches the port) or bearer
        /// (`Authorization: Bearer <token>`, the token from MAYFLY_METRICS_TOKEN or
        /// --metrics-token-file).
        metrics: String, default "bearer when a token is configured, else open",
            env "MAYFLY_METRICS";
        /// File holding the bearer token for /metrics (one line, at least 16 characters).
        metrics_token_file: PathBuf, env "MAYFLY_METRICS_TOKEN_FILE";
        /// Origins `scheme://host[:port]` (comma-separated) that target endpoints may use besides
        /// AWS's own https endpoints, e.g. a local emulator http://127.0.0.1:5000. Matched exactly
        /// on scheme, host and port.
        allowed_endpoints: CommaList, default "none", env "MAYFLY_ALLOWED_ENDPOINTS";
        /// On SIGTERM/SIGINT: how long teardowns already started may take to finish before the
        /// gateway exits; unfinished ones are handed back at once for any gateway to finish. Keep
        /// it below Kubernetes' terminationGracePeriodSeconds.
        shutdown_grace: String = "20s", env "MAYFLY_SHUTDOWN_GRACE";
        /// Days audit events are kept; older ones are deleted by housekeeping. 0 keeps them
        /// forever.
        audit_retention_days: u32 = "365", env "MAYFLY_AUDIT_RETENTION_DAYS";
        /// Days finished leases (revoked, aborted, expired) are kept for tmp-creds history; 0
        /// keeps them forever.
        lease_retention_days: u32 = "90", env "MAYFLY_LEASE_RETENTION_DAYS";
        /// How often housekeeping runs (expired tokens, retention, unneeded targets).
        housekeeping_interval: String = "5m", env "MAYFLY_HOUSEKEEPING_INTERVAL";
        /// Load balancers (addresses or CIDR blocks, comma-separated) whose connections may start
        /// with a PROXY protocol v1/v2 header naming the real client, e.g. HAProxy's
        /// send-proxy-v2. The client it names is throttled and audited; from other addresses the
        /// header is never read.
        trusted_proxies: CommaList, default "none", env "MAYFLY_TRUSTED_PROXIES";
        /// Target names (globs, comma-separated, e.g. /platform/*) that may use the gateway's
        /// own AWS identity (use-gw-cloud-identity): whoever may create such a target acts with
        /// the gateway's IAM role, so it is offered only where the operator says.
        cloud_identity_targets: CommaList, default "none", env "MAYFLY_CLOUD_IDENTITY_TARGETS";
        /// The AWS federation endpoint console sign-in links (output=console-url) are made
        /// with, instead of the partition's own (https://signin.aws.amazon.com/federation): it
        /// receives session credentials, so only the operator sets it.
        federation_endpoint: String, env "MAYFLY_FEDERATION_ENDPOINT";
        /// The most live credentials any one auth method may hold at once (0: no limit).
        auth_method_max_live: u32 = "0", env "MAYFLY_AUTH_METHOD_MAX_LIVE";
        /// The most credentials any one auth method may get per period, e.g. 100/m.
        auth_method_max_issue_rate: String, default "none", env "MAYFLY_AUTH_METHOD_MAX_ISSUE_RATE";
        /// IAM write calls per second that each target's AWS account is known to allow, e.g.
        /// 20: the gateway paces IAM writes at this rate from the start instead of only after
        /// AWS first throttles, so a burst of iam_user requests is admitted at a pace AWS
        /// serves and the rest are refused (503) before they create anything. Throttles still
        /// lower it. none: learn it from throttling.
        aws_iam_write_rate: String, default "none", env "MAYFLY_AWS_IAM_WRITE_RATE";
        /// Where the Vault-compatible API mounts its AWS secrets engine: Vault clients ask for
        /// /v1/<mount>/creds/<role>. Letters, digits, - and _.
        vault_mount: String = "aws", env "MAYFLY_VAULT_MOUNT";
        /// The target the Vault API's <mount>/config/root reads and writes, on which roles
        /// created through the Vault API are built.
        vault_target: String, default "/ followed by the mount (/aws)", env "MAYFLY_VAULT_TARGET";
    }
}

/// Settings read from the environment only, never from a flag or the file: tokens and keys
/// stay out of the process list and of configuration files.
pub const ENVIRONMENT_ONLY: [&str; 3] =
    [METRICS_TOKEN_ENV, ADMIN_ACCESS_ID_ENV, ADMIN_ACCESS_KEY_ENV];
/// The `/metrics` bearer token itself (or `metrics_token_file`).
const METRICS_TOKEN_ENV: &str = "MAYFLY_METRICS_TOKEN";
/// The admin API key to create at first start (both or neither).
const ADMIN_ACCESS_ID_ENV: &str = "MAYFLY_ADMIN_ACCESS_ID";
const ADMIN_ACCESS_KEY_ENV: &str = "MAYFLY_ADMIN_ACCESS_KEY";

/// Who may read `GET /metrics`.
#[derive(Clone, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Not served: 404.
    Off,
    /// Served to anyone who reaches the listener.
    Open,
    /// Served to requests with `Authorization: Bearer <token>`. Only the token's SHA-256 is
    /// kept, compared in constant time.
    Bearer { token_hash: String },
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MetricsAccess::Off => "Off",
            MetricsAccess::Open => "Open",
            MetricsAccess::Bearer { .. } => "Bearer(***)",
        })
    }
}

/// The shortest bearer token accepted for `/metrics`.
const MIN_METRICS_TOKEN_LEN: usize = 16;

/// How the listener speaks.
#[derive(Debug, Clone)]
pub enum TlsMode {
    /// Certificate and key from files.
    Files { cert: PathBuf, key: PathBuf },
    /// A local CA and server certificate generated into the data directory.
    Generated,
    /// Plain HTTP, explicitly asked for.
    PlainHttp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The admin API key to create at first start, from the environment (automation, tests).
#[derive(Debug, Clone)]
pub struct AdminSeed {
    pub access_id: String,
    pub access_key: SecretString,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub tls: TlsMode,
    /// Keys from configuration, the first current; `None`: the key file
    /// `data_dir/master.key` (generated on first start).
    pub master_keys: Option<KeyList>,
    pub token_ttl: Duration,
    pub log_format: LogFormat,
    pub admin_seed: Option<AdminSeed>,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub db_max_connections: u32,
    pub iam_user_path: mayfly_domain::UserPath,
    pub revoke_interval: Duration,
    pub reconcile_interval: Duration,
    pub reconcile_min_age: Duration,
    pub admin_rotation_check_interval: Duration,
    /// Lifetime of cache entries (`crate::cache`); zero: no caching.
    pub cache_ttl: Duration,
    /// Who may read `/metrics`.
    pub metrics: MetricsAccess,
    /// The outbound URL policy: `allowed_endpoints` (MAYFLY_ALLOWED_ENDPOINTS) plus the
    /// origins of the operator's `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_IAM` and
    /// `AWS_ENDPOINT_URL_STS`, which the AWS clients use as default endpoints.
    pub outbound: mayfly_domain::OutboundPolicy,
    /// How long a stopping gateway lets in-flight teardowns finish (`shutdown_grace`).
    pub shutdown_grace: Duration,
    /// How long audit events are kept; `None`: forever.
    pub audit_retention: Option<Duration>,
    /// How long finished leases are kept; `None`: forever.
    pub lease_retention: Option<Duration>,
    /// How often housekeeping runs.
    pub housekeeping_interval: Duration,
    /// Who may send a PROXY header (`trusted_proxies`).
    pub trusted_proxies: crate::proxy_protocol::TrustedProxies,
    /// Target name globs that may use the gateway's own AWS identity.
    pub cloud_identity_targets: Vec<String>,
    /// The federation endpoint for console links, instead of AWS's.
    pub federation_endpoint: Option<String>,
    /// Limits on each auth method's credentials.
    pub auth_method_max_live: Option<u32>,
    pub auth_method_max_rate: Option<mayfly_domain::producer::IssueRate>,
    /// The Vault API's AWS engine: its mount and target.
    pub vault: crate::vault::VaultSettings,
    /// IAM writes per second each target's account allows (`aws_iam_write_rate`).
    pub aws_iam_write_rate: Option<f64>,
}

/// Every configuration problem found, each naming its setting.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

impl Config {
    /// What the application core needs of this configuration.
    pub fn settings(&self) -> mayfly_app::state::Settings {
        mayfly_app::state::Settings {
            token_ttl: self.token_ttl,
            max_body_bytes: self.max_body_bytes,
            request_timeout: self.request_timeout,
            iam_user_path: self.iam_user_path.clone(),
            revoke_interval: self.revoke_interval,
            reconcile_interval: self.reconcile_interval,
            reconcile_min_age: self.reconcile_min_age,
            cache_ttl: self.cache_ttl,
            outbound: self.outbound.clone(),
            shutdown_grace: self.shutdown_grace,
            audit_retention: self.audit_retention,
            lease_retention: self.lease_retention,
            housekeeping_interval: self.housekeeping_interval,
            admin_rotation_check_interval: self.admin_rotation_check_interval,
            cloud_identity_targets: self.cloud_identity_targets.clone(),
            federation_endpoint: self.federation_endpoint.clone(),
            auth_method_max_live: self.auth_method_max_live,
            auth_method_max_rate: self.auth_method_max_rate,
        }
    }

    /// Builds the configuration from parsed flags (which already include their environment
    /// variables) and a way to read the variables that have no flag.
    pub fn from_layers(
        mut flags: Flags,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut errors = Vec::new();
        let s = &SETTINGS;
        let config_file: Option<PathBuf> =
            table::resolve(&s.config, flags.config.take(), None, &env, &mut errors);
        let file = match &config_file {
            Some(path) => match read_file(path) {
                Ok(f) => f,
                Err(e) => {
                    errors.push(e);
                    FileConfig::default()
                }
            },
            None => FileConfig::default(),
        };
        let raw = Raw::merge(flags, file, &env, &mut errors);

        let listen = raw
            .listen
            .parse::<SocketAddr>()
            .map_err(|_| {
                errors.push(format!(
                    "{}: {:?} is not an address such as 0.0.0.0:8000",
                    s.listen, raw.listen
                ))
            })
            .ok();

        let data_dir = raw.data_dir;

        let database_url = raw
            .database_url
            .unwrap_or_else(|| default_sqlite_url(&data_dir));
        if let Err(e) = mayfly_store::DatabaseKind::from_url(&database_url) {
            errors.push(format!("{}: {e}", s.database_url));
        }

        let tls = match (raw.insecure_plain_http, raw.tls_cert, raw.tls_key) {
            (true, None, None) => TlsMode::PlainHttp,
            (true, _, _) => {
                errors.push(format!(
                    "{}: cannot be combined with {}/{}; choose one",
                    s.insecure_plain_http, s.tls_cert.name, s.tls_key.name
                ));
                TlsMode::PlainHttp
            }
            (false, Some(cert), Some(key)) => TlsMode::Files { cert, key },
            (false, None, None) => TlsMode::Generated,
            (false, Some(_), None) | (false, None, Some(_)) => {
                errors.push(format!(
                    "{} and {} ({}, {}): give both or neither",
                    s.tls_cert.name, s.tls_key.name, s.tls_cert.env, s.tls_key.env
                ));
                TlsMode::Generated
            }
        };

        let master_keys = match raw.master_key {
            None => None,
            Some(raw) => match KeyList::parse_comma_separated(raw.expose_secret()) {
                Ok(keys) => Some(keys),
                Err(e) => {
                    errors.push(format!("{}: {e}", s.master_key));
                    None
                }
            },
        };

        let token_ttl = parse_duration(&s.token_ttl, &raw.token_ttl, &mut errors);
        let request_timeout = parse_duration(&s.request_timeout, &raw.request_timeout, &mut errors);

        let log_format = match raw.log_format.to_ascii_lowercase().as_str() {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                errors.push(format!("{}: {other:?} is not pretty or json", s.log_format));
                LogFormat::Pretty
            }
        };

        let max_body_bytes = raw.max_body_bytes;
        if !(1024..=64 * 1024 * 1024).contains(&max_body_bytes) {
            errors.push(format!(
                "{}: must be between 1024 and 67108864",
                s.max_body_bytes
            ));
        }
        let db_max_connections = raw.db_max_connections;
        if !(1..=1000).contains(&db_max_connections) {
            errors.push(format!(
                "{}: must be between 1 and 1000",
                s.db_max_connections
            ));
        }

        let iam_user_path = match mayfly_domain::UserPath::parse(&raw.iam_user_path) {
            Ok(p) if p.as_str() != "/" => Some(p),
            Ok(_) => {
                errors.push(format!("{}: must not be / : the reconciler deletes untracked users under this path, so it must be Mayfly's own", s.iam_user_path));
                None
            }
            Err(e) => {
                errors.push(format!("{}: {e}", s.iam_user_path));
                None
            }
        };
        let revoke_interval = parse_duration(&s.revoke_interval, &raw.revoke_interval, &mut errors);
        let reconcile_interval =
            parse_duration(&s.reconcile_interval, &raw.reconcile_interval, &mut errors);
        let reconcile_min_age =
            parse_duration(&s.reconcile_min_age, &raw.reconcile_min_age, &mut errors);
        let admin_rotation_check_interval = parse_duration(
            &s.admin_rotation_check_interval,
            &raw.admin_rotation_check_interval,
            &mut errors,
        );

        let cache_ttl = match raw.cache_ttl.trim() {
            "0" | "0s" => Duration::ZERO,
            _ => parse_duration(&s.cache_ttl, &raw.cache_ttl, &mut errors),
        };
        if cache_ttl > Duration::from_secs(60) {
            errors.push(format!("{}: at most 60s: a revoked token or removed role must stop working within it on every gateway", s.cache_ttl));
        }

        let shutdown_grace = parse_duration(&s.shutdown_grace, &raw.shutdown_grace, &mut errors);
        if shutdown_grace > Duration::from_secs(3600) {
            errors.push(format!("{}: at most 1h", s.shutdown_grace));
        }
        // Retention: 0 keeps forever; the audit default keeps a year (at least 90 days of
        // audit is what most compliance regimes ask).
        let days = |d: u32| (d > 0).then(|| Duration::from_secs(u64::from(d) * 86_400));
        let audit_retention = days(raw.audit_retention_days);
        let lease_retention = days(raw.lease_retention_days);
        let housekeeping_interval = parse_duration(
            &s.housekeeping_interval,
            &raw.housekeeping_interval,
            &mut errors,
        );
        if housekeeping_interval.is_zero() {
            errors.push(format!("{}: must be more than 0", s.housekeeping_interval));
        }

        let outbound = outbound_policy(raw.allowed_endpoints, &env, &mut errors);

        let trusted_proxies = raw
            .trusted_proxies
            .map(|CommaList(list)| {
                crate::proxy_protocol::TrustedProxies::parse(&list).unwrap_or_else(|e| {
                    errors.push(format!("{}: {e}", s.trusted_proxies));
                    Default::default()
                })
            })
            .unwrap_or_default();

        let cloud_identity_targets: Vec<String> = raw
            .cloud_identity_targets
            .map(|CommaList(list)| list)
            .unwrap_or_default()
            .split(',')
            .map(|g| g.trim().to_owned())
            .filter(|g| !g.is_empty())
            .collect();
        for glob in &cloud_identity_targets {
            if !glob.starts_with('/') {
                errors.push(format!(
                    "{}: {glob:?} is not a target name glob; give names such as /platform/* (or /* for every target)",
                    s.cloud_identity_targets
                ));
            }
        }

        let federation_endpoint = raw
            .federation_endpoint
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty());
        if let Some(e) = &federation_endpoint {
            match url::Url::parse(e) {
                Ok(u) if matches!(u.scheme(), "https" | "http") => {}
                _ => errors.push(format!(
                    "{}: {e:?} is not an http(s) URL such as https://signin.aws.amazon.com/federation",
                    s.federation_endpoint
                )),
            }
        }

        let auth_method_max_live = Some(raw.auth_method_max_live).filter(|n| *n > 0);
        let auth_method_max_rate = match raw
            .auth_method_max_issue_rate
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty() && *r != "none")
        {
            None => None,
            Some(r) => mayfly_domain::producer::IssueRate::parse(r)
                .map_err(|e| errors.push(format!("{}: {e}", s.auth_method_max_issue_rate)))
                .ok(),
        };

        let aws_iam_write_rate = match raw
            .aws_iam_write_rate
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty() && *r != "none")
        {
            None => None,
            Some(r) => match r.parse::<f64>() {
                Ok(rate) if rate.is_finite() && (0.5..=10_000.0).contains(&rate) => Some(rate),
                _ => {
                    errors.push(format!(
                        "{}: {r:?} is not a rate in calls per second between 0.5 and 10000 (e.g. 20), or none",
                        s.aws_iam_write_rate
                    ));
                    None
                }
            },
        };

        let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let admin_seed = match (
            non_empty(env(ADMIN_ACCESS_ID_ENV)),
            non_empty(env(ADMIN_ACCESS_KEY_ENV)),
        ) {
            (None, None) => None,
            (Some(id), Some(key)) => {
                if !id.starts_with("p-")
                    || id.len() < 6
                    || id.len() > 64
                    || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    errors.push(format!("{ADMIN_ACCESS_ID_ENV}: must look like p-xxxxxxxx (letters and digits after p-, 6 to 64 characters)"));
                }
                if key.len() < 16 {
                    errors.push(format!(
                        "{ADMIN_ACCESS_KEY_ENV}: must be at least 16 characters"
                    ));
                }
                Some(AdminSeed {
                    access_id: id,
                    access_key: SecretString::from(key),
                })
            }
            _ => {
                errors.push(format!(
                    "{ADMIN_ACCESS_ID_ENV} and {ADMIN_ACCESS_KEY_ENV}: set both or neither"
                ));
                None
            }
        };

        let vault = vault_settings(raw.vault_mount, raw.vault_target, &mut errors);

        let metrics = metrics_access(
            raw.metrics,
            non_empty(env(METRICS_TOKEN_ENV)),
            raw.metrics_token_file,
            &mut errors,
        );

        match (errors.is_empty(), listen, iam_user_path, vault) {
            (true, Some(listen), Some(iam_user_path), Some(vault)) => Ok(Config {
                listen,
                data_dir,
                database_url,
                tls,
                master_keys,
                token_ttl,
                log_format,
                admin_seed,
                max_body_bytes,
                request_timeout,
                db_max_connections,
                iam_user_path,
                revoke_interval,
                reconcile_interval,
                reconcile_min_age,
                admin_rotation_check_interval,
                cache_ttl,
                metrics,
                outbound,
                shutdown_grace,
                audit_retention,
                lease_retention,
                housekeeping_interval,
                trusted_proxies,
                cloud_identity_targets,
                federation_endpoint,
                auth_method_max_live,
                auth_method_max_rate,
                vault,
                aws_iam_write_rate,
            }),
            _ => Err(ConfigError(errors)),
        }
    }
}

/// The Vault API's mount name and target (`/<mount>` unless set).
fn vault_settings(
    mount: String,
    target: Option<String>,
    errors: &mut Vec<String>,
) -> Option<crate::vault::VaultSettings> {
    let s = &SETTINGS;
    let mount = mount.trim().trim_matches('/').to_owned();
    let mount_ok = !mount.is_empty()
        && mount.len() <= 64
        && mount
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !matches!(mount.as_str(), "sys" | "auth");
    if !mount_ok {
        errors.push(format!(
            "{}: {mount:?} is not a mount name: use letters, digits, - and _ (not sys or auth), e.g. aws",
            s.vault_mount
        ));
        return None;
    }
    let target = target.unwrap_or_else(|| format!("/{mount}"));
    match mayfly_domain::ItemName::parse(&target) {
        Ok(target) => Some(crate::vault::VaultSettings { mount, target }),
        Err(e) => {
            errors.push(format!("{}: {e}", s.vault_target));
            None
        }
    }
}

/// The `metrics` setting and its token (from `MAYFLY_METRICS_TOKEN` or a file). A token is
/// never echoed in an error.
fn metrics_access(
    mode: Option<String>,
    token: Option<String>,
    token_file: Option<PathBuf>,
    errors: &mut Vec<String>,
) -> MetricsAccess {
    let (setting, token_file_setting) = (&SETTINGS.metrics, &SETTINGS.metrics_token_file);
    let token = match (token, token_file) {
        (Some(_), Some(_)) => {
            errors.push(format!(
                "{METRICS_TOKEN_ENV} and {token_file_setting}: give one, not both"
            ));
            None
        }
        (Some(t), None) => Some((t, METRICS_TOKEN_ENV.to_owned())),
        (None, Some(path)) => match std::fs::read_to_string(&path) {
            Ok(text) => Some((
                text.trim().to_owned(),
                format!("{token_file_setting} {}", path.display()),
            )),
            Err(e) => {
                errors.push(format!(
                    "{token_file_setting}: cannot read {}: {e}",
                    path.display()
                ));
                None
            }
        },
        (None, None) => None,
    };
    let mode = mode.map(|m| m.trim().to_ascii_lowercase());
    match (mode.as_deref(), token) {
        (None | Some("bearer"), Some((token, source))) => {
            let token = token.trim();
            if token.len() < MIN_METRICS_TOKEN_LEN
                || token.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                errors.push(format!(
                    "{source}: the /metrics bearer token must be at least {MIN_METRICS_TOKEN_LEN} characters without spaces (e.g. openssl rand -hex 32)"
                ));
            }
            MetricsAccess::Bearer {
                token_hash: mayfly_crypto::hash_secret(token),
            }
        }
        (Some("bearer"), None) => {
            errors.push(format!(
                "{setting}: bearer needs a token: set {METRICS_TOKEN_ENV} or {token_file_setting}"
            ));
            MetricsAccess::Off
        }
        (None | Some("open"), None) => MetricsAccess::Open,
        (Some("off"), None) => MetricsAccess::Off,
        (Some(m @ ("open" | "off")), Some((_, source))) => {
            errors.push(format!(
                "{setting}: is {m}, but {source} sets a bearer token; set metrics to bearer or remove the token"
            ));
            MetricsAccess::Off
        }
        (Some(other), _) => {
            errors.push(format!("{setting}: {other:?} is not off, open or bearer"));
            MetricsAccess::Off
        }
    }
}

/// The outbound policy from `allowed_endpoints` and the operator's AWS endpoint variables.
fn outbound_policy(
    allowed: Option<CommaList>,
    env: &impl Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
) -> mayfly_domain::OutboundPolicy {
    use mayfly_domain::AllowedOrigin;
    let mut policy = mayfly_domain::OutboundPolicy::default();
    if let Some(CommaList(raw)) = allowed {
        match AllowedOrigin::parse_list(&raw) {
            Ok(list) => list.into_iter().for_each(|o| policy.allow(o)),
            Err(bad) => errors.push(format!(
                "{}: each entry must be scheme://host[:port] with http or https and no path: {}",
                SETTINGS.allowed_endpoints,
                bad.join("; ")
            )),
        }
    }
    for name in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
    ] {
        let Some(raw) = env(name).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        match AllowedOrigin::of_url(&raw) {
            Ok(origin) => policy.allow(origin),
            Err(e) => errors.push(format!("{name}: must be an http(s) URL: {e}")),
        }
    }
    policy
}

fn read_file(path: &Path) -> Result<FileConfig, String> {
    let setting = &SETTINGS.config;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{setting}: cannot read {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{setting}: {}: {e}", path.display()))
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("mayfly.db").display())
}

fn parse_duration(setting: &Setting, raw: &str, errors: &mut Vec<String>) -> Duration {
    match Ttl::parse(raw) {
        Ok(ttl) => ttl.as_duration(),
        Err(e) => {
            errors.push(format!("{setting}: {e}"));
            Duration::from_secs(60)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(flags: Flags, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_layers(flags, move |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_are_https_on_8000_with_sqlite_in_data() {
        let c = load(Flags::default(), &[]).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:8000");
        assert!(matches!(c.tls, TlsMode::Generated));
        assert!(c.database_url.starts_with("sqlite://"));
        assert!(c.database_url.contains("data"));
        assert_eq!(c.token_ttl, Duration::from_secs(3600));
    }

    #[test]
    fn every_problem_is_reported_with_its_setting_name() {
        let flags = Flags {
            listen: Some("nowhere".into()),
            token_ttl: Some("60".into()),
            log_format: Some("xml".into()),
            tls_cert: Some("c.pem".into()),
            database_url: Some("mysql://x".into()),
            ..Flags::default()
        };
        let err = load(flags, &[("MAYFLY_ADMIN_ACCESS_ID", "p-abcdef")]).unwrap_err();
        let text = err.to_string();
        for needle in [
            "listen",
            "token_ttl",
            "log_format",
            "tls_cert and tls_key",
            "database_url",
            "MAYFLY_ADMIN_ACCESS_ID and MAYFLY_ADMIN_ACCESS_KEY",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
        assert_eq!(err.0.len(), 6, "{text}");
    }

    #[test]
    fn the_known_iam_write_rate_is_a_positive_number_or_none() {
        // (MAYFLY_AWS_IAM_WRITE_RATE reaches the flag through clap.)
        let rate = |text: &str| Flags {
            aws_iam_write_rate: Some(text.into()),
            ..Flags::default()
        };
        assert_eq!(
            load(Flags::default(), &[]).unwrap().aws_iam_write_rate,
            None
        );
        assert_eq!(
            load(rate("20"), &[]).unwrap().aws_iam_write_rate,
            Some(20.0)
        );
        assert_eq!(load(rate("none"), &[]).unwrap().aws_iam_write_rate, None);
        for bad in ["0", "-3", "fast", "NaN", "1e9"] {
            let err = load(rate(bad), &[]).unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("aws_iam_write_rate") && text.contains("e.g. 20"),
                "{bad}: {text}"
            );
        }
    }

    #[test]
    fn file_values_apply_and_flags_override_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mayfly.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\ntoken_ttl = \"5m\"\n").unwrap();
        let flags = Flags {
            config: Some(path.clone().into()),
            token_ttl: Some("10m".into()),
            ..Flags::default()
        };
        let c = load(flags, &[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.token_ttl, Duration::from_secs(600));

        std::fs::write(&path, "listn = \"x\"\n").unwrap();
        let err = load(
            Flags {
                config: Some(path.into()),
                ..Flags::default()
            },
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("listn"), "{err}");
    }

    #[test]
    fn metrics_access_is_open_by_default_and_bearer_with_a_token() {
        assert_eq!(
            load(Flags::default(), &[]).unwrap().metrics,
            MetricsAccess::Open
        );
        let off = Flags {
            metrics: Some("OFF".into()),
            ..Flags::default()
        };
        assert_eq!(load(off, &[]).unwrap().metrics, MetricsAccess::Off);
        let token = "metrics-token-0123456789abcdef";
        let c = load(Flags::default(), &[("MAYFLY_METRICS_TOKEN", token)]).unwrap();
        assert_eq!(
            c.metrics,
            MetricsAccess::Bearer {
                token_hash: mayfly_crypto::hash_secret(token)
            }
        );
        assert!(!format!("{c:?}").contains(token), "never in Debug");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.token");
        std::fs::write(&path, format!("{token}\n")).unwrap();
        let from_file = Flags {
            metrics: Some("bearer".into()),
            metrics_token_file: Some(path.into()),
            ..Flags::default()
        };
        assert_eq!(load(from_file, &[]).unwrap().metrics, c.metrics);

        for (flags, env, needle) in [
            (Some("bearer"), None, "needs a token"),
            (Some("loud"), None, "not off, open or bearer"),
            (Some("open"), Some(token), "set metrics to bearer"),
            (None, Some("short"), "at least 16"),
        ] {
            let flags = Flags {
                metrics: flags.map(Into::into),
                ..Flags::default()
            };
            let env: Vec<(&str, &str)> = env
                .map(|t| ("MAYFLY_METRICS_TOKEN", t))
                .into_iter()
                .collect();
            let err = load(flags, &env).unwrap_err().to_string();
            assert!(err.contains(needle), "{needle}: {err}");
            assert!(
                !err.contains(token) && !err.contains("short\""),
                "no token echoed: {err}"
            );
        }
    }

    #[test]
    fn trusted_proxies_come_from_flags_or_the_file_and_bad_entries_are_named() {
        assert!(load(Flags::default(), &[])
            .unwrap()
            .trusted_proxies
            .is_empty());
        let c = load(
            Flags {
                trusted_proxies: Some("10.0.0.0/8, 127.0.0.1".into()),
                ..Flags::default()
            },
            &[],
        )
        .unwrap();
        assert!(c.trusted_proxies.contains("10.2.3.4".parse().unwrap()));
        assert!(!c.trusted_proxies.contains("127.0.0.2".parse().unwrap()));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mayfly.toml");
        std::fs::write(&path, "trusted_proxies = [\"192.0.2.0/24\"]\n").unwrap();
        let c = load(
            Flags {
                config: Some(path.into()),
                ..Flags::default()
            },
            &[],
        )
        .unwrap();
        assert_eq!(c.trusted_proxies.to_string(), "192.0.2.0/24");

        let err = load(
            Flags {
                trusted_proxies: Some("10.0.0.0/8,lb.internal".into()),
                ..Flags::default()
            },
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("MAYFLY_TRUSTED_PROXIES"), "{err}");
        assert!(err.contains("lb.internal"), "{err}");
    }

    #[test]
    fn cloud_identity_targets_are_name_globs_and_none_by_default() {
        assert!(load(Flags::default(), &[])
            .unwrap()
            .cloud_identity_targets
            .is_empty());
        let c = load(
            Flags {
                cloud_identity_targets: Some("/platform/*, /shared/aws".into()),
                ..Flags::default()
            },
            &[],
        )
        .unwrap();
        assert_eq!(c.cloud_identity_targets, ["/platform/*", "/shared/aws"]);
        assert!(c
            .settings()
            .cloud_identity_targets
            .contains(&"/shared/aws".to_owned()));
        let err = load(
            Flags {
                cloud_identity_targets: Some("platform/*".into()),
                ..Flags::default()
            },
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("MAYFLY_CLOUD_IDENTITY_TARGETS") || err.contains("cloud_identity_targets"),
            "{err}"
        );
    }

    #[test]
    fn allowed_endpoints_are_exact_origins_plus_the_operators_aws_endpoints() {
        use mayfly_domain::AwsService;
        let flags = Flags {
            allowed_endpoints: Some("http://127.0.0.1:5000/, https://emu.internal:8443".into()),
            ..Flags::default()
        };
        let c = load(flags, &[("AWS_ENDPOINT_URL", "http://moto:5000/x")]).unwrap();
        let shown: Vec<String> = c
            .outbound
            .allowed()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            shown,
            [
                "http://127.0.0.1:5000",
                "https://emu.internal:8443",
                "http://moto:5000"
            ]
        );
        assert!(c
            .outbound
            .check_aws_endpoint(AwsService::Iam, "http://moto:5000")
            .is_ok());
        assert!(load(Flags::default(), &[])
            .unwrap()
            .outbound
            .allowed()
            .is_empty());

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mayfly.toml");
        std::fs::write(&path, "allowed_endpoints = [\"http://[::1]:9000\"]\n").unwrap();
        let c = load(
            Flags {
                config: Some(path.into()),
                ..Flags::default()
            },
            &[],
        )
        .unwrap();
        assert_eq!(c.outbound.allowed()[0].to_string(), "http://[::1]:9000");

        let err = load(
            Flags {
                allowed_endpoints: Some("http://127.0.0.1:5000/path,127.0.0.1".into()),
                ..Flags::default()
            },
            &[("AWS_ENDPOINT_URL_STS", "not a url")],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("MAYFLY_ALLOWED_ENDPOINTS"), "{err}");
        assert!(err.contains("AWS_ENDPOINT_URL_STS"), "{err}");
    }

    #[test]
    fn a_bad_master_key_is_rejected_without_echoing_it() {
        let flags = Flags {
            master_key: Some("k1:c2VjcmV0LW1hdGVyaWFs".into()),
            ..Flags::default()
        };
        let err = load(flags, &[]).unwrap_err().to_string();
        assert!(err.contains("master_key"), "{err}");
        assert!(!err.contains("c2VjcmV0LW1hdGVyaWFs"), "{err}");
    }

    #[test]
    fn master_keys_are_a_comma_separated_list_with_the_current_key_first() {
        let (k1, k2) = (
            mayfly_crypto::MasterKey::generate("k1").unwrap(),
            mayfly_crypto::MasterKey::generate("k2").unwrap(),
        );
        use secrecy::ExposeSecret;
        let list = format!(
            "{},{}",
            k2.encode().expose_secret(),
            k1.encode().expose_secret()
        );
        let flags = Flags {
            master_key: Some(list.into()),
            ..Flags::default()
        };
        let c = load(flags, &[]).unwrap();
        assert_eq!(c.master_keys.unwrap().ids(), ["k2", "k1"]);
        assert!(load(Flags::default(), &[]).unwrap().master_keys.is_none());
        assert_eq!(
            load(Flags::default(), &[])
                .unwrap()
                .admin_rotation_check_interval,
            Duration::from_secs(600)
        );

        let twice = format!(
            "{},{}",
            k1.encode().expose_secret(),
            k1.encode().expose_secret()
        );
        let err = load(
            Flags {
                master_key: Some(twice.into()),
                ..Flags::default()
            },
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("master_key") && err.contains("k1"), "{err}");
    }

    #[test]
    fn every_row_has_a_doc_a_mayfly_variable_and_a_line_in_the_configuration_reference() {
        let reference = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/configuration.md"
        ))
        .unwrap();
        let rows = SETTINGS.rows();
        assert!(rows.len() > 20, "{}", rows.len());
        let mut names = std::collections::HashSet::new();
        for row in rows {
            assert!(names.insert(row.name), "{} twice", row.name);
            assert!(
                row.doc.iter().any(|line| !line.trim().is_empty()),
                "{} has no doc",
                row.name
            );
            let variables: Vec<&str> = std::iter::once(row.env).chain(row.also_env).collect();
            assert!(
                variables.iter().any(|v| v.starts_with("MAYFLY_")),
                "{} has no MAYFLY_ variable",
                row.name
            );
            for needle in variables
                .iter()
                .copied()
                .map(str::to_owned)
                .chain([row.flag()])
            {
                assert!(
                    reference.contains(&needle),
                    "docs/configuration.md does not mention {needle}"
                );
            }
            if row.in_file {
                // Its line in the reference's table (first cell: the file key) gives the
                // same default.
                let key = format!("`{}`", row.name);
                let line = reference
                    .lines()
                    .find(|l| l.split('|').nth(1).is_some_and(|cell| cell.contains(&key)))
                    .unwrap_or_else(|| panic!("no line for {} in docs/configuration.md", row.name));
                if let Some(default) = row.default {
                    assert!(
                        line.contains(&format!("| `{default}` |")),
                        "docs/configuration.md gives {} another default than {default}: {line}",
                        row.name
                    );
                }
            }
        }
        for variable in ENVIRONMENT_ONLY {
            assert!(reference.contains(variable), "{variable} not documented");
        }
    }

    #[test]
    fn help_text_is_the_doc_with_the_default_and_the_second_variable() {
        assert_eq!(
            SETTINGS.listen.help(),
            "Address to listen on [default: 0.0.0.0:8000]"
        );
        assert_eq!(
            SETTINGS.log_format.help(),
            "Log format: pretty or json [default: pretty]. Levels come from RUST_LOG"
        );
        assert_eq!(
            SETTINGS.database_url.help(),
            "Database URL: sqlite://FILE or postgres://... [default: sqlite in the data directory]. `MAYFLY_DATABASE_URL` is also read"
        );
        assert_eq!(SETTINGS.tls_key.help(), "TLS private key (PEM)");
        assert_eq!(SETTINGS.listen.to_string(), "listen (MAYFLY_LISTEN)");
        assert_eq!(SETTINGS.max_body_bytes.flag(), "--max-body-bytes");
    }

    #[test]
    fn every_default_in_the_table_is_a_valid_value() {
        // Flags::default() sets nothing: every value is the table's default.
        let c = load(Flags::default(), &[]).unwrap();
        assert_eq!(c.max_body_bytes, 1024 * 1024);
        assert_eq!(c.db_max_connections, 10);
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.audit_retention, Some(Duration::from_secs(365 * 86_400)));
        assert_eq!(c.cache_ttl, Duration::from_secs(2));
        assert_eq!(c.log_format, LogFormat::Pretty);
    }

    /// A command line like main's: the flags, then an optional command.
    #[derive(Debug, clap::Parser)]
    struct CommandLine {
        #[command(flatten)]
        flags: Flags,
        #[command(subcommand)]
        command: Option<TestCommand>,
    }

    #[derive(Debug, clap::Subcommand)]
    enum TestCommand {
        Openapi,
    }

    #[test]
    fn clap_takes_any_value_so_commands_run_and_bad_values_are_named_at_validation() {
        use clap::Parser;
        // Environment variables reach clap's value parser like these flags do: whatever they
        // hold, a command that needs no configuration still runs.
        let line = CommandLine::try_parse_from([
            "mayfly-gateway",
            "--max-body-bytes",
            "lots",
            "--insecure-plain-http",
            "maybe",
            "--data-dir",
            "",
            "--db-max-connections=-1",
            "openapi",
        ])
        .unwrap();
        assert!(matches!(line.command, Some(TestCommand::Openapi)));
        let err = load(line.flags, &[]).unwrap_err();
        let text = err.to_string();
        for needle in [
            "max_body_bytes (MAYFLY_MAX_BODY_BYTES): \"lots\" is not a whole number",
            "insecure_plain_http (MAYFLY_INSECURE_PLAIN_HTTP): \"maybe\" is not true or false",
            "data_dir (MAYFLY_DATA_DIR): is empty",
            "db_max_connections (MAYFLY_DB_MAX_CONNECTIONS): \"-1\" is not a whole number",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
        assert_eq!(err.0.len(), 4, "{text}");

        // The bare flag still means true.
        let line =
            CommandLine::try_parse_from(["mayfly-gateway", "--insecure-plain-http"]).unwrap();
        let c = load(line.flags, &[]).unwrap();
        assert!(matches!(c.tls, TlsMode::PlainHttp));
    }

    #[test]
    fn the_file_takes_typed_values_and_not_its_own_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mayfly.toml");
        std::fs::write(
            &path,
            "max_body_bytes = 2048\ninsecure_plain_http = true\nlisten = \" \"\n",
        )
        .unwrap();
        let flags = || Flags {
            config: Some(path.clone().into()),
            ..Flags::default()
        };
        let c = load(flags(), &[]).unwrap();
        assert_eq!(c.max_body_bytes, 2048);
        assert!(matches!(c.tls, TlsMode::PlainHttp));
        assert_eq!(c.listen.to_string(), "0.0.0.0:8000", "blank is unset");

        // The database URL: DATABASE_URL (the flag's variable, in the flags here) before
        // MAYFLY_DATABASE_URL before the file.
        std::fs::write(&path, "database_url = \"sqlite://file.db\"\n").unwrap();
        let c = load(flags(), &[("MAYFLY_DATABASE_URL", "sqlite://env.db")]).unwrap();
        assert_eq!(c.database_url, "sqlite://env.db");
        let c = load(
            Flags {
                database_url: Some("sqlite://flag.db".into()),
                ..flags()
            },
            &[("MAYFLY_DATABASE_URL", "sqlite://env.db")],
        )
        .unwrap();
        assert_eq!(c.database_url, "sqlite://flag.db");
        assert_eq!(load(flags(), &[]).unwrap().database_url, "sqlite://file.db");

        for text in ["config = \"other.toml\"\n", "max_body_bytes = \"2048\"\n"] {
            std::fs::write(&path, text).unwrap();
            let err = load(flags(), &[]).unwrap_err().to_string();
            assert!(err.contains("config (MAYFLY_CONFIG)"), "{err}");
        }
    }

    #[test]
    fn flags_never_show_the_master_key() {
        let flags = Flags {
            master_key: Some("k1:c2VjcmV0LW1hdGVyaWFs".into()),
            listen: Some("127.0.0.1:1".into()),
            ..Flags::default()
        };
        let shown = format!("{flags:?}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
        assert!(shown.contains("127.0.0.1:1"), "{shown}");
    }
}
