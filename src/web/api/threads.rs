//! `/api/v1/articles/{slug}/comments` and `/api/v1/comments/{id}/replies`: a thread,
//! page by page, as its page shows it (the same sorts, depth and row budget).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::model::{Comment, Context};
use super::ErrorBody;
use crate::auth::Visitor;
use crate::db::threads::{self, Start};
use crate::db::{articles, comments};
use crate::domain::CommentId;
use crate::ranking::Sort;
use crate::views::comments::{build_forest, Node};
use crate::web::{AppError, AppState};

/// The orders of a thread.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortName {
    /// Best first (the lower bound of the share of up-votes).
    #[default]
    Best,
    /// Highest score first.
    Top,
    /// Newest first.
    New,
    /// Oldest first.
    Old,
    /// Most evenly split votes first.
    Controversial,
}

impl From<SortName> for Sort {
    fn from(name: SortName) -> Sort {
        match name {
            SortName::Best => Sort::Best,
            SortName::Top => Sort::Top,
            SortName::New => Sort::New,
            SortName::Old => Sort::Old,
            SortName::Controversial => Sort::Controversial,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadQuery {
    /// The order of the comments (default: best).
    #[param(inline)]
    sort: Option<SortName>,
    /// Where the page starts: the `next_cursor` of the page before (`p2` …, or `a123`
    /// in the new and old orders). Absent: the first.
    #[param(pattern = "^(p[1-9][0-9]{0,4}|a[1-9][0-9]{0,17})$")]
    cursor: Option<String>,
    /// Only the top-level comments quoting this takeaway (from 1), with their replies;
    /// give it again with the `next_cursor` of a page filtered so.
    #[param(minimum = 1, maximum = 30)]
    takeaway: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RepliesQuery {
    /// The order of the replies (default: best).
    #[param(inline)]
    sort: Option<SortName>,
    /// Where the page starts: the `next_cursor` of the page before (`s50` …). Absent:
    /// the first.
    #[param(pattern = "^s(0|[1-9][0-9]{0,5})$")]
    cursor: Option<String>,
}

/// A page of a thread: comments in reading order (each followed by its replies).
#[derive(Debug, Serialize, ToSchema)]
pub struct Thread {
    pub article_id: i64,
    /// The order of the page.
    pub sort: String,
    /// Every comment of the page, each followed by its replies (`parent_id` and `depth`
    /// say where it belongs).
    pub comments: Vec<ThreadItem>,
    /// The next page's `cursor`; none on the last page.
    pub next_cursor: Option<String>,
}

/// A comment of a thread, and what of its replies the page leaves out.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadItem {
    #[serde(flatten)]
    pub comment: Comment,
    /// Replies left out of this page (beyond the depth or the row budget).
    pub more_replies: Option<MoreReplies>,
}

/// Replies left out, and where to read them.
#[derive(Debug, Serialize, ToSchema)]
pub struct MoreReplies {
    /// How many.
    pub count: i64,
    /// The API address of the rest (`/api/v1/comments/{id}/replies?…`).
    pub next: String,
}

/// Where a page starts, from a `cursor`: `p2` (the second page, ranked orders), `a123`
/// (after comment 123: new and old), `s50` (replies: after the first 50).
enum Cursor {
    Page(u32),
    After(i64),
    Skip(i64),
}

fn parse_cursor(raw: Option<&str>) -> Result<Option<Cursor>, AppError> {
    let Some(raw) = raw else { return Ok(None) };
    let bad = || AppError::BadRequest(format!("{raw:?} is not a cursor: pass the next_cursor of the page before."));
    let (kind, number) = raw.split_at_checked(1).ok_or_else(bad)?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) || number.len() > 18 {
        return Err(bad());
    }
    let n: i64 = number.parse().map_err(|_| bad())?;
    match kind {
        "p" if (1..=100_000).contains(&n) => Ok(Some(Cursor::Page(n as u32))),
        "a" if n > 0 => Ok(Some(Cursor::After(n))),
        "s" if (0..=1_000_000).contains(&n) => Ok(Some(Cursor::Skip(n))),
        _ => Err(bad()),
    }
}

/// The comments of `nodes` in reading order.
pub(super) fn flatten(nodes: &[Node], context: &Context, sort: Sort, out: &mut Vec<ThreadItem>) {
    for node in nodes {
        let id = node.item.comment.id;
        let more_replies = node.more.map(|(shown, count)| MoreReplies {
            count,
            next: format!("/api/v1/comments/{id}/replies?sort={}&cursor=s{shown}", sort.as_str()),
        });
        out.push(ThreadItem { comment: Comment::new(&node.item, context), more_replies });
        flatten(&node.children, context, sort, out);
    }
}

pub(super) fn context(state: &AppState, visitor: &Visitor, locked: bool) -> Context {
    Context {
        actor: visitor.user.as_ref().map(|u| u.actor()),
        locked,
        now: crate::db::now(),
        edit_window: state.config.edit_window,
        base: state.config.base_url.clone(),
    }
}

/// A page of an article's thread.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{slug}/comments",
    tag = "comments",
    params(("slug" = String, Path, description = "The article's slug"), ThreadQuery),
    responses(
        (status = 200, description = "A page of the thread", body = Thread),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 400, description = "The cursor or the order is not one this thread gives", body = ErrorBody),
        (status = 404, description = "No such article, no such page (in this order), or no such takeaway", body = ErrorBody),
    ),
    security((), ("token" = []), ("session" = []))
)]
pub async fn article_thread(
    state: web::Data<AppState>,
    visitor: Visitor,
    req: HttpRequest,
    slug: web::Path<String>,
    query: web::Query<ThreadQuery>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    if !crate::import::is_valid_slug(&slug) {
        return Err(AppError::NotFound);
    }
    let sort: Sort = query.sort.unwrap_or_default().into();
    let start = match parse_cursor(query.cursor.as_deref())? {
        None | Some(Cursor::Page(1)) => Start::First,
        Some(Cursor::Page(n)) => Start::Skip(i64::from(n - 1) * threads::TOP_PER_PAGE),
        Some(Cursor::After(id)) if matches!(sort, Sort::New | Sort::Old) => Start::After(CommentId(id)),
        // A page of another order: this order has no such page.
        Some(Cursor::After(_)) => return Err(AppError::NotFound),
        Some(_) => return Err(AppError::BadRequest("That cursor belongs to a page of replies.".into())),
    };
    let viewer = visitor.user.as_ref().map(|u| u.id);
    let filter = match query.takeaway {
        Some(n) if (1..=crate::import::MAX_TAKEAWAYS as u32).contains(&n) => Some(n as i32 - 1),
        Some(n) => return Err(AppError::BadRequest(format!("There is no takeaway {n}."))),
        None => None,
    };
    let (article, page) = state
        .db(move |conn| {
            let (article_id, _, locked) = articles::find_basic(conn, &slug)?.ok_or(AppError::NotFound)?;
            // A takeaway the article does not have is a missing page.
            if let Some(position) = filter {
                if i64::from(position) >= articles::takeaway_count(conn, article_id)? {
                    return Err(AppError::NotFound);
                }
            }
            Ok(((article_id, locked), threads::article_page(conn, article_id, sort, start, viewer, filter)?))
        })
        .await?;
    if page.top.is_empty() && start != Start::First {
        return Err(AppError::NotFound);
    }
    let next_cursor = match (page.has_more, sort, page.last_unpinned, start) {
        (false, ..) => None,
        (true, Sort::New | Sort::Old, Some(last), _) => Some(format!("a{last}")),
        (true, _, _, start) => {
            let skipped = if let Start::Skip(n) = start { n } else { 0 };
            Some(format!("p{}", (skipped + page.top.len() as i64) / threads::TOP_PER_PAGE + 1))
        }
    };
    let context = context(&state, &visitor, article.1);
    let mut items = Vec::new();
    flatten(&build_forest(page), &context, sort, &mut items);
    let thread = Thread { article_id: article.0 .0, sort: sort.as_str().to_owned(), comments: items, next_cursor };
    super::ok(&req, &thread)
}

/// A page of the replies to one comment (what a thread's `more_replies` points to).
#[utoipa::path(
    get,
    path = "/api/v1/comments/{id}/replies",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1, description = "The comment replied to"), RepliesQuery),
    responses(
        (status = 200, description = "A page of its replies, each followed by theirs", body = Thread),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 400, description = "The cursor is not one this thread gave", body = ErrorBody),
        (status = 404, description = "No such comment, or no such page", body = ErrorBody),
    ),
    security((), ("token" = []), ("session" = []))
)]
pub async fn replies(
    state: web::Data<AppState>,
    visitor: Visitor,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<RepliesQuery>,
) -> Result<HttpResponse, AppError> {
    let id = crate::web::comment_id(&id)?;
    let sort: Sort = query.sort.unwrap_or_default().into();
    let skip = match parse_cursor(query.cursor.as_deref())? {
        None => 0,
        Some(Cursor::Skip(n)) => n,
        Some(_) => return Err(AppError::BadRequest("A page of replies starts at an `s` cursor.".into())),
    };
    let viewer = visitor.user.as_ref().map(|u| u.id);
    let (parent, locked, page) = state
        .db(move |conn| {
            let parent = comments::one(conn, id, viewer)?.ok_or(AppError::NotFound)?;
            let (_, _, _, locked) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            let page = threads::replies_page(conn, id, sort, skip, threads::LEVELS - 1, viewer)?;
            Ok((parent, locked, page))
        })
        .await?;
    if page.top.is_empty() && skip > 0 {
        return Err(AppError::NotFound);
    }
    let next_cursor = page.has_more.then(|| format!("s{}", skip + page.top.len() as i64));
    let context = context(&state, &visitor, locked);
    let mut items = Vec::new();
    flatten(&build_forest(page), &context, sort, &mut items);
    let thread = Thread {
        article_id: parent.comment.article_id.0,
        sort: sort.as_str().to_owned(),
        comments: items,
        next_cursor,
    };
    super::ok(&req, &thread)
}
