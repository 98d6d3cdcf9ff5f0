//! HTTP: handlers, the route table, middleware and errors.

pub mod articles;
pub mod assets;
pub mod error;
pub mod health;
pub mod middleware;
pub mod routes;

use std::sync::Arc;

use actix_web::web;

pub use error::AppError;

use crate::config::Config;
use crate::db::{DbConn, DbPool};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub config: Arc<Config>,
}

impl AppState {
    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(|err| {
                tracing::warn!(%err, "no database connection");
                AppError::Unavailable
            })?;
            f(&mut conn)
        })
        .await?
    }
}
