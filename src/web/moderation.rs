//! Reports, moderators' actions, the approval queue, bans, the public log, and the
//! administrators' dashboard, settings, articles and users.

use crate::domain::CommentId;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::articles::parse_page;
use super::{html, redirect, AppError, AppState, LiveComment};
use crate::auth::{Admin, Moderator, Role, SignedIn};
use crate::db::moderation::{self as m, Premoderation};
use crate::db::{articles, comments, now, users};
use crate::domain::{ModAction, ReportReason};
use crate::views::moderation::{self as view, ArticleForm, LogPage, UserPage};

fn comment_id(raw: &str) -> Result<CommentId, AppError> {
    CommentId::from_param(raw).ok_or(AppError::NotFound)
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
    duration: Option<String>,
}

fn reason(raw: &str) -> Result<String, AppError> {
    let reason = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    match reason.chars().count() {
        _ if crate::text::is_blank(&reason) => Err(AppError::BadRequest("Give a reason.".into())),
        n if n > 500 => Err(AppError::BadRequest("A reason has at most 500 characters.".into())),
        _ => Ok(reason),
    }
}

/// The end of a ban: "1d", "7d", "30d" or "permanent".
fn ban_until(duration: &str) -> Result<time::PrimitiveDateTime, AppError> {
    let days = match duration {
        "1d" => 1,
        "7d" => 7,
        "30d" => 30,
        "permanent" => return Ok(m::forever()),
        other => return Err(AppError::BadRequest(format!("A ban lasts 1d, 7d, 30d or permanent, not {other:?}."))),
    };
    Ok(now() + time::Duration::days(days))
}

/// Moderators ban (and unban) readers; administrators also moderators; nobody themselves.
fn may_ban(moderator: &crate::auth::AuthUser, target: &users::User) -> Result<(), AppError> {
    Ok(crate::domain::permissions::may_ban(Some(&moderator.actor()), target.id, target.role)?)
}

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
    if comment.author_id == signed_in.user.id {
        return Err(AppError::Forbidden("You cannot report your own comment.".into()));
    }
    Ok(view::report_form(&signed_in.visitor, &comment, &author, &slug, &title, None))
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
    id: web::Path<String>,
    form: web::Form<ReportForm>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    let form = form.into_inner();
    let details =
        form.details.map(|d| d.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|d| !crate::text::is_blank(d));
    let reason = form.reason.parse::<ReportReason>();
    let problem = if reason.is_err() {
        Some("Choose what is wrong with the comment.")
    } else if reason == Ok(ReportReason::Other) && details.is_none() {
        Some("Say in a few words what is wrong.")
    } else if details.as_ref().is_some_and(|d| d.chars().count() > 500) {
        Some("The details have at most 500 characters.")
    } else {
        None
    };
    if let Some(problem) = problem {
        let (comment, author, slug, title) = comment_for_report(&state, id).await?;
        let page = view::report_form(&signed_in.visitor, &comment, &author, &slug, &title, Some(problem));
        return Ok(html(StatusCode::UNPROCESSABLE_ENTITY, page));
    }
    let (reporter, reason) = (signed_in.user.actor(), reason.unwrap_or(ReportReason::Other));
    state.db(move |conn| Ok(m::report(conn, id, &reporter, reason, details.as_deref())?)).await?;
    Ok(redirect(&format!("/comments/{id}?notice=reported#comment-{id}")))
}

// ---- moderators ----

pub async fn reports(state: web::Data<AppState>, moderator: Moderator) -> Result<Markup, AppError> {
    let groups = state.db(|conn| Ok(m::open_reports(conn)?)).await?;
    Ok(view::reports(&moderator.0.visitor, &groups))
}

pub async fn dismiss(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (id, mod_id) = (comment_id(&id)?, moderator.0.user.id);
    state.db(move |conn| Ok(m::dismiss(conn, id, mod_id)?)).await?;
    Ok(redirect("/mod/reports"))
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

/// Removes a comment, and bans its author too when a duration is given.
pub async fn remove(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let id = comment_id(&id)?;
    let form = form.into_inner();
    let why = reason(&form.reason)?;
    let until = match form.duration.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => Some(ban_until(d)?),
        None => None,
    };
    let mod_user = moderator.0.user.clone();
    state
        .db(move |conn| {
            // Both or neither.
            crate::db::write_transaction(conn, |conn| {
                let comment = m::remove(conn, id, mod_user.id, &why)?;
                if let Some(until) = until {
                    let author = users::find(conn, comment.author_id)?.ok_or(AppError::NotFound)?;
                    may_ban(&mod_user, &author)?;
                    m::ban(conn, author.id, mod_user.id, until, &why)?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(redirect(&format!("/mod/comments/{id}")))
}

pub async fn restore(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (id, mod_id) = (comment_id(&id)?, moderator.0.user.id);
    state.db(move |conn| Ok(m::restore(conn, id, mod_id)?)).await?;
    Ok(redirect(&format!("/mod/comments/{id}")))
}

async fn review(
    state: &AppState,
    moderator: &Moderator,
    id: CommentId,
    approve: bool,
) -> Result<HttpResponse, AppError> {
    let mod_id = moderator.0.user.id;
    let (comment, notify) = state.db(move |conn| Ok(m::review(conn, id, mod_id, approve)?)).await?;
    if approve {
        let _ = state.events.send(LiveComment { article_id: comment.article_id, id, parent_id: comment.parent_id });
        if let Some((_, Some(email))) = notify {
            let link = state.config.link(&format!("comments/{id}"));
            state
                .send_mail(
                    email,
                    "A reply to your comment".into(),
                    format!("Someone replied to your comment:\n\n{link}\n"),
                )
                .await?;
        }
    }
    Ok(redirect("/mod/queue"))
}

pub async fn approve(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    review(&state, &moderator, comment_id(&id)?, true).await
}

pub async fn reject(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    review(&state, &moderator, comment_id(&id)?, false).await
}

async fn set_pin(state: &AppState, moderator: &Moderator, id: CommentId, pin: bool) -> Result<HttpResponse, AppError> {
    let mod_id = moderator.0.user.id;
    state.db(move |conn| Ok(m::pin(conn, id, mod_id, pin)?)).await?;
    Ok(redirect(&format!("/mod/comments/{id}")))
}

pub async fn pin(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_pin(&state, &moderator, comment_id(&id)?, true).await
}

pub async fn unpin(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_pin(&state, &moderator, comment_id(&id)?, false).await
}

pub async fn distinguish(
    state: web::Data<AppState>,
    moderator: Moderator,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (id, mod_id) = (comment_id(&id)?, moderator.0.user.id);
    state.db(move |conn| Ok(m::distinguish(conn, id, mod_id)?)).await?;
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

async fn set_lock(
    state: &AppState,
    moderator: &Moderator,
    slug: String,
    why: Option<String>,
    lock: bool,
) -> Result<HttpResponse, AppError> {
    let mod_id = moderator.0.user.id;
    let s = slug.clone();
    let changed = state
        .db(move |conn| {
            let (id, _, _) = articles::find_basic(conn, &s)?.ok_or(AppError::NotFound)?;
            Ok(m::lock(conn, id, mod_id, why.as_deref(), lock)?)
        })
        .await?;
    if !changed {
        return Err(AppError::BadRequest(
            if lock { "Comments are already closed." } else { "Comments are open." }.into(),
        ));
    }
    Ok(redirect(&format!("/mod/articles/{slug}")))
}

pub async fn lock(
    state: web::Data<AppState>,
    moderator: Moderator,
    slug: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let why = reason(&form.reason)?;
    set_lock(&state, &moderator, slug.into_inner(), Some(why), true).await
}

pub async fn unlock(
    state: web::Data<AppState>,
    moderator: Moderator,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_lock(&state, &moderator, slug.into_inner(), None, false).await
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
    let name = name.into_inner();
    let form = form.into_inner();
    let why = reason(&form.reason)?;
    let until = ban_until(form.duration.as_deref().unwrap_or(""))?;
    let mod_user = moderator.0.user.clone();
    let n = name.clone();
    state
        .db(move |conn| {
            let user = users::find_by_username(conn, &n)?.ok_or(AppError::NotFound)?;
            may_ban(&mod_user, &user)?;
            Ok(m::ban(conn, user.id, mod_user.id, until, &why)?)
        })
        .await?;
    Ok(redirect(&format!("/mod/users/{name}")))
}

pub async fn unban(
    state: web::Data<AppState>,
    moderator: Moderator,
    name: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let name = name.into_inner();
    let mod_user = moderator.0.user.clone();
    let n = name.clone();
    let changed = state
        .db(move |conn| {
            let user = users::find_by_username(conn, &n)?.ok_or(AppError::NotFound)?;
            may_ban(&mod_user, &user)?;
            Ok(m::unban(conn, user.id, mod_user.id)?)
        })
        .await?;
    if !changed {
        return Err(AppError::BadRequest("That account is not banned.".into()));
    }
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
    let (mut entries, actions) = state
        .db(move |conn| {
            let offset = i64::from(page - 1) * PER_PAGE;
            Ok((m::log_entries(conn, a, md.as_deref(), offset, PER_PAGE + 1)?, m::log_actions(conn)?))
        })
        .await?;
    let has_more = entries.len() as i64 > PER_PAGE;
    entries.truncate(PER_PAGE as usize);
    Ok(view::log(
        &visitor,
        &LogPage { entries: &entries, actions: &actions, action, moderator: moderator.as_deref(), page, has_more },
    ))
}

// ---- administrators ----

pub async fn dashboard(state: web::Data<AppState>, admin: Admin) -> Result<Markup, AppError> {
    let d = state.db(|conn| Ok(m::dashboard(conn)?)).await?;
    Ok(view::dashboard(&admin.0.visitor, &d))
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn settings_page(
    state: web::Data<AppState>,
    admin: Admin,
    query: web::Query<NoticeQuery>,
) -> Result<Markup, AppError> {
    let (mode, words) = state.db(|conn| Ok((m::premoderation(conn)?, m::word_list(conn)?))).await?;
    let notice = query.notice.as_deref().map(|_| "Saved.");
    Ok(view::settings(&admin.0.visitor, mode, &words, notice))
}

#[derive(Deserialize)]
pub struct PremoderationForm {
    mode: String,
    count: Option<String>,
}

pub async fn set_premoderation(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<PremoderationForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mode = match form.mode.as_str() {
        "off" => Premoderation::Off,
        "all" => Premoderation::Everyone,
        "new" => {
            let count =
                form.count.as_deref().unwrap_or("3").trim().parse::<u32>().ok().filter(|n| (1..=100).contains(n));
            Premoderation::NewAccounts(
                count.ok_or(AppError::BadRequest("The count is a whole number from 1 to 100.".into()))?,
            )
        }
        other => return Err(AppError::BadRequest(format!("The mode is off, new or all, not {other:?}."))),
    };
    let admin_id = admin.0.user.id;
    state.db(move |conn| Ok(m::set_premoderation(conn, admin_id, mode)?)).await?;
    Ok(redirect("/admin/settings?notice=saved"))
}

#[derive(Deserialize)]
pub struct WordsForm {
    #[serde(default)]
    words: String,
}

pub async fn set_words(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<WordsForm>,
) -> Result<HttpResponse, AppError> {
    let words: Vec<String> =
        form.into_inner().words.lines().map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned).collect();
    if words.len() > 1_000 || words.iter().any(|w| w.chars().count() > 100) {
        return Err(AppError::BadRequest("At most 1,000 entries of at most 100 characters.".into()));
    }
    let admin_id = admin.0.user.id;
    state.db(move |conn| Ok(m::set_word_list(conn, admin_id, &words)?)).await?;
    Ok(redirect("/admin/settings?notice=saved"))
}

#[derive(Deserialize)]
pub struct UsersQuery {
    q: Option<String>,
}

pub async fn users_page(
    state: web::Data<AppState>,
    admin: Admin,
    query: web::Query<UsersQuery>,
) -> Result<Markup, AppError> {
    let q = query.into_inner().q.unwrap_or_default().trim().chars().take(100).collect::<String>();
    let needle = q.clone();
    let found = state.db(move |conn| Ok(m::find_users(conn, &needle, 100)?)).await?;
    Ok(view::users(&admin.0.visitor, &q, &found))
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn set_role(
    state: web::Data<AppState>,
    admin: Admin,
    name: web::Path<String>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let name = name.into_inner();
    let role =
        form.role.parse::<Role>().map_err(|_| AppError::BadRequest("A role is reader, moderator or admin.".into()))?;
    let admin_id = admin.0.user.id;
    let n = name.clone();
    state
        .db(move |conn| {
            let user = users::find_by_username(conn, &n)?.ok_or(AppError::NotFound)?;
            if user.id == admin_id && role != Role::Admin {
                return Err(AppError::BadRequest("You cannot take away your own administrator role.".into()));
            }
            Ok(m::set_role(conn, user.id, admin_id, role)?)
        })
        .await?;
    Ok(redirect(&format!("/mod/users/{name}")))
}

pub async fn articles_page(
    state: web::Data<AppState>,
    admin: Admin,
    query: web::Query<NoticeQuery>,
) -> Result<Markup, AppError> {
    let items = state.db(|conn| Ok(articles::newest_full(conn, 500)?)).await?;
    let notice = query.into_inner().notice.and_then(|n| match n.split('-').collect::<Vec<_>>()[..] {
        ["deleted"] => Some("The article was deleted.".to_owned()),
        ["imported", created, updated, unchanged] => {
            Some(format!("Imported: {created} created, {updated} updated, {unchanged} unchanged."))
        }
        _ => None,
    });
    Ok(view::articles(&admin.0.visitor, &items, notice.as_deref()))
}

pub async fn new_article(admin: Admin) -> Markup {
    view::article_form(&admin.0.visitor, "New article", "/admin/articles", &ArticleForm::default(), None)
}

#[derive(Deserialize)]
pub struct ArticleFields {
    #[serde(default)]
    title: String,
    #[serde(default)]
    source_url: String,
    #[serde(default)]
    source_name: String,
    #[serde(default)]
    published_at: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    takeaways: String,
    #[serde(default)]
    tags: String,
}

impl ArticleFields {
    fn into_form(self) -> ArticleForm {
        ArticleForm {
            title: self.title,
            source_url: self.source_url,
            source_name: self.source_name,
            published_at: self.published_at,
            summary: self.summary,
            takeaways: self.takeaways,
            tags: self.tags,
        }
    }
}

fn parse_article(f: &ArticleForm) -> Result<crate::import::NewArticle, String> {
    crate::import::from_form(
        &f.title,
        &f.source_url,
        &f.source_name,
        &f.published_at,
        &f.summary,
        &f.takeaways,
        &f.tags,
    )
}

pub async fn create_article(
    state: web::Data<AppState>,
    admin: Admin,
    fields: web::Form<ArticleFields>,
) -> Result<HttpResponse, AppError> {
    let form = fields.into_inner().into_form();
    let visitor = &admin.0.visitor;
    let invalid = |e: &str| {
        html(
            StatusCode::UNPROCESSABLE_ENTITY,
            view::article_form(visitor, "New article", "/admin/articles", &form, Some(e)),
        )
    };
    let item = match parse_article(&form) {
        Ok(item) => item,
        Err(e) => return Ok(invalid(&e)),
    };
    let admin_id = admin.0.user.id;
    let created = state
        .db_tx(move |conn| match articles::create(conn, &item) {
            Ok((id, slug)) => {
                m::log_article(conn, admin_id, ModAction::CreateArticle, m::LogTarget::Article(id), &item.title)?;
                Ok(Ok(slug))
            }
            Err(articles::UpsertError::Conflict { reason, .. }) => Ok(Err(reason)),
            Err(articles::UpsertError::Db(e)) => Err(e.into()),
        })
        .await?;
    match created {
        Ok(slug) => Ok(redirect(&format!("/articles/{slug}"))),
        Err(reason) => Ok(invalid(&reason)),
    }
}

pub async fn edit_article_form(
    state: web::Data<AppState>,
    admin: Admin,
    slug: web::Path<String>,
) -> Result<Markup, AppError> {
    let slug = slug.into_inner();
    let s = slug.clone();
    let page = state.db(move |conn| articles::find_by_slug(conn, &s)?.ok_or(AppError::NotFound)).await?;
    let a = &page.article;
    let form = ArticleForm {
        title: a.title.clone(),
        source_url: a.source_url.clone(),
        source_name: a.source_name.clone(),
        published_at: crate::views::iso_date(a.published_at),
        summary: a.paragraphs().collect::<Vec<_>>().join("\n\n"),
        takeaways: page.takeaways.join("\n"),
        tags: page.tags.join(", "),
    };
    Ok(view::article_form(&admin.0.visitor, "Edit article", &format!("/admin/articles/{slug}/edit"), &form, None))
}

pub async fn edit_article(
    state: web::Data<AppState>,
    admin: Admin,
    slug: web::Path<String>,
    fields: web::Form<ArticleFields>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let form = fields.into_inner().into_form();
    let action = format!("/admin/articles/{slug}/edit");
    let visitor = &admin.0.visitor;
    let invalid = |e: &str| {
        html(StatusCode::UNPROCESSABLE_ENTITY, view::article_form(visitor, "Edit article", &action, &form, Some(e)))
    };
    let item = match parse_article(&form) {
        Ok(item) => item,
        Err(e) => return Ok(invalid(&e)),
    };
    let admin_id = admin.0.user.id;
    let s = slug.clone();
    let outcome = state
        .db_tx(move |conn| {
            let (id, _, _) = articles::find_basic(conn, &s)?.ok_or(AppError::NotFound)?;
            match articles::update(conn, id, &item) {
                Ok(()) => {
                    m::log_article(conn, admin_id, ModAction::EditArticle, m::LogTarget::Article(id), &item.title)?;
                    Ok(Ok(()))
                }
                Err(articles::UpsertError::Conflict { reason, .. }) => Ok(Err(reason)),
                Err(articles::UpsertError::Db(e)) => Err(e.into()),
            }
        })
        .await?;
    match outcome {
        Ok(()) => Ok(redirect(&format!("/articles/{slug}"))),
        Err(reason) => Ok(invalid(&reason)),
    }
}

pub async fn delete_article(
    state: web::Data<AppState>,
    admin: Admin,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let admin_id = admin.0.user.id;
    state
        .db_tx(move |conn| {
            let (id, title, _) = articles::find_basic(conn, &slug)?.ok_or(AppError::NotFound)?;
            articles::delete(conn, id)?;
            Ok(m::log_article(conn, admin_id, ModAction::DeleteArticle, m::LogTarget::Article(id), &title)?)
        })
        .await?;
    Ok(redirect("/admin/articles?notice=deleted"))
}

/// The same validation and all-or-nothing rule as `afterword import-articles`.
/// The file comes as the `file` field of a multipart form.
pub async fn import_articles(
    state: web::Data<AppState>,
    admin: Admin,
    mut upload: actix_multipart::Multipart,
) -> Result<HttpResponse, AppError> {
    use futures_util::TryStreamExt;
    let unreadable =
        |e: actix_multipart::MultipartError| AppError::BadRequest(format!("The upload could not be read: {e}."));
    let limit = super::security::UPLOAD_LIMIT;
    let mut file: Option<Vec<u8>> = None;
    while let Some(mut field) = upload.try_next().await.map_err(unreadable)? {
        let is_file = field.content_disposition().and_then(|d| d.get_name()) == Some("file");
        let mut bytes = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(unreadable)? {
            if bytes.len() + chunk.len() > limit {
                return Err(AppError::PayloadTooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_file {
            file = Some(bytes);
        }
    }
    let file = file.ok_or_else(|| AppError::BadRequest("Choose a JSON file to import.".into()))?;
    let items = crate::import::parse(&file).map_err(|e| AppError::BadRequest(format!("Nothing was imported: {e}.")))?;
    let admin_id = admin.0.user.id;
    let summary = state
        .db_tx(move |conn| match articles::upsert_all(conn, &items, &mut |_| {}) {
            Ok(summary) => {
                let label = format!("{} created, {} updated", summary.created, summary.updated);
                m::log_article(conn, admin_id, ModAction::ImportArticles, m::LogTarget::Articles, &label)?;
                Ok(Ok(summary))
            }
            Err(articles::UpsertError::Conflict { index, reason }) => {
                Ok(Err(format!("record at index {index}: {reason}")))
            }
            Err(articles::UpsertError::Db(e)) => Err(e.into()),
        })
        .await?
        .map_err(|e| AppError::BadRequest(format!("Nothing was imported: {e}.")))?;
    let notice = format!("imported-{}-{}-{}", summary.created, summary.updated, summary.unchanged);
    Ok(redirect(&format!("/admin/articles?notice={notice}")))
}
