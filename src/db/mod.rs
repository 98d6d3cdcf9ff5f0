//! The data layer: every SQL statement of the application lives below this module.

pub mod articles;
pub mod comments;
pub mod connection;
pub mod introspect;
pub mod logins;
pub mod moderation;
pub mod notifications;
pub mod outbox;
pub mod saved;
pub mod schema;
pub mod search;
pub mod settings;
pub mod storage;
pub mod users;
pub mod votes;

pub use connection::{
    connect, connect_with, open_migrated, run_migrations, with_startup_lock, write_transaction, Backend, DbConn,
    DbError, DbHealth, DbPool, DbUrl,
};

/// The current time in UTC, as stored in `Timestamp` columns.
pub fn now() -> time::PrimitiveDateTime {
    let now = time::OffsetDateTime::now_utc();
    time::PrimitiveDateTime::new(now.date(), now.time())
}
