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

use super::schema::{articles, comments, users};
use super::DbConn;

/// Matches ranked for one search: the newest ones.
pub const CANDIDATES: i64 = 200;
/// On PostgreSQL, the newest comments looked among first (see `comments`).
const RECENT: i64 = 5_000;

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
    // As for comments: the newest matches, ranked; snippets for the page only.
    let page: Vec<(i64, String)> = match conn {
        DbConn::Sqlite(_) => {
            let candidates: Vec<Candidate> = diesel::sql_query(
                "SELECT a.id, substr(a.search_document, 1, 20000) AS text \
                 FROM fts_articles CROSS JOIN articles a ON a.id = fts_articles.rowid \
                 WHERE fts_articles MATCH $1 ORDER BY fts_articles.rowid DESC LIMIT $2",
            )
            .bind::<Text, _>(fts5_query(words))
            .bind::<BigInt, _>(CANDIDATES)
            .load(conn)?;
            let terms = Terms::new(words);
            rank(&terms, candidates, offset, limit).into_iter().map(|c| (c.id, snippet(&terms, &c.text))).collect()
        }
        DbConn::Pg(pg) => {
            let text = words.join(" ");
            let page = ranked_page(newest_matches(pg, Vectors::Articles, &text)?, offset, limit);
            let mut snippets: std::collections::HashMap<i64, String> = diesel::sql_query(
                "SELECT a.id, ts_headline('english', a.search_document, plainto_tsquery('english', $1), \
                        'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) || ', MaxWords=35, MinWords=15') AS text \
                 FROM articles a WHERE a.id = ANY($2)",
            )
            .bind::<Text, _>(&text)
            .bind::<diesel::sql_types::Array<BigInt>, _>(&page)
            .load::<Candidate>(pg)?
            .into_iter()
            .map(|c| (c.id, c.text))
            .collect();
            page.into_iter().filter_map(|id| Some((id, snippets.remove(&id)?))).collect()
        }
    };
    let ids: Vec<i64> = page.iter().map(|(id, _)| *id).collect();
    let mut rows: std::collections::HashMap<i64, (String, String)> = articles::table
        .filter(articles::id.eq_any(&ids))
        .select((articles::id, articles::slug, articles::title))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, slug, title)| (id, (slug, title)))
        .collect();
    Ok(page
        .into_iter()
        .filter_map(|(id, snippet)| {
            let (slug, title) = rows.remove(&id)?;
            Some(ArticleHit { slug, title, snippet })
        })
        .collect())
}

/// On PostgreSQL, the newest [`CANDIDATES`] rows of `table` whose vector matches `text`, each with its rank, read in one pass:
/// found by walking the newest rows' stored vectors (a common word: its 200 newest
/// matches lie among the newest thousand or so), and through the index when those hold
/// too few (a rarer word: fewer matches for the index to read). The index alone would
/// read every match of a common word first, a quarter of a million rows on a million
/// comments.
fn newest_matches(pg: &mut diesel::PgConnection, table: Vectors, text: &str) -> QueryResult<Vec<Ranked>> {
    let (recent_sql, indexed_sql) = match table {
        Vectors::Comments => (
            "SELECT f.id, ts_rank(f.vector, plainto_tsquery('english', $1)) AS score \
             FROM (SELECT id, vector FROM fts_comments ORDER BY id DESC LIMIT $2) f \
             WHERE f.vector @@ plainto_tsquery('english', $1) ORDER BY f.id DESC LIMIT $3",
            "SELECT id, ts_rank(vector, plainto_tsquery('english', $1)) AS score FROM fts_comments \
             WHERE vector @@ plainto_tsquery('english', $1) ORDER BY id + 0 DESC LIMIT $2",
        ),
        Vectors::Articles => (
            "SELECT f.id, ts_rank(f.vector, plainto_tsquery('english', $1)) AS score \
             FROM (SELECT id, vector FROM fts_articles ORDER BY id DESC LIMIT $2) f \
             WHERE f.vector @@ plainto_tsquery('english', $1) ORDER BY f.id DESC LIMIT $3",
            "SELECT id, ts_rank(vector, plainto_tsquery('english', $1)) AS score FROM fts_articles \
             WHERE vector @@ plainto_tsquery('english', $1) ORDER BY id + 0 DESC LIMIT $2",
        ),
    };
    let recent: Vec<Ranked> = diesel::sql_query(recent_sql)
        .bind::<Text, _>(text)
        .bind::<BigInt, _>(RECENT)
        .bind::<BigInt, _>(CANDIDATES)
        .load(pg)?;
    // (`id + 0`: walking the key newest first, checking each vector, looks cheap to the
    // planner and reads every row for a word nobody used.)
    if (recent.len() as i64) < CANDIDATES {
        return diesel::sql_query(indexed_sql).bind::<Text, _>(text).bind::<BigInt, _>(CANDIDATES).load(pg);
    }
    Ok(recent)
}

/// PostgreSQL's tables of stored search vectors.
#[derive(Clone, Copy)]
enum Vectors {
    /// `fts_articles`
    Articles,
    /// `fts_comments`
    Comments,
}

/// A match and its rank (PostgreSQL's `ts_rank`).
#[derive(QueryableByName)]
struct Ranked {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Float)]
    score: f32,
}

/// The ids of `offset..offset + limit` of `matches`, best first; ties go to the newer.
fn ranked_page(mut matches: Vec<Ranked>, offset: i64, limit: i64) -> Vec<i64> {
    matches.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.id.cmp(&a.id)));
    matches.into_iter().skip(offset.max(0) as usize).take(limit.max(0) as usize).map(|m| m.id).collect()
}

pub fn comments(conn: &mut DbConn, words: &[String], offset: i64, limit: i64) -> QueryResult<Vec<CommentHit>> {
    match conn {
        // The newest matches are the candidates, read with their text; they are ranked
        // and their snippets made here (see `rank` and `snippet`): FTS5's own `bm25()`
        // counts every match of each word first, and `snippet()` finds its row by
        // walking every match again, both a pass over a common word's whole posting
        // list (milliseconds on a million comments). `CROSS JOIN` keeps SQLite from
        // walking every match to join the candidates' rows.
        DbConn::Sqlite(_) => {
            let candidates: Vec<Candidate> = diesel::sql_query(
                "SELECT c.id, substr(c.body_source, 1, 20000) AS text \
                 FROM fts_comments CROSS JOIN comments c ON c.id = fts_comments.rowid \
                 WHERE fts_comments MATCH $1 AND c.status = 'visible' \
                 ORDER BY fts_comments.rowid DESC LIMIT $2",
            )
            .bind::<Text, _>(fts5_query(words))
            .bind::<BigInt, _>(CANDIDATES)
            .load(conn)?;
            let terms = Terms::new(words);
            let page = rank(&terms, candidates, offset, limit);
            let ids: Vec<CommentId> = page.iter().map(|c| CommentId(c.id)).collect();
            let rows: Vec<(CommentId, String, String, Option<String>)> = comments::table
                .inner_join(articles::table)
                .inner_join(users::table)
                .filter(comments::id.eq_any(&ids))
                .select((
                    comments::id,
                    articles::slug,
                    articles::title,
                    diesel::dsl::case_when(users::deleted_at.is_null(), users::username.nullable()),
                ))
                .load(conn)?;
            let mut rows: std::collections::HashMap<CommentId, (String, String, Option<String>)> =
                rows.into_iter().map(|(id, slug, title, author)| (id, (slug, title, author))).collect();
            Ok(page
                .into_iter()
                .filter_map(|c| {
                    let (slug, title, author) = rows.remove(&CommentId(c.id))?;
                    Some(CommentHit {
                        comment_id: CommentId(c.id),
                        slug,
                        title,
                        author,
                        snippet: snippet(&terms, &c.text),
                    })
                })
                .collect())
        }
        DbConn::Pg(pg) => {
            let text = words.join(" ");
            let page = ranked_page(newest_matches(pg, Vectors::Comments, &text)?, offset, limit);
            let mut hits: std::collections::HashMap<CommentId, CommentHit> = diesel::sql_query(
                "SELECT c.id AS comment_id, a.slug, a.title, \
                        CASE WHEN u.deleted_at IS NULL THEN u.username END AS author, \
                        ts_headline('english', c.body_source, plainto_tsquery('english', $1), \
                            'StartSel=' || chr(57344) || ', StopSel=' || chr(57345) || ', MaxWords=35, MinWords=15') AS snippet \
                 FROM comments c \
                 JOIN articles a ON a.id = c.article_id \
                 JOIN users u ON u.id = c.author_id \
                 WHERE c.id = ANY($2) AND c.status = 'visible'",
            )
            .bind::<Text, _>(&text)
            .bind::<diesel::sql_types::Array<BigInt>, _>(&page)
            .load::<CommentHit>(pg)?
            .into_iter()
            .map(|hit| (hit.comment_id, hit))
            .collect();
            Ok(page.into_iter().filter_map(|id| hits.remove(&CommentId(id))).collect())
        }
    }
}

/// A comment that matched, with its text.
#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    text: String,
}

/// Words per snippet, as FTS5's `snippet()` was asked for.
const SNIPPET_WORDS: usize = 24;

/// The words searched for, as the index compares them: stemmed (the index uses the
/// Porter stemmer; this is its successor, which agrees on nearly every English word),
/// and as typed.
struct Terms {
    stemmer: rust_stemmers::Stemmer,
    words: Vec<String>,
    stems: Vec<String>,
}

impl Terms {
    fn new(words: &[String]) -> Terms {
        let stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
        let words: Vec<String> = words.iter().map(|w| fold(w)).collect();
        let stems = words.iter().map(|w| stemmer.stem(w).into_owned()).collect();
        Terms { stemmer, words, stems }
    }

    /// Which searched word `token` (one word of a text) is, if any.
    fn find(&self, token: &str) -> Option<usize> {
        // Most words of a text start with another letter than every searched word (the
        // stemmer leaves a word's first letter as it is): they are passed over without
        // being folded or stemmed.
        if let Some(first) = token.chars().next().filter(char::is_ascii) {
            let first = first.to_ascii_lowercase();
            if !self.stems.iter().chain(&self.words).any(|w| w.starts_with(first)) {
                return None;
            }
        }
        let token = fold(token);
        if let Some(i) = self.words.iter().position(|w| *w == token) {
            return Some(i);
        }
        let stem = self.stemmer.stem(&token);
        self.stems.iter().position(|s| *s == stem)
    }
}

/// A word as the index compares it: lower case, without accents ("Café" is "cafe"), as
/// FTS5's `unicode61` tokenizer folds it.
fn fold(word: &str) -> String {
    use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
    word.nfd().filter(|c| !is_combining_mark(*c)).collect::<String>().to_lowercase()
}

/// The words of `text` (runs of letters and digits) with their places.
fn tokens(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(move |t| (t.as_ptr() as usize - text.as_ptr() as usize, t))
}

/// The page `offset..offset + limit` of `candidates` ranked by BM25 without its
/// inverse document frequency: every candidate holds every word, and among them the
/// better match holds the words more often for its length. Ties go to the newer.
fn rank(terms: &Terms, candidates: Vec<Candidate>, offset: i64, limit: i64) -> Vec<Candidate> {
    const K1: f64 = 1.2;
    const B: f64 = 0.75;
    let counted: Vec<(Vec<u32>, usize)> = candidates
        .iter()
        .map(|c| {
            let mut frequencies = vec![0u32; terms.words.len()];
            let mut length = 0;
            for (_, token) in tokens(&c.text) {
                length += 1;
                if let Some(i) = terms.find(token) {
                    frequencies[i] += 1;
                }
            }
            (frequencies, length)
        })
        .collect();
    let average = (counted.iter().map(|(_, l)| *l).sum::<usize>() as f64 / counted.len().max(1) as f64).max(1.0);
    let mut scored: Vec<(f64, Candidate)> = candidates
        .into_iter()
        .zip(&counted)
        .map(|(c, (frequencies, length))| {
            let norm = K1 * (1.0 - B + B * *length as f64 / average);
            let score = frequencies.iter().map(|&f| f64::from(f) * (K1 + 1.0) / (f64::from(f) + norm)).sum::<f64>();
            (score, c)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.id.cmp(&a.1.id)));
    scored.into_iter().skip(offset.max(0) as usize).take(limit.max(0) as usize).map(|(_, c)| c).collect()
}

/// About [`SNIPPET_WORDS`] words of `text` around its best place (the window holding
/// the most searched words, the first such, begun a few words before its first match),
/// the searched words marked, "…" where the text goes on.
fn snippet(terms: &Terms, text: &str) -> String {
    let all: Vec<(usize, &str, bool)> = tokens(text).map(|(at, t)| (at, t, terms.find(t).is_some())).collect();
    if all.is_empty() {
        return text.chars().take(200).collect();
    }
    let width = SNIPPET_WORDS.min(all.len());
    let mut best = (0, 0);
    let mut hits = all[..width].iter().filter(|t| t.2).count();
    best.1 = hits;
    for start in 1..=all.len() - width {
        hits = hits + usize::from(all[start + width - 1].2) - usize::from(all[start - 1].2);
        if hits > best.1 {
            best = (start, hits);
        }
    }
    // Some words before the first match, as a reader wants them, if no match is lost.
    if let Some(first) = all[best.0..best.0 + width].iter().position(|t| t.2) {
        let start = (best.0 + first).saturating_sub(width / 4).max(best.0).min(all.len() - width);
        if all[start..start + width].iter().filter(|t| t.2).count() == best.1 {
            best.0 = start;
        }
    }
    let window = &all[best.0..best.0 + width];
    let from = if best.0 == 0 { 0 } else { window[0].0 };
    let last = window[window.len() - 1];
    let to = if best.0 + width == all.len() { text.len() } else { last.0 + last.1.len() };
    let mut out = String::with_capacity(to - from + 16);
    if from > 0 {
        out.push('…');
    }
    let mut at = from;
    for (place, token, hit) in window {
        if !*hit {
            continue;
        }
        out.push_str(&text[at..*place]);
        out.push(MARK_START);
        out.push_str(token);
        out.push(MARK_END);
        at = place + token.len();
    }
    out.push_str(&text[at..to]);
    if to < text.len() {
        out.push('…');
    }
    out
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

    fn marked(s: &str) -> String {
        s.replace(MARK_START, "[").replace(MARK_END, "]")
    }

    #[test]
    fn words_are_found_whatever_their_case_accents_or_ending() {
        let terms = Terms::new(&["privacy".to_owned(), "école".to_owned()]);
        for (token, found) in [
            ("Privacy", Some(0)),
            ("PRIVACIES", Some(0)),
            ("private", None),
            ("Ecole", Some(1)),
            ("École", Some(1)),
            ("écoles", Some(1)),
            ("policy", None),
        ] {
            assert_eq!(terms.find(token), found, "{token}");
        }
    }

    #[test]
    fn snippets_mark_the_words_and_their_other_forms() {
        let terms = Terms::new(&words("privacy run"));
        assert_eq!(marked(&snippet(&terms, "Privacy matters; I was running.")), "[Privacy] matters; I was [running].");
        let long = format!("{} the privacy part {}", "word ".repeat(100), "more ".repeat(100));
        let cut = marked(&snippet(&terms, &long));
        assert!(cut.starts_with('…') && cut.ends_with('…') && cut.contains("the [privacy] part"), "{cut}");
        assert_eq!(cut.split_whitespace().count(), SNIPPET_WORDS, "{cut}");
        assert!(cut.starts_with("…word word word word word "), "some words before the match: {cut}");
        assert_eq!(marked(&snippet(&terms, "Nothing here")), "Nothing here");
        let accented = Terms::new(&words("cafe Zoë"));
        assert_eq!(marked(&snippet(&accented, "Le Café de zoe")), "Le [Café] de [zoe]");
        assert_eq!(marked(&snippet(&terms, "¡¿ !")), "¡¿ !");
    }

    #[test]
    fn the_better_match_ranks_first_and_ties_go_to_the_newer() {
        let terms = Terms::new(&words("privacy"));
        let c = |id: i64, text: &str| Candidate { id, text: text.to_owned() };
        let candidates = vec![
            c(4, "privacy, and a great many other words besides, in a long comment about nothing much"),
            c(3, "privacy privacy"),
            c(2, "privacy here"),
            c(1, "privacy here"),
        ];
        let ranked: Vec<i64> = rank(&terms, candidates, 0, 10).iter().map(|c| c.id).collect();
        assert_eq!(ranked, [3, 2, 1, 4]);
        let candidates = vec![c(2, "privacy"), c(1, "privacy")];
        let page: Vec<i64> = rank(&terms, candidates, 1, 1).iter().map(|c| c.id).collect();
        assert_eq!(page, [1]);
    }
}
