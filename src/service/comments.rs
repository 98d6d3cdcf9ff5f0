//! Comments: posting and replying (limits, pre-moderation, the word list, reply
//! notifications and the live event), previews, editing, deleting and voting.

use crate::auth::AuthUser;
use crate::db::comments::{self, NewComment, ThreadComment};
use crate::db::moderation::{self, Premoderation};
use crate::db::votes::VoteOutcome;
use crate::db::{articles, now, DbConn};
use crate::domain::quotes::{QuoteRequest, ShownQuote};
use crate::domain::{permissions, ArticleId, CommentBody, CommentId, CommentStatus, Role, UserId};
use crate::web::{AppError, AppState};

/// Where a new comment goes: its article, and the comment it replies to.
pub struct Target {
    pub article_id: ArticleId,
    pub article_slug: String,
    pub article_title: String,
    pub parent: Option<ThreadComment>,
}

/// The article `slug` (and comment `parent_id`) that `author` may comment on, or why
/// not: missing (404), closed or banned (403), an unconfirmed address when the site
/// asks for one (403).
pub async fn target(
    state: &AppState,
    author: &AuthUser,
    slug: &str,
    parent_id: Option<CommentId>,
) -> Result<Target, AppError> {
    let (target, locked) = find_target(state, slug, parent_id).await?;
    may_post(state, author, locked)?;
    Ok(target)
}

/// The article `slug` (and comment `parent_id`) a comment would go on, and whether its
/// comments are closed; missing, 404 (a missing parent, 400).
pub async fn find_target(
    state: &AppState,
    slug: &str,
    parent_id: Option<CommentId>,
) -> Result<(Target, bool), AppError> {
    let slug = slug.to_owned();
    state
        .db(move |conn| {
            let (article_id, article_title, locked) = articles::find_basic(conn, &slug)?.ok_or(AppError::NotFound)?;
            let parent = match parent_id {
                Some(id) => Some(
                    comments::one(conn, id, None)?
                        .ok_or(AppError::BadRequest("The comment replied to does not exist.".into()))?,
                ),
                None => None,
            };
            Ok((Target { article_id, article_slug: slug, article_title, parent }, locked))
        })
        .await
}

/// What a new comment on `target` would quote (the form's `quote` and `quote_text`),
/// checked against the article as it is: 400 with the reason when it is not of this
/// article, or asked on a reply. `None` when nothing is asked.
pub async fn check_quote(
    state: &AppState,
    target: &Target,
    quote: Option<&str>,
    text: Option<&str>,
) -> Result<Option<ShownQuote>, AppError> {
    let asked = QuoteRequest::from_form(quote, text).map_err(AppError::BadRequest)?;
    check_request(state, target, asked).await
}

/// [`check_quote`] of a request already read (the API's).
pub async fn check_request(
    state: &AppState,
    target: &Target,
    asked: QuoteRequest,
) -> Result<Option<ShownQuote>, AppError> {
    if asked.is_empty() {
        return Ok(None);
    }
    if target.parent.is_some() {
        return Err(AppError::BadRequest(
            "A reply quotes nothing of the article: it answers the comment it replies to.".into(),
        ));
    }
    let article_id = target.article_id;
    let (takeaways, summary, slug) = state.db(move |conn| Ok(comments::quoted_text(conn, article_id)?)).await?;
    let quote = asked.check(&takeaways, &summary).map_err(AppError::BadRequest)?;
    Ok(quote.map(|q| q.shown(&takeaways, &summary, &slug)))
}

/// Whether `author` may comment on an article (closed or not): not banned (403), and
/// with a confirmed address when the site asks for one (403).
pub fn may_post(state: &AppState, author: &AuthUser, locked: bool) -> Result<(), AppError> {
    if state.config.require_email_verification && !author.email_verified {
        return Err(AppError::Forbidden("Confirm your email address before commenting (see Settings).".into()));
    }
    permissions::may_comment(Some(&author.actor()), locked)?;
    Ok(())
}

async fn render(body: &CommentBody) -> Result<String, AppError> {
    super::render_markdown(body.as_str()).await
}

/// A preview of `body`: limited per account like posting.
pub async fn preview(state: &AppState, author: &AuthUser, body: &CommentBody) -> Result<String, AppError> {
    state.limits.preview(author.id).map_err(|retry_after| AppError::TooManyRequests { retry_after })?;
    render(body).await
}

/// What posting did.
#[derive(Debug, Clone, Copy)]
pub struct Posted {
    pub id: CommentId,
    /// Held for a moderator's approval: only its author sees it until then.
    pub held: bool,
}

/// Posts `body` on `target`: within the account's per-minute and per-day limits
/// (counted in the database, in the posting transaction: they hold across instances
/// and restarts), held when the site pre-moderates or the word list matches, then
/// announced to live readers and (by email, when asked for) to the author of the
/// parent.
pub async fn post(
    state: &AppState,
    author: &AuthUser,
    target: &Target,
    body: &CommentBody,
    quote: Option<QuoteRequest>,
) -> Result<Posted, AppError> {
    let new_account = now() - author.created_at < time::Duration::days(1);
    let limits = state.config.rate_limits.posting_limits(new_account);
    let html = render(body).await?;
    let (actor, article_id) = (author.actor(), target.article_id);
    let parent_id = target.parent.as_ref().map(|p| p.comment.id);
    let source = body.as_str().to_owned();
    let (posted, held) = state
        .db(move |conn| {
            let held = actor.role < Role::Moderator && must_wait_for_approval(conn, actor.id, &source)?;
            let status = if held { CommentStatus::Pending } else { CommentStatus::Visible };
            let new = NewComment {
                article_id,
                author: actor,
                parent_id,
                source: &source,
                html: &html,
                status,
                limits,
                quote: quote.clone(),
            };
            Ok((comments::post(conn, &new)?, held))
        })
        .await?;
    state.cache.touch_article(article_id);
    crate::web::live::changed(state, article_id);
    if held {
        return Ok(Posted { id: posted.id, held });
    }
    if let Some((_, Some(email))) = posted.notify {
        let link = state.config.link(&format!("comments/{}", posted.id));
        let text = format!(
            "{} replied to your comment on \"{}\":\n\n{link}\n\n\
             You get these emails because you asked for them; turn them off in your settings.",
            author.username, target.article_title
        );
        state.send_mail(email, format!("{} replied to your comment", author.username), text).await?;
    }
    Ok(Posted { id: posted.id, held })
}

/// Whether a new comment by `author_id` waits for a moderator: by the site's
/// pre-moderation setting, or because it contains a word on the list.
fn must_wait_for_approval(conn: &mut DbConn, author_id: UserId, body: &str) -> Result<bool, AppError> {
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

/// The source of comment `id` for its edit form, with its article's slug and title,
/// if `author` may still edit it.
pub async fn editable(
    state: &AppState,
    author: &AuthUser,
    id: CommentId,
) -> Result<(String, String, String), AppError> {
    let (actor, window) = (author.actor(), state.config.edit_window);
    state
        .db(move |conn| {
            let (comment, slug, title, locked) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            permissions::may_edit(Some(&actor), &comment.facts(locked), now(), window)?;
            Ok((comments::source(conn, id)?, slug, title))
        })
        .await
}

/// Replaces the text of `author`'s comment `id`. The new text meets the same checks as
/// a new comment's (but an approved comment is not held again for being among an
/// account's first ones).
pub async fn edit(state: &AppState, author: &AuthUser, id: CommentId, body: &CommentBody) -> Result<(), AppError> {
    let html = render(body).await?;
    let (actor, window) = (author.actor(), state.config.edit_window);
    let source = body.as_str().to_owned();
    let article_id = state
        .db(move |conn| {
            let hold = actor.role < Role::Moderator
                && (moderation::premoderation(conn)? == Premoderation::Everyone
                    || word_list_matches(&moderation::word_list(conn)?, &source));
            comments::edit(conn, id, &actor, &source, &html, window, hold)?;
            Ok(comments::find(conn, id)?.ok_or(AppError::NotFound)?.article_id)
        })
        .await?;
    state.cache.touch_article(article_id);
    crate::web::live::changed(state, article_id);
    Ok(())
}

/// Deletes `author`'s comment `id`; returns its article's slug.
pub async fn delete(state: &AppState, author: &AuthUser, id: CommentId) -> Result<String, AppError> {
    let actor = author.actor();
    let (article_id, slug) = state
        .db(move |conn| {
            let (comment, slug, _, _) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            comments::delete(conn, id, &actor)?;
            Ok((comment.article_id, slug))
        })
        .await?;
    state.cache.touch_article(article_id);
    crate::web::live::changed(state, article_id);
    Ok(slug)
}

/// Sets `voter`'s vote on comment `id` to `value` (1, -1, or 0 to withdraw it).
pub async fn vote(state: &AppState, voter: &AuthUser, id: CommentId, value: i32) -> Result<VoteOutcome, AppError> {
    let actor = voter.actor();
    let outcome = state.db(move |conn| Ok(crate::db::votes::vote(conn, id, &actor, value)?)).await?;
    state.cache.touch_article(outcome.article_id);
    crate::web::live::changed(state, outcome.article_id);
    Ok(outcome)
}
