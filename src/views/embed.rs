//! The embedded comments: the frame a host page shows, the popup that lets it post as
//! a reader, and the administrators' list of the sites allowed to embed them.

use maud::{html, Markup, DOCTYPE};

use super::forms::csrf;
use super::layout::{self, Meta};
use crate::assets;
use crate::auth::Visitor;

/// What the frame shows: the thread of the page at `url`.
pub struct Frame<'a> {
    /// The host page's address (normalised).
    pub url: &'a str,
    /// Its title and summary, for the article a first comment makes.
    pub title: &'a str,
    pub summary: &'a str,
    /// The article, when the page has one: slug, published comments, closed.
    pub article: Option<(&'a str, i32, bool)>,
    /// "dark" or "light": the host's preference.
    pub theme: &'a str,
}

/// The frame's page. Its script (`embed-frame.js`) renders the thread from the API.
pub fn frame(f: &Frame) -> Markup {
    let count = f.article.map_or(0, |a| a.1);
    html! {
        (DOCTYPE)
        html lang="en" data-theme=(f.theme) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="strict-origin-when-cross-origin";
                title { "Comments · " (layout::SITE_NAME) }
                link rel="stylesheet" href=(assets::url("embed.css"));
                script src=(assets::url("embed-frame.js")) defer {}
            }
            body {
                main id="afterword-thread" data-url=(f.url) data-title=(f.title) data-summary=(f.summary)
                    data-slug=[f.article.map(|a| a.0)] data-count=(count) data-locked=[f.article.filter(|a| a.2).map(|_| "true")] {
                    h2 class="aw-heading" { "Comments (" (count) ")" }
                    @if count == 0 { p class="aw-empty" { "Be the first to comment!" } }
                    noscript { p { "The comments need JavaScript." } }
                }
            }
        }
    }
}

/// Why the frame is not shown (403 and the like), in a page of its own.
pub fn refused(message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Comments unavailable · " (layout::SITE_NAME) }
                link rel="stylesheet" href=(assets::url("embed.css"));
            }
            body { main { h2 class="aw-heading" { "Comments unavailable" } p class="aw-refused" { (message) } } }
        }
    }
}

fn meta(title: &str) -> Meta<'_> {
    Meta { title: Some(title), description: "Comments on another site", url: None, og_type: "website", feed: None }
}

/// The popup's question: may the comments on `host` post as this reader?
pub fn consent(v: &Visitor, origin: &str, host: &str) -> Markup {
    let username = v.user.as_ref().map_or("", |u| u.username.as_str());
    layout::page(
        Some(v),
        &meta("Comment on another site"),
        html! {
            section class="embed-consent" {
                h1 { "Let the comments on " (host) " post as " (username) "?" }
                p { "The comments shown on " strong { (origin) } " will be able to read, post, edit, delete, vote and report as "
                    strong { (username) } " for the next few hours. They never see your password or your email address." }
                p { "You can revoke this at any time in " a href="/settings" { "Settings" } "." }
                form method="post" action="/embed/login" {
                    (csrf(v))
                    input type="hidden" name="origin" value=(origin);
                    button type="submit" class="button" name="decision" value="allow" { "Allow" }
                    " "
                    button type="submit" class="button secondary" name="decision" value="deny" { "Cancel" }
                }
            }
        },
    )
}

/// The popup's answer: its script hands `token` (or, without one, the refusal) to the
/// frame that opened it, on this site's own origin only, and closes.
pub fn handoff(token: Option<(&str, &str, &str)>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Signed in · " (layout::SITE_NAME) }
                link rel="stylesheet" href=(assets::url("style.css"));
                script src=(assets::url("embed-login.js")) defer {}
            }
            body {
                main class="wrap" {
                    @match token {
                        Some((token, username, expires_at)) => {
                            div id="afterword-handoff" data-token=(token) data-username=(username) data-expires-at=(expires_at) {
                                p role="status" { "Signed in as " (username) ". You can close this window and go back to the comments." }
                            }
                        }
                        None => {
                            div id="afterword-handoff" data-denied="true" {
                                p role="status" { "Nothing was shared. You can close this window." }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The administrators' list of origins, on the site settings page.
pub fn origins_section(v: &Visitor, text: &str, error: Option<&str>) -> Markup {
    html! {
        section class="settings-section" id="embed" {
            h2 { "Embedding" }
            p { "Sites allowed to embed the comments (with " code { "<script src=\"/embed.js\">" } ") and to call the API from their pages. "
                "One origin a line: scheme, host and optional port, like " code { "https://blog.example" } "." }
            @if let Some(e) = error { p class="flash error" role="alert" id="origins-error" { (e) } }
            form method="post" action="/admin/settings/embed" {
                (csrf(v))
                textarea name="origins" rows="5" aria-label="Allowed origins" aria-invalid=[error.map(|_| "true")]
                    aria-describedby=[error.map(|_| "origins-error")] { (text) }
                button type="submit" class="button" { "Save" }
            }
        }
    }
}
