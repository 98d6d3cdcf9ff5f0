//! A database whose storage is full (SQLite: "database or disk is full"; PostgreSQL:
//! "could not extend file … No space left on device"): how to tell, and how to find out
//! whether space came back.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use diesel::prelude::*;

use super::DbConn;

/// Whether a database error says the storage is full.
pub fn is_full_error(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("database or disk is full") || m.contains("no space left on device") || m.contains("disk full")
}

static FULL_EVENTS: AtomicU64 = AtomicU64::new(0);
static LOGGED: AtomicBool = AtomicBool::new(false);

/// A write failed for want of space: counted, and logged once until space is found.
pub fn report_full(message: &str) {
    FULL_EVENTS.fetch_add(1, Ordering::Relaxed);
    if !LOGGED.swap(true, Ordering::Relaxed) {
        tracing::error!(message, "the database's storage is full: writes are refused until space is freed");
    }
}

/// How many writes failed for want of space since the process started.
pub fn full_events() -> u64 {
    FULL_EVENTS.load(Ordering::Relaxed)
}

/// Space was found again.
pub fn report_ok() {
    if LOGGED.swap(false, Ordering::Relaxed) {
        tracing::info!("the database accepts writes again");
    }
}

/// Tries a write that needs new space (a 64 KiB row, as large as a form may send,
/// rolled back), to learn whether
/// space came back.
pub fn probe(conn: &mut DbConn) -> QueryResult<()> {
    use super::schema::settings;
    let result = super::write_transaction(conn, |conn| {
        diesel::insert_into(settings::table)
            .values((settings::key.eq("storage-probe"), settings::value.eq("x".repeat(64 * 1024))))
            .execute(conn)?;
        Err::<(), _>(diesel::result::Error::RollbackTransaction)
    });
    match result {
        Ok(()) | Err(diesel::result::Error::RollbackTransaction) => Ok(()),
        Err(err) => Err(err),
    }
}
