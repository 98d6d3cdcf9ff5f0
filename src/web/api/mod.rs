//! The JSON API, `/api/v1`: the same services as the pages, answered as JSON, and its
//! OpenAPI 3.1 document (`/api/openapi.json`), generated from these handlers.
//!
//! # Conventions
//!
//! - Who: the browser session (state-changing requests carry the CSRF token in the
//!   `X-CSRF-Token` header), or a personal API token as `Authorization: Bearer`, limited
//!   to its scopes ([`require`]). The security middleware resolves either.
//! - Errors: the status, and `{"code": …, "message": …}` ([`ErrorBody`]); `code` is
//!   stable, `message` is for people.
//! - Reads carry a weak `ETag`; `If-None-Match` with it is answered 304 ([`read`]).
//! - Creating answers 201 with `Location` ([`created`]).

pub mod admin;
pub mod articles;
pub mod comments;
pub mod docs;
pub mod embed;
pub mod model;
pub mod moderation;
pub mod reads;
pub mod schemas;
pub mod threads;
pub mod writes;

use std::hash::{Hash, Hasher};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::AppError;
use crate::auth::tokens::Scopes;
use crate::auth::AuthUser;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Afterword API",
        version = "1",
        description = "Articles, their threads of comments, and everything readers, moderators and \
                       administrators do with them. Authenticate with a personal API token \
                       (`Authorization: Bearer`, made in Settings) or, from the site's own pages, \
                       the session cookie with the CSRF token in `X-CSRF-Token`."
    ),
    paths(
        articles::one,
        comments::post,
        threads::article_thread,
        threads::replies,
        reads::list,
        reads::by_url,
        reads::comment,
        reads::profile,
        reads::user_comments,
        reads::search,
        reads::counts,
        reads::me,
        writes::edit,
        writes::delete,
        writes::vote,
        writes::report,
        writes::save,
        writes::unsave,
        writes::saved_list,
        moderation::remove,
        moderation::restore,
        moderation::approve,
        moderation::reject,
        moderation::pin,
        moderation::unpin,
        moderation::distinguish,
        moderation::lock,
        moderation::unlock,
        moderation::ban,
        moderation::unban,
        moderation::set_role,
        moderation::reports,
        moderation::dismiss,
        admin::create,
        admin::update,
        admin::delete,
        admin::import,
        embed::post,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security),
    tags(
        (name = "articles", description = "Articles and their comment counts"),
        (name = "comments", description = "Threads, comments, replies and votes"),
        (name = "users", description = "Readers' profiles and comments, and the caller"),
        (name = "moderation", description = "Moderators' and administrators' actions, each in the public moderation log"),
    )
)]
pub struct ApiDoc;

/// The security schemes: a bearer token, or the session cookie.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token, made in Settings: `aw_…`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "afterword_session",
                "The site's own pages: the session cookie, with the CSRF token in `X-CSRF-Token` on writes",
            ))),
        );
    }
}

/// What every refusal answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable: `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `too_many_requests`, `payload_too_large`, `csrf_failed`, `unavailable` …
    pub code: String,
    /// Why, in words for people.
    pub message: String,
}

/// GET /api/openapi.json
pub async fn openapi_json() -> HttpResponse {
    thread_local! {
        static DOCUMENT: String = ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises");
    }
    let body = DOCUMENT.with(Clone::clone);
    HttpResponse::Ok().content_type("application/json").body(body)
}

/// 403 unless the request may use `scope`: a session may use all of them, a token
/// only its own.
pub fn require(user: &AuthUser, scope: fn(Scopes) -> bool, name: &str) -> Result<(), AppError> {
    if scope(user.scopes()) {
        return Ok(());
    }
    Err(AppError::Forbidden(format!("This API token does not have the {name} scope.")))
}

/// Scope tests for [`require`].
pub fn read(s: Scopes) -> bool {
    s.read
}
pub fn write(s: Scopes) -> bool {
    s.write
}
pub fn moderate(s: Scopes) -> bool {
    s.moderate
}

/// 200 with `value` as JSON and a weak ETag of it; 304 when the client already has it.
pub fn ok<T: Serialize>(req: &HttpRequest, value: &T) -> Result<HttpResponse, AppError> {
    let body = serde_json::to_vec(value).map_err(|e| AppError::Internal(e.into()))?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    let etag = format!("W/\"{:016x}\"", hasher.finish());
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response.insert_header((header::ETAG, etag)).insert_header((header::CACHE_CONTROL, "no-cache"));
    if matches {
        return Ok(response.finish());
    }
    Ok(response.content_type("application/json").body(body))
}

/// 201 with `Location` and `value` as JSON.
pub fn created<T: Serialize>(location: &str, value: &T) -> HttpResponse {
    HttpResponse::Created().insert_header((header::LOCATION, location.to_owned())).json(value)
}
