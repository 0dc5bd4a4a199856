//! Which Vault endpoint a request names, and how: the path under `/v1/` and the method.
//!
//! Role names and lease prefixes arrive percent-encoded or not (`team-a%2Fs3` and `team-a/s3`
//! are the same role): everything after the route's fixed part is decoded once, here, and
//! the result is checked as an item name by the handler. A `/` decoded from `%2F` is an
//! ordinary separator; `..`, empty segments and any character outside item names are
//! refused by `ItemName::parse`, so no spelling reaches another item than the one it names.

use actix_web::http::Method;

use crate::error::{ApiError, ApiResult};

/// What the request does, in Vault's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `GET`.
    Read,
    /// `HEAD` (only `sys/health` answers it).
    Head,
    /// `POST` or `PUT`.
    Write,
    Delete,
    /// The `LIST` method, or `GET` with `?list=true`.
    List,
}

impl Verb {
    pub fn of(method: &Method, wants_list: bool) -> ApiResult<Verb> {
        match method.as_str() {
            "GET" if wants_list => Ok(Verb::List),
            "GET" => Ok(Verb::Read),
            "HEAD" => Ok(Verb::Head),
            "POST" | "PUT" => Ok(Verb::Write),
            "DELETE" => Ok(Verb::Delete),
            "LIST" => Ok(Verb::List),
            other => Err(ApiError::MethodNotAllowed(format!(
                "{other} is not a Vault API method; use GET, LIST, POST, PUT or DELETE"
            ))),
        }
    }
}

/// How a login proves who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKind {
    /// `auth/approle/login`: `role_id` is the API key's access id, `secret_id` its key.
    AppRole,
    /// `auth/jwt/login`: `role` is the JWT auth method's access id.
    Jwt,
    /// `auth/kubernetes/login`: `role` is the Kubernetes auth method's access id.
    Kubernetes,
}

/// A Vault endpoint Mayfly serves. Names are decoded but not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Health,
    SealStatus,
    Mounts,
    CapabilitiesSelf,
    LeaseLookup,
    /// `LIST sys/leases/lookup/<prefix>`.
    LeaseList(String),
    LeaseRenew,
    /// `sys/leases/revoke`, or `sys/leases/revoke/<lease id>`.
    LeaseRevoke(Option<String>),
    LeaseRevokePrefix(String),
    Login(LoginKind),
    TokenLookupSelf,
    TokenRevokeSelf,
    TokenRenewSelf,
    /// `auth/token/create` and `auth/token/create-orphan`.
    TokenCreate,
    /// `<mount>/creds/<name>` (`sts: false`) or `<mount>/sts/<name>`.
    Creds {
        name: String,
        sts: bool,
    },
    /// `<mount>/roles` (`None`: the whole list) or `<mount>/roles/<name>`.
    Roles(Option<String>),
    ConfigRoot,
    ConfigLease,
}

/// The route of `raw_path` (the request's path as sent, still percent-encoded) for the AWS
/// engine mounted at `mount`; 404 for anything else.
pub fn route(raw_path: &str, mount: &str) -> ApiResult<Route> {
    let rest = raw_path.strip_prefix("/v1/").ok_or_else(unknown)?;
    let fixed = |p: &str| rest.trim_end_matches('/') == p;
    let route = if fixed("sys/health") {
        Route::Health
    } else if fixed("sys/seal-status") {
        Route::SealStatus
    } else if fixed("sys/mounts") {
        Route::Mounts
    } else if fixed("sys/capabilities-self") {
        Route::CapabilitiesSelf
    } else if fixed("sys/leases/lookup") {
        Route::LeaseLookup
    } else if let Some(prefix) = rest.strip_prefix("sys/leases/lookup/") {
        Route::LeaseList(decode(prefix)?)
    } else if fixed("sys/leases/renew") {
        Route::LeaseRenew
    } else if fixed("sys/leases/revoke") {
        Route::LeaseRevoke(None)
    } else if let Some(id) = rest.strip_prefix("sys/leases/revoke/") {
        Route::LeaseRevoke(Some(decode(id)?))
    } else if let Some(prefix) = rest.strip_prefix("sys/leases/revoke-prefix/") {
        Route::LeaseRevokePrefix(decode(prefix)?)
    } else if fixed("auth/approle/login") {
        Route::Login(LoginKind::AppRole)
    } else if fixed("auth/jwt/login") {
        Route::Login(LoginKind::Jwt)
    } else if fixed("auth/kubernetes/login") {
        Route::Login(LoginKind::Kubernetes)
    } else if fixed("auth/token/lookup-self") {
        Route::TokenLookupSelf
    } else if fixed("auth/token/revoke-self") {
        Route::TokenRevokeSelf
    } else if fixed("auth/token/renew-self") {
        Route::TokenRenewSelf
    } else if fixed("auth/token/create") || fixed("auth/token/create-orphan") {
        Route::TokenCreate
    } else if let Some(engine) = rest.strip_prefix(mount).and_then(|r| r.strip_prefix('/')) {
        engine_route(engine)?
    } else {
        return Err(unknown());
    };
    Ok(route)
}

fn engine_route(rest: &str) -> ApiResult<Route> {
    let trimmed = rest.trim_end_matches('/');
    if trimmed == "config/root" {
        return Ok(Route::ConfigRoot);
    }
    if trimmed == "config/lease" {
        return Ok(Route::ConfigLease);
    }
    if trimmed == "roles" {
        return Ok(Route::Roles(None));
    }
    if let Some(name) = rest.strip_prefix("roles/") {
        let name = decode(name)?;
        let name = name.trim_end_matches('/');
        return Ok(if name.is_empty() {
            Route::Roles(None)
        } else {
            Route::Roles(Some(name.to_owned()))
        });
    }
    for (prefix, sts) in [("creds/", false), ("sts/", true)] {
        if let Some(name) = rest.strip_prefix(prefix) {
            return Ok(Route::Creds {
                name: decode(name)?,
                sts,
            });
        }
    }
    Err(unknown())
}

fn unknown() -> ApiError {
    ApiError::not_found(
        "unsupported path: Mayfly serves the Vault paths listed in docs/migrating-from-vault.md",
    )
}

/// Percent-decodes `raw` once; the result must be UTF-8.
pub fn decode(raw: &str) -> ApiResult<String> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ApiError::bad_request("the path is not UTF-8 once percent-decoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_arrive_encoded_or_not() {
        for raw in [
            "/v1/aws/roles/team-a/s3",
            "/v1/aws/roles/team-a%2Fs3",
            "/v1/aws/roles/team-a%2fs3",
        ] {
            assert_eq!(
                route(raw, "aws").unwrap(),
                Route::Roles(Some("team-a/s3".into())),
                "{raw}"
            );
        }
        assert_eq!(route("/v1/aws/roles", "aws").unwrap(), Route::Roles(None));
        assert_eq!(route("/v1/aws/roles/", "aws").unwrap(), Route::Roles(None));
        assert_eq!(
            route("/v1/aws/creds/team-a%2Fs3", "aws").unwrap(),
            Route::Creds {
                name: "team-a/s3".into(),
                sts: false
            }
        );
        // Decoded once only: %252F stays a literal "%2F", which no item name contains.
        assert_eq!(
            route("/v1/aws/creds/a%252Fb", "aws").unwrap(),
            Route::Creds {
                name: "a%2Fb".into(),
                sts: false
            }
        );
    }

    #[test]
    fn the_mount_is_configurable_and_others_are_unknown() {
        assert_eq!(
            route("/v1/cloud/sts/x", "cloud").unwrap(),
            Route::Creds {
                name: "x".into(),
                sts: true
            }
        );
        assert!(route("/v1/aws/sts/x", "cloud").is_err());
        assert!(route("/v1/awsx/creds/x", "aws").is_err());
        assert!(route("/v1/secret/data/x", "aws").is_err());
        assert!(route("/v2/sys/health", "aws").is_err());
        assert_eq!(route("/v1/sys/health", "aws").unwrap(), Route::Health);
        assert_eq!(
            route("/v1/sys/leases/revoke-prefix/aws/creds/team-a", "aws").unwrap(),
            Route::LeaseRevokePrefix("aws/creds/team-a".into())
        );
    }

    #[test]
    fn verbs() {
        let list = Method::from_bytes(b"LIST").unwrap();
        assert_eq!(Verb::of(&list, false).unwrap(), Verb::List);
        assert_eq!(Verb::of(&Method::GET, true).unwrap(), Verb::List);
        assert_eq!(Verb::of(&Method::PUT, false).unwrap(), Verb::Write);
        assert!(Verb::of(&Method::PATCH, false).is_err());
    }
}
