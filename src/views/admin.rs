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
