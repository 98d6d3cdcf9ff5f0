//! Failed logins and password re-checks of the last minutes, for the login lockout:
//! counted in the database so that restarts and other instances share them.

use crate::domain::UserId;
use diesel::prelude::*;
use time::{Duration, PrimitiveDateTime};

use super::schema::login_failures;
use super::{now, write_transaction, DbConn};

/// Failures within `window` before now: of the account from this network, of this
/// network on any account, and of the account from any network; with the oldest of the
/// first two, from which the time until they drop out follows.
#[derive(Debug, Default, Clone, Copy)]
pub struct Failures {
    pub account_network: i64,
    pub account_network_oldest: Option<PrimitiveDateTime>,
    pub network: i64,
    pub network_oldest: Option<PrimitiveDateTime>,
    pub account: i64,
}

pub fn recent(conn: &mut DbConn, user_id: Option<UserId>, network: &str, window: Duration) -> QueryResult<Failures> {
    let since = now() - window;
    let recent = login_failures::failed_at.gt(since);
    let (network_count, network_oldest): (i64, Option<PrimitiveDateTime>) = login_failures::table
        .filter(recent)
        .filter(login_failures::network.eq(network))
        .select((diesel::dsl::count_star(), diesel::dsl::min(login_failures::failed_at)))
        .first(conn)?;
    let mut failures = Failures { network: network_count, network_oldest, ..Failures::default() };
    if let Some(user_id) = user_id {
        let (count, oldest): (i64, Option<PrimitiveDateTime>) = login_failures::table
            .filter(recent)
            .filter(login_failures::user_id.eq(user_id))
            .filter(login_failures::network.eq(network))
            .select((diesel::dsl::count_star(), diesel::dsl::min(login_failures::failed_at)))
            .first(conn)?;
        failures.account_network = count;
        failures.account_network_oldest = oldest;
        failures.account = login_failures::table
            .filter(recent)
            .filter(login_failures::user_id.eq(user_id))
            .count()
            .get_result(conn)?;
    }
    Ok(failures)
}

/// Records a failure, first deleting every failure older than `window` (so the table
/// holds only the last minutes).
pub fn record(conn: &mut DbConn, user_id: Option<UserId>, network: &str, window: Duration) -> QueryResult<()> {
    write_transaction(conn, |conn| {
        let now = now();
        diesel::delete(login_failures::table.filter(login_failures::failed_at.le(now - window))).execute(conn)?;
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::user_id.eq(user_id),
                login_failures::network.eq(network),
                login_failures::failed_at.eq(now),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// A successful login clears the failures of the account from this network.
pub fn clear(conn: &mut DbConn, user_id: UserId, network: &str) -> QueryResult<()> {
    diesel::delete(
        login_failures::table.filter(login_failures::user_id.eq(user_id)).filter(login_failures::network.eq(network)),
    )
    .execute(conn)?;
    Ok(())
}
