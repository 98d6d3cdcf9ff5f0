//! Accounts and the request's identity: roles, the signed-in user, CSRF tokens,
//! password hashing and rate limits.

pub mod csrf;
pub mod password;
pub mod ratelimit;
pub mod tokens;

use crate::domain::UserId;
use std::future::{ready, Ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::web::AppError;

pub use crate::domain::Role;

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub email_verified: bool,
    pub created_at: time::PrimitiveDateTime,
    /// Unread notifications, for the header.
    pub unread: i64,
    /// Set while the account is banned: (until, reason).
    pub banned: Option<(time::PrimitiveDateTime, String)>,
    /// SHA-256 of the session token this request came with (empty for an API token).
    pub session_hash: String,
    /// The API token the request came with instead of a session, and what it may do.
    pub token: Option<tokens::Grant>,
}

impl AuthUser {
    /// The user as the rules of `domain::permissions` see them.
    pub fn actor(&self) -> crate::domain::Actor {
        crate::domain::Actor { id: self.id, role: self.role, banned: self.banned.is_some() }
    }

    /// What this request may do as the user: everything through a session, its scopes
    /// through an API token.
    pub fn scopes(&self) -> tokens::Scopes {
        self.token.as_ref().map_or(tokens::Scopes::ALL, |grant| grant.scopes)
    }
}

/// Who is asking: set on every request by the security middleware.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub user: Option<AuthUser>,
    /// The CSRF token forms of this visitor must carry; see [`Visitor::csrf_token`].
    csrf_token: String,
    /// Set once a page embeds the token: a new visitor gets the cookie the token is
    /// bound to only with a page that has a form, never with one that has none.
    csrf_used: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub ip: IpAddr,
    /// Path and query of the request, for "come back here after logging in".
    pub path: String,
    /// Stands in for every signed-in reader in good standing (see
    /// [`Visitor::stand_in`]).
    stand_in: bool,
}

impl Visitor {
    pub fn new(user: Option<AuthUser>, csrf_token: String, ip: IpAddr, path: String) -> Visitor {
        Visitor { user, csrf_token, csrf_used: Default::default(), ip, path, stand_in: false }
    }

    /// A stand-in for every signed-in reader in good standing (`user` is one of them),
    /// for rendering once what they share of a page (`views::template::Frame`): its
    /// CSRF token is `csrf_marker`, and the parts of the page that show who the reader
    /// is (the site's navigation, the save button) render as markers.
    pub fn stand_in(user: AuthUser, csrf_marker: &str, path: String) -> Visitor {
        let ip = IpAddr::from([0, 0, 0, 0]);
        Visitor { stand_in: true, ..Visitor::new(Some(user), csrf_marker.to_owned(), ip, path) }
    }

    /// Whether this is a [`Visitor::stand_in`].
    pub fn is_stand_in(&self) -> bool {
        self.stand_in
    }

    /// The token for a form of this page; asking for it marks the page as having one.
    pub fn csrf_token(&self) -> &str {
        self.csrf_used.store(true, std::sync::atomic::Ordering::Relaxed);
        &self.csrf_token
    }

    /// Whether the page embedded the CSRF token.
    pub fn csrf_used(&self) -> bool {
        self.csrf_used.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl FromRequest for Visitor {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Visitor>()
                .cloned()
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the security middleware did not run"))),
        )
    }
}

/// A signed-in user, or a redirect to the login page.
pub struct SignedIn {
    pub user: AuthUser,
    pub visitor: Visitor,
}

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(Visitor::from_request(req, payload).into_inner().and_then(|visitor| match &visitor.user {
            Some(user) => Ok(SignedIn { user: user.clone(), visitor }),
            None => Err(AppError::LoginRequired { next: login_return_path(req) }),
        }))
    }
}

/// A moderator or administrator; others get 403.
pub struct Moderator(pub SignedIn);

impl FromRequest for Moderator {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(SignedIn::from_request(req, payload).into_inner().and_then(|signed_in| {
            crate::domain::permissions::may_moderate(Some(&signed_in.user.actor()))?;
            Ok(Moderator(signed_in))
        }))
    }
}

/// An administrator; others get 403.
pub struct Admin(pub SignedIn);

impl FromRequest for Admin {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(SignedIn::from_request(req, payload).into_inner().and_then(|signed_in| {
            crate::domain::permissions::may_administer(Some(&signed_in.user.actor()))?;
            Ok(Admin(signed_in))
        }))
    }
}

/// Where to come back to after logging in: the page itself for GET, else the referring
/// page of this site, else the front page.
fn login_return_path(req: &HttpRequest) -> String {
    if req.method() == actix_web::http::Method::GET {
        return req.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    }
    "/".to_owned()
}

/// A new random token: 256 bits, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores of a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A path of this site to go to after logging in, or "/" when `next` could lead
/// elsewhere (`//host`, `/\host`, `https://host`, their encoded forms, control characters).
pub fn safe_next(next: Option<&str>) -> String {
    let Some(next) = next else { return "/".into() };
    let decoded: String = url::form_urlencoded::parse(format!("n={next}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let ok = |s: &str| {
        s.starts_with('/')
            && !s.starts_with("//")
            && !s.contains('\\')
            && !s.chars().any(char::is_control)
            && s.len() <= 2_000
    };
    if ok(next) && ok(&decoded) && !decoded.starts_with("/%2f") && !decoded.to_lowercase().starts_with("/%5c") {
        next.to_owned()
    } else {
        "/".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths() {
        for good in ["/", "/articles/x", "/articles/x?sort=new#c1", "/a%20b"] {
            assert_eq!(safe_next(Some(good)), good);
        }
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/%2F%2Fevil.example",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "/%2f%2fevil.example",
            "javascript:alert(1)",
            "/\tevil",
            "evil",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn tokens() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        assert_eq!(token_hash("abc").len(), 64);
    }
}
