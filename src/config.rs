//! Run-time configuration, from flags and environment (see `main.rs`).

use std::net::IpAddr;
use std::time::Duration;

use crate::auth::ratelimit::RateLimitConfig;
use crate::db::users::SessionLifetime;

/// Everything `App::build` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8080`; port 0 picks a free one.
    pub bind: String,
    /// Where Prometheus metrics are served (`/metrics`), apart from the site; none: no
    /// metrics are kept.
    pub metrics_bind: Option<String>,
    /// `sqlite://PATH`, a plain path, or `postgres://…`.
    pub database_url: String,
    /// The public address of the site, for absolute links (Open Graph, feeds, emails).
    /// With https, cookies are `Secure` and `__Host-` prefixed.
    pub base_url: url::Url,
    /// Load the sample articles into an empty database.
    pub demo: bool,
    /// Largest number of open database connections.
    pub pool_size: u32,
    /// How long a request waits for a database connection before answering 503.
    pub db_timeout: Duration,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    pub rate_limits: RateLimitConfig,
    pub session_lifetime: SessionLifetime,
    /// When set, email goes out through this SMTP server; otherwise to the outbox table.
    pub smtp_url: Option<String>,
    /// Sender address of the site's email.
    pub mail_from: String,
    /// New accounts must confirm their email address before they may comment.
    pub require_email_verification: bool,
    /// How long after posting the author may edit a comment.
    pub edit_window: time::Duration,
    /// A client that takes no response data for this long is disconnected.
    pub write_timeout: Duration,
    /// A request body must arrive completely within this time (else 408).
    pub body_timeout: Duration,
    /// The request line and headers must arrive within this time (else 408).
    pub header_timeout: Duration,
    /// Open connections one client address may hold; more are closed at once.
    pub connections_per_address: usize,
    /// Password hashes and verifications that may run at once, and how long a request
    /// waits for one before the site answers that it is busy.
    pub hashers: crate::auth::password::Hashers,
    /// How often this instance checks for due email digests (the instance holding the
    /// `digests` lease sends them); none: this instance sends none.
    pub digest_interval: Option<Duration>,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/afterword.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Config {
    /// Defaults for a database URL; the rest as `serve` would take it without flags.
    pub fn new(database_url: impl Into<String>) -> Self {
        Config {
            bind: DEFAULT_BIND.to_owned(),
            metrics_bind: None,
            database_url: database_url.into(),
            base_url: url::Url::parse("http://127.0.0.1:8080/").expect("a valid URL"),
            demo: false,
            pool_size: 8,
            db_timeout: Duration::from_secs(5),
            workers: 0,
            trusted_proxies: Vec::new(),
            rate_limits: RateLimitConfig::default(),
            session_lifetime: SessionLifetime { idle: time::Duration::days(30), absolute: time::Duration::days(365) },
            smtp_url: None,
            mail_from: "Afterword <noreply@localhost>".to_owned(),
            require_email_verification: false,
            edit_window: time::Duration::minutes(60),
            write_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            connections_per_address: 64,
            hashers: crate::auth::password::Hashers::for_this_machine(),
            digest_interval: None,
        }
    }

    /// An absolute link to `path` (written from the site's root, e.g. `/comments/1`)
    /// under the base URL, which may have a path of its own.
    pub fn link(&self, path: &str) -> url::Url {
        self.base_url.join(path.trim_start_matches('/')).expect("the base URL was checked at start")
    }

    /// Whether the site is served over https (cookies are `Secure`, HSTS is sent).
    pub fn secure(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// The session cookie's name: `__Host-` prefixed on https.
    pub fn session_cookie(&self) -> &'static str {
        if self.secure() {
            "__Host-afterword_session"
        } else {
            "afterword_session"
        }
    }

    /// The cookie that identifies a browser before it logs in (for CSRF tokens).
    pub fn visitor_cookie(&self) -> &'static str {
        if self.secure() {
            "__Host-afterword_visitor"
        } else {
            "afterword_visitor"
        }
    }

    /// A cookie as every cookie of the site is set: HttpOnly, SameSite=Lax, Path=/,
    /// and Secure on https.
    pub fn cookie(&self, name: &'static str, value: String) -> actix_web::cookie::Cookie<'static> {
        actix_web::cookie::Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .same_site(actix_web::cookie::SameSite::Lax)
            .secure(self.secure())
            .finish()
    }
}

/// A base URL the site can build links under: http or https, a host, a path ending in
/// `/`, no query or fragment.
pub fn parse_base_url(value: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(value).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the scheme must be http or https, not {}", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL must name a host".to_owned());
    }
    if !url.path().ends_with('/') {
        return Err(format!("the path must end with /, as in {}/", url.as_str()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the URL must not have a query or fragment".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not carry a user name or password".to_owned());
    }
    Ok(url)
}
