//! The page frame: head, site header, footer.

use crate::domain::permissions;
use maud::{html, Markup, DOCTYPE};

use super::forms;
use crate::assets;
use crate::auth::Visitor;

pub const SITE_NAME: &str = "Afterword";
pub const TAGLINE: &str = "Sign up to save articles and join the discussion under every story.";

/// What the `<head>` says about a page.
pub struct Meta<'a> {
    /// The page's own title; the site name is added.
    pub title: Option<&'a str>,
    pub description: &'a str,
    /// Absolute URL of the page, for Open Graph and the canonical link.
    pub url: Option<String>,
    /// Open Graph type: "website" or "article".
    pub og_type: &'a str,
    /// An Atom feed of the page: (title, path).
    pub feed: Option<(&'a str, String)>,
}

/// A whole page. `visitor` is `None` on error pages rendered without a request.
pub fn page(visitor: Option<&Visitor>, meta: &Meta, body: Markup) -> Markup {
    let full_title = match meta.title {
        Some(title) => format!("{title} · {SITE_NAME}"),
        None => format!("{SITE_NAME} · Discuss the articles worth reading"),
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (full_title) }
                meta name="description" content=(meta.description);
                meta name="color-scheme" content="light dark";
                meta property="og:site_name" content=(SITE_NAME);
                meta property="og:title" content=(meta.title.unwrap_or(SITE_NAME));
                meta property="og:description" content=(meta.description);
                meta property="og:type" content=(meta.og_type);
                @if let Some(url) = &meta.url {
                    meta property="og:url" content=(url);
                    link rel="canonical" href=(url);
                }
                @if let Some((title, href)) = &meta.feed {
                    link rel="alternate" type="application/atom+xml" title=(title) href=(href);
                }
                link rel="icon" href=(assets::url("icon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(assets::url("style.css"));
                script src=(assets::url("app.js")) defer {}
            }
            body {
                a class="skip-link" href="#main" { "Skip to content" }
                header class="site-header" {
                    div class="wrap" {
                        a class="brand" href="/" {
                            img src=(assets::url("icon.svg")) alt="" width="28" height="28";
                            span { (SITE_NAME) }
                        }
                        @if let Some(visitor) = visitor {
                            (site_nav(visitor))
                        }
                        @if visitor.is_none_or(|v| v.user.is_none()) {
                            p class="tagline" { (TAGLINE) }
                        }
                    }
                }
                @if let Some((until, reason)) = visitor.and_then(|v| v.user.as_ref()).and_then(|u| u.banned.as_ref()) {
                    div class="wrap" {
                        p class="flash error ban-notice" role="alert" {
                            "Your account is banned " (super::ban_end(*until)) ": " (crate::text::sentence(reason))
                            " You can read, but not comment, reply, vote, report or save."
                        }
                    }
                }
                main id="main" class="wrap" { (body) }
                footer class="site-footer" {
                    div class="wrap" {
                        p { (SITE_NAME) " — a place to talk about what you read." }
                        nav aria-label="Footer" {
                            a href="/" { "Articles" } " · " a href="/search" { "Search" } " · " a href="/feed.atom" { "Atom feed" }
                            " · " a href="/modlog" { "Moderation log" } " · " a href="/api/docs" { "API" }
                        }
                    }
                }
            }
        }
    }
}

/// The account links of the header: a marker when rendered for a stand-in
/// (`views::template::Frame` fills it per reader).
pub fn site_nav(visitor: &Visitor) -> Markup {
    if visitor.is_stand_in() {
        return maud::PreEscaped(super::template::NAV_MARKER.to_owned());
    }
    html! {
        nav class="site-nav" aria-label="Account" {
            @if let Some(user) = &visitor.user {
                a class="whoami" href={ "/users/" (user.username) } { (user.username) }
                a href="/saved" { "Saved" }
                a href="/inbox" class="inbox-link" {
                    "Inbox"
                    @if user.unread > 0 {
                        " " span class="badge" { (user.unread) span class="visually-hidden" { " unread" } }
                    }
                }
                a href="/settings" { "Settings" }
                @if permissions::may_administer(Some(&user.actor())).is_ok() {
                    a href="/admin" { "Admin" }
                } @else if permissions::may_moderate(Some(&user.actor())).is_ok() {
                    a href="/mod/reports" { "Moderation" }
                }
                (forms::button_form(visitor, "/logout", "Log out", "link-button"))
            } @else {
                @let back = url::form_urlencoded::byte_serialize(visitor.path.as_bytes()).collect::<String>();
                @let on_auth_page = visitor.path.starts_with("/login") || visitor.path.starts_with("/signup");
                a href=(if on_auth_page { "/login".to_owned() } else { format!("/login?next={back}") }) { "Log in" }
                a class="button small" href=(if on_auth_page { "/signup".to_owned() } else { format!("/signup?next={back}") }) { "Sign up" }
            }
        }
    }
}
