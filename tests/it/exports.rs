//! `afterword export`, `import-site` and `backup`: a site filled through HTTP moves to
//! an empty database of either backend, or is copied and restored, and the restored
//! site serves the same pages.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Output};

use afterword::db::{self, introspect, site};
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::common::{generated_articles, Backend, TestApp, TestDb, PASSWORD, SEED_SLUG};
use crate::{both_backends, postgres_only, sqlite_only};

both_backends!(
    export_covers_every_table_and_column,
    export_pages_through_every_table_by_key,
    a_round_trip_on_the_same_backend_serves_the_same_pages,
    an_empty_site_exports_and_imports,
    a_bad_file_writes_nothing_and_names_its_line,
    import_site_refuses_a_database_that_holds_a_site,
    html_in_an_export_is_cleaned_on_the_way_in,
    backup_refuses_an_existing_file_and_a_missing_database,
);
postgres_only!(
    sqlite_to_postgres_serves_the_same_pages,
    postgres_to_sqlite_serves_the_same_pages,
    postgres_backup_restores_with_pg_restore,
    without_pg_dump_backup_prints_the_command,
);
sqlite_only!(sqlite_backup_while_serving_and_writing_restores_by_copying);

/// Runs the command line on `database_url`, off the async workers.
async fn afterword(args: &[&str], database_url: &str) -> Output {
    afterword_with(args, database_url, &[]).await
}

async fn afterword_with(args: &[&str], database_url: &str, env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_afterword"))
            .args(&args)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "warn")
            .envs(env)
            .output()
            .expect("the binary runs")
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn succeeded(out: &Output) -> String {
    assert!(out.status.success(), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// What a site filled by [`fill`] holds, for the checks.
struct Filled {
    /// A nested reply (depth 2) and a comment a moderator removed.
    deep_reply: i64,
    removed: i64,
    /// A visible comment with a word no other text has.
    findable: i64,
}

/// Fills a site through HTTP: articles, nested comments, votes, a saved article, a
/// profile, a report, a removed comment, a ban and a site setting.
async fn fill(app: &TestApp) -> Filled {
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let carl = app.signup("carl").await;
    let mona = app.signup_as("mona", "moderator").await;
    let admin = app.signup_as("ada", "admin").await;

    let first = app.comment(&ann, SEED_SLUG, "A first thought about the **whole** story.", None).await;
    let reply = app.comment(&bob, SEED_SLUG, "Bob answers ann.", Some(first)).await;
    let deep_reply = app.comment(&ann, SEED_SLUG, "Ann answers back, two levels down.", Some(reply)).await;
    let spam = app.comment(&carl, SEED_SLUG, "Buy cheap watches at example.com", None).await;
    let findable = app.comment(&bob, SEED_SLUG, "A zeppelin would have been quicker.", None).await;
    app.comment(&carl, "generated-article-number-0", "Carl on another article.", None).await;

    for (client, id, value) in [(&bob, first, 1), (&carl, first, 1), (&mona, reply, 1), (&ann, findable, -1)] {
        assert_eq!(app.vote(client, id, value).await.status(), StatusCode::SEE_OTHER);
    }
    let r = app.post_form(&ann, &format!("/articles/{SEED_SLUG}/save"), &[("action", "save")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = app
        .post_form(
            &ann,
            "/settings/profile",
            &[("display_name", "Ann Example"), ("bio", "Reads *everything*."), ("show_saved", "on")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "profile");
    let r = app.post_form(&bob, &format!("/comments/{spam}/report"), &[("reason", "spam")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "report");
    let r = app.post_form(&mona, &format!("/mod/comments/{spam}/remove"), &[("reason", "Advertising")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "removal");
    let r = app.post_form(&mona, "/mod/users/carl/ban", &[("reason", "Spamming"), ("duration", "7d")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "ban");
    let r = app.post_form(&admin, "/admin/settings/embed", &[("origins", "https://blog.example")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "embed origins");
    Filled { deep_reply, removed: spam, findable }
}

async fn filled_site(backend: Backend) -> (TestApp, Filled) {
    let app = TestApp::builder(backend).with_seed_article().with_articles(generated_articles(2)).start().await;
    let filled = fill(&app).await;
    (app, filled)
}

/// The pages a restored site must serve as the original did, as a visitor sees them.
const PAGES: &[&str] = &[
    "/",
    "/articles/meta-again-denies-that-netflix-read-users-private-facebook-messages",
    "/articles/generated-article-number-0",
    "/users/ann",
    "/users/bob",
    "/users/carl",
    "/modlog",
];

/// Each page with what must differ between two sites taken out: the CSRF token of the
/// visitor's session, and the number of the last live event (live events are kept for
/// minutes and not moved: the restored site numbers its own from the start).
async fn pages(app: &TestApp, extra: &[String]) -> BTreeMap<String, String> {
    let token =
        regex::Regex::new(r#"(name="csrf_token" value=|name="csrf-token" content=|data-live-after=)"[^"]*""#).unwrap();
    let mut shown = BTreeMap::new();
    let client = app.new_client();
    for path in PAGES.iter().map(|p| p.to_string()).chain(extra.iter().cloned()) {
        let (status, body) = app.page_as(&client, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        shown.insert(path, token.replace_all(&body, "$1\"…\"").into_owned());
    }
    shown
}

#[track_caller]
fn assert_same_pages(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) {
    for (path, page) in before {
        let restored = &after[path];
        if page != restored {
            let first = page.chars().zip(restored.chars()).take_while(|(a, b)| a == b).count();
            let from = first.saturating_sub(200);
            let was: String = page.chars().skip(from).take(400).collect();
            let is: String = restored.chars().skip(from).take(400).collect();
            panic!("{path} differs after the restore:\nbefore: …{was}…\nafter:  …{is}…");
        }
    }
}

/// The rows of an export, the header left out and timestamps cut to microseconds
/// (what PostgreSQL keeps of SQLite's nanoseconds).
fn rows_of(file: &std::path::Path) -> Vec<String> {
    let fraction = regex::Regex::new(r#"(\d{2}:\d{2}:\d{2})\.(\d{1,6})\d*""#).unwrap();
    let contents = std::fs::read_to_string(file).unwrap();
    contents
        .lines()
        .skip(1)
        .map(|line| {
            fraction
                .replace_all(line, |c: &regex::Captures| {
                    let digits = c[2].trim_end_matches('0');
                    if digits.is_empty() {
                        format!("{}\"", &c[1])
                    } else {
                        format!("{}.{digits}\"", &c[1])
                    }
                })
                .into_owned()
        })
        .collect()
}

/// Fills a site on `from`, exports it while it serves, restores it into a new, empty
/// database on `to`, starts the site there and compares.
async fn round_trip(from: Backend, to: Backend) {
    let (app, filled) = filled_site(from).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.jsonl");
    let file_arg = file.to_str().unwrap();
    let extra = vec![format!("/comments/{}", filled.deep_reply), "/articles/generated-article-number-1".to_owned()];
    let before = pages(&app, &extra).await;

    let out = succeeded(&afterword(&["export", file_arg], &app.db.url).await);
    assert!(out.contains("exported") && out.contains("without their passwords"), "{out}");
    let header: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&file).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(header["format"], "afterword-site");
    let version = app.with_conn(|c| site::schema_version(c).unwrap()).await;
    assert_eq!(header["schema_version"], version.as_str());
    let exported = std::fs::read_to_string(&file).unwrap();
    assert!(!exported.contains("$argon2"), "no password hash is exported");
    assert!(!exported.contains("csrf_key"), "the site's own secret stays");

    let target = TestDb::new(to);
    let out = succeeded(&afterword(&["import-site", file_arg], &target.url).await);
    assert!(out.contains("restored") && out.contains("5 account(s) have no password yet"), "{out}");
    assert!(out.contains("afterword admin reset-password NAME"), "{out}");

    let restored = TestApp::builder(to).start_on(target).await;
    assert_same_pages(&before, &pages(&restored, &extra).await);
    assert_numbering_as_migrated(&restored.db).await;

    // Everything, counters included, is as it was: the restored site exports the same rows.
    let again = dir.path().join("again.jsonl");
    succeeded(&afterword(&["export", again.to_str().unwrap()], &restored.db.url).await);
    assert_eq!(rows_of(&again), rows_of(&file));
    let counters = |pool: afterword::db::DbPool| async move {
        tokio::task::spawn_blocking(move || {
            let mut pooled = pool.get().unwrap();
            let c: &mut afterword::db::DbConn = &mut pooled;
            use afterword::db::schema::{articles, comments};
            let articles: Vec<(i64, i32)> =
                articles::table.order(articles::id).select((articles::id, articles::comment_count)).load(c).unwrap();
            let comments: Vec<(i64, i32, i32, i32)> = comments::table
                .order(comments::id)
                .select((comments::id, comments::upvotes, comments::downvotes, comments::reply_count))
                .load(c)
                .unwrap();
            (articles, comments)
        })
        .await
        .unwrap()
    };
    let (counted, restored_counted) = (counters(app.pool.clone()).await, counters(restored.pool.clone()).await);
    assert_eq!(restored_counted, counted);
    assert!(counted.1.iter().any(|&(_, up, _, replies)| up == 2 && replies == 1), "the counters were filled");

    // The search index holds the restored comments (rebuilt as the rows went in).
    let (_, found) = restored.page("/search?q=zeppelin").await;
    assert!(found.contains(&format!("href=\"/comments/{}\"", filled.findable)), "{found}");
    assert!(
        found.contains("A <mark>zeppelin</mark> would have been quicker."),
        "search finds a restored comment: {found}"
    );
    let (_, removed) = restored.page("/search?q=watches").await;
    assert!(!removed.contains("Buy cheap watches"), "a removed comment is not found");
    let removed_page = restored.page(&format!("/comments/{}", filled.removed)).await.1;
    assert!(!removed_page.contains("Buy cheap watches"), "a removed comment stays removed");

    // Accounts come without passwords: a login fails until the password is reset.
    let (_, login) = restored.login("ann", PASSWORD).await;
    assert_ne!(login.status(), StatusCode::SEE_OTHER, "no password was restored");
    let out = afterword_with(
        &["admin", "reset-password", "ann"],
        &restored.db.url,
        &[("AFTERWORD_ADMIN_PASSWORD", "a new passphrase after the move")],
    )
    .await;
    succeeded(&out);
    let (ann, login) = restored.login("ann", "a new passphrase after the move").await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER, "logged in after the reset");
    let (status, inbox) = restored.page_as(&ann, "/inbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(inbox.contains("Bob answers ann."), "her notification came along: {inbox}");

    // New rows carry on after the restored ids (PostgreSQL's sequences were moved on).
    let max_id = counted.1.iter().map(|c| c.0).max().unwrap();
    let new = restored.comment(&ann, SEED_SLUG, "The first comment after the move.", None).await;
    assert!(new > max_id, "{new} after {max_id}");
    let bea = restored.signup("bea").await;
    let (status, _) = restored.page_as(&bea, "/settings").await;
    assert_eq!(status, StatusCode::OK, "a new account after the move");
}

async fn a_round_trip_on_the_same_backend_serves_the_same_pages(backend: Backend) {
    round_trip(backend, backend).await;
}

async fn sqlite_to_postgres_serves_the_same_pages() {
    round_trip(Backend::Sqlite, Backend::Postgres).await;
}

async fn postgres_to_sqlite_serves_the_same_pages() {
    round_trip(Backend::Postgres, Backend::Sqlite).await;
}

/// The identity columns of `db` number rows as a migrated database's do (the import
/// lets them take the restored ids, then puts them back).
async fn assert_numbering_as_migrated(db: &TestDb) {
    let postgres = db.backend == Backend::Postgres;
    let (db, fresh) = (db.clone(), TestDb::migrated(db.backend));
    let (now, migrated) = tokio::task::spawn_blocking(move || {
        (
            introspect::identity_columns(&mut db.connect()).unwrap(),
            introspect::identity_columns(&mut fresh.connect()).unwrap(),
        )
    })
    .await
    .unwrap();
    if postgres {
        assert!(migrated.iter().any(|c| c.table_name == "comments" && c.generation == "ALWAYS"), "{migrated:?}");
    }
    assert_eq!(now, migrated);
}

/// Every table and column of the migrated schema is exported, or left out on purpose
/// with the reason: a table or column added later fails here until the export covers
/// it or says why not.
async fn export_covers_every_table_and_column(backend: Backend) {
    let db = TestDb::new(backend);
    let mut conn = db.connect();
    db::run_migrations(&mut conn, "test").unwrap();
    let mut schema: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for column in introspect::columns(&mut conn).unwrap() {
        schema.entry(column.table_name).or_default().insert(column.column_name);
    }
    assert!(schema.contains_key("comments") && schema.contains_key("users"), "{schema:?}");

    let exported: BTreeMap<&str, &[&str]> = site::EXPORTED.iter().copied().collect();
    let excluded: BTreeMap<&str, &str> = site::EXCLUDED_TABLES.iter().copied().collect();
    for (table, reason) in &excluded {
        assert!(!reason.trim().is_empty(), "{table} is left out without a reason");
        assert!(!exported.contains_key(table), "{table} is both exported and left out");
        assert!(schema.contains_key(*table), "{table} is left out but no longer exists");
    }
    let uncovered: Vec<&String> =
        schema.keys().filter(|t| !exported.contains_key(t.as_str()) && !excluded.contains_key(t.as_str())).collect();
    assert!(
        uncovered.is_empty(),
        "tables neither exported nor left out (add them to db::site's tables or EXCLUDED_TABLES): {uncovered:?}"
    );
    for (table, columns) in &exported {
        let real = schema.get(*table).unwrap_or_else(|| panic!("{table} is exported but does not exist"));
        let left_out: BTreeSet<String> = site::EXCLUDED_COLUMNS
            .iter()
            .filter(|(t, _, reason)| t == table && !reason.trim().is_empty())
            .map(|(_, c, _)| c.to_string())
            .collect();
        let written: BTreeSet<String> = columns.iter().map(|c| c.to_string()).collect();
        assert!(written.is_disjoint(&left_out), "{table}: a column both exported and left out");
        let covered: BTreeSet<String> = written.union(&left_out).cloned().collect();
        assert_eq!(&covered, real, "{table}: the exported and left-out columns are the table's columns");
    }
}

/// Read a few rows at a time, every table (those with two-column keys too) gives the
/// same rows in the same order as read all at once.
async fn export_pages_through_every_table_by_key(backend: Backend) {
    let (app, _) = filled_site(backend).await;
    let read = |page_size: i64| {
        app.with_conn(move |c| {
            let mut records = Vec::new();
            site::export(c, page_size, &mut |record| {
                records.push(record);
                Ok(())
            })
            .unwrap();
            records
        })
    };
    let (paged, whole) = (read(2).await, read(1_000_000).await);
    assert_eq!(paged, whole);
    let mut per_table: BTreeMap<&str, usize> = BTreeMap::new();
    for record in &whole {
        *per_table.entry(record.table()).or_default() += 1;
    }
    for (table, at_least) in [
        ("users", 5),
        ("articles", 3),
        ("article_takeaways", 8),
        ("article_tags", 3),
        ("comments", 6),
        ("comment_votes", 4),
        ("saved_articles", 1),
        ("reports", 1),
        ("notifications", 2),
        ("moderation_log", 2),
        ("settings", 1),
    ] {
        assert!(per_table.get(table).copied().unwrap_or(0) >= at_least, "{table}: {per_table:?}");
    }
}

async fn an_empty_site_exports_and_imports(backend: Backend) {
    let source = TestDb::new(backend);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.jsonl");
    let file_arg = file.to_str().unwrap();
    let out = succeeded(&afterword(&["export", file_arg], &source.url).await);
    assert!(out.contains("exported 0 rows"), "{out}");
    let contents = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = contents.lines().collect();
    assert_eq!(lines.len(), 2, "a header and the closing line: {contents}");
    assert_eq!(lines[1], r#"{"end":{"rows":{}}}"#);

    // An existing file is not overwritten.
    let out = afterword(&["export", file_arg], &source.url).await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("already exists"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), contents, "the file is untouched");

    // A site that only ever started (its own key in settings) counts as empty.
    let target = TestApp::start(backend).await;
    let out = succeeded(&afterword(&["import-site", file_arg], &target.db.url).await);
    assert!(out.contains("restored 0 rows"), "{out}");
    assert!(!out.contains("no password"), "{out}");
    assert_eq!(target.page("/").await.0, StatusCode::OK);
}

/// A small site's export, as lines.
async fn small_export(backend: Backend) -> (tempfile::TempDir, Vec<String>) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let ann = app.signup("ann").await;
    let bob = app.signup("bob").await;
    let first = app.comment(&ann, SEED_SLUG, "Ann's comment.", None).await;
    app.comment(&bob, SEED_SLUG, "Bob's reply.", Some(first)).await;
    app.vote(&bob, first, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.jsonl");
    succeeded(&afterword(&["export", file.to_str().unwrap()], &app.db.url).await);
    let lines = std::fs::read_to_string(&file).unwrap().lines().map(str::to_owned).collect();
    (dir, lines)
}

/// Rows of the tables an import writes first and last, to see that nothing was written.
async fn site_rows(db: &TestDb) -> (i64, i64, i64, i64) {
    let db = db.clone();
    tokio::task::spawn_blocking(move || {
        use afterword::db::schema::{articles, comment_votes, comments, users};
        let mut c = db.connect();
        (
            users::table.count().get_result(&mut c).unwrap(),
            articles::table.count().get_result(&mut c).unwrap(),
            comments::table.count().get_result(&mut c).unwrap(),
            comment_votes::table.count().get_result(&mut c).unwrap(),
        )
    })
    .await
    .unwrap()
}

fn line_of(lines: &[String], table: &str) -> usize {
    lines.iter().position(|l| l.starts_with(&format!(r#"{{"table":"{table}""#))).unwrap_or_else(|| panic!("{table}"))
}

async fn a_bad_file_writes_nothing_and_names_its_line(backend: Backend) {
    let (dir, good) = small_export(backend).await;
    let target = TestDb::new(backend);
    let comment = line_of(&good, "comments");
    let vote = line_of(&good, "comment_votes");
    let user = line_of(&good, "users");
    let last = good.len() - 1;
    let edit = |index: usize, change: &dyn Fn(&mut serde_json::Value)| {
        let mut lines = good.clone();
        let mut value: serde_json::Value = serde_json::from_str(&lines[index]).unwrap();
        change(&mut value);
        lines[index] = value.to_string();
        lines.join("\n") + "\n"
    };
    let whole = good.join("\n") + "\n";
    let mut header_newer: serde_json::Value = serde_json::from_str(&good[0]).unwrap();
    header_newer["format_version"] = 2.into();
    let mut header_other_schema: serde_json::Value = serde_json::from_str(&good[0]).unwrap();
    header_other_schema["schema_version"] = "20200101000000".into();

    // (what, the file, what the message must say)
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        ("empty file", Vec::new(), "the file is empty".into()),
        ("not an export", b"{\"hello\": 1}\n".to_vec(), "line 1: not an afterword export".into()),
        ("binary garbage", vec![0xff, 0xfe, 0x00, 0x81, b'\n'], "line 1: not UTF-8".into()),
        (
            "a newer format",
            format!("{header_newer}\n{}\n", good[1..].join("\n")).into_bytes(),
            "line 1: the export's format version is 2".into(),
        ),
        (
            "another schema version",
            format!("{header_other_schema}\n{}\n", good[1..].join("\n")).into_bytes(),
            "schema version 20200101000000".into(),
        ),
        ("cut before its closing line", (good[..last].join("\n") + "\n").into_bytes(), "cut short".into()),
        (
            "cut inside a line",
            whole.as_bytes()[..whole.find(&good[comment]).unwrap() + 40].to_vec(),
            format!("line {}: not valid JSON", comment + 1),
        ),
        (
            "a garbage line",
            {
                let mut lines = good.clone();
                lines.insert(comment, "this is not json".into());
                (lines.join("\n") + "\n").into_bytes()
            },
            format!("line {}: not valid JSON", comment + 1),
        ),
        (
            "an unknown table",
            edit(comment, &|v| v["table"] = "gossip".into()).into_bytes(),
            format!("line {}: table: unknown table \"gossip\" (one of settings, users, articles", comment + 1),
        ),
        (
            "an unknown status",
            edit(comment, &|v| v["row"]["status"] = "sparkly".into()).into_bytes(),
            format!("line {}: row.status: unknown CommentStatus \"sparkly\"", comment + 1),
        ),
        (
            "a number for a time",
            edit(comment, &|v| v["row"]["created_at"] = 5.into()).into_bytes(),
            format!("line {}: row.created_at", comment + 1),
        ),
        (
            "a password hash",
            edit(user, &|v| v["row"]["password_hash"] = "$argon2id$…".into()).into_bytes(),
            format!("line {}: row.password_hash: unknown field `password_hash`", user + 1),
        ),
        (
            "a missing column",
            edit(comment, &|v| {
                v["row"].as_object_mut().unwrap().remove("depth");
            })
            .into_bytes(),
            format!("line {}: row: missing field `depth`", comment + 1),
        ),
        (
            "a NUL character",
            edit(comment, &|v| v["row"]["body_source"] = "a\u{0}b".into()).into_bytes(),
            format!("line {}: row.body_source contains a NUL character", comment + 1),
        ),
        (
            "a vote of 5",
            edit(vote, &|v| v["row"]["value"] = 5.into()).into_bytes(),
            format!("line {}: row.value: a vote is 1 or -1, not 5", vote + 1),
        ),
        (
            "a comment twice",
            {
                let mut lines = good.clone();
                lines.insert(comment + 1, good[comment].clone());
                (lines.join("\n") + "\n").into_bytes()
            },
            format!("line {}: the database refused the comments row", comment + 2),
        ),
        (
            "a reply to a comment that is not there",
            edit(comment + 1, &|v| v["row"]["parent_id"] = 999.into()).into_bytes(),
            format!("line {}: the database refused the comments row", comment + 2),
        ),
        (
            "a closing line that counts other rows",
            edit(last, &|v| v["end"]["rows"]["comments"] = 3.into()).into_bytes(),
            format!("line {}: the closing line counts", last + 1),
        ),
        (
            "a line after the closing line",
            format!("{whole}{}\n", good[comment]).into_bytes(),
            format!("line {}: a line after the closing line", last + 2),
        ),
        (
            "an empty line",
            {
                let mut lines = good.clone();
                lines.insert(2, String::new());
                (lines.join("\n") + "\n").into_bytes()
            },
            "line 3: an empty line".into(),
        ),
    ];
    let file = dir.path().join("bad.jsonl");
    for (what, contents, expected) in cases {
        std::fs::write(&file, &contents).unwrap();
        let out = afterword(&["import-site", file.to_str().unwrap()], &target.url).await;
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{what}: must fail");
        assert!(stderr.contains(&expected), "{what}: says {expected:?}: {stderr}");
        assert!(stderr.contains("nothing was written"), "{what}: {stderr}");
        assert_eq!(site_rows(&target).await, (0, 0, 0, 0), "{what}: nothing was written");
    }
    assert_numbering_as_migrated(&target).await;
    let out = afterword(&["import-site", "/no/such/export.jsonl"], &target.url).await;
    assert!(text(&out.stderr).contains("could not read /no/such/export.jsonl"), "{}", text(&out.stderr));

    // The good file goes in whole, into the database the bad ones left as it was.
    std::fs::write(&file, whole).unwrap();
    succeeded(&afterword(&["import-site", file.to_str().unwrap()], &target.url).await);
    assert_eq!(site_rows(&target).await, (2, 1, 2, 1));
}

/// An export is a file like any other: HTML in it is cleaned as the site cleans
/// rendered Markdown before any page shows it.
async fn html_in_an_export_is_cleaned_on_the_way_in(backend: Backend) {
    let (dir, mut lines) = small_export(backend).await;
    let comment = line_of(&lines, "comments");
    let user = line_of(&lines, "users");
    let mut value: serde_json::Value = serde_json::from_str(&lines[comment]).unwrap();
    value["row"]["body_html"] = "<p>Ann's comment.</p><script>alert(1)</script><img src=x onerror=alert(2)>".into();
    lines[comment] = value.to_string();
    let mut value: serde_json::Value = serde_json::from_str(&lines[user]).unwrap();
    value["row"]["bio_source"] = "About me.".into();
    value["row"]["bio_html"] = "<p>About me.</p><iframe src=\"https://evil.example/\"></iframe>".into();
    lines[user] = value.to_string();
    let file = dir.path().join("tampered.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();

    let target = TestDb::new(backend);
    succeeded(&afterword(&["import-site", file.to_str().unwrap()], &target.url).await);
    let restored = TestApp::builder(backend).start_on(target).await;
    let (_, article) = restored.page(&format!("/articles/{SEED_SLUG}")).await;
    assert!(article.contains("<p>Ann&#39;s comment.</p>") || article.contains("<p>Ann's comment.</p>"), "{article}");
    assert!(!article.contains("alert("), "{article}");
    let (_, profile) = restored.page("/users/ann").await;
    assert!(profile.contains("<p>About me.</p>"), "{profile}");
    assert!(!profile.contains("<iframe") && !profile.contains("evil.example"), "{profile}");
}

async fn import_site_refuses_a_database_that_holds_a_site(backend: Backend) {
    let (dir, good) = small_export(backend).await;
    let file = dir.path().join("site.jsonl");
    std::fs::write(&file, good.join("\n") + "\n").unwrap();
    let file_arg = file.to_str().unwrap();

    let occupied = TestApp::builder(backend).with_seed_article().start().await;
    let before = site_rows(&occupied.db).await;
    let out = afterword(&["import-site", file_arg], &occupied.db.url).await;
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("the database is not empty (it holds 1 row(s) of articles"), "{stderr}");
    assert!(stderr.contains("import-site restores only into an empty database; nothing was written"), "{stderr}");
    assert_eq!(site_rows(&occupied.db).await, before);

    // Two imports at once into one empty database: one restores the site, the other
    // finds it there and writes nothing.
    let target = TestDb::new(backend);
    succeeded(&afterword(&["migrate"], &target.url).await);
    let args = ["import-site", file_arg];
    let (one, two) = tokio::join!(afterword(&args, &target.url), afterword(&args, &target.url));
    let outcomes = [&one, &two].map(|out| out.status.success());
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "one succeeds: {outcomes:?}");
    let refused = if outcomes[0] { &two } else { &one };
    assert!(text(&refused.stderr).contains("the database is not empty"), "{}", text(&refused.stderr));
    let restored = site_rows(&target).await;
    assert_eq!(restored, (2, 1, 2, 1));

    // A restored site is not empty either: another import is refused.
    let out = afterword(&["import-site", file_arg], &target.url).await;
    assert!(!out.status.success() && text(&out.stderr).contains("not empty"), "{}", text(&out.stderr));
    assert_eq!(site_rows(&target).await, restored);
}

async fn backup_refuses_an_existing_file_and_a_missing_database(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("existing.backup");
    std::fs::write(&file, "keep me").unwrap();
    let out = afterword(&["backup", file.to_str().unwrap()], &app.db.url).await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("already exists: a backup goes to a new file"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");

    if backend == Backend::Sqlite {
        let missing = format!("sqlite://{}/nothing-here.db", dir.path().display());
        let out = afterword(&["backup", dir.path().join("new.backup").to_str().unwrap()], &missing).await;
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains("there is no SQLite database at"), "{}", text(&out.stderr));
        assert!(!dir.path().join("nothing-here.db").exists(), "no database was made");
    }
}

/// The path of a SQLite test database.
fn sqlite_path(db: &TestDb) -> std::path::PathBuf {
    std::path::PathBuf::from(db.url.strip_prefix("sqlite://").unwrap())
}

async fn sqlite_backup_while_serving_and_writing_restores_by_copying() {
    let (app, _) = filled_site(Backend::Sqlite).await;
    let dir = tempfile::tempdir().unwrap();

    // Readers write while the backup runs.
    let writer = app.signup("wendy").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writing = {
        let (stop, client, url) = (stop.clone(), writer.clone(), app.url(""));
        let token = app.csrf_token(&writer).await;
        tokio::spawn(async move {
            let mut posted = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = format!("Written during the backup, number {posted}.");
                let response = client
                    .post(format!("{url}/articles/{SEED_SLUG}/comments"))
                    .form(&[("body", body.as_str()), ("csrf_token", token.as_str())])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::SEE_OTHER);
                posted += 1;
            }
            posted
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let busy = dir.path().join("busy.db");
    let out = succeeded(&afterword(&["backup", busy.to_str().unwrap()], &app.db.url).await);
    assert!(out.contains("VACUUM INTO") && out.contains("To restore"), "{out}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let posted = writing.await.unwrap();
    assert!(posted > 2, "the site kept writing: {posted}");

    // The copy taken mid-writes is one moment of the site: its counter agrees with its rows.
    let copy = TestDb::new(Backend::Sqlite);
    std::fs::copy(&busy, sqlite_path(&copy)).unwrap();
    let restored = TestApp::builder(Backend::Sqlite).start_on(copy).await;
    let (count, rows, during): (i32, i64, i64) = restored
        .with_conn(|c| {
            use afterword::db::schema::{articles, comments};
            let article: i64 =
                articles::table.filter(articles::slug.eq(SEED_SLUG)).select(articles::id).first(c).unwrap();
            let count = articles::table.find(article).select(articles::comment_count).first(c).unwrap();
            let rows = comments::table
                .filter(comments::article_id.eq(article).and(comments::status.eq("visible")))
                .count()
                .get_result(c)
                .unwrap();
            let during = comments::table
                .filter(comments::body_source.like("Written during the backup%"))
                .count()
                .get_result(c)
                .unwrap();
            (count, rows, during)
        })
        .await;
    assert_eq!(i64::from(count), rows, "the counter and the rows of one moment");
    assert!(during < posted as i64, "the copy is of a moment before the writes ended: {during} of {posted}");
    assert_eq!(restored.page(&format!("/articles/{SEED_SLUG}")).await.0, StatusCode::OK);
    drop(restored);

    // Once the writes are over, a restored copy serves the same pages as the site.
    let quiet = dir.path().join("quiet.db");
    succeeded(&afterword(&["backup", quiet.to_str().unwrap()], &app.db.url).await);
    let copy = TestDb::new(Backend::Sqlite);
    std::fs::copy(&quiet, sqlite_path(&copy)).unwrap();
    let restored = TestApp::builder(Backend::Sqlite).start_on(copy).await;
    assert_same_pages(&pages(&app, &[]).await, &pages(&restored, &[]).await);
    // Passwords are part of a backup: an account logs in on the restored copy.
    let (_, login) = restored.login("ann", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
}

async fn postgres_backup_restores_with_pg_restore() {
    for tool in ["pg_dump", "pg_restore"] {
        let found = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
        assert!(found, "{tool} is not installed: install PostgreSQL's client tools (postgresql-client)");
    }
    let (app, _) = filled_site(Backend::Postgres).await;
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("site.dump");
    let out = succeeded(&afterword(&["backup", dump.to_str().unwrap()], &app.db.url).await);
    assert!(out.contains("with pg_dump --format=custom"), "{out}");
    assert!(out.contains("pg_restore --no-owner --exit-on-error --dbname="), "{out}");
    assert!(out.contains("NEW_DATABASE"), "{out}");
    assert!(std::fs::metadata(&dump).unwrap().len() > 0);

    // Restore as the output says, into a new database this test creates (and drops).
    let target = TestDb::new(Backend::Postgres);
    let (url, file) = (target.url.clone(), dump.clone());
    let restore = tokio::task::spawn_blocking(move || {
        Command::new("pg_restore")
            .args(["--no-owner", "--exit-on-error", &format!("--dbname={url}"), file.to_str().unwrap()])
            .output()
            .expect("pg_restore runs")
    })
    .await
    .unwrap();
    assert!(restore.status.success(), "pg_restore: {}", text(&restore.stderr));
    let restored = TestApp::builder(Backend::Postgres).start_on(target).await;
    assert_same_pages(&pages(&app, &[]).await, &pages(&restored, &[]).await);
    let (_, login) = restored.login("ann", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER, "passwords are part of a backup");
    let bea = restored.signup("bea").await;
    assert_eq!(restored.page_as(&bea, "/settings").await.0, StatusCode::OK, "new rows after the restore");
}

async fn without_pg_dump_backup_prints_the_command() {
    let db = TestDb::migrated(Backend::Postgres);
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("site.dump");
    let empty_path = dir.path().join("bin");
    std::fs::create_dir(&empty_path).unwrap();
    let out =
        afterword_with(&["backup", dump.to_str().unwrap()], &db.url, &[("PATH", empty_path.to_str().unwrap())]).await;
    let stdout = succeeded(&out);
    assert!(stdout.contains("pg_dump is not installed here"), "{stdout}");
    let shown = url::Url::parse(&db.url).unwrap();
    assert!(stdout.contains(&format!("pg_dump --format=custom --file={} --dbname=", dump.display())), "{stdout}");
    assert!(stdout.contains(shown.path()), "names the database: {stdout}");
    assert!(stdout.contains("pg_restore --no-owner"), "{stdout}");
    assert!(!dump.exists(), "nothing was written");
}
