//! Middleware: request logging and security headers.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{DefaultHeaders, Next};

/// One log line per request: method, path, status and latency.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let result = next.call(req).await;
    let latency_us = started.elapsed().as_micros() as u64;
    match &result {
        Ok(res) => {
            let status = res.status().as_u16();
            if status >= 500 {
                tracing::warn!(%method, %path, status, latency_us, "request");
            } else {
                tracing::info!(%method, %path, status, latency_us, "request");
            }
        }
        Err(err) => tracing::warn!(%method, %path, %err, latency_us, "request failed"),
    }
    result
}

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Headers every response carries, errors and static files included.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}
