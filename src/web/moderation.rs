//! Moderators' actions (`/mod`): the approval queue, removing and restoring comments,
//! pins, locks, bans, and the public moderation log (`/modlog`).

use actix_web::{web, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::articles::parse_page;
use super::{comment_id, redirect, AppError, AppState};
use crate::auth::Moderator;
use crate::db::comments::CommentError;
use crate::db::moderation::{self as m};
use crate::db::PageRequest;
use crate::db::{articles, comments, now, users};
use crate::domain::{BanLength, CommentId, ModAction, ModReason};
use crate::service::moderation as service;
use crate::views::moderation::{self as view, LogPage, UserPage};

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
    duration: Option<String>,
    /// `yes` once the moderator confirmed a removal with a ban.
    confirm: Option<String>,
    /// `reports` when the form was on the reports page.
    from: Option<String>,
}

/// Whether a destructive action was confirmed: `confirm=yes`. Without it the handler
/// answers the page that asks first (see `views::moderation::confirm_page`); any other
/// value is a mistake.
pub(crate) fn confirmed(raw: Option<&str>) -> Result<bool, AppError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(false),
        Some("yes") => Ok(true),
        Some(_) => Err(AppError::BadRequest("confirm is “yes”, or left out to be asked first.".into())),
    }
}

/// The confirmation page, answered in place of a destructive action: it changes nothing.
pub(crate) fn ask_first(page: Markup) -> HttpResponse {
    super::cache::touches_nothing();
    super::html(actix_web::http::StatusCode::OK, page)
}

/// Where a moderator goes after acting on comment `id`'s reports: the next report.
pub(crate) async fn next_report(state: &AppState, id: CommentId) -> Result<String, AppError> {
    let next = state.db(move |conn| Ok(m::next_report(conn, id)?)).await?;
    Ok(match next {
        Some(next) => format!("/mod/reports#report-{next}"),
        None => "/mod/reports".to_owned(),
    })
}

fn reason(raw: &str) -> Result<ModReason, AppError> {
    ModReason::parse(raw).map_err(AppError::BadRequest)
}

fn ban_length(raw: &str) -> Result<BanLength, AppError> {
    BanLength::parse(raw).map_err(AppError::BadRequest)
}

pub async fn queue(state: web::Data<AppState>, moderator: Moderator) -> Result<Markup, AppError> {
    let items = state.db(|conn| Ok(m::queue(conn)?)).await?;
    Ok(view::queue(&moderator.0.visitor, &items))
}

pub async fn comment_page(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<Markup, AppError> {
    let id = comment_id(&id)?;
    let (comment, slug, title, author) = state
        .db(move |conn| {
            let (comment, slug, title, _) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            let author = users::find(conn, comment.author_id)?.map(|u| u.username).unwrap_or_default();
            Ok((comment, slug, title, author))
        })
        .await?;
    Ok(view::comment(&moderator.0.visitor, &comment, &author, &slug, &title))
}

/// Removes a comment, and bans its author too when a duration is given: that asks
/// first, and is done once confirmed (`confirm=yes`). From the reports page
/// (`from=reports`) the moderator goes on to the next report.
pub async fn remove(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    let form = form.into_inner();
    let why = reason(&form.reason)?;
    let duration = form.duration.as_deref().filter(|d| !d.is_empty());
    let ban = duration.map(ban_length).transpose()?;
    let from_reports = match form.from.as_deref().filter(|f| !f.is_empty()) {
        None => false,
        Some("reports") => true,
        Some(_) => return Err(AppError::BadRequest("from is “reports” or left out.".into())),
    };
    if let (Some(length), false) = (ban, confirmed(form.confirm.as_deref())?) {
        let actor = moderator.0.user.actor();
        let (comment, slug, title, author) = state
            .db(move |conn| {
                let (comment, slug, title, _) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
                let author = users::find(conn, comment.author_id)?.ok_or(AppError::NotFound)?;
                Ok((comment, slug, title, author))
            })
            .await?;
        // What the removal itself would refuse, refused before asking.
        if comment.is_removed() {
            return Err(CommentError::NothingToDo("the comment is already removed").into());
        }
        if comment.is_deleted() {
            return Err(CommentError::from(crate::domain::Denied::NotVisible).into());
        }
        crate::domain::permissions::may_ban(Some(&actor), author.id, author.role)?;
        let length = match length {
            BanLength::Days(1) => "for a day".to_owned(),
            BanLength::Days(days) => format!("for {days} days"),
            BanLength::Permanent => "permanently".to_owned(),
        };
        return Ok(ask_first(view::confirm_remove_and_ban(
            &moderator.0.visitor,
            &view::RemoveAndBan {
                comment: &comment,
                author: &author.username,
                slug: &slug,
                title: &title,
                reason: why.as_str(),
                duration: duration.unwrap_or_default(),
                length: &length,
                from_reports,
            },
        )));
    }
    let next = if from_reports { Some(next_report(&state, id).await?) } else { None };
    service::remove(&state, &moderator.0.user, id, why, ban).await?;
    Ok(redirect(&next.unwrap_or_else(|| format!("/mod/comments/{id}"))))
}

pub async fn restore(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    service::restore(&state, &moderator.0.user, id).await?;
    Ok(redirect(&format!("/mod/comments/{id}")))
}

pub async fn approve(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    service::review(&state, &moderator.0.user, comment_id(&id)?, true, None).await?;
    Ok(redirect("/mod/queue"))
}

#[derive(Deserialize)]
pub struct RejectForm {
    reason: Option<String>,
    confirm: Option<String>,
}

/// Rejects a held comment, with an optional reason its author is told; asks first,
/// and is done once confirmed (`confirm=yes`).
pub async fn reject(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
    form: web::Form<RejectForm>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    let form = form.into_inner();
    let why = form.reason.as_deref().filter(|r| !crate::text::is_blank(r)).map(reason).transpose()?;
    if !confirmed(form.confirm.as_deref())? {
        let (comment, slug, title, author) = state
            .db(move |conn| {
                let (comment, slug, title, _) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
                let author = users::find(conn, comment.author_id)?.map(|u| u.username).unwrap_or_default();
                Ok((comment, slug, title, author))
            })
            .await?;
        if comment.status != crate::domain::CommentStatus::Pending {
            return Err(CommentError::NothingToDo("the comment is not waiting for approval").into());
        }
        let reason = why.as_ref().map(ModReason::as_str);
        return Ok(ask_first(view::confirm_reject(&moderator.0.visitor, &comment, &author, &slug, &title, reason)));
    }
    service::review(&state, &moderator.0.user, id, false, why).await?;
    Ok(redirect("/mod/queue"))
}

pub async fn pin(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    service::pin(&state, &moderator.0.user, id, true).await?;
    Ok(redirect(&format!("/mod/comments/{id}")))
}

pub async fn unpin(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    service::pin(&state, &moderator.0.user, id, false).await?;
    Ok(redirect(&format!("/mod/comments/{id}")))
}

pub async fn distinguish(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    service::distinguish(&state, &moderator.0.user, id).await?;
    Ok(redirect(&format!("/comments/{id}#comment-{id}")))
}

pub async fn article_page(
    state: web::Data<AppState>,
    moderator: Moderator,
    slug: web::Path<String>,
) -> Result<Markup, AppError> {
    let slug = slug.into_inner();
    let s = slug.clone();
    let page = state.db(move |conn| articles::find_by_slug(conn, &s)?.ok_or(AppError::NotFound)).await?;
    let a = &page.article;
    Ok(view::article(&moderator.0.visitor, &slug, &a.title, a.comments_locked, a.lock_reason.as_deref()))
}

pub async fn lock(
    state: web::Data<AppState>,
    moderator: Moderator,
    slug: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let why = reason(&form.reason)?;
    service::set_lock(&state, &moderator.0.user, &slug, Some(why), true).await?;
    Ok(redirect(&format!("/mod/articles/{slug}")))
}

pub async fn unlock(
    state: web::Data<AppState>,
    moderator: Moderator,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    service::set_lock(&state, &moderator.0.user, &slug, None, false).await?;
    Ok(redirect(&format!("/mod/articles/{slug}")))
}

pub async fn user_page(
    state: web::Data<AppState>,
    moderator: Moderator,
    name: web::Path<String>,
) -> Result<Markup, AppError> {
    let name = name.into_inner();
    let (user, recent, about, by) = state
        .db(move |conn| {
            let user = users::find_by_username(conn, &name)?.ok_or(AppError::NotFound)?;
            let recent = comments::by_author(conn, user.id, 0, 20)?;
            Ok((user.clone(), recent, m::reports_about(conn, user.id)?, m::reports_by(conn, user.id)?))
        })
        .await?;
    let banned = user
        .banned_until
        .filter(|u| *u > now())
        .map(|u| format!("{}: {}", crate::views::ban_end(u), user.ban_reason.clone().unwrap_or_default()));
    Ok(view::user(
        &moderator.0.visitor,
        &UserPage { user: &user, recent: &recent, reports_about: &about, reports_by: &by, banned },
    ))
}

pub async fn ban(
    state: web::Data<AppState>,
    moderator: Moderator,
    name: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let why = reason(&form.reason)?;
    let length = ban_length(form.duration.as_deref().unwrap_or(""))?;
    service::ban(&state, &moderator.0.user, &name, length, why).await?;
    Ok(redirect(&format!("/mod/users/{name}")))
}

pub async fn unban(
    state: web::Data<AppState>,
    moderator: Moderator,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    service::unban(&state, &moderator.0.user, &name).await?;
    Ok(redirect(&format!("/mod/users/{name}")))
}

// ---- the public log ----

#[derive(Deserialize)]
pub struct LogQuery {
    action: Option<String>,
    moderator: Option<String>,
    page: Option<String>,
}

pub async fn modlog(
    state: web::Data<AppState>,
    visitor: crate::auth::Visitor,
    query: web::Query<LogQuery>,
) -> Result<Markup, AppError> {
    const PER_PAGE: i64 = 50;
    let query = query.into_inner();
    let page = parse_page(query.page.as_deref())?;
    let action = match query.action.filter(|a| !a.is_empty()) {
        Some(a) => {
            Some(a.parse::<ModAction>().map_err(|_| AppError::BadRequest(format!("There is no action {a:?}.")))?)
        }
        None => None,
    };
    let moderator = query.moderator.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty());
    let (a, md) = (action, moderator.clone());
    let request = PageRequest::new(page, PER_PAGE);
    let (entries, actions) = state
        .db(move |conn| {
            let entries = m::log_entries(conn, a, md.as_deref(), request.offset(), request.limit())?;
            Ok((request.page(entries), m::log_actions(conn)?))
        })
        .await?;
    let (has_more, entries) = (entries.has_more, entries.items);
    Ok(view::log(
        &visitor,
        &LogPage { entries: &entries, actions: &actions, action, moderator: moderator.as_deref(), page, has_more },
    ))
}
