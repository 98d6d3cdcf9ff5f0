//! The front page and article pages.

use actix_web::web;
use maud::Markup;
use serde::Deserialize;

use super::{AppError, AppState};
use crate::auth::Visitor;
use crate::db::articles;
use crate::views::articles::{self as view, FrontPage, PAGE_SIZE};

/// Deepest page number accepted; beyond it the offset would be absurd.
const MAX_PAGE: u32 = 100_000;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    page: Option<String>,
}

/// Parses `?page=N`: a whole number from 1. Absent means 1.
pub fn parse_page(raw: Option<&str>) -> Result<u32, AppError> {
    let Some(raw) = raw else { return Ok(1) };
    match raw.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        _ => Err(AppError::BadRequest(format!(
            "The page number must be a whole number from 1 to {MAX_PAGE}; {raw:?} is not."
        ))),
    }
}

pub async fn front_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<ListQuery>,
) -> Result<Markup, AppError> {
    let page = parse_page(query.page.as_deref())?;
    let offset = i64::from(page - 1) * PAGE_SIZE;
    let mut items = state.db(move |conn| Ok(articles::list_newest(conn, offset, PAGE_SIZE + 1)?)).await?;
    if items.is_empty() && page > 1 {
        return Err(AppError::NotFound);
    }
    let has_next = items.len() as i64 > PAGE_SIZE;
    items.truncate(PAGE_SIZE as usize);
    Ok(view::front_page(&visitor, &FrontPage { items, page, has_next }, &state.config.base_url))
}

pub async fn show(state: web::Data<AppState>, visitor: Visitor, slug: web::Path<String>) -> Result<Markup, AppError> {
    let slug = slug.into_inner();
    if !crate::import::is_valid_slug(&slug) {
        return Err(AppError::NotFound);
    }
    let page = state.db(move |conn| articles::find_by_slug(conn, &slug)?.ok_or(AppError::NotFound)).await?;
    Ok(view::article_page(&visitor, &page, &state.config.base_url))
}
