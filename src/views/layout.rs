//! The page frame: head, site header, footer.

use maud::{html, Markup, DOCTYPE};

use crate::assets;

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
}

pub fn page(meta: &Meta, body: Markup) -> Markup {
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
                link rel="icon" href=(assets::url("icon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(assets::url("style.css"));
            }
            body {
                a class="skip-link" href="#main" { "Skip to content" }
                header class="site-header" {
                    div class="wrap" {
                        a class="brand" href="/" {
                            img src=(assets::url("icon.svg")) alt="" width="28" height="28";
                            span { (SITE_NAME) }
                        }
                        p class="tagline" { (TAGLINE) }
                    }
                }
                main id="main" class="wrap" { (body) }
                footer class="site-footer" {
                    div class="wrap" {
                        p { (SITE_NAME) " — a place to talk about what you read." }
                        nav aria-label="Footer" { a href="/" { "Articles" } }
                    }
                }
            }
        }
    }
}
