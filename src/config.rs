//! Run-time configuration, from flags and environment (see `main.rs`).

use std::time::Duration;

/// Everything `App::build` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8080`; port 0 picks a free one.
    pub bind: String,
    /// `sqlite://PATH`, a plain path, or `postgres://…`.
    pub database_url: String,
    /// The public address of the site, for absolute links (Open Graph, feeds).
    pub base_url: url::Url,
    /// Load the sample articles into an empty database.
    pub demo: bool,
    /// Largest number of open database connections.
    pub pool_size: u32,
    /// How long a request waits for a database connection before answering 503.
    pub db_timeout: Duration,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/afterword.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

impl Config {
    /// Defaults for a database URL; the rest as `serve` would take it without flags.
    pub fn new(database_url: impl Into<String>) -> Self {
        Config {
            bind: DEFAULT_BIND.to_owned(),
            database_url: database_url.into(),
            base_url: url::Url::parse("http://127.0.0.1:8080/").expect("a valid URL"),
            demo: false,
            pool_size: 8,
            db_timeout: Duration::from_secs(5),
            workers: 0,
        }
    }
}
