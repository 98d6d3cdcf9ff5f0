//! `/healthz`: 200 when the database answers, 503 when it does not.

use actix_web::{web, HttpResponse};
use diesel::r2d2::R2D2Connection;

use super::{AppError, AppState};

pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.db(|conn| conn.ping().map_err(AppError::from)).await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok\n"),
        Err(err) => {
            tracing::warn!(%err, "health check failed");
            HttpResponse::ServiceUnavailable().content_type("text/plain").body("database unavailable\n")
        }
    }
}
