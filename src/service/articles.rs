//! Articles, by administrators: create, edit, delete and import (all or nothing), each
//! logged in the public moderation log in the same transaction.

use crate::auth::AuthUser;
use crate::db::articles::{self, ImportSummary, UpsertError};
use crate::db::moderation::{self as m, LogTarget};
use crate::domain::ModAction;
use crate::import::NewArticle;
use crate::web::{AppError, AppState};

/// Why an article (or an import) was refused, to show beside the form; other failures
/// are `AppError`s.
pub type Refused = String;

/// Creates `item`; returns its slug.
pub async fn create(state: &AppState, admin: &AuthUser, item: NewArticle) -> Result<Result<String, Refused>, AppError> {
    crate::domain::permissions::may_administer(Some(&admin.actor()))?;
    let admin = admin.id;
    state
        .db_tx(move |conn| match articles::create(conn, &item) {
            Ok((id, slug)) => {
                m::log_article(conn, admin, ModAction::CreateArticle, LogTarget::Article(id), &item.title)?;
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
    let (admin, slug) = (admin.id, slug.to_owned());
    state
        .db_tx(move |conn| {
            let (id, _, _) = articles::find_basic(conn, &slug)?.ok_or(AppError::NotFound)?;
            match articles::update(conn, id, &item) {
                Ok(()) => {
                    m::log_article(conn, admin, ModAction::EditArticle, LogTarget::Article(id), &item.title)?;
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
    let (admin, slug) = (admin.id, slug.to_owned());
    state
        .db_tx(move |conn| {
            let (id, title, _) = articles::find_basic(conn, &slug)?.ok_or(AppError::NotFound)?;
            articles::delete(conn, id)?;
            Ok(m::log_article(conn, admin, ModAction::DeleteArticle, LogTarget::Article(id), &title)?)
        })
        .await
}

/// Imports `items`, all or nothing, with the same rules as `afterword import-articles`.
pub async fn import(
    state: &AppState,
    admin: &AuthUser,
    items: Vec<NewArticle>,
) -> Result<Result<ImportSummary, Refused>, AppError> {
    crate::domain::permissions::may_administer(Some(&admin.actor()))?;
    let admin = admin.id;
    state
        .db_tx(move |conn| match articles::upsert_all(conn, &items, &mut |_| {}) {
            Ok(summary) => {
                m::log_article(conn, admin, ModAction::ImportArticles, LogTarget::Articles, &summary.log_label())?;
                Ok(Ok(summary))
            }
            Err(UpsertError::Conflict { index, reason }) => Ok(Err(format!("record at index {index}: {reason}"))),
            Err(UpsertError::Db(e)) => Err(e.into()),
        })
        .await
}
