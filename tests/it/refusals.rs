//! Words are never lost: a refused form comes back with what the reader typed, the
//! reason and the signed-in header, under the refusal's status, and changes nothing.
//! Error pages show who is signed in. After posting, replying or editing, the reader is
//! back in the thread, in the order they read it.

use afterword::db::schema::{comments, users};
use diesel::prelude::*;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, PASSWORD, SEED_SLUG};

both_backends!(
    comments_refused_for_posting_too_fast_keep_their_text,
    comments_refused_on_a_closed_thread_or_by_a_ban_keep_their_text,
    far_too_long_comments_come_back_with_what_was_kept,
    edits_refused_after_the_window_keep_their_text,
    refused_reports_and_profiles_keep_their_text,
    error_pages_show_who_is_signed_in,
    posting_keeps_the_readers_order,
    replies_and_edits_go_back_to_the_article_at_the_comment,
    comments_the_first_page_does_not_show_are_found_on_their_own_page,
);

fn post_path() -> String {
    format!("/articles/{SEED_SLUG}/comments")
}

async fn comment_count(app: &TestApp) -> i64 {
    app.with_conn(|c| comments::table.count().get_result(c).unwrap()).await
}

/// The form came back: `text` in its textarea, `reason` said, and the header of `user`.
async fn assert_form_again(
    response: reqwest::Response,
    status: StatusCode,
    user: &str,
    text: &str,
    reason: &str,
) -> Page {
    assert_eq!(response.status(), status, "{text:?}: {:?}", response.headers().get(LOCATION));
    assert!(response.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    let page = Page::parse(&response.text().await.unwrap());
    assert_eq!(page.text("form.compose textarea[name=body]"), text);
    assert!(
        page.text(".flash.error:not(.ban-notice)").contains(reason),
        "{:?} does not say {reason:?}",
        page.text(".flash.error:not(.ban-notice)")
    );
    assert_header_of(&page, user);
    page
}

fn assert_header_of(page: &Page, user: &str) {
    assert_eq!(page.text(".site-header .whoami"), user);
    assert_eq!(page.count(".site-header form[action='/logout']"), 1);
}

async fn comments_refused_for_posting_too_fast_keep_their_text(backend: Backend) {
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
    let first = app.comment(&newcomer, SEED_SLUG, "one", None).await;
    app.comment(&newcomer, SEED_SLUG, "two", None).await;
    let before = comment_count(&app).await;

    let third = app.post_form(&newcomer, &post_path(), &[("body", "My third thought, typed with care")]).await;
    let retry: u64 = third.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let page = assert_form_again(
        third,
        StatusCode::TOO_MANY_REQUESTS,
        "newcomer",
        "My third thought, typed with care",
        "Too many",
    )
    .await;
    assert_eq!(page.count("form.compose input[name=parent_id]"), 0);

    // A reply keeps what it replies to, and the order the reader reads in.
    let reply = app
        .post_form(&newcomer, &post_path(), &[("body", "A reply"), ("parent_id", &first.to_string()), ("sort", "old")])
        .await;
    let page = assert_form_again(reply, StatusCode::TOO_MANY_REQUESTS, "newcomer", "A reply", "Too many").await;
    assert_eq!(page.attr("form.compose input[name=parent_id]", "value"), first.to_string());
    assert_eq!(page.attr("form.compose input[name=sort]", "value"), "old");
    assert_eq!(page.text(".compose-page h1"), "Reply");

    // A script asking for JSON still gets the error as JSON.
    let token = app.csrf_token(&newcomer).await;
    let json = newcomer
        .post(app.url(&post_path()))
        .header(ACCEPT, "application/json")
        .form(&[("body", "by script"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(json.headers().contains_key("retry-after"));
    let body: serde_json::Value = json.json().await.unwrap();
    assert_eq!(body["code"], "too_many_requests");
    assert_eq!(comment_count(&app).await, before, "nothing was stored");
}

async fn comments_refused_on_a_closed_thread_or_by_a_ban_keep_their_text(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mo = app.signup_as("moira", "moderator").await;
    let mine = app.comment(&ann, SEED_SLUG, "Before the lock", None).await;
    let before = comment_count(&app).await;

    let lock = app.post_form(&mo, &format!("/mod/articles/{SEED_SLUG}/lock"), &[("reason", "Cooling off")]).await;
    assert_eq!(lock.status(), StatusCode::SEE_OTHER);
    let closed = app.post_form(&ann, &post_path(), &[("body", "Words on a closed thread")]).await;
    assert_form_again(closed, StatusCode::FORBIDDEN, "ann", "Words on a closed thread", "closed").await;
    let edit = app.post_form(&ann, &format!("/comments/{mine}/edit"), &[("body", "Edited while closed")]).await;
    assert_form_again(edit, StatusCode::FORBIDDEN, "ann", "Edited while closed", "closed").await;
    let unlock = app.post_form(&mo, &format!("/mod/articles/{SEED_SLUG}/unlock"), &[]).await;
    assert_eq!(unlock.status(), StatusCode::SEE_OTHER);

    let ban = app.post_form(&mo, "/mod/users/ann/ban", &[("reason", "Trolling"), ("duration", "permanent")]).await;
    assert_eq!(ban.status(), StatusCode::SEE_OTHER);
    // A ban ends her sessions; she logs in again.
    let (ann, _) = app.login("ann", PASSWORD).await;
    let banned = app.post_form(&ann, &post_path(), &[("body", "Words while banned")]).await;
    assert_form_again(banned, StatusCode::FORBIDDEN, "ann", "Words while banned", "banned permanently: Trolling").await;
    let reply =
        app.post_form(&ann, &post_path(), &[("body", "A banned reply"), ("parent_id", &mine.to_string())]).await;
    assert_form_again(reply, StatusCode::FORBIDDEN, "ann", "A banned reply", "banned").await;
    let edit = app.post_form(&ann, &format!("/comments/{mine}/edit"), &[("body", "Edited while banned")]).await;
    assert_form_again(edit, StatusCode::FORBIDDEN, "ann", "Edited while banned", "banned").await;
    // A preview is refused too, and keeps the text.
    let preview = app.post_form(&ann, &post_path(), &[("body", "Only a preview"), ("action", "preview")]).await;
    assert_form_again(preview, StatusCode::FORBIDDEN, "ann", "Only a preview", "banned").await;

    assert_eq!(comment_count(&app).await, before, "nothing was stored");
    let source: String =
        app.with_conn(move |c| comments::table.find(mine).select(comments::body_source).first(c).unwrap()).await;
    assert_eq!(source, "Before the lock");
}

async fn far_too_long_comments_come_back_with_what_was_kept(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mine = app.comment(&ann, SEED_SLUG, "Short", None).await;
    let before = comment_count(&app).await;

    // A comment at its limit of characters fits, whatever the characters: 10,000 of
    // four bytes each are 120,000 bytes once sent.
    let wide = "😀".repeat(10_000);
    let fits = app.post_form(&ann, &post_path(), &[("body", &wide)]).await;
    assert_eq!(fits.status(), StatusCode::SEE_OTHER);
    assert_eq!(comment_count(&app).await, before + 1);

    // Longer than a comment may be, but read whole: the text comes back entire.
    let long = "x".repeat(70 * 1024);
    let refused = app.post_form(&ann, &post_path(), &[("body", &long)]).await;
    assert_form_again(refused, StatusCode::UNPROCESSABLE_ENTITY, "ann", &long, "at most 10000").await;

    // Far beyond what is read: refused 413, with the part that was read. (A browser
    // sends the fields in the form's order: the token first, the text after it.)
    let token = app.csrf_token(&ann).await;
    let send = |path: String, body: String| {
        let form = [("csrf_token", token.clone()), ("body", body)];
        let request = ann.post(app.url(&path)).form(&form);
        async move { request.send().await.unwrap() }
    };
    let huge = "y".repeat(300 * 1024);
    let refused = send(post_path(), huge.clone()).await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let page = Page::parse(&refused.text().await.unwrap());
    assert_eq!(page.count("form.compose textarea[name=body]"), 1, "{:?}", page.texts("main"));
    let kept = page.text("form.compose textarea[name=body]");
    assert!(kept.len() > 100 * 1024 && huge.starts_with(&kept), "{} characters kept", kept.len());
    assert!(
        page.text(".flash.error:not(.ban-notice)").contains("too long"),
        "{}",
        page.text(".flash.error:not(.ban-notice)")
    );
    assert_header_of(&page, "ann");
    let edit = send(format!("/comments/{mine}/edit"), huge.clone()).await;
    assert_eq!(edit.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let page = Page::parse(&edit.text().await.unwrap());
    assert!(huge.starts_with(&page.text("form.compose textarea[name=body]")));
    assert_eq!(page.attr("form.compose", "action"), format!("/comments/{mine}/edit"));

    // Cut in the middle of a character, the text ends where whole characters do.
    let wider = "é".repeat(100 * 1024);
    let refused = send(post_path(), wider).await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let page = Page::parse(&refused.text().await.unwrap());
    let kept = page.text("form.compose textarea[name=body]");
    assert!(!kept.is_empty() && kept.chars().all(|c| c == 'é'), "{:?}", kept.chars().last());

    // Beyond what is read at all: refused at once, with the reason.
    let refused = send(post_path(), "w".repeat(1100 * 1024)).await;
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let page = Page::parse(&refused.text().await.unwrap());
    assert!(page.text(".error-page").contains("at most 128 KiB"), "{}", page.text(".error-page"));
    assert_header_of(&page, "ann");

    // A script asking for JSON gets the error as JSON.
    let json = ann
        .post(app.url(&post_path()))
        .header(ACCEPT, "application/json")
        .form(&[("csrf_token", token.as_str()), ("body", &huge)])
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = json.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large");

    // Other forms keep their limit.
    let login = app.post_form(&ann, "/settings/profile", &[("bio", &"z".repeat(70 * 1024))]).await;
    assert_eq!(login.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(comment_count(&app).await, before + 1, "nothing else was stored");
    let source: String =
        app.with_conn(move |c| comments::table.find(mine).select(comments::body_source).first(c).unwrap()).await;
    assert_eq!(source, "Short");
}

async fn edits_refused_after_the_window_keep_their_text(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let id = app.comment(&ann, SEED_SLUG, "Original", None).await;
    let past = afterword::db::now() - time::Duration::minutes(61);
    app.with_conn(move |c| diesel::update(comments::table).set(comments::created_at.eq(past)).execute(c).unwrap())
        .await;
    let late = app.post_form(&ann, &format!("/comments/{id}/edit"), &[("body", "A careful correction")]).await;
    let page = assert_form_again(late, StatusCode::FORBIDDEN, "ann", "A careful correction", "time to edit").await;
    assert_eq!(page.text(".compose-page h1"), "Edit your comment");
    let source: String =
        app.with_conn(move |c| comments::table.find(id).select(comments::body_source).first(c).unwrap()).await;
    assert_eq!(source, "Original");
}

async fn refused_reports_and_profiles_keep_their_text(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mo = app.signup_as("moira", "moderator").await;
    let id = app.comment(&bob, SEED_SLUG, "Something", None).await;
    let report = format!("/comments/{id}/report");

    // Bad input: the choice and the words come back.
    let missing = app.post_form(&ann, &report, &[("reason", "other"), ("details", "   ")]).await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::parse(&missing.text().await.unwrap());
    assert_eq!(page.attr("input[name=reason][checked]", "value"), "other");
    assert_header_of(&page, "ann");

    // A reader banned meanwhile: 403, with the choice and the words.
    let ban = app.post_form(&mo, "/mod/users/ann/ban", &[("reason", "Trolling"), ("duration", "permanent")]).await;
    assert_eq!(ban.status(), StatusCode::SEE_OTHER);
    // A ban ends her sessions; she logs in again.
    let (ann, _) = app.login("ann", PASSWORD).await;
    let banned = app.post_form(&ann, &report, &[("reason", "other"), ("details", "It misquotes the article")]).await;
    assert_eq!(banned.status(), StatusCode::FORBIDDEN);
    let page = Page::parse(&banned.text().await.unwrap());
    assert_eq!(page.attr("input[name=reason][checked]", "value"), "other");
    assert_eq!(page.attr("input[name=details]", "value"), "It misquotes the article");
    assert!(page.text(".flash.error:not(.ban-notice)").contains("banned"));
    assert_header_of(&page, "ann");

    // The profile: refused for a ban, and for bad input, with what was typed.
    let profile =
        app.post_form(&ann, "/settings/profile", &[("display_name", "Ann"), ("bio", "Reads on trains")]).await;
    assert_eq!(profile.status(), StatusCode::FORBIDDEN);
    let page = Page::parse(&profile.text().await.unwrap());
    assert_eq!(page.attr("#field-display_name", "value"), "Ann");
    assert_eq!(page.text("#field-bio"), "Reads on trains");
    assert!(page.text(".flash.error:not(.ban-notice)").contains("banned"));
    assert_header_of(&page, "ann");
    let name = "n".repeat(51);
    let long = app.post_form(&bob, "/settings/profile", &[("display_name", &name), ("bio", "Still mine")]).await;
    assert_eq!(long.status(), StatusCode::BAD_REQUEST);
    let page = Page::parse(&long.text().await.unwrap());
    assert_eq!(page.attr("#field-display_name", "value"), name);
    assert_eq!(page.text("#field-bio"), "Still mine");
    assert!(!page.text("#field-display_name-error").is_empty());
    assert_header_of(&page, "bob");
    let long = app.post_form(&bob, "/settings/profile", &[("display_name", "Bob"), ("bio", &"b".repeat(501))]).await;
    assert_eq!(long.status(), StatusCode::BAD_REQUEST);
    let page = Page::parse(&long.text().await.unwrap());
    assert_eq!(page.attr("#field-display_name", "value"), "Bob");
    assert!(!page.text("#field-bio-error").is_empty());

    let reports: i64 = app.with_conn(|c| afterword::db::schema::reports::table.count().get_result(c).unwrap()).await;
    assert_eq!(reports, 0);
    let names: Vec<Option<String>> = app.with_conn(|c| users::table.select(users::display_name).load(c).unwrap()).await;
    assert!(names.iter().all(Option::is_none), "{names:?}");
}

async fn error_pages_show_who_is_signed_in(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mo = app.signup_as("moira", "moderator").await;

    let page = |response: reqwest::Response| async move {
        let status = response.status();
        (status, Page::parse(&response.text().await.unwrap()))
    };
    // 404, from a handler and from no route at all.
    for path in ["/articles/nothing-here", "/no/such/page", "/comments/999999"] {
        let (status, body) = page(ann.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_header_of(&body, "ann");
        assert_eq!(body.count(".site-header .tagline"), 0);
    }
    // 403: a reader on a moderators' page.
    let (status, body) = page(ann.get(app.url("/mod/reports")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_header_of(&body, "ann");
    // 400: bad input.
    let (status, body) = page(ann.get(app.url(&format!("/articles/{SEED_SLUG}?page=x"))).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_header_of(&body, "ann");
    // 400 from a moderator's action that does not apply.
    let (status, body) = page(app.post_form(&mo, "/mod/users/ann/unban", &[]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_header_of(&body, "moira");
    assert_eq!(body.text(".site-header .site-nav a[href='/mod/reports']"), "Moderation");
    // 403 from the security checks, before any handler: a form without its token.
    let forged = ann.post(app.url("/inbox/read")).form(&[("x", "1")]).send().await.unwrap();
    let (status, body) = page(forged).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_header_of(&body, "ann");
    // 413 from the security checks.
    let token = app.csrf_token(&ann).await;
    let big = "x".repeat(70 * 1024);
    let large =
        ann.post(app.url("/inbox/read")).form(&[("csrf_token", token.as_str()), ("x", &big)]).send().await.unwrap();
    let (status, body) = page(large).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_header_of(&body, "ann");
    // A visitor nobody knows gets the page of a visitor, with the way to log in.
    let (status, body) = page(app.new_client().get(app.url("/no/such/page")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body.count(".site-header .whoami"), 0);
    assert_eq!(body.count(".site-header .tagline"), 1);
    // Programs still get JSON.
    let json = ann.get(app.url("/no/such/page")).header(ACCEPT, "application/json").send().await.unwrap();
    assert_eq!(json.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = json.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
}

fn location(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}

fn anchor(location: &str) -> i64 {
    location.rsplit("#comment-").next().unwrap().parse().unwrap()
}

async fn posting_keeps_the_readers_order(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let article = format!("/articles/{SEED_SLUG}");

    // The article's form says the order the page is read in.
    for (query, sort) in [("", "best"), ("?sort=new", "new"), ("?sort=top", "top")] {
        let page = Page::parse(&app.page_as(&ann, &format!("{article}{query}")).await.1);
        assert_eq!(page.attr("#comments form.compose input[name=sort]", "value"), sort);
    }
    let best = app.post_form(&ann, &post_path(), &[("body", "In the best order"), ("sort", "best")]).await;
    let to = location(&best);
    assert_eq!(to, format!("{article}#comment-{}", anchor(&to)));
    let top = app.post_form(&ann, &post_path(), &[("body", "In the top order"), ("sort", "top")]).await;
    let to = location(&top);
    assert_eq!(to, format!("{article}?sort=top#comment-{}", anchor(&to)));
    let plain = app.post_form(&ann, &post_path(), &[("body", "No order said")]).await;
    let to = location(&plain);
    assert_eq!(to, format!("{article}#comment-{}", anchor(&to)));
    // And the reader finds it there.
    let (path, _) = to.split_once('#').unwrap();
    let page = Page::parse(&app.page_as(&ann, path).await.1);
    assert_eq!(page.count(&format!("#comment-{}", anchor(&to))), 1);
}

async fn replies_and_edits_go_back_to_the_article_at_the_comment(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let article = format!("/articles/{SEED_SLUG}");
    let top = app.comment(&ann, SEED_SLUG, "Top", None).await;

    // The reply form, opened from a page read newest first, carries the order.
    let (_, body) = app.page_as(&bob, &format!("/comments/{top}/reply?sort=new")).await;
    assert_eq!(Page::parse(&body).attr("form.compose input[name=sort]", "value"), "new");
    let thread = Page::parse(&app.page_as(&bob, &format!("{article}?sort=new")).await.1);
    assert_eq!(thread.attr(&format!("#comment-{top} .reply-link"), "href"), format!("/comments/{top}/reply?sort=new"));

    let reply = app.post_form(&bob, &post_path(), &[("body", "A reply"), ("parent_id", &top.to_string())]).await;
    let to = location(&reply);
    let id = anchor(&to);
    assert_ne!(id, top);
    assert_eq!(to, format!("{article}#comment-{id}"));
    let reply = app
        .post_form(&bob, &post_path(), &[("body", "Another"), ("parent_id", &top.to_string()), ("sort", "new")])
        .await;
    let to = location(&reply);
    assert_eq!(to, format!("{article}?sort=new#comment-{}", anchor(&to)));

    let edit = app.post_form(&bob, &format!("/comments/{id}/edit"), &[("body", "A better reply")]).await;
    assert_eq!(location(&edit), format!("{article}#comment-{id}"));
    let edit = app.post_form(&bob, &format!("/comments/{id}/edit"), &[("body", "Best"), ("sort", "old")]).await;
    assert_eq!(location(&edit), format!("{article}?sort=old#comment-{id}"));

    // Deeper than the article page shows: the deepest of its parents the page shows.
    let mut chain = vec![top];
    for depth in 1..=9 {
        let parent = *chain.last().unwrap();
        chain.push(app.comment(&ann, SEED_SLUG, &format!("depth {depth}"), Some(parent)).await);
    }
    let deep = app
        .post_form(&bob, &post_path(), &[("body", "Way down"), ("parent_id", &chain.last().unwrap().to_string())])
        .await;
    let to = location(&deep);
    let at = anchor(&to);
    assert!(chain.contains(&at), "{to} is at one of its parents");
    assert_eq!(to, format!("{article}#comment-{at}"));
    let page = Page::parse(&app.page_as(&bob, &article).await.1);
    assert_eq!(page.count(&format!("#comment-{at}")), 1, "the page shows it");
    let below = chain[chain.iter().position(|c| *c == at).unwrap() + 1];
    let shown = page.attrs("[id^=comment-]", "id");
    assert_eq!(page.count(&format!("#comment-{below}")), 0, "the page shows none deeper: {to} {chain:?} {shown:?}");
}

async fn comments_the_first_page_does_not_show_are_found_on_their_own_page(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    for i in 0..50 {
        app.comment(&ann, SEED_SLUG, &format!("Comment {i}"), None).await;
    }
    // Oldest first, the fifty-first is on the second page.
    let late = app.post_form(&ann, &post_path(), &[("body", "The fifty-first"), ("sort", "old")]).await;
    let to = location(&late);
    let id = anchor(&to);
    assert_eq!(to, format!("/comments/{id}?sort=old&notice=posted#comment-{id}"));
    let page = Page::parse(&app.page_as(&ann, to.split_once('#').unwrap().0).await.1);
    assert!(page.text(".notice").contains("posted"));
    assert_eq!(page.count(&format!("#comment-{id}")), 1);
    // Newest first, it leads the first page.
    let new = app.post_form(&ann, &post_path(), &[("body", "The fifty-second"), ("sort", "new")]).await;
    let to = location(&new);
    assert_eq!(to, format!("/articles/{SEED_SLUG}?sort=new#comment-{}", anchor(&to)));
}
