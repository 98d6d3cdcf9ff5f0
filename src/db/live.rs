//! The live events of threads: what changed, written in the changing transaction.
//!
//! On PostgreSQL the same transaction sends `NOTIFY` on the article's own channel
//! ([`channel`]), so that every instance with readers of that article hears of it once
//! the change commits, and never of a change that rolled back. On SQLite there is one
//! process; it tells its readers itself after committing.

use diesel::prelude::*;
use diesel::sql_types::Text;
use time::PrimitiveDateTime;

use super::schema::live_events;
use super::{now, DbConn};
use crate::domain::{ArticleId, CommentId, LiveKind};

/// How long events are kept: a reader who reconnects within it misses nothing.
pub const RETENTION: time::Duration = time::Duration::minutes(10);

/// Tells every running instance on PostgreSQL, when the transaction commits, of a
/// change the command line made (it runs apart from the site): `touch` as
/// `web::cache::PageCache::apply_remote` reads it (`*` for anything, `u:ID` for an
/// account, `readers` for accounts or sessions changed in the database directly). On SQLite the site's cache lives in its own process: a running site shows
/// the change once what it keeps expires (`web::cache::MAX_AGE`, and
/// `ACCOUNT_MAX_AGE` for an account).
pub fn announce_to_running_sites(conn: &mut DbConn, touch: &str) -> QueryResult<()> {
    if let DbConn::Pg(_) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(crate::web::live::CACHE_CHANNEL)
            .bind::<Text, _>(format!("command-line {touch}"))
            .execute(conn)?;
    }
    Ok(())
}

/// The channel an article's events are announced on.
pub fn channel(article: ArticleId) -> String {
    format!("afterword_article_{}", article.0)
}

/// One event.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub id: i64,
    pub article_id: ArticleId,
    /// `None`: a kind a newer version of the site records, which this one passes over
    /// (instances of two versions share the table while one replaces the other).
    pub kind: Option<LiveKind>,
    pub comment_id: Option<CommentId>,
    pub created_at: PrimitiveDateTime,
}

/// Records an event inside the caller's transaction, and on PostgreSQL announces it
/// (delivered when the transaction commits).
pub fn record(conn: &mut DbConn, article: ArticleId, kind: LiveKind, comment: Option<CommentId>) -> QueryResult<()> {
    diesel::insert_into(live_events::table)
        .values((
            live_events::article_id.eq(article),
            live_events::kind.eq(kind),
            live_events::comment_id.eq(comment),
            live_events::created_at.eq(now()),
        ))
        .execute(conn)?;
    if let DbConn::Pg(_) = conn {
        diesel::sql_query("SELECT pg_notify($1, '')").bind::<Text, _>(channel(article)).execute(conn)?;
    }
    Ok(())
}

/// A new comment event for each of `comments` on `article`, in one statement, and one
/// wake-up for the article's watchers.
pub fn record_comments(conn: &mut DbConn, article: ArticleId, comments: &[CommentId]) -> QueryResult<()> {
    if comments.is_empty() {
        return Ok(());
    }
    let now = now();
    let rows: Vec<_> = comments
        .iter()
        .map(|id| {
            (
                live_events::article_id.eq(article),
                live_events::kind.eq(LiveKind::Comment),
                live_events::comment_id.eq(Some(*id)),
                live_events::created_at.eq(now),
            )
        })
        .collect();
    match conn {
        DbConn::Pg(pg) => {
            diesel::insert_into(live_events::table).values(rows).execute(pg)?;
            diesel::sql_query("SELECT pg_notify($1, '')").bind::<Text, _>(channel(article)).execute(pg)?;
        }
        // In-process: a statement each costs no round trip.
        DbConn::Sqlite(sqlite) => {
            for row in rows {
                diesel::insert_into(live_events::table).values(row).execute(sqlite)?;
            }
        }
    }
    Ok(())
}

/// The newest event of an article: where a new watcher starts.
pub fn newest(conn: &mut DbConn, article: ArticleId) -> QueryResult<i64> {
    Ok(live_events::table
        .filter(live_events::article_id.eq(article))
        .select(diesel::dsl::max(live_events::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// An article's events after `after`, oldest first, at most `limit`.
pub fn since(conn: &mut DbConn, article: ArticleId, after: i64, limit: i64) -> QueryResult<Vec<LiveEvent>> {
    live_events::table
        .filter(live_events::article_id.eq(article))
        .filter(live_events::id.gt(after))
        .order(live_events::id)
        .limit(limit)
        .select((
            live_events::id,
            live_events::article_id,
            // Read as text: a kind this version does not know is passed over, not an
            // error that would stop the article's events until they are pruned.
            live_events::kind,
            live_events::comment_id,
            live_events::created_at,
        ))
        .load::<(i64, ArticleId, String, Option<CommentId>, PrimitiveDateTime)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(id, article_id, kind, comment_id, created_at)| LiveEvent {
                    id,
                    article_id,
                    kind: kind.parse().ok(),
                    comment_id,
                    created_at,
                })
                .collect()
        })
}

/// Deletes events older than [`RETENTION`]; returns how many.
pub fn prune(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::delete(live_events::table.filter(live_events::created_at.lt(now() - RETENTION))).execute(conn)
}

/// Events with what telling them needs: the comments they name (as a visitor sees
/// them; one missing is no longer shown to anyone but its author), and whether the
/// article's comments are closed, with the reason.
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<LiveEvent>,
    pub comments: Vec<super::comments::ThreadComment>,
    pub locked: bool,
    pub lock_reason: Option<String>,
}

/// An article's events after `after` (at most `limit`), with what telling them needs.
/// Three queries.
pub fn batch(conn: &mut DbConn, article: ArticleId, after: i64, limit: i64) -> QueryResult<Batch> {
    use super::schema::articles;
    let events = since(conn, article, after, limit)?;
    if events.is_empty() {
        return Ok(Batch::default());
    }
    let mut ids: Vec<CommentId> = events.iter().filter_map(|e| e.comment_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let comments = super::comments::with_authors(conn, &ids, None)?;
    let (locked, lock_reason) = articles::table
        .find(article)
        .select((articles::comments_locked, articles::lock_reason))
        .first::<(bool, Option<String>)>(conn)
        .optional()?
        .unwrap_or((true, None));
    Ok(Batch { events, comments, locked, lock_reason })
}
