//! The audit trail: filtered by access id, item and outcome, a page at a time, read through
//! `audit_trail::reader` and `read` exactly as `get-audit-events` reads it (a role's
//! `audit-access` decides whether the caller sees every event, only its own, or none).

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use mayfly_app::{audit_trail, state::AppState};
use mayfly_store::audit::AuditQuery;

use super::{
    finish,
    view::{self, q, Nav},
    Outcome, Session,
};
use crate::{error::ApiError, operation::Effect};

const PAGE: u64 = 50;
const OUTCOMES: [&str; 5] = ["ok", "denied", "rejected", "rate_limited", "failed"];

/// `GET /ui/audit?access-id=&item=&outcome=&after=`.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let get = |k: &str| {
        query
            .get(k)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let (access_id, item, outcome, after) =
        (get("access-id"), get("item"), get("outcome"), get("after"));
    finish(&state, &req, &session, "console:get-audit-events", Effect::Read, "", async {
        let reader = audit_trail::reader(&session.caller)?;
        if let Some(o) = &outcome {
            if !OUTCOMES.contains(&o.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "outcome: {o:?} is not one of {}",
                    OUTCOMES.join(", ")
                )));
            }
        }
        let after_id = match &after {
            Some(a) => Some(a.parse::<i64>().map_err(|_| {
                ApiError::bad_request("after: use the console's Next page link")
            })?),
            None => None,
        };
        let normalized_item = item.as_ref().map(|raw| {
            mayfly_domain::ItemName::parse(raw)
                .map(|n| n.to_string())
                .unwrap_or_else(|_| raw.clone())
        });
        let rows = audit_trail::read(
            &state,
            &reader,
            AuditQuery {
                item: normalized_item,
                access_id: access_id.clone(),
                outcome: outcome.clone(),
                after_id,
                limit: PAGE,
                ..AuditQuery::default()
            },
        )
        .await?;
        let next = (rows.len() as u64 == PAGE)
            .then(|| rows.last().map(|r| r.id))
            .flatten();
        let keep = |k: &str, v: &Option<String>| {
            v.as_ref().map(|v| format!("&{k}={}", q(v))).unwrap_or_default()
        };
        let filters = format!(
            "{}{}{}",
            keep("access-id", &access_id),
            keep("item", &item),
            keep("outcome", &outcome)
        );
        let body = html! {
            form.filters method="get" action="/ui/audit" role="search" {
                div.field { label for="f-access-id" { "Access id" }
                    input #f-access-id type="text" name="access-id" value=(access_id.clone().unwrap_or_default()); }
                div.field { label for="f-item" { "Item" }
                    input #f-item type="text" name="item" value=(item.clone().unwrap_or_default()); }
                div.field { label for="f-outcome" { "Outcome" }
                    select #f-outcome name="outcome" {
                        option value="" { "any" }
                        @for o in OUTCOMES { option value=(o) selected[outcome.as_deref() == Some(o)] { (o) } }
                    }
                }
                button type="submit" { "Filter" }
            }
            @if rows.is_empty() {
                (view::empty("No audit events match these filters.", None))
            } @else {
                div.table-wrap { table {
                    thead { tr {
                        th scope="col" { "Time" } th scope="col" { "Access id" } th scope="col" { "Operation" }
                        th scope="col" { "Item" } th scope="col" { "Outcome" } th scope="col" { "Detail" }
                    } }
                    tbody { @for r in &rows { tr {
                        td.nowrap { (view::time(r.at)) }
                        td { code { (r.access_id) } }
                        td { (r.operation) }
                        td { (r.item) }
                        td { (r.outcome) " (" (r.status) ")" }
                        td { (r.detail) }
                    } } }
                } }
            }
            p.actions {
                @if after.is_some() { a href={"/ui/audit?" (filters.trim_start_matches('&'))} { "First page" } }
                @if let Some(id) = next { a.button href={"/ui/audit?after=" (id) (filters)} { "Next page" } }
            }
        };
        Ok(Outcome::ok("Audit", Nav::Audit, body))
    })
    .await
}
