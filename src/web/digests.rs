//! `/digest/unsubscribe/{token}`: the link every digest carries. It works without
//! logging in; the token (signed with the site's key) says whose digest it is. GET
//! asks (it changes nothing: mail scanners follow links); POST with
//! `List-Unsubscribe=One-Click` (RFC 8058: what mail clients send, and what the page's
//! button sends) unsubscribes at once. This is the one state-changing route without a
//! CSRF token: the token in its path is the proof. A token that is not genuine: 404.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{html, redirect, AppError, AppState};
use crate::auth::Visitor;
use crate::service::digests;

/// Whether a request is a one-click unsubscribe (exempt from the CSRF check).
pub fn is_one_click(path: &str) -> bool {
    path.strip_prefix("/digest/unsubscribe/").is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

pub async fn confirm(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let (_, username, frequency) = digests::unsubscribe_target(&state, &token).await?;
    let page = crate::views::digests::unsubscribe_page(&visitor, &token, &username, frequency);
    let mut response = html(StatusCode::OK, page);
    response
        .headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Whether a POST body says `List-Unsubscribe=One-Click`, as a form
/// (`application/x-www-form-urlencoded`) or as a `multipart/form-data` part: RFC 8058
/// allows both.
fn says_one_click(req: &HttpRequest, body: &[u8]) -> bool {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let text = String::from_utf8_lossy(body);
        return text.split("Content-Disposition").skip(1).any(|part| {
            part.contains("name=\"List-Unsubscribe\"")
                && part.split_once("\r\n\r\n").is_some_and(|(_, value)| value.trim_start().starts_with("One-Click"))
        });
    }
    url::form_urlencoded::parse(body).any(|(name, value)| name == "List-Unsubscribe" && value == "One-Click")
}

pub async fn unsubscribe(
    state: web::Data<AppState>,
    req: HttpRequest,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
    let token = token.into_inner();
    // A token that is not genuine is 404 whatever the body.
    digests::unsubscribe_target(&state, &token).await?;
    if !says_one_click(&req, &body) {
        return Err(AppError::BadRequest("The request must carry List-Unsubscribe=One-Click.".into()));
    }
    digests::unsubscribe(&state, &token).await?;
    Ok(redirect(&format!("/digest/unsubscribe/{token}")))
}
