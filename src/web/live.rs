//! Live threads: readers with an article open are told, as it happens, of new
//! comments, edits, removals, scores and the thread closing.
//!
//! Every change is recorded in `live_events` by the transaction that makes it
//! (`db::live`). Each instance keeps one channel per article its readers watch, and
//! fans an article's new events out to them once per instance: it reads them (with the
//! comments they name) once, renders each comment once for visitors and once for
//! signed-in readers, and sends the same bytes to every watcher. Nobody's page fetches
//! anything after an event, whatever the number of open tabs.
//!
//! What wakes the fan-out: on SQLite (one process) the request that made the change,
//! once it committed; on PostgreSQL a `NOTIFY` on the article's own channel, which the
//! changing transaction sends and every instance with watchers of that article hears
//! ([`listen`]). The same connection carries the page cache's invalidations between
//! instances, and each worker thread has a connection of its own that carries its
//! requests' invalidations and syncs ([`spawn_worker_link`]).
//!
//! Every event has an id; a reader who reconnects sends the last one it saw
//! (`Last-Event-ID`) and gets what it missed, within `db::live::RETENTION`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use actix_web::web::Bytes;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::AppState;
use crate::auth::Visitor;
use crate::db::listener::Tls;
use crate::db::live::{self as events, Batch};
use crate::domain::{ArticleId, CommentId, LiveKind};
use crate::ranking::Sort;
use crate::views::comments::{comment, Node, ThreadView};
use crate::views::template;

/// Events read at a time.
const BATCH: i64 = 100;
/// Most events a reconnecting reader is sent; past that, it is told to reload.
pub const CATCH_UP: i64 = 200;
/// The PostgreSQL channel of the page cache's invalidations.
pub(crate) const CACHE_CHANNEL: &str = "afterword_cache";

/// Who watches: what each is sent differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Not signed in: comments as visitors see them.
    Visitor,
    /// A reader in good standing: comments with a bystander's buttons.
    Reader,
    /// Moderators and banned readers, whose buttons differ on every comment: told
    /// what changed, they fetch the comment themselves.
    Other,
}

impl Audience {
    pub fn of(visitor: &Visitor) -> Audience {
        match &visitor.user {
            None => Audience::Visitor,
            Some(user) if template::shares(&user.actor()) => Audience::Reader,
            Some(_) => Audience::Other,
        }
    }
}

/// One event as the stream sends it, for each audience.
#[derive(Debug)]
pub struct Message {
    pub id: i64,
    visitor: Bytes,
    reader: Bytes,
    other: Bytes,
}

impl Message {
    pub fn to(&self, audience: Audience) -> Bytes {
        match audience {
            Audience::Visitor => self.visitor.clone(),
            Audience::Reader => self.reader.clone(),
            Audience::Other => self.other.clone(),
        }
    }
}

#[derive(Clone)]
struct Channel {
    sender: broadcast::Sender<Arc<Message>>,
    /// Held while fanning out: one fan-out per channel at a time.
    fanning: Arc<tokio::sync::Mutex<()>>,
    /// Set by every wake-up; the fan-out under way goes round again rather than a new
    /// one queueing behind it.
    pending: Arc<std::sync::atomic::AtomicBool>,
    /// The last event sent.
    position: Arc<AtomicI64>,
}

/// What the PostgreSQL listener is asked to do.
#[derive(Debug)]
pub enum Command {
    Listen(ArticleId),
    Unlisten(ArticleId),
    /// Tell the other instances of a cache invalidation.
    Announce(String),
    /// Answer once every invalidation announced here before it has been sent, and
    /// every one another instance sent before it has been heard (see
    /// `PageCache::sync`).
    Sync(tokio::sync::oneshot::Sender<()>),
}

impl From<super::cache::Announcement> for Command {
    fn from(announcement: super::cache::Announcement) -> Command {
        match announcement {
            super::cache::Announcement::Touch(touch) => Command::Announce(touch),
            super::cache::Announcement::Sync(answer) => Command::Sync(answer),
        }
    }
}

/// The channels of the articles watched on this instance.
pub struct Hub {
    channels: Mutex<HashMap<ArticleId, Channel>>,
    /// On PostgreSQL, the listener's queue.
    listener: OnceLock<mpsc::UnboundedSender<Command>>,
    /// On PostgreSQL, how the listener connects: each worker thread connects the same
    /// way for its own link (see [`spawn_worker_link`]).
    settings: OnceLock<Arc<(String, tokio_postgres::Config, Tls)>>,
    /// Worker threads given a link so far.
    links: AtomicUsize,
    /// Syncs sent through a worker's link.
    syncs_through_links: AtomicU64,
    /// Syncs sent through the listener.
    syncs_through_listener: AtomicU64,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        Hub {
            channels: Mutex::new(HashMap::new()),
            listener: OnceLock::new(),
            settings: OnceLock::new(),
            links: AtomicUsize::new(0),
            syncs_through_links: AtomicU64::new(0),
            syncs_through_listener: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ArticleId, Channel>> {
        self.channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Syncs sent through workers' links, and through the listener (see
    /// `spawn_worker_link`).
    pub fn syncs(&self) -> (u64, u64) {
        (self.syncs_through_links.load(Ordering::Relaxed), self.syncs_through_listener.load(Ordering::Relaxed))
    }

    /// Open streams on this instance.
    pub fn watchers(&self) -> usize {
        self.lock().values().map(|c| c.sender.receiver_count()).sum()
    }

    fn channel(&self, article: ArticleId) -> Option<Channel> {
        self.lock().get(&article).cloned()
    }

    fn articles(&self) -> Vec<ArticleId> {
        self.lock().keys().copied().collect()
    }

    /// Watches `article`: its events from now on, and the last one sent before. A new
    /// channel starts after `newest` (the article's newest event) and is `true`.
    fn subscribe(&self, article: ArticleId, newest: i64) -> (broadcast::Receiver<Arc<Message>>, i64, bool) {
        let mut channels = self.lock();
        if let Some(channel) = channels.get(&article) {
            return (channel.sender.subscribe(), channel.position.load(Ordering::SeqCst), false);
        }
        let (sender, receiver) = broadcast::channel(256);
        let channel = Channel {
            sender,
            fanning: Default::default(),
            pending: Default::default(),
            position: Arc::new(AtomicI64::new(newest)),
        };
        channels.insert(article, channel);
        drop(channels);
        self.command(Command::Listen(article));
        (receiver, newest, true)
    }

    /// Forgets the channels nobody watches any more.
    pub fn sweep(&self) {
        let mut gone = Vec::new();
        self.lock().retain(|article, channel| {
            let keep = channel.sender.receiver_count() > 0;
            if !keep {
                gone.push(*article);
            }
            keep
        });
        for article in gone {
            self.command(Command::Unlisten(article));
        }
    }

    fn command(&self, command: Command) {
        if let Some(listener) = self.listener.get() {
            let _ = listener.send(command);
        }
    }
}

/// Tells this instance's watchers of `article` what happened since they were last told.
pub async fn fan_out(state: &AppState, article: ArticleId) {
    let Some(channel) = state.live.channel(article) else { return };
    channel.pending.store(true, Ordering::SeqCst);
    loop {
        // One fan-out at a time; a wake-up meanwhile makes it go round again.
        let Ok(fanning) = channel.fanning.try_lock() else { return };
        while channel.pending.swap(false, Ordering::SeqCst) {
            loop {
                let after = channel.position.load(Ordering::SeqCst);
                let batch = match state.db(move |conn| Ok(events::batch(conn, article, after, BATCH)?)).await {
                    Ok(batch) => batch,
                    Err(err) => {
                        tracing::warn!(%err, article = article.0, "could not read the live events");
                        return;
                    }
                };
                let full = batch.events.len() as i64 == BATCH;
                let messages = messages(state, &batch);
                {
                    // Sent and counted under the hub's lock, which a new watcher takes
                    // too: each event reaches it live or in its catch-up, once.
                    let _hub = state.live.lock();
                    for message in messages {
                        channel.position.store(message.id, Ordering::SeqCst);
                        let _ = channel.sender.send(Arc::new(message));
                    }
                }
                if !full {
                    break;
                }
            }
        }
        drop(fanning);
        // A wake-up between the last check and letting go: go round again.
        if !channel.pending.load(Ordering::SeqCst) {
            return;
        }
    }
}

/// After a change committed: the fan-out on this instance at once (on PostgreSQL the
/// `NOTIFY` the transaction sent wakes the other instances, and this one again, which
/// then finds nothing new).
pub fn changed(state: &AppState, article: ArticleId) {
    if state.live.channel(article).is_some() {
        let state = state.clone();
        tokio::spawn(async move { fan_out(&state, article).await });
    }
}

/// The events of `batch` as the stream sends them.
fn messages(state: &AppState, batch: &Batch) -> Vec<Message> {
    let comments: HashMap<CommentId, &crate::db::comments::ThreadComment> =
        batch.comments.iter().map(|c| (c.comment.id, c)).collect();
    let visitor = Visitor::new(None, String::new(), IpAddr::from([0, 0, 0, 0]), String::new());
    let view = ThreadView::new(&visitor, batch.locked, "/", state.config.edit_window, Sort::Best);
    let sse = |id: i64, kind: LiveKind, data: &serde_json::Value| {
        Bytes::from(format!("id: {id}\nevent: {}\ndata: {data}\n\n", kind.as_str()))
    };
    let mut out = Vec::with_capacity(batch.events.len());
    for event in &batch.events {
        let Some(kind) = event.kind else {
            // Of a newer version: an id alone moves the reader's Last-Event-ID past it
            // and dispatches nothing.
            let id = Bytes::from(format!("id: {}\n\n", event.id));
            out.push(Message { id: event.id, visitor: id.clone(), reader: id.clone(), other: id });
            continue;
        };
        let item = event.comment_id.and_then(|id| comments.get(&id));
        let (visitor, reader, other) = match (kind, item) {
            (LiveKind::Lock, _) => {
                let data = serde_json::json!({ "locked": batch.locked, "reason": batch.lock_reason });
                (data.clone(), data.clone(), data)
            }
            (LiveKind::Votes, Some(item)) => {
                let data = serde_json::json!({ "id": item.comment.id.0, "score": item.comment.score() });
                (data.clone(), data.clone(), data)
            }
            (_, Some(item)) => {
                let node = Node::leaf((*item).clone());
                let c = &item.comment;
                let parent = c.parent_id.map(|p| p.0);
                (
                    serde_json::json!({ "id": c.id.0, "parent_id": parent, "html": comment(&view, &node, 0).into_string() }),
                    serde_json::json!({ "id": c.id.0, "parent_id": parent, "html": template::for_bystander(&view, &node) }),
                    serde_json::json!({ "id": c.id.0, "parent_id": parent }),
                )
            }
            // Shown to nobody but its author any more (held again, or deleted).
            (_, None) => {
                let data = serde_json::json!({ "id": event.comment_id.map(|c| c.0), "gone": true });
                (data.clone(), data.clone(), data)
            }
        };
        out.push(Message {
            id: event.id,
            visitor: sse(event.id, kind, &visitor),
            reader: sse(event.id, kind, &reader),
            other: sse(event.id, kind, &other),
        });
    }
    out
}

/// A stream's start: its receiver, what it missed (when it says what it saw last), and
/// the last event id that covers.
pub struct Watch {
    pub receiver: broadcast::Receiver<Arc<Message>>,
    pub missed: Vec<Bytes>,
    pub after: i64,
}

/// Starts watching `article` for `audience`; `seen` is the last event the reader has
/// (its `Last-Event-ID`, or the one its page was rendered after).
pub async fn watch(
    state: &actix_web::web::Data<AppState>,
    article: ArticleId,
    audience: Audience,
    seen: Option<i64>,
) -> Result<Watch, super::AppError> {
    let newest = state.db(move |conn| Ok(events::newest(conn, article)?)).await?;
    let (receiver, position, new) = state.live.subscribe(article, newest);
    if new && state.live.listener.get().is_none() {
        // Anything that came between reading `newest` and listening (on PostgreSQL the
        // listener does this once it listens).
        let state = state.clone();
        tokio::spawn(async move { fan_out(&state, article).await });
    }
    let mut missed = Vec::new();
    if let Some(seen) = seen.filter(|seen| *seen < position) {
        let batch = state.db(move |conn| Ok(events::batch(conn, article, seen, CATCH_UP)?)).await?;
        // Too much to send: the reader should reload. (A reader away longer than
        // `db::live::RETENTION` may have missed events already deleted.)
        if batch.events.len() as i64 == CATCH_UP {
            missed.push(Bytes::from_static(b"event: reset\ndata: {}\n\n"));
        } else {
            missed.extend(messages(state, &batch).iter().filter(|m| m.id <= position).map(|m| m.to(audience)));
        }
    }
    // A reader ahead of this instance (it came from another) gets nothing twice.
    let after = position.max(seen.unwrap_or(0));
    Ok(Watch { receiver, missed, after })
}

/// Deletes old events and forgets unwatched channels, every minute.
pub fn spawn_upkeep(state: actix_web::web::Data<AppState>) {
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            state.live.sweep();
            state
                .db_write_best_effort("old live events", |conn| {
                    events::prune(conn)?;
                    Ok(())
                })
                .await;
        }
    });
}

/// Most worker threads with a link of their own; the others' requests go through the
/// instance's listener. Each link is one more connection to the database.
const MAX_LINKS: usize = 8;

thread_local! {
    /// The worker thread's own link, once it has one.
    static WORKER_LINK: RefCell<Option<Arc<WorkerLink>>> = const { RefCell::new(None) };
}

/// A worker thread's own listening connection, for the syncs and announcements of the
/// requests it serves. The thread drives their round trips itself: a request's sync
/// wakes no other thread, and its answer wakes tasks of this thread only. Through the
/// instance's listener, under load, each sync waited for a thread to be scheduled on
/// the way out and for its turn behind the worker's other tasks on the way back. A
/// link listens to the cache's channel only and applies what it hears as the listener
/// does; live events stay with the listener.
struct WorkerLink {
    commands: mpsc::UnboundedSender<Command>,
    up: AtomicBool,
}

impl WorkerLink {
    /// Hands `announcement` to the link while it is up; gives it back otherwise.
    fn send(&self, announcement: super::cache::Announcement) -> Result<(), super::cache::Announcement> {
        if !self.up.load(Ordering::SeqCst) {
            return Err(announcement);
        }
        self.commands.send(announcement.into()).map_err(|refused| match refused.0 {
            Command::Announce(touch) => super::cache::Announcement::Touch(touch),
            Command::Sync(answer) => super::cache::Announcement::Sync(answer),
            Command::Listen(_) | Command::Unlisten(_) => unreachable!("a link is sent announcements only"),
        })
    }
}

/// Hands `announcement` to the calling thread's link if it has one that is up; gives
/// it back otherwise.
fn through_worker_link(announcement: super::cache::Announcement) -> Result<(), super::cache::Announcement> {
    match WORKER_LINK.with(|link| link.borrow().clone()) {
        Some(link) => link.send(announcement),
        None => Err(announcement),
    }
}

/// Gives the calling worker thread a link of its own (on PostgreSQL, up to
/// [`MAX_LINKS`] per instance); called on each worker thread as it starts. Until the
/// link is up, and whenever it is down, the thread's requests go through the
/// instance's listener.
pub fn spawn_worker_link(state: &actix_web::web::Data<AppState>) {
    let Some(settings) = state.live.settings.get().cloned() else { return };
    if WORKER_LINK.with(|link| link.borrow().is_some()) {
        return;
    }
    if state.live.links.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < MAX_LINKS).then_some(n + 1)).is_err()
    {
        return;
    }
    /// Gives the link's place back when its thread ends (a worker restarted after a
    /// panic gets a link again).
    struct Place(Arc<Hub>);
    impl Drop for Place {
        fn drop(&mut self) {
            self.0.links.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let place = Place(state.live.clone());
    let (commands, mut queue) = mpsc::unbounded_channel();
    let link = Arc::new(WorkerLink { commands, up: AtomicBool::new(false) });
    WORKER_LINK.with(|slot| *slot.borrow_mut() = Some(link.clone()));
    let state = state.clone();
    tokio::task::spawn_local(async move {
        let _place = place;
        let (url, config, tls) = &*settings;
        let mut config = config.clone();
        if config.get_application_name() == Some(crate::db::listener::APPLICATION_NAME) {
            config.application_name(crate::db::listener::LINK_APPLICATION_NAME);
        }
        let config = &config;
        let mut failures = 0;
        loop {
            let listening = async {
                let (client, notifications, driver) = connect(url, config, tls).await?;
                let listened = async {
                    client.batch_execute(&format!("LISTEN {CACHE_CHANNEL}")).await?;
                    client.prepare(ANNOUNCE).await
                };
                match listened.await {
                    Ok(announce) => Ok((client, notifications, driver, announce)),
                    Err(err) => {
                        driver.abort();
                        Err(anyhow::Error::from(err))
                    }
                }
            };
            match listening.await {
                Err(err) => {
                    if failures == 0 {
                        tracing::warn!("a worker's link to the database could not connect (its requests go through the listener meanwhile): {err:#}");
                    }
                    failures += 1;
                }
                Ok((client, mut notifications, driver, announce)) => {
                    // What the others announced before this link listened reached the
                    // listener only: one sync through it applies that (and sends what
                    // this thread announced through it) before the link answers syncs.
                    if listener_synced(&state).await {
                        failures = 0;
                        link.up.store(true, Ordering::SeqCst);
                        let served =
                            serve(&state, Role::Link, &client, &announce, &mut queue, &mut notifications).await;
                        link.up.store(false, Ordering::SeqCst);
                        match served {
                            Ok(()) => return,
                            Err(Failed { err, syncs }) => {
                                tracing::warn!(%err, "a worker's link to the database failed; its requests go through the listener meanwhile");
                                hand_over(&state, syncs, &mut queue);
                            }
                        }
                    } else {
                        failures += 1;
                    }
                    driver.abort();
                }
            }
            // A second, then longer while it keeps failing (up to 32 s).
            tokio::time::sleep(Duration::from_secs(1 << failures.min(5))).await;
        }
    });
}

/// Whether a sync through the instance's listener was answered (within
/// [`LISTENER_TIMEOUT`]).
async fn listener_synced(state: &AppState) -> bool {
    let Some(listener) = state.live.listener.get() else { return false };
    let (answer, answered) = oneshot::channel();
    listener.send(Command::Sync(answer)).is_ok()
        && matches!(tokio::time::timeout(LISTENER_TIMEOUT, answered).await, Ok(Ok(())))
}

/// Hands what a failed link held over to the instance's listener, in order: first a
/// touch of everything (the touches of the failed round, and of those still queued, may
/// not have been sent), then the failed round's syncs, then the rest of its queue. The
/// link is already down, so this thread's later announcements follow them.
fn hand_over(state: &AppState, syncs: Vec<oneshot::Sender<()>>, queue: &mut mpsc::UnboundedReceiver<Command>) {
    let Some(listener) = state.live.listener.get() else { return };
    let _ = listener.send(Command::Announce("*".to_owned()));
    for answer in syncs {
        let _ = listener.send(Command::Sync(answer));
    }
    while let Ok(command) = queue.try_recv() {
        let _ = listener.send(command);
    }
}

/// The announcement of touches: one notification on the cache's channel for each.
const ANNOUNCE: &str = "SELECT pg_notify($1, t) FROM unnest($2::text[]) AS t";

/// What a listening connection carries besides the cache's channel.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The instance's listener: also the articles' live events, and the embed's origins.
    Listener,
    /// A worker thread's link: the cache's channel only.
    Link,
}

/// Why a listening connection stopped serving, and the syncs of the round it failed in
/// (their touches may not have been sent).
struct Failed {
    err: String,
    syncs: Vec<oneshot::Sender<()>>,
}

/// Carries announcements and syncs on a listening connection, and applies what the
/// other instances say, until the connection fails (an error) or the site shuts down
/// (`Ok`).
async fn serve(
    state: &actix_web::web::Data<AppState>,
    role: Role,
    client: &tokio_postgres::Client,
    announce: &tokio_postgres::Statement,
    queue: &mut mpsc::UnboundedReceiver<Command>,
    notifications: &mut mpsc::UnboundedReceiver<(String, String)>,
) -> Result<(), Failed> {
    let instance = state.cache.instance();
    // What another instance said on a channel listened to.
    let hear = |channel: String, payload: String| {
        if channel == CACHE_CHANNEL {
            let mut words = payload.split(' ');
            if words.next() != Some(instance) {
                let touch = words.next().unwrap_or("*");
                if touch == super::embed::ANNOUNCEMENT && role == Role::Listener {
                    let state = state.clone();
                    tokio::spawn(async move { super::embed::reload(&state).await });
                }
                state.cache.apply_remote(touch);
            }
        } else if let Some(id) = channel.strip_prefix("afterword_article_").and_then(|id| id.parse().ok()) {
            let state = state.clone();
            tokio::spawn(async move { fan_out(&state, ArticleId(id)).await });
        }
    };
    loop {
        tokio::select! {
            command = queue.recv() => {
                let Some(command) = command else { return Ok(()) };
                // Everything queued meanwhile goes in one round: the announcements in
                // one statement, which also answers the syncs.
                let mut commands = vec![command];
                while let Ok(more) = queue.try_recv() {
                    commands.push(more);
                }
                let (mut touches, mut syncs) = (Vec::new(), Vec::new());
                let mut channels = Vec::new();
                for command in commands {
                    match command {
                        Command::Listen(a) => channels.push((a, true)),
                        Command::Unlisten(a) => channels.push((a, false)),
                        Command::Announce(touch) => touches.push(format!("{instance} {touch}")),
                        Command::Sync(answer) => syncs.push(answer),
                    }
                }
                let sent = async {
                    for (a, listen) in channels {
                        let verb = if listen { "LISTEN" } else { "UNLISTEN" };
                        bounded(client.batch_execute(&format!("{verb} {}", events::channel(a)))).await?;
                        if listen {
                            // What came before it listened.
                            let state = state.clone();
                            tokio::spawn(async move { fan_out(&state, a).await });
                        }
                    }
                    if !touches.is_empty() {
                        bounded(client.execute(announce, &[&CACHE_CHANNEL, &touches])).await?;
                    } else if !syncs.is_empty() {
                        // The least the server answers: an empty query.
                        bounded(client.batch_execute("")).await?;
                    }
                    Ok::<(), String>(())
                };
                if let Err(err) = sent.await {
                    return Err(Failed { err, syncs });
                }
                // The server sent what it had for this connection before answering the
                // statement, and the driver passed it on in order: heard before the
                // syncs are answered.
                while let Ok((channel, payload)) = notifications.try_recv() {
                    hear(channel, payload);
                }
                for answer in syncs {
                    let _ = answer.send(());
                }
            }
            note = notifications.recv() => {
                let Some((channel, payload)) = note else {
                    return Err(Failed { err: "the connection closed".into(), syncs: Vec::new() });
                };
                hear(channel, payload);
            }
        }
    }
}

/// Longest a statement on the listening connection may take: beyond it the connection
/// counts as lost (and is made again), rather than holding up the requests that wait
/// for it (`PageCache::sync`).
const LISTENER_TIMEOUT: Duration = Duration::from_secs(5);

async fn bounded<T>(
    statement: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, String> {
    match tokio::time::timeout(LISTENER_TIMEOUT, statement).await {
        Ok(answer) => answer.map_err(|err| err.to_string()),
        Err(_) => Err(format!("no answer within {LISTENER_TIMEOUT:?}")),
    }
}

/// The listener's connection and its notifications, as (channel, payload), passed on by
/// a task that drives the connection (ended by aborting it).
type Listening = (tokio_postgres::Client, mpsc::UnboundedReceiver<(String, String)>, tokio::task::JoinHandle<()>);

/// Connects the listener as the settings say; for libpq's `allow`, without TLS first
/// and, if the server refuses that (it answered with an error: not when it is down), again
/// with TLS.
async fn connect(url: &str, config: &tokio_postgres::Config, tls: &Tls) -> anyhow::Result<Listening> {
    Ok(match tls {
        Tls::On(tls) => {
            let (client, connection) = config.connect(tls.clone()).await?;
            drive(client, connection)
        }
        Tls::Off => {
            let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
            drive(client, connection)
        }
        Tls::Fallback => match config.connect(tokio_postgres::NoTls).await {
            Ok((client, connection)) => drive(client, connection),
            Err(plain) if plain.as_db_error().is_none() => return Err(plain.into()),
            Err(plain) => {
                let with_tls = crate::db::listener::with_tls(url);
                let Ok((config, Tls::On(tls))) = with_tls else {
                    let why = with_tls.err().map(|err| format!("; TLS cannot be used: {err:#}")).unwrap_or_default();
                    return Err(anyhow::anyhow!("{plain}{why}"));
                };
                let (client, connection) = config
                    .connect(tls)
                    .await
                    .map_err(|err| anyhow::anyhow!("without TLS: {plain}; with TLS: {err}"))?;
                drive(client, connection)
            }
        },
    })
}

fn drive<S, T>(client: tokio_postgres::Client, mut connection: tokio_postgres::Connection<S, T>) -> Listening
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (notes, notifications) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        use futures_util::StreamExt;
        while let Some(message) = messages.next().await {
            match message {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    let _ = notes.send((n.channel().to_owned(), n.payload().to_owned()));
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(%err, "the live-events connection failed");
                    break;
                }
            }
        }
    });
    (client, notifications, driver)
}

/// On PostgreSQL: one connection that listens on the channels of the articles watched
/// here and on the cache's channel, and sends this instance's cache invalidations.
/// When it drops, it reconnects, then treats everything as changed (it may have missed
/// notifications). While it is not listening, nothing is cached here
/// ([`PageCache::set_hearing`](super::cache::PageCache::set_hearing)). It connects as
/// the site's other connections do: `sslmode` and the certificate parameters of the
/// URL hold for it too (`db::listener`).
pub fn spawn_listener(state: actix_web::web::Data<AppState>, url: String) {
    // Until it listens, this instance would not hear the others' changes.
    state.cache.set_hearing(false);
    let (config, tls) = match crate::db::listener::settings(&url) {
        Ok(settings) => settings,
        Err(err) => {
            tracing::error!(
                "live events and cache invalidations from other instances are off, and pages are not cached: {err:#}"
            );
            return;
        }
    };
    let (commands, mut queue) = mpsc::unbounded_channel();
    if state.live.listener.set(commands.clone()).is_err() {
        return;
    }
    let announcer = commands.clone();
    let hub = state.live.clone();
    state.cache.announce_with(move |announcement| {
        let sync = matches!(announcement, super::cache::Announcement::Sync(_));
        // On a worker thread whose own link is up, through it: the thread's requests
        // are answered without waking another thread (see `spawn_worker_link`).
        let counter = match through_worker_link(announcement) {
            Ok(()) => &hub.syncs_through_links,
            Err(announcement) => {
                let _ = announcer.send(announcement.into());
                &hub.syncs_through_listener
            }
        };
        if sync {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let _ = state.live.settings.set(Arc::new((url.clone(), config.clone(), tls.clone())));
    let instance = state.cache.instance().to_owned();
    tokio::spawn(async move {
        loop {
            match connect(&url, &config, &tls).await {
                Ok((client, mut notifications, driver)) => {
                    let mut listening = vec![CACHE_CHANNEL.to_owned()];
                    listening.extend(state.live.articles().into_iter().map(events::channel));
                    let listened = async {
                        for channel in &listening {
                            client.batch_execute(&format!("LISTEN {channel}")).await?;
                        }
                        // Prepared once, so that each announcement goes out in one message
                        // and keeps its place among the rounds in flight.
                        client.prepare(ANNOUNCE).await
                    };
                    match listened.await {
                        Err(err) => tracing::warn!(%err, "could not listen for live events"),
                        Ok(announce) => {
                            // Notifications may have been missed while not connected (this
                            // instance's and the others'): everything here, and everything
                            // of theirs, is stale.
                            state.cache.touch_everything_quietly();
                            state.cache.set_hearing(true);
                            {
                                let state = state.clone();
                                tokio::spawn(async move { super::embed::reload(&state).await });
                            }
                            let _ = client
                                .execute("SELECT pg_notify($1, $2)", &[&CACHE_CHANNEL, &format!("{instance} *")])
                                .await;
                            for article in state.live.articles() {
                                let state = state.clone();
                                tokio::spawn(async move { fan_out(&state, article).await });
                            }
                            match serve(&state, Role::Listener, &client, &announce, &mut queue, &mut notifications)
                                .await
                            {
                                // The site is shutting down.
                                Ok(()) => return,
                                // The failed round's syncs are dropped: their requests
                                // read afresh.
                                Err(Failed { err, .. }) => tracing::warn!(%err, "the live-events connection failed"),
                            }
                        }
                    }
                    state.cache.set_hearing(false);
                    driver.abort();
                }
                Err(err) => tracing::warn!("could not connect for live events: {err:#}"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}
