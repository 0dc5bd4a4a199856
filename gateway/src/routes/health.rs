//! Liveness and readiness.

use actix_web::{web, HttpResponse};
use mayfly_api_types::response::Health;

use mayfly_app::state::AppState;

/// Liveness: the process serves requests.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    match mayfly_store::connect::ping(state.db()).await {
        Ok(()) => HttpResponse::Ok().json(Health {
            status: "ready".into(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(Health {
                status: "database unavailable".into(),
            })
        }
    }
}
