//! `/healthz`: 200 when the database answers, 503 when it does not or when its storage
//! is full.

use actix_web::{web, HttpResponse};
use diesel::r2d2::R2D2Connection;

use super::{AppError, AppState};

pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    if state.gate.storage_suspect() {
        // A write failed for want of space: see whether there is space now, unless a
        // writer is busy (the health check never queues behind writers).
        let events = crate::db::storage::full_events();
        let probe = state.db_write_now(|conn| {
            crate::db::connection::with_short_busy_timeout(conn, |conn| {
                crate::db::storage::probe(conn).map_err(AppError::from)
            })
        });
        match probe.await {
            Ok(()) => state.gate.storage_ok(events),
            Err(AppError::StorageFull) => {
                return HttpResponse::ServiceUnavailable().content_type("text/plain").body("storage full\n")
            }
            Err(_) => {}
        }
    }
    match state.db(|conn| conn.ping().map_err(AppError::from)).await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ok\n"),
        Err(err) => {
            tracing::warn!(%err, "health check failed");
            HttpResponse::ServiceUnavailable().content_type("text/plain").body("database unavailable\n")
        }
    }
}
