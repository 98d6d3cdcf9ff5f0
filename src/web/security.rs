//! The security middleware, in one place: client address and rate limit, the session,
//! the CSRF and origin checks on state-changing requests, body limits, and the
//! response headers that depend on who asked.

use std::net::IpAddr;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::HttpMessage;
use futures_util::StreamExt;

use super::{AppError, AppState};
use crate::auth::{random_token, token_hash, AuthUser, Visitor};
use crate::config::Config;
use crate::db::users;

pub const FORM_LIMIT: usize = 64 * 1024;
pub const JSON_LIMIT: usize = 256 * 1024;
pub const UPLOAD_LIMIT: usize = 2 * 1024 * 1024;
/// The forms that post a comment's text take more than other forms: a comment's
/// 10,000 characters may take 120,000 bytes once sent (4 bytes of UTF-8 each, each
/// byte percent-encoded as 3).
pub const COMMENT_FORM_LIMIT: usize = 128 * 1024;
/// A comment form's body beyond [`COMMENT_FORM_LIMIT`] is still read, and what lies
/// beyond the limit thrown away, up to this size: the reader gets the form back with
/// the text that was kept. A larger one is refused outright.
const COMMENT_DISCARD_LIMIT: usize = 1024 * 1024;

/// Set on a comment form whose body was longer than [`COMMENT_FORM_LIMIT`]: its handler
/// sees the first part only (a comment's text cut short), and refuses it showing that.
#[derive(Debug, Clone, Copy)]
pub struct CutShort {
    pub limit: usize,
}

/// The header scripts send the CSRF token in; forms send the field `csrf_token`.
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";

pub async fn security(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().expect("AppState is registered").clone();
    let config = &state.config;
    let ip = client_ip(&req, &config.trusted_proxies);
    if let Err(retry_after) = state.limits.request(ip) {
        return Ok(req.error_response(AppError::TooManyRequests { retry_after }));
    }

    // Who is this? Not asked where the answer changes nothing (static files, health,
    // feeds): those answer without the database, and the same for everyone.
    let anonymous_route = needs_no_identity(&req);
    let mut user = None;
    let mut binding = None;
    let mut stale_session = false;
    // A program calling the API with a token: the token alone says who it is (cookies
    // are not read), and no CSRF token is asked for, since no browser sends it unasked.
    let bearer = match bearer_token(&req) {
        Ok(bearer) => bearer,
        Err(err) => return Ok(req.error_response(err)),
    };
    if let Some(token) = &bearer {
        match token_user(&state, token).await {
            Ok(found) => user = Some(found),
            Err(err) => return Ok(req.error_response(err)),
        }
    }
    let session_token = if anonymous_route || bearer.is_some() {
        None
    } else {
        req.cookie(config.session_cookie()).map(|c| c.value().to_owned())
    };
    let mut synced = false;
    if let Some(token) = session_token {
        let hash = token_hash(&token);
        // A read may be served from what this instance keeps for signed-in readers
        // once it has heard of every change made before the request (see
        // `PageCache::sync`); a write always reads afresh.
        synced = matches!(*req.method(), Method::GET | Method::HEAD) && state.cache.sync().await;
        match known_session(&state, hash.clone(), synced).await {
            Ok(Some(known)) => {
                user = Some(signed_in(known.user, known.unread, hash, None));
                binding = Some(token);
            }
            Ok(None) => stale_session = true,
            Err(err) => return Ok(req.error_response(err)),
        }
    }
    let mut new_visitor = None;
    let binding = match binding {
        Some(token) => token,
        // Bound to nothing a browser holds: a token's requests carry no CSRF token.
        None if bearer.is_some() => random_token(),
        None => match req.cookie(config.visitor_cookie()) {
            Some(c) if c.value().len() == 43 => c.value().to_owned(),
            // A fresh binding for this request only: not worth a cookie on a static file.
            _ if anonymous_route => random_token(),
            _ => {
                let token = random_token();
                new_visitor = Some(token.clone());
                token
            }
        },
    };

    let signed_in = user.is_some();
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let visitor = Visitor::new(user, state.csrf.token(&binding), ip, path);
    // Refused here, before any handler: the error page still shows the reader's header.
    let refuse = |req: ServiceRequest, err: AppError, visitor: &Visitor| {
        let (req, _) = req.into_parts();
        Ok(ServiceResponse::new(req, super::error::response_for(err, visitor)))
    };

    // A digest's one-click unsubscribe comes from mail clients, with no cookie, origin
    // or form token: the signed token in its path is its proof (see `web::digests`).
    let one_click = *req.method() == Method::POST && super::digests::is_one_click(req.path());
    if bearer.is_none() && !one_click && !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        if let Err(err) = check_origin(&req, config) {
            return refuse(req, err, &visitor);
        }
        let presented = match presented_csrf_token(&mut req).await {
            Ok(token) => token,
            Err(err) => return refuse(req, err, &visitor),
        };
        let valid = presented.is_some_and(|token| state.csrf.verify(&binding, &token));
        if !valid {
            return refuse(req, AppError::Csrf("its security token is missing or out of date"), &visitor);
        }
    }

    if let Err(err) = reject_control_characters(&mut req).await {
        return refuse(req, err, &visitor);
    }

    // A banned reader may log out and manage the account, nothing else that writes.
    // The forms a reader types into are refused by their handlers instead, which show
    // the form again with the text (see `keeps_typed_text`).
    if let Some(user) = &visitor.user {
        const ALLOWED: [&str; 7] = [
            "/logout",
            "/settings/email",
            "/settings/password",
            "/settings/sessions",
            "/settings/verify-email",
            "/settings/delete",
            "/settings/digest",
        ];
        let allowed = ALLOWED.contains(&req.path()) || keeps_typed_text(req.path()) || one_click;
        if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) && !allowed {
            if let Err(err) = refuse_banned(user) {
                return refuse(req, err, &visitor);
            }
        }
    }

    let has_form = visitor.clone();
    let user_id = visitor.user.as_ref().map(|u| u.id);
    req.extensions_mut().insert(visitor);
    if synced {
        req.extensions_mut().insert(super::cache::Synced);
    }

    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let mut res = if writes {
        let res = super::cache::track_writes(&state.cache, user_id, super::as_write_request(next.call(req))).await;
        if state.cache.announces() && !state.cache.hearing() {
            // This instance's listener is down, and with it the announcement of this
            // change: the other instances hear of it through a pooled connection.
            let announced = state.db(|conn| Ok(crate::db::live::announce_to_running_sites(conn, "*")?)).await;
            if let Err(err) = announced {
                tracing::warn!(%err, "a change could not be announced to the other instances");
            }
        }
        res
    } else {
        next.call(req).await
    }?
    .map_into_boxed_body();
    let sets = |res: &ServiceResponse<BoxBody>, name: &str| res.response().cookies().any(|c| c.name() == name);
    // A new visitor's cookie comes with the first page that has a form (the token in it
    // is bound to the cookie); pages without one set no cookie and stay cacheable.
    if let Some(token) = new_visitor.filter(|_| has_form.csrf_used()) {
        if !sets(&res, config.session_cookie()) {
            let _ = res.response_mut().add_cookie(&config.cookie(config.visitor_cookie(), token));
        }
    }
    if stale_session && !sets(&res, config.session_cookie()) {
        let _ = res.response_mut().add_removal_cookie(&config.cookie(config.session_cookie(), String::new()));
    }
    // A response that sets a cookie is this visitor's own, whatever the page said.
    if res.headers().contains_key(header::SET_COOKIE) {
        res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    }
    if signed_in && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// A signed-in reader's identity as a session token finds it: their account, the
/// session, and their unread notifications.
#[derive(Clone)]
pub struct KnownSession {
    pub user: users::User,
    pub session: users::Session,
    pub unread: i64,
}

impl KnownSession {
    /// Memory held, roughly.
    pub fn size(&self) -> usize {
        let user = &self.user;
        let strings = [
            &user.email,
            &user.ban_reason,
            &user.display_name,
            &user.bio_source,
            &user.pending_email,
            &self.session.user_agent,
        ];
        512 + user.username.len()
            + user.password_hash.len()
            + strings.iter().map(|s| s.as_ref().map_or(0, String::len)).sum::<usize>()
    }
}

/// The live session whose token hashes to `hash`, with its account and unread count.
/// A synced read (`reads`) by a reader takes it from memory when nothing has been
/// changed since it was read that could alter it (see `cache::Scope::Account`);
/// requests that change anything, and moderators' and admins' requests, always read it
/// afresh.
async fn known_session(
    state: &web::Data<AppState>,
    hash: String,
    reads: bool,
) -> Result<Option<KnownSession>, AppError> {
    let lifetime = state.config.session_lifetime;
    if reads {
        if let Some(kept) = state.cache.account(&hash) {
            let session = &kept.value.session;
            let now = crate::db::now();
            if session.expires_at > now
                && session.last_seen_at > now - lifetime.idle
                && !users::session_needs_touch(session)
            {
                return Ok(Some(kept.value.clone()));
            }
        }
    }
    let rendered = state.cache.mark();
    let lookup = hash.clone();
    // On the pool, not `db_quick`: the header's unread count reads every unread
    // notification the reader has.
    let found = state.db(move |conn| Ok(users::session_user(conn, &lookup, lifetime)?)).await?;
    let Some((user, session, unread)) = found else { return Ok(None) };
    let touch = users::session_needs_touch(&session);
    if touch {
        // Best effort, beside the answer: a busy database neither fails nor delays the
        // request.
        let (state, hash) = (state.clone(), session.token_hash.clone());
        tokio::spawn(async move {
            state
                .db_write_best_effort("session seen", move |conn| {
                    users::touch_session(conn, &hash)?;
                    Ok(())
                })
                .await
        });
    }
    let known = KnownSession { user, session, unread };
    // Kept once the session is marked seen (the mark may fail: the next read tries it
    // again).
    if reads && !touch && known.user.role == crate::domain::Role::Reader {
        state.cache.keep_account(hash, rendered, known.clone());
    }
    Ok(Some(known))
}

/// The token of `Authorization: Bearer TOKEN` on an API route; `None` without the
/// header (or off the API, where only sessions count), 401 when it is not a bearer token.
fn bearer_token(req: &ServiceRequest) -> Result<Option<String>, AppError> {
    if !req.path().starts_with("/api/") {
        return Ok(None);
    }
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().unwrap_or_default().trim();
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            let token = token.trim();
            if token.len() > 200 || !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(AppError::Unauthorized("The API token is not valid.".to_owned()));
            }
            Ok(Some(token.to_owned()))
        }
        _ => Err(AppError::Unauthorized(
            "The Authorization header must be `Bearer` and an API token, made in your settings.".to_owned(),
        )),
    }
}

/// The account an API token acts for, marking the token used (at most once a minute,
/// beside the answer); 401 when the token is unknown, revoked or expired.
async fn token_user(state: &web::Data<AppState>, token: &str) -> Result<AuthUser, AppError> {
    let hash = token_hash(token);
    let found = state.db(move |conn| Ok(crate::db::tokens::user_of(conn, &hash)?)).await?;
    let Some((found, grant, unread)) = found else {
        return Err(AppError::Unauthorized("The API token is unknown, revoked or expired.".to_owned()));
    };
    if crate::db::tokens::needs_touch(&grant) {
        let (state, id) = (state.clone(), grant.id);
        tokio::spawn(async move {
            state
                .db_write_best_effort("token used", move |conn| {
                    crate::db::tokens::touch(conn, id)?;
                    Ok(())
                })
                .await
        });
    }
    let scopes = crate::auth::tokens::Scopes::parse(&grant.scopes).unwrap_or_default();
    let grant = crate::auth::tokens::Grant { id: grant.id, name: grant.name, scopes };
    Ok(signed_in(found, unread, String::new(), Some(grant)))
}

/// The request's user, from their account row: by a session (its hash) or a token.
fn signed_in(
    found: users::User,
    unread: i64,
    session_hash: String,
    token: Option<crate::auth::tokens::Grant>,
) -> AuthUser {
    AuthUser {
        id: found.id,
        username: found.username,
        role: found.role,
        email_verified: found.email_verified,
        created_at: found.created_at,
        unread,
        banned: found
            .banned_until
            .filter(|until| *until > crate::db::now())
            .map(|until| (until, found.ban_reason.clone().unwrap_or_default())),
        session_hash,
        token,
    }
}

/// 403 for a banned reader, with until when and why.
pub fn refuse_banned(user: &AuthUser) -> Result<(), AppError> {
    match &user.banned {
        Some((until, reason)) => {
            Err(AppError::Forbidden(format!("Your account is banned {}: {reason}", crate::views::ban_end(*until))))
        }
        None => Ok(()),
    }
}

/// The forms a reader types into whose handlers refuse a banned reader themselves (with
/// [`refuse_banned`]), showing the form again with what was typed: a comment or reply,
/// an edit, a report, the profile.
fn keeps_typed_text(path: &str) -> bool {
    is_comment_form(path)
        || path == "/settings/profile"
        || path
            .strip_prefix("/comments/")
            .is_some_and(|rest| rest.ends_with("/report") && rest.matches('/').count() == 1)
}

/// The API's article import takes a file's worth of JSON, as the upload form does.
pub const API_IMPORT_PATH: &str = "/api/v1/articles/import";

/// The most bytes of JSON a route reads: [`JSON_LIMIT`]; the API's article import
/// [`UPLOAD_LIMIT`], like the import form.
pub fn json_limit(path: &str) -> usize {
    if path == API_IMPORT_PATH {
        UPLOAD_LIMIT
    } else {
        JSON_LIMIT
    }
}

/// The routes that post a comment's text: a new comment or reply, and an edit.
fn is_comment_form(path: &str) -> bool {
    let one_segment = |rest: &str, tail: &str| {
        rest.strip_suffix(tail).is_some_and(|segment| !segment.is_empty() && !segment.contains('/'))
    };
    path.strip_prefix("/articles/").is_some_and(|rest| one_segment(rest, "/comments"))
        || path.strip_prefix("/comments/").is_some_and(|rest| one_segment(rest, "/edit"))
}

/// Reads that answer the same whoever asks, and need no session lookup.
fn needs_no_identity(req: &ServiceRequest) -> bool {
    let path = req.path();
    matches!(*req.method(), Method::GET | Method::HEAD)
        && (path.starts_with("/static/")
            || path == "/embed.js"
            || path == "/healthz"
            || path == "/readyz"
            || path.ends_with(".atom"))
}

/// The peer address; behind a trusted proxy, the last address in `X-Forwarded-For` that
/// is not itself a trusted proxy.
pub fn client_ip(req: &ServiceRequest, trusted: &[IpAddr]) -> IpAddr {
    let peer = req.peer_addr().map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    if !trusted.contains(&peer) {
        return peer;
    }
    let entries: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    // From the right: skip our own proxies; the first other address is the client. An
    // entry that is not an address ends the walk: nothing left of it can be trusted.
    let mut client = peer;
    for entry in entries.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => break,
        }
    }
    client
}

/// A state-changing request must come from a page of this site.
fn check_origin(req: &ServiceRequest, config: &Config) -> Result<(), AppError> {
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let same_site = |value: &str| -> bool {
        let Ok(url) = url::Url::parse(value) else {
            return false;
        };
        let origin = url.origin();
        if origin == config.base_url.origin() {
            return true;
        }
        let authority = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => return false,
        };
        !host.is_empty() && authority.eq_ignore_ascii_case(host)
    };
    let value = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let ok = if let Some(origin) = value(header::ORIGIN) {
        same_site(origin)
    } else if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        site == "same-origin"
    } else if let Some(referer) = value(header::REFERER) {
        same_site(referer)
    } else {
        false
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::Csrf("it did not come from a page of this site"))
    }
}

/// The CSRF token from the `X-CSRF-Token` header or, for forms, the `csrf_token` field.
/// Reads (and puts back) the body of form requests; enforces the body limits.
async fn presented_csrf_token(req: &mut ServiceRequest) -> Result<Option<String>, AppError> {
    let mime = req.content_type().to_ascii_lowercase();
    let limit = if mime.starts_with("application/json") {
        json_limit(req.path())
    } else if mime.starts_with("multipart/form-data") {
        UPLOAD_LIMIT
    } else if is_comment_form(req.path()) {
        COMMENT_DISCARD_LIMIT
    } else {
        FORM_LIMIT
    };
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        let limit = if limit == COMMENT_DISCARD_LIMIT { COMMENT_FORM_LIMIT } else { limit };
        return Err(AppError::PayloadTooLarge { limit });
    }
    if let Some(token) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Ok(Some(token.to_owned()));
    }
    // A file upload form carries its token in its `csrf_token` part, before the file.
    if mime.starts_with("multipart/form-data") {
        let body = read_body(req, limit).await?;
        let token = multipart_csrf_token(req.headers(), body.clone()).await;
        req.set_payload(Payload::from(body));
        return Ok(token);
    }
    if mime != "application/x-www-form-urlencoded" {
        return Ok(None);
    }
    let body = read_form(req).await?;
    let token =
        url::form_urlencoded::parse(&body).find(|(key, _)| key == CSRF_FIELD).map(|(_, value)| value.into_owned());
    req.set_payload(Payload::from(body));
    Ok(token)
}

/// The body of a form: at most [`FORM_LIMIT`] bytes; for a comment form, up to
/// [`COMMENT_FORM_LIMIT`] and, beyond it, that much of it (see [`CutShort`]).
async fn read_form(req: &mut ServiceRequest) -> Result<Bytes, AppError> {
    if !is_comment_form(req.path()) {
        return read_body(req, FORM_LIMIT).await;
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    let mut length = 0;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("The request body could not be read: {e}")))?;
        length += chunk.len();
        if length > COMMENT_DISCARD_LIMIT {
            return Err(AppError::PayloadTooLarge { limit: COMMENT_FORM_LIMIT });
        }
        let room = COMMENT_FORM_LIMIT.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    if length > COMMENT_FORM_LIMIT {
        // Not in the middle of an escape ("%E2%8"): the text ends where whole
        // characters do (the handler drops a character cut in two).
        let tail = body.len().saturating_sub(2);
        if let Some(at) = body[tail..].iter().position(|b| *b == b'%') {
            body.truncate(tail + at);
        }
        req.extensions_mut().insert(CutShort { limit: COMMENT_FORM_LIMIT });
        // What the handler reads is what was kept.
        req.headers_mut().insert(header::CONTENT_LENGTH, header::HeaderValue::from(body.len()));
    }
    Ok(body.freeze())
}

/// The whole body of a request, at most `limit` bytes.
async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<Bytes, AppError> {
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("The request body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The value of the `csrf_token` part of a multipart body, if it has one.
async fn multipart_csrf_token(headers: &header::HeaderMap, body: Bytes) -> Option<String> {
    let stream = futures_util::stream::once(async move { Ok::<_, actix_web::error::PayloadError>(body) });
    let mut parts = actix_multipart::Multipart::new(headers, stream);
    while let Some(Ok(mut field)) = parts.next().await {
        let is_token = field.content_disposition().and_then(|d| d.get_name()) == Some(CSRF_FIELD);
        let mut value = Vec::new();
        while let Some(Ok(chunk)) = field.next().await {
            if is_token && value.len() + chunk.len() <= 256 {
                value.extend_from_slice(&chunk);
            }
        }
        if is_token {
            return String::from_utf8(value).ok();
        }
    }
    None
}

/// No path segment, query parameter, form field or JSON string may hold a control
/// character (see `crate::text::is_forbidden_control`): such input is refused here,
/// for every route and the same way on both backends, before any handler sees it.
/// Form and JSON bodies are read (within their limits) and put back.
async fn reject_control_characters(req: &mut ServiceRequest) -> Result<(), AppError> {
    use crate::text::{control_message, forbidden_control};
    // The path as sent: a control character can only arrive percent-encoded, and
    // decoding "%XX" yields one exactly when XX is 00-1F or 7F.
    // No page has a control character (tab and new line included) in its address:
    // such an address is one that does not exist.
    let encoded_control = req.path().as_bytes().windows(3).any(|w| {
        let hex = std::str::from_utf8(&w[1..]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
        w[0] == b'%' && hex.is_some_and(|b| b < 0x20 || b == 0x7f)
    });
    if encoded_control {
        return Err(AppError::NotFound);
    }
    let check_pairs = |bytes: &[u8]| -> Result<(), AppError> {
        for (key, value) in url::form_urlencoded::parse(bytes) {
            if let Some(c) = forbidden_control(&key) {
                return Err(AppError::BadRequest(control_message(
                    &key.replace(crate::text::is_forbidden_control, "?"),
                    c,
                )));
            }
            if let Some(c) = forbidden_control(&value) {
                return Err(AppError::BadRequest(control_message(&key, c)));
            }
        }
        Ok(())
    };
    check_pairs(req.query_string().as_bytes())?;

    let mime = req.content_type().to_ascii_lowercase();
    let (is_form, body) = if mime == "application/x-www-form-urlencoded" {
        (true, read_form(req).await?)
    } else if mime.starts_with("application/json") {
        (false, read_body(req, json_limit(req.path())).await?)
    } else {
        return Ok(());
    };
    let result = if is_form { check_pairs(&body) } else { check_json(&body) };
    req.set_payload(Payload::from(body));
    result
}

/// Every string (and key) of a JSON body; a body that is not JSON is left to the handler.
fn check_json(body: &[u8]) -> Result<(), AppError> {
    use crate::text::{control_message, forbidden_control};
    fn walk(value: &serde_json::Value, field: &str) -> Option<(String, char)> {
        match value {
            serde_json::Value::String(s) => forbidden_control(s).map(|c| (field.to_owned(), c)),
            serde_json::Value::Array(items) => items.iter().find_map(|v| walk(v, field)),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
                let name = k.replace(crate::text::is_forbidden_control, "?");
                forbidden_control(k).map(|c| (name.clone(), c)).or_else(|| walk(v, &name))
            }),
            _ => None,
        }
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else { return Ok(()) };
    match walk(&value, "body") {
        Some((field, c)) => Err(AppError::BadRequest(control_message(&field, c))),
        None => Ok(()),
    }
}
