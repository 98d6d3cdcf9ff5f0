//! Remark42 backups (`remark42 backup`, also its daily files): JSON lines. The first
//! line is the backup's own record (`{"version":1,"users":[…],"posts":[…]}`), every
//! further line one comment: `id`, `pid` (the parent's id, empty for a top-level one),
//! `text` (HTML), `orig` (the Markdown typed), `user` (`id`, `name`, `block`),
//! `locator` (`site`, `url`), `title`, `time`, `delete`.

use std::collections::HashSet;
use std::io::BufRead;

use serde::Deserialize;

use super::{parse_time, tidy, Author, Body, Comment, ImportError, Record, Sink, Thread, MAX_NAME, MAX_TITLE, MAX_URL};

#[derive(Deserialize)]
#[allow(dead_code)] // read only to check that the first line is the backup's record
struct Info {
    version: serde_json::Value,
}

#[derive(Deserialize)]
struct Line {
    id: String,
    #[serde(default)]
    pid: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    orig: String,
    user: User,
    locator: Locator,
    #[serde(default)]
    title: String,
    time: String,
    #[serde(default)]
    delete: bool,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    name: String,
    id: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    block: bool,
}

#[derive(Deserialize)]
struct Locator {
    #[serde(default)]
    site: String,
    url: String,
}

/// Longest line read: a comment longer than this is not one Remark42 writes.
const MAX_LINE: usize = 4 * 1024 * 1024;

pub fn read(mut input: Box<dyn BufRead>, sink: &mut Sink) -> Result<(), ImportError> {
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut threads: HashSet<String> = HashSet::new();
    loop {
        line.clear();
        let read = std::io::Read::take(&mut input, MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| ImportError::malformed(format!("line {}", number + 1), format!("could not read: {e}")))?;
        if read == 0 {
            break;
        }
        number += 1;
        let at = format!("line {number}");
        if line.len() > MAX_LINE {
            return Err(ImportError::malformed(at, "longer than any record of a Remark42 backup"));
        }
        let ends = line.last() == Some(&b'\n');
        let text = std::str::from_utf8(&line).map_err(|_| ImportError::malformed(&at, "not UTF-8 text"))?.trim();
        if text.is_empty() {
            continue;
        }
        if number == 1 {
            serde_json::from_str::<Info>(text).map_err(|_| {
                ImportError::malformed(
                    &at,
                    "this is not a Remark42 backup: its first line is not the backup's record ({\"version\":…})",
                )
            })?;
            continue;
        }
        let record: Line = serde_json::from_str(text).map_err(|e| {
            let reason = if !ends && e.is_eof() {
                "the file ends inside a record: it is cut short".to_owned()
            } else {
                format!("not a Remark42 comment: {e}")
            };
            ImportError::malformed(&at, reason)
        })?;
        let created_at = parse_time(&record.time).ok_or_else(|| {
            ImportError::malformed(&at, format!("comment {}: time {:?} is not a date", record.id, record.time))
        })?;
        let thread_id = format!("{}:{}", record.locator.site, record.locator.url);
        if !threads.contains(&thread_id) {
            threads.insert(thread_id.clone());
            sink(Record::Thread(Thread {
                source_id: thread_id.clone(),
                url: tidy(&record.locator.url, MAX_URL),
                title: tidy(&record.title, MAX_TITLE),
            }))?;
        }
        let email = record.user.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_lowercase);
        let body = if record.orig.trim().is_empty() { Body::Html(record.text) } else { Body::Markdown(record.orig) };
        sink(Record::Comment(Comment {
            source_id: record.id,
            thread_id,
            parent_id: Some(record.pid).filter(|p| !p.is_empty()),
            author: Author {
                key: format!("user:{}", record.user.id),
                name: tidy(if record.user.name.trim().is_empty() { "Anonymous" } else { &record.user.name }, MAX_NAME),
                email,
            },
            created_at,
            body,
            deleted: record.delete,
            spam: false,
            pending: false,
            skip: record.user.block.then_some("its author is blocked"),
        }))?;
    }
    if number == 0 {
        return Err(ImportError::malformed("line 1", "this is not a Remark42 backup: the file is empty"));
    }
    Ok(())
}
