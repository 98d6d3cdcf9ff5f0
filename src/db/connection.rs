//! Connections: the backend enum, the pool, per-connection set-up and migrations.

use std::path::PathBuf;
use std::time::Duration;

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
            DbUrl::Postgres(raw) => match url::Url::parse(raw) {
                Ok(u) => format!(
                    "PostgreSQL at {}:{}{}",
                    u.host_str().unwrap_or("localhost"),
                    u.port().unwrap_or(5432),
                    u.path()
                ),
                Err(_) => "PostgreSQL (unparsable URL)".to_owned(),
            },
        }
    }
}

/// Opens connections of the backend the URL names, and prepares each one.
#[derive(Debug)]
pub struct ConnectionManager {
    url: DbUrl,
}

impl ConnectionManager {
    pub fn new(url: DbUrl) -> Result<Self, DbError> {
        if let DbUrl::Sqlite(path) = &url {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|source| DbError::CreateDir { path: parent.display().to_string(), source })?;
            }
        }
        Ok(ConnectionManager { url })
    }

    pub fn url(&self) -> &DbUrl {
        &self.url
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = DbError;

    fn connect(&self) -> Result<DbConn, DbError> {
        let target = || self.url.describe();
        match &self.url {
            DbUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(|source| DbError::Connect { target: target(), source })?;
                conn.batch_execute(SQLITE_PRAGMAS).map_err(|source| DbError::Setup { target: target(), source })?;
                Ok(DbConn::Sqlite(conn))
            }
            DbUrl::Postgres(url) => {
                let conn = PgConnection::establish(&with_connect_timeout(url))
                    .map_err(|source| DbError::Connect { target: target(), source })?;
                Ok(DbConn::Pg(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), DbError> {
        conn.ping().map_err(DbError::Query)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// libpq waits for the operating system's TCP timeout unless told otherwise: fail fast.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&connect_timeout=5")
    } else {
        format!("{url}?connect_timeout=5")
    }
}

/// Opens the database, runs pending migrations and returns a pool.
///
/// The first connection is made directly so that a failure reports its real cause.
pub fn connect(url: &str, pool_size: u32, timeout: Duration) -> Result<DbPool, DbError> {
    let manager = ConnectionManager::new(DbUrl::parse(url)?)?;
    let mut first = manager.connect()?;
    let target = manager.url().describe();
    let applied = run_migrations(&mut first, &target)?;
    if !applied.is_empty() {
        tracing::info!(target: "afterword::db", migrations = ?applied, "applied migrations to {target}");
    }
    drop(first);
    let pool = r2d2::Pool::builder()
        .max_size(pool_size)
        // Connections are opened when needed: no background thread keeps opening them.
        .min_idle(Some(0))
        .connection_timeout(timeout)
        .build_unchecked(manager);
    Ok(pool)
}

/// Runs the pending migrations; returns the versions applied (empty when up to date).
pub fn run_migrations(conn: &mut DbConn, target: &str) -> Result<Vec<String>, DbError> {
    let failed = |reason: String| DbError::Migration { target: target.to_owned(), reason };
    let names = |versions: Vec<diesel::migration::MigrationVersion>| versions.iter().map(ToString::to_string).collect();
    let applied = match conn {
        DbConn::Sqlite(c) => {
            c.run_pending_migrations(SQLITE_MIGRATIONS).map(names).map_err(|e| failed(e.to_string()))?
        }
        DbConn::Pg(c) => {
            // Two instances starting together must not both migrate.
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
                    <DbConn as Connection>::TransactionManager::rollback_transaction(conn)?;
                    Err(err)
                }
            }
        }
    }
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
    }

    #[test]
    fn adds_connect_timeout() {
        assert_eq!(with_connect_timeout("postgres://h/d"), "postgres://h/d?connect_timeout=5");
        assert_eq!(with_connect_timeout("postgres://h/d?a=b"), "postgres://h/d?a=b&connect_timeout=5");
        assert_eq!(with_connect_timeout("postgres://h/d?connect_timeout=9"), "postgres://h/d?connect_timeout=9");
    }
}
