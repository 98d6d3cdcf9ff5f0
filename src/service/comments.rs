//! Comments: posting and replying (limits, pre-moderation, the word list, reply
//! notifications and the live event), previews, editing, deleting and voting.

use std::sync::Arc;

use diesel::QueryResult;
use tokio::sync::{mpsc, oneshot};

use crate::auth::AuthUser;
use crate::db::comments::{self, CommentError, NewComment, PostingLimits, ThreadComment};
use crate::db::connection::{write_transaction, write_transaction_retrying, Retryable};
use crate::db::moderation::{self, Premoderation};
use crate::db::votes::VoteOutcome;
use crate::db::{articles, now, DbConn};
use crate::domain::quotes::{QuoteRequest, ShownQuote};
use crate::domain::{permissions, Actor, ArticleId, CommentBody, CommentId, CommentStatus, Role, UserId};
use crate::web::{AppError, AppState};

/// Where a new comment goes: its article, and the comment it replies to.
pub struct Target {
    pub article_id: ArticleId,
    pub article_slug: String,
    pub article_title: String,
    pub parent: Option<ThreadComment>,
}

/// The article `slug` (and comment `parent_id`) that `author` may comment on, or why
/// not: missing (404), closed or banned (403), an unconfirmed address when the site
/// asks for one (403).
pub async fn target(
    state: &AppState,
    author: &AuthUser,
    slug: &str,
    parent_id: Option<CommentId>,
) -> Result<Target, AppError> {
    let (target, locked) = find_target(state, slug, parent_id).await?;
    may_post(state, author, locked)?;
    Ok(target)
}

/// The article `slug` (and comment `parent_id`) a comment would go on, and whether its
/// comments are closed; missing, 404 (a missing parent, 400).
pub async fn find_target(
    state: &AppState,
    slug: &str,
    parent_id: Option<CommentId>,
) -> Result<(Target, bool), AppError> {
    let slug = slug.to_owned();
    // A read, done beside the writer: posts gather in the queue while a batch is written.
    state
        .db_read(move |conn| {
            let (article_id, article_title, locked) = articles::find_basic(conn, &slug)?.ok_or(AppError::NotFound)?;
            let parent = match parent_id {
                Some(id) => Some(
                    comments::one(conn, id, None)?
                        .ok_or(AppError::BadRequest("The comment replied to does not exist.".into()))?,
                ),
                None => None,
            };
            Ok((Target { article_id, article_slug: slug, article_title, parent }, locked))
        })
        .await
}

/// What a new comment on `target` would quote (the form's `quote` and `quote_text`),
/// checked against the article as it is: 400 with the reason when it is not of this
/// article, or asked on a reply. `None` when nothing is asked.
pub async fn check_quote(
    state: &AppState,
    target: &Target,
    quote: Option<&str>,
    text: Option<&str>,
) -> Result<Option<ShownQuote>, AppError> {
    let asked = QuoteRequest::from_form(quote, text).map_err(AppError::BadRequest)?;
    check_request(state, target, asked).await
}

/// [`check_quote`] of a request already read (the API's).
pub async fn check_request(
    state: &AppState,
    target: &Target,
    asked: QuoteRequest,
) -> Result<Option<ShownQuote>, AppError> {
    if asked.is_empty() {
        return Ok(None);
    }
    if target.parent.is_some() {
        return Err(AppError::BadRequest(
            "A reply quotes nothing of the article: it answers the comment it replies to.".into(),
        ));
    }
    let article_id = target.article_id;
    let (takeaways, summary, slug) = state.db(move |conn| Ok(comments::quoted_text(conn, article_id)?)).await?;
    let quote = asked.check(&takeaways, &summary).map_err(AppError::BadRequest)?;
    Ok(quote.map(|q| q.shown(&takeaways, &summary, &slug)))
}

/// Whether `author` may comment on an article (closed or not): not banned (403), and
/// with a confirmed address when the site asks for one (403).
pub fn may_post(state: &AppState, author: &AuthUser, locked: bool) -> Result<(), AppError> {
    if state.config.require_email_verification && !author.email_verified {
        return Err(AppError::Forbidden("Confirm your email address before commenting (see Settings).".into()));
    }
    permissions::may_comment(Some(&author.actor()), locked)?;
    Ok(())
}

async fn render(body: &CommentBody) -> Result<String, AppError> {
    super::render_markdown(body.as_str()).await
}

/// A preview of `body`: limited per account like posting.
pub async fn preview(state: &AppState, author: &AuthUser, body: &CommentBody) -> Result<String, AppError> {
    state.limits.preview(author.id).map_err(|retry_after| AppError::TooManyRequests { retry_after })?;
    render(body).await
}

/// What posting did.
#[derive(Debug, Clone, Copy)]
pub struct Posted {
    pub id: CommentId,
    /// Held for a moderator's approval: only its author sees it until then.
    pub held: bool,
}

/// Posts `body` on `target`: within the account's per-minute and per-day limits
/// (counted in the database, in the posting transaction: they hold across instances
/// and restarts), held when the site pre-moderates or the word list matches, then
/// announced to live readers and (by email, when asked for) to the author of the
/// parent.
pub async fn post(
    state: &AppState,
    author: &AuthUser,
    target: &Target,
    body: &CommentBody,
    quote: Option<QuoteRequest>,
) -> Result<Posted, AppError> {
    let new_account = now() - author.created_at < time::Duration::days(1);
    let limits = state.config.rate_limits.posting_limits(new_account);
    let html = render(body).await?;
    let article_id = target.article_id;
    let item = Item {
        article_id,
        author: author.actor(),
        parent_id: target.parent.as_ref().map(|p| p.comment.id),
        source: body.as_str().to_owned(),
        html,
        limits,
        quote,
    };
    let (posted, held) = state.posts.post(item).await?;
    state.cache.touch_article(article_id);
    crate::web::live::changed(state, article_id);
    if held {
        return Ok(Posted { id: posted.id, held });
    }
    if let Some((_, Some(email))) = posted.notify {
        let link = state.config.link(&format!("comments/{}", posted.id));
        let text = format!(
            "{} replied to your comment on \"{}\":\n\n{link}\n\n\
             You get these emails because you asked for them; turn them off in your settings.",
            author.username, target.article_title
        );
        state.send_mail(email, format!("{} replied to your comment", author.username), text).await?;
    }
    Ok(Posted { id: posted.id, held })
}

/// A comment on its way into the database.
struct Item {
    article_id: ArticleId,
    author: Actor,
    parent_id: Option<CommentId>,
    source: String,
    html: String,
    limits: PostingLimits,
    quote: Option<QuoteRequest>,
}

type Outcome = Result<(comments::Posted, bool), AppError>;

struct Job {
    item: Item,
    answer: oneshot::Sender<Outcome>,
}

/// Most comments written in one transaction.
const BATCH: usize = 64;
/// Comments waiting for a turn, at most; more wait to be let in.
const WAITING: usize = 1024;
/// Longest a post waits for its answer.
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

/// The queue every new comment goes through: posts that arrive together are written in
/// one transaction (each in a savepoint of its own, so one refused post leaves the
/// others), which commits once for all of them. Under load a transaction's cost — its
/// commit, and on PostgreSQL the article's row lock held until then — is shared by the
/// batch; alone, a post is a batch of one and waits for nothing.
pub struct PostQueue {
    sender: mpsc::Sender<Job>,
    receiver: std::sync::Mutex<Option<mpsc::Receiver<Job>>>,
}

impl Default for PostQueue {
    fn default() -> Self {
        let (sender, receiver) = mpsc::channel(WAITING);
        PostQueue { sender, receiver: std::sync::Mutex::new(Some(receiver)) }
    }
}

impl PostQueue {
    async fn post(&self, item: Item) -> Outcome {
        let (answer, answered) = oneshot::channel();
        if self.sender.send(Job { item, answer }).await.is_err() {
            return Err(AppError::Unavailable);
        }
        // The writer drops a job only when the server is stopping; a writer that stalls
        // (the database gone) leaves the reader a 503 rather than a request that hangs.
        match tokio::time::timeout(ANSWER_WITHIN, answered).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) | Err(_) => Err(AppError::Unavailable),
        }
    }

    /// Starts the writer: on SQLite one batch at a time (one writer), on PostgreSQL a
    /// few at once, each to another article (posts to different articles need not wait
    /// on each other; posts to one article wait on its row, so they wait here instead,
    /// gathering into the next batch).
    pub fn start(state: actix_web::web::Data<AppState>) {
        let Some(mut receiver) = state.posts.receiver.lock().ok().and_then(|mut r| r.take()) else { return };
        let lanes = match crate::db::DbUrl::parse(&state.config.database_url) {
            Ok(crate::db::DbUrl::Postgres(_)) => 4,
            _ => 1,
        };
        let lanes = Arc::new(tokio::sync::Semaphore::new(lanes));
        // The site's state holds the queue: holding the state only while writing lets
        // the queue close, and this end, once the site is gone.
        let site = Arc::downgrade(&state.into_inner());
        tokio::spawn(async move {
            // Articles with a batch being written, and a wake-up when one is done.
            let busy = Arc::new(std::sync::Mutex::new(std::collections::HashSet::<ArticleId>::new()));
            let done = Arc::new(tokio::sync::Notify::new());
            // Posts taken from the queue that wait for a batch: at most `WAITING`.
            let mut waiting: std::collections::VecDeque<Job> = std::collections::VecDeque::new();
            let mut open = true;
            loop {
                let Ok(lane) = lanes.clone().acquire_owned().await else { return };
                let jobs = loop {
                    while waiting.len() < WAITING {
                        match receiver.try_recv() {
                            Ok(job) => waiting.push_back(job),
                            Err(mpsc::error::TryRecvError::Empty) => break,
                            Err(mpsc::error::TryRecvError::Disconnected) => {
                                open = false;
                                break;
                            }
                        }
                    }
                    let free = {
                        let busy = busy.lock().unwrap_or_else(|e| e.into_inner());
                        waiting.iter().map(|job| job.item.article_id).find(|article| !busy.contains(article))
                    };
                    if let Some(article) = free {
                        let mut jobs = Vec::new();
                        let mut rest = std::collections::VecDeque::with_capacity(waiting.len());
                        for job in waiting.drain(..) {
                            // A post whose reader was already answered (503 after
                            // `ANSWER_WITHIN`) or went away is not written: told it
                            // failed, they may send it again.
                            if job.answer.is_closed() {
                                continue;
                            }
                            if job.item.article_id == article && jobs.len() < BATCH {
                                jobs.push(job);
                            } else {
                                rest.push_back(job);
                            }
                        }
                        waiting = rest;
                        if jobs.is_empty() {
                            continue;
                        }
                        break jobs;
                    }
                    if !open && waiting.is_empty() {
                        return;
                    }
                    // Nothing to start: wait for a post, or for a batch to be done.
                    tokio::select! {
                        job = receiver.recv(), if open && waiting.len() < WAITING => match job {
                            Some(job) => waiting.push_back(job),
                            None => open = false,
                        },
                        () = done.notified() => {}
                    }
                };
                let Some(state) = site.upgrade() else { return };
                let article = jobs[0].item.article_id;
                busy.lock().unwrap_or_else(|e| e.into_inner()).insert(article);
                // The article is free again when the batch is done, however it ends.
                let writing = Writing { article, busy: busy.clone(), done: done.clone() };
                tokio::spawn(async move {
                    write_batch(&state, jobs).await;
                    drop(writing);
                    drop(lane);
                });
            }
        });
    }
}

/// An article with a batch being written, until dropped.
struct Writing {
    article: ArticleId,
    busy: Arc<std::sync::Mutex<std::collections::HashSet<ArticleId>>>,
    done: Arc<tokio::sync::Notify>,
}

impl Drop for Writing {
    fn drop(&mut self) {
        self.busy.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.article);
        self.done.notify_one();
    }
}

/// Writes `jobs` (posts to one article) in one transaction and answers each. When the
/// transaction fails as a whole (the database unreachable or full, a lost race twice),
/// each post is answered with that error: none was stored, and none is tried again
/// here (a commit that failed may still have been made).
async fn write_batch(state: &AppState, jobs: Vec<Job>) {
    let (items, answers): (Vec<Item>, Vec<oneshot::Sender<Outcome>>) =
        jobs.into_iter().map(|job| (job.item, job.answer)).unzip();
    match state.db_write(move |conn| Ok(post_batch(conn, &items)?)).await {
        Ok(outcomes) => {
            tracing::debug!(posts = outcomes.len(), "a batch of posts written");
            for (answer, outcome) in answers.into_iter().zip(outcomes) {
                let _ = answer.send(outcome);
            }
        }
        Err(err) => {
            tracing::warn!(%err, posts = answers.len(), "a batch of posts failed");
            for answer in answers {
                let _ = answer.send(Err(err.again()));
            }
        }
    }
}

/// Posts `items` (all to one article) in one write transaction. A post refused for its
/// own reason (its article closed, its author over the limits …) is answered with it
/// and leaves nothing behind: every refusal comes before a post's first write (see
/// `comments::post_within`). A statement that fails undoes the whole transaction,
/// which is then run again with each post in a savepoint of its own, so that the one
/// post it concerns is rolled back alone and answered with the error. The transaction
/// fails as a whole only on an error of the database itself (and is then tried once
/// more when that was a lost race).
fn post_batch(conn: &mut DbConn, items: &[Item]) -> Result<Vec<Outcome>, CommentError> {
    let mut failed_inside = false;
    match post_batch_with(conn, items, false, &mut failed_inside) {
        // The last attempt's work failed, so it was rolled back and never committed:
        // safe to write again. (A lost race was already tried again.)
        Err(CommentError::Db(err)) if failed_inside && !err.is_retryable() => {
            post_batch_with(conn, items, true, &mut failed_inside)
        }
        other => other,
    }
}

/// One attempt of [`post_batch`]: with `savepoints`, each post in its own.
/// `failed_inside` tells whether the last transaction's work failed (as opposed to
/// its commit, which may have been made though it failed).
fn post_batch_with(
    conn: &mut DbConn,
    items: &[Item],
    savepoints: bool,
    failed_inside: &mut bool,
) -> Result<Vec<Outcome>, CommentError> {
    write_transaction_retrying(conn, |conn| {
        let work = |conn: &mut DbConn| -> Result<Vec<Outcome>, CommentError> {
            let limited: Vec<UserId> =
                items.iter().filter(|i| i.limits != PostingLimits::default()).map(|i| i.author.id).collect();
            let articles: Vec<ArticleId> = items.iter().map(|i| i.article_id).collect();
            let closed = comments::lock_for_posts(conn, &limited, &articles)?;
            let approval = Approval::load(conn)?;
            let mut outcomes = Vec::with_capacity(items.len());
            let mut written = Vec::with_capacity(items.len());
            for item in items {
                let post = |conn: &mut DbConn| -> Result<(comments::Posted, bool), CommentError> {
                    let closed = *closed.get(&item.article_id).ok_or(diesel::result::Error::NotFound)?;
                    let held =
                        item.author.role < Role::Moderator && approval.must_wait(conn, item.author.id, &item.source)?;
                    let status = if held { CommentStatus::Pending } else { CommentStatus::Visible };
                    let new = NewComment {
                        article_id: item.article_id,
                        author: item.author,
                        parent_id: item.parent_id,
                        source: &item.source,
                        html: &item.html,
                        status,
                        limits: item.limits,
                        quote: item.quote.clone(),
                    };
                    comments::post_within(conn, &new, closed).map(|posted| (posted, held))
                };
                let posted = if savepoints { write_transaction(conn, post) } else { post(conn) };
                match posted {
                    // A lost race undoes the whole transaction, to be tried again; so
                    // does any failed statement without savepoints (see above).
                    Err(err) if err.is_retryable() => return Err(err),
                    Err(err @ CommentError::Db(_)) if !savepoints => return Err(err),
                    Ok((posted, held)) => {
                        outcomes.push(Ok((posted.clone(), held)));
                        written.push(posted);
                    }
                    Err(err) => outcomes.push(Err(AppError::from(err))),
                }
            }
            if let Some(item) = items.first() {
                debug_assert!(items.iter().all(|i| i.article_id == item.article_id), "one article per batch");
                comments::finish_posts(conn, item.article_id, &written)?;
            }
            Ok(outcomes)
        };
        let result = work(conn);
        *failed_inside = result.is_err();
        result
    })
}

/// The site's rules for holding new comments for approval, read once per batch.
struct Approval {
    premoderation: Premoderation,
    words: Option<regex::Regex>,
}

impl Approval {
    fn load(conn: &mut DbConn) -> QueryResult<Approval> {
        let [mode, count] = moderation::PREMODERATION_KEYS;
        let mut found = crate::db::settings::get_many(conn, &[mode, count, moderation::WORD_LIST_KEY])?;
        Ok(Approval {
            premoderation: moderation::premoderation_of(found.remove(mode), found.remove(count))?,
            words: word_list_regex(&moderation::word_list_of(found.remove(moderation::WORD_LIST_KEY))),
        })
    }

    /// Whether a new comment by `author_id` waits for a moderator: by the site's
    /// pre-moderation setting, or because it contains a word on the list.
    fn must_wait(&self, conn: &mut DbConn, author_id: UserId, body: &str) -> QueryResult<bool> {
        let by_setting = match self.premoderation {
            Premoderation::Off => false,
            Premoderation::Everyone => true,
            Premoderation::NewAccounts(n) => moderation::published_count(conn, author_id)? < i64::from(n),
        };
        Ok(by_setting || self.words.as_ref().is_some_and(|re| re.is_match(body)))
    }
}

/// Whether `body` contains a listed word or phrase (case-insensitive, whole words;
/// `*` stands for any letters).
pub fn word_list_matches(words: &[String], body: &str) -> bool {
    word_list_regex(words).is_some_and(|re| re.is_match(body))
}

/// The word list as one pattern; `None` when it is empty (or, a bug, does not compile).
fn word_list_regex(words: &[String]) -> Option<regex::Regex> {
    if words.is_empty() {
        return None;
    }
    let alternatives: Vec<String> = words.iter().map(|w| regex::escape(w).replace("\\*", "\\w*")).collect();
    match regex::Regex::new(&format!("(?i)\\b(?:{})\\b", alternatives.join("|"))) {
        Ok(re) => Some(re),
        Err(err) => {
            tracing::error!(%err, "the word list does not compile");
            None
        }
    }
}

/// The source of comment `id` for its edit form, with its article's slug and title,
/// if `author` may still edit it.
pub async fn editable(
    state: &AppState,
    author: &AuthUser,
    id: CommentId,
) -> Result<(String, String, String), AppError> {
    let (actor, window) = (author.actor(), state.config.edit_window);
    state
        .db(move |conn| {
            let (comment, slug, title, locked) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            permissions::may_edit(Some(&actor), &comment.facts(locked), now(), window)?;
            Ok((comments::source(conn, id)?, slug, title))
        })
        .await
}

/// Replaces the text of `author`'s comment `id`. The new text meets the same checks as
/// a new comment's (but an approved comment is not held again for being among an
/// account's first ones).
pub async fn edit(state: &AppState, author: &AuthUser, id: CommentId, body: &CommentBody) -> Result<(), AppError> {
    let html = render(body).await?;
    let (actor, window) = (author.actor(), state.config.edit_window);
    let source = body.as_str().to_owned();
    let article_id = state
        .db(move |conn| {
            let hold = actor.role < Role::Moderator
                && (moderation::premoderation(conn)? == Premoderation::Everyone
                    || word_list_matches(&moderation::word_list(conn)?, &source));
            comments::edit(conn, id, &actor, &source, &html, window, hold)?;
            Ok(comments::find(conn, id)?.ok_or(AppError::NotFound)?.article_id)
        })
        .await?;
    state.cache.touch_article(article_id);
    crate::web::live::changed(state, article_id);
    Ok(())
}

/// Deletes `author`'s comment `id`; returns its article's slug.
pub async fn delete(state: &AppState, author: &AuthUser, id: CommentId) -> Result<String, AppError> {
    let actor = author.actor();
    let (article_id, slug) = state
        .db(move |conn| {
            let (comment, slug, _, _) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            comments::delete(conn, id, &actor)?;
            Ok((comment.article_id, slug))
        })
        .await?;
    state.cache.touch_article(article_id);
    crate::web::live::changed(state, article_id);
    Ok(slug)
}

/// Sets `voter`'s vote on comment `id` to `value` (1, -1, or 0 to withdraw it).
pub async fn vote(state: &AppState, voter: &AuthUser, id: CommentId, value: i32) -> Result<VoteOutcome, AppError> {
    let actor = voter.actor();
    let outcome = state.db(move |conn| Ok(crate::db::votes::vote(conn, id, &actor, value)?)).await?;
    state.cache.touch_article(outcome.article_id);
    crate::web::live::changed(state, outcome.article_id);
    Ok(outcome)
}
