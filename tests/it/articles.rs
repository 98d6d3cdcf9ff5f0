//! The front page and article pages.

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::{assert_in_order, collapse, Page};
use crate::common::{generated_articles, Backend, TestApp, SEED_SLUG};

both_backends!(
    seed_article_page_shows_every_element_in_order,
    front_page_lists_newest_first_in_pages_of_twenty,
    bad_page_numbers_are_400_and_pages_past_the_end_404,
    unknown_articles_and_routes_are_404_pages,
    slugs_are_unique_and_stable,
    text_is_escaped,
    security_headers_on_pages_errors_and_static_files,
    static_files_are_sent_precompressed_without_cookies,
    a_new_visitor_gets_a_cookie_only_with_a_form,
);

async fn seed_article_page_shows_every_element_in_order(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let (status, body) = app.page(&format!("/articles/{SEED_SLUG}")).await;
    assert_eq!(status, StatusCode::OK);
    let page = Page::parse(&body);
    let title = "Meta (again) denies that Netflix read users' private Facebook messages | TechCrunch";

    assert!(body.starts_with("<!DOCTYPE html><html lang=\"en\">"));
    assert_eq!(page.text("head title"), format!("{title} · Afterword"));
    assert!(page.attr("meta[name=description]", "content").starts_with("Meta has denied allegations"));
    assert_eq!(page.attr("meta[property='og:title']", "content"), title);
    assert_eq!(page.attr("meta[property='og:type']", "content"), "article");
    assert_eq!(page.attr("meta[property='og:url']", "content"), format!("http://127.0.0.1:8080/articles/{SEED_SLUG}"));
    assert_eq!(page.count("header.site-header"), 1);
    assert_eq!(page.count("main#main"), 1);
    assert_eq!(page.count("footer.site-footer"), 1);
    assert!(page.text("header.site-header").contains("Sign up to save articles"));

    assert_eq!(page.text("main h1"), title);
    assert_eq!(page.text("article .byline"), "Apr 02, 2024 - techcrunch.com");
    assert_eq!(page.attr("article .byline time", "datetime"), "2024-04-02");
    let paragraphs = page.texts("article .summary p");
    assert_eq!(paragraphs.len(), 2);
    assert!(paragraphs[0].starts_with("Meta has denied allegations"));
    assert!(paragraphs[1].starts_with("The document also claims that Netflix had access to Facebook's \"Titan API,\""));
    assert_eq!(page.text(".takeaways h2"), "Key takeaways");
    let takeaways = page.texts(".takeaways li");
    assert_eq!(takeaways.len(), 4);
    assert!(takeaways[0].starts_with("Meta is denying claims"));
    assert!(takeaways[1].starts_with("The claim is based on a court document"));
    assert!(takeaways[2].starts_with("Meta's communications director, Andy Stone, disputes"));
    assert!(takeaways[3].starts_with("The document also claims that Netflix had access to Facebook’s “Titan API,”"));
    let link = "article a.button";
    assert_eq!(page.text(link), "View Full Article");
    assert_eq!(page.attr(link, "href"), "https://techcrunch.com/");
    assert_eq!(page.attr(link, "rel"), "noopener noreferrer");
    assert_eq!(page.attr(link, "target"), "_blank");
    assert_eq!(page.text("#comments h2"), "Comments (0)");
    assert_eq!(page.text("#comments .empty"), "Be the first to comment!");
    assert_eq!(page.texts("article .tags li"), ["meta", "netflix", "privacy"]);

    // The order the page it was modelled on has.
    let main = page.text("main");
    assert_in_order(
        &main,
        &[
            title,
            "Apr 02, 2024 - techcrunch.com",
            "Meta has denied allegations",
            "The document also claims that Netflix had access",
            "Key takeaways",
            "Meta is denying claims",
            "Netflix also spent significant amounts on Facebook ads",
            "View Full Article",
            "Comments (0)",
            "Be the first to comment!",
        ],
    );
}

async fn front_page_lists_newest_first_in_pages_of_twenty(backend: Backend) {
    let app = TestApp::builder(backend).with_articles(generated_articles(45)).with_seed_article().start().await;

    let (status, body) = app.page("/").await;
    assert_eq!(status, StatusCode::OK);
    let page = Page::parse(&body);
    let titles = page.texts(".article-card h2");
    assert_eq!(titles.len(), 20);
    // The seed article (2024-04-02) is newest; then the generated ones, one day apart.
    assert!(titles[0].starts_with("Meta (again) denies"));
    let expected: Vec<String> = (0..19).map(|i| format!("Generated article number {i}")).collect();
    assert_eq!(titles[1..], expected[..]);
    let first = page.text(".article-card:first-child");
    assert_in_order(
        &first,
        &["Meta (again) denies", "Apr 02, 2024 - techcrunch.com", "Meta is denying claims", "0 comments"],
    );
    assert_eq!(page.attrs(".article-card h2 a", "href")[0], format!("/articles/{SEED_SLUG}"));
    assert_eq!(page.texts(".article-card .takeaway")[1], "First takeaway of article 0.");
    assert_eq!(page.attr("a[rel=next]", "href"), "/?page=2");
    assert_eq!(page.count("a[rel=prev]"), 0);

    let page2 = Page::parse(&app.page("/?page=2").await.1);
    let titles2 = page2.texts(".article-card h2");
    let expected2: Vec<String> = (19..39).map(|i| format!("Generated article number {i}")).collect();
    assert_eq!(titles2, expected2);
    assert_eq!(page2.attr("a[rel=prev]", "href"), "/");
    assert_eq!(page2.attr("a[rel=next]", "href"), "/?page=3");

    let page3 = Page::parse(&app.page("/?page=3").await.1);
    assert_eq!(page3.texts(".article-card h2").len(), 6);
    assert_eq!(page3.count("a[rel=next]"), 0);
    assert_eq!(page3.attr("a[rel=prev]", "href"), "/?page=2");
}

async fn bad_page_numbers_are_400_and_pages_past_the_end_404(backend: Backend) {
    let app = TestApp::builder(backend).with_articles(generated_articles(3)).start().await;
    for bad in ["0", "-1", "abc", "1.5", "99999999999", "", "%FF"] {
        let (status, body) = app.page(&format!("/?page={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "page={bad}");
        assert!(body.contains("page") || body.contains("query"), "the reason is given for page={bad}: {body}");
    }
    assert_eq!(app.page("/?page=2").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.page("/?page=100000").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.page("/?page=1").await.0, StatusCode::OK);

    let empty = TestApp::start(backend).await;
    let (status, body) = empty.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(collapse(&body).contains("No articles yet."));
}

async fn unknown_articles_and_routes_are_404_pages(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    for path in ["/articles/no-such-article", "/articles/UPPER", "/articles/%00", "/nowhere", "/articles/"] {
        let (status, body) = app.page(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let page = Page::parse(&body);
        assert_eq!(page.text("main h1"), "Page not found", "{path}");
    }
    // A valid form to a page that takes none.
    let response = app.post_form(&app.client, "/", &[]).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let response = app.post_form(&app.client, "/nowhere", &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

async fn slugs_are_unique_and_stable(backend: Backend) {
    let twin = |url: &str, summary: &str| {
        format!(
            r#"[{{"title":"Same Title!","source_url":"{url}","source_name":"example.com",
               "published_at":"2024-01-01","summary":["{summary}"],"key_takeaways":[]}}]"#
        )
    };
    let app = TestApp::builder(backend)
        .with_articles(twin("https://example.com/one", "First."))
        .with_articles(twin("https://example.com/two", "Second."))
        // The same article again, changed: updated in place, slug kept.
        .with_articles(twin("https://example.com/one", "First, revised."))
        .start()
        .await;
    let (status, body) = app.page("/articles/same-title").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(Page::parse(&body).text(".summary"), "First, revised.");
    let (status, body) = app.page("/articles/same-title-2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(Page::parse(&body).text(".summary"), "Second.");
    let listed = Page::parse(&app.page("/").await.1).attrs(".article-card h2 a", "href");
    assert_eq!(listed.len(), 2);
    // An article without takeaways shows no empty list.
    assert_eq!(Page::parse(&body).count(".takeaways"), 0);
}

async fn text_is_escaped(backend: Backend) {
    let hostile = r#"[{"title":"<script>alert(1)</script> & \"quotes\"","source_url":"https://example.com/x?a=1&b=\"2\"",
        "source_name":"<b>example</b>","published_at":"2024-01-01",
        "summary":["<img src=x onerror=alert(1)>"],"key_takeaways":["</li><script>bad()</script>"]}]"#;
    let app = TestApp::builder(backend).with_articles(hostile).start().await;
    let (status, body) = app.page("/articles/script-alert-1-script-quotes").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("<script>"), "no script element: {body}");
    assert!(!body.contains("<img src=x"));
    assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"));
    let page = Page::parse(&body);
    assert_eq!(page.text("main h1"), "<script>alert(1)</script> & \"quotes\"");
    assert_eq!(page.attr("article a.button", "href"), "https://example.com/x?a=1&b=\"2\"");
    assert_eq!(page.texts(".takeaways .takeaway-text"), ["</li><script>bad()</script>"]);
    let front = app.page("/").await.1;
    assert!(!front.contains("<script>") && !front.contains("<b>example"));
}

/// Static files come compressed as the client accepts (brotli first, then gzip), from
/// bytes compressed once, with their length, and set no cookie.
async fn static_files_are_sent_precompressed_without_cookies(backend: Backend) {
    use std::io::Read;
    let app = TestApp::start(backend).await;
    let page = Page::parse(&app.page("/").await.1);
    let client = app.new_client();
    for name in [page.attr("link[rel=stylesheet]", "href"), page.attr("script[src]", "src")] {
        let get = |encoding: &'static str| client.get(app.url(&name)).header("accept-encoding", encoding).send();
        let plain = get("identity").await.unwrap();
        assert_eq!(plain.headers()["content-encoding"], "identity", "{name}");
        assert!(plain.headers().get("set-cookie").is_none(), "{name}");
        let original = plain.bytes().await.unwrap();
        assert!(original.len() > 1000, "{name}");
        for (accepted, coding) in [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip")] {
            let response = get(accepted).await.unwrap();
            let h = response.headers().clone();
            assert_eq!(h["content-encoding"], coding, "{name} {accepted}");
            assert_eq!(h["vary"], "Accept-Encoding");
            assert_eq!(h["cache-control"], "public, max-age=31536000, immutable");
            assert!(h.get("set-cookie").is_none(), "{name}");
            let body = response.bytes().await.unwrap();
            assert_eq!(h["content-length"], body.len().to_string().as_str());
            assert!(body.len() < original.len() / 2, "{name} {coding}: {} of {}", body.len(), original.len());
            let mut unpacked = Vec::new();
            match coding {
                "br" => brotli::Decompressor::new(&body[..], 4096).read_to_end(&mut unpacked).unwrap(),
                _ => flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut unpacked).unwrap(),
            };
            assert_eq!(unpacked, original, "{name} {coding}");
        }
    }
}

/// Pages without a form set no cookie (so a shared cache may keep them); the first page
/// with one sets the cookie its CSRF token is bound to, and that form then works.
async fn a_new_visitor_gets_a_cookie_only_with_a_form(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let client = app.new_client();
    for path in ["/", &format!("/articles/{SEED_SLUG}"), "/search?q=meta", "/modlog", "/nowhere"] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert!(response.headers().get("set-cookie").is_none(), "{path}: {:?}", response.headers().get("set-cookie"));
    }
    let login = client.get(app.url("/login")).send().await.unwrap();
    let cookie = login.headers().get("set-cookie").expect("the login form's page sets the cookie").to_str().unwrap();
    assert!(cookie.starts_with("afterword_visitor="), "{cookie}");
    let token = Page::parse(&login.text().await.unwrap()).attr("input[name=csrf_token]", "value");
    let signup = client
        .post(app.url("/signup"))
        .form(&[
            ("username", "newcomer"),
            ("email", "newcomer@example.com"),
            ("password", crate::common::PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), StatusCode::SEE_OTHER, "the token works with the cookie it came with");
}

async fn security_headers_on_pages_errors_and_static_files(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let page = Page::parse(&app.page("/").await.1);
    let stylesheet = page.attr("link[rel=stylesheet]", "href");
    assert!(stylesheet.starts_with("/static/style.") && stylesheet.ends_with(".css"));
    for path in ["/", "/nowhere", stylesheet.as_str(), "/?page=x"] {
        let response = app.get(path).await;
        let h = response.headers();
        let csp = h.get("content-security-policy").unwrap_or_else(|| panic!("CSP on {path}")).to_str().unwrap();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin", "{path}");
        assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{path}");
        assert!(h.get("server").is_none(), "{path}");
    }
    let css = app.get(&stylesheet).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    assert!(!css.text().await.unwrap().is_empty());
    assert_eq!(app.get("/static/style.0000000000.css").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/static/style.css").await.status(), StatusCode::NOT_FOUND);
}
