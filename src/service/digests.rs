//! Email digests: readers opt in to a daily or weekly email of the replies to them and
//! the new top-level comments on the articles they saved.
//!
//! Sending runs in the server on a schedule ([`spawn_schedule`]) and from the command
//! line (`afterword send-digests`), through [`run_due`], which takes `now` so that tests
//! need not wait a day. Of several instances, the one holding the `digests` lease row
//! sends; each reader's digest is written to the outbox in the same transaction that
//! moves their watermark and next due time on, so that a crash never sends one twice.
//! With an SMTP server the outbox row is queued, then marked `sending` before the
//! network call and `sent` or `failed` after it (a crash between leaves it `sending`:
//! never sent twice, perhaps not at all).

use std::collections::BTreeMap;
use std::time::Duration;

use time::PrimitiveDateTime;

use crate::auth::csrf::CsrfKey;
use crate::db::{self, digests as store, outbox, DbConn, DbPool};
use crate::domain::{ArticleId, UserId};
use crate::mail::{Mail, Mailer};
use crate::web::{AppError, AppState};

/// The lease row's name.
pub const LEASE: &str = "digests";
/// How long a run holds the lease without renewing it: an instance that dies holding it
/// delays the digests by this much at most.
pub const LEASE_FOR: time::Duration = time::Duration::minutes(5);
/// Readers handled per batch (the lease is renewed between batches).
pub const BATCH: i64 = 20;
/// Articles one digest shows (the rest: "and K more").
pub const MAX_ARTICLES: usize = 10;
/// Comments shown per article (the rest: a link to the article).
pub const MAX_PER_ARTICLE: usize = 5;
/// Characters of a comment's excerpt.
pub const EXCERPT_CHARS: usize = 200;
/// Articles with news read per reader at most (a bound on the work of one digest).
const MAX_ARTICLES_READ: i64 = 500;

/// How often a reader gets a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Daily,
    Weekly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
        }
    }

    pub fn parse(value: &str) -> Option<Frequency> {
        match value {
            "daily" => Some(Frequency::Daily),
            "weekly" => Some(Frequency::Weekly),
            _ => None,
        }
    }

    pub fn period(self) -> time::Duration {
        match self {
            Frequency::Daily => time::Duration::days(1),
            Frequency::Weekly => time::Duration::weeks(1),
        }
    }
}

/// The settings' choice: off, daily or weekly; anything else is refused with a reason.
pub fn parse_choice(value: &str) -> Result<Option<Frequency>, &'static str> {
    match value.trim() {
        "off" => Ok(None),
        other => Frequency::parse(other).map(Some).ok_or("Choose off, daily or weekly."),
    }
}

/// A reader's digest setting: `off`, `daily` or `weekly`.
pub async fn setting(state: &AppState, user: UserId) -> Result<&'static str, AppError> {
    let sub = state.db(move |conn| Ok(store::subscription(conn, user)?)).await?;
    Ok(sub.and_then(|s| Frequency::parse(&s.frequency)).map_or("off", Frequency::as_str))
}

/// Turns a reader's digest on (what is new starts now), changes how often it comes, or
/// turns it off.
pub async fn choose(state: &AppState, user: UserId, choice: Option<Frequency>) -> Result<(), AppError> {
    state
        .db_tx(move |conn| {
            match choice {
                Some(f) => store::subscribe(conn, user, f.as_str(), f.period(), db::now())?,
                None => {
                    store::unsubscribe(conn, user)?;
                }
            }
            Ok(())
        })
        .await
}

/// The reader an unsubscribe link names and their setting (`off` when none), or 404
/// when the token is not genuine or names no account.
pub async fn unsubscribe_target(state: &AppState, token: &str) -> Result<(UserId, String, &'static str), AppError> {
    let user = UserId(state.csrf.unsubscribe_user(token).ok_or(AppError::NotFound)?);
    let (name, sub) = state
        .db(move |conn| {
            let name = store::recipient(conn, user)?.ok_or(AppError::NotFound)?.0;
            Ok((name, store::subscription(conn, user)?))
        })
        .await?;
    Ok((user, name, sub.and_then(|s| Frequency::parse(&s.frequency)).map_or("off", Frequency::as_str)))
}

/// Unsubscribes the reader an unsubscribe link names (404, nothing changed, when the
/// token is not genuine).
pub async fn unsubscribe(state: &AppState, token: &str) -> Result<(), AppError> {
    let (user, _, _) = unsubscribe_target(state, token).await?;
    state.db_tx(move |conn| Ok(store::unsubscribe(conn, user)?)).await?;
    tracing::info!(user_id = %user, "digest unsubscribed by link");
    Ok(())
}

/// What the digests need of the site.
#[derive(Clone)]
pub struct Site {
    /// The public address: the digests' links are absolute.
    pub base_url: url::Url,
    /// The site's key: unsubscribe links are signed with it.
    pub key: CsrfKey,
}

impl Site {
    fn link(&self, path: &str) -> String {
        self.base_url.join(path.trim_start_matches('/')).map(String::from).unwrap_or_default()
    }
}

/// One digest, ready to render.
#[derive(Debug, Clone)]
pub struct Digest {
    pub username: String,
    pub frequency: Frequency,
    pub articles: Vec<ArticleNews>,
    /// Articles with news that the digest does not show, and where to see them.
    pub more_articles: usize,
    pub more_url: String,
    /// New comments in all.
    pub total: i64,
    pub unsubscribe_url: String,
    pub settings_url: String,
}

/// What is new on one article.
#[derive(Debug, Clone)]
pub struct ArticleNews {
    pub title: String,
    pub url: String,
    pub items: Vec<Item>,
    /// New comments here that the digest does not show.
    pub more: i64,
}

/// One new comment.
#[derive(Debug, Clone)]
pub struct Item {
    pub author: String,
    pub excerpt: String,
    pub url: String,
    /// A reply to the reader, else a new top-level comment.
    pub reply: bool,
}

/// What is new for `user` after `since` up to `until`; `None` when nothing is.
pub fn compose(
    conn: &mut DbConn,
    site: &Site,
    user: UserId,
    username: &str,
    frequency: Frequency,
    since: PrimitiveDateTime,
    until: PrimitiveDateTime,
) -> diesel::QueryResult<Option<Digest>> {
    let mut counts: BTreeMap<ArticleId, (i64, i64)> = BTreeMap::new();
    for (article, n) in store::reply_counts(conn, user, since, until, MAX_ARTICLES_READ)? {
        counts.entry(article).or_default().0 = n;
    }
    for (article, n) in store::top_level_counts(conn, user, since, until, MAX_ARTICLES_READ)? {
        counts.entry(article).or_default().1 = n;
    }
    if counts.is_empty() {
        return Ok(None);
    }
    let total = counts.values().map(|(r, t)| r + t).sum();
    let mut ranked: Vec<(ArticleId, (i64, i64))> = counts.into_iter().collect();
    // The busiest articles first; replies to the reader count for more.
    ranked.sort_by_key(|(id, (r, t))| (std::cmp::Reverse((r * 2 + t, *r)), *id));
    let more_articles = ranked.len().saturating_sub(MAX_ARTICLES);
    ranked.truncate(MAX_ARTICLES);
    let ids: Vec<ArticleId> = ranked.iter().map(|(id, _)| *id).collect();
    let titles = store::article_titles(conn, &ids)?;
    let mut articles = Vec::with_capacity(ranked.len());
    for (article, (replies, top_level)) in ranked {
        let Some((_, slug, title)) = titles.iter().find(|(id, _, _)| *id == article) else { continue };
        let limit = MAX_PER_ARTICLE as i64;
        let cut = (EXCERPT_CHARS * 3) as i32;
        let mut items = Vec::new();
        if replies > 0 {
            items.extend(store::items(conn, user, article, true, since, until, limit, cut)?);
        }
        if top_level > 0 {
            items.extend(store::items(conn, user, article, false, since, until, limit, cut)?);
        }
        items.sort_by_key(|i| (i.created_at, i.id));
        items.truncate(MAX_PER_ARTICLE);
        let shown = items.len() as i64;
        articles.push(ArticleNews {
            title: title.clone(),
            url: site.link(&format!("/articles/{slug}")),
            items: items
                .into_iter()
                .map(|i| Item {
                    author: i.author,
                    excerpt: excerpt(&i.body_source, EXCERPT_CHARS),
                    url: site.link(&format!("/comments/{}", i.id)),
                    reply: i.reply,
                })
                .collect(),
            more: replies + top_level - shown,
        });
    }
    let token = site.key.unsubscribe_token(user.0);
    Ok(Some(Digest {
        username: username.to_owned(),
        frequency,
        articles,
        more_articles,
        more_url: site.link("/saved"),
        total,
        unsubscribe_url: site.link(&format!("/digest/unsubscribe/{token}")),
        settings_url: site.link("/settings#digest-heading"),
    }))
}

/// The plain text of a comment's Markdown, at most `max` characters (cut at a word,
/// with "…").
pub fn excerpt(source: &str, max: usize) -> String {
    use pulldown_cmark::{Event, Parser};
    let mut text = String::new();
    for event in Parser::new(source) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push(' '),
            _ => {}
        }
        if text.chars().count() > max * 2 {
            break;
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = String::new();
    for word in words {
        let needed = out.chars().count() + usize::from(!out.is_empty()) + word.chars().count();
        if needed > max {
            if out.is_empty() {
                out = word.chars().take(max.saturating_sub(1)).collect();
            }
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The email of a digest: plain text and HTML, with the one-click unsubscribe headers.
pub fn mail(to: &str, digest: &Digest) -> Mail {
    let comments = crate::text::plural(digest.total, "new comment", "new comments");
    Mail {
        to: to.to_owned(),
        subject: format!("Your {} Afterword digest: {comments}", digest.frequency.as_str()),
        text: crate::views::digests::text(digest),
        html: Some(crate::views::digests::html(digest).into_string()),
        headers: vec![
            ("List-Unsubscribe".to_owned(), format!("<{}>", digest.unsubscribe_url)),
            ("List-Unsubscribe-Post".to_owned(), "List-Unsubscribe=One-Click".to_owned()),
        ],
    }
}

/// One run of the digests.
#[derive(Debug, Clone)]
pub struct Run {
    /// The time the run takes as now: what is due, and the end of what is new.
    pub now: PrimitiveDateTime,
    /// Who takes the lease: one name per instance (or command).
    pub holder: String,
    /// For tests of a crash: after this many readers are done, the next digest's
    /// transaction fails once its outbox row is written, and the run stops there
    /// (holding the lease, as a crashed instance would).
    pub fail_after: Option<usize>,
}

impl Run {
    pub fn now(holder: impl Into<String>) -> Run {
        Run { now: db::now(), holder: holder.into(), fail_after: None }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Whether this run held the lease (else another instance is sending: nothing done).
    pub leased: bool,
    /// Digests written to the outbox (kept, or queued for SMTP).
    pub sent: usize,
    /// Readers due with nothing new: nothing sent, the watermark moved on.
    pub nothing_new: usize,
    /// Readers due whose address is not confirmed: nothing sent.
    pub unconfirmed: usize,
    /// Messages sent through SMTP, and those SMTP refused.
    pub smtp_sent: usize,
    pub smtp_failed: usize,
}

enum Outcome {
    Sent,
    NothingNew,
    Unconfirmed,
    /// Not due any more (another run got there first) or no account.
    Skipped,
}

/// Where a run gets its database connections: straight from the pool (the command
/// line, tests), or through the server's queue in front of the pool ([`Gated`]).
pub trait Database {
    /// Runs `f` with a connection; `write` says that it writes.
    fn with<T, F>(&self, write: bool, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> anyhow::Result<T> + Send + 'static;
}

impl Database for DbPool {
    fn with<T, F>(&self, _write: bool, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> anyhow::Result<T> + Send + 'static,
    {
        let mut conn = self.get()?;
        f(&mut conn)
    }
}

/// The server's connections: each step of a run queues for a connection like a
/// request does (on SQLite, a writing step for the one write permit), so that the run
/// never takes a connection the requests' queue counts on. Call from a blocking thread.
pub struct Gated {
    pub state: actix_web::web::Data<AppState>,
    pub runtime: tokio::runtime::Handle,
}

impl Database for Gated {
    fn with<T, F>(&self, write: bool, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> anyhow::Result<T> + Send + 'static,
    {
        let f = move |conn: &mut DbConn| f(conn).map_err(AppError::Internal);
        let step = async {
            if write {
                self.state.db_write(f).await
            } else {
                self.state.db(f).await
            }
        };
        self.runtime.block_on(step).map_err(anyhow::Error::from)
    }
}

/// Sends every digest due at `run.now`, if this run can take the lease; then, with an
/// SMTP server, sends what is queued. Blocking: call on the blocking thread pool. No
/// connection is held between steps, nor while SMTP is spoken to.
pub fn run_due(db: &impl Database, mailer: &Mailer, site: &Site, run: &Run) -> anyhow::Result<Report> {
    let mut report = Report::default();
    // The lease's clock: the run's `now`, moved on by the time the run has taken, so that
    // renewing it between batches keeps it for another `LEASE_FOR`.
    let started = std::time::Instant::now();
    let take = || {
        let holder = run.holder.clone();
        let now = run.now + started.elapsed();
        move |conn: &mut DbConn| Ok(store::take_lease(conn, LEASE, &holder, now, now + LEASE_FOR)?)
    };
    if !db.with(true, take())? {
        return Ok(report);
    }
    report.leased = true;
    let state = if mailer.smtp() { outbox::QUEUED } else { outbox::KEPT };
    let mut committed = 0usize;
    loop {
        let now = run.now;
        let due = db.with(false, move |conn| Ok(store::due(conn, now, BATCH)?))?;
        if due.is_empty() {
            break;
        }
        for seen in due {
            let fail = run.fail_after.is_some_and(|k| committed >= k);
            let site = site.clone();
            let outcome = db.with(true, move |conn| {
                db::write_transaction(conn, |conn| one_reader(conn, &site, now, &seen, state, fail))
            })?;
            committed += 1;
            match outcome {
                Outcome::Sent => report.sent += 1,
                Outcome::NothingNew => report.nothing_new += 1,
                Outcome::Unconfirmed => report.unconfirmed += 1,
                Outcome::Skipped => {}
            }
        }
        // Between batches: still ours? (An instance that stalled past the lease stops.)
        if !db.with(true, take())? {
            tracing::warn!("the digests' lease was lost mid-run; another instance goes on");
            return Ok(report);
        }
    }
    if mailer.smtp() {
        while let Some(message) = db.with(true, |conn| Ok(outbox::claim_queued(conn)?))? {
            let id = message.id;
            let mail = Mail {
                to: message.recipient,
                subject: message.subject,
                text: message.body,
                html: message.html_body,
                headers: Mail::parse_headers(&message.headers),
            };
            // No connection is held: the network call holds nothing.
            let outcome = match mailer.send_mail(&mail) {
                Ok(()) => {
                    report.smtp_sent += 1;
                    outbox::SENT
                }
                Err(err) => {
                    tracing::error!(to = %mail.to, error = %err, "digest not sent");
                    report.smtp_failed += 1;
                    outbox::FAILED
                }
            };
            db.with(true, move |conn| Ok(outbox::set_state(conn, id, outcome)?))?;
        }
    }
    let holder = run.holder.clone();
    db.with(true, move |conn| Ok(store::release_lease(conn, LEASE, &holder)?))?;
    if report.sent + report.nothing_new + report.unconfirmed > 0 {
        tracing::info!(?report, "digests run");
    }
    Ok(report)
}

/// One reader's digest, inside its write transaction: the watermark moves on (only if
/// the digest is still due: of two runs, one does it) and the digest is written to the
/// outbox, together or not at all.
fn one_reader(
    conn: &mut DbConn,
    site: &Site,
    now: PrimitiveDateTime,
    seen: &store::Subscription,
    state: &str,
    fail: bool,
) -> Result<Outcome, anyhow::Error> {
    let user = seen.user_id;
    let Some(frequency) = Frequency::parse(&seen.frequency) else {
        store::unsubscribe(conn, user)?;
        return Ok(Outcome::Skipped);
    };
    let Some((username, email, confirmed)) = store::recipient(conn, user)? else {
        store::unsubscribe(conn, user)?;
        return Ok(Outcome::Skipped);
    };
    // Next due a period after this one was; after a long pause, a period from now.
    let mut next = seen.next_due_at + frequency.period();
    if next <= now {
        next = now + frequency.period();
    }
    if !store::advance(conn, user, now, next)? {
        return Ok(Outcome::Skipped);
    }
    let Some(email) = email.filter(|_| confirmed) else {
        return Ok(Outcome::Unconfirmed);
    };
    let Some(digest) = compose(conn, site, user, &username, frequency, seen.since, now)? else {
        return Ok(Outcome::NothingNew);
    };
    outbox::push_mail(conn, &mail(&email, &digest), state, now)?;
    if fail {
        anyhow::bail!("failure injected after the outbox row of {username}'s digest");
    }
    Ok(Outcome::Sent)
}

/// Runs [`run_due`] every `every` in the background, as this instance (a holder name
/// of its own), through the server's queue for connections.
pub fn spawn_schedule(state: actix_web::web::Data<AppState>, every: Duration) {
    let holder = format!("instance-{}", &crate::auth::random_token()[..12]);
    let site = Site { base_url: state.config.base_url.clone(), key: state.csrf.clone() };
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let db = Gated { state: state.clone(), runtime: tokio::runtime::Handle::current() };
            let (mailer, site, run) = (state.mailer.clone(), site.clone(), Run::now(holder.clone()));
            match tokio::task::spawn_blocking(move || run_due(&db, &mailer, &site, &run)).await {
                Ok(Ok(_)) => {}
                Ok(Err(err)) => {
                    tracing::warn!(error = %format!("{err:#}"), "digests run failed; the next tick tries again")
                }
                Err(err) => tracing::error!(error = %err, "digests run panicked"),
            }
        }
    });
}
