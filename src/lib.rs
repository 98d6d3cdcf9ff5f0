//! Afterword: a discussion board for article pages.

pub mod assets;
pub mod config;
pub mod db;
pub mod demo;
pub mod import;
pub mod views;
pub mod web;

use std::net::TcpListener;
use std::sync::Arc;

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
        let pool = tokio::task::spawn_blocking(move || {
            let pool = db::connect(
                &db_config.database_url,
                db_config.pool_size,
                db_config.db_timeout,
            )?;
            if db_config.demo {
                let mut conn = pool.get()?;
                match demo::seed(&mut conn)? {
                    Some(s) => tracing::info!(created = s.created, "loaded the demo articles"),
                    None => tracing::info!(
                        "demo articles not loaded: the database already has articles"
                    ),
                }
            }
            anyhow::Ok(pool)
        })
        .await??;

        let listener = TcpListener::bind(&config.bind)
            .map_err(|e| anyhow::anyhow!("could not listen on {}: {e}", config.bind))?;
        let port = listener.local_addr()?.port();
        let workers = config.workers;
        let state = actix_web::web::Data::new(AppState {
            pool: pool.clone(),
            config: Arc::new(config),
        });
        let mut server = actix_web::HttpServer::new(move || {
            actix_web::App::new()
                .app_data(state.clone())
                .configure(web::routes::configure)
                .default_service(actix_web::web::to(web::routes::not_found))
                .wrap(Compress::default())
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

    /// Serves until the server is stopped (SIGTERM or SIGINT stop it gracefully:
    /// requests in flight finish).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
