//! Atom feeds (atom_syndication builds and escapes the XML).

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use time::PrimitiveDateTime;

use crate::db::articles::Article;
use crate::db::comments::Comment;

fn datetime(t: PrimitiveDateTime) -> FixedDateTime {
    let utc = chrono::DateTime::from_timestamp(t.assume_utc().unix_timestamp(), t.nanosecond()).unwrap_or_default();
    utc.fixed_offset()
}

fn link(href: String, rel: &str) -> Link {
    Link { href, rel: rel.to_owned(), mime_type: Some("text/html".to_owned()), ..Default::default() }
}

fn self_link(href: String) -> Link {
    Link { href, rel: "self".to_owned(), mime_type: Some("application/atom+xml".to_owned()), ..Default::default() }
}

fn feed(id: String, title: String, page: String, updated: FixedDateTime, entries: Vec<Entry>) -> String {
    let feed = Feed {
        title: Text::plain(title),
        id: id.clone(),
        updated,
        links: vec![self_link(id), link(page, "alternate")],
        entries,
        ..Default::default()
    };
    feed.to_string()
}

/// `/feed.atom`: the newest articles.
pub fn articles(base: &url::Url, items: &[Article]) -> String {
    let abs = |path: &str| base.join(path.trim_start_matches('/')).map(String::from).unwrap_or_default();
    let entries: Vec<Entry> = items
        .iter()
        .map(|a| Entry {
            id: abs(&format!("/articles/{}", a.slug)),
            title: Text::plain(a.title.clone()),
            updated: datetime(a.updated_at),
            published: Some(datetime(PrimitiveDateTime::new(a.published_at, time::Time::MIDNIGHT))),
            links: vec![
                link(abs(&format!("/articles/{}", a.slug)), "alternate"),
                link(a.source_url.clone(), "related"),
            ],
            summary: a.paragraphs().next().map(|p| Text::plain(p.to_owned())),
            authors: vec![Person { name: a.source_name.clone(), ..Default::default() }],
            ..Default::default()
        })
        .collect();
    let updated = items.iter().map(|a| datetime(a.updated_at)).max().unwrap_or_else(|| datetime(crate::db::now()));
    feed(abs("/feed.atom"), "Afterword: newest articles".into(), abs("/"), updated, entries)
}

/// A comment feed: an article's or an account's newest comments.
pub struct CommentEntry<'a> {
    pub comment: &'a Comment,
    /// `None`: a deleted account.
    pub author: Option<&'a str>,
    pub article_title: &'a str,
    /// What it quotes of its article.
    pub quote: Option<&'a crate::domain::quotes::ShownQuote>,
}

pub fn comments(base: &url::Url, self_path: &str, page_path: &str, title: String, items: &[CommentEntry]) -> String {
    let abs = |path: &str| base.join(path.trim_start_matches('/')).map(String::from).unwrap_or_default();
    let entries: Vec<Entry> = items
        .iter()
        .map(|e| {
            let url = abs(&format!("/comments/{}", e.comment.id));
            let author = e.author.unwrap_or("[deleted]");
            Entry {
                id: url.clone(),
                title: Text::plain(format!("{author} on {}", e.article_title)),
                updated: datetime(e.comment.edited_at.unwrap_or(e.comment.created_at)),
                published: Some(datetime(e.comment.created_at)),
                links: vec![link(url, "alternate")],
                authors: vec![Person { name: author.to_owned(), ..Default::default() }],
                content: Some(Content {
                    value: Some(match e.quote {
                        Some(quote) => {
                            let quoted = super::comments::quote_linked(quote, &abs(&quote.link())).into_string();
                            format!("{quoted}{}", e.comment.body_html)
                        }
                        None => e.comment.body_html.clone(),
                    }),
                    content_type: Some("html".to_owned()),
                    ..Default::default()
                }),
                ..Default::default()
            }
        })
        .collect();
    let updated = entries.iter().map(|e| e.updated).max().unwrap_or_else(|| datetime(crate::db::now()));
    feed(abs(self_path), title, abs(page_path), updated, entries)
}
