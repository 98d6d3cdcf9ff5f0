//! Small things a reader reads: counts and durations in the right number, reasons
//! without doubled full stops, links that lead where the help is, the footer, and
//! saved articles on a profile.

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, PASSWORD, SEED_SLUG};

both_backends!(
    counts_and_durations_of_one_are_singular,
    a_ban_reason_ending_with_a_full_stop_gets_no_second_one,
    an_expired_confirmation_link_points_to_the_settings_page,
    the_footer_links_the_public_moderation_log,
    saved_articles_show_on_the_profile_to_their_reader_and_to_all_when_asked,
);

async fn counts_and_durations_of_one_are_singular(backend: Backend) {
    // Sixty requests a minute, all at once if need be: the next one waits about a second.
    let app = TestApp::builder(backend)
        .with_seed_article()
        .configure(|c| c.rate_limits.requests_per_minute = 60)
        .start()
        .await;
    let mut refused = None;
    for _ in 0..80 {
        let response = app.get("/search").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(response.text().await.unwrap());
            break;
        }
    }
    let body = refused.expect("a request refused");
    assert!(body.contains("Please wait 1 second and try again."), "{body}");
    assert!(!body.contains("1 seconds"), "{body}");

    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let id = app.comment(&ann, SEED_SLUG, "Just one", None).await;
    let score: i32 = app
        .with_conn(move |c| {
            use afterword::db::schema::comments;
            use diesel::prelude::*;
            comments::table.find(id).select(comments::upvotes - comments::downvotes).first(c).unwrap()
        })
        .await;
    if score == 0 {
        assert!(app.vote(&bob, id, 1).await.status().is_redirection());
    }
    app.comment(&bob, SEED_SLUG, "A reply", Some(id)).await;

    let front = Page::parse(&app.page("/").await.1);
    assert_eq!(front.text(".article-card .meta a[href$='#comments']"), "2 comments");
    let article = Page::parse(&app.page(&format!("/articles/{SEED_SLUG}")).await.1);
    assert!(article.text(&format!("#comment-{id}")).contains("1 point"), "{}", article.text(&format!("#comment-{id}")));
    assert!(!article.text("main").contains("1 points"));
    let profile = Page::parse(&app.page("/users/ann").await.1);
    assert!(profile.text(".profile-comments").contains("· 1 point"), "{}", profile.text(".profile-comments"));
    assert!(!profile.text(".profile-comments").contains("1 points"));
}

async fn a_ban_reason_ending_with_a_full_stop_gets_no_second_one(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    app.signup("ann").await;
    let moderator = app.signup_as("maud", "moderator").await;
    let response =
        app.post_form(&moderator, "/mod/users/ann/ban", &[("reason", "Spam links."), ("duration", "7d")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // A ban ends the account's sessions: it logs in again, and reads.
    let (ann, _) = app.login("ann", PASSWORD).await;
    let page = Page::parse(&app.page_as(&ann, "/saved").await.1);
    let notice = page.text(".ban-notice");
    assert!(notice.contains(": Spam links. You can read"), "{notice}");
    assert!(!notice.contains(".."), "{notice}");

    // A reason without one gets one.
    app.signup("bob").await;
    app.post_form(&moderator, "/mod/users/bob/ban", &[("reason", "Rude"), ("duration", "1d")]).await;
    let (bob, _) = app.login("bob", PASSWORD).await;
    let notice = Page::parse(&app.page_as(&bob, "/saved").await.1).text(".ban-notice");
    assert!(notice.contains(": Rude. You can read"), "{notice}");
}

async fn an_expired_confirmation_link_points_to_the_settings_page(backend: Backend) {
    let app = TestApp::builder(backend).configure(|c| c.require_email_verification = true).start().await;
    let ann = app.signup("ann").await;
    let token = "x".repeat(43);
    for (method, path) in [("GET", format!("/verify-email/{token}")), ("POST", format!("/verify-email/{token}"))] {
        let response = if method == "GET" {
            ann.get(app.url(&path)).send().await.unwrap()
        } else {
            app.post_form(&ann, &path, &[]).await
        };
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{method}");
        let page = Page::parse(&response.text().await.unwrap());
        let main = page.text("main");
        assert!(main.contains("expired"), "{main}");
        assert_eq!(page.attr("main a.settings-link", "href"), "/settings", "{method}");
        assert_eq!(page.count("main a[href='/password-reset']"), 0, "{method}");
    }
    // The settings page does send a new one.
    let settings = Page::parse(&app.page_as(&ann, "/settings").await.1);
    assert_eq!(settings.count("form[action='/settings/verify-email']"), 1);

    // A used or unknown reset link still points to the reset page.
    let (status, body) = app.page(&format!("/password-reset/{token}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("/password-reset"));
}

async fn the_footer_links_the_public_moderation_log(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    for path in ["/", &format!("/articles/{SEED_SLUG}"), "/search", "/modlog"] {
        let page = Page::parse(&app.page(path).await.1);
        assert_eq!(page.count("footer.site-footer a[href='/modlog']"), 1, "{path}");
    }
    assert_eq!(app.page("/modlog").await.0, StatusCode::OK);
}

async fn saved_articles_show_on_the_profile_to_their_reader_and_to_all_when_asked(backend: Backend) {
    let app =
        TestApp::builder(backend).with_articles(crate::common::generated_articles(1)).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    assert_eq!(
        app.post_form(&ann, &format!("/articles/{SEED_SLUG}/save"), &[("action", "save")]).await.status(),
        StatusCode::SEE_OTHER
    );
    let saved_titles = |body: &str| Page::parse(body).texts(".profile-saved .saved-articles a");

    // The reader sees them, with a word on who else does; nobody else does.
    let own = app.page_as(&ann, "/users/ann").await.1;
    assert_eq!(saved_titles(&own).len(), 1);
    assert!(saved_titles(&own)[0].starts_with("Meta (again) denies"));
    assert!(Page::parse(&own).text(".profile-saved .hint").contains("Only you see this list"));
    assert_eq!(Page::parse(&app.page("/users/ann").await.1).count(".profile-saved"), 0, "anonymous");
    assert_eq!(Page::parse(&app.page_as(&bob, "/users/ann").await.1).count(".profile-saved"), 0, "another reader");

    // The setting, on the settings page.
    let settings = Page::parse(&app.page_as(&ann, "/settings").await.1);
    assert_eq!(settings.count("form[action='/settings/profile'] input[name=show_saved]:not([checked])"), 1);
    let response =
        app.post_form(&ann, "/settings/profile", &[("display_name", ""), ("bio", ""), ("show_saved", "on")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let settings = Page::parse(&app.page_as(&ann, "/settings").await.1);
    assert_eq!(settings.count("form[action='/settings/profile'] input[name=show_saved][checked]"), 1);
    let public = app.page("/users/ann").await.1;
    assert_eq!(saved_titles(&public).len(), 1, "everyone now");
    assert_eq!(Page::parse(&public).count(".profile-saved .hint"), 0);
    assert_eq!(saved_titles(&app.page_as(&bob, "/users/ann").await.1).len(), 1);

    // A new save shows at once, even to anonymous readers served from the cache.
    app.post_form(&ann, "/articles/generated-article-number-0/save", &[("action", "save")]).await;
    let public = app.page("/users/ann").await.1;
    assert_eq!(saved_titles(&public), ["Generated article number 0", saved_titles(&own)[0].as_str()]);

    // Off again: private again.
    app.post_form(&ann, "/settings/profile", &[("display_name", ""), ("bio", "")]).await;
    assert_eq!(Page::parse(&app.page("/users/ann").await.1).count(".profile-saved"), 0);
    assert_eq!(saved_titles(&app.page_as(&ann, "/users/ann").await.1).len(), 2);
}
