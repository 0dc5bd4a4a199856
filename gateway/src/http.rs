//! The HTTP edge: read the body within its limit, find the operation, authenticate, parse the
//! request into its DTO (naming the field on a type error), run the handler under the request
//! deadline, and turn the result into JSON.

use actix_web::{http::header, web, HttpMessage, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use mayfly_api_types::{request, response};
use mayfly_store::audit::NewAuditEvent;
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    authn,
    error::{ApiError, ApiResult},
    operation::{Flavor, Operation},
    routes::{access, audit_events, items, producers, targets, tmp_creds},
};

use mayfly_app::leases::issue::{self, Requester};

use mayfly_app::state::AppState;

use mayfly_app::access::Caller;

/// The request id the middleware gave this request (also in `x-request-id`).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// What the audit record of a request needs to know, filled in as the request is handled.
#[derive(Debug, Default)]
struct AuditContext {
    access_id: String,
    item: String,
    detail: String,
}

/// The body fields that name the item a request touches, in the order the audit record
/// prefers them.
const ITEM_FIELDS: [&str; 4] = ["name", "role-name", "assoc-id", "am-name"];

/// A string field of the body, cut to 512 characters for the audit record.
fn text_of(body: &serde_json::Value, field: &str) -> Option<String> {
    body.get(field)
        .and_then(|v| v.as_str())
        .map(|s| s.chars().take(512).collect())
}

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
    let started = std::time::Instant::now();
    let aws_timer = mayfly_app::metrics::new_aws_timer();
    let mut audit = AuditContext::default();
    let work = async {
        let body = read_body(payload, state.max_body_bytes()).await?;
        // Parsed once: the audit fields, the token and the operation's DTO all come from it.
        let body = parse_object(&body)?;
        audit.item = ITEM_FIELDS
            .iter()
            .find_map(|f| text_of(&body, f))
            .unwrap_or_default();
        if op == Operation::Auth {
            // The same canonical id the throttle counts; a malformed one (refused with 400
            // below) is recorded with its control characters escaped.
            audit.access_id = match mayfly_app::authn::canonical_access_id(
                body.get("access-id").and_then(|v| v.as_str()),
            ) {
                Ok(id) => id,
                Err(_) => text_of(&body, "access-id")
                    .map(|raw| raw.escape_debug().take(512).collect())
                    .unwrap_or_default(),
            };
        }
        let result = run(&state, &req, op, &body, &mut audit).await;
        if op.changes_configuration() && result.is_ok() {
            // Seen at once by this gateway; by the others within the cache TTL. A refused or
            // failed change changed nothing, so it empties nothing (a flood of bad requests
            // must not turn every cache into misses).
            state.invalidate_caches();
        }
        result
    };
    let work = mayfly_app::metrics::with_aws_timer(Some(aws_timer.clone()), work);
    let mut result = match tokio::time::timeout(deadline, work).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::Timeout(deadline.as_secs())),
    };
    let status = match &result {
        Ok(r) => r.status().as_u16(),
        Err(e) => actix_web::ResponseError::status_code(e).as_u16(),
    };
    let elapsed = started.elapsed();
    let operation = operation_name(req.path());
    state.metrics().record_request(&operation, status, elapsed);
    if let Ok(response) = &mut result {
        // Time spent waiting on AWS, and the gateway's own time, for clients and benchmarks.
        let aws_ms = aws_timer.waited().as_secs_f64() * 1000.0;
        let total_ms = elapsed.as_secs_f64() * 1000.0;
        let value = format!(
            "aws;dur={aws_ms:.3}, gateway;dur={:.3}",
            (total_ms - aws_ms).max(0.0)
        );
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(header::HeaderName::from_static("server-timing"), v);
        }
    }
    if !op.is_plain_read() || status == 401 || status == 403 {
        // Set once a token was resolved (or, for /auth, to the id tried).
        let caller_unknown = audit.access_id.is_empty();
        let detail = match &result {
            Err(e) => e.to_string(),
            Ok(_) => std::mem::take(&mut audit.detail),
        };
        let request_id = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let event = NewAuditEvent {
            at: mayfly_store::now_millis(),
            request_id,
            access_id: audit.access_id,
            operation,
            item: normalize_item(&audit.item),
            outcome: mayfly_app::audit::outcome(status).to_owned(),
            status: i32::from(status),
            client_address: client_address(&req),
            detail,
        };
        // Callers who proved nothing (no valid token, a failed login) are counted per window
        // rather than written one row each; issued credentials (their lease row is the durable
        // record) and authenticated refusals go through the batch writer; changes are written
        // before the response (see `crate::audit`).
        let unauthenticated = if op == Operation::Auth {
            status >= 400
        } else {
            caller_unknown && (400..500).contains(&status)
        };
        if unauthenticated {
            state.auditor().record_refusal(event);
        } else if op == Operation::GetValue || matches!(status, 401 | 403 | 429) {
            state.auditor().record_queued(state.db(), event).await;
        } else {
            state.auditor().record(state.db(), event).await;
        }
    }
    result
}

/// The path's operation name without prefix or case: `/api/v2/Auth` -> `auth`.
fn operation_name(path: &str) -> String {
    let p = path.trim_end_matches('/').to_ascii_lowercase();
    p.strip_prefix("/api/v2/")
        .or_else(|| p.strip_prefix('/'))
        .unwrap_or(&p)
        .to_owned()
}

fn normalize_item(raw: &str) -> String {
    mayfly_domain::ItemName::parse(raw)
        .map(|n| n.to_string())
        .unwrap_or_else(|_| raw.to_owned())
}

async fn run(
    state: &AppState,
    req: &HttpRequest,
    op: Operation,
    body: &serde_json::Value,
    audit: &mut AuditContext,
) -> ApiResult<HttpResponse> {
    if op == Operation::Auth {
        return login(state, req, parse(body)?).await;
    }
    let (caller, token) = authenticate(state, req, body).await?;
    audit.access_id = caller.access_id.clone();
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
            let (name, revoking) = producers::delete(state, c, parse(body)?).await?;
            match flavor {
                Flavor::New => ok(response::DynamicSecretDeleted {
                    dynamic_secret_name: name,
                    revoking,
                }),
                _ => ok(response::ProducerDeleted {
                    producer_name: name,
                    revoking,
                }),
            }
        }
        Operation::ListItems => ok(items::list(state, c, parse(body)?).await?),
        Operation::GetValue => {
            let requester = Requester {
                caller: caller.clone(),
                client_address: client_address(req),
            };
            let command = crate::routes::values::get_value_command(parse(body)?)?;
            let value = issue::get_value(state, requester, command).await?;
            audit.detail = format!(
                "issued tmp creds {}",
                value.get("id").map_or("", String::as_str)
            );
            ok(value)
        }
        Operation::TmpCredsList => ok(tmp_creds::list(state, c, parse(body)?).await?),
        Operation::TmpCredsRevoke => {
            let revoking = tmp_creds::revoke(state, c, parse(body)?).await?;
            ok(response::TmpCredsRevoked { revoking })
        }
        Operation::TmpCredsUpdate => {
            tmp_creds::update(state, c, parse(body)?).await?;
            ok(response::Empty {})
        }
        Operation::AuthMethodCreate => {
            ok(access::create_auth_method(state, c, parse(body)?).await?)
        }
        Operation::AuthMethodGet => ok(access::get_auth_method(state, c, parse(body)?).await?),
        Operation::AuthMethodList => ok(access::list_auth_methods(state, c, parse(body)?).await?),
        Operation::AuthMethodDelete => {
            ok(access::delete_auth_method(state, c, parse(body)?).await?)
        }
        Operation::AuthMethodResetKey => {
            let (out, revoked) = access::reset_access_key(state, c, parse(body)?).await?;
            audit.detail = format!("new access key; {revoked} token(s) revoked");
            ok(out)
        }
        Operation::AuthMethodUpdate => {
            let (out, detail) = access::update_auth_method(state, c, parse(body)?).await?;
            audit.detail = detail;
            ok(out)
        }
        Operation::RoleCreate => ok(access::create_role(state, c, parse(body)?).await?),
        Operation::RoleGet => ok(access::get_role(state, c, parse(body)?).await?),
        Operation::RoleList => ok(access::list_roles(state, c, parse(body)?).await?),
        Operation::RoleDelete => ok(access::delete_role(state, c, parse(body)?).await?),
        Operation::RoleRuleSet => ok(access::set_role_rule(state, c, parse(body)?).await?),
        Operation::RoleRuleDelete => ok(access::delete_role_rule(state, c, parse(body)?).await?),
        Operation::RoleAssoc => ok(access::assoc_role_am(state, c, parse(body)?).await?),
        Operation::RoleAssocDelete => ok(access::delete_assoc(state, c, parse(body)?).await?),
        Operation::TokenRevoke => ok(access::revoke_token(state, c, &token, parse(body)?).await?),
        Operation::AuditEvents => ok(audit_events::get(state, c, parse(body)?).await?),
        Operation::TargetRotateCredentials => {
            ok(crate::routes::rotation::rotate_target_credentials(state, c, parse(body)?).await?)
        }
        Operation::ProducerRotateCredentials => ok(
            crate::routes::rotation::rotate_producer_credentials(state, c, parse(body)?).await?,
        ),
    }
}

/// `/auth` returned above; keeping the arm makes the match exhaustive without a wildcard, so a
/// new operation cannot be forgotten here.
fn unreachable_auth() -> ApiResult<HttpResponse> {
    Err(ApiError::internal(
        "/auth reached the authenticated dispatcher",
    ))
}

/// The client's address: the connection's peer, or the client a trusted load balancer named in
/// its PROXY header (`crate::listener`). HTTP headers such as X-Forwarded-For are never
/// believed: any client can send them.
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

/// `/auth`, with failed attempts throttled per (canonical access id, client address) and per
/// client address (see `crate::ratelimit`). A throttled try is refused before the key is
/// checked, so it tells nothing about the key.
async fn login(
    state: &AppState,
    req: &HttpRequest,
    mut body: request::Auth,
) -> ApiResult<HttpResponse> {
    let access_id = mayfly_app::authn::canonical_access_id(body.access_id.as_deref())?;
    body.access_id = Some(access_id.clone());
    let address = client_address(req);
    if let Err(wait) = state.auth_limiter().check(&access_id, &address) {
        // Whole seconds, rounded up: a client that waits Retry-After is let through.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(ApiError::TooManyRequests {
            message: format!(
                "too many failed logins for this access id from this address (or from this address overall); retry in {secs} seconds"
            ),
            retry_after_secs: secs.max(1),
        });
    }
    match authn::login(state, body).await {
        Ok(out) => {
            state.auth_limiter().succeeded(&access_id, &address);
            ok(out)
        }
        Err(e) => {
            if matches!(e, ApiError::Unauthorized(_)) {
                state.auth_limiter().failed(&access_id, &address);
            }
            Err(e)
        }
    }
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
