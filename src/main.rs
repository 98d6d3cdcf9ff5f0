//! The command line: serve, migrate, import-articles.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use diesel::r2d2::ManageConnection;

use afterword::config::{Config, DEFAULT_BIND, DEFAULT_DATABASE_URL};
use afterword::db::{self, connection::ConnectionManager, DbUrl};
use afterword::{import, App};

#[derive(Parser)]
#[command(
    name = "afterword",
    version,
    about = "A discussion board for article pages"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (runs pending migrations first)
    Serve(ServeArgs),
    /// Apply pending database migrations and exit
    Migrate(DbArgs),
    /// Import articles from a JSON file: all records or none
    ImportArticles {
        #[command(flatten)]
        db: DbArgs,
        /// A JSON array of articles (title, source_url, source_name, published_at,
        /// summary, key_takeaways, optional tags and slug)
        file: PathBuf,
    },
}

#[derive(Args)]
struct DbArgs {
    /// sqlite://PATH, a plain file path, or postgres://USER@HOST/DB
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on
    #[arg(long, env = "AFTERWORD_BIND", default_value = DEFAULT_BIND)]
    bind: String,
    #[command(flatten)]
    db: DbArgs,
    /// Public address of the site, for absolute links (default: http://BIND/)
    #[arg(long, env = "AFTERWORD_BASE_URL")]
    base_url: Option<url::Url>,
    /// Load the sample articles into an empty database
    #[arg(long, env = "AFTERWORD_DEMO")]
    demo: bool,
    /// HTTP worker threads (0: one per CPU core)
    #[arg(long, env = "AFTERWORD_WORKERS", default_value_t = 0)]
    workers: usize,
    /// Largest number of open database connections
    #[arg(long, env = "AFTERWORD_POOL_SIZE", default_value_t = 8)]
    pool_size: u32,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Migrate(args) => migrate(&args.database_url),
        Command::ImportArticles { db, file } => import_articles(&db.database_url, &file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let base_url = match args.base_url {
        Some(url) => url,
        None => url::Url::parse(&format!("http://{}/", args.bind))?,
    };
    let config = Config {
        bind: args.bind,
        database_url: args.db.database_url,
        base_url,
        demo: args.demo,
        pool_size: args.pool_size.max(1),
        db_timeout: Duration::from_secs(5),
        workers: args.workers,
    };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let app = App::build(config.clone()).await?;
            tracing::info!(
                "listening on http://{}",
                display_addr(&config.bind, app.port())
            );
            app.run_until_stopped().await?;
            tracing::info!("stopped");
            Ok(())
        })
}

fn display_addr(bind: &str, port: u16) -> String {
    let host = bind.rsplit_once(':').map_or(bind, |(host, _)| host);
    format!("{host}:{port}")
}

fn open(url: &str) -> anyhow::Result<(db::DbConn, String)> {
    let manager = ConnectionManager::new(DbUrl::parse(url)?)?;
    let conn = manager.connect()?;
    Ok((conn, manager.url().describe()))
}

fn migrate(url: &str) -> anyhow::Result<()> {
    let (mut conn, target) = open(url)?;
    let applied = db::run_migrations(&mut conn, &target)?;
    if applied.is_empty() {
        println!("{target} is up to date");
    } else {
        println!(
            "applied {} migration(s) to {target}: {}",
            applied.len(),
            applied.join(", ")
        );
    }
    Ok(())
}

fn import_articles(url: &str, file: &PathBuf) -> anyhow::Result<()> {
    let bytes = std::fs::read(file)
        .map_err(|e| anyhow::anyhow!("could not read {}: {e}", file.display()))?;
    let items = import::parse(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", file.display()))?;
    let (mut conn, target) = open(url)?;
    db::run_migrations(&mut conn, &target)?;
    let total = items.len();
    let show_progress = total >= 1_000 || (total >= 100 && std::io::stderr().is_terminal());
    let step = (total / 20).max(1);
    let mut progress = |done: usize| {
        if show_progress && (done % step == 0 || done == total) {
            eprintln!("… {done}/{total} ({}%)", done * 100 / total);
        }
    };
    let summary = db::articles::upsert_all(&mut conn, &items, &mut progress)
        .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", file.display()))?;
    println!(
        "imported {}: {} created, {} updated, {} unchanged",
        file.display(),
        summary.created,
        summary.updated,
        summary.unchanged
    );
    Ok(())
}
