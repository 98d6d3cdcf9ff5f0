//! Input no handler can store: control characters anywhere a request carries text,
//! and text that shows nothing.

use afterword::db::schema::{articles, comments, moderation_log, reports, sessions, users};
use afterword::web::routes::ROUTES;
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::both_backends;
use afterword::auth::ratelimit::RateLimitConfig;
use afterword::markdown::MAX_NESTING;

use crate::common::{Backend, TestApp, PASSWORD, SEED_SLUG};

both_backends!(
    a_control_character_anywhere_is_a_400_and_changes_nothing,
    invisible_only_text_is_refused_like_empty_text,
    deeply_nested_markdown_is_flattened,
    previews_are_limited_per_account,
);

/// The form fields each state-changing route reads (from its handler's form struct).
/// A POST route missing here fails the test below.
const FORM_FIELDS: &[(&str, &[&str])] = &[
    ("/articles/{slug}/comments", &["body", "parent_id", "action"]),
    ("/comments/{id}/edit", &["body", "parent_id", "action"]),
    ("/comments/{id}/delete", &["return_to", "confirm"]),
    ("/comments/{id}/vote", &["value", "return_to"]),
    ("/inbox/read", &["return_to"]),
    ("/settings/notifications", &["email_replies"]),
    ("/settings/profile", &["display_name", "bio"]),
    ("/settings/digest", &["digest"]),
    ("/settings/claim-comments", &[]),
    ("/claim-comments/{token}", &[]),
    ("/digest/unsubscribe/{token}", &["List-Unsubscribe"]),
    ("/articles/{slug}/save", &["action", "return_to"]),
    ("/signup", &["username", "email", "password", "next", "save"]),
    ("/login", &["login", "password", "next", "save"]),
    ("/logout", &["return_to"]),
    ("/password-reset", &["email"]),
    ("/password-reset/{token}", &["password"]),
    ("/verify-email/{token}", &["return_to"]),
    ("/settings/email", &["new_email", "email_password"]),
    ("/settings/password", &["current_password", "new_password"]),
    ("/settings/sessions", &["return_to"]),
    ("/settings/verify-email", &["return_to"]),
    ("/settings/delete", &["delete_password"]),
    ("/settings/tokens", &["token_name", "scope_read", "scope_write", "scope_moderate", "expires"]),
    ("/settings/tokens/{id}/revoke", &[]),
    ("/comments/{id}/report", &["reason", "details"]),
    ("/mod/reports/{id}/dismiss", &["reason"]),
    ("/mod/comments/{id}/remove", &["reason", "duration", "confirm", "from"]),
    ("/mod/comments/{id}/restore", &["reason", "duration"]),
    ("/mod/comments/{id}/approve", &["reason"]),
    ("/mod/comments/{id}/reject", &["reason", "confirm"]),
    ("/mod/comments/{id}/pin", &["reason"]),
    ("/mod/comments/{id}/unpin", &["reason"]),
    ("/mod/comments/{id}/distinguish", &["reason"]),
    ("/mod/articles/{slug}/lock", &["reason", "duration"]),
    ("/mod/articles/{slug}/unlock", &["reason", "duration"]),
    ("/mod/users/{username}/ban", &["reason", "duration"]),
    ("/mod/users/{username}/unban", &["reason", "duration"]),
    ("/admin/settings/premoderation", &["mode", "count"]),
    ("/admin/settings/words", &["words"]),
    ("/admin/settings/embed", &["origins"]),
    ("/embed/login", &["origin", "decision"]),
    ("/admin/users/{username}/role", &["role"]),
    ("/admin/articles", &["title", "source_url", "source_name", "published_at", "summary", "takeaways", "tags"]),
    ("/admin/articles/import", &["file"]),
    ("/admin/comments/import", &["file", "format", "site_url", "dry_run"]),
    (
        "/admin/articles/{slug}/edit",
        &["title", "source_url", "source_name", "published_at", "summary", "takeaways", "tags"],
    ),
    ("/admin/articles/{slug}/delete", &["confirm"]),
    // The API's JSON bodies (`web::api::model`).
    ("/api/v1/articles/{slug}/comments", &["body", "parent_id"]),
    (
        "/api/v1/articles",
        &["title", "source_url", "source_name", "published_at", "summary", "key_takeaways", "tags", "slug"],
    ),
    (
        "/api/v1/articles/import",
        &["title", "source_url", "source_name", "published_at", "summary", "key_takeaways", "tags", "slug"],
    ),
    (
        "/api/v1/articles/{slug}",
        &["title", "source_url", "source_name", "published_at", "summary", "key_takeaways", "tags", "slug"],
    ),
    ("/api/v1/articles/{slug}/saved", &[]),
    ("/api/v1/articles/{slug}/lock", &["reason"]),
    ("/api/v1/articles/{slug}/unlock", &[]),
    ("/api/v1/comments/{id}", &["body"]),
    ("/api/v1/comments/{id}/vote", &["value"]),
    ("/api/v1/comments/{id}/reports", &["reason", "details"]),
    ("/api/v1/comments/{id}/remove", &["reason", "ban"]),
    ("/api/v1/comments/{id}/restore", &[]),
    ("/api/v1/comments/{id}/approve", &[]),
    ("/api/v1/comments/{id}/reject", &["reason"]),
    ("/api/v1/comments/{id}/pin", &[]),
    ("/api/v1/comments/{id}/unpin", &[]),
    ("/api/v1/comments/{id}/distinguish", &[]),
    ("/api/v1/users/{username}/ban", &["reason", "duration"]),
    ("/api/v1/users/{username}/unban", &[]),
    ("/api/v1/users/{username}/role", &["role"]),
    ("/api/v1/mod/reports/{id}/dismiss", &[]),
    ("/api/v1/threads", &["url", "title", "summary", "body"]),
];

/// Every query parameter some GET route reads.
const QUERY_FIELDS: &[&str] = &["page", "sort", "notice", "next", "save", "q", "action", "moderator", "cursor"];

/// The route's path with every parameter holding `value`.
fn filled(path: &str, value: &str) -> String {
    ["{slug}", "{token}", "{file}", "{id}", "{username}"].iter().fold(path.to_owned(), |p, k| p.replace(k, value))
}

/// A path that reaches the handler: real parameters.
fn real(path: &str) -> String {
    path.replace("{slug}", SEED_SLUG)
        .replace("{token}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .replace("{file}", "site.css")
        .replace("{id}", "1")
        .replace("{username}", "ann")
}

/// Row counts of the tables a request could change.
async fn counts(app: &TestApp) -> [i64; 6] {
    app.with_conn(|c| {
        [
            users::table.count().get_result(c).unwrap(),
            sessions::table.count().get_result(c).unwrap(),
            articles::table.count().get_result(c).unwrap(),
            comments::table.count().get_result(c).unwrap(),
            reports::table.count().get_result(c).unwrap(),
            moderation_log::table.count().get_result(c).unwrap(),
        ]
    })
    .await
}

async fn a_control_character_anywhere_is_a_400_and_changes_nothing(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    app.comment(&ann, SEED_SLUG, "A comment to act on", None).await;
    let admin = app.signup_as("ada", "admin").await;
    let token = app.csrf_token(&admin).await;
    let before = counts(&app).await;

    let posts: Vec<_> = ROUTES.iter().filter(|r| r.method != "GET").collect();
    for route in &posts {
        assert!(
            FORM_FIELDS.iter().any(|(path, _)| path == &route.path),
            "{} {} has no entry in FORM_FIELDS: list the form fields it reads",
            route.method,
            route.path
        );
    }

    let send = |method: &str, url: String, form: Option<Vec<(String, String)>>| {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let request = admin.request(method, &url).header("x-csrf-token", &token);
        // The API reads JSON bodies, the pages forms.
        let request = match form {
            Some(form) if url.contains("/api/") => request.json(
                &form.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect::<serde_json::Map<_, _>>(),
            ),
            Some(form) => request.form(&form),
            None => request,
        };
        async move { request.send().await.unwrap() }
    };
    for route in ROUTES {
        // A NUL in every path parameter: no page has such an address.
        if route.path.contains('{') {
            let url = app.url(&filled(route.path, "a%00b"));
            let status = send(route.method, url, None).await.status();
            assert_eq!(status, StatusCode::NOT_FOUND, "{} {} with a NUL in the path", route.method, route.path);
        }
        // A NUL in a query parameter, known or not.
        for name in QUERY_FIELDS.iter().chain(&["unknown"]) {
            let url = app.url(&format!("{}?{name}=a%00b", real(route.path)));
            let response = send(route.method, url, None).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{} {} ?{name}", route.method, route.path);
            let body = response.text().await.unwrap();
            assert!(body.contains(&format!("“{name}”")), "the message names the field {name}: {body}");
        }
        // A NUL (and an escape) in every form field the route reads.
        if route.method == "GET" {
            continue;
        }
        let fields = FORM_FIELDS.iter().find(|(path, _)| path == &route.path).unwrap().1;
        for field in fields.iter().chain(&["unknown"]) {
            for bad in ["a\u{0}b", "\u{1b}[31m"] {
                let mut form: Vec<(String, String)> =
                    fields.iter().map(|f| (f.to_string(), format!("fine {PASSWORD}"))).collect();
                form.retain(|(name, _)| name != field);
                form.push((field.to_string(), bad.to_owned()));
                let response = send(route.method, app.url(&real(route.path)), Some(form)).await;
                let status = response.status();
                assert_eq!(status, StatusCode::BAD_REQUEST, "{} {} field {field}", route.method, route.path);
                let body = response.text().await.unwrap();
                assert!(body.contains(&format!("“{field}”")), "names {field}: {body}");
            }
        }
        assert_eq!(counts(&app).await, before, "{} {}: nothing changed", route.method, route.path);
    }

    // The article import upload: a record with a NUL names the record and field.
    let record = serde_json::json!([{"title": "a\u{0}b", "source_url": "https://example.com/x", "source_name": "x",
        "published_at": "2024-01-01", "summary": ["s"], "key_takeaways": []}]);
    let part = reqwest::multipart::Part::bytes(record.to_string().into_bytes()).file_name("a.json");
    let response = admin
        .post(app.url("/admin/articles/import"))
        .header("x-csrf-token", &token)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.text().await.unwrap();
    assert!(body.contains("record at index 0: title: contains a control character"), "{body}");

    // A JSON body is checked too.
    let response = admin
        .post(app.url("/login"))
        .header("x-csrf-token", &token)
        .json(&serde_json::json!({"login": "a\u{0}b", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(counts(&app).await, before);

    // Tab, new line and carriage return are text, not controls.
    let id = app.comment(&ann, SEED_SLUG, "one\ttwo\r\nthree", None).await;
    assert!(id > 0);
}

async fn invisible_only_text_is_refused_like_empty_text(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let id = app.comment(&ann, SEED_SLUG, "Visible words", None).await;
    let moderator = app.signup_as("maud", "moderator").await;
    let before = counts(&app).await;
    let invisible = [
        "\u{200B}",
        "\u{202E}\u{202E}",
        "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}",
        " \u{2066}\u{2069} \u{00AD}",
        "\u{0301}\u{0301}",
    ];
    for text in invisible {
        let comments_path = format!("/articles/{SEED_SLUG}/comments");
        let response = app.post_form(&ann, &comments_path, &[("body", text)]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "comment {text:?}");
        assert!(response.text().await.unwrap().contains("Write something first"));

        let response = app.post_form(&ann, "/settings/profile", &[("display_name", text), ("bio", "")]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "display name {text:?}");
        assert!(response.text().await.unwrap().contains("visible character"));
        let response = app.post_form(&ann, "/settings/profile", &[("display_name", "Ann"), ("bio", text)]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "bio {text:?}");

        let report = format!("/comments/{id}/report");
        let response = app.post_form(&moderator, &report, &[("reason", "other"), ("details", text)]).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "report details {text:?}");

        let remove = format!("/mod/comments/{id}/remove");
        let response = app.post_form(&moderator, &remove, &[("reason", text)]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "moderator reason {text:?}");
        assert!(response.text().await.unwrap().contains("Give a reason"));
    }
    assert_eq!(counts(&app).await, before, "nothing was stored");
    let display: Option<String> = app
        .with_conn(|c| users::table.filter(users::username_key.eq("ann")).select(users::display_name).first(c).unwrap())
        .await;
    assert_eq!(display, None);
    // Visible text with an invisible character in it is fine.
    let response = app.post_form(&ann, "/settings/profile", &[("display_name", "\u{200B}Ann"), ("bio", "")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

async fn deeply_nested_markdown_is_flattened(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let body = format!("{} the words at the bottom", ">".repeat(9_970));
    let id = app.comment(&ann, SEED_SLUG, &body, None).await;
    for path in [format!("/articles/{SEED_SLUG}"), format!("/comments/{id}")] {
        let (status, page) = app.page(&path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("the words at the bottom"), "{path}: the text stays");
        assert_eq!(page.matches("<blockquote").count(), MAX_NESTING, "{path}: nesting capped");
    }
    let stored: String =
        app.with_conn(move |c| comments::table.find(id).select(comments::body_html).first(c).unwrap()).await;
    assert_eq!(stored.matches("<blockquote").count(), MAX_NESTING);

    // Lists too, and a preview of the same.
    let body = format!("{}item", "- ".repeat(4_000));
    let path = format!("/articles/{SEED_SLUG}/comments");
    let response = app.post_form(&ann, &path, &[("body", &body), ("action", "preview")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("item"));
    assert!(page.matches("<ul").count() <= MAX_NESTING, "{} lists", page.matches("<ul").count());
}

async fn previews_are_limited_per_account(backend: Backend) {
    let app = TestApp::builder(backend)
        .with_seed_article()
        .configure(|c| c.rate_limits = RateLimitConfig { previews_per_minute: 2, ..RateLimitConfig::off() })
        .start()
        .await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let path = format!("/articles/{SEED_SLUG}/comments");
    let preview = [("body", "Some *text*"), ("action", "preview")];
    for _ in 0..2 {
        let response = app.post_form(&ann, &path, &preview).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.text().await.unwrap().contains("<em>text</em>"));
    }
    let response = app.post_form(&ann, &path, &preview).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    // Another account is not affected, and ann can still post.
    assert_eq!(app.post_form(&bob, &path, &preview).await.status(), StatusCode::OK);
    app.comment(&ann, SEED_SLUG, "Posted without a preview", None).await;
}
