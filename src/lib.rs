//! Afterword: a discussion board for article pages.

pub mod assets;
pub mod auth;
pub mod comment_import;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod gzip;
pub mod import;
pub mod mail;
pub mod markdown;
pub mod ranking;
pub mod service;
pub mod telemetry;
pub mod text;
pub mod transfer;
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
    /// The metrics listener's server and port, with `--metrics-bind`.
    metrics: Option<(Server, u16)>,
    pool: DbPool,
    shutdown: Arc<tokio::sync::watch::Sender<bool>>,
    cache: Arc<web::cache::PageCache>,
}

/// An application that has bound its addresses and answers on them at once, as one
/// that is starting (`/readyz` 503, `/healthz` 200, everything else 503 with
/// `Retry-After`), while [`Starting::ready`] connects, migrates and builds the site.
pub struct Starting {
    config: Config,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    port: u16,
    stand_in: actix_web::dev::ServerHandle,
    stand_in_task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Serves the application on `listener`: HTTP/1.1 through actix-server with the
/// connection limits of `web::connection` (write timeout, per-address cap) and the
/// header and body deadlines of the configuration.
fn http_server(listener: TcpListener, state: actix_web::web::Data<AppState>) -> std::io::Result<Server> {
    use actix_service::ServiceFactoryExt;
    use web::connection::{ConnectionLimit, GuardedStream};

    let config = state.config.clone();
    let connections = ConnectionLimit::new(config.connections_per_address.max(1), config.trusted_proxies.clone());
    let mut builder = actix_server::Server::build().shutdown_timeout(30);
    if config.workers > 0 {
        builder = builder.workers(config.workers);
    }
    // Tells idle keep-alive connections to close when the server stops.
    let stopping = builder.graceful_shutdown_signal();
    let server = builder
        .listen("afterword", listener, move || {
            let state = state.clone();
            web::live::spawn_worker_link(&state);
            // The last `wrap` runs first: log, then metrics, then headers, then JSON errors,
            // then the body deadline, then the security checks, then compression, then the
            // error pages (rendered for the visitor), then the page cache. The embed's headers
            // (CORS, the frame's ancestors) go over the security headers.
            let app = actix_web::App::new()
                .app_data(state.clone())
                .configure(web::routes::configure)
                .default_service(actix_web::web::to(web::routes::not_found))
                .wrap(from_fn(web::cache::middleware))
                .wrap(from_fn(web::error::pages))
                .wrap(Compress::default())
                .wrap(from_fn(web::security::security))
                .wrap(from_fn(web::connection::body_deadline))
                .wrap(from_fn(web::middleware::json_errors))
                .wrap(web::middleware::security_headers(&state.config))
                .wrap(from_fn(web::embed::headers))
                .wrap(from_fn(web::metrics::middleware))
                .wrap(tracing_actix_web::TracingLogger::<web::middleware::AccessLog>::new());
            let stopping = stopping.clone();
            let http = actix_http::HttpService::build()
                .graceful_shutdown_signal(move || {
                    let stopping = stopping.clone();
                    async move { stopping.notified().await }
                })
                .client_request_timeout(config.header_timeout)
                .client_disconnect_timeout(Duration::from_secs(1))
                .h1(actix_service::map_config(app, |_| actix_web::dev::AppConfig::default()));
            let connections = connections.clone();
            let write_timeout = config.write_timeout;
            actix_service::fn_service(move |io: tokio::net::TcpStream| {
                let peer = io.peer_addr().ok();
                let slot = match peer {
                    Some(addr) => connections.admit(addr.ip()),
                    None => None,
                };
                async move {
                    match (peer, slot) {
                        (Some(_), None) => Err(actix_http::error::DispatchError::Io(std::io::Error::new(
                            std::io::ErrorKind::ConnectionRefused,
                            "too many connections from one address",
                        ))),
                        (peer, slot) => Ok((GuardedStream::new(io, write_timeout, slot), peer)),
                    }
                }
            })
            .and_then(http)
        })?
        .run();
    Ok(server)
}

/// The stand-in that answers on the site's address while it starts (see `Starting`).
fn stand_in_server(listener: TcpListener) -> std::io::Result<Server> {
    Ok(actix_web::HttpServer::new(|| actix_web::App::new().default_service(actix_web::web::to(web::health::starting)))
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)?
        .run())
}

/// Serves `/metrics` (and nothing else) on `listener`.
fn metrics_server(listener: TcpListener, state: actix_web::web::Data<AppState>) -> std::io::Result<Server> {
    Ok(actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(state.clone())
            .route("/metrics", actix_web::web::get().to(web::metrics::scrape))
            .default_service(actix_web::web::to(actix_web::HttpResponse::NotFound))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run())
}

impl App {
    /// Binds the listeners (first: nothing is created or migrated when an address is
    /// taken), connects to the database, runs migrations (and the demo seed when
    /// asked). Errors say what failed. Meanwhile the site's address answers as one
    /// that is starting (see [`App::bind`]).
    pub async fn build(config: Config) -> anyhow::Result<App> {
        App::bind(config).await?.ready().await
    }

    /// Binds the site's address (and the metrics address, when set) and answers on the
    /// first at once as a site that is starting: `/readyz` 503, `/healthz` 200. Needs a
    /// Tokio runtime.
    pub async fn bind(config: Config) -> anyhow::Result<Starting> {
        let listener =
            TcpListener::bind(&config.bind).map_err(|e| anyhow::anyhow!("could not listen on {}: {e}", config.bind))?;
        let port = listener.local_addr()?.port();
        let metrics_listener = match &config.metrics_bind {
            Some(bind) => Some(
                TcpListener::bind(bind).map_err(|e| anyhow::anyhow!("could not listen for metrics on {bind}: {e}"))?,
            ),
            None => None,
        };
        // The stand-in accepts on a second handle of the same socket: when it stops, the
        // socket stays open, and connections arriving meanwhile wait for the site.
        let stand_in = stand_in_server(listener.try_clone()?)?;
        let handle = stand_in.handle();
        let stand_in_task = tokio::spawn(stand_in);
        Ok(Starting { config, listener, metrics_listener, port, stand_in: handle, stand_in_task })
    }
}

impl Starting {
    /// The site's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connects to the database, runs migrations (and the demo seed when asked) under
    /// the start-up lock, builds the site and hands the address over to it (not yet
    /// serving: see [`App::run_until_stopped`]). The stand-in stops in any case.
    pub async fn ready(self) -> anyhow::Result<App> {
        let Starting { config, listener, metrics_listener, port, stand_in, stand_in_task } = self;
        let built = build_site(config, listener, metrics_listener, port).await;
        // Requests in flight on the stand-in get their answer; new ones wait in the
        // socket's queue for the site.
        stand_in.stop(true).await;
        let _ = stand_in_task.await;
        built
    }
}

async fn build_site(
    config: Config,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    port: u16,
) -> anyhow::Result<App> {
    let db_config = config.clone();
    let (pool, health, (csrf_key, origins)) = tokio::task::spawn_blocking(move || {
        assets::prepare();
        // Migrations, the demo seed and the shared key all run under the start-up
        // lock: instances starting together on one database take turns.
        db::connect_with(&db_config.database_url, db_config.pool_size, db_config.db_timeout, |conn| {
            if db_config.demo {
                match demo::seed(conn)? {
                    Some(s) => tracing::info!(created = s.created, "loaded the demo articles"),
                    None => tracing::info!("demo articles not loaded: the database already has articles"),
                }
            }
            // Shared by every instance of the site: a form one serves, all accept.
            let key = db::settings::get_or_insert_with(conn, "csrf_key", auth::random_token)?;
            let origins = db::embed::origins(conn)?;
            anyhow::Ok((key, origins))
        })
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

    let gate = Arc::new(web::DbGate::new(&config, health));
    let live = Arc::new(web::live::Hub::new());
    let cache = Arc::new(web::cache::PageCache::default());
    let metrics = metrics_listener.as_ref().map(|_| {
        Arc::new(web::metrics::Metrics::new(pool.clone(), gate.clone(), live.clone(), cache.clone(), config.pool_size))
    });
    let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
    let state = actix_web::web::Data::new(AppState {
        pool: pool.clone(),
        gate,
        config: Arc::new(config),
        csrf: auth::csrf::CsrfKey::new(csrf_key.into_bytes()),
        limits,
        mailer: Arc::new(mailer),
        live,
        cache,
        shutdown: shutdown_rx,
        metrics,
        origins: Arc::new(web::embed::Origins::default()),
        posts: Default::default(),
    });
    state.origins.replace(origins);
    let metrics = match metrics_listener {
        Some(listener) => {
            let port = listener.local_addr()?.port();
            Some((metrics_server(listener, state.clone())?, port))
        }
        None => None,
    };
    service::comments::PostQueue::start(state.clone());
    web::live::spawn_upkeep(state.clone());
    web::embed::spawn_refresh(state.clone());
    if let db::DbUrl::Postgres(url) = db::DbUrl::parse(&state.config.database_url)? {
        web::live::spawn_listener(state.clone(), url);
    }
    if let Some(watch) = db::connection::ChangeWatch::open(&state.config.database_url)? {
        state.cache.watch_with(move || watch.changed());
    }
    if let Some(every) = state.config.digest_interval {
        service::digests::spawn_schedule(state.clone(), every);
    }
    let cache = state.cache.clone();
    let server = http_server(listener, state)?;
    Ok(App { port, server, metrics, pool, shutdown: Arc::new(shutdown), cache })
}

impl App {
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

    /// Whether this instance hears the other instances' changes (on PostgreSQL, once
    /// its listener listens; until then it caches nothing).
    pub fn hearing(&self) -> bool {
        self.cache.hearing()
    }

    /// The metrics listener's port, with `--metrics-bind`.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    /// Serves until the server is stopped (SIGTERM or SIGINT stop it gracefully:
    /// requests in flight finish); the metrics listener stops with it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Some((metrics, _)) = self.metrics else {
            return self.server.await;
        };
        let metrics_handle = metrics.handle();
        let metrics_task = tokio::spawn(metrics);
        let result = self.server.await;
        metrics_handle.stop(true).await;
        let _ = metrics_task.await;
        result
    }

    /// On SIGTERM or SIGINT, ends the open event streams at once (the server itself
    /// stops on the same signals), so that they do not hold the shutdown.
    pub fn end_streams_on_signal(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            let _ = shutdown.send(true);
        });
        Ok(())
    }
}
