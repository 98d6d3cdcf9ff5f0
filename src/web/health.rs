//! `/healthz`: 200 when the database answers, 503 when it does not or when its storage
//! is full (liveness: a process that answers it is alive; while it starts, it answers
//! 200 `starting`). `/readyz`: 200 when this instance should be sent traffic, 503 while
//! it starts (migrations run or wait for another instance's: see `App::bind`), while it
//! stops, and while the database is unreachable.

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

/// GET /readyz. A full storage does not count: reading goes on, and every instance
/// shares the database, so taking one out of the load balancer would not help.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let not_ready = |why: &'static str| {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .insert_header((actix_web::http::header::RETRY_AFTER, "1"))
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .body(why)
    };
    if *state.shutdown.borrow() {
        return not_ready("stopping\n");
    }
    match state.db(|conn| conn.ping().map_err(AppError::from)).await {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain")
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .body("ready\n"),
        Err(err) => {
            tracing::warn!(%err, "readiness check failed");
            not_ready("database unavailable\n")
        }
    }
}

/// What a starting instance answers, before its database is migrated and its site
/// built (see `App::bind`): `/healthz` 200 `starting` (the process is alive), `/readyz`
/// and everything else 503 with `Retry-After`. Each answer closes its connection, so
/// that no client keeps one to the stand-in.
pub async fn starting(req: actix_web::HttpRequest) -> HttpResponse {
    use actix_web::http::header;
    if req.path() == "/healthz" {
        return HttpResponse::Ok()
            .force_close()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("text/plain")
            .body("starting\n");
    }
    let mut response = HttpResponse::ServiceUnavailable();
    response.force_close().insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::RETRY_AFTER, "1"));
    match req.path() {
        "/readyz" => response.content_type("text/plain").body("starting\n"),
        _ if super::wants_json(&req) => response.json(serde_json::json!({
            "code": "unavailable",
            "message": "The site is starting; try again in a moment.",
        })),
        _ => response.content_type("text/plain; charset=utf-8").body("The site is starting; try again in a moment.\n"),
    }
}
