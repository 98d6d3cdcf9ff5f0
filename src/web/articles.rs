//! The front page and article pages.

use actix_web::http::header;
use actix_web::web;
use actix_web::{Either, HttpMessage, HttpRequest, HttpResponse};
use maud::{Markup, PreEscaped};
use serde::Deserialize;

use super::cache::{Cacheable, Scope};
use super::{AppError, AppState};
use crate::auth::{AuthUser, Visitor};
use crate::db::articles::ArticlePage;
use crate::db::threads::{self, Start};
use crate::db::PageRequest;
use crate::db::{articles, saved};
use crate::domain::quotes::{QuoteRequest, Sentences, ShownQuote};
use crate::domain::ArticleId;
use crate::ranking::Sort;
use crate::views::articles::{self as view, FrontPage, ThreadSection, PAGE_SIZE};
use crate::views::comments::{build_forest, ThreadView};
use crate::views::template::{self, Frame, FramePart, FrameSlot, SharedThread};

/// Deepest page number accepted; beyond it the offset would be absurd.
const MAX_PAGE: u32 = 100_000;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    page: Option<String>,
}

/// Parses `?page=N`: a whole number from 1. Absent means 1.
pub fn parse_page(raw: Option<&str>) -> Result<u32, AppError> {
    parse_page_upto(raw, MAX_PAGE)
}

/// Parses `?page=N` of a list that has at most `max` pages: a whole number from 1 to
/// `max`, else 400 with the reason. Absent means 1. Every list's page goes through here.
pub fn parse_page_upto(raw: Option<&str>, max: u32) -> Result<u32, AppError> {
    let Some(raw) = raw else { return Ok(1) };
    match raw.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(AppError::BadRequest(format!(
            "The page number must be a whole number from 1 to {max}; {raw:?} is not."
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
    /// Only the comments quoting this takeaway (from 1).
    takeaway: Option<String>,
    /// The comment form quoting this: `takeaway-N` or `summary-N` (a whole sentence).
    quote: Option<String>,
}

/// Parses `?takeaway=N`: a takeaway's number, from 1 (whether the article has it is
/// checked once it is read). Absent means every comment.
fn parse_takeaway(raw: Option<&str>) -> Result<Option<i32>, AppError> {
    let Some(raw) = raw else { return Ok(None) };
    match raw.trim().parse::<i32>() {
        Ok(n) if (1..=crate::import::MAX_TAKEAWAYS as i32).contains(&n) => Ok(Some(n - 1)),
        _ => Err(AppError::BadRequest(format!("takeaway must be a takeaway's number, from 1; {raw:?} is not."))),
    }
}

/// Checks the filter against the article: it must have that takeaway.
fn check_filter(page: &ArticlePage, filter: Option<i32>) -> Result<(), AppError> {
    match filter {
        Some(position) if position as usize >= page.takeaways.len() => Err(AppError::BadRequest(format!(
            "There is no takeaway {}: this article has {}.",
            position + 1,
            crate::text::plural(page.takeaways.len() as i64, "takeaway", "takeaways")
        ))),
        _ => Ok(()),
    }
}

/// The quote `?quote=` asks the comment form to carry, checked against the article: a
/// takeaway, or a whole sentence of the summary.
fn form_quote(page: &ArticlePage, raw: Option<&str>) -> Result<Option<ShownQuote>, AppError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    let mut asked = QuoteRequest::from_form(Some(raw), None).map_err(AppError::BadRequest)?;
    if asked.kind.as_deref() == Some("summary") {
        let sentences = Sentences::of(&page.article.summary);
        let sentence = asked
            .number
            .and_then(|n| usize::try_from(n).ok())
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| sentences.paragraphs.iter().flatten().nth(n));
        asked.text = sentence.cloned();
    }
    let quote = asked.check(&page.takeaways, &page.article.summary).map_err(AppError::BadRequest)?;
    Ok(quote.map(|q| q.shown(&page.takeaways, &page.article.summary, &page.article.slug)))
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

/// Where a page of a thread is, and the next one, as links (keeping its filter).
fn thread_links(
    path: &str,
    sort: Sort,
    start: Start,
    filter: Option<i32>,
    thread: &threads::ThreadPage,
) -> (String, Option<String>) {
    let filtered = filter.map(|f| format!("&takeaway={}", f + 1)).unwrap_or_default();
    let here = match start {
        Start::First if sort == Sort::Best && filter.is_none() => path.to_owned(),
        Start::First => format!("{path}?sort={}{filtered}", sort.as_str()),
        Start::Skip(n) => format!("{path}?sort={}&page={}{filtered}", sort.as_str(), n / threads::TOP_PER_PAGE + 1),
        Start::After(id) => format!("{path}?sort={}&after={id}{filtered}", sort.as_str()),
    };
    let next = match (thread.has_more, sort, thread.last_unpinned) {
        (false, _, _) => None,
        (true, Sort::New | Sort::Old, Some(last)) => {
            Some(format!("{path}?sort={}&after={last}{filtered}", sort.as_str()))
        }
        (true, _, _) => {
            let skipped = match start {
                Start::Skip(n) => n,
                _ => 0,
            };
            let page = (skipped + thread.top.len() as i64) / threads::TOP_PER_PAGE + 1;
            Some(format!("{path}?sort={}&page={page}{filtered}", sort.as_str()))
        }
    };
    (here, next)
}

pub async fn show(
    state: web::Data<AppState>,
    visitor: Visitor,
    req: HttpRequest,
    slug: web::Path<String>,
    query: web::Query<ArticleQuery>,
) -> Result<Either<Cacheable<Markup>, HttpResponse>, AppError> {
    let slug = slug.into_inner();
    if !crate::import::is_valid_slug(&slug) {
        return Err(AppError::NotFound);
    }
    let sort = Sort::parse(query.sort.as_deref());
    let start = thread_start(sort, &query)?;
    let filter = parse_takeaway(query.takeaway.as_deref())?;
    let asked = Asked { sort, start, filter, quote: query.quote.clone() };
    // A reader in good standing gets the thread every such reader shares, with their
    // own parts filled in (the quote of the form is theirs too).
    // (What is kept for signed-in readers serves a read once this instance has heard
    // of every change made before it: see `cache::Synced`.)
    let shares = visitor.user.as_ref().is_some_and(|u| template::shares(&u.actor()))
        && req.extensions().get::<super::cache::Synced>().is_some();
    if shares && super::cache::cacheable_query_with(req.query_string(), &["quote"]) {
        // One key per page of a thread, however its address is spelled.
        let key = format!("{slug}\n{}\n{start:?}\n{filter:?}", sort.as_str());
        if let Some(response) = shared_view(&state, &visitor, &req, key, slug.clone(), &asked).await? {
            return Ok(Either::Right(response));
        }
    }
    show_unshared(state, visitor, slug, asked).await.map(Either::Left)
}

/// What a request asks of an article page.
struct Asked {
    sort: Sort,
    start: Start,
    /// The takeaway the thread is filtered to (its position, from 0).
    filter: Option<i32>,
    /// `?quote=`, unchecked.
    quote: Option<String>,
}

/// The article page rendered for this reader alone.
async fn show_unshared(
    state: web::Data<AppState>,
    visitor: Visitor,
    slug: String,
    asked: Asked,
) -> Result<Cacheable<Markup>, AppError> {
    let Asked { sort, start, filter, .. } = asked;
    let viewer = visitor.user.as_ref().map(|u| u.id);
    let (article, thread, seen, live_after) = state
        .db(move |conn| {
            let article = articles::page_by_slug(conn, &slug)?.ok_or(AppError::NotFound)?;
            check_filter(&article, filter)?;
            let live_after = crate::db::live::newest(conn, article.article.id)?;
            let thread = threads::article_page(conn, article.article.id, sort, start, viewer, filter)?;
            let seen = match viewer {
                Some(user) => saved::seen_state(conn, user, article.article.id)?,
                None => None,
            };
            Ok((article, thread, seen, live_after))
        })
        .await?;
    let quote = form_quote(&article, asked.quote.as_deref())?;
    mark_seen(&state, &visitor, article.article.id, seen).await;
    if thread.top.is_empty() && start != Start::First {
        return Err(AppError::NotFound);
    }
    let path = format!("/articles/{}", article.article.slug);
    let (here, next) = thread_links(&path, sort, start, filter, &thread);
    let view = ThreadView::new(&visitor, article.article.comments_locked, &here, state.config.edit_window, sort);
    let nodes = build_forest(thread);
    let thread = ThreadSection {
        forest: crate::views::comments::forest(&view, &nodes),
        empty: nodes.is_empty(),
        view,
        first: start == Start::First,
        next,
        must_verify: must_verify(&state, &visitor),
        live_after,
        filter,
        quote,
    };
    let scope = Scope::Article(article.article.id);
    Ok(Cacheable(view::article_page(&visitor, &article, &thread, seen.is_some(), &state.config.base_url), scope))
}

fn must_verify(state: &AppState, visitor: &Visitor) -> bool {
    state.config.require_email_verification && visitor.user.as_ref().is_some_and(|u| !u.email_verified)
}

/// Opening a saved article marks its new comments seen: a write only when there are
/// some, and one that may fail (the database busy) without failing the page.
async fn mark_seen(state: &AppState, visitor: &Visitor, article_id: ArticleId, seen: Option<bool>) {
    if let (Some(true), Some(user)) = (seen, visitor.user.as_ref().map(|u| u.id)) {
        state
            .db_write_best_effort("saved article seen", move |conn| {
                saved::mark_seen(conn, user, article_id)?;
                Ok(())
            })
            .await;
    }
}

/// The reader's own parts of the rendering of a page named `key` (of `article`, whose
/// thread has the comments `ids`): from memory while nothing of theirs or of the
/// article changed (see `cache::Scope::Reader`), else read.
async fn reader_state(
    state: &AppState,
    reader: crate::domain::UserId,
    article: ArticleId,
    key: &str,
    ids: &[crate::domain::CommentId],
) -> Result<std::sync::Arc<super::cache::Kept<threads::ReaderState>>, AppError> {
    let key = format!("{}\n{key}", reader.0);
    if let Some(kept) = state.cache.reader(&key) {
        return Ok(kept);
    }
    let rendered = state.cache.mark();
    let ids = ids.to_vec();
    let mine = state.db_quick(move |conn| Ok(threads::reader_state(conn, reader, article, &ids)?)).await?;
    // New comments unseen are marked seen by this view (`mark_seen`): the next one
    // reads the state again.
    if mine.seen == Some(true) {
        return Ok(std::sync::Arc::new(super::cache::Kept::unkept(mine)));
    }
    Ok(state.cache.keep_reader(key, reader, article, rendered, mine))
}

/// An article page's parts that every reader in good standing shares: the article and
/// one page of its thread, rendered once (see `views::template`).
pub struct SharedPage {
    article: ArticlePage,
    thread: SharedThread,
    /// The page around the thread (head, tail), as readers share it; see
    /// `template::Frame`.
    frame: (Frame, Frame),
    /// This page's address and the next one's.
    here: String,
    next: Option<String>,
    /// Whether the page has no comments.
    empty: bool,
    /// The article's newest live event when the thread was read.
    live_after: i64,
}

impl SharedPage {
    pub fn bytes(&self) -> usize {
        self.thread.bytes() + self.frame.0.bytes() + self.frame.1.bytes() + 4096
    }
}

/// The article page for a reader in good standing, from the shared thread kept under
/// `key` (made and kept first if need be). `None` when this reader's page differs in
/// more than their own parts (they have comments awaiting approval, which only they see).
async fn shared_view(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    req: &HttpRequest,
    key: String,
    slug: String,
    asked: &Asked,
) -> Result<Option<HttpResponse>, AppError> {
    let (sort, start, filter) = (asked.sort, asked.start, asked.filter);
    let Some(user) = visitor.user.clone() else { return Ok(None) };
    let mut found = state.cache.shared(&key);
    let mut building = None;
    // One build at a time (see `PageCache::after_miss`), unless nothing would be kept.
    if found.is_none() && state.cache.hearing() {
        match state.cache.after_miss("shared", &key, || state.cache.shared(&key)).await {
            Ok(kept) => found = Some(kept),
            Err(turn) => building = turn,
        }
    }
    let kept = match found {
        Some(kept) => kept,
        None => {
            let rendered = state.cache.mark();
            let (article, thread, live_after) = state
                .db(move |conn| {
                    let article = articles::page_by_slug(conn, &slug)?.ok_or(AppError::NotFound)?;
                    check_filter(&article, filter)?;
                    let live_after = crate::db::live::newest(conn, article.article.id)?;
                    let thread = threads::article_page(conn, article.article.id, sort, start, None, filter)?;
                    Ok((article, thread, live_after))
                })
                .await?;
            if thread.top.is_empty() && start != Start::First {
                return Err(AppError::NotFound);
            }
            let path = format!("/articles/{}", article.article.slug);
            let (here, next) = thread_links(&path, sort, start, filter, &thread);
            let (visitor, edit_window) = (visitor.clone(), state.config.edit_window);
            let base_url = state.config.base_url.clone();
            let stand_in_user = user.clone();
            let page = web::block(move || {
                let view = ThreadView::new(&visitor, article.article.comments_locked, &here, edit_window, sort);
                let nodes = build_forest(thread);
                let thread = SharedThread::render(&view, &nodes);
                let empty = nodes.is_empty();
                // The page around the thread, as a stand-in for every such reader sees it.
                let reader =
                    AuthUser { username: String::new(), unread: 0, session_hash: String::new(), ..stand_in_user };
                let stand_in = Visitor::stand_in(reader, template::csrf_marker(), here.clone());
                let view = ThreadView::new(&stand_in, article.article.comments_locked, &here, edit_window, sort);
                let section = ThreadSection {
                    forest: PreEscaped(template::MARKER.to_owned()),
                    empty,
                    first: start == Start::First,
                    next: next.clone(),
                    must_verify: false,
                    live_after,
                    view,
                    filter,
                    quote: None,
                };
                let html = view::article_page(&stand_in, &article, &section, false, &base_url).into_string();
                let (head, tail) = html.split_once(template::MARKER).unwrap_or((&html, ""));
                let frame = (Frame::new(head), Frame::new(tail));
                SharedPage { article, thread, frame, here, next, empty, live_after }
            })
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
            let scope = Scope::Article(page.article.article.id);
            state.cache.keep_shared(key.clone(), scope, rendered, page)
        }
    };
    drop(building);
    let page = &kept.value;
    let quote = form_quote(&page.article, asked.quote.as_deref())?;
    let article_id = page.article.article.id;
    // Kept with this rendering of the thread: read for its comments.
    let rendering = format!("{key}\n{}", kept.rendered());
    let mine = reader_state(state, user.id, article_id, &rendering, &page.thread.ids).await?;
    let mine = &mine.value;
    if mine.held {
        return Ok(None);
    }
    mark_seen(state, visitor, article_id, mine.seen).await;
    let view =
        ThreadView::new(visitor, page.article.article.comments_locked, &page.here, state.config.edit_window, sort);
    let must_verify = must_verify(state, visitor);
    let parts = page.thread.fill(&view, user.actor(), &mine.votes);
    let (head, tail) = if quote.is_none() && !must_verify {
        // The shared frame, with this reader's own parts.
        let slug = &page.article.article.slug;
        let own = |slot: &FrameSlot| match slot {
            FrameSlot::Nav => crate::views::layout::site_nav(visitor).into_string(),
            FrameSlot::Save => crate::views::profiles::save_button(visitor, slug, mine.seen.is_some()).into_string(),
            FrameSlot::Csrf => visitor.csrf_token().to_owned(),
        };
        (page.frame.0.fill(own), page.frame.1.fill(own))
    } else {
        // A form quoting something, or a notice instead of it: rendered for this reader.
        let section = ThreadSection {
            forest: PreEscaped(template::MARKER.to_owned()),
            empty: page.empty,
            first: start == Start::First,
            next: page.next.clone(),
            must_verify,
            live_after: page.live_after,
            view: ThreadView::new(
                visitor,
                page.article.article.comments_locked,
                &page.here,
                state.config.edit_window,
                sort,
            ),
            filter,
            quote,
        };
        let html = view::article_page(visitor, &page.article, &section, mine.seen.is_some(), &state.config.base_url)
            .into_string();
        let (head, tail) = html
            .split_once(template::MARKER)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the article page lost the place of its thread")))?;
        (vec![FramePart::Fresh(head.to_owned())], vec![FramePart::Fresh(tail.to_owned())])
    };
    let gzip = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| super::assets::accepts(v, "gzip"));
    let body = if gzip {
        page.thread.gzip(&head, &parts, &tail)
    } else {
        let mut body = String::with_capacity(256 * 1024);
        template::frame_plain(&head, &mut body);
        body.push_str(&template::plain(&parts));
        template::frame_plain(&tail, &mut body);
        body.into_bytes()
    };
    Ok(Some(
        HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CONTENT_ENCODING, if gzip { "gzip" } else { "identity" }))
            .insert_header((header::VARY, "Accept-Encoding, Cookie"))
            .body(body),
    ))
}
