//! Thread pages within a budget: "more replies" and "continue this thread" links, and
//! paging that neither repeats nor skips.

use std::collections::{HashMap, HashSet};

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, SEED_SLUG};

both_backends!(
    every_comment_shows_exactly_once_within_the_budget,
    newest_first_paging_neither_repeats_nor_skips,
    pinned_comments_lead_and_every_page_still_shows_each_once,
    more_replies_pages_refuse_what_is_not_there,
);

fn article() -> String {
    format!("/articles/{SEED_SLUG}")
}

/// What a page adds to the crawl: the comments it is about (not those it repeats for
/// context).
#[derive(Debug, Clone, Copy)]
enum Kind {
    Article,
    Replies,
    Continue,
}

/// Follows every "more comments", "more replies" and "continue this thread" link from
/// the first page of `sort`, counting how often each comment shows.
async fn crawl(app: &TestApp, sort: &str) -> (HashMap<i64, usize>, usize) {
    let mut seen: HashMap<i64, usize> = HashMap::new();
    let mut queue = vec![(format!("{}?sort={sort}", article()), Kind::Article)];
    let mut first_page = 0;
    while let Some((url, kind)) = queue.pop() {
        let (status, body) = app.page(&url).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        let page = Page::parse(&body);
        let ids = match kind {
            Kind::Article => page.attrs("#comments li.comment", "data-id"),
            Kind::Replies => page.attrs("#more-replies li.comment", "data-id"),
            Kind::Continue => page.attrs("li.comment[aria-current=true] li.comment", "data-id"),
        };
        if first_page == 0 {
            first_page = ids.len();
        }
        for id in ids {
            *seen.entry(id.parse().unwrap()).or_default() += 1;
        }
        for href in page.attrs("a[data-more]", "href") {
            queue.push((href, Kind::Replies));
        }
        for href in page.attrs(".continue a", "href") {
            queue.push((href, Kind::Continue));
        }
        for href in page.attrs(".more a[rel=next]", "href") {
            queue.push((href.trim_end_matches("#comments").to_owned(), Kind::Article));
        }
    }
    (seen, first_page)
}

async fn every_comment_shows_exactly_once_within_the_budget(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mut all = HashSet::new();
    let mut post = async |parent: Option<i64>, n: usize| -> i64 {
        let client = if n % 2 == 0 { &ann } else { &bob };
        let id = app.comment(client, SEED_SLUG, &format!("comment {n}"), parent).await;
        all.insert(id);
        id
    };
    // 55 threads (more than a page), the first with 30 replies (one of them with 12
    // of its own), the second a chain 12 deep, the others with 10 replies each: more
    // comments than one page may show.
    let mut tops = Vec::new();
    for n in 0..55 {
        tops.push(post(None, n).await);
    }
    let mut n = 100;
    let mut busy = 0;
    for i in 0..30 {
        let id = post(Some(tops[0]), n).await;
        n += 1;
        if i == 3 {
            busy = id;
        }
    }
    for _ in 0..12 {
        post(Some(busy), n).await;
        n += 1;
    }
    let mut parent = tops[1];
    for _ in 0..12 {
        parent = post(Some(parent), n).await;
        n += 1;
    }
    for top in &tops[2..] {
        for _ in 0..10 {
            post(Some(*top), n).await;
            n += 1;
        }
    }
    let total = all.len();
    assert!(total > 500, "{total} comments");
    // Votes, so that the ranked orders differ from the others.
    for (i, id) in all.iter().enumerate().take(40) {
        app.vote(if i % 2 == 0 { &ann } else { &bob }, *id, if i % 3 == 0 { -1 } else { 1 }).await;
    }

    for sort in ["best", "top", "new", "old", "controversial"] {
        let (seen, first_page) = crawl(&app, sort).await;
        assert_eq!(first_page, 500, "{sort}: the first page shows as many as its budget");
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{sort}: shown more than once: {twice:?}");
        let missed: Vec<_> = all.iter().filter(|id| !seen.contains_key(id)).collect();
        assert!(missed.is_empty(), "{sort}: never shown: {missed:?}");
        assert_eq!(seen.len(), total, "{sort}");
    }

    // The link says how many are left out, and its page shows them.
    // (Oldest first, the first thread is on the first page; the budget is shared out
    // evenly among its threads.)
    let page = Page::parse(&app.page(&format!("{}?sort=old", article())).await.1);
    let shown = page.count(&format!("#comment-{} > details > .replies > li.comment", tops[0]));
    assert!((1..=10).contains(&shown), "{shown} replies shown");
    let link = format!("#comment-{} > details > .replies > .more-replies a", tops[0]);
    assert_eq!(page.text(&link), format!("{} more replies", 30 - shown));
    let href = page.attr(&link, "href");
    assert_eq!(href, format!("/comments/{}/replies?sort=old&skip={shown}&indent=1", tops[0]));
    let more = Page::parse(&app.page(&href).await.1);
    assert_eq!(more.count("#more-replies > li.comment"), 30 - shown);
    assert_eq!(more.count(".ancestors > li.comment"), 1, "the comment replied to, for context");
}

async fn newest_first_paging_neither_repeats_nor_skips(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mut before = HashSet::new();
    for i in 0..60 {
        before.insert(app.comment(&ann, SEED_SLUG, &format!("thread {i}"), None).await);
    }
    for sort in ["new", "old"] {
        let top_ids = |page: &Page| -> Vec<i64> {
            page.attrs("#comments .comment-tree > li.comment", "data-id").iter().map(|id| id.parse().unwrap()).collect()
        };
        let first = Page::parse(&app.page(&format!("{}?sort={sort}", article())).await.1);
        let mut seen = top_ids(&first);
        assert_eq!(seen.len(), 50);
        // Comments arrive while the reader reads the first page.
        let mut arrived = Vec::new();
        for i in 0..7 {
            arrived.push(app.comment(&ann, SEED_SLUG, &format!("{sort} arrival {i}"), None).await);
        }
        let next = first.attr(".more a[rel=next]", "href");
        let second = Page::parse(&app.page(next.trim_end_matches("#comments")).await.1);
        seen.extend(top_ids(&second));
        let unique: HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: none repeated");
        if sort == "new" {
            assert_eq!(unique, before, "new: every comment there when the reader began, once");
        } else {
            // Oldest first, the arrivals come last, after those that were there.
            assert!(before.is_subset(&unique), "old: none skipped");
            let tail: Vec<i64> = seen[seen.len() - arrived.len()..].to_vec();
            assert_eq!(tail, arrived, "old: the arrivals at the end");
        }
        before.extend(arrived);
    }
}

async fn more_replies_pages_refuse_what_is_not_there(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let top = app.comment(&ann, SEED_SLUG, "a comment", None).await;
    app.comment(&ann, SEED_SLUG, "a reply", Some(top)).await;
    let replies = |query: &str| format!("/comments/{top}/replies{query}");
    assert_eq!(app.page(&replies("")).await.0, StatusCode::OK);
    assert_eq!(app.page(&replies("?skip=0&indent=3")).await.0, StatusCode::OK);
    for bad in ["?skip=x", "?skip=-1", "?indent=99", "?skip=99999999999"] {
        let (status, body) = app.page(&replies(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(body.contains("must be a whole number"), "{bad}");
    }
    assert_eq!(app.page(&replies("?skip=5")).await.0, StatusCode::NOT_FOUND, "past the end");
    for missing in ["/comments/999999/replies", "/comments/abc/replies"] {
        assert_eq!(app.page(missing).await.0, StatusCode::NOT_FOUND, "{missing}");
    }
}

async fn pinned_comments_lead_and_every_page_still_shows_each_once(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mona = app.signup_as("mona", "moderator").await;
    let mut all = Vec::new();
    for i in 0..105 {
        all.push(app.comment(&ann, SEED_SLUG, &format!("thread {i}"), None).await);
    }
    // One comment is pinned at a time; it sits in the middle of every order.
    let pinned = all[60];
    let r = app.post_form(&mona, &format!("/mod/comments/{pinned}/pin"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for sort in ["best", "top", "new", "old", "controversial"] {
        let mut url = Some(format!("{}?sort={sort}", article()));
        let mut seen = Vec::new();
        let mut first = true;
        while let Some(next) = url.take() {
            let page = Page::parse(&app.page(&next).await.1);
            let ids: Vec<i64> = page
                .attrs("#comments .comment-tree > li.comment", "data-id")
                .iter()
                .map(|id| id.parse().unwrap())
                .collect();
            if first {
                assert_eq!(ids[0], pinned, "{sort}: the pinned comment leads the first page");
                first = false;
            }
            seen.extend(ids);
            url = page.attrs(".more a[rel=next]", "href").first().map(|h| h.trim_end_matches("#comments").to_owned());
        }
        let unique: HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: none twice");
        assert_eq!(unique, all.iter().copied().collect::<HashSet<i64>>(), "{sort}: every one");
    }
}
