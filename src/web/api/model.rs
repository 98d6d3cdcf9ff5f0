//! What the API answers and accepts: the JSON shapes, each a schema of the OpenAPI
//! document.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::articles::ArticlePage;
use crate::db::comments::ThreadComment;
use crate::domain::quotes::{QuoteKind, QuoteRequest, ShownQuote};
use crate::domain::{permissions, Actor, CommentStatus};
use crate::views::{iso_date, iso_time};

/// An article with everything its page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct Article {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// The full article, elsewhere.
    pub source_url: String,
    pub source_name: String,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub published_at: String,
    /// Paragraphs separated by blank lines.
    pub summary: String,
    pub takeaways: Vec<String>,
    /// For each takeaway, in order: the published comments that quote it.
    pub takeaway_comment_counts: Vec<i64>,
    pub tags: Vec<String>,
    /// Published comments.
    pub comment_count: i32,
    /// Whether the thread is closed to new comments.
    pub locked: bool,
    pub lock_reason: Option<String>,
    /// The article's page on this site.
    pub url: String,
}

impl Article {
    pub fn new(page: &ArticlePage, config: &crate::config::Config) -> Article {
        let a = &page.article;
        Article {
            id: a.id.0,
            slug: a.slug.clone(),
            title: a.title.clone(),
            source_url: a.source_url.clone(),
            source_name: a.source_name.clone(),
            published_at: iso_date(a.published_at),
            summary: a.summary.clone(),
            takeaways: page.takeaways.clone(),
            takeaway_comment_counts: page.takeaway_counts.clone(),
            tags: page.tags.clone(),
            comment_count: a.comment_count,
            locked: a.comments_locked,
            lock_reason: a.lock_reason.clone(),
            url: config.link(&format!("articles/{}", a.slug)).to_string(),
        }
    }
}

/// A comment as a thread shows it to the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Comment {
    pub id: i64,
    pub article_id: i64,
    /// The comment replied to; none for a top-level comment.
    pub parent_id: Option<i64>,
    pub depth: i32,
    /// The author's username; none once the comment or its account is deleted, or the
    /// comment removed.
    pub author: Option<String>,
    /// visible, pending (awaiting approval: only its author sees it), rejected,
    /// removed or deleted.
    pub status: String,
    /// The comment as sanitised HTML (empty when deleted or removed).
    pub body_html: String,
    pub upvotes: i32,
    pub downvotes: i32,
    pub reply_count: i32,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub edited_at: Option<String>,
    pub pinned: bool,
    /// Marked by a moderator as speaking for the site.
    pub distinguished: bool,
    /// The caller's vote: -1, 0 or 1 (0 when anonymous).
    pub my_vote: i32,
    /// What the comment quotes of its article (none for replies, and once the comment is
    /// deleted or removed).
    pub quote: Option<Quote>,
    /// What the caller may do with it.
    pub can: Abilities,
}

/// What is quoted.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum QuoteKindName {
    Takeaway,
    Summary,
}

/// A passage of the article a comment quotes, as it was when the comment was posted.
#[derive(Debug, Serialize, ToSchema)]
pub struct Quote {
    pub kind: QuoteKindName,
    /// The takeaway quoted, from 1 (for a takeaway).
    pub takeaway: Option<i32>,
    /// The summary sentence the passage starts in, from 1 (for the summary).
    pub sentence: Option<i32>,
    /// The text quoted, as it was.
    pub text: String,
    /// The article no longer says this there: it was edited since.
    pub changed: bool,
    /// The passage on the article's page.
    pub url: String,
}

impl Quote {
    pub fn new(shown: &ShownQuote, base: &url::Url) -> Quote {
        let q = &shown.quote;
        let number = q.position + 1;
        let (kind, takeaway, sentence) = match q.kind {
            QuoteKind::Takeaway => (QuoteKindName::Takeaway, Some(number), None),
            QuoteKind::Summary => (QuoteKindName::Summary, None, Some(number)),
        };
        Quote {
            kind,
            takeaway,
            sentence,
            text: q.text.clone(),
            changed: shown.changed,
            url: base.join(shown.link().trim_start_matches('/')).map(String::from).unwrap_or_else(|_| shown.link()),
        }
    }
}

/// What a new top-level comment quotes: a takeaway (all of it, or a part given as
/// `text`), or a passage of the summary (`text`, and optionally the sentence it starts
/// in). A takeaway the article does not have, or a text it does not say, is refused
/// (409: the article may have changed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQuote {
    pub kind: QuoteKindName,
    /// The takeaway, from 1; required for a takeaway.
    #[schema(minimum = 1, maximum = 30)]
    #[serde(default, deserialize_with = "super::schemas::optional_integer")]
    pub takeaway: Option<i64>,
    /// The summary sentence the passage starts in, from 1.
    #[schema(minimum = 1, maximum = 10000)]
    #[serde(default, deserialize_with = "super::schemas::optional_integer")]
    pub sentence: Option<i64>,
    /// The passage, at most 500 characters; required for the summary.
    #[schema(schema_with = super::schemas::quote_text)]
    #[serde(default)]
    pub text: Option<String>,
}

impl NewQuote {
    pub fn request(&self) -> QuoteRequest {
        let kind = match self.kind {
            QuoteKindName::Takeaway => QuoteKind::Takeaway,
            QuoteKindName::Summary => QuoteKind::Summary,
        };
        let number = match kind {
            QuoteKind::Takeaway => self.takeaway,
            QuoteKind::Summary => self.sentence,
        };
        QuoteRequest { kind: Some(kind.as_str().to_owned()), number, text: self.text.clone() }
    }
}

/// What the caller may do with a comment, by the same rules as the pages' buttons.
#[derive(Debug, Serialize, ToSchema)]
pub struct Abilities {
    pub reply: bool,
    pub vote: bool,
    pub edit: bool,
    pub delete: bool,
    pub report: bool,
}

/// What a comment's context needs to judge what a caller may do.
pub struct Context {
    pub actor: Option<Actor>,
    pub locked: bool,
    pub now: time::PrimitiveDateTime,
    pub edit_window: time::Duration,
    /// The site's address, for links.
    pub base: url::Url,
}

impl Comment {
    pub fn new(item: &ThreadComment, context: &Context) -> Comment {
        let c = &item.comment;
        let gone = matches!(c.status, CommentStatus::Deleted | CommentStatus::Removed);
        let facts = c.facts(context.locked);
        let actor = context.actor.as_ref();
        Comment {
            id: c.id.0,
            article_id: c.article_id.0,
            parent_id: c.parent_id.map(|p| p.0),
            depth: c.depth,
            author: item.author.clone(),
            status: c.status.as_str().to_owned(),
            body_html: if gone { String::new() } else { c.body_html.clone() },
            upvotes: c.upvotes,
            downvotes: c.downvotes,
            reply_count: c.reply_count,
            created_at: iso_time(c.created_at),
            edited_at: c.edited_at.map(iso_time),
            pinned: c.pinned,
            distinguished: c.distinguished,
            my_vote: item.my_vote,
            quote: item.quote.as_ref().map(|q| Quote::new(q, &context.base)),
            can: Abilities {
                reply: permissions::may_reply(actor, &facts).is_ok(),
                vote: permissions::may_vote(actor, &facts).is_ok(),
                edit: permissions::may_edit(actor, &facts, context.now, context.edit_window).is_ok(),
                delete: permissions::may_delete(actor, &facts).is_ok(),
                report: permissions::may_report(actor, &facts).is_ok(),
            },
        }
    }
}

/// A new comment or reply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Markdown, at most 10,000 characters.
    #[schema(schema_with = super::schemas::comment_body)]
    pub body: String,
    /// The comment replied to, of the same article.
    #[schema(minimum = 1)]
    #[serde(default, deserialize_with = "super::schemas::optional_integer")]
    pub parent_id: Option<i64>,
    /// What a top-level comment quotes of the article (a reply quotes nothing).
    #[serde(default)]
    pub quote: Option<NewQuote>,
}
