//! Personal API tokens, made and revoked from the settings page: the name, the scopes an
//! account's role may give, the lifetimes offered, and the limit per account.

use time::PrimitiveDateTime;

use crate::auth::tokens::{self, Scopes};
use crate::db::tokens::{self as db, ApiToken, MAX_PER_USER};
use crate::domain::{Role, UserId};
use crate::web::{AppError, AppState};

/// Longest token name, in characters.
pub const MAX_NAME: usize = 60;

/// The lifetimes a token may be given: the form's value and its words.
pub const EXPIRIES: [(&str, &str); 4] =
    [("never", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")];

/// The scopes an account of `role` may give its tokens: moderating only to moderators
/// and administrators (a token never does more than its account may).
pub fn grantable(role: Role) -> Scopes {
    Scopes { read: true, write: true, moderate: role >= Role::Moderator }
}

/// Why a token was not made: the form field at fault, and the reason in words.
#[derive(Debug)]
pub struct Refused {
    pub field: &'static str,
    pub message: String,
}

fn refused(field: &'static str, message: impl Into<String>) -> Refused {
    Refused { field, message: message.into() }
}

/// A token as asked for on the form, checked.
#[derive(Debug)]
pub struct Request {
    pub name: String,
    pub scopes: Scopes,
    pub expires_at: Option<PrimitiveDateTime>,
}

/// Checks what the form asked for against the account's role.
pub fn check(role: Role, name: &str, scopes: Scopes, expiry: &str) -> Result<Request, Refused> {
    let name = name.trim();
    if name.is_empty() {
        return Err(refused("token_name", "Give the token a name, so that you know it again."));
    }
    if name.chars().count() > MAX_NAME {
        return Err(refused("token_name", format!("A token's name is at most {MAX_NAME} characters.")));
    }
    if scopes == Scopes::default() {
        return Err(refused("scopes", "Choose at least one scope: read, write or moderate."));
    }
    if scopes.moderate && !grantable(role).moderate {
        return Err(refused("scopes", "Only moderators and administrators can give a token the moderate scope."));
    }
    let expires_at = match expiry {
        "never" | "" => None,
        days => match days.parse::<i64>() {
            Ok(days) if EXPIRIES.iter().any(|(value, _)| *value == days.to_string()) => {
                Some(crate::db::now() + time::Duration::days(days))
            }
            _ => return Err(refused("expires", "Choose when the token expires: never, or in 30, 90 or 365 days.")),
        },
    };
    Ok(Request { name: name.to_owned(), scopes, expires_at })
}

/// Makes a token: stores its hash and returns the token itself, which is never stored
/// and cannot be shown again. Refused when the account holds [`MAX_PER_USER`].
pub async fn create(state: &AppState, user_id: UserId, request: Request) -> Result<Result<String, Refused>, AppError> {
    let token = tokens::new_token();
    let hash = crate::auth::token_hash(&token);
    let made = state
        .db(move |conn| {
            let scopes = request.scopes.to_string();
            Ok(db::create(conn, user_id, &request.name, &hash, &scopes, request.expires_at)?)
        })
        .await?;
    match made {
        Some(_) => Ok(Ok(token)),
        None => Ok(Err(refused(
            "token_name",
            format!("You already have {MAX_PER_USER} tokens, the most an account may hold: revoke one first."),
        ))),
    }
}

/// The tokens of an account, newest first (never the tokens themselves).
pub async fn list(state: &AppState, user_id: UserId) -> Result<Vec<ApiToken>, AppError> {
    state.db(move |conn| Ok(db::of_user(conn, user_id)?)).await
}

/// Revokes one of the account's tokens; 404 when the account has no such token.
pub async fn revoke(state: &AppState, user_id: UserId, id: i64) -> Result<(), AppError> {
    let gone = state.db(move |conn| Ok(db::revoke(conn, user_id, id)?)).await?;
    if gone {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_checked() {
        let rw = Scopes { read: true, write: true, moderate: false };
        assert!(check(Role::Reader, "ci", rw, "never").unwrap().expires_at.is_none());
        assert!(check(Role::Reader, "ci", rw, "30").unwrap().expires_at.is_some());
        assert_eq!(check(Role::Reader, "  ", rw, "never").unwrap_err().field, "token_name");
        assert_eq!(check(Role::Reader, &"x".repeat(61), rw, "never").unwrap_err().field, "token_name");
        assert!(check(Role::Reader, &"é".repeat(60), rw, "never").is_ok());
        assert_eq!(check(Role::Reader, "ci", Scopes::default(), "never").unwrap_err().field, "scopes");
        assert_eq!(check(Role::Reader, "ci", Scopes::ALL, "never").unwrap_err().field, "scopes");
        assert!(check(Role::Moderator, "ci", Scopes::ALL, "365").is_ok());
        assert_eq!(check(Role::Admin, "ci", rw, "31").unwrap_err().field, "expires");
        assert_eq!(check(Role::Admin, "ci", rw, "-30").unwrap_err().field, "expires");
    }
}
