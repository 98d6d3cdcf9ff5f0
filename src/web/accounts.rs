//! Sign-up, login, logout, password reset and email verification.

use crate::domain::UserId;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::{html, redirect, AppError, AppState};
use crate::auth::ratelimit::{self, LoginVerdict};
use crate::auth::{password, random_token, safe_next, token_hash, Visitor};
use crate::db::logins;
use crate::db::users::{self, CreateError, NewUser, Taken};
use crate::domain::{Email, MailKind, NewPassword, TokenPurpose, Username};
use crate::views::accounts::{self as view, SignupValues};
use crate::views::forms::FieldErrors;

const RESET_VALID_FOR: time::Duration = time::Duration::hours(1);
/// Password-reset emails one account may receive per hour.
const RESET_MAILS_PER_HOUR: i64 = 3;
const VERIFY_VALID_FOR: time::Duration = time::Duration::days(2);

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    notice: Option<String>,
    /// An article to save after logging in.
    save: Option<String>,
}

/// A slug to save after login, when it is one.
fn save_slug(save: Option<String>) -> Option<String> {
    save.filter(|s| crate::import::is_valid_slug(s))
}

pub(crate) fn too_many(retry_after: std::time::Duration) -> AppError {
    AppError::TooManyRequests { retry_after }
}

// ---- sign-up ----

#[derive(Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
    save: Option<String>,
}

pub async fn signup_form(visitor: Visitor, query: web::Query<NextQuery>) -> Markup {
    let next = safe_next(query.next.as_deref());
    let save = save_slug(query.save.clone());
    let values = SignupValues { username: "", email: "", next: &next, save: save.as_deref() };
    view::signup(&visitor, &values, &FieldErrors::default())
}

pub async fn signup(
    state: web::Data<AppState>,
    visitor: Visitor,
    req: HttpRequest,
    form: web::Form<SignupForm>,
) -> Result<HttpResponse, AppError> {
    state.limits.auth(visitor.ip).map_err(too_many)?;
    let form = form.into_inner();
    let username = form.username.trim().to_owned();
    let email = form.email.trim().to_owned();
    let next = safe_next(form.next.as_deref());
    let save = save_slug(form.save.clone());
    let mut errors = FieldErrors::default();
    let valid = (Username::parse(&username), Email::parse(&email), NewPassword::parse(&form.password, &username));
    if let Err(problem) = &valid.0 {
        errors.add("username", problem);
    }
    if let Err(problem) = &valid.1 {
        errors.add("email", problem);
    }
    if let Err(problem) = &valid.2 {
        errors.add("password", problem);
    }
    let invalid = |errors: &FieldErrors| {
        html(
            StatusCode::UNPROCESSABLE_ENTITY,
            view::signup(
                &visitor,
                &SignupValues { username: &username, email: &email, next: &next, save: save.as_deref() },
                errors,
            ),
        )
    };
    let (Ok(_), Ok(_), Ok(pw)) = valid else { return Ok(invalid(&errors)) };
    let hash = state.config.hashers.run(move || password::hash(pw.as_str())).await?;
    let (u, e) = (username.clone(), email.clone());
    let created = state
        .db(move |conn| {
            let new = NewUser {
                username: &u,
                email: &e,
                password_hash: &hash,
                role: crate::domain::Role::Reader,
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
        Err(Taken::Username) => {
            errors.add("username", "That username is taken.");
            return Ok(invalid(&errors));
        }
        Err(Taken::Email) => return Err(AppError::Busy),
    };
    let user_id = created.id;
    // The answer is the same whether or not the address had an account: its owner is
    // told by mail instead.
    if created.email_taken {
        send_address_in_use_notice(&state, &email, &username).await;
    } else if state.config.require_email_verification {
        if let Err(err) = send_verification(&state, user_id, &email).await {
            // The account exists; the link can be sent again from the settings.
            tracing::error!(%err, "could not send the verification email");
        }
    }
    crate::web::profiles::save_after_login(&state, user_id, save).await?;
    start_session(&state, &visitor, &req, user_id, &next).await
}

/// Notices to the owner of an address that someone tried to sign up with, per hour.
const ADDRESS_NOTICES_PER_HOUR: i64 = 3;

/// Tells the owner of `email` that an account named `username` was created with their
/// address, which was not attached to it. A few per hour at most; failures are logged,
/// never shown (the answer must not differ from a plain sign-up).
pub(crate) async fn send_address_in_use_notice(state: &AppState, email: &str, username: &str) {
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

/// Logs `user_id` in: a new session (never the one the browser had), its cookie, and a
/// redirect to `next`.
async fn start_session(
    state: &AppState,
    visitor: &Visitor,
    req: &HttpRequest,
    user_id: UserId,
    next: &str,
) -> Result<HttpResponse, AppError> {
    let token = random_token();
    let hash = token_hash(&token);
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let previous = visitor.user.as_ref().map(|u| u.session_hash.clone());
    let lifetime = state.config.session_lifetime;
    state
        .db(move |conn| {
            if let Some(previous) = previous {
                users::end_session(conn, &previous)?;
            }
            users::create_session(conn, user_id, &hash, user_agent.as_deref(), lifetime)?;
            Ok(())
        })
        .await?;
    let mut cookie = state.config.cookie(state.config.session_cookie(), token);
    cookie.set_max_age(actix_web::cookie::time::Duration::seconds(lifetime.absolute.whole_seconds()));
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, next.to_owned())).cookie(cookie).finish())
}

// ---- login and logout ----

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
    save: Option<String>,
}

fn notice_text(notice: Option<&str>) -> Option<&'static str> {
    match notice? {
        "password-reset" => Some("Your password was changed. Log in with the new one."),
        _ => None,
    }
}

pub async fn login_form(visitor: Visitor, query: web::Query<NextQuery>) -> Markup {
    let next = safe_next(query.next.as_deref());
    let save = save_slug(query.save.clone());
    view::login(&visitor, "", &next, save.as_deref(), None, notice_text(query.notice.as_deref()))
}

pub async fn login(
    state: web::Data<AppState>,
    visitor: Visitor,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    state.limits.auth(visitor.ip).map_err(too_many)?;
    let form = form.into_inner();
    let login = form.login.trim().to_owned();
    let next = safe_next(form.next.as_deref());
    let save = save_slug(form.save.clone());
    if login.is_empty() || form.password.is_empty() {
        let page = view::login(
            &visitor,
            &login,
            &next,
            save.as_deref(),
            Some("Enter your username or email, and your password."),
            None,
        );
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page));
    }
    let key = login.clone();
    let user = state.db(move |conn| Ok(users::find_for_login(conn, &key)?)).await?;
    // Failures count per account, whichever name or address is typed; names matching
    // no account count for the network only.
    let user_key = user.as_ref().map(|u| u.id);
    let network = ratelimit::network_key(visitor.ip);
    if let Err(wait) = login_gate(&state, user_key, &network).await? {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let message = format!("Too many wrong passwords from your network; try again in {secs} s.");
        let page = view::login(&visitor, &login, &next, save.as_deref(), Some(&message), None);
        let mut response = html(StatusCode::TOO_MANY_REQUESTS, page);
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs.max(1)));
        return Ok(response);
    }
    let pw = form.password;
    let user_id = state
        .config
        .hashers
        .run(move || match user {
            Some(user) => password::verify(&pw, &user.password_hash).then_some(user.id),
            None => {
                password::verify_dummy(&pw);
                None
            }
        })
        .await?;
    match user_id {
        Some(id) => {
            login_succeeded(&state, id, &network).await?;
            crate::web::profiles::save_after_login(&state, id, save).await?;
            start_session(&state, &visitor, &req, id, &next).await
        }
        None => {
            tracing::info!(ip = %visitor.ip, "failed login");
            login_failed(&state, user_key, &network).await?;
            let page =
                view::login(&visitor, &login, &next, save.as_deref(), Some("Wrong username, email or password."), None);
            Ok(html(StatusCode::UNAUTHORIZED, page))
        }
    }
}

/// The login lockout before a password is checked: `Err` holds how long this network
/// must wait for this account (or any); on a much-attacked account, waits a little first.
pub(crate) async fn login_gate(
    state: &AppState,
    user_id: Option<UserId>,
    network: &str,
) -> Result<Result<(), std::time::Duration>, AppError> {
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
pub(crate) async fn login_failed(state: &AppState, user_id: Option<UserId>, network: &str) -> Result<(), AppError> {
    if state.config.rate_limits.logins_per_account == 0 {
        return Ok(());
    }
    let network = network.to_owned();
    state.db_write(move |conn| Ok(logins::record(conn, user_id, &network, ratelimit::LOGIN_WINDOW)?)).await
}

/// The right password clears the account's failures from this network.
pub(crate) async fn login_succeeded(state: &AppState, user_id: UserId, network: &str) -> Result<(), AppError> {
    if state.config.rate_limits.logins_per_account == 0 {
        return Ok(());
    }
    let network = network.to_owned();
    state.db_write(move |conn| Ok(logins::clear(conn, user_id, &network)?)).await
}

pub async fn logout(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    if let Some(user) = visitor.user {
        state.db(move |conn| Ok(users::end_session(conn, &user.session_hash)?)).await?;
    }
    let mut response = redirect("/");
    let _ = response.add_removal_cookie(&state.config.cookie(state.config.session_cookie(), String::new()));
    Ok(response)
}

// ---- password reset ----

#[derive(Deserialize)]
pub struct ResetRequestForm {
    #[serde(default)]
    email: String,
}

pub async fn reset_request_form(visitor: Visitor) -> Markup {
    view::reset_request(&visitor, None)
}

/// Answers the same whether or not an account uses the address.
pub async fn reset_request(
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<ResetRequestForm>,
) -> Result<Markup, AppError> {
    state.limits.auth(visitor.ip).map_err(too_many)?;
    let email = Email::parse(&form.into_inner().email).map_err(AppError::BadRequest)?.as_str().to_owned();
    let token = random_token();
    let link = state.config.link(&format!("password-reset/{token}"));
    let to = email.clone();
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
        state.send_mail(email.clone(), "Reset your Afterword password".into(), body).await?;
    }
    Ok(view::reset_request(&visitor, Some(&email)))
}

fn invalid_link() -> AppError {
    AppError::BadRequest(
        "This link is not valid: it has expired or was already used. Ask for a new one at /password-reset.".into(),
    )
}

async fn user_for_token(state: &AppState, purpose: TokenPurpose, token: String) -> Result<users::User, AppError> {
    if token.len() != 43 {
        return Err(invalid_link());
    }
    state.db(move |conn| Ok(users::token_user(conn, purpose, &token_hash(&token))?)).await?.ok_or_else(invalid_link)
}

pub async fn reset_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<Markup, AppError> {
    let token = token.into_inner();
    let user = user_for_token(&state, TokenPurpose::Reset, token.clone()).await?;
    Ok(view::reset_form(&visitor, &token, &user.username, &FieldErrors::default()))
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    password: String,
}

pub async fn reset(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let user = user_for_token(&state, TokenPurpose::Reset, token.clone()).await?;
    let pw = match NewPassword::parse(&form.into_inner().password, &user.username) {
        Ok(pw) => pw,
        Err(problem) => {
            let mut errors = FieldErrors::default();
            errors.add("password", problem);
            let page = view::reset_form(&visitor, &token, &user.username, &errors);
            return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page));
        }
    };
    let hash = state.config.hashers.run(move || password::hash(pw.as_str())).await?;
    let done = state.db(move |conn| Ok(users::reset_password(conn, &token_hash(&token), user.id, &hash)?)).await?;
    if !done {
        return Err(invalid_link());
    }
    Ok(redirect("/login?notice=password-reset"))
}

// ---- email verification ----

pub async fn verify_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<Markup, AppError> {
    let token = token.into_inner();
    let user = user_for_token(&state, TokenPurpose::Verify, token.clone()).await?;
    Ok(view::verify_email(&visitor, &token, user.email.as_deref().unwrap_or("")))
}

pub async fn verify(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<Markup, AppError> {
    let token = token.into_inner();
    let user = user_for_token(&state, TokenPurpose::Verify, token.clone()).await?;
    let done = state.db(move |conn| Ok(users::verify_email(conn, &token_hash(&token), user.id)?)).await?;
    if !done {
        return Err(invalid_link());
    }
    Ok(view::message(&visitor, "Email confirmed", "Thank you: your email address is confirmed."))
}
