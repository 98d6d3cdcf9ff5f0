//! CSRF and origin checks on every state-changing route, security headers, cookies,
//! rate limits and body limits.

use afterword::auth::ratelimit::RateLimitConfig;
use afterword::db::schema::{outbox, sessions, users};
use afterword::web::routes::ROUTES;
use diesel::prelude::*;
use reqwest::header::{CACHE_CONTROL, ORIGIN, REFERER, RETRY_AFTER, SET_COOKIE};
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp, PASSWORD, SEED_SLUG};

both_backends!(
    every_state_changing_route_refuses_forged_requests,
    same_origin_proofs_and_the_header_token_are_accepted,
    logged_in_pages_are_not_cached,
    https_cookies_are_secure_and_host_prefixed,
    auth_attempts_are_limited_per_address_and_forwarded_for_is_not_believed,
    trusted_proxies_forward_the_client_address,
    failed_logins_are_limited_per_account,
    all_requests_are_limited_per_address,
    default_limits_stop_a_login_flood,
    bodies_over_the_limits_are_refused,
);

/// The route's path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{slug}", SEED_SLUG)
        .replace("{token}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .replace("{file}", "x")
        .replace("{id}", "1")
        .replace("{username}", "ann")
}

/// Everything a forged request could change.
async fn state(app: &TestApp) -> (i64, i64, i64, Vec<String>) {
    app.with_conn(|c| {
        (
            users::table.filter(users::deleted_at.is_null()).count().get_result(c).unwrap(),
            sessions::table.count().get_result(c).unwrap(),
            outbox::table.count().get_result(c).unwrap(),
            users::table.order(users::id).select(users::password_hash).load(c).unwrap(),
        )
    })
    .await
}

async fn every_state_changing_route_refuses_forged_requests(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let ann_token = app.csrf_token(&ann).await;
    let bob_token = app.csrf_token(&bob).await;
    let before = state(&app).await;

    // All but the digests' one-click unsubscribe, which mail clients post without a
    // cookie, Origin or form token: its signed token is its proof (tests/it/digests.rs
    // shows that a token that is not genuine changes nothing).
    let unsafe_routes: Vec<_> = ROUTES
        .iter()
        .filter(|r| r.method != "GET" && !afterword::web::digests::is_one_click(&concrete(r.path)))
        .collect();
    assert!(unsafe_routes.len() >= 10, "the table lists the state-changing routes: {unsafe_routes:?}");
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for route in unsafe_routes {
        let url = app.url(&concrete(route.path));
        let method = reqwest::Method::from_bytes(route.method.as_bytes()).unwrap();
        let form = |token: &str| vec![("csrf_token", token.to_owned()), ("password", PASSWORD.to_owned())];
        let attempts: Vec<(&str, reqwest::RequestBuilder)> = vec![
            ("no token", ann.request(method.clone(), &url).form(&[("password", PASSWORD)])),
            ("a wrong token", ann.request(method.clone(), &url).form(&form("d3JvbmcgdG9rZW4"))),
            ("another session's token", ann.request(method.clone(), &url).form(&form(&bob_token))),
            (
                "a cross-site Origin",
                ann.request(method.clone(), &url).header(ORIGIN, "https://evil.example").form(&form(&ann_token)),
            ),
            ("Origin null", ann.request(method.clone(), &url).header(ORIGIN, "null").form(&form(&ann_token))),
            (
                "a cross-site header token",
                ann.request(method.clone(), &url)
                    .header(ORIGIN, "https://evil.example")
                    .header("x-csrf-token", &ann_token),
            ),
            (
                "Sec-Fetch-Site cross-site without Origin",
                plain.request(method.clone(), &url).header("sec-fetch-site", "cross-site").form(&form(&ann_token)),
            ),
            (
                "a cross-site Referer without Origin",
                plain
                    .request(method.clone(), &url)
                    .header(REFERER, "https://evil.example/page")
                    .form(&form(&ann_token)),
            ),
            ("no Origin, Sec-Fetch-Site or Referer", plain.request(method.clone(), &url).form(&form(&ann_token))),
        ];
        for (what, request) in attempts {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{} {}: {what}", route.method, route.path);
            let body = response.text().await.unwrap();
            assert!(body.contains("could not be accepted"), "a clear page for {what}");
        }
    }
    assert_eq!(state(&app).await, before, "nothing changed");
    assert_eq!(app.page_as(&ann, "/settings").await.0, StatusCode::OK, "still logged in");
}

async fn same_origin_proofs_and_the_header_token_are_accepted(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.signup("ann").await;
    let plain =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let token = app.csrf_token(&plain).await;
    let fields = [("login", "ann"), ("password", PASSWORD), ("csrf_token", token.as_str())];
    let by_fetch_site =
        plain.post(app.url("/login")).header("sec-fetch-site", "same-origin").form(&fields).send().await.unwrap();
    assert_eq!(by_fetch_site.status(), StatusCode::SEE_OTHER);

    let plain =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let token = app.csrf_token(&plain).await;
    let fields = [("login", "ann"), ("password", PASSWORD), ("csrf_token", token.as_str())];
    let by_referer =
        plain.post(app.url("/login")).header(REFERER, app.url("/login")).form(&fields).send().await.unwrap();
    assert_eq!(by_referer.status(), StatusCode::SEE_OTHER);

    // Scripts send the token in a header.
    let token = app.csrf_token(&plain).await;
    let logout =
        plain.post(app.url("/logout")).header(ORIGIN, &app.address).header("x-csrf-token", token).send().await.unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.page_as(&plain, "/settings").await.0, StatusCode::SEE_OTHER);
}

async fn logged_in_pages_are_not_cached(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let anonymous = app.get("/").await;
    // Anonymous pages are cached (tests/it/cache.rs); a reader's never are.
    assert_eq!(anonymous.headers()[CACHE_CONTROL], "public, max-age=5");
    let ann = app.signup("ann").await;
    for path in ["/", &format!("/articles/{SEED_SLUG}"), "/settings", "/nowhere"] {
        let response = ann.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store", "{path}");
        assert_eq!(response.headers()["x-frame-options"], "DENY", "{path}");
    }
    let stylesheet = Page::parse(&app.page_as(&ann, "/").await.1).attr("link[rel=stylesheet]", "href");
    let css = ann.get(app.url(&stylesheet)).send().await.unwrap();
    assert_eq!(css.headers()[CACHE_CONTROL], "public, max-age=31536000, immutable");
    // A refused form has the headers too.
    let refused = ann.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.headers().get("content-security-policy").is_some());
}

async fn https_cookies_are_secure_and_host_prefixed(backend: Backend) {
    let app = TestApp::builder(backend)
        .configure(|c| c.base_url = url::Url::parse("https://afterword.example/").unwrap())
        .start()
        .await;
    let first = app.get("/login").await;
    let visitor = first.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(visitor.starts_with("__Host-afterword_visitor="), "{visitor}");
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(visitor.contains(flag), "{flag} in {visitor}");
    }
    assert!(!visitor.contains("Domain"), "{visitor}");
}

async fn login_attempt(
    app: &TestApp,
    client: &reqwest::Client,
    login: &str,
    password: &str,
    forwarded: Option<&str>,
) -> reqwest::Response {
    let token = app.csrf_token(client).await;
    let mut request =
        client.post(app.url("/login")).form(&[("login", login), ("password", password), ("csrf_token", &token)]);
    if let Some(ip) = forwarded {
        request = request.header("x-forwarded-for", ip);
    }
    request.send().await.unwrap()
}

fn assert_limited(response: &reqwest::Response) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1, "Retry-After: {retry}");
}

async fn auth_attempts_are_limited_per_address_and_forwarded_for_is_not_believed(backend: Backend) {
    let app = TestApp::builder(backend)
        .configure(|c| c.rate_limits = RateLimitConfig { auth_per_minute: 3, ..RateLimitConfig::off() })
        .start()
        .await;
    app.signup("ann").await; // one
    let client = app.new_client();
    for _ in 0..2 {
        assert_eq!(login_attempt(&app, &client, "ann", "wrong", None).await.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = login_attempt(&app, &client, "ann", PASSWORD, None).await;
    assert_limited(&limited);
    assert!(limited.text().await.unwrap().contains("Too many requests"));
    // A made-up X-Forwarded-For from an untrusted peer changes nothing.
    let spoofed = login_attempt(&app, &client, "ann", PASSWORD, Some("203.0.113.9")).await;
    assert_limited(&spoofed);
    let signup = app
        .post_form(&client, "/signup", &[("username", "eve"), ("email", "eve@example.com"), ("password", PASSWORD)])
        .await;
    assert_limited(&signup);
    let reset = app.post_form(&client, "/password-reset", &[("email", "ann@example.com")]).await;
    assert_limited(&reset);
    // Reading pages is not limited by this.
    assert_eq!(app.page("/").await.0, StatusCode::OK);
}

async fn trusted_proxies_forward_the_client_address(backend: Backend) {
    let app = TestApp::builder(backend)
        .configure(|c| {
            c.rate_limits = RateLimitConfig { auth_per_minute: 2, ..RateLimitConfig::off() };
            c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        })
        .start()
        .await;
    let client = app.new_client();
    for _ in 0..2 {
        let r = login_attempt(&app, &client, "ann", "wrong", Some("198.51.100.1")).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert_limited(&login_attempt(&app, &client, "ann", "wrong", Some("198.51.100.1")).await);
    // Another client behind the same proxy has its own allowance; the proxy's own
    // addition to the chain is the one believed.
    let other = login_attempt(&app, &client, "ann", "wrong", Some("192.0.2.50, 198.51.100.2")).await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

async fn failed_logins_are_limited_per_account(backend: Backend) {
    let app = TestApp::builder(backend)
        .configure(|c| c.rate_limits = RateLimitConfig { logins_per_account: 3, ..RateLimitConfig::off() })
        .start()
        .await;
    app.signup("ann").await;
    app.signup("bob").await;
    let client = app.new_client();
    // Successful logins do not count.
    for _ in 0..5 {
        assert_eq!(login_attempt(&app, &client, "ann", PASSWORD, None).await.status(), StatusCode::SEE_OTHER);
    }
    for _ in 0..3 {
        assert_eq!(login_attempt(&app, &client, "ann", "wrong", None).await.status(), StatusCode::UNAUTHORIZED);
    }
    // The fourth failure locks the account, even against the right password.
    assert_limited(&login_attempt(&app, &client, "ann", "wrong", None).await);
    assert_limited(&login_attempt(&app, &client, "ANN", PASSWORD, None).await);
    assert_limited(&login_attempt(&app, &client, "ann@example.com", PASSWORD, None).await);
    assert_eq!(login_attempt(&app, &client, "bob", PASSWORD, None).await.status(), StatusCode::SEE_OTHER);
}

async fn all_requests_are_limited_per_address(backend: Backend) {
    let app = TestApp::builder(backend)
        .configure(|c| c.rate_limits = RateLimitConfig { requests_per_minute: 5, ..RateLimitConfig::off() })
        .start()
        .await;
    for _ in 0..5 {
        assert_eq!(app.page("/").await.0, StatusCode::OK);
    }
    let limited = app.get("/").await;
    assert_limited(&limited);
    assert!(limited.headers().get("content-security-policy").is_some());
}

async fn default_limits_stop_a_login_flood(backend: Backend) {
    let app = TestApp::builder(backend).configure(|c| c.rate_limits = RateLimitConfig::default()).start().await;
    let client = app.new_client();
    let mut statuses = Vec::new();
    for i in 0..25 {
        let login = format!("user{i}");
        statuses.push(login_attempt(&app, &client, &login, "wrong", None).await.status());
    }
    let limited = statuses.iter().position(|s| *s == StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited, Some(RateLimitConfig::default().auth_per_minute as usize), "{statuses:?}");
}

async fn bodies_over_the_limits_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = app.new_client();
    let token = app.csrf_token(&client).await;
    let big = "x".repeat(70 * 1024);
    let form = client
        .post(app.url("/login"))
        .form(&[("login", "ann"), ("password", big.as_str()), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(form.text().await.unwrap().contains("at most 64 KiB"));

    let json = |size: usize| serde_json::json!({ "text": "y".repeat(size) }).to_string();
    let big_json = client
        .post(app.url("/login"))
        .header("content-type", "application/json")
        .header("x-csrf-token", &token)
        .body(json(300 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(big_json.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let fits = client
        .post(app.url("/login"))
        .header("content-type", "application/json")
        .header("x-csrf-token", &token)
        .body(json(200 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(fits.status(), StatusCode::BAD_REQUEST, "under the JSON limit; the login form wants a form");
}
