//! Reports: readers report a comment (`/comments/{id}/report`); moderators see the open
//! reports grouped by comment and dismiss them (`/mod/reports`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::{comment_id, html, redirect, AppError, AppState};
use crate::auth::{Moderator, SignedIn};
use crate::db::comments;
use crate::db::moderation as m;
use crate::domain::{CommentId, Report};
use crate::service::moderation as service;
use crate::views::moderation as view;

// ---- reports, by readers ----

async fn comment_for_report(
    state: &AppState,
    id: CommentId,
) -> Result<(comments::Comment, String, String, String), AppError> {
    state
        .db(move |conn| {
            let (comment, slug, title, _) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            // Only a published comment can be reported; nothing else is shown here.
            if !comment.is_visible() {
                return Err(AppError::NotFound);
            }
            let author = comments::one(conn, id, None)?.and_then(|c| c.author).unwrap_or_else(|| "[deleted]".into());
            Ok((comment, author, slug, title))
        })
        .await
}

pub async fn report_form(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<Markup, AppError> {
    let id = comment_id(&id)?;
    let (comment, author, slug, title) = comment_for_report(&state, id).await?;
    crate::domain::permissions::may_report(Some(&signed_in.user.actor()), &comment.facts(false))?;
    Ok(view::report_form(&signed_in.visitor, &comment, (&author, &slug, &title), ("", ""), None))
}

#[derive(Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    reason: String,
    details: Option<String>,
}

pub async fn report(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: actix_web::HttpRequest,
    id: web::Path<String>,
    form: web::Form<ReportForm>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    let form = form.into_inner();
    let typed = (form.reason.trim(), form.details.as_deref().unwrap_or("").trim());
    let report = match super::security::refuse_banned(&signed_in.user) {
        Err(error) => Err(error),
        Ok(()) => match Report::parse(&form.reason, form.details.as_deref()) {
            Ok(report) => service::report(&state, &signed_in.user, id, report).await,
            Err(problem) => {
                let (comment, author, slug, title) = comment_for_report(&state, id).await?;
                let page =
                    view::report_form(&signed_in.visitor, &comment, (&author, &slug, &title), typed, Some(&problem));
                return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page));
            }
        },
    };
    match report {
        Ok(()) => Ok(redirect(&format!("/comments/{id}?notice=reported#comment-{id}"))),
        // Refused (a ban, a report made twice, the database): the form again, with what
        // the reader chose and wrote, and why.
        Err(error) if !super::wants_json(&req) && !matches!(error, AppError::Internal(_)) => {
            let Ok((comment, author, slug, title)) = comment_for_report(&state, id).await else {
                return Err(error);
            };
            let reason = error.message();
            let page = view::report_form(&signed_in.visitor, &comment, (&author, &slug, &title), typed, Some(&reason));
            Ok(error.refusal(page))
        }
        Err(error) => Err(error),
    }
}

// ---- moderators ----

pub async fn reports(state: web::Data<AppState>, moderator: Moderator) -> Result<Markup, AppError> {
    let groups = state.db(|conn| Ok(m::open_reports(conn)?)).await?;
    Ok(view::reports(&moderator.0.visitor, &groups))
}

/// Closes a comment's reports; the moderator goes on to the next report.
pub async fn dismiss(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    let next = super::moderation::next_report(&state, id).await?;
    service::dismiss(&state, &moderator.0.user, id).await?;
    Ok(redirect(&next))
}
