//! `/api/v1/articles`: administrators' articles (the `moderate` scope and the
//! administrator role, as the `/admin` pages ask): create, update, delete, import. A
//! record is one of the import format (`afterword import-articles`), with its rules.

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::Article;
use super::writes::field;
use super::{moderate, require, ErrorBody};
use crate::auth::{AuthUser, SignedIn};
use crate::service::articles as service;
use crate::web::{AppError, AppState};

/// The caller, if the request may administer: the token's `moderate` scope, and the
/// administrator role; 403 otherwise.
pub(super) fn administrator(signed_in: &SignedIn) -> Result<&AuthUser, AppError> {
    let user = &signed_in.user;
    require(user, moderate, "moderate")?;
    crate::domain::permissions::may_administer(Some(&user.actor()))?;
    Ok(user)
}

/// An article as the import format gives it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // The schema of the document; records are read by `import::parse_record`.
pub struct ArticleRecord {
    /// At most 300 characters.
    #[schema(schema_with = super::schemas::title)]
    title: String,
    /// The full article: an http or https address.
    #[schema(schema_with = super::schemas::http_url)]
    source_url: String,
    /// At most 100 characters.
    #[schema(schema_with = super::schemas::source_name)]
    source_name: String,
    /// `YYYY-MM-DD`, years 1900 to 2100.
    #[schema(schema_with = super::schemas::article_date)]
    published_at: String,
    /// Paragraphs: 1 to 20, each at most 10,000 characters.
    #[schema(schema_with = super::schemas::paragraphs)]
    summary: Vec<String>,
    /// At most 30, each at most 1,000 characters.
    #[schema(schema_with = super::schemas::takeaways)]
    key_takeaways: Vec<String>,
    /// At most 10: letters, digits, '-' or '_', at most 40 characters each.
    #[serde(default)]
    #[schema(schema_with = super::schemas::tags)]
    tags: Vec<String>,
    /// The article's address on the site (lower-case letters, digits and single '-');
    /// made from the title when left out. An article's slug does not change.
    #[serde(default)]
    #[schema(schema_with = super::schemas::optional_slug)]
    slug: Option<String>,
}

/// The fields of an article to change: any of a record's, at least one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
#[allow(dead_code)] // The schema of the document; the body is merged into the article.
pub struct ArticleChanges {
    /// At most 300 characters.
    #[schema(schema_with = super::schemas::title)]
    title: Option<String>,
    /// The full article: an http or https address.
    #[schema(schema_with = super::schemas::http_url)]
    source_url: Option<String>,
    /// At most 100 characters.
    #[schema(schema_with = super::schemas::source_name)]
    source_name: Option<String>,
    /// `YYYY-MM-DD`, years 1900 to 2100.
    #[schema(schema_with = super::schemas::article_date)]
    published_at: Option<String>,
    /// Paragraphs: 1 to 20, each at most 10,000 characters.
    #[schema(schema_with = super::schemas::paragraphs)]
    summary: Option<Vec<String>>,
    /// At most 30, each at most 1,000 characters.
    #[schema(schema_with = super::schemas::takeaways)]
    key_takeaways: Option<Vec<String>>,
    /// At most 10: letters, digits, '-' or '_', at most 40 characters each.
    #[schema(schema_with = super::schemas::tags)]
    tags: Option<Vec<String>>,
}

/// Reads one record from a JSON body: its problems name the field.
fn record(value: serde_json::Value) -> Result<crate::import::NewArticle, AppError> {
    if !value.is_object() {
        return Err(AppError::BadRequest("The body is one article: a JSON object.".into()));
    }
    crate::import::parse_record(value).map_err(AppError::BadRequest)
}

fn json_value(req: &HttpRequest, bytes: &[u8]) -> Result<serde_json::Value, AppError> {
    super::writes::body(req, bytes)
}

/// The article `slug` as it is now.
async fn article(state: &AppState, slug: String) -> Result<Article, AppError> {
    let page =
        state.db(move |conn| Ok(crate::db::articles::find_by_slug(conn, &slug)?)).await?.ok_or(AppError::NotFound)?;
    Ok(Article::new(&page, &state.config))
}

/// Creates an article.
#[utoipa::path(
    post,
    path = "/api/v1/articles",
    tag = "articles",
    request_body = ArticleRecord,
    responses(
        (status = 201, description = "Created; `Location` is its address in the API", body = Article,
         headers(("Location" = String, description = "The new article"))),
        (status = 400, description = "A field is not acceptable (named first: `title: must not be empty`)", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the token lacks the moderate scope", body = ErrorBody),
        (status = 409, description = "Another article has this title and source URL, or this slug", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    bytes: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let user = administrator(&signed_in)?;
    let item = record(json_value(&req, &bytes)?)?;
    let slug = service::create(&state, user, item).await?.map_err(AppError::Conflict)?;
    let created = article(&state, slug.clone()).await?;
    Ok(super::created(&format!("/api/v1/articles/{slug}"), &created))
}

/// Changes an article: the fields given replace its own (the others stay); its slug
/// stays.
#[utoipa::path(
    patch,
    path = "/api/v1/articles/{slug}",
    tag = "articles",
    params(("slug" = String, Path, description = "The article's slug")),
    request_body(content = ArticleChanges, description = "Any of the fields of a record"),
    responses(
        (status = 200, description = "Saved; the article as it is now", body = Article),
        (status = 400, description = "A field is not acceptable (named first)", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the token lacks the moderate scope", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
        (status = 409, description = "Another article has this title and source URL", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    slug: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let user = administrator(&signed_in)?;
    let slug = slug.into_inner();
    if !crate::import::is_valid_slug(&slug) {
        return Err(AppError::NotFound);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::BadRequest("Send the fields to change as a JSON object.".into()));
    }
    let serde_json::Value::Object(changes) = json_value(&req, &bytes)? else {
        return Err(AppError::BadRequest("The body is a JSON object of the fields to change.".into()));
    };
    let current = article(&state, slug.clone()).await?;
    if let Some(given) = changes.get("slug") {
        if given.as_str() != Some(slug.as_str()) {
            return Err(field("slug", "an article's slug does not change"));
        }
    }
    let mut merged = serde_json::json!({
        "title": current.title,
        "source_url": current.source_url,
        "source_name": current.source_name,
        "published_at": current.published_at,
        "summary": current.summary.split("\n\n").collect::<Vec<_>>(),
        "key_takeaways": current.takeaways,
        "tags": current.tags,
    });
    let object = merged.as_object_mut().expect("an object");
    for (key, value) in changes {
        if key != "slug" {
            object.insert(key, value);
        }
    }
    let item = record(merged)?;
    service::update(&state, user, &slug, item).await?.map_err(AppError::Conflict)?;
    Ok(HttpResponse::Ok().json(article(&state, slug).await?))
}

/// Deletes an article with all its comments.
#[utoipa::path(
    operation_id = "delete_article",
    delete,
    path = "/api/v1/articles/{slug}",
    tag = "articles",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 204, description = "Deleted, with its comments"),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the token lacks the moderate scope", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn delete(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = administrator(&signed_in)?;
    if !crate::import::is_valid_slug(&slug) {
        return Err(AppError::NotFound);
    }
    service::delete(&state, user, &slug).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Imported {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Imports articles: a JSON array of records, all or none, as the import form takes a
/// file (at most 2 MiB and 1,000 articles). An article is matched by its slug when the
/// record gives one, else by title and source URL, and updated.
#[utoipa::path(
    post,
    path = "/api/v1/articles/import",
    tag = "articles",
    request_body(content = Vec<ArticleRecord>, description = "At most 1,000 records, 2 MiB"),
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 200, description = "Imported", body = Imported),
        (status = 400, description = "A record is not acceptable (its index and field are named), or too many; nothing was imported", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the token lacks the moderate scope", body = ErrorBody),
        (status = 413, description = "Larger than 2 MiB", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn import(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    mut payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let user = administrator(&signed_in)?;
    let limit = crate::web::security::json_limit(req.path());
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("The request body could not be read: {e}")))?;
        if bytes.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    // The same reading as `body`: JSON, said so.
    let value = json_value(&req, &bytes)?;
    if !value.is_array() {
        return Err(AppError::BadRequest("The body is a JSON array of articles.".into()));
    }
    let items =
        crate::import::parse(&bytes).map_err(|e| AppError::BadRequest(crate::text::sentence(&e.to_string())))?;
    let summary =
        service::import(&state, user, items).await?.map_err(|e| AppError::BadRequest(crate::text::sentence(&e)))?;
    Ok(HttpResponse::Ok().json(Imported {
        created: summary.created,
        updated: summary.updated,
        unchanged: summary.unchanged,
    }))
}
