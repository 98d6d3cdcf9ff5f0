//! Profiles and saved articles.

use crate::domain::UserId;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::articles::parse_page;
use super::cache::{Cacheable, Scope};
use super::{redirect, AppError, AppState};
use crate::auth::{safe_next, SignedIn, Visitor};
use crate::db::PageRequest;
use crate::db::{articles, comments, saved, users};
use crate::views::profiles::{self as view, ProfilePage};

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

const PROFILE_COMMENTS: i64 = 20;
/// Saved articles a profile lists (all of them are on `/saved`).
const PROFILE_SAVED: i64 = 10;
const SAVED_PER_PAGE: i64 = 20;
/// GET /users/{username}
pub async fn profile(
    state: web::Data<AppState>,
    visitor: Visitor,
    username: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<Cacheable<Markup>, AppError> {
    let request = PageRequest::new(parse_page(query.page.as_deref())?, PROFILE_COMMENTS);
    let name = username.into_inner();
    let viewer = visitor.user.as_ref().map(|u| u.id);
    let (profile, karma, items, saved) = state
        .db(move |conn| {
            let profile = users::profile(conn, &name)?.ok_or(AppError::NotFound)?;
            let karma = crate::db::votes::karma(conn, profile.id)?;
            let items = comments::by_author(conn, profile.id, request.offset(), request.limit())?;
            // Saved articles: to their reader, and to everyone when the reader says so.
            let shown = (viewer == Some(profile.id) || profile.show_saved) && request.number == 1;
            let saved = if shown { Some(saved::on_profile(conn, profile.id, PROFILE_SAVED)?) } else { None };
            Ok((profile, karma, request.page(items), saved))
        })
        .await?;
    let items = items.existing().ok_or(AppError::NotFound)?;
    let (page, has_more) = (items.number, items.has_more);
    let profile_page =
        ProfilePage { profile: &profile, karma, comments: &items.items, page, has_more, saved: saved.as_deref() };
    Ok(Cacheable(view::profile(&visitor, &profile_page), Scope::Site))
}

/// GET /saved
pub async fn saved_list(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<PageQuery>,
) -> Result<Markup, AppError> {
    let request = PageRequest::new(parse_page(query.page.as_deref())?, SAVED_PER_PAGE);
    let user_id = signed_in.user.id;
    let items =
        state.db(move |conn| Ok(request.page(saved::list(conn, user_id, request.offset(), request.limit())?))).await?;
    let items = items.existing().ok_or(AppError::NotFound)?;
    Ok(view::saved(&signed_in.visitor, &items.items, items.number, items.has_more))
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
    crate::service::articles::set_saved(&state, &signed_in.user, &slug, keep).await?;
    if super::wants_json(&req) {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "saved": keep })));
    }
    let back = form.return_to.map(|r| safe_next(Some(&r))).unwrap_or_else(|| format!("/articles/{slug}"));
    Ok(redirect(&back))
}

/// Saves the article named by a login or sign-up form's `save` field, if there is one.
pub async fn save_after_login(state: &AppState, user_id: UserId, slug: Option<String>) -> Result<(), AppError> {
    let Some(slug) = slug.filter(|s| crate::import::is_valid_slug(s)) else { return Ok(()) };
    let public = state
        .db(move |conn| {
            let Some((article_id, _, _)) = articles::find_basic(conn, &slug)? else { return Ok(false) };
            saved::save(conn, user_id, article_id)?;
            Ok(crate::db::users::shows_saved(conn, user_id)?)
        })
        .await?;
    // The request was not the reader's own (they were not signed in yet): what is kept
    // of them, and a profile that lists what they saved, are stale.
    state.cache.touch_user(user_id);
    if public {
        state.cache.touch_everything();
    }
    Ok(())
}
