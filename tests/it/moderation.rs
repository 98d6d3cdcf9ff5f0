//! Moderation and administration.

use afterword::db::schema::{comments, moderation_log, reports, sessions, users};
use afterword::web::routes::ROUTES;
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, PASSWORD, SEED_SLUG};

both_backends!(
    permissions_follow_the_route_table,
    readers_report_comments_once,
    moderators_see_reports_and_dismiss_them,
    removed_comments_are_unreachable_everywhere,
    remove_and_ban_from_the_reports,
    banned_readers_can_read_but_not_write,
    locked_articles_say_why,
    pinned_and_distinguished_comments,
    pre_moderation_of_new_accounts_and_everyone,
    the_word_list_holds_comments,
    the_moderation_log_is_public_and_filterable,
    administrators_manage_articles,
    administrators_manage_users_and_see_the_dashboard,
    a_removed_comment_survives_its_authors_delete,
    a_banned_moderator_does_not_moderate,
);

fn location(r: &reqwest::Response) -> String {
    r.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

async fn log_actions(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    app.with_conn(|c| {
        moderation_log::table
            .order(moderation_log::id)
            .select((moderation_log::action, moderation_log::target_label, moderation_log::reason))
            .load(c)
            .unwrap()
    })
    .await
}

fn concrete(path: &str) -> String {
    path.replace("{slug}", SEED_SLUG)
        .replace("{id}", "1")
        .replace("{username}", "target")
        .replace("{token}", "x")
        .replace("{file}", "x")
}

async fn permissions_follow_the_route_table(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let target = app.signup("target").await;
    app.comment(&target, SEED_SLUG, "a comment to act on", None).await;
    let moderator = app.signup_as("moe", "moderator").await;
    let admin = app.signup_as("adam", "admin").await;
    let guarded: Vec<_> =
        ROUTES.iter().filter(|r| r.path.starts_with("/mod/") || r.path.starts_with("/admin")).collect();
    assert!(guarded.len() >= 25, "{}", guarded.len());
    for route in &guarded {
        let path = concrete(route.path);
        let admin_only = route.path.starts_with("/admin");
        let request = |client: &reqwest::Client| {
            let app = &app;
            let client = client.clone();
            let path = path.clone();
            let method = route.method;
            async move {
                if method == "GET" {
                    client.get(app.url(&path)).send().await.unwrap()
                } else {
                    app.post_form(&client, &path, &[("reason", "because"), ("role", "admin"), ("duration", "1d")]).await
                }
            }
        };
        let as_reader = request(&ann).await;
        assert_eq!(as_reader.status(), StatusCode::FORBIDDEN, "reader: {} {}", route.method, route.path);
        assert!(as_reader.text().await.unwrap().contains("Only"), "reader: {} {}", route.method, route.path);
        if route.method == "GET" {
            let anonymous = app.get(&path).await;
            assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "anonymous: {}", route.path);
            assert!(location(&anonymous).starts_with("/login"));
        }
        let as_moderator = request(&moderator).await;
        let status = as_moderator.status();
        let body = as_moderator.text().await.unwrap();
        if admin_only {
            assert_eq!(status, StatusCode::FORBIDDEN, "moderator: {} {}", route.method, route.path);
            assert!(body.contains("Only administrators"), "moderator: {} {}", route.method, route.path);
        } else {
            // Moderators pass the role check (an action may still not apply to its target).
            assert!(!body.contains("Only moderators"), "moderator: {} {}", route.method, route.path);
        }
        if route.method == "GET" {
            let as_admin = request(&admin).await;
            assert_eq!(as_admin.status(), StatusCode::OK, "admin: {}", route.path);
        }
    }
    // The readers' and the moderator's attempts at administrators' actions changed nothing.
    let log = log_actions(&app).await;
    let admin_only =
        ["change role", "create article", "edit article", "delete article", "import articles", "change settings"];
    assert!(log.iter().all(|(action, _, _)| !admin_only.contains(&action.as_str())), "{log:?}");
}

async fn readers_report_comments_once(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let id = app.comment(&ann, SEED_SLUG, "Buy cheap watches", None).await;
    let page = Page::parse(&app.page_as(&bob, &format!("/articles/{SEED_SLUG}")).await.1);
    assert_eq!(page.attr(&format!("#comment-{id} .report-link"), "href"), format!("/comments/{id}/report"));
    assert_eq!(Page::parse(&app.page_as(&ann, &format!("/articles/{SEED_SLUG}")).await.1).count(".report-link"), 0);
    let form = Page::parse(&app.page_as(&bob, &format!("/comments/{id}/report")).await.1);
    assert_eq!(form.count("input[name=reason]"), 5);

    let path = format!("/comments/{id}/report");
    let r = app.post_form(&bob, &path, &[("reason", "spam")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(Page::parse(&app.page_as(&bob, &location(&r)).await.1).text(".notice").contains("Thank you"));
    assert_eq!(app.post_form(&bob, &path, &[("reason", "harassment")]).await.status(), StatusCode::SEE_OTHER);
    let count: i64 = app.with_conn(|c| reports::table.count().get_result(c).unwrap()).await;
    assert_eq!(count, 1, "a second report by the same reader is a no-op");
    assert_eq!(app.post_form(&ann, &path, &[("reason", "spam")]).await.status(), StatusCode::FORBIDDEN, "not your own");
    for (reason, details) in [("nonsense", ""), ("other", ""), ("other", &"x".repeat(501)[..])] {
        let r = app.post_form(&bob, &path, &[("reason", reason), ("details", details)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{reason}");
    }
    assert_eq!(
        app.post_form(&bob, "/comments/999999/report", &[("reason", "spam")]).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.page("/comments/1/report").await.0, StatusCode::SEE_OTHER, "log in first");
}

async fn moderators_see_reports_and_dismiss_them(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let cyd = app.signup("cyd").await;
    let mo = app.signup_as("moe", "moderator").await;
    let first = app.comment(&ann, SEED_SLUG, "First reported", None).await;
    let second = app.comment(&ann, SEED_SLUG, "Second reported", None).await;
    app.post_form(&bob, &format!("/comments/{first}/report"), &[("reason", "spam")]).await;
    app.post_form(
        &cyd,
        &format!("/comments/{first}/report"),
        &[("reason", "other"), ("details", "Looks like an advert")],
    )
    .await;
    app.post_form(&bob, &format!("/comments/{second}/report"), &[("reason", "off-topic")]).await;

    let page = Page::parse(&app.page_as(&mo, "/mod/reports").await.1);
    assert_eq!(page.count(".report-group"), 2);
    let groups = page.attrs(".report-group", "id");
    assert_eq!(groups, [format!("report-{first}"), format!("report-{second}")], "oldest first");
    assert_eq!(page.text(&format!("#report-{first} h2")).split(' ').next().unwrap(), "2");
    assert_eq!(page.texts(&format!("#report-{first} .reasons li")), ["spam", "other: Looks like an advert"]);
    assert_eq!(page.text(&format!("#report-{first} .comment-body")), "First reported");

    let r = app.post_form(&mo, &format!("/mod/reports/{second}/dismiss"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(Page::parse(&app.page_as(&mo, "/mod/reports").await.1).count(".report-group"), 1);
    assert_eq!(
        app.post_form(&mo, &format!("/mod/reports/{second}/dismiss"), &[]).await.status(),
        StatusCode::BAD_REQUEST
    );
    let log = log_actions(&app).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].0, "dismiss reports");
    assert!(log[0].1.starts_with(&format!("comment #{second} by ann")));
}

async fn removed_comments_are_unreachable_everywhere(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mo = app.signup_as("moe", "moderator").await;
    let parent = app.comment(&bob, SEED_SLUG, "Bob starts", None).await;
    let secret = "SECRETWORD nasty text";
    let id = app.comment(&ann, SEED_SLUG, secret, Some(parent)).await;
    let r = app.post_form(&mo, &format!("/mod/comments/{id}/remove"), &[("reason", "Rule 2: be kind")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.post_form(&mo, &format!("/mod/comments/{id}/remove"), &[("reason", "again")]).await.status(),
        StatusCode::BAD_REQUEST
    );

    let article = format!("/articles/{SEED_SLUG}");
    let page = Page::parse(&app.page_as(&bob, &article).await.1);
    assert_eq!(page.text(&format!("#comment-{id} .comment-body")), "[removed by a moderator]");
    assert_eq!(page.text("#comments-heading"), "Comments (1)");
    // The author sees why.
    let own = Page::parse(&app.page_as(&ann, &article).await.1);
    assert!(own.text(&format!("#comment-{id} .removed-reason")).contains("Rule 2: be kind"));
    let surfaces = [
        article.clone(),
        format!("/comments/{id}"),
        format!("/comments/{parent}"),
        format!("/comments/{id}/fragment"),
        format!("/articles/{SEED_SLUG}/comments.atom"),
        "/users/ann/comments.atom".to_owned(),
        "/users/ann".to_owned(),
        "/search?q=SECRETWORD".to_owned(),
        "/inbox".to_owned(),
        "/modlog".to_owned(),
        "/feed.atom".to_owned(),
    ];
    for path in &surfaces {
        for client in [&bob, &ann, &app.client] {
            let (_, body) = app.page_as(client, path).await;
            assert!(!body.contains("nasty text"), "{path} shows the removed text");
        }
    }
    let export = ann.get(app.url("/settings/export")).send().await.unwrap().text().await.unwrap();
    assert!(!export.contains("nasty text"));
    assert_eq!(
        app.page_as(&bob, &format!("/comments/{id}/report")).await.0,
        StatusCode::NOT_FOUND,
        "nor the report page"
    );

    let log = log_actions(&app).await;
    assert_eq!(log[0].0, "remove comment");
    assert_eq!(log[0].2.as_deref(), Some("Rule 2: be kind"));
    // Restored, it is back.
    assert_eq!(app.post_form(&mo, &format!("/mod/comments/{id}/restore"), &[]).await.status(), StatusCode::SEE_OTHER);
    let page = Page::parse(&app.page_as(&bob, &article).await.1);
    assert_eq!(page.text(&format!("#comment-{id} .comment-body")), secret);
    assert_eq!(page.text("#comments-heading"), "Comments (2)");
    assert_eq!(log_actions(&app).await[1].0, "restore comment");
    assert_eq!(app.post_form(&mo, &format!("/mod/comments/{id}/restore"), &[]).await.status(), StatusCode::BAD_REQUEST);
}

async fn remove_and_ban_from_the_reports(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mo = app.signup_as("moe", "moderator").await;
    let id = app.comment(&ann, SEED_SLUG, "Spam spam", None).await;
    app.post_form(&bob, &format!("/comments/{id}/report"), &[("reason", "spam")]).await;
    let r = app
        .post_form(
            &mo,
            &format!("/mod/comments/{id}/remove"),
            &[("reason", "Spam"), ("duration", "7d"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(Page::parse(&app.page_as(&mo, "/mod/reports").await.1).count(".report-group"), 0, "reports resolved");
    let actions: Vec<String> = log_actions(&app).await.into_iter().map(|(a, _, _)| a).collect();
    assert_eq!(actions, ["remove comment", "ban user"]);
    let banned: Option<time::PrimitiveDateTime> = app
        .with_conn(|c| users::table.filter(users::username.eq("ann")).select(users::banned_until).first(c).unwrap())
        .await;
    let days = (banned.unwrap() - afterword::db::now()).whole_days();
    assert!((6..=7).contains(&days), "{days}");
    // Her sessions ended.
    assert_eq!(app.page_as(&ann, "/settings").await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        app.post_form(&mo, &format!("/mod/comments/{id}/remove"), &[("reason", "x"), ("duration", "forever")])
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    // A moderator cannot remove-and-ban an administrator; nothing happens then.
    let admin = app.signup_as("adam", "admin").await;
    let official = app.comment(&admin, SEED_SLUG, "Admin speaking", None).await;
    let r = app
        .post_form(
            &mo,
            &format!("/mod/comments/{official}/remove"),
            &[("reason", "x"), ("duration", "1d"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let status: String =
        app.with_conn(move |c| comments::table.find(official).select(comments::status).first(c).unwrap()).await;
    assert_eq!(status, "visible", "the removal was undone with the refused ban");
    assert_eq!(log_actions(&app).await.len(), 2);
}

async fn banned_readers_can_read_but_not_write(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let bob = app.signup("bob").await;
    let target = app.comment(&bob, SEED_SLUG, "Bob's comment", None).await;
    let ann = app.signup("ann").await;
    let mine = app.comment(&ann, SEED_SLUG, "Ann's comment", None).await;
    let mo = app.signup_as("moe", "moderator").await;
    let r = app.post_form(&mo, "/mod/users/ann/ban", &[("reason", "Trolling"), ("duration", "permanent")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let live: i64 = app
        .with_conn(|c| {
            sessions::table.inner_join(users::table).filter(users::username.eq("ann")).count().get_result(c).unwrap()
        })
        .await;
    assert_eq!(live, 0, "her sessions ended");
    assert_eq!(app.page_as(&ann, "/settings").await.0, StatusCode::SEE_OTHER);

    // She can log in, and is told.
    let (ann, response) = app.login("ann", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = Page::parse(&app.page_as(&ann, "/").await.1);
    assert!(page.text(".ban-notice").contains("banned permanently: Trolling"));
    // The article offers her nothing she may not do: no comment form, no reply, vote,
    // report, edit or delete buttons (the same rules that refuse them); Bob, still.
    let article = Page::parse(&app.page_as(&ann, &format!("/articles/{SEED_SLUG}")).await.1);
    assert!(article.text("#comments .notice.banned").contains("banned permanently: Trolling"));
    for control in
        ["#comments form textarea", "button.vote", ".reply-link", ".report-link", ".edit-link", "button.delete"]
    {
        assert_eq!(article.count(control), 0, "{control} shown to a banned reader");
    }
    assert_eq!(article.count(".comment"), 2, "she still reads the thread");
    let bobs = Page::parse(&app.page_as(&bob, &format!("/articles/{SEED_SLUG}")).await.1);
    assert_eq!(bobs.count("#comments form textarea"), 1);
    assert_eq!(bobs.count("button.vote"), 2, "Bob votes on Ann's comment");
    assert_eq!(bobs.count(".reply-link"), 2);
    assert_eq!(bobs.count("button.delete"), 1, "his own");
    // Every write but logging out and her settings is refused.
    let before: i64 = app.with_conn(|c| comments::table.count().get_result(c).unwrap()).await;
    for route in ROUTES.iter().filter(|r| r.method != "GET") {
        let allowed = [
            "/logout",
            "/settings/email",
            "/settings/password",
            "/settings/sessions",
            "/settings/verify-email",
            "/settings/delete",
            "/settings/digest",
            // The digests' unsubscribe link works for anyone with its token.
            "/digest/unsubscribe/{token}",
        ];
        if allowed.contains(&route.path) {
            continue;
        }
        let path = concrete(route.path).replace("/comments/1", &format!("/comments/{target}"));
        let r = app
            .post_form(&ann, &path, &[("body", "still here"), ("value", "1"), ("reason", "spam"), ("action", "save")])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{}", route.path);
        assert!(r.text().await.unwrap().contains("banned"), "{}", route.path);
    }
    let _ = mine;
    assert_eq!(app.with_conn(|c| comments::table.count().get_result::<i64>(c).unwrap()).await, before);
    // Unbanned, she can comment again.
    assert_eq!(app.post_form(&mo, "/mod/users/ann/unban", &[]).await.status(), StatusCode::SEE_OTHER);
    app.comment(&ann, SEED_SLUG, "I'm back", None).await;
    let actions: Vec<String> = log_actions(&app).await.into_iter().map(|(a, _, _)| a).collect();
    assert_eq!(actions, ["ban user", "unban user"]);
    assert_eq!(app.post_form(&mo, "/mod/users/ann/unban", &[]).await.status(), StatusCode::BAD_REQUEST);
    // Bad bans are refused.
    for (duration, reason) in [("2d", "x"), ("1d", "")] {
        let r = app.post_form(&mo, "/mod/users/ann/ban", &[("reason", reason), ("duration", duration)]).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{duration} {reason}");
    }
    assert_eq!(
        app.post_form(&mo, "/mod/users/moe/ban", &[("reason", "x"), ("duration", "1d")]).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.post_form(&mo, "/mod/users/nobody/ban", &[("reason", "x"), ("duration", "1d")]).await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn locked_articles_say_why(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let before = app.comment(&ann, SEED_SLUG, "before the lock", None).await;
    let mo = app.signup_as("moe", "moderator").await;
    let lock = format!("/mod/articles/{SEED_SLUG}/lock");
    assert_eq!(
        app.post_form(&mo, &lock, &[("reason", "")]).await.status(),
        StatusCode::BAD_REQUEST,
        "a reason is needed"
    );
    assert_eq!(app.post_form(&mo, &lock, &[("reason", "Too heated.")]).await.status(), StatusCode::SEE_OTHER);
    let page = Page::parse(&app.page_as(&ann, &format!("/articles/{SEED_SLUG}")).await.1);
    assert_eq!(page.text(".locked"), "Comments on this article are closed. Too heated.");
    let refused = app.post_form(&ann, &format!("/articles/{SEED_SLUG}/comments"), &[("body", "hello")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // Nobody is offered a reply, readers nor visitors (whose link would lead through
    // the login form to a refusal).
    for client in [&ann, &app.new_client()] {
        let page = Page::parse(&app.page_as(client, &format!("/articles/{SEED_SLUG}")).await.1);
        assert_eq!(page.count(&format!("#comment-{before} .reply-link")), 0);
    }
    assert_eq!(app.post_form(&mo, &lock, &[("reason", "again")]).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        app.post_form(&mo, &format!("/mod/articles/{SEED_SLUG}/unlock"), &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    app.comment(&ann, SEED_SLUG, "open again", None).await;
    let page = Page::parse(&app.page_as(&app.new_client(), &format!("/articles/{SEED_SLUG}")).await.1);
    assert_eq!(page.count(&format!("#comment-{before} .reply-link")), 1, "visitors see Reply on open threads");
    let log = log_actions(&app).await;
    assert_eq!(log.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(), ["lock article", "unlock article"]);
    assert_eq!(log[0].2.as_deref(), Some("Too heated."));
    assert!(log[0].1.starts_with("Meta (again)"));
}

async fn pinned_and_distinguished_comments(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mo = app.signup_as("moe", "moderator").await;
    let old = app.comment(&ann, SEED_SLUG, "old", None).await;
    let new = app.comment(&ann, SEED_SLUG, "new", None).await;
    let reply = app.comment(&ann, SEED_SLUG, "a reply", Some(new)).await;
    assert_eq!(app.post_form(&mo, &format!("/mod/comments/{old}/pin"), &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.post_form(&mo, &format!("/mod/comments/{reply}/pin"), &[]).await.status(), StatusCode::BAD_REQUEST);
    let order = Page::parse(&app.page(&format!("/articles/{SEED_SLUG}?sort=new")).await.1)
        .texts(".comment-tree > .comment > details > .comment-body");
    assert_eq!(order, ["old", "new"], "the pinned comment leads");
    // Pinning another unpins the first.
    app.post_form(&mo, &format!("/mod/comments/{new}/pin"), &[]).await;
    let page = Page::parse(&app.page(&format!("/articles/{SEED_SLUG}?sort=old")).await.1);
    assert_eq!(page.texts(".comment-tree > .comment > details > .comment-body"), ["new", "old"]);
    assert_eq!(page.count(".pinned"), 1);
    app.post_form(&mo, &format!("/mod/comments/{new}/unpin"), &[]).await;

    let official = app.comment(&mo, SEED_SLUG, "Please keep it civil.", None).await;
    assert_eq!(
        app.post_form(&mo, &format!("/mod/comments/{official}/distinguish"), &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let page = Page::parse(&app.page(&format!("/articles/{SEED_SLUG}")).await.1);
    assert_eq!(page.text(&format!("#comment-{official} .badge.moderator")), "moderator");
    assert_eq!(
        app.post_form(&mo, &format!("/mod/comments/{old}/distinguish"), &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    let actions: Vec<String> = log_actions(&app).await.into_iter().map(|(a, _, _)| a).collect();
    assert_eq!(actions, ["pin comment", "pin comment", "unpin comment", "distinguish comment"]);
}

async fn set_premoderation(app: &TestApp, admin: &reqwest::Client, mode: &str, count: &str) {
    let r = app.post_form(admin, "/admin/settings/premoderation", &[("mode", mode), ("count", count)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn pre_moderation_of_new_accounts_and_everyone(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let admin = app.signup_as("adam", "admin").await;
    let mo = app.signup_as("moe", "moderator").await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let article = format!("/articles/{SEED_SLUG}");
    // Bob saved the article: he is told of a held thread once it is approved, not before.
    let r = app.post_form(&bob, &format!("{article}/save"), &[("action", "save"), ("return_to", &article)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let told = |comment: i64| {
        app.with_conn(move |conn| {
            use afterword::db::schema::notifications;
            notifications::table
                .filter(notifications::comment_id.eq(comment))
                .filter(notifications::kind.eq("saved_article"))
                .count()
                .get_result::<i64>(conn)
                .unwrap()
        })
    };
    set_premoderation(&app, &admin, "new", "1").await;
    assert_eq!(
        app.post_form(&admin, "/admin/settings/premoderation", &[("mode", "new"), ("count", "0")]).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.post_form(&admin, "/admin/settings/premoderation", &[("mode", "sometimes")]).await.status(),
        StatusCode::BAD_REQUEST
    );

    let r = app.post_form(&ann, &format!("{article}/comments"), &[("body", "My first words")]).await;
    let held: i64 = location(&r).rsplit('-').next().unwrap().parse().unwrap();
    assert!(location(&r).starts_with(&format!("/comments/{held}")));
    let others = Page::parse(&app.page_as(&bob, &article).await.1);
    assert_eq!(others.count(&format!("#comment-{held}")), 0, "held comments are hidden");
    assert_eq!(others.text("#comments-heading"), "Comments (0)");
    assert_eq!(app.page_as(&bob, &format!("/comments/{held}")).await.0, StatusCode::NOT_FOUND);
    let own = Page::parse(&app.page_as(&ann, &article).await.1);
    assert_eq!(own.text(&format!("#comment-{held} .held")), "awaiting approval");
    let queue = Page::parse(&app.page_as(&mo, "/mod/queue").await.1);
    assert_eq!(queue.attrs(".queue-item", "id"), [format!("held-{held}")]);
    assert_eq!(told(held).await, 0, "a held thread tells no saver");

    assert_eq!(app.post_form(&mo, &format!("/mod/comments/{held}/approve"), &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(told(held).await, 1, "approved, it tells its article's saver once");
    let page = Page::parse(&app.page_as(&bob, &article).await.1);
    assert_eq!(page.text(&format!("#comment-{held} .comment-body")), "My first words");
    assert_eq!(page.text("#comments-heading"), "Comments (1)");
    // Her next comment is not held any more.
    let next = app.comment(&ann, SEED_SLUG, "Second words", None).await;
    assert_eq!(Page::parse(&app.page_as(&bob, &article).await.1).count(&format!("#comment-{next} .held")), 0);

    // Everyone: even established readers wait; moderators do not.
    set_premoderation(&app, &admin, "all", "3").await;
    let r = app.post_form(&ann, &format!("{article}/comments"), &[("body", "Held again")]).await;
    let rejected: i64 = location(&r).rsplit('-').next().unwrap().parse().unwrap();
    app.comment(&mo, SEED_SLUG, "Moderators are not held", None).await;
    assert_eq!(Page::parse(&app.page_as(&mo, "/mod/queue").await.1).count(".queue-item"), 1);
    assert_eq!(
        app.post_form(&mo, &format!("/mod/comments/{rejected}/reject"), &[("confirm", "yes")]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post_form(&mo, &format!("/mod/comments/{rejected}/approve"), &[]).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(Page::parse(&app.page_as(&bob, &article).await.1).count(&format!("#comment-{rejected}")), 0);
    assert_eq!(
        Page::parse(&app.page_as(&ann, &article).await.1).text(&format!("#comment-{rejected} .held")),
        "not approved"
    );
    set_premoderation(&app, &admin, "off", "3").await;
    app.comment(&bob, SEED_SLUG, "Free again", None).await;
    assert_eq!(Page::parse(&app.page_as(&mo, "/mod/queue").await.1).count(".queue-item"), 0);
    let actions: Vec<String> = log_actions(&app).await.into_iter().map(|(a, _, _)| a).collect();
    assert_eq!(actions, ["change settings", "approve comment", "change settings", "reject comment", "change settings"]);
}

async fn the_word_list_holds_comments(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let admin = app.signup_as("adam", "admin").await;
    let ann = app.signup("ann").await;
    let r = app.post_form(&admin, "/admin/settings/words", &[("words", "casino\nfree money\nspam*\n")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let settings = Page::parse(&app.page_as(&admin, "/admin/settings").await.1);
    assert_eq!(settings.text("textarea[name=words]"), "casino free money spam*");
    for (body, held) in [
        ("Visit my CASINO today", true),
        ("Get Free  Money now", false),
        ("Get free money now", true),
        ("such spammy links", true),
        ("occasionally fine", false),
        ("Nothing to see here", false),
    ] {
        let r = app.post_form(&ann, &format!("/articles/{SEED_SLUG}/comments"), &[("body", body)]).await;
        let id: i64 = location(&r).rsplit('-').next().unwrap().parse().unwrap();
        let status: String =
            app.with_conn(move |c| comments::table.find(id).select(comments::status).first(c).unwrap()).await;
        assert_eq!(status == "pending", held, "{body}");
    }
    // Editing a published comment into a listed word holds it again.
    let id = app.comment(&ann, SEED_SLUG, "Innocent words", None).await;
    let r = app.post_form(&ann, &format!("/comments/{id}/edit"), &[("body", "Now with casino links")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let status: String =
        app.with_conn(move |c| comments::table.find(id).select(comments::status).first(c).unwrap()).await;
    assert_eq!(status, "pending");
    let page = Page::parse(&app.page(&format!("/articles/{SEED_SLUG}")).await.1);
    assert_eq!(page.count(&format!("#comment-{id}")), 0);
}

async fn the_moderation_log_is_public_and_filterable(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let mo = app.signup_as("moe", "moderator").await;
    let other = app.signup_as("other_mod", "moderator").await;
    let id = app.comment(&ann, SEED_SLUG, "Text that must not appear in the log", None).await;
    app.post_form(&mo, &format!("/mod/comments/{id}/remove"), &[("reason", "Off-topic")]).await;
    app.post_form(&other, &format!("/mod/articles/{SEED_SLUG}/lock"), &[("reason", "Closed for the night")]).await;

    let (status, body) = app.page("/modlog").await;
    assert_eq!(status, StatusCode::OK, "public");
    assert!(!body.contains("must not appear"));
    let page = Page::parse(&body);
    assert_eq!(page.texts(".modlog td.action"), ["lock article", "remove comment"], "newest first");
    let by_mo = Page::parse(&app.page("/modlog?moderator=MOE").await.1);
    assert_eq!(by_mo.texts(".modlog td.action"), ["remove comment"]);
    let locks = Page::parse(&app.page("/modlog?action=lock+article").await.1);
    assert_eq!(locks.texts(".modlog td.action"), ["lock article"]);
    assert!(locks.text(".modlog tbody tr").contains("Closed for the night"));
    assert_eq!(app.page("/modlog?page=0").await.0, StatusCode::BAD_REQUEST);
}

async fn administrators_manage_articles(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let admin = app.signup_as("adam", "admin").await;
    let ann = app.signup("ann").await;
    let fields = |title: &str, date: &str| {
        vec![
            ("title".to_owned(), title.to_owned()),
            ("source_url".to_owned(), "https://example.com/new".to_owned()),
            ("source_name".to_owned(), "example.com".to_owned()),
            ("published_at".to_owned(), date.to_owned()),
            ("summary".to_owned(), "First paragraph.\r\n\r\nSecond paragraph.".to_owned()),
            ("takeaways".to_owned(), "One\nTwo\n".to_owned()),
            ("tags".to_owned(), "news, Local".to_owned()),
        ]
    };
    let post = |path: &str, f: Vec<(String, String)>| {
        let app = &app;
        let admin = &admin;
        let path = path.to_owned();
        async move {
            let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            app.post_form(admin, &path, &refs).await
        }
    };
    let bad = post("/admin/articles", fields("A new article", "2024-13-01")).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        Page::parse(&bad.text().await.unwrap()).text("#a-date-error"),
        "Enter the date as YYYY-MM-DD, like 2024-04-02."
    );
    let created = post("/admin/articles", fields("A new article", "2024-05-01")).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&created), "/articles/a-new-article");
    let page = Page::parse(&app.page("/articles/a-new-article").await.1);
    assert_eq!(page.texts(".summary p"), ["First paragraph.", "Second paragraph."]);
    assert_eq!(page.texts(".takeaways .takeaway-text"), ["One", "Two"]);
    assert_eq!(page.texts(".tags li"), ["local", "news"]);
    assert_eq!(
        post("/admin/articles", fields("A new article", "2024-05-01")).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "twice"
    );

    let edit = Page::parse(&app.page_as(&admin, "/admin/articles/a-new-article/edit").await.1);
    assert_eq!(edit.attr("#a-title", "value"), "A new article");
    let edited = post("/admin/articles/a-new-article/edit", fields("A renamed article", "2024-05-02")).await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        Page::parse(&app.page("/articles/a-new-article").await.1).text("main h1"),
        "A renamed article",
        "slug kept"
    );

    let id = app.comment(&ann, "a-new-article", "A comment that goes with it", None).await;
    app.post_form(&ann, "/articles/a-new-article/save", &[("action", "save")]).await;
    assert_eq!(
        app.post_form(&admin, "/admin/articles/a-new-article/delete", &[("confirm", "yes")]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.page("/articles/a-new-article").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.page(&format!("/comments/{id}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post_form(&admin, "/admin/articles/a-new-article/delete", &[]).await.status(),
        StatusCode::NOT_FOUND
    );

    // Import: the same validation and all-or-nothing rule as the command line.
    let bad_json = r#"[{"title":"Ok","source_url":"https://example.com/ok","source_name":"e","published_at":"2024-01-01","summary":["s"],"key_takeaways":[]},{"title":""}]"#;
    let upload = |json: String, with_token: bool| {
        let app = &app;
        let admin = &admin;
        async move {
            let token = app.csrf_token(admin).await;
            // The page's form: the token in a field before the file, none in the URL.
            let page = Page::parse(&app.page_as(admin, "/admin/articles").await.1);
            let action = page.attr("form[enctype='multipart/form-data']", "action");
            assert_eq!(action, "/admin/articles/import");
            let field = page.attr("form[enctype='multipart/form-data'] input[name='csrf_token']", "value");
            assert_eq!(field, token);
            let part = reqwest::multipart::Part::bytes(json.into_bytes()).file_name("articles.json");
            let mut form = reqwest::multipart::Form::new();
            if with_token {
                form = form.text("csrf_token", token);
            }
            let form = form.part("file", part);
            let url = app.url(&action);
            admin.post(url).multipart(form).send().await.unwrap()
        }
    };
    let r = upload(bad_json.to_owned(), true).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("index 1"));
    assert_eq!(app.page("/articles/ok").await.0, StatusCode::NOT_FOUND, "nothing imported");
    let good = format!("{}]", &bad_json[..bad_json.find(",{\"title\":\"\"}").unwrap()]);
    assert_eq!(upload(good.clone(), false).await.status(), StatusCode::FORBIDDEN, "the token is required");
    let token = app.csrf_token(&admin).await;
    let part = reqwest::multipart::Part::bytes(good.clone().into_bytes()).file_name("articles.json");
    let in_url = admin
        .post(app.url(&format!("/admin/articles/import?csrf_token={token}")))
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_eq!(in_url.status(), StatusCode::FORBIDDEN, "a token in the URL is not accepted");
    let r = upload(good, true).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let notice = Page::parse(&app.page_as(&admin, &location(&r)).await.1).text(".notice");
    assert_eq!(notice, "Imported: 1 created, 0 updated, 0 unchanged.");
    assert_eq!(app.page("/articles/ok").await.0, StatusCode::OK);

    let actions: Vec<String> = log_actions(&app).await.into_iter().map(|(a, _, _)| a).collect();
    assert_eq!(actions, ["create article", "edit article", "delete article", "import articles"]);
}

async fn administrators_manage_users_and_see_the_dashboard(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let admin = app.signup_as("adam", "admin").await;
    let ann = app.signup("ann").await;
    app.signup("annabel").await;
    app.signup("bob").await;
    let id = app.comment(&ann, SEED_SLUG, "hello", None).await;
    let bob = app.login("bob", PASSWORD).await.0;
    app.post_form(&bob, &format!("/comments/{id}/report"), &[("reason", "spam")]).await;

    let dash = Page::parse(&app.page_as(&admin, "/admin").await.1);
    assert_eq!(dash.text(".stat-users"), "4");
    assert_eq!(dash.text(".stat-articles"), "1");
    assert_eq!(dash.text(".stat-today"), "1");
    assert_eq!(dash.text(".stat-reports"), "1");
    assert_eq!(dash.texts(".signups a")[0], "bob");

    let found = Page::parse(&app.page_as(&admin, "/admin/users?q=ANN").await.1);
    assert_eq!(found.texts(".users td:first-child"), ["annabel", "ann"]);
    let by_email = Page::parse(&app.page_as(&admin, "/admin/users?q=bob%40example").await.1);
    assert_eq!(by_email.texts(".users td:first-child"), ["bob"]);
    assert_eq!(
        Page::parse(&app.page_as(&admin, "/admin/users?q=%25").await.1).count(".users tbody tr"),
        0,
        "% is literal"
    );

    let user = Page::parse(&app.page_as(&admin, "/mod/users/ann").await.1);
    assert_eq!(user.text(".role"), "reader");
    assert_eq!(user.count("form[action='/admin/users/ann/role']"), 1);
    let r = app.post_form(&admin, "/admin/users/ann/role", &[("role", "moderator")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.page_as(&ann, "/mod/reports").await.0, StatusCode::OK, "ann moderates now");
    assert_eq!(
        app.post_form(&admin, "/admin/users/ann/role", &[("role", "king")]).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.post_form(&admin, "/admin/users/adam/role", &[("role", "reader")]).await.status(),
        StatusCode::BAD_REQUEST
    );
    // A moderator cannot ban another moderator.
    let r = app.post_form(&ann, "/mod/users/adam/ban", &[("reason", "x"), ("duration", "1d")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let log = log_actions(&app).await;
    assert_eq!(log, [("change role".to_owned(), "ann".to_owned(), Some("moderator".to_owned()))]);
}

async fn a_removed_comment_survives_its_authors_delete(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let mo = app.signup_as("moe", "moderator").await;
    let id = app.comment(&ann, SEED_SLUG, "Something a moderator will remove", None).await;
    let r = app.post_form(&bob, &format!("/comments/{id}/report"), &[("reason", "spam")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.post_form(&mo, &format!("/mod/comments/{id}/remove"), &[("reason", "Spam")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // The author tries to erase it: refused with the reason, and nothing changes.
    let r = app.post_form(&ann, &format!("/comments/{id}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("kept for the moderators"));
    let (status, source, reported): (String, String, i64) = app
        .with_conn(move |c| {
            let (status, source) =
                comments::table.find(id).select((comments::status, comments::body_source)).first(c).unwrap();
            (status, source, reports::table.filter(reports::comment_id.eq(id)).count().get_result(c).unwrap())
        })
        .await;
    assert_eq!((status.as_str(), source.as_str(), reported), ("removed", "Something a moderator will remove", 1));
    let (code, page) = app.page_as(&mo, &format!("/mod/comments/{id}")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(page.contains("Something a moderator will remove"), "moderators still see it");
    let (_, article) = app.page_as(&ann, &format!("/articles/{SEED_SLUG}")).await;
    assert!(!article.contains("Something a moderator will remove"), "nobody else does");
}

/// A ban takes a moderator's moderation away with the rest: the same rule
/// (`may_moderate`) answers the pages, the actions and the header's link.
async fn a_banned_moderator_does_not_moderate(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let admin = app.signup_as("adam", "admin").await;
    let mo = app.signup_as("moe", "moderator").await;
    assert_eq!(app.page_as(&mo, "/mod/reports").await.0, StatusCode::OK);
    let r = app.post_form(&admin, "/mod/users/moe/ban", &[("reason", "Abuse of tools"), ("duration", "7d")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (mo, _) = app.login("moe", PASSWORD).await;
    for page in ["/mod/reports", "/mod/queue", "/mod/users/adam"] {
        assert_eq!(app.page_as(&mo, page).await.0, StatusCode::FORBIDDEN, "{page}");
    }
    let front = Page::parse(&app.page_as(&mo, "/").await.1);
    assert_eq!(front.count("header a[href='/mod/reports']"), 0, "no Moderation link");
    // Unbanned, a moderator again.
    assert_eq!(app.post_form(&admin, "/mod/users/moe/unban", &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.page_as(&mo, "/mod/reports").await.0, StatusCode::OK);
    let front = Page::parse(&app.page_as(&mo, "/").await.1);
    assert_eq!(front.count("header a[href='/mod/reports']"), 1);
}
