//! Signed-in readers share one rendering of a thread: each reader's page is the shared
//! thread with their own parts (votes, their edit and delete buttons) filled in, and it
//! must be exactly the page rendered for them alone, in every encoding.

use std::io::Read;

use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, SEED_SLUG};

both_backends!(a_shared_thread_is_each_readers_own_page, a_shared_thread_follows_every_change);

fn article() -> String {
    format!("/articles/{SEED_SLUG}")
}

/// The page as `client` gets it, plain and gzip-compressed (decompressed), checked equal.
async fn both_encodings(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    let plain = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK, "{path}");
    let plain = plain.text().await.unwrap();
    let gzip = client.get(app.url(path)).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip", "{path}");
    let packed = gzip.bytes().await.unwrap();
    let mut unpacked = String::new();
    flate2::read::GzDecoder::new(&packed[..]).read_to_string(&mut unpacked).expect("one valid gzip member");
    assert_eq!(unpacked, plain, "{path}: gzip and plain differ");
    assert!(packed.len() * 2 < plain.len(), "{path}: {} of {} bytes", packed.len(), plain.len());
    plain
}

async fn a_shared_thread_is_each_readers_own_page(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let cat = app.signup("cat").await;
    let mona = app.signup_as("mona", "moderator").await;
    // Enough text for the thread to span several shared chunks.
    let filler = "A long thought about the article, with more words than usual. ".repeat(8);
    let mut ids = Vec::new();
    for n in 0..30 {
        let author = if n % 3 == 0 { &bob } else { &ann };
        ids.push(app.comment(author, SEED_SLUG, &format!("Comment {n}. {filler}"), None).await);
    }
    let reply = app.comment(&cat, SEED_SLUG, "Cat's reply", Some(ids[20])).await;
    for (client, id, value) in [(&bob, ids[1], 1), (&bob, ids[16], -1), (&cat, ids[29], 1), (&ann, reply, 1)] {
        assert_eq!(app.vote(client, id, value).await.status(), StatusCode::SEE_OTHER);
    }
    // A bystander warms the shared thread first.
    let dan = app.signup("dana").await;
    let dan_page = both_encodings(&app, &dan, &article()).await;

    for (name, client) in [("ann", &ann), ("bob", &bob), ("cat", &cat), ("dana", &dan), ("mona", &mona)] {
        let shared = both_encodings(&app, client, &article()).await;
        // A query string no page reads is answered without any shared rendering.
        let alone = app.page_as(client, &format!("{}?from=elsewhere", article())).await.1;
        // The save button comes back to the address asked, query and all.
        let alone = alone.replace("?from=elsewhere", "");
        let (shared, alone) = (without_tokens(&shared), without_tokens(&alone));
        if let Some(at) = shared
            .bytes()
            .zip(alone.bytes())
            .position(|(a, b)| a != b)
            .or_else(|| (shared.len() != alone.len()).then_some(shared.len().min(alone.len())))
        {
            let around = |s: &str| s.get(at.saturating_sub(200)..(at + 200).min(s.len())).unwrap_or("").to_owned();
            panic!(
                "{name}'s page differs from its own rendering at {at}:\n{}\n---\n{}",
                around(&shared),
                around(&alone)
            );
        }
    }

    let page = Page::parse(&app.page_as(&bob, &article()).await.1);
    let pressed = |page: &Page, id: i64, which: &str| {
        page.attr(&format!("#comment-{id} > details > .comment-actions .vote.{which}"), "aria-pressed")
    };
    assert_eq!(pressed(&page, ids[1], "up"), "true");
    assert_eq!(pressed(&page, ids[16], "down"), "true");
    assert_eq!(pressed(&page, ids[29], "up"), "false", "cat's vote is not bob's");
    assert_eq!(page.count(&format!("#comment-{} > details > .comment-actions .edit-link", ids[0])), 1, "his own");
    assert_eq!(page.count(&format!("#comment-{} > details > .comment-actions .edit-link", ids[1])), 0, "ann's");
    let dan_page = Page::parse(&dan_page);
    assert_eq!(dan_page.count(".edit-link"), 0);
    assert_eq!(dan_page.count(".vote[aria-pressed=\"true\"]"), 0);
    assert_eq!(dan_page.count(".report-link"), 31);
    let mona_page = Page::parse(&app.page_as(&mona, &article()).await.1);
    assert_eq!(mona_page.count(".mod-actions a[href^=\"/mod/comments/\"]"), 31, "a moderator's links");
    assert_eq!(dan_page.count(".mod-actions a[href^=\"/mod/comments/\"]"), 0);
}

/// A page with its CSRF tokens blanked: each request may get a fresh one.
fn without_tokens(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    const FIELD: &str = "name=\"csrf_token\" value=\"";
    while let Some(at) = rest.find(FIELD) {
        out.push_str(&rest[..at + FIELD.len()]);
        rest = &rest[at + FIELD.len()..];
        rest = &rest[rest.find('"').unwrap_or(0)..];
    }
    out.push_str(rest);
    out
}

async fn a_shared_thread_follows_every_change(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mona = app.signup_as("mona", "moderator").await;
    let first = app.comment(&ann, SEED_SLUG, "The first comment", None).await;
    let view = |client: reqwest::Client| {
        let app = &app;
        async move { Page::parse(&both_encodings(app, &client, &article()).await) }
    };
    assert_eq!(view(bob.clone()).await.text(&format!("#comment-{first} .comment-body")), "The first comment");
    // A new comment, a vote, an edit, a removal: each shows on the next view.
    let second = app.comment(&ann, SEED_SLUG, "Another one", None).await;
    assert_eq!(view(bob.clone()).await.text(&format!("#comment-{second} .comment-body")), "Another one");
    app.vote(&bob, second, 1).await;
    let page = view(bob.clone()).await;
    assert_eq!(page.text(&format!("#comment-{second} .score")), "1 point");
    assert_eq!(page.attr(&format!("#comment-{second} .vote.up"), "aria-pressed"), "true");
    app.vote(&bob, second, 0).await;
    assert_eq!(view(bob.clone()).await.attr(&format!("#comment-{second} .vote.up"), "aria-pressed"), "false");
    let r = app.post_form(&ann, &format!("/comments/{first}/edit"), &[("body", "Edited words")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(view(bob.clone()).await.text(&format!("#comment-{first} .comment-body")), "Edited words");
    let r = app.post_form(&mona, &format!("/mod/comments/{first}/remove"), &[("reason", "Off topic")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(view(bob.clone()).await.text(&format!("#comment-{first} .comment-body")), "[removed by a moderator]");
    let own = view(ann.clone()).await;
    assert!(own.text(&format!("#comment-{first} .removed-reason")).contains("Off topic"), "the author sees why");
    // A lock takes the buttons away.
    let r = app.post_form(&mona, &format!("/mod/articles/{SEED_SLUG}/lock"), &[("reason", "Enough")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = view(bob.clone()).await;
    assert_eq!(page.count(".vote"), 0);
    assert_eq!(page.count(".reply-link"), 0);
}
