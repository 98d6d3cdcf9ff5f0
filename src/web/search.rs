//! Search: articles and comments matching words (`/search?q=`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::articles::parse_page_upto;
use super::{html, AppError, AppState};
use crate::auth::Visitor;
use crate::db::search;
use crate::db::PageRequest;
use crate::views::profiles::{self as view, SearchPage};

/// Comments a page of results shows.
pub const SEARCH_COMMENTS: i64 = 20;
/// Articles a page of results shows.
pub const SEARCH_ARTICLES: i64 = 10;
/// Pages of results: a search ranks at most `search::CANDIDATES` matches of each kind,
/// so no page past this one can hold any.
pub const SEARCH_PAGES: u32 = (search::CANDIDATES / SEARCH_ARTICLES) as u32;

pub const MAX_QUERY: usize = 200;

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    page: Option<String>,
}

/// GET /search?q=&page=: articles and comments matching, a page of each; the pager
/// keeps the words. A page past the last one with results is 404, as in every list.
pub async fn search(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let raw = query.q.clone().unwrap_or_default();
    let text = raw.trim().to_owned();
    let page = parse_page_upto(query.page.as_deref(), SEARCH_PAGES)?;
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
    let for_articles = PageRequest::new(page, SEARCH_ARTICLES);
    let for_comments = PageRequest::new(page, SEARCH_COMMENTS);
    let (found_articles, found_comments) = if words.is_empty() {
        (for_articles.page(Vec::new()), for_comments.page(Vec::new()))
    } else {
        state
            .db(move |conn| {
                let a = search::articles(conn, &words, for_articles.offset(), for_articles.limit())?;
                let c = search::comments(conn, &words, for_comments.offset(), for_comments.limit())?;
                Ok((for_articles.page(a), for_comments.page(c)))
            })
            .await?
    };
    if page > 1 && found_articles.items.is_empty() && found_comments.items.is_empty() {
        return Err(AppError::NotFound);
    }
    let has_more = found_articles.has_more || found_comments.has_more;
    let page = view::search(
        &visitor,
        &SearchPage {
            query: &text,
            error: None,
            articles: &found_articles.items,
            comments: &found_comments.items,
            page,
            has_more,
        },
    );
    Ok(html(StatusCode::OK, page))
}
