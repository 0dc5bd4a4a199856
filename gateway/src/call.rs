//! One API call as its handler sees it: the shared state, who is calling (once the token is
//! resolved), from where, and what the call's audit record will say. Also the reading of the
//! body into a DTO, which names the field on a type error.
//!
//! The operation table (`crate::operation`) builds an [`Anonymous`] call for `/auth` and an
//! authenticated [`Call`] for everything else, so a handler cannot run without the caller its
//! row asks for.

use actix_web::{http::header, HttpRequest};
use mayfly_api_types::request;
use mayfly_app::{access::Caller, state::AppState};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// What the audit record of a request needs to know, filled in as the request is handled.
#[derive(Debug, Default)]
pub struct AuditNote {
    /// The caller's access id once a token resolved (for `/auth`: the id tried).
    pub access_id: String,
    /// The caller's login identity beyond the access id (JWT, Kubernetes, AWS IAM), if any.
    pub identity: String,
    /// The item the request names.
    pub item: String,
    /// What a success did beyond its operation's name (`issued tmp creds ...`).
    pub detail: String,
}

/// An authenticated call.
pub struct Call<'a> {
    pub state: &'a AppState,
    pub caller: Caller,
    /// The token the caller presented (for revoking it).
    pub token: String,
    /// See [`client_address`].
    pub client_address: String,
    pub audit: &'a mut AuditNote,
}

impl<'a> Call<'a> {
    /// Resolves the request's token to its caller (401 when there is none or it is not
    /// valid) and notes the caller for the audit record.
    pub async fn authenticate(
        state: &'a AppState,
        req: &HttpRequest,
        body: &serde_json::Value,
        audit: &'a mut AuditNote,
    ) -> ApiResult<Call<'a>> {
        let (caller, token) = authenticate(state, req, body).await?;
        audit.access_id = caller.access_id.clone();
        audit.identity = caller.identity.clone();
        Ok(Call {
            state,
            caller,
            token,
            client_address: client_address(req),
            audit,
        })
    }
}

/// A call before anyone is known: `/auth`.
pub struct Anonymous<'a> {
    pub state: &'a AppState,
    /// See [`client_address`].
    pub client_address: String,
}

impl<'a> Anonymous<'a> {
    pub fn new(state: &'a AppState, req: &HttpRequest) -> Self {
        Anonymous {
            state,
            client_address: client_address(req),
        }
    }
}

/// The client's address: the connection's peer, or the client a trusted load balancer named in
/// its PROXY header (`crate::listener`). HTTP headers such as X-Forwarded-For are never
/// believed: any client can send them.
pub fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

/// The token comes from the body field `token` (how the SDKs send it), `uid-token`, or an
/// `Authorization: Bearer` header, in that order. Returns the caller and the token.
async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    body: &serde_json::Value,
) -> ApiResult<(Caller, String)> {
    let fields: request::TokenFields = parse(body)?;
    let from_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let token = fields
        .token
        .as_ref()
        .map(|t| t.expose())
        .filter(|t| !t.is_empty())
        .or_else(|| {
            fields
                .uid_token
                .as_ref()
                .map(|t| t.expose())
                .filter(|t| !t.is_empty())
        })
        .or(from_header);
    let caller = mayfly_app::authn::resolve(state, token).await?;
    Ok((caller, token.unwrap_or_default().trim().to_owned()))
}

/// Parses a request body: a JSON object, an empty body counting as `{}`.
pub fn parse_object(body: &[u8]) -> ApiResult<serde_json::Value> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    Ok(value)
}

/// Reads a parsed body as `T`; a wrong type names the field (`user-ttl: invalid type: ...`).
pub fn parse<T: DeserializeOwned>(body: &serde_json::Value) -> ApiResult<T> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ApiError::bad_request(format!("{path}: {inner}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_name_the_field() {
        let body = parse_object(br#"{"name":"/p","user-ttl":[1]}"#).unwrap();
        let err = parse::<request::AwsProducer>(&body).unwrap_err();
        assert!(err.to_string().starts_with("user-ttl:"), "{err}");
        let body = parse_object(br#"{"tags":[1]}"#).unwrap();
        let err = parse::<request::AwsProducer>(&body).unwrap_err();
        assert!(err.to_string().starts_with("tags"), "{err}");
    }

    #[test]
    fn bodies_must_be_json_objects() {
        assert!(parse_object(b"[1]").is_err());
        assert!(parse_object(b"{").is_err());
        let empty = parse_object(b"  ").unwrap();
        assert!(parse::<request::Named>(&empty).is_ok());
    }
}
