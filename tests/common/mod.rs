//! The test harness: the real application on port 0, against a fresh database of
//! either backend, with an HTTP client that keeps cookies.

#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::Duration;

use afterword::db::connection::ConnectionManager;
use afterword::db::{DbConn, DbPool, DbUrl};
use afterword::{import, App, Config};
use diesel::prelude::*;
use diesel::r2d2::ManageConnection;

pub mod browser;
pub mod html;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const SEED_ARTICLE: &str = include_str!("../fixtures/seed-article.json");
pub const SEED_SLUG: &str = "meta-again-denies-that-netflix-read-users-private-facebook-messages";

/// Runs each named `async fn name(backend: Backend)` as two tests, `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::common::postgres_available() {
                    super::$name($crate::common::Backend::Postgres).await
                }
            }
        }
    )+};
}

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Whether PostgreSQL tests can run. With `AFTERWORD_REQUIRE_POSTGRES=1` an unreachable
/// server fails the test instead of skipping it.
pub fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let result = AVAILABLE.get_or_init(|| {
        PgConnection::establish(&postgres_admin_url())
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => true,
        Err(e) if std::env::var("AFTERWORD_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!(
                "PostgreSQL is required (AFTERWORD_REQUIRE_POSTGRES=1) but unreachable at {}: {e}",
                postgres_admin_url()
            )
        }
        Err(e) => {
            eprintln!("skipping: PostgreSQL unreachable ({e})");
            false
        }
    }
}

/// A database of its own for one test, removed afterwards.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary folder");
                let url = format!("sqlite://{}", dir.path().join("afterword.db").display());
                TestDb {
                    backend,
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                use std::sync::atomic::{AtomicUsize, Ordering};
                static COUNTER: AtomicUsize = AtomicUsize::new(0);
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .subsec_nanos();
                let name = format!(
                    "afterword_test_{}_{}_{nanos}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst)
                );
                let mut admin = PgConnection::establish(&postgres_admin_url())
                    .expect("PostgreSQL admin connection");
                // The name is made here of digits and underscores: safe as an identifier.
                diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .expect("create database");
                let mut url = url::Url::parse(&postgres_admin_url()).expect("TEST_POSTGRES_URL");
                url.set_path(&name);
                TestDb {
                    backend,
                    url: url.to_string(),
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }

    /// A plain connection, without migrations.
    pub fn connect(&self) -> DbConn {
        ConnectionManager::new(DbUrl::parse(&self.url).unwrap())
            .unwrap()
            .connect()
            .expect("connect to test database")
    }

    /// Drops a PostgreSQL database now, ending its connections: the site loses its database.
    pub fn drop_now(&mut self) {
        if let Some(name) = self.pg_name.take() {
            drop_pg_database(&name);
        }
    }
}

fn drop_pg_database(name: &str) {
    if let Ok(mut admin) = PgConnection::establish(&postgres_admin_url()) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut admin);
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.drop_now();
    }
}

pub struct TestAppBuilder {
    backend: Backend,
    articles: Vec<String>,
    demo: bool,
    db_timeout: Duration,
}

impl TestAppBuilder {
    /// Imports a JSON array of articles before the app starts.
    pub fn with_articles(mut self, json: impl Into<String>) -> Self {
        self.articles.push(json.into());
        self
    }

    pub fn with_seed_article(self) -> Self {
        self.with_articles(SEED_ARTICLE)
    }

    pub fn demo(mut self) -> Self {
        self.demo = true;
        self
    }

    pub fn db_timeout(mut self, timeout: Duration) -> Self {
        self.db_timeout = timeout;
        self
    }

    pub async fn start(self) -> TestApp {
        let db = TestDb::new(self.backend);
        let mut config = Config::new(&db.url);
        config.bind = "127.0.0.1:0".to_owned();
        config.demo = self.demo;
        config.workers = 1;
        config.pool_size = 4;
        config.db_timeout = self.db_timeout;
        let app = App::build(config).await.expect("the app starts");
        let port = app.port();
        let pool = app.pool().clone();
        for json in self.articles {
            let pool = pool.clone();
            tokio::task::spawn_blocking(move || {
                let items = import::parse(json.as_bytes()).expect("test articles are valid");
                let mut conn = pool.get().unwrap();
                afterword::db::articles::upsert_all(&mut conn, &items, &mut |_| {})
                    .expect("import test articles");
            })
            .await
            .unwrap();
        }
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            port,
            client,
            pool,
            db,
        }
    }
}

/// A running application.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub pool: DbPool,
    pub db: TestDb,
}

impl TestApp {
    pub fn builder(backend: Backend) -> TestAppBuilder {
        TestAppBuilder {
            backend,
            articles: Vec::new(),
            demo: false,
            db_timeout: Duration::from_secs(5),
        }
    }

    pub async fn start(backend: Backend) -> TestApp {
        Self::builder(backend).start().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// GET a page; returns the status and body.
    pub async fn page(&self, path: &str) -> (reqwest::StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("a body"))
    }

    /// Runs `f` with a pooled connection, off the async workers.
    pub async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> T + Send + 'static,
    ) -> T {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || f(&mut pool.get().unwrap()))
            .await
            .unwrap()
    }
}

/// `count` made-up articles, dated one day apart going back from 2024-03-01, as JSON.
pub fn generated_articles(count: usize) -> String {
    let start = time::macros::date!(2024 - 03 - 01);
    let items: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            let date = start - time::Duration::days(i as i64);
            serde_json::json!({
                "title": format!("Generated article number {i}"),
                "source_url": format!("https://example.com/generated/{i}"),
                "source_name": "example.com",
                "published_at": date.to_string(),
                "summary": [format!("Summary of generated article {i}.")],
                "key_takeaways": [format!("First takeaway of article {i}."), "Second takeaway."],
            })
        })
        .collect();
    serde_json::to_string(&items).unwrap()
}
