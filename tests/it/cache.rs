//! The page cache: anonymous pages are sent from memory with ETags and compression, and
//! every kind of change shows on the next anonymous view.

use std::io::Read;

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, SET_COOKIE, VARY};
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, SEED_SLUG};

both_backends!(
    a_page_missed_by_many_at_once_is_built_once,
    anonymous_pages_carry_etags_and_answer_304,
    cached_pages_are_compressed_once_and_identical,
    every_change_shows_on_the_next_anonymous_view,
    readers_never_get_the_anonymous_copy,
    takeaway_counts_follow_every_change,
);

fn article() -> String {
    format!("/articles/{SEED_SLUG}")
}

/// A plain client: no cookies, no automatic decompression.
fn raw_client() -> reqwest::Client {
    reqwest::Client::builder().no_gzip().no_brotli().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn anonymous_pages_carry_etags_and_answer_304(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let client = raw_client();
    for path in ["/", &article(), &format!("/articles/{SEED_SLUG}/comments.atom"), "/feed.atom", "/users/ann"] {
        let first = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        assert_eq!(first.headers()[CACHE_CONTROL], "public, max-age=5", "{path}");
        assert_eq!(first.headers()[VARY], "Accept-Encoding, Cookie", "{path}");
        assert!(first.headers().get(SET_COOKIE).is_none(), "{path}");
        let etag = first.headers()[ETAG].to_str().unwrap().to_owned();
        assert!(etag.starts_with("W/\""), "{path}: {etag}");
        let body = first.text().await.unwrap();
        // The second view is the same bytes with the same tag.
        let second = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(second.headers()[ETAG].to_str().unwrap(), etag, "{path}");
        assert_eq!(second.text().await.unwrap(), body, "{path}");
        // A client that has them gets 304 and no body; one with another tag gets the page.
        let again = client.get(app.url(path)).header(IF_NONE_MATCH, &etag).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()[ETAG].to_str().unwrap(), etag, "{path}");
        assert!(again.bytes().await.unwrap().is_empty(), "{path}");
        let other = client.get(app.url(path)).header(IF_NONE_MATCH, "W/\"0000\"").send().await.unwrap();
        assert_eq!(other.status(), StatusCode::OK, "{path}");
    }
    // Once the page changes, the old tag gets the new page.
    let page = client.get(app.url(&article())).send().await.unwrap();
    let etag = page.headers()[ETAG].to_str().unwrap().to_owned();
    app.comment(&ann, SEED_SLUG, "Something new", None).await;
    let changed = client.get(app.url(&article())).header(IF_NONE_MATCH, &etag).send().await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()[ETAG].to_str().unwrap(), etag);
    assert!(changed.text().await.unwrap().contains("Something new"));
    // A page with a form is not cached (its token is the visitor's own), nor is a miss.
    for path in ["/login", "/signup", "/nowhere", "/articles/no-such-article"] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert!(response.headers().get(ETAG).is_none(), "{path}");
        assert_ne!(
            response.headers().get(CACHE_CONTROL).map(|v| v.to_str().unwrap().to_owned()).as_deref(),
            Some("public, max-age=5"),
            "{path}"
        );
    }
    // HEAD answers like GET, without a body.
    let head = client.head(app.url(&article())).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.headers().get(ETAG).is_some());
}

async fn cached_pages_are_compressed_once_and_identical(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let client = raw_client();
    let plain = client.get(app.url(&article())).send().await.unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none_or(|v| v == "identity"));
    let etag = plain.headers()[ETAG].clone();
    let plain = plain.bytes().await.unwrap();
    let get = |encoding: &'static str| {
        let client = client.clone();
        let url = app.url(&article());
        async move { client.get(url).header(ACCEPT_ENCODING, encoding).send().await.unwrap() }
    };
    let br = get("gzip, deflate, br").await;
    assert_eq!(br.headers()[CONTENT_ENCODING], "br");
    assert_eq!(br.headers()[ETAG], etag, "one tag for every encoding");
    let br = br.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    brotli::Decompressor::new(&br[..], 4096).read_to_end(&mut unpacked).unwrap();
    assert_eq!(unpacked, plain);
    assert!(br.len() * 3 < plain.len(), "{} of {} bytes", br.len(), plain.len());

    let gzip = get("gzip").await;
    assert_eq!(gzip.headers()[CONTENT_ENCODING], "gzip");
    let gzip = gzip.bytes().await.unwrap();
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(&gzip[..]).read_to_end(&mut unpacked).unwrap();
    assert_eq!(unpacked, plain);
}

/// Views (and so caches) every cacheable page, before a change.
async fn warm(app: &TestApp) {
    for path in ["/", &article(), &format!("/articles/{SEED_SLUG}/comments.atom"), "/users/ann", "/feed.atom"] {
        app.page(path).await;
    }
}

/// The anonymous view of `path`, parsed.
async fn view(app: &TestApp, path: &str) -> Page {
    let (status, body) = app.page(path).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    Page::parse(&body)
}

async fn every_change_shows_on_the_next_anonymous_view(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mo = app.signup_as("mona", "moderator").await;
    let feed = format!("/articles/{SEED_SLUG}/comments.atom");

    warm(&app).await;
    let first = app.comment(&ann, SEED_SLUG, "The first comment", None).await;
    let node = |id: i64| format!("#comment-{id}");
    assert_eq!(view(&app, &article()).await.text(&format!("{} .comment-body", node(first))), "The first comment");
    assert_eq!(view(&app, &article()).await.text("#comments-heading"), "Comments (1)");
    assert_eq!(view(&app, "/").await.text(".article-card .meta > a:first-child"), "1 comment");
    assert!(app.page(&feed).await.1.contains("The first comment"), "the article's feed");
    assert!(view(&app, "/users/ann").await.text(".profile-comments").contains("The first comment"), "the profile");

    warm(&app).await;
    let reply = app.comment(&bob, SEED_SLUG, "A reply", Some(first)).await;
    assert_eq!(view(&app, &article()).await.text(&format!("{} .comment-body", node(reply))), "A reply");

    warm(&app).await;
    let r =
        app.post_form(&ann, &format!("/comments/{first}/edit"), &[("body", "Edited text"), ("action", "post")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = view(&app, &article()).await;
    assert_eq!(page.text(&format!("{} > details > .comment-body", node(first))), "Edited text");
    assert!(app.page(&feed).await.1.contains("Edited text"));

    warm(&app).await;
    assert_eq!(app.vote(&bob, first, 1).await.status(), StatusCode::SEE_OTHER);
    let score = |page: &Page| page.text(&format!("{} > details > .comment-meta .score", node(first)));
    assert_eq!(score(&view(&app, &article()).await), "1 point");
    warm(&app).await;
    app.vote(&bob, first, 0).await;
    assert_eq!(score(&view(&app, &article()).await), "0 points");

    warm(&app).await;
    let r = app.post_form(&mo, &format!("/mod/comments/{reply}/remove"), &[("reason", "Off topic")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        view(&app, &article()).await.text(&format!("{} .comment-body", node(reply))),
        "[removed by a moderator]"
    );
    warm(&app).await;
    app.post_form(&mo, &format!("/mod/comments/{reply}/restore"), &[]).await;
    assert_eq!(view(&app, &article()).await.text(&format!("{} .comment-body", node(reply))), "A reply");

    warm(&app).await;
    app.post_form(&mo, &format!("/mod/comments/{first}/pin"), &[]).await;
    assert_eq!(view(&app, &article()).await.text(&format!("{} .pinned", node(first))), "pinned");

    warm(&app).await;
    let r = app.post_form(&mo, &format!("/mod/articles/{SEED_SLUG}/lock"), &[("reason", "Enough said.")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(view(&app, &article()).await.text(".locked").contains("Enough said."));
    warm(&app).await;
    app.post_form(&mo, &format!("/mod/articles/{SEED_SLUG}/unlock"), &[]).await;
    assert_eq!(view(&app, &article()).await.count(".locked"), 0);

    warm(&app).await;
    let r = app.post_form(&bob, &format!("/comments/{reply}/delete"), &[("confirm", "yes")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(view(&app, &article()).await.count(&node(reply)), 0);

    warm(&app).await;
    let r = app.post_form(&ann, "/settings/profile", &[("display_name", "Ann A."), ("bio", "Reads everything.")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.page("/users/ann").await.1.contains("Reads everything."), "the profile");

    // An article's text, edited by an administrator.
    let admin = app.signup_as("adela", "admin").await;
    warm(&app).await;
    let form = Page::parse(&app.page_as(&admin, &format!("/admin/articles/{SEED_SLUG}/edit")).await.1);
    let fields: Vec<(String, String)> =
        ["title", "source_url", "source_name", "published_at", "summary", "takeaways", "tags"]
            .iter()
            .map(|name| {
                let value = match *name {
                    "title" => "A retitled article".to_owned(),
                    "summary" => "A new summary.".to_owned(),
                    "takeaways" => "A new takeaway".to_owned(),
                    _ => form.attr(&format!("input[name={name}]"), "value"),
                };
                (name.to_string(), value)
            })
            .collect();
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post_form(&admin, &format!("/admin/articles/{SEED_SLUG}/edit"), &refs).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(view(&app, &article()).await.text("main h1"), "A retitled article");
    assert!(view(&app, "/").await.text(".article-list").contains("A retitled article"));
    assert!(app.page("/feed.atom").await.1.contains("A retitled article"));

    // An account deleted: its comments lose their author everywhere.
    warm(&app).await;
    let r = app.post_form(&ann, "/settings/delete", &[("delete_password", crate::common::PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        view(&app, &article()).await.text(&format!("{} > details > .comment-meta .author", node(first))),
        "[deleted]"
    );
    assert_eq!(app.page("/users/ann").await.0, StatusCode::NOT_FOUND);
}

async fn readers_never_get_the_anonymous_copy(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mine = app.comment(&ann, SEED_SLUG, "Ann's comment", None).await;
    // Cached for anonymous readers first.
    let anonymous = view(&app, &article()).await;
    assert_eq!(anonymous.count(".site-nav .whoami"), 0);
    for (client, name) in [(&ann, "ann"), (&bob, "bob")] {
        let response = client.get(app.url(&article())).send().await.unwrap();
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert!(response.headers().get(ETAG).is_none());
        let page = Page::parse(&response.text().await.unwrap());
        assert_eq!(page.text(".site-nav .whoami"), name);
        // Only the author has the controls of the author.
        let edit = page.count(&format!("#comment-{mine} .edit-link"));
        assert_eq!(edit, usize::from(name == "ann"), "{name}");
    }
    // And the anonymous copy never carries a reader's bits.
    let again = view(&app, &article()).await;
    assert_eq!(again.count(".site-nav .whoami"), 0);
    assert_eq!(again.count(".edit-link"), 0);
    assert_eq!(again.count("input[name=csrf_token]"), 0);
}

/// Posts a comment quoting takeaway `n` of the seed article.
async fn quote_takeaway(app: &TestApp, client: &reqwest::Client, body: &str, n: usize) -> i64 {
    let quote = format!("takeaway-{n}");
    let fields = [("body", body), ("quote", quote.as_str()), ("action", "post")];
    let r = app.post_form(client, &format!("/articles/{SEED_SLUG}/comments"), &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    location.rsplit("#comment-").next().unwrap().parse().unwrap()
}

async fn takeaway_counts_follow_every_change(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let cy = app.signup("cyd").await;
    let mo = app.signup_as("mona", "moderator").await;
    let admin = app.signup_as("adela", "admin").await;
    let filtered = format!("{}?takeaway=1", article());
    // The anonymous pages (whole and filtered), and a signed-in reader's (shared thread),
    // each seen before every change and after it.
    let warm_all = || async {
        for path in [article(), filtered.clone()] {
            app.page(&path).await;
            app.page_as(&cy, &path).await;
        }
    };
    let check = |counts: [&'static str; 4], best: Option<&'static str>, label: &'static str| {
        let app = &app;
        let cy = &cy;
        let filtered = filtered.clone();
        async move {
            for (who, body) in [
                ("anonymous", app.page(&article()).await.1),
                ("signed in", app.page_as(cy, &article()).await.1),
                ("filtered", app.page(&filtered).await.1),
                ("filtered, signed in", app.page_as(cy, &filtered).await.1),
            ] {
                let page = Page::parse(&body);
                assert_eq!(page.texts(".takeaway-item a.discuss [aria-hidden=true]"), counts, "{label}: {who}");
                let shown = page.texts("#takeaway-1 details.most-useful .comment-body");
                assert_eq!(shown.first().map(String::as_str), best, "{label}: {who}");
            }
        }
    };
    check(["Discuss · 0"; 4], None, "at first").await;

    warm_all().await;
    let first = quote_takeaway(&app, &ann, "First on one", 1).await;
    check(["Discuss · 1", "Discuss · 0", "Discuss · 0", "Discuss · 0"], Some("First on one"), "posted").await;

    warm_all().await;
    let second = quote_takeaway(&app, &bob, "Second on one", 1).await;
    check(["Discuss · 2", "Discuss · 0", "Discuss · 0", "Discuss · 0"], Some("Second on one"), "newest first").await;

    warm_all().await;
    assert_eq!(app.vote(&cy, first, 1).await.status(), StatusCode::SEE_OTHER);
    check(["Discuss · 2", "Discuss · 0", "Discuss · 0", "Discuss · 0"], Some("First on one"), "voted").await;

    warm_all().await;
    let r =
        app.post_form(&ann, &format!("/comments/{first}/edit"), &[("body", "First, edited"), ("action", "post")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    check(["Discuss · 2", "Discuss · 0", "Discuss · 0", "Discuss · 0"], Some("First, edited"), "edited").await;

    warm_all().await;
    let r = app.post_form(&mo, &format!("/mod/comments/{first}/remove"), &[("reason", "Off topic")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    check(["Discuss · 1", "Discuss · 0", "Discuss · 0", "Discuss · 0"], Some("Second on one"), "removed").await;

    warm_all().await;
    app.post_form(&mo, &format!("/mod/comments/{first}/restore"), &[]).await;
    check(["Discuss · 2", "Discuss · 0", "Discuss · 0", "Discuss · 0"], Some("First, edited"), "restored").await;

    warm_all().await;
    let r = app.post_form(&ann, &format!("/comments/{first}/delete"), &[("confirm", "yes")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    check(["Discuss · 1", "Discuss · 0", "Discuss · 0", "Discuss · 0"], Some("Second on one"), "deleted").await;

    // Held, then approved.
    let r = app.post_form(&admin, "/admin/settings/premoderation", &[("mode", "all"), ("count", "3")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    warm_all().await;
    let fields = [("body", "Held on two"), ("quote", "takeaway-2"), ("action", "post")];
    let r = app.post_form(&ann, &format!("/articles/{SEED_SLUG}/comments"), &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let held: i64 = r.headers()["location"].to_str().unwrap().rsplit("#comment-").next().unwrap().parse().unwrap();
    check(["Discuss · 1", "Discuss · 0", "Discuss · 0", "Discuss · 0"], Some("Second on one"), "held").await;
    warm_all().await;
    assert_eq!(app.post_form(&mo, &format!("/mod/comments/{held}/approve"), &[]).await.status(), StatusCode::SEE_OTHER);
    check(["Discuss · 1", "Discuss · 1", "Discuss · 0", "Discuss · 0"], Some("Second on one"), "approved").await;

    // The article edited: a takeaway fewer; the quote of the first stays, its count too.
    warm_all().await;
    let form = Page::parse(&app.page_as(&admin, &format!("/admin/articles/{SEED_SLUG}/edit")).await.1);
    let takeaways: Vec<String> = form.text("textarea[name=takeaways]").lines().map(str::to_owned).collect();
    let _ = second;
    let mut fields: Vec<(String, String)> = ["title", "source_url", "source_name", "published_at", "tags"]
        .iter()
        .map(|name| (name.to_string(), form.attr(&format!("input[name={name}]"), "value")))
        .collect();
    fields.push(("summary".into(), "A new summary.".into()));
    fields.push(("takeaways".into(), "Only one takeaway now\nAnd a second".into()));
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post_form(&admin, &format!("/admin/articles/{SEED_SLUG}/edit"), &refs).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!takeaways.is_empty());
    for body in [app.page(&article()).await.1, app.page_as(&cy, &article()).await.1] {
        let page = Page::parse(&body);
        assert_eq!(page.texts(".takeaway-item a.discuss [aria-hidden=true]"), ["Discuss · 1", "Discuss · 1"]);
        assert_eq!(page.count(".comment-quote .quote-changed"), 2, "both quotes are of text that changed");
    }
}

/// Pages built to be kept so far (the metrics' `afterword_page_cache_misses_total`).
async fn builds(metrics_url: &str) -> f64 {
    let text = reqwest::get(metrics_url).await.unwrap().text().await.unwrap();
    crate::common::sample(&text, "afterword_page_cache_misses_total").unwrap_or_else(|| panic!("no builds in {text}"))
}

/// A busy page dropped by a change is built once, not once for every request that
/// arrives before the first copy is kept: those wait for it, and every one of them
/// shows the change (anonymous readers and signed-in readers alike).
async fn a_page_missed_by_many_at_once_is_built_once(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().with_metrics().start().await;
    let metrics_url = app.metrics_url();
    let writer = app.signup("wren").await;
    let reader = app.signup("rhea").await;
    let anonymous = reqwest::Client::new();
    for round in 0..3 {
        let text = format!("Comment number {round} of the crowd");
        app.comment(&writer, SEED_SLUG, &text, None).await;
        let before = builds(&metrics_url).await;
        let views = (0..24).map(|i| {
            let client = if i % 2 == 0 { anonymous.clone() } else { reader.clone() };
            let url = app.url(&article());
            async move {
                let response = client.get(url).send().await.unwrap();
                (response.status(), response.text().await.unwrap())
            }
        });
        for (status, body) in futures_util::future::join_all(views).await {
            assert_eq!(status, StatusCode::OK);
            assert!(body.contains(&text), "round {round}: every view shows the new comment");
        }
        // One copy for anonymous readers, one shared thread for signed-in readers.
        assert_eq!(builds(&metrics_url).await - before, 2.0, "round {round}");
    }
}
