//! Destructive actions ask first (without JavaScript: a page; with it: the browser's
//! own question), and the moderation screens: where a moderator lands, what authors
//! are told, and how the pages fit a wide and a narrow window.

use afterword::db::schema::{articles, comments, notifications, users};
use diesel::prelude::*;
use fantoccini::Locator;
use reqwest::StatusCode;

use crate::common::browser::{browser, sign_up};
use crate::common::html::Page;
use crate::common::{Backend, TestApp, PASSWORD, SEED_SLUG};
use crate::{both_backends, browser_tests};

browser_tests!(the_moderation_screens_fit_wide_and_narrow_windows);

/// The page's measurements: [header rows, moderation menu rows, report controls
/// misaligned by (px), sideways scroll (px)].
const MEASURE: &str = r#"
    const rows = (elements) => {
        const tops = [];
        for (const e of elements) {
            const r = e.getBoundingClientRect();
            if (r.width === 0) continue;
            const middle = r.top + r.height / 2;
            if (!tops.some((t) => Math.abs(t - middle) < 8)) tops.push(middle);
        }
        return tops.length;
    };
    const header = rows(document.querySelectorAll('.site-header .brand, .site-nav > *'));
    const menu = rows(document.querySelectorAll('.mod-nav a'));
    const buttons = Array.from(document.querySelectorAll('.report-group .mod-actions button'));
    const bottoms = buttons.map((b) => b.getBoundingClientRect().bottom);
    const heights = buttons.map((b) => b.getBoundingClientRect().height);
    const off = buttons.length < 2 ? -1 :
        Math.max(Math.max(...bottoms) - Math.min(...bottoms), Math.max(...heights) - Math.min(...heights));
    const sideways = document.documentElement.scrollWidth - window.innerWidth;
    return [header, menu, off, sideways];
"#;

async fn the_moderation_screens_fit_wide_and_narrow_windows(backend: Backend) {
    let Some(client) = browser().await else { return };
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let id = app.comment(&ann, SEED_SLUG, "Something to report", None).await;
    let r = app.post_form(&bob, &format!("/comments/{id}/report"), &[("reason", "spam")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The longest header there is: an administrator with a long name and unread notices.
    let name = "administrator_with_a_long_name";
    sign_up(&client, &app, name).await;
    app.set_role(name, "admin").await;
    let (same, _) = app.login(name, PASSWORD).await;
    let theirs = app.comment(&same, SEED_SLUG, "The administrator speaks", None).await;
    app.comment(&ann, SEED_SLUG, "A reply to the administrator", Some(theirs)).await;
    let shots = std::env::var("AFTERWORD_SCREENSHOTS").ok();
    for (width, path) in [(1280, "/mod/reports"), (390, "/mod/reports"), (1280, "/mod/queue"), (1280, "/admin")] {
        client.set_window_size(width, 900).await.unwrap();
        client.goto(&app.url(path)).await.unwrap();
        client.wait().for_element(Locator::Css(".mod-nav")).await.unwrap();
        if let Some(dir) = &shots {
            let png = client.screenshot().await.unwrap();
            std::fs::write(format!("{dir}/{}-{width}.png", path.trim_start_matches('/').replace('/', "-")), png)
                .unwrap();
        }
        let measured = client.execute(MEASURE, vec![]).await.unwrap();
        let m: Vec<f64> = measured.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!(m[3] <= 0.0, "{path} at {width}px scrolls sideways by {}px", m[3]);
        if width >= 1280 {
            assert_eq!(m[0], 1.0, "{path} at {width}px: the header is one line");
            assert_eq!(m[1], 1.0, "{path} at {width}px: the moderation menu is one line");
        }
        if path == "/mod/reports" {
            assert!((0.0..=1.0).contains(&m[2]), "{path} at {width}px: Dismiss and Remove line up (off by {})", m[2]);
        }
    }

    // Without the script's question (a form sent as a page without JavaScript sends it),
    // removing with a ban answers the confirmation page, which fits a phone; its button
    // alone has the destructive colour, and it does the deed.
    client.set_window_size(390, 900).await.unwrap();
    client.goto(&app.url("/mod/reports")).await.unwrap();
    let form = format!("#report-{id} form.mod-form");
    let reason = client.wait().for_element(Locator::Css(&format!("{form} input[name=reason]"))).await.unwrap();
    reason.send_keys("Spam").await.unwrap();
    client.execute(&format!("document.querySelector('{form} select').value = '7d'"), vec![]).await.unwrap();
    client.execute(&format!("document.querySelector('{form}').submit()"), vec![]).await.unwrap();
    let heading = client.wait().for_element(Locator::Css(".confirm h1")).await.unwrap();
    assert_eq!(heading.text().await.unwrap(), "Remove this comment and ban ann for 7 days?");
    if let Some(dir) = &shots {
        std::fs::write(format!("{dir}/confirm-390.png"), client.screenshot().await.unwrap()).unwrap();
    }
    let sideways =
        client.execute("return document.documentElement.scrollWidth - window.innerWidth", vec![]).await.unwrap();
    assert!(sideways.as_f64().unwrap() <= 0.0, "the confirmation page fits 390px");
    let colour =
        "return [...document.querySelectorAll('.confirm-actions > *')].map((e) => getComputedStyle(e).backgroundColor)";
    let colours = client.execute(colour, vec![]).await.unwrap();
    let colours: Vec<&str> = colours.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(colours.len(), 2);
    assert_ne!(colours[0], colours[1], "the confirming button stands out from Cancel: {colours:?}");
    client.find(Locator::Css(".confirm-actions button")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Css(".empty")).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/mod/reports");
    let status: String =
        app.with_conn(move |c| comments::table.find(id).select(comments::status).first(c).unwrap()).await;
    assert_eq!(status, "removed");
    client.close().await.unwrap();
}

both_backends!(
    deleting_an_article_asks_first,
    deleting_a_comment_asks_first,
    rejecting_a_held_comment_asks_first,
    removing_with_a_ban_asks_first,
    acting_on_a_report_lands_on_the_next_one,
    authors_are_told_what_the_moderators_decided,
    a_held_comment_is_its_authors_to_edit,
    notices_of_a_newer_version_are_left_for_it,
);

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// Posts `fields` without a CSRF token.
async fn post_without_token(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> StatusCode {
    client.post(app.url(path)).form(fields).send().await.unwrap().status()
}

/// The confirmation page's form: its action and fields (the token and `confirm=yes`
/// among them), after checking that the page changes nothing by itself.
fn confirm_form(body: &str) -> (String, Vec<(String, String)>) {
    let page = Page::parse(body);
    let action = page.attr("form.confirm-form", "action");
    let names = page.attrs("form.confirm-form input", "name");
    let values = page.attrs("form.confirm-form input", "value");
    assert_eq!(names.len(), values.len());
    let fields: Vec<(String, String)> = names.into_iter().zip(values).collect();
    assert!(fields.iter().any(|(n, v)| n == "csrf_token" && v.len() > 20), "the form carries the token: {fields:?}");
    assert!(fields.iter().any(|(n, v)| n == "confirm" && v == "yes"), "and confirm=yes: {fields:?}");
    assert_eq!(page.count("form.confirm-form button[type=submit].danger"), 1, "one button, in the destructive colour");
    assert_eq!(page.count("form.confirm-form a.button"), 1, "and a Cancel link");
    (action, fields)
}

/// Sends the confirmation page's form as a browser would.
async fn submit(
    app: &TestApp,
    client: &reqwest::Client,
    (action, fields): (String, Vec<(String, String)>),
) -> reqwest::Response {
    client.post(app.url(&action)).form(&fields).send().await.unwrap()
}

async fn article_count(app: &TestApp) -> i64 {
    app.with_conn(|c| articles::table.count().get_result(c).unwrap()).await
}

async fn status_of(app: &TestApp, id: i64) -> Option<String> {
    app.with_conn(move |c| comments::table.find(id).select(comments::status).first(c).optional().unwrap()).await
}

async fn deleting_an_article_asks_first(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let admin = app.signup_as("adam", "admin").await;
    let ann = app.signup("ann").await;
    let first = app.comment(&ann, SEED_SLUG, "First", None).await;
    app.comment(&ann, SEED_SLUG, "Second", Some(first)).await;
    let gone = app.comment(&ann, SEED_SLUG, "Third, removed", None).await;
    let mo = app.signup_as("moe", "moderator").await;
    let r = app.post_form(&mo, &format!("/mod/comments/{gone}/remove"), &[("reason", "Spam")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let path = format!("/admin/articles/{SEED_SLUG}/delete");

    // The list asks in the browser too, and its Delete looks like its neighbours.
    let list = Page::parse(&app.page_as(&admin, "/admin/articles").await.1);
    let question = list.attr(&format!("form[action='{path}']"), "data-confirm");
    assert!(
        question.starts_with("Delete “Meta (again) denies") && question.ends_with("and its 2 comments?"),
        "{question}"
    );
    assert_eq!(list.attr(&format!("form[action='{path}'] button"), "class"), "link-button");

    // Without confirm=yes: the question, and nothing deleted.
    let r = app.post_form(&admin, &path, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    let page = Page::parse(&body);
    assert_eq!(page.text("h1"), question);
    let losses = page.text(".confirm-losses");
    assert!(
        losses.contains("2 published comments") && losses.contains("1 held, removed or deleted comment"),
        "{losses}"
    );
    assert_eq!(page.attr("form.confirm-form a.button", "href"), "/admin/articles");
    let form = confirm_form(&body);
    assert_eq!(form.0, path);
    assert_eq!(article_count(&app).await, 1);

    // Another value is a mistake; a reader or a moderator is refused either way.
    let r = app.post_form(&admin, &path, &[("confirm", "sure")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("confirm"));
    for client in [&ann, &mo] {
        assert_eq!(app.post_form(client, &path, &[]).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.post_form(client, &path, &[("confirm", "yes")]).await.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        app.post_form(&admin, "/admin/articles/no-such-article/delete", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    // Both steps need the token.
    assert_eq!(post_without_token(&app, &admin, &path, &[]).await, StatusCode::FORBIDDEN);
    assert_eq!(post_without_token(&app, &admin, &path, &[("confirm", "yes")]).await, StatusCode::FORBIDDEN);
    assert_eq!(article_count(&app).await, 1, "nothing deleted yet");

    // Confirmed: gone, with its comments.
    let r = submit(&app, &admin, form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/admin/articles?notice=deleted");
    assert_eq!(article_count(&app).await, 0);
    assert_eq!(app.with_conn(|c| comments::table.count().get_result::<i64>(c).unwrap()).await, 0);
}

async fn deleting_a_comment_asks_first(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let id = app.comment(&ann, SEED_SLUG, "Words I may regret", None).await;
    app.comment(&bob, SEED_SLUG, "A reply", Some(id)).await;
    let article = format!("/articles/{SEED_SLUG}");
    let path = format!("/comments/{id}/delete");

    let page = Page::parse(&app.page_as(&ann, &article).await.1);
    let button = format!("#comment-{id} button.delete");
    assert_eq!(page.attr(&button, "formaction"), path);
    assert!(page.attr(&button, "data-confirm").starts_with("Delete your comment?"));
    assert_eq!(page.attr(&button, "class"), "link-button delete", "styled like the other actions");

    // Without confirm=yes (as the page's form sends it): the question.
    let r = app.post_form(&ann, &path, &[("return_to", &article)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    let page = Page::parse(&body);
    assert_eq!(page.text("h1"), "Delete your comment?");
    assert!(page.text(".confirm .comment-body").contains("Words I may regret"));
    assert!(body.contains("The replies to it stay"));
    assert_eq!(page.attr("form.confirm-form a.button", "href"), format!("{article}#comment-{id}"));
    let form = confirm_form(&body);
    assert_eq!(form.0, path);
    assert!(form.1.contains(&("return_to".to_owned(), article.clone())), "{:?}", form.1);
    assert_eq!(status_of(&app, id).await.as_deref(), Some("visible"));

    // Not the author: refused, with or without confirm=yes; without the token too.
    assert_eq!(app.post_form(&bob, &path, &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.post_form(&bob, &path, &[("confirm", "yes")]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.post_form(&ann, "/comments/999999/delete", &[]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.post_form(&ann, &path, &[("confirm", "no")]).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(post_without_token(&app, &ann, &path, &[]).await, StatusCode::FORBIDDEN);
    assert_eq!(post_without_token(&app, &ann, &path, &[("confirm", "yes")]).await, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, id).await.as_deref(), Some("visible"));

    let r = submit(&app, &ann, form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{article}#comments"));
    assert_eq!(status_of(&app, id).await.as_deref(), Some("deleted"));
}

async fn set_premoderation(app: &TestApp, admin: &reqwest::Client, mode: &str) {
    let r = app.post_form(admin, "/admin/settings/premoderation", &[("mode", mode), ("count", "3")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn rejecting_a_held_comment_asks_first(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let admin = app.signup_as("adam", "admin").await;
    let mo = app.signup_as("moe", "moderator").await;
    let ann = app.signup("ann").await;
    set_premoderation(&app, &admin, "all").await;
    let id = app.comment(&ann, SEED_SLUG, "Held words", None).await;
    let path = format!("/mod/comments/{id}/reject");

    let queue = Page::parse(&app.page_as(&mo, "/mod/queue").await.1);
    let form = format!("#held-{id} form[action='{path}']");
    assert!(queue.attr(&form, "data-confirm").starts_with("Reject this comment?"));
    assert_eq!(queue.attr(&format!("{form} button"), "class"), "button secondary", "no louder than Approve");

    let r = app.post_form(&mo, &path, &[("reason", "Off topic")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    let page = Page::parse(&body);
    assert_eq!(page.text("h1"), "Reject this comment?");
    assert!(page.text(".confirm").contains("“Off topic”"));
    assert_eq!(page.attr("form.confirm-form a.button", "href"), format!("/mod/queue#held-{id}"));
    let form = confirm_form(&body);
    assert_eq!(form.0, path);
    assert!(form.1.contains(&("reason".to_owned(), "Off topic".to_owned())));
    assert_eq!(status_of(&app, id).await.as_deref(), Some("pending"));

    assert_eq!(app.post_form(&ann, &path, &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.post_form(&ann, &path, &[("confirm", "yes")]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(post_without_token(&app, &mo, &path, &[]).await, StatusCode::FORBIDDEN);
    assert_eq!(post_without_token(&app, &mo, &path, &[("confirm", "yes")]).await, StatusCode::FORBIDDEN);
    let r = app.post_form(&mo, &path, &[("reason", &"x".repeat(501))]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "too long a reason");
    assert_eq!(status_of(&app, id).await.as_deref(), Some("pending"));

    let r = submit(&app, &mo, form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/mod/queue");
    assert_eq!(status_of(&app, id).await.as_deref(), Some("rejected"));
    // Asking again about a comment no longer held: refused, not asked.
    assert_eq!(app.post_form(&mo, &path, &[]).await.status(), StatusCode::BAD_REQUEST);
}

async fn banned_until(app: &TestApp, name: &'static str) -> Option<time::PrimitiveDateTime> {
    app.with_conn(move |c| users::table.filter(users::username.eq(name)).select(users::banned_until).first(c).unwrap())
        .await
}

async fn removing_with_a_ban_asks_first(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let mo = app.signup_as("moe", "moderator").await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let id = app.comment(&ann, SEED_SLUG, "Buy cheap watches", None).await;
    app.post_form(&bob, &format!("/comments/{id}/report"), &[("reason", "spam")]).await;
    let path = format!("/mod/comments/{id}/remove");

    let reports = Page::parse(&app.page_as(&mo, "/mod/reports").await.1);
    let form = format!("#report-{id} form[action='{path}']");
    assert!(reports.attr(&form, "data-confirm").starts_with("Remove this comment?"));
    assert_eq!(reports.attr(&format!("{form} input[name=from]"), "value"), "reports");
    assert_eq!(
        reports.attr(&format!("{form} button:not([form])"), "class"),
        "button secondary",
        "no louder than Dismiss"
    );
    assert_eq!(reports.attr(&format!("{form} button[form='dismiss-{id}']"), "class"), "button secondary");
    assert_eq!(reports.attr(&format!("form#dismiss-{id}"), "action"), format!("/mod/reports/{id}/dismiss"));
    assert_eq!(reports.count(".danger"), 0);

    let fields = [("reason", "Spam"), ("duration", "7d"), ("from", "reports")];
    let r = app.post_form(&mo, &path, &fields).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    let page = Page::parse(&body);
    assert_eq!(page.text("h1"), "Remove this comment and ban ann for 7 days?");
    assert_eq!(page.attr("form.confirm-form a.button", "href"), format!("/mod/reports#report-{id}"));
    let form = confirm_form(&body);
    assert_eq!(form.0, path);
    for (name, value) in fields {
        assert!(form.1.contains(&(name.to_owned(), value.to_owned())), "{name} carried: {:?}", form.1);
    }
    assert_eq!(status_of(&app, id).await.as_deref(), Some("visible"));
    assert_eq!(banned_until(&app, "ann").await, None);

    // Bad input is refused before asking; so are readers and requests without the token.
    for bad in [[("reason", ""), ("duration", "7d")], [("reason", "Spam"), ("duration", "forever")]] {
        assert_eq!(app.post_form(&mo, &path, &bad).await.status(), StatusCode::BAD_REQUEST, "{bad:?}");
    }
    let r = app.post_form(&mo, &path, &[("reason", "Spam"), ("duration", "7d"), ("from", "elsewhere")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.post_form(&bob, &path, &fields).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(post_without_token(&app, &mo, &path, &fields).await, StatusCode::FORBIDDEN);
    let confirmed = [("reason", "Spam"), ("duration", "7d"), ("confirm", "yes")];
    assert_eq!(post_without_token(&app, &mo, &path, &confirmed).await, StatusCode::FORBIDDEN);
    assert_eq!(status_of(&app, id).await.as_deref(), Some("visible"));
    assert_eq!(banned_until(&app, "ann").await, None);

    let r = submit(&app, &mo, form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/mod/reports", "no report left");
    assert_eq!(status_of(&app, id).await.as_deref(), Some("removed"));
    assert!(banned_until(&app, "ann").await.is_some());
    // Asking again about a comment already removed: refused, not asked.
    assert_eq!(
        app.post_form(&mo, &path, &[("reason", "Spam"), ("duration", "1d")]).await.status(),
        StatusCode::BAD_REQUEST
    );

    // Removing without a ban does not ask: it can be undone.
    let other = app.comment(&bob, SEED_SLUG, "Off-topic musings", None).await;
    let r = app.post_form(&mo, &format!("/mod/comments/{other}/remove"), &[("reason", "Off topic")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/mod/comments/{other}"));
    assert_eq!(status_of(&app, other).await.as_deref(), Some("removed"));
}

async fn acting_on_a_report_lands_on_the_next_one(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let mo = app.signup_as("moe", "moderator").await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mut ids = Vec::new();
    for text in ["one", "two", "three", "four", "five"] {
        let id = app.comment(&ann, SEED_SLUG, &format!("Comment {text}"), None).await;
        let r = app.post_form(&bob, &format!("/comments/{id}/report"), &[("reason", "spam")]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        ids.push(id);
    }
    let anchors: Vec<String> = ids.iter().map(|id| format!("report-{id}")).collect();
    assert_eq!(Page::parse(&app.page_as(&mo, "/mod/reports").await.1).attrs(".report-group", "id"), anchors);
    let next = |id: i64| format!("/mod/reports#report-{id}");

    // Dismiss the second: on to the third.
    let r = app.post_form(&mo, &format!("/mod/reports/{}/dismiss", ids[1]), &[]).await;
    assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, next(ids[2])));
    // Remove the third from the reports: on to the fourth.
    let r = app
        .post_form(&mo, &format!("/mod/comments/{}/remove", ids[2]), &[("reason", "Spam"), ("from", "reports")])
        .await;
    assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, next(ids[3])));
    // Remove the fourth with a ban, confirmed: on to the fifth.
    let fields = [("reason", "Spam"), ("duration", "1d"), ("from", "reports"), ("confirm", "yes")];
    let r = app.post_form(&mo, &format!("/mod/comments/{}/remove", ids[3]), &fields).await;
    assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, next(ids[4])));
    // The last one: back to the first still open.
    let r = app.post_form(&mo, &format!("/mod/reports/{}/dismiss", ids[4]), &[]).await;
    assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, next(ids[0])));
    let r = app.post_form(&mo, &format!("/mod/reports/{}/dismiss", ids[0]), &[]).await;
    assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, "/mod/reports".to_owned()));
    // Refused actions go nowhere.
    let r = app.post_form(&mo, &format!("/mod/reports/{}/dismiss", ids[0]), &[]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(Page::parse(&app.page_as(&mo, "/mod/reports").await.1).count(".report-group"), 0);
}

/// The author's inbox: (kind shown, text of each notice), newest first.
async fn inbox(app: &TestApp, client: &reqwest::Client) -> (Page, usize) {
    let (status, body) = app.page_as(client, "/inbox").await;
    assert_eq!(status, StatusCode::OK);
    let page = Page::parse(&body);
    let unread =
        page.texts(".site-nav .badge").first().map_or(0, |b| b.split_whitespace().next().unwrap().parse().unwrap());
    (page, unread)
}

async fn authors_are_told_what_the_moderators_decided(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let admin = app.signup_as("adam", "admin").await;
    let mo = app.signup_as("moe", "moderator").await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;

    // A held comment: the page its author lands on says so.
    set_premoderation(&app, &admin, "all").await;
    let r = app.post_form(&ann, &format!("/articles/{SEED_SLUG}/comments"), &[("body", "Held & hopeful")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let landing = location(&r);
    let held: i64 = landing.rsplit("#comment-").next().unwrap().parse().unwrap();
    let page = Page::parse(&app.page_as(&ann, &landing).await.1);
    let notice = page.text(".notice");
    assert!(notice.contains("waiting for a moderator’s approval") && notice.contains("inbox"), "{notice}");
    assert_eq!(page.text(&format!("#comment-{held} .held")), "awaiting approval");
    let second = app.comment(&ann, SEED_SLUG, "Held, <b>then</b> turned down", None).await;
    assert_eq!(inbox(&app, &ann).await.1, 0, "nothing decided yet");

    // Approved: told so.
    let r = app.post_form(&mo, &format!("/mod/comments/{held}/approve"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (page, unread) = inbox(&app, &ann).await;
    assert_eq!(unread, 1);
    let texts = page.texts(".notification > p:first-child");
    assert_eq!(texts.len(), 1);
    assert!(
        texts[0].starts_with("Your comment on Meta (again) denies") && texts[0].contains("was approved"),
        "{texts:?}"
    );
    assert_eq!(page.attr(".notification a", "href"), format!("/comments/{held}"));

    // Rejected, with a reason: told, with the reason and the comment's text (escaped).
    let fields = [("reason", "Please <i>stay</i> on topic"), ("confirm", "yes")];
    let r = app.post_form(&mo, &format!("/mod/comments/{second}/reject"), &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (page, unread) = inbox(&app, &ann).await;
    assert_eq!(unread, 2);
    let newest = &page.texts(".notification")[0];
    assert!(newest.contains("was not approved"), "{newest}");
    assert!(newest.contains("Reason: Please <i>stay</i> on topic"), "the reason, as text: {newest}");
    assert!(newest.contains("Held, <b>then</b> turned down") || newest.contains("Held, then turned down"), "{newest}");
    assert_eq!(page.count(".notification i"), 0, "nothing the moderator typed is markup");

    // Removed, with the reason; and with a ban, the same.
    set_premoderation(&app, &admin, "off").await;
    let kept = app.comment(&ann, SEED_SLUG, "A remark", None).await;
    let r = app.post_form(&mo, &format!("/mod/comments/{kept}/remove"), &[("reason", "Rule 2: be kind")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (page, unread) = inbox(&app, &ann).await;
    assert_eq!(unread, 3);
    let newest = &page.texts(".notification")[0];
    assert!(newest.contains("A moderator removed your comment on Meta (again) denies"), "{newest}");
    assert!(newest.contains("Reason: Rule 2: be kind"), "{newest}");
    assert!(!newest.contains("A remark"), "removed text shows nowhere, not even here: {newest}");
    assert_eq!(page.attrs(".notification > p:first-child a", "href")[0], format!("/comments/{kept}"));

    let bobs = app.comment(&bob, SEED_SLUG, "Spam spam", None).await;
    let fields = [("reason", "Spam"), ("duration", "1d"), ("confirm", "yes")];
    assert_eq!(
        app.post_form(&mo, &format!("/mod/comments/{bobs}/remove"), &fields).await.status(),
        StatusCode::SEE_OTHER
    );
    let kinds: Vec<String> = app
        .with_conn(|c| notifications::table.order(notifications::id).select(notifications::kind).load(c).unwrap())
        .await;
    assert_eq!(kinds, ["approved", "rejected", "removed", "removed"]);
    // Bob was signed out by the ban; he reads his notice once he logs in again.
    let (bob, _) = app.login("bob", PASSWORD).await;
    let newest = &inbox(&app, &bob).await.0.texts(".notification")[0];
    assert!(newest.contains("A moderator removed your comment") && newest.contains("Reason: Spam"), "{newest}");

    // A moderator removing their own comment is not told about it; marking read clears the count.
    let own = app.comment(&mo, SEED_SLUG, "My own slip", None).await;
    app.post_form(&mo, &format!("/mod/comments/{own}/remove"), &[("reason", "Mine")]).await;
    assert_eq!(inbox(&app, &mo).await.0.count(".notification"), 0);
    assert_eq!(app.post_form(&ann, "/inbox/read", &[]).await.status(), StatusCode::SEE_OTHER);
    let (page, unread) = inbox(&app, &ann).await;
    assert_eq!((unread, page.count(".notification.unread"), page.count(".notification")), (0, 0, 3));
}

/// While a comment awaits approval its author may still edit it (and preview the
/// edit), as the edit link they are shown says.
async fn a_held_comment_is_its_authors_to_edit(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let admin = app.signup_as("adam", "admin").await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    set_premoderation(&app, &admin, "all").await;
    let id = app.comment(&ann, SEED_SLUG, "Held, with a typo", None).await;
    let edit = format!("/comments/{id}/edit");
    assert_eq!(app.page_as(&ann, &edit).await.0, StatusCode::OK);
    let preview = app.post_form(&ann, &edit, &[("body", "Held, *fixed*"), ("action", "preview")]).await;
    assert_eq!(preview.status(), StatusCode::OK);
    assert_eq!(Page::parse(&preview.text().await.unwrap()).text(".preview .comment-body em"), "fixed");
    let saved = app.post_form(&ann, &edit, &[("body", "Held, *fixed*")]).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let page = Page::parse(&app.page_as(&ann, &format!("/comments/{id}")).await.1);
    assert_eq!(page.text(&format!("#comment-{id} .comment-body")), "Held, fixed");
    // Nobody else can, nor see it.
    assert_eq!(app.post_form(&bob, &edit, &[("body", "Mine now")]).await.status(), StatusCode::NOT_FOUND);
}

/// While two versions of the site serve one database, a notice of a kind only the
/// newer one knows is left out of the older one's inbox and count, not an error.
async fn notices_of_a_newer_version_are_left_for_it(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let id = app.comment(&ann, SEED_SLUG, "Something to reply to", None).await;
    app.comment(&bob, SEED_SLUG, "A reply", Some(id)).await;
    let (ann_id, bob_id) = (app.with_conn_blocking_user_id("ann"), app.with_conn_blocking_user_id("bob"));
    app.with_conn(move |c| {
        diesel::insert_into(notifications::table)
            .values((
                notifications::user_id.eq(ann_id),
                notifications::kind.eq("from-a-newer-version"),
                notifications::comment_id.eq(id),
                notifications::actor_id.eq(bob_id),
                notifications::created_at.eq(afterword::db::now()),
            ))
            .execute(c)
            .unwrap()
    })
    .await;
    let (page, unread) = inbox(&app, &ann).await;
    assert_eq!(unread, 1, "the reply only");
    assert_eq!(page.count(".notification"), 1);
}
