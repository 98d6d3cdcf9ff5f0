//! Reading an Isso database (its SQLite file) for `afterword import-comments`: its
//! `threads (id, uri, title)` and `comments (tid, id, parent, created, mode, text,
//! author, email, …)`, where mode 1 is published, 2 waiting for approval and 4 deleted.
//! Read a page of rows at a time, in id order, so memory stays bounded.

use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text};
use diesel::sqlite::SqliteConnection;

use crate::comment_import::{
    tidy, Author, Body, Comment, ImportError, Record, Sink, Thread, MAX_NAME, MAX_TITLE, MAX_URL,
};

const PAGE: i64 = 1_000;

#[derive(QueryableByName)]
struct ThreadRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    uri: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    title: Option<String>,
}

#[derive(QueryableByName)]
struct CommentRow {
    #[diesel(sql_type = BigInt)]
    tid: i64,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    parent: Option<i64>,
    #[diesel(sql_type = Nullable<Double>)]
    created: Option<f64>,
    #[diesel(sql_type = Nullable<Integer>)]
    mode: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    text: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    author: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    email: Option<String>,
}

/// Reads the threads, then the comments, of the Isso database at `path` (opened
/// read-only).
pub fn read(path: &Path, sink: &mut Sink) -> Result<(), ImportError> {
    let not_isso =
        |e: &dyn std::fmt::Display| ImportError::malformed("the file", format!("this is not an Isso database ({e})"));
    let mut head = [0u8; 16];
    {
        use std::io::Read;
        let mut file = std::fs::File::open(path).map_err(|e| ImportError::Io(format!("{}: {e}", path.display())))?;
        let n = file.read(&mut head).map_err(|e| ImportError::Io(format!("{}: {e}", path.display())))?;
        if !crate::comment_import::looks_like_sqlite(&head[..n]) {
            return Err(not_isso(&"it is not an SQLite database file"));
        }
    }
    let url = url::Url::from_file_path(std::path::absolute(path).map_err(|e| ImportError::Io(e.to_string()))?)
        .map_err(|_| ImportError::Io(format!("{}: not a usable path", path.display())))?;
    let uri = format!("{}?mode=ro", url.as_str().replacen("file://", "file:", 1));
    let mut conn = SqliteConnection::establish(&uri).map_err(|e| not_isso(&e))?;
    let mut after = i64::MIN;
    loop {
        let rows: Vec<ThreadRow> =
            diesel::sql_query("SELECT id, uri, title FROM threads WHERE id > ? ORDER BY id LIMIT ?")
                .bind::<BigInt, _>(after)
                .bind::<BigInt, _>(PAGE)
                .load(&mut conn)
                .map_err(|e| not_isso(&e))?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows {
            sink(Record::Thread(Thread {
                source_id: row.id.to_string(),
                url: tidy(row.uri.as_deref().unwrap_or(""), MAX_URL),
                title: tidy(row.title.as_deref().unwrap_or(""), MAX_TITLE),
            }))?;
        }
    }
    let mut after = i64::MIN;
    loop {
        let rows: Vec<CommentRow> = diesel::sql_query(
            "SELECT tid, id, parent, created, mode, text, author, email FROM comments WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind::<BigInt, _>(after)
        .bind::<BigInt, _>(PAGE)
        .load(&mut conn)
        .map_err(|e| not_isso(&e))?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for row in rows {
            let at = format!("comment {}", row.id);
            let created = row.created.ok_or_else(|| ImportError::malformed(&at, "no creation time"))?;
            let created_at = time::OffsetDateTime::from_unix_timestamp_nanos((created * 1e9) as i128)
                .map_err(|_| ImportError::malformed(&at, format!("creation time {created} is out of range")))?;
            let mode = row.mode.unwrap_or(1);
            if ![1, 2, 4].contains(&mode) {
                return Err(ImportError::malformed(&at, format!("unknown mode {mode} (1, 2 or 4)")));
            }
            let name = row.author.as_deref().map(str::trim).filter(|a| !a.is_empty()).unwrap_or("Anonymous");
            let email = row.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).map(str::to_lowercase);
            let key = match &email {
                Some(email) => format!("email:{email}"),
                None => format!("name:{name}"),
            };
            sink(Record::Comment(Comment {
                source_id: row.id.to_string(),
                thread_id: row.tid.to_string(),
                parent_id: row.parent.map(|p| p.to_string()),
                author: Author { key, name: tidy(name, MAX_NAME), email },
                created_at: time::PrimitiveDateTime::new(created_at.date(), created_at.time()),
                body: Body::Markdown(row.text.unwrap_or_default()),
                deleted: mode == 4,
                spam: false,
                pending: mode == 2,
                skip: None,
            }))?;
        }
    }
    Ok(())
}
