//! The comments embedded in other sites.
//!
//! - `/embed.js`: the script a host page includes; it inserts the frame and fills the
//!   comment counts of the page (`static/embed.js`).
//! - `/embed/thread?url=…`: the frame, for pages of the allowed origins only; its
//!   `frame-ancestors` lists exactly those origins (every other page keeps `'none'`).
//! - `/embed/login`: the popup, on this site's own origin (third-party cookies are
//!   blocked in the frame), that asks a signed-in reader whether the comments on a host
//!   may post as them, and hands the frame a short-lived token (`postMessage` to this
//!   site's origin only).
//! - The allowed origins, listed by administrators (`/admin/settings`), kept in memory
//!   ([`Origins`]) so that the checks of every request cost no query; refreshed when
//!   they change here, when another instance announces a change (PostgreSQL), and every
//!   minute in any case.
//! - CORS on `/api/` for those origins alone ([`headers`]), without credentials: the
//!   embed uses tokens.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{html, redirect, AppError, AppState};
use crate::auth::{Admin, SignedIn};
use crate::db;
use crate::views;

/// Most origins the list holds.
pub const MAX_ORIGINS: usize = 100;
/// Longest line of the list.
const MAX_ORIGIN_LEN: usize = 200;
/// Characters of a title and a summary the frame passes on to a new article.
pub const MAX_TITLE: usize = crate::import::MAX_TITLE;
pub const MAX_SUMMARY: usize = 2_000;
/// How long a token handed to the embed lives.
pub const TOKEN_LIFETIME: time::Duration = time::Duration::hours(4);
/// The announcement that tells the other instances to read the origins again.
pub const ANNOUNCEMENT: &str = "s:embed_origins";

/// The allowed origins, in memory (`https://blog.example`, normalised).
#[derive(Default)]
pub struct Origins {
    list: RwLock<Arc<Vec<String>>>,
}

impl Origins {
    /// Whether `origin` (as a browser sends it in `Origin`) may embed the comments.
    pub fn allows(&self, origin: &str) -> bool {
        self.list.read().expect("origins lock").iter().any(|o| o == origin)
    }

    pub fn list(&self) -> Arc<Vec<String>> {
        self.list.read().expect("origins lock").clone()
    }

    pub fn replace(&self, origins: Vec<String>) {
        *self.list.write().expect("origins lock") = Arc::new(origins);
    }
}

/// `https://Blog.Example:443/` → `https://blog.example`: an http or https origin with a
/// host, no path, query, fragment or credentials.
pub fn normalise_origin(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let shown: String = raw.chars().take(60).collect();
    if raw.len() > MAX_ORIGIN_LEN {
        return Err(format!("{shown:?}… is too long for an origin."));
    }
    let url = url::Url::parse(raw)
        .map_err(|e| format!("{shown:?} is not an origin ({e}): write it like https://blog.example."))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{shown:?}: an origin starts with https:// or http://."));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{shown:?} has no host."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{shown:?}: an origin has no user name or password."));
    }
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || raw.ends_with('?')
        || raw.ends_with('#')
    {
        return Err(format!(
            "{shown:?}: an origin is a scheme, a host and a port, without a path (like https://blog.example)."
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// The origins typed into the settings form: one a line (blank lines ignored),
/// each valid, at most [`MAX_ORIGINS`]; normalised, without duplicates, in order.
pub fn parse_origins(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let origin = normalise_origin(line)?;
        if !out.contains(&origin) {
            out.push(origin);
        }
        if out.len() > MAX_ORIGINS {
            return Err(format!("At most {MAX_ORIGINS} origins."));
        }
    }
    Ok(out)
}

/// A host page's address: (normalised, without the fragment; its origin). `None` when
/// it is not an http or https URL with a host, or is longer than an article's address
/// may be.
pub fn page_url(raw: &str) -> Option<(String, String)> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > crate::import::MAX_URL {
        return None;
    }
    let mut url = url::Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    url.set_fragment(None);
    let origin = url.origin().ascii_serialization();
    let normalised = url.to_string();
    (normalised.len() <= crate::import::MAX_URL).then_some((normalised, origin))
}

/// `text` on one line, at most `max` characters.
pub fn clamp(text: &str, max: usize) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(max).collect()
}

/// Reads the allowed origins again.
pub async fn reload(state: &AppState) {
    match state.db(|conn| Ok(db::embed::origins(conn)?)).await {
        Ok(list) => state.origins.replace(list),
        Err(err) => tracing::warn!(%err, "could not read the allowed origins"),
    }
}

/// Reads the allowed origins every minute: the bound on how long another instance's
/// change (or one made by hand) goes unseen when no announcement reached this one.
pub fn spawn_refresh(state: web::Data<AppState>) {
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        every_minute.tick().await;
        loop {
            every_minute.tick().await;
            reload(&state).await;
        }
    });
}

#[derive(Deserialize)]
pub struct OriginsForm {
    #[serde(default)]
    origins: String,
}

/// POST /admin/settings/embed: replaces the list; a refused list comes back in the
/// form as typed, with the reason (400).
pub async fn set_origins(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<OriginsForm>,
) -> Result<HttpResponse, AppError> {
    let text = form.into_inner().origins;
    let origins = match parse_origins(&text) {
        Ok(origins) => origins,
        Err(reason) => {
            let (mode, words) =
                state.db(|conn| Ok((db::moderation::premoderation(conn)?, db::moderation::word_list(conn)?))).await?;
            let section = views::embed::origins_section(&admin.0.visitor, &text, Some(&reason));
            let page = views::moderation::settings(&admin.0.visitor, mode, &words, None, section);
            return Ok(html(StatusCode::BAD_REQUEST, page));
        }
    };
    crate::domain::permissions::may_administer(Some(&admin.0.user.actor()))?;
    let stored = origins.clone();
    state.db_write(move |conn| Ok(db::embed::set_origins(conn, &stored)?)).await?;
    state.origins.replace(origins);
    // No page shows the list but the settings page, which is never cached.
    super::cache::touches_nothing();
    state.cache.announce_setting(ANNOUNCEMENT);
    Ok(redirect("/admin/settings?notice=saved#embed"))
}

/// GET /embed.js: the host pages' script (not content-addressed: its address is in
/// their markup), compressed ahead, cached for an hour.
pub async fn script(req: HttpRequest) -> Result<HttpResponse, AppError> {
    let asset = crate::assets::by_name("embed.js").ok_or(AppError::NotFound)?;
    let (encoding, body): (&str, &'static [u8]) = match super::assets::preferred_encoding(&req) {
        "br" => ("br", &asset.brotli),
        "gzip" => ("gzip", &asset.gzip),
        _ => ("identity", asset.bytes),
    };
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::CONTENT_ENCODING, encoding))
        .body(body))
}

#[derive(Deserialize)]
pub struct FrameQuery {
    url: Option<String>,
    title: Option<String>,
    summary: Option<String>,
    theme: Option<String>,
}

/// A page refused to the frame, with its reason.
fn refused(status: StatusCode, message: &str) -> HttpResponse {
    let mut response = html(status, views::embed::refused(message));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// GET /embed/thread?url=&title=&summary=&theme=: the frame of the thread of the page at
/// `url`, for pages of an allowed origin (403 otherwise). A page without an article yet
/// shows an empty thread; its first comment makes the article (`POST /api/v1/threads`).
pub async fn thread(state: web::Data<AppState>, query: web::Query<FrameQuery>) -> Result<HttpResponse, AppError> {
    let query = query.into_inner();
    let Some((url, origin)) = query.url.as_deref().and_then(page_url) else {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            "The address of the page (the script's data-url) is missing or is not an http or https address.",
        ));
    };
    if !state.origins.allows(&origin) {
        return Ok(refused(
            StatusCode::FORBIDDEN,
            &format!(
                "Comments are not enabled for pages of {origin}. An administrator of this site can allow it \
                 under Admin → Site settings → Embedding."
            ),
        ));
    }
    let title = clamp(query.title.as_deref().unwrap_or(""), MAX_TITLE);
    let summary = clamp(query.summary.as_deref().unwrap_or(""), MAX_SUMMARY);
    let theme = if query.theme.as_deref() == Some("dark") { "dark" } else { "light" };
    let lookup = url.clone();
    let article = state
        .db(move |conn| {
            Ok(db::embed::article_by_url(conn, &lookup)?.map(|(_, slug, locked, count)| (slug, count, locked)))
        })
        .await?;
    let frame = views::embed::Frame {
        url: &url,
        title: &title,
        summary: &summary,
        article: article.as_ref().map(|(slug, count, locked)| (slug.as_str(), *count, *locked)),
        theme,
    };
    let mut response = html(StatusCode::OK, views::embed::frame(&frame));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize)]
pub struct LoginQuery {
    origin: Option<String>,
}

/// The allowed origin a popup is for, and its host; `None` when it is not one.
fn popup_origin(state: &AppState, raw: Option<&str>) -> Option<(String, String)> {
    let origin = raw.and_then(|o| normalise_origin(o).ok()).filter(|o| state.origins.allows(o))?;
    let host = url::Url::parse(&origin).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
    Some((origin, host))
}

/// The popup's answer for a site that may not embed the comments (403).
fn not_allowed() -> HttpResponse {
    refused(StatusCode::FORBIDDEN, "That site is not allowed to embed the comments of this one.")
}

/// GET /embed/login?origin=: the popup. Signed out, the normal login page (which
/// comes back here); signed in, the question.
pub async fn login_form(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let Some((origin, host)) = popup_origin(&state, query.origin.as_deref()) else {
        return Ok(not_allowed());
    };
    Ok(html(StatusCode::OK, views::embed::consent(&signed_in.visitor, &origin, &host)))
}

#[derive(Deserialize)]
pub struct ConsentForm {
    origin: Option<String>,
    decision: Option<String>,
}

/// POST /embed/login: on "Allow", a token for the host (read and write, expiring in
/// [`TOKEN_LIFETIME`], named for it), handed to the frame by the answer's script.
pub async fn login(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<ConsentForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let Some((_, host)) = popup_origin(&state, form.origin.as_deref()) else {
        return Ok(not_allowed());
    };
    super::cache::touches_nothing();
    if form.decision.as_deref() != Some("allow") {
        return Ok(html(StatusCode::OK, views::embed::handoff(None)));
    }
    let user = signed_in.user;
    let token = crate::auth::tokens::new_token();
    let hash = crate::auth::token_hash(&token);
    let expires = db::now() + TOKEN_LIFETIME;
    let name = format!("Comments on {}", clamp(&host, 80));
    let user_id = user.id;
    let made = state
        .db_write(move |conn| {
            db::embed::delete_expired_tokens(conn, user_id)?;
            Ok(db::tokens::create(conn, user_id, &name, &hash, "read,write", Some(expires))?)
        })
        .await?;
    if made.is_none() {
        return Err(AppError::Conflict(format!(
            "Your account holds {} API tokens: revoke some in Settings first.",
            db::tokens::MAX_PER_USER
        )));
    }
    let expires_at = crate::views::iso_time(expires);
    Ok(html(StatusCode::OK, views::embed::handoff(Some((&token, &user.username, &expires_at)))))
}

/// Whether a request belongs to the popup's sign-in: the popup itself, or the login
/// and sign-up pages on their way back to it.
fn in_popup(req: &ServiceRequest) -> bool {
    let path = req.path();
    if path.starts_with("/embed/login") {
        return true;
    }
    if !matches!(path, "/login" | "/signup" | "/password-reset") {
        return false;
    }
    let back = |s: &str| s.contains("next=%2Fembed%2Flogin") || s.contains("next=/embed/login");
    back(req.query_string()) || req.headers().get(header::REFERER).and_then(|v| v.to_str().ok()).is_some_and(back)
}

/// The headers of the embed, outside the other security headers:
///
/// - on `/api/`: `Vary: Origin` always; for an allowed `Origin`,
///   `Access-Control-Allow-Origin` with it (never with credentials), and preflight
///   `OPTIONS` requests answered here (204);
/// - on the frame (`/embed/thread`, 200): `frame-ancestors` the allowed origins, and no
///   `X-Frame-Options`;
/// - in the popup's sign-in: `Cross-Origin-Opener-Policy: unsafe-none`, so that the
///   popup keeps its opener (the frame) to hand the token to.
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let api = req.path().starts_with("/api/");
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let allowed = match (&state, &origin) {
        (Some(state), Some(origin)) if api => state.origins.allows(origin),
        _ => false,
    };
    if api && req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        let mut response = HttpResponse::NoContent();
        response.insert_header((header::VARY, "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"));
        if let (true, Some(origin)) = (allowed, &origin) {
            response
                .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.as_str()))
                .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, POST, PUT, PATCH, DELETE"))
                .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Content-Type, If-None-Match"))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"));
        }
        return Ok(req.into_response(response.finish()));
    }
    let frame = req.path() == "/embed/thread";
    let popup = in_popup(&req);
    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    if api {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
        if let (true, Some(origin)) = (allowed, origin) {
            if let Ok(value) = HeaderValue::from_str(&origin) {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
                headers.insert(
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static("ETag, Location, Retry-After"),
                );
            }
        }
    }
    if frame && res.status() == StatusCode::OK {
        if let Some(state) = &state {
            let list = state.origins.list();
            let ancestors = if list.is_empty() { "'none'".to_owned() } else { list.join(" ") };
            let csp = super::middleware::CONTENT_SECURITY_POLICY
                .replace("frame-ancestors 'none'", &format!("frame-ancestors {ancestors}"));
            let headers = res.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&csp) {
                headers.insert(header::CONTENT_SECURITY_POLICY, value);
            }
            headers.remove(header::X_FRAME_OPTIONS);
        }
    }
    if popup {
        res.headers_mut()
            .insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("unsafe-none"));
    }
    Ok(res)
}
