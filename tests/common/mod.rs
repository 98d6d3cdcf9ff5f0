//! The test harness: the real application on port 0, against a fresh database of
//! either backend, with an HTTP client that keeps cookies.

#![allow(dead_code)]

use std::sync::OnceLock;
use std::time::Duration;

use afterword::auth::ratelimit::RateLimitConfig;
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
/// The password test accounts use.
pub const PASSWORD: &str = "plum orchard at dusk";

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

/// The PostgreSQL server the tests use. Without TLS: the test process exits with
/// servers still holding connections, and OpenSSL's clean-up at exit must not race them.
pub fn postgres_admin_url() -> String {
    let url =
        std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    if url.contains("sslmode=") {
        url
    } else if url.contains('?') {
        format!("{url}&sslmode=disable")
    } else {
        format!("{url}?sslmode=disable")
    }
}

/// Whether PostgreSQL tests can run. With `AFTERWORD_REQUIRE_POSTGRES=1` an unreachable
/// server fails the test instead of skipping it.
pub fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let result =
        AVAILABLE.get_or_init(|| PgConnection::establish(&postgres_admin_url()).map(|_| ()).map_err(|e| e.to_string()));
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
                TestDb { backend, url, pg_name: None, _dir: Some(dir) }
            }
            Backend::Postgres => {
                use std::sync::atomic::{AtomicUsize, Ordering};
                static COUNTER: AtomicUsize = AtomicUsize::new(0);
                let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
                let name =
                    format!("afterword_test_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
                let mut admin = PgConnection::establish(&postgres_admin_url()).expect("PostgreSQL admin connection");
                // The name is made here of digits and underscores: safe as an identifier.
                diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).expect("create database");
                let mut url = url::Url::parse(&postgres_admin_url()).expect("TEST_POSTGRES_URL");
                url.set_path(&name);
                TestDb { backend, url: url.to_string(), pg_name: Some(name), _dir: None }
            }
        }
    }

    /// A plain connection, without migrations.
    pub fn connect(&self) -> DbConn {
        ConnectionManager::new(DbUrl::parse(&self.url).unwrap()).unwrap().connect().expect("connect to test database")
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
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut admin);
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
    config: Config,
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
        self.config.demo = true;
        self
    }

    pub fn db_timeout(mut self, timeout: Duration) -> Self {
        self.config.db_timeout = timeout;
        self
    }

    /// Changes the configuration the app starts with.
    pub fn configure(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.config);
        self
    }

    pub async fn start(self) -> TestApp {
        let db = TestDb::new(self.backend);
        let mut config = self.config;
        config.database_url = db.url.clone();
        let app = App::build(config).await.expect("the app starts");
        let port = app.port();
        let pool = app.pool().clone();
        let server = app.handle();
        for json in self.articles {
            let pool = pool.clone();
            tokio::task::spawn_blocking(move || {
                let items = import::parse(json.as_bytes()).expect("test articles are valid");
                let mut conn = pool.get().unwrap();
                afterword::db::articles::upsert_all(&mut conn, &items, &mut |_| {}).expect("import test articles");
            })
            .await
            .unwrap();
        }
        tokio::spawn(app.run_until_stopped());
        let address = format!("http://127.0.0.1:{port}");
        let client = browser_like_client(&address);
        TestApp { address, port, client, pool, server, db }
    }
}

/// A client with its own cookie jar that, like a browser on the site's own pages, sends
/// the site's `Origin` with every request and does not follow redirects.
pub fn browser_like_client(address: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ORIGIN, address.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A running application.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub pool: DbPool,
    server: actix_web::dev::ServerHandle,
    pub db: TestDb,
}

impl Drop for TestApp {
    /// Stops the server (its worker threads, pool and connections go with it) before
    /// the database is dropped.
    fn drop(&mut self) {
        let server = self.server.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            tokio::task::block_in_place(|| runtime.block_on(server.stop(false)));
        }
    }
}

impl TestApp {
    pub fn builder(backend: Backend) -> TestAppBuilder {
        let mut config = Config::new("set at start");
        config.bind = "127.0.0.1:0".to_owned();
        config.workers = 1;
        config.pool_size = 4;
        // Tests send many requests from one address; the rate-limit tests set their own.
        config.rate_limits = RateLimitConfig::off();
        TestAppBuilder { backend, articles: Vec::new(), config }
    }

    pub async fn start(backend: Backend) -> TestApp {
        Self::builder(backend).start().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    /// GET a page; returns the status and body.
    pub async fn page(&self, path: &str) -> (reqwest::StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("a body"))
    }

    /// A new client with an empty cookie jar.
    pub fn new_client(&self) -> reqwest::Client {
        browser_like_client(&self.address)
    }

    /// The CSRF token the site gives `client` (read from the login form).
    pub async fn csrf_token(&self, client: &reqwest::Client) -> String {
        let body = client.get(self.url("/login")).send().await.unwrap().text().await.unwrap();
        html::Page::parse(&body).attrs("input[name=csrf_token]", "value").swap_remove(0)
    }

    /// Posts a form with the client's CSRF token added.
    pub async fn post_form(&self, client: &reqwest::Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf_token(client).await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        client.post(self.url(path)).form(&form).send().await.expect("request sent")
    }

    /// Signs up `username` (email `username@example.com`, password `PASSWORD`) with a
    /// new client, which stays logged in.
    pub async fn signup(&self, username: &str) -> reqwest::Client {
        let client = self.new_client();
        let email = format!("{username}@example.com");
        let response = self
            .post_form(&client, "/signup", &[("username", username), ("email", &email), ("password", PASSWORD)])
            .await;
        assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER, "sign-up of {username}");
        client
    }

    /// Logs in with a new client; returns it and the response.
    pub async fn login(&self, login: &str, password: &str) -> (reqwest::Client, reqwest::Response) {
        let client = self.new_client();
        let response = self.post_form(&client, "/login", &[("login", login), ("password", password)]).await;
        (client, response)
    }

    /// Posts a comment (a reply when `parent` is set) on `slug`; returns its id.
    pub async fn comment(&self, client: &reqwest::Client, slug: &str, body: &str, parent: Option<i64>) -> i64 {
        let parent = parent.map(|p| p.to_string());
        let mut fields = vec![("body", body)];
        if let Some(p) = &parent {
            fields.push(("parent_id", p));
        }
        let response = self.post_form(client, &format!("/articles/{slug}/comments"), &fields).await;
        assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER, "posting {body:?}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        location.rsplit("#comment-").next().unwrap().parse().expect("the new comment's anchor")
    }

    /// Votes `value` on a comment; returns the response.
    pub async fn vote(&self, client: &reqwest::Client, id: i64, value: i32) -> reqwest::Response {
        self.post_form(client, &format!("/comments/{id}/vote"), &[("value", &value.to_string())]).await
    }

    /// GET with a given client; returns status and body.
    pub async fn page_as(&self, client: &reqwest::Client, path: &str) -> (reqwest::StatusCode, String) {
        let response = client.get(self.url(path)).send().await.expect("request sent");
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// The messages the site kept in its outbox, oldest first: (recipient, subject, body).
    pub async fn outbox(&self) -> Vec<(String, String, String)> {
        self.with_conn(|c| {
            let mut messages: Vec<_> = afterword::db::outbox::list(c, 0, 1000)
                .unwrap()
                .into_iter()
                .map(|m| (m.recipient, m.subject, m.body))
                .collect();
            messages.reverse();
            messages
        })
        .await
    }

    /// Gives an account a role (reader, moderator, admin).
    pub async fn set_role(&self, username: &str, role: &str) {
        use afterword::db::schema::users;
        let (username, role) = (username.to_lowercase(), role.to_owned());
        self.with_conn(move |c| {
            diesel::update(users::table.filter(users::username_key.eq(username)))
                .set(users::role.eq(role))
                .execute(c)
                .unwrap()
        })
        .await;
    }

    /// Signs up `username` and gives the account `role`; returns a logged-in client.
    pub async fn signup_as(&self, username: &str, role: &str) -> reqwest::Client {
        let client = self.signup(username).await;
        self.set_role(username, role).await;
        client
    }

    /// The id of an account, from a blocking context.
    pub fn with_conn_blocking_user_id(&self, username: &str) -> i64 {
        use afterword::db::schema::users;
        let mut conn = self.pool.get().unwrap();
        users::table.filter(users::username.eq(username)).select(users::id).first(&mut conn).unwrap()
    }

    /// Runs `f` with a pooled connection, off the async workers.
    pub async fn with_conn<T: Send + 'static>(&self, f: impl FnOnce(&mut DbConn) -> T + Send + 'static) -> T {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || f(&mut pool.get().unwrap())).await.unwrap()
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
