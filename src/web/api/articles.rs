//! `/api/v1/articles`: articles.

use actix_web::{web, HttpRequest, HttpResponse};

use super::model::Article;
use super::ErrorBody;
use crate::db::articles;
use crate::web::{AppError, AppState};

/// One article, by its slug.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{slug}",
    tag = "articles",
    params(("slug" = String, Path, description = "The article's slug, as in its page's address")),
    responses(
        (status = 200, description = "The article", body = Article),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 404, description = "No such article", body = ErrorBody),
    ),
    security((), ("token" = []), ("session" = []))
)]
pub async fn one(
    state: web::Data<AppState>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    if !crate::import::is_valid_slug(&slug) {
        return Err(AppError::NotFound);
    }
    let page = state.db(move |conn| Ok(articles::find_by_slug(conn, &slug)?)).await?.ok_or(AppError::NotFound)?;
    super::ok(&req, &Article::new(&page, &state.config))
}
