//! Loading a page of a thread within a budget: a page loads what it shows.
//!
//! A page starts from its top comments: a page of an article's top-level comments, or
//! the replies of one comment (its "more replies" page, or its own page). Under them,
//! replies are loaded a level at a time, only as deep as the page indents, at most
//! [`replies_shown`] under any one comment and at most [`BUDGET`] comments in all.
//! Under each comment the replies shown are always the first ones in the page's order,
//! so the rest are exactly those from that position on: a "more replies" link names
//! the comment and how many it skips, and following every link shows every comment
//! once.
//!
//! A page costs a fixed number of queries: the top comments, one per level (at most
//! [`LEVELS`]), one count when some replies are left out, and one for the text,
//! authors and the reader's votes of the comments shown. Each is bounded.
//!
//! Top-level comments of an article are paged by position for the ranked orders, and
//! by cursor (the last id shown) for `new` and `old`, so that comments arriving while a
//! reader pages neither repeat nor get skipped. Pinned comments lead the first page.

use std::collections::HashMap;

use diesel::prelude::*;

use super::comments::ThreadComment;
use super::schema::comments;
use super::DbConn;
use crate::domain::{ArticleId, CommentId, CommentStatus, UserId};
use crate::ranking::Sort;

/// Top comments on one page.
pub const TOP_PER_PAGE: i64 = 50;
/// Most comments one page shows, top comments included.
pub const BUDGET: usize = 500;
/// Levels of replies under a page's top comments: as deep as a page indents. Deeper
/// replies continue on their comment's own page.
pub const LEVELS: i32 = 7;
/// Most rows one level's query returns.
const LEVEL_ROWS: i64 = 2_000;

/// Replies shown under a comment at `depth` (relative to the page's top comments)
/// before a "more replies" link.
pub fn replies_shown(depth: i32) -> usize {
    if depth == 0 {
        10
    } else {
        5
    }
}

/// Where a page of an article's top-level comments starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The first page.
    First,
    /// After skipping this many (ranked orders).
    Skip(i64),
    /// After this comment (`new` and `old`).
    After(CommentId),
}

/// One page of a thread.
#[derive(Debug, Default)]
pub struct ThreadPage {
    /// Every comment shown, with its author and the reader's vote.
    pub items: Vec<ThreadComment>,
    /// The page's top comments, in order.
    pub top: Vec<CommentId>,
    /// Every comment shown; replies of one comment in the page's order.
    pub order: Vec<CommentId>,
    /// Under each comment with replies left out: how many are shown and how many are not.
    pub more: HashMap<CommentId, (usize, i64)>,
    /// Whether more top comments follow.
    pub has_more: bool,
    /// The last top comment that is not pinned: where a page after this one starts.
    pub last_unpinned: Option<CommentId>,
}

/// What a comment's row says about its place, without its text: id, parent, replies.
type Skeleton = (CommentId, Option<CommentId>, i32);

/// Held comments (awaiting approval, not approved) show only to their author.
macro_rules! shown_to {
    ($viewer:expr) => {
        comments::status
            .ne_all([CommentStatus::Pending, CommentStatus::Rejected])
            .or(comments::author_id.eq($viewer.unwrap_or(UserId(-1))))
    };
}

/// Loads `$query` (over `comments`) in the order of `$sort`, best first.
macro_rules! load_in_order {
    ($conn:expr, $query:expr, $sort:expr) => {
        match $sort {
            Sort::Best => $query.order((comments::rank_best.desc(), comments::id.desc())).load($conn),
            Sort::Top => {
                $query.order(((comments::upvotes - comments::downvotes).desc(), comments::id.desc())).load($conn)
            }
            Sort::New => $query.order(comments::id.desc()).load($conn),
            Sort::Old => $query.order(comments::id.asc()).load($conn),
            Sort::Controversial => $query.order((comments::rank_controversial.desc(), comments::id.desc())).load($conn),
        }
    };
}

/// A page of `article`'s top-level comments from `start`, with their replies; with
/// `takeaway`, only the top-level comments quoting that takeaway (by position, from 0).
pub fn article_page(
    conn: &mut DbConn,
    article: ArticleId,
    sort: Sort,
    start: Start,
    viewer: Option<UserId>,
    takeaway: Option<i32>,
) -> QueryResult<ThreadPage> {
    let top_level = || {
        let query = comments::table
            .filter(comments::article_id.eq(article))
            .filter(comments::depth.eq(0))
            .filter(shown_to!(viewer))
            .select((comments::id, comments::reply_count))
            .into_boxed();
        match takeaway {
            Some(position) => query
                .filter(comments::quote_kind.eq(crate::domain::quotes::QuoteKind::Takeaway.as_str()))
                .filter(comments::quote_position.eq(position)),
            None => query,
        }
    };
    // Pinned comments come first, in the page's order, then the others: a page by
    // position counts both; a page after a comment holds unpinned ones only.
    let (mut top, skipped): (Vec<(CommentId, i32)>, i64) = match start {
        Start::After(_) => (Vec::new(), 0),
        Start::First | Start::Skip(_) => {
            let skip = if let Start::Skip(n) = start { n } else { 0 };
            let pinned = top_level().filter(comments::pinned.eq(true));
            let shown: Vec<(CommentId, i32)> = load_in_order!(conn, pinned.offset(skip).limit(TOP_PER_PAGE + 1), sort)?;
            // How many pinned ones lie before this page, to skip the rest by.
            let before: i64 = if shown.is_empty() && skip > 0 {
                top_level().filter(comments::pinned.eq(true)).count().get_result(conn)?
            } else {
                skip
            };
            (shown, skip - before)
        }
    };
    let more_pinned = top.len() as i64 > TOP_PER_PAGE;
    top.truncate(TOP_PER_PAGE as usize);
    let want = TOP_PER_PAGE - top.len() as i64;
    let rest = top_level().filter(comments::pinned.eq(false)).limit(want + 1);
    let mut rest: Vec<(CommentId, i32)> = match start {
        Start::First | Start::Skip(_) => load_in_order!(conn, rest.offset(skipped), sort)?,
        Start::After(id) => match sort {
            Sort::Old => load_in_order!(conn, rest.filter(comments::id.gt(id)), sort)?,
            _ => load_in_order!(conn, rest.filter(comments::id.lt(id)), Sort::New)?,
        },
    };
    let has_more = more_pinned || rest.len() as i64 > want;
    rest.truncate(want.max(0) as usize);
    let last_unpinned = rest.last().map(|(id, _)| *id);
    top.extend(rest);
    let mut page = below(conn, top, sort, viewer, LEVELS)?;
    page.has_more = has_more;
    page.last_unpinned = last_unpinned;
    Ok(page)
}

/// The replies of `parent` from position `skip` on (in `sort` order), a page of them,
/// with `levels` levels of their replies.
pub fn replies_page(
    conn: &mut DbConn,
    parent: CommentId,
    sort: Sort,
    skip: i64,
    levels: i32,
    viewer: Option<UserId>,
) -> QueryResult<ThreadPage> {
    let query = comments::table
        .filter(comments::parent_id.eq(parent))
        .filter(shown_to!(viewer))
        .select((comments::id, comments::reply_count))
        .offset(skip)
        .limit(TOP_PER_PAGE + 1);
    let mut top: Vec<(CommentId, i32)> = load_in_order!(conn, query, sort)?;
    let has_more = top.len() as i64 > TOP_PER_PAGE;
    top.truncate(TOP_PER_PAGE as usize);
    let mut page = below(conn, top, sort, viewer, levels)?;
    page.has_more = has_more;
    Ok(page)
}

/// One comment (`focus`) with its replies, as its own page shows it.
pub fn subtree(conn: &mut DbConn, focus: CommentId, sort: Sort, viewer: Option<UserId>) -> QueryResult<ThreadPage> {
    let top: Vec<(CommentId, i32)> = comments::table
        .filter(comments::id.eq(focus))
        .filter(shown_to!(viewer))
        .select((comments::id, comments::reply_count))
        .load(conn)?;
    below(conn, top, sort, viewer, LEVELS)
}

/// The comments above `id`, top first, with their authors and the reader's votes.
pub fn ancestors(conn: &mut DbConn, id: CommentId, viewer: Option<UserId>) -> QueryResult<Vec<ThreadComment>> {
    let parent_of = |conn: &mut DbConn, id: CommentId| -> QueryResult<Option<CommentId>> {
        Ok(comments::table.find(id).select(comments::parent_id).first(conn).optional()?.flatten())
    };
    // Replies nest at most `MAX_DEPTH` deep, so the walk is bounded.
    let mut chain = Vec::new();
    let mut cursor = parent_of(conn, id)?;
    while let Some(parent) = cursor.filter(|_| chain.len() <= super::comments::MAX_DEPTH as usize) {
        chain.push(parent);
        cursor = parent_of(conn, parent)?;
    }
    chain.reverse();
    let mut items = super::comments::with_authors(conn, &chain, viewer)?;
    items.sort_by_key(|c| chain.iter().position(|id| *id == c.comment.id));
    Ok(items)
}

/// Loads the replies under `top` (a level at a time, within the budget), then every
/// comment shown.
fn below(
    conn: &mut DbConn,
    top: Vec<(CommentId, i32)>,
    sort: Sort,
    viewer: Option<UserId>,
    levels: i32,
) -> QueryResult<ThreadPage> {
    let mut replies_of: HashMap<CommentId, i32> = top.iter().copied().collect();
    let top: Vec<CommentId> = top.into_iter().map(|(id, _)| id).collect();
    let mut shown: Vec<CommentId> = top.clone();
    // Replies shown under each comment.
    let mut children: HashMap<CommentId, usize> = HashMap::new();
    let mut frontier: Vec<CommentId> = top.iter().copied().filter(|id| replies_of[id] > 0).collect();
    let mut depth = 0;
    while !frontier.is_empty() && depth < levels && shown.len() < BUDGET {
        let query = comments::table
            .filter(comments::parent_id.eq_any(&frontier))
            .filter(shown_to!(viewer))
            .select((comments::id, comments::parent_id, comments::reply_count))
            .limit(LEVEL_ROWS);
        let level: Vec<Skeleton> = load_in_order!(conn, query, sort)?;
        let cap = replies_shown(depth);
        // The next level, in the order the replies were taken.
        let mut next = Vec::new();
        // Fair shares first: each comment's first reply, then each one's second, and so
        // on, so that one busy comment cannot take the whole budget from its siblings.
        let mut by_parent: HashMap<CommentId, Vec<CommentId>> = HashMap::new();
        for (id, parent, replies) in level {
            if let Some(parent) = parent {
                by_parent.entry(parent).or_default().push(id);
            }
            replies_of.insert(id, replies);
        }
        'rounds: for round in 0..cap {
            let mut any = false;
            for parent in &frontier {
                let Some(replies) = by_parent.get(parent) else { continue };
                let Some(&reply) = replies.get(round) else { continue };
                if shown.len() >= BUDGET {
                    break 'rounds;
                }
                any = true;
                shown.push(reply);
                // Only comments with replies are looked under.
                if replies_of.get(&reply).is_some_and(|n| *n > 0) {
                    next.push(reply);
                }
                *children.entry(*parent).or_default() += 1;
            }
            if !any {
                break;
            }
        }
        frontier = next;
        depth += 1;
    }
    let items = super::comments::with_authors(conn, &shown, viewer)?;
    // Comments whose replies are not all shown, the deepest ones' included
    // (`reply_count` counts every reply, held ones too, so the exact number is counted).
    let missing: Vec<CommentId> = items
        .iter()
        .filter(|c| children.get(&c.comment.id).copied().unwrap_or(0) < c.comment.reply_count as usize)
        .map(|c| c.comment.id)
        .collect();
    let mut more = HashMap::new();
    if !missing.is_empty() {
        let counts: Vec<(Option<CommentId>, i64)> = comments::table
            .filter(comments::parent_id.eq_any(&missing))
            .filter(shown_to!(viewer))
            .group_by(comments::parent_id)
            .select((comments::parent_id, diesel::dsl::count_star()))
            .load(conn)?;
        for (parent, count) in counts {
            let Some(parent) = parent else { continue };
            let shown = children.get(&parent).copied().unwrap_or(0);
            if count > shown as i64 {
                more.insert(parent, (shown, count - shown as i64));
            }
        }
    }
    Ok(ThreadPage { items, top, order: shown, more, has_more: false, last_unpinned: None })
}

/// What a signed-in reader's copy of a shared thread needs besides the thread.
#[derive(Debug, Default)]
pub struct ReaderState {
    /// The reader's votes on the comments asked about.
    pub votes: HashMap<CommentId, i32>,
    /// The reader has comments on the article awaiting approval or not approved, which
    /// only they see: the shared thread lacks them.
    pub held: bool,
    /// Saved, and whether with comments the reader has not seen (see `saved::seen_state`).
    pub seen: Option<bool>,
}

/// The reader's state for a page of `article` whose comments are `ids`. Three small
/// queries.
pub fn reader_state(
    conn: &mut DbConn,
    reader: UserId,
    article: ArticleId,
    ids: &[CommentId],
) -> QueryResult<ReaderState> {
    use super::schema::comment_votes;
    let mut state = ReaderState::default();
    if !ids.is_empty() {
        let votes: Vec<(CommentId, i32)> = match conn {
            // `IN (?, ?, …)` would be a new statement for every length of list, parsed
            // and planned on every view; the ids as one JSON array keep one statement,
            // which diesel keeps prepared (see `VotesOnPage`).
            DbConn::Sqlite(sqlite) => {
                let list =
                    serde_json::to_string(&ids.iter().map(|id| id.0).collect::<Vec<i64>>()).expect("numbers serialise");
                VotesOnPage { reader: reader.0, ids: list }
                    .load::<(i64, i32)>(sqlite)?
                    .into_iter()
                    .map(|(id, value)| (CommentId(id), value))
                    .collect()
            }
            // One array parameter (`= ANY($1)`): one statement already.
            DbConn::Pg(_) => comment_votes::table
                .filter(comment_votes::user_id.eq(reader))
                .filter(comment_votes::comment_id.eq_any(ids))
                .select((comment_votes::comment_id, comment_votes::value))
                .load(conn)?,
        };
        state.votes = votes.into_iter().filter(|(_, v)| *v != 0).collect();
    }
    state.held = diesel::select(diesel::dsl::exists(
        comments::table
            .filter(comments::author_id.eq(reader))
            .filter(comments::article_id.eq(article))
            .filter(comments::status.eq(CommentStatus::Pending).or(comments::status.eq(CommentStatus::Rejected))),
    ))
    .get_result(conn)?;
    state.seen = super::saved::seen_state(conn, reader, article)?;
    Ok(state)
}

/// A reader's votes on a list of comments given as a JSON array, on SQLite. Written out
/// rather than through `sql_query`, which diesel prepares afresh on every call: this
/// one has a fixed text, so each connection prepares it once and keeps it.
#[derive(diesel::query_builder::QueryId)]
struct VotesOnPage {
    reader: i64,
    /// The comments' ids, as a JSON array.
    ids: String,
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for VotesOnPage {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        out.push_sql("SELECT comment_id, value FROM comment_votes WHERE user_id = ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.reader)?;
        out.push_sql(" AND comment_id IN (SELECT value FROM json_each(");
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.ids)?;
        out.push_sql("))");
        Ok(())
    }
}

impl diesel::query_builder::Query for VotesOnPage {
    type SqlType = (diesel::sql_types::BigInt, diesel::sql_types::Integer);
}

impl RunQueryDsl<diesel::SqliteConnection> for VotesOnPage {}

/// Where the top-level comment `id` stands among its article's top-level comments in
/// `sort`, as the article's pages show them to `viewer`: how many come before it (pinned
/// ones first, then the others in order), counted up to `limit` (a comment further down
/// gets `limit`). `None` when it is not a top-level comment shown to `viewer`.
///
/// It reads at most `limit + 1` rows of each group (pinned, then its own) in the order's
/// index, whatever the thread's size: counting every comment before a new one (which a
/// ranked order puts near the end) read the whole thread on each post.
pub fn top_level_position(
    conn: &mut DbConn,
    id: CommentId,
    sort: Sort,
    viewer: Option<UserId>,
    limit: i64,
) -> QueryResult<Option<i64>> {
    let found: Option<(ArticleId, bool)> = comments::table
        .find(id)
        .filter(comments::depth.eq(0))
        .filter(shown_to!(viewer))
        .select((comments::article_id, comments::pinned))
        .first(conn)
        .optional()?;
    let Some((article, pinned)) = found else { return Ok(None) };
    position_among_top_level(conn, article, id, pinned, sort, viewer, limit).map(Some)
}

/// How many of `article`'s top-level comments come before `id` (top-level, `pinned` or
/// not) in `sort`, pinned ones first, as `viewer` sees them: at most `limit`. For a
/// comment known to be top-level, without looking it up.
pub fn position_among_top_level(
    conn: &mut DbConn,
    article: ArticleId,
    id: CommentId,
    pinned: bool,
    sort: Sort,
    viewer: Option<UserId>,
    limit: i64,
) -> QueryResult<i64> {
    let group = |pinned: bool, rows: i64| {
        comments::table
            .filter(comments::article_id.eq(article))
            .filter(comments::depth.eq(0))
            .filter(comments::pinned.eq(pinned))
            .filter(shown_to!(viewer))
            .select(comments::id)
            .limit(rows)
    };
    let pinned_before = if pinned { 0 } else { group(true, limit).load::<CommentId>(conn)?.len() as i64 };
    if pinned_before >= limit {
        return Ok(limit);
    }
    let first: Vec<CommentId> = load_in_order!(conn, group(pinned, limit - pinned_before + 1), sort)?;
    // Not among them: further down (or moved meanwhile), past the limit either way.
    Ok(first.iter().position(|c| *c == id).map_or(limit, |p| (pinned_before + p as i64).min(limit)))
}
