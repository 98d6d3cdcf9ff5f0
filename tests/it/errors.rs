//! Errors: the same status for pages and programs; programs that ask for JSON get
//! `{"code", "message"}` with a stable code, pages get HTML.

use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{Backend, TestApp};

both_backends!(errors_are_json_for_programs_and_pages_for_people);

async fn json_error(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let kind = response.headers().get(CONTENT_TYPE).unwrap().to_str().unwrap().to_owned();
    assert!(kind.starts_with("application/json"), "{status}: {kind}");
    let body: serde_json::Value = response.json().await.unwrap();
    let message = body["message"].as_str().unwrap_or_default().to_owned();
    assert!(!message.is_empty(), "{body}");
    (status, body["code"].as_str().unwrap().to_owned(), message)
}

async fn errors_are_json_for_programs_and_pages_for_people(backend: Backend) {
    let app = TestApp::start(backend).await;
    let anonymous = app.new_client();
    let reader = app.signup("ann").await;
    let token = app.csrf_token(&reader).await;
    let json = |client: &reqwest::Client, method: reqwest::Method, path: &str| {
        client.request(method, app.url(path)).header(ACCEPT, "application/json")
    };

    // A missing page.
    let (status, code, _) =
        json_error(json(&anonymous, reqwest::Method::GET, "/articles/nothing-here").send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));
    let page = anonymous.get(app.url("/articles/nothing-here")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.headers()[CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));

    // What the layers further in set (here the removal of a session cookie that is no
    // longer valid) is kept in a JSON answer.
    let cookies = |r: &reqwest::Response| r.headers().get_all(SET_COOKIE).iter().count();
    let stale = format!("afterword_session={}", "A".repeat(43));
    let plain = reqwest::Client::new();
    let fresh_page = plain.get(app.url("/articles/nothing-here")).header("cookie", &stale).send().await.unwrap();
    let fresh_json = plain
        .get(app.url("/articles/nothing-here"))
        .header("cookie", &stale)
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert!(cookies(&fresh_page) > 0, "the stale session cookie is removed");
    assert_eq!(cookies(&fresh_json), cookies(&fresh_page));

    // A login is asked for with 401, not a redirect a program cannot follow.
    let (status, code, _) = json_error(json(&anonymous, reqwest::Method::GET, "/settings").send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "login_required"));
    let page = anonymous.get(app.url("/settings")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(page.headers()[LOCATION].to_str().unwrap().starts_with("/login?next="));

    // Refused by the security checks (no CSRF token), before any handler runs.
    let forged = json(&reader, reqwest::Method::POST, "/comments/1/vote").form(&[("value", "1")]).send().await.unwrap();
    let (status, code, message) = json_error(forged).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "csrf_failed"), "{message}");

    // Bad input, with its reason.
    let bad = json(&reader, reqwest::Method::POST, "/comments/1/vote")
        .form(&[("value", "7"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    let (status, code, message) = json_error(bad).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "bad_request"), "{message}");

    // Too large, with the limit.
    let big = "x".repeat(200 * 1024);
    let large = json(&reader, reqwest::Method::POST, "/comments/1/vote")
        .form(&[("value", big.as_str()), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    let (status, code, message) = json_error(large).await;
    assert_eq!((status, code.as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    assert!(message.contains("KiB"), "{message}");
}
