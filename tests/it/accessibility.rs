//! Accessibility and valid markup: every page, for every role, checked with axe-core in
//! Chromium at a desktop and a phone width, and its HTML with the Nu HTML checker; and
//! the structure the checkers cannot judge (labels that belong to their box, the
//! comment a permalink is about).

use fantoccini::{Client, Locator};
use reqwest::StatusCode;

use crate::common::browser::browser;
use crate::common::html::Page;
use crate::common::{checkers, generated_articles, Backend, TestApp, PASSWORD, SEED_SLUG};
use crate::{both_backends, browser_tests, checker_tests};

checker_tests!(every_page_passes_axe_and_the_html_checker);

/// The widths every page is checked at: a desktop and a phone.
const WIDTHS: [u32; 2] = [1280, 390];

/// A page to check, and what to do on it before checking.
struct Visit {
    path: String,
    /// Open the reply form under this comment and the edit form under that one, in
    /// place (the script's forms are checked too).
    open_inline: Option<(i64, i64)>,
}

fn visit(path: impl Into<String>) -> Visit {
    Visit { path: path.into(), open_inline: None }
}

/// Every page template, as an anonymous visitor, a reader, a moderator and an
/// administrator see it, passes axe-core (every rule it runs by default, and tap
/// targets of 24 px) at 1280 and 390 px wide, with the in-place reply and edit forms
/// open, and its HTML passes the Nu HTML checker with no error. On SQLite only: the
/// markup does not depend on the backend, and one sweep keeps the suite fast.
async fn every_page_passes_axe_and_the_html_checker() {
    if !checkers::ready() {
        return;
    }
    let app = TestApp::builder(Backend::Sqlite).with_seed_article().with_articles(generated_articles(3)).start().await;
    let article = format!("/articles/{SEED_SLUG}");

    // A discussion: replies two deep, Markdown, a removed comment, a report, a held
    // comment, a saved article, a notification, moderation log entries.
    let bob = app.signup("bob").await;
    let ann = app.signup("ann").await;
    let troll = app.signup("troll").await;
    let mona = app.signup_as("mona", "moderator").await;
    let ada = app.signup_as("ada", "admin").await;
    let top = app
        .comment(
            &bob,
            SEED_SLUG,
            "A *first* thought, with [a link](https://example.com/), `code` and a list:\n\n- one\n- two\n\n> a quote",
            None,
        )
        .await;
    let reply = app.comment(&ann, SEED_SLUG, "A reply to Bob", Some(top)).await;
    let deep = app.comment(&bob, SEED_SLUG, "A reply to the reply", Some(reply)).await;
    let own = app.comment(&bob, SEED_SLUG, "Bob's second comment", None).await;
    app.comment(&ann, SEED_SLUG, "Another reply", Some(own)).await;
    // Comments quoting a takeaway (the most useful one shows under it) and the summary.
    let fields = [("body", "On the first takeaway"), ("quote", "takeaway-1")];
    assert_eq!(app.post_form(&ann, &format!("{article}/comments"), &fields).await.status(), StatusCode::SEE_OTHER);
    let fields = [("body", "On the summary"), ("quote", "summary-2"), ("quote_text", "a court filing")];
    assert_eq!(app.post_form(&bob, &format!("{article}/comments"), &fields).await.status(), StatusCode::SEE_OTHER);
    let nasty = app.comment(&troll, SEED_SLUG, "Something nasty", None).await;
    let reported = app.comment(&troll, SEED_SLUG, "Something reported", None).await;
    let r = app.post_form(&ann, &format!("/comments/{reported}/report"), &[("reason", "spam")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.post_form(&mona, &format!("/mod/comments/{nasty}/remove"), &[("reason", "Off topic")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.vote(&ann, top, 1).await.status(), StatusCode::SEE_OTHER);
    let r = app.post_form(&ada, "/admin/settings/words", &[("words", "casino")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.post_form(&troll, &format!("{article}/comments"), &[("body", "Visit my casino")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app.post_form(&bob, &format!("{article}/save"), &[("action", "save")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The settings list API tokens when there are some.
    app.api_token("bob", "read,write").await;
    // A digest's unsubscribe page, for a reader who gets one and for one who does not.
    let r = app.post_form(&bob, "/settings/digest", &[("digest", "weekly")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let key: String = app
        .with_conn(|c| {
            use afterword::db::schema::settings;
            use diesel::prelude::*;
            settings::table.find("csrf_key").select(settings::value).first(c).unwrap()
        })
        .await;
    let key = afterword::auth::csrf::CsrfKey::new(key.into_bytes());
    let unsubscribe =
        |name: &str| format!("/digest/unsubscribe/{}", key.unsubscribe_token(app.with_conn_blocking_user_id(name)));
    let (bob_unsubscribe, ann_unsubscribe) = (unsubscribe("bob"), unsubscribe("ann"));
    // Comments imported from another system, their placeholder author, and a claim link.
    let disqus = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(disqus.path(), include_str!("../fixtures/import/isso-disqus.xml")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_afterword"))
        .args(["import-comments", "--format", "disqus"])
        .arg(disqus.path())
        .env("DATABASE_URL", &app.db.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let placeholder = app
        .with_conn(|c| {
            use afterword::db::schema::{account_tokens, users};
            use diesel::prelude::*;
            let bob: i64 = users::table.filter(users::username.eq("bob")).select(users::id).first(c).unwrap();
            diesel::insert_into(account_tokens::table)
                .values((
                    account_tokens::token_hash.eq(afterword::auth::token_hash("claim-link")),
                    account_tokens::user_id.eq(bob),
                    account_tokens::purpose.eq("claim"),
                    account_tokens::created_at.eq(afterword::db::now()),
                    account_tokens::expires_at.eq(afterword::db::now() + time::Duration::days(1)),
                ))
                .execute(c)
                .unwrap();
            users::table.filter(users::imported_from.is_not_null()).select(users::username).first::<String>(c).unwrap()
        })
        .await;

    let common = |extra: Vec<Visit>| {
        let mut pages = vec![
            visit("/"),
            visit(article.clone()),
            visit(format!("{article}?takeaway=1")),
            visit(format!("{article}?quote=takeaway-2")),
            visit(format!("/comments/{deep}")),
            visit(format!("/comments/{top}/replies?skip=0&indent=1")),
            visit("/search?q=reply"),
            visit("/search"),
            visit("/users/bob"),
            visit("/modlog"),
            visit("/api/docs"),
            visit("/no-such-page"),
            visit("/articles/hello-world"),
            visit(format!("/users/{placeholder}")),
            visit("/claim-comments/claim-link"),
            visit("/claim-comments/no-such-link"),
        ];
        pages.extend(extra);
        pages
    };
    let roles: Vec<(&str, Option<&str>, Vec<Visit>)> = vec![
        (
            "anonymous",
            None,
            common(vec![
                visit("/login"),
                visit("/signup"),
                visit("/password-reset"),
                visit("/account-deleted"),
                visit("/articles/no-such-article"),
                visit(bob_unsubscribe.clone()),
                visit(ann_unsubscribe.clone()),
            ]),
        ),
        (
            "reader",
            Some("bob"),
            common(vec![
                Visit { path: format!("{article}?sort=new"), open_inline: Some((reply, own)) },
                visit(format!("/comments/{reply}/reply")),
                visit(format!("/comments/{own}/edit")),
                visit(format!("/comments/{reported}/report")),
                visit("/settings"),
                visit("/inbox"),
                visit("/saved"),
                visit("/mod/reports"),
            ]),
        ),
        (
            "moderator",
            Some("mona"),
            common(vec![
                visit("/mod/reports"),
                visit("/mod/queue"),
                visit(format!("/mod/comments/{nasty}")),
                visit(format!("/mod/articles/{SEED_SLUG}")),
                visit("/mod/users/troll"),
                visit("/inbox"),
                visit("/saved"),
                visit("/settings"),
                visit("/admin"),
            ]),
        ),
        (
            "admin",
            Some("ada"),
            common(vec![
                visit("/admin"),
                visit("/admin/settings"),
                visit("/admin/users"),
                visit("/admin/users?q=bo"),
                visit("/admin/articles"),
                visit("/admin/articles/new"),
                visit(format!("/admin/articles/{SEED_SLUG}/edit")),
                visit("/admin/outbox"),
                visit("/admin/comments/import"),
                visit("/mod/reports"),
                visit("/mod/queue"),
            ]),
        ),
    ];

    let html_dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (role, user, pages) in &roles {
        let client = match user {
            Some(name) => app.login(name, PASSWORD).await.0,
            None => app.new_client(),
        };
        // The HTML as the server sends it, for the markup checker.
        for (i, page) in pages.iter().enumerate() {
            let response = client.get(app.url(&page.path)).send().await.unwrap();
            let status = response.status();
            assert!(status.is_success() || status.is_client_error(), "{role} {}: {status}", page.path);
            let file = format!("{role}-{i:02}{}.html", page.path.replace(['/', '?', '&', '='], "_"));
            std::fs::write(html_dir.path().join(file), response.text().await.unwrap()).unwrap();
        }

        let Some(browser) = browser().await else { return };
        if let Some(name) = user {
            log_in(&browser, &app, name).await;
        }
        for page in pages {
            browser.set_window_size(WIDTHS[0], 900).await.unwrap();
            browser.goto(&app.url(&page.path)).await.unwrap();
            browser.wait().for_element(Locator::Css("main")).await.unwrap();
            if let Some((reply_to, edit)) = page.open_inline {
                open_inline(&browser, reply_to, edit).await;
            }
            for width in WIDTHS {
                browser.set_window_size(width, 900).await.unwrap();
                for violation in checkers::axe_violations(&browser).await {
                    failures.push(format!("{role} {} at {width}px: {violation}", page.path));
                }
            }
        }
        browser.close().await.unwrap();
    }

    for error in checkers::vnu_errors(html_dir.path()) {
        failures.push(format!("HTML: {error}"));
    }
    assert!(failures.is_empty(), "{} accessibility or markup faults:\n{}", failures.len(), failures.join("\n"));
}

/// Logs in `username` in the browser.
async fn log_in(client: &Client, app: &TestApp, username: &str) {
    client.goto(&app.url("/login")).await.unwrap();
    client.wait().for_element(Locator::Id("field-login")).await.unwrap().send_keys(username).await.unwrap();
    client.find(Locator::Id("field-password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Css(".site-nav .whoami")).await.unwrap();
}

/// Opens the reply form under comment `reply_to` and the edit form under comment
/// `edit`, in place.
async fn open_inline(client: &Client, reply_to: i64, edit: i64) {
    for (id, link) in [(reply_to, ".reply-link"), (edit, ".edit-link")] {
        client.find(Locator::Css(&format!("#comment-{id} {link}"))).await.unwrap().click().await.unwrap();
        client.wait().for_element(Locator::Css(&format!("#comment-{id} form.compose.inline textarea"))).await.unwrap();
    }
}

both_backends!(
    a_comments_toggle_holds_only_the_toggle,
    every_comment_box_has_a_label_of_its_own,
    the_unread_count_is_said_in_words
);

/// The collapse toggle (`<summary>`) holds no link or button: the author's link and the
/// comment's line sit beside it, and the toggle is named after the comment.
async fn a_comments_toggle_holds_only_the_toggle(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let top = app.comment(&ann, SEED_SLUG, "Hello", None).await;
    let reply = app.comment(&bob, SEED_SLUG, "Hi [there](https://example.com/)", Some(top)).await;
    let article = format!("/articles/{SEED_SLUG}");
    // Anonymous (cached), a signed-in reader (shared thread) and a moderator (own page).
    let mona = app.signup_as("mona", "moderator").await;
    for client in [&app.client, &ann, &mona] {
        let page = Page::parse(&app.page_as(client, &article).await.1);
        assert_eq!(page.count("summary"), 2);
        assert_eq!(page.count("summary a, summary button, summary input, summary [tabindex]"), 0);
        assert_eq!(page.text(&format!("#comment-{top} > details > summary")), "Comment by ann");
        assert_eq!(page.text(&format!("#comment-{reply} > details > summary")), "Comment by bob");
        assert_eq!(page.text(&format!("#comment-{top} > details > .comment-meta a.author")), "ann");
        assert_eq!(page.text(&format!("#comment-{top} > details > .comment-meta .score")), "0 points");
    }
    // The live fragment too.
    let fragment = Page::parse(&app.page(&format!("/comments/{reply}/fragment")).await.1);
    assert_eq!(fragment.count("summary a"), 0);
    assert_eq!(fragment.text(".comment-meta a.author"), "bob");
}

/// The comment box under the article, the reply box and the edit box each have an id
/// of their own and a label that names them, so that the boxes the script opens in
/// place under comments never take the article's box's label.
async fn every_comment_box_has_a_label_of_its_own(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let top = app.comment(&ann, SEED_SLUG, "Hello", None).await;
    let cases = [
        (format!("/articles/{SEED_SLUG}"), "comment-body".to_owned(), "Your comment"),
        (format!("/comments/{top}/reply"), format!("reply-{top}-body"), "Your reply"),
        (format!("/comments/{top}/edit"), format!("edit-{top}-body"), "Your comment, edited"),
    ];
    for (path, id, label) in cases {
        let page = Page::parse(&app.page_as(&ann, &path).await.1);
        assert_eq!(page.attr("form.compose textarea", "id"), id, "{path}");
        assert_eq!(page.text(&format!("form.compose label[for='{id}']")), label, "{path}");
        assert_eq!(page.count("label[for='comment-body']"), usize::from(id == "comment-body"), "{path}");
    }
    // A preview keeps the reply's box.
    let r = app
        .post_form(
            &ann,
            &format!("/articles/{SEED_SLUG}/comments"),
            &[("body", "Draft"), ("parent_id", &top.to_string()), ("action", "preview")],
        )
        .await;
    let page = Page::parse(&r.text().await.unwrap());
    assert_eq!(page.attr("form.compose textarea", "id"), format!("reply-{top}-body"));
}

/// The unread count beside "Inbox" is said as "N unread" in text (an `aria-label` on a
/// `<span>` is invalid HTML, and ignored by some screen readers).
async fn the_unread_count_is_said_in_words(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let top = app.comment(&ann, SEED_SLUG, "Hello", None).await;
    app.comment(&bob, SEED_SLUG, "Hi", Some(top)).await;
    let page = Page::parse(&app.page_as(&ann, "/").await.1);
    assert_eq!(page.text(".inbox-link .badge"), "1 unread");
    assert_eq!(page.text(".inbox-link .badge .visually-hidden"), "unread");
    assert_eq!(page.count(".inbox-link [aria-label]"), 0);
}

browser_tests!(boxes_opened_in_place_keep_labels_of_their_own);

/// Reply and edit boxes the script opens in place each have their own id and label,
/// beside the article's box, which keeps its own; vote arrows and toggles are at least
/// 24 px square.
async fn boxes_opened_in_place_keep_labels_of_their_own(backend: Backend) {
    let Some(client) = browser().await else { return };
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let bob = app.signup("bob").await;
    let first = app.comment(&bob, SEED_SLUG, "First", None).await;
    app.signup("ann").await;
    log_in(&client, &app, "ann").await;
    let ann = app.login("ann", PASSWORD).await.0;
    let own = app.comment(&ann, SEED_SLUG, "Mine", None).await;
    client.goto(&app.url(&format!("/articles/{SEED_SLUG}"))).await.unwrap();
    client.wait().for_element(Locator::Css("#comments form.compose textarea")).await.unwrap();
    open_inline(&client, first, own).await;
    let boxes = client
        .execute(
            "return [...document.querySelectorAll('textarea')].map(t => \
             [t.id, t.labels.length, t.labels.length ? t.labels[0].textContent : ''])",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        boxes,
        serde_json::json!([
            ["comment-body", 1, "Your comment"],
            [format!("edit-{own}-body"), 1, "Your comment, edited"],
            [format!("reply-{first}-body"), 1, "Your reply"],
        ])
    );

    // Vote arrows and toggles are taps of 24 px or more, on a phone too.
    assert_eq!(client.find_all(Locator::Css(".comment-actions .vote")).await.unwrap().len(), 2);
    for width in [1280, 390] {
        client.set_window_size(width, 900).await.unwrap();
        let small = client
            .execute(
                "return [...document.querySelectorAll('.comment-actions .vote, summary.comment-toggle')] \
                 .map(e => e.getBoundingClientRect()) \
                 .filter(r => r.width < 24 || r.height < 24) \
                 .map(r => r.width + 'x' + r.height)",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(small, serde_json::json!([]), "targets under 24 px at {width} px");
    }
    client.close().await.unwrap();
}
