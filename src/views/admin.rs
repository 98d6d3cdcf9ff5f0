//! Administration pages.

use maud::{html, Markup};

use super::display_time;
use super::layout::{self, Meta};
use crate::auth::Visitor;
use crate::db::outbox::Message;

pub fn outbox(v: &Visitor, messages: &[Message]) -> Markup {
    let meta = Meta {
        title: Some("Outbox"),
        description: "Email kept by the site",
        url: None,
        og_type: "website",
        feed: None,
    };
    layout::page(
        Some(v),
        &meta,
        html! {
            h1 { "Outbox" }
            p { "Email the site would have sent. No SMTP server is configured (set SMTP_URL to send it)." }
            @if messages.is_empty() {
                p class="empty" { "No messages." }
            }
            @for m in messages {
                article class="outbox-message" {
                    h2 { (m.subject) }
                    p class="byline" { "To " (m.recipient) " — " (display_time(m.created_at)) }
                    pre { (m.body) }
                }
            }
        },
    )
}

/// The question asked before an article is deleted.
pub fn delete_article_question(title: &str, comments: i32) -> String {
    let comments = if comments == 1 { "1 comment".to_owned() } else { format!("{comments} comments") };
    format!("Delete “{title}” and its {comments}?")
}

/// Asks before an administrator deletes an article: `published` comments are shown
/// under it, `total` rows would go (held, removed and deleted ones as well).
pub fn confirm_delete_article(v: &Visitor, slug: &str, title: &str, published: i32, total: i64) -> Markup {
    let question = delete_article_question(title, published);
    let action = format!("/admin/articles/{slug}/delete");
    let hidden = total - i64::from(published);
    super::moderation::confirm_page(
        v,
        &super::moderation::Confirm {
            question: &question,
            consequences: html! {
                p { "The article goes for good, and with it:" }
                ul class="confirm-losses" {
                    li { "its " (published) " published comment" @if published != 1 { "s" } " and their votes" }
                    @if hidden > 0 {
                        li { (hidden) " held, removed or deleted comment" @if hidden != 1 { "s" } }
                    }
                    li { "the reports about them, and the readers’ saves of the article" }
                }
                p { "This cannot be undone. Its moderation log entries stay." }
            },
            action: &action,
            fields: &[],
            button: "Delete the article",
            cancel: "/admin/articles",
        },
    )
}
