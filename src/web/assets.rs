//! `/static/{file}`: embedded files with year-long caching.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::AppError;
use crate::assets;

pub async fn serve(file: web::Path<String>) -> Result<HttpResponse, AppError> {
    let asset = assets::by_file(&file).ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(asset.bytes))
}
