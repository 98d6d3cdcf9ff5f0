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
    a_bug_is_logged_with_its_causes_and_the_request_id,
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
    let (mut child, lines, address) = serve_demo(&db);
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
    unsafe { libc::kill(child.0.id() as i32, libc::SIGTERM) };
    // The stream ends (well before the 30 s the server would wait for it).
    let ended =
        tokio::time::timeout(Duration::from_secs(20), async { while let Ok(Some(_)) = events.chunk().await {} }).await;
    assert!(ended.is_ok(), "the event stream ended on SIGTERM");
    let status = tokio::task::spawn_blocking(move || child.0.wait().unwrap()).await.unwrap();
    assert!(status.success(), "a clean exit after SIGTERM: {status:?}");

    let log: Vec<String> = lines.map_while(Result::ok).collect();
    let log = log.join("\n");
    assert!(!log.contains("SECRET"), "tokens reach the log:\n{log}");
    assert!(log.contains("path=/password-reset/{token}"), "{log}");
    assert!(log.contains("path=/verify-email/{token}"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}

type LogLines = std::io::Lines<BufReader<std::process::ChildStderr>>;

/// `afterword serve --demo` on `db` with one worker, logging at info: the process, the
/// rest of its log, and the address it listens on.
fn serve_demo(db: &TestDb) -> (KillOnDrop, LogLines, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_afterword"))
        .args(["serve", "--demo", "--bind", "127.0.0.1:0", "--workers", "1"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let child = KillOnDrop(child);
    let address = loop {
        let line = lines.next().expect("the server logs where it listens").unwrap();
        if let Some((_, address)) = line.split_once("listening on ") {
            break address.trim().to_owned();
        }
    };
    (child, lines, address)
}

/// Kills the server when the test ends, passed or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A bug (here a hand-corrupted row) answers a plain 500 page, and the log holds the
/// error with its causes under the request's id, as does every line of that request.
async fn a_bug_is_logged_with_its_causes_and_the_request_id(backend: Backend) {
    use afterword::db::schema::moderation_log as log_table;
    use afterword::db::users::{self, NewUser};
    use diesel::prelude::*;

    let db = TestDb::new(backend);
    let (mut child, lines, address) = serve_demo(&db);

    let mut conn = db.connect();
    let new = NewUser {
        username: "moe",
        email: "moe@example.com",
        password_hash: "!",
        role: afterword::domain::Role::Moderator,
        keep_taken_email_pending: false,
    };
    let moe = users::create(&mut conn, &new).unwrap().id;
    diesel::insert_into(log_table::table)
        .values((
            log_table::moderator_id.eq(moe),
            log_table::action.eq("vanish comment"),
            log_table::target_type.eq("site"),
            log_table::target_id.eq(0_i64),
            log_table::target_label.eq("site"),
            log_table::created_at.eq(afterword::db::now()),
        ))
        .execute(&mut conn)
        .unwrap();
    let client = reqwest::Client::new();
    let page = client.get(format!("{address}/modlog")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = page.text().await.unwrap();
    assert!(body.contains("Something went wrong") && !body.contains("vanish"), "{body}");
    let json = client.get(format!("{address}/modlog")).header("accept", "application/json").send().await.unwrap();
    assert_eq!(json.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let json: serde_json::Value = json.json().await.unwrap();
    assert_eq!(json["code"], "internal");

    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.0.id() as i32, libc::SIGTERM) };
    tokio::task::spawn_blocking(move || {
        child.0.wait().unwrap();
    })
    .await
    .unwrap();
    let log: Vec<String> = lines.map_while(Result::ok).collect();
    let errors: Vec<&String> = log.iter().filter(|l| l.contains("internal error")).collect();
    assert_eq!(errors.len(), 2, "{log:#?}");
    for error in errors {
        assert!(error.contains("unknown ModAction"), "the cause is kept: {error}");
        assert!(error.contains("database query failed"), "with its context: {error}");
        let id = error.split("request{id=").nth(1).expect("under the request's span").split(' ').next().unwrap();
        assert_eq!(id.len(), 36, "a request id: {error}");
        let access = log.iter().find(|l| l.contains(id) && l.contains("status=500")).expect("the access line");
        assert!(access.contains("path=/modlog"), "{access}");
    }
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
