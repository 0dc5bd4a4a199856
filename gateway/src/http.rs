//! The HTTP edge: read the body within its limit, find the operation, run it through the
//! operation table (`crate::operation`: authentication, the DTO, the handler) under the
//! request deadline, and audit it as its [`Effect`] says.

use actix_web::{http::header, web, HttpMessage, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use mayfly_store::audit::NewAuditEvent;

use crate::{
    call::{client_address, parse_object, AuditNote},
    error::{ApiError, ApiResult},
    operation::{self, Effect, Operation},
};

use mayfly_app::state::AppState;

/// The request id the middleware gave this request (also in `x-request-id`).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

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
    let mut audit = AuditNote::default();
    let effect = op.effect();
    let work = async {
        let body = read_body(payload, state.max_body_bytes()).await?;
        // Parsed once: the audit fields, the token and the operation's DTO all come from it.
        let body = parse_object(&body)?;
        audit.item = ITEM_FIELDS
            .iter()
            .find_map(|f| text_of(&body, f))
            .unwrap_or_default();
        if effect == Effect::Login {
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
        let result = operation::run(op, &state, &req, &body, &mut audit).await;
        if effect == Effect::Configure && result.is_ok() {
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
        server_timing(response, aws_timer.waited(), elapsed);
    }
    let error = result.as_ref().err().map(ToString::to_string);
    audit_request(&state, &req, operation, effect, status, audit, error).await;
    result
}

/// Adds `Server-Timing`: the time spent waiting on AWS and the gateway's own time, for
/// clients and benchmarks.
pub(crate) fn server_timing(
    response: &mut HttpResponse,
    aws_waited: std::time::Duration,
    elapsed: std::time::Duration,
) {
    let aws_ms = aws_waited.as_secs_f64() * 1000.0;
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

/// Records one request in the audit trail as its [`Effect`] says: reads only when refused
/// (401, 403), everything else always; `error` is the refusal's message. Every front door
/// audits through here, so the trail reads the same whichever API a request came through.
pub(crate) async fn audit_request(
    state: &AppState,
    req: &HttpRequest,
    operation: String,
    effect: Effect,
    status: u16,
    mut audit: AuditNote,
    error: Option<String>,
) {
    if effect == Effect::Read && status != 401 && status != 403 {
        return;
    }
    // Set once a token was resolved (or, for /auth, to the id tried).
    let caller_unknown = audit.access_id.is_empty();
    let detail = error.unwrap_or_else(|| std::mem::take(&mut audit.detail));
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let event = NewAuditEvent {
        identity: std::mem::take(&mut audit.identity),
        at: mayfly_store::now_millis(),
        request_id,
        access_id: audit.access_id,
        operation,
        item: normalize_item(&audit.item),
        outcome: mayfly_app::audit::outcome(status).to_owned(),
        status: i32::from(status),
        client_address: client_address(req),
        detail,
    };
    // Callers who proved nothing (no valid token, a failed login) are counted per window
    // rather than written one row each; issued credentials (their lease row is the durable
    // record) and authenticated refusals go through the batch writer; changes are written
    // before the response (see `crate::audit`).
    let unauthenticated = if effect == Effect::Login {
        status >= 400
    } else {
        caller_unknown && (400..500).contains(&status)
    };
    if unauthenticated {
        state.auditor().record_refusal(event);
    } else if effect == Effect::Issue || matches!(status, 401 | 403 | 429) {
        state.auditor().record_queued(state.db(), event).await;
    } else {
        state.auditor().record(state.db(), event).await;
    }
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

/// Reads the body, refusing more than `limit` bytes without buffering them.
pub(crate) async fn read_body(mut payload: web::Payload, limit: usize) -> ApiResult<web::BytesMut> {
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
