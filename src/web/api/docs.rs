//! `/api/docs`: the API's documentation for people, built from its OpenAPI document.

use maud::Markup;
use utoipa::OpenApi;

use super::ApiDoc;
use crate::auth::Visitor;
use crate::views::api_docs;

/// GET /api/docs. The document does not change while the process runs: its part of the
/// page is rendered once.
pub async fn page(visitor: Visitor) -> Markup {
    thread_local! {
        static BODY: String = {
            let document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
            api_docs::body(&document).into_string()
        };
    }
    let body = BODY.with(Clone::clone);
    api_docs::page(&visitor, &body)
}
