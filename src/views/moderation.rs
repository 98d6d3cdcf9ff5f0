//! Pages for moderators and administrators, and the public moderation log.

use crate::domain::CommentStatus;
use maud::{html, Markup, PreEscaped};

use super::forms::csrf;
use super::layout::{self, Meta};
use super::{display_date, display_time};
use crate::auth::Visitor;
use crate::db::comments::Comment;
use crate::db::moderation::{Dashboard, LogEntry, Premoderation, ReportGroup};
use crate::db::users::User;
use crate::domain::ReportReason;

fn meta(title: &str) -> Meta<'_> {
    Meta { title: Some(title), description: "Afterword moderation", url: None, og_type: "website", feed: None }
}

pub(crate) fn nav(v: &Visitor) -> Markup {
    let admin = crate::domain::permissions::may_administer(v.user.as_ref().map(|u| u.actor()).as_ref()).is_ok();
    html! {
        nav class="mod-nav" aria-label="Moderation" {
            a href="/mod/reports" { "Reports" } " · " a href="/mod/queue" { "Approval queue" } " · " a href="/modlog" { "Log" }
            @if admin {
                " · " a href="/admin" { "Dashboard" } " · " a href="/admin/articles" { "Articles" }
                " · " a href="/admin/users" { "Users" } " · " a href="/admin/settings" { "Settings" }
                " · " a href="/admin/outbox" { "Outbox" }
            }
        }
    }
}

/// A one-button form, optionally with a reason field.
fn action(v: &Visitor, path: &str, label: &str, reason: Option<&str>, class: &str) -> Markup {
    html! {
        form method="post" action=(path) class="mod-form" {
            (csrf(v))
            @if let Some(placeholder) = reason {
                input type="text" name="reason" required maxlength="500" placeholder=(placeholder) aria-label="Reason";
            }
            button type="submit" class=(class) { (label) }
        }
    }
}

fn ban_fields() -> Markup {
    html! {
        label { "Ban for "
            select name="duration" {
                option value="" { "no ban" }
                option value="1d" { "1 day" }
                option value="7d" { "7 days" }
                option value="30d" { "30 days" }
                option value="permanent" { "ever" }
            }
        }
    }
}

/// Removing a comment, with a ban of its author if one is chosen; from the reports
/// page, the moderator goes on to the next report afterwards.
fn remove_form(v: &Visitor, id: crate::domain::CommentId, from_reports: bool) -> Markup {
    html! {
        form method="post" action={ "/mod/comments/" (id) "/remove" } class="mod-form"
            data-confirm="Remove this comment? If you chose a ban, its author is banned too." {
            (csrf(v))
            @if from_reports { input type="hidden" name="from" value="reports"; }
            input type="text" name="reason" required maxlength="500" placeholder="Reason shown to the author" aria-label="Reason";
            (ban_fields())
            div class="form-buttons" {
                @if from_reports {
                    button type="submit" form={ "dismiss-" (id) } class="button secondary" { "Dismiss" }
                }
                button type="submit" class="button secondary" { "Remove" }
            }
        }
    }
}

/// Rejecting a held comment, with an optional reason its author is told.
fn reject_form(v: &Visitor, id: crate::domain::CommentId) -> Markup {
    html! {
        form method="post" action={ "/mod/comments/" (id) "/reject" } class="mod-form"
            data-confirm="Reject this comment? It will never be published." {
            (csrf(v))
            input type="text" name="reason" maxlength="500" placeholder="Reason for the author (optional)" aria-label="Reason";
            button type="submit" class="button secondary" { "Reject" }
        }
    }
}

fn comment_box(c: &Comment, author: &str, slug: &str, title: &str) -> Markup {
    html! {
        div class="mod-comment" {
            p class="comment-meta" {
                a href={ "/users/" (author) } { (author) } " on "
                a href={ "/comments/" (c.id) } { (title) } " · " (display_time(c.created_at)) " · " (c.status)
            }
            div class="comment-body" { (PreEscaped(&c.body_html)) }
            p { a href={ "/articles/" (slug) "#comment-" (c.id) } { "In context" } }
        }
    }
}

/// A destructive action posted without `confirm=yes`: the page that asks first. Its
/// button posts the same fields again with `confirm=yes` (and the reader's token); its
/// Cancel link goes back without doing anything.
pub struct Confirm<'a> {
    /// The question, also the page's heading: "Delete this comment?"
    pub question: &'a str,
    /// What is shown and said about what will be lost.
    pub consequences: Markup,
    /// Where the confirmed form posts.
    pub action: &'a str,
    /// The fields of the first request, posted again.
    pub fields: &'a [(&'a str, &'a str)],
    /// The button's label: "Delete the comment".
    pub button: &'a str,
    pub cancel: &'a str,
}

pub fn confirm_page(v: &Visitor, c: &Confirm) -> Markup {
    layout::page(
        Some(v),
        &meta(c.question),
        html! {
            section class="confirm" {
                h1 { (c.question) }
                (c.consequences)
                form method="post" action=(c.action) class="confirm-form" {
                    (csrf(v))
                    @for (name, value) in c.fields {
                        input type="hidden" name=(name) value=(value);
                    }
                    input type="hidden" name="confirm" value="yes";
                    div class="confirm-actions" {
                        button type="submit" class="button danger" { (c.button) }
                        a class="button secondary" href=(c.cancel) { "Cancel" }
                    }
                }
            }
        },
    )
}

/// Asks before a reader deletes their comment (`return_to` kept for afterwards).
pub fn confirm_delete_comment(
    v: &Visitor,
    c: &Comment,
    slug: &str,
    title: &str,
    return_to: Option<&str>,
    cancel: &str,
) -> Markup {
    let author = v.user.as_ref().map(|u| u.username.as_str()).unwrap_or_default();
    let action = format!("/comments/{}/delete", c.id);
    let fields: Vec<(&str, &str)> = return_to.map(|r| ("return_to", r)).into_iter().collect();
    confirm_page(
        v,
        &Confirm {
            question: "Delete your comment?",
            consequences: html! {
                (comment_box(c, author, slug, title))
                p { "Its text is deleted for good: nobody, not even the moderators, can bring it back." }
                @if c.reply_count > 0 {
                    p { "The replies to it stay, under “[deleted]”." }
                }
            },
            action: &action,
            fields: &fields,
            button: "Delete the comment",
            cancel,
        },
    )
}

/// Asks before a moderator rejects a held comment.
pub fn confirm_reject(v: &Visitor, c: &Comment, author: &str, slug: &str, title: &str, reason: Option<&str>) -> Markup {
    let action = format!("/mod/comments/{}/reject", c.id);
    let cancel = format!("/mod/queue#held-{}", c.id);
    let fields: Vec<(&str, &str)> = reason.map(|r| ("reason", r)).into_iter().collect();
    confirm_page(
        v,
        &Confirm {
            question: "Reject this comment?",
            consequences: html! {
                (comment_box(c, author, slug, title))
                p { "It will never be published. " (author) " is told in their inbox"
                    @if let Some(r) = reason { ", with your reason: “" (r) "”." } @else { ", without a reason." } }
            },
            action: &action,
            fields: &fields,
            button: "Reject the comment",
            cancel: &cancel,
        },
    )
}

/// What a moderator asked for when removing a comment and banning its author.
pub struct RemoveAndBan<'a> {
    pub comment: &'a Comment,
    pub author: &'a str,
    pub slug: &'a str,
    pub title: &'a str,
    pub reason: &'a str,
    /// As the form sent it ("7d"), and as said ("for 7 days").
    pub duration: &'a str,
    pub length: &'a str,
    /// Whether the moderator came from the reports (and goes back there).
    pub from_reports: bool,
}

/// Asks before a moderator removes a comment and bans its author.
pub fn confirm_remove_and_ban(v: &Visitor, r: &RemoveAndBan) -> Markup {
    let id = r.comment.id;
    let action = format!("/mod/comments/{id}/remove");
    let question = format!("Remove this comment and ban {} {}?", r.author, r.length);
    let cancel = if r.from_reports { format!("/mod/reports#report-{id}") } else { format!("/mod/comments/{id}") };
    let mut fields = vec![("reason", r.reason), ("duration", r.duration)];
    if r.from_reports {
        fields.push(("from", "reports"));
    }
    confirm_page(
        v,
        &Confirm {
            question: &question,
            consequences: html! {
                (comment_box(r.comment, r.author, r.slug, r.title))
                p { "Readers will see “[removed by a moderator]” in its place. " (r.author)
                    " is signed out everywhere and cannot comment, reply, vote, report or save " (r.length) "." }
                p { "Reason, shown to " (r.author) ": “" (r.reason) "”" }
            },
            action: &action,
            fields: &fields,
            button: "Remove and ban",
            cancel: &cancel,
        },
    )
}

pub fn reports(v: &Visitor, groups: &[ReportGroup]) -> Markup {
    layout::page(
        Some(v),
        &meta("Reports"),
        html! {
            h1 { "Open reports" }
            (nav(v))
            @if groups.is_empty() { p class="empty" { "No open reports." } }
            @for g in groups {
                section class="report-group" id={ "report-" (g.comment.id) } {
                    h2 { (crate::text::plural(g.reasons.len() as i64, "report", "reports")) " since " (display_time(g.first_at)) }
                    (comment_box(&g.comment, &g.author, &g.article_slug, &g.article_title))
                    ul class="reasons" {
                        @for (reason, details) in &g.reasons {
                            li { strong { (reason) } @if let Some(d) = details { ": " (d) } }
                        }
                    }
                    // The fields above, both buttons side by side under them: Dismiss
                    // belongs to a form of its own (named with `form=`), which needs none.
                    form id={ "dismiss-" (g.comment.id) } method="post" action={ "/mod/reports/" (g.comment.id) "/dismiss" } hidden {
                        (csrf(v))
                    }
                    div class="mod-actions report-actions" {
                        (remove_form(v, g.comment.id, true))
                    }
                }
            }
        },
    )
}

pub fn queue(v: &Visitor, items: &[(Comment, String, String, String)]) -> Markup {
    layout::page(
        Some(v),
        &meta("Approval queue"),
        html! {
            h1 { "Comments waiting for approval" }
            (nav(v))
            @if items.is_empty() { p class="empty" { "Nothing is waiting." } }
            @for (c, author, slug, title) in items {
                section class="queue-item" id={ "held-" (c.id) } {
                    (comment_box(c, author, slug, title))
                    div class="mod-actions" {
                        (action(v, &format!("/mod/comments/{}/approve", c.id), "Approve", None, "button"))
                        (reject_form(v, c.id))
                    }
                }
            }
        },
    )
}

pub fn comment(v: &Visitor, c: &Comment, author: &str, slug: &str, title: &str) -> Markup {
    let own = v.user.as_ref().is_some_and(|u| u.id == c.author_id);
    layout::page(
        Some(v),
        &meta("Moderate a comment"),
        html! {
            h1 { "Moderate a comment" }
            (nav(v))
            (comment_box(c, author, slug, title))
            @if let Some(reason) = &c.removed_reason { p { "Removed: " (reason) } }
            div class="mod-actions" {
                @if c.is_removed() {
                    (action(v, &format!("/mod/comments/{}/restore", c.id), "Restore", None, "button"))
                } @else if c.is_visible() {
                    (remove_form(v, c.id, false))
                    @if c.depth == 0 {
                        @if c.pinned {
                            (action(v, &format!("/mod/comments/{}/unpin", c.id), "Unpin", None, "button secondary"))
                        } @else {
                            (action(v, &format!("/mod/comments/{}/pin", c.id), "Pin to the top", None, "button secondary"))
                        }
                    }
                    @if own {
                        (action(v, &format!("/mod/comments/{}/distinguish", c.id),
                            if c.distinguished { "Stop speaking as a moderator" } else { "Speak as a moderator" }, None, "button secondary"))
                    }
                }
                @if c.status == CommentStatus::Pending {
                    (action(v, &format!("/mod/comments/{}/approve", c.id), "Approve", None, "button"))
                    (reject_form(v, c.id))
                }
                p { a href={ "/mod/users/" (author) } { "Moderate " (author) } }
            }
        },
    )
}

pub fn article(v: &Visitor, slug: &str, title: &str, locked: bool, reason: Option<&str>) -> Markup {
    layout::page(
        Some(v),
        &meta("Moderate an article"),
        html! {
            h1 { "Moderate: " (title) }
            (nav(v))
            p { a href={ "/articles/" (slug) } { "The article" } }
            @if locked {
                p { "Comments are closed." @if let Some(r) = reason { " Reason: " (r) } }
                (action(v, &format!("/mod/articles/{slug}/unlock"), "Reopen comments", None, "button"))
            } @else {
                (action(v, &format!("/mod/articles/{slug}/lock"), "Close comments", Some("Why (shown under the article)"), "button secondary"))
            }
        },
    )
}

pub struct UserPage<'a> {
    pub user: &'a User,
    pub recent: &'a [(Comment, String, String)],
    pub reports_about: &'a [(crate::domain::CommentId, ReportReason, time::PrimitiveDateTime)],
    pub reports_by: &'a [(crate::domain::CommentId, ReportReason, time::PrimitiveDateTime)],
    pub banned: Option<String>,
}

pub fn user(v: &Visitor, p: &UserPage) -> Markup {
    let admin = crate::domain::permissions::may_administer(v.user.as_ref().map(|u| u.actor()).as_ref()).is_ok();
    let u = p.user;
    layout::page(
        Some(v),
        &meta("Moderate a user"),
        html! {
            h1 { (u.username) }
            (nav(v))
            p { "Role: " strong class="role" { (u.role) } " · joined " (display_date(u.created_at.date()))
                @if admin { " · " (u.email.as_deref().unwrap_or("")) } }
            @if let Some(banned) = &p.banned {
                p class="flash error" { "Banned " (banned) }
                (action(v, &format!("/mod/users/{}/unban", u.username), "Unban", None, "button"))
            } @else {
                form method="post" action={ "/mod/users/" (u.username) "/ban" } class="mod-form" {
                    (csrf(v))
                    input type="text" name="reason" required maxlength="500" placeholder="Reason (shown to the user)" aria-label="Reason";
                    select name="duration" aria-label="Duration" {
                        option value="1d" { "1 day" } option value="7d" { "7 days" }
                        option value="30d" { "30 days" } option value="permanent" { "Permanently" }
                    }
                    button type="submit" class="button secondary" { "Ban" }
                }
            }
            @if admin {
                form method="post" action={ "/admin/users/" (u.username) "/role" } class="mod-form" {
                    (csrf(v))
                    select name="role" aria-label="Role" {
                        @for role in crate::domain::Role::ALL.iter().copied() {
                            option value=(role) selected[u.role == role] { (role) }
                        }
                    }
                    button type="submit" class="button secondary" { "Change role" }
                }
            }
            h2 { "Recent comments" }
            ul { @for (c, _, title) in p.recent { li { a href={ "/comments/" (c.id) } { (title) } " · " (display_time(c.created_at)) } } }
            h2 { "Reports about their comments" }
            ul { @for (id, reason, at) in p.reports_about { li { a href={ "/mod/comments/" (id) } { "#" (id) } " " (reason) " · " (display_time(*at)) } } }
            h2 { "Reports they filed" }
            ul { @for (id, reason, at) in p.reports_by { li { a href={ "/mod/comments/" (id) } { "#" (id) } " " (reason) " · " (display_time(*at)) } } }
        },
    )
}

pub struct LogPage<'a> {
    pub entries: &'a [LogEntry],
    pub actions: &'a [crate::domain::ModAction],
    pub action: Option<crate::domain::ModAction>,
    pub moderator: Option<&'a str>,
    pub page: u32,
    pub has_more: bool,
}

pub fn log(v: &Visitor, p: &LogPage) -> Markup {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(a) = p.action {
        query.append_pair("action", a.as_str());
    }
    if let Some(m) = p.moderator {
        query.append_pair("moderator", m);
    }
    let base = query.finish();
    let link = |page: u32| {
        if base.is_empty() {
            format!("/modlog?page={page}")
        } else {
            format!("/modlog?{base}&page={page}")
        }
    };
    layout::page(
        Some(v),
        &Meta {
            title: Some("Moderation log"),
            description: "What the moderators did",
            url: None,
            og_type: "website",
            feed: None,
        },
        html! {
            h1 { "Moderation log" }
            p { "Every action of moderators and administrators, newest first." }
            form method="get" action="/modlog" class="search-form" {
                select name="action" aria-label="Action" {
                    option value="" { "All actions" }
                    @for a in p.actions { option value=(a) selected[p.action == Some(*a)] { (a) } }
                }
                input type="text" name="moderator" value=(p.moderator.unwrap_or("")) placeholder="Moderator" aria-label="Moderator";
                button type="submit" class="button secondary" { "Filter" }
            }
            @if p.entries.is_empty() { p class="empty" { "Nothing here." } }
            table class="modlog" tabindex="0" {
                thead { tr { th { "When" } th { "Who" } th { "Action" } th { "On" } th { "Reason" } } }
                tbody {
                    @for e in p.entries {
                        tr {
                            td { (display_time(e.created_at)) }
                            td {
                                (e.moderator)
                                @if let Some(token) = &e.via_token {
                                    " " span class="via-token" { "(through the API token “" (token) "”)" }
                                }
                            }
                            td class="action" { (e.action) }
                            td { (e.target_label) }
                            td { (e.reason.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
            nav class="pager" aria-label="Pages" {
                @if p.page > 1 { a rel="prev" href=(link(p.page - 1)) { "← Newer" } }
                @if p.has_more { a rel="next" href=(link(p.page + 1)) { "Older →" } }
            }
        },
    )
}

pub fn dashboard(v: &Visitor, d: &Dashboard) -> Markup {
    layout::page(
        Some(v),
        &meta("Dashboard"),
        html! {
            h1 { "Dashboard" }
            (nav(v))
            dl class="stats" {
                dt { "Users" } dd class="stat-users" { (d.users) }
                dt { "Articles" } dd class="stat-articles" { (d.articles) }
                dt { "Comments today" } dd class="stat-today" { (d.comments_today) }
                dt { "Comments this week" } dd class="stat-week" { (d.comments_week) }
                dt { "Reported comments" } dd class="stat-reports" { a href="/mod/reports" { (d.open_reports) } }
                dt { "Held comments" } dd class="stat-held" { a href="/mod/queue" { (d.held) } }
            }
            h2 { "Recent sign-ups" }
            ul class="signups" {
                @for (name, at) in &d.recent_signups {
                    li { a href={ "/mod/users/" (name) } { (name) } " · " (display_time(*at)) }
                }
            }
        },
    )
}

/// `embedding` is the section of the sites allowed to embed the comments
/// (`views::embed::origins_section`).
pub fn settings(v: &Visitor, mode: Premoderation, words: &[String], notice: Option<&str>, embedding: Markup) -> Markup {
    let (value, count) = match mode {
        Premoderation::Off => ("off", 3),
        Premoderation::NewAccounts(n) => ("new", n),
        Premoderation::Everyone => ("all", 3),
    };
    layout::page(
        Some(v),
        &meta("Site settings"),
        html! {
            h1 { "Site settings" }
            (nav(v))
            @if let Some(n) = notice { p class="notice" role="status" { (n) } }
            section class="settings-section" {
                h2 { "Pre-moderation" }
                form method="post" action="/admin/settings/premoderation" {
                    (csrf(v))
                    @for (option, label) in [("off", "Off: comments appear at once"), ("new", "New accounts: their first comments wait for approval"), ("all", "Everyone: every comment waits for approval")] {
                        label class="checkbox" { input type="radio" name="mode" value=(option) checked[value == option]; " " (label) }
                    }
                    label for="premod-count" { "How many first comments wait (new accounts)" }
                    input id="premod-count" type="number" name="count" min="1" max="100" value=(count);
                    button type="submit" class="button" { "Save" }
                }
            }
            section class="settings-section" {
                h2 { "Word list" }
                p { "A comment containing one of these words or phrases waits for approval. One a line; * stands for any letters." }
                form method="post" action="/admin/settings/words" {
                    (csrf(v))
                    textarea name="words" rows="8" aria-label="Words" { (words.join("\n")) }
                    button type="submit" class="button" { "Save" }
                }
            }
            (embedding)
        },
    )
}

pub fn users(v: &Visitor, query: &str, found: &[User]) -> Markup {
    layout::page(
        Some(v),
        &meta("Users"),
        html! {
            h1 { "Users" }
            (nav(v))
            form method="get" action="/admin/users" class="search-form" role="search" {
                input type="search" name="q" value=(query) placeholder="Name or email" aria-label="Name or email";
                button type="submit" class="button" { "Find" }
            }
            table class="users" tabindex="0" {
                thead { tr { th { "Name" } th { "Email" } th { "Role" } th { "Joined" } th { "Banned" } } }
                tbody {
                    @for u in found {
                        tr {
                            td { a href={ "/mod/users/" (u.username) } { (u.username) } }
                            td { (u.email.as_deref().unwrap_or("")) }
                            td { (u.role) }
                            td { (display_date(u.created_at.date())) }
                            td { @if u.banned_until.is_some_and(|b| b > crate::db::now()) { "yes" } }
                        }
                    }
                }
            }
        },
    )
}

pub fn report_form(
    v: &Visitor,
    c: &Comment,
    (author, slug, title): (&str, &str, &str),
    typed: (&str, &str),
    error: Option<&str>,
) -> Markup {
    layout::page(
        Some(v),
        &meta("Report a comment"),
        html! {
            h1 { "Report a comment" }
            (comment_box(c, author, slug, title))
            @if let Some(e) = error { p class="flash error" role="alert" { (e) } }
            form method="post" action={ "/comments/" (c.id) "/report" } {
                (csrf(v))
                fieldset {
                    legend { "What is wrong with it?" }
                    @for reason in ReportReason::ALL {
                        label class="checkbox" { input type="radio" name="reason" value=(reason) required checked[reason.as_str() == typed.0]; " " (reason.label()) }
                    }
                }
                div class="field" {
                    label for="report-details" { "Details (needed for “Other”)" }
                    input id="report-details" type="text" name="details" maxlength="500" value=(typed.1);
                }
                button type="submit" class="button danger" { "Report" }
            }
        },
    )
}
