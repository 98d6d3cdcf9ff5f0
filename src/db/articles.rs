//! Articles, their takeaways and tags.

use crate::domain::ArticleId;
use std::collections::HashSet;

use diesel::prelude::*;
use time::{Date, PrimitiveDateTime};

use super::schema::{article_tags, article_takeaways, articles};
use super::{now, write_transaction, DbConn};
use crate::import::{slugify, NewArticle};

/// An article row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct Article {
    pub id: ArticleId,
    pub slug: String,
    pub title: String,
    pub source_url: String,
    pub source_name: String,
    pub published_at: Date,
    pub summary: String,
    pub comment_count: i32,
    pub comments_locked: bool,
    pub created_at: PrimitiveDateTime,
    pub updated_at: PrimitiveDateTime,
    pub lock_reason: Option<String>,
}

impl Article {
    /// Summary paragraphs, in order.
    pub fn paragraphs(&self) -> impl Iterator<Item = &str> {
        self.summary.split("\n\n").filter(|p| !p.is_empty())
    }
}

/// An article as the lists show it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct ArticleListItem {
    pub id: ArticleId,
    pub slug: String,
    pub title: String,
    pub source_name: String,
    pub published_at: Date,
    pub comment_count: i32,
}

/// An article with everything its page shows.
#[derive(Debug, Clone)]
pub struct ArticlePage {
    pub article: Article,
    pub takeaways: Vec<String>,
    pub tags: Vec<String>,
    /// The published comments quoting each takeaway (see `takeaways::counts`).
    pub takeaway_counts: Vec<i64>,
    /// Each takeaway's most useful comment, when its page asked for them
    /// ([`page_by_slug`]); empty otherwise.
    pub most_useful: Vec<Option<super::comments::ThreadComment>>,
}

/// The article `slug` as its page shows it: with each takeaway's most useful comment.
pub fn page_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<ArticlePage>> {
    let Some(mut page) = find_by_slug(conn, slug)? else { return Ok(None) };
    page.most_useful = super::takeaways::most_useful(conn, page.article.id, &page.takeaway_counts)?;
    Ok(Some(page))
}

/// A page of articles, newest first, each with its first takeaway. One query.
pub fn list_newest(conn: &mut DbConn, offset: i64, limit: i64) -> QueryResult<Vec<(ArticleListItem, Option<String>)>> {
    articles::table
        .left_join(
            article_takeaways::table
                .on(article_takeaways::article_id.eq(articles::id).and(article_takeaways::position.eq(0))),
        )
        .order((articles::published_at.desc(), articles::id.desc()))
        .offset(offset)
        .limit(limit)
        .select((ArticleListItem::as_select(), article_takeaways::body.nullable()))
        .load(conn)
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    articles::table.count().get_result(conn)
}

pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<ArticlePage>> {
    let Some(article) =
        articles::table.filter(articles::slug.eq(slug)).select(Article::as_select()).first(conn).optional()?
    else {
        return Ok(None);
    };
    let takeaways = article_takeaways::table
        .filter(article_takeaways::article_id.eq(article.id))
        .order(article_takeaways::position)
        .select(article_takeaways::body)
        .load(conn)?;
    let tags = article_tags::table
        .filter(article_tags::article_id.eq(article.id))
        .order(article_tags::tag)
        .select(article_tags::tag)
        .load(conn)?;
    let takeaway_counts = super::takeaways::counts(conn, article.id, takeaways.len())?;
    Ok(Some(ArticlePage { article, takeaways, tags, takeaway_counts, most_useful: Vec::new() }))
}

/// How many key takeaways an article has.
pub fn takeaway_count(conn: &mut DbConn, id: ArticleId) -> QueryResult<i64> {
    article_takeaways::table.filter(article_takeaways::article_id.eq(id)).count().get_result(conn)
}

/// What an import did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl ImportSummary {
    /// How the moderation log names an import.
    pub fn log_label(&self) -> String {
        format!("{} created, {} updated", self.created, self.updated)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UpsertError {
    #[error("record at index {index}: {reason}")]
    Conflict { index: usize, reason: String },
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Creates or updates every article in one write transaction: all or nothing.
///
/// An article is matched by its explicit slug when it has one, else by source URL and
/// title. A matched article keeps its slug. `progress` is called after each record.
pub fn upsert_all(
    conn: &mut DbConn,
    items: &[NewArticle],
    progress: &mut dyn FnMut(usize),
) -> Result<ImportSummary, UpsertError> {
    write_transaction(conn, |conn| upsert_each(conn, items, progress))
}

/// [`upsert_all`] for the command line on the server: the import is written to the
/// moderation log in the same transaction.
pub fn import_from_command_line(
    conn: &mut DbConn,
    items: &[NewArticle],
    progress: &mut dyn FnMut(usize),
) -> Result<ImportSummary, UpsertError> {
    write_transaction(conn, |conn| {
        let summary = upsert_each(conn, items, progress)?;
        super::moderation::log_command_line_import(conn, &summary.log_label())?;
        Ok(summary)
    })
}

/// Loads the demo articles into a database that has never held any, once: a flag in
/// `settings` remembers that it was done. Returns `None` when nothing was loaded.
pub fn seed_demo(conn: &mut DbConn, items: &[NewArticle]) -> Result<Option<ImportSummary>, UpsertError> {
    const FLAG: &str = "demo_loaded_at";
    write_transaction(conn, |conn| {
        if super::settings::get(conn, FLAG)?.is_some() || count(conn)? > 0 {
            return Ok(None);
        }
        let summary = upsert_each(conn, items, &mut |_| {})?;
        super::settings::set(conn, FLAG, &now().to_string())?;
        Ok(Some(summary))
    })
}

fn upsert_each(
    conn: &mut DbConn,
    items: &[NewArticle],
    progress: &mut dyn FnMut(usize),
) -> Result<ImportSummary, UpsertError> {
    let mut summary = ImportSummary::default();
    for (index, item) in items.iter().enumerate() {
        match upsert_one(conn, index, item)? {
            Outcome::Created => summary.created += 1,
            Outcome::Updated => summary.updated += 1,
            Outcome::Unchanged => summary.unchanged += 1,
        }
        progress(index + 1);
    }
    Ok(summary)
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// What search looks through: title, summary and takeaways.
fn search_document(item: &NewArticle) -> String {
    let mut parts = vec![item.title.as_str()];
    parts.extend(item.summary.iter().map(String::as_str));
    parts.extend(item.takeaways.iter().map(String::as_str));
    parts.join(" ")
}

fn upsert_one(conn: &mut DbConn, index: usize, item: &NewArticle) -> Result<Outcome, UpsertError> {
    let by_key = articles::table
        .filter(articles::source_url.eq(&item.source_url))
        .filter(articles::title.eq(&item.title))
        .select(Article::as_select())
        .first(conn)
        .optional()?;
    let existing = match &item.slug {
        Some(slug) => {
            let by_slug =
                articles::table.filter(articles::slug.eq(slug)).select(Article::as_select()).first(conn).optional()?;
            if let (None, Some(other)) = (&by_slug, &by_key) {
                return Err(UpsertError::Conflict {
                    index,
                    reason: format!(
                        "slug {slug:?} is new, but an article with this title and source_url exists as {:?}",
                        other.slug
                    ),
                });
            }
            by_slug
        }
        None => by_key,
    };

    let summary_text = item.summary.join("\n\n");
    let Some(existing) = existing else {
        insert(conn, item)?;
        return Ok(Outcome::Created);
    };

    let takeaways: Vec<String> = article_takeaways::table
        .filter(article_takeaways::article_id.eq(existing.id))
        .order(article_takeaways::position)
        .select(article_takeaways::body)
        .load(conn)?;
    let tags: Vec<String> = article_tags::table
        .filter(article_tags::article_id.eq(existing.id))
        .order(article_tags::tag)
        .select(article_tags::tag)
        .load(conn)?;
    let same = existing.title == item.title
        && existing.source_url == item.source_url
        && existing.source_name == item.source_name
        && existing.published_at == item.published_at
        && existing.summary == summary_text
        && takeaways == item.takeaways
        && tags == item.tags;
    if same {
        return Ok(Outcome::Unchanged);
    }
    overwrite(conn, existing.id, item)?;
    Ok(Outcome::Updated)
}

/// Inserts a new article with a free slug; returns (id, slug).
fn insert(conn: &mut DbConn, item: &NewArticle) -> QueryResult<(ArticleId, String)> {
    let slug = match &item.slug {
        Some(slug) => slug.clone(),
        None => unique_slug(conn, &slugify(&item.title))?,
    };
    let now = now();
    let id: ArticleId = diesel::insert_into(articles::table)
        .values((
            articles::slug.eq(&slug),
            articles::title.eq(&item.title),
            articles::source_url.eq(&item.source_url),
            articles::source_name.eq(&item.source_name),
            articles::published_at.eq(item.published_at),
            articles::summary.eq(item.summary.join("\n\n")),
            articles::search_document.eq(search_document(item)),
            articles::created_at.eq(now),
            articles::updated_at.eq(now),
        ))
        .returning(articles::id)
        .get_result(conn)?;
    replace_children(conn, id, item)?;
    Ok((id, slug))
}

/// Creates the article of a thread imported from another system: its title and
/// address, no summary or takeaways yet (an administrator adds them). Inside the
/// import's transaction.
pub(crate) fn insert_imported(
    conn: &mut DbConn,
    title: &str,
    source_url: &str,
    source_name: &str,
    published_at: time::Date,
) -> QueryResult<(ArticleId, String)> {
    let item = NewArticle {
        slug: None,
        title: title.to_owned(),
        source_url: source_url.to_owned(),
        source_name: source_name.to_owned(),
        published_at,
        summary: Vec::new(),
        takeaways: Vec::new(),
        tags: Vec::new(),
    };
    insert(conn, &item)
}

/// Replaces an article's content; its slug stays.
fn overwrite(conn: &mut DbConn, id: ArticleId, item: &NewArticle) -> QueryResult<()> {
    diesel::update(articles::table.find(id))
        .set((
            articles::title.eq(&item.title),
            articles::source_url.eq(&item.source_url),
            articles::source_name.eq(&item.source_name),
            articles::published_at.eq(item.published_at),
            articles::summary.eq(item.summary.join("\n\n")),
            articles::search_document.eq(search_document(item)),
            articles::updated_at.eq(now()),
        ))
        .execute(conn)?;
    replace_children(conn, id, item)
}

/// Another article with the same title and source URL, if any.
fn same_key(conn: &mut DbConn, item: &NewArticle, except: Option<ArticleId>) -> QueryResult<Option<String>> {
    articles::table
        .filter(articles::source_url.eq(&item.source_url))
        .filter(articles::title.eq(&item.title))
        .filter(articles::id.ne(except.unwrap_or(ArticleId(-1))))
        .select(articles::slug)
        .first(conn)
        .optional()
}

/// Creates an article from the administrators' form; returns (id, slug).
pub fn create(conn: &mut DbConn, item: &NewArticle) -> Result<(ArticleId, String), UpsertError> {
    write_transaction(conn, |conn| {
        if let Some(slug) = same_key(conn, item, None)? {
            return Err(UpsertError::Conflict {
                index: 0,
                reason: format!("an article with this title and source URL exists: {slug}"),
            });
        }
        Ok(insert(conn, item)?)
    })
}

/// Edits an article from the administrators' form.
pub fn update(conn: &mut DbConn, id: ArticleId, item: &NewArticle) -> Result<(), UpsertError> {
    write_transaction(conn, |conn| {
        if let Some(slug) = same_key(conn, item, Some(id))? {
            return Err(UpsertError::Conflict {
                index: 0,
                reason: format!("an article with this title and source URL exists: {slug}"),
            });
        }
        Ok(overwrite(conn, id, item)?)
    })
}

/// Deletes an article with its comments, votes, reports and saves.
pub fn delete(conn: &mut DbConn, id: ArticleId) -> QueryResult<usize> {
    write_transaction(conn, |conn| {
        // Replies first: a comment's parent must outlive it.
        let mut depth: Option<i32> = super::schema::comments::table
            .filter(super::schema::comments::article_id.eq(id))
            .select(diesel::dsl::max(super::schema::comments::depth))
            .first(conn)?;
        while let Some(d) = depth {
            diesel::delete(
                super::schema::comments::table
                    .filter(super::schema::comments::article_id.eq(id))
                    .filter(super::schema::comments::depth.eq(d)),
            )
            .execute(conn)?;
            depth = if d > 0 { Some(d - 1) } else { None };
        }
        diesel::delete(articles::table.find(id)).execute(conn)
    })
}

fn replace_children(conn: &mut DbConn, id: ArticleId, item: &NewArticle) -> QueryResult<()> {
    diesel::delete(article_takeaways::table.filter(article_takeaways::article_id.eq(id))).execute(conn)?;
    diesel::delete(article_tags::table.filter(article_tags::article_id.eq(id))).execute(conn)?;
    // One statement per row: MultiConnection has no batch insert. A few rows at most.
    for (position, body) in item.takeaways.iter().enumerate() {
        diesel::insert_into(article_takeaways::table)
            .values((
                article_takeaways::article_id.eq(id),
                article_takeaways::position.eq(position as i32),
                article_takeaways::body.eq(body),
            ))
            .execute(conn)?;
    }
    for tag in &item.tags {
        diesel::insert_into(article_tags::table)
            .values((article_tags::article_id.eq(id), article_tags::tag.eq(tag)))
            .execute(conn)?;
    }
    Ok(())
}

/// `base`, or `base-2`, `base-3` … whichever is free.
fn unique_slug(conn: &mut DbConn, base: &str) -> QueryResult<String> {
    let taken: HashSet<String> = articles::table
        .filter(articles::slug.eq(base).or(articles::slug.like(format!("{base}-%"))))
        .select(articles::slug)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    if !taken.contains(base) {
        return Ok(base.to_owned());
    }
    Ok((2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken.contains(candidate))
        .expect("an unbounded range has a free number"))
}

/// Id, title and whether comments are closed, by slug.
pub fn find_basic(conn: &mut DbConn, slug: &str) -> QueryResult<Option<(ArticleId, String, bool)>> {
    articles::table
        .filter(articles::slug.eq(slug))
        .select((articles::id, articles::title, articles::comments_locked))
        .first(conn)
        .optional()
}

/// The newest articles with everything a feed shows.
pub fn newest_full(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Article>> {
    articles::table
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(limit)
        .select(Article::as_select())
        .load(conn)
}

/// An article as the API's lists show it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct ArticleLink {
    pub id: ArticleId,
    pub slug: String,
    pub title: String,
    pub source_url: String,
    pub source_name: String,
    pub published_at: Date,
    pub comment_count: i32,
}

/// Up to `limit` articles, newest first as the front page orders them (publication
/// date, then id; the `articles_newest` index), from after `after` (the date and id of
/// the last one of the page before): articles added meanwhile neither repeat nor shift
/// the rest.
pub fn newest_after(conn: &mut DbConn, after: Option<(Date, ArticleId)>, limit: i64) -> QueryResult<Vec<ArticleLink>> {
    let mut query = articles::table
        .order((articles::published_at.desc(), articles::id.desc()))
        .limit(limit)
        .select(ArticleLink::as_select())
        .into_boxed();
    if let Some((date, id)) = after {
        query =
            query.filter(articles::published_at.lt(date).or(articles::published_at.eq(date).and(articles::id.lt(id))));
    }
    query.load(conn)
}

/// The article whose source is `url` (the newest one, should several share it).
pub fn find_by_source_url(conn: &mut DbConn, url: &str) -> QueryResult<Option<ArticlePage>> {
    let slug: Option<String> = articles::table
        .filter(articles::source_url.eq(url))
        .order((articles::published_at.desc(), articles::id.desc()))
        .select(articles::slug)
        .first(conn)
        .optional()?;
    match slug {
        Some(slug) => find_by_slug(conn, &slug),
        None => Ok(None),
    }
}

/// For each article source URL of `urls` that has one: (source URL, slug, published
/// comments) of its article, the newest when several share the URL. One query, read
/// along the `(source_url, title)` index; at most one row per URL asked.
pub fn counts_by_source_url(conn: &mut DbConn, urls: &[String]) -> QueryResult<Vec<(String, String, i32)>> {
    let newer = diesel::alias!(articles as newer);
    articles::table
        .filter(articles::source_url.eq_any(urls))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            newer
                .filter(newer.field(articles::source_url).eq(articles::source_url))
                .filter(
                    newer.field(articles::published_at).gt(articles::published_at).or(newer
                        .field(articles::published_at)
                        .eq(articles::published_at)
                        .and(newer.field(articles::id).gt(articles::id))),
                )
                .select(newer.field(articles::id)),
        )))
        .select((articles::source_url, articles::slug, articles::comment_count))
        .load(conn)
}

/// For each slug of `slugs` that names an article: (slug, source URL, published
/// comments). One query.
pub fn counts_by_slug(conn: &mut DbConn, slugs: &[String]) -> QueryResult<Vec<(String, String, i32)>> {
    articles::table
        .filter(articles::slug.eq_any(slugs))
        .select((articles::slug, articles::source_url, articles::comment_count))
        .load(conn)
}

diesel::define_sql_function! {
    /// SQL `lower()`.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A page of every article for the administrators' list, newest first (the order of
/// the `articles_newest` index, which the page is read along), optionally only those
/// whose title holds `title` (any case; `%` and `_` are plain characters).
pub fn admin_list(conn: &mut DbConn, title: Option<&str>, offset: i64, limit: i64) -> QueryResult<Vec<Article>> {
    let mut query = articles::table
        .order((articles::published_at.desc(), articles::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(Article::as_select())
        .into_boxed();
    if let Some(title) = title {
        query = query.filter(lower(articles::title).like(super::contains_pattern(title)).escape('!'));
    }
    query.load(conn)
}
