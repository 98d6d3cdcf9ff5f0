//! Atom feeds: new articles, the comments of an article, the comments of a reader.

use actix_web::{web, HttpResponse};

use super::cache::{Cacheable, Scope};
use super::{AppError, AppState};
use crate::db::{articles, comments, users};
use crate::views::feeds::{self, CommentEntry};

fn atom(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("application/atom+xml; charset=utf-8").body(body)
}

/// GET /feed.atom
pub async fn articles_feed(state: web::Data<AppState>) -> Result<Cacheable<HttpResponse>, AppError> {
    let items = state.db(|conn| Ok(articles::newest_full(conn, 30)?)).await?;
    Ok(Cacheable(atom(feeds::articles(&state.config.base_url, &items)), Scope::Site))
}

/// GET /articles/{slug}/comments.atom
pub async fn article_comments_feed(
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<Cacheable<HttpResponse>, AppError> {
    let slug = slug.into_inner();
    let s = slug.clone();
    let (id, title, items, quotes) = state
        .db(move |conn| {
            let (id, title, _) = articles::find_basic(conn, &s)?.ok_or(AppError::NotFound)?;
            let items = comments::newest_of_article(conn, id, 50)?;
            let quotes = comments::shown_quotes(conn, items.iter().map(|(c, _, _)| c))?;
            Ok((id, title, items, quotes))
        })
        .await?;
    let entries: Vec<CommentEntry> = items
        .iter()
        .map(|(c, name, deleted)| CommentEntry {
            comment: c,
            author: deleted.is_none().then_some(name.as_str()),
            article_title: &title,
            quote: quotes.get(&c.id),
        })
        .collect();
    let feed = atom(feeds::comments(
        &state.config.base_url,
        &format!("/articles/{slug}/comments.atom"),
        &format!("/articles/{slug}"),
        format!("Comments on {title}"),
        &entries,
    ));
    Ok(Cacheable(feed, Scope::Article(id)))
}

/// GET /users/{username}/comments.atom
pub async fn user_comments_feed(
    state: web::Data<AppState>,
    username: web::Path<String>,
) -> Result<Cacheable<HttpResponse>, AppError> {
    let name = username.into_inner();
    let (profile, items, quotes) = state
        .db(move |conn| {
            let profile = users::profile(conn, &name)?.ok_or(AppError::NotFound)?;
            let items = comments::by_author(conn, profile.id, 0, 50)?;
            let quotes = comments::shown_quotes(conn, items.iter().map(|(c, _, _)| c))?;
            Ok((profile, items, quotes))
        })
        .await?;
    let entries: Vec<CommentEntry> = items
        .iter()
        .map(|(c, _, title)| CommentEntry {
            comment: c,
            author: Some(&profile.username),
            article_title: title,
            quote: quotes.get(&c.id),
        })
        .collect();
    let feed = atom(feeds::comments(
        &state.config.base_url,
        &format!("/users/{}/comments.atom", profile.username),
        &format!("/users/{}", profile.username),
        format!("Comments by {}", profile.username),
        &entries,
    ));
    Ok(Cacheable(feed, Scope::Site))
}
