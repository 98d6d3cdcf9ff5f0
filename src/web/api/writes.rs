//! `/api/v1`: what readers change: editing and deleting their comments, votes, reports,
//! saved articles (and reading them back). The same services and rules as the pages.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{Comment, Context};
use super::{read, require, write, ErrorBody};
use crate::auth::{AuthUser, SignedIn};
use crate::db::{comments, saved, PageRequest};
use crate::domain::{CommentBody, CommentId, Report, ReportReason};
use crate::service::comments as service;
use crate::web::{comment_id, AppError, AppState};

/// A refusal of the field `field` of the body, saying why.
pub(super) fn field(field: &str, why: impl AsRef<str>) -> AppError {
    AppError::BadRequest(format!("{field}: {}", why.as_ref()))
}

/// The JSON body of a request as `T` (an empty body reads as `{}`); what cannot be read
/// is refused naming the field.
pub(super) fn body<T: DeserializeOwned>(req: &HttpRequest, bytes: &[u8]) -> Result<T, AppError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/json"));
        if !is_json {
            return Err(AppError::BadRequest("Send the body as JSON, with Content-Type: application/json.".into()));
        }
        bytes
    };
    let mut reader = serde_json::Deserializer::from_slice(text);
    let value = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            AppError::BadRequest(format!("The JSON body could not be read: {inner}."))
        } else {
            field(&path, inner.to_string())
        }
    })?;
    reader.end().map_err(|e| AppError::BadRequest(format!("The JSON body could not be read: {e}.")))?;
    Ok(value)
}

/// Comment `id` as `user` sees it now.
pub(super) async fn comment_as(state: &AppState, user: &AuthUser, id: CommentId) -> Result<Comment, AppError> {
    let viewer = user.id;
    let (item, locked) = state
        .db(move |conn| {
            let (_, _, _, locked) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            Ok((comments::one(conn, id, Some(viewer))?.ok_or(AppError::NotFound)?, locked))
        })
        .await?;
    let context = Context {
        actor: Some(user.actor()),
        locked,
        now: crate::db::now(),
        edit_window: state.config.edit_window,
        base: state.config.base_url.clone(),
    };
    Ok(Comment::new(&item, &context))
}

/// A new text for one's own comment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditComment {
    /// Markdown, at most 10,000 characters.
    #[schema(schema_with = super::schemas::comment_body)]
    pub body: String,
}

/// Replaces the text of the caller's own comment, within the edit window (as on the
/// page). A held comment may be edited by its author too.
#[utoipa::path(
    patch,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1, description = "The comment")),
    request_body = EditComment,
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 200, description = "Saved; the comment as it is now", body = Comment),
        (status = 400, description = "The text is not acceptable (the field is named)", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not the author, the edit window is over, the thread is closed, banned, or the token lacks the write scope", body = ErrorBody),
        (status = 404, description = "No such comment", body = ErrorBody),
    ),
    security(("token" = ["write"]), ("session" = []))
)]
pub async fn edit(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let user = &signed_in.user;
    require(user, write, "write")?;
    crate::web::security::refuse_banned(user)?;
    let id = comment_id(&id)?;
    let new: EditComment = body(&req, &bytes)?;
    let text = CommentBody::parse(&new.body).map_err(|why| field("body", why))?;
    service::edit(&state, user, id, &text).await?;
    Ok(HttpResponse::Ok().json(comment_as(&state, user, id).await?))
}

/// Deletes the caller's own comment (a "[deleted]" placeholder stays while it has
/// replies).
#[utoipa::path(
    operation_id = "delete_comment",
    delete,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1, description = "The comment")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Already deleted", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not the author, banned, or the token lacks the write scope", body = ErrorBody),
        (status = 404, description = "No such comment", body = ErrorBody),
        (status = 409, description = "A moderator removed it: it is kept for the moderators", body = ErrorBody),
    ),
    security(("token" = ["write"]), ("session" = []))
)]
pub async fn delete(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = &signed_in.user;
    require(user, write, "write")?;
    crate::web::security::refuse_banned(user)?;
    let id = comment_id(&id)?;
    service::delete(&state, user, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A vote.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Vote {
    /// 1 up, -1 down, 0 to take one's vote back.
    #[schema(value_type = i32, minimum = -1, maximum = 1)]
    #[serde(deserialize_with = "super::schemas::integer")]
    pub value: i64,
}

/// Sets the caller's vote on a comment (not their own; not in a closed thread).
#[utoipa::path(
    put,
    path = "/api/v1/comments/{id}/vote",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1, description = "The comment")),
    request_body = Vote,
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 200, description = "Counted; the comment with its new score and `my_vote`", body = Comment),
        (status = 400, description = "Not a vote, or the comment is not published", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "One's own comment, a closed thread, banned, or the token lacks the write scope", body = ErrorBody),
        (status = 404, description = "No such comment", body = ErrorBody),
    ),
    security(("token" = ["write"]), ("session" = []))
)]
pub async fn vote(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let user = &signed_in.user;
    require(user, write, "write")?;
    crate::web::security::refuse_banned(user)?;
    let id = comment_id(&id)?;
    let vote: Vote = body(&req, &bytes)?;
    if !(-1..=1).contains(&vote.value) {
        return Err(field("value", format!("a vote is 1, -1 or 0, not {}", vote.value)));
    }
    service::vote(&state, user, id, vote.value as i32).await?;
    Ok(HttpResponse::Ok().json(comment_as(&state, user, id).await?))
}

/// What is wrong with a comment, as the report form asks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// spam, harassment, off-topic, misinformation or other.
    pub reason: super::schemas::ReportName,
    /// In a few words; needed with `other`. At most 500 characters.
    pub details: Option<String>,
}

/// Its schema says that `other` needs details (see `schemas::new_report`).
impl utoipa::PartialSchema for NewReport {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::OneOf(super::schemas::new_report()))
    }
}

impl ToSchema for NewReport {}

/// Reports a comment to the moderators. Reporting it again changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/reports",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1, description = "The comment")),
    request_body = NewReport,
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 204, description = "Reported"),
        (status = 400, description = "No such reason, details missing or too long (the field is named), or the comment is not published", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "One's own comment, banned, or the token lacks the write scope", body = ErrorBody),
        (status = 404, description = "No such comment", body = ErrorBody),
    ),
    security(("token" = ["write"]), ("session" = []))
)]
pub async fn report(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let user = &signed_in.user;
    require(user, write, "write")?;
    crate::web::security::refuse_banned(user)?;
    let id = comment_id(&id)?;
    let new: NewReport = body(&req, &bytes)?;
    if new.reason.as_str().parse::<ReportReason>().is_err() {
        let names = ReportReason::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
        return Err(field("reason", format!("one of {names}")));
    }
    let report = Report::parse(new.reason.as_str(), new.details.as_deref()).map_err(|why| field("details", why))?;
    crate::service::moderation::report(&state, user, id, report).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Saves an article to the caller's saved articles; saving it again changes nothing.
#[utoipa::path(
    put,
    path = "/api/v1/articles/{slug}/saved",
    tag = "articles",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 204, description = "Saved"),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Banned, or the token lacks the write scope", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
    ),
    security(("token" = ["write"]), ("session" = []))
)]
pub async fn save(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_saved(&state, &signed_in.user, &slug, true).await
}

/// Takes an article off the caller's saved articles; taking it off again changes nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/articles/{slug}/saved",
    tag = "articles",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 204, description = "Not saved (any more)"),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Banned, or the token lacks the write scope", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
    ),
    security(("token" = ["write"]), ("session" = []))
)]
pub async fn unsave(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_saved(&state, &signed_in.user, &slug, false).await
}

async fn set_saved(state: &AppState, user: &AuthUser, slug: &str, keep: bool) -> Result<HttpResponse, AppError> {
    require(user, write, "write")?;
    crate::web::security::refuse_banned(user)?;
    if !crate::import::is_valid_slug(slug) {
        return Err(AppError::NotFound);
    }
    crate::service::articles::set_saved(state, user, slug, keep).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Saved articles a page lists.
const SAVED_PER_PAGE: i64 = 20;
/// Pages of saved articles, at most.
const SAVED_PAGES: u32 = 1_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SavedQuery {
    /// Where the page starts: the `next_cursor` of the page before. Absent: the first.
    #[param(pattern = "^p[0-9]{1,4}$")]
    cursor: Option<String>,
}

/// A page of the caller's saved articles, most recently saved first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedPage {
    pub articles: Vec<SavedArticle>,
    /// The next page's `cursor`; none on the last page.
    pub next_cursor: Option<String>,
}

/// A saved article.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedArticle {
    pub slug: String,
    pub title: String,
    pub source_name: String,
    /// Published comments.
    pub comment_count: i32,
    #[schema(format = DateTime)]
    pub saved_at: String,
    /// Published comments by others since the caller last opened the article.
    pub new_comments: i64,
    /// The article in the API.
    pub api_url: String,
}

/// The caller's saved articles, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/me/saved",
    tag = "articles",
    params(SavedQuery),
    responses(
        (status = 200, description = "A page of saved articles", body = SavedPage),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 400, description = "The cursor is not one this list gave", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "The token lacks the read scope", body = ErrorBody),
        (status = 404, description = "No such page", body = ErrorBody),
    ),
    security(("token" = ["read"]), ("session" = []))
)]
pub async fn saved_list(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, AppError> {
    let user = &signed_in.user;
    require(user, read, "read")?;
    let page = match query.cursor.as_deref() {
        None => 1,
        Some(raw) => raw
            .strip_prefix('p')
            .filter(|n| !n.is_empty() && n.len() <= 4 && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| (1..=SAVED_PAGES).contains(n))
            .ok_or(AppError::NotFound)?,
    };
    let request = PageRequest::new(page, SAVED_PER_PAGE);
    let user_id = user.id;
    let items =
        state.db(move |conn| Ok(request.page(saved::list(conn, user_id, request.offset(), request.limit())?))).await?;
    let items = items.existing().ok_or(AppError::NotFound)?;
    let next_cursor = (items.has_more && page < SAVED_PAGES).then(|| format!("p{}", page + 1));
    let articles = items
        .items
        .into_iter()
        .map(|s| SavedArticle {
            api_url: format!("/api/v1/articles/{}", s.slug),
            slug: s.slug,
            title: s.title,
            source_name: s.source_name,
            comment_count: s.comment_count,
            saved_at: crate::views::iso_time(s.saved_at),
            new_comments: s.new_comments,
        })
        .collect();
    super::ok(&req, &SavedPage { articles, next_cursor })
}
