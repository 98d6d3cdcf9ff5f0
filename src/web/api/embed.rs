//! What the embedded comments call besides the threads: the first comment on a page
//! of an allowed site (which makes its article), and comment counts by page address.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{Article, Comment, Context};
use super::{require, write, ErrorBody};
use crate::auth::SignedIn;
use crate::db;
use crate::domain::CommentBody;
use crate::web::embed::{clamp, page_url, MAX_SUMMARY, MAX_TITLE};
use crate::web::{AppError, AppState};

/// A comment on the page at `url`: on its article, made with this comment when the
/// page has none yet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewThreadComment {
    /// The page's address (http or https, of an origin allowed to embed the comments).
    #[schema(schema_with = super::schemas::http_url)]
    pub url: String,
    /// The page's title, for a new article (default: the address). Longer is cut.
    #[schema(schema_with = super::schemas::embed_title)]
    pub title: Option<String>,
    /// A summary of the page, for a new article. Longer is cut.
    #[schema(schema_with = super::schemas::embed_summary)]
    pub summary: Option<String>,
    /// Markdown, at most 10,000 characters.
    #[schema(schema_with = super::schemas::comment_body)]
    pub body: String,
}

/// The comment posted, and the article it is on.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadComment {
    pub article: Article,
    pub comment: Comment,
}

/// The article a first comment makes: title and summary as the host page gave them,
/// its source the page's host, dated today.
fn new_article(url: &str, title: &str, summary: &str) -> Result<crate::import::NewArticle, AppError> {
    let parsed = url::Url::parse(url).map_err(|_| AppError::BadRequest("url is not an address.".into()))?;
    let host = parsed.host_str().unwrap_or_default().trim_start_matches("www.").to_owned();
    let title = match clamp(title, MAX_TITLE) {
        t if t.is_empty() => clamp(&format!("{host}{}", parsed.path()), MAX_TITLE),
        t => t,
    };
    let summary = match clamp(summary, MAX_SUMMARY) {
        s if s.is_empty() => format!("Comments on {url}"),
        s => s,
    };
    let today = crate::views::iso_date(crate::db::now().date());
    crate::import::from_form(&title, url, &clamp(&host, crate::import::MAX_SOURCE_NAME), &today, &summary, "", "")
        .map_err(|problems| {
            let first = problems.into_iter().next().map(|p| p.in_form).unwrap_or_default();
            AppError::BadRequest(format!("The page cannot have comments here: {first}"))
        })
}

/// Posts a comment on the page at `url` (embedded comments): on its article, which
/// this first comment makes when the page has none (from `title` and `summary`, with a
/// slug from the title; administrators can edit it later). Only for pages of an
/// origin allowed to embed the comments.
#[utoipa::path(
    operation_id = "post_on_page",
    post,
    path = "/api/v1/threads",
    tag = "comments",
    request_body = NewThreadComment,
    responses(
        (status = 201, description = "Posted; `Location` is the comment's address in the API", body = ThreadComment,
         headers(("Location" = String, description = "The new comment"))),
        (status = 400, description = "The address, the text or the title is not acceptable", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "The page's site may not embed the comments; banned; the thread is closed; or the token lacks the write scope", body = ErrorBody),
        (status = 409, description = "Another article has this title and address", body = ErrorBody),
        (status = 429, description = "Too many comments; `Retry-After` says when to try again", body = ErrorBody),
    ),
    security(("token" = []), ("session" = []))
)]
pub async fn post(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    body: web::Json<NewThreadComment>,
) -> Result<HttpResponse, AppError> {
    let user = &signed_in.user;
    require(user, write, "write")?;
    crate::web::security::refuse_banned(user)?;
    let new = body.into_inner();
    let (url, origin) =
        page_url(&new.url).ok_or_else(|| AppError::BadRequest("url must be an http or https address.".into()))?;
    if !state.origins.allows(&origin) {
        return Err(AppError::Forbidden(format!("Pages of {origin} may not embed the comments of this site.")));
    }
    let text = CommentBody::parse(&new.body).map_err(AppError::BadRequest)?;
    let item = new_article(&url, new.title.as_deref().unwrap_or(""), new.summary.as_deref().unwrap_or(""))?;
    let (slug, _) = crate::service::embed::article_for_page(&state, user, item).await?;
    let (target, locked) = crate::service::comments::find_target(&state, &slug, None).await?;
    crate::service::comments::may_post(&state, user, locked)?;
    let posted = crate::service::comments::post(&state, user, &target, &text, None).await?;
    let viewer = Some(user.id);
    let (item, page) = state
        .db(move |conn| {
            let item = db::comments::one(conn, posted.id, viewer)?.ok_or(AppError::NotFound)?;
            let page = db::articles::find_by_slug(conn, &slug)?.ok_or(AppError::NotFound)?;
            Ok((item, page))
        })
        .await?;
    let context = Context {
        actor: Some(user.actor()),
        locked,
        now: crate::db::now(),
        edit_window: state.config.edit_window,
        base: state.config.base_url.clone(),
    };
    let answer = ThreadComment { article: Article::new(&page, &state.config), comment: Comment::new(&item, &context) };
    Ok(super::created(&format!("/api/v1/comments/{}", posted.id), &answer))
}
