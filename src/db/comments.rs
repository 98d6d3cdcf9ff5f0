//! Comments: threads, posting, editing and deleting (votes are in `votes`, notifications
//! in `notifications`).
//!
//! Pages of a thread are loaded by `threads`.
//!
//! # Lock order (PostgreSQL)
//!
//! Every write to comments takes its row locks in one order, so that two of them never
//! wait on each other (a deadlock):
//!
//! 1. the article's row (`SELECT … FROM articles … FOR UPDATE`), before anything else;
//! 2. then comments top-down: a parent before its child (deleting a reply locks the
//!    parent whose `reply_count` it changes, then the reply).
//!
//! Posting takes one lock before these: the author's (a transaction-level advisory lock,
//! see [`record_post`]), which only posts by the same author wait on; they hold no
//! other lock when they take it, so it adds no cycle.
//!
//! [`lock_for_write`] (an existing comment) and [`lock_article`] (a new one) take them;
//! every writer here and in `moderation` starts with one of them. Holding the article
//! row makes the writes to one article's comments run one after another, which also
//! keeps the counters (`reply_count`, `comment_count`, votes) in step. Writes to
//! different articles do not wait on each other. On SQLite nothing is locked here:
//! `BEGIN IMMEDIATE` already lets one writer at a time in.

use crate::domain::quotes::{Quote, QuoteKind, ShownQuote};
use crate::domain::{ArticleId, CommentId, LiveKind, UserId};
use diesel::prelude::*;
use std::collections::HashMap;
use time::PrimitiveDateTime;

use super::connection::{write_transaction_retrying, Retryable};
use super::schema::{article_takeaways, articles, comment_posts, comment_votes, comments, users};
use super::{now, DbConn};

/// Replies deeper than this are refused.
pub const MAX_DEPTH: i32 = 64;

use crate::domain::permissions::{self, Actor, CommentFacts, Denied};
pub use crate::domain::CommentStatus;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = comments)]
pub struct Comment {
    pub id: CommentId,
    pub article_id: ArticleId,
    pub author_id: UserId,
    pub parent_id: Option<CommentId>,
    pub root_id: CommentId,
    pub depth: i32,
    pub body_html: String,
    pub status: CommentStatus,
    pub upvotes: i32,
    pub downvotes: i32,
    pub reply_count: i32,
    pub created_at: PrimitiveDateTime,
    pub edited_at: Option<PrimitiveDateTime>,
    pub removed_reason: Option<String>,
    pub pinned: bool,
    pub distinguished: bool,
    pub quote_kind: Option<String>,
    pub quote_position: Option<i32>,
    pub quote_text: Option<String>,
}

impl Comment {
    /// What the comment quotes of its article, as stored.
    pub fn quote(&self) -> Option<Quote> {
        let kind = QuoteKind::parse(self.quote_kind.as_deref()?)?;
        Some(Quote { kind, position: self.quote_position?, text: self.quote_text.clone()? })
    }

    pub fn is_deleted(&self) -> bool {
        self.status == CommentStatus::Deleted
    }

    pub fn is_visible(&self) -> bool {
        self.status == CommentStatus::Visible
    }

    pub fn is_removed(&self) -> bool {
        self.status == CommentStatus::Removed
    }

    /// Awaiting approval, or not approved: only the author sees it.
    pub fn is_held(&self) -> bool {
        self.status == CommentStatus::Pending || self.status == CommentStatus::Rejected
    }

    /// What the rules of `domain::permissions` look at, with whether its article's
    /// comments are closed.
    pub fn facts(&self, locked: bool) -> CommentFacts {
        CommentFacts { author_id: self.author_id, status: self.status, created_at: self.created_at, locked }
    }

    pub fn score(&self) -> i32 {
        self.upvotes - self.downvotes
    }
}

/// A comment as a thread shows it.
#[derive(Debug, Clone)]
pub struct ThreadComment {
    pub comment: Comment,
    /// `None` for a deleted comment or account.
    pub author: Option<String>,
    /// The reader's vote: -1, 0 or 1.
    pub my_vote: i32,
    /// What it quotes of its article (see [`show_quotes`]); none once deleted or removed.
    pub quote: Option<ShownQuote>,
    /// The name an imported author had in the other system (their placeholder
    /// account's `author` is not a name anyone chose); `None` for everyone else.
    pub imported_name: Option<String>,
}

type Row = (Comment, String, Option<PrimitiveDateTime>, Option<i32>, Option<String>, Option<String>);

fn into_thread(rows: Vec<Row>) -> Vec<ThreadComment> {
    rows.into_iter()
        .map(|(comment, username, author_deleted, vote, imported_from, display_name)| ThreadComment {
            imported_name: imported_from.and(display_name).filter(|_| !comment.is_deleted() && !comment.is_removed()),
            author: (!comment.is_deleted() && !comment.is_removed() && author_deleted.is_none()).then_some(username),
            my_vote: vote.unwrap_or(0),
            quote: None,
            comment,
        })
        .collect()
}

/// Comments with their author and the viewer's vote, filtered by `filter`.
macro_rules! with_authors_and_votes {
    ($viewer:expr) => {
        comments::table
            .inner_join(users::table)
            .left_join(
                comment_votes::table.on(comment_votes::comment_id
                    .eq(comments::id)
                    .and(comment_votes::user_id.eq($viewer.unwrap_or(UserId(-1))))),
            )
            .select((
                Comment::as_select(),
                users::username,
                users::deleted_at,
                comment_votes::value.nullable(),
                users::imported_from,
                users::display_name,
            ))
            // Held comments show only to their author.
            .filter(
                comments::status
                    .ne_all([CommentStatus::Pending, CommentStatus::Rejected])
                    .or(comments::author_id.eq($viewer.unwrap_or(UserId(-1)))),
            )
    };
}

pub fn find(conn: &mut DbConn, id: CommentId) -> QueryResult<Option<Comment>> {
    comments::table.find(id).select(Comment::as_select()).first(conn).optional()
}

/// A comment with its article's slug, title and whether its comments are closed.
pub fn find_with_article(conn: &mut DbConn, id: CommentId) -> QueryResult<Option<(Comment, String, String, bool)>> {
    comments::table
        .inner_join(articles::table)
        .filter(comments::id.eq(id))
        .select((Comment::as_select(), articles::slug, articles::title, articles::comments_locked))
        .first(conn)
        .optional()
}

pub fn source(conn: &mut DbConn, id: CommentId) -> QueryResult<String> {
    comments::table.find(id).select(comments::body_source).first(conn)
}

pub struct NewComment<'a> {
    pub article_id: ArticleId,
    pub author: Actor,
    pub parent_id: Option<CommentId>,
    pub source: &'a str,
    pub html: &'a str,
    /// `Visible`, or `Pending` when held for approval.
    pub status: CommentStatus,
    /// The author's limits.
    pub limits: PostingLimits,
    /// What it quotes of the article (a top-level comment only), checked against the
    /// article as it is when posted.
    pub quote: Option<crate::domain::quotes::QuoteRequest>,
}

/// How many comments one account may post within a minute and within a day (0: no
/// limit). Counted in the database (`comment_posts`), so they hold across restarts and
/// across every instance of the site.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PostingLimits {
    pub per_minute: u32,
    pub per_day: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum CommentError {
    #[error("there is no such comment")]
    Missing,
    /// A rule of `domain::permissions` refused it.
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("the comment replied to belongs to another article")]
    ParentElsewhere,
    #[error("the comment replied to is deleted, removed or not yet approved")]
    ParentDeleted,
    #[error("replies may nest at most {MAX_DEPTH} deep")]
    TooDeep,
    /// The quote asked for is not of this article, or is asked on a reply.
    #[error("{0}")]
    BadQuote(String),
    /// The author posted as many comments as the limits allow; one more may go after
    /// this long.
    #[error("too many comments; try again in {} s", retry_after.as_secs())]
    TooMany { retry_after: std::time::Duration },
    /// A moderation action that does not apply; the message says why.
    #[error("{0}")]
    NothingToDo(&'static str),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Whom to email about a reply: (user id, email if they want reply emails).
pub type ReplyNotice = (UserId, Option<String>);

/// What posting did, for the notifications that follow.
#[derive(Debug, Clone)]
pub struct Posted {
    pub id: CommentId,
    /// The author of the parent, when it is someone else with a live account:
    /// (user id, email if they want reply emails).
    pub notify: Option<ReplyNotice>,
    /// A top-level comment (its `root_id` is set by [`finish_posts`]).
    pub top_level: bool,
    /// Published at once (not held for approval).
    pub visible: bool,
}

impl Retryable for CommentError {
    fn is_retryable(&self) -> bool {
        matches!(self, CommentError::Db(err) if err.is_retryable())
    }
}

fn lock_comment_row(conn: &mut DbConn, comment_id: CommentId) -> QueryResult<()> {
    diesel::sql_query("SELECT id FROM comments WHERE id = $1 FOR UPDATE")
        .bind::<diesel::sql_types::BigInt, _>(comment_id)
        .execute(conn)?;
    Ok(())
}

/// On PostgreSQL, locks an article's row until the transaction ends: the first lock of
/// every comment write (see the lock order at the top of this module).
pub(crate) fn lock_article(conn: &mut DbConn, article_id: ArticleId) -> QueryResult<()> {
    match conn {
        DbConn::Pg(_) => {
            diesel::sql_query("SELECT id FROM articles WHERE id = $1 FOR UPDATE")
                .bind::<diesel::sql_types::BigInt, _>(article_id)
                .execute(conn)?;
        }
        DbConn::Sqlite(_) => {}
    }
    Ok(())
}

/// Takes the locks a write to comment `id` needs, in the module's order (its article,
/// its parent, then the comment itself), and reads the comment once they are held.
/// A comment that is gone, or goes while we wait, is `Missing`.
pub(crate) fn lock_for_write(conn: &mut DbConn, id: CommentId) -> Result<Comment, CommentError> {
    if let DbConn::Pg(_) = conn {
        // Neither changes over a comment's life, so reading them unlocked is safe.
        let (article_id, parent_id): (ArticleId, Option<CommentId>) = comments::table
            .find(id)
            .select((comments::article_id, comments::parent_id))
            .first(conn)
            .optional()?
            .ok_or(CommentError::Missing)?;
        lock_article(conn, article_id)?;
        if let Some(parent_id) = parent_id {
            lock_comment_row(conn, parent_id)?;
        }
        lock_comment_row(conn, id)?;
    }
    find(conn, id)?.ok_or(CommentError::Missing)
}

pub(crate) fn locked(conn: &mut DbConn, article_id: ArticleId) -> QueryResult<bool> {
    articles::table.find(article_id).select(articles::comments_locked).first(conn)
}

/// Takes the locks of a batch of posts, in the module's order: the posting locks of
/// the `authors` who have limits, then each of `articles`' rows. Returns whether each
/// article's comments are closed, read with its row held (an article that is gone is
/// left out). On SQLite nothing is locked: the write transaction is already alone.
pub fn lock_for_posts(
    conn: &mut DbConn,
    authors: &[UserId],
    articles: &[ArticleId],
) -> QueryResult<HashMap<ArticleId, bool>> {
    let mut authors = authors.to_vec();
    authors.sort_unstable();
    authors.dedup();
    for author in authors {
        lock_author(conn, author)?;
    }
    let mut articles = articles.to_vec();
    articles.sort_unstable();
    articles.dedup();
    let mut closed = HashMap::with_capacity(articles.len());
    for article in articles {
        let locked: Option<bool> = match conn {
            DbConn::Pg(_) => {
                #[derive(QueryableByName)]
                struct Row {
                    #[diesel(sql_type = diesel::sql_types::Bool)]
                    comments_locked: bool,
                }
                diesel::sql_query("SELECT comments_locked FROM articles WHERE id = $1 FOR UPDATE")
                    .bind::<diesel::sql_types::BigInt, _>(article)
                    .get_result::<Row>(conn)
                    .optional()?
                    .map(|row| row.comments_locked)
            }
            DbConn::Sqlite(_) => locked(conn, article).optional()?,
        };
        if let Some(locked) = locked {
            closed.insert(article, locked);
        }
    }
    Ok(closed)
}

/// Posts a comment or reply in a transaction of its own (see [`post_within`]).
pub fn post(conn: &mut DbConn, new: &NewComment) -> Result<Posted, CommentError> {
    write_transaction_retrying(conn, |conn| {
        let limited: &[UserId] = if new.limits == PostingLimits::default() { &[] } else { &[new.author.id] };
        let closed = lock_for_posts(conn, limited, &[new.article_id])?;
        let closed = *closed.get(&new.article_id).ok_or(diesel::result::Error::NotFound)?;
        let posted = post_within(conn, new, closed)?;
        finish_posts(conn, new.article_id, std::slice::from_ref(&posted))?;
        Ok(posted)
    })
}

/// Writes a comment or reply inside a write transaction that holds its locks (see
/// [`lock_for_posts`]; `closed` is what it read of the article), keeping the parent's
/// reply count and the notifications in step; [`finish_posts`] then does what a batch
/// of posts to one article shares. A held comment (`PENDING`) counts and notifies only
/// once approved.
///
/// Beyond the author's limits it is refused (`TooMany`); otherwise it counts against
/// them. Every refusal comes before the post's first write (but the pruning of the
/// author's day-old posting records), so a refused post leaves nothing to undo.
pub fn post_within(conn: &mut DbConn, new: &NewComment, closed: bool) -> Result<Posted, CommentError> {
    let parent = match new.parent_id {
        None => {
            permissions::may_comment(Some(&new.author), closed)?;
            None
        }
        Some(parent_id) => {
            // Another article's comment is refused before its article is locked: a
            // post holds one article's lock.
            let elsewhere: Option<ArticleId> =
                comments::table.find(parent_id).select(comments::article_id).first(conn).optional()?;
            if elsewhere.is_some_and(|article| article != new.article_id) {
                return Err(CommentError::ParentElsewhere);
            }
            let parent = lock_for_write(conn, parent_id)?;
            if parent.article_id != new.article_id {
                return Err(CommentError::ParentElsewhere);
            }
            permissions::may_reply(Some(&new.author), &parent.facts(closed)).map_err(|denied| match denied {
                Denied::NotVisible => CommentError::ParentDeleted,
                other => other.into(),
            })?;
            if parent.depth + 1 > MAX_DEPTH {
                return Err(CommentError::TooDeep);
            }
            Some(parent)
        }
    };
    // Checked against the article as it is now, in the transaction that holds its row.
    let quote = match &new.quote {
        Some(asked) if !asked.is_empty() => {
            if parent.is_some() {
                return Err(CommentError::BadQuote(
                    "A reply quotes nothing of the article: it answers the comment it replies to.".into(),
                ));
            }
            let (takeaways, summary, _) = quoted_text(conn, new.article_id)?;
            asked.check(&takeaways, &summary).map_err(CommentError::BadQuote)?
        }
        _ => None,
    };
    record_post(conn, new.author.id, new.limits)?;
    let id: CommentId = diesel::insert_into(comments::table)
        .values((
            comments::article_id.eq(new.article_id),
            comments::author_id.eq(new.author.id),
            comments::parent_id.eq(new.parent_id),
            comments::root_id.eq(parent.as_ref().map_or(CommentId(0), |p| p.root_id)),
            comments::depth.eq(parent.as_ref().map_or(0, |p| p.depth + 1)),
            comments::body_source.eq(new.source),
            comments::body_html.eq(new.html),
            comments::status.eq(new.status),
            comments::created_at.eq(now()),
            comments::quote_kind.eq(quote.as_ref().map(|q| q.kind.as_str())),
            comments::quote_position.eq(quote.as_ref().map(|q| q.position)),
            comments::quote_text.eq(quote.as_ref().map(|q| q.text.as_str())),
        ))
        .returning(comments::id)
        .get_result(conn)?;
    if let Some(parent) = &parent {
        diesel::update(comments::table.find(parent.id))
            .set(comments::reply_count.eq(comments::reply_count + 1))
            .execute(conn)?;
    }
    let visible = new.status == CommentStatus::Visible;
    // A visible reply notifies its parent's author here; a top-level comment notifies
    // its article's savers in `finish_posts`, once for the batch.
    let notify = match &parent {
        Some(parent) if visible => {
            super::notifications::notify_of_new(conn, id, new.author.id, Some(parent.author_id))?
        }
        _ => None,
    };
    Ok(Posted { id, notify, top_level: parent.is_none(), visible })
}

/// What the posts written to `article` in this transaction share, done once for them
/// all: the top-level comments' `root_id` and their savers' notifications, the
/// article's comment count and its live events (one wake-up for its watchers).
pub fn finish_posts(conn: &mut DbConn, article: ArticleId, posted: &[Posted]) -> QueryResult<()> {
    let top: Vec<CommentId> = posted.iter().filter(|p| p.top_level).map(|p| p.id).collect();
    if !top.is_empty() {
        diesel::update(comments::table.filter(comments::id.eq_any(&top)))
            .set(comments::root_id.eq(comments::id))
            .execute(conn)?;
    }
    let visible_top: Vec<CommentId> = posted.iter().filter(|p| p.top_level && p.visible).map(|p| p.id).collect();
    super::notifications::notify_savers(conn, &visible_top)?;
    let visible: Vec<CommentId> = posted.iter().filter(|p| p.visible).map(|p| p.id).collect();
    if !visible.is_empty() {
        diesel::update(articles::table.find(article))
            .set(articles::comment_count.eq(articles::comment_count + visible.len() as i32))
            .execute(conn)?;
        super::live::record_comments(conn, article, &visible)?;
    }
    Ok(())
}

/// The class of the advisory locks that make one author's posts take turns (PostgreSQL;
/// the key within it is the account id).
const POSTING_LOCK_CLASS: i32 = 0x6166_7770;
const MINUTE: time::Duration = time::Duration::minutes(1);
const DAY: time::Duration = time::Duration::days(1);

/// Counts a post against `limits`, inside the posting transaction: refuses it
/// (`TooMany`, with the time until the oldest counted post leaves its window) when the
/// author posted `per_minute` comments within the last minute or `per_day` within the
/// last day; otherwise records it. The author's records older than a day are deleted
/// on the way, so the table keeps at most a day's posts per account.
///
/// Two posts by one author must not both count the same free place: on SQLite the
/// write transaction (`BEGIN IMMEDIATE`) already lets one writer in at a time; on
/// PostgreSQL the author's posts take turns on a transaction-level advisory lock, taken
/// before any row lock (see the lock order at the top), whichever instance they go
/// through.
fn record_post(conn: &mut DbConn, user_id: UserId, limits: PostingLimits) -> Result<(), CommentError> {
    if limits == PostingLimits::default() {
        return Ok(());
    }
    lock_author(conn, user_id)?;
    let now = now();
    let mine = comment_posts::user_id.eq(user_id);
    diesel::delete(comment_posts::table.filter(mine).filter(comment_posts::posted_at.le(now - DAY))).execute(conn)?;
    for (limit, window) in [(limits.per_minute, MINUTE), (limits.per_day, DAY)] {
        if limit == 0 {
            continue;
        }
        let (count, oldest): (i64, Option<PrimitiveDateTime>) = comment_posts::table
            .filter(mine)
            .filter(comment_posts::posted_at.gt(now - window))
            .select((diesel::dsl::count_star(), diesel::dsl::min(comment_posts::posted_at)))
            .first(conn)?;
        if count >= i64::from(limit) {
            let left = oldest.map_or(window, |oldest| oldest + window - now);
            let retry_after =
                std::time::Duration::try_from(left).unwrap_or_default().max(std::time::Duration::from_secs(1));
            return Err(CommentError::TooMany { retry_after });
        }
    }
    diesel::insert_into(comment_posts::table)
        .values((comment_posts::user_id.eq(user_id), comment_posts::posted_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// On PostgreSQL, the author's posting lock until the transaction ends (taken again by
/// the same transaction, it is already held).
fn lock_author(conn: &mut DbConn, user_id: UserId) -> QueryResult<()> {
    if let DbConn::Pg(_) = conn {
        // Account ids beyond 2^31 share a key with a smaller one: they only wait more.
        let key = (user_id.0 & 0x7fff_ffff) as i32;
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind::<diesel::sql_types::Integer, _>(POSTING_LOCK_CLASS)
            .bind::<diesel::sql_types::Integer, _>(key)
            .execute(conn)?;
    }
    Ok(())
}

/// Replaces the text of the author's own comment within `window` of posting.
/// With `hold`, a published comment goes back to waiting for approval (the new text
/// is caught by the word list, or everyone is pre-moderated).
pub fn edit(
    conn: &mut DbConn,
    id: CommentId,
    author: &Actor,
    source: &str,
    html: &str,
    window: time::Duration,
    hold: bool,
) -> Result<(), CommentError> {
    write_transaction_retrying(conn, |conn| {
        let comment = lock_for_write(conn, id)?;
        let closed = locked(conn, comment.article_id)?;
        permissions::may_edit(Some(author), &comment.facts(closed), now(), window)?;
        if hold && comment.is_visible() {
            diesel::update(comments::table.find(id)).set(comments::status.eq(CommentStatus::Pending)).execute(conn)?;
            diesel::update(articles::table.find(comment.article_id))
                .set(articles::comment_count.eq(articles::comment_count - 1))
                .execute(conn)?;
        }
        diesel::update(comments::table.find(id))
            .set((comments::body_source.eq(source), comments::body_html.eq(html), comments::edited_at.eq(Some(now()))))
            .execute(conn)?;
        let kind = if hold && comment.is_visible() { LiveKind::Status } else { LiveKind::Edit };
        super::live::record(conn, comment.article_id, kind, Some(id))?;
        Ok(())
    })
}

/// Deletes the author's own comment: one with replies becomes a placeholder that keeps
/// the thread together; one without disappears, and so do placeholders it leaves
/// without replies.
pub fn delete(conn: &mut DbConn, id: CommentId, author: &Actor) -> Result<(), CommentError> {
    write_transaction_retrying(conn, |conn| {
        let comment = lock_for_write(conn, id)?;
        // Whether the thread is closed does not matter: an author may always take back
        // what they wrote.
        permissions::may_delete(Some(author), &comment.facts(false))?;
        super::live::record(conn, comment.article_id, LiveKind::Status, Some(id))?;
        if comment.is_visible() {
            diesel::update(articles::table.find(comment.article_id))
                .set(articles::comment_count.eq(articles::comment_count - 1))
                .execute(conn)?;
        }
        if comment.reply_count > 0 {
            diesel::update(comments::table.find(id))
                .set((
                    comments::status.eq(CommentStatus::Deleted),
                    comments::body_source.eq(""),
                    comments::body_html.eq(""),
                ))
                .execute(conn)?;
            return Ok(());
        }
        // Remove the leaf, then any placeholder ancestors left without replies.
        let mut current = comment;
        loop {
            diesel::delete(comments::table.find(current.id)).execute(conn)?;
            let Some(parent_id) = current.parent_id else { break };
            diesel::update(comments::table.find(parent_id))
                .set(comments::reply_count.eq(comments::reply_count - 1))
                .execute(conn)?;
            let parent = find(conn, parent_id)?.ok_or(CommentError::Missing)?;
            if !(parent.is_deleted() && parent.reply_count == 0) {
                break;
            }
            current = parent;
        }
        Ok(())
    })
}

/// An account's visible comments, newest first, with their article's slug and title.
pub fn by_author(
    conn: &mut DbConn,
    user_id: UserId,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<(Comment, String, String)>> {
    comments::table
        .inner_join(articles::table)
        .filter(comments::author_id.eq(user_id))
        .filter(comments::status.eq(CommentStatus::Visible))
        .order(comments::id.desc())
        .offset(offset)
        .limit(limit)
        .select((Comment::as_select(), articles::slug, articles::title))
        .load(conn)
}

/// A page of an account's visible comments, newest first, from before comment
/// `before` (the last of the page before), with their article's slug and title: as its
/// profile lists them, paged by id so that new comments do not shift the pages.
pub fn by_author_before(
    conn: &mut DbConn,
    user_id: UserId,
    before: Option<CommentId>,
    limit: i64,
) -> QueryResult<Vec<(Comment, String, String)>> {
    let mut query = comments::table
        .inner_join(articles::table)
        .filter(comments::author_id.eq(user_id))
        .filter(comments::status.eq(CommentStatus::Visible))
        .order(comments::id.desc())
        .limit(limit)
        .select((Comment::as_select(), articles::slug, articles::title))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(comments::id.lt(before));
    }
    query.load(conn)
}

/// How many visible comments an account has: those its profile lists.
pub fn visible_count_by_author(conn: &mut DbConn, user_id: UserId) -> QueryResult<i64> {
    comments::table
        .filter(comments::author_id.eq(user_id))
        .filter(comments::status.eq(CommentStatus::Visible))
        .count()
        .get_result(conn)
}

/// An article's newest visible comments with their authors (`None`: deleted account).
pub fn newest_of_article(
    conn: &mut DbConn,
    article_id: ArticleId,
    limit: i64,
) -> QueryResult<Vec<(Comment, String, Option<PrimitiveDateTime>)>> {
    comments::table
        .inner_join(users::table)
        .filter(comments::article_id.eq(article_id))
        .filter(comments::status.eq(CommentStatus::Visible))
        .order(comments::id.desc())
        .limit(limit)
        .select((Comment::as_select(), users::username, users::deleted_at))
        .load(conn)
}

/// An exported comment: id, article slug, text, when.
pub type ExportedComment = (CommentId, String, String, PrimitiveDateTime);
/// An exported vote: comment id, value, when.
pub type ExportedVote = (CommentId, i32, PrimitiveDateTime);

/// For the data export: the account's comments (text included) and votes.
pub fn export_of(conn: &mut DbConn, user_id: UserId) -> QueryResult<(Vec<ExportedComment>, Vec<ExportedVote>)> {
    let written = comments::table
        .inner_join(articles::table)
        .filter(comments::author_id.eq(user_id))
        .filter(comments::status.eq(CommentStatus::Visible))
        .order(comments::id)
        .select((comments::id, articles::slug, comments::body_source, comments::created_at))
        .load(conn)?;
    let votes = comment_votes::table
        .filter(comment_votes::user_id.eq(user_id))
        .order(comment_votes::comment_id)
        .select((comment_votes::comment_id, comment_votes::value, comment_votes::created_at))
        .load(conn)?;
    Ok((written, votes))
}

/// Comments `ids` (those the viewer may see) with their authors and the viewer's votes.
pub(crate) fn with_authors(
    conn: &mut DbConn,
    ids: &[CommentId],
    viewer: Option<UserId>,
) -> QueryResult<Vec<ThreadComment>> {
    let rows: Vec<Row> = with_authors_and_votes!(viewer).filter(comments::id.eq_any(ids)).load(conn)?;
    let mut items = into_thread(rows);
    show_quotes(conn, &mut items)?;
    Ok(items)
}

/// One comment with its author and the viewer's vote.
pub fn one(conn: &mut DbConn, id: CommentId, viewer: Option<UserId>) -> QueryResult<Option<ThreadComment>> {
    let row: Option<Row> = with_authors_and_votes!(viewer).filter(comments::id.eq(id)).first(conn).optional()?;
    let mut items: Vec<ThreadComment> = row.map(|row| into_thread(vec![row])).unwrap_or_default();
    show_quotes(conn, &mut items)?;
    Ok(items.pop())
}

/// An article's takeaways and summary: what its comments quote.
pub fn quoted_text(conn: &mut DbConn, article_id: ArticleId) -> QueryResult<(Vec<String>, String, String)> {
    let takeaways = article_takeaways::table
        .filter(article_takeaways::article_id.eq(article_id))
        .order(article_takeaways::position)
        .select(article_takeaways::body)
        .load(conn)?;
    let (summary, slug) = articles::table.find(article_id).select((articles::summary, articles::slug)).first(conn)?;
    Ok((takeaways, summary, slug))
}

/// Fills in what `items` quote, with whether their article has changed since (see
/// [`shown_quotes`]).
pub fn show_quotes(conn: &mut DbConn, items: &mut [ThreadComment]) -> QueryResult<()> {
    let mut shown = shown_quotes(conn, items.iter().map(|i| &i.comment))?;
    for item in items {
        item.quote = shown.remove(&item.comment.id);
    }
    Ok(())
}

/// What `comments` quote, by comment, with whether their article has changed since:
/// two queries for all of them (their articles' takeaways, and their summaries). Deleted
/// and removed comments show no quote.
pub fn shown_quotes<'a>(
    conn: &mut DbConn,
    comments: impl Iterator<Item = &'a Comment>,
) -> QueryResult<std::collections::HashMap<CommentId, ShownQuote>> {
    let quoting: Vec<(&Comment, Quote)> =
        comments.filter(|c| !c.is_deleted() && !c.is_removed()).filter_map(|c| Some((c, c.quote()?))).collect();
    let mut shown = std::collections::HashMap::new();
    if quoting.is_empty() {
        return Ok(shown);
    }
    let mut ids: Vec<ArticleId> = quoting.iter().map(|(c, _)| c.article_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<(ArticleId, String)> = article_takeaways::table
        .filter(article_takeaways::article_id.eq_any(&ids))
        .order((article_takeaways::article_id, article_takeaways::position))
        .select((article_takeaways::article_id, article_takeaways::body))
        .load(conn)?;
    let texts: Vec<(ArticleId, String, String)> = articles::table
        .filter(articles::id.eq_any(&ids))
        .select((articles::id, articles::summary, articles::slug))
        .load(conn)?;
    for (comment, quote) in quoting {
        let Some((_, summary, slug)) = texts.iter().find(|(id, _, _)| *id == comment.article_id) else { continue };
        let takeaways: Vec<String> =
            rows.iter().filter(|(id, _)| *id == comment.article_id).map(|(_, t)| t.clone()).collect();
        shown.insert(comment.id, quote.shown(&takeaways, summary, slug));
    }
    Ok(shown)
}
