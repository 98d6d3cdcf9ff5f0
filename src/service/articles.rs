//! Articles, by administrators: create, edit, delete and import (all or nothing), each
//! logged in the public moderation log in the same transaction.

use crate::auth::AuthUser;
use crate::db::articles::{self, ImportSummary, UpsertError};
use crate::db::moderation::{self as m, LogTarget};
use crate::db::{saved, users};
use crate::domain::ModAction;
use crate::import::NewArticle;
use crate::web::{AppError, AppState};

/// Why an article (or an import) was refused, to show beside the form; other failures
/// are `AppError`s.
pub type Refused = String;

/// Creates `item`; returns its slug.
pub async fn create(state: &AppState, admin: &AuthUser, item: NewArticle) -> Result<Result<String, Refused>, AppError> {
    crate::domain::permissions::may_administer(Some(&admin.actor()))?;
    let admin = super::acting(admin);
    state
        .db_tx(move |conn| match articles::create(conn, &item) {
            Ok((id, slug)) => {
                m::log_article(conn, &admin, ModAction::CreateArticle, LogTarget::Article(id), &item.title)?;
                Ok(Ok(slug))
            }
            Err(UpsertError::Conflict { reason, .. }) => Ok(Err(reason)),
            Err(UpsertError::Db(e)) => Err(e.into()),
        })
        .await
}

/// Replaces the article `slug` with `item`.
pub async fn update(
    state: &AppState,
    admin: &AuthUser,
    slug: &str,
    item: NewArticle,
) -> Result<Result<(), Refused>, AppError> {
    crate::domain::permissions::may_administer(Some(&admin.actor()))?;
    let (admin, slug) = (super::acting(admin), slug.to_owned());
    state
        .db_tx(move |conn| {
            let (id, _, _) = articles::find_basic(conn, &slug)?.ok_or(AppError::NotFound)?;
            match articles::update(conn, id, &item) {
                Ok(()) => {
                    m::log_article(conn, &admin, ModAction::EditArticle, LogTarget::Article(id), &item.title)?;
                    Ok(Ok(()))
                }
                Err(UpsertError::Conflict { reason, .. }) => Ok(Err(reason)),
                Err(UpsertError::Db(e)) => Err(e.into()),
            }
        })
        .await
}

/// Deletes the article `slug` with all its comments.
pub async fn delete(state: &AppState, admin: &AuthUser, slug: &str) -> Result<(), AppError> {
    crate::domain::permissions::may_administer(Some(&admin.actor()))?;
    let (admin, slug) = (super::acting(admin), slug.to_owned());
    state
        .db_tx(move |conn| {
            let (id, title, _) = articles::find_basic(conn, &slug)?.ok_or(AppError::NotFound)?;
            articles::delete(conn, id)?;
            Ok(m::log_article(conn, &admin, ModAction::DeleteArticle, LogTarget::Article(id), &title)?)
        })
        .await
}

/// Articles one import from the site (the upload form, the API) may hold, at most: one
/// transaction of bounded size. Larger sets go through `afterword import-articles`.
pub const MAX_IMPORT: usize = 1_000;

/// Imports `items`, all or nothing, with the same rules as `afterword import-articles`,
/// at most [`MAX_IMPORT`] of them.
pub async fn import(
    state: &AppState,
    admin: &AuthUser,
    items: Vec<NewArticle>,
) -> Result<Result<ImportSummary, Refused>, AppError> {
    crate::domain::permissions::may_administer(Some(&admin.actor()))?;
    if items.len() > MAX_IMPORT {
        return Ok(Err(format!(
            "{} articles: an import from the site holds at most {MAX_IMPORT}; import more with the command \
             `afterword import-articles FILE` on the server",
            items.len()
        )));
    }
    let admin = super::acting(admin);
    state
        .db_tx(move |conn| match articles::upsert_all(conn, &items, &mut |_| {}) {
            Ok(summary) => {
                m::log_article(conn, &admin, ModAction::ImportArticles, LogTarget::Articles, &summary.log_label())?;
                Ok(Ok(summary))
            }
            Err(UpsertError::Conflict { index, reason }) => Ok(Err(format!("record at index {index}: {reason}"))),
            Err(UpsertError::Db(e)) => Err(e.into()),
        })
        .await
}

/// Saves (`keep`) or unsaves the article `slug` for `reader`; both idempotent. Nothing
/// any cached page shows changes unless the reader's profile lists their saved articles.
pub async fn set_saved(state: &AppState, reader: &AuthUser, slug: &str, keep: bool) -> Result<(), AppError> {
    let (user_id, slug) = (reader.id, slug.to_owned());
    let public = state
        .db(move |conn| {
            let (article_id, _, _) = articles::find_basic(conn, &slug)?.ok_or(AppError::NotFound)?;
            if keep {
                saved::save(conn, user_id, article_id)?;
            } else {
                saved::unsave(conn, user_id, article_id)?;
            }
            Ok(users::shows_saved(conn, user_id)?)
        })
        .await?;
    if !public {
        // A profile that lists its saved articles changes: then every page counts as
        // touched.
        crate::web::cache::touches_nothing();
    }
    Ok(())
}
