//! The HTTPS client: one `POST <base>/<path>` with a JSON body per command.
//!
//! Two rules are enforced here rather than trusted to callers:
//! - the gateway URL is `https://` ([`GatewayUrl::parse`] refuses anything else, and the
//!   client is built `https_only`), because every request carries a token or a key;
//! - redirects are never followed, so a body with a token is never re-sent somewhere else.

use std::path::Path;
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::{Certificate, Url};
use serde_json::Value;

use crate::error::CliError;

/// How long a request may take unless the command asks for more (see
/// [`crate::commands::ApiRequest::http_timeout`]).
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// A gateway base URL that is known to be `https://` with a host and no query or fragment.
/// It may carry a path prefix such as `/api/v2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayUrl(Url);

impl GatewayUrl {
    /// Parses and checks a base URL; the error text says what to do instead.
    pub fn parse(raw: &str) -> Result<Self, CliError> {
        let url = Url::parse(raw.trim())
            .map_err(|e| CliError::usage(format!("invalid gateway URL {raw:?}: {e}")))?;
        if url.scheme() != "https" {
            return Err(CliError::usage(format!(
                "gateway URL {raw:?} is not https://: mayfly only talks HTTPS because every request \
                 carries a token or key (use --ca-cert to trust a self-signed gateway)"
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(CliError::usage(format!("gateway URL {raw:?} has no host")));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(CliError::usage(format!(
                "gateway URL {raw:?} must not have a query or fragment"
            )));
        }
        Ok(GatewayUrl(url))
    }

    /// The full URL of an API path, appended to the base path (so `https://h/api/v2` +
    /// `auth` is `https://h/api/v2/auth`, which `Url::join` would get wrong).
    pub fn endpoint(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.0.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// How to verify the gateway's certificate.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM file whose certificates are trusted in addition to the system roots.
    pub ca_cert: Option<std::path::PathBuf>,
    /// Skip certificate verification entirely (development only).
    pub insecure: bool,
}

/// A configured connection to one gateway.
#[derive(Debug)]
pub struct GatewayClient {
    base: GatewayUrl,
    http: Client,
}

impl GatewayClient {
    /// Builds the client. `timeout` bounds each whole request.
    pub fn new(base: GatewayUrl, tls: &TlsOptions, timeout: Duration) -> Result<Self, CliError> {
        let mut builder = Client::builder()
            .use_rustls_tls()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("mayfly-cli/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &tls.ca_cert {
            for certificate in read_ca_bundle(path)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        if tls.insecure {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|source| CliError::transport(base.as_str(), source))?;
        Ok(GatewayClient { base, http })
    }

    /// POSTs `body` to `path` and returns the parsed JSON answer (`{}` for an empty body).
    /// A non-2xx answer becomes [`CliError::Gateway`] with the gateway's `error` message.
    pub fn post(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        let url = self.base.endpoint(path);
        let response = self
            .http
            .post(&url)
            .header(reqwest::header::ACCEPT, "application/json")
            .json(body)
            .send()
            .map_err(|source| CliError::transport(url.as_str(), source))?;
        read_response(url, response)
    }
}

fn read_response(url: String, response: Response) -> Result<Value, CliError> {
    let status = response.status();
    let text = response
        .text()
        .map_err(|source| CliError::transport(url, source))?;
    if status.is_success() {
        parse_success_body(&text)
    } else {
        Err(CliError::Gateway {
            status: status.as_u16(),
            message: error_message(&text, status),
        })
    }
}

/// A 2xx body as JSON; empty means `{}` (several endpoints answer "no content").
fn parse_success_body(text: &str) -> Result<Value, CliError> {
    if text.trim().is_empty() {
        return Ok(Value::Object(serde_json::Map::new()));
    }
    serde_json::from_str(text)
        .map_err(|e| CliError::InvalidResponse(format!("the body is not JSON ({e})")))
}

/// The `error` field of an error body, else a short form of the raw body, else the status text.
fn error_message(text: &str, status: reqwest::StatusCode) -> String {
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
        if let Some(Value::String(message)) = map.get("error") {
            return message.clone();
        }
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_owned()
    } else {
        trimmed.chars().take(500).collect()
    }
}

/// Reads a PEM bundle; an unreadable file or one without certificates is an error.
pub(crate) fn read_ca_bundle(path: &Path) -> Result<Vec<Certificate>, CliError> {
    let pem = std::fs::read(path).map_err(|source| CliError::File {
        action: "cannot read CA certificate",
        path: path.to_owned(),
        source,
    })?;
    let certificates = Certificate::from_pem_bundle(&pem).map_err(|e| {
        CliError::usage(format!(
            "CA certificate {} is not valid PEM: {e}",
            path.display()
        ))
    })?;
    if certificates.is_empty() {
        return Err(CliError::usage(format!(
            "CA certificate {} contains no PEM certificate",
            path.display()
        )));
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_url_is_refused_with_a_usage_error() {
        let error = GatewayUrl::parse("http://localhost:8000").unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("not https://"), "{error}");
    }

    #[test]
    fn other_schemes_and_garbage_are_refused() {
        assert!(GatewayUrl::parse("ftp://host").is_err());
        assert!(GatewayUrl::parse("localhost:8000").is_err());
        assert!(GatewayUrl::parse("https://host:8000/?x=1").is_err());
        assert!(GatewayUrl::parse("").is_err());
    }

    #[test]
    fn endpoint_appends_to_the_base_path() {
        let root = GatewayUrl::parse("https://host:8000").unwrap();
        assert_eq!(root.endpoint("auth"), "https://host:8000/auth");
        let prefixed = GatewayUrl::parse("https://host:8000/api/v2").unwrap();
        assert_eq!(prefixed.endpoint("auth"), "https://host:8000/api/v2/auth");
        let slash = GatewayUrl::parse("HTTPS://host:8000/api/v2/").unwrap();
        assert_eq!(
            slash.endpoint("/list-items"),
            "https://host:8000/api/v2/list-items"
        );
    }

    #[test]
    fn error_message_prefers_the_error_field() {
        let status = reqwest::StatusCode::NOT_FOUND;
        assert_eq!(
            error_message(r#"{"error":"no such item"}"#, status),
            "no such item"
        );
        assert_eq!(error_message("", status), "Not Found");
        assert_eq!(error_message(" plain text ", status), "plain text");
    }

    #[test]
    fn empty_success_body_is_an_empty_object() {
        assert_eq!(parse_success_body("").unwrap(), serde_json::json!({}));
        assert_eq!(parse_success_body("[1]").unwrap(), serde_json::json!([1]));
        assert!(parse_success_body("<html>").is_err());
    }

    #[test]
    fn missing_ca_file_is_a_file_error() {
        let tls = TlsOptions {
            ca_cert: Some("/nonexistent/ca.pem".into()),
            insecure: false,
        };
        let base = GatewayUrl::parse("https://localhost:1").unwrap();
        let error = GatewayClient::new(base, &tls, DEFAULT_HTTP_TIMEOUT).unwrap_err();
        assert!(matches!(error, CliError::File { .. }), "{error}");
    }
}
