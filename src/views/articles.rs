//! The front page and the article page.

use crate::domain::Denied;
use maud::{html, Markup};

use super::comments;
use super::layout::{self, Meta};
use super::profiles::save_button;
use super::{display_date, excerpt, iso_date};
use crate::auth::Visitor;
use crate::db::articles::{ArticleListItem, ArticlePage};

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
    let back: String =
        url::form_urlencoded::byte_serialize(format!("/articles/{}#comments", article.slug).as_bytes()).collect();
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
                div class="summary" {
                    @for paragraph in article.paragraphs() {
                        p { (paragraph) }
                    }
                }
                @if !page.takeaways.is_empty() {
                    section class="takeaways" aria-labelledby="takeaways-heading" {
                        h2 id="takeaways-heading" { "Key takeaways" }
                        ul {
                            @for takeaway in &page.takeaways {
                                li { (takeaway) }
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
            section id="comments" class="comments" aria-labelledby="comments-heading" data-article=(article.slug) data-live-after=(thread.live_after) {
                h2 id="comments-heading" { "Comments (" span class="comment-count" { (article.comment_count) } ")" }
                (comments::actions_form(&thread.view))
                @if crate::domain::permissions::may_moderate(actor.as_ref()).is_ok() {
                    p class="mod-actions" { a href={ "/mod/articles/" (article.slug) } { "Moderate this article" } }
                }
                @if article.comment_count > 0 {
                    (comments::sort_nav(&format!("/articles/{}", article.slug), thread.view.sort))
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
                    (comments::compose_form(visitor, &format!("/articles/{}/comments", article.slug), None, None, "", "Post comment", Some(thread.view.sort)))
                }
                @if thread.empty && thread.first {
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
