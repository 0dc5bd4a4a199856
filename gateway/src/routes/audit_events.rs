//! `get-audit-events` (Mayfly extension): the Akeyless-style request parsed for the core's
//! `mayfly_app::audit_trail` (who may read what), and the events shown, paginated.

use mayfly_api_types::access as dto;
use mayfly_app::audit_trail;
use mayfly_app::time::rfc3339;
use mayfly_store::audit::AuditQuery;

use super::given;
use crate::error::{ApiError, ApiResult};
use mayfly_app::access::Caller;
use mayfly_app::state::AppState;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

/// RFC 3339 or Unix seconds, to milliseconds.
fn parse_time(field: &str, raw: &Option<String>) -> ApiResult<Option<i64>> {
    let Some(raw) = given(raw) else {
        return Ok(None);
    };
    if let Ok(secs) = raw.parse::<i64>() {
        return Ok(Some(secs.saturating_mul(1000)));
    }
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.timestamp_millis()))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "{field}: {raw:?} is not an RFC 3339 time (2026-01-31T12:00:00Z) or Unix seconds"
            ))
        })
}

pub async fn get(
    state: &AppState,
    caller: &Caller,
    req: dto::GetAuditEvents,
) -> ApiResult<dto::AuditEventsOutput> {
    let reader = audit_trail::reader(caller)?;
    let limit = req.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit: must be between 1 and {MAX_LIMIT}"
        )));
    }
    let after_id = match given(&req.pagination_token) {
        Some(t) => Some(t.parse::<i64>().map_err(|_| {
            ApiError::bad_request(
                "pagination-token: use the next_page value of the previous answer",
            )
        })?),
        None => None,
    };
    let access_id = reader.scope_access_id(given(&req.access_id).map(str::to_owned))?;
    let item = given(&req.item).map(|raw| {
        mayfly_domain::ItemName::parse(raw)
            .map(|n| n.to_string())
            .unwrap_or_else(|_| raw.to_owned())
    });
    let query = AuditQuery {
        since: parse_time("since", &req.since)?,
        until: parse_time("until", &req.until)?,
        item,
        access_id,
        operation: given(&req.operation).map(str::to_owned),
        outcome: None,
        after_id,
        limit: limit as u64,
        newest_first: false,
    };
    let rows = audit_trail::read(state, &reader, query).await?;
    let next_page = if rows.len() as i64 == limit {
        rows.last().map(|r| r.id.to_string()).unwrap_or_default()
    } else {
        String::new()
    };
    Ok(dto::AuditEventsOutput {
        events: rows
            .into_iter()
            .map(|r| dto::AuditEvent {
                id: r.id,
                time: rfc3339(r.at),
                request_id: r.request_id,
                access_id: r.access_id,
                operation: r.operation,
                item: r.item,
                outcome: r.outcome,
                status: r.status,
                client_address: r.client_address,
                detail: r.detail,
                identity: r.identity,
            })
            .collect(),
        next_page,
    })
}
