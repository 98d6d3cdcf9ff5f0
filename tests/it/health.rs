//! `/healthz`.

use std::time::Duration;

use reqwest::StatusCode;

use crate::common::{Backend, TestApp};
use crate::{both_backends, sqlite_only};

both_backends!(healthz_reports_the_database);

async fn healthz_reports_the_database(backend: Backend) {
    let app = TestApp::builder(backend).db_timeout(Duration::from_millis(500)).start().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "ok\n");

    if backend == Backend::Postgres {
        // The database goes away under the running site.
        app.db.drop_now();
        let response = app.get("/healthz").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.text().await.unwrap(), "database unavailable\n");
        let (status, body) = app.page("/").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "pages say so too");
        assert!(body.contains("cannot reach its database"));
    }
}

// SQLite only: a full storage is simulated with SQLite's page limit on every pooled
// connection (PostgreSQL's "No space left on device" maps the same way, see
// `db::storage`).
sqlite_only!(a_full_storage_answers_503_and_recovers_without_restart);

async fn a_full_storage_answers_503_and_recovers_without_restart() {
    use diesel::prelude::*;

    let app = TestApp::builder(Backend::Sqlite).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let size = app.pool.max_size() as usize;
    let limit_pages = |pages: u64| {
        let pool = app.pool.clone();
        tokio::task::spawn_blocking(move || {
            // Every connection of the pool at once, so that each gets the limit.
            let mut all: Vec<_> = (0..size).map(|_| pool.get().unwrap()).collect();
            for conn in &mut all {
                diesel::sql_query(format!("PRAGMA max_page_count = {pages}")).execute(&mut ***conn).unwrap();
            }
        })
    };
    limit_pages(1).await.unwrap(); // SQLite keeps it at the current size: no growth.

    let path = format!("/articles/{}/comments", crate::common::SEED_SLUG);
    let body = "A long comment that needs new pages. ".repeat(250);
    let mut refused = None;
    for _ in 0..50 {
        let response = app.post_form(&ann, &path, &[("body", &body)]).await;
        if response.status() != StatusCode::SEE_OTHER {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("the storage filled up");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    assert!(refused.text().await.unwrap().contains("cannot store new comments"), "a clear message");
    assert_eq!(app.page(&format!("/articles/{}", crate::common::SEED_SLUG)).await.0, StatusCode::OK, "reads work");
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.text().await.unwrap(), "storage full\n");

    // Space comes back: the site recovers by itself.
    limit_pages(1_000_000).await.unwrap();
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    let response = app.post_form(&ann, &path, &[("body", "Room again.")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}
