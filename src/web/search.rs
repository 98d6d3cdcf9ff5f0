//! Search: articles and comments matching words (`/search?q=`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::articles::parse_page;
use super::{html, AppError, AppState};
use crate::auth::Visitor;
use crate::db::search;
use crate::db::PageRequest;
use crate::views::profiles::{self as view, SearchPage};

const SEARCH_COMMENTS: i64 = 20;

const SEARCH_ARTICLES: i64 = 10;

pub const MAX_QUERY: usize = 200;

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
    let request = PageRequest::new(page, SEARCH_COMMENTS);
    let (found_articles, found_comments) = if words.is_empty() {
        (Vec::new(), request.page(Vec::new()))
    } else {
        state
            .db(move |conn| {
                let a = if page == 1 { search::articles(conn, &words, 0, SEARCH_ARTICLES)? } else { Vec::new() };
                let c = search::comments(conn, &words, request.offset(), request.limit())?;
                Ok((a, request.page(c)))
            })
            .await?
    };
    let (has_more, found_comments) = (found_comments.has_more, found_comments.items);
    let page = view::search(
        &visitor,
        &SearchPage { query: &text, error: None, articles: &found_articles, comments: &found_comments, page, has_more },
    );
    Ok(html(StatusCode::OK, page))
}
