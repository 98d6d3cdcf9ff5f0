//! Markdown to safe HTML: pulldown-cmark renders, ammonia cleans.
//!
//! Allowed: paragraphs, emphasis, links (http, https, mailto), inline code, code blocks,
//! block quotes and lists. Raw HTML is shown as text; images become their alt text.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(cleaner);

/// For HTML from elsewhere: the same, and the text of scripts and styles goes too.
static IMPORT_CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = cleaner();
    builder.clean_content_tags(HashSet::from(["script", "style", "template", "noscript", "iframe", "object"]));
    builder
});

fn cleaner() -> ammonia::Builder<'static> {
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
}

/// The deepest nesting of block quotes and lists (together) a rendering keeps: deeper
/// markers are flattened into the level above, so no input can make rendering or the
/// page cost more than a few such levels.
pub const MAX_NESTING: usize = 16;

/// Renders a comment's Markdown to HTML that is safe to put in a page as it is.
/// CPU-bound (a 10,000-character body costs up to a few milliseconds): callers on an
/// async worker run it through `web::block`.
pub fn render(source: &str) -> String {
    let source = flatten_deep_markers(source);
    let mut kept: Vec<bool> = Vec::new();
    let mut depth = 0;
    let events = Parser::new_ext(&source, Options::empty()).filter_map(|event| match event {
        // Containers beyond the cap are dropped (their content stays, one level up).
        Event::Start(tag @ (Tag::BlockQuote(_) | Tag::List(_))) => {
            let keep = depth < MAX_NESTING;
            kept.push(keep);
            depth += usize::from(keep);
            keep.then_some(Event::Start(tag))
        }
        Event::Start(Tag::Item) => {
            let keep = kept.last().copied().unwrap_or(true);
            kept.push(keep);
            keep.then_some(Event::Start(Tag::Item))
        }
        Event::End(end @ (TagEnd::BlockQuote(_) | TagEnd::List(_) | TagEnd::Item)) => {
            let keep = kept.pop().unwrap_or(true);
            if keep && !matches!(end, TagEnd::Item) {
                depth -= 1;
            }
            keep.then_some(Event::End(end))
        }
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

/// HTML from elsewhere (a restored export) cleaned as rendered comments are: what
/// [`render`] makes passes unchanged; anything else loses what a comment cannot hold.
pub fn clean(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

/// Cleans HTML written elsewhere (comments imported from another system) to what a
/// rendered comment may hold: the same tags, links and schemes; scripts, styles and
/// everything else go (the text of unknown tags stays). Text without paragraph tags
/// has its blank lines made paragraphs and its line breaks kept, as WordPress shows it.
pub fn clean_html(html: &str) -> String {
    let html = html.trim();
    let lower = html.to_ascii_lowercase();
    let has_blocks = ["<p", "<br", "<div", "<ul", "<ol", "<pre", "<blockquote"].iter().any(|t| lower.contains(t));
    if has_blocks || html.is_empty() {
        return IMPORT_CLEANER.clean(html).to_string().trim().to_owned();
    }
    let mut wrapped = String::with_capacity(html.len() + 16);
    for para in html.replace("\r\n", "\n").split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        wrapped.push_str("<p>");
        wrapped.push_str(&para.replace('\n', "<br>\n"));
        wrapped.push_str("</p>\n");
    }
    IMPORT_CLEANER.clean(wrapped.trim_end()).to_string()
}

/// The text of clean HTML (from [`clean_html`]), for a comment's source and the
/// search index: tags dropped, paragraphs and breaks as line breaks, entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..open]));
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].trim_start_matches('/').to_ascii_lowercase();
        let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("");
        match name {
            "p" | "blockquote" | "pre" | "ul" | "ol" if rest[open + 1..].starts_with('/') => out.push_str("\n\n"),
            "br" | "li" if !rest[open + 1..].starts_with('/') => out.push('\n'),
            _ => {}
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(&decode_entities(rest));
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut text = lines.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text.trim().to_owned()
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Removes the block-quote and list markers at the start of a line beyond
/// `MAX_NESTING`, before parsing: a line of thousands of `>` or `- ` would otherwise
/// make the parser build thousands of nested blocks.
fn flatten_deep_markers(source: &str) -> std::borrow::Cow<'_, str> {
    /// The length of one container marker (with the spaces before and one after) at
    /// the start of `line`, if it starts with one.
    fn marker(line: &[u8]) -> Option<usize> {
        let indent = line.iter().take(3).take_while(|b| **b == b' ').count();
        let rest = &line[indent..];
        let spaced = |at: usize| rest.get(at).is_none_or(|b| *b == b' ' || *b == b'\t');
        let len = match rest.first()? {
            b'>' => 1,
            b'-' | b'*' | b'+' if spaced(1) => 1,
            b'0'..=b'9' => {
                let digits = rest.iter().take(9).take_while(|b| b.is_ascii_digit()).count();
                if matches!(rest.get(digits), Some(b'.' | b')')) && spaced(digits + 1) {
                    digits + 1
                } else {
                    return None;
                }
            }
            _ => return None,
        };
        let space = usize::from(matches!(rest.get(len), Some(b' ' | b'\t')));
        Some(indent + len + space)
    }
    let deep = |line: &str| {
        let mut at = 0;
        let mut count = 0;
        while let Some(len) = marker(&line.as_bytes()[at..]) {
            count += 1;
            at += len;
            if count > MAX_NESTING {
                return Some(at - len);
            }
        }
        None
    };
    if !source.split('\n').any(|line| deep(line).is_some()) {
        return std::borrow::Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len());
    for (i, line) in source.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match deep(line) {
            Some(keep) => {
                // Keep the first markers; drop every further one.
                out.push_str(&line[..keep]);
                let mut at = keep;
                while let Some(len) = marker(&line.as_bytes()[at..]) {
                    at += len;
                }
                out.push_str(&line[at..]);
            }
            None => out.push_str(line),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cleaning_keeps_rendered_html_and_drops_the_rest() {
        for source in [
            "Plain *and* **strong**, `code`, [a link](https://example.com/a?b=1&c=2) and <b>raw</b>.",
            "> quoted\n\n1. one\n2. two\n\n```\nfn main() {}\n```\n\nmail <me@example.com> & more",
        ] {
            let html = super::render(source);
            assert_eq!(super::clean(&html), html, "{source}");
        }
        let cleaned = super::clean("<p onclick=\"x()\">hi<script>alert(1)</script><img src=x></p>");
        assert_eq!(cleaned, "<p>hi</p>");
    }

    use super::{render, MAX_NESTING};

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

    /// The deepest nesting of block quotes and lists in `html`.
    fn nesting(html: &str) -> usize {
        let (mut depth, mut max) = (0usize, 0usize);
        for (start, _) in html.match_indices('<') {
            let rest = &html[start + 1..];
            if ["blockquote", "ul", "ol"].iter().any(|t| rest.starts_with(t)) {
                depth += 1;
                max = max.max(depth);
            } else if ["/blockquote", "/ul", "/ol"].iter().any(|t| rest.starts_with(t)) {
                depth -= 1;
            }
        }
        max
    }

    /// Bodies of about 10,000 characters made to nest as deep as possible.
    pub(crate) fn adversarial() -> Vec<(&'static str, String)> {
        let n = 10_000;
        vec![
            ("quotes", ">".repeat(n)),
            ("spaced quotes", "> ".repeat(n / 2)),
            ("quote lines", (1..=100).map(|i| format!("{} x\n", ">".repeat(i))).collect::<String>()),
            ("dashes", "- ".repeat(n / 2)),
            ("stars", "* ".repeat(n / 2)),
            ("pluses", "+ ".repeat(n / 2)),
            ("numbers", "1. ".repeat(n / 3)),
            ("parens", "1) ".repeat(n / 3)),
            ("mixed", "> - 1. * ".repeat(n / 9)),
            ("indented lists", (0..98).map(|i| format!("{}- x\n", "  ".repeat(i))).collect::<String>()),
            ("indented quotes", (0..150).map(|i| format!("{}> x\n", "> ".repeat(i % 40))).collect::<String>()),
            ("emphasis", "*".repeat(n)),
            ("emphasis words", "*a ".repeat(n / 3)),
            ("brackets", "[".repeat(n)),
            ("links", "[a](".repeat(n / 4)),
            ("backticks", "`".repeat(n)),
            ("backtick runs", (1..140).map(|i| "`".repeat(i) + " ").collect::<String>()),
            ("underscores", "_a".repeat(n / 2)),
            ("html", "<a>".repeat(n / 3)),
            ("escapes", "\\*".repeat(n / 2)),
        ]
    }

    #[test]
    fn nesting_is_capped_for_adversarial_input() {
        for (name, body) in adversarial() {
            let html = render(&body);
            assert!(nesting(&html) <= MAX_NESTING, "{name}: {} levels", nesting(&html));
            assert_only_allowed_markup(name, &html);
        }
        let deep = render(&">".repeat(9999));
        assert_eq!(deep.matches("<blockquote>").count(), MAX_NESTING);
        assert!(deep.len() < 1_000, "{} bytes", deep.len());
        // Shallow nesting is untouched, and text past the cap stays.
        assert_eq!(nesting(&render("> > > three")), 3);
        assert!(render(&format!("{} deep words", "> ".repeat(40))).contains("deep words"));
        assert!(render(&format!("{} item text", "- ".repeat(40))).contains("item text"));
    }
}
