//! Moving a site and keeping copies of it: `afterword export`, `import-site` and
//! `backup`.
//!
//! An export is JSON lines: a header (the format, its version and the schema version
//! of the database it came from), one line per row tagged with its table (see
//! `db::site::Record`), and a closing line counting the rows of each table, so that a
//! file cut short is noticed. It is written and read one line at a time.

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::db::connection::ConnectionManager;
use crate::db::site::{self, LineError, Record};
use crate::db::{DbConn, DbUrl};

pub const FORMAT: &str = "afterword-site";
pub const FORMAT_VERSION: u32 = 1;

/// The longest line an import reads (a row's text is far shorter).
pub const MAX_LINE: usize = 16 << 20;

/// The first line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: String,
    pub format_version: u32,
    /// The newest migration of the database it was exported from.
    pub schema_version: String,
    pub exported_at: String,
}

/// The last line of an export: `{"end": {"rows": {"articles": 3, …}}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trailer {
    end: End,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct End {
    rows: BTreeMap<String, u64>,
}

/// A row's line as read, before its table says what the row must be.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    table: String,
    row: serde_json::Value,
}

/// Rows per table, as written or restored.
pub type Counts = BTreeMap<String, u64>;

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Export(#[from] site::ExportError),
    #[error(transparent)]
    Import(#[from] site::ImportError),
    #[error("{0}")]
    Refused(String),
}

impl From<diesel::result::Error> for TransferError {
    fn from(err: diesel::result::Error) -> Self {
        TransferError::Db(err.into())
    }
}

/// Writes the whole site to `out` as JSON lines; returns the rows written per table.
pub fn export(conn: &mut DbConn, out: &mut dyn Write) -> Result<Counts, TransferError> {
    let header = Header {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        schema_version: site::schema_version(conn)?,
        exported_at: crate::db::now().to_string(),
    };
    write_line(out, &header)?;
    let mut counts = Counts::new();
    site::export(conn, site::EXPORT_PAGE, &mut |record| {
        *counts.entry(record.table().to_owned()).or_default() += 1;
        write_line(out, &record)
    })?;
    write_line(out, &Trailer { end: End { rows: counts.clone() } })?;
    out.flush().map_err(site::ExportError::Io)?;
    Ok(counts)
}

fn write_line(out: &mut dyn Write, value: &impl Serialize) -> Result<(), site::ExportError> {
    serde_json::to_writer(&mut *out, value).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Restores an export into `conn`'s database, which must be empty, in one transaction:
/// a bad line (named with its number and the reason) or a file cut short writes nothing.
pub fn import_site(conn: &mut DbConn, input: &mut dyn BufRead) -> Result<Counts, TransferError> {
    let mut lines = Lines { input, number: 0, buffer: Vec::new() };
    let header = match lines.next_line() {
        Ok(Some(line)) => {
            parse_header(&line).map_err(|reason| site::ImportError::Line(LineError { line: 1, reason }))?
        }
        Ok(None) => return Err(TransferError::Refused("the file is empty: it holds no export".to_owned())),
        Err(err) => return Err(site::ImportError::Line(err).into()),
    };
    let ours = site::schema_version(conn)?;
    if header.schema_version != ours {
        return Err(TransferError::Refused(format!(
            "the file was exported from a database at schema version {}, and this database is at {ours}: \
             export and import with the same version of afterword (upgrade the old site, run `afterword \
             migrate` on it, then export again)",
            header.schema_version
        )));
    }
    let mut records = Records { lines, counts: Counts::new(), ended: false, failed: false };
    let restored = site::import(conn, &mut records)?;
    Ok(restored.into_iter().map(|(table, n)| (table.to_owned(), n)).collect())
}

fn parse_header(line: &str) -> Result<Header, String> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("not an afterword export (the header is not JSON: {e})"))?;
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(format!("not an afterword export (the first line has no \"format\": \"{FORMAT}\")"));
    }
    let header: Header = serde_json::from_value(value).map_err(|e| format!("the header: {e}"))?;
    if header.format_version != FORMAT_VERSION {
        return Err(format!(
            "the export's format version is {}; this afterword reads version {FORMAT_VERSION}",
            header.format_version
        ));
    }
    Ok(header)
}

/// An export's lines, read one at a time, each at most [`MAX_LINE`] bytes.
struct Lines<'a> {
    input: &'a mut dyn BufRead,
    /// The number of the line last read (from 1).
    number: usize,
    buffer: Vec<u8>,
}

impl Lines<'_> {
    fn next_line(&mut self) -> Result<Option<String>, LineError> {
        self.buffer.clear();
        self.number += 1;
        let line = self.number;
        let read = (&mut self.input)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut self.buffer)
            .map_err(|e| LineError { line, reason: format!("could not read the file: {e}") })?;
        if read == 0 {
            return Ok(None);
        }
        if self.buffer.last() == Some(&b'\n') {
            self.buffer.pop();
        } else if read > MAX_LINE {
            return Err(LineError { line, reason: format!("longer than {} MiB", MAX_LINE >> 20) });
        }
        let text = std::str::from_utf8(&self.buffer)
            .map_err(|e| LineError { line, reason: format!("not UTF-8 text ({e})") })?;
        Ok(Some(text.to_owned()))
    }
}

/// The records of an export after its header, checked line by line; at the end, the
/// closing line's counts are compared with the rows read.
struct Records<'a> {
    lines: Lines<'a>,
    counts: Counts,
    ended: bool,
    failed: bool,
}

impl Iterator for Records<'_> {
    type Item = Result<(usize, Record), LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let result = self.step();
        if matches!(result, Some(Err(_))) {
            self.failed = true;
        }
        result
    }
}

impl Records<'_> {
    fn step(&mut self) -> Option<Result<(usize, Record), LineError>> {
        loop {
            let text = match self.lines.next_line() {
                Err(err) => return Some(Err(err)),
                Ok(None) if self.ended => return None,
                Ok(None) => {
                    return Some(Err(LineError {
                        line: self.lines.number,
                        reason: "the file ends without its closing line: it is cut short".to_owned(),
                    }))
                }
                Ok(Some(text)) => text,
            };
            let line = self.lines.number;
            let fail = |reason: String| Some(Err(LineError { line, reason }));
            if self.ended {
                return fail("a line after the closing line".to_owned());
            }
            if text.trim().is_empty() {
                return fail("an empty line".to_owned());
            }
            let value: serde_json::Value = match serde_json::from_str(&text) {
                Ok(value) => value,
                Err(e) => return fail(format!("not valid JSON ({e})")),
            };
            if let Some(at) = nul_in(&value, &mut String::new()) {
                return fail(format!("{at} contains a NUL character, which PostgreSQL cannot store"));
            }
            if value.get("end").is_some() {
                let trailer: Trailer = match serde_json::from_value(value) {
                    Ok(trailer) => trailer,
                    Err(e) => return fail(format!("the closing line: {e}")),
                };
                if trailer.end.rows != self.counts {
                    return fail(format!(
                        "the closing line counts {:?} rows, the file holds {:?}: it is incomplete",
                        trailer.end.rows, self.counts
                    ));
                }
                self.ended = true;
                continue;
            }
            let envelope: Envelope = match serde_path_to_error::deserialize(value) {
                Ok(envelope) => envelope,
                Err(e) => return fail(e.into_inner().to_string()),
            };
            let mut record = match Record::from_row(&envelope.table, envelope.row) {
                Ok(record) => record,
                Err(reason) => return fail(reason),
            };
            if let Err(reason) = prepare(&mut record) {
                return fail(reason);
            }
            *self.counts.entry(record.table().to_owned()).or_default() += 1;
            return Some(Ok((line, record)));
        }
    }
}

/// Checks what the types alone do not say about a row, and cleans the HTML it brings
/// as the site cleans rendered Markdown: a file's HTML never reaches a page as it is
/// (what the site itself rendered passes unchanged).
fn prepare(record: &mut Record) -> Result<(), String> {
    match record {
        Record::CommentVotes(vote) if vote.value != 1 && vote.value != -1 => {
            return Err(format!("row.value: a vote is 1 or -1, not {}", vote.value));
        }
        Record::Comments(comment) if comment.depth < 0 => return Err("row.depth: negative".to_owned()),
        Record::Comments(comment) => comment.body_html = crate::markdown::clean(&comment.body_html),
        Record::Users(user) => user.bio_html = user.bio_html.as_deref().map(crate::markdown::clean),
        _ => {}
    }
    Ok(())
}

/// The path of the first string holding a NUL character, if any.
fn nul_in(value: &serde_json::Value, path: &mut String) -> Option<String> {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => {
            Some(if path.is_empty() { ".".into() } else { path.clone() })
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(key, v)| {
            let mut inner = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            nul_in(v, &mut inner)
        }),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let mut inner = format!("{path}[{i}]");
            nul_in(v, &mut inner)
        }),
        _ => None,
    }
}

/// What `afterword backup` did, and how to restore it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backup {
    /// A SQLite copy was written with `VACUUM INTO`.
    Sqlite { file: PathBuf },
    /// `pg_dump` ran and wrote the file.
    Dumped { file: PathBuf, restore: String },
    /// `pg_dump` is not installed: the command to run where it is.
    Command { dump: String, restore: String },
}

/// Copies the database at `url` into `file`, which must not exist yet: SQLite with
/// `VACUUM INTO` (safe while the site serves and writes), PostgreSQL with `pg_dump
/// --format=custom` when it is on the PATH.
pub fn backup(url: &str, file: &Path) -> Result<Backup, TransferError> {
    if file.exists() {
        return Err(TransferError::Refused(format!(
            "{} already exists: a backup goes to a new file (remove it or choose another name)",
            file.display()
        )));
    }
    match DbUrl::parse(url)? {
        DbUrl::Sqlite(path) => {
            if !path.is_file() {
                return Err(TransferError::Refused(format!("there is no SQLite database at {}", path.display())));
            }
            let target = file
                .to_str()
                .ok_or_else(|| TransferError::Refused(format!("{} is not a UTF-8 path", file.display())))?;
            let mut conn = ConnectionManager::new(DbUrl::Sqlite(path))?.connect_unbounded()?;
            site::vacuum_into(&mut conn, target)?;
            Ok(Backup::Sqlite { file: file.to_owned() })
        }
        DbUrl::Postgres(raw) => {
            let (shown, password) = without_password(&raw);
            let restore = format!(
                "create an empty database (createdb NEW_DATABASE, or CREATE DATABASE in psql), then\n  \
                 pg_restore --no-owner --exit-on-error --dbname={} {}\nand start afterword with \
                 DATABASE_URL={}",
                shell_word(&with_database(&shown, "NEW_DATABASE")),
                shell_word(&file.display().to_string()),
                shell_word(&with_database(&shown, "NEW_DATABASE")),
            );
            let Some(pg_dump) = on_path("pg_dump") else {
                let dump = format!(
                    "{}pg_dump --format=custom --file={} --dbname={}",
                    if password.is_some() { "PGPASSWORD=… " } else { "" },
                    shell_word(&file.display().to_string()),
                    shell_word(&shown)
                );
                return Ok(Backup::Command { dump, restore });
            };
            let mut command = std::process::Command::new(&pg_dump);
            command.arg("--format=custom").arg(format!("--file={}", file.display())).arg(format!("--dbname={shown}"));
            if let Some(password) = password {
                // Not on the command line, where other users of the machine could read it.
                command.env("PGPASSWORD", password);
            }
            let output = command
                .output()
                .map_err(|e| TransferError::Refused(format!("could not run {}: {e}", pg_dump.display())))?;
            if !output.status.success() {
                let _ = std::fs::remove_file(file);
                return Err(TransferError::Refused(format!(
                    "pg_dump failed ({}): {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                )));
            }
            Ok(Backup::Dumped { file: file.to_owned(), restore })
        }
    }
}

/// The URL without its password, and the password.
fn without_password(raw: &str) -> (String, Option<String>) {
    match url::Url::parse(raw) {
        Ok(mut parsed) => {
            let password = parsed.password().map(percent_decode);
            if password.is_some() {
                let _ = parsed.set_password(None);
            }
            (parsed.to_string(), password)
        }
        Err(_) => (raw.to_owned(), None),
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The URL naming another database on the same server.
fn with_database(url: &str, database: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.set_path(database);
            parsed.to_string()
        }
        Err(_) => url.to_owned(),
    }
}

/// A word for a POSIX shell: as is when safe, else in single quotes.
fn shell_word(word: &str) -> String {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "/._-:@=,+%".contains(c)) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The program `name` on the PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            candidate.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        }
        #[cfg(not(unix))]
        {
            candidate.is_file()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_tagged_with_their_table() {
        let record = Record::Settings(site::SettingRow { key: "premoderation".into(), value: "all".into() });
        let line = serde_json::to_string(&record).unwrap();
        assert_eq!(line, r#"{"table":"settings","row":{"key":"premoderation","value":"all"}}"#);
        assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), record);
        for (table, _) in site::EXPORTED {
            let line = format!(r#"{{"table":"{table}","row":{{}}}}"#);
            let err = serde_json::from_str::<Record>(&line).unwrap_err().to_string();
            assert!(err.contains("missing field"), "{table} is a tag: {err}");
        }
    }

    #[test]
    fn a_nul_anywhere_is_found_with_its_path() {
        let value = serde_json::json!({"table": "comments", "row": {"body_source": "a\u{0}b", "tags": ["x"]}});
        assert_eq!(nul_in(&value, &mut String::new()).as_deref(), Some("row.body_source"));
        assert_eq!(nul_in(&serde_json::json!({"a": ["ok", "n\u{0}"]}), &mut String::new()).as_deref(), Some("a[1]"));
        assert_eq!(nul_in(&serde_json::json!({"a": "fine"}), &mut String::new()), None);
    }

    #[test]
    fn passwords_stay_off_the_command_line() {
        let (shown, password) = without_password("postgres://me:s%40cret@db.example:5433/site?sslmode=require");
        assert_eq!(shown, "postgres://me@db.example:5433/site?sslmode=require");
        assert_eq!(password.as_deref(), Some("s@cret"));
        assert_eq!(with_database(&shown, "NEW_DATABASE"), "postgres://me@db.example:5433/NEW_DATABASE?sslmode=require");
        assert_eq!(shell_word("/tmp/site.dump"), "/tmp/site.dump");
        assert_eq!(shell_word("my site's.dump"), r"'my site'\''s.dump'");
    }
}
