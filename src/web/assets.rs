//! `/static/{file}`: embedded files with year-long caching, sent compressed as the
//! client accepts (brotli, then gzip), from bytes compressed once at start.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::AppError;
use crate::assets;

pub async fn serve(req: HttpRequest, file: web::Path<String>) -> Result<HttpResponse, AppError> {
    let asset = assets::by_file(&file).ok_or(AppError::NotFound)?;
    let (encoding, body): (Option<&str>, &'static [u8]) = match preferred_encoding(&req) {
        "br" => (Some("br"), &asset.brotli),
        "gzip" => (Some("gzip"), &asset.gzip),
        _ => (None, asset.bytes),
    };
    let mut response = HttpResponse::Ok();
    response
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::VARY, "Accept-Encoding"));
    // With a Content-Encoding set, the compression middleware leaves the body alone.
    response.insert_header((header::CONTENT_ENCODING, encoding.unwrap_or("identity")));
    Ok(response.body(body))
}

/// The encoding of bytes compressed ahead to send this request: "br", "gzip" or
/// "identity", as its `Accept-Encoding` allows.
pub(crate) fn preferred_encoding(req: &HttpRequest) -> &'static str {
    let accepted = req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    ["br", "gzip"].into_iter().find(|coding| accepts(accepted, coding)).unwrap_or("identity")
}

/// Whether an `Accept-Encoding` value accepts `coding` (listed without `q=0`).
pub(crate) fn accepts(header: &str, coding: &str) -> bool {
    header.split(',').any(|part| {
        let mut params = part.split(';').map(str::trim);
        let name = params.next().unwrap_or("");
        let refused = params.any(|p| p.strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()) == Some(0.0));
        name.eq_ignore_ascii_case(coding) && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn accept_encoding() {
        assert!(accepts("gzip, deflate, br", "br"));
        assert!(accepts("gzip;q=0.5, BR;q=1", "br"));
        assert!(!accepts("gzip, br;q=0", "br"));
        assert!(accepts("gzip, br;q=0", "gzip"));
        assert!(!accepts("identity", "gzip"));
        assert!(!accepts("", "gzip"));
    }
}
