//! The JSON API (`/api/v1`) and its OpenAPI document: conventions, authentication by
//! token and by session, and that every route is documented.

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{Backend, TestApp, SEED_SLUG};
use crate::{both_backends, plain_tests};

both_backends!(
    an_article_reads_as_json_with_an_etag,
    refusals_are_json_with_a_stable_code,
    a_token_posts_a_comment_within_its_scopes,
    a_session_posts_with_the_csrf_header_only,
    a_thread_reads_page_by_page_with_every_comment_once,
    articles_never_take_the_api_s_own_paths_as_slugs,
);
plain_tests!(every_api_route_is_in_the_openapi_document);

async fn json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}")))
}

async fn an_article_reads_as_json_with_an_etag(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let response = app.get(&format!("/api/v1/articles/{SEED_SLUG}")).await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let (status, article) = json(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(article["slug"], SEED_SLUG);
    assert_eq!(article["takeaways"].as_array().unwrap().len(), 4);
    assert_eq!(article["comment_count"], 0);
    assert!(article["url"].as_str().unwrap().ends_with(&format!("/articles/{SEED_SLUG}")));

    let again = app
        .new_client()
        .get(app.url(&format!("/api/v1/articles/{SEED_SLUG}")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    // A comment changes the article's count, and so its tag.
    let ann = app.signup("ann").await;
    app.comment(&ann, SEED_SLUG, "A first comment", None).await;
    let changed = app
        .new_client()
        .get(app.url(&format!("/api/v1/articles/{SEED_SLUG}")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    let (status, article) = json(changed).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(article["comment_count"], 1);
}

async fn refusals_are_json_with_a_stable_code(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let client = app.new_client();
    let cases: Vec<(reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (client.get(app.url("/api/v1/articles/no-such-article")), StatusCode::NOT_FOUND, "not_found"),
        (client.get(app.url("/api/v1/articles/Not%20A%20Slug")), StatusCode::NOT_FOUND, "not_found"),
        (
            client
                .post(app.url(&format!("/api/v1/articles/{SEED_SLUG}/comments")))
                .json(&serde_json::json!({"body": "hi"})),
            StatusCode::FORBIDDEN,
            "csrf_failed",
        ),
        (
            app.api_client("aw_not-a-real-token")
                .post(app.url(&format!("/api/v1/articles/{SEED_SLUG}/comments")))
                .json(&serde_json::json!({"body": "hi"})),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            client.get(app.url(&format!("/api/v1/articles/{SEED_SLUG}"))).header("authorization", "Basic abc"),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (client.get(app.url("/api/v1/nothing-here")), StatusCode::NOT_FOUND, "not_found"),
    ];
    for (request, expected, code) in cases {
        let (status, body) = json(request.send().await.unwrap()).await;
        assert_eq!((status, body["code"].as_str().unwrap()), (expected, code), "{body}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
}

async fn a_token_posts_a_comment_within_its_scopes(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    app.signup("ann").await;
    let writer = app.api_client(&app.api_token("ann", "read,write").await);
    let path = format!("/api/v1/articles/{SEED_SLUG}/comments");

    let response =
        writer.post(app.url(&path)).json(&serde_json::json!({"body": "Posted **by a program**"})).send().await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, comment) = json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    let id = comment["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/v1/comments/{id}"));
    assert_eq!(comment["author"], "ann");
    assert_eq!(comment["status"], "visible");
    assert!(comment["body_html"].as_str().unwrap().contains("<strong>by a program</strong>"));
    assert_eq!(comment["can"]["edit"], true);

    // A reply, then what is refused: bad input, a parent elsewhere, unknown fields.
    let reply = writer
        .post(app.url(&path))
        .json(&serde_json::json!({"body": "A reply", "parent_id": id}))
        .send()
        .await
        .unwrap();
    let (status, reply) = json(reply).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(reply["parent_id"], id);
    let float_parent =
        writer.post(app.url(&path)).json(&serde_json::json!({"body": "Another", "parent_id": id as f64})).send().await;
    assert_eq!(float_parent.unwrap().status(), StatusCode::CREATED, "{id}.0 is an integer to JSON Schema");
    for (bad, expected) in [
        (serde_json::json!({"body": "   "}), StatusCode::BAD_REQUEST),
        (serde_json::json!({"body": "x".repeat(10_001)}), StatusCode::BAD_REQUEST),
        (serde_json::json!({"body": "nul \u{0} byte"}), StatusCode::BAD_REQUEST),
        (serde_json::json!({"body": "hi", "parent_id": 0}), StatusCode::BAD_REQUEST),
        (serde_json::json!({"body": "hi", "parent_id": 999_999}), StatusCode::NOT_FOUND),
        (serde_json::json!({"body": "hi", "parent_id": 1.5}), StatusCode::BAD_REQUEST),
        (serde_json::json!({"body": "a\u{1}b"}), StatusCode::BAD_REQUEST),
        (serde_json::json!({"body": "\u{200B}\u{0301}"}), StatusCode::BAD_REQUEST),
        (serde_json::json!({"body": format!(" {}", "x".repeat(10_000))}), StatusCode::BAD_REQUEST),
        (serde_json::json!({"body": "hi", "extra": true}), StatusCode::BAD_REQUEST),
        (serde_json::json!({"text": "hi"}), StatusCode::BAD_REQUEST),
    ] {
        let (status, body) = json(writer.post(app.url(&path)).json(&bad).send().await.unwrap()).await;
        assert_eq!(status, expected, "{bad} → {body}");
    }
    let not_json =
        writer.post(app.url(&path)).header("content-type", "application/json").body("{").send().await.unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);

    // A read-only token may not write; nothing is stored.
    let reader = app.api_client(&app.api_token("ann", "read").await);
    let (status, body) =
        json(reader.post(app.url(&path)).json(&serde_json::json!({"body": "Not allowed"})).send().await.unwrap()).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (StatusCode::FORBIDDEN, "forbidden"));

    let (status, page) = app.page(&format!("/articles/{SEED_SLUG}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("by a program") && page.contains("A reply") && !page.contains("Not allowed"));
    let (_, article) = json(app.get(&format!("/api/v1/articles/{SEED_SLUG}")).await).await;
    assert_eq!(article["comment_count"], 3);

    // An expired token, and one of a deleted account, are refused.
    let expired = app.api_token("ann", "write").await;
    let hash = afterword::auth::token_hash(&expired);
    app.with_conn(move |c| {
        use afterword::db::schema::api_tokens;
        use diesel::prelude::*;
        diesel::update(api_tokens::table.filter(api_tokens::token_hash.eq(hash)))
            .set(api_tokens::expires_at.eq(Some(afterword::db::now() - time::Duration::minutes(1))))
            .execute(c)
            .unwrap();
    })
    .await;
    let (status, _) = json(
        app.api_client(&expired).post(app.url(&path)).json(&serde_json::json!({"body": "Late"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn a_session_posts_with_the_csrf_header_only(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let path = format!("/api/v1/articles/{SEED_SLUG}/comments");
    let origin = app.url("");
    let origin = origin.trim_end_matches('/');
    let refused = ann
        .post(app.url(&path))
        .header("origin", origin)
        .json(&serde_json::json!({"body": "No token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let token = app.csrf_token(&ann).await;
    let (status, comment) = json(
        ann.post(app.url(&path))
            .header("origin", origin)
            .header("x-csrf-token", token)
            .json(&serde_json::json!({"body": "With the header"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    assert_eq!(comment["author"], "ann");
    // Anonymous: a login is asked for with 401, not a redirect.
    let anonymous = app.new_client();
    let token = app.csrf_token(&anonymous).await;
    let (status, body) = json(
        anonymous
            .post(app.url(&path))
            .header("x-csrf-token", token)
            .json(&serde_json::json!({"body": "Who?"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["code"].as_str().unwrap()), (StatusCode::UNAUTHORIZED, "login_required"));
}

/// Every route under `/api/` is an operation of the document, with the same method,
/// and the document is OpenAPI 3.1.
fn every_api_route_is_in_the_openapi_document() {
    use utoipa::OpenApi;
    let document = serde_json::to_value(afterword::web::api::ApiDoc::openapi()).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"), "{}", document["openapi"]);
    let mut api_routes = 0;
    for route in afterword::web::routes::ROUTES.iter().filter(|r| r.path.starts_with("/api/v1/")) {
        api_routes += 1;
        let operation = &document["paths"][route.path][route.method.to_lowercase()];
        assert!(operation.is_object(), "{} {} is not in the OpenAPI document", route.method, route.path);
        assert!(operation["responses"].is_object());
    }
    assert!(api_routes >= 2);
    // Operation ids name one operation each (the docs page links them).
    let mut ids: Vec<&str> = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values().map(|op| op["operationId"].as_str().unwrap()))
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "every operationId is unique");
    let documented = document["paths"].as_object().unwrap();
    for (path, item) in documented {
        for method in item.as_object().unwrap().keys() {
            let known =
                afterword::web::routes::ROUTES.iter().any(|r| r.path == path && r.method.eq_ignore_ascii_case(method));
            assert!(known, "the document lists {method} {path}, which no route serves");
        }
    }
}

async fn a_thread_reads_page_by_page_with_every_comment_once(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    app.signup("ann").await;
    let ann = app.api_client(&app.api_token("ann", "write").await);
    let path = format!("/api/v1/articles/{SEED_SLUG}/comments");
    let post = |body: String, parent: Option<i64>| {
        let request = ann.post(app.url(&path)).json(&serde_json::json!({"body": body, "parent_id": parent}));
        async move { json(request.send().await.unwrap()).await.1["id"].as_i64().unwrap() }
    };
    let first = post("Top 0".into(), None).await;
    let reply = post("Reply to top 0".into(), Some(first)).await;
    let nested = post("Reply to the reply".into(), Some(reply)).await;
    let mut all = vec![first, reply, nested];
    for i in 1..60 {
        all.push(post(format!("Top {i}"), None).await);
    }

    // The first page, oldest first: each comment followed by its replies.
    let (status, thread) = json(app.get(&format!("{path}?sort=old")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(thread["sort"], "old");
    let ids: Vec<i64> = thread["comments"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    let at = |id: i64| ids.iter().position(|i| *i == id).unwrap();
    assert!(at(first) < at(reply) && at(reply) < at(nested), "{ids:?}");
    assert_eq!(thread["comments"][at(nested)]["depth"], 2);
    assert_eq!(thread["comments"][at(nested)]["parent_id"], reply);
    assert_eq!(thread["comments"][0]["can"]["vote"], false, "anonymous readers may not vote");

    // Every order, page by page: each comment exactly once, even while comments arrive.
    for sort in ["best", "top", "new", "old", "controversial"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let url = match &cursor {
                Some(c) => format!("{path}?sort={sort}&cursor={c}"),
                None => format!("{path}?sort={sort}"),
            };
            let (status, page) = json(app.get(&url).await).await;
            assert_eq!(status, StatusCode::OK, "{url}: {page}");
            seen.extend(page["comments"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()));
            pages += 1;
            if pages == 1 && sort == "new" {
                // A comment posted between pages does not shift the next page.
                all.push(post("Arrived meanwhile".into(), None).await);
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{sort}: no comment twice");
        assert!(pages >= 2, "{sort}: {pages} pages");
        let missing: Vec<_> = all.iter().filter(|id| !seen.contains(id)).collect();
        let arrived_first = sort == "new" && missing.len() == 1;
        assert!(missing.is_empty() || arrived_first, "{sort}: missing {missing:?}");
    }

    // Replies are read from the comment; a bad cursor or order is a 400, a missing
    // comment a 404.
    let (status, replies) = json(app.get(&format!("/api/v1/comments/{first}/replies")).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replies["comments"][0]["id"], reply);
    for (url, expected) in [
        (format!("{path}?cursor=zz"), StatusCode::BAD_REQUEST),
        (format!("{path}?cursor=p0"), StatusCode::BAD_REQUEST),
        (format!("{path}?sort=best&cursor=a5"), StatusCode::NOT_FOUND),
        (format!("{path}?cursor=s5"), StatusCode::BAD_REQUEST),
        (format!("/api/v1/comments/{first}/replies?cursor=p2"), StatusCode::BAD_REQUEST),
        (format!("{path}?sort=sideways"), StatusCode::BAD_REQUEST),
        (format!("{path}?cursor=p999"), StatusCode::NOT_FOUND),
        ("/api/v1/comments/999999/replies".to_owned(), StatusCode::NOT_FOUND),
        ("/api/v1/comments/abc/replies".to_owned(), StatusCode::NOT_FOUND),
        ("/api/v1/articles/no-such/comments".to_owned(), StatusCode::NOT_FOUND),
    ] {
        let (status, body) = json(app.get(&url).await).await;
        assert_eq!(status, expected, "{url}: {body}");
    }
}

/// `/api/v1/articles/import` and `/api/v1/articles/by-url` are operations: no article
/// may be given those slugs, whether made from its title or named.
async fn articles_never_take_the_api_s_own_paths_as_slugs(backend: Backend) {
    let app = TestApp::builder(backend).start().await;
    app.signup_as("ada", "admin").await;
    let ada = app.api_client(&app.api_token("ada", "read,write,moderate").await);
    let record = |title: &str, url: &str, slug: Option<&str>| {
        let mut r = serde_json::json!({"title": title, "source_url": url, "source_name": "example.com",
            "published_at": "2024-01-02", "summary": ["One."], "key_takeaways": []});
        if let Some(slug) = slug {
            r["slug"] = slug.into();
        }
        r
    };
    for (title, url) in [("Import", "https://example.com/import"), ("By URL", "https://example.com/by-url")] {
        let (status, article) =
            json(ada.post(app.url("/api/v1/articles")).json(&record(title, url, None)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::CREATED, "{article}");
        let slug = article["slug"].as_str().unwrap().to_owned();
        assert!(slug.ends_with("-article"), "{slug}");
        let (status, again) = json(app.get(&format!("/api/v1/articles/{slug}")).await).await;
        assert_eq!((status, again["title"].as_str().unwrap()), (StatusCode::OK, title));
    }
    for slug in ["import", "by-url"] {
        let (status, body) = json(
            ada.post(app.url("/api/v1/articles"))
                .json(&record("Named", &format!("https://example.com/named-{slug}"), Some(slug)))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["message"].as_str().unwrap().contains("reserved"), "{body}");
    }
}
