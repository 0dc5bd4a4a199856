//! The HTTP edge: read the body within its limit, find the operation, authenticate, parse the
//! request into its DTO (naming the field on a type error), run the handler under the request
//! deadline, and turn the result into JSON.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use mayfly_api_types::{request, response};
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    authn::{self, Caller},
    error::{ApiError, ApiResult},
    leases::issue::{self, Requester},
    operation::{Flavor, Operation},
    routes::{items, producers, targets, tmp_creds},
    state::AppState,
};

/// The one handler behind every `POST` API path.
pub async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if req.method() != actix_web::http::Method::POST {
        return Err(ApiError::MethodNotAllowed(format!(
            "{} {}: API operations take POST with a JSON body",
            req.method(),
            req.path()
        )));
    }
    let op = Operation::from_path(req.path()).ok_or_else(|| {
        ApiError::not_found(format!(
            "unknown endpoint {}; see docs/api.md for the operations Mayfly serves",
            req.path()
        ))
    })?;
    let deadline = state.request_timeout();
    let work = async {
        let body = read_body(payload, state.max_body_bytes()).await?;
        run(&state, &req, op, &body).await
    };
    match tokio::time::timeout(deadline, work).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::Timeout(deadline.as_secs())),
    }
}

async fn run(
    state: &AppState,
    req: &HttpRequest,
    op: Operation,
    body: &[u8],
) -> ApiResult<HttpResponse> {
    if op == Operation::Auth {
        return ok(authn::login(state, parse(body)?).await?);
    }
    let caller = authenticate(state, req, body).await?;
    let c = &caller;
    match op {
        Operation::Auth => unreachable_auth(),
        Operation::TargetCreate(flavor) => {
            ok(targets::create(state, c, parse(body)?, flavor).await?)
        }
        Operation::TargetUpdate(flavor) => {
            let id = targets::update(state, c, parse(body)?).await?;
            match flavor {
                Flavor::Old => ok(response::Empty {}),
                Flavor::Details => ok(response::Updated { updated: true }),
                Flavor::New => ok(response::TargetId { target_id: id }),
            }
        }
        Operation::TargetGet => ok(targets::get(state, c, parse(body)?).await?),
        Operation::TargetGetDetails => ok(targets::get_details(state, c, parse(body)?).await?),
        Operation::TargetList => ok(targets::list(state, c, parse(body)?).await?),
        Operation::TargetDelete => {
            targets::delete(state, c, parse(body)?).await?;
            ok(response::Empty {})
        }
        Operation::ProducerCreate(flavor) => {
            let details = producers::create(state, c, parse(body)?).await?;
            wrap_details(details, flavor)
        }
        Operation::ProducerUpdate(flavor) => {
            let details = producers::update(state, c, parse(body)?).await?;
            wrap_details(details, flavor)
        }
        Operation::ProducerGet => ok(producers::get(state, c, parse(body)?).await?),
        Operation::ProducerList => ok(producers::list(state, c).await?),
        Operation::ProducerDelete(flavor) => {
            let name = producers::delete(state, c, parse(body)?).await?;
            match flavor {
                Flavor::New => ok(response::DynamicSecretDeleted {
                    dynamic_secret_name: name,
                }),
                _ => ok(response::ProducerDeleted {
                    producer_name: name,
                }),
            }
        }
        Operation::ListItems => ok(items::list(state, c, parse(body)?).await?),
        Operation::GetValue => {
            let requester = Requester {
                caller: caller.clone(),
                client_address: client_address(req),
            };
            ok(issue::get_value(state, requester, parse(body)?).await?)
        }
        Operation::TmpCredsList => ok(tmp_creds::list(state, c, parse(body)?).await?),
        Operation::TmpCredsRevoke => {
            tmp_creds::revoke(state, c, parse(body)?).await?;
            ok(response::Empty {})
        }
        Operation::TmpCredsUpdate => {
            tmp_creds::update(state, c, parse(body)?).await?;
            ok(response::Empty {})
        }
    }
}

/// `/auth` returned above; keeping the arm makes the match exhaustive without a wildcard, so a
/// new operation cannot be forgotten here.
fn unreachable_auth() -> ApiResult<HttpResponse> {
    Err(ApiError::internal(
        "/auth reached the authenticated dispatcher",
    ))
}

/// The client's address as this gateway saw the connection (proxies' headers are not trusted).
fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

fn wrap_details(details: response::ProducerDetails, flavor: Flavor) -> ApiResult<HttpResponse> {
    match flavor {
        Flavor::New => ok(response::DynamicSecretDetailsWrapped {
            dynamic_secret_details: details,
        }),
        _ => ok(response::ProducerDetailsWrapped {
            producer_details: details,
        }),
    }
}

fn ok(body: impl Serialize) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(body))
}

/// The token comes from the body field `token` (how the SDKs send it), `uid-token`, or an
/// `Authorization: Bearer` header, in that order.
async fn authenticate(state: &AppState, req: &HttpRequest, body: &[u8]) -> ApiResult<Caller> {
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
    authn::resolve(state, token).await
}

/// Reads the body, refusing more than `limit` bytes without buffering them.
async fn read_body(mut payload: web::Payload, limit: usize) -> ApiResult<web::BytesMut> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(format!(
                "the request body is larger than the gateway's limit of {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses a JSON object body into `T`. An empty body counts as `{}`; a wrong type names the
/// field (`user-ttl: invalid type: ...`).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
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
    serde_path_to_error::deserialize(value).map_err(|e| {
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
        let err = parse::<request::AwsProducer>(br#"{"name":"/p","user-ttl":[1]}"#).unwrap_err();
        assert!(err.to_string().starts_with("user-ttl:"), "{err}");
        let err = parse::<request::AwsProducer>(br#"{"tags":[1]}"#).unwrap_err();
        assert!(err.to_string().starts_with("tags"), "{err}");
    }

    #[test]
    fn bodies_must_be_json_objects() {
        assert!(parse::<request::Named>(b"[1]").is_err());
        assert!(parse::<request::Named>(b"{").is_err());
        assert!(parse::<request::Named>(b"").is_ok());
    }
}
