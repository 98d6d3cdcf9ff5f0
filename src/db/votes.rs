//! Votes on comments: one per reader and comment, the counters kept in step, and a
//! reader's karma.

use diesel::prelude::*;

use super::comments::{lock_for_write, locked, CommentError};
use super::connection::write_transaction_retrying;
use super::schema::{comment_votes, comments};
use super::{now, DbConn};
use crate::domain::permissions::{self, Actor};
use crate::domain::{ArticleId, CommentId, CommentStatus, UserId};
use crate::ranking;

/// A comment's counts after a vote, and the voter's vote.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct VoteOutcome {
    pub upvotes: i32,
    pub downvotes: i32,
    pub score: i32,
    pub my_vote: i32,
    /// The comment's article.
    #[serde(skip)]
    pub article_id: ArticleId,
}

/// Sets `user_id`'s vote on a comment to `value` (1, -1, or 0 to withdraw it). The
/// counters and ranks change in the same transaction; the comment row is locked on
/// PostgreSQL (SQLite's write transaction already serialises), so simultaneous votes
/// count once.
pub fn vote(conn: &mut DbConn, comment_id: CommentId, voter: &Actor, value: i32) -> Result<VoteOutcome, CommentError> {
    debug_assert!((-1..=1).contains(&value));
    let user_id = voter.id;
    write_transaction_retrying(conn, |conn| {
        let comment = lock_for_write(conn, comment_id)?;
        let closed = locked(conn, comment.article_id)?;
        permissions::may_vote(Some(voter), &comment.facts(closed))?;
        let mine = comment_votes::table.find((comment_id, user_id));
        let existing: Option<i32> = mine.select(comment_votes::value).first(conn).optional()?;
        match (existing, value) {
            (Some(old), new) if old == new => {}
            (Some(_), 0) => {
                diesel::delete(mine).execute(conn)?;
            }
            (Some(_), new) => {
                diesel::update(mine).set(comment_votes::value.eq(new)).execute(conn)?;
            }
            (None, 0) => {}
            (None, new) => {
                diesel::insert_into(comment_votes::table)
                    .values((
                        comment_votes::comment_id.eq(comment_id),
                        comment_votes::user_id.eq(user_id),
                        comment_votes::value.eq(new),
                        comment_votes::created_at.eq(now()),
                    ))
                    .execute(conn)?;
            }
        }
        let count = |conn: &mut DbConn, v: i32| -> QueryResult<i32> {
            comment_votes::table
                .filter(comment_votes::comment_id.eq(comment_id))
                .filter(comment_votes::value.eq(v))
                .count()
                .get_result::<i64>(conn)
                .map(|n| n as i32)
        };
        let (up, down) = (count(conn, 1)?, count(conn, -1)?);
        diesel::update(comments::table.find(comment_id))
            .set((
                comments::upvotes.eq(up),
                comments::downvotes.eq(down),
                comments::rank_best.eq(ranking::wilson_lower_bound(up, down)),
                comments::rank_controversial.eq(ranking::controversy(up, down)),
            ))
            .execute(conn)?;
        if (up, down) != (comment.upvotes, comment.downvotes) {
            super::live::record(conn, comment.article_id, crate::domain::LiveKind::Votes, Some(comment_id))?;
        }
        Ok(VoteOutcome {
            upvotes: up,
            downvotes: down,
            score: up - down,
            my_vote: value,
            article_id: comment.article_id,
        })
    })
}

/// The sum of the scores of an account's visible comments.
pub fn karma(conn: &mut DbConn, user_id: UserId) -> QueryResult<i64> {
    let scores: Vec<(i32, i32)> = comments::table
        .filter(comments::author_id.eq(user_id))
        .filter(comments::status.eq(CommentStatus::Visible))
        .select((comments::upvotes, comments::downvotes))
        .load(conn)?;
    Ok(scores.into_iter().map(|(up, down)| i64::from(up - down)).sum())
}
