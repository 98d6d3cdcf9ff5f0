//! How long deleting an article with 10,000 comments takes (with their votes-free
//! notifications: a reply notification for each reply, a saved-article notification for
//! each top-level comment and each of the 30 readers who saved it).
//!
//! `cargo run --release --example delete_article_bench -- [DATABASE_URL]`
//! (default: a new SQLite file in a temporary folder). The database must be new or
//! disposable: the article is created and deleted in it.

use std::time::Instant;

use afterword::db::{self, articles, comments, saved, users};

const TOP_LEVEL: usize = 2_000;
const REPLIES: usize = 8_000;
const READERS: usize = 30;

fn main() -> anyhow::Result<()> {
    let dir = tempfile_dir();
    let url = std::env::args().nth(1).unwrap_or_else(|| format!("sqlite://{dir}/delete-bench.db"));
    let pool = db::connect(&url, 2, std::time::Duration::from_secs(30))?;
    let mut conn = pool.get()?;
    let items = afterword::import::parse(
        br#"[{"title": "An article about to go", "source_url": "https://example.com/going", "source_name": "example.com",
              "published_at": "2024-01-01", "summary": ["S."], "key_takeaways": ["T."]}]"#,
    )?;
    articles::upsert_all(&mut conn, &items, &mut |_| {})?;
    let article_id: afterword::domain::ArticleId = {
        use afterword::db::schema::articles;
        use diesel::prelude::*;
        articles::table
            .filter(articles::source_url.eq("https://example.com/going"))
            .select(articles::id)
            .first(&mut **conn)?
    };

    let started = Instant::now();
    let hash = afterword::auth::password::hash("a password for the benchmark");
    db::write_transaction(&mut conn, |conn| -> anyhow::Result<()> {
        let mut readers = Vec::new();
        for i in 0..READERS {
            let (name, email) = (format!("reader{i}"), format!("reader{i}@example.com"));
            let new = users::NewUser {
                username: &name,
                email: &email,
                password_hash: &hash,
                role: afterword::domain::Role::Reader,
                keep_taken_email_pending: false,
            };
            let id = users::create(conn, &new)?.id;
            saved::save(conn, id, article_id)?;
            readers.push(id);
        }
        let mut posted = Vec::with_capacity(TOP_LEVEL + REPLIES);
        for i in 0..TOP_LEVEL + REPLIES {
            let parent = (i >= TOP_LEVEL).then(|| posted[(i * 7919) % posted.len().min(TOP_LEVEL + i / 2)]);
            let new = comments::NewComment {
                article_id,
                author: afterword::domain::Actor {
                    id: readers[i % READERS],
                    role: afterword::domain::Role::Reader,
                    banned: false,
                },
                parent_id: parent,
                source: "A comment.",
                html: "<p>A comment.</p>",
                status: comments::CommentStatus::Visible,
                limits: comments::PostingLimits::default(),
                quote: None,
            };
            match comments::post(conn, &new) {
                Ok(p) => posted.push(p.id),
                Err(comments::CommentError::TooDeep) => continue,
                Err(e) => anyhow::bail!("posting: {e}"),
            }
        }
        Ok(())
    })?;
    let count: i64 = {
        use afterword::db::schema::notifications;
        use diesel::prelude::*;
        notifications::table.count().get_result(&mut **conn)?
    };
    println!("filled {url}: {} comments, {count} notifications, in {:.1?}", TOP_LEVEL + REPLIES, started.elapsed());

    let started = Instant::now();
    articles::delete(&mut conn, article_id)?;
    println!("deleted the article with its comments in {:.1?}", started.elapsed());
    Ok(())
}

fn tempfile_dir() -> String {
    let dir = std::env::temp_dir().join(format!("afterword-delete-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir.display().to_string()
}
