//! In a real browser.

use fantoccini::Locator;

use crate::browser_tests;
use crate::common::browser::{browser, sign_up};
use crate::common::{Backend, TestApp, PASSWORD, SEED_SLUG};

browser_tests!(a_reader_opens_an_article_from_the_front_page, a_reader_signs_up_logs_out_and_logs_in);

async fn a_reader_opens_an_article_from_the_front_page(backend: Backend) {
    let Some(client) = browser().await else {
        return;
    };
    let app = TestApp::builder(backend).with_seed_article().start().await;

    client.goto(&app.url("/")).await.unwrap();
    let link = client.wait().for_element(Locator::Css(".article-card h2 a")).await.unwrap();
    assert!(link.text().await.unwrap().starts_with("Meta (again) denies"));
    link.click().await.unwrap();

    client.wait().for_element(Locator::Css(".takeaways li")).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), format!("/articles/{SEED_SLUG}"));
    let takeaways = client.find_all(Locator::Css(".takeaways li")).await.unwrap();
    assert_eq!(takeaways.len(), 4);
    assert!(takeaways[0].text().await.unwrap().starts_with("Meta is denying claims"));
    let empty = client.find(Locator::Css("#comments .empty")).await.unwrap();
    assert_eq!(empty.text().await.unwrap(), "Be the first to comment!");
    assert!(empty.is_displayed().await.unwrap());
    let button = client.find(Locator::LinkText("View Full Article")).await.unwrap();
    assert_eq!(button.attr("href").await.unwrap().as_deref(), Some("https://techcrunch.com/"));

    // The stylesheet applied (it is served by the app), and a phone gets no sideways scroll.
    let styled =
        client.execute("return getComputedStyle(document.querySelector('.skip-link')).position", vec![]).await.unwrap();
    assert_eq!(styled.as_str(), Some("absolute"), "the stylesheet loaded");
    client.set_window_size(360, 800).await.unwrap();
    let fits =
        client.execute("return document.documentElement.scrollWidth <= window.innerWidth", vec![]).await.unwrap();
    assert_eq!(fits.as_bool(), Some(true), "no horizontal scroll at 360px");

    client.close().await.unwrap();
}

async fn a_reader_signs_up_logs_out_and_logs_in(backend: Backend) {
    let Some(client) = browser().await else {
        return;
    };
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let article = format!("/articles/{SEED_SLUG}");

    // From an article, "Sign up" and back to the article.
    client.goto(&app.url(&article)).await.unwrap();
    client.wait().for_element(Locator::LinkText("Sign up")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Id("field-username")).await.unwrap().send_keys("ann").await.unwrap();
    client.find(Locator::Id("field-email")).await.unwrap().send_keys("ann@example.com").await.unwrap();
    client.find(Locator::Id("field-password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("form[action='/signup'] button[type=submit]")).await.unwrap().click().await.unwrap();
    let me = client.wait().for_element(Locator::Css(".site-nav .whoami")).await.unwrap();
    assert_eq!(me.text().await.unwrap(), "ann");
    assert_eq!(client.current_url().await.unwrap().path(), article);

    // Log out.
    client.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::LinkText("Log in")).await.unwrap().click().await.unwrap();

    // A wrong password first, then the right one.
    client.wait().for_element(Locator::Id("field-login")).await.unwrap().send_keys("ann@example.com").await.unwrap();
    client.find(Locator::Id("field-password")).await.unwrap().send_keys("not it at all").await.unwrap();
    client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
    let error = client.wait().for_element(Locator::Css(".flash.error")).await.unwrap();
    assert!(error.text().await.unwrap().contains("Wrong"));
    client.find(Locator::Id("field-password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
    let me = client.wait().for_element(Locator::Css(".site-nav .whoami")).await.unwrap();
    assert_eq!(me.text().await.unwrap(), "ann");

    client.close().await.unwrap();
}

browser_tests!(a_reader_discusses_an_article, comments_from_another_reader_appear_live);

async fn a_reader_discusses_an_article(backend: Backend) {
    let Some(client) = browser().await else { return };
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let bob = app.signup("bob").await;
    let bobs = app.comment(&bob, SEED_SLUG, "Bob was here first", None).await;
    sign_up(&client, &app, "ann").await;

    // Post a comment from the form under the article.
    client.goto(&app.url(&format!("/articles/{SEED_SLUG}"))).await.unwrap();
    let textarea = client.wait().for_element(Locator::Css("#comments form.compose textarea")).await.unwrap();
    textarea.send_keys("My *first* comment").await.unwrap();
    client.find(Locator::Css("#comments form.compose button[value=post]")).await.unwrap().click().await.unwrap();
    let mine = client
        .wait()
        .for_element(Locator::XPath("//li[contains(@class,'comment')][.//em[text()='first']]"))
        .await
        .unwrap();
    assert!(mine.text().await.unwrap().contains("My first comment"));
    assert!(client.current_url().await.unwrap().fragment().unwrap().starts_with("comment-"));

    // Reply inline: the form opens under the comment.
    let bob_comment = format!("#comment-{bobs}");
    client.find(Locator::Css(&format!("{bob_comment} .reply-link"))).await.unwrap().click().await.unwrap();
    let inline =
        client.wait().for_element(Locator::Css(&format!("{bob_comment} form.compose.inline textarea"))).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), format!("/articles/{SEED_SLUG}"), "no page change");
    inline.send_keys("Welcome, Bob").await.unwrap();
    client
        .find(Locator::Css(&format!("{bob_comment} form.compose.inline button[value=post]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.wait().for_element(Locator::XPath("//div[@class='comment-body'][p='Welcome, Bob']")).await.unwrap();

    // Vote without a reload: the score changes in place.
    client.goto(&app.url(&format!("/articles/{SEED_SLUG}"))).await.unwrap();
    let marker: serde_json::Value =
        client.execute("window.__marker = 42; return window.__marker", vec![]).await.unwrap();
    assert_eq!(marker, 42);
    client
        .find(Locator::Css(&format!("{bob_comment} > details > .comment-actions .vote.up")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = client
            .find(Locator::Css(&format!("{bob_comment} > details > .comment-meta [data-score]")))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text == "1 point" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the score did not change: {text}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let still: serde_json::Value = client.execute("return window.__marker || null", vec![]).await.unwrap();
    assert_eq!(still, 42, "the page was not reloaded");
    let pressed =
        client.find(Locator::Css(&format!("{bob_comment} > details > .comment-actions .vote.up"))).await.unwrap();
    assert_eq!(pressed.attr("aria-pressed").await.unwrap().as_deref(), Some("true"));

    // Collapse Bob's subtree: his reply disappears from view, and comes back.
    let summary = client.find(Locator::Css(&format!("{bob_comment} > details > summary"))).await.unwrap();
    let reply = client.find(Locator::Css(&format!("{bob_comment} .replies .comment-body"))).await.unwrap();
    assert!(reply.is_displayed().await.unwrap());
    summary.click().await.unwrap();
    assert!(!reply.is_displayed().await.unwrap(), "collapsed");
    summary.click().await.unwrap();
    assert!(reply.is_displayed().await.unwrap(), "expanded again");

    client.close().await.unwrap();
}

async fn comments_from_another_reader_appear_live(backend: Backend) {
    let Some(reader) = browser().await else { return };
    let Some(writer) = browser().await else { return };
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let bob = app.signup("bob").await;
    let article = app.url(&format!("/articles/{SEED_SLUG}"));

    reader.goto(&article).await.unwrap();
    reader.wait().for_element(Locator::Css("#comments .empty")).await.unwrap();
    // The page says when its event stream is open.
    reader.wait().for_element(Locator::Css("#comments[data-live=open]")).await.unwrap();

    sign_up(&writer, &app, "ann").await;
    writer.goto(&article).await.unwrap();
    writer
        .wait()
        .for_element(Locator::Css("#comments form.compose textarea"))
        .await
        .unwrap()
        .send_keys("Hello, live world")
        .await
        .unwrap();
    writer.find(Locator::Css("#comments form.compose button[value=post]")).await.unwrap().click().await.unwrap();
    writer.wait().for_element(Locator::Css(".comment")).await.unwrap();

    // New comments are announced, not pushed under the reader's eyes: a polite live region
    // says how many, and a button shows them.
    let count_css = "#comments .live-arrivals .live-arrivals-count";
    wait_until(
        &reader,
        &format!("return document.querySelector('{count_css}').textContent === '1 new comment'"),
        "the first arrival announced",
    )
    .await;
    let region = reader.find(Locator::Css(count_css)).await.unwrap();
    assert_eq!(region.attr("aria-live").await.unwrap().as_deref(), Some("polite"));
    assert!(reader.find_all(Locator::Css("#comments li.comment")).await.unwrap().is_empty(), "not inserted yet");
    assert_eq!(reader.find(Locator::Css(".comment-count")).await.unwrap().text().await.unwrap(), "0");
    // The writer's own comment is not news to the writer.
    assert_eq!(writer.find(Locator::Css(".live-arrivals-count")).await.unwrap().text().await.unwrap(), "");
    assert_eq!(writer.find_all(Locator::Css("#comments li.comment")).await.unwrap().len(), 1);
    reader.find(Locator::Css("#comments .live-arrivals button")).await.unwrap().click().await.unwrap();
    let arrived =
        reader.wait().for_element(Locator::XPath("//div[@class='comment-body'][p='Hello, live world']")).await.unwrap();
    assert!(arrived.is_displayed().await.unwrap());
    assert_eq!(reader.find(Locator::Css(".comment-count")).await.unwrap().text().await.unwrap(), "1");
    assert!(reader.find_all(Locator::Css("#comments .empty")).await.unwrap().is_empty());
    assert_eq!(region.text().await.unwrap(), "");
    assert!(reader.find_all(Locator::Css("#comments .live-arrivals button")).await.unwrap().is_empty());

    // A reply and another comment: announced together, then each where it belongs.
    let parent = app
        .with_conn(|c| {
            use afterword::db::schema::comments;
            use diesel::prelude::*;
            comments::table.select(comments::id).first::<i64>(c).unwrap()
        })
        .await;
    let reply = app.comment(&bob, SEED_SLUG, "A live reply", Some(parent)).await;
    let other = app.comment(&bob, SEED_SLUG, "Another live comment", None).await;
    wait_until(
        &reader,
        &format!("return document.querySelector('{count_css}').textContent === '2 new comments'"),
        "two arrivals announced",
    )
    .await;
    assert!(reader.find_all(Locator::Css(&format!("#comment-{reply}"))).await.unwrap().is_empty());
    reader.find(Locator::Css("#comments .live-arrivals button")).await.unwrap().click().await.unwrap();
    reader.wait().for_element(Locator::Css(&format!("#comment-{parent} .replies #comment-{reply}"))).await.unwrap();
    let first = reader.find(Locator::Css("#comments > ol.comment-tree > li.comment")).await.unwrap();
    assert_eq!(first.attr("id").await.unwrap(), Some(format!("comment-{other}")), "the newest comment first");
    assert_eq!(reader.find(Locator::Css(".comment-count")).await.unwrap().text().await.unwrap(), "3");
    assert_eq!(region.text().await.unwrap(), "");

    // An edit, a score and a removal change the comment in place; a lock closes the thread.
    let r = app.post_form(&bob, &format!("/comments/{reply}/edit"), &[("body", "An edited reply")]).await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    reader
        .wait()
        .for_element(Locator::XPath(&format!(
            "//li[@id='comment-{reply}']//div[@class='comment-body'][p='An edited reply']"
        )))
        .await
        .unwrap();
    assert_eq!(app.vote(&bob, parent, -1).await.status(), reqwest::StatusCode::SEE_OTHER);
    reader
        .wait()
        .for_element(Locator::XPath(&format!(
            "//li[@id='comment-{parent}']/details/p[@class='comment-meta']/span[@data-score][.='-1 point']"
        )))
        .await
        .unwrap();
    let mona = app.signup_as("mona", "moderator").await;
    let r = app.post_form(&mona, &format!("/mod/comments/{parent}/remove"), &[("reason", "Off topic")]).await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    reader
        .wait()
        .for_element(Locator::XPath(&format!(
            "//li[@id='comment-{parent}']/details/div[@class='comment-body'][p='[removed by a moderator]']"
        )))
        .await
        .unwrap();
    // Its replies stay where they were.
    reader.find(Locator::Css(&format!("#comment-{parent} .replies #comment-{reply}"))).await.unwrap();
    let r = app.post_form(&mona, &format!("/mod/articles/{SEED_SLUG}/lock"), &[("reason", "Enough said.")]).await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let notice = reader.wait().for_element(Locator::Css("#comments .live-notice")).await.unwrap();
    assert!(notice.text().await.unwrap().contains("now closed"));

    reader.close().await.unwrap();
    writer.close().await.unwrap();
}

browser_tests!(a_reader_saves_an_article_and_finds_it_on_saved);

async fn a_reader_saves_an_article_and_finds_it_on_saved(backend: Backend) {
    let Some(client) = browser().await else { return };
    let app = TestApp::builder(backend).with_seed_article().start().await;
    app.signup("ann").await;

    // Anonymous: Save leads to the login page, and back to the article, saved.
    client.goto(&app.url(&format!("/articles/{SEED_SLUG}"))).await.unwrap();
    client.wait().for_element(Locator::Css(".source-link a.save-button")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Id("field-login")).await.unwrap().send_keys("ann").await.unwrap();
    client.find(Locator::Id("field-password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
    let button = client.wait().for_element(Locator::Css(".source-link .save-button[aria-pressed=true]")).await.unwrap();
    assert_eq!(button.text().await.unwrap(), "★ Saved");
    assert_eq!(client.current_url().await.unwrap().path(), format!("/articles/{SEED_SLUG}"));

    // Unsave and save again without a reload.
    button.click().await.unwrap();
    client.wait().for_element(Locator::Css(".source-link .save-button[aria-pressed=false]")).await.unwrap();
    client.find(Locator::Css(".source-link .save-button")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Css(".source-link .save-button[aria-pressed=true]")).await.unwrap();

    // It is on /saved.
    client.find(Locator::LinkText("Saved")).await.unwrap().click().await.unwrap();
    let title = client.wait().for_element(Locator::Css(".article-card h2 a")).await.unwrap();
    assert!(title.text().await.unwrap().starts_with("Meta (again) denies"));
    client.close().await.unwrap();
}

browser_tests!(a_report_is_acted_on);

async fn a_report_is_acted_on(backend: Backend) {
    let Some(reader) = browser().await else { return };
    let Some(moderator) = browser().await else { return };
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let troll = app.signup("troll").await;
    let bad = app.comment(&troll, SEED_SLUG, "Something nasty", None).await;
    let article = app.url(&format!("/articles/{SEED_SLUG}"));

    // A reader reports it.
    sign_up(&reader, &app, "ann").await;
    reader.goto(&article).await.unwrap();
    reader
        .wait()
        .for_element(Locator::Css(&format!("#comment-{bad} .report-link")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    reader
        .wait()
        .for_element(Locator::Css("input[name=reason][value=harassment]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    reader.find(Locator::Css("form button.danger")).await.unwrap().click().await.unwrap();
    let thanks = reader.wait().for_element(Locator::Css(".notice")).await.unwrap();
    assert!(thanks.text().await.unwrap().contains("Thank you"));

    // A moderator removes it from the reports.
    sign_up(&moderator, &app, "moe").await;
    app.set_role("moe", "moderator").await;
    moderator.goto(&app.url("/mod/reports")).await.unwrap();
    let group = format!("#report-{bad}");
    moderator.wait().for_element(Locator::Css(&format!("{group} .reasons"))).await.unwrap();
    moderator
        .find(Locator::Css(&format!("{group} input[name=reason]")))
        .await
        .unwrap()
        .send_keys("Harassment")
        .await
        .unwrap();
    // Remove (not Dismiss, which names a form of its own); the script may ask first.
    moderator.find(Locator::Css(&format!("{group} button:not([form])"))).await.unwrap().click().await.unwrap();
    let _ = moderator.accept_alert().await;
    // On to the next report: none is left.
    moderator.wait().for_element(Locator::Css(".empty")).await.unwrap();
    assert_eq!(moderator.current_url().await.unwrap().path(), "/mod/reports");

    // The reader sees the placeholder; the log shows the action.
    reader.goto(&article).await.unwrap();
    let body = reader.wait().for_element(Locator::Css(&format!("#comment-{bad} .comment-body"))).await.unwrap();
    assert_eq!(body.text().await.unwrap(), "[removed by a moderator]");
    reader.goto(&app.url("/modlog")).await.unwrap();
    let row = reader.wait().for_element(Locator::Css(".modlog tbody tr")).await.unwrap();
    let text = row.text().await.unwrap();
    assert!(text.contains("remove comment") && text.contains("moe") && text.contains("Harassment"), "{text}");
    assert!(!text.contains("nasty"));

    reader.close().await.unwrap();
    moderator.close().await.unwrap();
}

browser_tests!(a_reader_opens_more_replies_in_place);

async fn a_reader_opens_more_replies_in_place(backend: Backend) {
    let Some(client) = browser().await else { return };
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let bob = app.signup("bob").await;
    let top = app.comment(&bob, SEED_SLUG, "A busy comment", None).await;
    let mut replies = Vec::new();
    for i in 0..14 {
        replies.push(app.comment(&bob, SEED_SLUG, &format!("Reply {i}"), Some(top)).await);
    }
    client.goto(&app.url(&format!("/articles/{SEED_SLUG}"))).await.unwrap();
    let shown = format!("#comment-{top} > details > .replies > li.comment");
    client.wait().for_element(Locator::Css(&shown)).await.unwrap();
    assert_eq!(client.find_all(Locator::Css(&shown)).await.unwrap().len(), 10);
    // Times are sent absolute and shown relative by the script.
    let time = client.find(Locator::Css(&format!("#comment-{top} > details > .comment-meta time"))).await.unwrap();
    assert_eq!(time.text().await.unwrap(), "just now");
    assert!(time.attr("title").await.unwrap().unwrap().ends_with(" UTC"));

    let link = client.find(Locator::Css(&format!("#comment-{top} .more-replies a"))).await.unwrap();
    assert_eq!(link.text().await.unwrap(), "4 more replies");
    link.click().await.unwrap();
    let all_shown = format!("return document.querySelectorAll('{shown}').length === 14");
    for _ in 0..100 {
        if client.execute(&all_shown, vec![]).await.unwrap().as_bool() == Some(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(client.find_all(Locator::Css(&shown)).await.unwrap().len(), 14, "the rest opened in place");
    assert_eq!(client.current_url().await.unwrap().path(), format!("/articles/{SEED_SLUG}"), "on the same page");
    assert!(client.find_all(Locator::Css(".more-replies")).await.unwrap().is_empty());
    // Each once, in the thread's order (newest first at equal scores).
    let ids: Vec<String> = client
        .execute(&format!("return [...document.querySelectorAll('{shown}')].map(e => e.dataset.id)"), vec![])
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = replies.iter().rev().map(|id| id.to_string()).collect();
    assert_eq!(ids, expected);
    client.close().await.unwrap();
}

/// Waits until `script` (a function body) returns true in the page, for up to ten seconds.
async fn wait_until(client: &fantoccini::Client, script: &str, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if client.execute(script, vec![]).await.unwrap().as_bool() == Some(true) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Marks the page, so that a test can tell whether it was reloaded or left.
async fn mark_page(client: &fantoccini::Client) {
    client.execute("window.__page = 'same'", vec![]).await.unwrap();
}

async fn same_page(client: &fantoccini::Client) -> bool {
    client.execute("return window.__page === 'same'", vec![]).await.unwrap().as_bool() == Some(true)
}

browser_tests!(
    saving_with_the_script_keeps_the_reader_in_place,
    replies_and_edits_sent_by_the_script_stay_in_the_thread,
    a_delete_that_asks_first_sends_nothing_when_cancelled,
    a_box_opened_in_place_asks_before_it_drops_words,
);

async fn saving_with_the_script_keeps_the_reader_in_place(backend: Backend) {
    let Some(client) = browser().await else { return };
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let bob = app.signup("bob").await;
    for i in 0..6 {
        app.comment(&bob, SEED_SLUG, &format!("Comment {i} that makes the page longer than a phone"), None).await;
    }
    sign_up(&client, &app, "ann").await;
    let saved = || {
        let app = &app;
        async move {
            use afterword::db::schema::saved_articles;
            use diesel::prelude::*;
            app.with_conn(|c| saved_articles::table.count().get_result::<i64>(c).unwrap()).await
        }
    };

    // A phone, scrolled down to the button.
    client.set_window_size(360, 640).await.unwrap();
    let article = format!("/articles/{SEED_SLUG}");
    client.goto(&app.url(&article)).await.unwrap();
    client.wait().for_element(Locator::Css(".source-link .save-button[aria-pressed=false]")).await.unwrap();
    let scrolled = client
        .execute(
            "document.querySelector('.source-link .save-button').scrollIntoView({block: 'center'}); \
             return window.scrollY",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(scrolled > 100.0, "the page scrolls on a phone: {scrolled}");
    mark_page(&client).await;

    for (pressed, label, stored) in [(true, "★ Saved", 1), (false, "☆ Save", 0), (true, "★ Saved", 1)] {
        client.find(Locator::Css(".source-link .save-button")).await.unwrap().click().await.unwrap();
        let button = client
            .wait()
            .for_element(Locator::Css(&format!(".source-link .save-button[aria-pressed={pressed}]")))
            .await
            .unwrap();
        assert_eq!(button.text().await.unwrap(), label);
        assert_eq!(saved().await, stored, "stored as the button shows");
        assert!(same_page(&client).await, "the page was neither reloaded nor left");
        let url = client.current_url().await.unwrap();
        assert_eq!((url.path(), url.fragment()), (article.as_str(), None));
        let y = client.execute("return window.scrollY", vec![]).await.unwrap().as_f64().unwrap();
        assert_eq!(y, scrolled, "the reader stays where they were");
        let next = client
            .find(Locator::Css(".source-link .save-form input[name=action]"))
            .await
            .unwrap()
            .attr("value")
            .await
            .unwrap();
        assert_eq!(next.as_deref(), Some(if pressed { "unsave" } else { "save" }));
    }

    // The saved page lists it.
    client.goto(&app.url("/saved")).await.unwrap();
    let title = client.wait().for_element(Locator::Css(".article-card h2 a")).await.unwrap();
    assert!(title.text().await.unwrap().starts_with("Meta (again) denies"));
    client.close().await.unwrap();
}

async fn replies_and_edits_sent_by_the_script_stay_in_the_thread(backend: Backend) {
    use afterword::auth::ratelimit::RateLimitConfig;
    let Some(client) = browser().await else { return };
    let app = TestApp::builder(backend)
        .with_seed_article()
        .configure(|c| {
            c.rate_limits =
                RateLimitConfig { comments_per_minute: 1, new_account_comments_per_minute: 1, ..RateLimitConfig::off() }
        })
        .start()
        .await;
    let bob = app.signup("bob").await;
    let bobs = app.comment(&bob, SEED_SLUG, "Bob's comment", None).await;
    sign_up(&client, &app, "ann").await;
    let article = format!("/articles/{SEED_SLUG}");
    let bob_comment = format!("#comment-{bobs}");
    let stored = |body: &'static str| {
        let app = &app;
        async move {
            use afterword::db::schema::comments;
            use diesel::prelude::*;
            app.with_conn(move |c| {
                comments::table.filter(comments::body_source.eq(body)).count().get_result::<i64>(c).unwrap()
            })
            .await
        }
    };

    client.goto(&app.url(&article)).await.unwrap();
    client.wait().for_element(Locator::Css("#comments[data-live=open]")).await.unwrap();
    mark_page(&client).await;

    // A reply: it takes its place under its parent, and the reader stays there.
    client.find(Locator::Css(&format!("{bob_comment} .reply-link"))).await.unwrap().click().await.unwrap();
    let textarea =
        client.wait().for_element(Locator::Css(&format!("{bob_comment} form.compose.inline textarea"))).await.unwrap();
    let labelled = client
        .execute(
            &format!(
                "const box = document.querySelector('{bob_comment} form.compose.inline textarea'); \
                 return document.querySelectorAll('[id=\"' + box.id + '\"]').length === 1 && box.labels.length === 1"
            ),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(labelled.as_bool(), Some(true), "the reply box has an id and a label of its own");
    textarea.send_keys("A first reply").await.unwrap();
    client
        .find(Locator::Css(&format!("{bob_comment} form.compose.inline button[value=post]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let reply = client
        .wait()
        .for_element(Locator::XPath(&format!(
            "//li[@id='comment-{bobs}']/details/ol[@class='replies']/li[.//div[@class='comment-body'][p='A first reply']]"
        )))
        .await
        .unwrap();
    let reply_id = reply.attr("data-id").await.unwrap().unwrap();
    assert!(same_page(&client).await, "no page was loaded");
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), article);
    assert_eq!(url.fragment(), Some(format!("comment-{reply_id}").as_str()));
    assert!(client.find_all(Locator::Css("form.compose.inline")).await.unwrap().is_empty(), "the box closed");
    let focused =
        client.execute("return document.activeElement.closest('li.comment')?.id ?? null", vec![]).await.unwrap();
    assert_eq!(focused.as_str(), Some(format!("comment-{reply_id}").as_str()), "the reader is at their reply");
    assert_eq!(client.find(Locator::Css(".comment-count")).await.unwrap().text().await.unwrap(), "2");
    // Its own live event does not announce it as new.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(client.find(Locator::Css(".live-arrivals-count")).await.unwrap().text().await.unwrap(), "");
    assert_eq!(stored("A first reply").await, 1);

    // An edit: the text changes in place.
    let reply_css = format!("#comment-{reply_id}");
    client.find(Locator::Css(&format!("{reply_css} .edit-link"))).await.unwrap().click().await.unwrap();
    let textarea =
        client.wait().for_element(Locator::Css(&format!("{reply_css} form.compose.inline textarea"))).await.unwrap();
    textarea.clear().await.unwrap();
    textarea.send_keys("An edited reply").await.unwrap();
    client
        .find(Locator::Css(&format!("{reply_css} form.compose.inline button[value=post]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::XPath(&format!(
            "//li[@id='comment-{reply_id}']/details/div[@class='comment-body'][p='An edited reply']"
        )))
        .await
        .unwrap();
    // The live stream may show the new text before the script's own answer closes the
    // box: wait for that too.
    wait_until(&client, "return document.querySelectorAll('form.compose.inline').length === 0", "the box closed").await;
    assert!(same_page(&client).await, "no page was loaded");
    assert_eq!(client.current_url().await.unwrap().path(), article);
    assert_eq!(stored("An edited reply").await, 1);

    // A second reply within the minute is refused: the box stays open with the text and
    // the server's reason.
    client
        .find(Locator::Css(&format!("{bob_comment} > details > .comment-actions .reply-link")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let box_css = format!("{bob_comment} > details > form.compose.inline");
    let textarea = client.wait().for_element(Locator::Css(&format!("{box_css} textarea"))).await.unwrap();
    textarea.send_keys("Too soon a reply").await.unwrap();
    client.find(Locator::Css(&format!("{box_css} button[value=post]"))).await.unwrap().click().await.unwrap();
    let alert = client.wait().for_element(Locator::Css(&format!("{box_css} [role=alert]"))).await.unwrap();
    assert!(alert.text().await.unwrap().contains("Too many requests"), "{}", alert.text().await.unwrap());
    assert_eq!(textarea.prop("value").await.unwrap().as_deref(), Some("Too soon a reply"));
    assert_eq!(textarea.attr("aria-invalid").await.unwrap().as_deref(), Some("true"));
    assert!(same_page(&client).await, "no page was loaded");
    assert_eq!(stored("Too soon a reply").await, 0);

    // Too long a text: the reason changes, the text stays.
    let long = "y".repeat(10_001);
    client
        .execute(
            &format!("document.querySelector('{box_css} textarea').value = arguments[0]"),
            vec![serde_json::Value::String(long.clone())],
        )
        .await
        .unwrap();
    client.find(Locator::Css(&format!("{box_css} button[value=post]"))).await.unwrap().click().await.unwrap();
    wait_until(
        &client,
        &format!("return document.querySelector('{box_css} [role=alert]').textContent.includes('10000')"),
        "the length is refused",
    )
    .await;
    assert_eq!(textarea.prop("value").await.unwrap().map(|v| v.len()), Some(long.len()));
    assert_eq!(client.find_all(Locator::Css(&format!("{box_css} [role=alert]"))).await.unwrap().len(), 1);
    assert!(same_page(&client).await, "no page was loaded");

    client.close().await.unwrap();
}

async fn a_delete_that_asks_first_sends_nothing_when_cancelled(backend: Backend) {
    let Some(client) = browser().await else { return };
    let app = TestApp::builder(backend).with_seed_article().start().await;
    sign_up(&client, &app, "ann").await;
    let article = format!("/articles/{SEED_SLUG}");
    client.goto(&app.url(&article)).await.unwrap();
    client
        .wait()
        .for_element(Locator::Css("#comments form.compose textarea"))
        .await
        .unwrap()
        .send_keys("Soon regretted")
        .await
        .unwrap();
    client.find(Locator::Css("#comments form.compose button[value=post]")).await.unwrap().click().await.unwrap();
    let mine = client.wait().for_element(Locator::Css("#comments li.comment")).await.unwrap();
    let id: i64 = mine.attr("data-id").await.unwrap().unwrap().parse().unwrap();
    let status = || {
        let app = &app;
        async move {
            use afterword::db::schema::comments;
            use diesel::prelude::*;
            // A deleted comment without replies is gone; with replies it stays as a placeholder.
            app.with_conn(move |c| {
                let status = comments::table.find(id).select(comments::status).first::<String>(c).optional().unwrap();
                status.unwrap_or_else(|| "deleted".to_owned())
            })
            .await
        }
    };

    client.goto(&app.url(&article)).await.unwrap();
    let delete = client.wait().for_element(Locator::Css(&format!("#comment-{id} button.delete"))).await.unwrap();
    let question = delete.attr("data-confirm").await.unwrap().expect("the delete button asks first");
    assert!(!question.is_empty());
    mark_page(&client).await;
    // What the page would send, seen after the script had its say (kept across pages).
    client
        .execute(
            "window.addEventListener('submit', function (event) { \
               const confirm = new FormData(event.target, event.submitter).get('confirm'); \
               sessionStorage.setItem('sent', JSON.stringify({ prevented: event.defaultPrevented, confirm: confirm })); \
             })",
            vec![],
        )
        .await
        .unwrap();

    // Cancelled: nothing is sent.
    delete.click().await.unwrap();
    assert_eq!(client.get_alert_text().await.unwrap(), question);
    client.dismiss_alert().await.unwrap();
    let sent = client.execute("return JSON.parse(sessionStorage.getItem('sent'))", vec![]).await.unwrap();
    assert_eq!(sent["prevented"], true, "{sent}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(same_page(&client).await, "the page stayed");
    assert_eq!(status().await, "visible");
    assert_eq!(
        client.find_all(Locator::Css("#comment-actions input[name=confirm]")).await.unwrap().len(),
        0,
        "nothing is left in the form"
    );

    // Accepted: the request carries confirm=yes and the comment is deleted.
    delete.click().await.unwrap();
    assert_eq!(client.get_alert_text().await.unwrap(), question);
    client.accept_alert().await.unwrap();
    wait_until(
        &client,
        "return window.__page === undefined && document.readyState === 'complete'",
        "the page the delete goes back to",
    )
    .await;
    let sent = client.execute("return JSON.parse(sessionStorage.getItem('sent'))", vec![]).await.unwrap();
    assert_eq!(sent, serde_json::json!({ "prevented": false, "confirm": "yes" }));
    for _ in 0..100 {
        if status().await == "deleted" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status().await, "deleted");
    client.close().await.unwrap();
}

/// A reply box opened in place that the reader has written in asks before it closes
/// (its link clicked again, or Cancel); an untouched one just closes.
async fn a_box_opened_in_place_asks_before_it_drops_words(backend: Backend) {
    let Some(client) = browser().await else { return };
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let bob = app.signup("bob").await;
    let id = app.comment(&bob, SEED_SLUG, "Something to answer", None).await;
    sign_up(&client, &app, "ann").await;
    client.goto(&app.url(&format!("/articles/{SEED_SLUG}"))).await.unwrap();
    let reply = client.wait().for_element(Locator::Css(&format!("#comment-{id} a[data-reply]"))).await.unwrap();
    reply.click().await.unwrap();
    let boxes = format!("#comment-{id} form.inline textarea");
    client.wait().for_element(Locator::Css(&boxes)).await.unwrap().send_keys("Half a thought").await.unwrap();

    // Kept when the reader says so.
    reply.click().await.unwrap();
    assert_eq!(client.get_alert_text().await.unwrap(), "Discard what you wrote?");
    client.dismiss_alert().await.unwrap();
    let kept = client.find(Locator::Css(&boxes)).await.unwrap();
    assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some("Half a thought"));
    // Dropped when they agree.
    client
        .find(Locator::Css(&format!("#comment-{id} form.inline button.secondary[type=button]")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.accept_alert().await.unwrap();
    assert!(client.find_all(Locator::Css(&boxes)).await.unwrap().is_empty());
    // Nothing written: nothing asked.
    reply.click().await.unwrap();
    client.wait().for_element(Locator::Css(&boxes)).await.unwrap();
    reply.click().await.unwrap();
    assert!(client.get_alert_text().await.is_err(), "no question about an empty box");
    assert!(client.find_all(Locator::Css(&boxes)).await.unwrap().is_empty());
    client.close().await.unwrap();
}

browser_tests!(comments_embedded_in_another_site);

/// A page of "another site" (`localhost`, while the site is on `127.0.0.1`: another
/// site to the browser) that embeds the comments of `app` for its address, with a
/// comment count; served by a tiny server of its own. Returns its address.
async fn host_page(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let origin = format!("http://localhost:{port}");
    let page = format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Post one</title>\
         <meta property=\"og:title\" content=\"Post one: a title\">\
         <meta property=\"og:description\" content=\"What the post says.\"></head>\
         <body><h1>Post one</h1><p id=count data-afterword-count=\"{origin}/post-1\">comments</p>\
         <script src=\"{}/embed.js\" data-url=\"{origin}/post-1\"></script></body></html>",
        app.address
    );
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // Bounded: the test's browser asks for a handful of pages.
        for _ in 0..100 {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let page = page.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    origin
}

async fn comments_embedded_in_another_site(backend: Backend) {
    let Some(client) = browser().await else { return };
    let app = TestApp::builder(backend).start().await;
    let host = host_page(&app).await;
    let admin = app.signup_as("ada", "admin").await;
    let saved = app.post_form(&admin, "/admin/settings/embed", &[("origins", &host)]).await;
    assert_eq!(saved.status(), reqwest::StatusCode::SEE_OTHER);
    app.signup("ann").await;

    // The host page: the frame shows the (empty) thread, the count is filled.
    client.goto(&format!("{host}/post-1")).await.unwrap();
    let main_window = client.window().await.unwrap();
    client.wait().for_element(Locator::Css("iframe.afterword-comments")).await.unwrap();
    wait_until(&client, "return document.getElementById('count').textContent === '0 comments'", "the count").await;
    client.enter_frame(Some(0)).await.unwrap();
    let heading = client.wait().for_element(Locator::Css(".aw-heading")).await.unwrap();
    assert_eq!(heading.text().await.unwrap(), "Comments (0)");
    assert_eq!(client.find(Locator::Css(".aw-empty")).await.unwrap().text().await.unwrap(), "Be the first to comment!");

    // Log in through the popup, on the site's own origin.
    client.find(Locator::Css(".aw-who button")).await.unwrap().click().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let popup = loop {
        let windows = client.windows().await.unwrap();
        if let Some(w) = windows.into_iter().find(|w| *w != main_window) {
            break w;
        }
        assert!(std::time::Instant::now() < deadline, "no popup opened");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    client.switch_to_window(popup).await.unwrap();
    client.wait().for_element(Locator::Id("field-login")).await.unwrap().send_keys("ann").await.unwrap();
    client.find(Locator::Id("field-password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
    let question = client.wait().for_element(Locator::Css(".embed-consent h1")).await.unwrap();
    assert_eq!(question.text().await.unwrap(), "Let the comments on localhost post as ann?");
    client.find(Locator::Css("button[value=allow]")).await.unwrap().click().await.unwrap();
    // The popup hands the token over and closes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while client.windows().await.unwrap().len() > 1 {
        assert!(std::time::Instant::now() < deadline, "the popup did not close");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    client.switch_to_window(main_window).await.unwrap();
    client.enter_frame(Some(0)).await.unwrap();
    let me = client.wait().for_element(Locator::Css(".aw-me")).await.unwrap();
    assert_eq!(me.text().await.unwrap(), "Commenting as ann");

    // The first comment: it makes the article.
    let textarea = client.wait().for_element(Locator::Css(".aw-compose-box textarea")).await.unwrap();
    textarea.send_keys("Hello from *the blog*").await.unwrap();
    client.find(Locator::Css(".aw-compose-box button[type=submit]")).await.unwrap().click().await.unwrap();
    // (The frame renders its list again as things change: nothing of it is held on to.)
    let mine = "//li[contains(@class,'aw-comment')][.//em[text()='the blog']]";
    client.wait().for_element(Locator::XPath(mine)).await.unwrap();
    wait_until(
        &client,
        &format!(
            "var li = document.evaluate(\"{mine}\", document, null, 9, null).singleNodeValue; \
             return !!li && li.querySelector('.aw-author').textContent === 'ann'"
        ),
        "ann's comment",
    )
    .await;
    wait_until(&client, "return document.querySelector('.aw-heading').textContent === 'Comments (1)'", "the count")
        .await;

    // A reply, in place under it.
    client.find(Locator::Css(".aw-comment .aw-reply")).await.unwrap().click().await.unwrap();
    let area = client.wait().for_element(Locator::Css(".aw-comment .aw-slot textarea")).await.unwrap();
    area.send_keys("And a reply").await.unwrap();
    client.find(Locator::Css(".aw-comment .aw-slot button[type=submit]")).await.unwrap().click().await.unwrap();
    client
        .wait()
        .for_element(Locator::XPath(
            "//ul[@class='aw-replies']/li[contains(@class,'aw-comment')][.//p[text()='And a reply']]",
        ))
        .await
        .unwrap();
    wait_until(&client, "return document.querySelector('.aw-heading').textContent === 'Comments (2)'", "the count")
        .await;

    // Another reader's comment, posted on the site, appears in the frame as it happens.
    wait_until(&client, "return document.getElementById('afterword-thread').dataset.live === 'open'", "the stream")
        .await;
    let bob = app.signup("bob").await;
    app.comment(&bob, "post-one-a-title", "Bob was here", None).await;
    client
        .wait()
        .for_element(Locator::XPath("//li[contains(@class,'aw-comment')][.//p[text()='Bob was here']]"))
        .await
        .unwrap();
    wait_until(&client, "return document.querySelector('.aw-heading').textContent === 'Comments (3)'", "the count")
        .await;

    // The frame grew to show it.
    client.enter_parent_frame().await.unwrap();
    wait_until(
        &client,
        "return document.querySelector('iframe.afterword-comments').offsetHeight > 220",
        "the frame's height",
    )
    .await;

    // The site's own page of the article shows it.
    client.goto(&app.url("/articles/post-one-a-title")).await.unwrap();
    let body = client
        .wait()
        .for_element(Locator::XPath("//div[@class='comment-body'][.//em[text()='the blog']]"))
        .await
        .unwrap();
    assert!(body.text().await.unwrap().contains("Hello from"));
    client.find(Locator::XPath("//div[@class='comment-body'][p='And a reply']")).await.unwrap();
    let title = client.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    assert_eq!(title, "Post one: a title");

    client.close().await.unwrap();
}

browser_tests!(a_reader_quotes_a_selection_and_a_takeaway);

/// Saves a screenshot of the page at `width` when `AFTERWORD_SCREENSHOT_DIR` names a
/// folder: for a person to look at the page, wide and narrow.
async fn screenshot(client: &fantoccini::Client, name: &str, width: u32, at: &str) {
    let Ok(dir) = std::env::var("AFTERWORD_SCREENSHOT_DIR") else { return };
    client.set_window_size(width, 1400).await.unwrap();
    let scroll = format!("document.querySelector({at:?}).scrollIntoView({{ block: 'start' }})");
    client.execute(&scroll, vec![]).await.unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(std::path::Path::new(&dir).join(format!("{name}-{width}.png")), png).unwrap();
}

async fn a_reader_quotes_a_selection_and_a_takeaway(backend: Backend) {
    let Some(client) = browser().await else { return };
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let bob = app.signup("bob").await;
    let fields = [("body", "Bob on the first takeaway"), ("quote", "takeaway-1")];
    let r = app.post_form(&bob, &format!("/articles/{SEED_SLUG}/comments"), &fields).await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    sign_up(&client, &app, "ann").await;
    let article = app.url(&format!("/articles/{SEED_SLUG}"));
    client.goto(&article).await.unwrap();
    client.wait().for_element(Locator::Css("#comment-form textarea")).await.unwrap();
    mark_page(&client).await;

    // Select "court filing" in the summary's second sentence, as a reader would with the
    // mouse: the button appears, and pressing it fills the form's quote.
    client
        .execute(
            "const node = document.getElementById('sentence-2').firstChild;
             const at = node.textContent.indexOf('court filing');
             const range = document.createRange();
             range.setStart(node, at); range.setEnd(node, at + 'court filing'.length);
             const selection = window.getSelection();
             selection.removeAllRanges(); selection.addRange(range);
             document.getElementById('sentence-2').dispatchEvent(new MouseEvent('mouseup', { bubbles: true }));",
            vec![],
        )
        .await
        .unwrap();
    let button = client.wait().for_element(Locator::Css("button.quote-selection:not([hidden])")).await.unwrap();
    assert_eq!(button.text().await.unwrap(), "Quote in a comment");
    button.click().await.unwrap();
    wait_until(&client, "return !document.getElementById('compose-quote').hidden", "the quote shows in the form").await;
    let fields: serde_json::Value = client
        .execute(
            "const form = document.getElementById('comment-form');
             return [form.quote.value, form.quote_text.value, document.querySelector('#compose-quote blockquote').textContent,
                     document.activeElement === form.querySelector('textarea')];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fields, serde_json::json!(["summary-2", "court filing", "court filing", true]));
    screenshot(&client, "quote-form", 1280, "#comments").await;
    screenshot(&client, "quote-form", 390, "#comments").await;
    client.set_window_size(1280, 900).await.unwrap();
    client.find(Locator::Css("#comment-form textarea")).await.unwrap().send_keys("About that filing").await.unwrap();
    client.find(Locator::Css("#comment-form button[value=post]")).await.unwrap().click().await.unwrap();
    client
        .wait()
        .for_element(Locator::XPath("//li[contains(@class,'comment')][.//blockquote[text()='court filing']]"))
        .await
        .unwrap();
    assert!(same_page(&client).await, "posted without leaving the page");
    // Posted, the form lets the quote go.
    wait_until(&client, "return document.getElementById('compose-quote').hidden", "the quote is cleared").await;

    // "Discuss" quotes its takeaway in place.
    client.find(Locator::Css("#takeaway-2 a.discuss")).await.unwrap().click().await.unwrap();
    wait_until(&client, "return !document.getElementById('compose-quote').hidden", "the takeaway is quoted").await;
    assert!(same_page(&client).await, "no page change");
    let quoted: serde_json::Value =
        client.execute("return document.getElementById('comment-form').quote.value", vec![]).await.unwrap();
    assert_eq!(quoted, "takeaway-2");
    client.find(Locator::Css("#comment-form textarea")).await.unwrap().send_keys("On the second").await.unwrap();
    client.find(Locator::Css("#comment-form button[value=post]")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::XPath("//div[@class='comment-body'][p='On the second']")).await.unwrap();

    // After a reload the counts say so.
    client.goto(&article).await.unwrap();
    let counts: serde_json::Value = client
        .execute(
            "return [...document.querySelectorAll('.takeaway-item a.discuss [aria-hidden]')].map(e => e.textContent)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(counts, serde_json::json!(["Discuss · 1", "Discuss · 1", "Discuss · 0", "Discuss · 0"]));
    client.find(Locator::Css("#takeaway-1 details.most-useful summary")).await.unwrap().click().await.unwrap();
    screenshot(&client, "article", 1280, ".takeaways").await;
    screenshot(&client, "article", 390, ".takeaways").await;
    screenshot(&client, "thread", 1280, "#comments").await;
    screenshot(&client, "thread", 390, "#comments").await;

    // A thread filtered to one takeaway takes only the new comments that quote it.
    client.goto(&format!("{article}?takeaway=1")).await.unwrap();
    client.wait().for_element(Locator::Css("#comments[data-live=open]")).await.unwrap();
    app.comment(&bob, SEED_SLUG, "Bob on nothing", None).await;
    let fields = [("body", "Bob again on the first"), ("quote", "takeaway-1")];
    let r = app.post_form(&bob, &format!("/articles/{SEED_SLUG}/comments"), &fields).await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let count_css = "#comments .live-arrivals .live-arrivals-count";
    wait_until(
        &client,
        &format!("return document.querySelector('{count_css}').textContent === '1 new comment'"),
        "the quoting comment announced",
    )
    .await;
    client.find(Locator::Css("#comments .live-arrivals button")).await.unwrap().click().await.unwrap();
    client
        .wait()
        .for_element(Locator::XPath("//div[@class='comment-body'][p='Bob again on the first']"))
        .await
        .unwrap();
    let others = client.find_all(Locator::XPath("//div[@class='comment-body'][p='Bob on nothing']")).await.unwrap();
    assert!(others.is_empty(), "a comment on nothing stays out of the filtered thread");
    client.close().await.unwrap();
}
