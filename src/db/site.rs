//! The whole site as rows: what `afterword export` reads, `afterword import-site`
//! writes, and `afterword backup` copies.
//!
//! Every table of the schema is either exported (a row type below, listed in
//! [`EXPORTED`]) or on [`EXCLUDED_TABLES`] with the reason; a column left out is on
//! [`EXCLUDED_COLUMNS`]. A test compares these lists with the migrated schema of both
//! backends, so a table or column added later is noticed until it is covered.

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use serde::{Deserialize, Serialize};
use time::{Date, PrimitiveDateTime};

use super::schema::{
    article_tags, article_takeaways, articles, comment_votes, comments, digest_subscriptions, import_ids,
    moderation_log, notifications, reports, saved_articles, settings, users,
};
use super::{write_transaction, DbConn};
use crate::domain::{CommentStatus, ModAction, NotificationKind, ReportReason, Role, TargetType};

/// Tables left out of an export, and why.
pub const EXCLUDED_TABLES: &[(&str, &str)] = &[
    // Credentials of the old site: restored accounts have no password and log in afresh.
    ("sessions", "log-in sessions are credentials; every account logs in again after a move"),
    ("account_tokens", "hashes of single-use email links (password reset, address check): credentials"),
    ("api_tokens", "hashes of personal API tokens: credentials; their owners make new ones"),
    // Mail, limits and events that only mean something for minutes or hours on the
    // machine that wrote them.
    ("outbox", "mail kept for the old site's administrators; it may hold password-reset links"),
    ("account_mails", "per-recipient limits on account mail over the last hours"),
    ("login_failures", "the login lockout's failed attempts of the last minutes"),
    ("comment_posts", "the per-account comment limits' posts of the last day"),
    ("live_events", "thread changes kept a few minutes for readers watching live"),
    ("leases", "which running instance holds a background job (the digests) now"),
];

/// Columns left out of an exported table, and why.
pub const EXCLUDED_COLUMNS: &[(&str, &str, &str)] = &[(
    "users",
    "password_hash",
    "a password hash is a credential; restored accounts set a new password (reset by email or \
     `afterword admin reset-password`)",
)];

/// Settings that stay with the site that made them.
pub const EXCLUDED_SETTINGS: &[(&str, &str)] = &[
    ("csrf_key", "the key that signs this site's form tokens: a secret; the new site makes its own"),
    ("storage-probe", "a row written and rolled back to test for free space"),
];

/// The password hash of a restored account: no password matches it (it is not a hash),
/// as for deleted accounts.
pub const NO_PASSWORD: &str = "!";

/// A table whose rows are exported: paged through by primary key, inserted in batches.
pub trait SiteTable: Sized {
    /// The primary key of a row, for paging.
    type Key;
    const TABLE: &'static str;
    /// The exported columns, as in the database.
    const COLUMNS: &'static [&'static str];
    /// Whether the table has an `id` column numbered by the database (an identity or
    /// serial column on PostgreSQL), which a restore must carry on from.
    const NUMBERED: bool;

    fn key(&self) -> Self::Key;
    /// Up to `limit` rows after `after`, in key order.
    fn page(conn: &mut DbConn, after: Option<&Self::Key>, limit: i64) -> QueryResult<Vec<Self>>;
    fn insert(conn: &mut DbConn, rows: &[Self]) -> QueryResult<usize>;
    fn any(conn: &mut DbConn) -> QueryResult<bool>;
    /// The largest `id`, for tables that are [`NUMBERED`](Self::NUMBERED).
    fn max_id(conn: &mut DbConn) -> QueryResult<Option<i64>>;
}

macro_rules! site_tables {
    (@after $table:ident, $after:ident, $k1:ident) => {
        $table::$k1.gt($after.0.clone())
    };
    (@after $table:ident, $after:ident, $k1:ident, $k2:ident) => {
        $table::$k1.gt($after.0.clone()).or($table::$k1.eq($after.0.clone()).and($table::$k2.gt($after.1.clone())))
    };
    (@after $table:ident, $after:ident, $k1:ident, $k2:ident, $k3:ident) => {
        $table::$k1.gt($after.0.clone()).or($table::$k1.eq($after.0.clone()).and(
            $table::$k2
                .gt($after.1.clone())
                .or($table::$k2.eq($after.1.clone()).and($table::$k3.gt($after.2.clone()))),
        ))
    };
    (@first $k1:ident $(, $rest:ident)*; $table:ident) => {
        $table::$k1
    };
    (@max_id true, $table:ident, $conn:ident) => {
        $table::table.select(diesel::dsl::max($table::id)).get_result($conn)
    };
    (@max_id false, $table:ident, $conn:ident) => {{
        let _ = $conn;
        Ok(None)
    }};
    (@insert users, $conn:ident, $rows:ident) => {{
        let values: Vec<_> = $rows.iter().map(|row| (row, users::password_hash.eq(NO_PASSWORD))).collect();
        let insert = diesel::insert_into(users::table).values(values);
        // Several rows in one statement: MultiConnection cannot, each backend can.
        match $conn {
            DbConn::Pg(pg) => insert.execute(pg),
            DbConn::Sqlite(sqlite) => insert.execute(sqlite),
        }
    }};
    (@insert $table:ident, $conn:ident, $rows:ident) => {{
        let insert = diesel::insert_into($table::table).values($rows);
        match $conn {
            DbConn::Pg(pg) => insert.execute(pg),
            DbConn::Sqlite(sqlite) => insert.execute(sqlite),
        }
    }};

    ($(
        $(#[$meta:meta])*
        $variant:ident($row:ident) => $table:ident, key ($($key:ident: $key_ty:ty),+), numbered: $numbered:tt,
        { $($(#[$fmeta:meta])* $field:ident: $ty:ty,)+ }
    )+) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize, Deserialize)]
            #[diesel(table_name = $table, treat_none_as_default_value = false)]
            #[serde(deny_unknown_fields)]
            pub struct $row {
                $($(#[$fmeta])* pub $field: $ty,)+
            }

            impl SiteTable for $row {
                type Key = ($($key_ty,)+);
                const TABLE: &'static str = stringify!($table);
                const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];
                const NUMBERED: bool = $numbered;

                fn key(&self) -> Self::Key {
                    ($(self.$key.clone(),)+)
                }

                fn page(conn: &mut DbConn, after: Option<&Self::Key>, limit: i64) -> QueryResult<Vec<Self>> {
                    let query = $table::table
                        .order(($($table::$key.asc(),)+))
                        .limit(limit)
                        .select($row::as_select())
                        .into_boxed();
                    match after {
                        None => query.load(conn),
                        Some(after) => query.filter(site_tables!(@after $table, after, $($key),+)).load(conn),
                    }
                }

                fn insert(conn: &mut DbConn, rows: &[Self]) -> QueryResult<usize> {
                    site_tables!(@insert $table, conn, rows)
                }

                fn any(conn: &mut DbConn) -> QueryResult<bool> {
                    diesel::select(diesel::dsl::exists($table::table.select(site_tables!(@first $($key),+; $table))))
                        .get_result(conn)
                }

                fn max_id(conn: &mut DbConn) -> QueryResult<Option<i64>> {
                    site_tables!(@max_id $numbered, $table, conn)
                }
            }
        )+

        /// One exported row, tagged with its table: `{"table": "comments", "row": {…}}`.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "table", content = "row", rename_all = "snake_case", deny_unknown_fields)]
        pub enum Record {
            $($variant($row),)+
        }

        impl Record {
            /// The record of `table` made of `row`, or why not (with the path of the
            /// field at fault: `row.status: unknown CommentStatus "x"`).
            pub fn from_row(table: &str, row: serde_json::Value) -> Result<Record, String> {
                fn at<E: std::fmt::Display>(err: serde_path_to_error::Error<E>) -> String {
                    let path = err.path().to_string();
                    let inner = err.into_inner();
                    if path == "." { format!("row: {inner}") } else { format!("row.{path}: {inner}") }
                }
                match table {
                    $(stringify!($table) => serde_path_to_error::deserialize(row).map(Record::$variant).map_err(at),)+
                    other => Err(format!(
                        "table: unknown table {other:?} (one of {})",
                        EXPORTED.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", ")
                    )),
                }
            }

            pub fn table(&self) -> &'static str {
                match self {
                    $(Record::$variant(_) => stringify!($table),)+
                }
            }
        }

        /// The exported tables and their columns, in the order they are written (a
        /// row's references come before it).
        pub const EXPORTED: &[(&str, &[&str])] = &[$((stringify!($table), $row::COLUMNS),)+];

        /// Writes every exported row to `out`, table by table, `page_size` rows read at
        /// a time. Call inside a transaction, for one consistent view.
        fn each_record(
            conn: &mut DbConn,
            page_size: i64,
            out: &mut dyn FnMut(Record) -> Result<(), ExportError>,
        ) -> Result<(), ExportError> {
            $(
                let mut after = None;
                loop {
                    let rows = $row::page(conn, after.as_ref(), page_size)?;
                    let full = rows.len() as i64 == page_size;
                    after = rows.last().map(SiteTable::key);
                    for row in rows {
                        let record = Record::$variant(row);
                        if exported(&record) {
                            out(record)?;
                        }
                    }
                    if !full {
                        break;
                    }
                }
            )+
            Ok(())
        }

        /// Inserts a batch of records of one table.
        fn insert_records(conn: &mut DbConn, batch: &[Record]) -> QueryResult<usize> {
            match batch.first() {
                None => Ok(0),
                $(Some(Record::$variant(_)) => {
                    let rows: Vec<$row> = batch
                        .iter()
                        .filter_map(|r| match r { Record::$variant(row) => Some(row.clone()), _ => None })
                        .collect();
                    $row::insert(conn, &rows)
                })+
            }
        }

        /// The exported tables that hold rows (settings this site keeps to itself
        /// aside), with their counts: a database that holds a site.
        fn occupied(conn: &mut DbConn) -> QueryResult<Vec<(&'static str, i64)>> {
            let mut found = Vec::new();
            $(
                if stringify!($table) == "settings" {
                    let keys: Vec<&str> = EXCLUDED_SETTINGS.iter().map(|(key, _)| *key).collect();
                    let count: i64 = settings::table
                        .filter(settings::key.ne_all(keys))
                        .count()
                        .get_result(conn)?;
                    if count > 0 {
                        found.push(("settings", count));
                    }
                } else if $row::any(conn)? {
                    let count: i64 = $table::table.count().get_result(conn)?;
                    found.push((stringify!($table), count));
                }
            )+
            Ok(found)
        }

        /// Carries each numbered table on from its largest restored id (PostgreSQL: the
        /// identity sequences; SQLite keeps `sqlite_sequence` up to date itself).
        fn numbered_tables(conn: &mut DbConn, f: &mut dyn FnMut(&mut DbConn, &'static str, Option<i64>) -> QueryResult<()>) -> QueryResult<()> {
            $(
                if $row::NUMBERED {
                    let max = $row::max_id(conn)?;
                    f(conn, stringify!($table), max)?;
                }
            )+
            Ok(())
        }
    };

}

site_tables! {
    /// Site-wide settings (premoderation, embedding origins …).
    Settings(SettingRow) => settings, key (key: String), numbered: false, {
        key: String,
        value: String,
    }

    /// An account, without its password hash.
    Users(UserRow) => users, key (id: i64), numbered: true, {
        id: i64,
        username: String,
        username_key: String,
        email: Option<String>,
        email_key: Option<String>,
        role: Role,
        email_verified: bool,
        created_at: PrimitiveDateTime,
        deleted_at: Option<PrimitiveDateTime>,
        email_replies: bool,
        display_name: Option<String>,
        bio_source: Option<String>,
        bio_html: Option<String>,
        banned_until: Option<PrimitiveDateTime>,
        ban_reason: Option<String>,
        pending_email: Option<String>,
        pending_email_key: Option<String>,
        show_saved: bool,
        imported_from: Option<String>,
        imported_email_key: Option<String>,
    }

    /// An article (its counters and search text as they are).
    Articles(ArticleRow) => articles, key (id: i64), numbered: true, {
        id: i64,
        slug: String,
        title: String,
        source_url: String,
        source_name: String,
        published_at: Date,
        summary: String,
        comment_count: i32,
        comments_locked: bool,
        created_at: PrimitiveDateTime,
        updated_at: PrimitiveDateTime,
        search_document: String,
        lock_reason: Option<String>,
    }

    ArticleTakeaways(TakeawayRow) => article_takeaways, key (article_id: i64, position: i32), numbered: false, {
        article_id: i64,
        position: i32,
        body: String,
    }

    ArticleTags(TagRow) => article_tags, key (article_id: i64, tag: String), numbered: false, {
        article_id: i64,
        tag: String,
    }

    /// A comment, with its place in the tree and its counters as they are.
    Comments(CommentRow) => comments, key (id: i64), numbered: true, {
        id: i64,
        article_id: i64,
        author_id: i64,
        parent_id: Option<i64>,
        root_id: i64,
        depth: i32,
        body_source: String,
        body_html: String,
        status: CommentStatus,
        upvotes: i32,
        downvotes: i32,
        reply_count: i32,
        rank_best: f64,
        rank_controversial: f64,
        created_at: PrimitiveDateTime,
        edited_at: Option<PrimitiveDateTime>,
        removed_reason: Option<String>,
        pinned: bool,
        distinguished: bool,
        quote_kind: Option<String>,
        quote_position: Option<i32>,
        quote_text: Option<String>,
    }

    CommentVotes(VoteRow) => comment_votes, key (comment_id: i64, user_id: i64), numbered: false, {
        comment_id: i64,
        user_id: i64,
        value: i32,
        created_at: PrimitiveDateTime,
    }

    SavedArticles(SavedRow) => saved_articles, key (user_id: i64, article_id: i64), numbered: false, {
        user_id: i64,
        article_id: i64,
        saved_at: PrimitiveDateTime,
        last_seen_at: PrimitiveDateTime,
    }

    /// An imported thread, comment or author: its id in the other system and what it
    /// became here (so that importing the same file again still changes nothing).
    ImportIds(ImportIdRow) => import_ids, key (source: String, kind: String, source_id: String), numbered: false, {
        source: String,
        kind: String,
        source_id: String,
        local_id: i64,
    }

    /// A reader's email digest: how often, and what the next one starts from.
    DigestSubscriptions(DigestRow) => digest_subscriptions, key (user_id: i64), numbered: false, {
        user_id: i64,
        frequency: String,
        since: PrimitiveDateTime,
        next_due_at: PrimitiveDateTime,
    }

    Reports(ReportRow) => reports, key (id: i64), numbered: true, {
        id: i64,
        comment_id: i64,
        reporter_id: i64,
        reason: ReportReason,
        details: Option<String>,
        created_at: PrimitiveDateTime,
        resolved_at: Option<PrimitiveDateTime>,
    }

    Notifications(NotificationRow) => notifications, key (id: i64), numbered: true, {
        id: i64,
        user_id: i64,
        kind: NotificationKind,
        comment_id: i64,
        actor_id: i64,
        created_at: PrimitiveDateTime,
        read_at: Option<PrimitiveDateTime>,
        reason: Option<String>,
    }

    ModerationLog(ModLogRow) => moderation_log, key (id: i64), numbered: true, {
        id: i64,
        moderator_id: Option<i64>,
        action: ModAction,
        target_type: TargetType,
        target_id: i64,
        target_label: String,
        reason: Option<String>,
        created_at: PrimitiveDateTime,
        via_token: Option<String>,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
    #[error("could not write: {0}")]
    Io(#[from] std::io::Error),
}

/// Whether a row read is written out (settings the site keeps to itself are not).
fn exported(record: &Record) -> bool {
    match record {
        Record::Settings(setting) => !EXCLUDED_SETTINGS.iter().any(|(key, _)| *key == setting.key),
        _ => true,
    }
}

/// Rows read per query while exporting.
pub const EXPORT_PAGE: i64 = 500;

/// The schema version of the database: its newest applied migration.
pub fn schema_version(conn: &mut DbConn) -> QueryResult<String> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Nullable<Text>)]
        version: Option<String>,
    }
    let row: Version =
        diesel::sql_query("SELECT MAX(version) AS version FROM __diesel_schema_migrations").get_result(conn)?;
    Ok(row.version.unwrap_or_default())
}

/// Runs `f` in a read-only transaction that sees one moment of the database
/// (PostgreSQL: repeatable read; SQLite: a read transaction, which writers in WAL mode
/// do not wait for).
pub fn read_snapshot<T, E>(conn: &mut DbConn, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        if let DbConn::Pg(pg) = conn {
            pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        f(conn)
    })
}

/// Writes every exported row to `out` from one consistent view of the database, reading
/// `page_size` rows at a time ([`EXPORT_PAGE`] for the command line).
pub fn export(
    conn: &mut DbConn,
    page_size: i64,
    out: &mut dyn FnMut(Record) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    read_snapshot(conn, |conn| each_record(conn, page_size.max(1), out))
}

/// A line of an import that could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct LineError {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the database is not empty (it holds {0}): import-site restores only into an empty database")]
    NotEmpty(String),
    #[error(transparent)]
    Line(#[from] LineError),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Key of the PostgreSQL advisory lock an import holds for its transaction.
const IMPORT_LOCK: i64 = 0x6166_7465_7273_6974;

/// Rows inserted per statement while importing.
const IMPORT_BATCH: usize = 200;

/// Restores records into an empty database in one transaction: any bad record, and any
/// row the database refuses, writes nothing. `records` yields each record with its line
/// number. Returns the rows written per table.
pub fn import(
    conn: &mut DbConn,
    records: &mut dyn Iterator<Item = Result<(usize, Record), LineError>>,
) -> Result<BTreeMap<&'static str, u64>, ImportError> {
    write_transaction(conn, |conn| {
        // Two imports at once: the second waits for the first, then finds a site there
        // (SQLite's write transaction already waits so).
        if let DbConn::Pg(pg) = conn {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)").bind::<BigInt, _>(IMPORT_LOCK).execute(pg)?;
        }
        let found = occupied(conn)?;
        if !found.is_empty() {
            let what: Vec<String> = found.iter().map(|(table, n)| format!("{n} row(s) of {table}")).collect();
            return Err(ImportError::NotEmpty(what.join(", ")));
        }
        let switched = accept_ids(conn)?;
        let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut batch: Vec<(usize, Record)> = Vec::with_capacity(IMPORT_BATCH);
        for item in records {
            let (line, record) = item?;
            if batch.len() == IMPORT_BATCH || batch.first().is_some_and(|(_, first)| first.table() != record.table()) {
                flush(conn, &mut batch, &mut counts)?;
            }
            batch.push((line, record));
        }
        flush(conn, &mut batch, &mut counts)?;
        generate_ids_always(conn, &switched)?;
        carry_on_numbering(conn)?;
        Ok(counts)
    })
}

/// Inserts a batch; when the database refuses it, finds the line it refused (each row
/// in a savepoint of its own) and names it.
fn flush(
    conn: &mut DbConn,
    batch: &mut Vec<(usize, Record)>,
    counts: &mut BTreeMap<&'static str, u64>,
) -> Result<(), ImportError> {
    let Some((_, first)) = batch.first() else { return Ok(()) };
    let table = first.table();
    let records: Vec<Record> = batch.iter().map(|(_, r)| r.clone()).collect();
    let whole = conn.transaction(|conn| insert_records(conn, &records));
    if whole.is_err() {
        for (line, record) in batch.iter() {
            let one = conn.transaction(|conn| insert_records(conn, std::slice::from_ref(record)));
            if let Err(err) = one {
                return Err(
                    LineError { line: *line, reason: format!("the database refused the {table} row: {err}") }.into()
                );
            }
        }
        // Every row alone went in: the batch's own error stands.
        whole?;
    }
    *counts.entry(table).or_default() += batch.len() as u64;
    batch.clear();
    Ok(())
}

/// PostgreSQL numbers rows with `GENERATED ALWAYS` identity columns, which refuse the
/// ids a restore brings: while importing they accept them (`BY DEFAULT`); returns the
/// tables switched, for [`generate_ids_always`]. Inside the import's transaction: a
/// failed import leaves them as they were.
fn accept_ids(conn: &mut DbConn) -> QueryResult<Vec<&'static str>> {
    #[derive(QueryableByName)]
    struct Always {
        #[diesel(sql_type = Bool)]
        _always: bool,
    }
    let mut switched = Vec::new();
    if !matches!(conn, DbConn::Pg(_)) {
        return Ok(switched);
    }
    for (table, _) in EXPORTED {
        let always: Option<Always> = diesel::sql_query(
            "SELECT TRUE AS _always FROM pg_attribute a \
             WHERE a.attrelid = to_regclass($1) AND a.attname = 'id' AND a.attidentity = 'a'",
        )
        .bind::<Text, _>(*table)
        .get_result(conn)
        .optional()?;
        if always.is_some() {
            // The table name is one of the constants above, not input.
            conn.batch_execute(&format!("ALTER TABLE {table} ALTER COLUMN id SET GENERATED BY DEFAULT"))?;
            switched.push(*table);
        }
    }
    Ok(switched)
}

/// Puts back what [`accept_ids`] changed.
fn generate_ids_always(conn: &mut DbConn, tables: &[&'static str]) -> QueryResult<()> {
    for table in tables {
        conn.batch_execute(&format!("ALTER TABLE {table} ALTER COLUMN id SET GENERATED ALWAYS"))?;
    }
    Ok(())
}

/// After a restore on PostgreSQL, each table's id sequence carries on after its largest
/// id (else the next new row would take an id already used).
fn carry_on_numbering(conn: &mut DbConn) -> QueryResult<()> {
    #[derive(QueryableByName)]
    struct Set {
        #[diesel(sql_type = Nullable<BigInt>)]
        _value: Option<i64>,
    }
    if !matches!(conn, DbConn::Pg(_)) {
        return Ok(());
    }
    numbered_tables(conn, &mut |conn, table, max| {
        let (value, called) = match max {
            Some(max) => (max, true),
            None => (1, false),
        };
        diesel::sql_query(
            "SELECT setval(pg_get_serial_sequence($1, 'id'), $2, $3) AS _value \
             WHERE pg_get_serial_sequence($1, 'id') IS NOT NULL",
        )
        .bind::<Text, _>(table)
        .bind::<BigInt, _>(value)
        .bind::<Bool, _>(called)
        .load::<Set>(conn)
        .map(|_| ())
    })
}

/// Copies a SQLite database into a new file with `VACUUM INTO`: a consistent copy,
/// made while the site serves (in WAL mode writers do not wait for it).
pub fn vacuum_into(conn: &mut DbConn, file: &str) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(sqlite) => {
            diesel::sql_query("VACUUM INTO ?").bind::<Text, _>(file).execute(sqlite)?;
            Ok(())
        }
        DbConn::Pg(_) => Err(diesel::result::Error::QueryBuilderError("VACUUM INTO is SQLite's".into())),
    }
}
