//! The embedded comments' one rule of their own: a page of an allowed site that has no
//! article yet gets one with its first comment, made the way administrators make
//! articles (the same validation, the same database function, logged in the moderation
//! log), once, however many first comments arrive together.

use crate::auth::AuthUser;
use crate::db::articles::{self, UpsertError};
use crate::db::embed;
use crate::db::moderation::{self as m, LogTarget};
use crate::domain::ModAction;
use crate::import::NewArticle;
use crate::web::{AppError, AppState};

/// The article of the page at `item.source_url` (normalised, of an allowed origin:
/// the caller checked), made from `item` when there is none yet: its slug and whether
/// its comments are closed. `author` must be able to comment at all (not banned …).
pub async fn article_for_page(
    state: &AppState,
    author: &AuthUser,
    item: NewArticle,
) -> Result<(String, bool), AppError> {
    super::comments::may_post(state, author, false)?;
    let by = super::acting(author);
    let made = state
        .db_tx(move |conn| {
            embed::lock_url(conn, &item.source_url)?;
            if let Some((_, slug, locked, _)) = embed::article_by_url(conn, &item.source_url)? {
                return Ok(((slug, locked), None));
            }
            match articles::create(conn, &item) {
                Ok((id, slug)) => {
                    m::log_article(conn, &by, ModAction::CreateArticle, LogTarget::Article(id), &item.title)?;
                    Ok(((slug, false), Some(id)))
                }
                Err(UpsertError::Conflict { reason, .. }) => Err(AppError::Conflict(crate::text::sentence(&reason))),
                Err(UpsertError::Db(e)) => Err(e.into()),
            }
        })
        .await?;
    if made.1.is_some() {
        state.cache.touch_everything();
    }
    Ok(made.0)
}
