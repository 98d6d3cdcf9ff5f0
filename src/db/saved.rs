//! Articles readers saved to their profile. Private: every function takes the owner.

use crate::domain::{ArticleId, UserId};
use std::collections::HashSet;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
use time::PrimitiveDateTime;

use super::schema::saved_articles;
use super::{now, DbConn};

/// Saves an article; saving it again changes nothing.
pub fn save(conn: &mut DbConn, user_id: UserId, article_id: ArticleId) -> QueryResult<()> {
    {
        if is_saved(conn, user_id, article_id)? {
            return Ok(());
        }
        let now = now();
        let inserted = diesel::insert_into(saved_articles::table)
            .values((
                saved_articles::user_id.eq(user_id),
                saved_articles::article_id.eq(article_id),
                saved_articles::saved_at.eq(now),
                saved_articles::last_seen_at.eq(now),
            ))
            .execute(conn);
        match inserted {
            // Saved by a simultaneous request: saved all the same.
            Err(err) if super::duplicate(&err).is_some() => Ok(()),
            other => other.map(|_| ()),
        }
    }
}

pub fn unsave(conn: &mut DbConn, user_id: UserId, article_id: ArticleId) -> QueryResult<usize> {
    diesel::delete(saved_articles::table.find((user_id, article_id))).execute(conn)
}

pub fn is_saved(conn: &mut DbConn, user_id: UserId, article_id: ArticleId) -> QueryResult<bool> {
    Ok(saved_articles::table.find((user_id, article_id)).count().get_result::<i64>(conn)? > 0)
}

/// Which of `article_ids` the reader saved.
pub fn saved_among(conn: &mut DbConn, user_id: UserId, article_ids: &[ArticleId]) -> QueryResult<HashSet<ArticleId>> {
    Ok(saved_articles::table
        .filter(saved_articles::user_id.eq(user_id))
        .filter(saved_articles::article_id.eq_any(article_ids))
        .select(saved_articles::article_id)
        .load::<ArticleId>(conn)?
        .into_iter()
        .collect())
}

/// Whether the reader saved the article (`None`: not saved) and, if so, whether it has
/// comments by others the reader has not seen. A read: two small queries, both
/// prepared once per connection.
pub fn seen_state(conn: &mut DbConn, user_id: UserId, article_id: ArticleId) -> QueryResult<Option<bool>> {
    use super::schema::comments;
    let seen: Option<PrimitiveDateTime> = saved_articles::table
        .find((user_id, article_id))
        .select(saved_articles::last_seen_at)
        .first(conn)
        .optional()?;
    let Some(seen) = seen else { return Ok(None) };
    let unseen = diesel::select(diesel::dsl::exists(
        comments::table
            .filter(comments::article_id.eq(article_id))
            .filter(comments::status.eq(crate::domain::CommentStatus::Visible))
            .filter(comments::created_at.gt(seen))
            .filter(comments::author_id.ne(user_id)),
    ))
    .get_result(conn)?;
    Ok(Some(unseen))
}

/// The reader opened the article: comments before now are no longer new.
pub fn mark_seen(conn: &mut DbConn, user_id: UserId, article_id: ArticleId) -> QueryResult<usize> {
    diesel::update(saved_articles::table.find((user_id, article_id)))
        .set(saved_articles::last_seen_at.eq(now()))
        .execute(conn)
}

#[derive(Debug, Clone, QueryableByName)]
pub struct SavedItem {
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub source_name: String,
    #[diesel(sql_type = Integer)]
    pub comment_count: i32,
    #[diesel(sql_type = Timestamp)]
    pub saved_at: PrimitiveDateTime,
    /// Visible comments by others since the reader last opened the article.
    #[diesel(sql_type = BigInt)]
    pub new_comments: i64,
}

/// The reader's saved articles, most recently saved first. One query.
pub fn list(conn: &mut DbConn, user_id: UserId, offset: i64, limit: i64) -> QueryResult<Vec<SavedItem>> {
    diesel::sql_query(
        "SELECT a.slug, a.title, a.source_name, a.comment_count, s.saved_at, \
                (SELECT COUNT(*) FROM comments c \
                  WHERE c.article_id = a.id AND c.status = 'visible' \
                    AND c.created_at > s.last_seen_at AND c.author_id <> s.user_id) AS new_comments \
         FROM saved_articles s JOIN articles a ON a.id = s.article_id \
         WHERE s.user_id = $1 \
         ORDER BY s.saved_at DESC, a.id DESC \
         LIMIT $2 OFFSET $3",
    )
    .bind::<BigInt, _>(user_id)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    .load(conn)
}

/// The articles a reader saved, most recently saved first, as their profile lists
/// them: (slug, title, source name).
pub fn on_profile(conn: &mut DbConn, user_id: UserId, limit: i64) -> QueryResult<Vec<(String, String, String)>> {
    use super::schema::articles;
    saved_articles::table
        .inner_join(articles::table)
        .filter(saved_articles::user_id.eq(user_id))
        .order((saved_articles::saved_at.desc(), articles::id.desc()))
        .limit(limit)
        .select((articles::slug, articles::title, articles::source_name))
        .load(conn)
}

/// Everything a reader saved, for their data export: (slug, saved at).
pub fn all_of(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<(String, PrimitiveDateTime)>> {
    saved_articles::table
        .inner_join(super::schema::articles::table)
        .filter(saved_articles::user_id.eq(user_id))
        .order(saved_articles::saved_at.desc())
        .select((super::schema::articles::slug, saved_articles::saved_at))
        .load(conn)
}
