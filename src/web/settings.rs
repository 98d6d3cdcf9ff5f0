//! `/settings/*`: email and its confirmation, password, sessions, reply emails, the public
//! profile, data export and account deletion.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse, ResponseError};
use serde::Deserialize;

use super::accounts::too_many;
use super::{html, redirect, AppError, AppState};
use crate::auth::{password, SignedIn};
use crate::db::users::{self, CreateError};
use crate::service::accounts;
use crate::views::accounts::{self as view, SettingsForms, TokenValues};

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

fn notice_text(notice: Option<&str>) -> Option<&'static str> {
    Some(match notice? {
        "email" => "Your email address was changed.",
        "password" => "Your password was changed. Your other sessions were logged out.",
        "sessions" => "Your other sessions were logged out.",
        "verification-sent" => "We sent a confirmation link to your email address.",
        "notifications" => "Your notification settings were saved.",
        "digest" => "Your digest setting was saved.",
        "profile" => "Your profile was saved.",
        "token-revoked" => "The API token was revoked: programs using it can no longer call the API.",
        "claim-sent" => {
            "We sent a link to your email address: follow it to move your imported comments to this account."
        }
        _ => return None,
    })
}

async fn render(
    state: &AppState,
    signed_in: &SignedIn,
    status: StatusCode,
    notice: Option<&str>,
    forms: &SettingsForms<'_>,
) -> Result<HttpResponse, AppError> {
    let id = signed_in.user.id;
    let (user, sessions) = state
        .db(move |conn| {
            let user = users::find(conn, id)?.ok_or(AppError::NotFound)?;
            Ok((user, users::sessions_of(conn, id)?))
        })
        .await?;
    let tokens = crate::service::tokens::list(state, id).await?;
    let digest = crate::service::digests::setting(state, id).await?;
    let page = view::settings(
        &signed_in.visitor,
        &user,
        &sessions,
        &tokens,
        &signed_in.user.session_hash,
        notice,
        forms,
        state.config.require_email_verification,
        digest,
    );
    Ok(html(status, page))
}

pub async fn show(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, AppError> {
    let notice = notice_text(query.notice.as_deref());
    render(&state, &signed_in, StatusCode::OK, notice, &SettingsForms::default()).await
}

/// Whether `password` is the signed-in user's; hashing runs off the async workers.
/// Limited like login attempts, so a stolen session cannot guess the password.
async fn password_matches(state: &AppState, signed_in: &SignedIn, password: String) -> Result<bool, AppError> {
    state.limits.auth(signed_in.visitor.ip).map_err(too_many)?;
    accounts::recheck_password(state, signed_in.user.id, signed_in.visitor.ip, password).await
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    new_email: String,
    #[serde(default)]
    email_password: String,
}

pub async fn change_email(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<EmailForm>,
) -> Result<HttpResponse, AppError> {
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
    let form = form.into_inner();
    let email = form.new_email.trim().to_owned();
    let mut forms = SettingsForms { new_email: &email, ..Default::default() };
    if let Err(problem) = crate::domain::Email::parse(&email) {
        forms.errors.add("new_email", problem);
    } else if !password_matches(&state, &signed_in, form.email_password).await? {
        forms.errors.add("email_password", "That is not your password.");
    }
    if forms.errors.is_empty() {
        let (id, e) = (signed_in.user.id, email.clone());
        let taken = state
            .db(move |conn| match users::set_email(conn, id, &e) {
                Ok(taken) => Ok(taken),
                // Lost a race with another account taking the address meanwhile.
                Err(CreateError::Taken(_)) => Err(AppError::Busy),
                Err(CreateError::Db(err)) => Err(err.into()),
            })
            .await?;
        // The answer is the same whether or not the address had an account: its owner
        // is told by mail instead.
        if taken {
            let (state, username) = (state.clone(), signed_in.user.username.clone());
            actix_web::rt::spawn(async move {
                accounts::send_address_in_use_notice(&state, &email, &username).await;
            });
        } else if state.config.require_email_verification {
            accounts::send_verification(&state, id, &email).await?;
        }
        return Ok(redirect("/settings?notice=email"));
    }
    render(&state, &signed_in, StatusCode::UNPROCESSABLE_ENTITY, None, &forms).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
    let form = form.into_inner();
    let mut forms = SettingsForms::default();
    if !password_matches(&state, &signed_in, form.current_password).await? {
        forms.errors.add("current_password", "That is not your current password.");
    } else if let Err(problem) = crate::domain::NewPassword::parse(&form.new_password, &signed_in.user.username) {
        forms.errors.add("new_password", problem);
    }
    if !forms.errors.is_empty() {
        return render(&state, &signed_in, StatusCode::UNPROCESSABLE_ENTITY, None, &forms).await;
    }
    let new = form.new_password;
    let hash = state.config.hashers.run(move || password::hash(&new)).await?;
    let (id, keep) = (signed_in.user.id, signed_in.user.session_hash.clone());
    state.db(move |conn| Ok(users::set_password(conn, id, &hash, Some(&keep))?)).await?;
    Ok(redirect("/settings?notice=password"))
}

pub async fn end_other_sessions(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
    let (id, keep) = (signed_in.user.id, signed_in.user.session_hash.clone());
    state.db(move |conn| Ok(users::end_sessions_except(conn, id, Some(&keep))?)).await?;
    Ok(redirect("/settings?notice=sessions"))
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    delete_password: String,
}

pub async fn delete_account(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    if !password_matches(&state, &signed_in, form.into_inner().delete_password).await? {
        let mut forms = SettingsForms::default();
        forms.errors.add("delete_password", "That is not your password: the account was not deleted.");
        return render(&state, &signed_in, StatusCode::UNPROCESSABLE_ENTITY, None, &forms).await;
    }
    let id = signed_in.user.id;
    state.db(move |conn| Ok(users::delete(conn, id)?)).await?;
    tracing::info!(user_id = %id, "account deleted");
    let mut response = redirect("/account-deleted");
    let _ = response.add_removal_cookie(&state.config.cookie(state.config.session_cookie(), String::new()));
    Ok(response)
}

pub async fn deleted(visitor: crate::auth::Visitor) -> maud::Markup {
    view::message(&visitor, "Account deleted", "Your account was deleted. Thank you for the conversations.")
}

/// Everything the site keeps about the signed-in user, as a JSON download.
pub async fn export(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    let id = signed_in.user.id;
    let (user, sessions) = state
        .db(move |conn| {
            let user = users::find(conn, id)?.ok_or(AppError::NotFound)?;
            Ok((user, users::sessions_of(conn, id)?))
        })
        .await?;
    let (written, votes, saved) = state
        .db(move |conn| {
            let (written, votes) = crate::db::comments::export_of(conn, id)?;
            Ok((written, votes, crate::db::saved::all_of(conn, id)?))
        })
        .await?;
    let filename = format!("afterword-{}.json", user.username);
    // The address as the settings show it (an address typed at sign-up that another
    // account uses shows like any unconfirmed one).
    let mut profile = serde_json::to_value(&user).map_err(|e| AppError::Internal(e.into()))?;
    profile["email"] = serde_json::json!(user.shown_email());
    let body = serde_json::json!({
        "profile": profile,
        "sessions": sessions,
        "comments": written.iter().map(|(id, article, text, at)| serde_json::json!({
            "id": id, "article": article, "text": text, "created_at": at.to_string(),
        })).collect::<Vec<_>>(),
        "votes": votes.iter().map(|(comment, value, at)| serde_json::json!({
            "comment": comment, "value": value, "created_at": at.to_string(),
        })).collect::<Vec<_>>(),
        "saved_articles": saved.iter().map(|(article, at)| serde_json::json!({
            "article": article, "saved_at": at.to_string(),
        })).collect::<Vec<_>>(),
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .json(body))
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    bio: String,
    /// A checkbox: present when ticked.
    show_saved: Option<String>,
}

/// POST /settings/profile: display name and bio (Markdown, cleaned like comments). A
/// refused profile shows the settings again with what was typed and why.
pub async fn update_profile(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let typed = (form.display_name.trim(), form.bio.trim());
    let mut forms = SettingsForms { profile: Some(typed), ..Default::default() };
    if let Err(error) = super::security::refuse_banned(&signed_in.user) {
        forms.errors.add("profile", error.message());
        return render(&state, &signed_in, error.status_code(), None, &forms).await;
    }
    let display_name =
        crate::domain::DisplayName::parse(&form.display_name).map_err(|e| forms.errors.add("display_name", e));
    let bio = crate::domain::Bio::parse(&form.bio).map_err(|e| forms.errors.add("bio", e));
    let (Ok(display_name), Ok(bio)) = (display_name, bio) else {
        return render(&state, &signed_in, StatusCode::BAD_REQUEST, None, &forms).await;
    };
    let bio_html = match bio.as_deref() {
        None => None,
        Some(source) => Some(crate::service::render_markdown(source).await?),
    };
    let user_id = signed_in.user.id;
    let show_saved = form.show_saved.is_some();
    state
        .db(move |conn| {
            let name = display_name.as_deref();
            Ok(users::set_profile(conn, user_id, name, bio.as_deref(), bio_html.as_deref(), show_saved)?)
        })
        .await?;
    Ok(redirect("/settings?notice=profile"))
}

/// POST /settings/notifications
#[derive(Deserialize)]
pub struct NotificationSettings {
    email_replies: Option<String>,
}

pub async fn notification_settings(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<NotificationSettings>,
) -> Result<HttpResponse, AppError> {
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
    let on = form.into_inner().email_replies.is_some();
    let user_id = signed_in.user.id;
    state.db(move |conn| Ok(crate::db::users::set_email_replies(conn, user_id, on)?)).await?;
    Ok(redirect("/settings?notice=notifications"))
}

/// POST /settings/digest
#[derive(Deserialize)]
pub struct DigestForm {
    #[serde(default)]
    digest: String,
}

pub async fn digest_setting(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<DigestForm>,
) -> Result<HttpResponse, AppError> {
    use crate::service::digests;
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
    match digests::parse_choice(&form.digest) {
        Ok(choice) => {
            digests::choose(&state, signed_in.user.id, choice).await?;
            Ok(redirect("/settings?notice=digest#digest-heading"))
        }
        Err(problem) => {
            let mut forms = SettingsForms::default();
            forms.errors.add("digest", problem);
            render(&state, &signed_in, StatusCode::BAD_REQUEST, None, &forms).await
        }
    }
}

pub async fn resend_verification(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
    state.limits.auth(signed_in.visitor.ip).map_err(too_many)?;
    accounts::resend_verification(&state, signed_in.user.id).await?;
    Ok(redirect("/settings?notice=verification-sent"))
}

/// POST /settings/claim-comments: mails a link that moves the comments imported with
/// the reader's confirmed address to this account. Refused (the page again, with why)
/// when the address is not confirmed or no imported comment has it.
pub async fn claim_comments(state: web::Data<AppState>, signed_in: SignedIn) -> Result<HttpResponse, AppError> {
    // Nothing any cached page shows changes until the link is followed.
    super::cache::touches_nothing();
    state.limits.auth(signed_in.visitor.ip).map_err(too_many)?;
    match crate::service::imports::request_claim(&state, signed_in.user.id).await? {
        Ok(()) => Ok(redirect("/settings?notice=claim-sent#imported-comments")),
        Err(refused) => {
            render(&state, &signed_in, StatusCode::BAD_REQUEST, Some(refused), &SettingsForms::default()).await
        }
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token_name: String,
    /// Checkboxes: present when ticked.
    scope_read: Option<String>,
    scope_write: Option<String>,
    scope_moderate: Option<String>,
    #[serde(default)]
    expires: String,
}

/// POST /settings/tokens: makes an API token and shows it on the page that answers,
/// this once (never stored, never redirected with, never cached). A refused form comes
/// back with what was typed and why.
pub async fn create_token(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    use crate::auth::tokens::Scopes;
    use crate::service::tokens;
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
    let form = form.into_inner();
    let scopes = Scopes {
        read: form.scope_read.is_some(),
        write: form.scope_write.is_some(),
        moderate: form.scope_moderate.is_some(),
    };
    let typed = TokenValues { name: form.token_name.trim(), scopes, expires: form.expires.trim() };
    let refused = match tokens::check(signed_in.user.role, &form.token_name, scopes, &form.expires) {
        Ok(request) => {
            let name = request.name.clone();
            match tokens::create(&state, signed_in.user.id, request).await? {
                Ok(token) => {
                    tracing::info!(user_id = %signed_in.user.id, "API token made");
                    let forms = SettingsForms { new_token: Some((&name, &token)), ..Default::default() };
                    let mut response = render(&state, &signed_in, StatusCode::OK, None, &forms).await?;
                    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
                    return Ok(response);
                }
                Err(refused) => refused,
            }
        }
        Err(refused) => refused,
    };
    let mut forms = SettingsForms { token: Some(typed), ..Default::default() };
    forms.errors.add(refused.field, refused.message);
    render(&state, &signed_in, StatusCode::UNPROCESSABLE_ENTITY, None, &forms).await
}

/// POST /settings/tokens/{id}/revoke: 404 unless the token is the account's own.
pub async fn revoke_token(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    // Nothing any cached page shows changes.
    super::cache::touches_nothing();
    let id: i64 = id.parse().ok().filter(|id| *id > 0).ok_or(AppError::NotFound)?;
    crate::service::tokens::revoke(&state, signed_in.user.id, id).await?;
    tracing::info!(user_id = %signed_in.user.id, token_id = id, "API token revoked");
    Ok(redirect("/settings?notice=token-revoked#api-tokens"))
}
