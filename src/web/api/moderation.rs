//! `/api/v1`: moderators' actions (the `moderate` scope and the moderator role, as the
//! `/mod` pages ask): comments, article locks, bans, reports; and administrators' role
//! changes. The same services as the pages; each action is written to the moderation
//! log with the name of the token it came through.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::{Article, Comment};
use super::writes::{body, field};
use super::{moderate, require, ErrorBody};
use crate::auth::{AuthUser, SignedIn};
use crate::db::comments;
use crate::db::moderation as m;
use crate::domain::{permissions, BanLength, CommentId, ModReason, Role};
use crate::service::moderation as service;
use crate::web::{comment_id, AppError, AppState};

/// The caller, if the request may moderate: the token's `moderate` scope, and the
/// moderator (or administrator) role; 403 otherwise.
pub(super) fn moderator(signed_in: &SignedIn) -> Result<&AuthUser, AppError> {
    let user = &signed_in.user;
    require(user, moderate, "moderate")?;
    permissions::may_moderate(Some(&user.actor()))?;
    Ok(user)
}

/// Comment `id` as moderators see it: whatever its state (a held or rejected comment
/// too, which a thread shows its author only).
async fn comment_as(state: &AppState, user: &AuthUser, id: CommentId) -> Result<Comment, AppError> {
    let viewer = user.id;
    let (item, locked) = state
        .db(move |conn| {
            let (comment, _, _, locked) = comments::find_with_article(conn, id)?.ok_or(AppError::NotFound)?;
            if let Some(item) = comments::one(conn, id, Some(viewer))? {
                return Ok((item, locked));
            }
            // Held or rejected, and not the caller's: never voted on, since never shown.
            let author = crate::db::users::find(conn, comment.author_id)?
                .filter(|a| a.deleted_at.is_none() && !comment.is_deleted() && !comment.is_removed())
                .map(|a| a.username);
            let mut items =
                vec![comments::ThreadComment { comment, author, my_vote: 0, quote: None, imported_name: None }];
            comments::show_quotes(conn, &mut items)?;
            Ok((items.pop().expect("one comment"), locked))
        })
        .await?;
    let context = super::model::Context {
        actor: Some(user.actor()),
        locked,
        now: crate::db::now(),
        edit_window: state.config.edit_window,
        base: state.config.base_url.clone(),
    };
    Ok(Comment::new(&item, &context))
}

fn reason(raw: &str) -> Result<ModReason, AppError> {
    ModReason::parse(raw).map_err(|why| field("reason", why))
}

fn ban_length(name: &str, raw: &str) -> Result<BanLength, AppError> {
    BanLength::parse(raw).map_err(|why| field(name, why))
}

/// A removal, and a ban of the comment's author with it, if `ban` is given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Removal {
    /// Shown to the author, and in the public moderation log. At most 500 characters.
    #[schema(schema_with = super::schemas::reason)]
    pub reason: String,
    /// Also ban the author, for this long (the same reason).
    pub ban: Option<super::schemas::BanName>,
}

/// A reason, required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// At most 500 characters; shown in the public moderation log.
    #[schema(schema_with = super::schemas::reason)]
    pub reason: String,
}

/// A reason, if any.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionalReason {
    /// Told to the author. At most 500 characters.
    #[schema(schema_with = super::schemas::optional_reason)]
    pub reason: Option<String>,
}

/// A ban.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ban {
    /// Shown to the account, and in the public moderation log. At most 500 characters.
    #[schema(schema_with = super::schemas::reason)]
    pub reason: String,
    /// 1d, 7d, 30d or permanent.
    pub duration: super::schemas::BanName,
}

/// A role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRole {
    /// reader, moderator or admin.
    pub role: super::schemas::RoleName,
}

/// Removes a comment (readers see "[removed by a moderator]", its author the reason)
/// and resolves its reports; with `ban`, bans its author too: both or neither.
#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/remove",
    tag = "moderation",
    params(("id" = i64, Path, minimum = 1, description = "The comment")),
    request_body = Removal,
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 200, description = "Removed; the comment as moderators see it", body = Comment),
        (status = 400, description = "A field is not acceptable (named), or the comment or account is not in a state this applies to (already removed, not held, not banned …)", body = ErrorBody),
                (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not a moderator, or the token lacks the moderate scope; or the author is a peer", body = ErrorBody),
        (status = 404, description = "No such comment", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn remove(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let user = moderator(&signed_in)?;
    let id = comment_id(&id)?;
    let removal: Removal = body(&req, &bytes)?;
    let why = reason(&removal.reason)?;
    let ban = removal.ban.map(|b| ban_length("ban", b.as_str())).transpose()?;
    service::remove(&state, user, id, why, ban).await?;
    Ok(HttpResponse::Ok().json(comment_as(&state, user, id).await?))
}

macro_rules! comment_action {
    ($name:ident, $path:literal, $what:literal, $refused:literal, |$state:ident, $user:ident, $id:ident| $call:expr) => {
        #[doc = $what]
        #[utoipa::path(
            post,
            path = $path,
            tag = "moderation",
            params(("id" = i64, Path, minimum = 1, description = "The comment")),
            responses(
                (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
                (status = 200, description = "Done; the comment as moderators see it", body = Comment),
                (status = 400, description = $refused, body = ErrorBody),
                (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
                (status = 403, description = "Not a moderator, or the token lacks the moderate scope", body = ErrorBody),
                (status = 404, description = "No such comment", body = ErrorBody),
            ),
            security(("token" = ["moderate"]), ("session" = []))
        )]
        pub async fn $name(
            state: web::Data<AppState>,
            signed_in: SignedIn,
            id: web::Path<String>,
        ) -> Result<HttpResponse, AppError> {
            let $user = moderator(&signed_in)?;
            let $id = comment_id(&id)?;
            let $state = &state;
            $call;
            Ok(HttpResponse::Ok().json(comment_as(&state, $user, $id).await?))
        }
    };
}

comment_action!(
    restore,
    "/api/v1/comments/{id}/restore",
    "Puts a removed comment back.",
    "The comment is not removed, or its author deleted the account",
    |state, user, id| service::restore(state, user, id).await?
);
comment_action!(
    approve,
    "/api/v1/comments/{id}/approve",
    "Publishes a held comment (its author is told, replies announced).",
    "The comment is not waiting for approval",
    |state, user, id| service::review(state, user, id, true, None).await?
);
comment_action!(
    pin,
    "/api/v1/comments/{id}/pin",
    "Pins a visible top-level comment to the top of its thread (unpinning any other).",
    "Not a visible top-level comment, or already pinned",
    |state, user, id| service::pin(state, user, id, true).await?
);
comment_action!(
    unpin,
    "/api/v1/comments/{id}/unpin",
    "Unpins a comment.",
    "The comment is not pinned",
    |state, user, id| service::pin(state, user, id, false).await?
);
comment_action!(
    distinguish,
    "/api/v1/comments/{id}/distinguish",
    "Marks the caller's own comment as spoken as a moderator, or (called again) unmarks it; `distinguished` says which.",
    "Not a comment this applies to",
    |state, user, id| service::distinguish(state, user, id).await?
);

/// Rejects a held comment, with a reason its author is told, if given.
#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/reject",
    tag = "moderation",
    params(("id" = i64, Path, minimum = 1, description = "The comment")),
    request_body(content = OptionalReason, description = "May be left out"),
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 200, description = "Rejected; the comment as moderators see it", body = Comment),
        (status = 400, description = "The reason is not acceptable, or the comment or article is not in a state this applies to", body = ErrorBody),
                (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not a moderator, or the token lacks the moderate scope", body = ErrorBody),
        (status = 404, description = "No such comment", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn reject(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    id: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let user = moderator(&signed_in)?;
    let id = comment_id(&id)?;
    let given: OptionalReason = body(&req, &bytes)?;
    let why = given.reason.as_deref().filter(|r| !crate::text::is_blank(r)).map(reason).transpose()?;
    service::review(&state, user, id, false, why).await?;
    Ok(HttpResponse::Ok().json(comment_as(&state, user, id).await?))
}

/// The article `slug` as it is now.
async fn article(state: &AppState, slug: String) -> Result<Article, AppError> {
    let page =
        state.db(move |conn| Ok(crate::db::articles::find_by_slug(conn, &slug)?)).await?.ok_or(AppError::NotFound)?;
    Ok(Article::new(&page, &state.config))
}

fn valid_slug(slug: &str) -> Result<(), AppError> {
    if crate::import::is_valid_slug(slug) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Closes an article's comments, with a reason shown under it.
#[utoipa::path(
    post,
    path = "/api/v1/articles/{slug}/lock",
    tag = "moderation",
    params(("slug" = String, Path, description = "The article's slug")),
    request_body = Reason,
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 200, description = "Closed; the article as it is now", body = Article),
        (status = 400, description = "The reason is not acceptable, or the comment or article is not in a state this applies to", body = ErrorBody),
                (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not a moderator, or the token lacks the moderate scope", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn lock(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    slug: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let user = moderator(&signed_in)?;
    valid_slug(&slug)?;
    let given: Reason = body(&req, &bytes)?;
    let why = reason(&given.reason)?;
    service::set_lock(&state, user, &slug, Some(why), true).await?;
    Ok(HttpResponse::Ok().json(article(&state, slug.into_inner()).await?))
}

/// Reopens an article's comments.
#[utoipa::path(
    post,
    path = "/api/v1/articles/{slug}/unlock",
    tag = "moderation",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 200, description = "Open; the article as it is now", body = Article),
        (status = 400, description = "Comments are open already", body = ErrorBody),
                (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not a moderator, or the token lacks the moderate scope", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn unlock(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = moderator(&signed_in)?;
    valid_slug(&slug)?;
    service::set_lock(&state, user, &slug, None, false).await?;
    Ok(HttpResponse::Ok().json(article(&state, slug.into_inner()).await?))
}

/// Bans an account (moderators ban readers; administrators moderators too) and ends
/// its sessions.
#[utoipa::path(
    post,
    path = "/api/v1/users/{username}/ban",
    tag = "moderation",
    params(("username" = String, Path, description = "The account")),
    request_body = Ban,
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 204, description = "Banned"),
        (status = 400, description = "A field is not acceptable (named), or the comment or account is not in a state this applies to (already removed, not held, not banned …)", body = ErrorBody),
                (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not a moderator, a peer, or the token lacks the moderate scope", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn ban(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    username: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let user = moderator(&signed_in)?;
    let given: Ban = body(&req, &bytes)?;
    let why = reason(&given.reason)?;
    let length = ban_length("duration", given.duration.as_str())?;
    service::ban(&state, user, &username, length, why).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lifts an account's ban.
#[utoipa::path(
    post,
    path = "/api/v1/users/{username}/unban",
    tag = "moderation",
    params(("username" = String, Path, description = "The account")),
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 204, description = "No longer banned"),
        (status = 400, description = "The account is not banned", body = ErrorBody),
                (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not a moderator, a peer, or the token lacks the moderate scope", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn unban(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    username: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = moderator(&signed_in)?;
    service::unban(&state, user, &username).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Gives an account a role: administrators only. An administrator cannot take away
/// their own administrator role.
#[utoipa::path(
    put,
    path = "/api/v1/users/{username}/role",
    tag = "moderation",
    params(("username" = String, Path, description = "The account")),
    request_body = NewRole,
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 204, description = "The account has the role"),
        (status = 400, description = "Not a role, or the caller's own administrator role", body = ErrorBody),
                (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the token lacks the moderate scope", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn set_role(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
    username: web::Path<String>,
    bytes: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let user = super::admin::administrator(&signed_in)?;
    let given: NewRole = body(&req, &bytes)?;
    let role = given.role.as_str().parse::<Role>().map_err(|_| field("role", "reader, moderator or admin"))?;
    crate::service::moderation::set_role(&state, user, &username, role).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The open reports about one comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedComment {
    /// The comment as moderators see it.
    pub comment: Comment,
    pub article_slug: String,
    pub article_title: String,
    /// One per reader who reported it.
    pub reports: Vec<ReportReasonItem>,
    /// When its first open report came.
    #[schema(format = DateTime)]
    pub first_reported_at: String,
}

/// One reader's report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportReasonItem {
    /// spam, harassment, off-topic, misinformation or other.
    pub reason: String,
    pub details: Option<String>,
}

/// The open reports, grouped by comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenReports {
    /// Oldest first, from the oldest 1,000 open reports (as the reports page).
    pub comments: Vec<ReportedComment>,
}

/// The open reports, grouped by comment, oldest first: from the oldest 1,000 open
/// reports, as the reports page reads them. Dismissing or acting on them brings on the
/// next.
#[utoipa::path(
    get,
    path = "/api/v1/mod/reports",
    tag = "moderation",
    responses(
        (status = 200, description = "The open reports", body = OpenReports),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not a moderator, or the token lacks the moderate scope", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn reports(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let user = moderator(&signed_in)?;
    let viewer = user.id;
    let (groups, items) = state
        .db(move |conn| {
            let groups = m::open_reports(conn)?;
            let ids: Vec<_> = groups.iter().map(|g| g.comment.id).collect();
            Ok((groups, comments::with_authors(conn, &ids, Some(viewer))?))
        })
        .await?;
    let now = crate::db::now();
    let comments = groups
        .into_iter()
        .filter_map(|group| {
            let item = items.iter().find(|i| i.comment.id == group.comment.id)?;
            let context = super::model::Context {
                actor: Some(user.actor()),
                locked: false,
                now,
                edit_window: state.config.edit_window,
                base: state.config.base_url.clone(),
            };
            Some(ReportedComment {
                comment: Comment::new(item, &context),
                article_slug: group.article_slug,
                article_title: group.article_title,
                reports: group
                    .reasons
                    .into_iter()
                    .map(|(reason, details)| ReportReasonItem { reason: reason.as_str().to_owned(), details })
                    .collect(),
                first_reported_at: crate::views::iso_time(group.first_at),
            })
        })
        .collect();
    super::ok(&req, &OpenReports { comments })
}

/// Closes the open reports about a comment without acting on it.
#[utoipa::path(
    post,
    path = "/api/v1/mod/reports/{id}/dismiss",
    tag = "moderation",
    params(("id" = i64, Path, minimum = 1, description = "The reported comment")),
    responses(
        (status = 409, description = "Not in a state this applies to (already done, not held, not removed, closed …), or a conflicting request", body = ErrorBody),
        (status = 204, description = "Its reports are closed"),
        (status = 400, description = "There are no open reports about it", body = ErrorBody),
                (status = 401, description = "Not signed in, or the token is not valid", body = ErrorBody),
        (status = 403, description = "Not a moderator, or the token lacks the moderate scope", body = ErrorBody),
        (status = 404, description = "No such comment", body = ErrorBody),
    ),
    security(("token" = ["moderate"]), ("session" = []))
)]
pub async fn dismiss(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = moderator(&signed_in)?;
    let id = comment_id(&id)?;
    service::dismiss(&state, user, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
