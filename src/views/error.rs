//! Error pages.

use actix_web::http::StatusCode;
use maud::{html, Markup};

use super::layout::{self, Meta};
use crate::auth::Visitor;

/// The page for an error answered with `status`, saying `message`, with the site header
/// as `visitor` sees it (`None` when the request never got as far as knowing who asks).
pub fn page(visitor: Option<&Visitor>, status: StatusCode, message: &str) -> Markup {
    let title = match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::BAD_REQUEST => "That request could not be used",
        StatusCode::SERVICE_UNAVAILABLE => "Temporarily unavailable",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::TOO_MANY_REQUESTS => "Slow down",
        StatusCode::PAYLOAD_TOO_LARGE => "Too large",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    let meta = Meta { title: Some(title), description: message, url: None, og_type: "website", feed: None };
    layout::page(
        visitor,
        &meta,
        html! {
            section class="error-page" {
                h1 { (title) }
                p { (message) }
                p { a href="/" { "Back to the articles" } }
            }
        },
    )
}
