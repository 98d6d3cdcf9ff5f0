//! `serve --demo`: sample articles in an empty database, once.

use afterword::db::articles as article_queries;
use afterword::db::schema::articles;
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, SEED_SLUG};

both_backends!(demo_articles_load_into_an_empty_database_once, demo_leaves_a_database_with_articles_alone);

async fn demo_articles_load_into_an_empty_database_once(backend: Backend) {
    let app = TestApp::builder(backend).demo().start().await;
    let page = Page::parse(&app.page("/").await.1);
    let titles = page.texts(".article-card h2");
    assert_eq!(titles.len(), 20, "a full first page");
    assert!(titles[0].starts_with("Meta (again) denies"), "the seed article is newest");
    assert_eq!(page.attr("a[rel=next]", "href"), "/?page=2");
    assert_eq!(app.page(&format!("/articles/{SEED_SLUG}")).await.0, StatusCode::OK);
    let loaded = app.with_conn(|c| article_queries::count(c).unwrap()).await;
    assert!(loaded >= 21);

    // A second start with --demo adds nothing, and neither does one after every
    // article was deleted: the demo is loaded once in a database's life.
    let again = app.with_conn(|c| afterword::demo::seed(c).unwrap()).await;
    assert!(again.is_none());
    assert_eq!(app.with_conn(|c| article_queries::count(c).unwrap()).await, loaded);
    app.with_conn(|c| diesel::delete(articles::table).execute(c).unwrap()).await;
    assert!(app.with_conn(|c| afterword::demo::seed(c).unwrap()).await.is_none());
    assert_eq!(app.with_conn(|c| article_queries::count(c).unwrap()).await, 0);
}

async fn demo_leaves_a_database_with_articles_alone(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    assert!(app.with_conn(|c| afterword::demo::seed(c).unwrap()).await.is_none());
    assert_eq!(app.with_conn(|c| article_queries::count(c).unwrap()).await, 1);
}
