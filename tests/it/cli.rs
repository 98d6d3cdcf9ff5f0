//! The command line: `import-articles` and `migrate`.

use std::process::{Command, Output};

use afterword::db;
use afterword::db::schema::{article_takeaways, articles};
use diesel::prelude::*;

use crate::common::{generated_articles, postgres_admin_url, Backend, TestDb, SEED_ARTICLE, SEED_SLUG};
use crate::{both_backends, plain_tests};

both_backends!(
    import_is_idempotent_and_reports_what_it_did,
    a_bad_record_rejects_the_whole_file,
    a_conflict_found_while_writing_rolls_everything_back,
    large_imports_show_progress,
    migrate_applies_once_then_does_nothing,
    serve_demo_starts_and_stops_gracefully_on_sigterm,
    concurrent_starts_all_succeed_and_seed_once,
    admin_reset_password_sets_a_new_password_and_ends_sessions,
    role_changes_and_imports_from_the_command_line_are_logged,
);

fn afterword(args: &[&str], database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_afterword"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write_file(dir: &tempfile::TempDir, name: &str, contents: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

/// (title, summary, takeaways) of every article, sorted by slug.
fn snapshot(db: &TestDb) -> Vec<(String, String, String, Vec<String>)> {
    let mut conn = db.connect();
    let rows: Vec<(i64, String, String, String)> = articles::table
        .order(articles::slug)
        .select((articles::id, articles::slug, articles::title, articles::summary))
        .load(&mut conn)
        .unwrap();
    rows.into_iter()
        .map(|(id, slug, title, summary)| {
            let takeaways = article_takeaways::table
                .filter(article_takeaways::article_id.eq(id))
                .order(article_takeaways::position)
                .select(article_takeaways::body)
                .load(&mut conn)
                .unwrap();
            (slug, title, summary, takeaways)
        })
        .collect()
}

async fn import_is_idempotent_and_reports_what_it_did(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(&dir, "seed.json", SEED_ARTICLE);

    let first = afterword(&["import-articles", &file], &db.url);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stdout).contains("1 created, 0 updated, 0 unchanged"), "{}", text(&first.stdout));
    let after_first = snapshot(&db);
    assert_eq!(after_first.len(), 1);
    assert_eq!(after_first[0].0, SEED_SLUG);
    assert_eq!(after_first[0].3.len(), 4);

    let second = afterword(&["import-articles", &file], &db.url);
    assert!(second.status.success());
    assert!(text(&second.stdout).contains("0 created, 0 updated, 1 unchanged"), "{}", text(&second.stdout));
    assert_eq!(snapshot(&db), after_first);

    let changed = SEED_ARTICLE.replace("Meta has denied allegations", "Meta denied allegations");
    let file = write_file(&dir, "changed.json", &changed);
    let third = afterword(&["import-articles", &file], &db.url);
    assert!(text(&third.stdout).contains("0 created, 1 updated, 0 unchanged"), "{}", text(&third.stdout));
    let after_third = snapshot(&db);
    assert_eq!(after_third.len(), 1);
    assert_eq!(after_third[0].0, SEED_SLUG, "the slug is stable");
    assert!(after_third[0].2.starts_with("Meta denied allegations"));
}

async fn a_bad_record_rejects_the_whole_file(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let seed = write_file(&dir, "seed.json", SEED_ARTICLE);
    assert!(afterword(&["import-articles", &seed], &db.url).status.success());
    let before = snapshot(&db);

    // A changed seed article first (would be an update), a new one, then a bad record.
    let good: Vec<serde_json::Value> = serde_json::from_str(SEED_ARTICLE).unwrap();
    let mut changed = good[0].clone();
    changed["summary"] = serde_json::json!(["Rewritten."]);
    let new: Vec<serde_json::Value> = serde_json::from_str(&generated_articles(1)).unwrap();
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        (
            "missing title",
            serde_json::json!({"source_url": "https://example.com/", "source_name": "x",
            "published_at": "2024-01-01", "summary": ["s"], "key_takeaways": []}),
            "missing field `title`",
        ),
        ("bad date", with(&new[0], "published_at", "2024-02-30".into()), "published_at"),
        ("bad URL", with(&new[0], "source_url", "ftp://example.com/file".into()), "source_url"),
        ("not a URL", with(&new[0], "source_url", "not a url".into()), "source_url"),
        ("wrong type", with(&new[0], "key_takeaways", "one string".into()), "key_takeaways"),
        ("wrong type in list", with(&new[0], "summary", serde_json::json!([1])), "summary[0]"),
        ("empty summary", with(&new[0], "summary", serde_json::json!(["  "])), "summary"),
        ("not an object", serde_json::json!("article"), "invalid type"),
        ("NUL in the title", with(&new[0], "title", "a\u{0}b".into()), "title: contains a control character (U+0000)"),
        (
            "escape in a takeaway",
            with(&new[0], "key_takeaways", serde_json::json!(["fine", "a\u{1b}[31m"])),
            "key_takeaways[1]: contains a control character (U+001B)",
        ),
    ];
    for (what, bad, reason) in cases {
        let mut other = new[0].clone();
        other["title"] = "Another new one".into();
        let records = serde_json::json!([changed, other, bad]);
        let file = write_file(&dir, "bad.json", &records.to_string());
        let out = afterword(&["import-articles", &file], &db.url);
        assert!(!out.status.success(), "{what}: must fail");
        let stderr = text(&out.stderr);
        assert!(stderr.contains("index 2"), "{what}: names the record: {stderr}");
        assert!(stderr.contains(reason), "{what}: gives the reason {reason:?}: {stderr}");
        assert!(stderr.contains("nothing was imported"), "{what}: {stderr}");
        assert_eq!(snapshot(&db), before, "{what}: nothing changed");
    }

    for (what, contents, reason) in [
        ("not JSON", "[{", "not valid JSON"),
        ("not an array", "{}", "JSON array"),
        ("duplicate", &format!("[{0},{0}]", new[0]), "same title and source_url as the record at index 0"),
    ] {
        let file = write_file(&dir, "bad.json", contents);
        let out = afterword(&["import-articles", &file], &db.url);
        assert!(!out.status.success(), "{what}");
        assert!(text(&out.stderr).contains(reason), "{what}: {}", text(&out.stderr));
        assert_eq!(snapshot(&db), before, "{what}: nothing changed");
    }

    let out = afterword(&["import-articles", "/no/such/file.json"], &db.url);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("could not read /no/such/file.json"));
}

fn with(record: &serde_json::Value, field: &str, value: serde_json::Value) -> serde_json::Value {
    let mut record = record.clone();
    record[field] = value;
    record
}

async fn a_conflict_found_while_writing_rolls_everything_back(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let seed = write_file(&dir, "seed.json", SEED_ARTICLE);
    assert!(afterword(&["import-articles", &seed], &db.url).status.success());
    let before = snapshot(&db);

    // Record 0 is new and valid; record 1 gives the seed article a new explicit slug,
    // which only the database can notice.
    let mut seed_with_slug: Vec<serde_json::Value> = serde_json::from_str(SEED_ARTICLE).unwrap();
    seed_with_slug[0]["slug"] = "a-new-slug".into();
    let new: Vec<serde_json::Value> = serde_json::from_str(&generated_articles(1)).unwrap();
    let file = write_file(&dir, "conflict.json", &serde_json::json!([new[0], seed_with_slug[0]]).to_string());
    let out = afterword(&["import-articles", &file], &db.url);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("index 1") && stderr.contains("a-new-slug"), "{stderr}");
    assert_eq!(snapshot(&db), before, "the new record 0 was rolled back");
}

async fn large_imports_show_progress(backend: Backend) {
    let db = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(&dir, "many.json", &generated_articles(1000));
    let out = afterword(&["import-articles", &file], &db.url);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("… 50/1000 (5%)") && stderr.contains("… 1000/1000 (100%)"), "{stderr}");
    assert!(text(&out.stdout).contains("1000 created"));
    let mut conn = db.connect();
    assert_eq!(db::articles::count(&mut conn).unwrap(), 1000);
}

async fn migrate_applies_once_then_does_nothing(backend: Backend) {
    let db = TestDb::new(backend);
    let migrations = std::fs::read_dir(format!(
        "{}/migrations/{}",
        env!("CARGO_MANIFEST_DIR"),
        if backend == Backend::Sqlite { "sqlite" } else { "postgres" }
    ))
    .unwrap()
    .count();
    let first = afterword(&["migrate"], &db.url);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stdout).contains(&format!("applied {migrations} migration(s)")), "{}", text(&first.stdout));
    let second = afterword(&["migrate"], &db.url);
    assert!(second.status.success());
    assert!(text(&second.stdout).contains("is up to date"), "{}", text(&second.stdout));
    // And through the library, as `serve` runs them.
    let mut conn = db.connect();
    assert!(db::run_migrations(&mut conn, "test").unwrap().is_empty());
}

plain_tests!(connection_failures_say_what_failed, every_subcommand_has_help);

fn connection_failures_say_what_failed() {
    let out = afterword(&["migrate"], "postgres://postgres@127.0.0.1:1/afterword");
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("could not connect to PostgreSQL at 127.0.0.1:1/afterword"), "{stderr}");
    assert!(stderr.to_lowercase().contains("refused"), "the reason is given: {stderr}");

    let out = afterword(&["migrate"], "mysql://localhost/afterword");
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unsupported database URL scheme"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let out = afterword(&["migrate"], &format!("sqlite://{}/sub/afterword.db", file.display()));
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("could not create the folder"), "{}", text(&out.stderr));

    // A missing database on a reachable server is named too.
    if crate::common::postgres_available() {
        let mut url = url::Url::parse(&postgres_admin_url()).unwrap();
        url.set_path("afterword_no_such_database");
        let out = afterword(&["migrate"], url.as_str());
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains("afterword_no_such_database"), "{}", text(&out.stderr));
    }
}

fn every_subcommand_has_help() {
    for sub in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["import-articles", "--help"],
        &["export", "--help"],
        &["import-site", "--help"],
        &["backup", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_afterword")).args(sub).output().unwrap();
        assert!(out.status.success(), "{sub:?}");
        assert!(text(&out.stdout).contains("Usage: afterword"), "{sub:?}");
    }
}

async fn serve_demo_starts_and_stops_gracefully_on_sigterm(backend: Backend) {
    use std::io::{BufRead, BufReader};

    let db = TestDb::new(backend);
    let mut child = Command::new(env!("CARGO_BIN_EXE_afterword"))
        .args(["serve", "--demo", "--bind", "127.0.0.1:0", "--workers", "1"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("the server logs where it listens").unwrap();
        if let Some((_, address)) = line.split_once("listening on ") {
            break address.trim().to_owned();
        }
    };
    let body = reqwest::get(format!("{address}/")).await.unwrap().text().await.unwrap();
    assert!(body.contains("Meta (again) denies"), "the demo articles are served");
    assert_eq!(reqwest::get(format!("{address}/healthz")).await.unwrap().status(), 200);

    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(status.success(), "a clean exit after SIGTERM: {status:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
}

/// Four processes start at once on one new database, two `migrate` and two
/// `serve --demo`: all of them succeed, and the demo articles are loaded once.
async fn concurrent_starts_all_succeed_and_seed_once(backend: Backend) {
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Stdio};

    let db = TestDb::new(backend);
    let spawn = |args: &[&str]| -> Child {
        Command::new(env!("CARGO_BIN_EXE_afterword"))
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let serve = ["serve", "--demo", "--bind", "127.0.0.1:0", "--workers", "1"];
    let mut children = vec![spawn(&serve), spawn(&["migrate"]), spawn(&serve), spawn(&["migrate"])];
    let migrations: Vec<Child> = vec![children.remove(3), children.remove(1)];
    let servers = children;

    for child in migrations {
        let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
        assert!(output.status.success(), "migrate: {}", text(&output.stderr));
    }
    for mut child in servers {
        let stderr = child.stderr.take().unwrap();
        // The log stays open (and read) until the server exits.
        let (address, log, _lines) = tokio::task::spawn_blocking(move || {
            let mut log = Vec::new();
            let mut lines = BufReader::new(stderr).lines();
            for line in lines.by_ref().map_while(Result::ok) {
                if let Some((_, address)) = line.split_once("listening on ") {
                    return (Some(address.trim().to_owned()), log, lines);
                }
                log.push(line);
            }
            (None, log, lines)
        })
        .await
        .unwrap();
        let address = address.unwrap_or_else(|| panic!("serve --demo did not start: {log:?}"));
        let body = reqwest::get(format!("{address}/")).await.unwrap().text().await.unwrap();
        assert!(body.contains("Meta (again) denies"), "the demo articles are served");
        assert_eq!(reqwest::get(format!("{address}/healthz")).await.unwrap().status(), 200);
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
        assert!(status.success(), "a clean exit: {status:?}");
    }

    let demo = afterword::import::parse(afterword::demo::ARTICLES_JSON.as_bytes()).unwrap();
    let mut conn = db.connect();
    let count: i64 = articles::table.count().get_result(&mut conn).unwrap();
    assert_eq!(count, demo.len() as i64, "the demo articles, once");
    let keys: i64 = afterword::db::schema::settings::table
        .filter(afterword::db::schema::settings::key.eq("csrf_key"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(keys, 1);
}

async fn admin_reset_password_sets_a_new_password_and_ends_sessions(backend: Backend) {
    use afterword::db::schema::sessions;
    use diesel::prelude::*;

    let app = crate::common::TestApp::start(backend).await;
    let ann = app.signup("ann").await;
    assert_eq!(app.page_as(&ann, "/settings").await.0, reqwest::StatusCode::OK);
    let url = app.db.url.clone();
    let reset = move |name: &'static str, password: &'static str| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_afterword"))
                .args(["admin", "reset-password", name])
                .env("DATABASE_URL", &url)
                .env("RUST_LOG", "warn")
                .env("AFTERWORD_ADMIN_PASSWORD", password)
                .output()
                .expect("the binary runs")
        })
    };

    // The same rules as at sign-up; an unknown name is named.
    let out = reset("ann", "short").await.unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("password: Use at least"), "{}", text(&out.stderr));
    let out = reset("nobody", "a fresh long passphrase").await.unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no account named nobody"), "{}", text(&out.stderr));
    assert_eq!(app.login("ann", crate::common::PASSWORD).await.1.status(), reqwest::StatusCode::SEE_OTHER);

    let out = reset("ANN", "a fresh long passphrase").await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("set a new password for ann"), "{}", text(&out.stdout));
    assert_eq!(app.with_conn(|c| sessions::table.count().get_result::<i64>(c).unwrap()).await, 0, "sessions end");
    assert_eq!(app.page_as(&ann, "/settings").await.0, reqwest::StatusCode::SEE_OTHER, "logged out");
    let (_, old) = app.login("ann", crate::common::PASSWORD).await;
    assert_ne!(old.status(), reqwest::StatusCode::SEE_OTHER, "the old password no longer works");
    let (_, new) = app.login("ann", "a fresh long passphrase").await;
    assert_eq!(new.status(), reqwest::StatusCode::SEE_OTHER);
}

async fn role_changes_and_imports_from_the_command_line_are_logged(backend: Backend) {
    use crate::common::html::Page;

    let app = crate::common::TestApp::start(backend).await;
    app.signup("ann").await;
    let url = app.db.url.clone();
    let run = move |args: Vec<String>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_afterword"))
                .args(&args)
                .env("DATABASE_URL", &url)
                .env("RUST_LOG", "warn")
                .env("AFTERWORD_ADMIN_PASSWORD", "a long and fine passphrase")
                .output()
                .expect("the binary runs")
        })
    };
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    let out = run(args(&["admin", "set-role", "ann", "moderator"])).await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The same role again changes nothing and logs nothing.
    let out = run(args(&["admin", "set-role", "ann", "moderator"])).await.unwrap();
    assert!(out.status.success() && text(&out.stdout).contains("already moderator"), "{}", text(&out.stdout));
    let out = run(args(&["admin", "create", "--username", "keeper", "--email", "keeper@example.com"])).await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(&dir, "three.json", &generated_articles(3));
    let out = run(args(&["import-articles", &file])).await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A refused file imports nothing and logs nothing.
    let bad = write_file(&dir, "bad.json", "[1]");
    assert!(!run(args(&["import-articles", &bad])).await.unwrap().status.success());

    let rows: Vec<(Option<i64>, String, String, Option<String>)> = app
        .with_conn(|c| {
            use afterword::db::schema::moderation_log as l;
            l::table.order(l::id).select((l::moderator_id, l::action, l::target_label, l::reason)).load(c).unwrap()
        })
        .await;
    let expected = [
        (None, "change role", "ann", Some("moderator")),
        (None, "change role", "keeper", Some("admin")),
        (None, "import articles", "3 created, 0 updated", None),
    ];
    let expected: Vec<_> =
        expected.iter().map(|(m, a, t, r)| (*m, a.to_string(), t.to_string(), r.map(str::to_owned))).collect();
    assert_eq!(rows, expected);

    // The public log shows them, as done with the command line; its filters still work.
    let log = Page::parse(&app.page("/modlog").await.1);
    let text = log.text("main");
    assert!(text.contains("command line"), "{text}");
    assert!(text.contains("3 created, 0 updated"), "{text}");
    let by_keeper = Page::parse(&app.page("/modlog?moderator=keeper").await.1);
    assert!(!by_keeper.text("main").contains("3 created"), "no row is keeper's");
}
