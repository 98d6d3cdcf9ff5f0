//! Afterword: a discussion board for article pages.

pub mod assets;
pub mod auth;
pub mod config;
pub mod db;
pub mod demo;
pub mod import;
pub mod mail;
pub mod markdown;
pub mod ranking;
pub mod text;
pub mod views;
pub mod web;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Compress};

pub use config::Config;
use db::DbPool;
use web::AppState;

/// A built application: bound to its port, not yet serving.
pub struct App {
    port: u16,
    server: Server,
    pool: DbPool,
}

impl App {
    /// Connects to the database, runs migrations (and the demo seed when asked), and
    /// binds the listener. Errors say what failed.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let db_config = config.clone();
        let (pool, csrf_key) = tokio::task::spawn_blocking(move || {
            let pool = db::connect(&db_config.database_url, db_config.pool_size, db_config.db_timeout)?;
            let mut conn = pool.get()?;
            if db_config.demo {
                match demo::seed(&mut conn)? {
                    Some(s) => tracing::info!(created = s.created, "loaded the demo articles"),
                    None => tracing::info!("demo articles not loaded: the database already has articles"),
                }
            }
            // Shared by every instance of the site: a form one serves, all accept.
            let key = db::settings::get_or_insert_with(&mut conn, "csrf_key", auth::random_token)?;
            anyhow::Ok((pool, key))
        })
        .await??;

        let mailer = mail::Mailer::new(config.smtp_url.as_deref(), &config.mail_from)?;
        let limits = Arc::new(auth::ratelimit::Limits::new(config.rate_limits));
        let sweeper = limits.clone();
        tokio::spawn(async move {
            let mut every_minute = tokio::time::interval(Duration::from_secs(60));
            loop {
                every_minute.tick().await;
                sweeper.retain_recent();
            }
        });

        let listener =
            TcpListener::bind(&config.bind).map_err(|e| anyhow::anyhow!("could not listen on {}: {e}", config.bind))?;
        let port = listener.local_addr()?.port();
        let workers = config.workers;
        let state = actix_web::web::Data::new(AppState {
            pool: pool.clone(),
            config: Arc::new(config),
            csrf: auth::csrf::CsrfKey::new(csrf_key.into_bytes()),
            limits,
            mailer: Arc::new(mailer),
            events: tokio::sync::broadcast::channel(256).0,
        });
        let mut server = actix_web::HttpServer::new(move || {
            // The last `wrap` runs first: log, then headers, then the security checks.
            actix_web::App::new()
                .app_data(state.clone())
                .configure(web::routes::configure)
                .default_service(actix_web::web::to(web::routes::not_found))
                .wrap(Compress::default())
                .wrap(from_fn(web::security::security))
                .wrap(web::middleware::security_headers())
                .wrap(from_fn(web::middleware::log_requests))
        })
        .shutdown_timeout(30);
        if workers > 0 {
            server = server.workers(workers);
        }
        let server = server.listen(listener)?.run();
        Ok(App { port, server, pool })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// A handle that stops the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped (SIGTERM or SIGINT stop it gracefully:
    /// requests in flight finish).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
