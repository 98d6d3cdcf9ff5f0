//! Sign-up, login, logout, password reset and email verification.

use crate::domain::UserId;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::{html, redirect, AppError, AppState};
use crate::auth::{password, random_token, safe_next, token_hash, Visitor};
use crate::db::users::{self};
use crate::domain::{Email, NewPassword, TokenPurpose, Username};
use crate::service::accounts::{self as service, Login};
use crate::views::accounts::{self as view, SignupValues};
use crate::views::forms::FieldErrors;

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
    let (Ok(name), Ok(address), Ok(pw)) = valid else { return Ok(invalid(&errors)) };
    let user_id = match service::sign_up(&state, &name, &address, pw).await? {
        Ok(id) => id,
        Err(_) => {
            errors.add("username", "That username is taken.");
            return Ok(invalid(&errors));
        }
    };
    crate::web::profiles::save_after_login(&state, user_id, save).await?;
    start_session(&state, &visitor, &req, user_id, &next).await
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
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
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
    match service::log_in(&state, &login, form.password, visitor.ip).await? {
        Login::Succeeded(id) => {
            crate::web::profiles::save_after_login(&state, id, save).await?;
            start_session(&state, &visitor, &req, id, &next).await
        }
        Login::WrongPassword => {
            let page =
                view::login(&visitor, &login, &next, save.as_deref(), Some("Wrong username, email or password."), None);
            Ok(html(StatusCode::UNAUTHORIZED, page))
        }
        Login::LockedOut(wait) => {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let wait = crate::text::plural(secs.max(1) as i64, "second", "seconds");
            let message = format!("Too many wrong passwords from your network; try again in {wait}.");
            let page = view::login(&visitor, &login, &next, save.as_deref(), Some(&message), None);
            let mut response = html(StatusCode::TOO_MANY_REQUESTS, page);
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs.max(1)));
            Ok(response)
        }
    }
}

pub async fn logout(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
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
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
    state.limits.auth(visitor.ip).map_err(too_many)?;
    let email = Email::parse(&form.into_inner().email).map_err(AppError::BadRequest)?;
    service::request_password_reset(&state, &email).await?;
    Ok(view::reset_request(&visitor, Some(email.as_str())))
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

/// The user a confirmation link belongs to, or the page that says it expired (400).
async fn verify_link_user(
    state: &AppState,
    visitor: &Visitor,
    token: &str,
) -> Result<Result<users::User, HttpResponse>, AppError> {
    match user_for_token(state, TokenPurpose::Verify, token.to_owned()).await {
        Ok(user) => Ok(Ok(user)),
        Err(AppError::BadRequest(_)) => Ok(Err(html(StatusCode::BAD_REQUEST, view::verify_link_expired(visitor)))),
        Err(e) => Err(e),
    }
}

pub async fn verify_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let user = match verify_link_user(&state, &visitor, &token).await? {
        Ok(user) => user,
        Err(expired) => return Ok(expired),
    };
    Ok(html(StatusCode::OK, view::verify_email(&visitor, &token, user.email.as_deref().unwrap_or(""))))
}

pub async fn verify(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let user = match verify_link_user(&state, &visitor, &token).await? {
        Ok(user) => user,
        Err(expired) => return Ok(expired),
    };
    let done = state.db(move |conn| Ok(users::verify_email(conn, &token_hash(&token), user.id)?)).await?;
    if !done {
        return Ok(html(StatusCode::BAD_REQUEST, view::verify_link_expired(&visitor)));
    }
    Ok(html(StatusCode::OK, view::message(&visitor, "Email confirmed", "Thank you: your email address is confirmed.")))
}

/// GET /claim-comments/{token}: what following the link will do, and the button that
/// does it (a GET never writes).
pub async fn claim_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    match crate::service::imports::claim_link_user(&state, &token).await? {
        Some(user) => Ok(html(StatusCode::OK, view::claim_comments(&visitor, &token, &user.username))),
        None => Ok(html(StatusCode::BAD_REQUEST, view::claim_link_expired(&visitor))),
    }
}

/// POST /claim-comments/{token}: moves the imported comments, once.
pub async fn claim(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    match crate::service::imports::claim(&state, &token.into_inner()).await? {
        Some(moved) => {
            let text = format!("{moved} imported comment(s) are now yours: they show your name.");
            Ok(html(StatusCode::OK, view::message(&visitor, "Comments claimed", &text)))
        }
        None => Ok(html(StatusCode::BAD_REQUEST, view::claim_link_expired(&visitor))),
    }
}
