//! The route table. Every route is declared here once; `ROUTES` lists them so that
//! tests can check every state-changing route (CSRF, permissions) automatically.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};

use super::{
    accounts, admin, api, articles, assets, comments, digests, embed, feeds, health, moderation, profiles, reports,
    search, settings, AppError,
};

/// One route of the table.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

macro_rules! routes {
    ($( $path:literal => { $( $method:ident $handler:path ),+ $(,)? } ),* $(,)?) => {
        fn register(cfg: &mut web::ServiceConfig) {
            // Each resource is named by its pattern: the metrics' route label.
            $( cfg.service(
                web::resource($path).name($path)
                    $( .route(web::route().guard(MethodOrHead(Method::$method)).to($handler)) )+
                    .default_service(web::to(|req: HttpRequest| method_not_allowed(req, &[ $( stringify!($method) ),+ ])))
            ); )*
        }

        /// Every route: method and path pattern.
        pub const ROUTES: &[Route] = &[ $( $( Route { method: stringify!($method), path: $path }, )+ )* ];
    };
}

/// Matches requests of one method; a GET route answers HEAD too (without a body).
struct MethodOrHead(Method);

impl actix_web::guard::Guard for MethodOrHead {
    fn check(&self, ctx: &actix_web::guard::GuardContext<'_>) -> bool {
        let method = &ctx.head().method;
        *method == self.0 || (self.0 == Method::GET && *method == Method::HEAD)
    }
}

routes! {
    "/" => { GET articles::front_page },
    "/articles/{slug}" => { GET articles::show },
    "/articles/{slug}/comments" => { POST comments::post },
    "/articles/{slug}/events" => { GET comments::events },
    "/comments/{id}" => { GET comments::permalink },
    "/comments/{id}/fragment" => { GET comments::fragment },
    "/comments/{id}/replies" => { GET comments::replies },
    "/comments/{id}/reply" => { GET comments::reply_form },
    "/comments/{id}/edit" => { GET comments::edit_form, POST comments::edit },
    "/comments/{id}/delete" => { POST comments::delete },
    "/comments/{id}/vote" => { POST comments::vote },
    "/inbox" => { GET comments::inbox },
    "/inbox/read" => { POST comments::mark_read },
    "/settings/notifications" => { POST settings::notification_settings },
    "/settings/profile" => { POST settings::update_profile },
    "/settings/digest" => { POST settings::digest_setting },
    "/digest/unsubscribe/{token}" => { GET digests::confirm, POST digests::unsubscribe },
    "/articles/{slug}/save" => { POST profiles::save },
    "/articles/{slug}/comments.atom" => { GET feeds::article_comments_feed },
    "/saved" => { GET profiles::saved_list },
    "/users/{username}" => { GET profiles::profile },
    "/users/{username}/comments.atom" => { GET feeds::user_comments_feed },
    "/search" => { GET search::search },
    "/feed.atom" => { GET feeds::articles_feed },
    "/healthz" => { GET health::healthz },
    "/readyz" => { GET health::readyz },
    "/static/{file}" => { GET assets::serve },
    "/signup" => { GET accounts::signup_form, POST accounts::signup },
    "/login" => { GET accounts::login_form, POST accounts::login },
    "/logout" => { POST accounts::logout },
    "/password-reset" => { GET accounts::reset_request_form, POST accounts::reset_request },
    "/password-reset/{token}" => { GET accounts::reset_form, POST accounts::reset },
    "/verify-email/{token}" => { GET accounts::verify_form, POST accounts::verify },
    "/settings" => { GET settings::show },
    "/settings/email" => { POST settings::change_email },
    "/settings/password" => { POST settings::change_password },
    "/settings/sessions" => { POST settings::end_other_sessions },
    "/settings/verify-email" => { POST settings::resend_verification },
    "/settings/claim-comments" => { POST settings::claim_comments },
    "/claim-comments/{token}" => { GET accounts::claim_form, POST accounts::claim },
    "/settings/delete" => { POST settings::delete_account },
    "/settings/tokens" => { POST settings::create_token },
    "/settings/tokens/{id}/revoke" => { POST settings::revoke_token },
    "/settings/export" => { GET settings::export },
    "/account-deleted" => { GET settings::deleted },
    "/comments/{id}/report" => { GET reports::report_form, POST reports::report },
    "/modlog" => { GET moderation::modlog },
    "/mod/reports" => { GET reports::reports },
    "/mod/reports/{id}/dismiss" => { POST reports::dismiss },
    "/mod/queue" => { GET moderation::queue },
    "/mod/comments/{id}" => { GET moderation::comment_page },
    "/mod/comments/{id}/remove" => { POST moderation::remove },
    "/mod/comments/{id}/restore" => { POST moderation::restore },
    "/mod/comments/{id}/approve" => { POST moderation::approve },
    "/mod/comments/{id}/reject" => { POST moderation::reject },
    "/mod/comments/{id}/pin" => { POST moderation::pin },
    "/mod/comments/{id}/unpin" => { POST moderation::unpin },
    "/mod/comments/{id}/distinguish" => { POST moderation::distinguish },
    "/mod/articles/{slug}" => { GET moderation::article_page },
    "/mod/articles/{slug}/lock" => { POST moderation::lock },
    "/mod/articles/{slug}/unlock" => { POST moderation::unlock },
    "/mod/users/{username}" => { GET moderation::user_page },
    "/mod/users/{username}/ban" => { POST moderation::ban },
    "/mod/users/{username}/unban" => { POST moderation::unban },
    "/admin" => { GET admin::dashboard },
    "/admin/settings" => { GET admin::settings_page },
    "/admin/settings/premoderation" => { POST admin::set_premoderation },
    "/admin/settings/words" => { POST admin::set_words },
    "/admin/settings/embed" => { POST embed::set_origins },
    "/admin/users" => { GET admin::users_page },
    "/admin/users/{username}/role" => { POST admin::set_role },
    "/admin/articles" => { GET admin::articles_page, POST admin::create_article },
    "/admin/articles/new" => { GET admin::new_article },
    "/admin/articles/import" => { POST admin::import_articles },
    "/admin/comments/import" => { GET admin::comments_import_page, POST admin::import_comments },
    "/admin/articles/{slug}/edit" => { GET admin::edit_article_form, POST admin::edit_article },
    "/admin/articles/{slug}/delete" => { POST admin::delete_article },
    "/admin/outbox" => { GET admin::outbox },
    // The JSON API (`web::api`): every operation here is in its OpenAPI document.
    "/api/openapi.json" => { GET api::openapi_json },
    "/api/docs" => { GET api::docs::page },
    "/api/v1/articles" => { GET api::reads::list, POST api::admin::create },
    // Before `{slug}`: the first pattern that matches serves the request.
    "/api/v1/articles/by-url" => { GET api::reads::by_url },
    "/api/v1/articles/import" => { POST api::admin::import },
    "/api/v1/articles/{slug}" => { GET api::articles::one, PATCH api::admin::update, DELETE api::admin::delete },
    "/api/v1/articles/{slug}/comments" => { GET api::threads::article_thread, POST api::comments::post },
    "/api/v1/articles/{slug}/saved" => { PUT api::writes::save, DELETE api::writes::unsave },
    "/api/v1/articles/{slug}/lock" => { POST api::moderation::lock },
    "/api/v1/articles/{slug}/unlock" => { POST api::moderation::unlock },
    "/api/v1/comments/{id}" => { GET api::reads::comment, PATCH api::writes::edit, DELETE api::writes::delete },
    "/api/v1/comments/{id}/replies" => { GET api::threads::replies },
    "/api/v1/comments/{id}/vote" => { PUT api::writes::vote },
    "/api/v1/comments/{id}/reports" => { POST api::writes::report },
    "/api/v1/comments/{id}/remove" => { POST api::moderation::remove },
    "/api/v1/comments/{id}/restore" => { POST api::moderation::restore },
    "/api/v1/comments/{id}/approve" => { POST api::moderation::approve },
    "/api/v1/comments/{id}/reject" => { POST api::moderation::reject },
    "/api/v1/comments/{id}/pin" => { POST api::moderation::pin },
    "/api/v1/comments/{id}/unpin" => { POST api::moderation::unpin },
    "/api/v1/comments/{id}/distinguish" => { POST api::moderation::distinguish },
    "/api/v1/users/{username}" => { GET api::reads::profile },
    "/api/v1/users/{username}/comments" => { GET api::reads::user_comments },
    "/api/v1/users/{username}/ban" => { POST api::moderation::ban },
    "/api/v1/users/{username}/unban" => { POST api::moderation::unban },
    "/api/v1/users/{username}/role" => { PUT api::moderation::set_role },
    "/api/v1/search" => { GET api::reads::search },
    "/api/v1/counts" => { GET api::reads::counts },
    "/api/v1/me" => { GET api::reads::me },
    "/api/v1/me/saved" => { GET api::writes::saved_list },
    "/api/v1/mod/reports" => { GET api::moderation::reports },
    "/api/v1/mod/reports/{id}/dismiss" => { POST api::moderation::dismiss },
    // The embedded comments (`web::embed`).
    "/api/v1/threads" => { POST api::embed::post },
    "/embed.js" => { GET embed::script },
    "/embed/thread" => { GET embed::thread },
    "/embed/login" => { GET embed::login_form, POST embed::login },
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::QueryConfig::default().error_handler(|err, _req| {
            AppError::BadRequest(format!("The query string could not be read: {err}")).into()
        }),
    )
    // The security middleware holds each form to its route's limit before any handler
    // reads it (the comment forms take more than others); this is the largest.
    .app_data(web::FormConfig::default().limit(super::security::COMMENT_FORM_LIMIT).error_handler(|err, _req| {
        use actix_web::error::UrlencodedError;
        match err {
            UrlencodedError::Overflow { .. } => {
                AppError::PayloadTooLarge { limit: super::security::COMMENT_FORM_LIMIT }
            }
            other => AppError::BadRequest(format!("The form could not be read: {other}")),
        }
        .into()
    }))
    .app_data(web::JsonConfig::default().limit(super::security::JSON_LIMIT).error_handler(|err, _req| {
        use actix_web::error::JsonPayloadError;
        match err {
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                AppError::PayloadTooLarge { limit: super::security::JSON_LIMIT }
            }
            other => AppError::BadRequest(format!("The JSON body could not be read: {other}")),
        }
        .into()
    }));
    register(cfg);
}

/// 405 for a method the resource does not serve, with `Allow` naming those it does
/// (RFC 9110); JSON on the API like every refusal there.
async fn method_not_allowed(req: HttpRequest, methods: &'static [&'static str]) -> HttpResponse {
    let mut allow: Vec<&str> = methods.to_vec();
    if allow.contains(&"GET") {
        allow.push("HEAD");
    }
    let allow = allow.join(", ");
    let mut response = HttpResponse::MethodNotAllowed();
    response.insert_header((actix_web::http::header::ALLOW, allow.clone()));
    if req.path().starts_with("/api/") {
        return response.json(api::ErrorBody {
            code: "method_not_allowed".to_owned(),
            message: format!("This address answers {allow} only."),
        });
    }
    response
        .content_type("text/plain; charset=utf-8")
        .body(format!("Method not allowed: this address answers {allow} only.\n"))
}

/// Everything no route matched.
pub async fn not_found(_req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
