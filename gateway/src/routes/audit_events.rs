//! `get-audit-events` (Mayfly extension): the audit trail, filtered and paginated.

use mayfly_api_types::access as dto;
use mayfly_app::time::rfc3339;
use mayfly_store::audit::{self, AuditQuery};

use super::given;
use crate::error::{ApiError, ApiResult};
use mayfly_app::access::AuditAccess;
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
    let own_only = match caller.audit_access {
        AuditAccess::None => {
            return Err(ApiError::Forbidden(format!(
            "access id {} may not read audit events; ask for a role with audit-access own or all",
            caller.access_id
        )))
        }
        AuditAccess::Own => true,
        AuditAccess::All => false,
    };
    // Events this gateway queued (issued credentials, refusals) are written first, so a
    // caller always sees what it just did. The counted anonymous refusals are closed early
    // only for callers who may read them: a caller limited to its own events cannot see them,
    // and calling this in a loop would otherwise split the counts into a row per refusal.
    if own_only {
        state.auditor().flush().await;
    } else {
        state.auditor().flush_all(state.db()).await;
    }
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
    let mut access_id = given(&req.access_id).map(str::to_owned);
    if own_only {
        if access_id.as_ref().is_some_and(|a| a != &caller.access_id) {
            return Err(ApiError::Forbidden(
                "your role's audit-access is own: you may read only your own events".into(),
            ));
        }
        access_id = Some(caller.access_id.clone());
    }
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
        after_id,
        limit: limit as u64,
    };
    let rows = audit::query(state.db(), &query).await?;
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
            })
            .collect(),
        next_page,
    })
}
