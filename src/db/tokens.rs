//! Personal API tokens (see `auth::tokens`).

use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::schema::{api_tokens, users};
use super::users::User;
use super::{now, DbConn};
use crate::domain::UserId;

/// Most tokens one account may hold.
pub const MAX_PER_USER: i64 = 50;

/// A token as its owner's settings list it (never the token itself).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub scopes: String,
    pub created_at: PrimitiveDateTime,
    pub expires_at: Option<PrimitiveDateTime>,
    pub last_used_at: Option<PrimitiveDateTime>,
}

/// Stores a new token of `user_id` by its hash; `None` when the account already holds
/// [`MAX_PER_USER`].
pub fn create(
    conn: &mut DbConn,
    user_id: UserId,
    name: &str,
    token_hash: &str,
    scopes: &str,
    expires_at: Option<PrimitiveDateTime>,
) -> QueryResult<Option<i64>> {
    super::write_transaction(conn, |conn| {
        let held: i64 = api_tokens::table.filter(api_tokens::user_id.eq(user_id)).count().get_result(conn)?;
        if held >= MAX_PER_USER {
            return Ok(None);
        }
        let id = diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::user_id.eq(user_id),
                api_tokens::name.eq(name),
                api_tokens::token_hash.eq(token_hash),
                api_tokens::scopes.eq(scopes),
                api_tokens::created_at.eq(now()),
                api_tokens::expires_at.eq(expires_at),
            ))
            .returning(api_tokens::id)
            .get_result(conn)?;
        Ok(Some(id))
    })
}

/// The live account behind an unexpired token, with the token and the account's unread
/// notifications. One query.
pub fn user_of(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<(User, ApiToken, i64)>> {
    use super::schema::{comments, notifications};
    let owner_token = diesel::alias!(api_tokens as owner_token);
    let owner = owner_token
        .filter(owner_token.field(api_tokens::token_hash).eq(token_hash))
        .select(owner_token.field(api_tokens::user_id))
        .single_value();
    let unread = notifications::table
        .inner_join(comments::table)
        .filter(super::notifications::shown())
        .filter(notifications::user_id.nullable().eq(owner))
        .filter(notifications::read_at.is_null())
        .count()
        .single_value();
    let found = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::expires_at.is_null().or(api_tokens::expires_at.gt(now())))
        .filter(users::deleted_at.is_null())
        .select((User::as_select(), ApiToken::as_select(), unread))
        .first::<(User, ApiToken, Option<i64>)>(conn)
        .optional()?;
    Ok(found.map(|(user, token, unread)| (user, token, unread.unwrap_or(0))))
}

/// Whether a token's `last_used_at` is old enough to be worth a write (once a minute).
pub fn needs_touch(token: &ApiToken) -> bool {
    token.last_used_at.is_none_or(|at| now() - at > time::Duration::minutes(1))
}

/// Marks a token used now.
pub fn touch(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::update(api_tokens::table.find(id)).set(api_tokens::last_used_at.eq(Some(now()))).execute(conn)
}

/// The tokens of an account, newest first.
pub fn of_user(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order(api_tokens::id.desc())
        .limit(MAX_PER_USER)
        .select(ApiToken::as_select())
        .load(conn)
}

/// Revokes one of the account's tokens; false when it has no such token.
pub fn revoke(conn: &mut DbConn, user_id: UserId, id: i64) -> QueryResult<bool> {
    let gone = diesel::delete(api_tokens::table.filter(api_tokens::id.eq(id)).filter(api_tokens::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(gone > 0)
}
