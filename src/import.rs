//! Validation of article files (`afterword import-articles`, and the demo set).
//!
//! A file is a JSON array of articles. Every record is checked before anything is
//! written; the first bad record rejects the whole file with its index and the reason.

use std::collections::HashMap;

use serde::Deserialize;
use time::Date;

pub const MAX_TITLE: usize = 300;
pub const MAX_SOURCE_NAME: usize = 100;
pub const MAX_URL: usize = 2_000;
pub const MAX_PARAGRAPH: usize = 10_000;
pub const MAX_PARAGRAPHS: usize = 20;
pub const MAX_TAKEAWAY: usize = 1_000;
pub const MAX_TAKEAWAYS: usize = 30;
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG: usize = 40;
pub const MAX_SLUG: usize = crate::domain::Slug::MAX_LEN;

/// An article as the import file gives it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArticle {
    title: String,
    source_url: String,
    source_name: String,
    published_at: String,
    summary: Vec<String>,
    key_takeaways: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    slug: Option<String>,
}

/// A validated article, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArticle {
    /// An explicit slug; when absent one is derived from the title.
    pub slug: Option<String>,
    pub title: String,
    pub source_url: String,
    pub source_name: String,
    pub published_at: Date,
    /// Paragraphs, in order.
    pub summary: Vec<String>,
    pub takeaways: Vec<String>,
    /// Lower-case, sorted, without duplicates.
    pub tags: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImportError {
    #[error("the file is not valid JSON: {0}")]
    Json(String),
    #[error("the file must hold a JSON array of articles")]
    NotArray,
    #[error("record at index {index}: {reason}")]
    Record { index: usize, reason: String },
}

/// Parses and validates a whole file.
pub fn parse(bytes: &[u8]) -> Result<Vec<NewArticle>, ImportError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| ImportError::Json(e.to_string()))?;
    let serde_json::Value::Array(records) = value else {
        return Err(ImportError::NotArray);
    };
    let mut seen_keys: HashMap<(String, String), usize> = HashMap::new();
    let mut seen_slugs: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        let bad = |reason: String| ImportError::Record { index, reason };
        let raw: RawArticle = serde_path_to_error::deserialize(record).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path == "." {
                bad(inner.to_string())
            } else {
                bad(format!("{path}: {inner}"))
            }
        })?;
        let article = validate(raw).map_err(bad)?;
        if let Some(first) = seen_keys.insert((article.source_url.clone(), article.title.clone()), index) {
            return Err(bad(format!("same title and source_url as the record at index {first}")));
        }
        if let Some(slug) = &article.slug {
            if let Some(first) = seen_slugs.insert(slug.clone(), index) {
                return Err(bad(format!("same slug as the record at index {first}")));
            }
        }
        out.push(article);
    }
    Ok(out)
}

/// Validates an article typed into the administrators' form: summary paragraphs
/// separated by blank lines, takeaways one a line, tags separated by commas.
pub fn from_form(
    title: &str,
    source_url: &str,
    source_name: &str,
    published_at: &str,
    summary: &str,
    takeaways: &str,
    tags: &str,
) -> Result<NewArticle, String> {
    let summary = summary.replace("\r\n", "\n");
    validate(RawArticle {
        title: title.to_owned(),
        source_url: source_url.to_owned(),
        source_name: source_name.to_owned(),
        published_at: published_at.to_owned(),
        summary: summary.split("\n\n").map(str::to_owned).collect(),
        key_takeaways: takeaways.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect(),
        tags: tags.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect(),
        slug: None,
    })
}

fn validate(raw: RawArticle) -> Result<NewArticle, String> {
    check_controls(&raw)?;
    let title = one_line(&raw.title);
    check_text("title", &title, MAX_TITLE)?;

    let source_url = raw.source_url.trim().to_owned();
    check_url(&source_url)?;

    let source_name = one_line(&raw.source_name);
    check_text("source_name", &source_name, MAX_SOURCE_NAME)?;

    let published_at = parse_date(raw.published_at.trim())
        .ok_or_else(|| format!("published_at: {:?} is not a date (expected YYYY-MM-DD)", raw.published_at))?;

    let summary: Vec<String> = raw.summary.iter().map(|p| one_line(p)).filter(|p| !p.is_empty()).collect();
    if summary.is_empty() {
        return Err("summary: at least one non-empty paragraph is required".into());
    }
    if summary.len() > MAX_PARAGRAPHS {
        return Err(format!("summary: at most {MAX_PARAGRAPHS} paragraphs"));
    }
    for (i, p) in summary.iter().enumerate() {
        check_text(&format!("summary[{i}]"), p, MAX_PARAGRAPH)?;
    }

    let takeaways: Vec<String> = raw.key_takeaways.iter().map(|t| one_line(t)).collect();
    if takeaways.len() > MAX_TAKEAWAYS {
        return Err(format!("key_takeaways: at most {MAX_TAKEAWAYS}"));
    }
    for (i, t) in takeaways.iter().enumerate() {
        check_text(&format!("key_takeaways[{i}]"), t, MAX_TAKEAWAY)?;
    }

    let mut tags: Vec<String> = raw.tags.iter().map(|t| t.trim().to_lowercase()).collect();
    for t in &tags {
        let ok = !t.is_empty()
            && t.chars().count() <= MAX_TAG
            && t.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(format!("tags: {t:?} is not a tag (1 to {MAX_TAG} letters, digits, '-' or '_')"));
        }
    }
    tags.sort();
    tags.dedup();
    if tags.len() > MAX_TAGS {
        return Err(format!("tags: at most {MAX_TAGS}"));
    }

    let slug = match raw.slug {
        None => None,
        Some(s) => {
            let s = s.trim().to_owned();
            if !is_valid_slug(&s) {
                return Err(format!(
                    "slug: {s:?} is not a slug (1 to {MAX_SLUG} lower-case letters, digits and single '-')"
                ));
            }
            Some(s)
        }
    };

    Ok(NewArticle { slug, title, source_url, source_name, published_at, summary, takeaways, tags })
}

/// No field may hold a control character (see `crate::text::is_forbidden_control`).
fn check_controls(raw: &RawArticle) -> Result<(), String> {
    let mut fields: Vec<(String, &str)> = vec![
        ("title".into(), &raw.title),
        ("source_url".into(), &raw.source_url),
        ("source_name".into(), &raw.source_name),
        ("published_at".into(), &raw.published_at),
    ];
    fields.extend(raw.summary.iter().enumerate().map(|(i, p)| (format!("summary[{i}]"), p.as_str())));
    fields.extend(raw.key_takeaways.iter().enumerate().map(|(i, t)| (format!("key_takeaways[{i}]"), t.as_str())));
    fields.extend(raw.tags.iter().enumerate().map(|(i, t)| (format!("tags[{i}]"), t.as_str())));
    if let Some(slug) = &raw.slug {
        fields.push(("slug".into(), slug));
    }
    for (field, value) in fields {
        if let Some(c) = crate::text::forbidden_control(value) {
            return Err(format!("{field}: contains a control character (U+{:04X})", c as u32));
        }
    }
    Ok(())
}

/// Collapses runs of white space (new lines included) to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("{field}: must not be empty"));
    }
    let len = value.chars().count();
    if len > max {
        return Err(format!("{field}: {len} characters, at most {max} allowed"));
    }
    Ok(())
}

fn check_url(raw: &str) -> Result<(), String> {
    if raw.len() > MAX_URL {
        return Err(format!("source_url: longer than {MAX_URL} characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("source_url: {raw:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("source_url: {raw:?} must be an http or https URL with a host"));
    }
    Ok(())
}

pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// A URL-safe slug from a title: lower-case ASCII words joined by '-', cut at a word
/// boundary; "article" when nothing is left.
pub fn slugify(title: &str) -> String {
    let full = slug::slugify(title);
    let mut out = String::new();
    for word in full.split('-').filter(|w| !w.is_empty()) {
        let extra = if out.is_empty() { word.len() } else { word.len() + 1 };
        if out.len() + extra > MAX_SLUG - 4 {
            if out.is_empty() {
                out.push_str(&word[..MAX_SLUG - 4]);
            }
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        out.push_str("article");
    }
    out
}

pub fn is_valid_slug(s: &str) -> bool {
    crate::domain::Slug::parse(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(extra: &str) -> String {
        format!(
            r#"[{{"title":"A title","source_url":"https://example.com/a","source_name":"example.com",
                "published_at":"2024-01-02","summary":["One.","Two."],"key_takeaways":["K"]{extra}}}]"#
        )
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slugify("Meta (again) denies that Netflix read users' private Facebook messages | TechCrunch"),
            "meta-again-denies-that-netflix-read-users-private-facebook-messages"
        );
        assert_eq!(slugify("Tides & \"Time\": Ünïcode"), "tides-time-unicode");
        assert_eq!(slugify("!!!"), "article");
        let long = slugify(&"word ".repeat(100));
        assert!(long.len() <= MAX_SLUG - 4 && is_valid_slug(&long), "{long}");
        assert!(is_valid_slug(&slugify(&"x".repeat(200))));
    }

    #[test]
    fn good_record() {
        let a = parse(record(r#","tags":["Privacy","privacy","meta"]"#).as_bytes()).unwrap();
        assert_eq!(a[0].summary, vec!["One.", "Two."]);
        assert_eq!(a[0].tags, vec!["meta", "privacy"]);
        assert_eq!(a[0].published_at, time::macros::date!(2024 - 01 - 02));
    }

    #[test]
    fn bad_records_name_index_and_field() {
        let cases =
            [(r#"[1]"#, "record at index 0"), (r#"{}"#, "JSON array"), (r#"[{"title":5}]"#, "title: invalid type")];
        for (input, expected) in cases {
            let err = parse(input.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(expected), "{input}: {err}");
        }
        let err = parse(record(r#","tags":["a b"]"#).as_bytes()).unwrap_err().to_string();
        assert!(err.contains("tags"), "{err}");
        let bad_date = record("").replace("2024-01-02", "2024-13-02");
        assert!(parse(bad_date.as_bytes()).unwrap_err().to_string().contains("published_at"));
        let bad_url = record("").replace("https://example.com/a", "javascript:alert(1)");
        assert!(parse(bad_url.as_bytes()).unwrap_err().to_string().contains("source_url"));
        let no_title = record("").replace("A title", "  ");
        assert!(parse(no_title.as_bytes()).unwrap_err().to_string().contains("title: must not be empty"));
        let unknown = record(r#","colour":"red""#);
        assert!(parse(unknown.as_bytes()).unwrap_err().to_string().contains("unknown field"));
    }
}
