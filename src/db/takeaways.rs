//! The discussion of an article's key takeaways: how many published comments quote
//! each one, and each one's best-ranked comment.
//!
//! Both count only published (`visible`) comments: removed, held and deleted ones do
//! not count and are never shown as the most useful. They are read along the
//! `comments_quotes` index `(article_id, quote_kind, quote_position, status, rank_best)`.

use diesel::prelude::*;

use super::comments::{with_authors, ThreadComment};
use super::schema::comments;
use super::DbConn;
use crate::domain::quotes::QuoteKind;
use crate::domain::{ArticleId, CommentId, CommentStatus};

/// The published comments quoting each of an article's `takeaways` takeaways, in order.
/// One grouped query.
pub fn counts(conn: &mut DbConn, article: ArticleId, takeaways: usize) -> QueryResult<Vec<i64>> {
    let rows: Vec<(Option<i32>, i64)> = comments::table
        .filter(comments::article_id.eq(article))
        .filter(comments::quote_kind.eq(QuoteKind::Takeaway.as_str()))
        .filter(comments::status.eq(CommentStatus::Visible))
        .group_by(comments::quote_position)
        .select((comments::quote_position, diesel::dsl::count_star()))
        .load(conn)?;
    let mut counts = vec![0; takeaways];
    for (position, count) in rows {
        if let Some(slot) = position.and_then(|p| usize::try_from(p).ok()).and_then(|p| counts.get_mut(p)) {
            *slot = count;
        }
    }
    Ok(counts)
}

/// For each takeaway with comments (`counts` as [`counts`] gives them): its best-ranked
/// published comment (the thread's `best` order: Wilson lower bound, then newest), with
/// its author. One short indexed query per takeaway with comments (an article has at
/// most `import::MAX_TAKEAWAYS`), then one for the comments.
pub fn most_useful(conn: &mut DbConn, article: ArticleId, counts: &[i64]) -> QueryResult<Vec<Option<ThreadComment>>> {
    let mut best: Vec<Option<CommentId>> = vec![None; counts.len()];
    for (position, _) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
        best[position] = comments::table
            .filter(comments::article_id.eq(article))
            .filter(comments::quote_kind.eq(QuoteKind::Takeaway.as_str()))
            .filter(comments::quote_position.eq(position as i32))
            .filter(comments::status.eq(CommentStatus::Visible))
            .order((comments::rank_best.desc(), comments::id.desc()))
            .select(comments::id)
            .first(conn)
            .optional()?;
    }
    let ids: Vec<CommentId> = best.iter().flatten().copied().collect();
    if ids.is_empty() {
        return Ok(vec![None; counts.len()]);
    }
    let mut items = with_authors(conn, &ids, None)?;
    Ok(best
        .into_iter()
        .map(|id| {
            let id = id?;
            let at = items.iter().position(|i| i.comment.id == id)?;
            Some(items.swap_remove(at))
        })
        .collect())
}
