//! Lists that go on for pages: search results, the administrators' articles, the
//! inbox; and the page number every list reads.

use std::collections::HashSet;

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{generated_articles, Backend, TestApp, SEED_SLUG};

both_backends!(
    search_results_go_on_over_pages_that_keep_the_query,
    admin_article_list_pages_and_finds_by_title,
    the_inbox_pages_and_every_list_refuses_bad_page_numbers,
);

/// Follows `a[rel=next]` from `path`, collecting `css` texts of every page.
async fn every_page(app: &TestApp, client: &reqwest::Client, path: &str, css: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(path) = next.take() {
        let (status, body) = app.page_as(client, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let page = Page::parse(&body);
        pages.push(page.texts(css));
        if page.count("a[rel=next]") > 0 {
            next = Some(page.attr("a[rel=next]", "href"));
        }
        assert!(pages.len() < 20, "the pages end");
    }
    pages
}

fn assert_no_repeats(pages: &[Vec<String>], expected: usize) {
    let all: Vec<&String> = pages.iter().flatten().collect();
    let distinct: HashSet<&String> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "no repeats: {pages:?}");
    assert_eq!(all.len(), expected, "all of them: {pages:?}");
}

async fn search_results_go_on_over_pages_that_keep_the_query(backend: Backend) {
    let app = TestApp::builder(backend).with_articles(generated_articles(25)).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    for i in 0..45 {
        app.comment(&ann, SEED_SLUG, &format!("Generated remark number {i}"), None).await;
    }
    let client = app.new_client();

    // Ten articles and twenty comments a page; the pager keeps the words.
    let (status, body) = app.page("/search?q=generated").await;
    assert_eq!(status, StatusCode::OK);
    let first = Page::parse(&body);
    assert_eq!(first.count(".search-results.articles li"), 10);
    assert_eq!(first.count(".search-results.comments li"), 20);
    assert_eq!(first.attr("a[rel=next]", "href"), "/search?q=generated&page=2");
    let second = Page::parse(&app.page("/search?q=generated&page=2").await.1);
    assert_eq!(second.attr("a[rel=prev]", "href"), "/search?q=generated");
    assert_eq!(second.attr("#search-q", "value"), "generated");

    let articles = every_page(&app, &client, "/search?q=generated", ".search-results.articles h3").await;
    assert_eq!(articles.iter().map(Vec::len).collect::<Vec<_>>(), [10, 10, 5]);
    assert_no_repeats(&articles, 25);
    let comments = every_page(&app, &client, "/search?q=generated", ".search-results.comments .snippet").await;
    assert_eq!(comments.iter().map(Vec::len).collect::<Vec<_>>(), [20, 20, 5]);
    assert_no_repeats(&comments, 45);

    // Words with spaces and symbols survive the trip.
    let page = Page::parse(&app.page("/search?q=generated+%26+number").await.1);
    assert_eq!(page.attr("a[rel=next]", "href"), "/search?q=generated+%26+number&page=2");

    // Past the last page of results: 404; not a page number: 400, naming the range.
    assert_eq!(app.page("/search?q=generated&page=4").await.0, StatusCode::NOT_FOUND);
    for bad in ["0", "-1", "zz", "1.5", "21", "99999999999", ""] {
        let (status, body) = app.page(&format!("/search?q=generated&page={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "page={bad}");
        assert!(body.contains("The page number must be a whole number from 1 to 20"), "{body}");
    }
}

async fn admin_article_list_pages_and_finds_by_title(backend: Backend) {
    let mut articles: Vec<serde_json::Value> = serde_json::from_str(&generated_articles(120)).unwrap();
    articles.push(serde_json::json!({
        "title": "Percent 100% and under_score", "source_url": "https://example.com/odd",
        "source_name": "example.com", "published_at": "2020-01-01", "summary": ["s"], "key_takeaways": [],
    }));
    let app = TestApp::builder(backend).with_articles(serde_json::to_string(&articles).unwrap()).start().await;
    let admin = app.signup_as("adam", "admin").await;

    // Fifty a page, newest first, every one once.
    let pages = every_page(&app, &admin, "/admin/articles", ".articles-admin tbody td:first-child").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 21]);
    assert_no_repeats(&pages, 121);
    assert_eq!(pages[0][0], "Generated article number 0");
    assert_eq!(pages[2][20], "Percent 100% and under_score");
    let second = Page::parse(&app.page_as(&admin, "/admin/articles?page=2").await.1);
    assert_eq!(second.attr("a[rel=prev]", "href"), "/admin/articles");
    assert_eq!(second.attr("a[rel=next]", "href"), "/admin/articles?page=3");

    // A title search, in any case; its pages keep it.
    let found = Page::parse(&app.page_as(&admin, "/admin/articles?q=NUMBER+1").await.1);
    let titles = found.texts(".articles-admin tbody td:first-child");
    assert_eq!(titles.len(), 31, "1, 10-19, 100-119");
    assert!(titles.iter().all(|t| t.contains("number 1")), "{titles:?}");
    assert_eq!(found.attr("#articles-q", "value"), "NUMBER 1");
    assert_eq!(found.count("a[rel=next]"), 0);
    let pages = every_page(&app, &admin, "/admin/articles?q=article", ".articles-admin tbody td:first-child").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 20]);
    let second = Page::parse(&app.page_as(&admin, "/admin/articles?q=article&page=2").await.1);
    assert_eq!(second.attr("a[rel=next]", "href"), "/admin/articles?q=article&page=3");
    // `%` and `_` are plain characters.
    let odd = Page::parse(&app.page_as(&admin, "/admin/articles?q=100%25").await.1);
    assert_eq!(odd.texts(".articles-admin tbody td:first-child"), ["Percent 100% and under_score"]);
    let odd = Page::parse(&app.page_as(&admin, "/admin/articles?q=er_").await.1);
    assert_eq!(odd.texts(".articles-admin tbody td:first-child"), ["Percent 100% and under_score"]);
    let none = Page::parse(&app.page_as(&admin, "/admin/articles?q=nothing+like+it").await.1);
    assert_eq!(none.count(".articles-admin"), 0);
    assert!(none.text(".empty").contains("nothing like it"));

    // Bad page numbers: 400 with the reason; past the end: 404; a search too long: 400.
    for bad in ["0", "zz", "-3", "1001", "2.0"] {
        let (status, body) = app.page_as(&admin, &format!("/admin/articles?page={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "page={bad}");
        assert!(body.contains("The page number must be a whole number from 1 to 1000"), "{body}");
    }
    assert_eq!(app.page_as(&admin, "/admin/articles?page=4").await.0, StatusCode::NOT_FOUND);
    let long = "x".repeat(201);
    assert_eq!(app.page_as(&admin, &format!("/admin/articles?q={long}")).await.0, StatusCode::BAD_REQUEST);
    // Still only for administrators.
    let ann = app.signup("ann").await;
    assert_eq!(app.page_as(&ann, "/admin/articles?page=2").await.0, StatusCode::FORBIDDEN);
}

async fn the_inbox_pages_and_every_list_refuses_bad_page_numbers(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let parent = app.comment(&ann, SEED_SLUG, "Reply to me", None).await;
    for i in 0..55 {
        app.comment(&bob, SEED_SLUG, &format!("Reply {i}"), Some(parent)).await;
    }
    let pages = every_page(&app, &ann, "/inbox", ".inbox .comment-body").await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 5]);
    assert_no_repeats(&pages, 55);
    assert_eq!(pages[0][0], "Reply 54");
    assert_eq!(app.page_as(&ann, "/inbox?page=3").await.0, StatusCode::NOT_FOUND);

    let moderator = app.signup_as("maud", "moderator").await;
    for path in ["/inbox", "/saved", "/", "/users/ann", "/search?q=reply&", "/modlog"] {
        let sep = if path.contains('?') { "" } else { "?" };
        for bad in ["zz", "0", "-1"] {
            let (status, body) = app.page_as(&moderator, &format!("{path}{sep}page={bad}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} page={bad}");
            assert!(body.contains("The page number must be a whole number from 1 to"), "{path}: {body}");
        }
    }
}
