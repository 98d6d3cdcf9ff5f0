//! The rendered-page cache: what anonymous readers are sent of article pages, the front
//! page, profiles and feeds is rendered once, compressed once (brotli and gzip) and then
//! served from memory until a change makes it stale.
//!
//! # Staying right
//!
//! A handler opts a response in by attaching a [`Scope`]: the page shows one article
//! (its thread, its feed) or something of the whole site (the front page, a profile).
//! Every change says what it touched once its transaction has committed:
//! [`PageCache::touch_article`] or [`PageCache::touch_everything`]. A state-changing
//! request that said nothing (and did not fail with a 4xx, which changes nothing) is
//! taken to have touched everything: forgetting to declare a change costs cache hits,
//! never a stale page.
//!
//! Touches are numbered from one sequence. An entry remembers the sequence number
//! read *before* its page was rendered, and is stale once anything it shows was touched
//! after that: a render that overlaps a write is never kept past it. An article's
//! touches are kept in one of a fixed number of slots (by its id), so the bookkeeping
//! takes the same memory however many articles change; two articles sharing a slot only
//! invalidate each other.
//!
//! Entries are evicted least-recently-used beyond a byte budget, and none lives longer
//! than [`MAX_AGE`]. On PostgreSQL every touch is also announced to the other instances
//! (`web::live`), which apply it to their own caches; [`MAX_AGE`] bounds how stale a
//! page can be after a change no instance announced (one made by the command line, or
//! a notification lost while the listening connection was down, after which the
//! listener marks everything stale).
//!
//! # HTTP
//!
//! A cached page carries a weak ETag (a hash of its bytes) and `Cache-Control: public`
//! with a short `max-age`; `If-None-Match` with that tag is answered 304. Responses vary
//! on `Accept-Encoding` and `Cookie`, so that a browser never shows a signed-in reader
//! the anonymous copy.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpResponse};

use crate::auth::Visitor;
use crate::domain::{ArticleId, UserId};

/// Longest an entry is served, whatever happens: the bound on staleness after a change
/// made by another process.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// What browsers and proxies may keep a page without asking again.
pub const BROWSER_MAX_AGE: u32 = 5;
/// Bytes of all entries together (each counted with its compressed forms).
const BUDGET: usize = 48 * 1024 * 1024;
/// Bytes of the shared threads together.
const SHARED_BUDGET: usize = 24 * 1024 * 1024;
/// Most entries kept, whatever their size.
const MAX_ENTRIES: usize = 4096;
/// A response larger than this is not kept.
const MAX_BODY: usize = 4 * 1024 * 1024;
/// The query parameters cached pages read; a request with any other is answered
/// without the cache.
const KNOWN_PARAMETERS: [&str; 6] = ["sort", "page", "after", "skip", "indent", "takeaway"];
/// Slots for articles' touches.
const SLOTS: usize = 4096;

/// Longest a signed-in reader's identity is taken from memory: the bound on how long
/// a change made by another process (the command line) takes to show on their pages.
/// Requests that change anything always read it afresh.
pub const ACCOUNT_MAX_AGE: Duration = Duration::from_secs(10);
/// Bytes of the readers' identities together, and of their own parts of pages.
const ACCOUNTS_BUDGET: usize = 4 * 1024 * 1024;
const READERS_BUDGET: usize = 8 * 1024 * 1024;

/// Longest a request waits for [`PageCache::sync`].
const SYNC_TIMEOUT: Duration = Duration::from_secs(2);
/// Builds of one page a request waits for at most before building its own.
const TURNS: usize = 3;
/// Anonymous addresses remembered as not kept.
const UNKEPT: usize = 1024;

/// What this instance tells the listener that speaks to the others (`web::live`).
pub enum Announcement {
    /// A touch made here: `a:ID`, `u:ID`, `*` (see [`PageCache::apply_remote`]).
    Touch(String),
    /// Answer once everything before has been said and heard (see [`PageCache::sync`]).
    Sync(tokio::sync::oneshot::Sender<()>),
}

/// Set on a signed-in reader's read once [`PageCache::sync`] answered: what this
/// instance keeps for signed-in readers may serve it.
#[derive(Debug, Clone, Copy)]
pub struct Synced;

/// What a cached page shows, and so which changes make it stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One article: its page, its comments feed.
    Article(ArticleId),
    /// Something of the whole site: any change may alter it.
    Site,
    /// A signed-in reader's identity: their account, session and unread count. Any
    /// change anywhere may bring them a notification or take one away, and changes to
    /// the account touch it ([`PageCache::touch_user`]).
    Account(UserId),
    /// A reader's own parts of one article's pages: their votes, held comments and
    /// saved state there.
    Reader(UserId, ArticleId),
}

/// One rendered page, in each encoding.
struct Entry {
    content_type: HeaderValue,
    etag: HeaderValue,
    identity: Bytes,
    gzip: Bytes,
    brotli: Bytes,
}

impl Entry {
    fn size(&self) -> usize {
        self.identity.len() + self.gzip.len() + self.brotli.len() + 256
    }
}

/// What is kept, with what it shows and when it was made.
pub struct Kept<T> {
    scope: Scope,
    /// The sequence number read before rendering.
    rendered: u64,
    born: Instant,
    size: usize,
    pub value: T,
}

impl<T> Kept<T> {
    /// The sequence number read before it was made: it names this rendering.
    pub fn rendered(&self) -> u64 {
        self.rendered
    }

    /// A value that was not kept, in the shape of one that was.
    pub fn unkept(value: T) -> Kept<T> {
        Kept { scope: Scope::Site, rendered: 0, born: Instant::now(), size: 0, value }
    }
}

/// Entries by key, least recently used first out beyond a byte budget.
struct Store<T> {
    entries: lru::LruCache<String, Arc<Kept<T>>>,
    bytes: usize,
    budget: usize,
}

impl<T> Store<T> {
    fn new(budget: usize) -> Mutex<Store<T>> {
        Mutex::new(Store {
            entries: lru::LruCache::new(NonZeroUsize::new(MAX_ENTRIES).expect("non-zero")),
            bytes: 0,
            budget,
        })
    }
}

pub struct PageCache {
    store: Mutex<Store<Entry>>,
    /// Threads shared by signed-in readers (`views::template`), with their article.
    shared: Mutex<Store<super::articles::SharedPage>>,
    /// Signed-in readers' identities, by session token hash (`web::security`).
    accounts: Mutex<Store<super::security::KnownSession>>,
    /// Readers' own parts of pages, by reader and page (`web::articles`).
    readers: Mutex<Store<crate::db::threads::ReaderState>>,
    /// The sequence every touch draws from.
    sequence: AtomicU64,
    /// The last touch of anything (every touch).
    any: AtomicU64,
    /// The last touch of everything (a change whose reach is unknown).
    everything: AtomicU64,
    /// The last touch of the articles in each slot.
    articles: Box<[AtomicU64]>,
    /// The last touch of the accounts in each slot.
    users: Box<[AtomicU64]>,
    /// Pages sent from the cache, and pages rendered to be kept (for the metrics).
    hits: AtomicU64,
    misses: AtomicU64,
    /// Tells the other instances of this one's touches (PostgreSQL; see `web::live`).
    announce: std::sync::OnceLock<Box<dyn Fn(Announcement) + Send + Sync>>,
    /// On SQLite: whether anything was committed to the database since last asked (see
    /// `db::connection::ChangeWatch`), and the lock under which it is asked and
    /// `outside` moved.
    watch: std::sync::OnceLock<Box<dyn Fn() -> bool + Send + Sync>>,
    watching: Mutex<()>,
    /// The last commit the watch saw (of this process or another), or the last change
    /// to accounts announced from outside the site: what is kept of signed-in readers is
    /// stale after it.
    outside: AtomicU64,
    /// Names this instance in its announcements, so that it skips its own.
    instance: String,
    /// Set while this instance cannot hear the others' touches (PostgreSQL, while its
    /// listener is not listening): nothing is kept or served from the cache then.
    deaf: AtomicBool,
    /// Pages being built to be kept, by key: see [`PageCache::build_turn`].
    building: Mutex<std::collections::HashMap<String, tokio::sync::watch::Receiver<()>>>,
    /// Anonymous addresses whose last answer could not be kept (a 404, a form, a
    /// stream …): their misses take no turn, as nothing would be kept to wait for.
    unkept: Mutex<lru::LruCache<String, ()>>,
}

/// The one build of a page under way, until dropped (once what it built is kept).
pub struct Building<'a> {
    building: &'a Mutex<std::collections::HashMap<String, tokio::sync::watch::Receiver<()>>>,
    key: String,
    /// Dropped after the key is freed: it wakes the requests that waited.
    _done: tokio::sync::watch::Sender<()>,
}

impl Drop for Building<'_> {
    fn drop(&mut self) {
        self.building.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.key);
    }
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache::new()
    }
}

impl PageCache {
    pub fn new() -> PageCache {
        PageCache {
            store: Store::new(BUDGET),
            shared: Store::new(SHARED_BUDGET),
            accounts: Store::new(ACCOUNTS_BUDGET),
            readers: Store::new(READERS_BUDGET),
            sequence: AtomicU64::new(1),
            any: AtomicU64::new(0),
            everything: AtomicU64::new(0),
            articles: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            users: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            announce: std::sync::OnceLock::new(),
            watch: std::sync::OnceLock::new(),
            watching: Mutex::new(()),
            outside: AtomicU64::new(0),
            instance: crate::auth::random_token(),
            deaf: AtomicBool::new(false),
            building: Mutex::new(std::collections::HashMap::new()),
            unkept: Mutex::new(lru::LruCache::new(NonZeroUsize::new(UNKEPT).expect("not zero"))),
        }
    }

    /// After a miss of the page kept under `key` (`look` looks again): what another
    /// request built while this one waited its turn (`Ok`), or the turn to build it
    /// (`Err(Some)`); `Err(None)` to build without a turn, after a few builds whose
    /// result could not be used (the page changed again while it was built, or its
    /// builder went away), so that a page changing all the time is not waited for.
    pub async fn after_miss<T>(
        &self,
        kind: &str,
        key: &str,
        look: impl Fn() -> Option<T>,
    ) -> Result<T, Option<Building<'_>>> {
        for _ in 0..TURNS {
            let turn = self.build_turn(kind, key).await;
            // The builder looks again too: a build may have ended between the miss and
            // its turn.
            if let Some(found) = look() {
                return Ok(found);
            }
            if turn.is_some() {
                return Err(turn);
            }
        }
        Err(None)
    }

    /// Whether the last answer at the anonymous address `key` could not be kept.
    fn is_unkept(&self, key: &str) -> bool {
        self.unkept.lock().unwrap_or_else(|e| e.into_inner()).contains(key)
    }

    fn note_unkept(&self, key: &str) {
        self.unkept.lock().unwrap_or_else(|e| e.into_inner()).put(key.to_owned(), ());
    }

    /// The turn to build the page kept under `key` (`kind` names the store) after a miss.
    /// The first request to miss a page builds it and keeps it; those that miss it
    /// meanwhile wait for that build and then look again, rather than each building it
    /// too (a busy page dropped by a change would otherwise be read, rendered and
    /// compressed once for every request that arrives before the first copy is kept,
    /// each build holding its own buffers). `Some` for the builder, to hold until what
    /// it built is kept; `None` for a request that waited, which looks again (see
    /// [`PageCache::after_miss`]).
    async fn build_turn(&self, kind: &str, key: &str) -> Option<Building<'_>> {
        let key = format!("{kind}\n{key}");
        let mut waiting = {
            let mut building = self.building.lock().unwrap_or_else(|e| e.into_inner());
            match building.get(&key) {
                Some(waiting) => waiting.clone(),
                None => {
                    let (done, waiting) = tokio::sync::watch::channel(());
                    building.insert(key.clone(), waiting);
                    return Some(Building { building: &self.building, key, _done: done });
                }
            }
        };
        // Never sent to: ends when the builder is done, however it ends.
        let _ = waiting.changed().await;
        None
    }

    /// Sends every touch made here to `announce` too, and the syncs (once set, for good).
    pub fn announce_with(&self, announce: impl Fn(Announcement) + Send + Sync + 'static) {
        let _ = self.announce.set(Box::new(announce));
    }

    /// On SQLite: `changed` tells whether anything was committed to the database since
    /// it was last called (once set, for good). A site on SQLite is one process, but
    /// the command line, or a second server on the same file, may change what it keeps
    /// of signed-in readers; [`PageCache::sync`] asks.
    pub fn watch_with(&self, changed: impl Fn() -> bool + Send + Sync + 'static) {
        let _ = self.watch.set(Box::new(changed));
    }

    /// Waits until every touch announced on this thread so far has been sent to the
    /// other instances (a request announces and syncs on its worker thread), and every
    /// touch they had sent when this was called has been applied here: what is kept
    /// here is then no staler than the database was when this was called. At once on
    /// SQLite (one process). `false` when this instance is not hearing the others or the
    /// database did not answer in time: then nothing kept here may be trusted. One round
    /// trip to the database, on the worker thread's link or through the listener
    /// (`web::live`), answers the syncs of all the requests waiting for it.
    ///
    /// On SQLite, the database is asked whether anything was committed since the last
    /// sync, by this process or another; if so, everything kept of signed-in readers is
    /// stale (see [`PageCache::watch_with`]).
    pub async fn sync(&self) -> bool {
        if let Some(changed) = self.watch.get() {
            let _watching = self.watching.lock().unwrap_or_else(|e| e.into_inner());
            if changed() {
                let n = self.next();
                self.outside.fetch_max(n, Ordering::SeqCst);
            }
            return true;
        }
        let Some(announce) = self.announce.get() else { return true };
        if !self.hearing() {
            return false;
        }
        let (answer, answered) = tokio::sync::oneshot::channel();
        announce(Announcement::Sync(answer));
        matches!(tokio::time::timeout(SYNC_TIMEOUT, answered).await, Ok(Ok(())))
    }

    /// Whether this instance hears the others' touches. While it does not, pages are
    /// rendered afresh for every request: a page kept here could miss another
    /// instance's change for as long as it is kept.
    pub fn set_hearing(&self, hearing: bool) {
        self.deaf.store(!hearing, Ordering::SeqCst);
    }

    /// Whether this instance tells other instances of its touches (PostgreSQL).
    pub fn announces(&self) -> bool {
        self.announce.get().is_some()
    }

    /// Whether this instance hears the others' touches (always, on SQLite).
    pub fn hearing(&self) -> bool {
        !self.deaf.load(Ordering::SeqCst)
    }

    /// This instance's name in announcements.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    fn announce(&self, touch: String) {
        if let Some(announce) = self.announce.get() {
            announce(Announcement::Touch(touch));
        }
    }

    /// A touch another instance announced: `a:ID` (an article), `u:ID` (an account),
    /// `readers` (accounts changed from outside the site) or anything else
    /// (everything).
    pub fn apply_remote(&self, touch: &str) {
        // A setting no cached page shows (`s:NAME`, see `announce_setting`).
        if touch.starts_with("s:") {
            return;
        }
        if let Some(id) = touch.strip_prefix("a:").and_then(|id| id.parse().ok()) {
            return self.touch_article_quietly(ArticleId(id));
        }
        if let Some(id) = touch.strip_prefix("u:").and_then(|id| id.parse().ok()) {
            return self.touch_user_quietly(UserId(id));
        }
        // Accounts or sessions changed from outside the site: what is kept of every
        // signed-in reader, and nothing else.
        if touch == "readers" {
            let n = self.next();
            self.outside.fetch_max(n, Ordering::SeqCst);
            return;
        }
        self.touch_everything_quietly()
    }

    /// Tells the other instances that a setting they keep in memory changed
    /// (`s:NAME`); no cached page shows it. An instance of an older version takes it
    /// for a change to everything.
    pub fn announce_setting(&self, touch: &str) {
        self.announce(touch.to_owned());
    }

    fn touch_article_quietly(&self, article: ArticleId) {
        let n = self.next();
        self.slot(article).fetch_max(n, Ordering::SeqCst);
        self.any.fetch_max(n, Ordering::SeqCst);
    }

    /// Everything is stale, without telling anyone (the other instances know, or the
    /// change came from them).
    pub fn touch_everything_quietly(&self) {
        let n = self.next();
        self.everything.fetch_max(n, Ordering::SeqCst);
        self.any.fetch_max(n, Ordering::SeqCst);
    }

    fn touch_user_quietly(&self, user: UserId) {
        let n = self.next();
        self.user_slot(user).fetch_max(n, Ordering::SeqCst);
    }

    fn slot(&self, article: ArticleId) -> &AtomicU64 {
        &self.articles[(article.0 as u64 % SLOTS as u64) as usize]
    }

    fn user_slot(&self, user: UserId) -> &AtomicU64 {
        &self.users[(user.0 as u64 % SLOTS as u64) as usize]
    }

    fn next(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Where the sequence stands: read it before loading what will be kept.
    pub fn mark(&self) -> u64 {
        self.sequence.load(Ordering::SeqCst)
    }

    /// A committed change to one article's page (its comments, votes, lock, text).
    pub fn touch_article(&self, article: ArticleId) {
        self.touch_article_quietly(article);
        self.announce(format!("a:{}", article.0));
        declare_touched();
    }

    /// A committed change to one account, or one made by it (`track_writes` touches the
    /// account of every state-changing request): what is kept of its identity and of
    /// its own parts of pages is stale. No page anyone else sees changes by it.
    pub fn touch_user(&self, user: UserId) {
        self.touch_user_quietly(user);
        self.announce(format!("u:{}", user.0));
    }

    /// A committed change that may show anywhere (an account renamed or deleted,
    /// articles added or removed, a setting).
    pub fn touch_everything(&self) {
        self.touch_everything_quietly();
        self.announce("*".to_owned());
        declare_touched();
    }

    fn fresh<T>(&self, entry: &Kept<T>) -> bool {
        let after = |touched: &AtomicU64| entry.rendered >= touched.load(Ordering::SeqCst);
        let max_age = if matches!(entry.scope, Scope::Account(_)) { ACCOUNT_MAX_AGE } else { MAX_AGE };
        !self.deaf.load(Ordering::SeqCst)
            && entry.born.elapsed() < max_age
            && after(&self.everything)
            && match entry.scope {
                Scope::Site => after(&self.any),
                Scope::Article(id) => after(self.slot(id)),
                Scope::Account(user) => after(&self.any) && after(self.user_slot(user)) && after(&self.outside),
                Scope::Reader(user, article) => {
                    after(self.slot(article)) && after(self.user_slot(user)) && after(&self.outside)
                }
            }
    }

    fn get_from<T>(&self, store: &Mutex<Store<T>>, key: &str) -> Option<Arc<Kept<T>>> {
        let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
        let entry = store.entries.get(key)?.clone();
        if self.fresh(&entry) {
            return Some(entry);
        }
        store.entries.pop(key);
        store.bytes -= entry.size;
        None
    }

    fn put_into<T>(&self, store: &Mutex<Store<T>>, key: String, entry: Arc<Kept<T>>) {
        let size = entry.size;
        let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
        if size > store.budget / 8 || self.deaf.load(Ordering::SeqCst) {
            return;
        }
        // `push` hands back what it replaced or, when full, what it evicted.
        if let Some((_, old)) = store.entries.push(key, entry) {
            store.bytes -= old.size;
        }
        store.bytes += size;
        while store.bytes > store.budget {
            match store.entries.pop_lru() {
                Some((_, old)) => store.bytes -= old.size,
                None => break,
            }
        }
    }

    fn get(&self, key: &str) -> Option<Arc<Kept<Entry>>> {
        let hit = self.get_from(&self.store, key);
        if hit.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    fn put(&self, key: String, entry: Arc<Kept<Entry>>) {
        self.misses.fetch_add(1, Ordering::Relaxed);
        self.unkept.lock().unwrap_or_else(|e| e.into_inner()).pop(&key);
        self.put_into(&self.store, key, entry)
    }

    /// The shared thread kept under `key`, if still fresh.
    pub fn shared(&self, key: &str) -> Option<Arc<Kept<super::articles::SharedPage>>> {
        let hit = self.get_from(&self.shared, key);
        if hit.is_some() {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// Keeps a shared thread, rendered from what was read after [`PageCache::mark`]
    /// returned `rendered`.
    pub fn keep_shared(
        &self,
        key: String,
        scope: Scope,
        rendered: u64,
        page: super::articles::SharedPage,
    ) -> Arc<Kept<super::articles::SharedPage>> {
        self.misses.fetch_add(1, Ordering::Relaxed);
        let size = page.bytes();
        let kept = Arc::new(Kept { scope, rendered, born: Instant::now(), size, value: page });
        self.put_into(&self.shared, key, kept.clone());
        kept
    }

    /// The identity kept for the session whose token hashes to `hash`, if still fresh.
    pub fn account(&self, hash: &str) -> Option<Arc<Kept<super::security::KnownSession>>> {
        self.get_from(&self.accounts, hash)
    }

    /// Keeps a session's identity, read after [`PageCache::mark`] returned `rendered`.
    pub fn keep_account(&self, hash: String, rendered: u64, known: super::security::KnownSession) {
        let scope = Scope::Account(known.user.id);
        let size = known.size();
        let kept = Kept { scope, rendered, born: Instant::now(), size, value: known };
        self.put_into(&self.accounts, hash, Arc::new(kept));
    }

    /// A reader's own parts of a page kept under `key`, if still fresh.
    pub fn reader(&self, key: &str) -> Option<Arc<Kept<crate::db::threads::ReaderState>>> {
        self.get_from(&self.readers, key)
    }

    /// Keeps a reader's own parts of a page of `article`, read after
    /// [`PageCache::mark`] returned `rendered`.
    pub fn keep_reader(
        &self,
        key: String,
        user: UserId,
        article: ArticleId,
        rendered: u64,
        state: crate::db::threads::ReaderState,
    ) -> Arc<Kept<crate::db::threads::ReaderState>> {
        let size = state.votes.len() * 48 + key.len() + 256;
        let kept =
            Arc::new(Kept { scope: Scope::Reader(user, article), rendered, born: Instant::now(), size, value: state });
        self.put_into(&self.readers, key, kept.clone());
        kept
    }

    /// Pages sent from the cache, and cacheable pages that had to be rendered.
    pub fn hits_and_misses(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// How many pages are kept, and their bytes.
    pub fn usage(&self) -> (usize, usize) {
        let store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        (store.entries.len(), store.bytes)
    }
}

/// Whether a request's query has only parameters that cached pages read: others would
/// make endless keys for the same pages.
pub fn cacheable_query(query: &str) -> bool {
    cacheable_query_with(query, &[])
}

/// Whether a request's query has only parameters that cached pages read, and `also`
/// (parameters a page reads outside the part that is kept).
pub fn cacheable_query_with(query: &str, also: &[&str]) -> bool {
    query.split('&').filter(|p| !p.is_empty()).all(|p| {
        let name = p.split('=').next().unwrap_or("");
        KNOWN_PARAMETERS.contains(&name) || also.contains(&name)
    })
}

tokio::task_local! {
    /// Set while a state-changing request runs: whether it declared what it touched.
    static DECLARED: Arc<AtomicBool>;
}

fn declare_touched() {
    let _ = DECLARED.try_with(|declared| declared.store(true, Ordering::SeqCst));
}

/// Says that the state-changing request being handled changed nothing any cached page
/// shows (a login, a setting of one's own, a report).
pub fn touches_nothing() {
    declare_touched();
}

/// Runs a state-changing request; unless it declared what it touched, or was refused
/// (a 4xx, or an error page that is not a failure, such as the redirect to the login
/// form), everything counts as touched once it is done, or if it is dropped midway
/// (its database work may still commit). Unless refused, it also touches the account
/// of `user`, who made it: whatever it changed of theirs (their session, settings,
/// votes, notifications read) is no longer taken from memory.
pub async fn track_writes<F, B>(
    cache: &PageCache,
    user: Option<UserId>,
    fut: F,
) -> Result<ServiceResponse<B>, actix_web::Error>
where
    F: std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    /// Touches everything when dropped, unless declared; the user's account unless
    /// refused.
    struct Guard<'a> {
        cache: &'a PageCache,
        declared: Arc<AtomicBool>,
        user: Option<UserId>,
        refused: bool,
    }
    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            if !self.declared.load(Ordering::SeqCst) {
                self.cache.touch_everything();
            }
            if let (Some(user), false) = (self.user, self.refused) {
                self.cache.touch_user(user);
            }
        }
    }
    let declared = Arc::new(AtomicBool::new(false));
    let mut guard = Guard { cache, declared: declared.clone(), user, refused: false };
    let result = DECLARED.scope(declared.clone(), fut).await;
    guard.refused = match &result {
        Ok(res) => {
            res.status().is_client_error() || (res.response().error().is_some() && !res.status().is_server_error())
        }
        Err(_) => false,
    };
    if guard.refused {
        declared.store(true, Ordering::SeqCst);
    }
    drop(guard);
    // The other instances have heard of the change before the writer is answered: a
    // read they serve after this answer is not taken from what they keep of before it.
    cache.sync().await;
    result
}

/// A page anonymous readers may be sent from the cache, with what it shows.
pub struct Cacheable<T>(pub T, pub Scope);

impl<T: actix_web::Responder> actix_web::Responder for Cacheable<T> {
    type Body = T::Body;

    fn respond_to(self, req: &actix_web::HttpRequest) -> HttpResponse<Self::Body> {
        let mut response = self.0.respond_to(req);
        response.extensions_mut().insert(self.1);
        response
    }
}

/// The middleware: serves anonymous GETs from the cache, and keeps what handlers mark
/// cacheable. It runs inside the security middleware (which puts the `Visitor` in the
/// request) and inside compression (its bodies are already compressed).
pub async fn middleware(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<actix_web::web::Data<super::AppState>>().cloned();
    let anonymous = req.extensions().get::<Visitor>().is_some_and(|v| v.user.is_none());
    let (Some(state), true, true) = (state, anonymous, matches!(*req.method(), Method::GET | Method::HEAD)) else {
        return next.call(req).await;
    };
    let cache = &state.cache;
    let key = req.uri().path_and_query().map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned());
    if !cacheable_query(req.query_string()) {
        return next.call(req).await;
    }
    if let Some(entry) = cache.get(&key) {
        let response = respond(&entry, req.request());
        return Ok(req.into_response(response));
    }
    // One build at a time, unless nothing would be kept (while deaf, or an address whose
    // last answer was not kept).
    let mut building = None;
    if cache.hearing() && !cache.is_unkept(&key) {
        match cache.after_miss("page", &key, || cache.get(&key)).await {
            Ok(entry) => {
                let response = respond(&entry, req.request());
                return Ok(req.into_response(response));
            }
            Err(turn) => building = turn,
        }
    }
    let rendered = cache.sequence.load(Ordering::SeqCst);
    let visitor = req.extensions().get::<Visitor>().cloned();
    let res = next.call(req).await?;
    let scope = res.response().extensions().get::<Scope>().copied();
    let used_form = visitor.is_some_and(|v| v.csrf_used());
    // Only an answer to a page, found, without a form, and of a size known and small
    // enough is kept. An address that took a turn and is not kept takes none again.
    let sized = matches!(res.response().body().size(), BodySize::Sized(n) if n <= MAX_BODY as u64);
    let (Some(scope), StatusCode::OK, false, true) = (scope, res.status(), used_form, sized) else {
        if building.is_some() {
            cache.note_unkept(&key);
        }
        return Ok(res);
    };
    let (request, response) = res.into_parts();
    let content_type =
        response.headers().get(header::CONTENT_TYPE).cloned().unwrap_or(HeaderValue::from_static("text/html"));
    let body =
        actix_web::body::to_bytes(response.into_body()).await.map_err(actix_web::error::ErrorInternalServerError)?;
    let entry = actix_web::web::block(move || build(scope, rendered, content_type, body))
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    let entry = Arc::new(entry);
    cache.put(key, entry.clone());
    drop(building);
    let response = respond(&entry, &request);
    Ok(ServiceResponse::new(request, response))
}

fn build(scope: Scope, rendered: u64, content_type: HeaderValue, identity: Bytes) -> Kept<Entry> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    identity.hash(&mut hasher);
    let etag = HeaderValue::from_str(&format!("W/\"{:016x}{:08x}\"", hasher.finish(), identity.len()))
        .expect("hex is a valid header value");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gzip.write_all(&identity).expect("writing to memory");
    let gzip = gzip.finish().expect("writing to memory");
    let brotli = brotli(&identity);
    let entry = Entry { content_type, etag, identity, gzip: gzip.into(), brotli: brotli.into() };
    Kept { scope, rendered, born: Instant::now(), size: entry.size(), value: entry }
}

/// `bytes` compressed with brotli (quality 6), with a window no larger than they need:
/// the encoder allocates a ring buffer of twice the window, and a window beyond the
/// input's size compresses nothing more. A 200 KiB page takes 0.5 MiB instead of 8.
fn brotli(bytes: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: 6,
        lgwin: brotli_window(bytes.len()),
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(bytes.len() / 4);
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("compressing into memory");
    out
}

/// The window (as a power of two) for `len` bytes: it holds 2^lgwin - 16 bytes. At least
/// 2^17: below, at this quality, the brotli crate falls back to a hasher of 32 MiB (the
/// one it would pick is not implemented); at most 2^22, as large as a page can be.
fn brotli_window(len: usize) -> i32 {
    (len + 16).next_power_of_two().trailing_zeros().clamp(17, 22) as i32
}

/// A cached page as this request wants it: 304 when it has it already.
fn respond(entry: &Kept<Entry>, req: &actix_web::HttpRequest) -> HttpResponse {
    let entry = &entry.value;
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| etag_matches(tags, entry.etag.to_str().unwrap_or("")));
    let mut response = if matches { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, entry.etag.clone()))
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={BROWSER_MAX_AGE}")))
        .insert_header((header::VARY, "Accept-Encoding, Cookie"));
    if matches {
        return response.finish();
    }
    let encoding = super::assets::preferred_encoding(req);
    let body = match encoding {
        "br" => entry.brotli.clone(),
        "gzip" => entry.gzip.clone(),
        _ => entry.identity.clone(),
    };
    // With a Content-Encoding set, the compression middleware leaves the body alone.
    response
        .insert_header((header::CONTENT_TYPE, entry.content_type.clone()))
        .insert_header((header::CONTENT_ENCODING, encoding))
        .body(body)
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, as for GET).
fn etag_matches(header: &str, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    header.split(',').any(|tag| tag.trim() == "*" || bare(tag) == bare(etag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_with_a_fitted_window_compresses_as_well() {
        use std::io::Read;
        let page = |len: usize| -> Vec<u8> {
            let mut out = Vec::with_capacity(len);
            let mut i = 0u64;
            while out.len() < len {
                i = i.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let _ = writeln!(
                    out,
                    "<li class=\"comment\" id=\"c{}\">Comment {} says {}</li>",
                    i >> 40,
                    i % 997,
                    i >> 50
                );
            }
            out.truncate(len);
            out
        };
        assert_eq!([0, 30_000, 131_056, 131_057, 200 * 1024, MAX_BODY].map(brotli_window), [17, 17, 17, 18, 18, 22]);
        for len in [0, 1, 1000, 30_000, 64 * 1024, 200 * 1024, MAX_BODY] {
            let bytes = page(len);
            let packed = brotli(&bytes);
            let mut unpacked = Vec::new();
            brotli::Decompressor::new(&packed[..], 4096).read_to_end(&mut unpacked).unwrap();
            assert_eq!(unpacked, bytes, "{len} bytes");
            // As small as with the largest window.
            let mut wide = Vec::new();
            brotli::CompressorWriter::new(&mut wide, 4096, 6, 22).write_all(&bytes).unwrap();
            assert!(
                packed.len() <= wide.len() + wide.len() / 100 + 8,
                "{len}: {} against {}",
                packed.len(),
                wide.len()
            );
        }
    }

    #[test]
    fn if_none_match() {
        assert!(etag_matches("W/\"abc\"", "W/\"abc\""));
        assert!(etag_matches("\"x\", W/\"abc\"", "W/\"abc\""));
        assert!(etag_matches("\"abc\"", "W/\"abc\""));
        assert!(etag_matches("*", "W/\"abc\""));
        assert!(!etag_matches("W/\"abd\"", "W/\"abc\""));
        assert!(!etag_matches("", "W/\"abc\""));
    }

    #[test]
    fn a_touch_after_rendering_makes_an_entry_stale() {
        let cache = PageCache::new();
        let entry = |scope, rendered| Kept { scope, rendered, born: Instant::now(), size: 0, value: () };
        let (a, b) = (ArticleId(1), ArticleId(2));
        let before = cache.sequence.load(Ordering::SeqCst);
        cache.touch_article(a);
        // Rendered before the touch: stale; after it: fresh.
        assert!(!cache.fresh(&entry(Scope::Article(a), before)));
        let after = cache.sequence.load(Ordering::SeqCst);
        assert!(cache.fresh(&entry(Scope::Article(a), after)));
        // Another article's page and the site's pages.
        assert!(cache.fresh(&entry(Scope::Article(b), before)));
        assert!(!cache.fresh(&entry(Scope::Site, before)));
        cache.touch_everything();
        assert!(!cache.fresh(&entry(Scope::Article(b), after)));
    }

    #[test]
    fn the_byte_budget_holds() {
        let cache = PageCache::new();
        let body = Bytes::from(vec![b'x'; BUDGET / 10]);
        for n in 0..40 {
            let value = Entry {
                content_type: HeaderValue::from_static("text/html"),
                etag: HeaderValue::from_static("W/\"x\""),
                identity: body.clone(),
                gzip: Bytes::new(),
                brotli: Bytes::new(),
            };
            let entry = Kept { scope: Scope::Site, rendered: 0, born: Instant::now(), size: value.size(), value };
            cache.put(format!("/{n}"), Arc::new(entry));
        }
        let (count, bytes) = cache.usage();
        assert!(bytes <= BUDGET && count < 40, "{count} entries, {bytes} bytes");
    }
}
