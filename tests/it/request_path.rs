//! The request path under a busy or absent database: the queue in front of the pool,
//! SQLite's one writer, reads that do not write, routes that need no session.

use std::time::Duration;

use afterword::db::schema::sessions;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::common::html::Page;
use crate::common::{Backend, TestApp, SEED_SLUG};
use crate::{both_backends, postgres_only, sqlite_only};

both_backends!(
    a_busy_database_does_not_fail_a_saved_article_view,
    logged_in_static_files_need_no_database,
    session_and_unread_count_cost_one_query,
);

/// Shorter than the SQLite busy timeout and the PostgreSQL statement timeout (5 s): a
/// request that waits for the lock holder fails this client.
const READ_TIMEOUT: Duration = Duration::from_secs(4);

/// `client` saves the seed article.
async fn save(app: &TestApp, client: &reqwest::Client) {
    let response = app
        .post_form(
            client,
            &format!("/articles/{SEED_SLUG}/save"),
            &[("action", "save"), ("return_to", &format!("/articles/{SEED_SLUG}"))],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

async fn new_comments_badge(app: &TestApp, client: &reqwest::Client) -> usize {
    Page::parse(&app.page_as(client, "/saved").await.1).count(".new-comments")
}

/// Another connection holds what marking a saved article and a session seen would
/// write: on SQLite the database's write lock, on PostgreSQL the rows.
fn hold_write_lock(app: &TestApp) -> afterword::db::DbConn {
    let mut conn = app.db.connect();
    let sql = match app.db.backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN; SELECT * FROM saved_articles FOR UPDATE; SELECT * FROM sessions FOR UPDATE",
    };
    conn.batch_execute(sql).unwrap();
    conn
}

async fn a_busy_database_does_not_fail_a_saved_article_view(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    save(&app, &ann).await;
    app.comment(&bob, SEED_SLUG, "Something ann has not seen", None).await;
    assert_eq!(new_comments_badge(&app, &ann).await, 1);
    // The session was last seen long enough ago to be marked seen again.
    let stale = afterword::db::now() - time::Duration::minutes(5);
    let set_last_seen = move |c: &mut afterword::db::DbConn| {
        diesel::update(sessions::table).set(sessions::last_seen_at.eq(stale)).execute(c).unwrap();
    };
    app.with_conn(set_last_seen).await;

    let mut lock = hold_write_lock(&app);
    let response = ann
        .get(app.url(&format!("/articles/{SEED_SLUG}")))
        .timeout(READ_TIMEOUT)
        .send()
        .await
        .expect("the page answers while another connection holds the write lock");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Something ann has not seen"));
    lock.batch_execute("ROLLBACK").unwrap();

    // With the lock gone, opening the article marks it seen again.
    assert_eq!(new_comments_badge(&app, &ann).await, 1, "not marked seen while locked");
    // The mark is a best-effort write: one that finds SQLite's writer busy (the session
    // touch beside it) is skipped, and the next view makes it.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        assert_eq!(app.page_as(&ann, &format!("/articles/{SEED_SLUG}")).await.0, StatusCode::OK);
        if new_comments_badge(&app, &ann).await == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never marked seen once the lock is gone");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // And the sessions are marked seen again (beside the requests: wait for it).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let oldest: time::PrimitiveDateTime = app
            .with_conn(|c| {
                sessions::table.select(sessions::last_seen_at).order(sessions::last_seen_at).first(c).unwrap()
            })
            .await;
        if oldest > stale {
            break;
        }
        // bob's session is touched by his own next request.
        app.page_as(&bob, "/").await;
        assert!(std::time::Instant::now() < deadline, "the sessions were never marked seen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The security middleware resolves a session and the reader's unread count in one
/// query, without writing.
async fn session_and_unread_count_cost_one_query(backend: Backend) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use afterword::db::users::{self, SessionLifetime};
    use diesel::connection::{Connection, InstrumentationEvent};

    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let parent = app.comment(&ann, SEED_SLUG, "A question", None).await;
    app.comment(&bob, SEED_SLUG, "An answer", Some(parent)).await;
    app.comment(&bob, SEED_SLUG, "Another answer", Some(parent)).await;
    let ann_id = app.with_conn_blocking_user_id("ann");
    let hash: String = app
        .with_conn(move |c| {
            sessions::table.filter(sessions::user_id.eq(ann_id)).select(sessions::token_hash).first(c).unwrap()
        })
        .await;

    let mut conn = app.db.connect();
    let queries = Arc::new(AtomicUsize::new(0));
    let counter = queries.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { .. } = event {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    let lifetime = SessionLifetime { idle: time::Duration::days(30), absolute: time::Duration::days(90) };
    let (user, _, unread) = users::session_user(&mut conn, &hash, lifetime).unwrap().expect("ann's session");
    assert_eq!(user.username, "ann");
    assert_eq!(unread, 2);
    assert_eq!(queries.load(Ordering::SeqCst), 1, "one query");
    assert!(users::session_user(&mut conn, "no such session", lifetime).unwrap().is_none());

    // The count the page shows is the one the query gives.
    let (_, page) = app.page_as(&ann, "/").await;
    assert_eq!(Page::parse(&page).text(".badge"), "2 unread");
}

async fn logged_in_static_files_need_no_database(backend: Backend) {
    let app = TestApp::builder(backend).db_timeout(Duration::from_millis(500)).start().await;
    let ann = app.signup("ann").await;
    let (status, body) = app.page_as(&ann, "/").await;
    assert_eq!(status, StatusCode::OK);
    let css = Page::parse(&body).attr("link[rel=stylesheet]", "href");
    assert!(css.starts_with("/static/"), "{css}");

    let response = ann.get(app.url(&css)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("set-cookie").is_none(), "no cookie on a static file");
    let cache = response.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cache.contains("max-age"), "a logged-in static file stays cacheable: {cache}");

    if backend == Backend::Postgres {
        // The database goes away: the session cannot be looked up, and need not be.
        app.db.drop_now();
        let response = ann.get(app.url(&css)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "a logged-in static file answers without the database");
        let response = ann.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "health asks the database, not the session");
        assert_eq!(response.text().await.unwrap(), "database unavailable\n");
        let response = ann.get(app.url("/")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key("retry-after"));
    }
}

sqlite_only!(sqlite_writers_queue_without_starving_readers);

/// SQLite only: it has one writer for the whole file, which another process can hold;
/// PostgreSQL writers lock rows and do not queue for the whole database.
async fn sqlite_writers_queue_without_starving_readers() {
    let app = TestApp::builder(Backend::Sqlite).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let token = app.csrf_token(&bob).await;
    let pool_size = app.pool.max_size();

    let mut lock = app.db.connect();
    lock.batch_execute("BEGIN IMMEDIATE").unwrap();
    let writes: Vec<_> = (0..12)
        .map(|i| {
            let request = bob
                .post(app.url(&format!("/articles/{SEED_SLUG}/comments")))
                .form(&[("body", format!("write {i} waiting for the lock")), ("csrf_token", token.clone())]);
            tokio::spawn(async move { request.send().await.map(|r| r.status()) })
        })
        .collect();
    // Ready once a writer holds a pooled connection (it waits on the file lock).
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while app.pool.state().connections == app.pool.state().idle_connections {
        assert!(std::time::Instant::now() < deadline, "no write reached the database");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Twelve writers are waiting; readers still get connections.
    for path in ["/healthz".to_owned(), format!("/articles/{SEED_SLUG}"), "/inbox".to_owned()] {
        let response = ann.get(app.url(&path)).timeout(READ_TIMEOUT).send().await;
        let response = response.unwrap_or_else(|e| panic!("{path} answers while writers wait: {e}"));
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    assert!(app.pool.state().connections <= pool_size);
    lock.batch_execute("ROLLBACK").unwrap();

    // Once the lock is gone, the queued writes go through one at a time or give up
    // with 503: never a 500.
    for write in writes {
        let status = write.await.unwrap().expect("the write gets an answer");
        assert!(status == StatusCode::SEE_OTHER || status == StatusCode::SERVICE_UNAVAILABLE, "{status}");
    }
}

postgres_only!(a_locked_table_answers_503_then_recovers);

/// PostgreSQL only: a statement that waits on a lock ends at the statement timeout
/// (SQLite's equivalent, the busy timeout, is covered above).
async fn a_locked_table_answers_503_then_recovers() {
    let app = TestApp::builder(Backend::Postgres).with_seed_article().start().await;
    assert_eq!(app.page("/").await.0, StatusCode::OK);

    let mut lock = app.db.connect();
    lock.batch_execute("BEGIN; LOCK TABLE articles IN ACCESS EXCLUSIVE MODE").unwrap();
    // A page rendered before is still sent, from the page cache.
    assert_eq!(app.page("/").await.0, StatusCode::OK);
    let (status, body) = app.page("/?page=1").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "a page whose table is locked gives up");
    assert!(body.contains("cannot reach its database"));
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK, "the rest of the site answers");
    lock.batch_execute("COMMIT").unwrap();

    let (status, body) = app.page("/?page=1").await;
    assert_eq!(status, StatusCode::OK, "recovers by itself once the lock is gone");
    assert!(body.contains("Meta (again) denies"));
}
