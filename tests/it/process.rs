//! The server process: flags, binding, signals, HEAD, HSTS and the access log.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;

use crate::common::{Backend, TestApp, TestDb};
use crate::{both_backends, plain_tests};

both_backends!(
    sigterm_ends_open_event_streams_and_tokens_stay_out_of_the_log,
    every_get_route_answers_head,
    hsts_is_sent_on_https_only,
);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

plain_tests!(
    out_of_range_flags_are_usage_errors_before_anything_is_created,
    serve_checks_it_can_bind_before_it_creates_or_migrates_anything
);

fn out_of_range_flags_are_usage_errors_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/data/site.db", dir.path().display());
    let cases: &[&[&str]] = &[
        &["--base-url", "mailto:x"],
        &["--base-url", "ftp://example.com/"],
        &["--base-url", "https://example.com/forum"],
        &["--base-url", "https://example.com/?a=b"],
        &["--edit-window-minutes", "9223372036854775807"],
        &["--edit-window-minutes=-1"],
        &["--session-max-days", "100000000"],
        &["--session-idle-days", "0"],
        &["--pool-size", "0"],
        &["--pool-size", "4294967296"],
        &["--workers", "100000"],
        &["--rate-limit", "4000000000"],
        &["--write-timeout", "0"],
        &["--body-timeout", "99999999999"],
        &["--connections-per-address", "0"],
    ];
    for args in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_afterword"))
            .arg("serve")
            .args(*args)
            .args(["--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", &database)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("invalid value"), "{args:?}: {stderr}");
        assert!(stderr.contains(args[0].split('=').next().unwrap()), "{args:?} names the flag: {stderr}");
    }
    assert!(!dir.path().join("data").exists(), "nothing was created");
}

/// The `data/` directory is SQLite's: with PostgreSQL there is nothing on disk to create.
fn serve_checks_it_can_bind_before_it_creates_or_migrates_anything() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_afterword"))
        .args(["serve", "--bind", &bind])
        .env("DATABASE_URL", format!("sqlite://{}/data/site.db", dir.path().display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("could not listen"), "{}", text(&out.stderr));
    assert!(!dir.path().join("data").exists(), "no data directory, no migrations");
}

async fn sigterm_ends_open_event_streams_and_tokens_stay_out_of_the_log(backend: Backend) {
    let db = TestDb::new(backend);
    let mut child = Command::new(env!("CARGO_BIN_EXE_afterword"))
        .args(["serve", "--demo", "--bind", "127.0.0.1:0", "--workers", "1"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("the server logs where it listens").unwrap();
        if let Some((_, address)) = line.split_once("listening on ") {
            break address.trim().to_owned();
        }
    };
    let client = reqwest::Client::new();
    let front = client.get(format!("{address}/")).send().await.unwrap().text().await.unwrap();
    let start = front.find("href=\"/articles/").expect("a demo article") + "href=\"".len();
    let article = &front[start..start + front[start..].find('"').unwrap()];

    for path in ["/password-reset/SECRETRESETTOKEN", "/verify-email/SECRETVERIFYTOKEN"] {
        client.get(format!("{address}{path}")).send().await.unwrap();
        client.post(format!("{address}{path}")).form(&[("password", "x")]).send().await.unwrap();
    }

    let events = client.get(format!("{address}{article}/events")).send().await.unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    let mut events = events;

    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    // The stream ends (well before the 30 s the server would wait for it).
    let ended =
        tokio::time::timeout(Duration::from_secs(20), async { while let Ok(Some(_)) = events.chunk().await {} }).await;
    assert!(ended.is_ok(), "the event stream ended on SIGTERM");
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(status.success(), "a clean exit after SIGTERM: {status:?}");

    let log: Vec<String> = lines.map_while(Result::ok).collect();
    let log = log.join("\n");
    assert!(!log.contains("SECRET"), "tokens reach the log:\n{log}");
    assert!(log.contains("path=/password-reset/{token}"), "{log}");
    assert!(log.contains("path=/verify-email/{token}"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}

async fn every_get_route_answers_head(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    for route in afterword::web::routes::ROUTES.iter().filter(|r| r.method == "GET") {
        let path = route
            .path
            .replace("{slug}", crate::common::SEED_SLUG)
            .replace("{id}", "1")
            .replace("{username}", "nobody")
            .replace("{file}", "style.css")
            .replace("{token}", "x");
        let get = app.client.get(app.url(&path)).send().await.unwrap();
        let get_status = get.status();
        let head = app.client.head(app.url(&path)).send().await.unwrap();
        assert_eq!(head.status(), get_status, "HEAD {path}");
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} has no body");
    }
    assert_eq!(app.client.head(app.url("/logout")).send().await.unwrap().status(), StatusCode::METHOD_NOT_ALLOWED);
}

async fn hsts_is_sent_on_https_only(backend: Backend) {
    let plain = TestApp::start(backend).await;
    for path in ["/", "/healthz", "/no-such-page"] {
        assert!(plain.get(path).await.headers().get("strict-transport-security").is_none(), "{path}");
    }
    drop(plain);
    let https = TestApp::builder(backend)
        .configure(|c| c.base_url = url::Url::parse("https://example.com/").unwrap())
        .start()
        .await;
    for path in ["/", "/healthz", "/no-such-page", "/static/style.css"] {
        let r = https.get(path).await;
        assert_eq!(
            r.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned()),
            Some("max-age=31536000".to_owned()),
            "{path}"
        );
    }
}
