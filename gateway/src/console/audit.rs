//! The audit trail: filtered by time, access id, item and outcome, a page at a time, read
//! through `audit_trail::reader` and `read` exactly as `get-audit-events` reads it (a role's
//! `audit-access` decides whether the caller sees every event, only its own, or none).
//!
//! Times are parsed here, at the edge ([`parse_time`]): what a person types into a box
//! (`2026-01-31 12:00`, a bare date, RFC 3339 or Unix seconds, UTC unless an offset is given);
//! anything else is sent back next to its field, saying what to type.

use actix_web::{http::StatusCode, HttpRequest, HttpResponse};
use maud::html;
use mayfly_app::audit_trail;
use mayfly_domain::ValidationErrors;
use mayfly_store::audit::AuditQuery;

use super::{
    finish,
    view::{self, q, Field, Nav},
    Outcome, Query, Session, State,
};
use crate::{error::ApiError, operation::Effect};

const PAGE: u64 = 50;
const OUTCOMES: [&str; 5] = ["ok", "denied", "rejected", "rate_limited", "failed"];

/// A time typed into a filter, in Unix milliseconds: RFC 3339 (`2026-01-31T12:00:00Z`, any
/// offset), `2026-01-31 12:00[:ss]` or `2026-01-31T12:00[:ss]` (UTC), a date (UTC; the start
/// of the day, or its last millisecond when `end_of_day`, so `to` a date includes that day),
/// or Unix seconds. `Err` says what to type instead.
pub fn parse_time(raw: &str, end_of_day: bool) -> Result<i64, String> {
    use chrono::{NaiveDate, NaiveDateTime};
    let raw = raw.trim();
    if let Ok(secs) = raw.parse::<i64>() {
        return secs
            .checked_mul(1000)
            .filter(|ms| chrono::DateTime::from_timestamp_millis(*ms).is_some())
            .ok_or_else(|| format!("{raw} is out of range as Unix seconds"));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.timestamp_millis());
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let start = d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis());
        if let Some(start) = start {
            return Ok(if end_of_day {
                start + 86_400_000 - 1
            } else {
                start
            });
        }
    }
    Err(format!(
        "{raw:?} is not a time: type it as 2026-01-31 12:00 (UTC), 2026-01-31, an RFC 3339 time such as 2026-01-31T12:00:00+02:00, or Unix seconds"
    ))
}

/// `GET /ui/audit?from=&to=&access-id=&item=&outcome=&after=`.
pub async fn show(req: HttpRequest, state: State, query: Query) -> HttpResponse {
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
    let (from, to) = (get("from"), get("to"));
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
        let mut errors = ValidationErrors::new();
        let since = from.as_deref().and_then(|f| errors.check("from", parse_time(f, false)));
        let until = to.as_deref().and_then(|t| errors.check("to", parse_time(t, true)));
        if let (Some(s), Some(u)) = (since, until) {
            if u < s {
                errors.push("to", "is before from: give a later time, or swap the two");
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
        let filters_form = |errors: &ValidationErrors| html! {
            form.filters method="get" action="/ui/audit" role="search" {
                (view::field(&Field { name: "from", label: "From", kind: "text", value: from.as_deref().unwrap_or_default(),
                    hint: "UTC: 2026-01-31 12:00", required: false }, errors))
                (view::field(&Field { name: "to", label: "To", kind: "text", value: to.as_deref().unwrap_or_default(),
                    hint: "UTC; a date includes its day", required: false }, errors))
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
        };
        if !errors.is_empty() {
            let body = html! {
                (view::other_errors(&errors, &["from", "to"]))
                (filters_form(&errors))
            };
            return Ok(Outcome::Page {
                status: StatusCode::BAD_REQUEST,
                title: "Audit".into(),
                nav: Nav::Audit,
                body,
                problem: Some(errors.to_string()),
                detail: String::new(),
            });
        }
        let rows = audit_trail::read(
            &state,
            &reader,
            AuditQuery {
                since,
                until,
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
            "{}{}{}{}{}",
            keep("from", &from),
            keep("to", &to),
            keep("access-id", &access_id),
            keep("item", &item),
            keep("outcome", &outcome)
        );
        let body = html! {
            (filters_form(&errors))
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

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times_are_read_as_people_type_them_in_utc() {
        let noon = 1_769_860_800_000; // 2026-01-31T12:00:00Z
        for raw in [
            "2026-01-31 12:00",
            "2026-01-31T12:00",
            "2026-01-31 12:00:00",
            " 2026-01-31T12:00:00Z ",
            "2026-01-31T14:00:00+02:00",
            "1769860800",
        ] {
            assert_eq!(parse_time(raw, false), Ok(noon), "{raw}");
        }
        let midnight = noon - 12 * 3_600_000;
        assert_eq!(parse_time("2026-01-31", false), Ok(midnight));
        assert_eq!(
            parse_time("2026-01-31", true),
            Ok(midnight + 86_400_000 - 1),
            "to a date includes that whole day"
        );
    }

    #[test]
    fn anything_else_says_what_to_type() {
        for raw in ["yesterday", "2026-13-01", "31/01/2026", "2026-01-31 25:00"] {
            let e = parse_time(raw, false).unwrap_err();
            assert!(e.contains("2026-01-31 12:00"), "{raw}: {e}");
        }
        assert!(parse_time("99999999999999999", false).is_err());
    }
}
