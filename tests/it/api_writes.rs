//! The API's writes (`/api/v1`): readers' edits, deletions, votes, reports and saved
//! articles; moderators' and administrators' actions, logged with the token's name; and
//! that each reaches the pages as the pages' own actions do.

use afterword::db::schema::{articles, comments, moderation_log, reports, users};
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::both_backends;
use crate::common::{Backend, TestApp, SEED_SLUG};

both_backends!(
    a_reader_edits_votes_reports_and_deletes_through_the_api,
    saved_articles_through_the_api,
    moderators_act_through_the_api_and_the_log_names_the_token,
    held_comments_reports_and_bans_through_the_api,
    administrators_manage_articles_and_roles_through_the_api,
    live_readers_see_what_the_api_changes,
);

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.unwrap();
    if text.is_empty() {
        return (status, Value::Null);
    }
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}")))
}

/// Asserts a refusal: its status, and (when given) that its message holds `says`.
async fn refused(response: reqwest::Response, status: StatusCode, says: &str) {
    let (got, body) = json_of(response).await;
    assert_eq!(got, status, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{says:?} not in {message:?}");
}

/// A token of `username` named `name`, made as the settings page makes one.
async fn named_token(app: &TestApp, username: &str, name: &str, scopes: &str) -> String {
    let token = afterword::auth::tokens::new_token();
    let hash = afterword::auth::token_hash(&token);
    let (username, name, scopes) = (username.to_owned(), name.to_owned(), scopes.to_owned());
    app.with_conn(move |c| {
        let id: i64 = users::table.filter(users::username.eq(username)).select(users::id).first(c).unwrap();
        afterword::db::tokens::create(c, afterword::domain::UserId(id), &name, &hash, &scopes, None).unwrap().unwrap();
    })
    .await;
    token
}

fn url(app: &TestApp, path: &str) -> String {
    app.url(path)
}

async fn comment_row(app: &TestApp, id: i64) -> (String, String, i32) {
    app.with_conn(move |c| {
        comments::table.find(id).select((comments::status, comments::body_source, comments::upvotes)).first(c).unwrap()
    })
    .await
}

async fn log_rows(app: &TestApp) -> Vec<(String, Option<String>)> {
    app.with_conn(|c| {
        moderation_log::table
            .order(moderation_log::id)
            .select((moderation_log::action, moderation_log::via_token))
            .load(c)
            .unwrap()
    })
    .await
}

async fn a_reader_edits_votes_reports_and_deletes_through_the_api(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann_session = app.signup("ann").await;
    app.signup("bob").await;
    let id = app.comment(&ann_session, SEED_SLUG, "The first words", None).await;
    let ann = app.api_client(&app.api_token("ann", "read,write").await);
    let bob = app.api_client(&app.api_token("bob", "read,write").await);
    let ann_reader = app.api_client(&app.api_token("ann", "read").await);
    let path = format!("/api/v1/comments/{id}");
    let article = format!("/articles/{SEED_SLUG}");
    // The anonymous page is cached before the edit.
    assert!(app.page(&article).await.1.contains("The first words"));

    // Refusals change nothing.
    let edit = |client: &reqwest::Client, path: &str, body: Value| client.patch(url(&app, path)).json(&body).send();
    refused(edit(&bob, &path, json!({"body": "Bob's words"})).await.unwrap(), StatusCode::FORBIDDEN, "author").await;
    refused(edit(&ann_reader, &path, json!({"body": "x"})).await.unwrap(), StatusCode::FORBIDDEN, "write scope").await;
    refused(edit(&ann, "/api/v1/comments/999999", json!({"body": "x"})).await.unwrap(), StatusCode::NOT_FOUND, "")
        .await;
    refused(edit(&ann, &path, json!({"body": "  "})).await.unwrap(), StatusCode::BAD_REQUEST, "body:").await;
    refused(edit(&ann, &path, json!({"body": 5})).await.unwrap(), StatusCode::BAD_REQUEST, "body:").await;
    refused(edit(&ann, &path, json!({"text": "x"})).await.unwrap(), StatusCode::BAD_REQUEST, "text").await;
    let anonymous = app.new_client().patch(url(&app, &path)).json(&json!({"body": "x"})).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN, "no CSRF token, no token: refused");
    let plain = reqwest::Client::new().patch(url(&app, &path)).header("authorization", "Bearer aw_nope");
    assert_eq!(plain.json(&json!({"body": "x"})).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(comment_row(&app, id).await.1, "The first words");

    // The edit, answered with the comment, reaches the cached page.
    let (status, comment) = json_of(edit(&ann, &path, json!({"body": "The *second* words"})).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{comment}");
    assert!(comment["body_html"].as_str().unwrap().contains("<em>second</em>"));
    assert!(comment["edited_at"].is_string());
    let (_, page) = app.page(&article).await;
    assert!(page.contains("<em>second</em>") && !page.contains("The first words"), "the page shows the edit");

    // Votes: not one's own, only -1, 0 or 1.
    let vote = |client: &reqwest::Client, value: Value| {
        client.put(url(&app, &format!("/api/v1/comments/{id}/vote"))).json(&json!({ "value": value })).send()
    };
    refused(vote(&ann, json!(1)).await.unwrap(), StatusCode::FORBIDDEN, "own comment").await;
    refused(vote(&bob, json!(2)).await.unwrap(), StatusCode::BAD_REQUEST, "value:").await;
    refused(vote(&bob, json!("up")).await.unwrap(), StatusCode::BAD_REQUEST, "value:").await;
    let (status, voted) = json_of(vote(&bob, json!(1)).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{voted}");
    assert_eq!((voted["upvotes"].as_i64(), voted["my_vote"].as_i64()), (Some(1), Some(1)));
    assert_eq!(comment_row(&app, id).await.2, 1);
    let (_, withdrawn) = json_of(vote(&bob, json!(0)).await.unwrap()).await;
    assert_eq!((withdrawn["upvotes"].as_i64(), withdrawn["my_vote"].as_i64()), (Some(0), Some(0)));

    // Reports, with the report form's reasons.
    let report = |client: &reqwest::Client, body: Value| {
        client.post(url(&app, &format!("/api/v1/comments/{id}/reports"))).json(&body).send()
    };
    refused(report(&bob, json!({"reason": "boring"})).await.unwrap(), StatusCode::BAD_REQUEST, "reason:").await;
    refused(report(&bob, json!({"reason": "other"})).await.unwrap(), StatusCode::BAD_REQUEST, "details:").await;
    refused(report(&ann, json!({"reason": "spam"})).await.unwrap(), StatusCode::FORBIDDEN, "own comment").await;
    let reports_held = || app.with_conn(|c| reports::table.count().get_result::<i64>(c).unwrap());
    assert_eq!(reports_held().await, 0);
    for _ in 0..2 {
        let response = report(&bob, json!({"reason": "off-topic", "details": "Not about the article"})).await;
        assert_eq!(response.unwrap().status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(reports_held().await, 1, "a second report by the same reader changes nothing");

    // Past the edit window (as on the page), the edit is refused.
    app.with_conn(move |c| {
        diesel::update(comments::table.find(id))
            .set(comments::created_at.eq(afterword::db::now() - time::Duration::days(2)))
            .execute(c)
            .unwrap()
    })
    .await;
    refused(edit(&ann, &path, json!({"body": "Too late"})).await.unwrap(), StatusCode::FORBIDDEN, "edit").await;

    // Deleting: the author only, once.
    assert_eq!(bob.delete(url(&app, &path)).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(ann_reader.delete(url(&app, &path)).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(comment_row(&app, id).await.0, "visible");
    assert_eq!(ann.delete(url(&app, &path)).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    let gone: i64 = app.with_conn(move |c| comments::table.find(id).count().get_result(c).unwrap()).await;
    assert_eq!(gone, 0, "without replies, nothing of it stays");
    assert_eq!(ann.delete(url(&app, &path)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let (_, page) = app.page(&article).await;
    assert!(!page.contains("<em>second</em>"), "the page no longer shows it");
}

async fn saved_articles_through_the_api(backend: Backend) {
    let app = TestApp::builder(backend)
        .with_seed_article()
        .with_articles(crate::common::generated_articles(25))
        .start()
        .await;
    app.signup("ann").await;
    let ann = app.api_client(&app.api_token("ann", "read,write").await);
    let reader = app.api_client(&app.api_token("ann", "read").await);
    let writer = app.api_client(&app.api_token("ann", "write").await);
    let saved = format!("/api/v1/articles/{SEED_SLUG}/saved");

    for _ in 0..2 {
        assert_eq!(ann.put(url(&app, &saved)).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    }
    let (status, list) = json_of(ann.get(url(&app, "/api/v1/me/saved")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["articles"].as_array().unwrap().len(), 1, "saved once");
    assert_eq!(list["articles"][0]["slug"], SEED_SLUG);
    assert_eq!(list["next_cursor"], Value::Null);

    // Refusals: a missing article, a token without the scope, nobody.
    refused(
        ann.put(url(&app, "/api/v1/articles/no-such-article/saved")).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "",
    )
    .await;
    refused(reader.put(url(&app, &saved)).send().await.unwrap(), StatusCode::FORBIDDEN, "write scope").await;
    refused(reader.delete(url(&app, &saved)).send().await.unwrap(), StatusCode::FORBIDDEN, "write scope").await;
    refused(writer.get(url(&app, "/api/v1/me/saved")).send().await.unwrap(), StatusCode::FORBIDDEN, "read scope").await;
    let (status, _) = json_of(app.get("/api/v1/me/saved").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A cursor the list did not give names no page.
    refused(ann.get(url(&app, "/api/v1/me/saved?cursor=x")).send().await.unwrap(), StatusCode::NOT_FOUND, "").await;
    refused(ann.get(url(&app, "/api/v1/me/saved?cursor=p5000")).send().await.unwrap(), StatusCode::NOT_FOUND, "").await;
    refused(ann.get(url(&app, "/api/v1/me/saved?cursor=p9")).send().await.unwrap(), StatusCode::NOT_FOUND, "").await;

    // Paged: every saved article once.
    for i in 0..25 {
        let path = format!("/api/v1/articles/generated-article-number-{i}/saved");
        assert_eq!(ann.put(url(&app, &path)).send().await.unwrap().status(), StatusCode::NO_CONTENT, "{path}");
    }
    let mut seen = Vec::new();
    let mut next = Some("/api/v1/me/saved".to_owned());
    while let Some(path) = next.take() {
        let (status, page) = json_of(reader.get(url(&app, &path)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(page["articles"].as_array().unwrap().iter().map(|a| a["slug"].as_str().unwrap().to_owned()));
        next = page["next_cursor"].as_str().map(|c| format!("/api/v1/me/saved?cursor={c}"));
    }
    assert_eq!(seen.len(), 26);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 26, "each once");

    // Unsaving, twice; the saved page agrees.
    for _ in 0..2 {
        assert_eq!(ann.delete(url(&app, &saved)).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    }
    let (_, list) = json_of(ann.get(url(&app, "/api/v1/me/saved")).send().await.unwrap()).await;
    assert!(list["articles"].as_array().unwrap().iter().all(|a| a["slug"] != SEED_SLUG));
}

async fn moderators_act_through_the_api_and_the_log_names_the_token(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let moe_session = app.signup_as("moe", "moderator").await;
    let id = app.comment(&ann, SEED_SLUG, "Words to be removed", None).await;
    let other = app.comment(&ann, SEED_SLUG, "Words that stay", None).await;
    let own = app.comment(&moe_session, SEED_SLUG, "Speaking for the site", None).await;
    let moe = app.api_client(&named_token(&app, "moe", "cleanup bot", "moderate").await);
    let moe_writer = app.api_client(&app.api_token("moe", "read,write").await);
    let ann_moderate = app.api_client(&named_token(&app, "ann", "wishful", "moderate").await);
    let article = format!("/articles/{SEED_SLUG}");
    assert!(app.page(&article).await.1.contains("Words to be removed"), "cached before");

    // Refused: a reader, a token without the scope, bad input; nothing changes.
    let remove = |client: &reqwest::Client, id: i64, body: Value| {
        client.post(url(&app, &format!("/api/v1/comments/{id}/remove"))).json(&body).send()
    };
    refused(remove(&ann_moderate, id, json!({"reason": "x"})).await.unwrap(), StatusCode::FORBIDDEN, "moderators")
        .await;
    refused(remove(&moe_writer, id, json!({"reason": "x"})).await.unwrap(), StatusCode::FORBIDDEN, "moderate scope")
        .await;
    refused(remove(&moe, id, json!({"reason": " "})).await.unwrap(), StatusCode::BAD_REQUEST, "reason:").await;
    refused(remove(&moe, id, json!({"reason": "Spam", "ban": "2d"})).await.unwrap(), StatusCode::BAD_REQUEST, "ban:")
        .await;
    refused(remove(&moe, 999_999, json!({"reason": "Spam"})).await.unwrap(), StatusCode::NOT_FOUND, "").await;
    assert_eq!(comment_row(&app, id).await.0, "visible");
    assert!(log_rows(&app).await.is_empty());

    // Removed through the API: the cached page changes, the log names the token.
    let (status, removed) = json_of(remove(&moe, id, json!({"reason": "Off topic"})).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(removed["status"], "removed");
    let (_, page) = app.page(&article).await;
    assert!(!page.contains("Words to be removed") && page.contains("Words that stay"), "the page shows the removal");
    refused(remove(&moe, id, json!({"reason": "Again"})).await.unwrap(), StatusCode::CONFLICT, "already").await;

    // Restore, pin, unpin, distinguish (one's own only), each answered with the comment.
    let act = |id: i64, action: &str| moe.post(url(&app, &format!("/api/v1/comments/{id}/{action}"))).send();
    let (status, restored) = json_of(act(id, "restore").await.unwrap()).await;
    assert_eq!((status, restored["status"].as_str()), (StatusCode::OK, Some("visible")));
    assert!(app.page(&article).await.1.contains("Words to be removed"), "back on the page");
    let (_, pinned) = json_of(act(other, "pin").await.unwrap()).await;
    assert_eq!(pinned["pinned"], true);
    refused(act(other, "pin").await.unwrap(), StatusCode::CONFLICT, "lready pinned").await;
    let (_, unpinned) = json_of(act(other, "unpin").await.unwrap()).await;
    assert_eq!(unpinned["pinned"], false);
    refused(act(other, "distinguish").await.unwrap(), StatusCode::FORBIDDEN, "author").await;
    let (_, distinguished) = json_of(act(own, "distinguish").await.unwrap()).await;
    assert_eq!(distinguished["distinguished"], true);
    refused(act(999_999, "restore").await.unwrap(), StatusCode::NOT_FOUND, "").await;

    // Lock (with a reason) and unlock, answered with the article; the page says so.
    let lock = format!("/api/v1/articles/{SEED_SLUG}/lock");
    refused(moe.post(url(&app, &lock)).send().await.unwrap(), StatusCode::BAD_REQUEST, "reason").await;
    refused(
        moe.post(url(&app, "/api/v1/articles/no-such/lock")).json(&json!({"reason": "x"})).send().await.unwrap(),
        StatusCode::NOT_FOUND,
        "",
    )
    .await;
    let (status, locked) =
        json_of(moe.post(url(&app, &lock)).json(&json!({"reason": "Too heated."})).send().await.unwrap()).await;
    assert_eq!((status, locked["locked"].as_bool()), (StatusCode::OK, Some(true)), "{locked}");
    assert!(app.page(&article).await.1.contains("Too heated."));
    refused(
        moe.post(url(&app, &lock)).json(&json!({"reason": "Again"})).send().await.unwrap(),
        StatusCode::CONFLICT,
        "already closed",
    )
    .await;
    let unlock = format!("/api/v1/articles/{SEED_SLUG}/unlock");
    let (_, open) = json_of(moe.post(url(&app, &unlock)).send().await.unwrap()).await;
    assert_eq!(open["locked"], false);

    // An action on the page is logged without a token; the API's with its name.
    let page_remove =
        app.post_form(&moe_session, &format!("/mod/comments/{other}/remove"), &[("reason", "By hand")]).await;
    assert_eq!(page_remove.status(), StatusCode::SEE_OTHER);
    let rows = log_rows(&app).await;
    let expected: Vec<(String, Option<String>)> = [
        ("remove comment", true),
        ("restore comment", true),
        ("pin comment", true),
        ("unpin comment", true),
        ("distinguish comment", true),
        ("lock article", true),
        ("unlock article", true),
        ("remove comment", false),
    ]
    .iter()
    .map(|(action, api)| (action.to_string(), api.then(|| "cleanup bot".to_owned())))
    .collect();
    assert_eq!(rows, expected);
    let (status, modlog) = app.page("/modlog").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(modlog.matches("through the API token “cleanup bot”").count(), 7, "the public log says so");
    // The name stays in the log once the token is revoked.
    app.with_conn(|c| diesel::delete(afterword::db::schema::api_tokens::table).execute(c).unwrap()).await;
    assert_eq!(app.page("/modlog?page=1").await.1.matches("“cleanup bot”").count(), 7);
}

async fn held_comments_reports_and_bans_through_the_api(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann_session = app.signup("ann").await;
    let bob_session = app.signup("bob").await;
    app.signup_as("moe", "moderator").await;
    app.signup_as("mia", "moderator").await;
    let moe = app.api_client(&named_token(&app, "moe", "queue bot", "read,moderate").await);
    let ann = app.api_client(&app.api_token("ann", "read,write").await);
    let bob = app.api_client(&app.api_token("bob", "read,write").await);
    let first = app.comment(&ann_session, SEED_SLUG, "A reported comment", None).await;
    let second = app.comment(&ann_session, SEED_SLUG, "Another reported comment", None).await;

    // Reports through the API reach the moderators' list; dismissing closes them.
    for id in [first, second] {
        let path = format!("/api/v1/comments/{id}/reports");
        let response = bob.post(url(&app, &path)).json(&json!({"reason": "spam"})).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    refused(ann.get(url(&app, "/api/v1/mod/reports")).send().await.unwrap(), StatusCode::FORBIDDEN, "moderate scope")
        .await;
    let (status, open) = json_of(moe.get(url(&app, "/api/v1/mod/reports")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{open}");
    let ids: Vec<i64> =
        open["comments"].as_array().unwrap().iter().map(|g| g["comment"]["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [first, second]);
    assert_eq!(open["comments"][0]["reports"][0]["reason"], "spam");
    assert_eq!(open["comments"][0]["article_slug"], SEED_SLUG);
    let dismiss = |id: i64| moe.post(url(&app, &format!("/api/v1/mod/reports/{id}/dismiss"))).send();
    assert_eq!(dismiss(first).await.unwrap().status(), StatusCode::NO_CONTENT);
    refused(dismiss(first).await.unwrap(), StatusCode::CONFLICT, "no open reports").await;
    refused(dismiss(999_999).await.unwrap(), StatusCode::NOT_FOUND, "").await;
    let (_, open) = json_of(moe.get(url(&app, "/api/v1/mod/reports")).send().await.unwrap()).await;
    assert_eq!(open["comments"].as_array().unwrap().len(), 1);

    // Held comments: approved or rejected (with a reason its author is told).
    app.with_conn(|c| {
        let admin: i64 = users::table.filter(users::username.eq("moe")).select(users::id).first(c).unwrap();
        afterword::db::moderation::set_premoderation(
            c,
            afterword::domain::UserId(admin),
            afterword::db::moderation::Premoderation::Everyone,
        )
        .unwrap()
    })
    .await;
    let post = |body: &str| {
        bob.post(url(&app, &format!("/api/v1/articles/{SEED_SLUG}/comments"))).json(&json!({ "body": body })).send()
    };
    let (_, held) = json_of(post("Held for approval").await.unwrap()).await;
    let (_, held_too) = json_of(post("Also held").await.unwrap()).await;
    assert_eq!(held["status"], "pending");
    let (held, held_too) = (held["id"].as_i64().unwrap(), held_too["id"].as_i64().unwrap());
    let act = |id: i64, action: &str| moe.post(url(&app, &format!("/api/v1/comments/{id}/{action}")));
    refused(
        ann.post(url(&app, &format!("/api/v1/comments/{held}/approve"))).send().await.unwrap(),
        StatusCode::FORBIDDEN,
        "",
    )
    .await;
    let (status, approved) = json_of(act(held, "approve").send().await.unwrap()).await;
    assert_eq!((status, approved["status"].as_str()), (StatusCode::OK, Some("visible")));
    assert!(app.page(&format!("/articles/{SEED_SLUG}")).await.1.contains("Held for approval"));
    refused(act(held, "approve").send().await.unwrap(), StatusCode::CONFLICT, "not waiting").await;
    refused(
        act(held_too, "reject").json(&json!({"reason": 7})).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "reason:",
    )
    .await;
    let (status, rejected) =
        json_of(act(held_too, "reject").json(&json!({"reason": "Rude"})).send().await.unwrap()).await;
    assert_eq!((status, rejected["status"].as_str()), (StatusCode::OK, Some("rejected")));
    let (_, inbox) = app.page_as(&bob_session, "/inbox").await;
    assert!(inbox.contains("Rude"), "the author is told why");

    // Bans: a reason and a duration as the page takes them; not a peer.
    let ban = |name: &str, body: Value| moe.post(url(&app, &format!("/api/v1/users/{name}/ban"))).json(&body).send();
    refused(
        ban("ann", json!({"reason": "Spam", "duration": "2d"})).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "duration:",
    )
    .await;
    refused(ban("ann", json!({"duration": "1d"})).await.unwrap(), StatusCode::BAD_REQUEST, "reason").await;
    refused(ban("mia", json!({"reason": "x", "duration": "1d"})).await.unwrap(), StatusCode::FORBIDDEN, "").await;
    refused(ban("nobody", json!({"reason": "x", "duration": "1d"})).await.unwrap(), StatusCode::NOT_FOUND, "").await;
    let banned_until = || {
        app.with_conn(|c| {
            users::table
                .filter(users::username.eq("ann"))
                .select(users::banned_until)
                .first::<Option<time::PrimitiveDateTime>>(c)
                .unwrap()
        })
    };
    assert_eq!(banned_until().await, None);
    let response = ban("ann", json!({"reason": "Spamming", "duration": "7d"})).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let until = banned_until().await.expect("banned");
    assert!(until > afterword::db::now() + time::Duration::days(6));
    // A banned reader's token writes nothing.
    refused(
        ann.put(url(&app, &format!("/api/v1/comments/{second}/vote"))).json(&json!({"value": 1})).send().await.unwrap(),
        StatusCode::FORBIDDEN,
        "banned",
    )
    .await;
    refused(
        ann.post(url(&app, &format!("/api/v1/articles/{SEED_SLUG}/comments")))
            .json(&json!({"body": "Still here"}))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "banned",
    )
    .await;
    let unban = |name: &str| moe.post(url(&app, &format!("/api/v1/users/{name}/unban"))).send();
    assert_eq!(unban("ann").await.unwrap().status(), StatusCode::NO_CONTENT);
    refused(unban("ann").await.unwrap(), StatusCode::CONFLICT, "not banned").await;

    // Remove and ban at once.
    let removal = json!({"reason": "Spam again", "ban": "permanent"});
    let response = moe.post(url(&app, &format!("/api/v1/comments/{second}/remove"))).json(&removal).send().await;
    assert_eq!(response.unwrap().status(), StatusCode::OK);
    assert_eq!(banned_until().await, Some(afterword::domain::values::FOREVER));
    let actions: Vec<(String, Option<String>)> = log_rows(&app).await;
    let via = actions.iter().filter(|(_, token)| token.as_deref() == Some("queue bot")).count();
    assert_eq!(via, actions.len() - 1, "all but the settings change came through the token: {actions:?}");
}

fn record(title: &str) -> Value {
    json!({
        "title": title,
        "source_url": format!("https://example.com/{}", title.len()),
        "source_name": "example.com",
        "published_at": "2024-05-01",
        "summary": ["One paragraph.", "Another."],
        "key_takeaways": ["A takeaway"],
        "tags": ["news"],
    })
}

async fn administrators_manage_articles_and_roles_through_the_api(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    app.signup_as("ada", "admin").await;
    app.signup_as("moe", "moderator").await;
    app.signup("ann").await;
    let ada = app.api_client(&named_token(&app, "ada", "publisher", "read,moderate").await);
    let ada_writer = app.api_client(&app.api_token("ada", "read,write").await);
    let moe = app.api_client(&app.api_token("moe", "read,write,moderate").await);
    let article_count = || app.with_conn(|c| articles::table.count().get_result::<i64>(c).unwrap());

    // Create: 201 with Location; refusals name the field and change nothing.
    let create = |client: &reqwest::Client, body: Value| client.post(url(&app, "/api/v1/articles")).json(&body).send();
    refused(create(&moe, record("Not yours")).await.unwrap(), StatusCode::FORBIDDEN, "administrators").await;
    refused(create(&ada_writer, record("No scope")).await.unwrap(), StatusCode::FORBIDDEN, "moderate scope").await;
    let mut bad = record("A bad date");
    bad["published_at"] = json!("2024-13-01");
    refused(create(&ada, bad).await.unwrap(), StatusCode::BAD_REQUEST, "published_at").await;
    refused(create(&ada, record("")).await.unwrap(), StatusCode::BAD_REQUEST, "title").await;
    let mut unknown = record("An unknown field");
    unknown["colour"] = json!("red");
    refused(create(&ada, unknown).await.unwrap(), StatusCode::BAD_REQUEST, "colour").await;
    refused(create(&ada, json!([record("An array")])).await.unwrap(), StatusCode::BAD_REQUEST, "object").await;
    assert_eq!(article_count().await, 1);
    let response = create(&ada, record("A new article")).await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, created) = json_of(response).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(location, "/api/v1/articles/a-new-article");
    assert_eq!(created["takeaways"], json!(["A takeaway"]));
    let (status, read) = json_of(app.get(&location).await).await;
    assert_eq!((status, read["title"].as_str()), (StatusCode::OK, Some("A new article")));
    refused(create(&ada, record("A new article")).await.unwrap(), StatusCode::CONFLICT, "title and source URL").await;

    // Update: the fields given; the slug stays; the page shows it.
    assert!(app.page("/articles/a-new-article").await.1.contains("A new article"), "cached");
    let patch = |client: &reqwest::Client, slug: &str, body: Value| {
        client.patch(url(&app, &format!("/api/v1/articles/{slug}"))).json(&body).send()
    };
    refused(patch(&moe, "a-new-article", json!({"title": "Mine"})).await.unwrap(), StatusCode::FORBIDDEN, "").await;
    refused(
        patch(&ada, "a-new-article", json!({"slug": "elsewhere"})).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "slug:",
    )
    .await;
    refused(patch(&ada, "a-new-article", json!({"summary": []})).await.unwrap(), StatusCode::BAD_REQUEST, "summary")
        .await;
    refused(patch(&ada, "no-such-article", json!({"title": "x"})).await.unwrap(), StatusCode::NOT_FOUND, "").await;
    let (status, changed) =
        json_of(patch(&ada, "a-new-article", json!({"title": "A renamed article", "tags": ["a", "b"]})).await.unwrap())
            .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["slug"].as_str(), changed["title"].as_str()),
        (Some("a-new-article"), Some("A renamed article"))
    );
    assert_eq!(changed["summary"], "One paragraph.\n\nAnother.", "the rest stays");
    assert!(app.page("/articles/a-new-article").await.1.contains("A renamed article"), "the page shows the change");

    // Delete: 204, then gone.
    refused(moe.delete(url(&app, "/api/v1/articles/a-new-article")).send().await.unwrap(), StatusCode::FORBIDDEN, "")
        .await;
    assert_eq!(
        ada.delete(url(&app, "/api/v1/articles/a-new-article")).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.get("/api/v1/articles/a-new-article").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        ada.delete(url(&app, "/api/v1/articles/a-new-article")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // Import: all or none, with the upload's limits.
    let import = |body: String| {
        ada.post(url(&app, "/api/v1/articles/import")).header("content-type", "application/json").body(body).send()
    };
    let mut second_bad = record("Second");
    second_bad["source_url"] = json!("javascript:alert(1)");
    let bad_file = json!([record("First imported"), second_bad]).to_string();
    refused(import(bad_file).await.unwrap(), StatusCode::BAD_REQUEST, "index 1: source_url").await;
    assert_eq!(article_count().await, 1, "nothing imported");
    let many: Vec<Value> = (0..1001).map(|i| record(&format!("Imported number {i}"))).collect();
    refused(import(serde_json::to_string(&many).unwrap()).await.unwrap(), StatusCode::BAD_REQUEST, "at most 1000")
        .await;
    let huge = json!([{"title": "x".repeat(2 * 1024 * 1024)}]).to_string();
    let (status, _) = json_of(import(huge).await.unwrap()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    refused(
        moe.post(url(&app, "/api/v1/articles/import")).json(&json!([record("x")])).send().await.unwrap(),
        StatusCode::FORBIDDEN,
        "",
    )
    .await;
    let good = json!([record("First imported"), record("Second imported!")]).to_string();
    let (status, summary) = json_of(import(good.clone()).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!((summary["created"].as_u64(), summary["updated"].as_u64()), (Some(2), Some(0)));
    let (_, again) = json_of(import(good).await.unwrap()).await;
    assert_eq!(again["unchanged"], 2);
    assert_eq!(article_count().await, 3);

    // Roles: administrators only; a role by name; not one's own admin role.
    let role = |client: &reqwest::Client, name: &str, body: Value| {
        client.put(url(&app, &format!("/api/v1/users/{name}/role"))).json(&body).send()
    };
    refused(role(&moe, "ann", json!({"role": "moderator"})).await.unwrap(), StatusCode::FORBIDDEN, "administrators")
        .await;
    refused(role(&ada, "ann", json!({"role": "king"})).await.unwrap(), StatusCode::BAD_REQUEST, "role:").await;
    refused(role(&ada, "ada", json!({"role": "reader"})).await.unwrap(), StatusCode::BAD_REQUEST, "own").await;
    refused(role(&ada, "nobody", json!({"role": "reader"})).await.unwrap(), StatusCode::NOT_FOUND, "").await;
    assert_eq!(role(&ada, "ann", json!({"role": "moderator"})).await.unwrap().status(), StatusCode::NO_CONTENT);
    let ann_role: String =
        app.with_conn(|c| users::table.filter(users::username.eq("ann")).select(users::role).first(c).unwrap()).await;
    assert_eq!(ann_role, "moderator");
    let rows = log_rows(&app).await;
    assert!(!rows.is_empty() && rows.iter().all(|(_, via)| via.as_deref() == Some("publisher")), "{rows:?}");
    let actions: Vec<&str> = rows.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        ["create article", "edit article", "delete article", "import articles", "import articles", "change role"]
    );
}

/// The next event of an open event stream (keep-alive comments skipped), within 10 s:
/// its kind and data.
async fn next_event(response: &mut reqwest::Response, buffer: &mut String) -> (String, Value) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let kind = block.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or_default().to_owned();
            let data = block.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or("null");
            if !kind.is_empty() {
                return (kind, serde_json::from_str(data).unwrap());
            }
            continue;
        }
        let chunk = tokio::time::timeout_at(deadline, response.chunk()).await.expect("an event within 10 s").unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk.expect("the stream stays open")));
    }
}

async fn live_readers_see_what_the_api_changes(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann_session = app.signup("ann").await;
    app.signup("bob").await;
    app.signup_as("moe", "moderator").await;
    let id = app.comment(&ann_session, SEED_SLUG, "Live words", None).await;
    let ann = app.api_client(&app.api_token("ann", "write").await);
    let bob = app.api_client(&app.api_token("bob", "write").await);
    let moe = app.api_client(&app.api_token("moe", "moderate").await);
    let mut stream = app.get(&format!("/articles/{SEED_SLUG}/events")).await;
    assert_eq!(stream.status(), StatusCode::OK);
    let mut buffer = String::new();

    let edited = ann.patch(url(&app, &format!("/api/v1/comments/{id}"))).json(&json!({"body": "Edited live"})).send();
    assert_eq!(edited.await.unwrap().status(), StatusCode::OK);
    let (kind, data) = next_event(&mut stream, &mut buffer).await;
    assert_eq!(kind, "edit");
    assert!(data["html"].as_str().unwrap().contains("Edited live"), "{data}");

    let voted = bob.put(url(&app, &format!("/api/v1/comments/{id}/vote"))).json(&json!({"value": 1})).send();
    assert_eq!(voted.await.unwrap().status(), StatusCode::OK);
    let (kind, data) = next_event(&mut stream, &mut buffer).await;
    assert_eq!((kind.as_str(), data["score"].as_i64()), ("votes", Some(1)));

    let removed = moe.post(url(&app, &format!("/api/v1/comments/{id}/remove"))).json(&json!({"reason": "Off topic"}));
    assert_eq!(removed.send().await.unwrap().status(), StatusCode::OK);
    let (kind, data) = next_event(&mut stream, &mut buffer).await;
    assert_eq!(kind, "status");
    assert!(data["html"].as_str().unwrap().contains("[removed by a moderator]"), "{data}");

    let lock = moe.post(url(&app, &format!("/api/v1/articles/{SEED_SLUG}/lock"))).json(&json!({"reason": "Enough"}));
    assert_eq!(lock.send().await.unwrap().status(), StatusCode::OK);
    let (kind, data) = next_event(&mut stream, &mut buffer).await;
    assert_eq!(
        (kind.as_str(), data["locked"].as_bool(), data["reason"].as_str()),
        ("lock", Some(true), Some("Enough"))
    );
}
