//! HTTP: handlers, the route table, middleware and errors.

pub mod accounts;
pub mod admin;
pub mod api;
pub mod articles;
pub mod assets;
pub mod cache;
pub mod comments;
pub mod connection;
pub mod digests;
pub mod embed;
pub mod error;
pub mod feeds;
pub mod health;
pub mod live;
pub mod metrics;
pub mod middleware;
pub mod moderation;
pub mod profiles;
pub mod reports;
pub mod routes;
pub mod search;
pub mod security;
pub mod settings;

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use maud::Markup;

pub use error::AppError;

use crate::auth::csrf::CsrfKey;
use crate::auth::ratelimit::Limits;
use crate::config::Config;
use crate::db::{Backend, DbConn, DbHealth, DbPool, DbUrl};
use crate::mail::Mailer;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// The queue in front of the pool.
    pub gate: Arc<DbGate>,
    pub config: Arc<Config>,
    pub csrf: CsrfKey,
    pub limits: Arc<Limits>,
    pub mailer: Arc<Mailer>,
    /// Readers watching articles live.
    pub live: Arc<live::Hub>,
    /// Rendered pages for anonymous readers.
    pub cache: Arc<cache::PageCache>,
    /// Becomes true when the server begins to shut down: open event streams end.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Counted requests and the figures `/metrics` reads, when `--metrics-bind` is set.
    pub metrics: Option<Arc<metrics::Metrics>>,
    /// The origins allowed to embed the comments (`web::embed`).
    pub origins: Arc<embed::Origins>,
    /// New comments on their way into the database (`service::comments`).
    pub posts: Arc<crate::service::comments::PostQueue>,
}

/// Longest a request waits to check a connection out of the pool once it holds a
/// permit: a permit means a connection is free or about to be, so a longer wait means
/// the database is not answering.
const CHECKOUT: Duration = Duration::from_secs(2);

/// The queue in front of the pool: an async semaphore sized to the pool, so that
/// requests waiting for a connection wait on the async workers without holding a
/// blocking thread each, and give up with 503 after a time. On SQLite, which has one
/// writer at a time, writers first queue for a single write permit, so that waiting
/// writers do not hold pooled connections that readers need.
pub struct DbGate {
    permits: Arc<tokio::sync::Semaphore>,
    writer: Option<Arc<tokio::sync::Semaphore>>,
    wait: Duration,
    checkout: Duration,
    health: DbHealth,
    /// How many "storage full" errors (process-wide) this site has seen resolved.
    storage_seen: std::sync::atomic::AtomicU64,
    /// Requests waiting for a permit now (for the metrics).
    waiting: std::sync::atomic::AtomicUsize,
}

impl DbGate {
    pub fn new(config: &Config, health: DbHealth) -> DbGate {
        let sqlite = DbUrl::parse(&config.database_url).is_ok_and(|url| url.backend() == Backend::Sqlite);
        DbGate {
            permits: Arc::new(tokio::sync::Semaphore::new(config.pool_size.max(1) as usize)),
            writer: sqlite.then(|| Arc::new(tokio::sync::Semaphore::new(1))),
            wait: config.db_timeout,
            checkout: config.db_timeout.min(CHECKOUT),
            health,
            storage_seen: std::sync::atomic::AtomicU64::new(crate::db::storage::full_events()),
            waiting: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Requests waiting now for a connection permit (or, on SQLite, the write permit).
    pub fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a write may have failed for want of space since this site last found
    /// space (a full storage is noted process-wide when the error is met).
    pub fn storage_suspect(&self) -> bool {
        crate::db::storage::full_events() > self.storage_seen.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A write that needed space went through: nothing up to `events` concerns us.
    pub fn storage_ok(&self, events: u64) {
        self.storage_seen.fetch_max(events, std::sync::atomic::Ordering::Relaxed);
        crate::db::storage::report_ok();
    }

    async fn acquire(&self, semaphore: &Arc<tokio::sync::Semaphore>) -> Result<OwnedSemaphorePermit, AppError> {
        if let Ok(permit) = semaphore.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let _waiting = Waiting::new(&self.waiting);
        match tokio::time::timeout(self.wait, semaphore.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                tracing::warn!(wait = ?self.wait, "gave up waiting for the database");
                Err(AppError::Unavailable)
            }
        }
    }

    /// A permit to use one pooled connection; refused at once while the database was
    /// unreachable a moment ago.
    async fn connection_permit(&self) -> Result<OwnedSemaphorePermit, AppError> {
        if let Some(err) = self.health.recent_failure() {
            tracing::warn!(%err, "database unreachable");
            return Err(AppError::Unavailable);
        }
        self.acquire(&self.permits).await
    }

    /// On SQLite, a connection permit if one is free at once and the database answered
    /// lately; on PostgreSQL, `None` (see `AppState::db_quick`).
    fn quick_permit(&self) -> Option<OwnedSemaphorePermit> {
        if self.writer.is_none() || self.health.recent_failure().is_some() {
            return None;
        }
        self.permits.clone().try_acquire_owned().ok()
    }

    /// On SQLite, the one write permit; on PostgreSQL, nothing to wait for.
    async fn write_permit(&self) -> Result<Option<OwnedSemaphorePermit>, AppError> {
        match &self.writer {
            Some(writer) => self.acquire(writer).await.map(Some),
            None => Ok(None),
        }
    }
}

use tokio::sync::OwnedSemaphorePermit;

/// Work on a connection that succeeded vouches that the connection answered: checked
/// out again within a moment, it is not asked first (`db::connection::TRUST_ANSWER`).
/// Work that found the database unavailable (a closed connection among other causes)
/// voids every vouch: each connection is asked at its next checkout, so that one
/// request, not one per connection, meets a server that hung up.
fn vouch<T>(conn: &mut crate::db::Pooled, result: &Result<T, AppError>) {
    match result {
        Ok(_) => conn.answered(),
        Err(AppError::Unavailable) => conn.failed(),
        Err(_) => {}
    }
}

/// Counts one waiter for as long as it lives (a request dropped while it waits stops
/// counting too).
struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(counter: &'a std::sync::atomic::AtomicUsize) -> Self {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Waiting(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

tokio::task_local! {
    /// Set while a state-changing request (POST …) is handled: its database work
    /// queues for the write permit.
    static WRITE_REQUEST: ();
}

/// Runs `fut` (the handling of a state-changing request) so that its database work
/// queues as a writer.
pub async fn as_write_request<F: std::future::Future>(fut: F) -> F::Output {
    WRITE_REQUEST.scope((), fut).await
}

impl AppState {
    /// Runs `f` with a pooled connection on the blocking thread pool, after queueing
    /// (asynchronously) for a connection permit. Within a state-changing request on
    /// SQLite, first for the one write permit (see `db_write`).
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let writer = WRITE_REQUEST.try_with(|_| ()).is_ok();
        self.run(writer, f).await
    }

    /// Like `db`, for work that only reads, within a state-changing request too: it
    /// does not queue behind writers (on SQLite, reads go on beside the one writer).
    pub async fn db_read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(false, f).await
    }

    /// Like `db_read`, for a read of a few rows found by key (a session, a reader's
    /// votes on a page) made on most requests: on SQLite, when a pooled connection is
    /// free at once, it runs here on the request's thread, sparing the two hand-offs to
    /// and from the blocking pool, which cost more than the read; otherwise, and on
    /// PostgreSQL (where a read waits on the network), as `db_read`.
    pub async fn db_quick<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        if let Some(permit) = self.gate.quick_permit() {
            if let Some(mut conn) = self.pool.try_get() {
                let result = f(&mut conn);
                vouch(&mut conn, &result);
                drop(conn);
                drop(permit);
                return result;
            }
        }
        self.run(false, f).await
    }

    /// Like `db`, for work that writes: on SQLite it first queues for the one write
    /// permit, so that writers waiting on each other hold no pooled connection.
    pub async fn db_write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(true, f).await
    }

    async fn run<T, F>(&self, writer: bool, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let _writer = if writer { self.gate.write_permit().await? } else { None };
        let permit = self.gate.connection_permit().await?;
        let pool = self.pool.clone();
        let checkout = self.gate.checkout;
        let result: Result<T, AppError> = web::block(move || {
            let _permit = permit;
            let mut conn = pool.get_timeout(checkout).map_err(|err| {
                tracing::warn!(%err, "no database connection");
                AppError::Unavailable
            })?;
            let result = f(&mut conn);
            vouch(&mut conn, &result);
            result
        })
        .await?;
        result
    }

    /// Like `db_write`, but only if the write permit is free at once: `Unavailable`
    /// otherwise.
    pub async fn db_write_now<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let _writer = match &self.gate.writer {
            Some(writer) => Some(writer.clone().try_acquire_owned().map_err(|_| AppError::Unavailable)?),
            None => None,
        };
        self.run(false, f).await
    }

    /// A write that may be skipped (marking something seen): it never waits behind
    /// other writers (on SQLite it is dropped when a write is under way, and waits at
    /// most a moment for another process's lock), and a failure is logged, not returned.
    /// `what` names it in the log.
    pub async fn db_write_best_effort<F>(&self, what: &'static str, f: F)
    where
        F: FnOnce(&mut DbConn) -> Result<(), AppError> + Send + 'static,
    {
        let _writer = match &self.gate.writer {
            Some(writer) => match writer.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    tracing::debug!(what, "skipped: another write is under way");
                    return;
                }
            },
            None => None,
        };
        let result = self.run(false, move |conn| crate::db::connection::with_short_busy_timeout(conn, f)).await;
        if let Err(err) = result {
            tracing::info!(what, %err, "best-effort write failed");
        }
    }
}

impl AppState {
    /// Like `db_write`, with `f` in one write transaction: all of it or none.
    pub async fn db_tx<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.db_write(move |conn| crate::db::write_transaction(conn, f)).await
    }

    /// Sends an email: into the outbox table when no SMTP server is configured, else
    /// through SMTP in the background, so that a slow mail server holds up neither the
    /// request nor a database connection.
    pub async fn send_mail(&self, to: String, subject: String, body: String) -> Result<(), AppError> {
        match &*self.mailer {
            Mailer::Outbox => {
                tracing::info!(%to, %subject, "email kept in the outbox (no SMTP_URL)");
                self.db(move |conn| Ok(crate::db::outbox::push(conn, &to, &subject, &body)?)).await
            }
            Mailer::Smtp { .. } => {
                let mailer = self.mailer.clone();
                tokio::task::spawn_blocking(move || mailer.send_smtp(&to, &subject, &body));
                Ok(())
            }
        }
    }
}

/// An HTML page with a status.
pub fn html(status: StatusCode, page: Markup) -> HttpResponse {
    HttpResponse::build(status).content_type("text/html; charset=utf-8").body(page.into_string())
}

/// A comment id from a path: not a positive number is a missing page (404).
pub(crate) fn comment_id(raw: &str) -> Result<crate::domain::CommentId, AppError> {
    crate::domain::CommentId::from_param(raw).ok_or(AppError::NotFound)
}

/// Whether a script asked for JSON (`Accept: application/json`) rather than a page.
pub fn wants_json(req: &actix_web::HttpRequest) -> bool {
    req.path().starts_with("/api/")
        || req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json"))
}

/// 303 See Other: where a form post goes next.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_owned())).finish()
}
