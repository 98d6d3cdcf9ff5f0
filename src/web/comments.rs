//! Posting, replying, editing, deleting and voting on comments; permalinks, the inbox
//! and the live stream of new comments.

use crate::domain::{CommentId, UserId};
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::{html, redirect, AppError, AppState, LiveComment};
use crate::auth::Role;
use crate::auth::{safe_next, SignedIn, Visitor};
use crate::db::comments::{self, CommentError, NewComment};
use crate::db::moderation::{self, Premoderation};
use crate::db::{articles, now};
use crate::domain::CommentStatus;
use crate::markdown;
use crate::ranking::Sort;
use crate::views::comments::{self as view, build_forest, Compose, Node, Permalink, ThreadView};

pub const MAX_CHARS: usize = 10_000;

impl From<CommentError> for AppError {
    fn from(err: CommentError) -> Self {
        match err {
            CommentError::Missing => AppError::NotFound,
            CommentError::Db(e) => e.into(),
            CommentError::RemovedByModerator => AppError::Conflict(capitalise(&err.to_string())),
            CommentError::Locked
            | CommentError::NotAuthor
            | CommentError::OwnComment
            | CommentError::EditWindowOver => AppError::Forbidden(capitalise(&err.to_string())),
            CommentError::ParentElsewhere
            | CommentError::ParentDeleted
            | CommentError::TooDeep
            | CommentError::Deleted
            | CommentError::NothingToDo(_) => AppError::BadRequest(capitalise(&err.to_string())),
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>() + ".").unwrap_or_default()
}

/// Why a comment body cannot be posted, or `None`.
fn body_problem(body: &str) -> Option<String> {
    let len = body.chars().count();
    if len == 0 || crate::text::is_blank(body) {
        Some("Write something first: an empty comment cannot be posted.".into())
    } else if len > MAX_CHARS {
        Some(format!("That is {len} characters; a comment may have at most {MAX_CHARS}."))
    } else {
        None
    }
}

/// Renders Markdown on the blocking thread pool, not on the async worker: rendering is
/// bounded (see `markdown::MAX_NESTING`) but still CPU work.
pub(crate) async fn render_markdown(body: &str) -> Result<String, AppError> {
    let body = body.to_owned();
    Ok(web::block(move || markdown::render(&body)).await?)
}

fn comment_id(raw: &str) -> Result<CommentId, AppError> {
    CommentId::from_param(raw).ok_or(AppError::NotFound)
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    body: String,
    parent_id: Option<String>,
    action: Option<String>,
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
    };
    view::comment(&view, &Node { item, children: Vec::new() }, 0)
}

/// POST /articles/{slug}/comments: a new comment or (with `parent_id`) a reply.
pub async fn post(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    slug: web::Path<String>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let form = form.into_inner();
    let user = signed_in.user.clone();
    let visitor = &signed_in.visitor;
    let parent_id = match form.parent_id.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => None,
        Some(raw) => {
            Some(raw.parse::<CommentId>().map_err(|_| AppError::BadRequest("parent_id must be a comment id.".into()))?)
        }
    };
    if state.config.require_email_verification && !user.email_verified {
        return Err(AppError::Forbidden("Confirm your email address before commenting (see Settings).".into()));
    }
    let s = slug.clone();
    let (article_id, article_title, locked, parent) = state
        .db(move |conn| {
            let (id, title, locked) = articles::find_basic(conn, &s)?.ok_or(AppError::NotFound)?;
            let parent = match parent_id {
                Some(pid) => Some(
                    comments::one(conn, pid, None)?
                        .ok_or(AppError::BadRequest("The comment replied to does not exist.".into()))?,
                ),
                None => None,
            };
            Ok((id, title, locked, parent))
        })
        .await?;
    if locked {
        return Err(CommentError::Locked.into());
    }
    let body = form.body.trim().to_owned();
    let preview = form.action.as_deref() == Some("preview");
    let problem = body_problem(&body);
    if preview || problem.is_some() {
        let rendered = match problem {
            None => {
                state.limits.preview(user.id).map_err(|retry_after| AppError::TooManyRequests { retry_after })?;
                Some(render_markdown(&body).await?)
            }
            Some(_) => None,
        };
        let action = format!("/articles/{slug}/comments");
        let title = if parent.is_some() { "Reply" } else { "Your comment" };
        let page = view::compose_page(
            visitor,
            &Compose {
                title,
                article_title: &article_title,
                article_slug: &slug,
                action: &action,
                parent: parent.map(|p| parent_markup(visitor, p, now())),
                parent_id,
                body: &body,
                preview: rendered,
                error: problem.as_deref(),
                submit: "Post comment",
            },
        );
        let status = if problem.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
        return Ok(html(status, page));
    }
    let new_account = now() - user.created_at < time::Duration::days(1);
    state.limits.comment(user.id, new_account).map_err(|retry_after| AppError::TooManyRequests { retry_after })?;

    let html_body = render_markdown(&body).await?;
    let author_id = user.id;
    let daily = i64::from(state.config.rate_limits.daily_comments(new_account));
    let trusted = user.role >= Role::Moderator;
    let (posted, held) = state
        .db(move |conn| {
            if daily > 0 && comments::count_by_author_since(conn, author_id, now() - time::Duration::days(1))? >= daily
            {
                return Err(AppError::TooManyRequests { retry_after: Duration::from_secs(3600) });
            }
            let held = !trusted && must_wait_for_approval(conn, author_id, &body)?;
            let status = if held { CommentStatus::Pending } else { CommentStatus::Visible };
            let new = NewComment { article_id, author_id, parent_id, source: &body, html: &html_body, status };
            Ok((comments::post(conn, &new)?, held))
        })
        .await?;
    if held {
        return Ok(redirect(&format!("/comments/{}#comment-{}", posted.id, posted.id)));
    }
    let _ = state.events.send(LiveComment { article_id, id: posted.id, parent_id });
    if let Some((_, Some(email))) = posted.notify {
        let link = state.config.link(&format!("comments/{}", posted.id));
        let body = format!(
            "{} replied to your comment on \"{article_title}\":\n\n{link}\n\n\
             You get these emails because you asked for them; turn them off in your settings.",
            user.username
        );
        state.send_mail(email, format!("{} replied to your comment", user.username), body).await?;
    }
    let location = match parent_id {
        None => format!("/articles/{slug}?sort=new#comment-{}", posted.id),
        Some(parent) => format!("/comments/{parent}#comment-{}", posted.id),
    };
    Ok(redirect(&location))
}

/// Whether a new comment by `author_id` waits for a moderator: by the site's
/// pre-moderation setting, or because it contains a word on the list.
fn must_wait_for_approval(conn: &mut crate::db::DbConn, author_id: UserId, body: &str) -> Result<bool, AppError> {
    let by_setting = match moderation::premoderation(conn)? {
        Premoderation::Off => false,
        Premoderation::Everyone => true,
        Premoderation::NewAccounts(n) => moderation::published_count(conn, author_id)? < i64::from(n),
    };
    Ok(by_setting || word_list_matches(&moderation::word_list(conn)?, body))
}

/// Whether `body` contains a listed word or phrase (case-insensitive, whole words;
/// `*` stands for any letters).
pub fn word_list_matches(words: &[String], body: &str) -> bool {
    if words.is_empty() {
        return false;
    }
    let alternatives: Vec<String> = words.iter().map(|w| regex::escape(w).replace("\\*", "\\w*")).collect();
    match regex::Regex::new(&format!("(?i)\\b(?:{})\\b", alternatives.join("|"))) {
        Ok(re) => re.is_match(body),
        Err(err) => {
            tracing::error!(%err, "the word list does not compile");
            false
        }
    }
}

/// GET /comments/{id}/reply: the reply form, with the comment replied to.
pub async fn reply_form(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<Markup, AppError> {
    let id = comment_id(&id)?;
    let (item, slug, title, locked) = load_one(&state, id, Some(signed_in.user.id)).await?;
    if locked {
        return Err(CommentError::Locked.into());
    }
    if item.comment.is_deleted() {
        return Err(CommentError::ParentDeleted.into());
    }
    let action = format!("/articles/{slug}/comments");
    let visitor = &signed_in.visitor;
    Ok(view::compose_page(
        visitor,
        &Compose {
            title: "Reply",
            article_title: &title,
            article_slug: &slug,
            action: &action,
            parent: Some(parent_markup(visitor, item, now())),
            parent_id: Some(id),
            body: "",
            preview: None,
            error: None,
            submit: "Post reply",
        },
    ))
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

/// GET /comments/{id}: the comment with its parents for context and all its replies.
pub async fn permalink(
    state: web::Data<AppState>,
    visitor: Visitor,
    id: web::Path<String>,
    query: web::Query<SortQuery>,
) -> Result<Markup, AppError> {
    let id = comment_id(&id)?;
    let sort = Sort::parse(query.sort.as_deref());
    let viewer = visitor.user.as_ref().map(|u| u.id);
    let (thread, slug, title, locked) = state
        .db(move |conn| {
            let (_, slug, title, locked) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            let thread = comments::whole_thread_of(conn, id, viewer)?.ok_or(AppError::NotFound)?;
            Ok((thread, slug, title, locked))
        })
        .await?;
    // The chain of parents, top first, each without its other replies.
    let by_id: std::collections::HashMap<CommentId, &comments::ThreadComment> =
        thread.iter().map(|c| (c.comment.id, c)).collect();
    let mut ancestors = Vec::new();
    let mut cursor = by_id.get(&id).and_then(|c| c.comment.parent_id);
    while let Some(parent) = cursor.and_then(|p| by_id.get(&p)) {
        ancestors.push(Node { item: (*parent).clone(), children: Vec::new() });
        cursor = parent.comment.parent_id;
    }
    ancestors.reverse();
    let node = build_forest(thread, &[id], sort).pop().ok_or(AppError::NotFound)?;
    let return_to = format!("/comments/{id}");
    let view = ThreadView {
        visitor: &visitor,
        locked,
        return_to: &return_to,
        now: now(),
        edit_window: state.config.edit_window,
        sort,
    };
    let notice = match query.notice.as_deref() {
        Some("reported") => Some("Thank you: the moderators will look at your report."),
        _ => None,
    };
    Ok(view::permalink_page(&view, &Permalink { article_title: &title, article_slug: &slug, ancestors, node, notice }))
}

/// GET /comments/{id}/fragment: one comment as a list item, for pages that add new
/// comments as they arrive.
pub async fn fragment(state: web::Data<AppState>, visitor: Visitor, id: web::Path<String>) -> Result<Markup, AppError> {
    let id = comment_id(&id)?;
    let (item, slug, _, locked) = load_one(&state, id, visitor.user.as_ref().map(|u| u.id)).await?;
    let return_to = format!("/articles/{slug}");
    let view = ThreadView {
        visitor: &visitor,
        locked,
        return_to: &return_to,
        now: now(),
        edit_window: state.config.edit_window,
        sort: Sort::Best,
    };
    Ok(view::comment(&view, &Node { item, children: Vec::new() }, 0))
}

/// GET /comments/{id}/edit
pub async fn edit_form(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<Markup, AppError> {
    let id = comment_id(&id)?;
    let user_id = signed_in.user.id;
    let window = state.config.edit_window;
    let (source, slug, title) = state
        .db(move |conn| {
            let (comment, slug, title, _) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            if comment.author_id != user_id {
                return Err(CommentError::NotAuthor.into());
            }
            if comment.is_deleted() {
                return Err(CommentError::Deleted.into());
            }
            if now() - comment.created_at > window {
                return Err(CommentError::EditWindowOver.into());
            }
            Ok((comments::source(conn, id)?, slug, title))
        })
        .await?;
    let action = format!("/comments/{id}/edit");
    Ok(view::compose_page(
        &signed_in.visitor,
        &Compose {
            title: "Edit your comment",
            article_title: &title,
            article_slug: &slug,
            action: &action,
            parent: None,
            parent_id: None,
            body: &source,
            preview: None,
            error: None,
            submit: "Save",
        },
    ))
}

/// POST /comments/{id}/edit: the window is enforced here, not only in the page.
pub async fn edit(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    let body = form.into_inner().body.trim().to_owned();
    if let Some(problem) = body_problem(&body) {
        let (_, slug, title, _) = load_one(&state, id, None).await?;
        let action = format!("/comments/{id}/edit");
        let page = view::compose_page(
            &signed_in.visitor,
            &Compose {
                title: "Edit your comment",
                article_title: &title,
                article_slug: &slug,
                action: &action,
                parent: None,
                parent_id: None,
                body: &body,
                preview: None,
                error: Some(&problem),
                submit: "Save",
            },
        );
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page));
    }
    let (user_id, window) = (signed_in.user.id, state.config.edit_window);
    let html_body = render_markdown(&body).await?;
    let trusted = signed_in.user.role >= Role::Moderator;
    state
        .db(move |conn| {
            // The new text meets the same checks as a new comment's (but an approved
            // comment is not held again for being among an account's first ones).
            let hold = !trusted
                && (moderation::premoderation(conn)? == Premoderation::Everyone
                    || word_list_matches(&moderation::word_list(conn)?, &body));
            Ok(comments::edit(conn, id, user_id, &body, &html_body, window, hold)?)
        })
        .await?;
    Ok(redirect(&format!("/comments/{id}#comment-{id}")))
}

#[derive(Deserialize)]
pub struct ReturnForm {
    return_to: Option<String>,
}

/// POST /comments/{id}/delete
pub async fn delete(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
    form: web::Form<ReturnForm>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    let user_id = signed_in.user.id;
    let slug = state
        .db(move |conn| {
            let (_, slug, _, _) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            comments::delete(conn, id, user_id)?;
            Ok(slug)
        })
        .await?;
    // Back where the reader was, unless that was the page of the comment just deleted.
    let back = form.into_inner().return_to.map(|r| safe_next(Some(&r)));
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
    let user_id = signed_in.user.id;
    let outcome = state.db(move |conn| Ok(comments::vote(conn, id, user_id, value)?)).await?;
    if super::wants_json(&req) {
        return Ok(HttpResponse::Ok().json(outcome));
    }
    let back = form.return_to.as_deref().map(|r| safe_next(Some(r))).unwrap_or_else(|| format!("/comments/{id}"));
    Ok(redirect(&back))
}

/// GET /inbox
pub async fn inbox(state: web::Data<AppState>, signed_in: SignedIn) -> Result<Markup, AppError> {
    let user_id = signed_in.user.id;
    let items = state.db(move |conn| Ok(comments::notifications_of(conn, user_id, 100)?)).await?;
    Ok(view::inbox(&signed_in.visitor, &items, now()))
}

/// POST /inbox/read
pub async fn mark_read(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    let user_id = signed_in.user.id;
    state.db(move |conn| Ok(comments::mark_all_read(conn, user_id)?)).await?;
    Ok(redirect("/inbox"))
}

/// GET /articles/{slug}/events: Server-Sent Events, one `comment` event per new comment
/// (its id and parent), and a comment line every 15 s to keep the connection open.
/// HEAD answers the headers alone, without opening a stream.
pub async fn events(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
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
    let receiver = state.events.subscribe();
    let keep_alive = tokio::time::interval(Duration::from_secs(15));
    let shutdown = state.shutdown.clone();
    let stream = futures_util::stream::unfold(
        (receiver, keep_alive, shutdown),
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
                    Woke::Event(Ok(event)) if event.article_id == article_id => {
                        let data = serde_json::to_string(&event).expect("serialisable");
                        let chunk = Bytes::from(format!("event: comment\ndata: {data}\n\n"));
                        return Some((Ok::<_, actix_web::Error>(chunk), (receiver, keep_alive, shutdown)));
                    }
                    Woke::Event(Ok(_) | Err(RecvError::Lagged(_))) => continue,
                    Woke::Event(Err(RecvError::Closed)) => return None,
                    Woke::KeepAlive => {
                        return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (receiver, keep_alive, shutdown)));
                    }
                }
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // Not compressed: each event must reach the browser as it happens.
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .streaming(stream))
}

/// POST /settings/notifications
#[derive(Deserialize)]
pub struct NotificationSettings {
    email_replies: Option<String>,
}

pub async fn notification_settings(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<NotificationSettings>,
) -> Result<HttpResponse, AppError> {
    let on = form.into_inner().email_replies.is_some();
    let user_id = signed_in.user.id;
    state.db(move |conn| Ok(comments::set_email_replies(conn, user_id, on)?)).await?;
    Ok(redirect("/settings?notice=notifications"))
}
