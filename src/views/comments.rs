//! Comment threads, the compose page (reply, edit, preview), permalinks and the inbox.

use crate::domain::CommentStatus;
use crate::domain::{permissions, Actor, CommentId, Denied};
use std::cell::RefCell;
use std::collections::HashMap;

use maud::{html, Markup, PreEscaped};
use time::PrimitiveDateTime;

use super::forms::csrf;
use super::layout::{self, Meta};
use super::timestamp;
use crate::auth::Visitor;
use crate::db::comments::ThreadComment;
use crate::db::notifications::Notification;
use crate::db::threads::ThreadPage;
use crate::domain::quotes::ShownQuote;
use crate::ranking::Sort;

/// Indentation stops growing here; deeper replies continue on the comment's own page.
pub const MAX_INDENT: usize = crate::db::threads::LEVELS as usize + 1;

/// A comment with its replies, siblings in display order.
pub struct Node {
    pub item: ThreadComment,
    pub children: Vec<Node>,
    /// Replies not shown: how many are shown before them, and how many they are.
    pub more: Option<(usize, i64)>,
}

impl Node {
    pub fn leaf(item: ThreadComment) -> Node {
        Node { item, children: Vec::new(), more: None }
    }
}

/// Builds the trees of a page of a thread: its top comments in order, each with the
/// replies loaded under it, siblings in the order they were loaded.
pub fn build_forest(page: ThreadPage) -> Vec<Node> {
    let position: HashMap<CommentId, usize> = page.order.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut by_parent: HashMap<Option<CommentId>, Vec<ThreadComment>> = HashMap::new();
    let mut top: HashMap<CommentId, ThreadComment> = HashMap::new();
    for item in page.items {
        if page.top.contains(&item.comment.id) {
            top.insert(item.comment.id, item);
        } else {
            by_parent.entry(item.comment.parent_id).or_default().push(item);
        }
    }
    for siblings in by_parent.values_mut() {
        siblings.sort_by_key(|c| position.get(&c.comment.id).copied().unwrap_or(usize::MAX));
    }
    page.top.iter().filter_map(|id| top.remove(id)).map(|item| grow(item, &mut by_parent, &page.more)).collect()
}

fn grow(
    item: ThreadComment,
    by_parent: &mut HashMap<Option<CommentId>, Vec<ThreadComment>>,
    more: &HashMap<CommentId, (usize, i64)>,
) -> Node {
    let children = by_parent.remove(&Some(item.comment.id)).unwrap_or_default();
    Node {
        children: children.into_iter().map(|c| grow(c, by_parent, more)).collect(),
        more: more.get(&item.comment.id).copied(),
        item,
    }
}

/// What rendering a comment needs to know about the page and the reader.
pub struct ThreadView<'a> {
    pub visitor: &'a Visitor,
    pub locked: bool,
    /// Where vote and delete forms come back to (path and query, no fragment).
    pub return_to: &'a str,
    pub now: PrimitiveDateTime,
    pub edit_window: time::Duration,
    pub sort: Sort,
    /// Set while rendering a shared thread: the reader-dependent parts are left as
    /// markers, and what each needs is kept here in order.
    pub template: Option<RefCell<Vec<(Personal, ThreadComment)>>>,
}

impl<'a> ThreadView<'a> {
    /// The view of a thread page now, with the site's edit window.
    pub fn new(
        visitor: &'a Visitor,
        locked: bool,
        return_to: &'a str,
        edit_window: time::Duration,
        sort: Sort,
    ) -> Self {
        ThreadView { visitor, locked, return_to, now: crate::db::now(), edit_window, sort, template: None }
    }

    /// The part `kind` of a comment for this page's reader, or, in a shared thread, a
    /// marker where it goes.
    fn personal(&self, kind: Personal, item: &ThreadComment) -> Markup {
        match &self.template {
            Some(parts) => {
                parts.borrow_mut().push((kind, item.clone()));
                PreEscaped(super::template::MARKER.to_owned())
            }
            None => {
                let reader = Reader { actor: self.visitor.user.as_ref().map(|u| u.actor()), vote: item.my_vote };
                personal(self, kind, item, reader)
            }
        }
    }
}

pub fn forest(view: &ThreadView, nodes: &[Node]) -> Markup {
    html! {
        ol class="comment-tree" {
            @for node in nodes { (comment(view, node, 0)) }
        }
    }
}

pub fn comment(view: &ThreadView, node: &Node, indent: usize) -> Markup {
    comment_in(view, node, indent, None)
}

/// A comment, as [`comment`] draws it when `chain` is `None`. On a permalink, `chain` is
/// `Some`: `Some(Some(next))` for a parent, whose only reply shown is `next` (the rest
/// of the chain), and `Some(None)` for the comment the page is about, which is marked.
fn comment_in(view: &ThreadView, node: &Node, indent: usize, chain: Option<Option<Markup>>) -> Markup {
    let c = &node.item.comment;
    let deleted = c.is_deleted();
    let removed = c.is_removed();
    let visible = c.is_visible();
    let anchor = format!("comment-{}", c.id);
    let current = matches!(chain, Some(None));
    let author = match (&node.item.author, &node.item.imported_name) {
        (Some(_), Some(shown)) => shown.as_str(),
        (Some(name), None) => name.as_str(),
        (None, _) if removed => "[removed]",
        (None, _) => "[deleted]",
    };
    html! {
        li class={ "comment" @if current { " current" } } id=(anchor) data-id=(c.id) data-parent=[c.parent_id]
            aria-current=[current.then_some("true")] {
            details open {
                // Only the toggle: the links of the comment's line stay outside it.
                summary class="comment-toggle" {
                    span class="toggle-label" { "Comment by " (author) }
                }
                p class="comment-meta" {
                    @match (&node.item.author, &node.item.imported_name) {
                        (Some(name), Some(shown)) => {
                            a class="author" href={ "/users/" (name) } { (shown) }
                            " " span class="badge imported" title="Imported from the comment system this site used before" { "imported" }
                        }
                        (Some(name), None) => a class="author" href={ "/users/" (name) } { (name) },
                        (None, _) => span class="author deleted" { (author) },
                    }
                    @if c.distinguished && visible {
                        " " span class="badge moderator" title="Speaking as a moderator" { "moderator" }
                    }
                    @if c.pinned && visible {
                        " · " span class="pinned" { "pinned" }
                    }
                    @if c.status == CommentStatus::Pending {
                        " · " span class="held" { "awaiting approval" }
                    }
                    @if c.status == CommentStatus::Rejected {
                        " · " span class="held" { "not approved" }
                    }
                    " · "
                    (timestamp(c.created_at))
                    @if visible {
                        " · "
                        span class="score" data-score { (points(c.score())) }
                    }
                    @if c.edited_at.is_some() && visible {
                        " · " span class="edited" { "edited" }
                    }
                    @if current {
                        " " strong class="current-mark" { "this comment" }
                    }
                }
                @if let Some(quote) = &node.item.quote {
                    (quote_block(quote))
                }
                div class="comment-body" {
                    @if deleted {
                        p class="deleted" { "[deleted]" }
                    } @else if removed {
                        p class="deleted" { "[removed by a moderator]" }
                        (view.personal(Personal::RemovedReason, &node.item))
                    } @else {
                        (PreEscaped(&c.body_html))
                    }
                }
                @if !deleted {
                    (view.personal(Personal::Actions, &node.item))
                }
                @if let Some(Some(within)) = chain {
                    ol class="replies" { (within) }
                } @else if indent + 1 >= MAX_INDENT {
                    @if let Some((_, hidden)) = node.more {
                        p class="continue" {
                            a href={ "/comments/" (c.id) "?sort=" (view.sort.as_str()) } {
                                "Continue this thread (" (replies(hidden)) ") →"
                            }
                        }
                    }
                } @else if !node.children.is_empty() || node.more.is_some() {
                    ol class="replies" {
                        @for child in &node.children { (comment(view, child, indent + 1)) }
                        @if let Some((shown, hidden)) = node.more {
                            li class="more-replies" {
                                a href={ "/comments/" (c.id) "/replies?sort=" (view.sort.as_str()) "&skip=" (shown) "&indent=" (indent + 1) } data-more {
                                    (crate::text::plural(hidden, "more reply", "more replies"))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What a comment quotes of its article, above its text: linked to the passage, and
/// marked when the article no longer says it there.
pub fn quote_block(quote: &ShownQuote) -> Markup {
    quote_linked(quote, &quote.link())
}

/// [`quote_block`] with its link to `href` (a feed's links are absolute).
pub fn quote_linked(quote: &ShownQuote, href: &str) -> Markup {
    html! {
        figure class={ "comment-quote" @if quote.changed { " changed" } } {
            blockquote { (quote.quote.text) }
            figcaption {
                a href=(href) { (quote.label()) " of the article" }
                @if quote.changed {
                    " · " span class="quote-changed" { "the article has changed since" }
                }
            }
        }
    }
}

/// The parts of a comment that differ from reader to reader; everything else in a
/// thread is the same for every signed-in reader, which is what lets a thread be
/// rendered once and shared (see [`super::template`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Personal {
    /// The moderator's link and the comment's buttons: votes (pressed or not), reply,
    /// report, and the author's edit and delete.
    Actions,
    /// Why a moderator removed it, shown to its author.
    RemovedReason,
}

/// Who reads, as the reader-dependent parts of a comment need them.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    pub actor: Option<Actor>,
    /// The reader's vote on the comment: 1, -1 or 0.
    pub vote: i32,
}

/// The part `kind` of comment `item` as `reader` sees it.
pub fn personal(view: &ThreadView, kind: Personal, item: &ThreadComment, reader: Reader) -> Markup {
    let c = &item.comment;
    let actor = reader.actor.as_ref();
    match kind {
        Personal::RemovedReason => html! {
            @if actor.is_some_and(|a| a.id == c.author_id) {
                p class="removed-reason" { "Your comment was removed. Reason: " (c.removed_reason.as_deref().unwrap_or("none given")) }
            }
        },
        Personal::Actions => {
            let facts = c.facts(view.locked);
            let may_vote = permissions::may_vote(actor, &facts).is_ok();
            // Visitors see "Reply" too: it leads through the login form.
            let may_reply = matches!(permissions::may_reply(actor, &facts), Ok(()) | Err(Denied::NotSignedIn));
            let may_report = permissions::may_report(actor, &facts).is_ok();
            let may_edit = permissions::may_edit(actor, &facts, view.now, view.edit_window).is_ok();
            let may_delete = permissions::may_delete(actor, &facts).is_ok();
            let moderator = permissions::may_moderate(actor).is_ok();
            html! {
                @if moderator && !c.is_deleted() {
                    div class="comment-actions mod-actions" {
                        a href={ "/mod/comments/" (c.id) } { "Moderate" }
                    }
                }
                @if !c.is_deleted() && !c.is_removed() {
                    div class="comment-actions" {
                        @if may_vote {
                            (vote_button(c.id, 1, reader.vote))
                            (vote_button(c.id, -1, reader.vote))
                        }
                        @if may_reply {
                            a class="reply-link" href={ "/comments/" (c.id) "/reply" (sort_query(view.sort)) } data-reply=(c.id) { "Reply" }
                        }
                        a href={ "/comments/" (c.id) } { "Link" }
                        @if may_report {
                            a class="report-link" href={ "/comments/" (c.id) "/report" } rel="nofollow" { "Report" }
                        }
                        @if may_edit {
                            a class="edit-link" href={ "/comments/" (c.id) "/edit" (sort_query(view.sort)) } data-edit=(c.id) { "Edit" }
                        }
                        @if may_delete {
                            button type="submit" form=(ACTIONS) formaction={ "/comments/" (c.id) "/delete" } class="link-button delete"
                                data-confirm="Delete your comment? This cannot be undone." { "Delete" }
                        }
                    }
                }
            }
        }
    }
}

/// `?sort=…` for an order other than the default, so that a reply or an edit comes back
/// to the thread in the order the reader reads it.
fn sort_query(sort: Sort) -> String {
    if sort == Sort::Best {
        String::new()
    } else {
        format!("?sort={}", sort.as_str())
    }
}

fn replies(n: i64) -> String {
    crate::text::plural(n, "reply", "replies")
}

fn points(score: i32) -> String {
    crate::text::plural(score, "point", "points")
}

/// The id of the one form of a page that its comments' buttons (votes, delete) submit:
/// it holds the reader's token and where to come back to, so that each comment carries
/// only its buttons.
pub const ACTIONS: &str = "comment-actions";

/// The form [`ACTIONS`] names, once per page, for a signed-in reader.
pub fn actions_form(view: &ThreadView) -> Markup {
    html! {
        @if view.visitor.user.is_some() {
            form id=(ACTIONS) method="post" hidden {
                (csrf(view.visitor))
                input type="hidden" name="return_to" value=(view.return_to);
            }
        }
    }
}

fn vote_button(id: CommentId, direction: i32, mine: i32) -> Markup {
    let pressed = mine == direction;
    // Pressing a pressed button withdraws the vote.
    let value = if pressed { 0 } else { direction };
    let (class, label, glyph) =
        if direction > 0 { ("vote up", "Upvote", "▲") } else { ("vote down", "Downvote", "▼") };
    html! {
        button type="submit" form=(ACTIONS) formaction={ "/comments/" (id) "/vote" } name="value" value=(value)
            class=(class) aria-label=(label) aria-pressed=(pressed.to_string()) { (glyph) }
    }
}

/// The list of sort orders, each keeping the reader on the thread (and `extra`, more
/// of the query, such as a filter: `&takeaway=2`).
pub fn sort_nav(base: &str, current: Sort, extra: &str) -> Markup {
    html! {
        nav class="sort-nav" aria-label="Sort comments" {
            "Sort: "
            @for s in Sort::ALL {
                @if s == current {
                    strong aria-current="true" { (s.label()) }
                } @else {
                    a href={ (base) "?sort=" (s.as_str()) (extra) "#comments" } rel="nofollow" { (s.label()) }
                }
                " "
            }
        }
    }
}

/// The form that posts a comment (a reply when `parent_id` is set, an edit of comment
/// `editing` when that is). Its box has an id of its own, so that the boxes the script
/// opens in place under comments each keep their own label. `sort` is the order the
/// reader reads the thread in, to come back to after posting.
#[allow(clippy::too_many_arguments)]
pub fn compose_form(
    visitor: &Visitor,
    action: &str,
    parent_id: Option<CommentId>,
    editing: Option<CommentId>,
    body: &str,
    submit: &str,
    sort: Option<Sort>,
    quote: Option<&ShownQuote>,
) -> Markup {
    let (id, label) = match (parent_id, editing) {
        (Some(parent), _) => (format!("reply-{parent}-body"), "Your reply"),
        (None, Some(comment)) => (format!("edit-{comment}-body"), "Your comment, edited"),
        (None, None) => ("comment-body".to_owned(), "Your comment"),
    };
    // Only a new top-level comment quotes the article.
    let quotes = parent_id.is_none() && editing.is_none();
    html! {
        form method="post" action=(action) class="compose" id=[quotes.then_some("comment-form")] {
            (csrf(visitor))
            @if let Some(parent) = parent_id {
                input type="hidden" name="parent_id" value=(parent);
            }
            @if let Some(sort) = sort {
                input type="hidden" name="sort" value=(sort.as_str());
            }
            @if quotes {
                input type="hidden" name="quote" value=(quote.map(|q| q.quote.field()).unwrap_or_default());
                input type="hidden" name="quote_text" value=(quote.map(|q| q.quote.text.as_str()).unwrap_or_default());
                div class="compose-quote" id="compose-quote" hidden[quote.is_none()] {
                    p class="compose-quote-label" {
                        "Quoting "
                        span data-quote-label { (quote.map(|q| q.label().to_lowercase()).unwrap_or_default()) }
                        ":"
                    }
                    blockquote data-quote-text { (quote.map(|q| q.quote.text.as_str()).unwrap_or_default()) }
                    // Without a script, the page again without the quote.
                    a class="quote-remove" href={ (action.trim_end_matches("/comments")) "#comment-form" } data-quote-remove {
                        "Remove the quote"
                    }
                }
            }
            label for=(id) class="visually-hidden" { (label) }
            textarea id=(id) name="body" rows="5" maxlength="10000" required
                aria-describedby=[(quotes && quote.is_some()).then_some("compose-quote")]
                placeholder="Share your thoughts. Markdown: *emphasis*, **strong**, [links](https://…), `code`, > quotes, - lists." { (body) }
            div class="compose-actions" {
                button type="submit" name="action" value="post" class="button" { (submit) }
                button type="submit" name="action" value="preview" class="button secondary" { "Preview" }
            }
        }
    }
}

/// A comment alone, as the reply page shows the comment replied to: an item of a list
/// of its own, after the page's form that its buttons name.
pub fn parent_comment(view: &ThreadView, node: &Node) -> Markup {
    html! {
        (actions_form(view))
        ol class="comment-tree" { (comment(view, node, 0)) }
    }
}

/// What the compose page shows.
pub struct Compose<'a> {
    pub title: &'a str,
    pub article_title: &'a str,
    pub article_slug: &'a str,
    pub action: &'a str,
    pub parent: Option<Markup>,
    pub parent_id: Option<CommentId>,
    /// The comment edited, on the edit form.
    pub editing: Option<CommentId>,
    pub body: &'a str,
    pub preview: Option<String>,
    pub error: Option<&'a str>,
    pub submit: &'a str,
    /// The order the reader reads the thread in.
    pub sort: Option<Sort>,
    /// What a new comment quotes of the article.
    pub quote: Option<&'a ShownQuote>,
}

pub fn compose_page(visitor: &Visitor, c: &Compose) -> Markup {
    let meta = Meta { title: Some(c.title), description: c.article_title, url: None, og_type: "website", feed: None };
    layout::page(
        Some(visitor),
        &meta,
        html! {
            section class="compose-page" {
                h1 { (c.title) }
                p { "On " a href={ "/articles/" (c.article_slug) } { (c.article_title) } }
                @if let Some(parent) = &c.parent {
                    div class="parent-comment" { (parent) }
                }
                @if let Some(error) = c.error {
                    p class="flash error" role="alert" { (error) }
                }
                @if let Some(preview) = &c.preview {
                    section class="preview" aria-label="Preview" {
                        h2 { "Preview" }
                        div class="comment-body" { (PreEscaped(preview)) }
                    }
                }
                (compose_form(visitor, c.action, c.parent_id, c.editing, c.body, c.submit, c.sort, c.quote))
            }
        },
    )
}

/// A comment's own page: the article, the chain of parents for context, then the
/// comment with all its replies.
pub struct Permalink<'a> {
    pub article_title: &'a str,
    pub article_slug: &'a str,
    pub ancestors: Vec<Node>,
    pub node: Node,
    pub notice: Option<&'a str>,
}

pub fn permalink_page(view: &ThreadView, p: &Permalink) -> Markup {
    let title = format!("Comment on {}", p.article_title);
    let meta = Meta { title: Some(&title), description: p.article_title, url: None, og_type: "website", feed: None };
    let author = p.node.item.author.as_deref().unwrap_or("[deleted]");
    // The chain drawn as the thread draws it: each parent holds the next, down to the
    // comment the page is about.
    let mut chain = comment_in(view, &p.node, 0, Some(None));
    for parent in p.ancestors.iter().rev() {
        chain = comment_in(view, parent, 0, Some(Some(chain)));
    }
    layout::page(
        Some(view.visitor),
        &meta,
        html! {
            @if let Some(notice) = p.notice {
                p class="notice" role="status" { (notice) }
            }
            section class="permalink" id="comments" aria-labelledby="permalink-heading" {
                (actions_form(view))
                h1 id="permalink-heading" { "Comment by " (author) }
                p { "On " a href={ "/articles/" (p.article_slug) "#comment-" (p.node.item.comment.id) } { (p.article_title) } }
                ol class="comment-tree chain" { (chain) }
            }
        },
    )
}

/// A page of the replies a thread left out: what a "more replies" link opens.
pub struct MoreReplies<'a> {
    pub article_title: &'a str,
    pub article_slug: &'a str,
    pub parent: &'a Node,
    pub nodes: &'a [Node],
    /// How deep the replies sit in the page that linked here.
    pub indent: usize,
    /// The link to the ones after these.
    pub next: Option<String>,
}

pub fn replies_page(view: &ThreadView, m: &MoreReplies) -> Markup {
    let title = format!("Replies on {}", m.article_title);
    let meta = Meta { title: Some(&title), description: m.article_title, url: None, og_type: "website", feed: None };
    let parent = &m.parent.item.comment;
    layout::page(
        Some(view.visitor),
        &meta,
        html! {
            section class="permalink" id="comments" {
                (actions_form(view))
                p { "On " a href={ "/articles/" (m.article_slug) "#comment-" (parent.id) } { (m.article_title) } }
                h1 class="visually-hidden" { "More replies" }
                h2 class="visually-hidden" { "The comment replied to" }
                ol class="comment-tree ancestors" { (comment(view, m.parent, 0)) }
                h2 class="visually-hidden" { "Replies" }
                ol class="comment-tree replies" id="more-replies" {
                    @for node in m.nodes { (comment(view, node, m.indent)) }
                    @if let Some(next) = &m.next {
                        li class="more-replies" { a href=(next) data-more { "More replies" } }
                    }
                }
            }
        },
    )
}

pub fn inbox(visitor: &Visitor, items: &[Notification], page: u32, has_more: bool) -> Markup {
    use crate::domain::NotificationKind;
    let meta = Meta {
        title: Some("Inbox"),
        description: "Replies to your comments",
        url: None,
        og_type: "website",
        feed: None,
    };
    layout::page(
        Some(visitor),
        &meta,
        html! {
            h1 { "Inbox" }
            @if items.iter().any(|n| n.read_at.is_none()) {
                form method="post" action="/inbox/read" {
                    (csrf(visitor))
                    button type="submit" class="button secondary" { "Mark all read" }
                }
            }
            @if items.is_empty() && page == 1 {
                p class="empty" { "Nothing yet. Replies to your comments will show here." }
            }
            ol class="inbox" {
                @for n in items {
                    li class={ "notification" @if n.read_at.is_none() { " unread" } } {
                        @let link = html! { a href={ "/comments/" (n.comment_id) } { (n.article_title) } };
                        p {
                            @match n.kind {
                                NotificationKind::Reply | NotificationKind::SavedArticle => {
                                    strong { @if n.actor_deleted.is_some() { "[deleted]" } @else { (n.actor) } }
                                    @if n.kind == NotificationKind::Reply { " replied to your comment on " } @else { " commented on " }
                                    (link)
                                }
                                NotificationKind::Approved => { "Your comment on " (link) " was approved: everyone can read it now." }
                                NotificationKind::Rejected => { "Your comment on " (link) " was not approved by the moderators." }
                                NotificationKind::Removed => { "A moderator removed your comment on " (link) "." }
                            }
                            " · "
                            (timestamp(n.created_at))
                        }
                        @if matches!(n.kind, NotificationKind::Rejected | NotificationKind::Removed) {
                            p class="removed-reason" { "Reason: " (n.reason.as_deref().unwrap_or("none given")) }
                        }
                        // Removed text shows nowhere, not even to its author.
                        @if n.kind != NotificationKind::Removed {
                            div class="comment-body" { (PreEscaped(&n.body_html)) }
                        }
                    }
                }
            }
            (super::pager("/inbox", page, has_more, ("← Newer", "Older →")))
        },
    )
}
