//! What the migrated database really holds, for the schema check.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::DbConn;

/// One column as the database describes it.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct ColumnInfo {
    #[diesel(sql_type = Text)]
    pub table_name: String,
    #[diesel(sql_type = Text)]
    pub column_name: String,
    /// The declared type, upper case (`INTEGER`, `TEXT`, `TIMESTAMP`, `BIGINT` …).
    #[diesel(sql_type = Text)]
    pub data_type: String,
    #[diesel(sql_type = Bool)]
    pub nullable: bool,
}

/// Every column of every application table (migration bookkeeping and SQLite's
/// full-text index tables, which have no counterpart in `schema.rs`, left out).
pub fn columns(conn: &mut DbConn) -> QueryResult<Vec<ColumnInfo>> {
    let query = match conn {
        DbConn::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name, UPPER(p.type) AS data_type, \
                    (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE 'fts!_%' ESCAPE '!' \
               AND m.name <> '__diesel_schema_migrations' \
             ORDER BY m.name, p.cid"
        }
        DbConn::Pg(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                    UPPER(data_type::text) AS data_type, (is_nullable = 'YES') AS nullable \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
             ORDER BY table_name, ordinal_position"
        }
    };
    diesel::sql_query(query).load(conn)
}
