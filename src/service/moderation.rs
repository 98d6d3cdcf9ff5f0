//! Moderation: reports, the approval queue, removing (with or without a ban),
//! restoring, pins, locks, bans and roles. Each action is logged in the public moderation
//! log in the same transaction as the change. Every action asks `may_moderate` (and
//! bans `may_ban`) itself, whoever calls it.

use crate::auth::AuthUser;
use crate::db::comments::Comment;
use crate::db::moderation as m;
use crate::db::{articles, now, users, write_transaction};
use crate::domain::{permissions, BanLength, CommentId, ModReason, Report, Role};
use crate::web::{AppError, AppState};

/// Files `reporter`'s report on comment `id`; a second one by the same reader changes
/// nothing.
pub async fn report(state: &AppState, reporter: &AuthUser, id: CommentId, report: Report) -> Result<(), AppError> {
    let reporter = reporter.actor();
    state.db(move |conn| Ok(m::report(conn, id, &reporter, report.reason, report.details.as_deref())?)).await?;
    // Reports show only to moderators, on pages never cached.
    crate::web::cache::touches_nothing();
    Ok(())
}

/// Closes the open reports about comment `id` without acting on it.
pub async fn dismiss(state: &AppState, moderator: &AuthUser, id: CommentId) -> Result<(), AppError> {
    permissions::may_moderate(Some(&moderator.actor()))?;
    let by = super::acting(moderator);
    state.db(move |conn| Ok(m::dismiss(conn, id, &by)?)).await
}

/// Removes comment `id`, and with `ban` bans its author too: both or neither.
pub async fn remove(
    state: &AppState,
    moderator: &AuthUser,
    id: CommentId,
    reason: ModReason,
    ban: Option<BanLength>,
) -> Result<(), AppError> {
    permissions::may_moderate(Some(&moderator.actor()))?;
    let (actor, by) = (moderator.actor(), super::acting(moderator));
    let article = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let comment = m::remove(conn, id, &by, reason.as_str())?;
                if let Some(ban) = ban {
                    let author = users::find(conn, comment.author_id)?.ok_or(AppError::NotFound)?;
                    permissions::may_ban(Some(&actor), author.id, author.role)?;
                    m::ban(conn, author.id, &by, ban.until(now()), reason.as_str())?;
                }
                Ok(comment.article_id)
            })
        })
        .await?;
    crate::web::live::changed(state, article);
    Ok(())
}

/// Puts a removed comment back.
pub async fn restore(state: &AppState, moderator: &AuthUser, id: CommentId) -> Result<(), AppError> {
    permissions::may_moderate(Some(&moderator.actor()))?;
    let by = super::acting(moderator);
    let article = state
        .db(move |conn| {
            m::restore(conn, id, &by)?;
            Ok(crate::db::comments::find(conn, id)?.ok_or(AppError::NotFound)?.article_id)
        })
        .await?;
    crate::web::live::changed(state, article);
    Ok(())
}

/// Approves (publishes, announces and notifies) or rejects (with the reason given, if
/// any) a held comment; its author is told either way.
pub async fn review(
    state: &AppState,
    moderator: &AuthUser,
    id: CommentId,
    approve: bool,
    reason: Option<ModReason>,
) -> Result<Comment, AppError> {
    permissions::may_moderate(Some(&moderator.actor()))?;
    let by = super::acting(moderator);
    let (comment, notify) =
        state.db(move |conn| Ok(m::review(conn, id, &by, approve, reason.as_ref().map(ModReason::as_str))?)).await?;
    if approve {
        crate::web::live::changed(state, comment.article_id);
        if let Some((_, Some(email))) = notify {
            let link = state.config.link(&format!("comments/{id}"));
            let text = format!("Someone replied to your comment:\n\n{link}\n");
            state.send_mail(email, "A reply to your comment".into(), text).await?;
        }
    }
    Ok(comment)
}

/// Pins (or unpins) a top-level comment to the top of its thread.
pub async fn pin(state: &AppState, moderator: &AuthUser, id: CommentId, pin: bool) -> Result<(), AppError> {
    permissions::may_moderate(Some(&moderator.actor()))?;
    let by = super::acting(moderator);
    state.db(move |conn| Ok(m::pin(conn, id, &by, pin)?)).await
}

/// Marks (or unmarks) the moderator's own comment as spoken as a moderator.
pub async fn distinguish(state: &AppState, moderator: &AuthUser, id: CommentId) -> Result<bool, AppError> {
    permissions::may_moderate(Some(&moderator.actor()))?;
    let by = super::acting(moderator);
    state.db(move |conn| Ok(m::distinguish(conn, id, &by)?)).await
}

/// Closes (with a reason shown under the article) or reopens an article's comments.
pub async fn set_lock(
    state: &AppState,
    moderator: &AuthUser,
    slug: &str,
    reason: Option<ModReason>,
    lock: bool,
) -> Result<(), AppError> {
    permissions::may_moderate(Some(&moderator.actor()))?;
    let (by, slug) = (super::acting(moderator), slug.to_owned());
    let changed = state
        .db(move |conn| {
            let (id, _, _) = articles::find_basic(conn, &slug)?.ok_or(AppError::NotFound)?;
            Ok(m::lock(conn, id, &by, reason.as_ref().map(ModReason::as_str), lock)?.then_some(id))
        })
        .await?;
    let Some(article) = changed else {
        let already = if lock { "Comments are already closed." } else { "Comments are open." };
        return Err(AppError::NotApplicable(already.into()));
    };
    crate::web::live::changed(state, article);
    Ok(())
}

/// Bans the account `username` for `length`.
pub async fn ban(
    state: &AppState,
    moderator: &AuthUser,
    username: &str,
    length: BanLength,
    reason: ModReason,
) -> Result<(), AppError> {
    permissions::may_moderate(Some(&moderator.actor()))?;
    let (actor, by, username) = (moderator.actor(), super::acting(moderator), username.to_owned());
    state
        .db(move |conn| {
            let user = users::find_by_username(conn, &username)?.ok_or(AppError::NotFound)?;
            permissions::may_ban(Some(&actor), user.id, user.role)?;
            Ok(m::ban(conn, user.id, &by, length.until(now()), reason.as_str())?)
        })
        .await
}

/// Lifts the ban of the account `username`.
pub async fn unban(state: &AppState, moderator: &AuthUser, username: &str) -> Result<(), AppError> {
    permissions::may_moderate(Some(&moderator.actor()))?;
    let (actor, by, username) = (moderator.actor(), super::acting(moderator), username.to_owned());
    let changed = state
        .db(move |conn| {
            let user = users::find_by_username(conn, &username)?.ok_or(AppError::NotFound)?;
            permissions::may_ban(Some(&actor), user.id, user.role)?;
            Ok(m::unban(conn, user.id, &by)?)
        })
        .await?;
    if !changed {
        return Err(AppError::NotApplicable("That account is not banned.".into()));
    }
    Ok(())
}

/// Gives the account `username` a role. An administrator cannot take away their own
/// administrator role (the site would be left without one).
pub async fn set_role(state: &AppState, admin: &AuthUser, username: &str, role: Role) -> Result<(), AppError> {
    let (actor, by, username) = (admin.actor(), super::acting(admin), username.to_owned());
    state
        .db(move |conn| {
            permissions::may_administer(Some(&actor))?;
            let user = users::find_by_username(conn, &username)?.ok_or(AppError::NotFound)?;
            if user.id == actor.id && role != Role::Admin {
                return Err(AppError::BadRequest("You cannot take away your own administrator role.".into()));
            }
            Ok(m::set_role(conn, user.id, &by, role)?)
        })
        .await
}
