//! Email digests: who gets one and when, what is new for them, and the lease that lets
//! one instance of the site at a time send them.

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::schema::{articles, comments, digest_subscriptions, leases, saved_articles, users};
use super::DbConn;
use crate::domain::{ArticleId, CommentId, UserId};

/// A reader's digest: how often (`daily` | `weekly`), the watermark, when it is due next.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = digest_subscriptions)]
pub struct Subscription {
    pub user_id: UserId,
    pub frequency: String,
    pub since: PrimitiveDateTime,
    pub next_due_at: PrimitiveDateTime,
}

pub fn subscription(conn: &mut DbConn, user: UserId) -> QueryResult<Option<Subscription>> {
    digest_subscriptions::table.find(user).select(Subscription::as_select()).first(conn).optional()
}

/// Starts a digest (`since` = `now`), or changes how often it comes (keeping what is
/// new: the next one is due a period after the last). Call inside a write transaction.
/// Two at once for one reader: the second waits for the first's row, then changes it.
pub fn subscribe(
    conn: &mut DbConn,
    user: UserId,
    frequency: &str,
    period: time::Duration,
    now: PrimitiveDateTime,
) -> QueryResult<()> {
    let row = (
        digest_subscriptions::user_id.eq(user),
        digest_subscriptions::frequency.eq(frequency),
        digest_subscriptions::since.eq(now),
        digest_subscriptions::next_due_at.eq(now + period),
    );
    match conn {
        DbConn::Pg(pg) => {
            diesel::insert_into(digest_subscriptions::table).values(row).on_conflict_do_nothing().execute(pg)?
        }
        DbConn::Sqlite(lite) => diesel::insert_or_ignore_into(digest_subscriptions::table).values(row).execute(lite)?,
    };
    let since: PrimitiveDateTime =
        digest_subscriptions::table.find(user).select(digest_subscriptions::since).first(conn)?;
    diesel::update(digest_subscriptions::table.find(user))
        .set((digest_subscriptions::frequency.eq(frequency), digest_subscriptions::next_due_at.eq(since + period)))
        .execute(conn)?;
    Ok(())
}

/// Ends a reader's digest; whether they had one.
pub fn unsubscribe(conn: &mut DbConn, user: UserId) -> QueryResult<bool> {
    Ok(diesel::delete(digest_subscriptions::table.find(user)).execute(conn)? > 0)
}

/// Up to `limit` digests due at `now`, the longest due first.
pub fn due(conn: &mut DbConn, now: PrimitiveDateTime, limit: i64) -> QueryResult<Vec<Subscription>> {
    digest_subscriptions::table
        .filter(digest_subscriptions::next_due_at.le(now))
        .order((digest_subscriptions::next_due_at, digest_subscriptions::user_id))
        .limit(limit)
        .select(Subscription::as_select())
        .load(conn)
}

/// Moves `user`'s digest on (new watermark, next due time) if it is still due at
/// `now`: false when another run got there first (it then sends nothing). Of two
/// transactions trying at once, the second waits for the first's row lock, then finds
/// the digest no longer due.
pub fn advance(
    conn: &mut DbConn,
    user: UserId,
    now: PrimitiveDateTime,
    next_due_at: PrimitiveDateTime,
) -> QueryResult<bool> {
    let moved = diesel::update(
        digest_subscriptions::table
            .filter(digest_subscriptions::user_id.eq(user))
            .filter(digest_subscriptions::next_due_at.le(now)),
    )
    .set((digest_subscriptions::since.eq(now), digest_subscriptions::next_due_at.eq(next_due_at)))
    .execute(conn)?;
    Ok(moved == 1)
}

/// Where a digest goes: (username, address if any and not deleted, confirmed).
pub fn recipient(conn: &mut DbConn, user: UserId) -> QueryResult<Option<(String, Option<String>, bool)>> {
    users::table
        .find(user)
        .filter(users::deleted_at.is_null())
        .select((users::username, users::email, users::email_verified))
        .first(conn)
        .optional()
}

/// New, visible comments by others than `$user` after `$since`, up to `$until`.
macro_rules! new_comments {
    ($user:expr, $since:expr, $until:expr) => {
        comments::table
            .filter(comments::status.eq(crate::domain::CommentStatus::Visible.as_str()))
            .filter(comments::author_id.ne($user))
            .filter(comments::created_at.gt($since))
            .filter(comments::created_at.le($until))
    };
}

/// Articles with new replies to `user`'s comments, and how many: (article, count), at
/// most `limit` articles.
pub fn reply_counts(
    conn: &mut DbConn,
    user: UserId,
    since: PrimitiveDateTime,
    until: PrimitiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(ArticleId, i64)>> {
    let parents = diesel::alias!(comments as parents);
    let mine =
        parents.filter(parents.field(comments::author_id).eq(user)).select(parents.field(comments::id).nullable());
    new_comments!(user, since, until)
        .filter(comments::parent_id.eq_any(mine))
        .group_by(comments::article_id)
        .select((comments::article_id, diesel::dsl::count_star()))
        .order(comments::article_id)
        .limit(limit)
        .load(conn)
}

/// Articles `user` saved with new top-level comments, and how many: (article, count),
/// at most `limit` articles.
pub fn top_level_counts(
    conn: &mut DbConn,
    user: UserId,
    since: PrimitiveDateTime,
    until: PrimitiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(ArticleId, i64)>> {
    let saved = saved_articles::table.filter(saved_articles::user_id.eq(user)).select(saved_articles::article_id);
    new_comments!(user, since, until)
        .filter(comments::parent_id.is_null())
        .filter(comments::article_id.eq_any(saved))
        .group_by(comments::article_id)
        .select((comments::article_id, diesel::dsl::count_star()))
        .order(comments::article_id)
        .limit(limit)
        .load(conn)
}

/// One comment of a digest.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: CommentId,
    pub author: String,
    pub body_source: String,
    pub created_at: PrimitiveDateTime,
    /// A reply to the reader (else a new top-level comment on an article they saved).
    pub reply: bool,
}

/// The first `limit` new comments of one article for `user`: replies to them when
/// `replies`, else top-level comments (the article is one they saved). The bodies are
/// cut to `max_chars` characters by the database.
#[allow(clippy::too_many_arguments)]
pub fn items(
    conn: &mut DbConn,
    user: UserId,
    article: ArticleId,
    replies: bool,
    since: PrimitiveDateTime,
    until: PrimitiveDateTime,
    limit: i64,
    max_chars: i32,
) -> QueryResult<Vec<Item>> {
    let parents = diesel::alias!(comments as parents);
    let mine =
        parents.filter(parents.field(comments::author_id).eq(user)).select(parents.field(comments::id).nullable());
    let mut query = new_comments!(user, since, until).filter(comments::article_id.eq(article)).into_boxed();
    query = if replies {
        query.filter(comments::parent_id.eq_any(mine))
    } else {
        query.filter(comments::parent_id.is_null())
    };
    let rows: Vec<(CommentId, i64, String, PrimitiveDateTime)> = query
        .order((comments::created_at, comments::id))
        .limit(limit)
        .select((comments::id, comments::author_id, substr(comments::body_source, 1, max_chars), comments::created_at))
        .load(conn)?;
    let authors: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let names: Vec<(i64, String)> =
        users::table.filter(users::id.eq_any(&authors)).select((users::id, users::username)).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, author, body_source, created_at)| Item {
            id,
            author: names.iter().find(|(a, _)| *a == author).map_or_else(String::new, |(_, n)| n.clone()),
            body_source,
            created_at,
            reply: replies,
        })
        .collect())
}

diesel::define_sql_function! {
    /// The characters of a text from `start` (1-based), at most `length` of them.
    fn substr(text: diesel::sql_types::Text, start: diesel::sql_types::Integer, length: diesel::sql_types::Integer) -> diesel::sql_types::Text;
}

/// Slug and title of each article in `ids`.
pub fn article_titles(conn: &mut DbConn, ids: &[ArticleId]) -> QueryResult<Vec<(ArticleId, String, String)>> {
    articles::table.filter(articles::id.eq_any(ids)).select((articles::id, articles::slug, articles::title)).load(conn)
}

/// Takes the lease `name` for `holder` until `until` if it is free at `now` (expired,
/// or already `holder`'s): one conditional UPDATE, so that of several instances asking
/// at once exactly one wins. Whether `holder` holds it now.
pub fn take_lease(
    conn: &mut DbConn,
    name: &str,
    holder: &str,
    now: PrimitiveDateTime,
    until: PrimitiveDateTime,
) -> QueryResult<bool> {
    let taken = diesel::update(
        leases::table.filter(leases::name.eq(name)).filter(leases::expires_at.le(now).or(leases::holder.eq(holder))),
    )
    .set((leases::holder.eq(holder), leases::expires_at.eq(until)))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Gives the lease back (if `holder` still holds it): the next run need not wait for it
/// to expire.
pub fn release_lease(conn: &mut DbConn, name: &str, holder: &str) -> QueryResult<()> {
    diesel::update(leases::table.filter(leases::name.eq(name)).filter(leases::holder.eq(holder)))
        .set((leases::holder.eq(None::<String>), leases::expires_at.eq(time::macros::datetime!(1970-01-01 0:00))))
        .execute(conn)?;
    Ok(())
}

/// Who holds the lease `name` and until when.
pub fn lease(conn: &mut DbConn, name: &str) -> QueryResult<(Option<String>, PrimitiveDateTime)> {
    leases::table.find(name).select((leases::holder, leases::expires_at)).first(conn)
}
