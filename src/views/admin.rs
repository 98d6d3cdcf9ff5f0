//! Administration pages.

use maud::{html, Markup};

use super::forms::{csrf, FieldErrors};
use super::layout::{self, Meta};
use super::moderation::nav;
use super::{display_date, display_time};
use crate::auth::Visitor;
use crate::db::articles::Article;
use crate::db::outbox::Message;

fn meta(title: &str) -> Meta<'_> {
    Meta { title: Some(title), description: "Afterword administration", url: None, og_type: "website", feed: None }
}

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
            p { "Email the site kept: without an SMTP server (set SMTP_URL) all of it; with one, the digests \
                 and whether each was sent." }
            @if messages.is_empty() {
                p class="empty" { "No messages." }
            }
            @for m in messages {
                article class="outbox-message" {
                    h2 { (m.subject) }
                    p class="byline" {
                        "To " (m.recipient) " — " (display_time(m.created_at))
                        @if m.state != crate::db::outbox::KEPT { " — " (m.state) }
                    }
                    @if !m.headers.is_empty() {
                        pre class="outbox-headers" { (m.headers.trim_end()) }
                    }
                    pre { (m.body) }
                    @if m.html_body.is_some() {
                        p class="hint" { "With an HTML part as well." }
                    }
                }
            }
        },
    )
}

/// Values of the article form.
#[derive(Debug, Default, Clone)]
pub struct ArticleForm {
    pub title: String,
    pub source_url: String,
    pub source_name: String,
    pub published_at: String,
    pub summary: String,
    pub takeaways: String,
    pub tags: String,
}

/// The article form, as typed, with every field's problem beside it (`errors`) and
/// what concerns the whole article (`error`, such as another article with the same
/// title and source) above it.
pub fn article_form(
    v: &Visitor,
    heading: &str,
    action: &str,
    form: &ArticleForm,
    errors: &FieldErrors,
    error: Option<&str>,
) -> Markup {
    let problems = errors.0.len() + usize::from(error.is_some());
    // (field name, id, label, hint)
    let field = |name: &'static str, id: &str, label: &str, hint: Option<&str>, input: Markup| {
        let problem = errors.get(name);
        html! {
            div class="field" {
                label for=(id) { (label) }
                (input)
                @if let Some(hint) = hint { small id={ (id) "-hint" } class="hint" { (hint) } }
                @if let Some(problem) = problem { p id={ (id) "-error" } class="field-error" { (problem) } }
            }
        }
    };
    let described = |name: &str, id: &str, hint: bool| match (errors.get(name).is_some(), hint) {
        (true, _) => Some(format!("{id}-error")),
        (false, true) => Some(format!("{id}-hint")),
        _ => None,
    };
    let invalid = |name: &str| errors.get(name).map(|_| "true");
    layout::page(
        Some(v),
        &meta(heading),
        html! {
            h1 { (heading) }
            (nav(v))
            @if problems > 0 {
                div class="flash error" role="alert" {
                    p { @if problems == 1 { "Please correct the problem below." } @else { "Please correct the " (problems) " problems below." } }
                    @if let Some(e) = error { p class="form-error" { (e) } }
                }
            }
            form method="post" action=(action) class="article-form" novalidate {
                (csrf(v))
                (field("title", "a-title", "Title", None, html! {
                    input id="a-title" type="text" name="title" value=(form.title) required
                        aria-invalid=[invalid("title")] aria-describedby=[described("title", "a-title", false)];
                }))
                (field("source_url", "a-url", "Source URL", None, html! {
                    input id="a-url" type="text" name="source_url" value=(form.source_url) required
                        aria-invalid=[invalid("source_url")] aria-describedby=[described("source_url", "a-url", false)];
                }))
                (field("source_name", "a-name", "Source name", None, html! {
                    input id="a-name" type="text" name="source_name" value=(form.source_name) required
                        aria-invalid=[invalid("source_name")] aria-describedby=[described("source_name", "a-name", false)];
                }))
                (field("published_at", "a-date", "Date", Some("YYYY-MM-DD, between 1900 and 2100."), html! {
                    input id="a-date" type="text" name="published_at" value=(form.published_at) required
                        aria-invalid=[invalid("published_at")] aria-describedby=[described("published_at", "a-date", true)];
                }))
                (field("summary", "a-summary", "Summary", Some("A blank line between paragraphs."), html! {
                    textarea id="a-summary" name="summary" rows="8"
                        aria-invalid=[invalid("summary")] aria-describedby=[described("summary", "a-summary", true)] { (form.summary) }
                }))
                (field("takeaways", "a-takeaways", "Key takeaways", Some("One a line."), html! {
                    textarea id="a-takeaways" name="takeaways" rows="5"
                        aria-invalid=[invalid("takeaways")] aria-describedby=[described("takeaways", "a-takeaways", true)] { (form.takeaways) }
                }))
                (field("tags", "a-tags", "Tags", Some("Separated by commas."), html! {
                    input id="a-tags" type="text" name="tags" value=(form.tags)
                        aria-invalid=[invalid("tags")] aria-describedby=[described("tags", "a-tags", true)];
                }))
                button type="submit" class="button" { "Save" }
            }
        },
    )
}

/// What the administrators' article list shows.
pub struct ArticlesPage<'a> {
    pub items: &'a [Article],
    /// The title search, as typed ("" for none).
    pub query: &'a str,
    pub page: u32,
    pub has_more: bool,
    pub notice: Option<&'a str>,
    /// Why the last upload imported nothing, and the name of the file sent.
    pub import_error: Option<(&'a str, &'a str)>,
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn articles(v: &Visitor, p: &ArticlesPage) -> Markup {
    let limit_mib = crate::web::security::UPLOAD_LIMIT / (1024 * 1024);
    let base = if p.query.is_empty() {
        "/admin/articles".to_owned()
    } else {
        format!("/admin/articles?q={}", encode(p.query))
    };
    layout::page(
        Some(v),
        &meta("Articles"),
        html! {
            h1 { "Articles" }
            (nav(v))
            @if let Some(n) = p.notice { p class="notice" role="status" { (n) } }
            p { a class="button" href="/admin/articles/new" { "New article" } }
            section class="settings-section" id="import" {
                h2 { "Import" }
                p { "A JSON file of articles, as " code { "afterword import-articles" } " takes: all records or none." }
                p class="hint" id="import-file-hint" {
                    "At most " (limit_mib) " MiB and "
                    (crate::text::plural(crate::service::articles::MAX_IMPORT as i64, "article", "articles"))
                    ". Import bigger files on the server with "
                    code { "afterword import-articles FILE" } "."
                }
                @if let Some((error, file)) = p.import_error {
                    div class="flash error import-error" role="alert" id="import-file-error" {
                        "Nothing was imported"
                        @if !file.is_empty() { " from “" (file) "”" }
                        ": " (crate::text::sentence(error))
                    }
                }
                form method="post" action="/admin/articles/import" enctype="multipart/form-data" class="mod-form" {
                    input type="hidden" name="csrf_token" value=(v.csrf_token());
                    label for="import-file" { "File" }
                    input id="import-file" type="file" name="file" accept="application/json,.json" required
                        aria-invalid=[p.import_error.map(|_| "true")]
                        aria-describedby=(if p.import_error.is_some() { "import-file-hint import-file-error" } else { "import-file-hint" });
                    button type="submit" class="button secondary" { "Import" }
                }
                p { "Comments from another system: " a href="/admin/comments/import" { "import comments" } "." }
            }
            form method="get" action="/admin/articles" class="search-form articles-search" role="search" {
                label for="articles-q" { "Find by title" }
                input id="articles-q" type="search" name="q" value=(p.query) maxlength="200";
                button type="submit" class="button secondary" { "Find" }
            }
            @if p.items.is_empty() {
                p class="empty" {
                    @if p.query.is_empty() { "No articles yet." } @else { "No article's title holds “" (p.query) "”." }
                }
            } @else {
                table class="articles-admin" tabindex="0" {
                    thead { tr { th { "Title" } th { "Date" } th { "Comments" } th { span class="visually-hidden" { "Actions" } } } }
                    tbody {
                        @for a in p.items {
                            tr {
                                td { a href={ "/articles/" (a.slug) } { (a.title) } }
                                td { (display_date(a.published_at)) }
                                td { (a.comment_count) @if a.comments_locked { " (closed)" } }
                                td class="row-actions" {
                                    a href={ "/admin/articles/" (a.slug) "/edit" } { "Edit" } " "
                                    a href={ "/mod/articles/" (a.slug) } { "Moderate" } " "
                                    form method="post" action={ "/admin/articles/" (a.slug) "/delete" } class="inline-form"
                                        data-confirm=(delete_article_question(&a.title, a.comment_count)) {
                                        (csrf(v))
                                        button type="submit" class="link-button" { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (super::pager(&base, p.page, p.has_more, ("← Newer", "Older →")))
        },
    )
}

/// The question asked before an article is deleted.
pub fn delete_article_question(title: &str, comments: i32) -> String {
    format!("Delete “{title}” and its {}?", crate::text::plural(comments, "comment", "comments"))
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
                    li { "its " (crate::text::plural(published, "published comment", "published comments")) " and their votes" }
                    @if hidden > 0 {
                        li { (crate::text::plural(hidden, "held, removed or deleted comment", "held, removed or deleted comments")) }
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

/// The comment import form, as chosen, and what the last upload did.
#[derive(Default)]
pub struct CommentsImport<'a> {
    pub format: &'a str,
    pub site_url: &'a str,
    pub dry_run: bool,
    /// The name of the file sent.
    pub file: &'a str,
    /// Why nothing was imported.
    pub error: Option<String>,
    /// The summary's lines.
    pub summary: Option<Vec<String>>,
}

pub fn comments_import(v: &Visitor, p: &CommentsImport) -> Markup {
    let limit_mib = crate::web::security::UPLOAD_LIMIT / (1024 * 1024);
    let described = if p.error.is_some() { "comments-file-hint comments-file-error" } else { "comments-file-hint" };
    layout::page(
        Some(v),
        &meta("Import comments"),
        html! {
            h1 { "Import comments" }
            (nav(v))
            section class="settings-section" {
                p {
                    "Comments exported from Disqus, WordPress, Isso or Remark42, as "
                    code { "afterword import-comments" } " takes them: all or nothing, and importing the same file "
                    "again changes nothing."
                }
                p class="hint" id="comments-file-hint" {
                    "At most " (limit_mib) " MiB (gzip-compressed files too). Import bigger files on the server with "
                    code { "afterword import-comments --format FORMAT FILE" } "."
                }
                @if let Some(error) = &p.error {
                    div class="flash error import-error" role="alert" id="comments-file-error" {
                        "Nothing was imported"
                        @if !p.file.is_empty() { " from “" (p.file) "”" }
                        ": " (crate::text::sentence(error))
                    }
                }
                @if let Some(lines) = &p.summary {
                    div class="notice import-summary" role="status" {
                        p {
                            @if p.dry_run { "Checked" } @else { "Imported" }
                            @if !p.file.is_empty() { " “" (p.file) "”" } ":"
                        }
                        ul { @for line in lines { li { (line) } } }
                    }
                }
                form method="post" action="/admin/comments/import" enctype="multipart/form-data" class="mod-form" {
                    input type="hidden" name="csrf_token" value=(v.csrf_token());
                    label for="comments-format" { "Exported from" }
                    select id="comments-format" name="format" {
                        @for f in crate::comment_import::Format::ALL {
                            option value=(f.as_str()) selected[p.format == f.as_str()] { (f.label()) }
                        }
                    }
                    label for="comments-site" { "The site's address (for Isso's paths)" }
                    input id="comments-site" type="url" name="site_url" value=(p.site_url) placeholder="https://blog.example/";
                    label for="comments-file" { "File" }
                    input id="comments-file" type="file" name="file" required
                        aria-invalid=[p.error.as_ref().map(|_| "true")]
                        aria-describedby=(described);
                    label class="checkbox" {
                        input type="checkbox" name="dry_run" value="1" checked[p.dry_run];
                        " Only check: write nothing"
                    }
                    button type="submit" class="button secondary" { "Import" }
                }
            }
        },
    )
}
