//! Reading pages in tests.

use scraper::{Html, Selector};

pub struct Page(pub Html);

impl Page {
    pub fn parse(body: &str) -> Page {
        Page(Html::parse_document(body))
    }

    fn select(&self, css: &str) -> Vec<scraper::ElementRef<'_>> {
        let selector = Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e}"));
        self.0.select(&selector).collect()
    }

    /// Text of every element matching `css`, whitespace collapsed.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.select(css).iter().map(|e| collapse(&e.text().collect::<String>())).collect()
    }

    /// Text of the one element matching `css`.
    pub fn text(&self, css: &str) -> String {
        let all = self.texts(css);
        assert_eq!(all.len(), 1, "expected one {css}, found {}", all.len());
        all.into_iter().next().unwrap()
    }

    pub fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        self.select(css).iter().filter_map(|e| e.value().attr(attr).map(str::to_owned)).collect()
    }

    pub fn attr(&self, css: &str, attr: &str) -> String {
        let all = self.attrs(css, attr);
        assert_eq!(all.len(), 1, "expected one {css}[{attr}], found {}", all.len());
        all.into_iter().next().unwrap()
    }

    pub fn count(&self, css: &str) -> usize {
        self.select(css).len()
    }
}

pub fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asserts that `needles` occur in `haystack` in this order.
pub fn assert_in_order(haystack: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        match haystack[from..].find(needle) {
            Some(at) => from += at + needle.len(),
            None => panic!("{needle:?} not found after position {from} in:\n{haystack}"),
        }
    }
}
