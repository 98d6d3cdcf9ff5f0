//! Comments embedded in other sites: the allowed origins, CORS, the frame and its
//! ancestors, the first comment that makes an article, the counts, the popup's token,
//! and the size of what a host page loads.

use reqwest::header::{ACCEPT_ENCODING, ORIGIN};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::html::Page;
use crate::common::{Backend, TestApp, SEED_SLUG};
use crate::{both_backends, postgres_only};

both_backends!(
    allowed_origins_are_validated_and_normalised,
    cors_answers_allowed_origins_only,
    the_frame_alone_may_be_framed_by_the_allowed_origins,
    the_frame_refuses_pages_of_other_sites,
    a_first_comment_makes_the_article_once,
    counts_of_many_pages_in_one_request,
    the_popup_hands_a_token_to_allowed_sites_only,
    the_embed_and_what_it_loads_fit_the_budget,
);
postgres_only!(another_instance_hears_of_new_origins);

const BLOG: &str = "https://blog.example";
const POST: &str = "https://blog.example/post-1";

async fn json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}")))
}

/// Signs up an administrator and saves `origins` (as typed) on the settings page.
async fn allow(app: &TestApp, origins: &str) -> reqwest::Client {
    let admin = app.signup_as("ada", "admin").await;
    let response = app.post_form(&admin, "/admin/settings/embed", &[("origins", origins)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", response.text().await.unwrap());
    admin
}

async fn allowed_origins_are_validated_and_normalised(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let admin = allow(&app, " https://Blog.Example:443/ \n\nhttp://localhost:8080\nhttps://blog.example\n").await;
    let (_, page) = app.page_as(&admin, "/admin/settings").await;
    assert!(page.contains(">https://blog.example\nhttp://localhost:8080</textarea>"), "{page}");

    for (typed, reason) in [
        ("https://blog.example/post-1", "without a path"),
        ("ftp://blog.example", "https:// or http://"),
        ("blog.example", "is not an origin"),
        ("https://ann:secret@blog.example", "no user name"),
        ("https://blog.example?x=1", "without a path"),
    ] {
        let text = format!("https://fine.example\n{typed}");
        let response = app.post_form(&admin, "/admin/settings/embed", &[("origins", &text)]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{typed}");
        let body = response.text().await.unwrap();
        let page = Page::parse(&body);
        assert!(page.text(".flash.error").contains(reason), "{typed}: {}", page.text(".flash.error"));
        let typed_back = format!(">{}</textarea>", text.replace('&', "&amp;"));
        assert!(body.contains(&typed_back), "the form keeps what was typed: {typed}");
    }
    let many: String = (0..101).map(|i| format!("https://site{i}.example\n")).collect();
    let response = app.post_form(&admin, "/admin/settings/embed", &[("origins", &many)]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Nothing refused was kept.
    let (_, page) = app.page_as(&admin, "/admin/settings").await;
    assert!(page.contains(">https://blog.example\nhttp://localhost:8080</textarea>"));

    // Readers and moderators may not.
    for role in ["reader", "moderator"] {
        let name = format!("someone{role}");
        let client = app.signup_as(&name, role).await;
        let response = app.post_form(&client, "/admin/settings/embed", &[("origins", "https://evil.example")]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{role}");
    }
    let anonymous = app.new_client();
    let response = app.post_form(&anonymous, "/admin/settings/embed", &[("origins", "https://evil.example")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "to the login page");
    assert!(!app.with_conn(afterword::db::embed::origins).await.unwrap().contains(&"https://evil.example".to_owned()));

    // An empty list allows no one.
    let response = app.post_form(&admin, "/admin/settings/embed", &[("origins", "")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let frame = app.get(&format!("/embed/thread?url={POST}")).await;
    assert_eq!(frame.status(), StatusCode::FORBIDDEN);
}

async fn cors_answers_allowed_origins_only(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    allow(&app, BLOG).await;
    let plain = reqwest::Client::new();
    let path = app.url(&format!("/api/v1/articles/{SEED_SLUG}/comments"));

    let allowed = plain.get(&path).header(ORIGIN, BLOG).send().await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    let h = allowed.headers();
    assert_eq!(h["access-control-allow-origin"], BLOG);
    assert!(h.get_all("vary").iter().any(|v| v.to_str().unwrap().contains("Origin")));
    assert!(h.get("access-control-allow-credentials").is_none(), "never with cookies");
    assert!(h["access-control-expose-headers"].to_str().unwrap().contains("ETag"));

    // An error answers the allowed origin too, so that its script can read why.
    let missing = plain.get(app.url("/api/v1/articles/no-such-article")).header(ORIGIN, BLOG).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()["access-control-allow-origin"], BLOG);

    for other in ["https://evil.example", "https://blog.example.evil.example", "http://blog.example", "null"] {
        let response = plain.get(&path).header(ORIGIN, other).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{other}");
        assert!(response.headers().get("access-control-allow-origin").is_none(), "{other}");
        assert!(response.headers().get_all("vary").iter().any(|v| v.to_str().unwrap().contains("Origin")));
    }
    // Not on the pages.
    let page = plain.get(app.url("/")).header(ORIGIN, BLOG).send().await.unwrap();
    assert!(page.headers().get("access-control-allow-origin").is_none());

    // Preflight: a write with a token and JSON.
    let preflight = |origin: &'static str| {
        plain
            .request(reqwest::Method::OPTIONS, &path)
            .header(ORIGIN, origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let ok = preflight(BLOG).await.unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    let h = ok.headers();
    assert_eq!(h["access-control-allow-origin"], BLOG);
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    let allowed_headers = h["access-control-allow-headers"].to_str().unwrap().to_lowercase();
    assert!(allowed_headers.contains("authorization") && allowed_headers.contains("content-type"));
    assert!(h.get("access-control-allow-credentials").is_none());
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());
    assert!(refused.headers().get("access-control-allow-methods").is_none());

    // With a token, an allowed origin's page posts; a session cookie from another
    // origin is refused (no CSRF token, wrong origin) whatever CORS says.
    app.signup("ann").await;
    let token = app.api_token("ann", "read,write").await;
    let posted = app
        .api_client(&token)
        .post(&path)
        .header(ORIGIN, BLOG)
        .json(&json!({"body": "From the blog"}))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::CREATED);
    assert_eq!(posted.headers()["access-control-allow-origin"], BLOG);
    let ann = app.login("ann", crate::common::PASSWORD).await.0;
    let by_cookie = ann.post(&path).header(ORIGIN, BLOG).json(&json!({"body": "By cookie"})).send().await.unwrap();
    assert_eq!(by_cookie.status(), StatusCode::FORBIDDEN);
    let (_, thread) = json(app.get(&format!("/api/v1/articles/{SEED_SLUG}/comments")).await).await;
    assert_eq!(thread["comments"].as_array().unwrap().len(), 1);
}

fn csp(response: &reqwest::Response) -> String {
    response.headers()["content-security-policy"].to_str().unwrap().to_owned()
}

async fn the_frame_alone_may_be_framed_by_the_allowed_origins(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    allow(&app, &format!("{BLOG}\nhttp://localhost:8080")).await;
    let frame = app.get(&format!("/embed/thread?url={POST}&title=Post%20one")).await;
    assert_eq!(frame.status(), StatusCode::OK);
    let policy = csp(&frame);
    assert!(policy.contains("frame-ancestors https://blog.example http://localhost:8080;"), "{policy}");
    assert!(policy.contains("script-src 'self'") && policy.contains("default-src 'self'"), "{policy}");
    assert!(frame.headers().get("x-frame-options").is_none());
    let page = Page::parse(&frame.text().await.unwrap());
    assert_eq!(page.text(".aw-heading"), "Comments (0)");
    assert_eq!(page.text(".aw-empty"), "Be the first to comment!");
    assert_eq!(page.attr("#afterword-thread", "data-url"), POST);
    assert_eq!(page.attr("#afterword-thread", "data-title"), "Post one");
    assert!(page.attr("script", "src").starts_with("/static/embed-frame."));

    // Everything else keeps 'none'.
    let ann = app.signup("ann").await;
    for path in ["/", &format!("/articles/{SEED_SLUG}"), "/embed.js", "/api/v1/counts?url=x", "/embed/login"] {
        let response = ann.get(app.url(path)).send().await.unwrap();
        assert!(csp(&response).contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(response.headers()["x-frame-options"], "DENY", "{path}");
    }
}

async fn the_frame_refuses_pages_of_other_sites(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    allow(&app, BLOG).await;
    for url in ["https://evil.example/post-1", "http://blog.example/post-1", "https://blog.example.evil.example/x"] {
        let response = app.get(&format!("/embed/thread?url={url}")).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{url}");
        assert!(csp(&response).contains("frame-ancestors 'none'"));
        let body = response.text().await.unwrap();
        assert!(body.contains("Comments are not enabled for pages of"), "{body}");
    }
    for query in ["", "?url=", "?url=javascript:alert(1)", "?url=not%20a%20url"] {
        let response = app.get(&format!("/embed/thread{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }
}

async fn a_first_comment_makes_the_article_once(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    allow(&app, BLOG).await;
    app.signup("ann").await;
    app.signup("bob").await;
    let ann = app.api_client(&app.api_token("ann", "read,write").await);
    let bob = app.api_client(&app.api_token("bob", "read,write").await);
    let articles = || app.with_conn(|c| afterword::db::articles::count(c).unwrap());
    let before = articles().await;

    // Refused first: nothing is made.
    let first = json!({"url": POST, "title": "Post one: the start", "summary": "What it says.", "body": "First!"});
    // Anonymous: no token, and no session (and so no CSRF token either).
    let anonymous = reqwest::Client::new().post(app.url("/api/v1/threads")).json(&first).send().await.unwrap();
    assert!(matches!(anonymous.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), "{}", anonymous.status());
    let with_origin = app.new_client().post(app.url("/api/v1/threads")).json(&first).send().await.unwrap();
    assert!(with_origin.status().is_client_error());
    let reader = app.api_client(&app.api_token("ann", "read").await);
    let (status, body) = json(reader.post(app.url("/api/v1/threads")).json(&first).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let other = json!({"url": "https://evil.example/post-1", "title": "Evil", "body": "Hello"});
    let (status, body) = json(ann.post(app.url("/api/v1/threads")).json(&other).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "forbidden");
    for bad in [
        json!({"url": POST, "title": "T", "body": ""}),
        json!({"url": "ftp://blog.example/x", "title": "T", "body": "Hi"}),
        json!({"url": POST, "title": "T", "body": "x".repeat(10_001)}),
        json!({"url": POST, "title": "T", "body": "Hi", "slug": "mine"}),
    ] {
        let response = ann.post(app.url("/api/v1/threads")).json(&bad).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(articles().await, before, "nothing made by a refusal");

    // The first comment makes the article, from the page's title and summary.
    let response = ann.post(app.url("/api/v1/threads")).json(&first).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, made) = json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(location, format!("/api/v1/comments/{}", made["comment"]["id"]));
    let slug = made["article"]["slug"].as_str().unwrap().to_owned();
    assert_eq!(slug, "post-one-the-start");
    assert_eq!(made["article"]["title"], "Post one: the start");
    assert_eq!(made["article"]["source_url"], POST);
    assert_eq!(made["article"]["source_name"], "blog.example");
    assert_eq!(made["article"]["summary"], "What it says.");
    assert_eq!(made["article"]["comment_count"], 1);
    assert_eq!(made["comment"]["author"], "ann");
    assert_eq!(articles().await, before + 1);

    // Another first comment (another title, the address with a fragment) joins it.
    let again = json!({"url": format!("{POST}#comments"), "title": "Another title", "body": "Second"});
    let (status, joined) = json(bob.post(app.url("/api/v1/threads")).json(&again).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{joined}");
    assert_eq!(joined["article"]["slug"], slug.as_str());
    assert_eq!(joined["article"]["comment_count"], 2);
    assert_eq!(articles().await, before + 1, "not twice");

    // The frame now shows that article; its page shows both comments.
    let frame = Page::parse(&app.page(&format!("/embed/thread?url={POST}")).await.1);
    assert_eq!(frame.attr("#afterword-thread", "data-slug"), slug);
    assert_eq!(frame.text(".aw-heading"), "Comments (2)");
    let (status, page) = app.page(&format!("/articles/{slug}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("First!") && page.contains("Second"));

    // An administrator can edit it later, like any article.
    let admin = app.login("ada", crate::common::PASSWORD).await.0;
    let (status, _) = app.page_as(&admin, &format!("/admin/articles/{slug}/edit")).await;
    assert_eq!(status, StatusCode::OK);

    // A page with no title gets its address as one; a too long title is cut.
    let untitled = json!({"url": "https://blog.example/untitled", "body": "Hi", "title": "   "});
    let (status, made) = json(ann.post(app.url("/api/v1/threads")).json(&untitled).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["article"]["title"], "blog.example/untitled");
    let long = json!({"url": "https://blog.example/long", "body": "Hi", "title": "word ".repeat(200)});
    let (status, made) = json(ann.post(app.url("/api/v1/threads")).json(&long).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert!(made["article"]["title"].as_str().unwrap().chars().count() <= 300);

    // A closed thread takes no first comment either.
    app.with_conn(move |c| {
        use afterword::db::schema::articles;
        use diesel::prelude::*;
        diesel::update(articles::table.filter(articles::slug.eq("post-one-the-start")))
            .set(articles::comments_locked.eq(true))
            .execute(c)
            .unwrap()
    })
    .await;
    let late = json!({"url": POST, "title": "x", "body": "Late"});
    let response = ann.post(app.url("/api/v1/threads")).json(&late).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

async fn counts_of_many_pages_in_one_request(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    allow(&app, BLOG).await;
    app.signup("ann").await;
    let ann = app.api_client(&app.api_token("ann", "read,write").await);
    for body in ["One", "Two"] {
        let first = json!({"url": POST, "title": "Post one", "body": body});
        assert_eq!(
            ann.post(app.url("/api/v1/threads")).json(&first).send().await.unwrap().status(),
            StatusCode::CREATED
        );
    }
    let plain = reqwest::Client::new();
    let response = plain
        .get(app.url("/api/v1/counts?url=https%3A%2F%2Fblog.example%2Fpost-1&url=https%3A%2F%2Fblog.example%2Fnone&url=https%3A%2F%2Fblog.example%2Fpost-1%23c"))
        .header(ORIGIN, BLOG)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], BLOG);
    let (status, counts) = json(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        counts,
        json!({"counts": [
            {"url": POST, "count": 2, "article": "post-one"},
            {"url": "https://blog.example/none", "count": 0, "article": null},
            {"url": "https://blog.example/post-1#c", "count": 2, "article": "post-one"},
        ]})
    );
    let (status, nothing) = json(app.get("/api/v1/counts").await).await;
    assert_eq!((status, nothing), (StatusCode::OK, json!({"counts": []})), "nothing asked, nothing answered");
    let many: String = (0..41).map(|i| format!("url=https%3A%2F%2Fblog.example%2F{i}&")).collect();
    assert_eq!(app.get(&format!("/api/v1/counts?{many}")).await.status(), StatusCode::BAD_REQUEST);
    let long = "a".repeat(2_001);
    assert_eq!(app.get(&format!("/api/v1/counts?url={long}")).await.status(), StatusCode::BAD_REQUEST);
}

async fn the_popup_hands_a_token_to_allowed_sites_only(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    allow(&app, BLOG).await;
    let path = "/embed/login?origin=https%3A%2F%2Fblog.example";

    // Signed out: the normal login page, which comes back here, and keeps its opener.
    let anonymous = app.new_client();
    let response = anonymous.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let login = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(login.starts_with("/login?next=%2Fembed%2Flogin"), "{login}");
    let page = anonymous.get(app.url(&login)).send().await.unwrap();
    assert_eq!(page.headers()["cross-origin-opener-policy"], "unsafe-none");
    assert_eq!(app.get("/login").await.headers()["cross-origin-opener-policy"], "same-origin");
    let signup = login.replacen("/login", "/signup", 1);
    let page = anonymous.get(app.url(&signup)).send().await.unwrap();
    assert_eq!(page.headers()["cross-origin-opener-policy"], "unsafe-none", "signing up on the way keeps it too");

    let ann = app.signup("ann").await;
    let response = ann.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cross-origin-opener-policy"], "unsafe-none");
    assert!(csp(&response).contains("frame-ancestors 'none'"), "the question is never framed");
    let page = Page::parse(&response.text().await.unwrap());
    assert_eq!(page.text("h1"), "Let the comments on blog.example post as ann?");

    for origin in ["https%3A%2F%2Fevil.example", "https%3A%2F%2Fblog.example%2Fpath", "nonsense"] {
        let response = ann.get(app.url(&format!("/embed/login?origin={origin}"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
        let response = app.post_form(&ann, "/embed/login", &[("origin", origin), ("decision", "allow")]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
    }
    let tokens = || {
        app.with_conn(|c| {
            use afterword::db::schema::api_tokens;
            use diesel::prelude::*;
            api_tokens::table
                .select((api_tokens::name, api_tokens::scopes, api_tokens::expires_at))
                .load::<(String, String, Option<time::PrimitiveDateTime>)>(c)
                .unwrap()
        })
    };
    assert!(tokens().await.is_empty());

    // Without the CSRF token, or from another site: refused.
    let forged =
        ann.post(app.url("/embed/login")).form(&[("origin", BLOG), ("decision", "allow")]).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // Cancel: nothing made.
    let response = app.post_form(&ann, "/embed/login", &[("origin", BLOG), ("decision", "deny")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(tokens().await.is_empty());

    let response = app.post_form(&ann, "/embed/login", &[("origin", BLOG), ("decision", "allow")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let page = Page::parse(&response.text().await.unwrap());
    let token = page.attr("#afterword-handoff", "data-token");
    assert!(token.starts_with("aw_"));
    assert_eq!(page.attr("#afterword-handoff", "data-username"), "ann");
    assert!(page.attr("script", "src").starts_with("/static/embed-login."));
    let made = tokens().await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].0, "Comments on blog.example");
    assert_eq!(made[0].1, "read,write");
    let expires = made[0].2.expect("it expires");
    let left = expires - afterword::db::now();
    assert!(left > time::Duration::hours(3) && left <= time::Duration::hours(4), "{left}");

    // It posts as ann; it cannot moderate.
    let client = app.api_client(&token);
    let first = json!({"url": POST, "title": "Post one", "body": "Through the popup"});
    let (status, made) = json(client.post(app.url("/api/v1/threads")).json(&first).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(made["comment"]["author"], "ann");
}

async fn the_embed_and_what_it_loads_fit_the_budget(backend: Backend) {
    let app = TestApp::builder(backend).start().await;
    allow(&app, BLOG).await;
    let plain = reqwest::Client::new();
    let script = plain.get(app.url("/embed.js")).header(ACCEPT_ENCODING, "br").send().await.unwrap();
    assert_eq!(script.status(), StatusCode::OK);
    assert_eq!(script.headers()["content-encoding"], "br");
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(script.headers()["cache-control"], "public, max-age=3600");
    let mut total = script.bytes().await.unwrap().len();
    let gzip = plain.get(app.url("/embed.js")).header(ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(gzip.headers()["content-encoding"], "gzip");

    // The frame and every file it loads, as a browser gets them (brotli; the frame
    // itself as the compression middleware sends it).
    let frame = plain.get(app.url(&format!("/embed/thread?url={POST}"))).send().await.unwrap();
    let frame = frame.text().await.unwrap();
    total += gzip_len(frame.as_bytes());
    let page = Page::parse(&frame);
    let mut files = page.attrs("script[src]", "src");
    files.extend(page.attrs("link[href]", "href"));
    assert!(files.len() >= 2, "{files:?}");
    for file in files {
        assert!(file.starts_with("/static/"), "only this site's own files: {file}");
        let response = plain.get(app.url(&file)).header(ACCEPT_ENCODING, "br").send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        total += response.bytes().await.unwrap().len();
    }
    assert!(total <= 25 * 1024, "the embed loads {total} bytes compressed");
    // No third-party request: every address in the scripts is this site's own.
    let source = reqwest::Client::new().get(app.url("/embed.js")).send().await.unwrap().text().await.unwrap();
    assert!(
        !source.contains("http://")
            || source.lines().all(|l| l.trim_start().starts_with("//") || !l.contains("http://"))
    );
}

fn gzip_len(bytes: &[u8]) -> usize {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap().len()
}

async fn another_instance_hears_of_new_origins() {
    let app = TestApp::builder(Backend::Postgres).with_seed_article().start().await;
    let second = app.second_instance().await;
    let path = format!("/embed/thread?url={POST}");
    assert_eq!(second.get(&path).await.status(), StatusCode::FORBIDDEN);
    allow(&app, BLOG).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while second.get(&path).await.status() != StatusCode::OK {
        assert!(std::time::Instant::now() < deadline, "the other instance did not hear of the new origin");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
