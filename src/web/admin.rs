//! `/admin`: the administrators' dashboard, the site's settings (pre-moderation, the
//! word list), users and their roles, and articles (create, edit, delete, import).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use maud::Markup;
use serde::Deserialize;

use super::articles::parse_page_upto;
use super::{html, redirect, AppError, AppState};
use crate::auth::{Admin, Role};
use crate::db::moderation::{self as m, Premoderation};
use crate::db::{articles, outbox, PageRequest};
use crate::service::articles as service;
use crate::service::moderation as service_moderation;
use crate::views;
use crate::views::admin::{self as admin_view, ArticleForm, ArticlesPage};
use crate::views::forms::FieldErrors;
use crate::views::moderation as view;

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
    let origins = state.origins.list().join("\n");
    let embedding = views::embed::origins_section(&admin.0.visitor, &origins, None);
    Ok(view::settings(&admin.0.visitor, mode, &words, notice, embedding))
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

/// Articles a page of the administrators' list shows.
const ARTICLES_PER_PAGE: i64 = 50;
/// Pages of that list, at most (offset paging: past this, find an article by title).
pub const ARTICLE_PAGES: u32 = 1_000;
/// Characters of a title search.
const MAX_TITLE_QUERY: usize = 200;

#[derive(Deserialize)]
pub struct ArticlesQuery {
    q: Option<String>,
    page: Option<String>,
    notice: Option<String>,
}

/// GET /admin/articles?q=&page=: every article, newest first, a page at a time; `q`
/// keeps those whose title holds it.
pub async fn articles_page(
    state: web::Data<AppState>,
    admin: Admin,
    query: web::Query<ArticlesQuery>,
) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let page = parse_page_upto(query.page.as_deref(), ARTICLE_PAGES)?;
    let q = query.q.unwrap_or_default().trim().to_owned();
    if q.chars().count() > MAX_TITLE_QUERY {
        return Err(AppError::BadRequest(format!("A title search has at most {MAX_TITLE_QUERY} characters.")));
    }
    let notice = query.notice.and_then(|n| match n.split('-').collect::<Vec<_>>()[..] {
        ["deleted"] => Some("The article was deleted.".to_owned()),
        ["imported", created, updated, unchanged] => {
            Some(format!("Imported: {created} created, {updated} updated, {unchanged} unchanged."))
        }
        _ => None,
    });
    let request = PageRequest::new(page, ARTICLES_PER_PAGE);
    let needle = q.clone();
    let items = state
        .db(move |conn| {
            let title = Some(needle.as_str()).filter(|t| !t.is_empty());
            Ok(request.page(articles::admin_list(conn, title, request.offset(), request.limit())?))
        })
        .await?;
    let items = items.existing().ok_or(AppError::NotFound)?;
    let page = ArticlesPage {
        items: &items.items,
        query: &q,
        page: items.number,
        has_more: items.has_more,
        notice: notice.as_deref(),
        import_error: None,
    };
    Ok(html(StatusCode::OK, admin_view::articles(&admin.0.visitor, &page)))
}

pub async fn new_article(admin: Admin) -> Markup {
    admin_view::article_form(
        &admin.0.visitor,
        "New article",
        "/admin/articles",
        &ArticleForm::default(),
        &FieldErrors::default(),
        None,
    )
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

/// The article typed into the form, or every field's problem.
fn parse_article(f: &ArticleForm) -> Result<crate::import::NewArticle, FieldErrors> {
    crate::import::from_form(
        &f.title,
        &f.source_url,
        &f.source_name,
        &f.published_at,
        &f.summary,
        &f.takeaways,
        &f.tags,
    )
    .map_err(|problems| {
        let mut errors = FieldErrors::default();
        for p in problems {
            errors.add(p.field, p.in_form);
        }
        errors
    })
}

/// The form again, as typed, with what is wrong (422).
fn refused(
    admin: &Admin,
    heading: &str,
    action: &str,
    form: &ArticleForm,
    errors: &FieldErrors,
    error: Option<&str>,
) -> HttpResponse {
    let page = admin_view::article_form(&admin.0.visitor, heading, action, form, errors, error);
    html(StatusCode::UNPROCESSABLE_ENTITY, page)
}

/// A conflict with another article, in the form's words.
fn conflict(reason: &str) -> String {
    match reason.rsplit_once(": ") {
        Some((_, slug)) if reason.starts_with("an article with this title and source URL exists") => {
            format!("Another article has this title and source URL (/articles/{slug}): change one of them.")
        }
        _ => crate::text::sentence(reason),
    }
}

pub async fn create_article(
    state: web::Data<AppState>,
    admin: Admin,
    fields: web::Form<ArticleFields>,
) -> Result<HttpResponse, AppError> {
    let form = fields.into_inner().into_form();
    let (heading, action) = ("New article", "/admin/articles");
    let item = match parse_article(&form) {
        Ok(item) => item,
        Err(errors) => return Ok(refused(&admin, heading, action, &form, &errors, None)),
    };
    match service::create(&state, &admin.0.user, item).await? {
        Ok(slug) => Ok(redirect(&format!("/articles/{slug}"))),
        Err(reason) => Ok(refused(&admin, heading, action, &form, &FieldErrors::default(), Some(&conflict(&reason)))),
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
    let action = format!("/admin/articles/{slug}/edit");
    Ok(admin_view::article_form(&admin.0.visitor, "Edit article", &action, &form, &FieldErrors::default(), None))
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
    let heading = "Edit article";
    let item = match parse_article(&form) {
        Ok(item) => item,
        Err(errors) => return Ok(refused(&admin, heading, &action, &form, &errors, None)),
    };
    match service::update(&state, &admin.0.user, &slug, item).await? {
        Ok(()) => Ok(redirect(&format!("/articles/{slug}"))),
        Err(reason) => Ok(refused(&admin, heading, &action, &form, &FieldErrors::default(), Some(&conflict(&reason)))),
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
/// The file comes as the `file` field of a multipart form. A file refused is reported
/// on the articles page, beside the import form, with the name of the file sent (400).
pub async fn import_articles(
    state: web::Data<AppState>,
    admin: Admin,
    mut upload: actix_multipart::Multipart,
) -> Result<HttpResponse, AppError> {
    let file = read_upload(&mut upload, &[]).await?.file;
    let refused = |file: &str, error: &str| import_refused(&state, &admin, file.to_owned(), error.to_owned());
    let Some((name, bytes)) = file.filter(|(name, bytes)| !name.is_empty() || !bytes.is_empty()) else {
        return refused("", "choose a JSON file to import").await;
    };
    if let Some(c) = crate::text::forbidden_control(&name) {
        return Err(AppError::BadRequest(crate::text::control_message("file", c)));
    }
    let items = match crate::import::parse(&bytes) {
        Ok(items) => items,
        Err(e) => return refused(&name, &e.to_string()).await,
    };
    match service::import(&state, &admin.0.user, items).await? {
        Ok(summary) => {
            let notice = format!("imported-{}-{}-{}", summary.created, summary.updated, summary.unchanged);
            Ok(redirect(&format!("/admin/articles?notice={notice}")))
        }
        Err(e) => refused(&name, &e).await,
    }
}

/// An admin's multipart upload: the `file` field (its name, cut to 200 characters, and
/// its bytes) and the text fields asked for (each cut to 2,000 characters).
struct Upload {
    file: Option<(String, Vec<u8>)>,
    fields: std::collections::HashMap<String, String>,
}

/// Reads an upload of at most the upload limit in all (413 beyond it); other fields
/// than `file` and `text_fields` are read and dropped.
async fn read_upload(upload: &mut actix_multipart::Multipart, text_fields: &[&str]) -> Result<Upload, AppError> {
    use futures_util::TryStreamExt;
    let unreadable =
        |e: actix_multipart::MultipartError| AppError::BadRequest(format!("The upload could not be read: {e}."));
    let limit = super::security::UPLOAD_LIMIT;
    let mut read = Upload { file: None, fields: std::collections::HashMap::new() };
    let mut total = 0usize;
    while let Some(mut field) = upload.try_next().await.map_err(unreadable)? {
        let disposition = field.content_disposition();
        let name = disposition.and_then(|d| d.get_name()).unwrap_or("").to_owned();
        let filename = disposition.and_then(|d| d.get_filename()).unwrap_or("").chars().take(200).collect::<String>();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(unreadable)? {
            total += chunk.len();
            if total > limit {
                return Err(AppError::PayloadTooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "file" {
            read.file = Some((filename, bytes));
        } else if text_fields.contains(&name.as_str()) {
            read.fields.insert(name, String::from_utf8_lossy(&bytes).chars().take(2_000).collect());
        }
    }
    Ok(read)
}

/// The articles page with the import form's error: 400, nothing imported.
async fn import_refused(
    state: &AppState,
    admin: &Admin,
    file: String,
    error: String,
) -> Result<HttpResponse, AppError> {
    let request = PageRequest::new(1, ARTICLES_PER_PAGE);
    let items = state
        .db(move |conn| Ok(request.page(articles::admin_list(conn, None, request.offset(), request.limit())?)))
        .await?;
    let page = ArticlesPage {
        items: &items.items,
        query: "",
        page: 1,
        has_more: items.has_more,
        notice: None,
        import_error: Some((&error, &file)),
    };
    Ok(html(StatusCode::BAD_REQUEST, admin_view::articles(&admin.0.visitor, &page)))
}

/// GET /admin/comments/import: the form that imports another system's comments.
pub async fn comments_import_page(admin: Admin) -> Markup {
    admin_view::comments_import(&admin.0.visitor, &admin_view::CommentsImport::default())
}

/// POST /admin/comments/import: an uploaded export (at most the upload limit), with the
/// same rules as `afterword import-comments`. The summary, or why nothing was imported
/// (400, naming the file), shows on the same page with what was chosen.
pub async fn import_comments(
    state: web::Data<AppState>,
    admin: Admin,
    mut upload: actix_multipart::Multipart,
) -> Result<HttpResponse, AppError> {
    let Upload { file, fields } = read_upload(&mut upload, &["format", "site_url", "dry_run"]).await?;
    let format = fields.get("format").cloned().unwrap_or_default();
    let site_url = fields.get("site_url").cloned().unwrap_or_default();
    let dry_run = fields.contains_key("dry_run");
    let (name, bytes) = file.unwrap_or_default();
    if let Some(c) = crate::text::forbidden_control(&name).or_else(|| crate::text::forbidden_control(&site_url)) {
        return Err(AppError::BadRequest(crate::text::control_message("file", c)));
    }
    let mut form = admin_view::CommentsImport {
        format: &format,
        site_url: &site_url,
        dry_run,
        file: &name,
        error: None,
        summary: None,
    };
    let refuse = |form: &admin_view::CommentsImport| {
        html(StatusCode::BAD_REQUEST, admin_view::comments_import(&admin.0.visitor, form))
    };
    let parsed_format = format.parse::<crate::comment_import::Format>();
    let parsed_site = if site_url.trim().is_empty() { Ok(None) } else { url::Url::parse(site_url.trim()).map(Some) };
    let error = match (&parsed_format, &parsed_site) {
        _ if bytes.is_empty() => Some("choose a file to import".to_owned()),
        (Err(e), _) => Some(e.clone()),
        (_, Err(_)) => Some("the site's address is not a valid address (https://blog.example/)".to_owned()),
        _ => None,
    };
    if let Some(error) = error {
        form.error = Some(error);
        return Ok(refuse(&form));
    }
    let options = crate::service::imports::Options {
        format: parsed_format.expect("checked"),
        site_url: parsed_site.expect("checked"),
        dry_run,
    };
    match crate::service::imports::import_upload(&state, bytes, options).await? {
        Ok(summary) => {
            form.summary = Some(summary.lines());
            Ok(html(StatusCode::OK, admin_view::comments_import(&admin.0.visitor, &form)))
        }
        Err(error) => {
            form.error = Some(error);
            Ok(refuse(&form))
        }
    }
}
