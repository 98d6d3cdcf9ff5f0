//! Full-text search over articles (title, summary, takeaways) and visible comments:
//! SQLite FTS5, or PostgreSQL's text search, behind one function.
//!
//! A search ranks the newest [`CANDIDATES`] matches, not all of them: a common word
//! matches a large share of a big site, and ranking every match costs a pass over them
//! all (a second and more on a million comments). Snippets are made for the page shown.
//!
//! Snippets mark matched words with `MARK_START` and `MARK_END`; views escape the text
//! and turn the marks into `<mark>`.

use crate::domain::CommentId;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::DbConn;

/// Matches ranked for one search: the newest ones.
pub const CANDIDATES: i64 = 200;
/// On PostgreSQL, the newest comments looked among first (see `comments`).
const RECENT: i64 = 20_000;

pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';

#[derive(Debug, Clone, QueryableByName)]
pub struct ArticleHit {
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Text)]
    pub snippet: String,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct CommentHit {
    #[diesel(sql_type = BigInt)]
    pub comment_id: CommentId,
    #[diesel(sql_type = Text)]
    pub slug: String,
    #[diesel(sql_type = Text)]
    pub title: String,
    /// `None` when the account was deleted.
    #[diesel(sql_type = Nullable<Text>)]
    pub author: Option<String>,
    #[diesel(sql_type = Text)]
    pub snippet: String,
}

/// The words of a query: letters and digits, at most ten of them.
pub fn words(query: &str) -> Vec<String> {
    query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(10).map(str::to_lowercase).collect()
}

/// Articles matching every word, best first.
pub fn articles(conn: &mut DbConn, words: &[String], offset: i64, limit: i64) -> QueryResult<Vec<ArticleHit>> {
    match conn {
        // As for comments: the newest matches, ranked; snippets for the page only.
        DbConn::Sqlite(_) => diesel::sql_query(
            "WITH candidates AS MATERIALIZED ( \
                SELECT rowid AS id, bm25(fts_articles) AS score FROM fts_articles \
                WHERE fts_articles MATCH $1 ORDER BY rowid DESC LIMIT $2), \
             page AS MATERIALIZED ( \
                SELECT id, score FROM candidates ORDER BY score, id DESC LIMIT $3 OFFSET $4) \
             SELECT a.slug, a.title, \
                    snippet(fts_articles, 0, char(57344), char(57345), '…', 24) AS snippet \
             FROM page \
             CROSS JOIN fts_articles ON fts_articles.rowid = page.id \
             JOIN articles a ON a.id = page.id \
             WHERE fts_articles MATCH $1 \
             ORDER BY page.score, page.id DESC",
        )
        .bind::<Text, _>(fts5_query(words))
        .bind::<BigInt, _>(CANDIDATES)
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset)
        .load(conn),
        DbConn::Pg(_) => diesel::sql_query(
            "WITH candidates AS MATERIALIZED ( \
                SELECT a.id FROM articles a \
                WHERE to_tsvector('english', a.search_document) @@ plainto_tsquery('english', $1) \
                ORDER BY a.id + 0 DESC LIMIT $2), \
             page AS MATERIALIZED ( \
                SELECT a.id, ts_rank(to_tsvector('english', a.search_document), plainto_tsquery('english', $1)) AS score \
                FROM candidates JOIN articles a ON a.id = candidates.id \
                ORDER BY score DESC, a.id DESC LIMIT $3 OFFSET $4) \
             SELECT a.slug, a.title, \
                    ts_headline('english', a.search_document, plainto_tsquery('english', $1), \
                        'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) || ', MaxWords=35, MinWords=15') AS snippet \
             FROM page JOIN articles a ON a.id = page.id \
             ORDER BY page.score DESC, page.id DESC",
        )
        .bind::<Text, _>(words.join(" "))
        .bind::<BigInt, _>(CANDIDATES)
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset)
        .load(conn),
    }
}

pub fn comments(conn: &mut DbConn, words: &[String], offset: i64, limit: i64) -> QueryResult<Vec<CommentHit>> {
    match conn {
        // The newest matches are the candidates, ranked among themselves; the snippet is
        // made for the page shown only. `CROSS JOIN` keeps SQLite from walking every
        // match to join the page's few rows. (SQLite numbers `$n` parameters in the order
        // they first appear, so they appear in order.)
        DbConn::Sqlite(_) => diesel::sql_query(
            "WITH candidates AS MATERIALIZED ( \
                SELECT fts_comments.rowid AS id, bm25(fts_comments) AS score \
                FROM fts_comments CROSS JOIN comments c ON c.id = fts_comments.rowid \
                WHERE fts_comments MATCH $1 AND c.status = 'visible' \
                ORDER BY fts_comments.rowid DESC LIMIT $2), \
             page AS MATERIALIZED ( \
                SELECT id, score FROM candidates ORDER BY score, id DESC LIMIT $3 OFFSET $4) \
             SELECT c.id AS comment_id, a.slug, a.title, \
                    CASE WHEN u.deleted_at IS NULL THEN u.username END AS author, \
                    snippet(fts_comments, 0, char(57344), char(57345), '…', 24) AS snippet \
             FROM page \
             CROSS JOIN fts_comments ON fts_comments.rowid = page.id \
             JOIN comments c ON c.id = page.id \
             JOIN articles a ON a.id = c.article_id \
             JOIN users u ON u.id = c.author_id \
             WHERE fts_comments MATCH $1 \
             ORDER BY page.score, page.id DESC",
        )
        .bind::<Text, _>(fts5_query(words))
        .bind::<BigInt, _>(CANDIDATES)
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset)
        .load(conn),
        DbConn::Pg(pg) => {
            let text = words.join(" ");
            // A common word matches a large share of the comments, and reading them all
            // (the heap pages the index points to) is what costs: look among the newest
            // comments first, and at all of them only when those hold too few matches.
            let recent: Vec<Id> = diesel::sql_query(
                "SELECT c.id FROM comments c \
                 WHERE c.status = 'visible' \
                   AND c.id > (SELECT COALESCE(MAX(id), 0) FROM comments) - $2 \
                   AND to_tsvector('english', c.body_source) @@ plainto_tsquery('english', $1) \
                 ORDER BY c.id + 0 DESC LIMIT $3",
            )
            .bind::<Text, _>(&text)
            .bind::<BigInt, _>(RECENT)
            .bind::<BigInt, _>(CANDIDATES)
            .load(pg)?;
            // Without the window the index alone finds them (a rarer word: fewer rows).
            // (`id + 0`: walking the primary key newest first, checking each comment,
            // looks cheap to the planner and takes minutes for a word nobody used.)
            let found: Vec<Id> = if (recent.len() as i64) < CANDIDATES {
                diesel::sql_query(
                    "SELECT c.id FROM comments c \
                     WHERE c.status = 'visible' \
                       AND to_tsvector('english', c.body_source) @@ plainto_tsquery('english', $1) \
                     ORDER BY c.id + 0 DESC LIMIT $2",
                )
                .bind::<Text, _>(&text)
                .bind::<BigInt, _>(CANDIDATES)
                .load(pg)?
            } else {
                recent
            };
            let candidates: Vec<CommentId> = found.into_iter().map(|r| r.id).collect();
            diesel::sql_query(
                "WITH page AS MATERIALIZED ( \
                    SELECT c.id, ts_rank(to_tsvector('english', c.body_source), plainto_tsquery('english', $1)) AS score \
                    FROM comments c WHERE c.id = ANY($2) \
                    ORDER BY score DESC, c.id DESC LIMIT $3 OFFSET $4) \
                 SELECT c.id AS comment_id, a.slug, a.title, \
                        CASE WHEN u.deleted_at IS NULL THEN u.username END AS author, \
                        ts_headline('english', c.body_source, plainto_tsquery('english', $1), \
                            'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) || ', MaxWords=35, MinWords=15') AS snippet \
                 FROM page \
                 JOIN comments c ON c.id = page.id \
                 JOIN articles a ON a.id = c.article_id \
                 JOIN users u ON u.id = c.author_id \
                 ORDER BY page.score DESC, page.id DESC",
            )
            .bind::<Text, _>(&text)
            .bind::<diesel::sql_types::Array<BigInt>, _>(candidates)
            .bind::<BigInt, _>(limit)
            .bind::<BigInt, _>(offset)
            .load(pg)
        }
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: CommentId,
}

fn fts5_query(words: &[String]) -> String {
    words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_plain() {
        assert_eq!(
            words("Netflix AND \"inbox\" OR -meta* NEAR(x)"),
            ["netflix", "and", "inbox", "or", "meta", "near", "x"]
        );
        assert!(words(" !!! ").is_empty());
        assert_eq!(words(&"a ".repeat(50)).len(), 10);
        assert_eq!(fts5_query(&words("titan api")), "\"titan\" \"api\"");
    }
}
