//! Administration.

use actix_web::web;
use maud::Markup;

use super::{AppError, AppState};
use crate::auth::Admin;
use crate::db::outbox;
use crate::views;

pub async fn outbox(state: web::Data<AppState>, admin: Admin) -> Result<Markup, AppError> {
    let messages = state.db(|conn| Ok(outbox::list(conn, 0, 100)?)).await?;
    Ok(views::admin::outbox(&admin.0.visitor, &messages))
}
