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
    let path = loggable_path(req.request());
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

/// The path for the log: segments that are secrets in the route pattern (`{token}`,
/// as in `/password-reset/{token}`) are replaced by the pattern's name. The query
/// string is never logged.
pub fn loggable_path(req: &actix_web::HttpRequest) -> String {
    let path = req.path();
    let Some(pattern) = req.match_pattern() else { return path.to_owned() };
    if !pattern.split('/').any(is_secret_segment) {
        return path.to_owned();
    }
    let mut parts = path.split('/');
    let redacted: Vec<&str> = pattern
        .split('/')
        .map(|p| {
            let actual = parts.next().unwrap_or("");
            if is_secret_segment(p) {
                p
            } else {
                actual
            }
        })
        .collect();
    redacted.join("/")
}

/// Route parameters that carry secrets.
fn is_secret_segment(segment: &str) -> bool {
    segment == "{token}"
}

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Headers every response carries, errors and static files included; on https,
/// `Strict-Transport-Security` too.
pub fn security_headers(config: &crate::Config) -> DefaultHeaders {
    let headers = if config.secure() {
        DefaultHeaders::new().add(("Strict-Transport-Security", "max-age=31536000"))
    } else {
        DefaultHeaders::new()
    };
    headers
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}
