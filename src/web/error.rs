//! The one error type of the web layer and how it becomes a response.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

use crate::views;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input that cannot be used; the message says why and is shown to the user.
    #[error("{0}")]
    BadRequest(String),
    #[error("page not found")]
    NotFound,
    /// The database cannot be reached.
    #[error("the service is unavailable")]
    Unavailable,
    /// A bug. The message is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => AppError::Unavailable,
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        AppError::Internal(err.to_string())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            AppError::BadRequest(reason) => reason.clone(),
            AppError::NotFound => "There is nothing at this address.".to_owned(),
            AppError::Unavailable => {
                "The site cannot reach its database right now. Please try again shortly.".to_owned()
            }
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "Something went wrong on our side. It has been logged.".to_owned()
            }
        };
        let mut response = HttpResponse::build(status);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, "5"));
        }
        response
            .content_type("text/html; charset=utf-8")
            .body(views::error::page(status, &message).into_string())
    }
}
