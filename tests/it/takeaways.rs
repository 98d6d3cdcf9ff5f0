//! Takeaway-anchored discussion: "Discuss" links with counts, comments that quote a
//! takeaway or a passage of the summary, the thread filtered to one takeaway, each
//! takeaway's most useful comment, and the same in the API and the feeds.

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, SEED_SLUG};

both_backends!(
    each_takeaway_shows_its_discuss_link_and_count,
    the_form_quotes_a_takeaway_without_a_script,
    bad_quotes_are_refused_and_keep_the_text,
    summary_quotes_and_later_edits_of_the_article,
    the_thread_filters_to_one_takeaway,
    the_most_useful_comment_follows_votes_and_moderation,
    the_api_and_the_feeds_carry_quotes,
    two_quotes_at_once_both_count,
);

fn article() -> String {
    format!("/articles/{SEED_SLUG}")
}

const SENTENCE_2: &str = "The claim, which was amplified by Elon Musk, is based on a court filing from a class-action \
                          lawsuit over data privacy practices.";

/// Posts a comment quoting `quote` (`takeaway-N` or `summary-N`, with `text`); returns
/// the response (not followed).
async fn post_quoting(
    app: &TestApp,
    client: &reqwest::Client,
    body: &str,
    quote: &str,
    text: &str,
) -> reqwest::Response {
    let fields = [("body", body), ("quote", quote), ("quote_text", text), ("action", "post")];
    app.post_form(client, &format!("/articles/{SEED_SLUG}/comments"), &fields).await
}

/// Posts a comment quoting takeaway `n`; returns its id.
async fn quote_takeaway(app: &TestApp, client: &reqwest::Client, body: &str, n: usize) -> i64 {
    let r = post_quoting(app, client, body, &format!("takeaway-{n}"), "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "posting {body:?}");
    newest_with(app, body).await
}

async fn newest_with(app: &TestApp, body: &str) -> i64 {
    let text = body.to_owned();
    app.with_conn(move |c| {
        use afterword::db::schema::comments;
        use diesel::prelude::*;
        comments::table
            .filter(comments::body_source.eq(text))
            .select(diesel::dsl::max(comments::id))
            .first::<Option<i64>>(c)
            .unwrap()
            .expect("the comment")
    })
    .await
}

async fn comment_rows(app: &TestApp) -> i64 {
    app.with_conn(|c| {
        use afterword::db::schema::comments;
        use diesel::prelude::*;
        comments::table.count().get_result::<i64>(c).unwrap()
    })
    .await
}

async fn view(app: &TestApp, path: &str) -> Page {
    let (status, body) = app.page(path).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    Page::parse(&body)
}

/// The counts the "Discuss" links show, in order, from their visible text.
fn counts(page: &Page) -> Vec<String> {
    page.texts(".takeaway-item a.discuss [aria-hidden=true]")
}

async fn each_takeaway_shows_its_discuss_link_and_count(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let page = view(&app, &article()).await;
    assert_eq!(counts(&page), ["Discuss · 0"; 4]);
    // Each link is read with its takeaway, and says what it does in words.
    let links = page.attrs(".takeaway-item a.discuss", "href");
    assert_eq!(links[1], format!("/articles/{SEED_SLUG}?quote=takeaway-2#comment-form"));
    assert_eq!(page.attrs(".takeaway-item a.discuss", "aria-describedby")[1], "takeaway-2-text");
    assert!(page.text("#takeaway-2-text").starts_with("The claim is based on a court document"));
    assert_eq!(page.texts(".takeaway-item a.discuss .visually-hidden")[0], "Discuss this takeaway, 0 comments");
    assert_eq!(page.count(".takeaway-item a.discuss-filter"), 0, "nothing to filter to yet");
    assert_eq!(page.count("details.most-useful"), 0);

    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let first = quote_takeaway(&app, &ann, "Is that so?", 2).await;
    quote_takeaway(&app, &bob, "It is.", 2).await;
    quote_takeaway(&app, &bob, "About the API.", 4).await;
    app.comment(&ann, SEED_SLUG, "Quoting nothing", None).await;
    let r = post_quoting(&app, &ann, "On the summary", "summary-2", "court filing").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // A reply quotes nothing and counts for nothing.
    app.comment(&bob, SEED_SLUG, "A reply", Some(first)).await;

    for client in [None, Some(&ann)] {
        let page = match client {
            None => view(&app, &article()).await,
            Some(c) => Page::parse(&app.page_as(c, &article()).await.1),
        };
        assert_eq!(counts(&page), ["Discuss · 0", "Discuss · 2", "Discuss · 0", "Discuss · 1"]);
        assert_eq!(page.texts(".takeaway-item a.discuss .visually-hidden")[1], "Discuss this takeaway, 2 comments");
        assert_eq!(page.texts(".takeaway-item a.discuss .visually-hidden")[3], "Discuss this takeaway, 1 comment");
        assert_eq!(
            page.attrs(".takeaway-item a.discuss-filter", "href"),
            [
                format!("/articles/{SEED_SLUG}?takeaway=2#comments"),
                format!("/articles/{SEED_SLUG}?takeaway=4#comments")
            ]
        );
        // The comment shows its quote, linked to the passage.
        let quote = format!("#comment-{first} > details > .comment-quote");
        assert!(page.text(&format!("{quote} blockquote")).starts_with("The claim is based on a court document"));
        assert_eq!(page.attr(&format!("{quote} figcaption a"), "href"), format!("/articles/{SEED_SLUG}#takeaway-2"));
        assert_eq!(page.count(&format!("{quote} .quote-changed")), 0);
        assert_eq!(page.count("#sentence-2"), 1);
    }
    let summary_quote = newest_with(&app, "On the summary").await;
    let page = view(&app, &article()).await;
    let quote = format!("#comment-{summary_quote} > details > .comment-quote");
    assert_eq!(page.text(&format!("{quote} blockquote")), "court filing");
    assert_eq!(page.attr(&format!("{quote} figcaption a"), "href"), format!("/articles/{SEED_SLUG}#sentence-2"));
    assert_eq!(page.text("#sentence-2"), SENTENCE_2);
}

async fn the_form_quotes_a_takeaway_without_a_script(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let page = Page::parse(&app.page_as(&ann, &format!("{}?quote=takeaway-3", article())).await.1);
    assert_eq!(page.attr("#comment-form input[name=quote]", "value"), "takeaway-3");
    let takeaway = page.text("#takeaway-3-text");
    assert_eq!(page.text("#compose-quote blockquote"), takeaway);
    assert_eq!(page.attr("#comment-form textarea", "aria-describedby"), "compose-quote");
    assert_eq!(page.count("#compose-quote[hidden]"), 0);
    // Without a quote the box is there, hidden and empty, for the script.
    let plain = Page::parse(&app.page_as(&ann, &article()).await.1);
    assert_eq!(plain.count("#compose-quote[hidden]"), 1);
    assert_eq!(plain.attr("#comment-form input[name=quote]", "value"), "");

    // Posting the form as the page gives it.
    let form_quote = page.attr("#comment-form input[name=quote]", "value");
    let form_text = page.attr("#comment-form input[name=quote_text]", "value");
    let r = post_quoting(&app, &ann, "Posted from the form", &form_quote, &form_text).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = newest_with(&app, "Posted from the form").await;
    let after = view(&app, &article()).await;
    assert_eq!(counts(&after)[2], "Discuss · 1");
    assert_eq!(after.text(&format!("#comment-{id} .comment-quote blockquote")), takeaway);

    // A whole sentence of the summary, the same way.
    let page = Page::parse(&app.page_as(&ann, &format!("{}?quote=summary-2", article())).await.1);
    assert_eq!(page.text("#compose-quote blockquote"), SENTENCE_2);
    assert_eq!(page.attr("#comment-form input[name=quote_text]", "value"), SENTENCE_2);

    // A visitor is sent through the login, back to the form with the quote.
    let anonymous = view(&app, &format!("{}?quote=takeaway-3", article())).await;
    let login = anonymous.attrs(".login-prompt a", "href");
    assert!(login[0].contains("quote%3Dtakeaway-3%23comment-form"), "{login:?}");

    // What does not exist is refused with the reason.
    for (query, reason) in [
        ("quote=takeaway-9", "There is no takeaway 9"),
        ("quote=takeaway-0", "There is no takeaway 0"),
        ("quote=nonsense", "quote must be takeaway-N or summary-N"),
        ("quote=summary-99", "There is no sentence 99"),
        ("quote=other-1", "A quote is of a takeaway or of the summary"),
    ] {
        let (status, body) = app.page_as(&ann, &format!("{}?{query}", article())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(body.contains(reason), "{query}: {body}");
    }
}

async fn bad_quotes_are_refused_and_keep_the_text(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let long = "a".repeat(501);
    for (quote, text, reason) in [
        ("takeaway-7", "", "There is no takeaway 7: this article has 4."),
        ("takeaway-x", "", "quote must be takeaway-N or summary-N"),
        ("summary-1", "words the summary never says", "The quoted text is not in the article"),
        ("summary-1", "", "Say which passage of the summary you quote."),
        ("summary-1", long.as_str(), "A quote may have at most 500 characters."),
        ("takeaway-1", "not in the takeaway", "The quoted text is not in takeaway 1."),
    ] {
        let r = post_quoting(&app, &ann, "My carefully typed comment", quote, text).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{quote} {text:?}");
        let page = Page::parse(&r.text().await.unwrap());
        assert!(page.text("[role=alert]").contains(reason), "{quote}: {}", page.text("[role=alert]"));
        assert_eq!(page.text("textarea[name=body]"), "My carefully typed comment");
    }
    // A reply quotes nothing.
    let parent = app.comment(&ann, SEED_SLUG, "A parent", None).await;
    let fields = [("body", "A quoting reply"), ("quote", "takeaway-1"), ("parent_id", &parent.to_string())];
    let r = app.post_form(&ann, &format!("/articles/{SEED_SLUG}/comments"), &fields).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = Page::parse(&r.text().await.unwrap());
    assert!(page.text("[role=alert]").contains("A reply quotes nothing"));
    assert_eq!(page.text("textarea[name=body]"), "A quoting reply");
    assert_eq!(comment_rows(&app).await, 1, "nothing was posted");

    // A refusal for another reason (empty text), and a preview, keep the quote.
    let r = post_quoting(&app, &ann, "", "takeaway-2", "").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::parse(&r.text().await.unwrap());
    assert_eq!(page.attr("input[name=quote]", "value"), "takeaway-2");
    let fields = [("body", "Previewed"), ("quote", "summary-2"), ("quote_text", "court filing"), ("action", "preview")];
    let r = app.post_form(&ann, &format!("/articles/{SEED_SLUG}/comments"), &fields).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = Page::parse(&r.text().await.unwrap());
    assert_eq!(page.attr("input[name=quote]", "value"), "summary-2");
    assert_eq!(page.text("#compose-quote blockquote"), "court filing");
    assert_eq!(comment_rows(&app).await, 1);
}

/// Replaces the seed article's summary and takeaways as an administrator.
async fn edit_article(app: &TestApp, admin: &reqwest::Client, summary: &str, takeaways: &str) {
    let form = Page::parse(&app.page_as(admin, &format!("/admin/articles/{SEED_SLUG}/edit")).await.1);
    let fields: Vec<(String, String)> = ["title", "source_url", "source_name", "published_at", "tags"]
        .iter()
        .map(|name| (name.to_string(), form.attr(&format!("input[name={name}]"), "value")))
        .chain([("summary".to_owned(), summary.to_owned()), ("takeaways".to_owned(), takeaways.to_owned())])
        .collect();
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post_form(admin, &format!("/admin/articles/{SEED_SLUG}/edit"), &refs).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

async fn summary_quotes_and_later_edits_of_the_article(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let admin = app.signup_as("adela", "admin").await;
    // The passage may be sent with its white space as a selection gives it.
    let r = post_quoting(&app, &ann, "On the filing", "summary-2", "a  court\n filing").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let on_summary = newest_with(&app, "On the filing").await;
    let on_first = quote_takeaway(&app, &ann, "On the first", 1).await;
    let on_second = quote_takeaway(&app, &ann, "On the second", 2).await;
    let page = view(&app, &article()).await;
    assert_eq!(page.text(&format!("#comment-{on_summary} .comment-quote blockquote")), "a court filing");
    let first_text = page.text("#takeaway-1-text");
    let second_text = page.text("#takeaway-2-text");
    // Warm the signed-in shared thread too.
    app.page_as(&ann, &article()).await;

    // The administrator rewrites the summary and the second takeaway, keeps the first,
    // and drops the rest.
    edit_article(
        &app,
        &admin,
        "A shorter summary. It says nothing of courts.",
        &format!("{first_text}\nSomething else"),
    )
    .await;
    for page in [view(&app, &article()).await, Page::parse(&app.page_as(&ann, &article()).await.1)] {
        let quote = |id: i64| format!("#comment-{id} .comment-quote");
        // As it was, marked.
        assert_eq!(page.text(&format!("{} blockquote", quote(on_summary))), "a court filing");
        assert_eq!(page.text(&format!("{} .quote-changed", quote(on_summary))), "the article has changed since");
        assert_eq!(page.text(&format!("{} blockquote", quote(on_second))), second_text);
        assert_eq!(page.count(&format!("{} .quote-changed", quote(on_second))), 1);
        assert_eq!(page.count(&format!("{} .quote-changed", quote(on_first))), 0, "the first is unchanged");
        assert_eq!(counts(&page), ["Discuss · 1", "Discuss · 1"]);
    }
    // The comment's own page says so too.
    let own = view(&app, &format!("/comments/{on_second}")).await;
    assert_eq!(own.count(".comment-quote .quote-changed"), 1);
}

async fn the_thread_filters_to_one_takeaway(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let one = quote_takeaway(&app, &ann, "First on one", 1).await;
    let two = quote_takeaway(&app, &ann, "First on two", 2).await;
    let plain = app.comment(&ann, SEED_SLUG, "On nothing in particular", None).await;
    let again = quote_takeaway(&app, &bob, "Second on one", 1).await;
    let reply = app.comment(&bob, SEED_SLUG, "A reply under it", Some(one)).await;

    for client in [None, Some(&bob)] {
        let get = |path: String| {
            let app = &app;
            async move {
                match client {
                    None => view(app, &path).await,
                    Some(c) => Page::parse(&app.page_as(c, &path).await.1),
                }
            }
        };
        let page = get(format!("{}?takeaway=1", article())).await;
        for shown in [one, again, reply] {
            assert_eq!(page.count(&format!("#comment-{shown}")), 1, "{shown}");
        }
        for hidden in [two, plain] {
            assert_eq!(page.count(&format!("#comment-{hidden}")), 0, "{hidden}");
        }
        assert!(page.text(".thread-filter").starts_with("Showing the comments on takeaway 1"));
        assert_eq!(page.attrs(".thread-filter a", "href")[1], format!("/articles/{SEED_SLUG}#comments"));
        // Other orders keep the filter, and so do the pages after a cursor.
        assert!(page.attrs(".sort-nav a", "href").iter().all(|h| h.contains("&takeaway=1")));
        let newest = get(format!("{}?sort=new&takeaway=1", article())).await;
        assert_eq!(
            newest.attrs(".comment-tree > .comment", "id"),
            [format!("comment-{again}"), format!("comment-{one}")]
        );
        let after = get(format!("{}?sort=new&after={again}&takeaway=1", article())).await;
        assert_eq!(after.attrs(".comment-tree > .comment", "id"), [format!("comment-{one}")]);
        let page = get(format!("{}?takeaway=3", article())).await;
        assert_eq!(page.text("#comments .empty"), "No comments on this takeaway yet.");
        // And the whole thread is still all there.
        let all = get(article()).await;
        assert_eq!(all.count(".comment-tree > .comment"), 4);
        assert_eq!(all.count(".thread-filter"), 0);
    }
    // A takeaway that is not there, or not a number.
    for bad in ["0", "5", "x", "-1", "99999999999"] {
        let (status, body) = app.page(&format!("{}?takeaway={bad}", article())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(body.contains("takeaway"), "{bad}: the reason");
    }
    let (status, body) = app.page_as(&bob, &format!("{}?takeaway=5", article())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("There is no takeaway 5: this article has 4 takeaways."));
}

async fn the_most_useful_comment_follows_votes_and_moderation(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let cy = app.signup("cyd").await;
    let mo = app.signup_as("mona", "moderator").await;
    let older = quote_takeaway(&app, &ann, "An older take", 1).await;
    let newer = quote_takeaway(&app, &bob, "A newer take", 1).await;
    let best = |page: &Page| page.text("#takeaway-1 details.most-useful .comment-body");
    let page = view(&app, &article()).await;
    // Folded by default; with no votes, the best order takes the newest.
    assert_eq!(page.count("#takeaway-1 details.most-useful[open]"), 0);
    assert_eq!(page.count("#takeaway-1 details.most-useful"), 1);
    assert_eq!(page.count("#takeaway-2 details.most-useful"), 0);
    assert_eq!(best(&page), "A newer take");
    // Votes lift the older one.
    for voter in [&bob, &cy] {
        assert_eq!(app.vote(voter, older, 1).await.status(), StatusCode::SEE_OTHER);
    }
    let page = view(&app, &article()).await;
    assert_eq!(best(&page), "An older take");
    assert_eq!(
        page.attr("#takeaway-1 details.most-useful a[href^='/comments/']", "href"),
        format!("/comments/{older}")
    );
    // Removed, it neither counts nor is shown as the most useful; restored, it is again.
    let r = app.post_form(&mo, &format!("/mod/comments/{older}/remove"), &[("reason", "Off topic")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = view(&app, &article()).await;
    assert_eq!(counts(&page)[0], "Discuss · 1");
    assert_eq!(best(&page), "A newer take");
    app.post_form(&mo, &format!("/mod/comments/{older}/restore"), &[]).await;
    let page = view(&app, &article()).await;
    assert_eq!((counts(&page)[0].as_str(), best(&page).as_str()), ("Discuss · 2", "An older take"));
    // Deleted by its author: gone from both.
    let r = app.post_form(&bob, &format!("/comments/{newer}/delete"), &[("confirm", "yes")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(counts(&view(&app, &article()).await)[0], "Discuss · 1");

    // Held for approval: not counted until approved.
    let admin = app.signup_as("adela", "admin").await;
    let r = app.post_form(&admin, "/admin/settings/premoderation", &[("mode", "all"), ("count", "3")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = post_quoting(&app, &cy, "Held on two", "takeaway-2", "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let held = newest_with(&app, "Held on two").await;
    let page = view(&app, &article()).await;
    assert_eq!(counts(&page)[1], "Discuss · 0");
    assert_eq!(page.count("#takeaway-2 details.most-useful"), 0);
    assert_eq!(app.post_form(&mo, &format!("/mod/comments/{held}/approve"), &[]).await.status(), StatusCode::SEE_OTHER);
    let page = view(&app, &article()).await;
    assert_eq!(counts(&page)[1], "Discuss · 1");
    assert_eq!(page.text("#takeaway-2 details.most-useful .comment-body"), "Held on two");
}

async fn the_api_and_the_feeds_carry_quotes(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    app.signup("ann").await;
    let token = app.api_token("ann", "read,write").await;
    let api = app.api_client(&token);
    let post = |body: serde_json::Value| {
        let api = api.clone();
        let url = app.url(&format!("/api/v1/articles/{SEED_SLUG}/comments"));
        async move { api.post(url).json(&body).send().await.unwrap() }
    };
    let r = post(serde_json::json!({"body": "Via the API", "quote": {"kind": "takeaway", "takeaway": 3}})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: serde_json::Value = r.json().await.unwrap();
    assert_eq!(made["quote"]["kind"], "takeaway");
    assert_eq!(made["quote"]["takeaway"], 3);
    assert_eq!(made["quote"]["changed"], false);
    assert!(made["quote"]["url"].as_str().unwrap().ends_with(&format!("/articles/{SEED_SLUG}#takeaway-3")));
    let r =
        post(serde_json::json!({"body": "On the summary", "quote": {"kind": "summary", "text": "court filing"}})).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let summary: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (summary["quote"]["sentence"].as_i64(), summary["quote"]["text"].as_str()),
        (Some(2), Some("court filing"))
    );

    // Refusals: the article does not hold it (409), or it is not well formed (400).
    for (quote, status) in [
        (serde_json::json!({"kind": "takeaway", "takeaway": 9}), StatusCode::CONFLICT),
        (serde_json::json!({"kind": "summary", "text": "never said"}), StatusCode::CONFLICT),
        (serde_json::json!({"kind": "summary"}), StatusCode::CONFLICT),
        (serde_json::json!({"kind": "elsewhere", "takeaway": 1}), StatusCode::BAD_REQUEST),
        (serde_json::json!({"kind": "takeaway", "takeaway": 1, "extra": true}), StatusCode::BAD_REQUEST),
    ] {
        let r = post(serde_json::json!({"body": "Refused", "quote": quote})).await;
        assert_eq!(r.status(), status, "{quote}");
    }
    let r = post(
        serde_json::json!({"body": "A reply", "parent_id": made["id"], "quote": {"kind": "takeaway", "takeaway": 1}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // The article has the counts; its thread has the quotes.
    let article: serde_json::Value = app.get(&format!("/api/v1/articles/{SEED_SLUG}")).await.json().await.unwrap();
    assert_eq!(article["takeaway_comment_counts"], serde_json::json!([0, 0, 1, 0]));
    let one: serde_json::Value = app.get(&format!("/api/v1/comments/{}", made["id"])).await.json().await.unwrap();
    let one = if one.get("comment").is_some() { one["comment"].clone() } else { one };
    assert_eq!(one["quote"]["takeaway"], 3);

    // The thread filtered to one takeaway; one the article does not have is not there.
    let thread: serde_json::Value =
        app.get(&format!("/api/v1/articles/{SEED_SLUG}/comments?takeaway=3")).await.json().await.unwrap();
    let ids: Vec<i64> = thread["comments"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [made["id"].as_i64().unwrap()]);
    assert_eq!(
        app.get(&format!("/api/v1/articles/{SEED_SLUG}/comments?takeaway=5")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/v1/articles/{SEED_SLUG}/comments?takeaway=0")).await.status(),
        StatusCode::BAD_REQUEST
    );

    // The feeds show the quote above the comment.
    for feed in [format!("/articles/{SEED_SLUG}/comments.atom"), "/users/ann/comments.atom".to_owned()] {
        let (status, body) = app.page(&feed).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("court filing"), "{feed}");
        assert!(body.contains(&format!("/articles/{SEED_SLUG}#takeaway-3")), "{feed}");
    }
}

async fn two_quotes_at_once_both_count(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let (a, b) = tokio::join!(
        post_quoting(&app, &ann, "Ann at once", "takeaway-4", ""),
        post_quoting(&app, &bob, "Bob at once", "takeaway-4", "")
    );
    assert_eq!((a.status(), b.status()), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    assert_eq!(counts(&view(&app, &article()).await)[3], "Discuss · 2");
}
