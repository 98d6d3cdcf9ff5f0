//! Site-wide key/value settings.

use diesel::prelude::*;

use super::schema::settings;
use super::DbConn;

pub fn get(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    settings::table.find(key).select(settings::value).first(conn).optional()
}

/// The values of those of `keys` that are set, in one query.
pub fn get_many(conn: &mut DbConn, keys: &[&str]) -> QueryResult<std::collections::HashMap<String, String>> {
    let rows: Vec<(String, String)> =
        settings::table.filter(settings::key.eq_any(keys)).select((settings::key, settings::value)).load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Sets a value; call inside a write transaction.
pub fn set(conn: &mut DbConn, key: &str, value: &str) -> QueryResult<()> {
    let updated = diesel::update(settings::table.find(key)).set(settings::value.eq(value)).execute(conn)?;
    if updated == 0 {
        diesel::insert_into(settings::table)
            .values((settings::key.eq(key), settings::value.eq(value)))
            .execute(conn)?;
    }
    Ok(())
}

/// The value of `key`, created with `make` the first time. Safe when several instances
/// start together: the loser of the race reads the winner's value.
pub fn get_or_insert_with(conn: &mut DbConn, key: &str, make: impl FnOnce() -> String) -> QueryResult<String> {
    let attempt = super::write_transaction(conn, |conn| {
        if let Some(value) = get(conn, key)? {
            return Ok(value);
        }
        let value = make();
        set(conn, key, &value)?;
        Ok(value)
    });
    match attempt {
        Err(err) if super::duplicate(&err).is_some() => get(conn, key)?.ok_or(diesel::result::Error::NotFound),
        other => other,
    }
}
