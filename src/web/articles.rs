//! The front page and article pages.

use actix_web::web;
use maud::Markup;
use serde::Deserialize;

use super::cache::{Cacheable, Scope};
use super::{AppError, AppState};
use crate::auth::Visitor;
use crate::db::threads::{self, Start};
use crate::db::PageRequest;
use crate::db::{articles, saved};
use crate::ranking::Sort;
use crate::views::articles::{self as view, FrontPage, ThreadSection, PAGE_SIZE};
use crate::views::comments::{build_forest, ThreadView};

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
) -> Result<Cacheable<Markup>, AppError> {
    let request = PageRequest::new(parse_page(query.page.as_deref())?, PAGE_SIZE);
    let viewer = visitor.user.as_ref().map(|u| u.id);
    let (items, saved) = state
        .db(move |conn| {
            let items = request.page(articles::list_newest(conn, request.offset(), request.limit())?);
            let saved = match viewer {
                Some(user) => {
                    let ids: Vec<_> = items.items.iter().map(|(a, _)| a.id).collect();
                    saved::saved_among(conn, user, &ids)?
                }
                None => Default::default(),
            };
            Ok((items, saved))
        })
        .await?;
    let items = items.existing().ok_or(AppError::NotFound)?;
    let (page, has_next) = (items.number, items.has_more);
    let front = FrontPage { items: items.items, page, has_next, saved };
    Ok(Cacheable(view::front_page(&visitor, &front, &state.config.base_url), Scope::Site))
}

#[derive(Debug, Deserialize)]
pub struct ArticleQuery {
    sort: Option<String>,
    page: Option<String>,
    after: Option<String>,
}

/// Where the requested page of a thread starts: `?after=ID` (for `new` and `old`, as
/// their "More comments" links say), or `?page=N`.
fn thread_start(sort: Sort, query: &ArticleQuery) -> Result<Start, AppError> {
    if let (Some(after), Sort::New | Sort::Old) = (query.after.as_deref(), sort) {
        return match after.trim().parse::<i64>() {
            Ok(id) if id > 0 => Ok(Start::After(crate::domain::CommentId(id))),
            _ => Err(AppError::BadRequest(format!("after must be a comment's number; {after:?} is not."))),
        };
    }
    Ok(match parse_page(query.page.as_deref())? {
        1 => Start::First,
        n => Start::Skip(i64::from(n - 1) * threads::TOP_PER_PAGE),
    })
}

pub async fn show(
    state: web::Data<AppState>,
    visitor: Visitor,
    slug: web::Path<String>,
    query: web::Query<ArticleQuery>,
) -> Result<Cacheable<Markup>, AppError> {
    let slug = slug.into_inner();
    if !crate::import::is_valid_slug(&slug) {
        return Err(AppError::NotFound);
    }
    let sort = Sort::parse(query.sort.as_deref());
    let start = thread_start(sort, &query)?;
    let viewer = visitor.user.as_ref().map(|u| u.id);
    let (article, thread, seen) = state
        .db(move |conn| {
            let article = articles::find_by_slug(conn, &slug)?.ok_or(AppError::NotFound)?;
            let thread = threads::article_page(conn, article.article.id, sort, start, viewer)?;
            let seen = match viewer {
                Some(user) => saved::seen_state(conn, user, article.article.id)?,
                None => None,
            };
            Ok((article, thread, seen))
        })
        .await?;
    let saved = seen.is_some();
    // Opening a saved article marks its new comments seen: a write only when there are
    // some, and one that may fail (the database busy) without failing the page.
    if let (Some(true), Some(user)) = (seen, viewer) {
        let article_id = article.article.id;
        state
            .db_write_best_effort("saved article seen", move |conn| {
                saved::mark_seen(conn, user, article_id)?;
                Ok(())
            })
            .await;
    }
    if thread.top.is_empty() && start != Start::First {
        return Err(AppError::NotFound);
    }
    let path = format!("/articles/{}", article.article.slug);
    let here = match start {
        Start::First if sort == Sort::Best => path.clone(),
        Start::First => format!("{path}?sort={}", sort.as_str()),
        Start::Skip(n) => format!("{path}?sort={}&page={}", sort.as_str(), n / threads::TOP_PER_PAGE + 1),
        Start::After(id) => format!("{path}?sort={}&after={id}", sort.as_str()),
    };
    let next = match (thread.has_more, sort, thread.last_unpinned) {
        (false, _, _) => None,
        (true, Sort::New | Sort::Old, Some(last)) => Some(format!("{path}?sort={}&after={last}", sort.as_str())),
        (true, _, _) => {
            let skipped = match start {
                Start::Skip(n) => n,
                _ => 0,
            };
            let page = (skipped + thread.top.len() as i64) / threads::TOP_PER_PAGE + 1;
            Some(format!("{path}?sort={}&page={page}", sort.as_str()))
        }
    };
    let must_verify =
        state.config.require_email_verification && visitor.user.as_ref().is_some_and(|u| !u.email_verified);
    let thread = ThreadSection {
        view: ThreadView::new(&visitor, article.article.comments_locked, &here, state.config.edit_window, sort),
        nodes: build_forest(thread),
        first: start == Start::First,
        next,
        must_verify,
    };
    let scope = Scope::Article(article.article.id);
    Ok(Cacheable(view::article_page(&visitor, &article, &thread, saved, &state.config.base_url), scope))
}
