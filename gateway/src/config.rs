//! Configuration: defaults, then a TOML file, then `MAYFLY_*` environment variables, then
//! command-line flags, each layer overriding the one before. Everything is validated at load,
//! and every problem is reported at once with the name of the setting, so an operator fixes a
//! broken deployment in one go.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use clap::Parser;
use mayfly_domain::Ttl;
use secrecy::SecretString;
use serde::Deserialize;

use mayfly_crypto::KeyList;

/// Command-line flags. Each one can also be set by the environment variable shown in
/// `--help`, or by the same name (snake_case) in the `--config` TOML file.
#[derive(Debug, Default, Parser)]
#[command(
    name = "mayfly-gateway",
    version,
    about = "Mayfly: short-lived AWS credentials, Akeyless-compatible API"
)]
pub struct Flags {
    /// TOML configuration file; flags and environment variables override it.
    #[arg(long, env = "MAYFLY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 0.0.0.0:8000].
    #[arg(long, env = "MAYFLY_LISTEN")]
    pub listen: Option<String>,
    /// Directory for the SQLite database, generated TLS files and master key [default: ./data].
    #[arg(long, env = "MAYFLY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://FILE or postgres://... [default: sqlite in the data directory].
    /// `MAYFLY_DATABASE_URL` is also read.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// TLS certificate chain (PEM). Without it a local CA and certificate are generated.
    #[arg(long, env = "MAYFLY_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "MAYFLY_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP. Only behind a TLS-terminating proxy: tokens and secrets cross the wire.
    #[arg(long, env = "MAYFLY_INSECURE_PLAIN_HTTP", num_args = 0..=1, default_missing_value = "true")]
    pub insecure_plain_http: Option<bool>,
    /// Master keys `KEYID:BASE64` (32 bytes each), comma-separated: the first seals stored
    /// secrets, the others (previous keys) still open them. Without it keys are kept in
    /// DATA_DIR/master.key (one per line, generated on first start).
    #[arg(long, env = "MAYFLY_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// Lifetime of tokens from /auth, e.g. 60m [default: 60m].
    #[arg(long, env = "MAYFLY_TOKEN_TTL")]
    pub token_ttl: Option<String>,
    /// Log format: pretty or json [default: pretty]. Levels come from RUST_LOG.
    #[arg(long, env = "MAYFLY_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Largest request body accepted, in bytes [default: 1048576].
    #[arg(long, env = "MAYFLY_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Deadline for one request, e.g. 60s [default: 60s].
    #[arg(long, env = "MAYFLY_REQUEST_TIMEOUT")]
    pub request_timeout: Option<String>,
    /// Largest number of database connections [default: 10].
    #[arg(long, env = "MAYFLY_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<u32>,
    /// IAM path for temporary users, e.g. /mayfly/ [default: /mayfly/].
    #[arg(long, env = "MAYFLY_IAM_USER_PATH")]
    pub iam_user_path: Option<String>,
    /// How often the revoker looks for expired credentials [default: 1s].
    #[arg(long, env = "MAYFLY_REVOKE_INTERVAL")]
    pub revoke_interval: Option<String>,
    /// How often the reconciler runs [default: 5m].
    #[arg(long, env = "MAYFLY_RECONCILE_INTERVAL")]
    pub reconcile_interval: Option<String>,
    /// How old a stuck lease or an untracked IAM user must be before the reconciler acts [default: 2m].
    #[arg(long, env = "MAYFLY_RECONCILE_MIN_AGE")]
    pub reconcile_min_age: Option<String>,
    /// How often to look for targets whose scheduled admin key rotation is due [default: 10m].
    #[arg(long, env = "MAYFLY_ADMIN_ROTATION_CHECK_INTERVAL")]
    pub admin_rotation_check_interval: Option<String>,
    /// How long a gateway may reuse a resolved token (its roles and rules) and a dynamic
    /// secret with its target before reading them again; changes made through another
    /// gateway are seen within this time. 0 turns the caches off [default: 2s].
    #[arg(long, env = "MAYFLY_CACHE_TTL")]
    pub cache_ttl: Option<String>,
    /// Who may read GET /metrics: off (404), open (anyone who reaches the port) or bearer
    /// (`Authorization: Bearer <token>`, the token from MAYFLY_METRICS_TOKEN or
    /// --metrics-token-file) [default: bearer when a token is configured, else open].
    #[arg(long, env = "MAYFLY_METRICS")]
    pub metrics: Option<String>,
    /// File holding the bearer token for /metrics (one line, at least 16 characters).
    #[arg(long, env = "MAYFLY_METRICS_TOKEN_FILE")]
    pub metrics_token_file: Option<PathBuf>,
    /// Origins `scheme://host[:port]` (comma-separated) that target endpoints may use besides
    /// AWS's own https endpoints, e.g. a local emulator http://127.0.0.1:5000. Matched exactly
    /// on scheme, host and port [default: none].
    #[arg(long, env = "MAYFLY_ALLOWED_ENDPOINTS")]
    pub allowed_endpoints: Option<String>,
    /// On SIGTERM/SIGINT: how long teardowns already started may take to finish before the
    /// gateway exits; unfinished ones are handed back at once for any gateway to finish. Keep
    /// it below Kubernetes' terminationGracePeriodSeconds [default: 20s].
    #[arg(long, env = "MAYFLY_SHUTDOWN_GRACE")]
    pub shutdown_grace: Option<String>,
    /// Days audit events are kept; older ones are deleted by housekeeping. 0 keeps them
    /// forever [default: 365].
    #[arg(long, env = "MAYFLY_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u32>,
    /// Days finished leases (revoked, aborted, expired) are kept for tmp-creds history; 0
    /// keeps them forever [default: 90].
    #[arg(long, env = "MAYFLY_LEASE_RETENTION_DAYS")]
    pub lease_retention_days: Option<u32>,
    /// How often housekeeping runs (expired tokens, retention, unneeded targets) [default: 5m].
    #[arg(long, env = "MAYFLY_HOUSEKEEPING_INTERVAL")]
    pub housekeeping_interval: Option<String>,
    /// Load balancers (addresses or CIDR blocks, comma-separated) whose connections may start
    /// with a PROXY protocol v1/v2 header naming the real client, e.g. HAProxy's
    /// send-proxy-v2. The client it names is throttled and audited; from other addresses the
    /// header is never read [default: none].
    #[arg(long, env = "MAYFLY_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
}

/// The TOML file: the same settings as the flags, in snake_case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    insecure_plain_http: Option<bool>,
    master_key: Option<String>,
    token_ttl: Option<String>,
    log_format: Option<String>,
    max_body_bytes: Option<usize>,
    request_timeout: Option<String>,
    db_max_connections: Option<u32>,
    iam_user_path: Option<String>,
    revoke_interval: Option<String>,
    reconcile_interval: Option<String>,
    reconcile_min_age: Option<String>,
    admin_rotation_check_interval: Option<String>,
    cache_ttl: Option<String>,
    metrics: Option<String>,
    metrics_token_file: Option<PathBuf>,
    /// A comma-separated string or a list of origins.
    allowed_endpoints: Option<StringOrList>,
    shutdown_grace: Option<String>,
    audit_retention_days: Option<u32>,
    lease_retention_days: Option<u32>,
    housekeeping_interval: Option<String>,
    /// A comma-separated string or a list of addresses and CIDR blocks.
    trusted_proxies: Option<StringOrList>,
}

/// A TOML value given either as `"a,b"` or as `["a", "b"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StringOrList {
    String(String),
    List(Vec<String>),
}

impl StringOrList {
    fn joined(self) -> String {
        match self {
            StringOrList::String(s) => s,
            StringOrList::List(items) => items.join(","),
        }
    }
}

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
        }
    }

    /// Loads from the process's flags and environment (and the file they name).
    pub fn load() -> Result<Config, ConfigError> {
        let flags = Flags::parse();
        Self::from_layers(flags, |k| std::env::var(k).ok())
    }

    /// Builds the configuration from parsed flags (which already include their environment
    /// variables) and a way to read the few variables that have no flag.
    pub fn from_layers(
        flags: Flags,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut errors = Vec::new();
        let file = match &flags.config {
            Some(path) => match read_file(path) {
                Ok(f) => f,
                Err(e) => {
                    errors.push(e);
                    FileConfig::default()
                }
            },
            None => FileConfig::default(),
        };
        let non_empty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());

        let listen_raw = non_empty(flags.listen)
            .or(non_empty(file.listen))
            .unwrap_or_else(|| "0.0.0.0:8000".into());
        let listen = listen_raw
            .parse::<SocketAddr>()
            .map_err(|_| {
                errors.push(format!(
                    "listen (MAYFLY_LISTEN): {listen_raw:?} is not an address such as 0.0.0.0:8000"
                ))
            })
            .ok();

        let data_dir = flags
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));

        let database_url = non_empty(flags.database_url)
            .or_else(|| non_empty(env("MAYFLY_DATABASE_URL")))
            .or(non_empty(file.database_url))
            .unwrap_or_else(|| default_sqlite_url(&data_dir));
        if let Err(e) = mayfly_store::DatabaseKind::from_url(&database_url) {
            errors.push(format!("database_url (DATABASE_URL): {e}"));
        }

        let plain = flags
            .insecure_plain_http
            .or(file.insecure_plain_http)
            .unwrap_or(false);
        let cert = flags.tls_cert.or(file.tls_cert);
        let key = flags.tls_key.or(file.tls_key);
        let tls = match (plain, cert, key) {
            (true, None, None) => TlsMode::PlainHttp,
            (true, _, _) => {
                errors.push(
                    "insecure_plain_http (MAYFLY_INSECURE_PLAIN_HTTP): cannot be combined with tls_cert/tls_key; choose one".into(),
                );
                TlsMode::PlainHttp
            }
            (false, Some(cert), Some(key)) => TlsMode::Files { cert, key },
            (false, None, None) => TlsMode::Generated,
            (false, Some(_), None) | (false, None, Some(_)) => {
                errors.push(
                    "tls_cert and tls_key (MAYFLY_TLS_CERT, MAYFLY_TLS_KEY): give both or neither"
                        .into(),
                );
                TlsMode::Generated
            }
        };

        let master_keys = match non_empty(flags.master_key).or(non_empty(file.master_key)) {
            None => None,
            Some(raw) => match KeyList::parse_comma_separated(&raw) {
                Ok(keys) => Some(keys),
                Err(e) => {
                    errors.push(format!("master_key (MAYFLY_MASTER_KEY): {e}"));
                    None
                }
            },
        };

        let token_ttl = parse_duration(
            "token_ttl (MAYFLY_TOKEN_TTL)",
            non_empty(flags.token_ttl).or(non_empty(file.token_ttl)),
            "60m",
            &mut errors,
        );
        let request_timeout = parse_duration(
            "request_timeout (MAYFLY_REQUEST_TIMEOUT)",
            non_empty(flags.request_timeout).or(non_empty(file.request_timeout)),
            "60s",
            &mut errors,
        );

        let log_format = match non_empty(flags.log_format)
            .or(non_empty(file.log_format))
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                errors.push(format!(
                    "log_format (MAYFLY_LOG_FORMAT): {other:?} is not pretty or json"
                ));
                LogFormat::Pretty
            }
        };

        let max_body_bytes = flags
            .max_body_bytes
            .or(file.max_body_bytes)
            .unwrap_or(1024 * 1024);
        if !(1024..=64 * 1024 * 1024).contains(&max_body_bytes) {
            errors.push(
                "max_body_bytes (MAYFLY_MAX_BODY_BYTES): must be between 1024 and 67108864".into(),
            );
        }
        let db_max_connections = flags
            .db_max_connections
            .or(file.db_max_connections)
            .unwrap_or(10);
        if !(1..=1000).contains(&db_max_connections) {
            errors.push(
                "db_max_connections (MAYFLY_DB_MAX_CONNECTIONS): must be between 1 and 1000".into(),
            );
        }

        let iam_user_path = match mayfly_domain::UserPath::parse(
            non_empty(flags.iam_user_path)
                .or(non_empty(file.iam_user_path))
                .as_deref()
                .unwrap_or("/mayfly/"),
        ) {
            Ok(p) if p.as_str() != "/" => Some(p),
            Ok(_) => {
                errors.push("iam_user_path (MAYFLY_IAM_USER_PATH): must not be / : the reconciler deletes untracked users under this path, so it must be Mayfly's own".into());
                None
            }
            Err(e) => {
                errors.push(format!("iam_user_path (MAYFLY_IAM_USER_PATH): {e}"));
                None
            }
        };
        let revoke_interval = parse_duration(
            "revoke_interval (MAYFLY_REVOKE_INTERVAL)",
            non_empty(flags.revoke_interval).or(non_empty(file.revoke_interval)),
            "1s",
            &mut errors,
        );
        let reconcile_interval = parse_duration(
            "reconcile_interval (MAYFLY_RECONCILE_INTERVAL)",
            non_empty(flags.reconcile_interval).or(non_empty(file.reconcile_interval)),
            "5m",
            &mut errors,
        );
        let reconcile_min_age = parse_duration(
            "reconcile_min_age (MAYFLY_RECONCILE_MIN_AGE)",
            non_empty(flags.reconcile_min_age).or(non_empty(file.reconcile_min_age)),
            "2m",
            &mut errors,
        );
        let admin_rotation_check_interval = parse_duration(
            "admin_rotation_check_interval (MAYFLY_ADMIN_ROTATION_CHECK_INTERVAL)",
            non_empty(flags.admin_rotation_check_interval)
                .or(non_empty(file.admin_rotation_check_interval)),
            "10m",
            &mut errors,
        );

        let cache_ttl_raw = non_empty(flags.cache_ttl).or(non_empty(file.cache_ttl));
        let cache_ttl = match cache_ttl_raw.as_deref().map(str::trim) {
            Some("0") | Some("0s") => Duration::ZERO,
            _ => parse_duration(
                "cache_ttl (MAYFLY_CACHE_TTL)",
                cache_ttl_raw,
                "2s",
                &mut errors,
            ),
        };
        if cache_ttl > Duration::from_secs(60) {
            errors.push("cache_ttl (MAYFLY_CACHE_TTL): at most 60s: a revoked token or removed role must stop working within it on every gateway".into());
        }

        let shutdown_grace = parse_duration(
            "shutdown_grace (MAYFLY_SHUTDOWN_GRACE)",
            non_empty(flags.shutdown_grace).or(non_empty(file.shutdown_grace)),
            "20s",
            &mut errors,
        );
        if shutdown_grace > Duration::from_secs(3600) {
            errors.push("shutdown_grace (MAYFLY_SHUTDOWN_GRACE): at most 1h".into());
        }
        // Retention: 0 keeps forever; the audit default keeps a year (at least 90 days of
        // audit is what most compliance regimes ask).
        let days = |d: u32| (d > 0).then(|| Duration::from_secs(u64::from(d) * 86_400));
        let audit_retention = days(
            flags
                .audit_retention_days
                .or(file.audit_retention_days)
                .unwrap_or(365),
        );
        let lease_retention = days(
            flags
                .lease_retention_days
                .or(file.lease_retention_days)
                .unwrap_or(90),
        );
        let housekeeping_interval = parse_duration(
            "housekeeping_interval (MAYFLY_HOUSEKEEPING_INTERVAL)",
            non_empty(flags.housekeeping_interval).or(non_empty(file.housekeeping_interval)),
            "5m",
            &mut errors,
        );
        if housekeeping_interval.is_zero() {
            errors.push(
                "housekeeping_interval (MAYFLY_HOUSEKEEPING_INTERVAL): must be more than 0".into(),
            );
        }

        let outbound = outbound_policy(
            non_empty(flags.allowed_endpoints)
                .or_else(|| file.allowed_endpoints.map(StringOrList::joined)),
            &env,
            &mut errors,
        );

        let trusted_proxies = non_empty(flags.trusted_proxies)
            .or_else(|| file.trusted_proxies.map(StringOrList::joined))
            .map(|list| {
                crate::proxy_protocol::TrustedProxies::parse(&list).unwrap_or_else(|e| {
                    errors.push(format!("trusted_proxies (MAYFLY_TRUSTED_PROXIES): {e}"));
                    Default::default()
                })
            })
            .unwrap_or_default();

        let admin_seed = match (
            non_empty(env("MAYFLY_ADMIN_ACCESS_ID")),
            non_empty(env("MAYFLY_ADMIN_ACCESS_KEY")),
        ) {
            (None, None) => None,
            (Some(id), Some(key)) => {
                if !id.starts_with("p-")
                    || id.len() < 6
                    || id.len() > 64
                    || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    errors.push("MAYFLY_ADMIN_ACCESS_ID: must look like p-xxxxxxxx (letters and digits after p-, 6 to 64 characters)".into());
                }
                if key.len() < 16 {
                    errors.push("MAYFLY_ADMIN_ACCESS_KEY: must be at least 16 characters".into());
                }
                Some(AdminSeed {
                    access_id: id,
                    access_key: SecretString::from(key),
                })
            }
            _ => {
                errors.push(
                    "MAYFLY_ADMIN_ACCESS_ID and MAYFLY_ADMIN_ACCESS_KEY: set both or neither"
                        .into(),
                );
                None
            }
        };

        let metrics = metrics_access(
            non_empty(flags.metrics).or(non_empty(file.metrics)),
            non_empty(env("MAYFLY_METRICS_TOKEN")),
            flags.metrics_token_file.or(file.metrics_token_file),
            &mut errors,
        );

        match (errors.is_empty(), listen, iam_user_path) {
            (true, Some(listen), Some(iam_user_path)) => Ok(Config {
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
            }),
            _ => Err(ConfigError(errors)),
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
    const SETTING: &str = "metrics (MAYFLY_METRICS)";
    let token = match (token, token_file) {
        (Some(_), Some(_)) => {
            errors.push("MAYFLY_METRICS_TOKEN and metrics_token_file (MAYFLY_METRICS_TOKEN_FILE): give one, not both".into());
            None
        }
        (Some(t), None) => Some((t, "MAYFLY_METRICS_TOKEN".to_owned())),
        (None, Some(path)) => match std::fs::read_to_string(&path) {
            Ok(text) => Some((
                text.trim().to_owned(),
                format!(
                    "metrics_token_file (MAYFLY_METRICS_TOKEN_FILE) {}",
                    path.display()
                ),
            )),
            Err(e) => {
                errors.push(format!(
                    "metrics_token_file (MAYFLY_METRICS_TOKEN_FILE): cannot read {}: {e}",
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
            errors.push(format!("{SETTING}: bearer needs a token: set MAYFLY_METRICS_TOKEN or metrics_token_file (MAYFLY_METRICS_TOKEN_FILE)"));
            MetricsAccess::Off
        }
        (None | Some("open"), None) => MetricsAccess::Open,
        (Some("off"), None) => MetricsAccess::Off,
        (Some(m @ ("open" | "off")), Some((_, source))) => {
            errors.push(format!(
                "{SETTING}: is {m}, but {source} sets a bearer token; set metrics to bearer or remove the token"
            ));
            MetricsAccess::Off
        }
        (Some(other), _) => {
            errors.push(format!("{SETTING}: {other:?} is not off, open or bearer"));
            MetricsAccess::Off
        }
    }
}

/// The outbound policy from `allowed_endpoints` and the operator's AWS endpoint variables.
fn outbound_policy(
    allowed: Option<String>,
    env: &impl Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
) -> mayfly_domain::OutboundPolicy {
    use mayfly_domain::AllowedOrigin;
    let mut policy = mayfly_domain::OutboundPolicy::default();
    if let Some(raw) = allowed {
        match AllowedOrigin::parse_list(&raw) {
            Ok(list) => list.into_iter().for_each(|o| policy.allow(o)),
            Err(bad) => errors.push(format!(
                "allowed_endpoints (MAYFLY_ALLOWED_ENDPOINTS): each entry must be scheme://host[:port] with http or https and no path: {}",
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
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "config (MAYFLY_CONFIG): cannot read {}: {e}",
            path.display()
        )
    })?;
    toml::from_str(&text).map_err(|e| format!("config (MAYFLY_CONFIG): {}: {e}", path.display()))
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("mayfly.db").display())
}

fn parse_duration(
    setting: &str,
    raw: Option<String>,
    default: &str,
    errors: &mut Vec<String>,
) -> Duration {
    let raw = raw.unwrap_or_else(|| default.to_owned());
    match Ttl::parse(&raw) {
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
    fn file_values_apply_and_flags_override_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mayfly.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\ntoken_ttl = \"5m\"\n").unwrap();
        let flags = Flags {
            config: Some(path.clone()),
            token_ttl: Some("10m".into()),
            ..Flags::default()
        };
        let c = load(flags, &[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.token_ttl, Duration::from_secs(600));

        std::fs::write(&path, "listn = \"x\"\n").unwrap();
        let err = load(
            Flags {
                config: Some(path),
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
            metrics_token_file: Some(path),
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
                metrics: flags.map(str::to_owned),
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
                config: Some(path),
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
                config: Some(path),
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
            master_key: Some(list),
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
                master_key: Some(twice),
                ..Flags::default()
            },
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("master_key") && err.contains("k1"), "{err}");
    }
}
