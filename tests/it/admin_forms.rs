//! The administrators' article form and import form: every problem at once, in plain
//! words, with what was entered kept.

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::html::Page;
use crate::common::{Backend, TestApp};

both_backends!(
    the_article_form_reports_every_problem_at_once_and_keeps_the_fields,
    import_errors_show_on_the_import_form_and_the_size_limit_names_the_command,
    dates_outside_1900_to_2100_are_refused_on_every_path,
    slugs_keep_words_with_apostrophes_whole,
);

async fn article_count(app: &TestApp) -> i64 {
    use afterword::db::schema::articles;
    use diesel::prelude::*;
    app.with_conn(|c| articles::table.count().get_result(c).unwrap()).await
}

async fn the_article_form_reports_every_problem_at_once_and_keeps_the_fields(backend: Backend) {
    let app = TestApp::builder(backend).start().await;
    let admin = app.signup_as("adam", "admin").await;
    let long_title = "T".repeat(301);
    let fields = [
        ("title", long_title.as_str()),
        ("source_url", "ftp://example.com/x"),
        ("source_name", "  "),
        ("published_at", "next tuesday"),
        ("summary", "\r\n\r\n"),
        ("takeaways", "One\nTwo"),
        ("tags", "good, not a tag"),
    ];
    let response = app.post_form(&admin, "/admin/articles", &fields).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    let page = Page::parse(&body);
    assert!(
        page.text(".flash.error").contains("Please correct the 6 problems below."),
        "{}",
        page.text(".flash.error")
    );
    let errors: Vec<(String, String)> =
        page.attrs(".field-error", "id").into_iter().zip(page.texts(".field-error")).collect();
    let expected = [
        ("a-title-error", "The title is too long: use at most 300 characters (301 now)."),
        ("a-url-error", "Enter the full article's address, starting with http:// or https://."),
        ("a-name-error", "Enter the source's name."),
        ("a-date-error", "Enter the date as YYYY-MM-DD, like 2024-04-02."),
        ("a-summary-error", "Write a summary of at least one paragraph."),
        ("a-tags-error", "“not a tag” is not a tag: use 1 to 40 letters, digits, '-' or '_', and commas between tags."),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    assert_eq!(errors, expected);
    // No field name from the file format, and every field as typed.
    assert!(!page.text("main").contains("published_at:"));
    assert_eq!(page.attr("#a-title", "value"), long_title);
    assert_eq!(page.attr("#a-title", "aria-invalid"), "true");
    assert_eq!(page.attr("#a-title", "aria-describedby"), "a-title-error");
    assert_eq!(page.attr("#a-url", "value"), "ftp://example.com/x");
    assert_eq!(page.attr("#a-date", "value"), "next tuesday");
    assert!(body.contains(">One\nTwo</textarea>"), "the takeaways as typed");
    assert_eq!(page.attr("#a-tags", "value"), "good, not a tag");
    assert_eq!(page.count("#a-takeaways[aria-invalid]"), 0, "a good field is not marked");
    assert_eq!(article_count(&app).await, 0, "nothing created");

    // One problem: said once.
    let good = [
        ("title", "A fine article"),
        ("source_url", "https://example.com/fine"),
        ("source_name", "example.com"),
        ("published_at", "2024-05-01"),
        ("summary", "A paragraph."),
        ("takeaways", ""),
        ("tags", ""),
    ];
    let mut one = good;
    one[3].1 = "2024-02-30";
    let response = app.post_form(&admin, "/admin/articles", &one).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::parse(&response.text().await.unwrap());
    assert!(page.text(".flash.error").contains("Please correct the problem below."));
    assert_eq!(page.texts(".field-error"), ["Enter the date as YYYY-MM-DD, like 2024-04-02."]);

    // A duplicate, on creating and on editing, in words too.
    assert_eq!(app.post_form(&admin, "/admin/articles", &good).await.status(), StatusCode::SEE_OTHER);
    let again = app.post_form(&admin, "/admin/articles", &good).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::parse(&again.text().await.unwrap());
    assert!(
        page.text(".flash.error .form-error").contains("Another article has this title and source URL"),
        "{}",
        page.text(".flash.error")
    );
    assert_eq!(page.attr("#a-title", "value"), "A fine article");

    // Editing reports every problem the same way.
    let mut bad_edit = good;
    bad_edit[0].1 = "";
    bad_edit[1].1 = "not a url";
    let response = app.post_form(&admin, "/admin/articles/a-fine-article/edit", &bad_edit).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::parse(&response.text().await.unwrap());
    assert_eq!(page.attr("form.article-form", "action"), "/admin/articles/a-fine-article/edit");
    assert_eq!(page.attrs(".field-error", "id"), ["a-title-error", "a-url-error"]);
    assert_eq!(page.text("#a-title-error"), "Enter the title.");
    assert_eq!(page.attr("#a-url", "value"), "not a url");
    assert_eq!(Page::parse(&app.page("/articles/a-fine-article").await.1).text("main h1"), "A fine article");
}

/// Uploads `json` as `name` through the import form; returns the response.
async fn upload(app: &TestApp, admin: &reqwest::Client, name: &str, json: Vec<u8>) -> reqwest::Response {
    let token = app.csrf_token(admin).await;
    let part = reqwest::multipart::Part::bytes(json).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new().text("csrf_token", token).part("file", part);
    admin.post(app.url("/admin/articles/import")).multipart(form).send().await.unwrap()
}

async fn import_errors_show_on_the_import_form_and_the_size_limit_names_the_command(backend: Backend) {
    let app = TestApp::builder(backend).with_articles(crate::common::generated_articles(2)).start().await;
    let admin = app.signup_as("adam", "admin").await;

    // The form says beforehand what the limit is and what to use beyond it.
    let page = Page::parse(&app.page_as(&admin, "/admin/articles").await.1);
    let hint = page.text("#import-file-hint");
    assert!(hint.contains("At most 2 MiB") && hint.contains("afterword import-articles"), "{hint}");

    let bad = br#"[{"title":"Ok","source_url":"https://example.com/ok","source_name":"e","published_at":"2024-01-01","summary":["s"],"key_takeaways":[]},{"title":""}]"#;
    let response = upload(&app, &admin, "my-articles.json", bad.to_vec()).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = Page::parse(&response.text().await.unwrap());
    let error = page.text("#import .import-error");
    assert!(error.starts_with("Nothing was imported from “my-articles.json”: record at index 1:"), "{error}");
    assert_eq!(page.attr("#import-file", "aria-invalid"), "true");
    assert_eq!(page.count("form[action='/admin/articles/import']"), 1, "the form, to try again");
    assert_eq!(page.count(".articles-admin tbody tr"), 2, "on the articles page");
    assert_eq!(article_count(&app).await, 2, "nothing imported");

    for (name, body, expected) in [
        ("broken.json", b"[{".to_vec(), "the file is not valid JSON"),
        ("object.json", b"{}".to_vec(), "the file must hold a JSON array of articles"),
    ] {
        let response = upload(&app, &admin, name, body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let error = Page::parse(&response.text().await.unwrap()).text("#import .import-error");
        assert!(error.contains(name) && error.contains(expected), "{error}");
    }
    // No file chosen.
    let token = app.csrf_token(&admin).await;
    let form = reqwest::multipart::Form::new().text("csrf_token", token);
    let response = admin.post(app.url("/admin/articles/import")).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error = Page::parse(&response.text().await.unwrap()).text("#import .import-error");
    assert!(error.contains("choose a JSON file"), "{error}");

    // Beyond 2 MiB: 413, and the message names the command for bigger files.
    let big = format!("[{}]", " ".repeat(2 * 1024 * 1024 + 1));
    let response = upload(&app, &admin, "big.json", big.into_bytes()).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = response.text().await.unwrap();
    assert!(body.contains("afterword import-articles"), "{body}");
    assert!(body.contains("at most 2 MiB"), "{body}");
    assert_eq!(article_count(&app).await, 2);
}

async fn dates_outside_1900_to_2100_are_refused_on_every_path(backend: Backend) {
    let app = TestApp::builder(backend).start().await;
    let admin = app.signup_as("adam", "admin").await;
    for (date, refused) in [("1899-12-31", true), ("2101-01-01", true), ("0001-01-01", true), ("1900-01-01", false)] {
        let json = format!(
            r#"[{{"title":"Dated {date}","source_url":"https://example.com/{date}","source_name":"e","published_at":"{date}","summary":["s"],"key_takeaways":[]}}]"#
        );
        let response = upload(&app, &admin, "dated.json", json.into_bytes()).await;
        if refused {
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{date}");
            let error = Page::parse(&response.text().await.unwrap()).text("#import .import-error");
            assert!(error.contains("published_at") && error.contains("1900 to 2100"), "{error}");
        } else {
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{date}");
        }
        let fields = [
            ("title", "Typed"),
            ("source_url", "https://example.com/typed"),
            ("source_name", "e"),
            ("published_at", date),
            ("summary", "s"),
        ];
        let response = app.post_form(&admin, "/admin/articles", &fields).await;
        if refused {
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{date}");
            let page = Page::parse(&response.text().await.unwrap());
            assert_eq!(page.text("#a-date-error"), "Use a date between the years 1900 and 2100.");
        } else {
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{date}");
        }
    }
    assert_eq!(article_count(&app).await, 2);
}

async fn slugs_keep_words_with_apostrophes_whole(backend: Backend) {
    let app = TestApp::builder(backend).start().await;
    let admin = app.signup_as("adam", "admin").await;
    for (title, slug) in [
        ("The women's league", "the-womens-league"),
        ("Don\u{2019}t panic: it\u{2019}s 'fine'", "dont-panic-its-fine"),
        ("Readers' letters", "readers-letters"),
    ] {
        let fields = [
            ("title", title),
            ("source_url", "https://example.com/a"),
            ("source_name", "e"),
            ("published_at", "2024-01-01"),
            ("summary", "s"),
        ];
        let response = app.post_form(&admin, "/admin/articles", &fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{title}");
        assert_eq!(response.headers()["location"], format!("/articles/{slug}").as_str(), "{title}");
        assert_eq!(app.page(&format!("/articles/{slug}")).await.0, StatusCode::OK);
    }
}
