//! HTTP: handlers, the route table, middleware and errors.

pub mod accounts;
pub mod admin;
pub mod articles;
pub mod assets;
pub mod comments;
pub mod connection;
pub mod error;
pub mod health;
pub mod middleware;
pub mod moderation;
pub mod profiles;
pub mod routes;
pub mod security;
pub mod settings;

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use maud::Markup;

pub use error::AppError;

use crate::auth::csrf::CsrfKey;
use crate::auth::ratelimit::Limits;
use crate::config::Config;
use crate::db::{DbConn, DbPool};
use crate::mail::Mailer;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub config: Arc<Config>,
    pub csrf: CsrfKey,
    pub limits: Arc<Limits>,
    pub mailer: Arc<Mailer>,
    /// New comments, for readers watching an article live.
    pub events: tokio::sync::broadcast::Sender<LiveComment>,
    /// Becomes true when the server begins to shut down: open event streams end.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// A comment was posted: what a live article page needs to fetch it.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct LiveComment {
    #[serde(skip)]
    pub article_id: i64,
    pub id: i64,
    pub parent_id: Option<i64>,
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

impl AppState {
    /// Like `db`, with `f` in one write transaction: all of it or none.
    pub async fn db_tx<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        self.db(move |conn| crate::db::write_transaction(conn, f)).await
    }

    /// Sends an email: into the outbox table when no SMTP server is configured, else
    /// through SMTP in the background, so that a slow mail server holds up neither the
    /// request nor a database connection.
    pub async fn send_mail(&self, to: String, subject: String, body: String) -> Result<(), AppError> {
        match &*self.mailer {
            Mailer::Outbox => {
                tracing::info!(%to, %subject, "email kept in the outbox (no SMTP_URL)");
                self.db(move |conn| Ok(crate::db::outbox::push(conn, &to, &subject, &body)?)).await
            }
            Mailer::Smtp { .. } => {
                let mailer = self.mailer.clone();
                tokio::task::spawn_blocking(move || mailer.send_smtp(&to, &subject, &body));
                Ok(())
            }
        }
    }
}

/// An HTML page with a status.
pub fn html(status: StatusCode, page: Markup) -> HttpResponse {
    HttpResponse::build(status).content_type("text/html; charset=utf-8").body(page.into_string())
}

/// Whether a script asked for JSON (`Accept: application/json`) rather than a page.
pub fn wants_json(req: &actix_web::HttpRequest) -> bool {
    req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/json"))
}

/// 303 See Other: where a form post goes next.
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_owned())).finish()
}
