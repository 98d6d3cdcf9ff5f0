//! Profiles, saving articles, search and feeds.

use crate::domain::UserId;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::articles::parse_page;
use super::{html, redirect, AppError, AppState};
use crate::auth::{safe_next, SignedIn, Visitor};
use crate::db::{articles, comments, now, saved, search, users};
use crate::views::feeds::{self, CommentEntry};
use crate::views::profiles::{self as view, ProfilePage, SearchPage};

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

const PROFILE_COMMENTS: i64 = 20;
const SAVED_PER_PAGE: i64 = 20;
const SEARCH_COMMENTS: i64 = 20;
const SEARCH_ARTICLES: i64 = 10;
pub const MAX_QUERY: usize = 200;

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
            let karma = comments::karma(conn, profile.id)?;
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

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    page: Option<String>,
}

/// GET /search?q=
pub async fn search(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let raw = query.q.clone().unwrap_or_default();
    let text = raw.trim().to_owned();
    let page = parse_page(query.page.as_deref())?;
    let words = search::words(&text);
    let error = if text.chars().count() > MAX_QUERY {
        Some(format!("That search is too long: use at most {MAX_QUERY} characters."))
    } else if query.q.is_some() && words.is_empty() {
        Some("Type a word or two to search for.".to_owned())
    } else {
        None
    };
    if let Some(error) = error {
        let page = view::search(
            &visitor,
            &SearchPage { query: &text, error: Some(&error), articles: &[], comments: &[], page: 1, has_more: false },
        );
        return Ok(html(StatusCode::BAD_REQUEST, page));
    }
    let offset = i64::from(page - 1) * SEARCH_COMMENTS;
    let (found_articles, mut found_comments) = if words.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        state
            .db(move |conn| {
                let a = if page == 1 { search::articles(conn, &words, 0, SEARCH_ARTICLES)? } else { Vec::new() };
                let c = search::comments(conn, &words, offset, SEARCH_COMMENTS + 1)?;
                Ok((a, c))
            })
            .await?
    };
    let has_more = found_comments.len() as i64 > SEARCH_COMMENTS;
    found_comments.truncate(SEARCH_COMMENTS as usize);
    let page = view::search(
        &visitor,
        &SearchPage { query: &text, error: None, articles: &found_articles, comments: &found_comments, page, has_more },
    );
    Ok(html(StatusCode::OK, page))
}

fn atom(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("application/atom+xml; charset=utf-8").body(body)
}

/// GET /feed.atom
pub async fn articles_feed(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let items = state.db(|conn| Ok(articles::newest_full(conn, 30)?)).await?;
    Ok(atom(feeds::articles(&state.config.base_url, &items)))
}

/// GET /articles/{slug}/comments.atom
pub async fn article_comments_feed(
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let s = slug.clone();
    let (title, items) = state
        .db(move |conn| {
            let (id, title, _) = articles::find_basic(conn, &s)?.ok_or(AppError::NotFound)?;
            Ok((title, comments::newest_of_article(conn, id, 50)?))
        })
        .await?;
    let entries: Vec<CommentEntry> = items
        .iter()
        .map(|(c, name, deleted)| CommentEntry {
            comment: c,
            author: deleted.is_none().then_some(name.as_str()),
            article_title: &title,
        })
        .collect();
    Ok(atom(feeds::comments(
        &state.config.base_url,
        &format!("/articles/{slug}/comments.atom"),
        &format!("/articles/{slug}"),
        format!("Comments on {title}"),
        &entries,
    )))
}

/// GET /users/{username}/comments.atom
pub async fn user_comments_feed(
    state: web::Data<AppState>,
    username: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let name = username.into_inner();
    let (profile, items) = state
        .db(move |conn| {
            let profile = users::profile(conn, &name)?.ok_or(AppError::NotFound)?;
            let items = comments::by_author(conn, profile.id, 0, 50)?;
            Ok((profile, items))
        })
        .await?;
    let entries: Vec<CommentEntry> = items
        .iter()
        .map(|(c, _, title)| CommentEntry { comment: c, author: Some(&profile.username), article_title: title })
        .collect();
    Ok(atom(feeds::comments(
        &state.config.base_url,
        &format!("/users/{}/comments.atom", profile.username),
        &format!("/users/{}", profile.username),
        format!("Comments by {}", profile.username),
        &entries,
    )))
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    bio: String,
}

pub const MAX_DISPLAY_NAME: usize = 50;
pub const MAX_BIO: usize = 500;

/// POST /settings/profile: display name and bio (Markdown, cleaned like comments).
pub async fn update_profile(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let display_name = form.display_name.split_whitespace().collect::<Vec<_>>().join(" ");
    let bio = form.bio.trim().to_owned();
    if !display_name.is_empty() && crate::text::is_blank(&display_name) {
        return Err(AppError::BadRequest(
            "A display name needs at least one visible character (or leave it empty).".into(),
        ));
    }
    if !bio.is_empty() && crate::text::is_blank(&bio) {
        return Err(AppError::BadRequest("A bio needs at least one visible character (or leave it empty).".into()));
    }
    if display_name.chars().count() > MAX_DISPLAY_NAME {
        return Err(AppError::BadRequest(format!("A display name has at most {MAX_DISPLAY_NAME} characters.")));
    }
    if bio.chars().count() > MAX_BIO {
        return Err(AppError::BadRequest(format!("A bio has at most {MAX_BIO} characters.")));
    }
    let bio_html = match bio.is_empty() {
        true => None,
        false => Some(crate::service::render_markdown(&bio).await?),
    };
    let user_id = signed_in.user.id;
    state
        .db(move |conn| {
            let name = (!display_name.is_empty()).then_some(display_name.as_str());
            let source = (!bio.is_empty()).then_some(bio.as_str());
            Ok(users::set_profile(conn, user_id, name, source, bio_html.as_deref())?)
        })
        .await?;
    Ok(redirect("/settings?notice=profile"))
}
