//! The command line: serve, migrate, import-articles, import-comments, export, import-site, backup,
//! admin, send-digests.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use std::net::IpAddr;

use afterword::auth::{password, ratelimit::RateLimitConfig, Role};
use afterword::config::{Config, DEFAULT_BIND, DEFAULT_DATABASE_URL};
use afterword::db;
use afterword::db::users::{self, SessionLifetime};
use afterword::domain::{Email, NewPassword, Username};
use afterword::{import, transfer, App};

#[derive(Parser)]
#[command(name = "afterword", version, about = "A discussion board for article pages")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (runs pending migrations first)
    Serve(Box<ServeArgs>),
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
    /// Write the whole site to FILE as JSON lines (accounts without their passwords),
    /// for `import-site`
    Export {
        #[command(flatten)]
        db: DbArgs,
        /// A new file (an existing one is not overwritten)
        file: PathBuf,
    },
    /// Restore an export into an empty database, SQLite or PostgreSQL: all of it or
    /// nothing
    ImportSite {
        #[command(flatten)]
        db: DbArgs,
        /// A file written by `afterword export`
        file: PathBuf,
    },
    /// Copy the database to FILE: SQLite with VACUUM INTO (safe while the site
    /// serves), PostgreSQL with pg_dump (or the command to run, without it)
    Backup {
        #[command(flatten)]
        db: DbArgs,
        /// A new file (an existing one is not overwritten)
        file: PathBuf,
    },
    /// Import comments from Disqus, WordPress, Isso or Remark42: all or nothing, and
    /// running it again changes nothing
    ImportComments {
        #[command(flatten)]
        db: DbArgs,
        /// disqus (XML export), wordpress (WXR export), isso (its SQLite database
        /// file) or remark42 (a backup file); gzip-compressed files are read as they are
        #[arg(long)]
        format: afterword::comment_import::Format,
        /// The site's address, for thread addresses that are only a path (Isso)
        #[arg(long)]
        site_url: Option<url::Url>,
        /// Check the file and print what would be imported, writing nothing
        #[arg(long)]
        dry_run: bool,
        file: PathBuf,
    },
    /// Manage administrators and roles
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Send the email digests that are due now (what `serve` does on its schedule), then
    /// exit; safe beside running servers: whoever holds the digests' lease sends
    SendDigests(SendDigestsArgs),
}

#[derive(Args)]
struct SendDigestsArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Public address of the site, for the digests' links
    #[arg(long, env = "AFTERWORD_BASE_URL", default_value = "http://127.0.0.1:8080/",
          value_parser = afterword::config::parse_base_url)]
    base_url: url::Url,
    /// SMTP server for outgoing email (without it, digests are kept in the outbox)
    #[arg(long, env = "SMTP_URL")]
    smtp_url: Option<String>,
    /// Sender of the site's email
    #[arg(long, env = "AFTERWORD_MAIL_FROM", default_value = "Afterword <noreply@localhost>")]
    mail_from: String,
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
    /// Address to serve Prometheus metrics on, at /metrics (default: none, no metrics);
    /// keep it private: it is not the site's address
    #[arg(long, env = "AFTERWORD_METRICS_BIND")]
    metrics_bind: Option<String>,
    #[command(flatten)]
    db: DbArgs,
    /// Public address of the site, for absolute links (default: http://BIND/)
    #[arg(long, env = "AFTERWORD_BASE_URL", value_parser = afterword::config::parse_base_url)]
    base_url: Option<url::Url>,
    /// Load the sample articles into an empty database
    #[arg(long, env = "AFTERWORD_DEMO")]
    demo: bool,
    /// HTTP worker threads (0: one per CPU core)
    #[arg(long, env = "AFTERWORD_WORKERS", default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=1024))]
    workers: u16,
    /// Largest number of open database connections
    #[arg(long, env = "AFTERWORD_POOL_SIZE", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pool_size: u32,
    /// Proxies whose X-Forwarded-For is believed (comma-separated addresses)
    #[arg(long, env = "AFTERWORD_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<IpAddr>,
    /// Requests per minute per client address (0: no limit)
    #[arg(long, env = "AFTERWORD_RATE_LIMIT", default_value_t = RateLimitConfig::default().requests_per_minute,
          value_parser = clap::value_parser!(u32).range(0..=MAX_RATE))]
    rate_limit: u32,
    /// Login, sign-up and password-reset attempts per minute per client address (0: no limit)
    #[arg(long, env = "AFTERWORD_AUTH_RATE_LIMIT", default_value_t = RateLimitConfig::default().auth_per_minute,
          value_parser = clap::value_parser!(u32).range(0..=MAX_RATE))]
    auth_rate_limit: u32,
    /// Comments per account per minute (0: no limit; accounts less than a day old: 2)
    #[arg(long, env = "AFTERWORD_COMMENT_RATE_LIMIT", default_value_t = RateLimitConfig::default().comments_per_minute,
          value_parser = clap::value_parser!(u32).range(0..=MAX_RATE))]
    comment_rate_limit: u32,
    /// Comments per account per day (0: no limit; accounts less than a day old: 20)
    #[arg(long, env = "AFTERWORD_COMMENT_DAILY_LIMIT", default_value_t = RateLimitConfig::default().comments_per_day,
          value_parser = clap::value_parser!(u32).range(0..=MAX_RATE))]
    comment_daily_limit: u32,
    /// Minutes after posting during which the author may edit a comment
    #[arg(long, env = "AFTERWORD_EDIT_WINDOW_MINUTES", default_value_t = 60,
          value_parser = clap::value_parser!(i64).range(0..=MAX_EDIT_WINDOW_MINUTES))]
    edit_window_minutes: i64,
    /// A session ends after this many days without use
    #[arg(long, env = "AFTERWORD_SESSION_IDLE_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(i64).range(1..=MAX_SESSION_DAYS))]
    session_idle_days: i64,
    /// A session ends this many days after login, used or not
    #[arg(long, env = "AFTERWORD_SESSION_MAX_DAYS", default_value_t = 365,
          value_parser = clap::value_parser!(i64).range(1..=MAX_SESSION_DAYS))]
    session_max_days: i64,
    /// SMTP server for outgoing email, e.g. smtps://user:pass@mail.example:465
    /// (without it, email is kept in the outbox that admins read at /admin/outbox)
    #[arg(long, env = "SMTP_URL")]
    smtp_url: Option<String>,
    /// Sender of the site's email
    #[arg(long, env = "AFTERWORD_MAIL_FROM", default_value = "Afterword <noreply@localhost>")]
    mail_from: String,
    /// New accounts must confirm their email address before they may comment
    #[arg(long, env = "AFTERWORD_REQUIRE_EMAIL_VERIFICATION")]
    require_email_verification: bool,
    /// Seconds a client may take no response data before it is disconnected
    #[arg(long, env = "AFTERWORD_WRITE_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS as u64))]
    write_timeout: u64,
    /// Seconds within which a request body must arrive completely (else 408)
    #[arg(long, env = "AFTERWORD_BODY_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS as u64))]
    body_timeout: u64,
    /// Seconds within which the request line and headers must arrive (else 408)
    #[arg(long, env = "AFTERWORD_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=MAX_TIMEOUT_SECS as u64))]
    header_timeout: u64,
    /// Open connections one client address may hold (more are closed at once)
    #[arg(long, env = "AFTERWORD_CONNECTIONS_PER_ADDRESS", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    connections_per_address: u32,
    /// Seconds between this instance's checks for due email digests (0: it sends none;
    /// another instance or `afterword send-digests` must)
    #[arg(long, env = "AFTERWORD_DIGEST_INTERVAL", default_value_t = 60, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    digest_interval: u64,
}

/// Bounds of the numeric flags: beyond them a value is a mistake (and could overflow).
const MAX_RATE: i64 = 1_000_000;
const MAX_EDIT_WINDOW_MINUTES: i64 = 60 * 24 * 366;
const MAX_SESSION_DAYS: i64 = 3660;
const MAX_TIMEOUT_SECS: i64 = 3600;

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator. The password is read from AFTERWORD_ADMIN_PASSWORD or,
    /// when that is unset, from the first line of standard input.
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
    },
    /// Set a new password for an account (for sites without email) and end its
    /// sessions. The password is read from AFTERWORD_ADMIN_PASSWORD or, when that is
    /// unset, from the first line of standard input.
    ResetPassword {
        #[command(flatten)]
        db: DbArgs,
        username: String,
    },
    /// Give an account a role: reader, moderator or admin
    SetRole {
        #[command(flatten)]
        db: DbArgs,
        username: String,
        role: String,
    },
}

fn main() -> ExitCode {
    afterword::telemetry::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(*args),
        Command::Migrate(args) => migrate(&args.database_url),
        Command::ImportArticles { db, file } => import_articles(&db.database_url, &file),
        Command::Export { db, file } => export(&db.database_url, &file),
        Command::ImportSite { db, file } => import_site(&db.database_url, &file),
        Command::Backup { db, file } => backup(&db.database_url, &file),
        Command::ImportComments { db, format, site_url, dry_run, file } => {
            let options = afterword::service::imports::Options { format, site_url, dry_run };
            import_comments(&db.database_url, &file, &options)
        }
        Command::Admin(AdminCommand::Create { db, username, email }) => {
            admin_create(&db.database_url, &username, &email)
        }
        Command::Admin(AdminCommand::SetRole { db, username, role }) => set_role(&db.database_url, &username, &role),
        Command::Admin(AdminCommand::ResetPassword { db, username }) => reset_password(&db.database_url, &username),
        Command::SendDigests(args) => send_digests(args),
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
        metrics_bind: args.metrics_bind,
        database_url: args.db.database_url,
        base_url,
        demo: args.demo,
        pool_size: args.pool_size,
        db_timeout: Duration::from_secs(5),
        workers: usize::from(args.workers),
        trusted_proxies: args.trusted_proxies,
        rate_limits: RateLimitConfig {
            requests_per_minute: args.rate_limit,
            auth_per_minute: args.auth_rate_limit,
            comments_per_minute: args.comment_rate_limit,
            comments_per_day: args.comment_daily_limit,
            // Turning a limit off turns it off for new accounts too.
            new_account_comments_per_minute: if args.comment_rate_limit == 0 { 0 } else { 2 },
            new_account_comments_per_day: if args.comment_daily_limit == 0 { 0 } else { 20 },
            ..RateLimitConfig::default()
        },
        session_lifetime: SessionLifetime {
            idle: time::Duration::days(args.session_idle_days),
            absolute: time::Duration::days(args.session_max_days),
        },
        smtp_url: args.smtp_url,
        mail_from: args.mail_from,
        require_email_verification: args.require_email_verification,
        edit_window: time::Duration::minutes(args.edit_window_minutes),
        write_timeout: Duration::from_secs(args.write_timeout),
        body_timeout: Duration::from_secs(args.body_timeout),
        header_timeout: Duration::from_secs(args.header_timeout),
        connections_per_address: args.connections_per_address as usize,
        hashers: afterword::auth::password::Hashers::for_this_machine(),
        digest_interval: (args.digest_interval > 0).then(|| Duration::from_secs(args.digest_interval)),
    };
    raise_open_file_limit();
    return_large_allocations_at_once();
    return_freed_memory_periodically();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async {
        let starting = App::bind(config.clone()).await?;
        tracing::info!(
            "starting on http://{} (/readyz answers 503 until the database is ready)",
            display_addr(&config.bind, starting.port())
        );
        let app = starting.ready().await?;
        return_freed_memory();
        release_relocation_table();
        app.end_streams_on_signal()?;
        if let (Some(bind), Some(port)) = (&config.metrics_bind, app.metrics_port()) {
            tracing::info!("metrics on http://{}/metrics", display_addr(bind, port));
        }
        tracing::info!("listening on http://{}", display_addr(&config.bind, app.port()));
        app.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Memory freed after a burst (answers held for slow readers, many sessions at once)
/// stays in glibc's heaps and arenas unless trimmed: every 30 s, give what is free at
/// their tops back to the system.
fn return_freed_memory_periodically() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    std::thread::Builder::new()
        .name("malloc-trim".into())
        .spawn(|| loop {
            std::thread::sleep(std::time::Duration::from_secs(30));
            return_freed_memory();
        })
        .map(|_| ())
        .unwrap_or_else(|err| tracing::warn!(%err, "could not start the memory trimmer"));
}

/// Gives what is free in glibc's heaps back to the system: periodically, and once
/// start-up (migrations, the demo seed, TLS set-up) is done.
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The dynamic loader reads this binary's relocation table (`.rela.dyn`, about 1 MiB)
/// once, before `main`, and nothing reads it again: its pages are given back. They are
/// clean pages of the executable's file, read from it again should anything look.
fn release_relocation_table() {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    if let Some((start, len)) = relocation_table() {
        // SAFETY: whole pages inside the table, in a read-only private mapping of the
        // executable: dropping them loses nothing the file does not hold.
        unsafe {
            libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED);
        }
    }
}

/// The whole pages of the executable's relocation table, as (address, length), found
/// through its dynamic section (`DT_RELA`, `DT_RELASZ`).
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn relocation_table() -> Option<(usize, usize)> {
    /// An entry of the dynamic section (`Elf64_Dyn`).
    #[repr(C)]
    struct Dyn {
        tag: i64,
        value: u64,
    }
    const DT_NULL: i64 = 0;
    const DT_RELA: i64 = 7;
    const DT_RELASZ: i64 = 8;

    unsafe extern "C" fn executable(
        info: *mut libc::dl_phdr_info,
        _size: libc::size_t,
        found: *mut libc::c_void,
    ) -> libc::c_int {
        // SAFETY: the loader hands a valid description of each loaded object, the
        // executable first; `found` is the `Option` passed below. The dynamic section
        // it names is mapped and ends with `DT_NULL`.
        unsafe {
            let (info, found) = (&*info, &mut *found.cast::<Option<(usize, usize)>>());
            let base = info.dlpi_addr as usize;
            let headers = std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum));
            if let Some(dynamic) = headers.iter().find(|h| h.p_type == libc::PT_DYNAMIC) {
                let (mut table, mut size) = (0, 0);
                let mut entry = (base + dynamic.p_vaddr as usize) as *const Dyn;
                while (*entry).tag != DT_NULL {
                    match (*entry).tag {
                        DT_RELA => table = (*entry).value as usize,
                        DT_RELASZ => size = (*entry).value as usize,
                        _ => {}
                    }
                    entry = entry.add(1);
                }
                // The loader may have made the address absolute in place.
                let table = if table < base { base + table } else { table };
                let page = usize::try_from(libc::sysconf(libc::_SC_PAGESIZE)).unwrap_or(4096);
                let (start, end) = (table.next_multiple_of(page), (table + size) / page * page);
                if table != 0 && end > start {
                    *found = Some((start, end - start));
                }
            }
        }
        1 // The executable is the first object: stop.
    }

    let mut found: Option<(usize, usize)> = None;
    // SAFETY: the callback reads what the loader describes and writes only `found`.
    unsafe {
        libc::dl_iterate_phdr(Some(executable), (&raw mut found).cast());
    }
    found
}

/// Each password hash takes a 19 MiB block. glibc's malloc otherwise raises its mmap
/// threshold after the first such block is freed and keeps later ones in per-thread
/// arenas, so memory grows with the blocking threads that ever hashed (545 MiB peak
/// for 200 logins, against 108 MiB with a fixed threshold): fix it at 1 MiB so large
/// blocks are mapped and returned to the system when freed.
fn return_large_allocations_at_once() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc tunable.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Each connection is an open file: raise the soft limit to the hard one, so that the
/// connection caps, not the default of 1,024 files, bound them.
fn raise_open_file_limit() {
    // SAFETY: getrlimit and setrlimit read and write a plain struct we own.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 || limit.rlim_cur >= limit.rlim_max {
            return;
        }
        let before = limit.rlim_cur;
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
            tracing::debug!(before, after = limit.rlim_max, "raised the open-file limit");
        }
    }
}

fn display_addr(bind: &str, port: u16) -> String {
    let host = bind.rsplit_once(':').map_or(bind, |(host, _)| host);
    format!("{host}:{port}")
}

fn migrate(url: &str) -> anyhow::Result<()> {
    // Under the start-up lock: several `migrate` at once all succeed.
    let (_, applied, target) = db::open_migrated(url)?;
    if applied.is_empty() {
        println!("{target} is up to date");
    } else {
        println!("applied {} migration(s) to {target}: {}", applied.len(), applied.join(", "));
    }
    Ok(())
}

fn send_digests(args: SendDigestsArgs) -> anyhow::Result<()> {
    use afterword::service::digests::{self, Run, Site};
    let mailer = afterword::mail::Mailer::new(args.smtp_url.as_deref(), &args.mail_from)?;
    let pool = db::connect(&args.db.database_url, 2, Duration::from_secs(5))?;
    let key = {
        let mut conn = pool.get()?;
        db::settings::get_or_insert_with(&mut conn, "csrf_key", afterword::auth::random_token)?
    };
    let site = Site { base_url: args.base_url, key: afterword::auth::csrf::CsrfKey::new(key.into_bytes()) };
    let holder = format!("send-digests-{}", std::process::id());
    let report = digests::run_due(&pool, &mailer, &site, &Run::now(holder))?;
    if !report.leased {
        println!("another instance is sending the digests now; nothing done");
        return Ok(());
    }
    println!(
        "digests: {} sent, {} with nothing new, {} to unconfirmed addresses (not sent)",
        report.sent, report.nothing_new, report.unconfirmed
    );
    if mailer.smtp() {
        println!("SMTP: {} delivered, {} refused", report.smtp_sent, report.smtp_failed);
    }
    Ok(())
}

fn import_articles(url: &str, file: &PathBuf) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("could not read {}: {e}", file.display()))?;
    let items = import::parse(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", file.display()))?;
    let (mut conn, _, _) = db::open_migrated(url)?;
    let total = items.len();
    let show_progress = total >= 1_000 || (total >= 100 && std::io::stderr().is_terminal());
    let step = (total / 20).max(1);
    let mut progress = |done: usize| {
        if show_progress && (done % step == 0 || done == total) {
            eprintln!("… {done}/{total} ({}%)", done * 100 / total);
        }
    };
    let summary = db::articles::import_from_command_line(&mut conn, &items, &mut progress)
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

/// "3 articles, 1 settings, …": rows per table.
fn describe_counts(counts: &transfer::Counts) -> String {
    if counts.is_empty() {
        return "no rows".to_owned();
    }
    counts.iter().map(|(table, n)| format!("{n} {table}")).collect::<Vec<_>>().join(", ")
}

fn export(url: &str, file: &Path) -> anyhow::Result<()> {
    let out = std::fs::OpenOptions::new().write(true).create_new(true).open(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            anyhow::anyhow!(
                "{} already exists: an export goes to a new file (remove it or choose another name)",
                file.display()
            )
        }
        _ => anyhow::anyhow!("could not create {}: {e}", file.display()),
    })?;
    let written = db::open_migrated(url).map_err(anyhow::Error::from).and_then(|(mut conn, _, target)| {
        let mut out = std::io::BufWriter::new(out);
        let counts = transfer::export(&mut conn, &mut out)?;
        Ok((counts, target))
    });
    match written {
        Ok((counts, target)) => {
            let total: u64 = counts.values().sum();
            println!("exported {total} rows of {target} to {}: {}", file.display(), describe_counts(&counts));
            println!(
                "Accounts are exported without their passwords: after import-site each account sets a new \
                 one (the password reset by email, or `afterword admin reset-password NAME`)."
            );
            Ok(())
        }
        Err(err) => {
            // No half-written export is left behind.
            let _ = std::fs::remove_file(file);
            Err(err.context(format!("{}: nothing was exported", file.display())))
        }
    }
}

fn import_site(url: &str, file: &Path) -> anyhow::Result<()> {
    let input = std::fs::File::open(file).map_err(|e| anyhow::anyhow!("could not read {}: {e}", file.display()))?;
    let (mut conn, _, target) = db::open_migrated(url)?;
    let mut input = std::io::BufReader::new(input);
    let counts = transfer::import_site(&mut conn, &mut input)
        .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was written", file.display()))?;
    let total: u64 = counts.values().sum();
    println!("restored {total} rows from {} into {target}: {}", file.display(), describe_counts(&counts));
    let accounts = counts.get("users").copied().unwrap_or(0);
    if accounts > 0 {
        println!(
            "The {accounts} account(s) have no password yet: each sets one with the password reset by email \
             (/password-reset), or an administrator runs `afterword admin reset-password NAME`."
        );
    }
    Ok(())
}

fn backup(url: &str, file: &Path) -> anyhow::Result<()> {
    match transfer::backup(url, file)? {
        transfer::Backup::Sqlite { file } => {
            println!("backed up the SQLite database to {} (a consistent copy, made with VACUUM INTO)", file.display());
            println!(
                "To restore: stop afterword, delete the database file and its -wal and -shm files, copy {} to \
                 the database's path, and start afterword.",
                file.display()
            );
        }
        transfer::Backup::Dumped { file, restore } => {
            println!("backed up the PostgreSQL database to {} with pg_dump --format=custom", file.display());
            println!("To restore: {restore}");
        }
        transfer::Backup::Command { dump, restore } => {
            println!("pg_dump is not installed here (PostgreSQL's client tools). Where it is, run:\n  {dump}");
            println!("To restore: {restore}");
        }
    }
    Ok(())
}

fn import_comments(
    url: &str,
    file: &std::path::Path,
    options: &afterword::service::imports::Options,
) -> anyhow::Result<()> {
    use afterword::service::imports::{import_file, Progress};
    if !file.is_file() {
        anyhow::bail!("could not read {}: no such file", file.display());
    }
    let (mut conn, _, _) = db::open_migrated(url)?;
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_message(format!("checking {}", file.display()));
    let mut writing = false;
    let mut progress = |p: Progress| match p {
        Progress::Checking { records } => {
            bar.set_message(format!("checking {}: {records} records", file.display()));
            bar.tick();
        }
        Progress::Writing { done, total } => {
            if !writing {
                writing = true;
                bar.set_length(total);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} comments ({eta})")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar.set_message("importing");
            }
            bar.set_position(done);
        }
    };
    let result = import_file(&mut conn, file, options, &mut progress);
    bar.finish_and_clear();
    let summary = result.map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", file.display()))?;
    let verb = if summary.dry_run { "would import" } else { "imported" };
    println!("{verb} {} ({})", file.display(), summary.format.label());
    for line in summary.lines() {
        println!("  {line}");
    }
    Ok(())
}

/// A password from AFTERWORD_ADMIN_PASSWORD, else the first line of standard input.
fn read_password(username: &str) -> anyhow::Result<String> {
    match std::env::var("AFTERWORD_ADMIN_PASSWORD") {
        Ok(p) => Ok(p),
        Err(_) => {
            if std::io::stdin().is_terminal() {
                eprintln!("Password for {username} (input is shown; end with Enter):");
            }
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            Ok(line.trim_end_matches(['\r', '\n']).to_owned())
        }
    }
}

fn reset_password(url: &str, username: &str) -> anyhow::Result<()> {
    let (mut conn, _, _) = db::open_migrated(url)?;
    let user =
        users::find_by_username(&mut conn, username)?.ok_or_else(|| anyhow::anyhow!("no account named {username}"))?;
    let password = read_password(&user.username)?;
    let password = NewPassword::parse(&password, &user.username).map_err(|p| anyhow::anyhow!("password: {p}"))?;
    let hash = password::hash(password.as_str());
    users::set_password(&mut conn, user.id, &hash, None)?;
    db::live::announce_to_running_sites(&mut conn, &format!("u:{}", user.id.0))?;
    println!("set a new password for {}; their sessions have ended", user.username);
    Ok(())
}

fn admin_create(url: &str, username: &str, email: &str) -> anyhow::Result<()> {
    let password = read_password(username)?;
    Username::parse(username).map_err(|p| anyhow::anyhow!("username: {p}"))?;
    Email::parse(email).map_err(|p| anyhow::anyhow!("email: {p}"))?;
    let password = NewPassword::parse(&password, username).map_err(|p| anyhow::anyhow!("password: {p}"))?;
    let (mut conn, _, _) = db::open_migrated(url)?;
    let hash = password::hash(password.as_str());
    let new =
        users::NewUser { username, email, password_hash: &hash, role: Role::Admin, keep_taken_email_pending: false };
    match users::create(&mut conn, &new) {
        Ok(created) => {
            db::moderation::log_command_line_role(&mut conn, created.id, username, Role::Admin)?;
            println!("created the administrator {username}");
            Ok(())
        }
        Err(users::CreateError::Taken(users::Taken::Username)) => {
            anyhow::bail!("the username {username} is taken")
        }
        Err(users::CreateError::Taken(users::Taken::Email)) => {
            anyhow::bail!("an account already uses {email}")
        }
        Err(users::CreateError::Db(e)) => Err(e.into()),
    }
}

fn set_role(url: &str, username: &str, role: &str) -> anyhow::Result<()> {
    let role =
        role.parse::<Role>().map_err(|_| anyhow::anyhow!("unknown role {role:?}: use reader, moderator or admin"))?;
    let (mut conn, _, _) = db::open_migrated(url)?;
    let user =
        users::find_by_username(&mut conn, username)?.ok_or_else(|| anyhow::anyhow!("no account named {username}"))?;
    if db::moderation::set_role_from_command_line(&mut conn, user.id, role)? {
        println!("{} is now {}", user.username, role.as_str());
    } else {
        println!("{} is already {}", user.username, role.as_str());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// The relocation table is found inside this executable's first mapping, and giving
    /// it back lowers what of that mapping is resident.
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    #[test]
    fn the_relocation_table_is_found_and_given_back() {
        let (start, len) = super::relocation_table().expect("a PIE executable has one");
        // SAFETY: sysconf only reads a setting.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap();
        assert!(len >= page && start % page == 0 && len % page == 0, "{start:#x} {len}");
        let resident = || {
            let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
            let mut inside = false;
            for line in smaps.lines() {
                if let Some((range, _)) = line.split_once(' ').filter(|(r, _)| r.contains('-') && !r.ends_with(':')) {
                    let (from, to) = range.split_once('-').unwrap();
                    let (from, to) = (usize::from_str_radix(from, 16).unwrap(), usize::from_str_radix(to, 16).unwrap());
                    inside = from <= start && start + len <= to;
                } else if inside && line.starts_with("Rss:") {
                    return line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 1024;
                }
            }
            panic!("no mapping holds {start:#x}");
        };
        // Read it all (as the loader did), then give it back.
        // SAFETY: the pages are mapped and readable: they are part of this executable.
        let sum = (start..start + len).step_by(page).map(|at| unsafe { *(at as *const u8) } as usize).sum::<usize>();
        std::hint::black_box(sum);
        let before = resident();
        super::release_relocation_table();
        let after = resident();
        assert!(after + len / 2 <= before, "resident {before} before, {after} after giving back {len}");
    }
}
