//! In a real browser.

use fantoccini::Locator;

use crate::both_backends;
use crate::common::browser::browser;
use crate::common::{Backend, TestApp, PASSWORD, SEED_SLUG};

both_backends!(a_reader_opens_an_article_from_the_front_page, a_reader_signs_up_logs_out_and_logs_in);

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
