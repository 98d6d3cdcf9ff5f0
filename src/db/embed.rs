//! What the embedded comments need of the database: the origins allowed to embed them
//! (a site setting), articles by the address of the page that embeds them, comment
//! counts by those addresses, and the short-lived tokens handed to the embed.

use diesel::prelude::*;

use super::schema::{api_tokens, articles};
use super::{now, settings, DbConn};
use crate::domain::{ArticleId, UserId};

/// The settings key of the allowed origins (one a line).
pub const ORIGINS_KEY: &str = "embed_origins";

/// The origins allowed to embed the comments, as stored (normalised, one a line).
pub fn origins(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    Ok(settings::get(conn, ORIGINS_KEY)?
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Replaces the allowed origins (already validated and normalised).
pub fn set_origins(conn: &mut DbConn, origins: &[String]) -> QueryResult<()> {
    super::write_transaction(conn, |conn| settings::set(conn, ORIGINS_KEY, &origins.join("\n")))
}

/// The article of the page at `source_url` (the first made, when several share it):
/// its id, slug, whether its comments are closed, and its published comments.
pub fn article_by_url(conn: &mut DbConn, source_url: &str) -> QueryResult<Option<(ArticleId, String, bool, i32)>> {
    articles::table
        .filter(articles::source_url.eq(source_url))
        .order(articles::id)
        .select((articles::id, articles::slug, articles::comments_locked, articles::comment_count))
        .first(conn)
        .optional()
}

/// On PostgreSQL, makes the transaction's creations of an article for `source_url`
/// take turns (two first comments at once make one article). SQLite's write
/// transactions already do.
pub fn lock_url(conn: &mut DbConn, source_url: &str) -> QueryResult<()> {
    if let DbConn::Pg(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind::<diesel::sql_types::Integer, _>(0x6177_656d_i32)
            .bind::<diesel::sql_types::Text, _>(source_url)
            .execute(conn)?;
    }
    Ok(())
}

/// For each of `urls`: the published comments and slug of its article (the first made,
/// when several share the address). One query; at most 10 articles an address are read.
pub fn counts(conn: &mut DbConn, urls: &[String]) -> QueryResult<Vec<(String, String, i32)>> {
    let rows: Vec<(String, String, i32)> = articles::table
        .filter(articles::source_url.eq_any(urls))
        .order(articles::id)
        .limit(urls.len() as i64 * 10)
        .select((articles::source_url, articles::slug, articles::comment_count))
        .load(conn)?;
    let mut first = Vec::<(String, String, i32)>::new();
    for row in rows {
        if !first.iter().any(|(u, _, _)| *u == row.0) {
            first.push(row);
        }
    }
    Ok(first)
}

/// Deletes the expired tokens of `user` (the embed's expire within hours; without this
/// they would fill the account's allowance).
pub fn delete_expired_tokens(conn: &mut DbConn, user: UserId) -> QueryResult<usize> {
    diesel::delete(
        api_tokens::table
            .filter(api_tokens::user_id.eq(user))
            .filter(api_tokens::expires_at.is_not_null())
            .filter(api_tokens::expires_at.lt(now())),
    )
    .execute(conn)
}
