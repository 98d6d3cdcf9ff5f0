//! Fills a database with a large site for the benchmarks: articles (imported as an
//! administrator imports them), accounts, and threads of comments with votes and reply
//! notifications, through the real schema. Every counter the application keeps (comment
//! counts, reply counts, vote counts and ranks) is set as posting would set it, and the
//! search index fills as it does for posted comments (triggers on SQLite, an expression
//! index on PostgreSQL).
//!
//! `cargo run --release --example generate -- DATABASE_URL [ARTICLES [USERS [COMMENTS]]]`
//! (default 10,000 articles, 50,000 accounts, 1,000,000 comments). The database must be
//! new: it is migrated first. Every account's password is `benchmark passphrase`.

use std::time::Instant;

use afterword::db::schema::{articles, comment_votes, comments, notifications, users};
use afterword::db::{self, DbConn};
use afterword::domain::{ArticleId, CommentId, CommentStatus, NotificationKind, Role, UserId};
use afterword::ranking;
use diesel::prelude::*;
use time::PrimitiveDateTime;

/// Articles filled in one transaction.
const ARTICLES_PER_BATCH: usize = 100;
/// Rows in one INSERT.
const ROWS_PER_INSERT: usize = 400;
/// Threads nest at most this deep.
const MAX_DEPTH: usize = 8;

/// Runs `$body` with the connection of whichever backend `$conn` is: batch inserts are
/// not available through the connection that serves both.
macro_rules! each_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            DbConn::Sqlite($c) => $body,
            DbConn::Pg($c) => $body,
        }
    };
}

/// A small, fast, reproducible generator (xorshift*): the data is the same every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "privacy",
    "market",
    "research",
    "energy",
    "policy",
    "climate",
    "software",
    "security",
    "budget",
    "election",
    "health",
    "transport",
    "housing",
    "science",
    "culture",
    "history",
    "football",
    "music",
    "courts",
    "trade",
];

/// A comment's text in Markdown, rendered as the site renders it.
fn bodies() -> Vec<(String, String)> {
    (0..64)
        .map(|i| {
            let w = |k: usize| WORDS[(i * 7 + k * 3) % WORDS.len()];
            let source = match i % 4 {
                0 => format!("I think the point about **{}** is right, but {} matters more.", w(0), w(1)),
                1 => {
                    format!("> {} and {}\n\nNot sure. See [this]({}) on {}.", w(0), w(1), "https://example.com/", w(2))
                }
                2 => format!("Three things:\n\n- {}\n- {}\n- {}\n\nAll worth a read.", w(0), w(1), w(2)),
                _ => format!("`{}` is the word nobody uses about {}, and {} follows from it.", w(0), w(1), w(2)),
            };
            let html = afterword::markdown::render(&source);
            (source, html)
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("usage: generate DATABASE_URL [ARTICLES [USERS [COMMENTS]]]"))?;
    let number = |i: usize, default: usize| -> anyhow::Result<usize> {
        Ok(args.get(i).map(|s| s.replace('_', "").parse()).transpose()?.unwrap_or(default))
    };
    let (article_count, user_count, comment_count) = (number(1, 10_000)?, number(2, 50_000)?, number(3, 1_000_000)?);
    let pool = db::connect(&url, 1, std::time::Duration::from_secs(60))?;
    let mut conn = pool.get()?;
    let started = Instant::now();
    let mut random = Random(0x9e37_79b9_7f4a_7c15);

    let users = fill_users(&mut conn, user_count)?;
    println!("{} accounts in {:.1?}", users.len(), started.elapsed());
    let articles = fill_articles(&mut conn, article_count)?;
    println!("{} articles in {:.1?}", articles.len(), started.elapsed());

    let bodies = bodies();
    let per_article = comment_count / articles.len().max(1);
    let mut written = 0;
    for batch in articles.chunks(ARTICLES_PER_BATCH) {
        written += db::write_transaction(&mut conn, |conn| {
            fill_threads(conn, batch, per_article, &users, &bodies, &mut random)
        })?;
        if written % 100_000 < per_article * ARTICLES_PER_BATCH {
            println!("{written} comments in {:.1?}", started.elapsed());
        }
    }
    // The pool's statement timeout is for requests; ANALYZE of a million rows may take longer.
    if let DbConn::Pg(_) = &**conn {
        diesel::sql_query("SET statement_timeout = 0").execute(&mut **conn)?;
    }
    diesel::sql_query("ANALYZE").execute(&mut **conn)?;
    println!("filled {url}: {written} comments in {:.1?}", started.elapsed());
    Ok(())
}

fn fill_users(conn: &mut DbConn, count: usize) -> anyhow::Result<Vec<UserId>> {
    let hash = afterword::auth::password::hash("benchmark passphrase");
    let now = db::now();
    db::write_transaction(conn, |conn| -> anyhow::Result<()> {
        for start in (0..count).step_by(ROWS_PER_INSERT) {
            let rows: Vec<_> = (start..(start + ROWS_PER_INSERT).min(count))
                .map(|i| {
                    (
                        users::username.eq(format!("reader{i}")),
                        users::username_key.eq(format!("reader{i}")),
                        users::email.eq(Some(format!("reader{i}@example.com"))),
                        users::email_key.eq(Some(format!("reader{i}@example.com"))),
                        users::password_hash.eq(hash.clone()),
                        users::role.eq(Role::Reader),
                        users::email_verified.eq(true),
                        users::created_at.eq(now),
                        users::email_replies.eq(false),
                    )
                })
                .collect();
            each_backend!(conn, |c| diesel::insert_into(users::table).values(rows).execute(c))?;
        }
        Ok(())
    })?;
    Ok(users::table.filter(users::username.like("reader%")).select(users::id).order(users::id).load(conn)?)
}

fn fill_articles(conn: &mut DbConn, count: usize) -> anyhow::Result<Vec<ArticleId>> {
    let items: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            let w = |k: usize| WORDS[(i * 5 + k) % WORDS.len()];
            serde_json::json!({
                "title": format!("Article {i}: the {} question and the {} answer", w(0), w(1)),
                "source_url": format!("https://news.example.com/{i}"),
                "source_name": "news.example.com",
                "published_at": format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
                "summary": [format!("What {} means for {}.", w(2), w(3)), format!("And why {} follows.", w(4))],
                "key_takeaways": [format!("{} matters", w(5)), format!("{} does not", w(6))],
                "tags": [w(7), w(8)],
            })
        })
        .collect();
    let parsed = afterword::import::parse(serde_json::to_string(&items)?.as_bytes())?;
    afterword::db::articles::upsert_all(conn, &parsed, &mut |_| {})?;
    Ok(articles::table.select(articles::id).order(articles::id).load(conn)?)
}

/// A comment planned in memory: its place in its article's list, then its row.
struct Planned {
    article: ArticleId,
    parent: Option<usize>,
    depth: usize,
    author: UserId,
    body: usize,
    up: i32,
    down: i32,
    replies: i32,
    id: Option<CommentId>,
    root: Option<CommentId>,
}

/// Threads for `batch` of articles, `per_article` comments each; returns how many.
fn fill_threads(
    conn: &mut DbConn,
    batch: &[ArticleId],
    per_article: usize,
    users: &[UserId],
    bodies: &[(String, String)],
    random: &mut Random,
) -> anyhow::Result<usize> {
    let mut plan: Vec<Planned> = Vec::with_capacity(batch.len() * per_article);
    for article in batch {
        let first = plan.len();
        for i in 0..per_article {
            // About a third start a thread; the rest reply to an earlier comment.
            let parent = (i > 0 && random.below(3) != 0)
                .then(|| first + random.below(i))
                .filter(|p| plan[*p].depth + 1 < MAX_DEPTH);
            let depth = parent.map_or(0, |p| plan[p].depth + 1);
            if let Some(p) = parent {
                plan[p].replies += 1;
            }
            let up = [0, 0, 0, 1, 1, 2, 3, 5][random.below(8)];
            let down = [0, 0, 0, 0, 0, 1, 1, 2][random.below(8)];
            let author = users[random.below(users.len())];
            plan.push(Planned {
                article: *article,
                parent,
                depth,
                author,
                body: random.below(bodies.len()),
                up,
                down,
                replies: 0,
                id: None,
                root: None,
            });
        }
    }
    let now = db::now();
    let year_ago = now - time::Duration::days(365);
    let when = |i: usize| -> PrimitiveDateTime { year_ago + time::Duration::seconds((i as i64 * 7919) % 31_000_000) };
    // Level by level, so that every parent has its id before its replies are written.
    for depth in 0..MAX_DEPTH {
        let level: Vec<usize> = (0..plan.len()).filter(|i| plan[*i].depth == depth).collect();
        for chunk in level.chunks(ROWS_PER_INSERT) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|&i| {
                    let c = &plan[i];
                    let parent = c.parent.map(|p| plan[p].id.expect("parents are written first"));
                    let root = c.parent.map(|p| plan[p].root.expect("parents are written first"));
                    (
                        comments::article_id.eq(c.article),
                        comments::author_id.eq(c.author),
                        comments::parent_id.eq(parent),
                        comments::root_id.eq(root.unwrap_or(CommentId(0))),
                        comments::depth.eq(c.depth as i32),
                        comments::body_source.eq(&bodies[c.body].0),
                        comments::body_html.eq(&bodies[c.body].1),
                        comments::status.eq(CommentStatus::Visible),
                        comments::upvotes.eq(c.up),
                        comments::downvotes.eq(c.down),
                        comments::reply_count.eq(c.replies),
                        comments::rank_best.eq(ranking::wilson_lower_bound(c.up, c.down)),
                        comments::rank_controversial.eq(ranking::controversy(c.up, c.down)),
                        comments::created_at.eq(when(i)),
                    )
                })
                .collect();
            let mut ids: Vec<CommentId> = each_backend!(conn, |c| diesel::insert_into(comments::table)
                .values(rows)
                .returning(comments::id)
                .get_results(c))?;
            // One writer, so the new ids follow one another in the order written.
            ids.sort();
            for (&i, id) in chunk.iter().zip(ids) {
                plan[i].id = Some(id);
                plan[i].root = match plan[i].parent {
                    Some(p) => plan[p].root,
                    None => Some(id),
                };
            }
        }
    }
    // The articles' counts, as posting keeps them (every comment here is visible).
    for article in batch {
        let count = plan.iter().filter(|c| c.article == *article).count() as i32;
        diesel::update(articles::table.find(*article))
            .set(articles::comment_count.eq(articles::comment_count + count))
            .execute(conn)?;
    }
    diesel::update(comments::table.filter(comments::root_id.eq(CommentId(0))))
        .set(comments::root_id.eq(comments::id))
        .execute(conn)?;

    // Votes that add up to the counts, from distinct readers; reply notifications.
    let mut votes = Vec::new();
    let mut notices = Vec::new();
    for (i, c) in plan.iter().enumerate() {
        let id = c.id.expect("written");
        // Distinct readers (31 and the number of accounts share no factor in practice),
        // never the author.
        let start = random.below(users.len());
        let voters = (0..users.len()).map(|k| users[(start + k * 31) % users.len()]).filter(|u| *u != c.author);
        for (k, voter) in voters.take((c.up + c.down) as usize).enumerate() {
            votes.push((id, voter, if (k as i32) < c.up { 1 } else { -1 }, when(i)));
        }
        if let Some(p) = c.parent {
            if plan[p].author != c.author {
                notices.push((plan[p].author, id, c.author, when(i)));
            }
        }
    }
    for chunk in votes.chunks(ROWS_PER_INSERT) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(c, u, v, t)| {
                (
                    comment_votes::comment_id.eq(*c),
                    comment_votes::user_id.eq(*u),
                    comment_votes::value.eq(*v),
                    comment_votes::created_at.eq(*t),
                )
            })
            .collect();
        each_backend!(conn, |c| diesel::insert_into(comment_votes::table).values(rows).execute(c))?;
    }
    for chunk in notices.chunks(ROWS_PER_INSERT) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(user, comment, actor, t)| {
                (
                    notifications::user_id.eq(*user),
                    notifications::kind.eq(NotificationKind::Reply),
                    notifications::comment_id.eq(*comment),
                    notifications::actor_id.eq(*actor),
                    notifications::created_at.eq(*t),
                    notifications::read_at.eq(Some(*t)),
                )
            })
            .collect();
        each_backend!(conn, |c| diesel::insert_into(notifications::table).values(rows).execute(c))?;
    }
    Ok(plan.len())
}
