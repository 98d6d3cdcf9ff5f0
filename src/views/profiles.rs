//! Profiles, saved articles, search results, and the Save button.

use maud::{html, Markup, PreEscaped};

use super::forms::csrf;
use super::layout::{self, Meta};
use super::{display_date, iso_time};
use crate::auth::Visitor;
use crate::db::comments::Comment;
use crate::db::saved::SavedItem;
use crate::db::search::{ArticleHit, CommentHit, MARK_END, MARK_START};
use crate::db::users::Profile;

/// Save or unsave an article; for anonymous readers a link that logs in and saves; a
/// marker when rendered for a stand-in (`views::template::Frame` fills it per reader).
pub fn save_button(visitor: &Visitor, slug: &str, saved: bool) -> Markup {
    if visitor.is_stand_in() {
        return maud::PreEscaped(super::template::SAVE_MARKER.to_owned());
    }
    let back = format!("/articles/{slug}");
    html! {
        @if visitor.user.is_some() {
            form method="post" action={ "/articles/" (slug) "/save" } class="inline-form save-form" {
                (csrf(visitor))
                input type="hidden" name="action" value=(if saved { "unsave" } else { "save" });
                input type="hidden" name="return_to" value=(visitor.path);
                button type="submit" class="save-button" aria-pressed=(saved.to_string()) {
                    @if saved { "★ Saved" } @else { "☆ Save" }
                }
            }
        } @else {
            a class="save-button" href={ "/login?next=" (encode(&back)) "&save=" (slug) } { "☆ Save" }
        }
    }
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn meta<'a>(title: &'a str, description: &'a str, feed: Option<(&'a str, String)>) -> Meta<'a> {
    Meta { title: Some(title), description, url: None, og_type: "profile", feed }
}

pub struct ProfilePage<'a> {
    pub profile: &'a Profile,
    pub karma: i64,
    pub comments: &'a [(Comment, String, String)],
    pub page: u32,
    pub has_more: bool,
    /// The reader's saved articles, when this visitor may see them: (slug, title,
    /// source name).
    pub saved: Option<&'a [(String, String, String)]>,
}

pub fn profile(v: &Visitor, p: &ProfilePage) -> Markup {
    let user = p.profile;
    let name = user.display_name.as_deref().unwrap_or(&user.username);
    let own = v.user.as_ref().is_some_and(|u| u.id == user.id);
    let feed = format!("/users/{}/comments.atom", user.username);
    layout::page(
        Some(v),
        &meta(name, "A reader's comments on Afterword", Some(("Comments by this reader", feed.clone()))),
        html! {
            section class="profile" {
                h1 { (name) }
                @if user.display_name.is_some() {
                    p class="username" { "@" (user.username) }
                }
                @if let Some(from) = &user.imported_from {
                    @let system = from.parse::<crate::comment_import::Format>().map_or(from.as_str(), |f| f.label());
                    p class="imported-note" {
                        span class="badge imported" { "imported" } " "
                        "Comments imported from " (system) ", where this name wrote them. "
                        "This is a placeholder, not an account anyone can log in to; "
                        "the author can claim these comments from their own account's settings."
                    }
                }
                p class="byline" {
                    "Joined " time datetime=(iso_time(user.created_at)) { (display_date(user.created_at.date())) }
                    " · " span class="karma" { (p.karma) " karma" }
                }
                @if let Some(bio) = &user.bio_html {
                    div class="bio comment-body" { (PreEscaped(bio)) }
                }
                @if own {
                    nav class="profile-links" aria-label="Your pages" {
                        a href="/saved" { "Saved" } " · " a href="/inbox" { "Inbox" } " · " a href="/settings" { "Settings" }
                    }
                }
                @if let Some(saved) = p.saved {
                    section class="profile-saved" aria-labelledby="saved-heading" {
                        h2 id="saved-heading" { "Saved articles" }
                        @if own && !user.show_saved {
                            p class="hint" {
                                "Only you see this list. To show it to everyone, tick “Show my saved articles on my profile” in "
                                a href="/settings" { "your settings" } "."
                            }
                        }
                        @if saved.is_empty() {
                            p class="empty" { "No saved articles." }
                        } @else {
                            ul class="saved-articles" {
                                @for (slug, title, source) in saved {
                                    li { a href={ "/articles/" (slug) } { (title) } " · " (source) }
                                }
                            }
                        }
                        @if own { p { a href="/saved" { "All your saved articles" } } }
                    }
                }
                h2 { "Comments" }
                @if p.comments.is_empty() {
                    p class="empty" { "No comments yet." }
                }
                ol class="profile-comments" {
                    @for (c, slug, title) in p.comments {
                        li {
                            p class="comment-meta" {
                                "On " a href={ "/articles/" (slug) } { (title) } " · "
                                a href={ "/comments/" (c.id) } { (super::timestamp(c.created_at)) }
                                " · " (crate::text::plural(c.upvotes - c.downvotes, "point", "points"))
                            }
                            div class="comment-body" { (PreEscaped(&c.body_html)) }
                        }
                    }
                }
                (pager(&format!("/users/{}", user.username), p.page, p.has_more))
                p { a href=(feed) { "Atom feed of these comments" } }
            }
        },
    )
}

fn pager(base: &str, page: u32, has_more: bool) -> Markup {
    let sep = if base.contains('?') { '&' } else { '?' };
    html! {
        @if page > 1 || has_more {
            nav class="pager" aria-label="Pages" {
                @if page > 1 { a rel="prev" href={ (base) (sep) "page=" (page - 1) } { "← Newer" } }
                span { "Page " (page) }
                @if has_more { a rel="next" href={ (base) (sep) "page=" (page + 1) } { "Older →" } }
            }
        }
    }
}

pub fn saved(v: &Visitor, items: &[SavedItem], page: u32, has_more: bool) -> Markup {
    layout::page(
        Some(v),
        &meta("Saved articles", "Articles you saved", None),
        html! {
            h1 { "Saved articles" }
            @if items.is_empty() && page == 1 {
                p class="empty" { "Nothing saved yet. Press ☆ Save on an article to keep it here." }
            }
            ol class="article-list" {
                @for item in items {
                    li class="article-card" {
                        h2 { a href={ "/articles/" (item.slug) } { (item.title) } }
                        p class="byline" { (item.source_name) " · saved " (display_date(item.saved_at.date())) }
                        div class="meta" {
                            a href={ "/articles/" (item.slug) "#comments" } { (super::articles::comment_count(item.comment_count)) }
                            @if item.new_comments > 0 {
                                strong class="new-comments" { (item.new_comments) " new" }
                            }
                            (save_button(v, &item.slug, true))
                        }
                    }
                }
            }
            (pager("/saved", page, has_more))
        },
    )
}

/// Escapes a snippet and marks the matched words.
pub(crate) fn highlighted(snippet: &str) -> Markup {
    let snippet = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
    html! {
        @for (i, part) in snippet.split(MARK_START).enumerate() {
            @if i == 0 {
                (part)
            } @else {
                @let (hit, rest) = part.split_once(MARK_END).unwrap_or((part, ""));
                mark { (hit) } (rest)
            }
        }
    }
}

pub struct SearchPage<'a> {
    pub query: &'a str,
    pub error: Option<&'a str>,
    pub articles: &'a [ArticleHit],
    pub comments: &'a [CommentHit],
    pub page: u32,
    pub has_more: bool,
}

pub fn search(v: &Visitor, s: &SearchPage) -> Markup {
    layout::page(
        Some(v),
        &meta("Search", "Search articles and comments", None),
        html! {
            h1 { "Search" }
            form method="get" action="/search" class="search-form" role="search" {
                label for="search-q" class="visually-hidden" { "Search articles and comments" }
                input id="search-q" type="search" name="q" value=(s.query) maxlength="200" placeholder="Search articles and comments";
                button type="submit" class="button" { "Search" }
            }
            @if let Some(error) = s.error {
                p class="flash error" role="alert" { (error) }
            } @else if !s.query.is_empty() {
                @if s.articles.is_empty() && s.comments.is_empty() {
                    p class="empty" { "Nothing matches “" (s.query) "”." }
                }
                @if !s.articles.is_empty() {
                    h2 { "Articles" }
                    ol class="search-results articles" {
                        @for hit in s.articles {
                            li {
                                h3 { a href={ "/articles/" (hit.slug) } { (hit.title) } }
                                p class="snippet" { (highlighted(&hit.snippet)) }
                            }
                        }
                    }
                }
                @if !s.comments.is_empty() {
                    h2 { "Comments" }
                    ol class="search-results comments" {
                        @for hit in s.comments {
                            li {
                                p class="comment-meta" {
                                    (hit.author.as_deref().unwrap_or("[deleted]")) " on "
                                    a href={ "/comments/" (hit.comment_id) } { (hit.title) }
                                }
                                p class="snippet" { (highlighted(&hit.snippet)) }
                            }
                        }
                    }
                }
                (super::pager(&format!("/search?q={}", encode(s.query)), s.page, s.has_more, ("← Previous", "Next →")))
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::highlighted;

    #[test]
    fn snippets_are_escaped_and_marked() {
        let html = highlighted("a <b>\u{E000}netflix\u{E001}</b> & \u{E000}api\u{E001}.").into_string();
        assert_eq!(html, "a &lt;b&gt;<mark>netflix</mark>&lt;/b&gt; &amp; <mark>api</mark>.");
    }
}
