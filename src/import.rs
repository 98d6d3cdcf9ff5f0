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
        let article = parse_record(record).map_err(bad)?;
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

/// Parses and validates one record of a file (a JSON object); the error names the
/// field first (`title: must not be empty`).
pub fn parse_record(record: serde_json::Value) -> Result<NewArticle, String> {
    let raw: RawArticle = serde_path_to_error::deserialize(record).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })?;
    validate(raw).map_err(|mut problems| problems.swap_remove(0).in_file)
}

/// What is wrong with one field of an article: said the file's way (the field's name
/// first, as `import-articles` reports it) and the form's way (plain words shown beside
/// the field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The form's field: title, source_url, source_name, published_at, summary,
    /// takeaways, tags or slug.
    pub field: &'static str,
    pub in_file: String,
    pub in_form: String,
}

fn problem(field: &'static str, in_file: impl Into<String>, in_form: impl Into<String>) -> Problem {
    Problem { field, in_file: in_file.into(), in_form: in_form.into() }
}

/// Earliest and latest years an article may be dated.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// Validates an article typed into the administrators' form: summary paragraphs
/// separated by blank lines, takeaways one a line, tags separated by commas. Every
/// field's problem is returned, not only the first.
pub fn from_form(
    title: &str,
    source_url: &str,
    source_name: &str,
    published_at: &str,
    summary: &str,
    takeaways: &str,
    tags: &str,
) -> Result<NewArticle, Vec<Problem>> {
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

fn validate(raw: RawArticle) -> Result<NewArticle, Vec<Problem>> {
    check_controls(&raw)?;
    let mut problems = Vec::new();
    let title = one_line(&raw.title);
    check_text(&mut problems, ("title", "title", "the title"), &title, MAX_TITLE);

    let source_url = raw.source_url.trim().to_owned();
    if let Err(p) = check_url(&source_url) {
        problems.push(p);
    }

    let source_name = one_line(&raw.source_name);
    check_text(&mut problems, ("source_name", "source_name", "the source's name"), &source_name, MAX_SOURCE_NAME);

    let published_at = match parse_date(raw.published_at.trim()) {
        None => {
            problems.push(problem(
                "published_at",
                format!("published_at: {:?} is not a date (expected YYYY-MM-DD)", raw.published_at),
                "Enter the date as YYYY-MM-DD, like 2024-04-02.",
            ));
            None
        }
        Some(date) if !YEARS.contains(&date.year()) => {
            let (first, last) = (YEARS.start(), YEARS.end());
            problems.push(problem(
                "published_at",
                format!("published_at: {date} is outside the years {first} to {last}"),
                format!("Use a date between the years {first} and {last}."),
            ));
            None
        }
        Some(date) => Some(date),
    };

    let summary: Vec<String> = raw.summary.iter().map(|p| one_line(p)).filter(|p| !p.is_empty()).collect();
    if summary.is_empty() {
        problems.push(problem(
            "summary",
            "summary: at least one non-empty paragraph is required",
            "Write a summary of at least one paragraph.",
        ));
    } else if summary.len() > MAX_PARAGRAPHS {
        problems.push(problem(
            "summary",
            format!("summary: at most {MAX_PARAGRAPHS} paragraphs"),
            format!("Use at most {MAX_PARAGRAPHS} paragraphs ({} now).", summary.len()),
        ));
    } else {
        for (i, p) in summary.iter().enumerate() {
            let (file, form) = (format!("summary[{i}]"), format!("paragraph {}", i + 1));
            if check_text(&mut problems, ("summary", &file, &form), p, MAX_PARAGRAPH) {
                break;
            }
        }
    }

    let takeaways: Vec<String> = raw.key_takeaways.iter().map(|t| one_line(t)).collect();
    if takeaways.len() > MAX_TAKEAWAYS {
        problems.push(problem(
            "takeaways",
            format!("key_takeaways: at most {MAX_TAKEAWAYS}"),
            format!("Use at most {MAX_TAKEAWAYS} takeaways ({} now).", takeaways.len()),
        ));
    } else {
        for (i, t) in takeaways.iter().enumerate() {
            let (file, form) = (format!("key_takeaways[{i}]"), format!("takeaway {}", i + 1));
            if check_text(&mut problems, ("takeaways", &file, &form), t, MAX_TAKEAWAY) {
                break;
            }
        }
    }

    // Counted as given: the same tag twice still counts twice.
    if raw.tags.len() > MAX_TAGS {
        problems.push(problem(
            "tags",
            format!("tags: at most {MAX_TAGS}"),
            format!("Use at most {MAX_TAGS} tags ({} now).", raw.tags.len()),
        ));
    }
    let mut tags: Vec<String> = raw.tags.iter().map(|t| t.trim().to_lowercase()).collect();
    if let Some(t) = tags.iter().find(|t| {
        t.is_empty() || t.chars().count() > MAX_TAG || !t.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    }) {
        problems.push(problem(
            "tags",
            format!("tags: {t:?} is not a tag (1 to {MAX_TAG} letters, digits, '-' or '_')"),
            format!("“{t}” is not a tag: use 1 to {MAX_TAG} letters, digits, '-' or '_', and commas between tags."),
        ));
    }
    tags.sort();
    tags.dedup();
    if tags.len() > MAX_TAGS {
        problems.push(problem(
            "tags",
            format!("tags: at most {MAX_TAGS}"),
            format!("Use at most {MAX_TAGS} tags ({} now).", tags.len()),
        ));
    }

    let slug = match raw.slug {
        None => None,
        Some(s) => {
            let s = s.trim().to_owned();
            if !is_valid_slug(&s) {
                problems.push(problem(
                    "slug",
                    format!("slug: {s:?} is not a slug (1 to {MAX_SLUG} lower-case letters, digits and single '-')"),
                    format!("Use 1 to {MAX_SLUG} lower-case letters, digits and single '-'."),
                ));
            } else if RESERVED_SLUGS.contains(&s.as_str()) {
                problems.push(problem(
                    "slug",
                    format!("slug: {s:?} is reserved (the API's own path)"),
                    format!("“{s}” is reserved: choose another slug."),
                ));
            }
            Some(s)
        }
    };

    match published_at {
        Some(published_at) if problems.is_empty() => {
            Ok(NewArticle { slug, title, source_url, source_name, published_at, summary, takeaways, tags })
        }
        _ => Err(problems),
    }
}

/// No field may hold a control character (see `crate::text::is_forbidden_control`).
fn check_controls(raw: &RawArticle) -> Result<(), Vec<Problem>> {
    let mut fields: Vec<(&'static str, String, &str)> = vec![
        ("title", "title".into(), &raw.title),
        ("source_url", "source_url".into(), &raw.source_url),
        ("source_name", "source_name".into(), &raw.source_name),
        ("published_at", "published_at".into(), &raw.published_at),
    ];
    fields.extend(raw.summary.iter().enumerate().map(|(i, p)| ("summary", format!("summary[{i}]"), p.as_str())));
    fields.extend(
        raw.key_takeaways.iter().enumerate().map(|(i, t)| ("takeaways", format!("key_takeaways[{i}]"), t.as_str())),
    );
    fields.extend(raw.tags.iter().enumerate().map(|(i, t)| ("tags", format!("tags[{i}]"), t.as_str())));
    if let Some(slug) = &raw.slug {
        fields.push(("slug", "slug".into(), slug));
    }
    let mut problems: Vec<Problem> = Vec::new();
    for (field, name, value) in fields {
        if let Some(c) = crate::text::forbidden_control(value) {
            if problems.iter().all(|p| p.field != field) {
                problems.push(problem(
                    field,
                    format!("{name}: contains a control character (U+{:04X})", c as u32),
                    format!("Remove the control character (U+{:04X}): it cannot be stored.", c as u32),
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Collapses runs of white space (new lines included) to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks a field that must hold text of at most `max` characters; `(field, in the
/// file, in the form)` name it ("the title", "paragraph 2"). True when it found a
/// problem.
fn check_text(
    problems: &mut Vec<Problem>,
    (field, file, form): (&'static str, &str, &str),
    value: &str,
    max: usize,
) -> bool {
    if value.is_empty() {
        problems.push(problem(field, format!("{file}: must not be empty"), format!("Enter {form}.")));
        return true;
    }
    let len = value.chars().count();
    if len > max {
        let mut subject = form.to_owned();
        if let Some(first) = subject.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        problems.push(problem(
            field,
            format!("{file}: {len} characters, at most {max} allowed"),
            format!("{subject} is too long: use at most {max} characters ({len} now)."),
        ));
        return true;
    }
    false
}

fn check_url(raw: &str) -> Result<(), Problem> {
    let friendly = "Enter the full article's address, starting with http:// or https://.";
    if raw.is_empty() {
        return Err(problem("source_url", "source_url: must not be empty", friendly));
    }
    if raw.len() > MAX_URL {
        return Err(problem(
            "source_url",
            format!("source_url: longer than {MAX_URL} characters"),
            format!("Use an address of at most {MAX_URL} characters."),
        ));
    }
    let url = url::Url::parse(raw)
        .map_err(|e| problem("source_url", format!("source_url: {raw:?} is not a URL ({e})"), friendly))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(problem(
            "source_url",
            format!("source_url: {raw:?} must be an http or https URL with a host"),
            friendly,
        ));
    }
    Ok(())
}

pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// A URL-safe slug from a title: lower-case ASCII words joined by '-', cut at a word
/// boundary; "article" when nothing is left.
/// Slugs the API's own paths take (`/api/v1/articles/import`, `…/by-url`): no article
/// may have one, or the API could not reach it.
pub const RESERVED_SLUGS: [&str; 2] = ["import", "by-url"];

pub fn slugify(title: &str) -> String {
    let full = slug::slugify(without_inner_apostrophes(title));
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
    if RESERVED_SLUGS.contains(&out.as_str()) {
        out.push_str("-article");
    }
    out
}

/// `title` without the apostrophes inside words ("women's", "don’t"), which would
/// otherwise split a word in two ("women-s").
fn without_inner_apostrophes(title: &str) -> String {
    let chars: Vec<char> = title.chars().collect();
    let mut out = String::with_capacity(title.len());
    for (i, &c) in chars.iter().enumerate() {
        let apostrophe = matches!(c, '\'' | '\u{2019}' | '\u{02BC}');
        let inside =
            i > 0 && chars[i - 1].is_alphanumeric() && chars.get(i + 1).is_some_and(|next| next.is_alphanumeric());
        if !(apostrophe && inside) {
            out.push(c);
        }
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
        assert_eq!(slugify("Import"), "import-article", "the API's own paths stay its own");
        assert_eq!(slugify("By URL"), "by-url-article");
        assert_eq!(slugify("The women's league"), "the-womens-league");
        assert_eq!(slugify("Don\u{2019}t panic, it\u{02BC}s \'quoted\'"), "dont-panic-its-quoted");
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
