//! Saving articles, profiles, Atom feeds and search.

use afterword::db::schema::{comments, saved_articles};
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{generated_articles, Backend, TestApp, SEED_SLUG};

both_backends!(
    save_and_unsave_are_idempotent,
    saved_lists_are_private,
    anonymous_save_logs_in_and_comes_back_saved,
    saved_lists_count_new_comments,
    saved_articles_notify_of_new_threads,
    profiles_show_name_karma_and_comments,
    profile_settings_are_sanitised_and_limited,
    feeds_are_valid_atom_with_the_right_entries,
    search_finds_articles_and_comments,
    search_escapes_ranks_and_hides_deleted_comments,
    search_follows_edited_and_deleted_articles,
    bad_searches_get_a_clear_message,
);

async fn save(app: &TestApp, client: &reqwest::Client, slug: &str, action: &str) -> reqwest::Response {
    app.post_form(
        client,
        &format!("/articles/{slug}/save"),
        &[("action", action), ("return_to", &format!("/articles/{slug}"))],
    )
    .await
}

async fn saved_titles(app: &TestApp, client: &reqwest::Client) -> Vec<String> {
    Page::parse(&app.page_as(client, "/saved").await.1).texts(".article-card h2")
}

async fn saved_rows(app: &TestApp) -> i64 {
    app.with_conn(|c| saved_articles::table.count().get_result(c).unwrap()).await
}

async fn save_and_unsave_are_idempotent(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let page = Page::parse(&app.page_as(&ann, &format!("/articles/{SEED_SLUG}")).await.1);
    assert_eq!(page.text(".source-link .save-button"), "☆ Save");

    let response = save(&app, &ann, SEED_SLUG, "save").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], format!("/articles/{SEED_SLUG}"));
    assert_eq!(save(&app, &ann, SEED_SLUG, "save").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(saved_rows(&app).await, 1, "saving twice keeps one");
    let page = Page::parse(&app.page_as(&ann, &format!("/articles/{SEED_SLUG}")).await.1);
    assert_eq!(page.text(".source-link .save-button"), "★ Saved");
    assert_eq!(page.attr(".source-link .save-button", "aria-pressed"), "true");
    assert_eq!(Page::parse(&app.page_as(&ann, "/").await.1).text(".article-card .save-button"), "★ Saved");
    assert_eq!(saved_titles(&app, &ann).await.len(), 1);

    // Scripts get JSON.
    let token = app.csrf_token(&ann).await;
    let json: serde_json::Value = ann
        .post(app.url(&format!("/articles/{SEED_SLUG}/save")))
        .header("accept", "application/json")
        .form(&[("action", "unsave"), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json, serde_json::json!({ "saved": false }));
    assert_eq!(save(&app, &ann, SEED_SLUG, "unsave").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(saved_rows(&app).await, 0);
    assert!(saved_titles(&app, &ann).await.is_empty());
    assert_eq!(save(&app, &ann, "no-such-article", "save").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(save(&app, &ann, SEED_SLUG, "steal").await.status(), StatusCode::BAD_REQUEST);
}

async fn saved_lists_are_private(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().with_articles(generated_articles(2)).start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    save(&app, &ann, SEED_SLUG, "save").await;
    assert!(saved_titles(&app, &bob).await.is_empty(), "bob sees only his own");
    // Bob unsaving the same article changes only his list.
    save(&app, &bob, SEED_SLUG, "unsave").await;
    assert_eq!(saved_titles(&app, &ann).await.len(), 1);
    assert_eq!(app.page("/saved").await.0, StatusCode::SEE_OTHER, "anonymous: log in first");
    let profile = Page::parse(&app.page_as(&bob, "/users/ann").await.1);
    assert_eq!(profile.count(".profile a[href='/saved']"), 0, "another's profile does not link to a saved list");
    // Most recently saved first.
    save(&app, &ann, "generated-article-number-1", "save").await;
    assert_eq!(saved_titles(&app, &ann).await[0], "Generated article number 1");
}

async fn anonymous_save_logs_in_and_comes_back_saved(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    app.signup("ann").await;
    let reader = app.new_client();
    let page = Page::parse(&app.page_as(&reader, &format!("/articles/{SEED_SLUG}")).await.1);
    let href = page.attr(".source-link a.save-button", "href");
    assert_eq!(href, format!("/login?next=%2Farticles%2F{SEED_SLUG}&save={SEED_SLUG}"));
    let login = Page::parse(&app.page_as(&reader, &href).await.1);
    assert_eq!(login.attr("form[action='/login'] input[name=save]", "value"), SEED_SLUG);
    assert_eq!(login.attr("form[action='/login'] input[name=next]", "value"), format!("/articles/{SEED_SLUG}"));
    let response = app
        .post_form(
            &reader,
            "/login",
            &[
                ("login", "ann"),
                ("password", crate::common::PASSWORD),
                ("next", &format!("/articles/{SEED_SLUG}")),
                ("save", SEED_SLUG),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], format!("/articles/{SEED_SLUG}"));
    let page = Page::parse(&app.page_as(&reader, &format!("/articles/{SEED_SLUG}")).await.1);
    assert_eq!(page.text(".source-link .save-button"), "★ Saved");

    // The same through signing up.
    let newcomer = app.new_client();
    let signup_link = login.attr(".auth-card a[href^='/signup']", "href");
    let signup = Page::parse(&app.page_as(&newcomer, &signup_link).await.1);
    assert_eq!(signup.attr("input[name=save]", "value"), SEED_SLUG);
    app.post_form(
        &newcomer,
        "/signup",
        &[
            ("username", "cat"),
            ("email", "cat@example.com"),
            ("password", crate::common::PASSWORD),
            ("save", SEED_SLUG),
        ],
    )
    .await;
    assert_eq!(saved_titles(&app, &newcomer).await.len(), 1);
}

async fn saved_lists_count_new_comments(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    save(&app, &ann, SEED_SLUG, "save").await;
    app.comment(&ann, SEED_SLUG, "my own does not count", None).await;
    for i in 0..3 {
        app.comment(&bob, SEED_SLUG, &format!("news {i}"), None).await;
    }
    let page = Page::parse(&app.page_as(&ann, "/saved").await.1);
    assert_eq!(page.text(".new-comments"), "3 new");
    assert!(page.text(".article-card .meta").starts_with("4 comments"));
    app.page_as(&ann, &format!("/articles/{SEED_SLUG}")).await;
    let page = Page::parse(&app.page_as(&ann, "/saved").await.1);
    assert_eq!(page.count(".new-comments"), 0, "seen once opened");
    // A removed comment is not new either.
    let id = app.comment(&bob, SEED_SLUG, "soon gone", None).await;
    app.post_form(&bob, &format!("/comments/{id}/delete"), &[("confirm", "yes")]).await;
    assert_eq!(Page::parse(&app.page_as(&ann, "/saved").await.1).count(".new-comments"), 0);
}

async fn saved_articles_notify_of_new_threads(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    save(&app, &ann, SEED_SLUG, "save").await;
    save(&app, &bob, SEED_SLUG, "save").await;
    // A reader who saved the article and then deleted their account is told nothing.
    let cyd = app.signup("cyd").await;
    save(&app, &cyd, SEED_SLUG, "save").await;
    let cyd_id = app.with_conn_blocking_user_id("cyd");
    let gone = app.post_form(&cyd, "/settings/delete", &[("delete_password", crate::common::PASSWORD)]).await;
    assert_eq!(gone.status(), StatusCode::SEE_OTHER);
    let top = app.comment(&bob, SEED_SLUG, "A new thread", None).await;
    let inbox = Page::parse(&app.page_as(&ann, "/inbox").await.1);
    assert!(inbox.text(".notification").starts_with("bob commented on Meta (again)"));
    assert_eq!(inbox.attr(".notification a", "href"), format!("/comments/{top}"));
    assert_eq!(Page::parse(&app.page_as(&bob, "/inbox").await.1).count(".notification"), 0, "not for his own");
    let told: Vec<(i64, String, i64)> = app
        .with_conn(move |conn| {
            use afterword::db::schema::notifications::dsl::*;
            notifications.select((user_id, kind, actor_id)).filter(comment_id.eq(top)).load(conn).unwrap()
        })
        .await;
    let ann_id = app.with_conn_blocking_user_id("ann");
    let bob_id = app.with_conn_blocking_user_id("bob");
    assert_eq!(told, [(ann_id, "saved_article".to_owned(), bob_id)], "only ann, not the deleted cyd ({cyd_id})");

    // Threads started together are written in one batch, whose savers are told in one
    // statement: once for each new thread, by the right author; a reply tells no saver.
    let bodies: Vec<String> = (0..6).map(|n| format!("Thread {n}")).collect();
    let mut threads = futures_util::future::join_all(
        bodies
            .iter()
            .enumerate()
            .map(|(n, body)| app.comment(if n % 2 == 0 { &bob } else { &ann }, SEED_SLUG, body, None)),
    )
    .await;
    threads.sort_unstable();
    app.comment(&bob, SEED_SLUG, "A reply to the first", Some(top)).await;
    let told: Vec<(i64, i64, i64)> = app
        .with_conn(move |conn| {
            use afterword::db::schema::notifications::dsl::*;
            notifications
                .select((user_id, comment_id, actor_id))
                .filter(kind.eq("saved_article"))
                .order((comment_id, user_id))
                .load(conn)
                .unwrap()
        })
        .await;
    let mut expected = vec![(ann_id, top, bob_id)];
    for &thread in &threads {
        // Its author is not told of it; the other saver is.
        let author = threads_author(&app, thread).await;
        let saver = if author == bob_id { ann_id } else { bob_id };
        expected.push((saver, thread, author));
    }
    assert_eq!(told, expected);
}

async fn threads_author(app: &TestApp, comment: i64) -> i64 {
    app.with_conn(move |conn| {
        use afterword::db::schema::comments::dsl::*;
        comments.find(comment).select(author_id).first(conn).unwrap()
    })
    .await
}

async fn profiles_show_name_karma_and_comments(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let cyd = app.signup("cyd").await;
    let liked = app.comment(&ann, SEED_SLUG, "A *liked* comment", None).await;
    let disliked = app.comment(&ann, SEED_SLUG, "A disliked comment", None).await;
    let gone = app.comment(&ann, SEED_SLUG, "A deleted comment", None).await;
    app.post_form(&ann, &format!("/comments/{gone}/delete"), &[("confirm", "yes")]).await;
    app.vote(&bob, liked, 1).await;
    app.vote(&cyd, liked, 1).await;
    app.vote(&bob, disliked, -1).await;

    let (status, body) = app.page_as(&bob, "/users/ANN").await;
    assert_eq!(status, StatusCode::OK);
    let page = Page::parse(&body);
    assert_eq!(page.text(".profile h1"), "ann");
    assert!(page.text(".profile .byline").starts_with("Joined "));
    assert_eq!(page.text(".karma"), "1 karma");
    let shown = page.texts(".profile-comments .comment-body");
    assert_eq!(shown, ["A disliked comment", "A liked comment"], "newest first, deleted left out");
    assert_eq!(page.attrs(".profile-comments .comment-meta a", "href")[1], format!("/comments/{disliked}"));
    assert_eq!(page.count(".profile-links"), 0, "only the owner sees their links");
    let own = Page::parse(&app.page_as(&ann, "/users/ann").await.1);
    assert_eq!(own.texts(".profile-links a"), ["Saved", "Inbox", "Settings"]);
    // Comment authors link to their profiles.
    let article = Page::parse(&app.page(&format!("/articles/{SEED_SLUG}")).await.1);
    assert_eq!(article.attr(&format!("#comment-{liked} .author"), "href"), "/users/ann");
    assert_eq!(app.page("/users/nobody").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.page("/users/ann?page=9").await.0, StatusCode::NOT_FOUND);
}

async fn profile_settings_are_sanitised_and_limited(backend: Backend) {
    let app = TestApp::start(backend).await;
    let ann = app.signup("ann").await;
    let bio = "I read *everything*. <script>alert(1)</script> [me](javascript:alert(1))";
    let response = app.post_form(&ann, "/settings/profile", &[("display_name", "Ann  Example"), ("bio", bio)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = Page::parse(&app.page("/users/ann").await.1);
    assert_eq!(page.text(".profile h1"), "Ann Example");
    assert_eq!(page.text(".profile .username"), "@ann");
    assert_eq!(page.text(".bio em"), "everything");
    assert_eq!(page.count(".bio script"), 0);
    assert!(page.attrs(".bio a", "href").iter().all(|h| !h.contains("javascript")));
    let settings = Page::parse(&app.page_as(&ann, "/settings").await.1);
    assert_eq!(settings.attr("#field-display_name", "value"), "Ann Example");
    assert_eq!(settings.text("#field-bio"), bio, "the source is kept to edit");

    let long = app.post_form(&ann, "/settings/profile", &[("display_name", "x"), ("bio", &"b".repeat(501))]).await;
    assert_eq!(long.status(), StatusCode::BAD_REQUEST);
    let long = app.post_form(&ann, "/settings/profile", &[("display_name", &"n".repeat(51)), ("bio", "")]).await;
    assert_eq!(long.status(), StatusCode::BAD_REQUEST);
    assert_eq!(Page::parse(&app.page("/users/ann").await.1).text(".profile h1"), "Ann Example", "unchanged");
}

async fn feeds_are_valid_atom_with_the_right_entries(backend: Backend) {
    let app = TestApp::builder(backend).with_articles(generated_articles(3)).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let first = app.comment(&ann, SEED_SLUG, "Feed me **now**", None).await;
    let second = app.comment(&ann, SEED_SLUG, "And again", Some(first)).await;
    let gone = app.comment(&ann, SEED_SLUG, "Deleted soon", None).await;
    app.post_form(&ann, &format!("/comments/{gone}/delete"), &[("confirm", "yes")]).await;

    let parse = |path: String| {
        let app = &app;
        async move {
            let response = app.get(&path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/atom+xml"));
            feed_rs::parser::parse(response.text().await.unwrap().as_bytes()).expect("valid Atom")
        }
    };
    let articles = parse("/feed.atom".into()).await;
    assert_eq!(articles.feed_type, feed_rs::model::FeedType::Atom);
    let titles: Vec<String> = articles.entries.iter().map(|e| e.title.as_ref().unwrap().content.clone()).collect();
    assert_eq!(titles[0], "Meta (again) denies that Netflix read users' private Facebook messages | TechCrunch");
    assert_eq!(titles.len(), 4);
    assert_eq!(articles.entries[0].links[0].href, format!("http://127.0.0.1:8080/articles/{SEED_SLUG}"));

    let on_article = parse(format!("/articles/{SEED_SLUG}/comments.atom")).await;
    let ids: Vec<String> = on_article.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(
        ids,
        [format!("http://127.0.0.1:8080/comments/{second}"), format!("http://127.0.0.1:8080/comments/{first}")],
        "newest first, the deleted one left out"
    );
    let content = on_article.entries[1].content.as_ref().unwrap().body.as_ref().unwrap();
    assert!(content.contains("<strong>now</strong>"), "{content}");
    let by_ann = parse("/users/ann/comments.atom".into()).await;
    assert_eq!(by_ann.entries.len(), 2);
    assert_eq!(by_ann.entries[0].authors[0].name, "ann");

    for path in ["/articles/nope/comments.atom", "/users/nobody/comments.atom"] {
        assert_eq!(app.page(path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    // Pages point to their feeds.
    let page = Page::parse(&app.page(&format!("/articles/{SEED_SLUG}")).await.1);
    assert_eq!(page.attr("link[rel=alternate]", "href"), format!("/articles/{SEED_SLUG}/comments.atom"));
    assert_eq!(Page::parse(&app.page("/").await.1).attr("link[rel=alternate]", "href"), "/feed.atom");
    assert_eq!(
        Page::parse(&app.page("/users/ann").await.1).attr("link[rel=alternate]", "href"),
        "/users/ann/comments.atom"
    );
}

async fn search_finds_articles_and_comments(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().with_articles(generated_articles(3)).start().await;
    let ann = app.signup("ann").await;
    let id = app.comment(&ann, "generated-article-number-2", "Pelicans are underrated birds", None).await;

    // By title.
    let page = Page::parse(&app.page("/search?q=Netflix").await.1);
    assert_eq!(
        page.texts(".search-results.articles h3")[0],
        "Meta (again) denies that Netflix read users' private Facebook messages | TechCrunch"
    );
    // By takeaway only ("optimization" appears in the last takeaway, nowhere else).
    let page = Page::parse(&app.page("/search?q=optimization").await.1);
    assert_eq!(page.attrs(".search-results.articles h3 a", "href"), [format!("/articles/{SEED_SLUG}")]);
    assert!(page.text(".search-results.articles .snippet mark").to_lowercase().starts_with("optimiz"));
    // By comment, with a link in context.
    let page = Page::parse(&app.page("/search?q=pelicans").await.1);
    assert_eq!(page.count(".search-results.articles li"), 0);
    assert_eq!(page.attr(".search-results.comments a", "href"), format!("/comments/{id}"));
    assert!(page.text(".search-results.comments .comment-meta").starts_with("ann on Generated article number 2"));
    assert_eq!(page.text(".search-results.comments mark"), "Pelicans");
    // Every word must match.
    assert_eq!(Page::parse(&app.page("/search?q=pelicans+netflix").await.1).count(".search-results li"), 0);
    let nothing = Page::parse(&app.page("/search?q=xylophone").await.1);
    assert!(nothing.text(".empty").contains("Nothing matches"));
}

async fn search_escapes_ranks_and_hides_deleted_comments(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let once =
        app.comment(&ann, SEED_SLUG, "A zebra appeared once among many other words in this long comment", None).await;
    let thrice = app.comment(&ann, SEED_SLUG, "zebra zebra zebra", None).await;
    let html = app.comment(&ann, SEED_SLUG, "<b>zebra</b> & <script>alert(1)</script>", None).await;
    let (_, body) = app.page("/search?q=zebra").await;
    let page = Page::parse(&body);
    let order = page.attrs(".search-results.comments a", "href");
    assert_eq!(order.len(), 3);
    assert!(
        order.iter().position(|h| *h == format!("/comments/{thrice}"))
            < order.iter().position(|h| *h == format!("/comments/{once}")),
        "denser matches rank higher: {order:?}"
    );
    assert!(!body.contains("<script>alert(1)</script>") && !body.contains("<b>zebra"), "escaped");
    // SQLite keeps the tags as (escaped) text; PostgreSQL's headline drops them.
    assert!(
        body.contains("&lt;b&gt;<mark>zebra</mark>&lt;/b&gt;") || body.contains("<mark>zebra</mark> &amp; alert(1)"),
        "marked inside escaped text: {body}"
    );
    let (_, echoed) = app.page("/search?q=%3Cscript%3Ezebra").await;
    assert!(!echoed.contains("<script>zebra"), "the query is escaped where it is echoed");

    // Deleted comments (and placeholders) never appear; edits are searched as edited.
    app.comment(&ann, SEED_SLUG, "keeps the placeholder", Some(html)).await;
    app.post_form(&ann, &format!("/comments/{html}/delete"), &[("confirm", "yes")]).await;
    app.post_form(&ann, &format!("/comments/{once}/delete"), &[("confirm", "yes")]).await;
    let edited = app.post_form(&ann, &format!("/comments/{thrice}/edit"), &[("body", "now about giraffes")]).await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);
    let page = Page::parse(&app.page("/search?q=zebra").await.1);
    assert_eq!(page.count(".search-results.comments li"), 0, "{:?}", page.attrs(".search-results a", "href"));
    let page = Page::parse(&app.page("/search?q=giraffes").await.1);
    assert_eq!(page.attr(".search-results.comments a", "href"), format!("/comments/{thrice}"));
    let remaining: i64 = app.with_conn(|c| comments::table.count().get_result(c).unwrap()).await;
    assert_eq!(remaining, 3);
}

/// Edits `slug`'s summary as `admin`, keeping its other fields.
async fn edit_summary(app: &TestApp, admin: &reqwest::Client, slug: &str, summary: &str) {
    let path = format!("/admin/articles/{slug}/edit");
    let form = Page::parse(&app.page_as(admin, &path).await.1);
    let mut fields: Vec<(String, String)> = ["title", "source_url", "source_name", "published_at", "tags"]
        .iter()
        .map(|name| (name.to_string(), form.attr(&format!("input[name={name}]"), "value")))
        .collect();
    fields.push(("summary".into(), summary.into()));
    fields.push(("takeaways".into(), form.text("textarea[name=takeaways]")));
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(app.post_form(admin, &path, &refs).await.status(), StatusCode::SEE_OTHER, "{slug}");
}

async fn search_follows_edited_and_deleted_articles(backend: Backend) {
    // More matches of one word than a search ranks, so that on PostgreSQL it walks the
    // newest stored vectors rather than the index.
    let app = TestApp::builder(backend).with_seed_article().with_articles(generated_articles(250)).start().await;
    let admin = app.signup_as("adela", "admin").await;
    let articles = |body: &str| Page::parse(body).attrs(".search-results.articles h3 a", "href");

    let page = Page::parse(&app.page("/search?q=takeaway").await.1);
    assert_eq!(page.count(".search-results.articles li"), 10, "a full page of the 250 matches");
    assert_eq!(page.count(".search-results.articles .snippet mark"), 20, "each with both takeaways marked");
    assert_eq!(Page::parse(&app.page("/search?q=takeaway&page=20").await.1).count(".search-results.articles li"), 10);

    // An edited article is found by its new words, ranked by how much of it they are.
    edit_summary(&app, &admin, "generated-article-number-7", "A zebra, another zebra and a third zebra.").await;
    edit_summary(&app, &admin, "generated-article-number-240", "One zebra among the many other words of this summary.")
        .await;
    let (_, body) = app.page("/search?q=zebras").await;
    assert_eq!(articles(&body), ["/articles/generated-article-number-7", "/articles/generated-article-number-240"]);
    assert!(body.contains("<mark>zebra</mark>, another <mark>zebra</mark>"), "{body}");
    // … and no longer by the words it lost.
    assert!(articles(&app.page("/search?q=takeaway").await.1).len() == 10);
    let (_, body) = app.page("/search?q=summary+generated+article+7").await;
    assert!(!articles(&body).contains(&"/articles/generated-article-number-7".to_owned()), "{body}");
    edit_summary(&app, &admin, "generated-article-number-7", "No stripes here.").await;
    assert_eq!(articles(&app.page("/search?q=zebra").await.1), ["/articles/generated-article-number-240"]);

    // A deleted article is gone from the results.
    let deleted =
        app.post_form(&admin, "/admin/articles/generated-article-number-240/delete", &[("confirm", "yes")]).await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    assert!(articles(&app.page("/search?q=zebra").await.1).is_empty());
}

async fn bad_searches_get_a_clear_message(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let (status, body) = app.page("/search").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(Page::parse(&body).count("form.search-form"), 1);
    for (query, message) in [("", "Type a word"), ("%20%20", "Type a word"), ("%22%28*%29%22", "Type a word")] {
        let (status, body) = app.page(&format!("/search?q={query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(Page::parse(&body).text(".flash.error").contains(message), "{query}");
    }
    let (status, body) = app.page(&format!("/search?q={}", "word+".repeat(60))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(Page::parse(&body).text(".flash.error").contains("too long"));
    // FTS operators are words, not syntax.
    for query in ["NEAR(meta", "netflix%20OR", "%22unbalanced", "meta*", "-netflix", "a:b"] {
        assert_eq!(app.page(&format!("/search?q={query}")).await.0, StatusCode::OK, "{query}");
    }
}
