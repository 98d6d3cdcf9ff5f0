//! `afterword import-comments`: Disqus, WordPress, Isso and Remark42 files, imported
//! all or nothing, once; what readers then see through HTTP.
#![allow(clippy::type_complexity)] // rows compared as tuples

use std::io::Write;
use std::process::{Command, Output};

use afterword::db::schema::{articles, comments, import_ids, users};
use afterword::db::DbConn;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::common::html::Page;
use crate::common::{Backend, TestApp, TestDb, SEED_SLUG};
use crate::{both_backends, postgres_only};

both_backends!(
    disqus_export_keeps_threads_nesting_and_flags,
    wordpress_export_keeps_nesting_and_reads_gzip,
    isso_database_joins_relative_addresses_and_keeps_modes,
    remark42_backup_keeps_placeholders_and_skips_blocked_authors,
    threads_join_articles_already_here_by_address,
    html_in_messages_is_cleaned_like_new_comments,
    malformed_or_wrong_files_write_nothing,
    dry_run_reports_and_writes_nothing,
    placeholder_accounts_cannot_log_in,
    a_reader_claims_comments_imported_with_their_confirmed_address,
    administrators_import_an_upload_with_the_same_rules,
);

postgres_only!(running_instances_drop_cached_pages_when_an_import_commits);

const DISQUS: &str = include_str!("../fixtures/import/isso-disqus.xml");
const WXR: &str = include_str!("../fixtures/import/isso-wordpress.xml");

fn afterword(args: &[&str], database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_afterword"))
        .arg("import-comments")
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs an import that must succeed; returns what it printed.
fn import(db: &TestDb, format: &str, file: &std::path::Path, extra: &[&str]) -> String {
    let mut args = vec!["--format", format];
    args.extend_from_slice(extra);
    let path = file.display().to_string();
    args.push(&path);
    let out = afterword(&args, &db.url);
    assert!(out.status.success(), "import failed: {}{}", stdout(&out), stderr(&out));
    stdout(&out)
}

fn write(dir: &tempfile::TempDir, name: &str, contents: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Every row an import writes, in a form that compares.
#[derive(Debug, PartialEq)]
struct Snapshot {
    comments: Vec<(i64, i64, i64, Option<i64>, i64, i32, String, String, String, i32)>,
    articles: Vec<(i64, String, String, String, i32)>,
    users: Vec<(i64, String, Option<String>, Option<String>, Option<String>)>,
    ids: i64,
}

fn snapshot(conn: &mut DbConn) -> Snapshot {
    Snapshot {
        comments: comments::table
            .order(comments::id)
            .select((
                comments::id,
                comments::article_id,
                comments::author_id,
                comments::parent_id,
                comments::root_id,
                comments::depth,
                comments::status,
                comments::body_html,
                comments::body_source,
                comments::reply_count,
            ))
            .load(conn)
            .unwrap(),
        articles: articles::table
            .order(articles::id)
            .select((articles::id, articles::slug, articles::title, articles::source_url, articles::comment_count))
            .load(conn)
            .unwrap(),
        users: users::table
            .order(users::id)
            .select((users::id, users::username, users::display_name, users::imported_from, users::imported_email_key))
            .load(conn)
            .unwrap(),
        ids: import_ids::table.count().get_result(conn).unwrap(),
    }
}

/// (display name, status, body HTML, depth, parent's body HTML) of each comment.
fn comment_rows(conn: &mut DbConn) -> Vec<(Option<String>, String, String, i32, Option<String>)> {
    let rows: Vec<(i64, Option<String>, String, String, i32, Option<i64>)> = comments::table
        .inner_join(users::table)
        .order(comments::id)
        .select((
            comments::id,
            users::display_name,
            comments::status,
            comments::body_html,
            comments::depth,
            comments::parent_id,
        ))
        .load(conn)
        .unwrap();
    rows.iter()
        .map(|(_, name, status, html, depth, parent)| {
            let parent_html = parent.map(|p| rows.iter().find(|r| r.0 == p).unwrap().3.clone());
            (name.clone(), status.clone(), html.clone(), *depth, parent_html)
        })
        .collect()
}

async fn disqus_export_keeps_threads_nesting_and_flags(backend: Backend) {
    let app = TestApp::start(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "disqus.xml", DISQUS.as_bytes());

    let out = import(&app.db, "disqus", &file, &[]);
    // Thread 3 has no link; post 6 names thread 1337, which is not in the file; post 9
    // is deleted and post 11 replies to it, so it stays as a placeholder.
    assert!(out.contains("threads: 2 created, 0 matched to existing articles, 0 unchanged, 1 skipped"), "{out}");
    assert!(
        out.contains("comments: 5 created, 0 updated, 0 unchanged, 1 skipped (1 its thread is not in the file)"),
        "{out}"
    );
    assert!(out.contains("authors: 3 created"), "{out}");
    let mut conn = app.db.connect();
    let rows = comment_rows(&mut conn);
    assert_eq!(rows.len(), 5);
    let reply =
        rows.iter().find(|r| r.0.as_deref() == Some("user") && r.4.is_some()).expect("post 5 replies to post 4");
    assert_eq!((reply.3, reply.4.as_deref()), (1, Some("<p>...</p>")));
    let deleted: Vec<_> = rows.iter().filter(|r| r.1 == "deleted").collect();
    assert_eq!(deleted.len(), 1, "the deleted post with a reply is a placeholder");
    assert_eq!(deleted[0].2, "", "a placeholder keeps no text");
    assert!(rows.iter().any(|r| r.4.as_deref() == Some("") && r.2 == "<p>Hello, World.</p>"), "post 11 under it");
    let snap = snapshot(&mut conn);
    let hello = snap.articles.iter().find(|a| a.3 == "http://example.org/").expect("thread 2's article");
    assert_eq!((hello.2.as_str(), hello.4), ("Hello, World!", 3), "title kept; 3 published comments counted");
    let untitled = snap.articles.iter().find(|a| a.3.starts_with("http://localhost:4000/")).unwrap();
    assert_eq!(untitled.2, untitled.3, "an empty title becomes the address");
    // Counters as posting keeps them.
    let placeholder = snap.comments.iter().find(|c| c.6 == "deleted").unwrap();
    assert_eq!(placeholder.9, 1);

    // Readers see the thread with the imported names, marked as imported.
    let (status, body) = app.page(&format!("/articles/{}", hello.1)).await;
    assert_eq!(status, StatusCode::OK);
    let page = Page::parse(&body);
    let authors = page.texts(".comment-meta .author");
    assert!(authors.contains(&"peter".to_owned()) && authors.contains(&"user".to_owned()), "{authors:?}");
    assert!(page.texts(".comment-meta .badge.imported").len() >= 2);
    assert!(body.contains("[deleted]"));
    assert!(!authors.iter().any(|a| a.starts_with("imported-")), "placeholder usernames are not shown as names");

    // The second run changes nothing.
    let again = import(&app.db, "disqus", &file, &[]);
    assert!(again.contains("comments: 0 created, 0 updated, 5 unchanged"), "{again}");
    assert!(again.contains("threads: 0 created, 0 matched to existing articles, 2 unchanged"), "{again}");
    assert_eq!(snapshot(&mut conn), snap);
}

async fn wordpress_export_keeps_nesting_and_reads_gzip(backend: Backend) {
    let db = TestDb::migrated(backend);
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(WXR.as_bytes()).unwrap();
    let file = write(&dir, "wordpress.xml.gz", &gz.finish().unwrap());

    let out = import(&db, "wordpress", &file, &[]);
    assert!(out.contains("comments: 8 created"), "{out}");
    assert!(out.contains("threads: 2 created"), "{out}");
    let mut conn = db.connect();
    let rows = comment_rows(&mut conn);
    // 7 replies to 6; 8 and 9 reply to 7.
    let drolf = rows.iter().find(|r| r.2.contains("Drölfter!")).unwrap();
    assert_eq!((drolf.3, drolf.4.as_deref()), (1, Some("<p>Zweiter.</p>")));
    let deep = rows.iter().find(|r| r.2.contains("Yet another reply.")).unwrap();
    assert_eq!(deep.3, 2);
    let multiline = rows.iter().find(|r| r.2.contains("multiple lines")).unwrap();
    assert_eq!(multiline.2, "<p>When you have a comment with multiple lines:<br>\nWordPress exports it like this.</p>");
    let snap = snapshot(&mut conn);
    // The same comment id in two posts is two comments.
    assert_eq!(snap.articles.iter().map(|a| a.4).sum::<i32>(), 8);
    assert!(snap.articles.iter().any(|a| a.3 == "http://example.tld/?p=4" && a.4 == 1));
    // Times are the GMT ones.
    let created: Vec<time::PrimitiveDateTime> =
        comments::table.order(comments::id).select(comments::created_at).load(&mut conn).unwrap();
    assert_eq!(created[0].to_string(), "2014-01-14 17:32:12.0");

    let again = import(&db, "wordpress", &file, &[]);
    assert!(again.contains("comments: 0 created, 0 updated, 8 unchanged"), "{again}");
    assert_eq!(snapshot(&mut conn), snap);
}

/// An Isso database as Isso makes it.
fn isso_file(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("comments.db");
    let mut conn = diesel::sqlite::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    conn.batch_execute(
        "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
         CREATE TABLE comments (tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
             created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR, text VARCHAR,
             author VARCHAR, email VARCHAR, website VARCHAR, likes INTEGER DEFAULT 0,
             dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL, notification INTEGER DEFAULT 0);
         INSERT INTO threads VALUES (1, '/blog/first/', 'First post'), (2, 'https://blog.example/second/', 'Second');
         INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author, email, voters) VALUES
           (1, 1, NULL, 1500000000.5, 1, '127.0.0.1', 'Hello **world**', 'Ann', 'Ann@Example.com', x''),
           (1, 2, 1, 1500000100.0, 1, '127.0.0.1', 'Reply <script>alert(1)</script>', NULL, NULL, x''),
           (1, 3, NULL, 1500000200.0, 4, '127.0.0.1', 'gone', 'Cid', NULL, x''),
           (1, 4, 3, 1500000300.0, 1, '127.0.0.1', 'reply to a deleted one', 'Ann', 'ann@example.com', x''),
           (1, 5, NULL, 1500000400.0, 4, '127.0.0.1', 'gone for good', 'Cid', NULL, x''),
           (2, 6, NULL, 1500000500.0, 2, '127.0.0.1', 'waiting', 'Bob', 'bob@example.com', x''),
           (2, 7, 99, 1500000600.0, 1, '127.0.0.1', 'my parent is gone', 'Bob', 'bob@example.com', x'');",
    )
    .unwrap();
    path
}

async fn isso_database_joins_relative_addresses_and_keeps_modes(backend: Backend) {
    let app = TestApp::start(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = isso_file(&dir);

    // Without the site's address, the relative thread cannot be placed.
    let out = import(&app.db, "isso", &file, &["--dry-run"]);
    assert!(out.contains("5 its thread's address is relative (give the site's address)"), "{out}");

    let out = import(&app.db, "isso", &file, &["--site-url", "https://blog.example/"]);
    assert!(
        out.contains("comments: 6 created, 0 updated, 0 unchanged, 1 skipped (1 deleted, with no replies)"),
        "{out}"
    );
    assert!(out.contains("1 replies to comments not imported became top-level comments"), "{out}");
    let mut conn = app.db.connect();
    let snap = snapshot(&mut conn);
    let first = snap.articles.iter().find(|a| a.3 == "https://blog.example/blog/first/").expect("joined address");
    assert_eq!((first.2.as_str(), first.4), ("First post", 3));
    let second = snap.articles.iter().find(|a| a.3 == "https://blog.example/second/").unwrap();
    assert_eq!(second.4, 1, "the comment awaiting approval is not counted");
    let rows = comment_rows(&mut conn);
    assert_eq!(rows[0].2, "<p>Hello <strong>world</strong></p>\n", "Markdown rendered as new comments are");
    assert!(!rows[1].2.contains("<script"), "{}", rows[1].2);
    assert_eq!(rows[1].0.as_deref(), Some("Anonymous"));
    assert_eq!(rows[2].1, "deleted");
    assert_eq!(rows[4].1, "pending");
    assert_eq!((rows[5].3, rows[5].4.as_deref()), (0, None), "a reply to a missing comment is top-level");
    // One author per address, whatever its case.
    let ann: Vec<_> = snap.users.iter().filter(|u| u.2.as_deref() == Some("Ann")).collect();
    assert_eq!(ann.len(), 1);
    assert_eq!((ann[0].3.as_deref(), ann[0].4.as_deref()), (Some("isso"), Some("ann@example.com")));

    let (_, body) = app.page(&format!("/articles/{}", first.1)).await;
    assert!(body.contains("<strong>world</strong>") && body.contains("reply to a deleted one"));
    assert!(!body.contains("waiting"));

    // Gzipped, the same database imports as the same: nothing new.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&std::fs::read(&file).unwrap()).unwrap();
    let gzipped = write(&dir, "comments.db.gz", &gz.finish().unwrap());
    let again = import(&app.db, "isso", &gzipped, &["--site-url", "https://blog.example/"]);
    assert!(again.contains("comments: 0 created, 0 updated, 6 unchanged"), "{again}");
    assert_eq!(snapshot(&mut conn), snap);
}

fn remark42_file() -> String {
    let line = |id: &str, pid: &str, user: &str, block: bool, delete: bool, orig: &str| {
        serde_json::json!({
            "id": id, "pid": pid, "text": format!("<p>{orig}</p>"), "orig": orig,
            "user": {"name": user, "id": format!("github_{}", user.to_lowercase()), "picture": "", "ip": "x",
                     "admin": false, "block": block},
            "locator": {"site": "blog", "url": "https://blog.example/post/"},
            "score": 0, "votes": {}, "time": "2021-03-04T05:06:07.123456-05:00", "delete": delete,
            "title": "A post",
        })
        .to_string()
    };
    [
        r#"{"version":1,"users":[],"posts":[{"url":"https://blog.example/post/"}]}"#.to_owned(),
        line("c1", "", "Ann", false, false, "First [link](https://example.com)"),
        line("c2", "c1", "Bob", false, true, ""),
        line("c3", "c2", "Ann", false, false, "Under a deleted one"),
        line("c4", "", "Spammer", true, false, "buy now"),
        line("c5", "missing", "Bob", false, false, "Orphan"),
        line("c6", "", "Cid", false, true, ""),
    ]
    .join("\n")
        + "\n"
}

async fn remark42_backup_keeps_placeholders_and_skips_blocked_authors(backend: Backend) {
    let app = TestApp::start(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "remark.json", remark42_file().as_bytes());
    let out = import(&app.db, "remark42", &file, &[]);
    assert!(
        out.contains("comments: 4 created, 0 updated, 0 unchanged, 2 skipped (1 deleted, with no replies; 1 its author is blocked)"),
        "{out}"
    );
    let mut conn = app.db.connect();
    let rows = comment_rows(&mut conn);
    assert_eq!(
        rows[0].2,
        "<p>First <a href=\"https://example.com\" rel=\"nofollow ugc noopener noreferrer\">link</a></p>\n"
    );
    assert_eq!((rows[1].1.as_str(), rows[1].3), ("deleted", 1));
    assert_eq!((rows[2].3, rows[2].4.as_deref()), (2, Some("")));
    let snap = snapshot(&mut conn);
    assert_eq!(snap.articles[0].2, "A post");
    assert_eq!(snap.articles[0].4, 3);
    let (_, body) = app.page(&format!("/articles/{}", snap.articles[0].1)).await;
    assert!(body.contains("Under a deleted one") && body.contains("[deleted]") && !body.contains("buy now"));

    let again = import(&app.db, "remark42", &file, &[]);
    assert!(again.contains("comments: 0 created, 0 updated, 4 unchanged"), "{again}");
    assert_eq!(snapshot(&mut conn), snap);
}

async fn threads_join_articles_already_here_by_address(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let dir = tempfile::tempdir().unwrap();
    let xml = DISQUS.replace("http://example.org/", "https://techcrunch.com/");
    let file = write(&dir, "disqus.xml", xml.as_bytes());
    let out = import(&app.db, "disqus", &file, &[]);
    assert!(out.contains("threads: 1 created, 1 matched to existing articles"), "{out}");
    let mut conn = app.db.connect();
    let snap = snapshot(&mut conn);
    let seed = snap.articles.iter().find(|a| a.1 == SEED_SLUG).unwrap();
    assert_eq!(seed.4, 3, "the existing article counts the imported comments");
    let (_, body) = app.page(&format!("/articles/{SEED_SLUG}")).await;
    assert!(body.contains("Hello, World.") && body.contains("peter"));
}

async fn html_in_messages_is_cleaned_like_new_comments(backend: Backend) {
    let db = TestDb::migrated(backend);
    let dir = tempfile::tempdir().unwrap();
    let xml = r#"<?xml version="1.0"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <thread dsq:id="1"><link>https://blog.example/a</link><title>A &amp; B</title></thread>
  <post dsq:id="10">
    <message><![CDATA[<p onclick="x()">Good <a href="https://ok.example/" style="color:red">link</a> and <a href="javascript:alert(1)">bad</a></p><script>alert("no")</script><img src=x onerror=alert(1)><iframe src="https://evil.example/"></iframe>]]></message>
    <createdAt>2020-01-01T00:00:00Z</createdAt>
    <author><name>Mal &lt;b&gt;</name><email>mal@example.com</email></author>
    <thread dsq:id="1"/>
  </post>
  <post dsq:id="11">
    <message>&lt;b&gt;escaped&lt;/b&gt; tags &amp;amp; text</message>
    <createdAt>2020-01-01T00:00:01Z</createdAt>
    <isSpam>true</isSpam>
    <author><name>Spam</name></author>
    <thread dsq:id="1"/>
  </post>
  <post dsq:id="12">
    <message>&lt;p&gt;escaped &lt;em&gt;HTML&lt;/em&gt;&lt;/p&gt;</message>
    <createdAt>2020-01-01T00:00:02Z</createdAt>
    <author><name>Ann</name></author>
    <thread dsq:id="1"/>
  </post>
</disqus>"#;
    let file = write(&dir, "disqus.xml", xml.as_bytes());
    let out = import(&db, "disqus", &file, &[]);
    assert!(out.contains("comments: 2 created, 0 updated, 0 unchanged, 1 skipped (1 spam)"), "{out}");
    let mut conn = db.connect();
    let rows = comment_rows(&mut conn);
    let html = &rows[0].2;
    assert!(
        html.starts_with("<p>Good <a href=\"https://ok.example/\" rel=\"nofollow ugc noopener noreferrer\">link</a>"),
        "{html}"
    );
    for banned in ["onclick", "style", "javascript", "<script", "alert", "<img", "onerror", "<iframe"] {
        assert!(!html.contains(banned), "{banned} in {html}");
    }
    assert_eq!(rows[0].0.as_deref(), Some("Mal <b>"), "names are text");
    assert_eq!(rows[1].2, "<p>escaped <em>HTML</em></p>");
    let (source, title): (String, String) = comments::table
        .inner_join(articles::table)
        .order(comments::id)
        .select((comments::body_source, articles::title))
        .first(&mut conn)
        .unwrap();
    assert_eq!(source, "Good link and bad");
    assert_eq!(title, "A & B");
}

async fn malformed_or_wrong_files_write_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let db = &app.db;
    let dir = tempfile::tempdir().unwrap();
    let empty = {
        let mut conn = db.connect();
        snapshot(&mut conn)
    };
    let cut = DISQUS.find("<post dsq:id=\"11\">").unwrap() + 40;
    let remark = remark42_file();
    let remark_cut = &remark[..remark.len() - 60];
    let isso = isso_file(&dir);
    let cases: Vec<(&str, std::path::PathBuf, &str)> = vec![
        ("disqus", write(&dir, "cut.xml", &DISQUS.as_bytes()[..cut]), "it is cut short"),
        (
            "wordpress",
            write(&dir, "d.xml", DISQUS.as_bytes()),
            "line 2: this is not a WordPress export (WXR): its root element is <disqus>",
        ),
        ("disqus", write(&dir, "w.xml", WXR.as_bytes()), "this is not a Disqus export: its root element is <rss>"),
        (
            "disqus",
            write(&dir, "r.json", remark.as_bytes()),
            "line 1: this is not a Disqus export: it does not start as an XML file",
        ),
        ("remark42", write(&dir, "x.xml", DISQUS.as_bytes()), "line 1: this is not a Remark42 backup"),
        (
            "remark42",
            write(&dir, "cut.json", remark_cut.as_bytes()),
            "line 7: the file ends inside a record: it is cut short",
        ),
        ("isso", write(&dir, "i.xml", DISQUS.as_bytes()), "this is not an Isso database"),
        ("disqus", isso.clone(), "this is not a Disqus export"),
        (
            "disqus",
            write(&dir, "bad-date.xml", DISQUS.replace("2013-10-11T06:52:33Z", "yesterday").as_bytes()),
            "post 11: <createdAt> \"yesterday\" is not a date",
        ),
        (
            "disqus",
            write(&dir, "twice.xml", DISQUS.replace("<post dsq:id=\"11\">", "<post dsq:id=\"5\">").as_bytes()),
            "comment 5: the same id appears twice in the file",
        ),
        (
            "disqus",
            write(
                &dir,
                "tags.xml",
                DISQUS.replace("</author>\n        <ipAddress>", "</autor>\n<ipAddress>").as_bytes(),
            ),
            "not well-formed XML",
        ),
        ("disqus", write(&dir, "gz.xml.gz", &[0x1f, 0x8b, 8, 0, 1, 2, 3]), "line 1"),
        ("blogger", write(&dir, "any.xml", DISQUS.as_bytes()), "unknown format \"blogger\""),
    ];
    for (format, file, expected) in cases {
        let out = afterword(&["--format", format, &file.display().to_string()], &db.url);
        assert!(!out.status.success(), "{format} {}: {}", file.display(), stdout(&out));
        let err = stderr(&out);
        assert!(err.contains(expected), "{format} {}: expected {expected:?} in {err}", file.display());
        let mut conn = db.connect();
        assert_eq!(snapshot(&mut conn), empty, "{format} {} wrote something", file.display());
    }
    // A loop of parents is found while writing, and rolls everything back.
    let looped = DISQUS.replace(
        "<thread dsq:id=\"2\" />\n        <parent dsq:id=\"4\" />",
        "<thread dsq:id=\"2\" />\n        <parent dsq:id=\"12\" />",
    ) .replace("</disqus>", "<post dsq:id=\"12\"><message>x</message><createdAt>2013-10-11T06:51:33Z</createdAt><author><name>x</name></author><thread dsq:id=\"2\"/><parent dsq:id=\"5\"/></post></disqus>");
    let file = write(&dir, "loop.xml", looped.as_bytes());
    let out = afterword(&["--format", "disqus", &file.display().to_string()], &db.url);
    assert!(stderr(&out).contains("its chain of parents loops back to itself"), "{}", stderr(&out));
    let mut conn = db.connect();
    assert_eq!(snapshot(&mut conn), empty);
}

async fn dry_run_reports_and_writes_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let db = &app.db;
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "disqus.xml", DISQUS.as_bytes());
    let empty = snapshot(&mut db.connect());
    let out = import(db, "disqus", &file, &["--dry-run"]);
    assert!(out.starts_with("would import"), "{out}");
    assert!(out.contains("comments: 5 created") && out.contains("dry run: nothing was written"), "{out}");
    assert_eq!(snapshot(&mut db.connect()), empty);
    let real = import(db, "disqus", &file, &[]);
    assert!(real.contains("comments: 5 created"), "{real}");
}

async fn placeholder_accounts_cannot_log_in(backend: Backend) {
    let app = TestApp::start(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "disqus.xml", DISQUS.as_bytes());
    import(&app.db, "disqus", &file, &[]);
    let username: String = users::table
        .filter(users::imported_from.is_not_null())
        .select(users::username)
        .first(&mut app.db.connect())
        .unwrap();
    for (login, password) in [(username.as_str(), "!imported"), (username.as_str(), ""), ("foo@bar.com", "!imported")] {
        let response = app.login_from("10.1.1.1", login, password).await;
        assert_ne!(response.status(), StatusCode::SEE_OTHER, "{login} logged in");
    }
    // The profile shows the imported name and where it came from.
    let (status, body) = app.page(&format!("/users/{username}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("peter") && body.contains("Disqus"), "{body}");
}

/// Gives `username` the address `email`, confirmed or not.
async fn set_email(app: &TestApp, username: &str, email: &str, verified: bool) {
    let (username, email) = (username.to_owned(), email.to_owned());
    app.with_conn(move |c| {
        diesel::update(users::table.filter(users::username.eq(username)))
            .set((users::email.eq(Some(&email)), users::email_key.eq(Some(&email)), users::email_verified.eq(verified)))
            .execute(c)
            .unwrap()
    })
    .await;
}

async fn a_reader_claims_comments_imported_with_their_confirmed_address(backend: Backend) {
    let app = TestApp::start(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "disqus.xml", DISQUS.as_bytes());
    import(&app.db, "disqus", &file, &[]);
    let slug: String = articles::table
        .filter(articles::source_url.eq("http://example.org/"))
        .select(articles::slug)
        .first(&mut app.db.connect())
        .unwrap();
    // The anonymous page is cached before the claim: the claim must refresh it.
    assert!(app.page(&format!("/articles/{slug}")).await.1.contains("peter"));

    // A reader whose confirmed address no imported comment has: refused, nothing sent.
    let bob = app.signup("bob").await;
    set_email(&app, "bob", "bob@example.com", true).await;
    let response = app.post_form(&bob, "/settings/claim-comments", &[]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("No imported comment was written with your address."));
    // The right address, not confirmed: refused.
    let ann = app.signup("ann").await;
    set_email(&app, "ann", "foo@bar.com", false).await;
    let response = app.post_form(&ann, "/settings/claim-comments", &[]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("Confirm your email address first"));
    assert!(app.outbox().await.iter().all(|m| m.1 != "Claim your imported comments"));
    // Not signed in: no claim.
    let anonymous = app.new_client();
    let response = app.post_form(&anonymous, "/settings/claim-comments", &[]).await;
    assert!(response.status().is_client_error() || response.headers()["location"].to_str().unwrap().contains("login"));
    assert!(app.outbox().await.is_empty(), "nothing was mailed");

    // Confirmed: a link goes to the address.
    set_email(&app, "ann", "foo@bar.com", true).await;
    let response = app.post_form(&ann, "/settings/claim-comments", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let mail = app.outbox().await.into_iter().find(|m| m.1 == "Claim your imported comments").expect("a claim mail");
    assert_eq!(mail.0, "foo@bar.com");
    let link = mail.2.split_whitespace().find(|w| w.contains("/claim-comments/")).unwrap().to_owned();
    let path = &link[link.find("/claim-comments/").unwrap()..];
    let (status, form) = app.page(path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("ann"), "{form}");
    // Following it (whoever opens it: the link is the proof) moves the four comments.
    let response = app.post_form(&anonymous, path, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("4 imported comment(s) are now yours"));
    let ann_id = app.with_conn_blocking_user_id("ann");
    let mine: i64 =
        comments::table.filter(comments::author_id.eq(ann_id)).count().get_result(&mut app.db.connect()).unwrap();
    assert_eq!(mine, 4);
    let page = Page::parse(&app.page(&format!("/articles/{slug}")).await.1);
    let authors = page.texts(".comment-meta .author");
    assert!(authors.contains(&"ann".to_owned()) && !authors.contains(&"peter".to_owned()), "{authors:?}");
    // The placeholder's profile is gone; a used link does nothing more.
    let response = app.post_form(&anonymous, path, &[]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("This link has expired"));
    assert_eq!(app.page(path).await.0, StatusCode::BAD_REQUEST);
    // Importing again changes nothing and gives the claimed comments back to no one.
    let again = import(&app.db, "disqus", &file, &[]);
    assert!(again.contains("comments: 0 created"), "{again}");
    let mine_after: i64 =
        comments::table.filter(comments::author_id.eq(ann_id)).count().get_result(&mut app.db.connect()).unwrap();
    assert_eq!(mine_after, 4);

    // An expired link: refused, nothing moves.
    let carl = app.signup("carl").await;
    set_email(&app, "carl", "baz@email.foo", true).await;
    assert_eq!(app.post_form(&carl, "/settings/claim-comments", &[]).await.status(), StatusCode::SEE_OTHER);
    app.with_conn(|c| {
        use afterword::db::schema::account_tokens;
        diesel::update(account_tokens::table.filter(account_tokens::purpose.eq("claim")))
            .set(account_tokens::expires_at.eq(afterword::db::now() - time::Duration::minutes(1)))
            .execute(c)
            .unwrap()
    })
    .await;
    let mail = app.outbox().await.into_iter().rfind(|m| m.0 == "baz@email.foo").expect("a claim mail");
    let link = mail.2.split_whitespace().find(|w| w.contains("/claim-comments/")).unwrap().to_owned();
    let path = &link[link.find("/claim-comments/").unwrap()..];
    assert_eq!(app.post_form(&carl, path, &[]).await.status(), StatusCode::BAD_REQUEST);
    let carl_id = app.with_conn_blocking_user_id("carl");
    let carls: i64 =
        comments::table.filter(comments::author_id.eq(carl_id)).count().get_result(&mut app.db.connect()).unwrap();
    assert_eq!(carls, 0);
}

async fn upload_comments(
    app: &TestApp,
    client: &reqwest::Client,
    format: &str,
    name: &str,
    bytes: Vec<u8>,
    dry_run: bool,
) -> reqwest::Response {
    let token = app.csrf_token(client).await;
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let mut form =
        reqwest::multipart::Form::new().text("csrf_token", token).text("format", format.to_owned()).part("file", part);
    if dry_run {
        form = form.text("dry_run", "1");
    }
    client.post(app.url("/admin/comments/import")).multipart(form).send().await.unwrap()
}

async fn administrators_import_an_upload_with_the_same_rules(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.signup_as("ada", "admin").await;
    let reader = app.signup("bob").await;
    let (status, page) = app.page_as(&admin, "/admin/comments/import").await;
    assert_eq!(status, StatusCode::OK);
    assert!(Page::parse(&page).text("#comments-file-hint").contains("At most 2 MiB"));
    // Readers may not.
    let response = upload_comments(&app, &reader, "disqus", "disqus.xml", DISQUS.as_bytes().to_vec(), false).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let empty = snapshot(&mut app.db.connect());

    // A wrong format: 400, the file named, what was chosen kept, nothing written.
    let response = upload_comments(&app, &admin, "wordpress", "disqus.xml", DISQUS.as_bytes().to_vec(), false).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = Page::parse(&response.text().await.unwrap());
    let error = page.text("#comments-file-error");
    assert!(error.contains("“disqus.xml”") && error.contains("not a WordPress export"), "{error}");
    assert_eq!(page.attr("#comments-format option[selected]", "value"), "wordpress");
    assert_eq!(snapshot(&mut app.db.connect()), empty);
    // A file cut short, likewise.
    let cut = DISQUS.as_bytes()[..DISQUS.len() / 2].to_vec();
    let response = upload_comments(&app, &admin, "disqus", "cut.xml", cut, false).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("cut short"));
    assert_eq!(snapshot(&mut app.db.connect()), empty);
    // Too big: 413, nothing written.
    let big = vec![b' '; 3 * 1024 * 1024];
    let response = upload_comments(&app, &admin, "disqus", "big.xml", big, false).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Only checking: the summary, nothing written.
    let response = upload_comments(&app, &admin, "disqus", "disqus.xml", DISQUS.as_bytes().to_vec(), true).await;
    assert_eq!(response.status(), StatusCode::OK);
    let summary = Page::parse(&response.text().await.unwrap()).texts(".import-summary li");
    assert!(summary.iter().any(|l| l.starts_with("comments: 5 created")), "{summary:?}");
    assert_eq!(snapshot(&mut app.db.connect()), empty);
    // For real, then again: the second changes nothing.
    let response = upload_comments(&app, &admin, "disqus", "disqus.xml", DISQUS.as_bytes().to_vec(), false).await;
    assert_eq!(response.status(), StatusCode::OK);
    let summary = Page::parse(&response.text().await.unwrap()).texts(".import-summary li");
    assert!(summary.iter().any(|l| l.starts_with("comments: 5 created")), "{summary:?}");
    let after = snapshot(&mut app.db.connect());
    assert_eq!(after.comments.len(), 5);
    let (_, body) = app.page("/articles/hello-world").await;
    assert!(body.contains("Hello, World.") && body.contains("peter"));
    let response = upload_comments(&app, &admin, "disqus", "disqus.xml", DISQUS.as_bytes().to_vec(), false).await;
    let summary = Page::parse(&response.text().await.unwrap()).texts(".import-summary li");
    assert!(summary.iter().any(|l| l.starts_with("comments: 0 created, 0 updated, 5 unchanged")), "{summary:?}");
    assert_eq!(snapshot(&mut app.db.connect()), after);
}

async fn running_instances_drop_cached_pages_when_an_import_commits() {
    let app = TestApp::builder(Backend::Postgres).with_seed_article().start().await;
    let path = format!("/articles/{SEED_SLUG}");
    assert!(!app.page(&path).await.1.contains("peter"));
    assert!(!app.page(&path).await.1.contains("peter"), "cached");
    let dir = tempfile::tempdir().unwrap();
    let xml = DISQUS.replace("http://example.org/", "https://techcrunch.com/");
    let file = write(&dir, "disqus.xml", xml.as_bytes());
    import(&app.db, "disqus", &file, &[]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !app.page(&path).await.1.contains("peter") {
        assert!(std::time::Instant::now() < deadline, "the cached page was not dropped");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
