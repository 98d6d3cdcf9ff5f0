//! Reports, moderator actions and their log, bans, the approval queue, site settings
//! for pre-moderation, and the administrators' dashboard.

use crate::domain::{ArticleId, CommentId, UserId};
use crate::domain::{CommentStatus, LiveKind, NotificationKind};
use diesel::prelude::*;
use time::PrimitiveDateTime;

use super::comments::{self as c, Comment, CommentError};
use super::connection::write_transaction_retrying;
use super::schema::{articles, comments, moderation_log, reports, sessions, users};
use super::{now, settings, write_transaction, DbConn};
use crate::domain::permissions::{self, Actor, Denied};
use crate::domain::{ModAction, ReportReason, Role, TargetType};

/// The end of a permanent ban.
pub fn forever() -> PrimitiveDateTime {
    crate::domain::values::FOREVER
}

/// What a line of the moderation log is about.
#[derive(Debug, Clone, Copy)]
pub enum LogTarget {
    Comment(CommentId),
    Article(ArticleId),
    /// Several articles at once (an import).
    Articles,
    User(UserId),
    Site,
}

impl LogTarget {
    /// The (target_type, target_id) columns.
    fn stored(self) -> (TargetType, i64) {
        match self {
            LogTarget::Comment(id) => (TargetType::Comment, id.0),
            LogTarget::Article(id) => (TargetType::Article, id.0),
            LogTarget::Articles => (TargetType::Article, 0),
            LogTarget::User(id) => (TargetType::User, id.0),
            LogTarget::Site => (TargetType::Site, 0),
        }
    }
}

/// Who took a moderator's or administrator's action: the account, and the name of the
/// personal API token the request came with (`None`: the site's own pages). The log
/// keeps the token's name, which stays there after the token is revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct By {
    pub user: UserId,
    pub token: Option<String>,
}

impl By {
    /// An account acting on the site's own pages.
    pub fn account(user: UserId) -> By {
        By { user, token: None }
    }
}

/// Writes one row of the moderation log. Call inside the action's transaction.
fn log(
    conn: &mut DbConn,
    by: &By,
    action: ModAction,
    target: (LogTarget, &str),
    reason: Option<&str>,
) -> QueryResult<()> {
    log_by(conn, Some(by.user), by.token.as_deref(), action, target, reason)
}

/// How the log names actions taken with the command line on the server, which no
/// account took (a name no account can have: it holds a space).
pub const COMMAND_LINE: &str = "command line";

/// Writes one row of the moderation log, by a moderator or (`None`) the command line.
fn log_by(
    conn: &mut DbConn,
    moderator_id: Option<UserId>,
    via_token: Option<&str>,
    action: ModAction,
    (target, label): (LogTarget, &str),
    reason: Option<&str>,
) -> QueryResult<()> {
    let (target_type, target_id) = target.stored();
    diesel::insert_into(moderation_log::table)
        .values((
            moderation_log::moderator_id.eq(moderator_id),
            moderation_log::action.eq(action),
            moderation_log::target_type.eq(target_type),
            moderation_log::target_id.eq(target_id),
            moderation_log::target_label.eq(label),
            moderation_log::reason.eq(reason),
            moderation_log::created_at.eq(now()),
            moderation_log::via_token.eq(via_token),
        ))
        .execute(conn)?;
    Ok(())
}

/// How a comment is named in the log: by its author and article, never its text.
fn comment_label(conn: &mut DbConn, comment: &Comment) -> QueryResult<String> {
    let author: String = users::table.find(comment.author_id).select(users::username).first(conn)?;
    let title: String = articles::table.find(comment.article_id).select(articles::title).first(conn)?;
    Ok(format!("comment #{} by {author} on “{title}”", comment.id))
}

// ---- reports ----

/// Files a report; a second one by the same reader is a no-op (returns false).
pub fn report(
    conn: &mut DbConn,
    comment_id: CommentId,
    reporter: &Actor,
    reason: ReportReason,
    details: Option<&str>,
) -> Result<bool, CommentError> {
    let reporter_id = reporter.id;
    let filed = write_transaction_retrying(conn, |conn| {
        let comment = c::lock_for_write(conn, comment_id)?;
        permissions::may_report(Some(reporter), &comment.facts(false))?;
        let exists = reports::table
            .filter(reports::comment_id.eq(comment_id))
            .filter(reports::reporter_id.eq(reporter_id))
            .count()
            .get_result::<i64>(conn)?;
        if exists > 0 {
            return Ok(false);
        }
        diesel::insert_into(reports::table)
            .values((
                reports::comment_id.eq(comment_id),
                reports::reporter_id.eq(reporter_id),
                reports::reason.eq(reason),
                reports::details.eq(details),
                reports::created_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(true)
    });
    match filed {
        // The same reader's report, sent twice at once: one counts.
        Err(CommentError::Db(ref err)) if super::duplicate(err).is_some() => Ok(false),
        other => other,
    }
}

/// Open reports about one comment.
#[derive(Debug, Clone)]
pub struct ReportGroup {
    pub comment: Comment,
    pub author: String,
    pub article_slug: String,
    pub article_title: String,
    /// (reason, details), one per reporter.
    pub reasons: Vec<(ReportReason, Option<String>)>,
    pub first_at: PrimitiveDateTime,
}

/// Open reports read at most for the reports page (the oldest first): a wave of spam
/// reports is worked through a page at a time, not loaded whole.
pub const REPORT_ROWS: i64 = 1_000;

/// Open reports grouped by comment, oldest first, from the oldest [`REPORT_ROWS`]. One
/// query.
pub fn open_reports(conn: &mut DbConn) -> QueryResult<Vec<ReportGroup>> {
    type ReportRow = (ReportReason, Option<String>, PrimitiveDateTime, Comment, String, String, String);
    let rows: Vec<ReportRow> = reports::table
        .inner_join(comments::table.inner_join(articles::table).inner_join(users::table))
        .filter(reports::resolved_at.is_null())
        .order((reports::created_at, reports::id))
        .select((
            reports::reason,
            reports::details,
            reports::created_at,
            Comment::as_select(),
            users::username,
            articles::slug,
            articles::title,
        ))
        .limit(REPORT_ROWS)
        .load(conn)?;
    let mut groups: Vec<ReportGroup> = Vec::new();
    for (reason, details, at, comment, author, slug, title) in rows {
        match groups.iter_mut().find(|g| g.comment.id == comment.id) {
            Some(group) => group.reasons.push((reason, details)),
            None => groups.push(ReportGroup {
                comment,
                author,
                article_slug: slug,
                article_title: title,
                reasons: vec![(reason, details)],
                first_at: at,
            }),
        }
    }
    Ok(groups)
}

/// The report after comment `comment_id`'s in the order the reports page lists them
/// (by their first open report), or the first one when it has none; `None` when no
/// other comment has open reports.
pub fn next_report(conn: &mut DbConn, comment_id: CommentId) -> QueryResult<Option<CommentId>> {
    let rows: Vec<CommentId> = reports::table
        .filter(reports::resolved_at.is_null())
        .order((reports::created_at, reports::id))
        .select(reports::comment_id)
        .limit(REPORT_ROWS)
        .load(conn)?;
    let mut seen = std::collections::HashSet::new();
    let order: Vec<CommentId> = rows.into_iter().filter(|id| seen.insert(*id)).collect();
    let after = order.iter().position(|&id| id == comment_id).map_or(0, |at| at + 1);
    Ok(order.iter().skip(after).chain(order.iter()).copied().find(|&id| id != comment_id))
}

fn resolve_reports(conn: &mut DbConn, comment_id: CommentId) -> QueryResult<usize> {
    diesel::update(reports::table.filter(reports::comment_id.eq(comment_id)).filter(reports::resolved_at.is_null()))
        .set(reports::resolved_at.eq(Some(now())))
        .execute(conn)
}

/// Closes a comment's reports without acting on it.
pub fn dismiss(conn: &mut DbConn, comment_id: CommentId, by: &By) -> Result<(), CommentError> {
    write_transaction_retrying(conn, |conn| {
        let comment = c::lock_for_write(conn, comment_id)?;
        if resolve_reports(conn, comment_id)? == 0 {
            return Err(CommentError::NothingToDo("there are no open reports about this comment"));
        }
        let label = comment_label(conn, &comment)?;
        log(conn, by, ModAction::DismissReports, (LogTarget::Comment(comment_id), &label), None)?;
        Ok(())
    })
}

// ---- comments ----

fn set_visibility(
    conn: &mut DbConn,
    comment: &Comment,
    status: CommentStatus,
    reason: Option<&str>,
) -> QueryResult<()> {
    diesel::update(comments::table.find(comment.id))
        .set((comments::status.eq(status), comments::removed_reason.eq(reason), comments::pinned.eq(false)))
        .execute(conn)?;
    let delta = i32::from(status == CommentStatus::Visible) - i32::from(comment.is_visible());
    if delta != 0 {
        diesel::update(articles::table.find(comment.article_id))
            .set(articles::comment_count.eq(articles::comment_count + delta))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes a comment: readers see "[removed by a moderator]", the author the reason.
/// Its open reports are resolved.
pub fn remove(conn: &mut DbConn, comment_id: CommentId, by: &By, reason: &str) -> Result<Comment, CommentError> {
    write_transaction_retrying(conn, |conn| {
        let comment = c::lock_for_write(conn, comment_id)?;
        if comment.is_removed() {
            return Err(CommentError::NothingToDo("the comment is already removed"));
        }
        if comment.is_deleted() {
            return Err(Denied::NotVisible.into());
        }
        set_visibility(conn, &comment, CommentStatus::Removed, Some(reason))?;
        super::live::record(conn, comment.article_id, LiveKind::Status, Some(comment_id))?;
        resolve_reports(conn, comment_id)?;
        let label = comment_label(conn, &comment)?;
        log(conn, by, ModAction::RemoveComment, (LogTarget::Comment(comment_id), &label), Some(reason))?;
        super::notifications::moderation_notice(conn, &comment, by.user, NotificationKind::Removed, Some(reason))?;
        Ok(comment)
    })
}

pub fn restore(conn: &mut DbConn, comment_id: CommentId, by: &By) -> Result<(), CommentError> {
    write_transaction_retrying(conn, |conn| {
        let comment = c::lock_for_write(conn, comment_id)?;
        if !comment.is_removed() {
            return Err(CommentError::NothingToDo("only a removed comment can be restored"));
        }
        let author_gone: Option<PrimitiveDateTime> =
            users::table.find(comment.author_id).select(users::deleted_at).first(conn)?;
        if author_gone.is_some() {
            return Err(CommentError::NothingToDo("its author deleted the account: the text is gone"));
        }
        set_visibility(conn, &comment, CommentStatus::Visible, None)?;
        super::live::record(conn, comment.article_id, LiveKind::Status, Some(comment_id))?;
        let label = comment_label(conn, &comment)?;
        log(conn, by, ModAction::RestoreComment, (LogTarget::Comment(comment_id), &label), None)?;
        Ok(())
    })
}

/// Approves (true) or rejects (false, with the reason if the moderator gave one) a held
/// comment; its author is told either way.
pub fn review(
    conn: &mut DbConn,
    comment_id: CommentId,
    by: &By,
    approve: bool,
    reason: Option<&str>,
) -> Result<(Comment, Option<c::ReplyNotice>), CommentError> {
    write_transaction_retrying(conn, |conn| {
        let comment = c::lock_for_write(conn, comment_id)?;
        if comment.status != CommentStatus::Pending {
            return Err(CommentError::NothingToDo("the comment is not waiting for approval"));
        }
        let label = comment_label(conn, &comment)?;
        let notify = if approve {
            diesel::update(comments::table.find(comment_id))
                .set(comments::status.eq(CommentStatus::Visible))
                .execute(conn)?;
            log(conn, by, ModAction::ApproveComment, (LogTarget::Comment(comment_id), &label), None)?;
            super::live::record(conn, comment.article_id, LiveKind::Comment, Some(comment_id))?;
            super::notifications::moderation_notice(conn, &comment, by.user, NotificationKind::Approved, None)?;
            super::notifications::announce(conn, comment_id)?
        } else {
            diesel::update(comments::table.find(comment_id))
                .set(comments::status.eq(CommentStatus::Rejected))
                .execute(conn)?;
            log(conn, by, ModAction::RejectComment, (LogTarget::Comment(comment_id), &label), reason)?;
            super::notifications::moderation_notice(conn, &comment, by.user, NotificationKind::Rejected, reason)?;
            None
        };
        Ok((comment, notify))
    })
}

/// Held comments, oldest first, with author and article.
pub fn queue(conn: &mut DbConn) -> QueryResult<Vec<(Comment, String, String, String)>> {
    comments::table
        .inner_join(articles::table)
        .inner_join(users::table)
        .filter(comments::status.eq(CommentStatus::Pending))
        .order(comments::id)
        .select((Comment::as_select(), users::username, articles::slug, articles::title))
        .load(conn)
}

/// Pins a comment to the top of its thread (unpinning any other), or unpins it.
pub fn pin(conn: &mut DbConn, comment_id: CommentId, by: &By, pin: bool) -> Result<(), CommentError> {
    write_transaction_retrying(conn, |conn| {
        let comment = c::lock_for_write(conn, comment_id)?;
        if pin && (!comment.is_visible() || comment.depth != 0) {
            return Err(CommentError::NothingToDo("only a visible top-level comment can be pinned"));
        }
        if comment.pinned == pin {
            return Err(CommentError::NothingToDo(if pin { "already pinned" } else { "not pinned" }));
        }
        if pin {
            diesel::update(comments::table.filter(comments::article_id.eq(comment.article_id)))
                .set(comments::pinned.eq(false))
                .execute(conn)?;
        }
        diesel::update(comments::table.find(comment_id)).set(comments::pinned.eq(pin)).execute(conn)?;
        let label = comment_label(conn, &comment)?;
        log(
            conn,
            by,
            if pin { ModAction::PinComment } else { ModAction::UnpinComment },
            (LogTarget::Comment(comment_id), &label),
            None,
        )?;
        Ok(())
    })
}

/// Marks (or unmarks) a moderator's own comment as spoken as a moderator.
pub fn distinguish(conn: &mut DbConn, comment_id: CommentId, by: &By) -> Result<bool, CommentError> {
    write_transaction_retrying(conn, |conn| {
        let comment = c::lock_for_write(conn, comment_id)?;
        if comment.author_id != by.user {
            return Err(Denied::NotAuthor.into());
        }
        let on = !comment.distinguished;
        diesel::update(comments::table.find(comment_id)).set(comments::distinguished.eq(on)).execute(conn)?;
        let label = comment_label(conn, &comment)?;
        let action = if on { ModAction::DistinguishComment } else { ModAction::UndistinguishComment };
        log(conn, by, action, (LogTarget::Comment(comment_id), &label), None)?;
        Ok(on)
    })
}

// ---- articles ----

pub fn lock(conn: &mut DbConn, article_id: ArticleId, by: &By, reason: Option<&str>, lock: bool) -> QueryResult<bool> {
    write_transaction(conn, |conn| {
        let (title, locked): (String, bool) =
            articles::table.find(article_id).select((articles::title, articles::comments_locked)).first(conn)?;
        if locked == lock {
            return Ok(false);
        }
        diesel::update(articles::table.find(article_id))
            .set((articles::comments_locked.eq(lock), articles::lock_reason.eq(if lock { reason } else { None })))
            .execute(conn)?;
        super::live::record(conn, article_id, LiveKind::Lock, None)?;
        log(
            conn,
            by,
            if lock { ModAction::LockArticle } else { ModAction::UnlockArticle },
            (LogTarget::Article(article_id), &title),
            reason,
        )?;
        Ok(true)
    })
}

/// How many comments an article holds, whatever their state.
pub fn comment_total(conn: &mut DbConn, article_id: ArticleId) -> QueryResult<i64> {
    comments::table.filter(comments::article_id.eq(article_id)).count().get_result(conn)
}

/// Logs an administrator's change to an article (create, edit, delete).
pub fn log_article(conn: &mut DbConn, by: &By, action: ModAction, target: LogTarget, title: &str) -> QueryResult<()> {
    log(conn, by, action, (target, title), None)
}

// ---- users ----

/// Bans an account until `until` (`forever()` for good) and ends its sessions.
pub fn ban(conn: &mut DbConn, user_id: UserId, by: &By, until: PrimitiveDateTime, reason: &str) -> QueryResult<()> {
    write_transaction(conn, |conn| {
        let name: String = users::table.find(user_id).select(users::username).first(conn)?;
        diesel::update(users::table.find(user_id))
            .set((users::banned_until.eq(Some(until)), users::ban_reason.eq(Some(reason))))
            .execute(conn)?;
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn)?;
        let until_text = if until == forever() {
            "permanently".to_owned()
        } else {
            let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
            format!("until {}", until.format(format).unwrap_or_default())
        };
        log(
            conn,
            by,
            ModAction::BanUser,
            (LogTarget::User(user_id), &name),
            Some(&format!("{reason} ({until_text})")),
        )?;
        Ok(())
    })
}

pub fn unban(conn: &mut DbConn, user_id: UserId, by: &By) -> QueryResult<bool> {
    write_transaction(conn, |conn| {
        let (name, until): (String, Option<PrimitiveDateTime>) =
            users::table.find(user_id).select((users::username, users::banned_until)).first(conn)?;
        if until.is_none_or(|u| u <= now()) {
            return Ok(false);
        }
        diesel::update(users::table.find(user_id))
            .set((users::banned_until.eq(None::<PrimitiveDateTime>), users::ban_reason.eq(None::<String>)))
            .execute(conn)?;
        log(conn, by, ModAction::UnbanUser, (LogTarget::User(user_id), &name), None)?;
        Ok(true)
    })
}

pub fn set_role(conn: &mut DbConn, user_id: UserId, by: &By, role: Role) -> QueryResult<()> {
    write_transaction(conn, |conn| {
        let name: String = users::table.find(user_id).select(users::username).first(conn)?;
        diesel::update(users::table.find(user_id)).set(users::role.eq(role)).execute(conn)?;
        log(conn, by, ModAction::ChangeRole, (LogTarget::User(user_id), &name), Some(role.as_str()))?;
        Ok(())
    })
}

/// Changes an account's role from the command line on the server, and logs it. False
/// when the account already had that role (nothing changes, nothing is logged).
pub fn set_role_from_command_line(conn: &mut DbConn, user_id: UserId, role: Role) -> QueryResult<bool> {
    write_transaction(conn, |conn| {
        let (name, old): (String, String) =
            users::table.find(user_id).select((users::username, users::role)).first(conn)?;
        if old == role.as_str() {
            return Ok(false);
        }
        diesel::update(users::table.find(user_id)).set(users::role.eq(role)).execute(conn)?;
        log_by(conn, None, None, ModAction::ChangeRole, (LogTarget::User(user_id), &name), Some(role.as_str()))?;
        super::live::announce_to_running_sites(conn, &format!("u:{}", user_id.0))?;
        Ok(true)
    })
}

/// Logs that the command line on the server gave the account `user_id` (named
/// `name`) a role it was created with.
pub fn log_command_line_role(conn: &mut DbConn, user_id: UserId, name: &str, role: Role) -> QueryResult<()> {
    log_by(conn, None, None, ModAction::ChangeRole, (LogTarget::User(user_id), name), Some(role.as_str()))
}

/// Logs an article import made with the command line on the server. Call inside the
/// import's transaction.
pub fn log_command_line_import(conn: &mut DbConn, label: &str) -> QueryResult<()> {
    log_by(conn, None, None, ModAction::ImportArticles, (LogTarget::Articles, label), None)
}

/// Accounts whose name or email contains `query` (case-insensitive), newest first.
pub fn find_users(conn: &mut DbConn, query: &str, limit: i64) -> QueryResult<Vec<super::users::User>> {
    let pattern = super::contains_pattern(query);
    users::table
        .filter(users::deleted_at.is_null())
        .filter(users::username_key.like(&pattern).escape('!').or(users::email_key.like(&pattern).escape('!')))
        .order(users::id.desc())
        .limit(limit)
        .select(super::users::User::as_select())
        .load(conn)
}

/// Reports filed about an account's comments, and by the account: (comment id, reason, created).
pub fn reports_about(
    conn: &mut DbConn,
    user_id: UserId,
) -> QueryResult<Vec<(CommentId, ReportReason, PrimitiveDateTime)>> {
    reports::table
        .inner_join(comments::table)
        .filter(comments::author_id.eq(user_id))
        .order(reports::id.desc())
        .limit(50)
        .select((reports::comment_id, reports::reason, reports::created_at))
        .load(conn)
}

pub fn reports_by(
    conn: &mut DbConn,
    user_id: UserId,
) -> QueryResult<Vec<(CommentId, ReportReason, PrimitiveDateTime)>> {
    reports::table
        .filter(reports::reporter_id.eq(user_id))
        .order(reports::id.desc())
        .limit(50)
        .select((reports::comment_id, reports::reason, reports::created_at))
        .load(conn)
}

// ---- the log ----

diesel::define_sql_function! {
    /// SQL `coalesce()` of a nullable text and a text.
    fn coalesce(x: diesel::sql_types::Nullable<diesel::sql_types::Text>, y: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

#[derive(Debug, Clone, Queryable)]
pub struct LogEntry {
    pub id: i64,
    pub moderator: String,
    pub action: ModAction,
    pub target_type: TargetType,
    pub target_id: i64,
    pub target_label: String,
    pub reason: Option<String>,
    pub created_at: PrimitiveDateTime,
    /// The name of the API token the action came through; none from the site's pages.
    pub via_token: Option<String>,
}

/// Newest first, optionally only one action or one moderator.
pub fn log_entries(
    conn: &mut DbConn,
    action: Option<ModAction>,
    moderator: Option<&str>,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<LogEntry>> {
    let mut query = moderation_log::table
        .left_join(users::table)
        .select((
            moderation_log::id,
            coalesce(users::username.nullable(), COMMAND_LINE),
            moderation_log::action,
            moderation_log::target_type,
            moderation_log::target_id,
            moderation_log::target_label,
            moderation_log::reason,
            moderation_log::created_at,
            moderation_log::via_token,
        ))
        .order(moderation_log::id.desc())
        .offset(offset)
        .limit(limit)
        .into_boxed();
    if let Some(action) = action {
        query = query.filter(moderation_log::action.eq(action));
    }
    if let Some(moderator) = moderator {
        query = query.filter(users::username_key.eq(moderator.to_lowercase()));
    }
    query.load(conn)
}

/// The distinct actions in the log, for the filter.
pub fn log_actions(conn: &mut DbConn) -> QueryResult<Vec<ModAction>> {
    moderation_log::table.select(moderation_log::action).distinct().order(moderation_log::action).load(conn)
}

// ---- site settings ----

/// Who must wait for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Premoderation {
    Off,
    /// Accounts with fewer than this many approved comments.
    NewAccounts(u32),
    Everyone,
}

impl Premoderation {
    /// From the settings form: `off`, `all`, or `new` with a count from 1 to 100.
    pub fn parse(mode: &str, count: Option<&str>) -> Result<Premoderation, String> {
        match mode {
            "off" => Ok(Premoderation::Off),
            "all" => Ok(Premoderation::Everyone),
            "new" => count
                .unwrap_or("3")
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .map(Premoderation::NewAccounts)
                .ok_or_else(|| "The count is a whole number from 1 to 100.".to_owned()),
            other => Err(format!("The mode is off, new or all, not {other:?}.")),
        }
    }
}

/// The words and phrases that hold a comment for approval: one per line, at most 1,000
/// of at most 100 characters.
pub fn parse_word_list(text: &str) -> Result<Vec<String>, String> {
    let words: Vec<String> = text.lines().map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned).collect();
    if words.len() > 1_000 || words.iter().any(|w| w.chars().count() > 100) {
        return Err("At most 1,000 entries of at most 100 characters.".into());
    }
    Ok(words)
}

pub fn premoderation(conn: &mut DbConn) -> QueryResult<Premoderation> {
    let mut found = settings::get_many(conn, &PREMODERATION_KEYS)?;
    premoderation_of(found.remove(PREMODERATION_KEYS[0]), found.remove(PREMODERATION_KEYS[1]))
}

/// The settings that say who is pre-moderated: the mode and the count of comments.
pub const PREMODERATION_KEYS: [&str; 2] = ["premoderation", "premoderation_count"];
/// The setting that holds the word list.
pub const WORD_LIST_KEY: &str = "word_list";

/// The pre-moderation the settings `mode` and `count` (see [`PREMODERATION_KEYS`]) say.
pub fn premoderation_of(mode: Option<String>, count: Option<String>) -> QueryResult<Premoderation> {
    let count = count.and_then(|n| n.parse().ok()).unwrap_or(3);
    match mode.as_deref() {
        Some("new") => Ok(Premoderation::NewAccounts(count)),
        Some("all") => Ok(Premoderation::Everyone),
        None | Some("off") => Ok(Premoderation::Off),
        // A value this release does not know is an error, not a silent "off".
        Some(other) => {
            Err(diesel::result::Error::DeserializationError(format!("unknown pre-moderation setting {other:?}").into()))
        }
    }
}

pub fn set_premoderation(conn: &mut DbConn, admin_id: UserId, mode: Premoderation) -> QueryResult<()> {
    write_transaction(conn, |conn| {
        let (value, count) = match mode {
            Premoderation::Off => ("off", 3),
            Premoderation::NewAccounts(n) => ("new", n),
            Premoderation::Everyone => ("all", 3),
        };
        settings::set(conn, PREMODERATION_KEYS[0], value)?;
        settings::set(conn, PREMODERATION_KEYS[1], &count.to_string())?;
        log(
            conn,
            &By::account(admin_id),
            ModAction::ChangeSettings,
            (LogTarget::Site, "pre-moderation"),
            Some(&format!("{value} {count}")),
        )?;
        Ok(())
    })
}

/// The words and phrases that hold a comment for approval, one a line.
pub fn word_list(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    Ok(word_list_of(settings::get(conn, WORD_LIST_KEY)?))
}

/// The words of the word list's setting (see [`WORD_LIST_KEY`]).
pub fn word_list_of(setting: Option<String>) -> Vec<String> {
    setting.unwrap_or_default().lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

pub fn set_word_list(conn: &mut DbConn, admin_id: UserId, words: &[String]) -> QueryResult<()> {
    write_transaction(conn, |conn| {
        settings::set(conn, WORD_LIST_KEY, &words.join("\n"))?;
        let summary = format!("{} entries", words.len());
        log(conn, &By::account(admin_id), ModAction::ChangeSettings, (LogTarget::Site, "word list"), Some(&summary))?;
        Ok(())
    })
}

/// How many of an account's comments were published.
pub fn published_count(conn: &mut DbConn, user_id: UserId) -> QueryResult<i64> {
    comments::table
        .filter(comments::author_id.eq(user_id))
        .filter(comments::status.eq_any([CommentStatus::Visible, CommentStatus::Deleted]))
        .count()
        .get_result(conn)
}

// ---- dashboard ----

#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    pub users: i64,
    pub articles: i64,
    pub comments_today: i64,
    pub comments_week: i64,
    pub open_reports: i64,
    pub held: i64,
    pub recent_signups: Vec<(String, PrimitiveDateTime)>,
}

pub fn dashboard(conn: &mut DbConn) -> QueryResult<Dashboard> {
    let now = now();
    let since = |days| now - time::Duration::days(days);
    let count_since = |conn: &mut DbConn, since: PrimitiveDateTime| -> QueryResult<i64> {
        comments::table.filter(comments::created_at.gt(since)).count().get_result(conn)
    };
    Ok(Dashboard {
        users: users::table.filter(users::deleted_at.is_null()).count().get_result(conn)?,
        articles: articles::table.count().get_result(conn)?,
        comments_today: count_since(conn, since(1))?,
        comments_week: count_since(conn, since(7))?,
        open_reports: reports::table
            .filter(reports::resolved_at.is_null())
            .select(reports::comment_id)
            .distinct()
            .load::<i64>(conn)?
            .len() as i64,
        held: comments::table.filter(comments::status.eq(CommentStatus::Pending)).count().get_result(conn)?,
        recent_signups: users::table
            .filter(users::deleted_at.is_null())
            .order(users::id.desc())
            .limit(10)
            .select((users::username, users::created_at))
            .load(conn)?,
    })
}
