//! Accounts, sessions and single-use account tokens.

use crate::domain::CommentStatus;
use crate::domain::UserId;
use crate::domain::{MailKind, Role, TokenPurpose};
use diesel::prelude::*;
use time::{Duration, PrimitiveDateTime};

use super::schema::{account_mails, account_tokens, sessions, users};
use super::{now, write_transaction, DbConn};

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = users)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub email: Option<String>,
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    pub email_verified: bool,
    pub created_at: PrimitiveDateTime,
    pub deleted_at: Option<PrimitiveDateTime>,
    pub email_replies: bool,
    pub display_name: Option<String>,
    pub bio_source: Option<String>,
    pub banned_until: Option<PrimitiveDateTime>,
    pub ban_reason: Option<String>,
    /// Not in the data export: there the address shows as `email` either way.
    #[serde(skip)]
    pub pending_email: Option<String>,
    /// Show the saved articles on the public profile.
    pub show_saved: bool,
}

impl User {
    /// The address the account shows in its settings: its own, or the one it typed
    /// at sign-up that another account already used.
    pub fn shown_email(&self) -> Option<&str> {
        self.email.as_deref().or(self.pending_email.as_deref())
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    /// When another account already uses the email: create the account without it
    /// (keeping it as `pending_email`) instead of refusing. Sign-up does this, so that
    /// it never tells a stranger which addresses have accounts.
    pub keep_taken_email_pending: bool,
}

/// A new account's id, and whether its email was already another account's.
#[derive(Debug, Clone, Copy)]
pub struct Created {
    pub id: UserId,
    pub email_taken: bool,
}

/// Which unique field a new or changed account collides with.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    Username,
    Email,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("taken")]
    Taken(Taken),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

pub fn key(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Creates an account; a username or email already in use (in any case) is `Taken`.
pub fn create(conn: &mut DbConn, new: &NewUser) -> Result<Created, CreateError> {
    write_transaction(conn, |conn| {
        let username_key = key(new.username);
        let email_key = key(new.email);
        if users::table.filter(users::username_key.eq(&username_key)).count().get_result::<i64>(conn)? > 0 {
            return Err(CreateError::Taken(Taken::Username));
        }
        let email_taken = users::table.filter(users::email_key.eq(&email_key)).count().get_result::<i64>(conn)? > 0;
        if email_taken && !new.keep_taken_email_pending {
            return Err(CreateError::Taken(Taken::Email));
        }
        let (email, email_key, pending) =
            if email_taken { (None, None, Some(new.email)) } else { (Some(new.email), Some(email_key), None) };
        let id = diesel::insert_into(users::table)
            .values((
                users::username.eq(new.username),
                users::username_key.eq(&username_key),
                users::email.eq(email),
                users::email_key.eq(email_key),
                users::pending_email.eq(pending),
                users::pending_email_key.eq(pending.map(key)),
                users::password_hash.eq(new.password_hash),
                users::role.eq(new.role),
                users::created_at.eq(now()),
            ))
            .returning(users::id)
            .get_result(conn)
            .map_err(|e| match super::duplicate(&e) {
                // Lost a race with a simultaneous sign-up: say which field collided.
                Some(what) => CreateError::Taken(if what.contains("email") { Taken::Email } else { Taken::Username }),
                None => CreateError::Db(e),
            })?;
        Ok(Created { id, email_taken })
    })
}

/// The live account that owns `email` (in any case), if any.
pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email_key.eq(key(email)))
        .filter(users::deleted_at.is_null())
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: UserId) -> QueryResult<Option<User>> {
    users::table.find(id).select(User::as_select()).first(conn).optional()
}

/// A live (not deleted) account by username or email, in any case.
pub fn find_for_login(conn: &mut DbConn, login: &str) -> QueryResult<Option<User>> {
    let k = key(login);
    users::table
        .filter(users::username_key.eq(&k).or(users::email_key.eq(&k)))
        .filter(users::deleted_at.is_null())
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// The newest live account that typed `address` at sign-up while another account
/// owned it: it may log in with that address too, as any account may with its own.
pub fn find_pending_for_login(conn: &mut DbConn, address: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::pending_email_key.eq(key(address)))
        .filter(users::deleted_at.is_null())
        .order(users::id.desc())
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::username_key.eq(key(username)))
        .filter(users::deleted_at.is_null())
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn set_role(conn: &mut DbConn, id: UserId, role: Role) -> QueryResult<usize> {
    diesel::update(users::table.find(id)).set(users::role.eq(role)).execute(conn)
}

/// Gives the account a new, unconfirmed address. One that another account owns is
/// kept as `pending_email` instead (the old address goes either way), so that the
/// change looks the same to whoever makes it; returns whether it was taken.
pub fn set_email(conn: &mut DbConn, id: UserId, email: &str) -> Result<bool, CreateError> {
    write_transaction(conn, |conn| {
        let email_key = key(email);
        let other = users::table
            .filter(users::email_key.eq(&email_key))
            .filter(users::id.ne(id))
            .count()
            .get_result::<i64>(conn)?;
        if other > 0 {
            diesel::update(users::table.find(id))
                .set((
                    users::email.eq(None::<String>),
                    users::email_key.eq(None::<String>),
                    users::email_verified.eq(false),
                    users::pending_email.eq(email),
                    users::pending_email_key.eq(&email_key),
                ))
                .execute(conn)?;
            end_tokens(conn, id)?;
            return Ok(true);
        }
        diesel::update(users::table.find(id))
            .set((
                users::email.eq(email),
                users::email_key.eq(&email_key),
                users::email_verified.eq(false),
                users::pending_email.eq(None::<String>),
                users::pending_email_key.eq(None::<String>),
            ))
            .execute(conn)
            .map_err(|e| match super::duplicate(&e) {
                // Lost a race with another account taking the address.
                Some(_) => CreateError::Taken(Taken::Email),
                None => CreateError::Db(e),
            })?;
        // Links sent to the old address must not work any more.
        end_tokens(conn, id)?;
        Ok(false)
    })
}

/// Voids every reset and verification link of the account.
fn end_tokens(conn: &mut DbConn, user_id: UserId) -> QueryResult<usize> {
    diesel::delete(account_tokens::table.filter(account_tokens::user_id.eq(user_id))).execute(conn)
}

/// Sets a new password hash and ends every session of the account except `keep`.
pub fn set_password(conn: &mut DbConn, id: UserId, hash: &str, keep: Option<&str>) -> QueryResult<()> {
    write_transaction(conn, |conn| {
        diesel::update(users::table.find(id)).set(users::password_hash.eq(hash)).execute(conn)?;
        end_sessions_except(conn, id, keep)?;
        end_tokens(conn, id)?;
        Ok(())
    })
}

pub fn set_email_verified(conn: &mut DbConn, id: UserId) -> QueryResult<usize> {
    diesel::update(users::table.find(id)).set(users::email_verified.eq(true)).execute(conn)
}

/// Deletes an account: its email is freed, its password and sessions end; the row stays
/// so that what the account wrote can still show "deleted" as author. The name shows
/// as "deleted-N" but its key stays on the row: nobody else can sign up as the deleted
/// account (lookups of live accounts skip deleted rows).
pub fn delete(conn: &mut DbConn, id: UserId) -> QueryResult<()> {
    write_transaction(conn, |conn| {
        let placeholder = format!("deleted-{id}");
        diesel::update(users::table.find(id))
            .set((
                users::username.eq(&placeholder),
                users::email.eq(None::<String>),
                users::email_key.eq(None::<String>),
                users::pending_email.eq(None::<String>),
                users::pending_email_key.eq(None::<String>),
                users::password_hash.eq("!"),
                users::role.eq(Role::Reader),
                users::deleted_at.eq(Some(now())),
            ))
            .execute(conn)?;
        diesel::delete(sessions::table.filter(sessions::user_id.eq(id))).execute(conn)?;
        diesel::delete(account_tokens::table.filter(account_tokens::user_id.eq(id))).execute(conn)?;
        use super::schema::api_tokens;
        diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(id))).execute(conn)?;
        // The account's comments keep their place in their threads, without their text.
        diesel::sql_query(
            "UPDATE articles SET comment_count = comment_count - \
                (SELECT COUNT(*) FROM comments c WHERE c.article_id = articles.id \
                  AND c.author_id = $1 AND c.status = 'visible') \
             WHERE id IN (SELECT article_id FROM comments WHERE author_id = $1)",
        )
        .bind::<diesel::sql_types::BigInt, _>(id)
        .execute(conn)?;
        use super::schema::comments;
        let theirs = comments::table.filter(comments::author_id.eq(id));
        // Published ones become "[deleted]" placeholders; removed and held ones stay
        // as they are, hidden; the text of all of them goes.
        diesel::update(theirs.filter(comments::status.eq(CommentStatus::Visible)))
            .set(comments::status.eq(CommentStatus::Deleted))
            .execute(conn)?;
        diesel::update(theirs).set((comments::body_source.eq(""), comments::body_html.eq(""))).execute(conn)?;
        Ok(())
    })
}

// ---- sessions ----

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = sessions)]
pub struct Session {
    #[serde(skip)]
    pub token_hash: String,
    pub created_at: PrimitiveDateTime,
    pub last_seen_at: PrimitiveDateTime,
    pub expires_at: PrimitiveDateTime,
    pub user_agent: Option<String>,
}

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionLifetime {
    pub idle: Duration,
    pub absolute: Duration,
}

pub fn create_session(
    conn: &mut DbConn,
    user_id: UserId,
    token_hash: &str,
    user_agent: Option<&str>,
    lifetime: SessionLifetime,
) -> QueryResult<()> {
    let now = now();
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
            sessions::expires_at.eq(now + lifetime.absolute),
            sessions::user_agent.eq(user_agent.map(|ua| ua.chars().take(300).collect::<String>())),
        ))
        .execute(conn)?;
    Ok(())
}

/// The live account behind a session token hash, if the session is neither expired nor
/// idle too long, with the count of its unread notifications: one query, and no write
/// (see `touch_session`).
pub fn session_user(
    conn: &mut DbConn,
    token_hash: &str,
    lifetime: SessionLifetime,
) -> QueryResult<Option<(User, Session, i64)>> {
    use super::schema::{comments, notifications};
    let now = now();
    // The same session again, under another name, for the subquery.
    let owner_session = diesel::alias!(sessions as owner_session);
    let owner = owner_session
        .filter(owner_session.field(sessions::token_hash).eq(token_hash))
        .select(owner_session.field(sessions::user_id))
        .single_value();
    let unread = notifications::table
        .inner_join(comments::table)
        .filter(super::notifications::shown())
        .filter(notifications::user_id.nullable().eq(owner))
        .filter(notifications::read_at.is_null())
        .count()
        .single_value();
    let found = sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::last_seen_at.gt(now - lifetime.idle))
        .filter(users::deleted_at.is_null())
        .select((User::as_select(), Session::as_select(), unread))
        .first::<(User, Session, Option<i64>)>(conn)
        .optional()?;
    Ok(found.map(|(user, session, unread)| (user, session, unread.unwrap_or(0))))
}

/// Whether a session's `last_seen_at` is old enough to be worth a write (once a minute).
pub fn session_needs_touch(session: &Session) -> bool {
    now() - session.last_seen_at > Duration::minutes(1)
}

/// Marks a session seen now.
pub fn touch_session(conn: &mut DbConn, token_hash: &str) -> QueryResult<usize> {
    diesel::update(sessions::table.find(token_hash)).set(sessions::last_seen_at.eq(now())).execute(conn)
}

pub fn end_session(conn: &mut DbConn, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.find(token_hash)).execute(conn)
}

/// Ends every session of the account but `keep`; returns how many ended.
pub fn end_sessions_except(conn: &mut DbConn, user_id: UserId, keep: Option<&str>) -> QueryResult<usize> {
    let mine = sessions::table.filter(sessions::user_id.eq(user_id));
    match keep {
        Some(keep) => diesel::delete(mine.filter(sessions::token_hash.ne(keep))).execute(conn),
        None => diesel::delete(mine).execute(conn),
    }
}

pub fn sessions_of(conn: &mut DbConn, user_id: UserId) -> QueryResult<Vec<Session>> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(now()))
        .order(sessions::last_seen_at.desc())
        .select(Session::as_select())
        .load(conn)
}

// ---- single-use tokens (password reset, email verification) ----

/// Stores a new token for `purpose`, replacing the account's earlier one: only the
/// newest link works. Two requests at once: the later one wins.
pub fn create_token(
    conn: &mut DbConn,
    user_id: UserId,
    purpose: TokenPurpose,
    token_hash: &str,
    valid_for: Duration,
) -> QueryResult<()> {
    match store_token(conn, user_id, purpose, token_hash, valid_for) {
        Err(err) if super::duplicate(&err).is_some() => store_token(conn, user_id, purpose, token_hash, valid_for),
        other => other,
    }
}

fn store_token(
    conn: &mut DbConn,
    user_id: UserId,
    purpose: TokenPurpose,
    token_hash: &str,
    valid_for: Duration,
) -> QueryResult<()> {
    write_transaction(conn, |conn| {
        diesel::delete(
            account_tokens::table
                .filter(account_tokens::user_id.eq(user_id))
                .filter(account_tokens::purpose.eq(purpose)),
        )
        .execute(conn)?;
        let now = now();
        diesel::insert_into(account_tokens::table)
            .values((
                account_tokens::token_hash.eq(token_hash),
                account_tokens::user_id.eq(user_id),
                account_tokens::purpose.eq(purpose),
                account_tokens::created_at.eq(now),
                account_tokens::expires_at.eq(now + valid_for),
            ))
            .execute(conn)?;
        Ok(())
    })
}

/// Whether one more email of `purpose` may go to an account: at most `max` within
/// `window`. If so, records it. The account's older records are deleted on the way, so
/// the table holds at most `max` rows per account and purpose.
pub fn record_account_mail(
    conn: &mut DbConn,
    user_id: UserId,
    purpose: MailKind,
    max: i64,
    window: Duration,
) -> QueryResult<bool> {
    write_transaction(conn, |conn| {
        let now = now();
        let mine = account_mails::user_id.eq(user_id).and(account_mails::purpose.eq(purpose));
        diesel::delete(account_mails::table.filter(mine).filter(account_mails::sent_at.le(now - window)))
            .execute(conn)?;
        let recent: i64 = account_mails::table.filter(mine).count().get_result(conn)?;
        if recent >= max {
            return Ok(false);
        }
        diesel::insert_into(account_mails::table)
            .values((
                account_mails::user_id.eq(user_id),
                account_mails::purpose.eq(purpose),
                account_mails::sent_at.eq(now),
            ))
            .execute(conn)?;
        Ok(true)
    })
}

/// The live account a valid, unexpired token of `purpose` belongs to.
pub fn token_user(conn: &mut DbConn, purpose: TokenPurpose, token_hash: &str) -> QueryResult<Option<User>> {
    account_tokens::table
        .inner_join(users::table)
        .filter(account_tokens::token_hash.eq(token_hash))
        .filter(account_tokens::purpose.eq(purpose))
        .filter(account_tokens::expires_at.gt(now()))
        .filter(users::deleted_at.is_null())
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Uses up a token: true when it was valid (and is now gone). Call inside the write
/// transaction that does what the token allows, so that it works once.
pub fn consume_token(conn: &mut DbConn, purpose: TokenPurpose, token_hash: &str, user_id: UserId) -> QueryResult<bool> {
    let deleted = diesel::delete(
        account_tokens::table
            .filter(account_tokens::token_hash.eq(token_hash))
            .filter(account_tokens::purpose.eq(purpose))
            .filter(account_tokens::user_id.eq(user_id))
            .filter(account_tokens::expires_at.gt(now())),
    )
    .execute(conn)?;
    Ok(deleted == 1)
}

/// Resets a password with a reset token: once, within its hour. Ends every session and
/// marks the email verified (the link proved it). False when the token is not valid.
pub fn reset_password(conn: &mut DbConn, token_hash: &str, user_id: UserId, new_hash: &str) -> QueryResult<bool> {
    write_transaction(conn, |conn| {
        if !consume_token(conn, TokenPurpose::Reset, token_hash, user_id)? {
            return Ok(false);
        }
        diesel::update(users::table.find(user_id))
            .set((users::password_hash.eq(new_hash), users::email_verified.eq(true)))
            .execute(conn)?;
        end_sessions_except(conn, user_id, None)?;
        end_tokens(conn, user_id)?;
        Ok(true)
    })
}

/// Verifies an email with a verification token. False when the token is not valid.
pub fn verify_email(conn: &mut DbConn, token_hash: &str, user_id: UserId) -> QueryResult<bool> {
    write_transaction(conn, |conn| {
        if !consume_token(conn, TokenPurpose::Verify, token_hash, user_id)? {
            return Ok(false);
        }
        set_email_verified(conn, user_id)?;
        Ok(true)
    })
}

// ---- profiles ----

pub fn set_profile(
    conn: &mut DbConn,
    id: UserId,
    display_name: Option<&str>,
    bio_source: Option<&str>,
    bio_html: Option<&str>,
    show_saved: bool,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::display_name.eq(display_name),
            users::bio_source.eq(bio_source),
            users::bio_html.eq(bio_html),
            users::show_saved.eq(show_saved),
        ))
        .execute(conn)
}

/// Whether the account shows its saved articles on its public profile.
pub fn shows_saved(conn: &mut DbConn, id: UserId) -> QueryResult<bool> {
    users::table.find(id).select(users::show_saved).first(conn)
}

/// What a profile page shows of an account.
#[derive(Debug, Clone, Queryable)]
pub struct Profile {
    pub id: UserId,
    pub username: String,
    pub display_name: Option<String>,
    pub bio_source: Option<String>,
    pub bio_html: Option<String>,
    pub created_at: PrimitiveDateTime,
    /// Its saved articles show to everyone.
    pub show_saved: bool,
    /// A placeholder for an author whose comments were imported: the system they came
    /// from (disqus, wordpress, isso, remark42).
    pub imported_from: Option<String>,
}

pub fn profile(conn: &mut DbConn, username: &str) -> QueryResult<Option<Profile>> {
    users::table
        .filter(users::username_key.eq(key(username)))
        .filter(users::deleted_at.is_null())
        .select((
            users::id,
            users::username,
            users::display_name,
            users::bio_source,
            users::bio_html,
            users::created_at,
            users::show_saved,
            users::imported_from,
        ))
        .first(conn)
        .optional()
}

pub fn set_email_replies(conn: &mut DbConn, user_id: UserId, on: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id)).set(users::email_replies.eq(on)).execute(conn)
}
