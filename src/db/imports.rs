//! The writes of a comment import (`service::imports` runs them in one transaction):
//! the other system's ids, the articles of its threads, placeholder accounts for its
//! authors, and its comments with the counters posting keeps.

use diesel::prelude::*;
use sha2::{Digest, Sha256};
use time::PrimitiveDateTime;

use super::schema::{articles, comments, import_ids, users};
use super::{now, DbConn};
use crate::domain::{ArticleId, CommentId, CommentStatus, Role, UserId};

/// The password hash of a placeholder account: not a hash at all, so no password
/// matches it.
pub const NO_PASSWORD: &str = "!imported";

/// What the other system's id of a thread, comment or author points to here.
pub fn local_id(conn: &mut DbConn, source: &str, kind: &str, source_id: &str) -> QueryResult<Option<i64>> {
    import_ids::table
        .filter(import_ids::source.eq(source))
        .filter(import_ids::kind.eq(kind))
        .filter(import_ids::source_id.eq(source_id))
        .select(import_ids::local_id)
        .first(conn)
        .optional()
}

fn remember(conn: &mut DbConn, source: &str, kind: &str, source_id: &str, local: i64) -> QueryResult<()> {
    diesel::insert_into(import_ids::table)
        .values((
            import_ids::source.eq(source),
            import_ids::kind.eq(kind),
            import_ids::source_id.eq(source_id),
            import_ids::local_id.eq(local),
        ))
        .execute(conn)?;
    Ok(())
}

/// How a thread found its article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadOutcome {
    /// A new article was made for it.
    Created,
    /// An article with its address was there already.
    Matched,
    /// An earlier import of the same thread made or found it.
    Already,
}

/// The article of an imported thread: the one an earlier import linked, else the one
/// with the thread's address, else a new one titled as the thread.
pub fn thread_article(
    conn: &mut DbConn,
    source: &str,
    thread_id: &str,
    url: &str,
    title: &str,
    first_comment: PrimitiveDateTime,
) -> QueryResult<(ArticleId, ThreadOutcome)> {
    if let Some(id) = local_id(conn, source, "thread", thread_id)? {
        let exists = articles::table.find(ArticleId(id)).count().get_result::<i64>(conn)? > 0;
        if exists {
            return Ok((ArticleId(id), ThreadOutcome::Already));
        }
        diesel::delete(
            import_ids::table
                .filter(import_ids::source.eq(source))
                .filter(import_ids::kind.eq("thread"))
                .filter(import_ids::source_id.eq(thread_id)),
        )
        .execute(conn)?;
    }
    let found: Option<ArticleId> = articles::table
        .filter(articles::source_url.eq(url))
        .order(articles::id)
        .select(articles::id)
        .first(conn)
        .optional()?;
    let (id, outcome) = match found {
        Some(id) => (id, ThreadOutcome::Matched),
        None => {
            let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
            let title = if title.trim().is_empty() { url } else { title };
            let (id, _) = super::articles::insert_imported(conn, title, url, &host, first_comment.date())?;
            (id, ThreadOutcome::Created)
        }
    };
    remember(conn, source, "thread", thread_id, id.0)?;
    Ok((id, outcome))
}

/// How an imported author found their placeholder account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorOutcome {
    Created,
    /// Made by an earlier import; its name or address changed since.
    Updated,
    Unchanged,
}

/// The placeholder account of an imported author (made when missing): it has no
/// password and no address to log in with, shows `name`, and keeps the lower-cased
/// `email` only for a reader who proves it to claim the comments.
pub fn author(
    conn: &mut DbConn,
    source: &str,
    key: &str,
    name: &str,
    email: Option<&str>,
) -> QueryResult<(UserId, AuthorOutcome)> {
    let email_key = email.map(super::users::key);
    if let Some(id) = local_id(conn, source, "author", key)? {
        let current: Option<(Option<String>, Option<String>)> = users::table
            .find(UserId(id))
            .select((users::display_name, users::imported_email_key))
            .first(conn)
            .optional()?;
        let claimed: bool = users::table
            .find(UserId(id))
            .select(users::imported_from.is_null())
            .first(conn)
            .optional()?
            .unwrap_or(false);
        if claimed {
            // A reader claimed this author's comments: later ones are theirs too, and
            // their account is not the import's to rename.
            return Ok((UserId(id), AuthorOutcome::Unchanged));
        }
        if let Some((shown, known_email)) = current {
            if shown.as_deref() == Some(name) && known_email == email_key {
                return Ok((UserId(id), AuthorOutcome::Unchanged));
            }
            diesel::update(users::table.find(UserId(id)))
                .set((users::display_name.eq(Some(name)), users::imported_email_key.eq(&email_key)))
                .execute(conn)?;
            return Ok((UserId(id), AuthorOutcome::Updated));
        }
        diesel::delete(
            import_ids::table
                .filter(import_ids::source.eq(source))
                .filter(import_ids::kind.eq("author"))
                .filter(import_ids::source_id.eq(key)),
        )
        .execute(conn)?;
    }
    let digest = Sha256::digest(format!("{source}\n{key}").as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let mut username = format!("imported-{hex}");
    let mut n = 1;
    while users::table.filter(users::username_key.eq(&username)).count().get_result::<i64>(conn)? > 0 {
        n += 1;
        username = format!("imported-{hex}-{n}");
    }
    let id: UserId = diesel::insert_into(users::table)
        .values((
            users::username.eq(&username),
            users::username_key.eq(&username),
            users::password_hash.eq(NO_PASSWORD),
            users::role.eq(Role::Reader),
            users::created_at.eq(now()),
            users::display_name.eq(Some(name)),
            users::imported_from.eq(Some(source)),
            users::imported_email_key.eq(&email_key),
        ))
        .returning(users::id)
        .get_result(conn)?;
    remember(conn, source, "author", key, id.0)?;
    Ok((id, AuthorOutcome::Created))
}

/// Where a comment sits in its thread: what its replies need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub id: CommentId,
    pub article_id: ArticleId,
    pub root_id: CommentId,
    pub parent_id: Option<CommentId>,
    pub depth: i32,
}

/// The place of a comment an earlier import wrote, if it is still there.
pub fn placed(conn: &mut DbConn, id: CommentId) -> QueryResult<Option<Placed>> {
    comments::table
        .find(id)
        .select((comments::id, comments::article_id, comments::root_id, comments::parent_id, comments::depth))
        .first::<(CommentId, ArticleId, CommentId, Option<CommentId>, i32)>(conn)
        .optional()
        .map(|row| {
            row.map(|(id, article_id, root_id, parent_id, depth)| Placed { id, article_id, root_id, parent_id, depth })
        })
}

pub struct NewImported<'a> {
    pub source: &'a str,
    pub source_id: &'a str,
    pub article_id: ArticleId,
    pub author_id: UserId,
    pub parent: Option<Placed>,
    pub body_source: &'a str,
    pub body_html: &'a str,
    pub status: CommentStatus,
    pub created_at: PrimitiveDateTime,
}

/// Writes one imported comment, keeping the counters as posting does (its parent's
/// replies, its article's published comments; the search index follows the row), and
/// remembers its id in the other system. No notification and no live event: these
/// comments are history.
pub fn insert_comment(conn: &mut DbConn, new: &NewImported) -> QueryResult<Placed> {
    super::comments::lock_article(conn, new.article_id)?;
    let depth = new.parent.map_or(0, |p| p.depth + 1);
    let id: CommentId = diesel::insert_into(comments::table)
        .values((
            comments::article_id.eq(new.article_id),
            comments::author_id.eq(new.author_id),
            comments::parent_id.eq(new.parent.map(|p| p.id)),
            comments::root_id.eq(new.parent.map_or(CommentId(0), |p| p.root_id)),
            comments::depth.eq(depth),
            comments::body_source.eq(new.body_source),
            comments::body_html.eq(new.body_html),
            comments::status.eq(new.status),
            comments::created_at.eq(new.created_at),
        ))
        .returning(comments::id)
        .get_result(conn)?;
    let root_id = match new.parent {
        None => {
            diesel::update(comments::table.find(id)).set(comments::root_id.eq(id)).execute(conn)?;
            id
        }
        Some(parent) => {
            diesel::update(comments::table.find(parent.id))
                .set(comments::reply_count.eq(comments::reply_count + 1))
                .execute(conn)?;
            parent.root_id
        }
    };
    if new.status == CommentStatus::Visible {
        diesel::update(articles::table.find(new.article_id))
            .set(articles::comment_count.eq(articles::comment_count + 1))
            .execute(conn)?;
    }
    remember(conn, new.source, "comment", new.source_id, id.0)?;
    Ok(Placed { id, article_id: new.article_id, root_id, parent_id: new.parent.map(|p| p.id), depth })
}

/// How many comments imported with this address (lower-cased) await a claim.
pub fn claimable(conn: &mut DbConn, email_key: &str) -> QueryResult<i64> {
    comments::table
        .inner_join(users::table)
        .filter(users::imported_email_key.eq(email_key))
        .filter(users::imported_from.is_not_null())
        .filter(users::deleted_at.is_null())
        .count()
        .get_result(conn)
}

/// Follows a claim link: once, within its time, moves every comment imported with the
/// reader's confirmed address to the reader, and retires the placeholders (their
/// profiles go; a later import gives the same authors' comments to the reader). The
/// articles whose pages changed, or `None` when the link is not valid.
pub fn claim(conn: &mut DbConn, token_hash: &str, reader: UserId) -> QueryResult<Option<(usize, Vec<ArticleId>)>> {
    use crate::domain::TokenPurpose;
    super::write_transaction(conn, |conn| {
        if !super::users::consume_token(conn, TokenPurpose::Claim, token_hash, reader)? {
            return Ok(None);
        }
        let (email_key, verified): (Option<String>, bool) =
            users::table.find(reader).select((users::email_key, users::email_verified)).first(conn)?;
        let Some(email_key) = email_key.filter(|_| verified) else {
            return Ok(Some((0, Vec::new())));
        };
        let placeholders: Vec<UserId> = users::table
            .filter(users::imported_email_key.eq(&email_key))
            .filter(users::imported_from.is_not_null())
            .filter(users::deleted_at.is_null())
            .select(users::id)
            .load(conn)?;
        if placeholders.is_empty() {
            return Ok(Some((0, Vec::new())));
        }
        let articles: Vec<ArticleId> = comments::table
            .filter(comments::author_id.eq_any(&placeholders))
            .select(comments::article_id)
            .distinct()
            .load(conn)?;
        let moved = diesel::update(comments::table.filter(comments::author_id.eq_any(&placeholders)))
            .set(comments::author_id.eq(reader))
            .execute(conn)?;
        let ids: Vec<i64> = placeholders.iter().map(|u| u.0).collect();
        diesel::update(
            import_ids::table.filter(import_ids::kind.eq("author")).filter(import_ids::local_id.eq_any(&ids)),
        )
        .set(import_ids::local_id.eq(reader.0))
        .execute(conn)?;
        diesel::update(users::table.filter(users::id.eq_any(&placeholders)))
            .set((users::imported_email_key.eq(None::<String>), users::deleted_at.eq(Some(now()))))
            .execute(conn)?;
        Ok(Some((moved, articles)))
    })
}
