//! Importing comments from another system, all or nothing: from the command line
//! (`afterword import-comments`) and from the administrators' page (an upload).
//!
//! The file is read twice. The first pass checks every record and keeps only the shape
//! of the threads (which comment replies to which, and its flags), so a malformed file
//! fails before anything is written. Then a plan decides each comment's fate (spam is
//! left out; a deleted comment stays as the "[deleted]" placeholder only when replies
//! to it are imported; a reply whose parent is not in the file becomes top-level).
//! The second pass writes, in one transaction; `--dry-run` rolls it back, so its
//! summary is exactly what a real run would do. Every thread, comment and author
//! keeps the other system's id, so running the same file again changes nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::comment_import::{self as ci, Body, Comment, Format, ImportError, Record};
use crate::db::imports::{self as dbi, AuthorOutcome, Placed, ThreadOutcome};
use crate::db::{write_transaction, DbConn};
use crate::domain::{ArticleId, CommentStatus, TokenPurpose, UserId};
use crate::web::{AppError, AppState};

/// Imports an uploaded file (from the administrators' page) with the same rules as
/// the command line: its summary, or why nothing was imported.
pub async fn import_upload(
    state: &AppState,
    bytes: Vec<u8>,
    options: Options,
) -> Result<Result<Summary, String>, AppError> {
    let result = state
        .db(move |conn| {
            let mut file = tempfile::NamedTempFile::new().map_err(|e| AppError::Internal(e.into()))?;
            std::io::Write::write_all(file.as_file_mut(), &bytes).map_err(|e| AppError::Internal(e.into()))?;
            match import_file(conn, file.path(), &options, &mut |_| {}) {
                Ok(summary) => Ok(Ok(summary)),
                Err(ImportError::Db(e)) => Err(e.into()),
                Err(other) => Ok(Err(other.to_string())),
            }
        })
        .await?;
    if let Ok(summary) = &result {
        if !summary.dry_run && summary.comments.created + summary.threads.created > 0 {
            state.cache.touch_everything();
        }
    }
    Ok(result)
}

/// How long a claim link works.
const CLAIM_VALID_FOR: time::Duration = time::Duration::days(2);

/// Why a claim was refused, in words for the reader.
pub type Refused = &'static str;

/// A signed-in reader asks for the comments imported with their address: the site
/// mails a link to that address (the outbox, without SMTP); following it moves them.
/// Refused when the address is not confirmed, or no imported comment has it.
pub async fn request_claim(state: &AppState, reader: UserId) -> Result<Result<(), Refused>, AppError> {
    let user = state.db(move |conn| crate::db::users::find(conn, reader)?.ok_or(AppError::NotFound)).await?;
    let (Some(email), true) = (user.email.clone(), user.email_verified) else {
        return Ok(Err("Confirm your email address first: imported comments go only to a confirmed address."));
    };
    let key = crate::db::users::key(&email);
    let waiting = state.db(move |conn| Ok(dbi::claimable(conn, &key)?)).await?;
    if waiting == 0 {
        return Ok(Err("No imported comment was written with your address."));
    }
    let token = crate::auth::random_token();
    let hash = crate::auth::token_hash(&token);
    state
        .db(move |conn| Ok(crate::db::users::create_token(conn, reader, TokenPurpose::Claim, &hash, CLAIM_VALID_FOR)?))
        .await?;
    let link = state.config.link(&format!("claim-comments/{token}"));
    let body = format!(
        "You asked Afterword for the {waiting} comment(s) imported from the site's previous comment system \
         with this address. Open this link to move them to your account {}:\n\n{link}\n\n\
         The link works once, within two days. If you did not ask, you need do nothing.",
        user.username
    );
    state.send_mail(email, "Claim your imported comments".into(), body).await?;
    Ok(Ok(()))
}

/// The reader a valid claim link belongs to, if it is valid.
pub async fn claim_link_user(state: &AppState, token: &str) -> Result<Option<crate::db::users::User>, AppError> {
    let hash = crate::auth::token_hash(token);
    state.db(move |conn| Ok(crate::db::users::token_user(conn, TokenPurpose::Claim, &hash)?)).await
}

/// Follows a claim link: the number of comments moved, or `None` when the link has
/// expired or was used.
pub async fn claim(state: &AppState, token: &str) -> Result<Option<usize>, AppError> {
    let Some(user) = claim_link_user(state, token).await? else { return Ok(None) };
    let hash = crate::auth::token_hash(token);
    let done = state.db(move |conn| Ok(dbi::claim(conn, &hash, user.id)?)).await?;
    Ok(done.map(|(moved, articles)| {
        if !articles.is_empty() {
            // Names change on threads and profiles alike.
            state.cache.touch_everything();
        }
        moved
    }))
}

/// How a run should go.
#[derive(Debug, Clone)]
pub struct Options {
    pub format: Format,
    /// Joined to thread addresses that are only a path (Isso keeps `/blog/post/`).
    pub site_url: Option<url::Url>,
    /// Work out everything, write nothing.
    pub dry_run: bool,
}

/// Where a run is, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Checking the file: records read so far.
    Checking { records: u64 },
    /// Writing: comments handled of those in the file.
    Writing { done: u64, total: u64 },
}

/// Counts of one kind of thing: what happened to each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub created: u64,
    /// Threads: matched to an article already here. Authors: their name or address
    /// changed since an earlier import.
    pub updated: u64,
    /// Imported by an earlier run (nothing to do).
    pub unchanged: u64,
    /// Left out, by reason.
    pub skipped: BTreeMap<String, u64>,
}

impl Tally {
    fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_default() += 1;
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    fn line(&self, kind: &str, updated: &str) -> String {
        let mut line =
            format!("{kind}: {} created, {} {updated}, {} unchanged", self.created, self.updated, self.unchanged);
        if !self.skipped.is_empty() {
            let reasons: Vec<String> = self.skipped.iter().map(|(why, n)| format!("{n} {why}")).collect();
            line.push_str(&format!(", {} skipped ({})", self.skipped_total(), reasons.join("; ")));
        }
        line
    }
}

/// What a run did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub format: Format,
    pub dry_run: bool,
    pub threads: Tally,
    pub comments: Tally,
    pub authors: Tally,
    /// Replies whose parent is not in the file (or was left out): made top-level.
    pub orphans: u64,
}

impl Summary {
    /// One line per kind, as the command prints it and the page shows it.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            self.threads.line("threads", "matched to existing articles"),
            self.comments.line("comments", "updated"),
            self.authors.line("authors", "updated"),
        ];
        if self.orphans > 0 {
            lines.push(format!("{} replies to comments not imported became top-level comments", self.orphans));
        }
        if self.dry_run {
            lines.push("dry run: nothing was written".to_owned());
        }
        lines
    }
}

/// Imports the file at `path` into the database behind `conn`, all or nothing.
pub fn import_file(
    conn: &mut DbConn,
    path: &Path,
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, ImportError> {
    let input = Input::prepare(path, options.format)?;
    let plan = check(&input, options, progress)?;
    let total = plan.comments.len() as u64;
    let mut summary = Summary {
        format: options.format,
        dry_run: options.dry_run,
        threads: Tally::default(),
        comments: Tally::default(),
        authors: Tally::default(),
        orphans: plan.orphans,
    };
    let result = write_transaction(conn, |conn| -> Result<(), Abort> {
        let mut writer = Writer::new(conn, &plan, options, &mut summary);
        let mut done = 0u64;
        input.read(&mut |record| {
            if let Record::Comment(comment) = record {
                writer.comment(comment)?;
                done += 1;
                if done % 500 == 0 || done == total {
                    progress(Progress::Writing { done, total });
                }
            }
            Ok(())
        })?;
        writer.finish()?;
        if options.dry_run {
            return Err(Abort::DryRun);
        }
        crate::db::live::announce_to_running_sites(conn, "*")?;
        Ok(())
    });
    match result {
        Ok(()) | Err(Abort::DryRun) => Ok(summary),
        Err(Abort::Failed(err)) => Err(err),
    }
}

enum Abort {
    DryRun,
    Failed(ImportError),
}

impl From<diesel::result::Error> for Abort {
    fn from(err: diesel::result::Error) -> Abort {
        Abort::Failed(err.into())
    }
}

impl From<ImportError> for Abort {
    fn from(err: ImportError) -> Abort {
        Abort::Failed(err)
    }
}

/// The file to read, as the format needs it: Isso's database decompressed into a
/// temporary file when it came gzipped.
struct Input {
    format: Format,
    path: PathBuf,
    _temp: Option<tempfile::TempPath>,
}

impl Input {
    fn prepare(path: &Path, format: Format) -> Result<Input, ImportError> {
        if format != Format::Isso {
            return Ok(Input { format, path: path.to_owned(), _temp: None });
        }
        let mut head = [0u8; 2];
        let io = |e: std::io::Error| ImportError::Io(format!("{}: {e}", path.display()));
        {
            use std::io::Read;
            let n = std::fs::File::open(path).map_err(io)?.read(&mut head).map_err(io)?;
            if n < 2 || head != [0x1f, 0x8b] {
                return Ok(Input { format, path: path.to_owned(), _temp: None });
            }
        }
        let mut temp = tempfile::NamedTempFile::new().map_err(io)?;
        let mut reader = ci::open(path)?;
        std::io::copy(&mut reader, temp.as_file_mut())
            .map_err(|e| ImportError::malformed("the file", format!("it is not valid gzip: {e}")))?;
        let temp = temp.into_temp_path();
        Ok(Input { format, path: temp.to_path_buf(), _temp: Some(temp) })
    }

    fn read(&self, sink: &mut ci::Sink) -> Result<(), ImportError> {
        match self.format {
            Format::Isso => crate::db::isso::read(&self.path, sink),
            format => ci::read_stream(format, ci::open(&self.path)?, sink),
        }
    }
}

/// A thread as the plan keeps it.
struct PlannedThread {
    source_id: String,
    url: Result<String, String>,
    title: String,
}

/// A comment as the plan keeps it: no text, only its place and fate.
struct PlannedComment {
    thread: Option<u32>,
    /// The parent's index, when the parent is in the file and imported.
    parent: Option<u32>,
    fate: Fate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    Import,
    Skip(String),
}

struct Plan {
    threads: Vec<PlannedThread>,
    comments: Vec<PlannedComment>,
    comment_index: HashMap<Box<str>, u32>,
    orphans: u64,
}

/// Per comment of the first pass: its thread's id, its parent's id, whether it is
/// deleted, and why it is left out (if it is).
type RawLinks = (Box<str>, Option<Box<str>>, bool, Option<String>);

/// The first pass: every record checked, the plan made. Nothing is written.
fn check(input: &Input, options: &Options, progress: &mut dyn FnMut(Progress)) -> Result<Plan, ImportError> {
    let mut threads: Vec<PlannedThread> = Vec::new();
    let mut thread_index: HashMap<String, u32> = HashMap::new();
    let mut comments: Vec<PlannedComment> = Vec::new();
    let mut comment_index: HashMap<Box<str>, u32> = HashMap::new();
    let mut raw: Vec<RawLinks> = Vec::new();
    let mut records = 0u64;
    input.read(&mut |record| {
        records += 1;
        if records % 1_000 == 0 {
            progress(Progress::Checking { records });
        }
        match record {
            Record::Thread(thread) => {
                if thread_index.contains_key(&thread.source_id) {
                    return Ok(());
                }
                thread_index.insert(thread.source_id.clone(), threads.len() as u32);
                let url = thread_url(&thread.url, options.site_url.as_ref());
                threads.push(PlannedThread { source_id: thread.source_id, url, title: thread.title });
            }
            Record::Comment(comment) => {
                if comment_index.contains_key(comment.source_id.as_str()) {
                    return Err(ImportError::malformed(
                        format!("comment {}", comment.source_id),
                        "the same id appears twice in the file",
                    ));
                }
                comment_index.insert(comment.source_id.clone().into_boxed_str(), comments.len() as u32);
                let empty = match &comment.body {
                    Body::Html(text) | Body::Markdown(text) => text.trim().is_empty(),
                };
                let skip = if comment.spam {
                    Some("spam".to_owned())
                } else if let Some(reason) = comment.skip {
                    Some(reason.to_owned())
                } else if empty && !comment.deleted {
                    Some("no text".to_owned())
                } else {
                    None
                };
                raw.push((
                    comment.thread_id.into_boxed_str(),
                    comment.parent_id.map(String::into_boxed_str),
                    comment.deleted,
                    skip,
                ));
                comments.push(PlannedComment { thread: None, parent: None, fate: Fate::Import });
            }
        }
        Ok(())
    })?;
    progress(Progress::Checking { records });

    // Threads and reasons first; the parent links once every comment is known.
    let mut deleted = vec![false; comments.len()];
    let mut parent_of: Vec<Option<u32>> = vec![None; comments.len()];
    let mut orphan = vec![false; comments.len()];
    for (i, (thread, parent, is_deleted, skip)) in raw.iter().enumerate() {
        let c = &mut comments[i];
        deleted[i] = *is_deleted;
        c.thread = thread_index.get(&**thread).copied();
        c.fate = match (c.thread, skip) {
            (None, _) => Fate::Skip("its thread is not in the file".to_owned()),
            (Some(t), _) if threads[t as usize].url.is_err() => {
                Fate::Skip(threads[t as usize].url.clone().err().unwrap_or_default())
            }
            (_, Some(reason)) => Fate::Skip(reason.clone()),
            _ => Fate::Import,
        };
        if let Some(parent) = parent {
            match comment_index.get(&**parent) {
                Some(&p) if raw[p as usize].0 == *thread => parent_of[i] = Some(p),
                _ => orphan[i] = true,
            }
        }
    }
    drop(raw);
    // Deleted comments stay only to hold replies that are imported; a reply whose
    // parent is not in the file, or is left out, becomes top-level.
    let n = comments.len();
    let mut needed = vec![false; n];
    for i in 0..n {
        if comments[i].fate != Fate::Import || deleted[i] {
            continue;
        }
        let mut steps = 0;
        let mut p = parent_of[i];
        while let Some(at) = p {
            let at = at as usize;
            steps += 1;
            if steps > n {
                break;
            }
            if comments[at].fate != Fate::Import || !deleted[at] || needed[at] {
                break;
            }
            needed[at] = true;
            p = parent_of[at];
        }
    }
    let mut orphans = 0;
    for i in 0..n {
        if comments[i].fate == Fate::Import && deleted[i] && !needed[i] {
            comments[i].fate = Fate::Skip("deleted, with no replies".to_owned());
        }
    }
    for i in 0..n {
        if comments[i].fate != Fate::Import {
            continue;
        }
        let parent = parent_of[i].filter(|p| comments[*p as usize].fate == Fate::Import);
        if parent.is_none() && (orphan[i] || parent_of[i].is_some()) {
            orphans += 1;
        }
        comments[i].parent = parent;
    }
    Ok(Plan { threads, comments, comment_index, orphans })
}

/// The absolute address of a thread, or why it has none.
fn thread_url(url: &str, site: Option<&url::Url>) -> Result<String, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("its thread has no address".to_owned());
    }
    let parsed = match url::Url::parse(url) {
        Ok(parsed) => parsed,
        Err(url::ParseError::RelativeUrlWithoutBase) => match site {
            Some(site) => site.join(url).map_err(|_| "its thread's address is not valid".to_owned())?,
            None => return Err("its thread's address is relative (give the site's address)".to_owned()),
        },
        Err(_) => return Err("its thread's address is not valid".to_owned()),
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("its thread's address is not http(s)".to_owned());
    }
    Ok(parsed.to_string())
}

/// The second pass: writes the comments in the file's order (a reply that comes
/// before its parent waits for it).
struct Writer<'a> {
    conn: &'a mut DbConn,
    plan: &'a Plan,
    source: &'static str,
    summary: &'a mut Summary,
    articles: HashMap<u32, ArticleId>,
    authors: HashMap<String, UserId>,
    placed: Vec<Option<Placed>>,
    /// Replies read before their parent was written, by the parent's index.
    waiting: HashMap<u32, Vec<(u32, Comment)>>,
}

impl<'a> Writer<'a> {
    fn new(conn: &'a mut DbConn, plan: &'a Plan, options: &Options, summary: &'a mut Summary) -> Writer<'a> {
        Writer {
            conn,
            plan,
            source: options.format.as_str(),
            summary,
            articles: HashMap::new(),
            authors: HashMap::new(),
            placed: vec![None; plan.comments.len()],
            waiting: HashMap::new(),
        }
    }

    fn comment(&mut self, comment: Comment) -> Result<(), ImportError> {
        let Some(&index) = self.plan.comment_index.get(comment.source_id.as_str()) else {
            return Err(ImportError::malformed(
                format!("comment {}", comment.source_id),
                "the file changed while it was imported",
            ));
        };
        let planned = &self.plan.comments[index as usize];
        if let Fate::Skip(reason) = &planned.fate {
            self.summary.comments.skip(reason.clone());
            return Ok(());
        }
        if let Some(parent) = planned.parent {
            if self.placed[parent as usize].is_none() {
                self.waiting.entry(parent).or_default().push((index, comment));
                return Ok(());
            }
        }
        let mut ready = vec![(index, comment)];
        while let Some((index, comment)) = ready.pop() {
            self.write(index, &comment)?;
            if let Some(children) = self.waiting.remove(&index) {
                ready.extend(children.into_iter().rev());
            }
        }
        Ok(())
    }

    fn write(&mut self, index: u32, comment: &Comment) -> Result<(), ImportError> {
        let planned = &self.plan.comments[index as usize];
        let thread = planned.thread.expect("imported comments have a thread");
        let article_id = self.article(thread, comment)?;
        if let Some(id) = dbi::local_id(self.conn, self.source, "comment", &comment.source_id)? {
            self.summary.comments.unchanged += 1;
            self.placed[index as usize] = dbi::placed(self.conn, crate::domain::CommentId(id))?;
            if self.placed[index as usize].is_none() {
                // Removed here since: its replies have nothing to hang from but the top.
                self.placed[index as usize] = Some(Placed {
                    id: crate::domain::CommentId(0),
                    article_id,
                    root_id: crate::domain::CommentId(0),
                    parent_id: None,
                    depth: -1,
                });
            }
            return Ok(());
        }
        let author_id = self.author(comment)?;
        let mut parent = planned.parent.and_then(|p| self.placed[p as usize]).filter(|p| p.depth >= 0);
        // Deeper than replies may nest here: the reply goes beside its parent.
        if let Some(p) = parent {
            if p.depth + 1 > crate::db::comments::MAX_DEPTH {
                parent = match p.parent_id {
                    Some(grand) => dbi::placed(self.conn, grand)?,
                    None => None,
                };
            }
        }
        let (source, html) = if comment.deleted {
            (String::new(), String::new())
        } else {
            match &comment.body {
                Body::Html(html) => {
                    let html = crate::markdown::clean_html(html);
                    (crate::markdown::html_to_text(&html), html)
                }
                Body::Markdown(text) => {
                    let text = ci::tidy(text, ci::MAX_BODY);
                    let html = crate::markdown::render(&text);
                    (text, html)
                }
            }
        };
        let status = if comment.deleted {
            CommentStatus::Deleted
        } else if comment.pending {
            CommentStatus::Pending
        } else {
            CommentStatus::Visible
        };
        let placed = dbi::insert_comment(
            self.conn,
            &dbi::NewImported {
                source: self.source,
                source_id: &comment.source_id,
                article_id,
                author_id,
                parent,
                body_source: &source,
                body_html: &html,
                status,
                created_at: comment.created_at,
            },
        )?;
        self.placed[index as usize] = Some(placed);
        self.summary.comments.created += 1;
        Ok(())
    }

    fn article(&mut self, thread: u32, comment: &Comment) -> Result<ArticleId, ImportError> {
        if let Some(id) = self.articles.get(&thread) {
            return Ok(*id);
        }
        let planned = &self.plan.threads[thread as usize];
        let url = planned.url.as_deref().expect("imported comments have a thread with an address");
        let (id, outcome) =
            dbi::thread_article(self.conn, self.source, &planned.source_id, url, &planned.title, comment.created_at)?;
        match outcome {
            ThreadOutcome::Created => self.summary.threads.created += 1,
            ThreadOutcome::Matched => self.summary.threads.updated += 1,
            ThreadOutcome::Already => self.summary.threads.unchanged += 1,
        }
        self.articles.insert(thread, id);
        Ok(id)
    }

    fn author(&mut self, comment: &Comment) -> Result<UserId, ImportError> {
        if let Some(id) = self.authors.get(&comment.author.key) {
            return Ok(*id);
        }
        let a = &comment.author;
        let (id, outcome) = dbi::author(self.conn, self.source, &a.key, &a.name, a.email.as_deref())?;
        match outcome {
            AuthorOutcome::Created => self.summary.authors.created += 1,
            AuthorOutcome::Updated => self.summary.authors.updated += 1,
            AuthorOutcome::Unchanged => self.summary.authors.unchanged += 1,
        }
        self.authors.insert(a.key.clone(), id);
        Ok(id)
    }

    fn finish(self) -> Result<(), ImportError> {
        if let Some((_, children)) = self.waiting.iter().next() {
            let (_, child) = &children[0];
            return Err(ImportError::malformed(
                format!("comment {}", child.source_id),
                "its chain of parents loops back to itself",
            ));
        }
        for (i, thread) in self.plan.threads.iter().enumerate() {
            if self.articles.contains_key(&(i as u32)) {
                continue;
            }
            match &thread.url {
                Err(reason) => self.summary.threads.skip(reason.trim_start_matches("its thread ").to_owned()),
                Ok(_) => self.summary.threads.skip("no comments to import"),
            }
        }
        Ok(())
    }
}
