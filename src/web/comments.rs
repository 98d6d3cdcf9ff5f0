//! Posting, replying, editing, deleting and voting on comments; permalinks, the inbox
//! and the live stream of new comments.

use crate::domain::{ArticleId, CommentId, UserId};
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::web::{self, Bytes};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::cache::{Cacheable, Scope};
use super::{comment_id, html, live, redirect, AppError, AppState};
use crate::auth::{safe_next, SignedIn, Visitor};
use crate::db::comments::{self, CommentError};
use crate::db::{articles, now, threads};
use crate::domain::quotes::ShownQuote;
use crate::domain::{permissions, CommentBody, Denied};
use crate::ranking::Sort;
use crate::service::comments as service;
use crate::views::comments::{self as view, build_forest, Compose, Node, Permalink, ThreadView};

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    body: String,
    parent_id: Option<String>,
    action: Option<String>,
    /// The order the reader reads the thread in: where to come back to.
    sort: Option<String>,
    /// What a new top-level comment quotes of the article: `takeaway-N` or `summary-N`.
    quote: Option<String>,
    /// The passage quoted (of the summary, or a part of the takeaway).
    quote_text: Option<String>,
}

/// A single comment as the compose page shows its parent.
fn parent_markup(visitor: &Visitor, item: comments::ThreadComment, now: time::PrimitiveDateTime) -> Markup {
    let view = ThreadView {
        visitor,
        locked: true, // no actions on the parent shown for context
        return_to: "/",
        now,
        edit_window: time::Duration::ZERO,
        sort: Sort::Best,
        template: None,
    };
    // The author may still delete it from here: its button needs the page's form.
    view::parent_comment(&view, &Node::leaf(item))
}

/// What a refused form answers: to a script that asked for JSON, the error as JSON (see
/// `middleware::json_errors`); to a person, the form again with the text they typed
/// (`page`, given the reason), under the error's status and headers (`Retry-After` …).
/// Only a bug (500) and a missing login answer as they would anywhere else.
fn refused(req: &HttpRequest, error: AppError, page: impl FnOnce(&str) -> Markup) -> Result<HttpResponse, AppError> {
    if super::wants_json(req) || matches!(error, AppError::Internal(_) | AppError::LoginRequired { .. }) {
        return Err(error);
    }
    Ok(error.refusal(page(&error.message())))
}

/// The text of a comment form whose body was cut short (see `security::CutShort`), and
/// why it was refused; `None` when it came whole.
fn cut_short(req: &HttpRequest, raw: &str) -> Option<(AppError, String, String)> {
    let limit = req.extensions().get::<super::security::CutShort>()?.limit;
    // The last character may have been cut in two.
    let kept = raw.trim().trim_end_matches(char::REPLACEMENT_CHARACTER).to_owned();
    let message = format!(
        "Your comment is far too long to be sent (more than {} KiB): only its first {} characters were kept, \
         below. A comment may have at most {} characters.",
        limit / 1024,
        kept.chars().count(),
        CommentBody::MAX_CHARS
    );
    Some((AppError::PayloadTooLarge { limit }, kept, message))
}

/// POST /articles/{slug}/comments: a new comment or (with `parent_id`) a reply, or its
/// preview (`action=preview`). Whatever refuses it (the account's limits, a ban, a
/// closed thread, a text too long, the database), the reader gets the form back with
/// their text and the reason; a script asking for JSON gets the new comment's id (or
/// the preview, or why the text was refused) instead of a page.
pub async fn post(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    slug: web::Path<String>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let parent_id = match form.parent_id.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(raw) => {
            Some(raw.parse::<CommentId>().map_err(|_| AppError::BadRequest("parent_id must be a comment id.".into()))?)
        }
    };
    let sort = form.sort.as_deref().map(|s| Sort::parse(Some(s)));
    let user = &signed_in.user;
    let visitor = &signed_in.visitor;
    let (target, locked) = match service::find_target(&state, &slug, parent_id).await {
        Ok(found) => found,
        Err(error) => {
            // A banned reader is told so first, whatever else is wrong.
            super::security::refuse_banned(user)?;
            return Err(error);
        }
    };
    let typed = form.body.trim();
    // What the comment quotes, checked against the article as it is now (and again when
    // it is posted); a bad one is refused with the reader's text kept, without it.
    let quote = match service::check_quote(&state, &target, form.quote.as_deref(), form.quote_text.as_deref()).await {
        Ok(quote) => quote,
        Err(error) => {
            return refused(&req, error, |reason| compose_page(visitor, target, typed, None, Some(reason), sort, None))
        }
    };
    let asked = quote.as_ref().map(|q| q.request());
    let quote = quote.as_ref();
    let refuse = |error: AppError, target: service::Target, body: &str| {
        refused(&req, error, |reason| compose_page(visitor, target, body, None, Some(reason), sort, quote))
    };
    if let Err(error) = super::security::refuse_banned(user).and_then(|()| service::may_post(&state, user, locked)) {
        return refuse(error, target, typed);
    }
    if let Some((error, kept, message)) = cut_short(&req, &form.body) {
        if super::wants_json(&req) {
            return Err(error);
        }
        return Ok(error.refusal(compose_page(visitor, target, &kept, None, Some(&message), sort, quote)));
    }
    let preview = form.action.as_deref() == Some("preview");
    let body = match CommentBody::parse(&form.body) {
        Ok(body) => body,
        Err(problem) if super::wants_json(&req) => return Ok(refused_json(&problem)),
        Err(problem) => {
            let page = compose_page(visitor, target, typed, None, Some(&problem), sort, quote);
            return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page));
        }
    };
    if preview {
        // A preview changes nothing.
        super::cache::touches_nothing();
        return match service::preview(&state, user, &body).await {
            Ok(rendered) if super::wants_json(&req) => {
                Ok(HttpResponse::Ok().json(serde_json::json!({ "preview": rendered })))
            }
            Ok(rendered) => Ok(html(
                StatusCode::OK,
                compose_page(visitor, target, body.as_str(), Some(rendered), None, sort, quote),
            )),
            Err(error) => refuse(error, target, body.as_str()),
        };
    }
    let posted = match service::post(&state, user, &target, &body, asked).await {
        Ok(posted) => posted,
        Err(error) => return refuse(error, target, body.as_str()),
    };
    let id = posted.id;
    let location = if posted.held {
        // Only its author sees it until a moderator approves it: on its own page, which
        // says so.
        format!("/comments/{id}?notice=held#comment-{id}")
    } else {
        let new_thread = parent_id.is_none().then_some(target.article_id);
        place_on_article(&state, &target.article_slug, id, new_thread, sort, user.id, "posted").await
    };
    if super::wants_json(&req) {
        return Ok(HttpResponse::Ok().json(serde_json::json!({
            "id": id, "parent_id": parent_id, "held": posted.held, "location": location,
        })));
    }
    Ok(redirect(&location))
}

/// Where the reader goes after posting or editing comment `id`: the article, in the
/// order they read it in (`sort`; the default when the form did not say), at that
/// comment. The first page of the article may not show it: a thread shows its top
/// comments fifty to a page, and replies only seven levels deep and ten under a top
/// comment, five under a reply. Then the closest place that does: the nearest of its
/// parents the page shows (whose "more replies" or "Continue this thread" link leads on
/// to it), so that the reader stays where they were reading. When its whole thread is
/// on a later page, the comment's own page, with its thread above it and a note
/// (`notice`) saying so: the later page's address depends on the comments around it,
/// which change as others post, while the comment's own page always shows it.
///
/// This costs a few rows for most comments (where its thread stands, and the
/// replies around it); only a reply among more than a page shows loads the page to see.
/// A new thread (`new_thread`: its article), not pinned and top-level, needs only its
/// position. If that reading fails, the comment's own page.
async fn place_on_article(
    state: &AppState,
    slug: &str,
    id: CommentId,
    new_thread: Option<ArticleId>,
    sort: Option<Sort>,
    reader: UserId,
    notice: &str,
) -> String {
    let order = sort.unwrap_or_default();
    let shown: Result<Option<CommentId>, AppError> = state
        .db(move |conn| {
            if let Some(article) = new_thread {
                let before = threads::position_among_top_level(
                    conn,
                    article,
                    id,
                    false,
                    order,
                    Some(reader),
                    threads::TOP_PER_PAGE,
                )?;
                return Ok((before < threads::TOP_PER_PAGE).then_some(id));
            }
            let comment = comments::find(conn, id)?.ok_or(AppError::NotFound)?;
            let first_page =
                threads::top_level_position(conn, comment.root_id, order, Some(reader), threads::TOP_PER_PAGE)?
                    .is_some_and(|before| before < threads::TOP_PER_PAGE);
            if !first_page {
                return Ok(None);
            }
            if comment.depth == 0 {
                return Ok(Some(id));
            }
            // Shown when no deeper than a page indents and each comment above it has no
            // more replies than a page shows under it.
            let ancestors = threads::ancestors(conn, id, Some(reader))?;
            let within = ancestors.iter().all(|a| {
                let depth = a.comment.depth;
                a.comment.reply_count as usize <= threads::replies_shown(depth) && depth < threads::LEVELS
            });
            if within {
                return Ok(Some(id));
            }
            let page =
                threads::article_page(conn, comment.article_id, order, threads::Start::First, Some(reader), None)?;
            if page.order.contains(&id) {
                return Ok(Some(id));
            }
            Ok(ancestors.iter().rev().map(|a| a.comment.id).find(|a| page.order.contains(a)))
        })
        .await;
    let query = if order == Sort::default() { String::new() } else { format!("?sort={}", order.as_str()) };
    match shown {
        Ok(Some(at)) => format!("/articles/{slug}{query}#comment-{at}"),
        Ok(None) => {
            let sep = if query.is_empty() { '?' } else { '&' };
            format!("/comments/{id}{query}{sep}notice={notice}#comment-{id}")
        }
        // The comment is saved: an error here must not invite the reader to send it
        // again. Its own page always shows it.
        Err(error) => {
            tracing::warn!(%error, comment = id.0, "could not place the comment on its article's page");
            format!("/comments/{id}#comment-{id}")
        }
    }
}

/// A text refused (empty, too long), for a script: 422 and `{"code", "message"}` as
/// every other refusal.
fn refused_json(problem: &str) -> HttpResponse {
    HttpResponse::UnprocessableEntity().json(serde_json::json!({ "code": "invalid_body", "message": problem }))
}

/// The form for a new comment or a reply to `target`, with `body`, its preview, and
/// why it was refused if it was.
fn compose_page(
    visitor: &Visitor,
    target: service::Target,
    body: &str,
    preview: Option<String>,
    error: Option<&str>,
    sort: Option<Sort>,
    quote: Option<&ShownQuote>,
) -> Markup {
    let action = format!("/articles/{}/comments", target.article_slug);
    let is_reply = target.parent.is_some();
    view::compose_page(
        visitor,
        &Compose {
            title: if is_reply { "Reply" } else { "Your comment" },
            article_title: &target.article_title,
            article_slug: &target.article_slug,
            action: &action,
            parent_id: target.parent.as_ref().map(|p| p.comment.id),
            editing: None,
            parent: target.parent.map(|p| parent_markup(visitor, p, now())),
            body,
            preview,
            error,
            submit: if is_reply { "Post reply" } else { "Post comment" },
            sort,
            quote,
        },
    )
}

#[derive(Deserialize)]
pub struct FormQuery {
    sort: Option<String>,
}

/// GET /comments/{id}/reply: the reply form, with the comment replied to.
pub async fn reply_form(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    query: web::Query<FormQuery>,
) -> Result<Markup, AppError> {
    let sort = query.sort.as_deref().map(|s| Sort::parse(Some(s)));
    let id = comment_id(&id)?;
    let (item, slug, title, locked) = load_one(&state, id, Some(signed_in.user.id)).await?;
    permissions::may_reply(Some(&signed_in.user.actor()), &item.comment.facts(locked)).map_err(
        |denied| match denied {
            Denied::NotVisible => CommentError::ParentDeleted,
            other => other.into(),
        },
    )?;
    let target = service::Target {
        article_id: item.comment.article_id,
        article_slug: slug,
        article_title: title,
        parent: Some(item),
    };
    Ok(compose_page(&signed_in.visitor, target, "", None, None, sort, None))
}

/// One comment with its article's slug, title and lock.
async fn load_one(
    state: &AppState,
    id: CommentId,
    viewer: Option<UserId>,
) -> Result<(comments::ThreadComment, String, String, bool), AppError> {
    state
        .db(move |conn| {
            let (comment, slug, title, locked) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            let item = comments::one(conn, comment.id, viewer)?.ok_or(AppError::NotFound)?;
            Ok((item, slug, title, locked))
        })
        .await
}

#[derive(Deserialize)]
pub struct SortQuery {
    sort: Option<String>,
    notice: Option<String>,
}

/// GET /comments/{id}: the comment with its parents for context and its replies (as
/// deep and as many as a page shows).
pub async fn permalink(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<String>,
    query: web::Query<SortQuery>,
) -> Result<Markup, AppError> {
    let id = comment_id(&id)?;
    let sort = Sort::parse(query.sort.as_deref());
    let viewer = visitor.user.as_ref().map(|u| u.id);
    let (page, ancestors, slug, title, locked) = state
        .db(move |conn| {
            let (_, slug, title, locked) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            let page = threads::subtree(conn, id, sort, viewer)?;
            let ancestors = threads::ancestors(conn, id, viewer)?;
            Ok((page, ancestors, slug, title, locked))
        })
        .await?;
    let node = build_forest(page).pop().ok_or(AppError::NotFound)?;
    let ancestors = ancestors.into_iter().map(Node::leaf).collect();
    let return_to = format!("/comments/{id}");
    let view = ThreadView::new(&visitor, locked, &return_to, state.config.edit_window, sort);
    let notice = match query.notice.as_deref() {
        Some("reported") => Some("Thank you: the moderators will look at your report."),
        Some("held") => Some(
            "Your comment is waiting for a moderator’s approval: until then only you can see it. \
             Your inbox will tell you when it is approved or not.",
        ),
        Some("posted") => Some("Your comment was posted. The first page of the article does not show it in this order: here it is with its thread."),
        Some("edited") => Some("Your comment was saved. The first page of the article does not show it in this order: here it is with its thread."),
        _ => None,
    };
    Ok(view::permalink_page(&view, &Permalink { article_title: &title, article_slug: &slug, ancestors, node, notice }))
}

#[derive(Debug, Deserialize)]
pub struct RepliesQuery {
    sort: Option<String>,
    skip: Option<String>,
    indent: Option<String>,
}

/// A whole number from 0 to `max`, or a 400 naming `what`.
fn bounded(raw: Option<&str>, max: u32, what: &str) -> Result<u32, AppError> {
    match raw.map(|r| r.trim().parse::<u32>()) {
        None => Ok(0),
        Some(Ok(n)) if n <= max => Ok(n),
        _ => Err(AppError::BadRequest(format!("{what} must be a whole number from 0 to {max}."))),
    }
}

/// GET /comments/{id}/replies?skip=N: the replies of a comment that its thread did not
/// show, from the `skip`th on, a page of them. `indent` is how deep in their page they
/// sit, so that they nest no deeper than the rest of it (the page's script puts them
/// in place; without it, this is a page of its own).
pub async fn replies(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<String>,
    query: web::Query<RepliesQuery>,
) -> Result<Cacheable<Markup>, AppError> {
    let id = comment_id(&id)?;
    let sort = Sort::parse(query.sort.as_deref());
    let skip = bounded(query.skip.as_deref(), 1_000_000, "skip")?;
    let indent = bounded(query.indent.as_deref(), threads::LEVELS as u32, "indent")?.max(1);
    let viewer = visitor.user.as_ref().map(|u| u.id);
    let levels = threads::LEVELS - indent as i32;
    let (parent, slug, title, locked, page) = state
        .db(move |conn| {
            let parent = comments::one(conn, id, viewer)?.ok_or(AppError::NotFound)?;
            let (_, slug, title, locked) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            let page = threads::replies_page(conn, id, sort, i64::from(skip), levels, viewer)?;
            Ok((parent, slug, title, locked, page))
        })
        .await?;
    if page.top.is_empty() && skip > 0 {
        return Err(AppError::NotFound);
    }
    let next = page.has_more.then(|| {
        format!("/comments/{id}/replies?sort={}&skip={}&indent={indent}", sort.as_str(), skip as usize + page.top.len())
    });
    let article_id = parent.comment.article_id;
    let nodes = build_forest(page);
    let return_to = format!("/comments/{id}/replies?sort={}&skip={skip}&indent={indent}", sort.as_str());
    let view = ThreadView::new(&visitor, locked, &return_to, state.config.edit_window, sort);
    let more = view::MoreReplies {
        article_title: &title,
        article_slug: &slug,
        parent: &Node::leaf(parent),
        nodes: &nodes,
        indent: indent as usize,
        next,
    };
    Ok(Cacheable(view::replies_page(&view, &more), Scope::Article(article_id)))
}

/// GET /comments/{id}/fragment: one comment as a list item, for pages that add new
/// comments as they arrive.
pub async fn fragment(state: web::Data<AppState>, visitor: Visitor, id: web::Path<String>) -> Result<Markup, AppError> {
    let id = comment_id(&id)?;
    let (item, slug, _, locked) = load_one(&state, id, visitor.user.as_ref().map(|u| u.id)).await?;
    let return_to = format!("/articles/{slug}");
    let view = ThreadView::new(&visitor, locked, &return_to, state.config.edit_window, Sort::Best);
    Ok(view::comment(&view, &Node::leaf(item), 0))
}

/// The edit form of comment `id`, with `body`, and why it was refused if it was.
fn edit_page(
    visitor: &Visitor,
    id: CommentId,
    article: (&str, &str),
    body: &str,
    error: Option<&str>,
    sort: Option<Sort>,
) -> Markup {
    edit_page_with_preview(visitor, id, article, body, None, error, sort)
}

/// The edit form with `body`, and how it would show (`preview`).
fn edit_page_with_preview(
    visitor: &Visitor,
    id: CommentId,
    (slug, title): (&str, &str),
    body: &str,
    preview: Option<String>,
    error: Option<&str>,
    sort: Option<Sort>,
) -> Markup {
    let action = format!("/comments/{id}/edit");
    view::compose_page(
        visitor,
        &Compose {
            title: "Edit your comment",
            article_title: title,
            article_slug: slug,
            action: &action,
            parent: None,
            parent_id: None,
            editing: Some(id),
            body,
            preview,
            error,
            submit: "Save",
            sort,
            quote: None,
        },
    )
}

/// GET /comments/{id}/edit
pub async fn edit_form(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    query: web::Query<FormQuery>,
) -> Result<Markup, AppError> {
    let id = comment_id(&id)?;
    let sort = query.sort.as_deref().map(|s| Sort::parse(Some(s)));
    let (source, slug, title) = service::editable(&state, &signed_in.user, id).await?;
    Ok(edit_page(&signed_in.visitor, id, (&slug, &title), &source, None, sort))
}

/// POST /comments/{id}/edit: the window is enforced here, not only in the page. A
/// refused edit (the window passed, a ban, a closed thread, a text too long) shows the
/// form again with the reader's text and the reason; `action=preview` shows the text
/// as it would be, saving nothing. A script asking for JSON gets `{"id", "location"}`,
/// or why the text was refused.
pub async fn edit(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    let form = form.into_inner();
    let sort = form.sort.as_deref().map(|s| Sort::parse(Some(s)));
    // As its author sees it: a held comment is theirs to edit too.
    let (_, slug, title, _) = match load_one(&state, id, Some(signed_in.user.id)).await {
        Ok(found) => found,
        Err(error) => {
            // A banned reader is told so first, whatever else is wrong.
            super::security::refuse_banned(&signed_in.user)?;
            return Err(error);
        }
    };
    let visitor = &signed_in.visitor;
    let typed = form.body.trim();
    let refuse = |error: AppError, body: &str| {
        refused(&req, error, |reason| edit_page(visitor, id, (&slug, &title), body, Some(reason), sort))
    };
    if let Err(error) = super::security::refuse_banned(&signed_in.user) {
        return refuse(error, typed);
    }
    if let Some((error, kept, message)) = cut_short(&req, &form.body) {
        if super::wants_json(&req) {
            return Err(error);
        }
        return Ok(error.refusal(edit_page(visitor, id, (&slug, &title), &kept, Some(&message), sort)));
    }
    let body = match CommentBody::parse(&form.body) {
        Ok(body) => body,
        Err(problem) if super::wants_json(&req) => return Ok(refused_json(&problem)),
        Err(problem) => {
            let page = edit_page(visitor, id, (&slug, &title), typed, Some(&problem), sort);
            return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page));
        }
    };
    if form.action.as_deref() == Some("preview") {
        // A preview saves nothing; the reader must still be allowed to edit it.
        super::cache::touches_nothing();
        let shown = async {
            service::editable(&state, &signed_in.user, id).await?;
            service::preview(&state, &signed_in.user, &body).await
        };
        return match shown.await {
            Ok(rendered) if super::wants_json(&req) => {
                Ok(HttpResponse::Ok().json(serde_json::json!({ "preview": rendered })))
            }
            Ok(rendered) => Ok(html(
                StatusCode::OK,
                edit_page_with_preview(visitor, id, (&slug, &title), body.as_str(), Some(rendered), None, sort),
            )),
            Err(error) => refuse(error, body.as_str()),
        };
    }
    if let Err(error) = service::edit(&state, &signed_in.user, id, &body).await {
        return refuse(error, body.as_str());
    }
    let location = place_on_article(&state, &slug, id, None, sort, signed_in.user.id, "edited").await;
    if super::wants_json(&req) {
        return Ok(HttpResponse::Ok().json(serde_json::json!({ "id": id, "location": location })));
    }
    Ok(redirect(&location))
}

#[derive(Deserialize)]
pub struct ReturnForm {
    return_to: Option<String>,
    confirm: Option<String>,
}

/// POST /comments/{id}/delete: once confirmed (`confirm=yes`); without that, the page
/// that asks first.
pub async fn delete(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<ReturnForm>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    let form = form.into_inner();
    if !super::moderation::confirmed(form.confirm.as_deref())? {
        let (comment, slug, title, _) =
            state.db(move |conn| comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)).await?;
        permissions::may_delete(Some(&signed_in.user.actor()), &comment.facts(false))?;
        let return_to = form.return_to.as_deref().map(|r| safe_next(Some(r)));
        let cancel = format!("{}#comment-{id}", return_to.as_deref().unwrap_or(&format!("/comments/{id}")));
        let page = crate::views::moderation::confirm_delete_comment(
            &signed_in.visitor,
            &comment,
            &slug,
            &title,
            return_to.as_deref(),
            &cancel,
        );
        return Ok(super::moderation::ask_first(page));
    }
    let slug = service::delete(&state, &signed_in.user, id).await?;
    // Back where the reader was, unless that was the page of the comment just deleted.
    let back = form.return_to.map(|r| safe_next(Some(&r)));
    let own_page = format!("/comments/{id}");
    let back = back.filter(|b| b != "/" && !b.starts_with(&own_page)).unwrap_or_else(|| format!("/articles/{slug}"));
    Ok(redirect(&format!("{back}#comments")))
}

#[derive(Deserialize)]
pub struct VoteForm {
    value: String,
    return_to: Option<String>,
}

/// POST /comments/{id}/vote: 1, -1, or 0 to withdraw. Answers JSON to scripts that ask
/// for it, else goes back to the page.
pub async fn vote(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<VoteForm>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    let form = form.into_inner();
    let value = match form.value.trim() {
        "1" | "up" => 1,
        "-1" | "down" => -1,
        "0" | "none" => 0,
        other => return Err(AppError::BadRequest(format!("A vote is 1, -1 or 0, not {other:?}."))),
    };
    let outcome = service::vote(&state, &signed_in.user, id, value).await?;
    if super::wants_json(&req) {
        return Ok(HttpResponse::Ok().json(outcome));
    }
    // Back to the comment voted on, where the reader was.
    let back = match form.return_to.as_deref().map(|r| safe_next(Some(r))) {
        Some(back) if back.contains('#') => back,
        Some(back) => format!("{back}#comment-{id}"),
        None => format!("/comments/{id}"),
    };
    Ok(redirect(&back))
}

#[derive(Debug, Deserialize)]
pub struct InboxQuery {
    page: Option<String>,
}

/// GET /inbox?page=N
pub async fn inbox(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<InboxQuery>,
) -> Result<Markup, AppError> {
    const PER_PAGE: i64 = 50;
    let request = crate::db::PageRequest::new(super::articles::parse_page(query.page.as_deref())?, PER_PAGE);
    let user_id = signed_in.user.id;
    let items = state
        .db(move |conn| {
            let rows = crate::db::notifications::notifications_of(conn, user_id, request.offset(), request.limit())?;
            Ok(request.page(rows))
        })
        .await?;
    let items = items.existing().ok_or(AppError::NotFound)?;
    Ok(view::inbox(&signed_in.visitor, &items.items, items.number, items.has_more))
}

/// POST /inbox/read
pub async fn mark_read(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
    let user_id = signed_in.user.id;
    state.db(move |conn| Ok(crate::db::notifications::mark_all_read(conn, user_id)?)).await?;
    Ok(redirect("/inbox"))
}

/// GET /articles/{slug}/events: Server-Sent Events of the thread (see `web::live`):
/// `comment`, `edit` and `status` with the comment's HTML as this reader's page shows
/// it, `votes` with a score, `lock` when comments close or reopen, `reset` when too much
/// was missed to catch up; each with an id, so that a reader who reconnects with
/// `Last-Event-ID` misses nothing. A comment line every 15 s keeps the connection open.
/// HEAD answers the headers alone, without opening a stream.
pub async fn events(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    visitor: Visitor,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let (article_id, _, _) = state.db(move |conn| articles::find_basic(conn, &slug)?.ok_or(AppError::NotFound)).await?;
    if req.method() == actix_web::http::Method::HEAD {
        return Ok(HttpResponse::Ok()
            .content_type("text/event-stream")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .finish());
    }
    // Where the reader is: the last event it received (`Last-Event-ID`, sent when the
    // browser reconnects), else the one its page was rendered after (`?after=`). A
    // malformed one is taken as none: the reader gets what happens from now.
    let parse = |v: &str| v.trim().parse::<i64>().ok().filter(|id| *id >= 0);
    let seen = req.headers().get("last-event-id").and_then(|v| v.to_str().ok()).and_then(parse).or_else(|| {
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .find(|(k, _)| k == "after")
            .and_then(|(_, v)| parse(&v))
    });
    let audience = live::Audience::of(&visitor);
    let watch = live::watch(&state, article_id, audience, seen).await?;
    let keep_alive = tokio::time::interval(Duration::from_secs(15));
    let shutdown = state.shutdown.clone();
    let missed = futures_util::stream::iter(watch.missed.into_iter().map(Ok::<_, actix_web::Error>));
    let after = watch.after;
    let live = futures_util::stream::unfold(
        (watch.receiver, keep_alive, shutdown),
        move |(mut receiver, mut keep_alive, mut shutdown)| async move {
            use tokio::sync::broadcast::error::RecvError;
            enum Woke<T> {
                Stopping,
                Event(T),
                KeepAlive,
            }
            loop {
                let woke = tokio::select! {
                    // The server is shutting down: the stream ends (the browser reconnects).
                    Ok(_) = shutdown.wait_for(|stopping| *stopping) => Woke::Stopping,
                    event = receiver.recv() => Woke::Event(event),
                    _ = keep_alive.tick() => Woke::KeepAlive,
                };
                match woke {
                    Woke::Stopping => return None,
                    Woke::Event(Ok(message)) if message.id > after => {
                        return Some((
                            Ok::<_, actix_web::Error>(message.to(audience)),
                            (receiver, keep_alive, shutdown),
                        ));
                    }
                    Woke::Event(Ok(_)) => continue,
                    // Too slow a reader: told to catch up by reloading.
                    Woke::Event(Err(RecvError::Lagged(_))) => {
                        let reset = Bytes::from_static(b"event: reset\ndata: {}\n\n");
                        return Some((Ok(reset), (receiver, keep_alive, shutdown)));
                    }
                    Woke::Event(Err(RecvError::Closed)) => return None,
                    Woke::KeepAlive => {
                        return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (receiver, keep_alive, shutdown)));
                    }
                }
            }
        },
    );
    use futures_util::StreamExt;
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Not compressed: each event must reach the browser as it happens.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .streaming(missed.chain(live)))
}
