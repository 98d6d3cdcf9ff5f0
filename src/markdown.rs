//! Markdown to safe HTML: pulldown-cmark renders, ammonia cleans.
//!
//! Allowed: paragraphs, emphasis, links (http, https, mailto), inline code, code blocks,
//! block quotes and lists. Raw HTML is shown as text; images become their alt text.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(HashSet::from(["p", "em", "strong", "a", "code", "pre", "blockquote", "ul", "ol", "li", "br"]))
        .tag_attributes(std::collections::HashMap::from([
            ("a", HashSet::from(["href"])),
            ("ol", HashSet::from(["start"])),
        ]))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("nofollow ugc noopener noreferrer"));
    builder
});

/// Renders a comment's Markdown to HTML that is safe to put in a page as it is.
pub fn render(source: &str) -> String {
    let events = Parser::new_ext(source, Options::empty()).filter_map(|event| match event {
        // Raw HTML is shown, not interpreted.
        Event::Html(html) | Event::InlineHtml(html) => Some(Event::Text(html)),
        // Images: only their description (the events between) remains.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        other => Some(other),
    });
    let mut html = String::with_capacity(source.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    CLEANER.clean(&html).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    /// Every tag in `html` is an allowed one, with allowed attributes only.
    fn assert_only_allowed_markup(input: &str, html: &str) {
        const TAGS: [&str; 11] = ["p", "em", "strong", "a", "code", "pre", "blockquote", "ul", "ol", "li", "br"];
        for (start, _) in html.match_indices('<') {
            let tag = &html[start + 1..start + html[start..].find('>').expect("closed tag")];
            let tag = tag.trim_start_matches('/');
            let mut parts = tag.split_whitespace();
            let name = parts.next().unwrap_or("");
            assert!(TAGS.contains(&name), "{input:?} gave the tag <{tag}> in {html:?}");
            for attribute in parts {
                let key = attribute.split('=').next().unwrap();
                assert!(
                    ["href", "rel", "start", "ugc", "noopener", "noreferrer\""].contains(&key),
                    "{input:?}: {attribute}"
                );
            }
        }
    }

    #[test]
    fn the_allowed_subset_renders() {
        assert_eq!(render("Hello *there* **you**"), "<p>Hello <em>there</em> <strong>you</strong></p>\n");
        assert_eq!(render("`x < y`"), "<p><code>x &lt; y</code></p>\n");
        assert_eq!(render("```\nfn main() {}\n```"), "<pre><code>fn main() {}\n</code></pre>\n");
        assert_eq!(render("> quoted"), "<blockquote>\n<p>quoted</p>\n</blockquote>\n");
        assert_eq!(render("- a\n- b"), "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n");
        assert_eq!(render("3. c\n4. d"), "<ol start=\"3\">\n<li>c</li>\n<li>d</li>\n</ol>\n");
        assert_eq!(
            render("[site](https://example.com/a?b=1&c=2)"),
            "<p><a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"nofollow ugc noopener noreferrer\">site</a></p>\n"
        );
        assert!(render("<mailto:ann@example.com>").contains("href=\"mailto:ann@example.com\""));
    }

    #[test]
    fn hostile_input_does_not_survive() {
        let hostile = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[click](vbscript:msgbox(1))",
            "![alt text](https://evil.example/pixel.png)",
            "<a href=\"https://evil.example\" onclick=\"x()\">raw link</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<svg><script>alert(1)</script></svg>",
            "<div style=\"position:fixed\">overlay</div>",
            "[x](//evil.example/path)",
            "[x](/relative/path)",
            "<style>body{display:none}</style>",
            "<<script>script>alert(1)<</script>/script>",
        ];
        for input in hostile {
            let html = render(input);
            assert_only_allowed_markup(input, &html);
            let lower = html.to_lowercase();
            for banned in ["javascript:", "vbscript:", "data:text", "href=\"//", "href=\"/r"] {
                assert!(!lower.contains(banned), "{input:?} gave {html:?}");
            }
        }
        assert!(render("![alt text](https://evil.example/pixel.png)").contains("alt text"));
        assert!(render("<b>bold?</b>").contains("&lt;b&gt;bold?&lt;/b&gt;"), "raw HTML is shown as text");
    }
}
