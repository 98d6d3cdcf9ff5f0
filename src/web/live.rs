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
//! instances.
//!
//! Every event has an id; a reader who reconnects sends the last one it saw
//! (`Last-Event-ID`) and gets what it missed, within `db::live::RETENTION`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use actix_web::web::Bytes;
use tokio::sync::{broadcast, mpsc};

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
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        Hub { channels: Mutex::new(HashMap::new()), listener: OnceLock::new() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ArticleId, Channel>> {
        self.channels.lock().unwrap_or_else(|e| e.into_inner())
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
    state.cache.announce_with(move |announcement| {
        let _ = announcer.send(announcement.into());
    });
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
                        Ok::<_, tokio_postgres::Error>(())
                    };
                    if let Err(err) = listened.await {
                        tracing::warn!(%err, "could not listen for live events");
                    } else {
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
                        // What another instance said on a channel listened to.
                        let hear = |channel: String, payload: String| {
                            if channel == CACHE_CHANNEL {
                                let mut words = payload.split(' ');
                                if words.next() != Some(instance.as_str()) {
                                    let touch = words.next().unwrap_or("*");
                                    if touch == super::embed::ANNOUNCEMENT {
                                        let state = state.clone();
                                        tokio::spawn(async move { super::embed::reload(&state).await });
                                    }
                                    state.cache.apply_remote(touch);
                                }
                            } else if let Some(id) =
                                channel.strip_prefix("afterword_article_").and_then(|id| id.parse().ok())
                            {
                                let state = state.clone();
                                tokio::spawn(async move { fan_out(&state, ArticleId(id)).await });
                            }
                        };
                        loop {
                            tokio::select! {
                                command = queue.recv() => {
                                    let Some(command) = command else { return };
                                    // Everything queued meanwhile goes in one round: the
                                    // announcements in one statement, which also answers
                                    // the syncs.
                                    let mut commands = vec![command];
                                    while let Ok(more) = queue.try_recv() {
                                        commands.push(more);
                                    }
                                    let (mut touches, mut syncs) = (Vec::new(), Vec::new());
                                    let mut done: Result<(), String> = Ok(());
                                    for command in commands {
                                        match command {
                                            Command::Listen(a) => {
                                                done = done.and(bounded(client.batch_execute(&format!("LISTEN {}", events::channel(a)))).await);
                                                // What came before it listened.
                                                let state = state.clone();
                                                tokio::spawn(async move { fan_out(&state, a).await });
                                            }
                                            Command::Unlisten(a) => done = done.and(bounded(client.batch_execute(&format!("UNLISTEN {}", events::channel(a)))).await),
                                            Command::Announce(touch) => touches.push(format!("{instance} {touch}")),
                                            Command::Sync(answer) => syncs.push(answer),
                                        }
                                    }
                                    if !touches.is_empty() {
                                        done = done.and(bounded(client
                                            .execute("SELECT pg_notify($1, t) FROM unnest($2::text[]) AS t", &[&CACHE_CHANNEL, &touches]))
                                            .await
                                            .map(|_| ()));
                                    } else if !syncs.is_empty() {
                                        done = done.and(bounded(client.batch_execute("SELECT 1")).await);
                                    }
                                    if let Err(err) = done {
                                        tracing::warn!(%err, "the live-events connection failed");
                                        break;
                                    }
                                    // The server sent what it had for this connection before
                                    // answering the statement, and the driver passed it on in
                                    // order: heard before the syncs are answered.
                                    while let Ok((channel, payload)) = notifications.try_recv() {
                                        hear(channel, payload);
                                    }
                                    for answer in syncs {
                                        let _ = answer.send(());
                                    }
                                }
                                note = notifications.recv() => {
                                    let Some((channel, payload)) = note else { break };
                                    hear(channel, payload);
                                }
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
