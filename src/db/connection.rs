//! Connections: the backend enum, the pool, per-connection set-up and migrations.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// One connection to either backend; query code is written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = r2d2::Pool<ConnectionManager>;

/// A connection as the pool holds it: the connection, and when its last user vouched
/// that it answered ([`Pooled::answered`]). Dereferences to the connection.
pub struct Pooled {
    conn: DbConn,
    answered: Option<Instant>,
    /// How many failures the pool had seen ([`Pooled::failed`]) when this connection
    /// was last checked out.
    doubts_at_checkout: u64,
    doubts: Arc<AtomicU64>,
}

impl Pooled {
    /// Vouches that the connection answered just now (the work done on it succeeded):
    /// the next checkout, if it comes within [`TRUST_ANSWER`] and no connection failed
    /// since this one was checked out, does not ask it again.
    pub fn answered(&mut self) {
        self.answered = Some(Instant::now());
    }

    /// Work on this connection failed as a closed connection would: the vouches of every
    /// connection of the pool are void, and each is asked at its next checkout (a server
    /// that closed one has likely closed the others).
    pub fn failed(&self) {
        self.doubts.fetch_add(1, Ordering::Relaxed);
    }
}

impl std::ops::Deref for Pooled {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

/// How long a connection that answered is trusted to still be open. Under load a
/// connection is handed out again within milliseconds, and a round trip to ask it
/// costs as much as a short query; one idle for longer (when a server restart, an
/// idle timeout or a network device may have closed it) is asked first.
pub const TRUST_ANSWER: Duration = Duration::from_secs(1);

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Key of the PostgreSQL advisory lock held while migrations run.
const MIGRATION_LOCK: i64 = 0x6166_7465_7277_6f72;

const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL scheme in {0:?} (use sqlite://PATH, a plain path, or postgres://...)")]
    UnsupportedScheme(String),
    #[error("the SQLite database path is empty")]
    EmptyPath,
    #[error("could not create the folder {path}: {source}")]
    CreateDir { path: String, source: std::io::Error },
    #[error("could not connect to {target}: {source}")]
    Connect { target: String, source: ConnectionError },
    #[error("could not set up the connection to {target}: {source}")]
    Setup { target: String, source: diesel::result::Error },
    #[error("migrations failed on {target}: {reason}")]
    Migration { target: String, reason: String },
    #[error("the database was unreachable a moment ago: {0}")]
    RecentlyFailed(String),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbUrl {
    pub fn parse(url: &str) -> Result<DbUrl, DbError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(url.to_owned()));
        }
        let path = match url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            Some(rest) => rest,
            None if url.contains("://") => return Err(DbError::UnsupportedScheme(url.to_owned())),
            None => url,
        };
        if path.is_empty() {
            return Err(DbError::EmptyPath);
        }
        Ok(DbUrl::Sqlite(PathBuf::from(path)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbUrl::Sqlite(_) => Backend::Sqlite,
            DbUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// A description for messages: the file, or host, port and database without credentials.
    pub fn describe(&self) -> String {
        match self {
            DbUrl::Sqlite(path) => format!("SQLite database {}", path.display()),
            DbUrl::Postgres(raw) => {
                // A socket's folder is a `host` parameter (`postgres://user@/db?host=/run/…`,
                // which is not a URL to the url crate: read by hand).
                let rest = raw.split_once("://").map_or(raw.as_str(), |(_, rest)| rest);
                let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
                let socket = url::form_urlencoded::parse(query.as_bytes())
                    .find_map(|(name, value)| (name == "host" && !value.is_empty()).then_some(value));
                // What follows the credentials: host and port, then the database.
                let address = address.rsplit_once('@').map_or(address, |(_, after)| after);
                let (host, database) = address.split_once('/').unwrap_or((address, ""));
                match (socket, url::Url::parse(raw)) {
                    (Some(folder), _) => format!("PostgreSQL at {folder}/{database}"),
                    (None, _) if host.is_empty() => format!("PostgreSQL at the default socket/{database}"),
                    (None, Ok(u)) => format!(
                        "PostgreSQL at {}:{}{}",
                        u.host_str().unwrap_or_default(),
                        u.port().unwrap_or(5432),
                        u.path()
                    ),
                    (None, Err(_)) => "PostgreSQL (unparsable URL)".to_owned(),
                }
            }
        }
    }
}

/// Longest a pooled PostgreSQL statement may run: a hung server or a lock held too long
/// ends in an error, never in a request that waits forever.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a failed connection attempt is remembered: while the database is down,
/// requests get their answer at once instead of each waiting for its own attempt.
const REMEMBER_FAILURE: Duration = Duration::from_secs(1);

/// Opens connections of the backend the URL names, and prepares each one.
#[derive(Debug)]
pub struct ConnectionManager {
    url: DbUrl,
    health: DbHealth,
}

/// The last failed connection attempt, shared by the pool's manager and the request
/// path; how many checkouts asked their connection whether it is still open; and how
/// many times work on a connection failed, voiding every vouch ([`Pooled::failed`]).
#[derive(Debug, Clone, Default)]
pub struct DbHealth {
    last_failure: Arc<Mutex<Option<(Instant, String)>>>,
    checks: Arc<AtomicU64>,
    doubts: Arc<AtomicU64>,
}

impl DbHealth {
    /// Checkouts that asked their connection (a round trip) before handing it out.
    pub fn checks(&self) -> u64 {
        self.checks.load(Ordering::Relaxed)
    }

    /// The error of a connection attempt that failed within the last second, if any.
    pub fn recent_failure(&self) -> Option<String> {
        let guard = self.last_failure.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().filter(|(at, _)| at.elapsed() < REMEMBER_FAILURE).map(|(_, err)| err.clone())
    }

    fn record(&self, result: &Result<DbConn, DbError>) {
        let mut guard = self.last_failure.lock().unwrap_or_else(|e| e.into_inner());
        *guard = match result {
            Ok(_) => None,
            Err(err) => Some((Instant::now(), err.to_string())),
        };
    }
}

/// SQLite's memory statistics take one process-wide lock on every allocation, which
/// every connection then waits on; nothing here reads them. Set once, before SQLite
/// starts (later it is refused, harmlessly).
fn sqlite_without_memory_statistics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: a configuration call made before any connection exists, with the
        // one integer argument this option takes.
        unsafe {
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
        }
    });
}

impl ConnectionManager {
    pub fn new(url: DbUrl) -> Result<Self, DbError> {
        sqlite_without_memory_statistics();
        if let DbUrl::Sqlite(path) = &url {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|source| DbError::CreateDir { path: parent.display().to_string(), source })?;
            }
        }
        Ok(ConnectionManager { url, health: DbHealth::default() })
    }

    pub fn url(&self) -> &DbUrl {
        &self.url
    }

    /// The connection failures this manager saw (a handle shared with its clones).
    pub fn health(&self) -> DbHealth {
        self.health.clone()
    }

    /// A connection without the limits pooled connections get: for migrations, imports
    /// and the command line, whose statements may rightly run long or wait on a lock.
    pub fn connect_unbounded(&self) -> Result<DbConn, DbError> {
        let target = || self.url.describe();
        match &self.url {
            DbUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(|source| DbError::Connect { target: target(), source })?;
                conn.batch_execute(SQLITE_PRAGMAS).map_err(|source| DbError::Setup { target: target(), source })?;
                Ok(DbConn::Sqlite(conn))
            }
            DbUrl::Postgres(url) => {
                let conn = PgConnection::establish(&with_connection_params(url))
                    .map_err(|source| DbError::Connect { target: target(), source })?;
                Ok(DbConn::Pg(conn))
            }
        }
    }
}

/// On SQLite: whether anything was committed to the database since the last look, by
/// any connection of this process or of another (the command line, another server on
/// the same file). It asks `PRAGMA data_version` on a connection of its own, which
/// never writes: its answer changes with every commit made through any other
/// connection.
pub struct ChangeWatch {
    conn: Mutex<(SqliteConnection, i64)>,
}

/// `PRAGMA data_version`, written out rather than through `sql_query` (which diesel
/// prepares afresh on every call): asked before every signed-in read, it is prepared
/// once and kept.
#[derive(diesel::query_builder::QueryId)]
struct DataVersion;

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for DataVersion {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        out.push_sql("PRAGMA data_version");
        Ok(())
    }
}

impl diesel::query_builder::Query for DataVersion {
    type SqlType = diesel::sql_types::BigInt;
}

impl diesel::RunQueryDsl<SqliteConnection> for DataVersion {}

fn data_version(conn: &mut SqliteConnection) -> QueryResult<i64> {
    DataVersion.get_result(conn)
}

impl ChangeWatch {
    /// `None` on PostgreSQL, whose instances tell each other of their changes instead.
    pub fn open(url: &str) -> Result<Option<ChangeWatch>, DbError> {
        let url = DbUrl::parse(url)?;
        if let DbUrl::Postgres(_) = url {
            return Ok(None);
        }
        let target = url.describe();
        let DbConn::Sqlite(mut conn) = ConnectionManager::new(url)?.connect_unbounded()? else {
            unreachable!("a SQLite URL makes a SQLite connection")
        };
        // Never waits on a lock: a database that cannot answer at once counts as changed.
        let seen = conn
            .batch_execute("PRAGMA busy_timeout = 0")
            .and_then(|_| data_version(&mut conn))
            .map_err(|source| DbError::Setup { target, source })?;
        Ok(Some(ChangeWatch { conn: Mutex::new((conn, seen)) }))
    }

    /// Whether anything was committed since the last call (or since it was opened).
    /// A database that cannot be asked counts as changed.
    pub fn changed(&self) -> bool {
        let mut guard = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let (conn, seen) = &mut *guard;
        match data_version(conn) {
            Ok(now) => std::mem::replace(seen, now) != now,
            Err(_) => true,
        }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = Pooled;
    type Error = DbError;

    /// A connection for the pool. On PostgreSQL its statements time out.
    fn connect(&self) -> Result<Pooled, DbError> {
        if let Some(err) = self.health.recent_failure() {
            return Err(DbError::RecentlyFailed(err));
        }
        let result = self.connect_unbounded().and_then(|mut conn| {
            if let DbConn::Pg(pg) = &mut conn {
                let millis = STATEMENT_TIMEOUT.as_millis();
                pg.batch_execute(&format!("SET statement_timeout = {millis}"))
                    .map_err(|source| DbError::Setup { target: self.url.describe(), source })?;
            }
            Ok(conn)
        });
        self.health.record(&result);
        let doubts = self.health.doubts.clone();
        result.map(|conn| Pooled { conn, answered: None, doubts_at_checkout: doubts.load(Ordering::Relaxed), doubts })
    }

    /// Asked at every checkout. A SQLite file does not hang up: nothing to ask. A
    /// PostgreSQL connection may have been closed by the server since its last use: it
    /// is asked (a round trip), unless its last user vouched within [`TRUST_ANSWER`] that
    /// it answered and no work on any connection failed since. Each vouch serves one
    /// checkout: work that fails does not vouch, so the checkout after it asks.
    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), DbError> {
        let doubts = self.health.doubts.load(Ordering::Relaxed);
        let no_failure_since = std::mem::replace(&mut pooled.doubts_at_checkout, doubts) == doubts;
        let vouched = pooled.answered.take().is_some_and(|at| at.elapsed() < TRUST_ANSWER);
        let trusted = vouched && no_failure_since;
        match &pooled.conn {
            DbConn::Sqlite(_) => Ok(()),
            DbConn::Pg(_) if trusted => Ok(()),
            DbConn::Pg(_) => {
                self.health.checks.fetch_add(1, Ordering::Relaxed);
                pooled.conn.ping().map_err(DbError::Query)
            }
        }
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.conn.is_broken()
    }
}

/// libpq waits for the operating system's TCP timeouts unless told otherwise: fail fast
/// when connecting, and notice a server that stopped answering (keepalives, and a limit
/// on unacknowledged data) within seconds rather than hours. Parameters the URL sets win.
fn with_connection_params(url: &str) -> String {
    const PARAMS: [(&str, &str); 6] = [
        ("connect_timeout", "5"),
        ("keepalives", "1"),
        ("keepalives_idle", "10"),
        ("keepalives_interval", "2"),
        ("keepalives_count", "3"),
        ("tcp_user_timeout", "10000"),
    ];
    let mut out = url.to_owned();
    for (key, value) in PARAMS {
        let present = out.split(['?', '&']).skip(1).any(|pair| pair.split('=').next() == Some(key));
        if !present {
            out.push(if out.contains('?') { '&' } else { '?' });
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// Opens the database, runs pending migrations and returns a pool.
///
/// The first connection is made directly so that a failure reports its real cause.
pub fn connect(url: &str, pool_size: u32, timeout: Duration) -> Result<DbPool, DbError> {
    connect_with(url, pool_size, timeout, |_| Ok::<(), DbError>(())).map(|(pool, _, ())| pool)
}

/// Like `connect`, and runs `setup` (the demo seed, shared keys) after the migrations,
/// under the same start-up lock: several processes starting at once on one database
/// migrate and set up one after the other, and every one of them succeeds.
pub fn connect_with<T, E>(
    url: &str,
    pool_size: u32,
    timeout: Duration,
    setup: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<(DbPool, DbHealth, T), E>
where
    E: From<DbError>,
{
    let manager = ConnectionManager::new(DbUrl::parse(url)?)?;
    let target = manager.url().describe();
    let value = with_startup_lock(&manager, |conn| {
        let applied = run_migrations(conn, &target)?;
        if !applied.is_empty() {
            tracing::info!(target: "afterword::db", migrations = ?applied, "applied migrations to {target}");
        }
        setup(conn)
    })?;
    let health = manager.health();
    let pool = r2d2::Pool::builder()
        .max_size(pool_size)
        // Connections are opened when needed: no background thread keeps opening them.
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .build_unchecked(manager);
    Ok((pool, health, value))
}

/// Runs `f` on a new connection while holding the start-up lock: on PostgreSQL an
/// advisory lock, on SQLite an exclusive lock on a file beside the database
/// (`<file>.lock`), taken before the database is even opened (setting WAL mode on a new
/// file is itself a race).
pub fn with_startup_lock<T, E>(manager: &ConnectionManager, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<DbError>,
{
    match manager.url() {
        DbUrl::Sqlite(path) => {
            let _lock = FileLock::acquire(path).map_err(|source| DbError::Migration {
                target: manager.url().describe(),
                reason: format!("could not lock: {source}"),
            })?;
            let mut conn = manager.connect_unbounded()?;
            f(&mut conn)
        }
        DbUrl::Postgres(_) => {
            let mut conn = manager.connect_unbounded()?;
            advisory_lock(&mut conn, true)?;
            let result = f(&mut conn);
            advisory_lock(&mut conn, false)?;
            result
        }
    }
}

/// Migrates under the start-up lock, then opens a connection for the command line:
/// (the connection, the versions applied, a description of the database).
pub fn open_migrated(url: &str) -> Result<(DbConn, Vec<String>, String), DbError> {
    let manager = ConnectionManager::new(DbUrl::parse(url)?)?;
    let target = manager.url().describe();
    let applied = with_startup_lock(&manager, |conn| run_migrations(conn, &target))?;
    Ok((manager.connect_unbounded()?, applied, target))
}

fn advisory_lock(conn: &mut DbConn, lock: bool) -> Result<(), DbError> {
    if let DbConn::Pg(c) = conn {
        let sql = if lock { "SELECT pg_advisory_lock($1)" } else { "SELECT pg_advisory_unlock($1)" };
        diesel::sql_query(sql).bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK).execute(c)?;
    }
    Ok(())
}

/// An exclusive `flock` on `<database>.lock`, released when dropped (or when the
/// process dies). The file itself is left in place: removing it would race.
struct FileLock {
    _file: std::fs::File,
}

impl FileLock {
    fn acquire(database: &Path) -> std::io::Result<FileLock> {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(PathBuf::from(name))?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            loop {
                // SAFETY: the descriptor is open for as long as `file` lives.
                let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
                if rc == 0 {
                    break;
                }
                let err = std::io::Error::last_os_error();
                if err.kind() != std::io::ErrorKind::Interrupted {
                    return Err(err);
                }
            }
        }
        Ok(FileLock { _file: file })
    }
}

/// Runs the pending migrations; returns the versions applied (empty when up to date).
/// Callers that may start alongside another process run it inside `with_startup_lock`.
pub fn run_migrations(conn: &mut DbConn, target: &str) -> Result<Vec<String>, DbError> {
    let failed = |reason: String| DbError::Migration { target: target.to_owned(), reason };
    let names = |versions: Vec<diesel::migration::MigrationVersion>| versions.iter().map(ToString::to_string).collect();
    let applied = match conn {
        DbConn::Sqlite(c) => {
            c.run_pending_migrations(SQLITE_MIGRATIONS).map(names).map_err(|e| failed(e.to_string()))?
        }
        DbConn::Pg(c) => {
            // Two instances starting together must not both migrate (the lock is
            // re-entrant: taking it again inside `with_startup_lock` is harmless).
            diesel::sql_query("SELECT pg_advisory_lock($1)")
                .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK)
                .execute(c)?;
            let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(names).map_err(|e| failed(e.to_string()));
            diesel::sql_query("SELECT pg_advisory_unlock($1)")
                .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK)
                .execute(c)?;
            result?
        }
    };
    Ok(applied)
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (a deferred transaction
/// that later wants to write fails at once with "database is locked"), a plain
/// transaction on PostgreSQL.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Pg(_) => conn.transaction(f),
        DbConn::Sqlite(inner) => {
            // Inside a transaction already: a savepoint, so that steps compose.
            if AnsiTransactionManager::transaction_manager_status_mut(inner).transaction_depth()?.is_some() {
                return conn.transaction(f);
            }
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => {
                    <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
                    Ok(value)
                }
                Err(err) => {
                    if let Err(rollback) = <DbConn as Connection>::TransactionManager::rollback_transaction(conn) {
                        // SQLite ends the transaction itself on some errors (a full disk,
                        // I/O errors): then there is nothing to roll back, and the
                        // connection is sound.
                        if rollback.to_string().contains("no transaction is active") {
                            if let DbConn::Sqlite(inner) = conn {
                                *AnsiTransactionManager::transaction_manager_status_mut(inner) =
                                    diesel::connection::TransactionManagerStatus::default();
                            }
                        } else {
                            tracing::warn!(%rollback, "rolling back failed");
                        }
                    }
                    // The first error is the one that says what went wrong.
                    Err(err)
                }
            }
        }
    }
}

/// An error that may be worth one more try: the transaction lost a deadlock or could
/// not be serialised (PostgreSQL), through no fault of the request.
pub trait Retryable {
    fn is_retryable(&self) -> bool;
}

impl Retryable for diesel::result::Error {
    fn is_retryable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
            // PostgreSQL's 40P01 has no kind of its own in diesel.
            Error::DatabaseError(_, info) => info.message().contains("deadlock detected"),
            _ => false,
        }
    }
}

/// Whether `conn` is outside any transaction.
fn outside_transaction(conn: &mut DbConn) -> QueryResult<bool> {
    Ok(match conn {
        DbConn::Pg(inner) => {
            AnsiTransactionManager::transaction_manager_status_mut(inner).transaction_depth()?.is_none()
        }
        DbConn::Sqlite(inner) => {
            AnsiTransactionManager::transaction_manager_status_mut(inner).transaction_depth()?.is_none()
        }
    })
}

/// Like [`write_transaction`], and when it is the outermost transaction and it fails on
/// a deadlock or a serialisation failure, `f` runs once more in a fresh transaction
/// (the first one was rolled back). A second such failure is returned (the web layer
/// answers 503 with `Retry-After`). Nested, it cannot retry: the outer transaction is
/// already aborted, and the error goes up to whoever began it.
pub fn write_transaction_retrying<T, E, F>(conn: &mut DbConn, mut f: F) -> Result<T, E>
where
    F: FnMut(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error> + Retryable,
{
    let outermost = outside_transaction(conn)?;
    match write_transaction(conn, &mut f) {
        Err(err) if outermost && err.is_retryable() => {
            tracing::info!("write transaction lost a deadlock or serialisation race; trying once more");
            write_transaction(conn, &mut f)
        }
        other => other,
    }
}

/// Runs `f` with the wait for a lock cut to a moment (SQLite's busy timeout,
/// PostgreSQL's lock timeout), for writes that may be skipped: another writer holding
/// the lock makes them fail fast rather than wait.
pub fn with_short_busy_timeout<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let (short, restore) = match conn {
        DbConn::Sqlite(_) => ("PRAGMA busy_timeout = 200", "PRAGMA busy_timeout = 5000"),
        DbConn::Pg(_) => ("SET lock_timeout = 200", "SET lock_timeout = 0"),
    };
    conn.batch_execute(short)?;
    let result = f(conn);
    conn.batch_execute(restore)?;
    result
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Pg(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadlock() -> diesel::result::Error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new("deadlock detected".to_owned()),
        )
    }

    #[test]
    fn the_outermost_write_transaction_retries_a_deadlock_once() {
        let mut conn = DbConn::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        let mut runs = 0;
        let result: Result<i32, diesel::result::Error> = write_transaction_retrying(&mut conn, |_| {
            runs += 1;
            if runs == 1 {
                Err(deadlock())
            } else {
                Ok(7)
            }
        });
        assert_eq!((result.unwrap(), runs), (7, 2));

        // A second deadlock is returned (to become a 503), not retried again.
        let mut runs = 0;
        let result: Result<(), _> = write_transaction_retrying(&mut conn, |_| {
            runs += 1;
            Err(deadlock())
        });
        assert!(result.unwrap_err().is_retryable());
        assert_eq!(runs, 2);

        // Other errors are not retried.
        let mut runs = 0;
        let result: Result<(), _> = write_transaction_retrying(&mut conn, |_| {
            runs += 1;
            Err(diesel::result::Error::NotFound)
        });
        assert!(result.is_err());
        assert_eq!(runs, 1);
    }

    #[test]
    fn a_nested_write_transaction_does_not_retry() {
        let mut conn = DbConn::Sqlite(SqliteConnection::establish(":memory:").unwrap());
        let mut runs = 0;
        let result: Result<(), diesel::result::Error> = write_transaction(&mut conn, |conn| {
            write_transaction_retrying(conn, |_| {
                runs += 1;
                Err(deadlock())
            })
        });
        assert!(result.is_err());
        assert_eq!(runs, 1);
    }

    #[test]
    fn parses_urls() {
        assert_eq!(DbUrl::parse("sqlite://data/a.db").unwrap(), DbUrl::Sqlite("data/a.db".into()));
        assert_eq!(DbUrl::parse("sqlite:///tmp/a.db").unwrap(), DbUrl::Sqlite("/tmp/a.db".into()));
        assert_eq!(DbUrl::parse("a.db").unwrap(), DbUrl::Sqlite("a.db".into()));
        assert_eq!(DbUrl::parse("postgres://u@h/db").unwrap().backend(), Backend::Postgres);
        assert_eq!(DbUrl::parse("postgresql://u@h/db").unwrap().backend(), Backend::Postgres);
        assert!(matches!(DbUrl::parse("mysql://h/db"), Err(DbError::UnsupportedScheme(_))));
        assert!(matches!(DbUrl::parse("sqlite://"), Err(DbError::EmptyPath)));
    }

    #[test]
    fn describes_without_password() {
        let d = DbUrl::parse("postgres://me:secret@db.example:6543/site").unwrap().describe();
        assert_eq!(d, "PostgreSQL at db.example:6543/site");
        let socket = |url: &str| DbUrl::parse(url).unwrap().describe();
        assert_eq!(
            socket("postgres://me:secret@/site?host=/var/run/postgresql"),
            "PostgreSQL at /var/run/postgresql/site"
        );
        assert_eq!(socket("postgres:///site?host=%2Frun%2Fpg&sslmode=disable"), "PostgreSQL at /run/pg/site");
        assert_eq!(socket("postgres:///site"), "PostgreSQL at the default socket/site");
        assert_eq!(socket("postgres://me:pa/ss@/site"), "PostgreSQL at the default socket/site");
        assert_eq!(socket("postgres://me:secret@db.example:99999/site"), "PostgreSQL (unparsable URL)");
    }

    #[test]
    fn adds_connection_params() {
        let all = "connect_timeout=5&keepalives=1&keepalives_idle=10&keepalives_interval=2&keepalives_count=3\
                   &tcp_user_timeout=10000";
        assert_eq!(with_connection_params("postgres://h/d"), format!("postgres://h/d?{all}"));
        assert_eq!(with_connection_params("postgres://h/d?a=b"), format!("postgres://h/d?a=b&{all}"));
        let own = with_connection_params("postgres://h/d?connect_timeout=9&keepalives_idle=60");
        assert!(own.starts_with("postgres://h/d?connect_timeout=9&keepalives_idle=60&keepalives=1"), "{own}");
        assert_eq!(own.matches("connect_timeout=").count(), 1);
        assert_eq!(own.matches("keepalives_idle=").count(), 1);
    }
}

#[cfg(test)]
mod sqlite_build {
    use diesel::prelude::*;

    /// The query planner's stability guarantee is compiled in (`.cargo/config.toml`):
    /// without it SQLite plans a statement with a bound `LIMIT` again on every run.
    #[test]
    fn sqlite_keeps_its_plans() {
        let mut conn = diesel::SqliteConnection::establish(":memory:").expect("an in-memory database");
        let used: i32 = diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>(
            "sqlite_compileoption_used('SQLITE_ENABLE_QPSG')",
        ))
        .get_result(&mut conn)
        .expect("a compile option asked");
        assert_eq!(used, 1, "SQLite was built without SQLITE_ENABLE_QPSG");
    }
}
