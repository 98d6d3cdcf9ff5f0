//! The route table.

use actix_web::{web, HttpRequest, HttpResponse};

use super::{articles, assets, health, AppError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(|err, _req| {
        AppError::BadRequest(format!("The query string could not be read: {err}")).into()
    }))
    .service(web::resource("/").route(web::get().to(articles::front_page)))
    .service(web::resource("/articles/{slug}").route(web::get().to(articles::show)))
    .service(web::resource("/healthz").route(web::get().to(health::healthz)))
    .service(web::resource("/static/{file}").route(web::get().to(assets::serve)));
}

/// Everything no route matched.
pub async fn not_found(_req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
