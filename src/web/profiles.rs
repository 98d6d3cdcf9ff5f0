//! Profiles and saved articles.

use crate::domain::UserId;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::articles::parse_page;
use super::{redirect, AppError, AppState};
use crate::auth::{safe_next, SignedIn, Visitor};
use crate::db::{articles, comments, now, saved, users};
use crate::views::profiles::{self as view, ProfilePage};

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

const PROFILE_COMMENTS: i64 = 20;
const SAVED_PER_PAGE: i64 = 20;
/// GET /users/{username}
pub async fn profile(
    state: web::Data<AppState>,
    visitor: Visitor,
    username: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<Markup, AppError> {
    let page = parse_page(query.page.as_deref())?;
    let offset = i64::from(page - 1) * PROFILE_COMMENTS;
    let name = username.into_inner();
    let (profile, karma, mut items) = state
        .db(move |conn| {
            let profile = users::profile(conn, &name)?.ok_or(AppError::NotFound)?;
            let karma = crate::db::votes::karma(conn, profile.id)?;
            let items = comments::by_author(conn, profile.id, offset, PROFILE_COMMENTS + 1)?;
            Ok((profile, karma, items))
        })
        .await?;
    if items.is_empty() && page > 1 {
        return Err(AppError::NotFound);
    }
    let has_more = items.len() as i64 > PROFILE_COMMENTS;
    items.truncate(PROFILE_COMMENTS as usize);
    Ok(view::profile(&visitor, &ProfilePage { profile: &profile, karma, comments: &items, page, has_more, now: now() }))
}

/// GET /saved
pub async fn saved_list(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<PageQuery>,
) -> Result<Markup, AppError> {
    let page = parse_page(query.page.as_deref())?;
    let offset = i64::from(page - 1) * SAVED_PER_PAGE;
    let user_id = signed_in.user.id;
    let mut items = state.db(move |conn| Ok(saved::list(conn, user_id, offset, SAVED_PER_PAGE + 1)?)).await?;
    if items.is_empty() && page > 1 {
        return Err(AppError::NotFound);
    }
    let has_more = items.len() as i64 > SAVED_PER_PAGE;
    items.truncate(SAVED_PER_PAGE as usize);
    Ok(view::saved(&signed_in.visitor, &items, page, has_more))
}

#[derive(Deserialize)]
pub struct SaveForm {
    action: Option<String>,
    return_to: Option<String>,
}

/// POST /articles/{slug}/save: `action=save` (the default) or `unsave`; both idempotent.
/// Scripts asking for JSON get `{"saved": bool}`; forms go back where they came from.
pub async fn save(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    slug: web::Path<String>,
    form: web::Form<SaveForm>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let form = form.into_inner();
    let keep = match form.action.as_deref().unwrap_or("save") {
        "save" => true,
        "unsave" => false,
        other => return Err(AppError::BadRequest(format!("action must be save or unsave, not {other:?}."))),
    };
    let user_id = signed_in.user.id;
    let s = slug.clone();
    state
        .db(move |conn| {
            let (article_id, _, _) = articles::find_basic(conn, &s)?.ok_or(AppError::NotFound)?;
            if keep {
                saved::save(conn, user_id, article_id)?;
            } else {
                saved::unsave(conn, user_id, article_id)?;
            }
            Ok(())
        })
        .await?;
    if super::wants_json(&req) {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "saved": keep })));
    }
    let back = form.return_to.map(|r| safe_next(Some(&r))).unwrap_or_else(|| format!("/articles/{slug}"));
    Ok(redirect(&back))
}

/// Saves the article named by a login or sign-up form's `save` field, if there is one.
pub async fn save_after_login(state: &AppState, user_id: UserId, slug: Option<String>) -> Result<(), AppError> {
    let Some(slug) = slug.filter(|s| crate::import::is_valid_slug(s)) else { return Ok(()) };
    state
        .db(move |conn| {
            if let Some((article_id, _, _)) = articles::find_basic(conn, &slug)? {
                saved::save(conn, user_id, article_id)?;
            }
            Ok(())
        })
        .await
}
