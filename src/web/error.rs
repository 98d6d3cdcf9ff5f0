//! The one error type of the web layer and how it becomes a response.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError};

use crate::auth::Visitor;

use crate::db::comments::CommentError;
use crate::domain::Denied;
use crate::views;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that cannot be used; the message says why and is shown to the user.
    #[error("{0}")]
    BadRequest(String),
    #[error("page not found")]
    NotFound,
    /// An API request with credentials that are not valid (an unknown, revoked or
    /// expired token); the message says why.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Signed in, but not allowed; the message says why.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A state-changing request without a valid CSRF token or from another site.
    #[error("cross-site request refused: {0}")]
    Csrf(&'static str),
    /// Needs a signed-in user: go to the login page, then come back to `next`.
    #[error("login required")]
    LoginRequired { next: String },
    #[error("too many requests")]
    TooManyRequests { retry_after: std::time::Duration },
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The database cannot be reached.
    #[error("the service is unavailable")]
    Unavailable,
    /// The database's storage is full: nothing new can be stored until space is freed.
    #[error("the database's storage is full")]
    StorageFull,
    /// Too many password hashes are running; try again shortly.
    #[error("busy hashing passwords")]
    Busy,
    /// The request is well formed, but what it names is not in a state it applies to
    /// (already pinned, not held, not banned …): a page answers 400 with the reason, a
    /// program 409 (`conflict`), as for any other state of the resource.
    #[error("not applicable: {0}")]
    NotApplicable(String),
    /// The request lost a race with another one (a duplicate that appeared meanwhile);
    /// the message says what, and is shown to the user.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A bug. The error and its causes are logged with the request id, never shown.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl AppError {
    /// The same error again, for each of several requests that one failure answers
    /// (a bug's cause stays with the first, in the log; the others say the same).
    pub fn again(&self) -> AppError {
        match self {
            AppError::BadRequest(m) => AppError::BadRequest(m.clone()),
            AppError::NotFound => AppError::NotFound,
            AppError::Unauthorized(m) => AppError::Unauthorized(m.clone()),
            AppError::Forbidden(m) => AppError::Forbidden(m.clone()),
            AppError::Csrf(m) => AppError::Csrf(m),
            AppError::LoginRequired { next } => AppError::LoginRequired { next: next.clone() },
            AppError::TooManyRequests { retry_after } => AppError::TooManyRequests { retry_after: *retry_after },
            AppError::PayloadTooLarge { limit } => AppError::PayloadTooLarge { limit: *limit },
            AppError::Unavailable => AppError::Unavailable,
            AppError::StorageFull => AppError::StorageFull,
            AppError::Busy => AppError::Busy,
            AppError::NotApplicable(m) => AppError::NotApplicable(m.clone()),
            AppError::Conflict(m) => AppError::Conflict(m.clone()),
            AppError::Internal(err) => AppError::Internal(anyhow::anyhow!("{err:#}")),
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(_, ref info) if crate::db::storage::is_full_error(info.message()) => {
                crate::db::storage::report_full(info.message());
                AppError::StorageFull
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _) => {
                AppError::Unavailable
            }
            // SQLite still busy after its busy timeout: overloaded, not broken.
            Error::DatabaseError(_, ref info) if info.message().contains("database is locked") => {
                tracing::warn!("SQLite stayed locked past the busy timeout");
                AppError::Unavailable
            }
            // PostgreSQL gave up on a statement (statement or lock timeout): the database
            // is too slow or a lock is held too long, not a bug.
            Error::DatabaseError(_, ref info)
                if info.message().contains("statement timeout") || info.message().contains("lock timeout") =>
            {
                tracing::warn!(message = info.message(), "PostgreSQL statement timed out");
                AppError::Unavailable
            }
            // Two transactions waited on each other, or one could not be serialised:
            // the transaction was already retried once; try again shortly.
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, ref info) => {
                tracing::warn!(message = info.message(), "serialization failure");
                AppError::Unavailable
            }
            Error::DatabaseError(_, ref info) if info.message().contains("deadlock detected") => {
                tracing::warn!(message = info.message(), "deadlock");
                AppError::Unavailable
            }
            // A row referred to went away meanwhile (a comment deleted while it was
            // reported or voted on): it is missing, not a fault.
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, ref info) => {
                tracing::info!(message = info.message(), "refers to a row that no longer exists");
                AppError::NotFound
            }
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, ref info) => {
                tracing::info!(message = info.message(), "duplicate refused");
                AppError::Conflict(
                    "This was already done (perhaps by a request sent twice). Reload the page.".to_owned(),
                )
            }
            other => AppError::Internal(anyhow::Error::new(other).context("database query failed")),
        }
    }
}

impl From<CommentError> for AppError {
    fn from(err: CommentError) -> Self {
        match err {
            CommentError::Missing => AppError::NotFound,
            CommentError::TooMany { retry_after } => AppError::TooManyRequests { retry_after },
            CommentError::Db(e) => e.into(),
            CommentError::Denied(denied) => denied.into(),
            CommentError::ParentElsewhere | CommentError::TooDeep => AppError::BadRequest(capitalise(&err.to_string())),
            CommentError::BadQuote(why) => AppError::BadRequest(why),
            CommentError::ParentDeleted | CommentError::NothingToDo(_) => {
                AppError::NotApplicable(capitalise(&err.to_string()))
            }
        }
    }
}

impl From<Denied> for AppError {
    fn from(denied: Denied) -> Self {
        let message = capitalise(&denied.to_string());
        match denied {
            Denied::RemovedByModerator => AppError::Conflict(message),
            Denied::NotVisible | Denied::BanSelf => AppError::NotApplicable(message),
            _ => AppError::Forbidden(message),
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>() + ".").unwrap_or_default()
}

impl From<crate::auth::password::Busy> for AppError {
    fn from(_: crate::auth::password::Busy) -> Self {
        AppError::Busy
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::Error::new(err).context("the blocking task did not finish"))
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) | AppError::NotApplicable(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Csrf(_) => StatusCode::FORBIDDEN,
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable | AppError::StorageFull | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::LoginRequired { next } = self {
            let location =
                format!("/login?next={}", url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>());
            return HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish();
        }
        self.page(None)
    }
}

/// Error pages with the site header as the visitor sees it. `error_response` knows no
/// request, so it renders the header of a visitor nobody knows; this middleware, inside
/// the security middleware (which has resolved the visitor from the session, when the
/// request came with one, without any further query), renders the page of a handler's
/// error again for the visitor who asked. Programs that asked for JSON keep their
/// answer (`middleware::json_errors` replaces the body anyway), and so do redirects to
/// the login form.
pub async fn pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let visitor = if super::wants_json(req.request()) { None } else { req.extensions().get::<Visitor>().cloned() };
    let response = next.call(req).await?.map_into_boxed_body();
    let Some(visitor) = visitor else { return Ok(response) };
    let page = match response.response().error().and_then(|e| e.as_error::<AppError>()) {
        Some(AppError::LoginRequired { .. }) | None => return Ok(response),
        Some(error) => error.page_markup(Some(&visitor)),
    };
    Ok(response.map_body(|head, _| {
        head.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/html; charset=utf-8"));
        BoxBody::new(page.into_string())
    }))
}

/// The answer to `error` with its page as `visitor` sees it, the error kept with it (for
/// the log and for the JSON answer to programs): for refusals made before a handler runs.
pub fn response_for(error: AppError, visitor: &Visitor) -> HttpResponse {
    let page = match &error {
        AppError::LoginRequired { .. } => None,
        other => Some(other.page_markup(Some(visitor)).into_string()),
    };
    let response = HttpResponse::from_error(error);
    match page {
        Some(page) => response.set_body(BoxBody::new(page)),
        None => response,
    }
}

impl AppError {
    /// The HTML page of this error, with the site header as `visitor` sees it.
    fn page_markup(&self, visitor: Option<&Visitor>) -> maud::Markup {
        views::error::page(visitor, self.status_code(), &self.message())
    }

    /// The HTML answer: this error's status and headers, and its page as `visitor` sees it.
    pub fn page(&self, visitor: Option<&Visitor>) -> HttpResponse {
        self.refusal(self.page_markup(visitor))
    }

    /// The answer to a form this error refused: its status and headers (`Retry-After` …)
    /// with `page`, the form again with what the reader typed and the reason.
    pub fn refusal(&self, page: maud::Markup) -> HttpResponse {
        self.response_head(self.status_code()).content_type("text/html; charset=utf-8").body(page.into_string())
    }

    /// A stable name of the kind of error, for programs (`{"code": …}`).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::NotFound => "not_found",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::Csrf(_) => "csrf_failed",
            AppError::LoginRequired { .. } => "login_required",
            AppError::TooManyRequests { .. } => "too_many_requests",
            AppError::PayloadTooLarge { .. } => "payload_too_large",
            AppError::Unavailable => "unavailable",
            AppError::StorageFull => "storage_full",
            AppError::Busy => "busy",
            AppError::Conflict(_) | AppError::NotApplicable(_) => "conflict",
            AppError::Internal(_) => "internal",
        }
    }

    /// What the reader is told: the reason for their own mistakes, a plain sentence for
    /// the site's troubles, never internals.
    pub fn message(&self) -> String {
        match self {
            AppError::BadRequest(reason)
            | AppError::Unauthorized(reason)
            | AppError::Forbidden(reason)
            | AppError::Conflict(reason)
            | AppError::NotApplicable(reason) => reason.clone(),
            AppError::NotFound => "There is nothing at this address.".to_owned(),
            AppError::Csrf(why) => {
                format!("This form could not be accepted: {why}. Go back, reload the page and try again.")
            }
            AppError::LoginRequired { .. } => "You need to log in first.".to_owned(),
            AppError::TooManyRequests { retry_after } => {
                format!(
                    "Too many requests. Please wait {} and try again.",
                    crate::text::plural(retry_after.as_secs().max(1) as i64, "second", "seconds")
                )
            }
            AppError::PayloadTooLarge { limit } if *limit == super::security::UPLOAD_LIMIT => format!(
                "The file is too large: the import form takes at most {} MiB. Import bigger files on the server \
                 with the command `afterword import-articles FILE`.",
                limit / (1024 * 1024)
            ),
            AppError::PayloadTooLarge { limit } => {
                format!("The request is too large: at most {} KiB are accepted.", limit / 1024)
            }
            AppError::Unavailable => {
                "The site cannot reach its database right now. Please try again shortly.".to_owned()
            }
            AppError::StorageFull => "The site cannot store new comments or changes right now: its storage is full. \
                 Reading works as usual; please try again later."
                .to_owned(),
            AppError::Busy => "The site is busy; try again in a few seconds.".to_owned(),
            // Logged with its causes and the request id by the access log
            // (`middleware::AccessLog`), where the request is known.
            AppError::Internal(_) => "Something went wrong on our side. It has been logged.".to_owned(),
        }
    }

    /// The answer for a program (`Accept: application/json`): the same status and
    /// headers, and `{"code": …, "message": …}`. A login is asked for with 401, not a
    /// redirect to the login page.
    pub fn json_response(&self) -> HttpResponse {
        let status = match self {
            AppError::LoginRequired { .. } => StatusCode::UNAUTHORIZED,
            AppError::NotApplicable(_) => StatusCode::CONFLICT,
            _ => self.status_code(),
        };
        self.response_head(status).json(serde_json::json!({ "code": self.code(), "message": self.message() }))
    }

    fn response_head(&self, status: StatusCode) -> actix_web::HttpResponseBuilder {
        let mut response = HttpResponse::build(status);
        match self {
            AppError::Unavailable | AppError::Busy => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            AppError::StorageFull => {
                response.insert_header((header::RETRY_AFTER, "60"));
            }
            AppError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            AppError::TooManyRequests { retry_after } => {
                // Whole seconds, rounded up.
                let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                response.insert_header((header::RETRY_AFTER, secs.max(1).to_string()));
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    fn db_error(kind: DatabaseErrorKind, message: &str) -> AppError {
        Error::DatabaseError(kind, Box::new(message.to_owned())).into()
    }

    #[test]
    fn races_between_transactions_are_not_internal_errors() {
        let deadlock = db_error(DatabaseErrorKind::Unknown, "deadlock detected");
        assert_eq!(deadlock.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(deadlock.error_response().headers().contains_key(header::RETRY_AFTER));
        let serialization = db_error(DatabaseErrorKind::SerializationFailure, "could not serialize access");
        assert_eq!(serialization.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(serialization.error_response().headers().contains_key(header::RETRY_AFTER));
        let gone = db_error(DatabaseErrorKind::ForeignKeyViolation, "violates foreign key constraint");
        assert_eq!(gone.status_code(), StatusCode::NOT_FOUND);
        let twice = db_error(DatabaseErrorKind::UniqueViolation, "duplicate key value");
        assert_eq!(twice.status_code(), StatusCode::CONFLICT);
        assert!(matches!(twice, AppError::Conflict(ref m) if !m.is_empty()));
        assert_eq!(
            db_error(DatabaseErrorKind::Unknown, "syntax error").status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
