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
pub mod checkers;
pub mod html;
pub mod schemathesis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const SEED_ARTICLE: &str = include_str!("../fixtures/seed-article.json");
/// The password test accounts use.
pub const PASSWORD: &str = "plum orchard at dusk";

pub const SEED_SLUG: &str = "meta-again-denies-that-netflix-read-users-private-facebook-messages";

/// A registered integration test: run on one backend per trial by [`run_all`].
pub struct Case {
    /// `it::module`, as `module_path!()` gives it.
    pub module: &'static str,
    pub name: &'static str,
    pub needs: Needs,
    pub run: Run,
}

/// How a case is run.
#[derive(Clone, Copy)]
pub enum Run {
    /// Once per backend.
    Async(fn(Backend) -> BoxFuture<'static, ()>),
    /// Once, without a backend of its own.
    Plain(fn()),
    /// Once, on the one backend the behaviour exists on (the case says why).
    Only(Backend, fn() -> BoxFuture<'static, ()>),
}

/// What a case needs besides the database: a case that needs an absent service is
/// reported as ignored, or fails when the service is required (`AFTERWORD_REQUIRE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Database,
    Browser,
    /// Chromium and the accessibility and markup checkers (see [`checkers`]).
    Checkers,
    /// The Schemathesis command line (see [`schemathesis`]).
    Schemathesis,
}

pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

inventory::collect!(Case);

/// Registers each named `async fn name(backend: Backend)` as two tests,
/// `module::name::sqlite` and `module::name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {$(
        ::inventory::submit! {
            $crate::common::Case {
                module: module_path!(),
                name: stringify!($name),
                needs: $crate::common::Needs::Database,
                run: $crate::common::Run::Async(|backend| ::std::boxed::Box::pin($name(backend))),
            }
        }
    )+};
}

/// Like `both_backends!`, for cases that drive Chromium.
#[macro_export]
macro_rules! browser_tests {
    ($($name:ident),+ $(,)?) => {$(
        ::inventory::submit! {
            $crate::common::Case {
                module: module_path!(),
                name: stringify!($name),
                needs: $crate::common::Needs::Browser,
                run: $crate::common::Run::Async(|backend| ::std::boxed::Box::pin($name(backend))),
            }
        }
    )+};
}

/// Like `both_backends!`, for cases that run the Schemathesis command line.
#[macro_export]
macro_rules! schemathesis_tests {
    ($($name:ident),+ $(,)?) => {$(
        ::inventory::submit! {
            $crate::common::Case {
                module: module_path!(),
                name: stringify!($name),
                needs: $crate::common::Needs::Schemathesis,
                run: $crate::common::Run::Async(|backend| ::std::boxed::Box::pin($name(backend))),
            }
        }
    )+};
}

/// Registers each named `async fn name()` as one test on SQLite only that drives
/// Chromium and the accessibility and markup checkers.
#[macro_export]
macro_rules! checker_tests {
    ($($name:ident),+ $(,)?) => {$(
        ::inventory::submit! {
            $crate::common::Case {
                module: module_path!(),
                name: stringify!($name),
                needs: $crate::common::Needs::Checkers,
                run: $crate::common::Run::Only($crate::common::Backend::Sqlite, || ::std::boxed::Box::pin($name())),
            }
        }
    )+};
}

/// Registers each named `async fn name()` as one test on SQLite only.
#[macro_export]
macro_rules! sqlite_only {
    ($($name:ident),+ $(,)?) => {$(
        ::inventory::submit! {
            $crate::common::Case {
                module: module_path!(),
                name: stringify!($name),
                needs: $crate::common::Needs::Database,
                run: $crate::common::Run::Only($crate::common::Backend::Sqlite, || ::std::boxed::Box::pin($name())),
            }
        }
    )+};
}

/// Registers each named `async fn name()` as one test on PostgreSQL only.
#[macro_export]
macro_rules! postgres_only {
    ($($name:ident),+ $(,)?) => {$(
        ::inventory::submit! {
            $crate::common::Case {
                module: module_path!(),
                name: stringify!($name),
                needs: $crate::common::Needs::Database,
                run: $crate::common::Run::Only($crate::common::Backend::Postgres, || ::std::boxed::Box::pin($name())),
            }
        }
    )+};
}

/// Registers each named `fn name()` as one test that needs no database of its own.
#[macro_export]
macro_rules! plain_tests {
    ($($name:ident),+ $(,)?) => {$(
        ::inventory::submit! {
            $crate::common::Case {
                module: module_path!(),
                name: stringify!($name),
                needs: $crate::common::Needs::Database,
                run: $crate::common::Run::Plain($name),
            }
        }
    )+};
}

/// Runs a case's future on a runtime of its own, as `#[tokio::test]` would.
fn block_on(future: BoxFuture<'static, ()>) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a tokio runtime");
    runtime.block_on(future);
}

/// The test binary's `main`: every registered case as a libtest trial, PostgreSQL and
/// browser cases ignored (and counted as such) when their service is absent and not
/// required.
pub fn run_all() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let postgres = postgres_runs();
    let browser = browser::runs();
    let checkers = checkers::runs();
    let schemathesis = schemathesis::runs();
    let absent = |needs: Needs| match needs {
        Needs::Database => false,
        Needs::Browser => !browser,
        Needs::Checkers => !checkers,
        Needs::Schemathesis => !schemathesis,
    };
    let mut trials = Vec::new();
    for case in inventory::iter::<Case> {
        let module = case.module.split_once("::").map_or(case.module, |(_, rest)| rest);
        let name = format!("{module}::{}", case.name);
        match case.run {
            Run::Plain(f) => trials.push(libtest_mimic::Trial::test(name, move || {
                f();
                Ok(())
            })),
            Run::Only(backend, f) => {
                let suffix = if backend == Backend::Sqlite { "sqlite" } else { "postgres" };
                let ignored = (backend == Backend::Postgres && !postgres) || absent(case.needs);
                let trial = libtest_mimic::Trial::test(format!("{name}::{suffix}"), move || {
                    block_on(f());
                    Ok(())
                });
                trials.push(trial.with_ignored_flag(ignored));
            }
            Run::Async(f) => {
                for (backend, suffix) in [(Backend::Sqlite, "sqlite"), (Backend::Postgres, "postgres")] {
                    let ignored = (backend == Backend::Postgres && !postgres) || absent(case.needs);
                    let trial = libtest_mimic::Trial::test(format!("{name}::{suffix}"), move || {
                        block_on(f(backend));
                        Ok(())
                    });
                    trials.push(trial.with_ignored_flag(ignored));
                }
            }
        }
    }
    trials.sort_by(|a, b| a.name().cmp(b.name()));
    let skipped = trials.iter().filter(|t| t.has_ignored_flag()).count();
    if skipped > 0 && !args.ignored && !args.include_ignored {
        eprintln!("{skipped} cases will be reported as ignored: their service (PostgreSQL, Chromium, the checkers or Schemathesis) is absent");
    }
    let conclusion = libtest_mimic::run(&args, trials);
    drop_template();
    conclusion.exit()
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

fn required(variable: &str) -> bool {
    std::env::var(variable).as_deref() == Ok("1")
}

/// Whether the PostgreSQL server answers (checked once per test binary).
fn postgres_status() -> &'static Result<(), String> {
    static STATUS: OnceLock<Result<(), String>> = OnceLock::new();
    STATUS.get_or_init(|| PgConnection::establish(&postgres_admin_url()).map(|_| ()).map_err(|e| e.to_string()))
}

/// Whether PostgreSQL tests can run. With `AFTERWORD_REQUIRE_POSTGRES=1` an unreachable
/// server fails the test instead of skipping it.
pub fn postgres_available() -> bool {
    match postgres_status() {
        Ok(()) => true,
        Err(e) if required("AFTERWORD_REQUIRE_POSTGRES") => {
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

/// Whether PostgreSQL cases are run (when required, they run and fail without it).
fn postgres_runs() -> bool {
    postgres_status().is_ok() || required("AFTERWORD_REQUIRE_POSTGRES")
}

/// A migrated database that PostgreSQL test databases are copied from: much faster
/// than migrating each. Made once per test binary, dropped by `run_all` at the end.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("afterword_template_{}", std::process::id());
        let mut admin = PgConnection::establish(&postgres_admin_url()).expect("PostgreSQL admin connection");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\"")).execute(&mut admin).expect("drop template");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut admin).expect("create template");
        let mut url = url::Url::parse(&postgres_admin_url()).expect("TEST_POSTGRES_URL");
        url.set_path(&name);
        let mut conn = ConnectionManager::new(DbUrl::parse(url.as_str()).unwrap()).unwrap().connect().unwrap();
        afterword::db::run_migrations(&mut conn, "the template database").expect("migrate the template");
        name
    })
}

fn drop_template() {
    if postgres_status().is_ok() {
        drop_pg_database(&format!("afterword_template_{}", std::process::id()));
    }
}

/// A database of its own for one test, removed when the last handle to it goes (a
/// clone is another handle: two instances of the site share one database).
#[derive(Clone)]
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    owner: std::sync::Arc<DbOwner>,
}

/// Removes the database when dropped.
struct DbOwner {
    pg_name: std::sync::Mutex<Option<String>>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for DbOwner {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.get_mut().unwrap_or_else(|e| e.into_inner()).take() {
            drop_pg_database(&name);
        }
    }
}

impl TestDb {
    /// An empty database: no tables yet.
    pub fn new(backend: Backend) -> TestDb {
        Self::create(backend, None)
    }

    /// A database with every migration applied (on PostgreSQL, a copy of the template).
    pub fn migrated(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => Self::new(backend),
            Backend::Postgres => {
                assert!(postgres_available(), "PostgreSQL is unreachable");
                Self::create(backend, Some(template()))
            }
        }
    }

    fn create(backend: Backend, template: Option<&str>) -> TestDb {
        assert!(backend == Backend::Sqlite || postgres_available(), "PostgreSQL is unreachable");
        let owned = |url: String, pg_name: Option<String>, dir: Option<tempfile::TempDir>| TestDb {
            backend,
            url,
            owner: std::sync::Arc::new(DbOwner { pg_name: std::sync::Mutex::new(pg_name), _dir: dir }),
        };
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary folder");
                let url = format!("sqlite://{}", dir.path().join("afterword.db").display());
                owned(url, None, Some(dir))
            }
            Backend::Postgres => {
                use std::sync::atomic::{AtomicUsize, Ordering};
                static COUNTER: AtomicUsize = AtomicUsize::new(0);
                let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
                let name =
                    format!("afterword_test_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
                let mut admin = PgConnection::establish(&postgres_admin_url()).expect("PostgreSQL admin connection");
                // The name is made here of digits and underscores: safe as an identifier.
                let sql = match template {
                    Some(template) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
                    None => format!("CREATE DATABASE \"{name}\""),
                };
                // Copies from one template must not overlap: PostgreSQL refuses a template
                // another session is copying.
                static COPYING: std::sync::Mutex<()> = std::sync::Mutex::new(());
                let _one_at_a_time = COPYING.lock().unwrap_or_else(|e| e.into_inner());
                diesel::sql_query(sql).execute(&mut admin).expect("create database");
                let mut url = url::Url::parse(&postgres_admin_url()).expect("TEST_POSTGRES_URL");
                url.set_path(&name);
                owned(url.to_string(), Some(name), None)
            }
        }
    }

    /// A plain connection, without migrations.
    pub fn connect(&self) -> DbConn {
        ConnectionManager::new(DbUrl::parse(&self.url).unwrap())
            .unwrap()
            .connect_unbounded()
            .expect("connect to test database")
    }

    /// Drops a PostgreSQL database now, ending its connections: the site loses its database.
    pub fn drop_now(&self) {
        let name = self.owner.pg_name.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(name) = name {
            drop_pg_database(&name);
        }
    }
}

fn drop_pg_database(name: &str) {
    if let Ok(mut admin) = PgConnection::establish(&postgres_admin_url()) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut admin);
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

    /// Serves the metrics on a port of their own (`TestApp::metrics_url`).
    pub fn with_metrics(self) -> Self {
        self.configure(|c| c.metrics_bind = Some("127.0.0.1:0".to_owned()))
    }

    pub async fn start(self) -> TestApp {
        let db = TestDb::migrated(self.backend);
        self.start_on(db).await
    }

    /// Starts the app on `db` (which it migrates if need be), as another instance of
    /// the site would start on a database it shares.
    pub async fn start_on(self, db: TestDb) -> TestApp {
        let mut config = self.config;
        config.database_url = db.url.clone();
        let app = App::build(config.clone()).await.expect("the app starts");
        // On PostgreSQL an instance caches nothing until it hears the others: wait for
        // its listener, so that what tests see of the cache does not depend on timing.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !app.hearing() {
            assert!(std::time::Instant::now() < deadline, "the instance's listener did not connect");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
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
        let address = format!("http://127.0.0.1:{port}");
        let client = browser_like_client(&address);
        let metrics_port = app.metrics_port();
        tokio::spawn(app.run_until_stopped());
        TestApp { address, port, metrics_port, client, pool, server, db, config }
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
    /// Where `/metrics` is served, when the configuration asked for it.
    pub metrics_port: Option<u16>,
    pub client: reqwest::Client,
    pub pool: DbPool,
    server: actix_web::dev::ServerHandle,
    pub db: TestDb,
    /// The configuration it started with.
    pub config: Config,
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
    /// Where the metrics are served (an app started `with_metrics`).
    pub fn metrics_url(&self) -> String {
        format!("http://127.0.0.1:{}/metrics", self.metrics_port.expect("started with_metrics"))
    }

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

    /// Another instance of the site on the same database, as behind a load balancer:
    /// the same configuration, and the same public address (`base_url`: this one's), so
    /// that a client of this one (its cookies, its `Origin`) is at home on both. Within
    /// one test process the two share nothing but the database and what is
    /// process-wide by nature (static assets, the storage-full flag).
    pub async fn second_instance(&self) -> TestApp {
        self.second_instance_with(|_| {}).await
    }

    /// Like `second_instance`, with its configuration changed by `change`.
    pub async fn second_instance_with(&self, change: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = self.config.clone();
        config.base_url = url::Url::parse(&format!("{}/", self.address)).unwrap();
        change(&mut config);
        let builder = TestAppBuilder { backend: self.db.backend, articles: Vec::new(), config };
        builder.start_on(self.db.clone()).await
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
    /// A login from the network `from` (the site believes `X-Forwarded-For` from the
    /// tests' address when configured to trust it), with a new client.
    pub async fn login_from(&self, from: &str, login: &str, password: &str) -> reqwest::Response {
        let client = self.new_client();
        let token = self.csrf_token(&client).await;
        client
            .post(self.url("/login"))
            .header("x-forwarded-for", from)
            .form(&[("login", login), ("password", password), ("csrf_token", token.as_str())])
            .send()
            .await
            .unwrap()
    }

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
        let anchor: i64 = location.rsplit("#comment-").next().unwrap().parse().expect("an anchor");
        // The anchor is where the article shows the new comment: the comment itself, or
        // (deeper than the page shows) one of its parents. The comment is the newest
        // with its text.
        let text = body.trim().to_owned();
        let newest: Option<i64> = self
            .with_conn(move |c| {
                use afterword::db::schema::comments;
                comments::table
                    .filter(comments::body_source.eq(text))
                    .select(diesel::dsl::max(comments::id))
                    .first(c)
                    .unwrap()
            })
            .await;
        newest.unwrap_or(anchor)
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
        users::table.filter(users::username.eq(username)).select(users::id).first(&mut **conn).unwrap()
    }

    /// A new API token of `username` with `scopes` (`"read,write"` …), made the way the
    /// settings page makes one; returns the token.
    pub async fn api_token(&self, username: &str, scopes: &str) -> String {
        let token = afterword::auth::tokens::new_token();
        let hash = afterword::auth::token_hash(&token);
        let (username, scopes) = (username.to_owned(), scopes.to_owned());
        let user = self.with_conn(move |c| {
            use afterword::db::schema::users;
            users::table.filter(users::username.eq(username)).select(users::id).first::<i64>(c).unwrap()
        });
        let user = user.await;
        self.with_conn(move |c| {
            afterword::db::tokens::create(c, afterword::domain::UserId(user), "tests", &hash, &scopes, None)
                .unwrap()
                .expect("room for a token")
        })
        .await;
        token
    }

    /// A client calling the API with `token` and no cookies.
    pub fn api_client(&self, token: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
        reqwest::Client::builder().default_headers(headers).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// Runs `f` with a pooled connection, off the async workers. What `f` changes is
    /// made from outside the site, as an operator's tool would: on PostgreSQL it is
    /// announced to the running instances, as the command line does, so that what they
    /// keep of signed-in readers is read again (on SQLite they notice by themselves).
    pub async fn with_conn<T: Send + 'static>(&self, f: impl FnOnce(&mut DbConn) -> T + Send + 'static) -> T {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            let result = f(&mut conn);
            // (A connection `f` left unusable announces nothing.)
            let _ = afterword::db::live::announce_to_running_sites(&mut conn, "readers");
            result
        })
        .await
        .unwrap()
    }
}

/// `count` made-up articles, dated one day apart going back from 2024-03-01, as JSON.
/// The value of the metrics sample `series` (name and labels, exactly as written) in
/// `text`.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

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
