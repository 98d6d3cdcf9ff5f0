//! The front page and the article page.

use crate::domain::Denied;
use maud::{html, Markup};

use super::comments;
use super::layout::{self, Meta};
use super::profiles::save_button;
use super::{display_date, excerpt, iso_date};
use crate::auth::Visitor;
use crate::db::articles::{ArticleListItem, ArticlePage};
use crate::db::comments::ThreadComment;
use crate::domain::quotes::{Sentences, ShownQuote};

pub const PAGE_SIZE: i64 = 20;

/// One page of the article list.
pub struct FrontPage {
    pub items: Vec<(ArticleListItem, Option<String>)>,
    pub page: u32,
    pub has_next: bool,
    /// Which of them the reader saved.
    pub saved: std::collections::HashSet<crate::domain::ArticleId>,
}

pub fn front_page(visitor: &Visitor, front: &FrontPage, base_url: &url::Url) -> Markup {
    let path = if front.page == 1 { "/".to_owned() } else { format!("/?page={}", front.page) };
    let title = (front.page > 1).then(|| format!("Articles, page {}", front.page));
    let meta = Meta {
        title: title.as_deref(),
        description: "The latest articles, each with a summary, key takeaways and a discussion.",
        url: base_url.join(path.trim_start_matches('/')).ok().map(String::from),
        og_type: "website",
        feed: Some(("Newest articles", "/feed.atom".to_owned())),
    };
    layout::page(
        Some(visitor),
        &meta,
        html! {
            h1 class="visually-hidden" { "Latest articles" }
            @if front.items.is_empty() {
                p class="empty" { "No articles yet." }
            } @else {
                ol class="article-list" {
                    @for (item, takeaway) in &front.items {
                        li class="article-card" {
                            h2 { a href={ "/articles/" (item.slug) } { (item.title) } }
                            p class="byline" { (byline_date(item.published_at)) " - " (item.source_name) }
                            @if let Some(takeaway) = takeaway {
                                p class="takeaway" { (takeaway) }
                            }
                            div class="meta" {
                                a href={ "/articles/" (item.slug) "#comments" } { (comment_count(item.comment_count)) }
                                " "
                                (save_button(visitor, &item.slug, front.saved.contains(&item.id)))
                            }
                        }
                    }
                }
            }
            @if front.page > 1 || front.has_next {
                nav class="pager" aria-label="Pages" {
                    @if front.page > 1 {
                        @let prev = if front.page == 2 { "/".to_owned() } else { format!("/?page={}", front.page - 1) };
                        a rel="prev" href=(prev) { "← Newer" }
                    }
                    span { "Page " (front.page) }
                    @if front.has_next {
                        a rel="next" href={ "/?page=" (front.page + 1) } { "Older →" }
                    }
                }
            }
        },
    )
}

pub fn comment_count(n: i32) -> String {
    crate::text::plural(n, "comment", "comments")
}

fn byline_date(date: time::Date) -> Markup {
    html! { time datetime=(iso_date(date)) { (display_date(date)) } }
}

/// The comments under an article: one page of top-level threads.
pub struct ThreadSection<'a> {
    pub view: comments::ThreadView<'a>,
    /// The page's comments ([`comments::forest`]).
    pub forest: Markup,
    /// Whether there are none.
    pub empty: bool,
    /// Whether this is the thread's first page.
    pub first: bool,
    /// The next page's address, when there is one.
    pub next: Option<String>,
    /// The reader must confirm their email before commenting.
    pub must_verify: bool,
    /// The thread's newest live event when it was read: the page's live stream starts
    /// after it.
    pub live_after: i64,
    /// The takeaway the thread is filtered to (its position, from 0).
    pub filter: Option<i32>,
    /// What the comment form quotes (`?quote=takeaway-N`).
    pub quote: Option<ShownQuote>,
}

pub fn article_page(
    visitor: &Visitor,
    page: &ArticlePage,
    thread: &ThreadSection,
    saved: bool,
    base_url: &url::Url,
) -> Markup {
    let article = &page.article;
    let actor = visitor.user.as_ref().map(|u| u.actor());
    // Back to the form, with the quote the reader chose.
    let back = match &thread.quote {
        Some(q) => format!("/articles/{}?quote={}#comment-form", article.slug, q.quote.field()),
        None => format!("/articles/{}#comments", article.slug),
    };
    let back: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
    let path = format!("/articles/{}", article.slug);
    let sentences = Sentences::of(&article.summary);
    // The number of each paragraph's first sentence, less one.
    let firsts: Vec<usize> = sentences
        .paragraphs
        .iter()
        .scan(0, |before, p| {
            let first = *before;
            *before += p.len();
            Some(first)
        })
        .collect();
    let description = excerpt(article.paragraphs().next().unwrap_or(""), 200);
    let meta = Meta {
        title: Some(&article.title),
        description: &description,
        url: base_url.join(&format!("articles/{}", article.slug)).ok().map(String::from),
        og_type: "article",
        feed: Some(("Newest comments on this article", format!("/articles/{}/comments.atom", article.slug))),
    };
    layout::page(
        Some(visitor),
        &meta,
        html! {
            article class="article" {
                header {
                    h1 { (article.title) }
                    p class="byline" { (byline_date(article.published_at)) " - " (article.source_name) }
                }
                div class="summary" id="summary" data-quotable="summary" {
                    @for (at, paragraph) in sentences.paragraphs.iter().enumerate() {
                        p {
                            @for (i, sentence) in paragraph.iter().enumerate() {
                                @if i > 0 { " " }
                                @let number = firsts[at] + i + 1;
                                span class="sentence" id={ "sentence-" (number) } data-sentence=(number) { (sentence) }
                            }
                        }
                    }
                }
                @if !page.takeaways.is_empty() {
                    section class="takeaways" aria-labelledby="takeaways-heading" {
                        h2 id="takeaways-heading" { "Key takeaways" }
                        ul {
                            @for (i, takeaway) in page.takeaways.iter().enumerate() {
                                @let count = page.takeaway_counts.get(i).copied().unwrap_or(0);
                                @let best = page.most_useful.get(i).and_then(Option::as_ref);
                                (takeaway_item(&path, i + 1, takeaway, count, best))
                            }
                        }
                    }
                }
                div class="source-link" {
                    a class="button" href=(article.source_url) target="_blank" rel="noopener noreferrer" {
                        "View Full Article"
                    }
                    " "
                    (save_button(visitor, &article.slug, saved))
                }
                @if !page.tags.is_empty() {
                    ul class="tags" aria-label="Tags" {
                        @for tag in &page.tags {
                            li { (tag) }
                        }
                    }
                }
            }
            section id="comments" class="comments" aria-labelledby="comments-heading" data-article=(article.slug) data-live-after=(thread.live_after)
                data-takeaway=[thread.filter.map(|f| f + 1)] {
                h2 id="comments-heading" { "Comments (" span class="comment-count" { (article.comment_count) } ")" }
                (comments::actions_form(&thread.view))
                @if crate::domain::permissions::may_moderate(actor.as_ref()).is_ok() {
                    p class="mod-actions" { a href={ "/mod/articles/" (article.slug) } { "Moderate this article" } }
                }
                @if let Some(filter) = thread.filter {
                    @let number = filter + 1;
                    div class="thread-filter notice" role="status" {
                        p {
                            "Showing the comments on "
                            a href={ "#takeaway-" (number) } { "takeaway " (number) }
                            @if let Some(text) = page.takeaways.get(filter as usize) {
                                ": " q { (super::excerpt(text, 120)) }
                            }
                        }
                        p { a href={ (path) "#comments" } { "Show all comments" } }
                    }
                }
                @if article.comment_count > 0 {
                    @let extra = thread.filter.map(|f| format!("&takeaway={}", f + 1)).unwrap_or_default();
                    (comments::sort_nav(&path, thread.view.sort, &extra))
                }
                @let may_comment = crate::domain::permissions::may_comment(actor.as_ref(), article.comments_locked);
                @if may_comment == Err(Denied::Locked) {
                    p class="locked notice" {
                        "Comments on this article are closed."
                        @if let Some(reason) = &article.lock_reason { " " (reason) }
                    }
                } @else if may_comment == Err(Denied::NotSignedIn) {
                    p class="login-prompt" {
                        a href={ "/login?next=" (back) } { "Log in" } " or " a href={ "/signup?next=" (back) } { "sign up" } " to comment."
                    }
                } @else if let (Err(Denied::Banned), Some((until, reason))) = (may_comment, visitor.user.as_ref().and_then(|u| u.banned.as_ref())) {
                    p class="notice banned" { "Your account is banned " (crate::views::ban_end(*until)) ": " (reason) }
                } @else if thread.must_verify {
                    p class="notice" { "Confirm your email address to comment: " a href="/settings" { "send the link again" } "." }
                } @else {
                    (comments::compose_form(visitor, &format!("/articles/{}/comments", article.slug), None, None, "", "Post comment", Some(thread.view.sort), thread.quote.as_ref()))
                }
                @if thread.empty && thread.first && thread.filter.is_some() {
                    p class="empty" { "No comments on this takeaway yet." }
                } @else if thread.empty && thread.first {
                    p class="empty" { "Be the first to comment!" }
                }
                (thread.forest)
                @if let Some(next) = &thread.next {
                    p class="more" {
                        a rel="next" href={ (next) "#comments" } {
                            "More comments"
                        }
                    }
                }
            }
        },
    )
}

/// A key takeaway (numbered from 1) with its discussion: a link that opens the comment
/// form quoting it, how many comments quote it, a link to them alone, and the most
/// useful of them, folded.
fn takeaway_item(path: &str, number: usize, text: &str, count: i64, best: Option<&ThreadComment>) -> Markup {
    let text_id = format!("takeaway-{number}-text");
    html! {
        li class="takeaway-item" id={ "takeaway-" (number) } {
            span class="takeaway-text" id=(text_id) data-quotable="takeaway" data-takeaway=(number) { (text) }
            " "
            span class="takeaway-discussion" {
                a class="discuss" href={ (path) "?quote=takeaway-" (number) "#comment-form" } rel="nofollow"
                    aria-describedby=(text_id) {
                    span aria-hidden="true" { "Discuss · " (count) }
                    span class="visually-hidden" { "Discuss this takeaway, " (crate::text::plural(count, "comment", "comments")) }
                }
                @if count > 0 {
                    " "
                    a class="discuss-filter" href={ (path) "?takeaway=" (number) "#comments" } aria-describedby=(text_id) {
                        "Read " (if count == 1 { "it" } else { "them" })
                        span class="visually-hidden" { ": the " (crate::text::plural(count, "comment", "comments")) " on this takeaway" }
                    }
                }
            }
            @if let Some(best) = best {
                details class="most-useful" {
                    summary { "Most useful comment" span class="visually-hidden" { " on takeaway " (number) } }
                    div class="most-useful-comment" {
                        p class="comment-meta" {
                            @match &best.author {
                                Some(name) => a class="author" href={ "/users/" (name) } { (name) },
                                None => span class="author deleted" { "[deleted]" },
                            }
                            " · "
                            (crate::text::plural(best.comment.score(), "point", "points"))
                        }
                        div class="comment-body" { (maud::PreEscaped(&best.comment.body_html)) }
                        p { a href={ "/comments/" (best.comment.id) } { "Read it in its thread" } }
                    }
                }
            }
        }
    }
}
