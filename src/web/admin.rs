//! `/admin`: the administrators' dashboard, the site's settings (pre-moderation, the
//! word list), users and their roles, and articles (create, edit, delete, import).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::{html, redirect, AppError, AppState};
use crate::auth::{Admin, Role};
use crate::db::moderation::{self as m, Premoderation};
use crate::db::{articles, outbox};
use crate::service::articles as service;
use crate::service::moderation as service_moderation;
use crate::views;
use crate::views::moderation::{self as view, ArticleForm};

// ---- administrators ----

/// `/admin/outbox`: the messages kept when no SMTP server is configured.
pub async fn outbox(state: web::Data<AppState>, admin: Admin) -> Result<Markup, AppError> {
    let messages = state.db(|conn| Ok(outbox::list(conn, 0, 100)?)).await?;
    Ok(views::admin::outbox(&admin.0.visitor, &messages))
}

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
    let mode = Premoderation::parse(&form.mode, form.count.as_deref()).map_err(AppError::BadRequest)?;
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
    let words = m::parse_word_list(&form.into_inner().words).map_err(AppError::BadRequest)?;
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
    service_moderation::set_role(&state, &admin.0.user, &name, role).await?;
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
    let created = service::create(&state, &admin.0.user, item).await?;
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
    let outcome = service::update(&state, &admin.0.user, &slug, item).await?;
    match outcome {
        Ok(()) => Ok(redirect(&format!("/articles/{slug}"))),
        Err(reason) => Ok(invalid(&reason)),
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    confirm: Option<String>,
}

/// Deletes an article with all its comments once confirmed (`confirm=yes`); without
/// that, answers the page that asks first, saying what would go.
pub async fn delete_article(
    state: web::Data<AppState>,
    admin: Admin,
    slug: web::Path<String>,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    if !super::moderation::confirmed(form.confirm.as_deref())? {
        crate::domain::permissions::may_administer(Some(&admin.0.user.actor()))?;
        let s = slug.clone();
        let (title, published, total) = state
            .db(move |conn| {
                let page = articles::find_by_slug(conn, &s)?.ok_or(AppError::NotFound)?;
                let total = crate::db::moderation::comment_total(conn, page.article.id)?;
                Ok((page.article.title, page.article.comment_count, total))
            })
            .await?;
        let page = crate::views::admin::confirm_delete_article(&admin.0.visitor, &slug, &title, published, total);
        return Ok(super::moderation::ask_first(page));
    }
    service::delete(&state, &admin.0.user, &slug).await?;
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
    let summary = service::import(&state, &admin.0.user, items)
        .await?
        .map_err(|e| AppError::BadRequest(format!("Nothing was imported: {e}.")))?;
    let notice = format!("imported-{}-{}-{}", summary.created, summary.updated, summary.unchanged);
    Ok(redirect(&format!("/admin/articles?notice={notice}")))
}
