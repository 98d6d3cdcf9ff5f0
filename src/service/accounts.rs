//! Accounts: signing up (without telling a stranger which addresses have accounts),
//! logging in behind the lockout, password resets and email confirmation.

use std::net::IpAddr;
use std::time::Duration;

use crate::auth::ratelimit::{self, LoginVerdict};
use crate::auth::{password, random_token, token_hash};
use crate::db::logins;
use crate::db::users::{self, CreateError, NewUser, Taken};
use crate::domain::{Email, MailKind, NewPassword, Role, TokenPurpose, UserId, Username};
use crate::web::{AppError, AppState};

const RESET_VALID_FOR: time::Duration = time::Duration::hours(1);
/// Password-reset emails one account may receive per hour.
const RESET_MAILS_PER_HOUR: i64 = 3;
const VERIFY_VALID_FOR: time::Duration = time::Duration::days(2);

/// Creates a reader's account. With an address another account already uses, the
/// account is created all the same, without it, and the address's owner is told by
/// mail: the answer never says which addresses have accounts. A taken username is
/// `Err(Taken::Username)`.
pub async fn sign_up(
    state: &AppState,
    username: &Username,
    email: &Email,
    password: NewPassword,
) -> Result<Result<UserId, Taken>, AppError> {
    let hash = state.config.hashers.run(move || password::hash(password.as_str())).await?;
    let (u, e) = (username.as_str().to_owned(), email.as_str().to_owned());
    let created = state
        .db(move |conn| {
            let new = NewUser {
                username: &u,
                email: &e,
                password_hash: &hash,
                role: Role::Reader,
                keep_taken_email_pending: true,
            };
            // A simultaneous sign-up with the same address makes the first try collide;
            // the second sees the address taken and keeps it pending.
            let mut result = users::create(conn, &new);
            if matches!(result, Err(CreateError::Taken(Taken::Email))) {
                result = users::create(conn, &new);
            }
            match result {
                Ok(created) => Ok(Ok(created)),
                Err(CreateError::Taken(which)) => Ok(Err(which)),
                Err(CreateError::Db(err)) => Err(err.into()),
            }
        })
        .await?;
    let created = match created {
        Ok(created) => created,
        Err(Taken::Username) => return Ok(Err(Taken::Username)),
        Err(Taken::Email) => return Err(AppError::Busy),
    };
    if created.email_taken {
        // In the background: the answer must not take longer than a plain sign-up's.
        let (state, email, username) = (state.clone(), email.as_str().to_owned(), username.as_str().to_owned());
        actix_web::rt::spawn(async move { send_address_in_use_notice(&state, &email, &username).await });
    } else if state.config.require_email_verification {
        if let Err(err) = send_verification(state, created.id, email.as_str()).await {
            // The account exists; the link can be sent again from the settings.
            tracing::error!(%err, "could not send the verification email");
        }
    }
    Ok(Ok(created.id))
}

/// Notices to the owner of an address that someone tried to sign up with, per hour.
const ADDRESS_NOTICES_PER_HOUR: i64 = 3;

/// Tells the owner of `email` that an account named `username` was created with their
/// address, which was not attached to it. A few per hour at most; failures are logged,
/// never shown (the answer must not differ from a plain sign-up).
pub async fn send_address_in_use_notice(state: &AppState, email: &str, username: &str) {
    let to = email.to_owned();
    let owner = state
        .db(move |conn| {
            let Some(owner) = users::find_by_email(conn, &to)? else { return Ok(None) };
            let allowed = users::record_account_mail(
                conn,
                owner.id,
                MailKind::AddressNotice,
                ADDRESS_NOTICES_PER_HOUR,
                time::Duration::hours(1),
            )?;
            Ok(allowed.then_some(owner.username))
        })
        .await;
    let owner = match owner {
        Ok(Some(owner)) => owner,
        Ok(None) => return,
        Err(err) => {
            tracing::error!(%err, "could not check the address of a sign-up");
            return;
        }
    };
    let login = state.config.link("login");
    let reset = state.config.link("password-reset");
    let body = format!(
        "Someone created an Afterword account named {username} with this email address. \
         The address already belongs to your account {owner}, so it was not given to the new one.\n\n\
         If it was you, log in to your existing account: {login}\n\
         Forgotten your password? Choose a new one: {reset}\n\n\
         If it was not you, you need do nothing: your account has not changed."
    );
    if let Err(err) = state.send_mail(email.to_owned(), "Someone signed up with your email address".into(), body).await
    {
        tracing::error!(%err, "could not send the address notice");
    }
}

/// Sends a link that confirms `email` for the account.
pub async fn send_verification(state: &AppState, user_id: UserId, email: &str) -> Result<(), AppError> {
    let token = random_token();
    let link = state.config.link(&format!("verify-email/{token}"));
    let body = format!(
        "Confirm your email address for Afterword by opening this link:\n\n{link}\n\nThe link works once, within two days."
    );
    state
        .db(move |conn| {
            Ok(users::create_token(conn, user_id, TokenPurpose::Verify, &token_hash(&token), VERIFY_VALID_FOR)?)
        })
        .await?;
    state.send_mail(email.to_owned(), "Confirm your email address".into(), body).await
}

/// Sends the account a link to confirm its address; for an address that is another
/// account's, tells that account's owner again instead (the answer is the same).
pub async fn resend_verification(state: &AppState, user_id: UserId) -> Result<(), AppError> {
    let user = state.db(move |conn| users::find(conn, user_id)?.ok_or(AppError::NotFound)).await?;
    if let (false, Some(email)) = (user.email_verified, user.email.as_deref()) {
        send_verification(state, user_id, email).await?;
    } else if let Some(pending) = user.pending_email.as_deref() {
        send_address_in_use_notice(state, pending, &user.username).await;
    }
    Ok(())
}

/// How a login attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    Succeeded(UserId),
    WrongPassword,
    /// Too many wrong passwords from this network: try again after this long.
    LockedOut(Duration),
}

/// Checks `password` for the account named (or addressed) `login`, behind the lockout:
/// failures count per (account, network) and per network, in the database.
pub async fn log_in(state: &AppState, login: &str, password: String, ip: IpAddr) -> Result<Login, AppError> {
    let key = login.to_owned();
    let user = state.db(move |conn| Ok(users::find_for_login(conn, &key)?)).await?;
    // Failures count per account, whichever name or address is typed; names matching
    // no account count for the network only.
    let user_key = user.as_ref().map(|u| u.id);
    let network = ratelimit::network_key(ip);
    if let Err(wait) = login_gate(state, user_key, &network).await? {
        return Ok(Login::LockedOut(wait));
    }
    // An account whose address at sign-up was another account's logs in with it as
    // any account does with its own (else that login would tell which addresses are
    // taken): its password is tried when the owner's does not match.
    let pending = match login.contains('@') {
        true => {
            let key = login.to_owned();
            state.db(move |conn| Ok(users::find_pending_for_login(conn, &key)?)).await?
        }
        false => None,
    };
    let user_id = state
        .config
        .hashers
        .run(move || {
            let owner = match user {
                Some(user) => password::verify(&password, &user.password_hash).then_some(user.id),
                None if pending.is_none() => {
                    password::verify_dummy(&password);
                    None
                }
                None => None,
            };
            owner.or_else(|| pending.filter(|p| password::verify(&password, &p.password_hash)).map(|p| p.id))
        })
        .await?;
    match user_id {
        Some(id) => {
            login_succeeded(state, id, &network).await?;
            Ok(Login::Succeeded(id))
        }
        None => {
            tracing::info!(%ip, "failed login");
            login_failed(state, user_key, &network).await?;
            Ok(Login::WrongPassword)
        }
    }
}

/// Whether `password` is the signed-in account's, counted like a login attempt (a
/// stolen session cannot be used to guess the password).
pub async fn recheck_password(
    state: &AppState,
    user_id: UserId,
    ip: IpAddr,
    password: String,
) -> Result<bool, AppError> {
    let network = ratelimit::network_key(ip);
    login_gate(state, Some(user_id), &network)
        .await?
        .map_err(|retry_after| AppError::TooManyRequests { retry_after })?;
    let user = state.db(move |conn| users::find(conn, user_id)?.ok_or(AppError::NotFound)).await?;
    let hash = user.password_hash;
    let matches = state.config.hashers.run(move || password::verify(&password, &hash)).await?;
    if !matches {
        login_failed(state, Some(user_id), &network).await?;
    }
    Ok(matches)
}

/// The login lockout before a password is checked: `Err` holds how long this network
/// must wait for this account (or any); on a much-attacked account, waits a little first.
async fn login_gate(
    state: &AppState,
    user_id: Option<UserId>,
    network: &str,
) -> Result<Result<(), Duration>, AppError> {
    let limits = state.config.rate_limits;
    if limits.logins_per_account == 0 {
        return Ok(Ok(()));
    }
    let network = network.to_owned();
    let failures = state.db(move |conn| Ok(logins::recent(conn, user_id, &network, ratelimit::LOGIN_WINDOW)?)).await?;
    match limits.login_verdict(&failures, crate::db::now()) {
        LoginVerdict::Go => Ok(Ok(())),
        LoginVerdict::Delay(delay) => {
            tokio::time::sleep(delay).await;
            Ok(Ok(()))
        }
        LoginVerdict::Refused(wait) => Ok(Err(wait)),
    }
}

/// Counts a wrong password for the account (when there is one) from this network.
async fn login_failed(state: &AppState, user_id: Option<UserId>, network: &str) -> Result<(), AppError> {
    if state.config.rate_limits.logins_per_account == 0 {
        return Ok(());
    }
    let network = network.to_owned();
    state.db_write(move |conn| Ok(logins::record(conn, user_id, &network, ratelimit::LOGIN_WINDOW)?)).await
}

/// The right password clears the account's failures from this network.
async fn login_succeeded(state: &AppState, user_id: UserId, network: &str) -> Result<(), AppError> {
    if state.config.rate_limits.logins_per_account == 0 {
        return Ok(());
    }
    let network = network.to_owned();
    state.db_write(move |conn| Ok(logins::clear(conn, user_id, &network)?)).await
}

/// Mails a single-use link to choose a new password, if an account uses `email`.
/// Whatever happens, the caller answers the same ("check your email").
pub async fn request_password_reset(state: &AppState, email: &Email) -> Result<(), AppError> {
    let token = random_token();
    let link = state.config.link(&format!("password-reset/{token}"));
    let to = email.as_str().to_owned();
    let username = state
        .db(move |conn| {
            let Some(user) = users::find_for_login(conn, &to)? else { return Ok(None) };
            if user.email.as_deref().map(users::key) != Some(users::key(&to)) {
                return Ok(None);
            }
            // A person's inbox is not flooded from many addresses: a few reset emails per
            // account per hour, whoever asks; past that the answer stays the same.
            if !users::record_account_mail(
                conn,
                user.id,
                MailKind::Reset,
                RESET_MAILS_PER_HOUR,
                time::Duration::hours(1),
            )? {
                return Ok(None);
            }
            users::create_token(conn, user.id, TokenPurpose::Reset, &token_hash(&token), RESET_VALID_FOR)?;
            Ok(Some(user.username))
        })
        .await?;
    if let Some(username) = username {
        let body = format!(
            "Someone asked to reset the password of the Afterword account {username}.\n\n\
             To choose a new password, open this link within one hour:\n\n{link}\n\n\
             If it was not you, ignore this message: nothing changes."
        );
        state.send_mail(email.as_str().to_owned(), "Reset your Afterword password".into(), body).await?;
    }
    Ok(())
}
