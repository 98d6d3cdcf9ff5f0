//! Reading through the JSON API: articles page by page and by source URL, one comment
//! in its thread, profiles and their comments, search, counts of many articles, and
//! the caller; and what a program may send wrong.

use reqwest::StatusCode;
use serde_json::Value;

use crate::both_backends;
use crate::common::{generated_articles, Backend, TestApp, PASSWORD, SEED_SLUG};

both_backends!(
    articles_read_newest_first_page_by_page,
    an_article_is_found_by_its_source_url,
    a_comment_reads_with_its_ancestors_and_replies,
    a_held_or_deleted_comment_reads_as_its_page_shows_it,
    a_profile_and_its_comments_read_as_the_page_shows_them,
    search_answers_as_the_search_page,
    counts_answer_in_the_order_asked,
    me_is_the_caller,
    bad_query_strings_are_refused_with_the_reason,
);

async fn json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}")))
}

async fn get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    json(app.get(path).await).await
}

async fn get_as(app: &TestApp, client: &reqwest::Client, path: &str) -> (StatusCode, Value) {
    json(client.get(app.url(path)).send().await.unwrap()).await
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Posts through the API as the token's account; returns the comment.
async fn post(app: &TestApp, client: &reqwest::Client, slug: &str, body: &str, parent: Option<i64>) -> Value {
    let response = client
        .post(app.url(&format!("/api/v1/articles/{slug}/comments")))
        .json(&serde_json::json!({"body": body, "parent_id": parent}))
        .send()
        .await
        .unwrap();
    let (status, comment) = json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    comment
}

fn ids(list: &Value, key: &str) -> Vec<i64> {
    list[key].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

async fn articles_read_newest_first_page_by_page(backend: Backend) {
    let app = TestApp::builder(backend).with_articles(generated_articles(45)).with_seed_article().start().await;
    let response = app.get("/api/v1/articles").await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let (status, first) = json(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["articles"].as_array().unwrap().len(), 20);
    // The seed article (2024-04-02) is the newest; each item says what a list shows.
    let top = &first["articles"][0];
    assert_eq!(top["slug"], SEED_SLUG);
    assert_eq!(top["source_url"], "https://techcrunch.com/");
    assert_eq!(top["source_name"], "techcrunch.com");
    assert_eq!(top["published_at"], "2024-04-02");
    assert_eq!(top["comment_count"], 0);
    assert!(top["url"].as_str().unwrap().ends_with(&format!("/articles/{SEED_SLUG}")));
    assert!(top["id"].as_i64().unwrap() > 0 && top["title"].as_str().unwrap().starts_with("Meta"));
    let unchanged = app.new_client().get(app.url("/api/v1/articles")).header("if-none-match", &etag).send().await;
    assert_eq!(unchanged.unwrap().status(), StatusCode::NOT_MODIFIED);

    // Page by page, while a new article arrives: each article once, newest first.
    let mut seen: Vec<(String, i64)> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/articles?cursor={}", encode(c)),
            None => "/api/v1/articles".to_owned(),
        };
        let (status, page) = get(&app, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {page}");
        for a in page["articles"].as_array().unwrap() {
            seen.push((a["published_at"].as_str().unwrap().to_owned(), a["id"].as_i64().unwrap()));
        }
        pages += 1;
        if pages == 1 {
            let newer = generated_articles(1).replace("Generated article number 0", "Arrived meanwhile");
            let newer = newer.replace("2024-03-01", "2024-05-01").replace("/generated/0", "/meanwhile");
            app.with_conn(move |c| {
                let items = afterword::import::parse(newer.as_bytes()).unwrap();
                afterword::db::articles::upsert_all(c, &items, &mut |_| {}).unwrap();
            })
            .await;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 46, "every article once: {seen:?}");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(sorted, seen, "newest first, none twice");

    // The new one leads the next first page; `limit` sizes a page, up to 100.
    let (_, all) = get(&app, "/api/v1/articles?limit=100").await;
    assert_eq!(all["articles"].as_array().unwrap().len(), 47);
    assert_eq!(all["articles"][0]["title"], "Arrived meanwhile");
    assert!(all["next_cursor"].is_null());
    let (_, one) = get(&app, "/api/v1/articles?limit=1").await;
    assert_eq!(one["articles"].as_array().unwrap().len(), 1);
    let next = one["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = get(&app, &format!("/api/v1/articles?limit=1&cursor={next}")).await;
    assert_eq!(second["articles"][0]["slug"], SEED_SLUG);

    // A comment changes the count the list shows.
    app.signup("ann").await;
    let ann = app.api_client(&app.api_token("ann", "write").await);
    post(&app, &ann, SEED_SLUG, "Counted", None).await;
    let (_, again) = get(&app, &format!("/api/v1/articles?limit=1&cursor={next}")).await;
    assert_eq!(again["articles"][0]["comment_count"], 1);

    for bad in ["limit=0", "limit=101", "limit=-1", "limit=ten", "limit=1e2"] {
        let (status, body) = get(&app, &format!("/api/v1/articles?{bad}")).await;
        assert_eq!((status, body["code"].as_str().unwrap()), (StatusCode::BAD_REQUEST, "bad_request"), "{bad}");
    }
    // A cursor the list did not give names no page.
    for bad in ["cursor=x", "cursor=2024-04-02_0"] {
        let (status, body) = get(&app, &format!("/api/v1/articles?{bad}")).await;
        assert_eq!((status, body["code"].as_str().unwrap()), (StatusCode::NOT_FOUND, "not_found"), "{bad}");
    }
}

async fn an_article_is_found_by_its_source_url(backend: Backend) {
    let app = TestApp::builder(backend).with_articles(generated_articles(2)).with_seed_article().start().await;
    let response = app.get("/api/v1/articles/by-url?url=https%3A%2F%2Ftechcrunch.com%2F").await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let (status, article) = json(response).await;
    assert_eq!(status, StatusCode::OK, "{article}");
    assert_eq!(article["slug"], SEED_SLUG);
    assert_eq!(article["takeaways"].as_array().unwrap().len(), 4);
    let cached = app
        .new_client()
        .get(app.url("/api/v1/articles/by-url?url=https://techcrunch.com/"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    let (status, article) = get(&app, "/api/v1/articles/by-url?url=%20https://example.com/generated/1%20%20").await;
    assert_eq!((status, article["title"].as_str().unwrap()), (StatusCode::OK, "Generated article number 1"));

    for (url, expected) in [
        ("https://techcrunch.com", StatusCode::NOT_FOUND),
        ("https://techcrunch.com/?x=1", StatusCode::NOT_FOUND),
        ("https://nowhere.example/", StatusCode::NOT_FOUND),
        // Not an address of a page: no article has it.
        ("ftp://techcrunch.com/", StatusCode::NOT_FOUND),
        ("javascript:alert(1)", StatusCode::NOT_FOUND),
        ("techcrunch.com", StatusCode::NOT_FOUND),
        ("https://", StatusCode::NOT_FOUND),
        ("   ", StatusCode::BAD_REQUEST),
    ] {
        let (status, body) = get(&app, &format!("/api/v1/articles/by-url?url={}", encode(url))).await;
        assert_eq!(status, expected, "{url}: {body}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    let long = format!("https://example.com/{}", "a".repeat(2_000));
    let (status, _) = get(&app, &format!("/api/v1/articles/by-url?url={long}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "longer than any article's address");
    for query in ["?url=", "?url=https://techcrunch.com/&url=https://techcrunch.com/"] {
        let (status, body) = get(&app, &format!("/api/v1/articles/by-url{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
    }
    // No address names no article.
    for query in ["", "?link=https://techcrunch.com/"] {
        let (status, body) = get(&app, &format!("/api/v1/articles/by-url{query}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{query}: {body}");
    }
}

async fn a_comment_reads_with_its_ancestors_and_replies(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    app.signup("ann").await;
    app.signup("bob").await;
    let ann = app.api_client(&app.api_token("ann", "write").await);
    let bob = app.api_client(&app.api_token("bob", "read,write").await);
    let top = post(&app, &ann, SEED_SLUG, "The **top** comment", None).await["id"].as_i64().unwrap();
    let reply = post(&app, &bob, SEED_SLUG, "A reply", Some(top)).await["id"].as_i64().unwrap();
    let nested = post(&app, &ann, SEED_SLUG, "A reply to the reply", Some(reply)).await["id"].as_i64().unwrap();

    let response = app.get(&format!("/api/v1/comments/{nested}")).await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let (status, page) = json(response).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["comment"]["id"], nested);
    assert_eq!(page["comment"]["author"], "ann");
    assert_eq!(page["comment"]["depth"], 2);
    assert_eq!(page["comment"]["can"]["vote"], false, "anonymous");
    assert_eq!(ids(&page, "ancestors"), [top, reply], "top first");
    assert!(page["ancestors"][0]["body_html"].as_str().unwrap().contains("<strong>top</strong>"));
    assert!(page["replies"].as_array().unwrap().is_empty());
    assert!(page["more_replies"].is_null());
    assert_eq!(page["article_slug"], SEED_SLUG);
    assert!(page["article_title"].as_str().unwrap().starts_with("Meta"));
    let unchanged = app
        .new_client()
        .get(app.url(&format!("/api/v1/comments/{nested}")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);

    // The caller's own view: their vote, and what they may do.
    let (_, own) = get_as(&app, &ann, &format!("/api/v1/comments/{nested}")).await;
    assert_eq!(
        (own["comment"]["can"]["edit"].as_bool(), own["comment"]["can"]["delete"].as_bool()),
        (Some(true), Some(true))
    );

    // Replies in reading order; those past the first ten are behind `more_replies`.
    let mut direct = vec![reply];
    for i in 0..11 {
        direct.push(post(&app, &bob, SEED_SLUG, &format!("Reply {i}"), Some(top)).await["id"].as_i64().unwrap());
    }
    let (status, page) = get(&app, &format!("/api/v1/comments/{top}?sort=old")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page["ancestors"].as_array().unwrap().is_empty());
    assert_eq!(page["sort"], "old");
    let shown = ids(&page, "replies");
    assert_eq!(shown[..2], [reply, nested], "{shown:?}");
    assert_eq!(shown.len(), 11, "ten replies and the nested one");
    assert_eq!(page["more_replies"]["count"], 2);
    let next = page["more_replies"]["next"].as_str().unwrap().to_owned();
    let (status, rest) = get(&app, &next).await;
    assert_eq!(status, StatusCode::OK, "{next}: {rest}");
    assert_eq!(ids(&rest, "comments"), direct[10..]);

    for (path, expected) in [
        ("/api/v1/comments/999999".to_owned(), StatusCode::NOT_FOUND),
        ("/api/v1/comments/0".to_owned(), StatusCode::NOT_FOUND),
        ("/api/v1/comments/-1".to_owned(), StatusCode::NOT_FOUND),
        ("/api/v1/comments/abc".to_owned(), StatusCode::NOT_FOUND),
        ("/api/v1/comments/99999999999999999999999".to_owned(), StatusCode::NOT_FOUND),
        (format!("/api/v1/comments/{top}?sort=sideways"), StatusCode::BAD_REQUEST),
        (format!("/api/v1/comments/{top}?sort=new&sort=old"), StatusCode::BAD_REQUEST),
    ] {
        let (status, body) = get(&app, &path).await;
        assert_eq!(status, expected, "{path}: {body}");
    }
}

async fn a_held_or_deleted_comment_reads_as_its_page_shows_it(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let admin = app.signup_as("ada", "admin").await;
    app.signup("ann").await;
    let bob_session = app.signup("bob").await;
    let ann = app.api_client(&app.api_token("ann", "write").await);
    let bob = app.api_client(&app.api_token("bob", "write").await);
    let top = post(&app, &ann, SEED_SLUG, "Top", None).await["id"].as_i64().unwrap();
    let gone = post(&app, &bob, SEED_SLUG, "Soon deleted", Some(top)).await["id"].as_i64().unwrap();
    let under = post(&app, &ann, SEED_SLUG, "Under the deleted one", Some(gone)).await["id"].as_i64().unwrap();
    let r = app.post_form(&bob_session, &format!("/comments/{gone}/delete"), &[("confirm", "yes")]).await;
    assert!(r.status().is_redirection());

    // A deleted comment with replies: its placeholder, without text or author.
    let (status, page) = get(&app, &format!("/api/v1/comments/{gone}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["comment"]["status"], "deleted");
    assert_eq!(page["comment"]["body_html"], "");
    assert!(page["comment"]["author"].is_null());
    assert_eq!(ids(&page, "replies"), [under]);
    let (_, below) = get(&app, &format!("/api/v1/comments/{under}")).await;
    assert_eq!(below["ancestors"][1]["status"], "deleted");
    assert_eq!(below["ancestors"][1]["body_html"], "");

    // A held comment: to its author only.
    let r = app.post_form(&admin, "/admin/settings/premoderation", &[("mode", "all"), ("count", "3")]).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let held = post(&app, &bob, SEED_SLUG, "Awaiting approval", Some(top)).await;
    assert_eq!(held["status"], "pending");
    let held = held["id"].as_i64().unwrap();
    let (status, own) = get_as(&app, &bob, &format!("/api/v1/comments/{held}")).await;
    assert_eq!((status, own["comment"]["status"].as_str().unwrap()), (StatusCode::OK, "pending"));
    assert_eq!(get(&app, &format!("/api/v1/comments/{held}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get_as(&app, &ann, &format!("/api/v1/comments/{held}")).await.0, StatusCode::NOT_FOUND);
    let (_, parent) = get(&app, &format!("/api/v1/comments/{top}")).await;
    assert!(!ids(&parent, "replies").contains(&held), "{parent}");
    let (_, parent) = get_as(&app, &bob, &format!("/api/v1/comments/{top}")).await;
    assert!(ids(&parent, "replies").contains(&held), "its author sees it in place");
}

async fn a_profile_and_its_comments_read_as_the_page_shows_them(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann_session = app.signup("ann").await;
    let r = app
        .post_form(
            &ann_session,
            "/settings/profile",
            &[("display_name", "Ann Example"), ("bio", "I read *everything*.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.post_form(&ann_session, &format!("/articles/{SEED_SLUG}/save"), &[("action", "save")]).await;
    assert!(r.status().is_redirection());
    let moderator = app.signup_as("mia", "moderator").await;
    let ann = app.api_client(&app.api_token("ann", "read,write").await);
    let mut visible = Vec::new();
    for i in 0..24 {
        visible.push(post(&app, &ann, SEED_SLUG, &format!("Comment {i}"), None).await["id"].as_i64().unwrap());
    }
    let deleted = post(&app, &ann, SEED_SLUG, "Deleted by ann", None).await["id"].as_i64().unwrap();
    let r = app.post_form(&ann_session, &format!("/comments/{deleted}/delete"), &[("confirm", "yes")]).await;
    assert!(r.status().is_redirection());
    let removed = post(&app, &ann, SEED_SLUG, "Removed by a moderator", None).await["id"].as_i64().unwrap();
    let r = app.post_form(&moderator, &format!("/mod/comments/{removed}/remove"), &[("reason", "Off topic")]).await;
    assert!(r.status().is_redirection(), "{}", r.status());

    let (status, profile) = get(&app, "/api/v1/users/ann").await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    assert_eq!(profile["username"], "ann");
    assert_eq!(profile["display_name"], "Ann Example");
    assert!(profile["bio_html"].as_str().unwrap().contains("<em>everything</em>"));
    assert_eq!(profile["comment_count"], 24);
    assert_eq!(profile["karma"], 0);
    assert!(profile["joined_at"].as_str().unwrap().ends_with('Z'));
    assert!(profile["saved_articles"].is_null(), "not shown to others: {profile}");
    assert!(profile["url"].as_str().unwrap().ends_with("/users/ann"));
    assert!(profile.get("email").is_none());
    // Their own saved articles show to themselves; to everyone once they say so.
    let (_, own) = get_as(&app, &ann, "/api/v1/users/ANN").await;
    assert_eq!(own["saved_articles"][0]["slug"], SEED_SLUG);
    let r = app
        .post_form(&ann_session, "/settings/profile", &[("display_name", "Ann Example"), ("show_saved", "on")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, public) = get(&app, "/api/v1/users/ann").await;
    assert_eq!(public["saved_articles"][0]["slug"], SEED_SLUG, "{public}");
    assert!(public["bio_html"].is_null(), "the bio was cleared");

    // Their comments, newest first, a page at a time; deleted and removed ones are not
    // listed, and a comment posted between pages shifts nothing.
    let (status, first) = get(&app, "/api/v1/users/ann/comments").await;
    assert_eq!(status, StatusCode::OK);
    let mut seen = ids(&first, "comments");
    assert_eq!(seen.len(), 20);
    assert_eq!(first["comments"][0]["article_slug"], SEED_SLUG);
    assert!(first["comments"][0]["article_title"].as_str().unwrap().starts_with("Meta"));
    assert!(first["comments"][0]["body_html"].as_str().unwrap().contains("Comment 23"));
    post(&app, &ann, SEED_SLUG, "Meanwhile", None).await;
    let next = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = get(&app, &format!("/api/v1/users/ann/comments?cursor={next}")).await;
    seen.extend(ids(&second, "comments"));
    assert!(second["next_cursor"].is_null());
    let mut expected = visible.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    let (_, page) = app.page("/users/ann").await;
    assert!(!page.contains("Deleted by ann") && !page.contains("Removed by a moderator"));

    // Unknown, deleted, or not a username: 404. A bad cursor: 400.
    let dave = app.signup("dave").await;
    post(&app, &app.api_client(&app.api_token("dave", "write").await), SEED_SLUG, "Dave was here", None).await;
    assert_eq!(get(&app, "/api/v1/users/dave").await.0, StatusCode::OK);
    let r = app.post_form(&dave, "/settings/delete", &[("delete_password", PASSWORD)]).await;
    assert!(r.status().is_redirection());
    for path in [
        "/api/v1/users/dave",
        "/api/v1/users/dave/comments",
        "/api/v1/users/nobody",
        "/api/v1/users/a%00b",
        "/api/v1/users/%FF%FE",
        "/api/v1/users/ann%20smith/comments",
    ] {
        assert_eq!(get(&app, path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    for cursor in ["abc", "0", "-1", "99999999999999999999", "1.5"] {
        let (status, body) = get(&app, &format!("/api/v1/users/ann/comments?cursor={cursor}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{cursor}: {body}");
    }
    let (status, body) = get(&app, "/api/v1/users/ann/comments?cursor=").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an empty parameter: {body}");
}

async fn search_answers_as_the_search_page(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    app.signup("ann").await;
    let ann = app.api_client(&app.api_token("ann", "write").await);
    for i in 0..23 {
        post(&app, &ann, SEED_SLUG, &format!("Netflix <b>watch</b> number {i}"), None).await;
    }
    let (status, results) = get(&app, "/api/v1/search?q=netflix").await;
    assert_eq!(status, StatusCode::OK, "{results}");
    assert_eq!(results["query"], "netflix");
    assert_eq!(results["articles"][0]["slug"], SEED_SLUG);
    assert!(results["articles"][0]["snippet_html"].as_str().unwrap().to_lowercase().contains("<mark>netflix</mark>"));
    let comments = results["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 20);
    assert_eq!(comments[0]["author"], "ann");
    assert_eq!(comments[0]["article_slug"], SEED_SLUG);
    let snippet = comments[0]["snippet_html"].as_str().unwrap();
    assert!(snippet.contains("<mark>Netflix</mark>") && !snippet.contains("<b>"), "{snippet}");
    let next = results["next_cursor"].as_str().unwrap().to_owned();
    let (status, second) = get(&app, &format!("/api/v1/search?q=netflix&cursor={next}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second["comments"].as_array().unwrap().len(), 3);
    assert!(second["articles"].as_array().unwrap().is_empty());
    assert!(second["next_cursor"].is_null());
    let mut all = ids(&results, "comments");
    all.extend(ids(&second, "comments"));
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 23);

    // Nothing found is an empty page; the HTML page refuses what the API refuses.
    let (status, none) = get(&app, "/api/v1/search?q=zebra").await;
    assert_eq!(status, StatusCode::OK);
    assert!(none["articles"].as_array().unwrap().is_empty() && none["next_cursor"].is_null());
    let long = "a".repeat(201);
    for query in ["q=".into(), "q=%20%20".into(), format!("q={long}"), "q=a&q=b".into()] {
        let (status, body) = get(&app, &format!("/api/v1/search?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    // No words to look for finds nothing, and has no second page.
    for query in ["", "q=!!!"] {
        let (status, body) = get(&app, &format!("/api/v1/search?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert!(body["articles"].as_array().unwrap().is_empty() && body["comments"].as_array().unwrap().is_empty());
        assert_eq!(get(&app, &format!("/api/v1/search?{query}&cursor=p2")).await.0, StatusCode::NOT_FOUND);
    }
    assert_eq!(app.page(&format!("/search?q={long}")).await.0, StatusCode::BAD_REQUEST);
    for (cursor, expected) in [
        ("p3", StatusCode::NOT_FOUND),
        ("p1", StatusCode::NOT_FOUND),
        ("p0", StatusCode::NOT_FOUND),
        ("p21", StatusCode::NOT_FOUND),
        ("p99999999999", StatusCode::NOT_FOUND),
        ("2", StatusCode::NOT_FOUND),
    ] {
        let (status, body) = get(&app, &format!("/api/v1/search?q=netflix&cursor={cursor}")).await;
        assert_eq!(status, expected, "{cursor}: {body}");
    }
}

async fn counts_answer_in_the_order_asked(backend: Backend) {
    let app = TestApp::builder(backend).with_articles(generated_articles(3)).with_seed_article().start().await;
    app.signup("ann").await;
    let ann = app.api_client(&app.api_token("ann", "write").await);
    let first = post(&app, &ann, SEED_SLUG, "One", None).await["id"].as_i64().unwrap();
    post(&app, &ann, SEED_SLUG, "Two", Some(first)).await;
    let generated = "generated-article-number-1";
    post(&app, &ann, generated, "Three", None).await;

    let path = "/api/v1/counts?url=https%3A%2F%2Ftechcrunch.com%2F&url=https://unknown.example/page\
                &slug=generated-article-number-1&url=https://example.com/generated/1&slug=no-such-article\
                &url=https://techcrunch.com/";
    let response = app.get(path).await;
    assert!(response.headers().get("access-control-allow-origin").is_none());
    let (status, body) = json(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let counts = body["counts"].as_array().unwrap();
    let summary: Vec<(Value, Value, Value)> =
        counts.iter().map(|c| (c["url"].clone(), c["count"].clone(), c["article"].clone())).collect();
    assert_eq!(
        summary,
        [
            ("https://techcrunch.com/".into(), 2.into(), SEED_SLUG.into()),
            ("https://unknown.example/page".into(), 0.into(), Value::Null),
            ("https://example.com/generated/1".into(), 1.into(), generated.into()),
            ("https://example.com/generated/1".into(), 1.into(), generated.into()),
            (Value::Null, 0.into(), Value::Null),
            ("https://techcrunch.com/".into(), 2.into(), SEED_SLUG.into()),
        ]
    );
    assert_eq!(counts[2]["slug"], generated);
    assert!(counts[0].get("slug").is_none());

    // A held comment is not published: the count stays.
    let admin = app.signup_as("ada", "admin").await;
    app.post_form(&admin, "/admin/settings/premoderation", &[("mode", "all"), ("count", "3")]).await;
    assert_eq!(post(&app, &ann, SEED_SLUG, "Held", None).await["status"], "pending");
    let (_, again) =
        get(&app, "/api/v1/counts?slug=meta-again-denies-that-netflix-read-users-private-facebook-messages").await;
    assert_eq!(again["counts"][0]["count"], 2);

    // Forty addresses and forty slugs at most, each printable ASCII; an address or slug
    // of no article counts 0; asking nothing answers nothing.
    let forty: Vec<String> = (0..40).map(|i| format!("url=https://example.com/generated/{i}")).collect();
    let (status, body) = get(&app, &format!("/api/v1/counts?{}&slug=no-such-slug", forty.join("&"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["counts"].as_array().unwrap().len(), 41);
    assert_eq!(body["counts"][1]["count"], 1);
    assert_eq!((body["counts"][40]["count"].as_i64(), body["counts"][40]["article"].is_null()), (Some(0), true));
    for query in ["", "other=1", "url=ftp://example.com/", "url=not-a-url"] {
        let (status, body) = get(&app, &format!("/api/v1/counts?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        assert!(body["counts"].as_array().unwrap().iter().all(|c| c["count"] == 0));
    }
    for query in [
        format!("{}&url=https://example.com/one-more", forty.join("&")),
        "url=".into(),
        "url=https://example.com/%C3%A9t%C3%A9".into(),
        "slug=Not%20A%20Slug".into(),
        format!("url=https://example.com/{}", "a".repeat(200)),
    ] {
        let (status, body) = get(&app, &format!("/api/v1/counts?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {body}", &query[..query.len().min(60)]);
    }
}

async fn me_is_the_caller(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let (status, body) = get(&app, "/api/v1/me").await;
    assert_eq!((status, body["code"].as_str().unwrap()), (StatusCode::UNAUTHORIZED, "login_required"));
    let (status, _) = get_as(&app, &app.api_client("aw_not-a-real-token"), "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let ann_session = app.signup("ann").await;
    app.post_form(&ann_session, "/settings/profile", &[("display_name", "Ann Example")]).await;
    let bob = app.signup_as("bob", "moderator").await;
    let ann = app.api_client(&app.api_token("ann", "read").await);
    let (status, me) = get_as(&app, &ann, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["username"], "ann");
    assert_eq!(me["display_name"], "Ann Example");
    assert_eq!(me["role"], "reader");
    assert_eq!(me["scopes"], serde_json::json!(["read"]));
    assert_eq!(me["unread"], 0);
    assert!(me["banned_until"].is_null());
    assert!(me.get("email").is_none());

    // A reply is a notification; a session may do everything its role allows.
    let top = app.comment(&ann_session, SEED_SLUG, "Hello", None).await;
    app.comment(&bob, SEED_SLUG, "Hello back", Some(top)).await;
    let (_, me) = get_as(&app, &ann, "/api/v1/me").await;
    assert_eq!(me["unread"], 1);
    let (status, me) = get_as(&app, &bob, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((me["username"].as_str().unwrap(), me["role"].as_str().unwrap()), ("bob", "moderator"));
    assert_eq!(me["scopes"], serde_json::json!(["read", "write", "moderate"]));
    let bob_token = app.api_client(&app.api_token("bob", "write,moderate").await);
    assert_eq!(get_as(&app, &bob_token, "/api/v1/me").await.1["scopes"], serde_json::json!(["write", "moderate"]));
}

/// What a program may send wrong: every read answers 400 with the reason, never 500.
async fn bad_query_strings_are_refused_with_the_reason(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    app.signup("ann").await;
    let ann = app.api_client(&app.api_token("ann", "write").await);
    let id = post(&app, &ann, SEED_SLUG, "A comment", None).await["id"].as_i64().unwrap();
    let paths = [
        "/api/v1/articles".to_owned(),
        "/api/v1/articles/by-url".to_owned(),
        format!("/api/v1/comments/{id}"),
        "/api/v1/users/ann/comments".to_owned(),
        "/api/v1/search".to_owned(),
        "/api/v1/counts".to_owned(),
    ];
    let name = |path: &str| match path {
        p if p.ends_with("by-url") || p.ends_with("counts") => "url",
        p if p.ends_with("search") => "q",
        p if p.contains("/comments/") => "sort",
        _ => "cursor",
    };
    for path in &paths {
        let p = name(path);
        for query in [
            format!("{p}=%FF%FE"),
            format!("{p}=a%00b"),
            format!("{p}=a%0Ab"),
            format!("{p}=x&{p}=y"),
            format!("{p}="),
            format!("{p}=99999999999999999999999999999"),
            format!("{p}=-1"),
            format!("{p}[]=1&{p}="),
        ] {
            // Of the right shape, naming nothing (answered 404 or counted 0): see above.
            if query.contains("999") || query.contains("-1") {
                continue;
            }
            // Counts take the same parameter many times.
            if p == "url" && path.ends_with("counts") && query.contains('&') {
                continue;
            }
            let (status, body) = get(&app, &format!("{path}?{query}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}?{query}: {body}");
            assert_eq!(body["code"], "bad_request");
            assert!(!body["message"].as_str().unwrap().is_empty());
        }
    }
    // Huge numbers where numbers go: 400 or 404, never 500.
    for path in [
        "/api/v1/articles?limit=99999999999999999999999",
        "/api/v1/articles?limit=1.5",
        "/api/v1/articles?limit=%201",
        "/api/v1/articles?cursor=9999-99-99_1",
        "/api/v1/articles?cursor=2024-04-02_999999999999999999999",
    ] {
        let (status, body) = get(&app, path).await;
        let fine = [StatusCode::BAD_REQUEST, StatusCode::OK, StatusCode::NOT_FOUND];
        assert!(fine.contains(&status), "{path}: {status} {body}");
    }
}
