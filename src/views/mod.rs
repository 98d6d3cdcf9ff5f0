//! HTML, written with maud (which escapes every interpolated value).

pub mod accounts;
pub mod admin;
pub mod api_docs;
pub mod articles;
pub mod comments;
pub mod digests;
pub mod embed;
pub mod error;
pub mod feeds;
pub mod forms;
pub mod layout;
pub mod moderation;
pub mod profiles;
pub mod template;

use time::macros::format_description;
use time::Date;

/// "Apr 02, 2024", as on the page Afterword was modelled on.
pub fn display_date(date: Date) -> String {
    date.format(format_description!("[month repr:short] [day], [year]")).unwrap_or_else(|_| date.to_string())
}

/// "Apr 02, 2024 14:05 UTC".
pub fn display_time(t: time::PrimitiveDateTime) -> String {
    t.format(format_description!("[month repr:short] [day], [year] [hour]:[minute] UTC"))
        .unwrap_or_else(|_| t.to_string())
}

/// The end of a ban: "until Apr 02, 2024 14:05 UTC", or "permanently".
pub fn ban_end(until: time::PrimitiveDateTime) -> String {
    if until == crate::db::moderation::forever() {
        "permanently".to_owned()
    } else {
        format!("until {}", display_time(until))
    }
}

/// When something happened: the absolute time, which the page's script shows as "3
/// hours ago". Pages are cached, so the server never writes a relative time.
pub fn timestamp(t: time::PrimitiveDateTime) -> maud::Markup {
    let shown = display_time(t);
    maud::html! { time class="ago" datetime=(iso_time(t)) title=(shown) { (shown) } }
}

/// "2024-04-02T14:05:09Z", for `<time datetime>`.
pub fn iso_time(t: time::PrimitiveDateTime) -> String {
    t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).unwrap_or_else(|_| t.to_string())
}

/// "2024-04-02", for `<time datetime>`.
pub fn iso_date(date: Date) -> String {
    date.format(format_description!("[year]-[month]-[day]")).unwrap_or_else(|_| date.to_string())
}

/// Links to the pages before and after `page` of a list at `base` (which may carry a
/// query already: the page number is added to it, so a search keeps its words). The
/// first page's link is `base` itself.
pub fn pager(base: &str, page: u32, has_more: bool, (previous, next): (&str, &str)) -> maud::Markup {
    let sep = if base.contains('?') { '&' } else { '?' };
    let at = |n: u32| if n <= 1 { base.to_owned() } else { format!("{base}{sep}page={n}") };
    maud::html! {
        @if page > 1 || has_more {
            nav class="pager" aria-label="Pages" {
                @if page > 1 { a rel="prev" href=(at(page - 1)) { (previous) } }
                span { "Page " (page) }
                @if has_more { a rel="next" href=(at(page + 1)) { (next) } }
            }
        }
    }
}

/// Cuts text to at most `max` characters at a word boundary, adding "…" when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.chars().count() + word.chars().count() + 1 > max.saturating_sub(1) {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        out = text.chars().take(max.saturating_sub(1)).collect();
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let d = time::macros::date!(2024 - 04 - 02);
        assert_eq!(display_date(d), "Apr 02, 2024");
        assert_eq!(iso_date(d), "2024-04-02");
    }

    #[test]
    fn excerpts() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("one two three four", 10), "one two…");
        assert!(excerpt(&"x".repeat(50), 10).chars().count() <= 10);
    }
}
