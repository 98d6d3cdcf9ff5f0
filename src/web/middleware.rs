//! Middleware: the access log (one span per request, with a request id), JSON errors
//! for programs, and security headers.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::HttpMessage;
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

use super::AppError;

/// The access log, for `tracing_actix_web::TracingLogger`: every request runs in a span
/// `request{id=… method=… path=…}`, so every line logged while serving it carries its
/// request id; when it ends, one line with its status and latency, and for a bug
/// (`AppError::Internal`) the error with all its causes.
pub struct AccessLog;

/// When the request started, for its latency.
#[derive(Clone, Copy)]
struct Started(Instant);

impl RootSpanBuilder for AccessLog {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
        request.extensions_mut().insert(Started(Instant::now()));
        tracing::info_span!("request", %id, method = %request.method(), path = %loggable_path(request.request()))
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        let _entered = span.enter();
        let (status, error, latency_us) = match outcome {
            Ok(response) => {
                let latency = response.request().extensions().get::<Started>().map(|s| s.0.elapsed());
                (response.status(), response.response().error(), latency.map_or(0, |l| l.as_micros() as u64))
            }
            Err(error) => (error.as_response_error().status_code(), Some(error), 0),
        };
        if let Some(error) = error.and_then(|e| e.as_error::<AppError>()) {
            log_internal(error);
        }
        let status = status.as_u16();
        if status >= 500 {
            tracing::warn!(status, latency_us, "request");
        } else {
            tracing::info!(status, latency_us, "request");
        }
    }
}

/// Errors answered to a program (`Accept: application/json`) as JSON rather than as
/// an HTML page: `{"code": …, "message": …}`.
pub async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !super::wants_json(req.request()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    match next.call(req).await {
        Ok(response) => {
            let response = response.map_into_boxed_body();
            let Some(error) = response.response().error().and_then(|e| e.as_error::<AppError>()) else {
                return Ok(response);
            };
            let mut json = as_json(error);
            // Keep what the layers further in added (cookies set or removed, Vary …);
            // only the body and its description change.
            for (name, value) in response.headers() {
                if ![header::CONTENT_TYPE, header::CONTENT_LENGTH, header::CONTENT_ENCODING].contains(name) {
                    json.headers_mut().append(name.clone(), value.clone());
                }
            }
            Ok(response.into_response(json))
        }
        // Refused by a middleware further in (the security checks): the error goes on
        // with its JSON answer. (The request cannot be kept aside to build a response
        // here: actix needs to own it alone while the request is served.)
        Err(err) => match err.as_error::<AppError>() {
            Some(error) => {
                let json = as_json(error);
                Err(actix_web::error::InternalError::from_response(error.to_string(), json).into())
            }
            None => Err(err),
        },
    }
}

/// The JSON answer replaces the one that carried the error, so a bug is logged here
/// (still inside the request's span) rather than by [`AccessLog`].
fn as_json(error: &AppError) -> actix_web::HttpResponse {
    log_internal(error);
    error.json_response()
}

fn log_internal(error: &AppError) {
    if let AppError::Internal(cause) = error {
        tracing::error!(error = format!("{cause:#}"), "internal error");
    }
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
