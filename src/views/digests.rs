//! Email digests: the message (plain text and HTML) and the unsubscribe page.

use maud::{html, Markup, DOCTYPE};

use super::layout::{self, Meta};
use crate::auth::Visitor;
use crate::service::digests::{Digest, Item};

fn item_label(item: &Item) -> &'static str {
    if item.reply {
        "replied to you"
    } else {
        "commented"
    }
}

/// The plain-text part.
pub fn text(digest: &Digest) -> String {
    let mut out = format!(
        "Hello {},\n\nWhat is new since your last {} digest: {}.\n",
        digest.username,
        digest.frequency.as_str(),
        crate::text::plural(digest.total, "new comment", "new comments")
    );
    for article in &digest.articles {
        out.push_str(&format!("\n== {} ==\n{}\n", article.title, article.url));
        for item in &article.items {
            out.push_str(&format!("\n* {} {}:\n  {}\n  {}\n", item.author, item_label(item), item.excerpt, item.url));
        }
        if article.more > 0 {
            out.push_str(&format!(
                "\n  … and {}: {}\n",
                crate::text::plural(article.more, "more comment", "more comments"),
                article.url
            ));
        }
    }
    if digest.more_articles > 0 {
        out.push_str(&format!(
            "\n… and {} more with news: {}\n",
            crate::text::plural(digest.more_articles as i64, "article", "articles"),
            digest.more_url
        ));
    }
    out.push_str(&format!(
        "\n--\nYou get this because you asked for a {} digest.\nUnsubscribe with one click: {}\nChange how often: {}\n",
        digest.frequency.as_str(),
        digest.unsubscribe_url,
        digest.settings_url
    ));
    out
}

/// The HTML alternative (escaped by maud; plain markup with inline-free styling).
pub fn html(digest: &Digest) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Your " (digest.frequency.as_str()) " Afterword digest" }
            }
            body {
                p { "Hello " (digest.username) "," }
                p {
                    "What is new since your last " (digest.frequency.as_str()) " digest: "
                    (crate::text::plural(digest.total, "new comment", "new comments")) "."
                }
                @for article in &digest.articles {
                    h2 { a href=(article.url) { (article.title) } }
                    ul {
                        @for item in &article.items {
                            li {
                                strong { (item.author) } " " (item_label(item)) ": "
                                (item.excerpt) " "
                                a href=(item.url) { "Read it" }
                            }
                        }
                    }
                    @if article.more > 0 {
                        p {
                            a href=(article.url) {
                                "… and " (crate::text::plural(article.more, "more comment", "more comments"))
                            }
                        }
                    }
                }
                @if digest.more_articles > 0 {
                    p {
                        a href=(digest.more_url) {
                            "… and " (crate::text::plural(digest.more_articles as i64, "more article", "more articles"))
                            " with news"
                        }
                    }
                }
                hr;
                p {
                    "You get this because you asked for a " (digest.frequency.as_str()) " digest. "
                    a href=(digest.unsubscribe_url) { "Unsubscribe" } " · "
                    a href=(digest.settings_url) { "Change how often" }
                }
            }
        }
    }
}

fn meta(title: &str) -> Meta<'_> {
    Meta { title: Some(title), description: "Afterword email digest", url: None, og_type: "website", feed: None }
}

/// The page an unsubscribe link opens: a question and a button (opening the link
/// changes nothing: mail scanners open links), or word that no digest is sent.
pub fn unsubscribe_page(v: &Visitor, token: &str, username: &str, frequency: &str) -> Markup {
    layout::page(
        Some(v),
        &meta("Unsubscribe from the digest"),
        html! {
            section class="auth-card" {
                h1 { "Unsubscribe from the digest" }
                @if frequency == "off" {
                    p role="status" { "No digest is sent to " strong { (username) } "." }
                    p { "To get one again, choose it in " a href="/settings#digest-heading" { "your settings" } "." }
                } @else {
                    p { "Stop the " (frequency) " email digest for " strong { (username) } "?" }
                    form method="post" action={ "/digest/unsubscribe/" (token) } {
                        input type="hidden" name="List-Unsubscribe" value="One-Click";
                        button type="submit" class="button" { "Unsubscribe" }
                    }
                }
            }
        },
    )
}
