//! Reading comments exported from another system (`afterword import-comments`):
//! Disqus XML, WordPress WXR, an Isso SQLite database and a Remark42 backup.
//!
//! Each format is read as a stream of [`Record`]s, one neutral model for all four, so
//! that one writer (`service::imports`) serves them all. A file is read twice: once to
//! check every record and learn the shape of the threads (ids and flags only, no
//! bodies), then again to write. Memory stays bounded by the number of comments, not by
//! the size of their text. gzip-compressed files are read as they are.

pub mod remark42;
pub mod xml;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use time::PrimitiveDateTime;

/// The systems comments can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Disqus,
    Wordpress,
    Isso,
    Remark42,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Disqus, Format::Wordpress, Format::Isso, Format::Remark42];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Disqus => "disqus",
            Format::Wordpress => "wordpress",
            Format::Isso => "isso",
            Format::Remark42 => "remark42",
        }
    }

    /// How the system is called in pages.
    pub fn label(self) -> &'static str {
        match self {
            Format::Disqus => "Disqus",
            Format::Wordpress => "WordPress",
            Format::Isso => "Isso",
            Format::Remark42 => "Remark42",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown format {s:?}: use disqus, wordpress, isso or remark42"))
    }
}

/// A page the comments were made on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub source_id: String,
    /// Where the page lives; empty when the export does not say.
    pub url: String,
    pub title: String,
}

/// Who wrote a comment, as the other system knew them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// What tells this author from the others in the file: an account id, else the
    /// address, else the name.
    pub key: String,
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// HTML, cleaned as comments are before it is shown.
    Html(String),
    /// Markdown, rendered as new comments are.
    Markdown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub source_id: String,
    pub thread_id: String,
    pub parent_id: Option<String>,
    pub author: Author,
    pub created_at: PrimitiveDateTime,
    pub body: Body,
    pub deleted: bool,
    pub spam: bool,
    /// Waiting for approval in the other system: imported as waiting here.
    pub pending: bool,
    /// Another reason the format gives not to import it (a pingback, a blocked user).
    pub skip: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Thread(Thread),
    Comment(Comment),
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("could not read {0}")]
    Io(String),
    /// The file is not what its format says, or a record in it is wrong: where (a line
    /// or a record) and why. Nothing was written.
    #[error("{at}: {reason}")]
    Malformed { at: String, reason: String },
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

impl ImportError {
    pub fn malformed(at: impl Into<String>, reason: impl Into<String>) -> ImportError {
        ImportError::Malformed { at: at.into(), reason: reason.into() }
    }
}

impl crate::db::connection::Retryable for ImportError {
    fn is_retryable(&self) -> bool {
        false
    }
}

/// What receives the records of a file, in the file's order.
pub type Sink<'a> = dyn FnMut(Record) -> Result<(), ImportError> + 'a;

/// Opens a file, decompressing it when it starts as gzip does.
pub fn open(path: &Path) -> Result<Box<dyn BufRead>, ImportError> {
    let io = |e: std::io::Error| ImportError::Io(format!("{}: {e}", path.display()));
    let mut file = BufReader::with_capacity(64 * 1024, std::fs::File::open(path).map_err(io)?);
    let gzip = file.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
    if gzip {
        Ok(Box::new(BufReader::with_capacity(64 * 1024, flate2::bufread::MultiGzDecoder::new(file))))
    } else {
        Ok(Box::new(file))
    }
}

/// Reads the records of a text format (every format but Isso's database) from `input`.
pub fn read_stream(format: Format, input: Box<dyn BufRead>, sink: &mut Sink) -> Result<(), ImportError> {
    match format {
        Format::Disqus => xml::read_disqus(input, sink),
        Format::Wordpress => xml::read_wxr(input, sink),
        Format::Remark42 => remark42::read(input, sink),
        Format::Isso => Err(ImportError::malformed("the file", "an Isso export is a database file, not a stream")),
    }
}

/// Whether the bytes of a file start as an SQLite database does (after gzip, if any).
pub fn looks_like_sqlite(head: &[u8]) -> bool {
    head.starts_with(b"SQLite format 3\0")
}

/// Reads up to `n` bytes from the start of `input`.
pub fn peek(input: &mut dyn Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    input.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Longest imported name, address and title kept; longer ones are cut.
pub const MAX_NAME: usize = 100;
pub const MAX_TITLE: usize = crate::import::MAX_TITLE;
pub const MAX_URL: usize = crate::import::MAX_URL;
/// Longest comment text accepted; a longer record makes the file malformed.
pub const MAX_BODY: usize = 200_000;

/// `s` without surrounding space and control characters (NUL and friends, which
/// PostgreSQL refuses), cut to `max` characters.
pub fn tidy(s: &str, max: usize) -> String {
    s.trim().chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).take(max).collect()
}

/// Parses the timestamps the formats use: RFC 3339 (`2013-10-10T19:20:29Z`, with or
/// without fractions and offset) or `YYYY-MM-DD HH:MM:SS` in UTC (WordPress).
pub fn parse_time(s: &str) -> Option<PrimitiveDateTime> {
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        let t = t.to_offset(time::UtcOffset::UTC);
        return Some(PrimitiveDateTime::new(t.date(), t.time()));
    }
    let plain = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    if let Ok(t) = PrimitiveDateTime::parse(s, plain) {
        return Some(t);
    }
    let t_sep = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s, t_sep).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_every_format_parse() {
        let t = parse_time("2019-05-30T21:46:16.447519-05:00").unwrap();
        assert_eq!(t.to_string(), "2019-05-31 2:46:16.447519");
        assert_eq!(parse_time("2014-01-14 17:32:12").unwrap().to_string(), "2014-01-14 17:32:12.0");
        assert_eq!(parse_time("2013-10-10T19:20:29Z").unwrap().to_string(), "2013-10-10 19:20:29.0");
        assert!(parse_time("0000-00-00 00:00:00").is_none());
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn formats_parse_by_name() {
        assert_eq!("Disqus".parse::<Format>(), Ok(Format::Disqus));
        assert!("blogger".parse::<Format>().unwrap_err().contains("disqus, wordpress"));
    }
}
