//! Personal API tokens made and revoked in Settings, and the API's documentation page.

use afterword::db::schema::api_tokens;
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, SEED_SLUG};

both_backends!(
    a_token_made_in_settings_is_shown_once_works_and_stops_when_revoked,
    a_refused_token_form_keeps_what_was_typed_and_says_why,
    scopes_roles_and_expiry_are_enforced,
    only_the_owner_revokes_and_every_form_needs_its_csrf_token,
    the_api_docs_show_every_operation_of_the_document,
    a_method_not_served_is_405_with_allow,
);

/// The API token rows: (id, user's username, name, token_hash, scopes, expires_at set).
async fn rows(app: &TestApp) -> Vec<(i64, String, String, String, bool)> {
    app.with_conn(|c| {
        api_tokens::table
            .order(api_tokens::id)
            .select((
                api_tokens::id,
                api_tokens::name,
                api_tokens::token_hash,
                api_tokens::scopes,
                api_tokens::expires_at.is_not_null(),
            ))
            .load(c)
            .unwrap()
    })
    .await
}

/// Makes a token through the settings form; returns the response.
async fn make(app: &TestApp, client: &reqwest::Client, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form(client, "/settings/tokens", fields).await
}

/// The token a page shows once, if any.
fn shown_token(page: &str) -> Option<String> {
    Page::parse(page).texts(".new-token .token-value").into_iter().next()
}

fn post_comment(app: &TestApp, token: &str, body: &str) -> reqwest::RequestBuilder {
    app.api_client(token)
        .post(app.url(&format!("/api/v1/articles/{SEED_SLUG}/comments")))
        .json(&serde_json::json!({ "body": body }))
}

async fn a_token_made_in_settings_is_shown_once_works_and_stops_when_revoked(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let (status, page) = app.page_as(&ann, "/settings").await;
    assert_eq!(status, StatusCode::OK);
    let settings = Page::parse(&page);
    assert_eq!(settings.text("#tokens-heading"), "API tokens");
    assert!(page.contains("You have no API tokens."));
    assert_eq!(settings.count("#api-tokens a[href='/api/docs']"), 2, "the section links the docs");

    let response = make(
        &app,
        &ann,
        &[("token_name", " import pipeline "), ("scope_read", "on"), ("scope_write", "on"), ("expires", "never")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK, "the token is on the page answering the POST, not a redirect");
    assert!(response.headers().get("location").is_none());
    assert_eq!(response.headers()["cache-control"], "no-store");
    let page = response.text().await.unwrap();
    let token = shown_token(&page).expect("the new token is shown");
    assert!(token.starts_with("aw_") && token.len() == 46, "{token}");
    assert!(page.contains("will not be shown again"));
    assert!(page.contains("import pipeline"));

    // Stored hashed only.
    let stored = rows(&app).await;
    assert_eq!(stored.len(), 1);
    let (id, name, hash, scopes, expires) = stored[0].clone();
    assert_eq!((name.as_str(), scopes.as_str(), expires), ("import pipeline", "read,write", false));
    assert_eq!(hash, afterword::auth::token_hash(&token));
    assert!(!hash.contains(&token[3..]));

    // It works on the API as ann.
    let response = post_comment(&app, &token, "Posted from the pipeline").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let comment: serde_json::Value = response.json().await.unwrap();
    assert_eq!(comment["author"], "ann");
    let article = app.api_client(&token).get(app.url(&format!("/api/v1/articles/{SEED_SLUG}"))).send().await.unwrap();
    assert_eq!(article.status(), StatusCode::OK);

    // Listed, never shown again.
    let (_, page) = app.page_as(&ann, "/settings").await;
    assert!(!page.contains(&token), "the token is shown once only");
    let listed = Page::parse(&page);
    assert_eq!(listed.count("table.tokens tbody tr"), 1);
    let cells = listed.texts("table.tokens tbody td");
    assert_eq!(&cells[..2], ["import pipeline", "read, write"], "{cells:?}");
    assert_eq!(cells[4], "Never", "never expires: {cells:?}");
    assert!(!page.contains("You have no API tokens."));

    // Revoked: gone from the list and the database, refused by the API.
    let response = app.post_form(&ann, &format!("/settings/tokens/{id}/revoke"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (_, page) = app.page_as(&ann, &location).await;
    assert!(page.contains("The API token was revoked"));
    assert!(page.contains("You have no API tokens."));
    assert!(rows(&app).await.is_empty());
    let response = post_comment(&app, &token, "After revoking").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (_, article) = app.page(&format!("/articles/{SEED_SLUG}")).await;
    assert!(article.contains("Posted from the pipeline") && !article.contains("After revoking"));
    // Twice is a missing token.
    let again = app.post_form(&ann, &format!("/settings/tokens/{id}/revoke"), &[]).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

async fn a_refused_token_form_keeps_what_was_typed_and_says_why(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let long = "n".repeat(61);
    /// The fields sent, the field refused and the reason given.
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("token_name", "   "), ("scope_read", "on"), ("expires", "30")], "token_name", "Give the token a name"),
        (vec![("token_name", &long), ("scope_read", "on"), ("expires", "30")], "token_name", "at most 60 characters"),
        (vec![("token_name", "no scopes"), ("expires", "365")], "scopes", "at least one scope"),
        (
            vec![("token_name", "moderating"), ("scope_read", "on"), ("scope_moderate", "on"), ("expires", "90")],
            "scopes",
            "Only moderators and administrators",
        ),
        (vec![("token_name", "odd expiry"), ("scope_write", "on"), ("expires", "7")], "expires", "Choose when"),
    ];
    for (fields, field, reason) in cases {
        let response = make(&app, &ann, &fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        let page = response.text().await.unwrap();
        assert!(shown_token(&page).is_none());
        let form = Page::parse(&page);
        let error = form.texts(&format!("#field-{field}-error"));
        assert_eq!(error.len(), 1, "{field}: {fields:?}");
        assert!(error[0].contains(reason), "{} does not say {reason}", error[0]);
        // What was typed is kept.
        let typed = fields.iter().find(|(k, _)| *k == "token_name").unwrap().1.trim();
        assert_eq!(form.attr("#field-token_name", "value"), typed);
        let ticked = form.attrs("#api-tokens input[type=checkbox][checked]", "name");
        let sent: Vec<&str> =
            fields.iter().map(|(k, _)| *k).filter(|k| k.starts_with("scope_") && *k != "scope_moderate").collect();
        assert_eq!(ticked, sent, "{fields:?}");
    }
    assert!(rows(&app).await.is_empty(), "nothing was stored");

    // At most MAX_PER_USER tokens.
    for _ in 0..afterword::db::tokens::MAX_PER_USER {
        app.api_token("ann", "read").await;
    }
    let response = make(&app, &ann, &[("token_name", "one more"), ("scope_read", "on"), ("expires", "never")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("revoke one first") && shown_token(&page).is_none());
    assert_eq!(Page::parse(&page).attr("#field-token_name", "value"), "one more");
    assert_eq!(rows(&app).await.len() as i64, afterword::db::tokens::MAX_PER_USER);

    // Anonymous: the login page, nothing made.
    let anonymous = app.new_client();
    let response = make(&app, &anonymous, &[("token_name", "x"), ("scope_read", "on"), ("expires", "never")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(response.headers()["location"].to_str().unwrap().starts_with("/login"));
}

async fn scopes_roles_and_expiry_are_enforced(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mona = app.signup_as("mona", "moderator").await;

    // Only moderators and administrators are offered the moderate scope.
    let (_, page) = app.page_as(&ann, "/settings").await;
    assert_eq!(Page::parse(&page).count("input[name=scope_moderate]"), 0);
    let (_, page) = app.page_as(&mona, "/settings").await;
    assert_eq!(Page::parse(&page).count("input[name=scope_moderate]"), 1);
    let response = make(
        &app,
        &mona,
        &[("token_name", "mod bot"), ("scope_moderate", "on"), ("scope_read", "on"), ("expires", "365")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(shown_token(&response.text().await.unwrap()).is_some());
    assert_eq!(rows(&app).await[0].3, "read,moderate");

    // A read token reads but does not write.
    let response = make(&app, &ann, &[("token_name", "reader"), ("scope_read", "on"), ("expires", "30")]).await;
    let reader = shown_token(&response.text().await.unwrap()).unwrap();
    let read = app.api_client(&reader).get(app.url(&format!("/api/v1/articles/{SEED_SLUG}"))).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let refused = post_comment(&app, &reader, "Not with a read token").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("write scope"), "{body}");

    // It expires in 30 days: refused once that has passed.
    let hash = afterword::auth::token_hash(&reader);
    let (expires, created) = {
        let hash = hash.clone();
        app.with_conn(move |c| {
            api_tokens::table
                .filter(api_tokens::token_hash.eq(hash))
                .select((api_tokens::expires_at, api_tokens::created_at))
                .first::<(Option<time::PrimitiveDateTime>, time::PrimitiveDateTime)>(c)
                .unwrap()
        })
        .await
    };
    let lifetime = expires.unwrap() - created;
    assert!((lifetime - time::Duration::days(30)).abs() < time::Duration::minutes(1), "{lifetime}");
    app.with_conn(move |c| {
        diesel::update(api_tokens::table.filter(api_tokens::token_hash.eq(hash)))
            .set(api_tokens::expires_at.eq(Some(afterword::db::now() - time::Duration::seconds(1))))
            .execute(c)
            .unwrap()
    })
    .await;
    let expired = app.api_client(&reader).get(app.url(&format!("/api/v1/articles/{SEED_SLUG}"))).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    let (_, page) = app.page_as(&ann, "/settings").await;
    assert!(Page::parse(&page).text("table.tokens tbody tr").contains("Expired"));
    let (_, article) = app.page(&format!("/articles/{SEED_SLUG}")).await;
    assert!(!article.contains("Not with a read token"));
}

async fn only_the_owner_revokes_and_every_form_needs_its_csrf_token(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let response =
        make(&app, &ann, &[("token_name", "ann's"), ("scope_read", "on"), ("scope_write", "on"), ("expires", "90")])
            .await;
    let token = shown_token(&response.text().await.unwrap()).unwrap();
    let id = rows(&app).await[0].0;

    // Bob cannot revoke Ann's token, nor anything that is not a token of his.
    for path in [format!("/settings/tokens/{id}/revoke"), "/settings/tokens/999999/revoke".into()] {
        let response = app.post_form(&bob, &path, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    for path in ["/settings/tokens/abc/revoke", "/settings/tokens/0/revoke", "/settings/tokens/-1/revoke"] {
        assert_eq!(app.post_form(&ann, path, &[]).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(rows(&app).await.len(), 1);
    assert_eq!(post_comment(&app, &token, "Still valid").send().await.unwrap().status(), StatusCode::CREATED);

    // Without the CSRF token (or with another session's), neither form does anything.
    let origin = app.url("");
    let origin = origin.trim_end_matches('/');
    let bobs = app.csrf_token(&bob).await;
    for csrf in [None, Some(bobs.as_str())] {
        let mut form = vec![("token_name", "forged"), ("scope_write", "on"), ("expires", "never")];
        if let Some(csrf) = csrf {
            form.push(("csrf_token", csrf));
        }
        let response = ann.post(app.url("/settings/tokens")).header("origin", origin).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert!(shown_token(&response.text().await.unwrap()).is_none());
        let mut form = vec![];
        if let Some(csrf) = csrf {
            form.push(("csrf_token", csrf));
        }
        let response = ann
            .post(app.url(&format!("/settings/tokens/{id}/revoke")))
            .header("origin", origin)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(rows(&app).await.len(), 1, "nothing made, nothing revoked");
    assert_eq!(post_comment(&app, &token, "Still valid again").send().await.unwrap().status(), StatusCode::CREATED);
}

async fn the_api_docs_show_every_operation_of_the_document(backend: Backend) {
    use utoipa::OpenApi;
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let response = app.get("/api/docs").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = Page::parse(&response.text().await.unwrap());
    assert_eq!(page.count("a[href='/api/openapi.json']"), 1);
    assert!(page.count("#authentication") == 1 && page.count("#auth-token") == 1 && page.count("#auth-session") == 1);
    assert_eq!(page.count("a[href='/settings#api-tokens']"), 1, "the docs say where tokens are made");

    let document = serde_json::to_value(afterword::web::api::ApiDoc::openapi()).unwrap();
    let titles = page.texts("h3.operation-title");
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let title = format!("{} {path}", method.to_uppercase());
            assert!(titles.contains(&title), "{title} is not on the page: {titles:?}");
            let id = operation["operationId"].as_str().unwrap();
            let statuses = page.texts(&format!("section:has(> h3#op-{id}) tr.response > td:first-child"));
            let documented: Vec<&String> = operation["responses"].as_object().unwrap().keys().collect();
            assert_eq!(statuses.iter().collect::<Vec<_>>(), documented, "{title}: every response");
            if let Some(summary) = operation["summary"].as_str() {
                let section = page.texts(&format!("section:has(> h3#op-{id})")).join(" ");
                let summary = crate::common::html::collapse(&summary.replace('`', ""));
                assert!(section.contains(&summary), "{title}: its summary {summary:?} in {section}");
            }
        }
    }
    assert_eq!(titles.len(), operations, "each operation once");
    assert!(operations >= 4);
    for schema in document["components"]["schemas"].as_object().unwrap().keys() {
        assert_eq!(page.count(&format!("h3#schema-{schema}")), 1, "the shape {schema}");
    }

    // Linked from every page's footer, and from the settings.
    let (_, front) = app.page("/").await;
    assert_eq!(Page::parse(&front).count("footer a[href='/api/docs']"), 1);
}

/// RFC 9110: a 405 names the methods the address serves (Schemathesis checks it).
async fn a_method_not_served_is_405_with_allow(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    app.signup("ann").await;
    // A token: a state-changing method without one would be refused first (CSRF).
    let api = app.api_client(&app.api_token("ann", "read,write").await);
    let trace = reqwest::Method::from_bytes(b"TRACE").unwrap();
    let cases = [
        (&api, reqwest::Method::DELETE, "/api/v1/comments/1/replies".to_owned(), "GET, HEAD", true),
        (&api, trace, format!("/api/v1/articles/{SEED_SLUG}/comments"), "GET, POST, HEAD", true),
        (&app.client, reqwest::Method::GET, "/settings/tokens".to_owned(), "POST", false),
        (&app.client, reqwest::Method::HEAD, "/logout".to_owned(), "POST", false),
    ];
    for (client, method, path, allow, json) in cases {
        let response = client.request(method.clone(), app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        if json {
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["code"], "method_not_allowed");
        }
    }
}
