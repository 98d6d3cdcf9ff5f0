//! Reading through the API: the list of articles, an article by its source URL, one
//! comment with its context, profiles and their comments, search, comment counts of
//! many articles at once, and the caller.
//!
//! Query strings are read here strictly ([`Params`]): a parameter given twice, empty,
//! not UTF-8 or holding control characters is a 400 naming it, never a guess.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use time::Date;
use utoipa::{IntoParams, ToSchema};

use super::model::{Article, Comment};
use super::threads::{self, MoreReplies, SortName, ThreadItem};
use super::ErrorBody;
use crate::auth::{SignedIn, Visitor};
use crate::db::articles::ArticleLink;
use crate::db::{articles, comments, saved, search, users};
use crate::domain::{ArticleId, CommentId};
use crate::ranking::Sort;
use crate::views::comments::build_forest;
use crate::views::{iso_date, iso_time};
use crate::web::search::{MAX_QUERY, SEARCH_ARTICLES, SEARCH_COMMENTS, SEARCH_PAGES};
use crate::web::{AppError, AppState};

/// Articles in a page of the list unless `limit` says otherwise.
pub const ARTICLES_PER_PAGE: i64 = 20;
/// Most articles one page of the list may hold.
pub const MAX_ARTICLES_PER_PAGE: i64 = 100;
/// A reader's comments in a page of their list (as their profile).
pub const USER_COMMENTS_PER_PAGE: i64 = 20;
/// Saved articles a profile lists (as its page).
const PROFILE_SAVED: i64 = 10;
/// Longest source URL looked up.
pub const MAX_URL_CHARS: usize = 2_000;
/// Most articles one request for counts may ask about.
pub const MAX_COUNTS: usize = super::schemas::MAX_COUNTS;

// ---- query strings ----

/// The parameters of a query string, decoded, in order.
struct Params(Vec<(String, String)>);

impl Params {
    fn of(req: &HttpRequest) -> Result<Params, AppError> {
        Params::parse(req.query_string())
    }

    fn parse(raw: &str) -> Result<Params, AppError> {
        let mut pairs = Vec::new();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(name).ok_or_else(|| {
                AppError::BadRequest("A parameter name in the query string is not UTF-8 text.".into())
            })?;
            let value = decode(value)
                .ok_or_else(|| AppError::BadRequest(format!("The parameter {name:?} is not UTF-8 text.")))?;
            if value.chars().any(char::is_control) {
                return Err(AppError::BadRequest(format!("The parameter {name:?} holds control characters.")));
            }
            pairs.push((name, value));
        }
        Ok(Params(pairs))
    }

    /// The value of `name`: none when absent; 400 when given twice or empty.
    fn one(&self, name: &str) -> Result<Option<&str>, AppError> {
        let mut values = self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(AppError::BadRequest(format!("Give the parameter {name} once.")));
        }
        match first {
            Some(v) if v.trim().is_empty() => Err(AppError::BadRequest(format!("The parameter {name} is empty."))),
            other => Ok(other),
        }
    }

    /// Every value of the parameters `names`, in the order given, as (name, value).
    fn all_of<'a>(&'a self, names: &'a [&str]) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.0.iter().filter(|(n, _)| names.contains(&n.as_str())).map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// Percent-decodes one part of a query string (`+` is a space); `None` unless the result
/// is UTF-8.
fn decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The order named by `sort` (default: best); 400 for another word.
fn parse_sort(raw: Option<&str>) -> Result<Sort, AppError> {
    Ok(match raw {
        None | Some("best") => Sort::Best,
        Some("top") => Sort::Top,
        Some("new") => Sort::New,
        Some("old") => Sort::Old,
        Some("controversial") => Sort::Controversial,
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "sort must be best, top, new, old or controversial; {other:?} is not."
            )))
        }
    })
}

/// A cursor this list did not give: there is no such page (404, like a page number
/// past the last).
fn bad_cursor(_raw: &str) -> AppError {
    AppError::NotFound
}

// ---- GET /api/v1/articles ----

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ArticlesQuery {
    /// Where the page starts: the `next_cursor` of the page before. Absent: the newest.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{1,18}$")]
    cursor: Option<String>,
    /// Articles in the page: 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// An article as a list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleItem {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// The full article, elsewhere.
    pub source_url: String,
    pub source_name: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub published_at: String,
    /// Published comments.
    pub comment_count: i32,
    /// The article's page on this site.
    pub url: String,
}

impl ArticleItem {
    fn new(a: &ArticleLink, config: &crate::config::Config) -> ArticleItem {
        ArticleItem {
            id: a.id.0,
            slug: a.slug.clone(),
            title: a.title.clone(),
            source_url: a.source_url.clone(),
            source_name: a.source_name.clone(),
            published_at: iso_date(a.published_at),
            comment_count: a.comment_count,
            url: config.link(&format!("articles/{}", a.slug)).to_string(),
        }
    }
}

/// A page of articles, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleList {
    pub articles: Vec<ArticleItem>,
    /// The next page's `cursor`; none on the last page.
    pub next_cursor: Option<String>,
}

/// `2024-04-02_123`: after the article 123, published on 2024-04-02.
fn parse_article_cursor(raw: Option<&str>) -> Result<Option<(Date, ArticleId)>, AppError> {
    let Some(raw) = raw else { return Ok(None) };
    let (date, id) = raw.split_once('_').ok_or_else(|| bad_cursor(raw))?;
    let date =
        Date::parse(date, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| bad_cursor(raw))?;
    if id.is_empty() || id.len() > 18 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_cursor(raw));
    }
    let id: i64 = id.parse().map_err(|_| bad_cursor(raw))?;
    if id < 1 {
        return Err(bad_cursor(raw));
    }
    Ok(Some((date, ArticleId(id))))
}

fn parse_limit(raw: Option<&str>, default: i64, max: i64) -> Result<i64, AppError> {
    let Some(raw) = raw else { return Ok(default) };
    match raw.trim().parse::<i64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(AppError::BadRequest(format!("limit must be a whole number from 1 to {max}; {raw:?} is not."))),
    }
}

/// The articles, newest first (as the front page), a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/articles",
    tag = "articles",
    params(ArticlesQuery),
    responses(
        (status = 200, description = "A page of articles", body = ArticleList),
        (status = 404, description = "No such page: a cursor this list did not give", body = ErrorBody),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 400, description = "A cursor or limit that is not one", body = ErrorBody),
    ),
    security((), ("token" = []), ("session" = []))
)]
pub async fn list(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let params = Params::of(&req)?;
    let after = parse_article_cursor(params.one("cursor")?)?;
    let limit = parse_limit(params.one("limit")?, ARTICLES_PER_PAGE, MAX_ARTICLES_PER_PAGE)?;
    let mut rows = state.db(move |conn| Ok(articles::newest_after(conn, after, limit + 1)?)).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor =
        more.then(|| rows.last().map(|last| format!("{}_{}", iso_date(last.published_at), last.id.0))).flatten();
    let list = ArticleList { articles: rows.iter().map(|a| ArticleItem::new(a, &state.config)).collect(), next_cursor };
    super::ok(&req, &list)
}

// ---- GET /api/v1/articles/by-url ----

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ByUrlQuery {
    /// The article's source: an http(s) URL of at most 2,000 characters, as the article
    /// was imported with (leading and trailing spaces aside).
    #[param(schema_with = super::schemas::source_address)]
    url: String,
}

/// `raw`, trimmed, when it is an http(s) URL of at most [`MAX_URL_CHARS`]; else 400.
fn source_url(raw: &str) -> Result<String, AppError> {
    let url = raw.trim();
    if url.chars().count() > MAX_URL_CHARS {
        return Err(AppError::BadRequest(format!("A URL may have at most {MAX_URL_CHARS} characters.")));
    }
    let shown: String = url.chars().take(80).collect();
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() => Ok(url.to_owned()),
        _ => Err(AppError::BadRequest(format!("{shown:?} is not an http or https URL."))),
    }
}

/// The article whose source is a URL: how a page elsewhere finds its discussion here.
#[utoipa::path(
    get,
    path = "/api/v1/articles/by-url",
    tag = "articles",
    params(ByUrlQuery),
    responses(
        (status = 200, description = "The article", body = Article),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 400, description = "No URL, or not an http(s) URL, or too long", body = ErrorBody),
        (status = 404, description = "No article has this source", body = ErrorBody),
    ),
    security((), ("token" = []), ("session" = []))
)]
pub async fn by_url(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let params = Params::of(&req)?;
    // No address names no article.
    let raw = params.one("url")?.ok_or(AppError::NotFound)?;
    // An address that is not one has no article.
    let url = source_url(raw).map_err(|_| AppError::NotFound)?;
    let page = state.db(move |conn| Ok(articles::find_by_source_url(conn, &url)?)).await?.ok_or(AppError::NotFound)?;
    super::ok(&req, &Article::new(&page, &state.config))
}

// ---- GET /api/v1/comments/{id} ----

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CommentQuery {
    /// The order of the replies (default: best).
    #[param(inline)]
    sort: Option<SortName>,
}

/// One comment in its thread: the comments above it and the first of its replies.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentInThread {
    pub comment: Comment,
    /// Its replies left out of `replies`, and where to read them.
    pub more_replies: Option<MoreReplies>,
    /// The comments it replies to, the top-level one first.
    pub ancestors: Vec<Comment>,
    /// Its replies, each followed by theirs, as its page shows them.
    pub replies: Vec<ThreadItem>,
    /// The order of the replies.
    pub sort: String,
    pub article_slug: String,
    pub article_title: String,
}

/// A comment with the comments above it and a first page of its replies, as its own
/// page shows them. Comments awaiting approval show only to their author.
#[utoipa::path(
    get,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    params(("id" = i64, Path, minimum = 1, description = "The comment"), CommentQuery),
    responses(
        (status = 200, description = "The comment and its context", body = CommentInThread),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 400, description = "An unknown order", body = ErrorBody),
        (status = 404, description = "No such comment, or not one the caller may see", body = ErrorBody),
    ),
    security((), ("token" = []), ("session" = []))
)]
pub async fn comment(
    state: web::Data<AppState>,
    visitor: Visitor,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = crate::web::comment_id(&id)?;
    let params = Params::of(&req)?;
    let sort = parse_sort(params.one("sort")?)?;
    let viewer = visitor.user.as_ref().map(|u| u.id);
    let (page, ancestors, slug, title, locked) = state
        .db(move |conn| {
            let (_, slug, title, locked) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            let page = crate::db::threads::subtree(conn, id, sort, viewer)?;
            let ancestors = crate::db::threads::ancestors(conn, id, viewer)?;
            Ok((page, ancestors, slug, title, locked))
        })
        .await?;
    let node = build_forest(page).pop().ok_or(AppError::NotFound)?;
    let context = threads::context(&state, &visitor, locked);
    let mut replies = Vec::new();
    threads::flatten(&node.children, &context, sort, &mut replies);
    let more_replies = node.more.map(|(shown, count)| MoreReplies {
        count,
        next: format!("/api/v1/comments/{id}/replies?sort={}&cursor=s{shown}", sort.as_str()),
    });
    let body = CommentInThread {
        comment: Comment::new(&node.item, &context),
        more_replies,
        ancestors: ancestors.iter().map(|a| Comment::new(a, &context)).collect(),
        replies,
        sort: sort.as_str().to_owned(),
        article_slug: slug,
        article_title: title,
    };
    super::ok(&req, &body)
}

// ---- GET /api/v1/users/{username} and its comments ----

/// A username as it may appear in an address; anything else names no account.
fn username(raw: &str) -> Result<String, AppError> {
    let valid =
        (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    valid.then(|| raw.to_owned()).ok_or(AppError::NotFound)
}

/// A reader's public profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct Profile {
    pub username: String,
    pub display_name: Option<String>,
    /// Their introduction, as sanitised HTML.
    pub bio_html: Option<String>,
    #[schema(format = DateTime)]
    pub joined_at: String,
    /// Their published comments (those listed at `/api/v1/users/{username}/comments`).
    pub comment_count: i64,
    /// Up-votes less down-votes on their comments.
    pub karma: i64,
    /// Their most recently saved articles, when they show them on their profile (or
    /// to themselves); none otherwise.
    pub saved_articles: Option<Vec<SavedArticle>>,
    /// Their profile page on this site.
    pub url: String,
}

/// An article a reader saved, as their profile lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedArticle {
    pub slug: String,
    pub title: String,
    pub source_name: String,
    pub url: String,
}

/// A reader's public profile, as their page shows it.
#[utoipa::path(
    get,
    path = "/api/v1/users/{username}",
    tag = "users",
    params(("username" = String, Path, description = "The account's username")),
    responses(
        (status = 200, description = "The profile", body = Profile),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 404, description = "No such account, or deleted", body = ErrorBody),
    ),
    security((), ("token" = []), ("session" = []))
)]
pub async fn profile(
    state: web::Data<AppState>,
    visitor: Visitor,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let name = username(&name)?;
    let viewer = visitor.user.as_ref().map(|u| u.id);
    let (profile, karma, count, saved) = state
        .db(move |conn| {
            let profile = users::profile(conn, &name)?.ok_or(AppError::NotFound)?;
            let karma = crate::db::votes::karma(conn, profile.id)?;
            let count = comments::visible_count_by_author(conn, profile.id)?;
            let shown = viewer == Some(profile.id) || profile.show_saved;
            let saved = if shown { Some(saved::on_profile(conn, profile.id, PROFILE_SAVED)?) } else { None };
            Ok((profile, karma, count, saved))
        })
        .await?;
    let config = &state.config;
    let body = Profile {
        url: config.link(&format!("users/{}", profile.username)).to_string(),
        username: profile.username,
        display_name: profile.display_name,
        bio_html: profile.bio_html,
        joined_at: iso_time(profile.created_at),
        comment_count: count,
        karma,
        saved_articles: saved.map(|items| {
            items
                .into_iter()
                .map(|(slug, title, source_name)| SavedArticle {
                    url: config.link(&format!("articles/{slug}")).to_string(),
                    slug,
                    title,
                    source_name,
                })
                .collect()
        }),
    };
    super::ok(&req, &body)
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UserCommentsQuery {
    /// Where the page starts: the `next_cursor` of the page before. Absent: the newest.
    #[param(pattern = "^[0-9]{1,18}$")]
    cursor: Option<String>,
}

/// A comment as a profile lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserComment {
    pub id: i64,
    /// The comment replied to; none for a top-level comment.
    pub parent_id: Option<i64>,
    pub article_slug: String,
    pub article_title: String,
    /// Sanitised HTML.
    pub body_html: String,
    pub upvotes: i32,
    pub downvotes: i32,
    pub reply_count: i32,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub edited_at: Option<String>,
    /// The comment's page on this site.
    pub url: String,
}

/// A page of a reader's comments, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserComments {
    pub username: String,
    pub comments: Vec<UserComment>,
    /// The next page's `cursor`; none on the last page.
    pub next_cursor: Option<String>,
}

/// A reader's published comments, newest first, as their profile lists them.
#[utoipa::path(
    get,
    path = "/api/v1/users/{username}/comments",
    tag = "users",
    params(("username" = String, Path, description = "The account's username"), UserCommentsQuery),
    responses(
        (status = 200, description = "A page of their comments", body = UserComments),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 400, description = "A cursor that is not one", body = ErrorBody),
        (status = 404, description = "No such account, or deleted", body = ErrorBody),
    ),
    security((), ("token" = []), ("session" = []))
)]
pub async fn user_comments(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let name = username(&name)?;
    let params = Params::of(&req)?;
    let before = match params.one("cursor")? {
        None => None,
        Some(raw) => Some(
            CommentId::from_param(raw)
                .filter(|_| raw.len() <= 18 && raw.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| bad_cursor(raw))?,
        ),
    };
    let (username, mut rows) = state
        .db(move |conn| {
            let profile = users::profile(conn, &name)?.ok_or(AppError::NotFound)?;
            let rows = comments::by_author_before(conn, profile.id, before, USER_COMMENTS_PER_PAGE + 1)?;
            Ok((profile.username, rows))
        })
        .await?;
    let more = rows.len() as i64 > USER_COMMENTS_PER_PAGE;
    rows.truncate(USER_COMMENTS_PER_PAGE as usize);
    let next_cursor = more.then(|| rows.last().map(|(c, _, _)| c.id.to_string())).flatten();
    let comments = rows
        .into_iter()
        .map(|(c, slug, title)| UserComment {
            id: c.id.0,
            parent_id: c.parent_id.map(|p| p.0),
            article_slug: slug,
            article_title: title,
            body_html: c.body_html,
            upvotes: c.upvotes,
            downvotes: c.downvotes,
            reply_count: c.reply_count,
            created_at: iso_time(c.created_at),
            edited_at: c.edited_at.map(iso_time),
            url: state.config.link(&format!("comments/{}", c.id)).to_string(),
        })
        .collect();
    super::ok(&req, &UserComments { username, comments, next_cursor })
}

// ---- GET /api/v1/search ----

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SearchQuery {
    /// The words to look for: at most 200 characters; the first ten words count.
    #[param(schema_with = super::schemas::search_words)]
    q: String,
    /// Where the page starts: the `next_cursor` of the page before. Absent: the first.
    #[param(pattern = "^p[0-9]{1,2}$")]
    cursor: Option<String>,
}

/// An article found.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleFound {
    pub slug: String,
    pub title: String,
    /// Where the words occur: escaped HTML, the words in `<mark>`.
    pub snippet_html: String,
    pub url: String,
}

/// A comment found.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentFound {
    pub id: i64,
    pub article_slug: String,
    pub article_title: String,
    /// None once the account is deleted.
    pub author: Option<String>,
    /// Where the words occur: escaped HTML, the words in `<mark>`.
    pub snippet_html: String,
    pub url: String,
}

/// A page of search results: a page of articles and one of comments, best matches
/// first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    /// The words looked for, as given (trimmed).
    pub query: String,
    pub articles: Vec<ArticleFound>,
    pub comments: Vec<CommentFound>,
    /// The next page's `cursor`; none on the last page.
    pub next_cursor: Option<String>,
}

/// Articles and comments matching words: the site's search, page by page.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "articles",
    params(SearchQuery),
    responses(
        (status = 200, description = "A page of results", body = SearchResults),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 400, description = "No words, too long, or a cursor that is not one", body = ErrorBody),
        (status = 404, description = "A page past the last one", body = ErrorBody),
    ),
    security((), ("token" = []), ("session" = []))
)]
pub async fn search(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let params = Params::of(&req)?;
    let page = match params.one("cursor")? {
        None => 1,
        Some(raw) => raw
            .strip_prefix('p')
            .filter(|n| (1..=3).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| (2..=SEARCH_PAGES).contains(n))
            .ok_or_else(|| bad_cursor(raw))?,
    };
    // Nothing to look for finds nothing (and has no second page).
    let nothing = |query: String| {
        if page > 1 {
            return Err(AppError::NotFound);
        }
        super::ok(&req, &SearchResults { query, articles: Vec::new(), comments: Vec::new(), next_cursor: None })
    };
    let Some(text) = params.one("q")?.map(|q| q.trim().to_owned()) else { return nothing(String::new()) };
    if text.chars().count() > MAX_QUERY {
        return Err(AppError::BadRequest(format!("That search is too long: use at most {MAX_QUERY} characters.")));
    }
    let words = search::words(&text);
    if words.is_empty() {
        return nothing(text);
    }
    let for_articles = crate::db::PageRequest::new(page, SEARCH_ARTICLES);
    let for_comments = crate::db::PageRequest::new(page, SEARCH_COMMENTS);
    let (found_articles, found_comments) = state
        .db(move |conn| {
            let a = search::articles(conn, &words, for_articles.offset(), for_articles.limit())?;
            let c = search::comments(conn, &words, for_comments.offset(), for_comments.limit())?;
            Ok((for_articles.page(a), for_comments.page(c)))
        })
        .await?;
    if page > 1 && found_articles.items.is_empty() && found_comments.items.is_empty() {
        return Err(AppError::NotFound);
    }
    let more = (found_articles.has_more || found_comments.has_more) && page < SEARCH_PAGES;
    let snippet = |s: &str| crate::views::profiles::highlighted(s).into_string();
    let config = &state.config;
    let results = SearchResults {
        query: text,
        articles: found_articles
            .items
            .iter()
            .map(|a| ArticleFound {
                slug: a.slug.clone(),
                title: a.title.clone(),
                snippet_html: snippet(&a.snippet),
                url: config.link(&format!("articles/{}", a.slug)).to_string(),
            })
            .collect(),
        comments: found_comments
            .items
            .iter()
            .map(|c| CommentFound {
                id: c.comment_id.0,
                article_slug: c.slug.clone(),
                article_title: c.title.clone(),
                author: c.author.clone(),
                snippet_html: snippet(&c.snippet),
                url: config.link(&format!("comments/{}", c.comment_id)).to_string(),
            })
            .collect(),
        next_cursor: more.then(|| format!("p{}", page + 1)),
    };
    super::ok(&req, &results)
}

// ---- GET /api/v1/counts ----

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CountsQuery {
    /// Source URLs of articles (repeat the parameter): each an http(s) URL of at most
    /// 2,000 characters. With `slug`, at most 100 in all.
    #[param(schema_with = super::schemas::count_urls)]
    url: Option<Vec<String>>,
    /// Slugs of articles (repeat the parameter).
    #[param(schema_with = super::schemas::count_slugs)]
    slug: Option<Vec<String>>,
}

/// The published comments of one article asked about.
#[derive(Debug, Serialize, ToSchema)]
pub struct Count {
    /// The URL asked about; for a `slug`, the article's source URL (none when unknown).
    pub url: Option<String>,
    /// The slug asked about (only for `slug`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// Published comments; 0 when no article matches.
    pub count: i32,
    /// The article's slug; none when no article matches.
    pub article: Option<String>,
}

/// Counts, in the order asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct Counts {
    pub counts: Vec<Count>,
}

/// The published comment counts of up to 100 articles at once, by source URL or slug:
/// what a page listing many articles shows beside each.
#[utoipa::path(
    get,
    path = "/api/v1/counts",
    tag = "articles",
    params(CountsQuery),
    responses(
        (status = 200, description = "One count per URL or slug asked, in the order asked", body = Counts),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 400, description = "None asked, more than 100, or a URL or slug that is not one", body = ErrorBody),
    ),
    security((), ("token" = []), ("session" = []))
)]
pub async fn counts(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let params = Params::of(&req)?;
    let mut asked: Vec<(bool, String)> = Vec::new();
    for (name, value) in params.all_of(&["url", "slug"]) {
        if asked.iter().filter(|(by_url, _)| *by_url == (name == "url")).count() == MAX_COUNTS {
            return Err(AppError::BadRequest(format!("Ask for at most {MAX_COUNTS} articles at once.")));
        }
        let (pattern, what) = if name == "url" {
            (super::schemas::COUNT_URL, "an address (printable ASCII, at most 200 characters)")
        } else {
            (super::schemas::COUNT_SLUG, "a slug")
        };
        static PATTERNS: std::sync::LazyLock<[regex::Regex; 2]> = std::sync::LazyLock::new(|| {
            [super::schemas::COUNT_URL, super::schemas::COUNT_SLUG]
                .map(|p| regex::Regex::new(p).expect("a valid pattern"))
        });
        let pattern = &PATTERNS[usize::from(pattern != super::schemas::COUNT_URL)];
        if !pattern.is_match(value) {
            let shown: String = value.chars().take(80).collect();
            return Err(AppError::BadRequest(format!("{name}: {shown:?} is not {what}.")));
        }
        // An address that is not one has no article: its count is 0.
        asked.push((name == "url", value.trim().to_owned()));
    }

    let unique = |by_url: bool| {
        let mut v: Vec<String> = asked.iter().filter(|(u, _)| *u == by_url).map(|(_, s)| s.clone()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (mut urls, slugs) = (unique(true), unique(false));
    // A page's address as the embed stores it (`embed::page_url`: no fragment, the host
    // in lower case …) finds the article the embed made for it, however the page wrote it.
    let normal = |url: &str| crate::web::embed::page_url(url).map(|(normal, _)| normal);
    urls.extend(urls.clone().iter().filter_map(|u| normal(u)));
    urls.sort_unstable();
    urls.dedup();
    let (by_url, by_slug) = state
        .db(move |conn| {
            let by_url = if urls.is_empty() { Vec::new() } else { articles::counts_by_source_url(conn, &urls)? };
            let by_slug = if slugs.is_empty() { Vec::new() } else { articles::counts_by_slug(conn, &slugs)? };
            Ok((by_url, by_slug))
        })
        .await?;
    let counts = asked
        .into_iter()
        .map(|(is_url, key)| {
            if is_url {
                let normalised = normal(&key);
                let found = by_url
                    .iter()
                    .find(|(url, _, _)| *url == key)
                    .or_else(|| by_url.iter().find(|(url, _, _)| Some(url) == normalised.as_ref()));
                Count {
                    count: found.map_or(0, |(_, _, n)| *n),
                    article: found.map(|(_, slug, _)| slug.clone()),
                    url: Some(key),
                    slug: None,
                }
            } else {
                let found = by_slug.iter().find(|(slug, _, _)| *slug == key);
                Count {
                    count: found.map_or(0, |(_, _, n)| *n),
                    article: found.map(|(slug, _, _)| slug.clone()),
                    url: found.map(|(_, url, _)| url.clone()),
                    slug: Some(key),
                }
            }
        })
        .collect();
    super::ok(&req, &Counts { counts })
}

// ---- GET /api/v1/me ----

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub display_name: Option<String>,
    /// reader, moderator or admin.
    pub role: String,
    /// What this request may do: a session all of read, write and moderate (as far as
    /// the role allows), a token its own.
    pub scopes: Vec<String>,
    /// Unread notifications.
    pub unread: i64,
    pub email_verified: bool,
    /// While the account is banned: until when.
    #[schema(format = DateTime)]
    pub banned_until: Option<String>,
    /// Their profile page on this site.
    pub url: String,
}

/// Who the caller is: their account, role, what this request may do, and how many
/// notifications they have not read.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "users",
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
    ),
    security(("token" = []), ("session" = []))
)]
pub async fn me(state: web::Data<AppState>, signed_in: SignedIn, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let user = signed_in.user;
    let id = user.id;
    let display_name = state.db(move |conn| Ok(users::find(conn, id)?.ok_or(AppError::NotFound)?.display_name)).await?;
    let scopes = user.scopes().names().into_iter().map(str::to_owned).collect();
    let body = Me {
        url: state.config.link(&format!("users/{}", user.username)).to_string(),
        username: user.username,
        display_name,
        role: user.role.as_str().to_owned(),
        scopes,
        unread: user.unread,
        email_verified: user.email_verified,
        banned_until: user.banned.map(|(until, _)| iso_time(until)),
    };
    super::ok(&req, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_decoded_strictly() {
        let p = Params::parse("url=https%3A%2F%2Fa.example%2Fx%3Fy%3D1&slug=a+b&q=%25&empty=").unwrap();
        assert_eq!(p.one("url").unwrap(), Some("https://a.example/x?y=1"));
        assert_eq!(p.one("slug").unwrap(), Some("a b"));
        assert_eq!(p.one("q").unwrap(), Some("%"));
        assert!(p.one("empty").is_err());
        assert_eq!(p.one("absent").unwrap(), None);
        assert!(Params::parse("a=1&a=2").unwrap().one("a").is_err());
        assert!(Params::parse("q=%FF").is_err(), "not UTF-8");
        assert!(Params::parse("q=a%00b").is_err(), "NUL");
        assert_eq!(Params::parse("q=100%").unwrap().one("q").unwrap(), Some("100%"));
        assert_eq!(Params::parse("q=%4").unwrap().one("q").unwrap(), Some("%4"));
        assert_eq!(Params::parse("q=%41").unwrap().one("q").unwrap(), Some("A"));
    }

    #[test]
    fn article_cursors_round_trip() {
        let (date, id) = parse_article_cursor(Some("2024-04-02_123")).unwrap().unwrap();
        assert_eq!((iso_date(date), id.0), ("2024-04-02".to_owned(), 123));
        for bad in ["", "2024-04-02", "2024-13-02_1", "2024-04-02_0", "2024-04-02_-1", "x_1", "2024-04-02_1_2"] {
            assert!(parse_article_cursor(Some(bad)).is_err(), "{bad}");
        }
    }
}
