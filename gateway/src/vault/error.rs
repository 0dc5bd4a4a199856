//! Errors in Vault's shape: `{"errors": ["..."]}` with `Content-Type: application/json`.
//!
//! Handlers return the gateway's [`ApiError`] (so the core's errors keep the one mapping of
//! `crate::error`); only the edge differs. Vault answers a missing or bad token with 403, not
//! 401 (clients such as hvac raise on 401 and treat 403 as "not authenticated"), so
//! [`ApiError::Unauthorized`] becomes 403 here; every other status is the Akeyless API's.

use actix_web::{http::StatusCode, HttpResponse, ResponseError};

use crate::error::ApiError;

/// The status a Vault client gets for `e`.
pub fn status_of(e: &ApiError) -> StatusCode {
    match e {
        ApiError::Unauthorized(_) => StatusCode::FORBIDDEN,
        other => other.status_code(),
    }
}

/// The response for `e`: Vault's error body, with `Retry-After` when the client should wait.
/// Internal details are logged under the request id and replaced by a generic message, as
/// on the Akeyless API.
pub fn respond(e: &ApiError) -> HttpResponse {
    match e {
        ApiError::Internal(detail) => tracing::error!(detail = %detail, "internal error"),
        ApiError::Unavailable(detail) => tracing::warn!(detail = %detail, "database unavailable"),
        _ => {}
    }
    let mut response = HttpResponse::build(status_of(e));
    if let ApiError::TooManyRequests {
        retry_after_secs, ..
    }
    | ApiError::UpstreamOverloaded {
        retry_after_secs, ..
    } = e
    {
        response.insert_header((
            actix_web::http::header::RETRY_AFTER,
            retry_after_secs.to_string(),
        ));
    }
    response.json(serde_json::json!({ "errors": [e.to_string()] }))
}

/// Vault's answer to a list with nothing in it, or a read of nothing: 404 with no message.
pub fn not_found_empty() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({ "errors": [] }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_token_is_403_and_other_statuses_are_kept() {
        assert_eq!(
            status_of(&ApiError::Unauthorized("no token".into())),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status_of(&ApiError::Forbidden("denied".into())),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status_of(&ApiError::bad_request("bad")),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(status_of(&ApiError::not_found("x")), StatusCode::NOT_FOUND);
    }

    #[actix_web::test]
    async fn internal_details_never_reach_the_body() {
        let response = respond(&ApiError::internal("db password=hunter2"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.starts_with(r#"{"errors":["#), "{text}");
    }
}
