//! `/api/v1/…/comments`: posting, replying and reading comments.

use actix_web::{web, HttpResponse};

use super::model::{Comment, Context, NewComment};
use super::{require, write, ErrorBody};
use crate::auth::SignedIn;
use crate::db::comments;
use crate::domain::{CommentBody, CommentId};
use crate::service::comments as service;
use crate::web::{AppError, AppState};

/// A quote refused (a 400 of the rules) as the API answers it: the request was well
/// formed, the article does not hold it.
fn state_refusal(error: AppError) -> AppError {
    match error {
        AppError::BadRequest(why) => AppError::NotApplicable(why),
        other => other,
    }
}

/// Posts a comment on an article, or (with `parent_id`) a reply. Held comments (the
/// site pre-moderates, or a listed word) are created with status `pending`. A top-level
/// comment may quote a takeaway or a passage of the summary (`quote`).
#[utoipa::path(
    operation_id = "post_comment",
    post,
    path = "/api/v1/articles/{slug}/comments",
    tag = "comments",
    params(("slug" = String, Path, description = "The article's slug")),
    request_body = NewComment,
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), a quote the article does not hold (no such takeaway, a text it does not say, a quote on a reply), or a conflicting request", body = ErrorBody),
        (status = 201, description = "Posted; `Location` is the comment's address in the API", body = Comment,
         headers(("Location" = String, description = "The new comment"))),
        (status = 400, description = "The text is not acceptable, or the parent is of another article", body = ErrorBody),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Banned, the thread is closed, or the token lacks the write scope", body = ErrorBody),
        (status = 404, description = "No such article, or no such comment to reply to", body = ErrorBody),
        (status = 429, description = "Too many comments; `Retry-After` says when to try again", body = ErrorBody),
    ),
    security(("token" = []), ("session" = []))
)]
pub async fn post(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    slug: web::Path<String>,
    body: web::Json<NewComment>,
) -> Result<HttpResponse, AppError> {
    let user = &signed_in.user;
    require(user, write, "write")?;
    crate::web::security::refuse_banned(user)?;
    let new = body.into_inner();
    let parent_id = match new.parent_id {
        None => None,
        Some(id) if id > 0 => Some(CommentId(id)),
        Some(_) => return Err(AppError::BadRequest("parent_id must be a comment id.".into())),
    };
    let slug = slug.into_inner();
    if !crate::import::is_valid_slug(&slug) {
        return Err(AppError::NotFound);
    }
    // The limit holds for the text as sent (the rules trim it first).
    if new.body.chars().count() > CommentBody::MAX_CHARS {
        return Err(AppError::BadRequest(format!("A comment may have at most {} characters.", CommentBody::MAX_CHARS)));
    }
    // A parent that does not exist is a missing row (404), as its address would be.
    let (target, locked) = match service::find_target(&state, &slug, parent_id).await {
        Err(AppError::BadRequest(_)) if parent_id.is_some() => return Err(AppError::NotFound),
        found => found?,
    };
    service::may_post(&state, user, locked)?;
    let text = CommentBody::parse(&new.body).map_err(AppError::BadRequest)?;
    // A quote the article does not hold (now) conflicts with its state: 409.
    let quote = new.quote.as_ref().map(|q| q.request());
    if let Some(asked) = quote.clone() {
        service::check_request(&state, &target, asked).await.map_err(state_refusal)?;
    }
    let posted = service::post(&state, user, &target, &text, quote).await?;
    let viewer = Some(user.id);
    let item = state.db(move |conn| Ok(comments::one(conn, posted.id, viewer)?)).await?.ok_or(AppError::NotFound)?;
    let context = Context {
        actor: Some(user.actor()),
        locked,
        now: crate::db::now(),
        edit_window: state.config.edit_window,
        base: state.config.base_url.clone(),
    };
    Ok(super::created(&format!("/api/v1/comments/{}", posted.id), &Comment::new(&item, &context)))
}
