//! moto, the AWS mock the tests run against: where it runs, and starting private servers.
//!
//! Two ways to get one:
//! - `scripts/test.sh` starts `moto_server` on a free loopback port before any test and exports
//!   its URL as `MAYFLY_TEST_MOTO_URL` ([`moto_url`]). Only loopback URLs are accepted: the
//!   test suite must never talk to anything but this machine.
//! - [`MotoServer::spawn`] starts a private `moto_server` child for one test (or
//!   [`MotoServer::shared`], one per test binary), optionally with IAM authentication
//!   enforced and an admin user bootstrapped, and kills it when done. Tests that must see
//!   AWS become unreachable stop their own server ([`MotoServer::stop`]).
//!
//! Tests that need AWS must always run, so a missing moto is a failure with instructions,
//! never a silent skip.
//!
//! Sub-modules: `server` (the child process: finding the executable, the port, readiness,
//! shutdown) and `bootstrap` (the admin user, made through moto's unauthenticated first
//! requests).

mod bootstrap;
mod server;

pub use bootstrap::{ADMIN_USER_NAME, BOOTSTRAP_ACTIONS};
pub use server::{moto_server_executable, MotoOptions, MotoServer, MOTO_SERVER_ENV};

/// The gateway setting that lists the origins its targets may use besides AWS's own.
pub const ALLOWED_ENDPOINTS_ENV: &str = "MAYFLY_ALLOWED_ENDPOINTS";

use std::net::IpAddr;
use std::sync::Mutex;

use reqwest::Url;

use crate::TestkitError;

/// Environment variable holding moto's base URL, e.g. `http://127.0.0.1:40123`.
pub const MOTO_URL_ENV: &str = "MAYFLY_TEST_MOTO_URL";

/// moto's base URL from `MAYFLY_TEST_MOTO_URL`; panics with instructions when it is not set
/// or not a loopback URL.
pub fn moto_url() -> String {
    moto_url_from(std::env::var(MOTO_URL_ENV).ok()).unwrap_or_else(|e| panic!("{e}"))
}

/// Validates a moto URL (the pure part of [`moto_url`]); the trailing slash is removed.
pub fn moto_url_from(value: Option<String>) -> Result<String, TestkitError> {
    let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
        return Err(TestkitError::Url {
            url: format!("${MOTO_URL_ENV}"),
            reason: format!(
                "not set. Run the suite with scripts/test.sh, which starts moto, or start \
                 `moto_server -H 127.0.0.1 -p PORT` yourself and export \
                 {MOTO_URL_ENV}=http://127.0.0.1:PORT"
            ),
        });
    };
    let value = value.trim().trim_end_matches('/').to_owned();
    let parsed = Url::parse(&value).map_err(|e| TestkitError::Url {
        url: value.clone(),
        reason: e.to_string(),
    })?;
    let loopback = match parsed.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    };
    if !loopback || !matches!(parsed.scheme(), "http" | "https") {
        return Err(TestkitError::Url {
            url: value,
            reason: "moto must run on a loopback http(s) address".into(),
        });
    }
    Ok(value)
}

/// URLs of the moto servers this process started, in order.
static STARTED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records a started server, so gateways spawned later allow it as an endpoint.
pub(crate) fn remember_started(url: &str) {
    let mut started = STARTED.lock().unwrap_or_else(|p| p.into_inner());
    if !started.iter().any(|u| u == url) {
        started.push(url.to_owned());
    }
}

/// Every moto URL a gateway of this test process may need to reach: `MAYFLY_TEST_MOTO_URL`
/// (when set and valid) and each [`MotoServer`] started so far. The gateway spawner puts them
/// in the gateway's `MAYFLY_ALLOWED_ENDPOINTS`, because the gateway refuses loopback
/// endpoints that are not allowed. A moto started *after* a gateway is not included: start
/// it first, or pass `MAYFLY_ALLOWED_ENDPOINTS` to the builder.
pub fn known_urls() -> Vec<String> {
    let mut urls: Vec<String> = moto_url_from(std::env::var(MOTO_URL_ENV).ok())
        .into_iter()
        .collect();
    for url in STARTED.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        if !urls.contains(url) {
            urls.push(url.clone());
        }
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_accepted_without_trailing_slash() {
        assert_eq!(
            moto_url_from(Some("http://127.0.0.1:5000/".into())).expect("valid"),
            "http://127.0.0.1:5000"
        );
        assert!(moto_url_from(Some("http://localhost:5000".into())).is_ok());
        assert!(moto_url_from(Some("http://[::1]:5000".into())).is_ok());
    }

    #[test]
    fn missing_url_explains_how_to_get_one() {
        let err = moto_url_from(None).expect_err("unset");
        assert!(err.to_string().contains("scripts/test.sh"), "{err}");
        assert!(moto_url_from(Some("  ".into())).is_err());
    }

    #[test]
    fn non_loopback_urls_are_refused() {
        assert!(moto_url_from(Some("http://10.0.0.5:5000".into())).is_err());
        assert!(moto_url_from(Some("https://iam.amazonaws.com".into())).is_err());
        assert!(moto_url_from(Some("ftp://127.0.0.1".into())).is_err());
        assert!(moto_url_from(Some("nonsense".into())).is_err());
    }
}
