//! `GET /metrics`: the Prometheus text of [`mayfly_app::metrics::Metrics`], behind the `metrics`
//! setting.

use actix_web::{web, HttpResponse};

use crate::{config::MetricsAccess, error::ApiError};

use mayfly_app::state::AppState;

/// `GET /metrics`, as the `metrics` setting allows: not at all (404), to anyone, or to
/// requests carrying the configured bearer token (401 otherwise). The labels carry operation
/// names, AWS actions and lease states, never an item, target or caller name.
pub async fn serve(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    access: web::Data<MetricsAccess>,
) -> Result<HttpResponse, ApiError> {
    match access.get_ref() {
        MetricsAccess::Off => {
            return Err(ApiError::not_found(
                "/metrics is turned off on this gateway (setting metrics, MAYFLY_METRICS)",
            ))
        }
        MetricsAccess::Open => {}
        MetricsAccess::Bearer { token_hash } => {
            let presented = req
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.split_once(' ')
                        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                })
                .map(|(_, token)| token.trim());
            // Both sides are hashed first, so the comparison takes the same time whatever
            // the length or content of the guess.
            if !presented.is_some_and(|t| mayfly_crypto::verify_secret(t, token_hash)) {
                return Err(ApiError::Unauthorized(
                    "/metrics needs Authorization: Bearer with the gateway's metrics token (MAYFLY_METRICS_TOKEN)".into(),
                ));
            }
        }
    }
    state
        .metrics()
        .record_log_lines_dropped(crate::telemetry::dropped_lines());
    let body = state.metrics().render(state.db()).await;
    Ok(HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(body))
}
