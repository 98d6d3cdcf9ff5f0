//! Threaded comments: posting, replies, nesting, sorting, Markdown, limits, editing,
//! deleting, votes, notifications, live updates and the cost of a thread page.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use afterword::db::comments as comment_queries;
use afterword::db::schema::{articles, comments};
use afterword::ranking::Sort;
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, SEED_SLUG};

both_backends!(
    post_a_comment_and_a_reply,
    anonymous_readers_are_invited_to_log_in,
    replies_nest_and_deep_threads_continue_on_their_own_page,
    every_sort_order_on_a_known_thread,
    markdown_renders_and_hostile_input_does_not_survive,
    preview_shows_the_comment_without_posting_it,
    bad_bodies_and_bad_parents_are_refused,
    locked_articles_take_no_comments,
    edits_only_by_the_author_within_the_window,
    deleting_keeps_threads_together,
    votes_count_once_and_can_change,
    fifty_identical_votes_at_once_count_once,
    posting_is_rate_limited,
    replies_notify_the_parent_author,
    reply_emails_only_when_asked_for,
    new_comments_are_announced_live,
    a_thread_page_costs_the_same_queries_whatever_its_size,
    comment_pages_of_missing_comments_are_404,
    threads_are_paged_fifty_at_a_time,
    scripts_get_json_answers_to_posts_and_edits,
);

fn article(slug: &str) -> String {
    format!("/articles/{slug}")
}

async fn post_a_comment_and_a_reply(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;

    let response = app.post_form(&ann, &format!("/articles/{SEED_SLUG}/comments"), &[("body", "First!")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("/articles/{SEED_SLUG}#comment-")), "{location}");
    let first: i64 = location.rsplit('-').next().unwrap().parse().unwrap();

    let reply = app.comment(&bob, SEED_SLUG, "A reply", Some(first)).await;
    let page = Page::parse(&app.page(&article(SEED_SLUG)).await.1);
    assert_eq!(page.text("#comments-heading"), "Comments (2)");
    assert_eq!(page.count("#comments .empty"), 0, "no 'Be the first' any more");
    assert_eq!(page.text(&format!("#comment-{first} > details > .comment-body")), "First!");
    assert_eq!(page.text(&format!("#comment-{first} > details > .comment-meta .author")), "ann");
    assert_eq!(
        page.text(&format!("#comment-{first} > details > .replies > #comment-{reply} .comment-body")),
        "A reply"
    );
    assert!(page.attr(&format!("#comment-{first} > details > .comment-meta time"), "datetime").ends_with('Z'));
    // The time is absolute (the script shows it as "just now").
    assert!(page.text(&format!("#comment-{first} > details > .comment-meta time")).ends_with(" UTC"));
    // The front page counts them too.
    let front = Page::parse(&app.page("/").await.1);
    assert_eq!(front.text(".article-card .meta > a:first-child"), "2 comments");
    // The reply page shows the comment replied to.
    let (status, body) = app.page_as(&bob, &format!("/comments/{first}/reply")).await;
    assert_eq!(status, StatusCode::OK);
    let reply_page = Page::parse(&body);
    assert_eq!(reply_page.text(".parent-comment .comment-body"), "First!");
    assert_eq!(reply_page.attr("form.compose input[name=parent_id]", "value"), first.to_string());
}

async fn anonymous_readers_are_invited_to_log_in(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let page = Page::parse(&app.page(&article(SEED_SLUG)).await.1);
    assert_eq!(page.text(".login-prompt"), "Log in or sign up to comment.");
    let next = format!("next=%2Farticles%2F{SEED_SLUG}%23comments");
    assert!(page.attrs(".login-prompt a", "href").iter().all(|h| h.ends_with(&next)));
    assert_eq!(page.count("form.compose"), 0);
    // Posting without an account goes to the login page.
    let response = app.post_form(&app.client, &format!("/articles/{SEED_SLUG}/comments"), &[("body", "hi")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers()["location"].to_str().unwrap().starts_with("/login"));
    assert_eq!(app.page("/comments/1/reply").await.0, StatusCode::SEE_OTHER);
}

async fn replies_nest_and_deep_threads_continue_on_their_own_page(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mut chain = vec![app.comment(&ann, SEED_SLUG, "depth 0", None).await];
    for depth in 1..12 {
        chain.push(app.comment(&ann, SEED_SLUG, &format!("depth {depth}"), chain.last().copied()).await);
    }
    let page = Page::parse(&app.page(&article(SEED_SLUG)).await.1);
    // Eight levels are drawn; the eighth links on.
    for (depth, id) in chain.iter().enumerate().take(8) {
        assert_eq!(page.count(&format!("#comment-{id}")), 1, "depth {depth} is on the page");
    }
    assert_eq!(page.count(&format!("#comment-{}", chain[8])), 0, "depth 8 is not");
    let more = page.attr(&format!("#comment-{} > details > .continue a", chain[7]), "href");
    assert_eq!(more, format!("/comments/{}?sort=best", chain[7]));
    assert_eq!(page.text(&format!("#comment-{} > details > .continue", chain[7])), "Continue this thread (1 reply) →");

    // The comment's own page: its parents for context, drawn as a thread (each holds
    // the next), then it, marked, and everything under it.
    let (status, body) = app.page(&more).await;
    assert_eq!(status, StatusCode::OK);
    let permalink = Page::parse(&body);
    assert_eq!(permalink.text("h1"), "Comment by ann");
    let mut path = ".chain".to_owned();
    for (depth, id) in chain.iter().enumerate().take(7) {
        path = format!("{path} > #comment-{id}");
        assert_eq!(permalink.text(&format!("{path} > details > .comment-body")), format!("depth {depth}"));
        assert_eq!(permalink.count(&format!("{path}[aria-current]")), 0);
        path = format!("{path} > details > ol.replies");
    }
    let focus = format!("{path} > #comment-{}", chain[7]);
    assert_eq!(permalink.text(&format!("{focus}[aria-current=true] > details > .comment-body")), "depth 7");
    assert_eq!(permalink.text(&format!("{focus} > details > .comment-meta .current-mark")), "this comment");
    assert_eq!(permalink.count("[aria-current=true]"), 1);
    for id in &chain[8..] {
        assert_eq!(permalink.count(&format!("{focus} #comment-{id}")), 1);
    }
    // Subtrees collapse without JavaScript.
    assert_eq!(page.count(&format!("#comment-{} > details[open] > summary", chain[0])), 1);
}

async fn every_sort_order_on_a_known_thread(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mut voters = Vec::new();
    for i in 0..6 {
        voters.push(app.signup(&format!("voter{i}")).await);
    }
    let mut c = Vec::new();
    for i in 1..=5 {
        c.push(app.comment(&ann, SEED_SLUG, &format!("c{i}"), None).await);
    }
    // c1: 1 up. c2: 5 up. c3: 3 up, 3 down. c4: none. c5: 1 up, 2 down.
    let plan: [(usize, &[i32]); 4] = [(0, &[1]), (1, &[1, 1, 1, 1, 1]), (2, &[1, 1, 1, -1, -1, -1]), (4, &[1, -1, -1])];
    for (index, votes) in plan {
        for (voter, value) in votes.iter().enumerate() {
            assert_eq!(app.vote(&voters[voter], c[index], *value).await.status(), StatusCode::SEE_OTHER);
        }
    }
    let order = |sort: &'static str| {
        let app = &app;
        async move {
            let path = if sort.is_empty() { article(SEED_SLUG) } else { format!("{}?sort={sort}", article(SEED_SLUG)) };
            let page = Page::parse(&app.page(&path).await.1);
            page.texts(".comment-tree > .comment > details > .comment-body")
        }
    };
    let names = |order: &[&str]| order.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(order("best").await, names(&["c2", "c1", "c3", "c5", "c4"]));
    assert_eq!(order("").await, names(&["c2", "c1", "c3", "c5", "c4"]), "best is the default");
    assert_eq!(order("nonsense").await, names(&["c2", "c1", "c3", "c5", "c4"]), "unknown: the default");
    assert_eq!(order("top").await, names(&["c2", "c1", "c4", "c3", "c5"]));
    assert_eq!(order("new").await, names(&["c5", "c4", "c3", "c2", "c1"]));
    assert_eq!(order("old").await, names(&["c1", "c2", "c3", "c4", "c5"]));
    assert_eq!(order("controversial").await, names(&["c3", "c5", "c4", "c2", "c1"]));
    // Scores show; the chosen order is marked and kept in the links.
    let page = Page::parse(&app.page(&format!("{}?sort=top", article(SEED_SLUG))).await.1);
    assert_eq!(page.text(&format!("#comment-{} .score", c[1])), "5 points");
    assert_eq!(page.text(".sort-nav [aria-current]"), "Top");
    // Replies are ordered the same way.
    let r1 = app.comment(&ann, SEED_SLUG, "r1", Some(c[0])).await;
    let r2 = app.comment(&ann, SEED_SLUG, "r2", Some(c[0])).await;
    app.vote(&voters[0], r1, 1).await;
    let first = c[0];
    let replies = |sort: &'static str| {
        let app = &app;
        async move {
            let page = Page::parse(&app.page(&format!("{}?sort={sort}", article(SEED_SLUG))).await.1);
            page.texts(&format!("#comment-{first} > details > .replies > .comment > details > .comment-body"))
        }
    };
    assert_eq!(replies("best").await, names(&["r1", "r2"]));
    assert_eq!(replies("new").await, names(&["r2", "r1"]));
    let _ = r2;
}

async fn markdown_renders_and_hostile_input_does_not_survive(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let id = app
        .comment(
            &ann,
            SEED_SLUG,
            "*em* **strong** `code` [a link](https://example.com/x)\n\n> quoted\n\n- one\n- two",
            None,
        )
        .await;
    let page = Page::parse(&app.page(&article(SEED_SLUG)).await.1);
    let body = format!("#comment-{id} .comment-body");
    assert_eq!(page.text(&format!("{body} em")), "em");
    assert_eq!(page.text(&format!("{body} strong")), "strong");
    assert_eq!(page.text(&format!("{body} code")), "code");
    assert_eq!(page.text(&format!("{body} blockquote")), "quoted");
    assert_eq!(page.count(&format!("{body} ul li")), 2);
    assert_eq!(page.attr(&format!("{body} a"), "href"), "https://example.com/x");
    assert_eq!(page.attr(&format!("{body} a"), "rel"), "nofollow ugc noopener noreferrer");

    let hostile = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "![tracker](https://evil.example/t.png)",
        "<a href=\"https://evil.example\" onclick=\"steal()\">raw</a>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<svg onload=alert(1)>",
        "<style>*{display:none}</style>",
        "<div onmouseover=\"alert(1)\">hover</div>",
        "[x](vbscript:msgbox)",
    ];
    for input in hostile {
        let id = app.comment(&ann, SEED_SLUG, input, None).await;
        let html = app.page(&format!("/comments/{id}")).await.1;
        let page = Page::parse(&html);
        let body = format!("#comment-{id} .comment-body");
        for tag in ["script", "img", "iframe", "svg", "style", "div"] {
            assert_eq!(page.count(&format!("{body} {tag}")), 0, "{input}: <{tag}>");
        }
        for attribute in ["onclick", "onerror", "onload", "onmouseover", "style", "src"] {
            assert_eq!(page.count(&format!("{body} [{attribute}]")), 0, "{input}: {attribute}");
        }
        for href in page.attrs(&format!("{body} a"), "href") {
            assert!(href.starts_with("https://"), "{input}: href {href}");
        }
    }
}

async fn preview_shows_the_comment_without_posting_it(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let response = app
        .post_form(
            &ann,
            &format!("/articles/{SEED_SLUG}/comments"),
            &[("body", "Is **this** right?"), ("action", "preview")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = Page::parse(&response.text().await.unwrap());
    assert_eq!(page.text(".preview .comment-body strong"), "this");
    assert_eq!(page.text("form.compose textarea"), "Is **this** right?", "the text is kept to edit");
    assert_eq!(app.with_conn(|c| comments::table.count().get_result::<i64>(c).unwrap()).await, 0);
}

async fn bad_bodies_and_bad_parents_are_refused(backend: Backend) {
    let other = r#"[{"title":"Another","source_url":"https://example.com/o","source_name":"example.com",
        "published_at":"2024-01-01","summary":["S."],"key_takeaways":[]}]"#;
    let app = TestApp::builder(backend).with_seed_article().with_articles(other).start().await;
    let ann = app.signup("ann").await;
    let post = |body: String, parent: Option<String>| {
        let app = &app;
        let ann = &ann;
        async move {
            let mut fields = vec![("body", body.as_str())];
            if let Some(p) = &parent {
                fields.push(("parent_id", p.as_str()));
            }
            app.post_form(ann, &format!("/articles/{SEED_SLUG}/comments"), &fields).await
        }
    };
    for (body, why) in [("".to_owned(), "empty"), ("   \n\t ".to_owned(), "whitespace"), ("x".repeat(10_001), "long")] {
        let response = post(body, None).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{why}");
        assert_eq!(Page::parse(&response.text().await.unwrap()).count(".flash.error"), 1, "{why}");
    }
    assert_eq!(post("é".repeat(10_000), None).await.status(), StatusCode::SEE_OTHER, "10,000 characters fit");

    let elsewhere = app.comment(&ann, "another", "on another article", None).await;
    let deleted = app.comment(&ann, SEED_SLUG, "to delete", None).await;
    let keep = app.comment(&ann, SEED_SLUG, "kept", Some(deleted)).await;
    app.post_form(&ann, &format!("/comments/{deleted}/delete"), &[("confirm", "yes")]).await;
    let _ = keep;
    for (parent, status) in [
        (elsewhere.to_string(), StatusCode::BAD_REQUEST),
        ("999999".to_owned(), StatusCode::BAD_REQUEST),
        (deleted.to_string(), StatusCode::BAD_REQUEST),
        ("abc".to_owned(), StatusCode::BAD_REQUEST),
    ] {
        let response = post("reply".into(), Some(parent.clone())).await;
        assert_eq!(response.status(), status, "parent {parent}");
    }
    let missing = app.post_form(&ann, "/articles/no-such-article/comments", &[("body", "hi")]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // Nesting stops at the maximum depth.
    let mut parent = app.comment(&ann, SEED_SLUG, "0", None).await;
    for depth in 1..=comment_queries::MAX_DEPTH {
        parent = app.comment(&ann, SEED_SLUG, &depth.to_string(), Some(parent)).await;
    }
    let too_deep = post("too deep".into(), Some(parent.to_string())).await;
    assert_eq!(too_deep.status(), StatusCode::BAD_REQUEST);
    assert!(too_deep.text().await.unwrap().contains("at most 64 deep"));
}

async fn locked_articles_take_no_comments(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let id = app.comment(&ann, SEED_SLUG, "before the lock", None).await;
    app.with_conn(|c| diesel::update(articles::table).set(articles::comments_locked.eq(true)).execute(c).unwrap())
        .await;

    let page = Page::parse(&app.page_as(&ann, &article(SEED_SLUG)).await.1);
    assert_eq!(page.text(".locked"), "Comments on this article are closed.");
    assert_eq!(page.count("form.compose"), 0);
    assert_eq!(page.count(".reply-link"), 0);
    let refused = [
        app.post_form(&bob, &format!("/articles/{SEED_SLUG}/comments"), &[("body", "new")]).await,
        app.post_form(
            &bob,
            &format!("/articles/{SEED_SLUG}/comments"),
            &[("body", "reply"), ("parent_id", &id.to_string())],
        )
        .await,
        app.post_form(&ann, &format!("/comments/{id}/edit"), &[("body", "edited")]).await,
        app.vote(&bob, id, 1).await,
    ];
    for response in refused {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(response.text().await.unwrap().contains("closed"));
    }
    assert_eq!(app.page_as(&bob, &format!("/comments/{id}/reply")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.with_conn(|c| comments::table.count().get_result::<i64>(c).unwrap()).await, 1);
}

async fn edits_only_by_the_author_within_the_window(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let id = app.comment(&ann, SEED_SLUG, "Original", None).await;
    let (status, body) = app.page_as(&ann, &format!("/comments/{id}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(Page::parse(&body).text("form.compose textarea"), "Original");

    let response = app.post_form(&ann, &format!("/comments/{id}/edit"), &[("body", "Changed *text*")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = Page::parse(&app.page(&article(SEED_SLUG)).await.1);
    assert_eq!(page.text(&format!("#comment-{id} .comment-body")), "Changed text");
    assert_eq!(page.text(&format!("#comment-{id} .edited")), "edited");

    // Previewing an edit shows it and saves nothing; nobody else can preview one.
    let edit = format!("/comments/{id}/edit");
    let preview = app.post_form(&ann, &edit, &[("body", "Maybe **this**"), ("action", "preview")]).await;
    assert_eq!(preview.status(), StatusCode::OK);
    let shown = Page::parse(&preview.text().await.unwrap());
    assert_eq!(shown.text(".preview .comment-body strong"), "this");
    assert_eq!(shown.text("form.compose textarea"), "Maybe **this**", "the text is kept to edit");
    let bobs = app.post_form(&bob, &edit, &[("body", "hijack"), ("action", "preview")]).await;
    assert_eq!(bobs.status(), StatusCode::FORBIDDEN);
    let page = Page::parse(&app.page(&article(SEED_SLUG)).await.1);
    assert_eq!(page.text(&format!("#comment-{id} .comment-body")), "Changed text");

    assert_eq!(
        app.post_form(&bob, &format!("/comments/{id}/edit"), &[("body", "hijack")]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.page_as(&bob, &format!("/comments/{id}/edit")).await.0, StatusCode::FORBIDDEN);
    let empty = app.post_form(&ann, &format!("/comments/{id}/edit"), &[("body", "  ")]).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Past the window the POST itself is refused, whatever the page shows.
    let past = afterword::db::now() - time::Duration::minutes(61);
    app.with_conn(move |c| diesel::update(comments::table).set(comments::created_at.eq(past)).execute(c).unwrap())
        .await;
    let late = app.post_form(&ann, &format!("/comments/{id}/edit"), &[("body", "Too late")]).await;
    assert_eq!(late.status(), StatusCode::FORBIDDEN);
    assert!(late.text().await.unwrap().contains("time to edit"));
    assert_eq!(app.page_as(&ann, &format!("/comments/{id}/edit")).await.0, StatusCode::FORBIDDEN);
    let page = Page::parse(&app.page_as(&ann, &article(SEED_SLUG)).await.1);
    assert_eq!(page.text(&format!("#comment-{id} .comment-body")), "Changed text");
    assert_eq!(page.count(&format!("#comment-{id} .edit-link")), 0, "no edit link after the window");
}

async fn deleting_keeps_threads_together(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let parent = app.comment(&ann, SEED_SLUG, "Parent", None).await;
    let reply = app.comment(&bob, SEED_SLUG, "Reply", Some(parent)).await;
    let leaf = app.comment(&ann, SEED_SLUG, "Leaf", None).await;

    assert_eq!(app.post_form(&bob, &format!("/comments/{parent}/delete"), &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.post_form(&ann, &format!("/comments/{leaf}/delete"), &[("confirm", "yes")]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post_form(&ann, &format!("/comments/{parent}/delete"), &[("confirm", "yes")]).await.status(),
        StatusCode::SEE_OTHER
    );
    let page = Page::parse(&app.page(&article(SEED_SLUG)).await.1);
    assert_eq!(page.count(&format!("#comment-{leaf}")), 0, "without replies it disappears");
    assert_eq!(page.text(&format!("#comment-{parent} > details > .comment-body")), "[deleted]");
    assert_eq!(page.text(&format!("#comment-{parent} > details > .comment-meta .author")), "[deleted]");
    assert_eq!(page.text(&format!("#comment-{reply} .comment-body")), "Reply", "the thread stays");
    assert_eq!(page.text("#comments-heading"), "Comments (1)");
    let stored: String =
        app.with_conn(move |c| comments::table.find(parent).select(comments::body_source).first(c).unwrap()).await;
    assert_eq!(stored, "", "the text is gone from the database too");
    assert_eq!(app.post_form(&ann, &format!("/comments/{parent}/delete"), &[]).await.status(), StatusCode::BAD_REQUEST);

    // When the last reply goes, the placeholder goes too.
    app.post_form(&bob, &format!("/comments/{reply}/delete"), &[("confirm", "yes")]).await;
    let page = Page::parse(&app.page(&article(SEED_SLUG)).await.1);
    assert_eq!(page.count(".comment"), 0);
    assert_eq!(page.text("#comments-heading"), "Comments (0)");
    assert_eq!(page.text("#comments .empty"), "Be the first to comment!");
}

async fn votes_count_once_and_can_change(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let id = app.comment(&ann, SEED_SLUG, "Vote on me", None).await;
    let score = || {
        let app = &app;
        async move { Page::parse(&app.page(&article(SEED_SLUG)).await.1).text(&format!("#comment-{id} .score")) }
    };
    assert_eq!(app.vote(&bob, id, 1).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.vote(&bob, id, 1).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(score().await, "1 point");
    let page = Page::parse(&app.page_as(&bob, &article(SEED_SLUG)).await.1);
    assert_eq!(page.attr(&format!("#comment-{id} .vote.up"), "aria-pressed"), "true");
    app.vote(&bob, id, -1).await;
    assert_eq!(score().await, "-1 point");
    app.vote(&bob, id, 0).await;
    assert_eq!(score().await, "0 points");

    // Scripts get JSON.
    let token = app.csrf_token(&bob).await;
    let json: serde_json::Value = bob
        .post(app.url(&format!("/comments/{id}/vote")))
        .header("accept", "application/json")
        .form(&[("value", "1"), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json, serde_json::json!({ "upvotes": 1, "downvotes": 0, "score": 1, "my_vote": 1 }));

    let own = app.vote(&ann, id, 1).await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.vote(&bob, id, 2).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.vote(&bob, 999_999, 1).await.status(), StatusCode::NOT_FOUND);
    let page = Page::parse(&app.page_as(&ann, &article(SEED_SLUG)).await.1);
    assert_eq!(page.count(&format!("#comment-{id} .vote")), 0, "no vote buttons on your own comment");
    let reply = app.comment(&bob, SEED_SLUG, "keeps it", Some(id)).await;
    let _ = reply;
    app.post_form(&ann, &format!("/comments/{id}/delete"), &[("confirm", "yes")]).await;
    assert_eq!(app.vote(&bob, id, -1).await.status(), StatusCode::BAD_REQUEST, "not on deleted comments");
}

async fn fifty_identical_votes_at_once_count_once(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().configure(|c| c.pool_size = 8).start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let id = app.comment(&ann, SEED_SLUG, "Popular", None).await;
    let token = app.csrf_token(&bob).await;
    let url = app.url(&format!("/comments/{id}/vote"));
    let requests = (0..50).map(|_| {
        bob.post(&url)
            .header("accept", "application/json")
            .form(&[("value", "1"), ("csrf_token", token.as_str())])
            .send()
    });
    let responses = futures_util::future::join_all(requests).await;
    for response in responses {
        assert_eq!(response.unwrap().status(), StatusCode::OK);
    }
    let (up, down): (i32, i32) = app
        .with_conn(move |c| comments::table.find(id).select((comments::upvotes, comments::downvotes)).first(c).unwrap())
        .await;
    assert_eq!((up, down), (1, 0));
}

async fn posting_is_rate_limited(backend: Backend) {
    use afterword::auth::ratelimit::RateLimitConfig;
    let app = TestApp::builder(backend)
        .with_seed_article()
        .configure(|c| {
            c.rate_limits =
                RateLimitConfig { comments_per_minute: 5, new_account_comments_per_minute: 2, ..RateLimitConfig::off() }
        })
        .start()
        .await;
    let newcomer = app.signup("newcomer").await;
    app.comment(&newcomer, SEED_SLUG, "one", None).await;
    app.comment(&newcomer, SEED_SLUG, "two", None).await;
    let third = app.post_form(&newcomer, &format!("/articles/{SEED_SLUG}/comments"), &[("body", "three")]).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().get("retry-after").is_some());
    assert!(third.text().await.unwrap().contains("Too many requests"));

    // An established account gets more.
    let veteran = app.signup("veteran").await;
    let old = afterword::db::now() - time::Duration::days(30);
    app.with_conn(move |c| {
        use afterword::db::schema::users;
        diesel::update(users::table.filter(users::username.eq("veteran")))
            .set(users::created_at.eq(old))
            .execute(c)
            .unwrap()
    })
    .await;
    for i in 0..5 {
        app.comment(&veteran, SEED_SLUG, &format!("post {i}"), None).await;
    }
    let sixth = app.post_form(&veteran, &format!("/articles/{SEED_SLUG}/comments"), &[("body", "six")]).await;
    assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS);
    // Previews are not posts.
    let preview = app
        .post_form(&veteran, &format!("/articles/{SEED_SLUG}/comments"), &[("body", "p"), ("action", "preview")])
        .await;
    assert_eq!(preview.status(), StatusCode::OK);
}

async fn replies_notify_the_parent_author(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mine = app.comment(&ann, SEED_SLUG, "Ann's comment", None).await;
    app.comment(&ann, SEED_SLUG, "Ann answers herself", Some(mine)).await;
    let page = Page::parse(&app.page_as(&ann, "/").await.1);
    assert_eq!(page.count(".inbox-link .badge"), 0, "never for your own actions");

    let reply = app.comment(&bob, SEED_SLUG, "Bob replies", Some(mine)).await;
    let page = Page::parse(&app.page_as(&ann, "/").await.1);
    assert_eq!(page.text(".inbox-link .badge"), "1 unread");
    let inbox = Page::parse(&app.page_as(&ann, "/inbox").await.1);
    assert_eq!(inbox.count(".notification.unread"), 1);
    assert!(inbox.text(".notification").starts_with("bob replied to your comment on Meta (again)"));
    assert_eq!(inbox.attr(".notification a", "href"), format!("/comments/{reply}"));
    assert_eq!(inbox.text(".notification .comment-body"), "Bob replies");
    assert_eq!(Page::parse(&app.page_as(&bob, "/").await.1).count(".inbox-link .badge"), 0);

    assert_eq!(app.post_form(&ann, "/inbox/read", &[]).await.status(), StatusCode::SEE_OTHER);
    let page = Page::parse(&app.page_as(&ann, "/inbox").await.1);
    assert_eq!(page.count(".notification.unread"), 0);
    assert_eq!(page.count(".notification"), 1);
    assert_eq!(page.count(".inbox-link .badge"), 0);
    assert_eq!(app.page("/inbox").await.0, StatusCode::SEE_OTHER, "log in first");
}

async fn reply_emails_only_when_asked_for(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let first = app.comment(&ann, SEED_SLUG, "one", None).await;
    app.comment(&bob, SEED_SLUG, "reply one", Some(first)).await;
    assert!(app.outbox().await.is_empty(), "off by default");

    let saved = app.post_form(&ann, "/settings/notifications", &[("email_replies", "on")]).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let page = Page::parse(&app.page_as(&ann, "/settings").await.1);
    assert_eq!(page.count("input[name=email_replies][checked]"), 1);
    app.comment(&bob, SEED_SLUG, "reply to an unconfirmed address", Some(first)).await;
    assert!(app.outbox().await.is_empty(), "only confirmed addresses get email");
    app.with_conn(|c| {
        use afterword::db::schema::users;
        diesel::update(users::table.filter(users::username.eq("ann")))
            .set(users::email_verified.eq(true))
            .execute(c)
            .unwrap()
    })
    .await;
    let reply = app.comment(&bob, SEED_SLUG, "reply two", Some(first)).await;
    let outbox = app.outbox().await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].0, "ann@example.com");
    assert!(outbox[0].1.contains("bob replied"));
    assert!(outbox[0].2.contains(&format!("/comments/{reply}")));

    app.post_form(&ann, "/settings/notifications", &[]).await;
    app.comment(&bob, SEED_SLUG, "reply three", Some(first)).await;
    assert_eq!(app.outbox().await.len(), 1, "off again");
}

async fn new_comments_are_announced_live(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mut events = app.get(&format!("/articles/{SEED_SLUG}/events")).await;
    assert_eq!(events.status(), StatusCode::OK);
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let id = app.comment(&ann, SEED_SLUG, "Live!", None).await;
    let reply = app.comment(&ann, SEED_SLUG, "Live reply", Some(id)).await;
    let mut received = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !received.contains(&format!("\"id\":{reply}")) {
        let chunk = tokio::time::timeout_at(deadline, events.chunk()).await.expect("events arrive").unwrap().unwrap();
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(received.contains("event: comment\ndata: {"), "{received}");
    assert!(received.contains(&format!("\"id\":{id},\"parent_id\":null")), "{received}");
    assert!(received.contains(&format!("\"id\":{reply},\"parent_id\":{id}")), "{received}");
    // A page whose event carries no comment (a moderator's) fetches it as a fragment.
    let (status, fragment) = app.page(&format!("/comments/{reply}/fragment")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(fragment.starts_with(&format!("<li class=\"comment\" id=\"comment-{reply}\"")), "{fragment}");
    assert_eq!(app.page("/articles/no-such-article/events").await.0, StatusCode::NOT_FOUND);
}

async fn a_thread_page_costs_the_same_queries_whatever_its_size(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let count_queries = |app: &TestApp| {
        let mut conn = app.db.connect();
        let article: i64 = afterword::db::schema::articles::table
            .filter(afterword::db::schema::articles::slug.eq(SEED_SLUG))
            .select(afterword::db::schema::articles::id)
            .first(&mut conn)
            .unwrap();
        let counter = Arc::new(AtomicUsize::new(0));
        let seen = counter.clone();
        conn.set_instrumentation(move |event: diesel::connection::InstrumentationEvent<'_>| {
            if let diesel::connection::InstrumentationEvent::StartQuery { .. } = event {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        });
        let viewer = app.with_conn_blocking_user_id("bob");
        let page = afterword::db::threads::article_page(
            &mut conn,
            afterword::domain::ArticleId(article),
            Sort::Best,
            afterword::db::threads::Start::First,
            Some(afterword::domain::UserId(viewer)),
            None,
        )
        .unwrap();
        (counter.load(Ordering::SeqCst), page.items.len())
    };
    // Two levels of replies, some left out under the first comment.
    let top = app.comment(&ann, SEED_SLUG, "a thread", None).await;
    app.vote(&bob, top, 1).await;
    let mut last = top;
    for i in 0..12 {
        last = app.comment(&ann, SEED_SLUG, &format!("reply {i}"), Some(top)).await;
    }
    app.comment(&bob, SEED_SLUG, "a reply to a reply", Some(last)).await;
    // The best reply, so that it stays shown.
    app.vote(&bob, last, 1).await;
    let small = tokio::task::block_in_place(|| count_queries(&app));
    assert_eq!(small.1, 1 + 10 + 1, "ten replies of twelve, and the reply to one of them");
    // Many more comments in the same shape: the same queries.
    for i in 0..40 {
        let client = if i % 2 == 0 { &ann } else { &bob };
        app.comment(client, SEED_SLUG, &format!("more {i}"), if i % 4 == 0 { None } else { Some(top) }).await;
    }
    let large = tokio::task::block_in_place(|| count_queries(&app));
    assert_eq!(large.1, 11 + 1 + 10, "eleven threads, ten replies shown under the first");
    assert_eq!(small.0, large.0, "the same number of queries for {} and {} comments", small.1, large.1);
    // Pinned, the rest of the top level, two levels, the count of left-out replies, the
    // comments shown.
    assert!(large.0 <= 6, "{} queries", large.0);
}

async fn comment_pages_of_missing_comments_are_404(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    for path in ["/comments/999999", "/comments/abc", "/comments/-1", "/comments/999999/fragment", "/comments/0"] {
        assert_eq!(app.page(path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(app.page_as(&ann, "/comments/999999/reply").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.page_as(&ann, "/comments/999999/edit").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.post_form(&ann, "/comments/999999/delete", &[]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.page(&format!("{}?page=2", article(SEED_SLUG))).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.page(&format!("{}?page=x", article(SEED_SLUG))).await.0, StatusCode::BAD_REQUEST);
}

async fn threads_are_paged_fifty_at_a_time(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mut ids = Vec::new();
    for i in 0..52 {
        ids.push(app.comment(&ann, SEED_SLUG, &format!("thread {i}"), None).await);
    }
    app.comment(&ann, SEED_SLUG, "a reply on the second page", Some(ids[0])).await;
    let first = Page::parse(&app.page(&format!("{}?sort=new", article(SEED_SLUG))).await.1);
    assert_eq!(first.count(".comment-tree > .comment"), 50);
    assert_eq!(first.text("#comments-heading"), "Comments (53)");
    // Newest first pages by the last comment shown, so that new ones do not shift it.
    let more = first.attr(".more a", "href");
    assert_eq!(more, format!("/articles/{SEED_SLUG}?sort=new&after={}#comments", ids[2]));
    let second = Page::parse(&app.page(more.trim_end_matches("#comments")).await.1);
    assert_eq!(second.texts(".comment-tree > .comment > details > .comment-body"), ["thread 1", "thread 0"]);
    assert_eq!(second.text(".replies .comment-body"), "a reply on the second page");
    assert_eq!(second.count(".more"), 0);
    assert_eq!(second.count("#comments .empty"), 0);
    // The ranked orders page by position.
    let best = Page::parse(&app.page(&article(SEED_SLUG)).await.1);
    assert_eq!(best.attr(".more a", "href"), format!("/articles/{SEED_SLUG}?sort=best&page=2#comments"));
    for bad in ["?sort=new&after=x", "?sort=old&after=-3", "?page=0"] {
        assert_eq!(app.page(&format!("{}{bad}", article(SEED_SLUG))).await.0, StatusCode::BAD_REQUEST, "{bad}");
    }
}

/// The page's script posts comments, replies, previews and edits asking for JSON: it gets
/// the new comment's id (to fetch and place it) or the reason for a refusal, never a page.
async fn scripts_get_json_answers_to_posts_and_edits(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let token = app.csrf_token(&ann).await;
    let send = |path: String, fields: Vec<(&'static str, String)>| {
        let (ann, token, url) = (&ann, token.clone(), app.url(&path));
        async move {
            let mut fields = fields;
            fields.push(("csrf_token", token));
            let response =
                ann.post(url).header("accept", "application/json").form(&fields).send().await.expect("request sent");
            let status = response.status();
            assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"), "{status}");
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let stored = || {
        let app = &app;
        async move { app.with_conn(|c| comments::table.count().get_result::<i64>(c).unwrap()).await }
    };
    let post_path = format!("/articles/{SEED_SLUG}/comments");

    let (status, json) = send(post_path.clone(), vec![("body", "From the script".into())]).await;
    assert_eq!(status, StatusCode::OK);
    let id = json["id"].as_i64().expect("the new comment's id");
    assert_eq!(json["parent_id"], serde_json::Value::Null);
    assert_eq!(json["held"], false);
    // Where a page without the script would have gone: the script's way out when it
    // cannot place the comment itself.
    assert!(json["location"].as_str().unwrap().ends_with(&format!("#comment-{id}")), "{json}");

    let (status, json) = send(post_path.clone(), vec![("body", "A reply".into()), ("parent_id", id.to_string())]).await;
    assert_eq!(status, StatusCode::OK);
    let reply = json["id"].as_i64().unwrap();
    assert_eq!(json["parent_id"], id);
    assert!(json["location"].as_str().unwrap().ends_with(&format!("#comment-{reply}")), "{json}");
    assert_eq!(stored().await, 2);

    // A preview is the rendered text, and stores nothing.
    let (status, json) =
        send(post_path.clone(), vec![("body", "Some *stress*".into()), ("action", "preview".into())]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["preview"].as_str().unwrap().trim(), "<p>Some <em>stress</em></p>");

    // Refused texts: 422 with the reason; nothing stored.
    let (status, json) = send(post_path.clone(), vec![("body", "   ".into()), ("parent_id", id.to_string())]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!json["message"].as_str().unwrap().is_empty(), "{json}");
    let (status, json) = send(post_path.clone(), vec![("body", "x".repeat(10_001))]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json["message"].as_str().unwrap().contains("10000"), "{json}");
    assert_eq!(stored().await, 2);

    // An edit answers its comment's id; a refused one says why and changes nothing.
    let (status, json) = send(format!("/comments/{reply}/edit"), vec![("body", "An edited reply".into())]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["id"], reply);
    assert!(json["location"].as_str().unwrap().ends_with(&format!("#comment-{reply}")), "{json}");
    let (status, json) = send(format!("/comments/{reply}/edit"), vec![("body", "".into())]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!json["message"].as_str().unwrap().is_empty());
    let source: String =
        app.with_conn(move |c| comments::table.find(reply).select(comments::body_source).first(c).unwrap()).await;
    assert_eq!(source, "An edited reply");

    // Refusals by the rules come as JSON too: someone else's comment, a missing one.
    let bob = app.signup("bob").await;
    let bobs = app.comment(&bob, SEED_SLUG, "Bob's", None).await;
    let (status, json) = send(format!("/comments/{bobs}/edit"), vec![("body", "hijack".into())]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(json["code"], "forbidden");
    let (status, json) = send(post_path, vec![("body", "to nobody".into()), ("parent_id", "999999".into())]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!json["message"].as_str().unwrap().is_empty(), "{json}");
}
