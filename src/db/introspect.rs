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
               AND table_name NOT LIKE 'fts!_%' ESCAPE '!' \
             ORDER BY table_name, ordinal_position"
        }
    };
    diesel::sql_query(query).load(conn)
}

/// One column of a table: the column of a single-column foreign key, or the
/// leading column of an index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, QueryableByName)]
pub struct TableColumn {
    #[diesel(sql_type = Text)]
    pub table_name: String,
    #[diesel(sql_type = Text)]
    pub column_name: String,
}

/// The column of every foreign key of every application table.
pub fn foreign_key_columns(conn: &mut DbConn) -> QueryResult<Vec<TableColumn>> {
    let query = match conn {
        DbConn::Sqlite(_) => {
            "SELECT m.name AS table_name, f.\"from\" AS column_name \
             FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             ORDER BY m.name, f.\"from\""
        }
        DbConn::Pg(_) => {
            "SELECT c.conrelid::regclass::text AS table_name, a.attname::text AS column_name \
             FROM pg_constraint c \
             JOIN pg_namespace n ON n.oid = c.connamespace AND n.nspname = 'public' \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
             WHERE c.contype = 'f' \
             ORDER BY 1, 2"
        }
    };
    diesel::sql_query(query).load(conn)
}

/// The leading column of every index (primary keys and unique constraints
/// included) of every application table; on SQLite also an `INTEGER PRIMARY KEY`,
/// which is the table's own key (the rowid), not a separate index.
pub fn index_leading_columns(conn: &mut DbConn) -> QueryResult<Vec<TableColumn>> {
    let query = match conn {
        DbConn::Sqlite(_) => {
            "SELECT m.name AS table_name, ii.name AS column_name \
             FROM sqlite_master m JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND ii.seqno = 0 AND ii.name IS NOT NULL \
             UNION \
             SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND p.pk = 1 AND upper(p.type) = 'INTEGER' \
               AND (SELECT count(*) FROM pragma_table_info(m.name) q WHERE q.pk > 0) = 1 \
             ORDER BY 1, 2"
        }
        DbConn::Pg(_) => {
            "SELECT i.indrelid::regclass::text AS table_name, a.attname::text AS column_name \
             FROM pg_index i \
             JOIN pg_class t ON t.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public' \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
             ORDER BY 1, 2"
        }
    };
    diesel::sql_query(query).load(conn)
}

/// An identity column and how it numbers rows (`ALWAYS` or `BY DEFAULT`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, QueryableByName)]
pub struct IdentityColumn {
    #[diesel(sql_type = Text)]
    pub table_name: String,
    #[diesel(sql_type = Text)]
    pub column_name: String,
    #[diesel(sql_type = Text)]
    pub generation: String,
}

/// Every identity column of the application's tables (PostgreSQL; SQLite has none).
pub fn identity_columns(conn: &mut DbConn) -> QueryResult<Vec<IdentityColumn>> {
    match conn {
        DbConn::Sqlite(_) => Ok(Vec::new()),
        DbConn::Pg(_) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
                    identity_generation::text AS generation \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND is_identity = 'YES' \
             ORDER BY 1, 2",
        )
        .load(conn),
    }
}
