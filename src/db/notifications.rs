//! Notifications: a reply to a reader's comment, a new comment on an article they
//! saved, a moderator's decision on their comment (approved, not approved, removed);
//! the inbox and its unread count.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::comments::{find, ReplyNotice};
use super::schema::{articles, comments, notifications, saved_articles, users};
use super::{now, DbConn};
use crate::domain::{CommentId, CommentStatus, NotificationKind, UserId};

/// The notifications a reader is shown: those about a comment that is visible, and the
/// moderators' decisions about the reader's own comment, whatever became of it. Of the
/// kinds this version knows: while a newer one serves the same database beside it, what
/// only the newer one knows is left for it to show.
#[diesel::dsl::auto_type]
pub fn shown() -> _ {
    // Spelled out rather than `eq_any`, which diesel never keeps prepared: this runs on
    // every signed-in request (the header's unread count). `known` lists every kind.
    let reply: NotificationKind = NotificationKind::Reply;
    let saved: NotificationKind = NotificationKind::SavedArticle;
    let approved: NotificationKind = NotificationKind::Approved;
    let rejected: NotificationKind = NotificationKind::Rejected;
    let removed: NotificationKind = NotificationKind::Removed;
    let visible: CommentStatus = CommentStatus::Visible;
    let known = notifications::kind
        .eq(reply)
        .or(notifications::kind.eq(saved))
        .or(notifications::kind.eq(approved))
        .or(notifications::kind.eq(rejected))
        .or(notifications::kind.eq(removed));
    let decision = notifications::kind.eq(rejected).or(notifications::kind.eq(removed));
    known.and(comments::status.eq(visible).or(decision))
}

/// Every kind is among those `shown` knows: a new kind fails to compile here until it
/// is added there.
const _: fn(NotificationKind) = |kind| match kind {
    NotificationKind::Reply
    | NotificationKind::SavedArticle
    | NotificationKind::Approved
    | NotificationKind::Rejected
    | NotificationKind::Removed => {}
};

/// Tells the author of `comment` what moderator `moderator_id` decided about it
/// (`Approved`, `Rejected` or `Removed`), with the reason given. Nobody is told about
/// their own comment, nor is an account that was deleted. Call inside the action's
/// transaction.
pub fn moderation_notice(
    conn: &mut DbConn,
    comment: &super::comments::Comment,
    moderator_id: UserId,
    kind: NotificationKind,
    reason: Option<&str>,
) -> QueryResult<()> {
    if comment.author_id == moderator_id {
        return Ok(());
    }
    let deleted: Option<PrimitiveDateTime> =
        users::table.find(comment.author_id).select(users::deleted_at).first(conn)?;
    if deleted.is_some() {
        return Ok(());
    }
    diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(comment.author_id),
            notifications::kind.eq(kind),
            notifications::comment_id.eq(comment.id),
            notifications::actor_id.eq(moderator_id),
            notifications::created_at.eq(now()),
            notifications::reason.eq(reason),
        ))
        .execute(conn)?;
    Ok(())
}

/// A comment became visible (posted, or approved): the article's count and the
/// notifications follow (to the parent's author, or to readers who saved the article).
/// Returns whom to email about a reply: (user id, email if they want reply emails).
pub fn announce(conn: &mut DbConn, id: CommentId) -> QueryResult<Option<ReplyNotice>> {
    let comment = find(conn, id)?.ok_or(diesel::result::Error::NotFound)?;
    let parent_author = match comment.parent_id {
        Some(parent_id) => Some(find(conn, parent_id)?.ok_or(diesel::result::Error::NotFound)?.author_id),
        None => None,
    };
    let notify = notify_of_new(conn, id, comment.author_id, parent_author)?;
    diesel::update(articles::table.find(comment.article_id))
        .set(articles::comment_count.eq(articles::comment_count + 1))
        .execute(conn)?;
    Ok(notify)
}

/// The notifications of a comment that became visible: to the author of its parent
/// (`parent_author`, for a reply) unless that is its own author or a deleted account,
/// or to the readers who saved its article (a top-level comment, see
/// [`notify_savers`]). The article's count is the caller's. Returns whom to email
/// about a reply.
pub fn notify_of_new(
    conn: &mut DbConn,
    id: CommentId,
    author_id: UserId,
    parent_author: Option<UserId>,
) -> QueryResult<Option<ReplyNotice>> {
    let now = now();
    let Some(parent_author) = parent_author else {
        notify_savers(conn, &[id])?;
        return Ok(None);
    };
    if parent_author == author_id {
        return Ok(None);
    }
    let (deleted, email, wants, verified): (Option<PrimitiveDateTime>, Option<String>, bool, bool) = users::table
        .find(parent_author)
        .select((users::deleted_at, users::email, users::email_replies, users::email_verified))
        .first(conn)?;
    if deleted.is_some() {
        return Ok(None);
    }
    diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(parent_author),
            notifications::kind.eq(crate::domain::NotificationKind::Reply),
            notifications::comment_id.eq(id),
            notifications::actor_id.eq(author_id),
            notifications::created_at.eq(now),
        ))
        .execute(conn)?;
    // Email only an address its owner confirmed.
    Ok(Some((parent_author, email.filter(|_| wants && verified))))
}

/// The notifications of new top-level comments `ids` (visible ones) to the readers who
/// saved their articles: all in one statement, whatever their number (a batch of posts
/// makes one round trip for it). Not to a comment's own author, nor to a deleted account.
pub fn notify_savers(conn: &mut DbConn, ids: &[CommentId]) -> QueryResult<()> {
    use diesel::sql_types::{Text, Timestamp};
    if ids.is_empty() {
        return Ok(());
    }
    let savers = saved_articles::table
        .inner_join(comments::table.on(comments::article_id.eq(saved_articles::article_id)))
        .filter(comments::id.eq_any(ids))
        .filter(saved_articles::user_id.ne(comments::author_id))
        .filter(diesel::dsl::exists(
            users::table.filter(users::id.eq(saved_articles::user_id)).filter(users::deleted_at.is_null()),
        ))
        .order((comments::id, saved_articles::user_id))
        .select((
            saved_articles::user_id,
            NotificationKind::SavedArticle.into_sql::<Text>(),
            comments::id,
            comments::author_id,
            now().into_sql::<Timestamp>(),
        ));
    diesel::insert_into(notifications::table)
        .values(savers)
        .into_columns((
            notifications::user_id,
            notifications::kind,
            notifications::comment_id,
            notifications::actor_id,
            notifications::created_at,
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable)]
pub struct Notification {
    pub id: crate::domain::NotificationId,
    pub kind: crate::domain::NotificationKind,
    pub comment_id: CommentId,
    pub created_at: PrimitiveDateTime,
    pub read_at: Option<PrimitiveDateTime>,
    pub actor: String,
    pub actor_deleted: Option<PrimitiveDateTime>,
    pub body_html: String,
    pub article_slug: String,
    pub article_title: String,
    /// The moderator's reason, for a comment not approved or removed.
    pub reason: Option<String>,
}

pub fn unread_count(conn: &mut DbConn, user_id: UserId) -> QueryResult<i64> {
    notifications::table
        .inner_join(comments::table)
        .filter(shown())
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
}

/// Newest first.
pub fn notifications_of(conn: &mut DbConn, user_id: UserId, offset: i64, limit: i64) -> QueryResult<Vec<Notification>> {
    notifications::table
        .inner_join(comments::table.inner_join(articles::table))
        .inner_join(users::table.on(users::id.eq(notifications::actor_id)))
        .filter(notifications::user_id.eq(user_id))
        // A comment removed since does not show, nor does its text, except to tell its
        // author about it.
        .filter(shown())
        .order(notifications::id.desc())
        .offset(offset)
        .limit(limit)
        .select((
            notifications::id,
            notifications::kind,
            notifications::comment_id,
            notifications::created_at,
            notifications::read_at,
            users::username,
            users::deleted_at,
            comments::body_html,
            articles::slug,
            articles::title,
            notifications::reason,
        ))
        .load(conn)
}

pub fn mark_all_read(conn: &mut DbConn, user_id: UserId) -> QueryResult<usize> {
    diesel::update(
        notifications::table.filter(notifications::user_id.eq(user_id)).filter(notifications::read_at.is_null()),
    )
    .set(notifications::read_at.eq(Some(now())))
    .execute(conn)
}
