//! The migrated schema of both backends matches `src/db/schema.rs`.

use std::collections::BTreeMap;

use afterword::db::{self, introspect};

use crate::both_backends;
use crate::common::{Backend, TestDb};

both_backends!(migrated_schema_matches_schema_rs, every_foreign_key_has_an_index);

/// table → column → (type family, nullable), read from the `table!` blocks.
fn declared() -> BTreeMap<String, BTreeMap<String, (String, bool)>> {
    let source = include_str!("../../src/db/schema.rs");
    let mut tables = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in source.lines().map(str::trim) {
        if let Some((name, _)) = line.split_once(" (").filter(|_| line.ends_with('{') && current.is_none()) {
            current = Some(name.to_owned());
            tables.insert(name.to_owned(), BTreeMap::new());
        } else if let (Some(table), Some((column, ty))) = (&current, line.split_once(" -> ")) {
            let ty = ty.trim_end_matches(',');
            let (nullable, ty) = match ty.strip_prefix("Nullable<") {
                Some(inner) => (true, inner.trim_end_matches('>')),
                None => (false, ty),
            };
            tables.get_mut(table).unwrap().insert(column.to_owned(), (family(ty).to_owned(), nullable));
        } else if line == "}" {
            // The closing brace of the column block ends the table.
            current = None;
        }
    }
    tables.retain(|_, columns| !columns.is_empty());
    tables
}

fn family(diesel_type: &str) -> &'static str {
    match diesel_type {
        "BigInt" | "Integer" | "SmallInt" => "integer",
        "Text" => "text",
        "Bool" => "bool",
        "Date" => "date",
        "Timestamp" => "timestamp",
        "Double" | "Float" => "float",
        "Binary" => "binary",
        other => panic!("schema.rs uses {other}: add it to the portable types"),
    }
}

fn db_family(backend: Backend, declared: &str, diesel_family: &str) -> bool {
    match (backend, diesel_family) {
        // SQLite's declared types: INTEGER PRIMARY KEY must be spelled INTEGER.
        (Backend::Sqlite, "integer") => declared == "INTEGER" || declared == "BIGINT",
        (Backend::Sqlite, "bool") => declared == "BOOLEAN",
        (Backend::Postgres, "integer") => declared == "BIGINT" || declared == "INTEGER" || declared == "SMALLINT",
        (Backend::Postgres, "bool") => declared == "BOOLEAN",
        (_, "text") => declared == "TEXT",
        (Backend::Sqlite, "float") => declared == "DOUBLE",
        (Backend::Postgres, "float") => declared == "DOUBLE PRECISION",
        (_, "date") => declared == "DATE",
        (Backend::Sqlite, "timestamp") => declared == "TIMESTAMP",
        (Backend::Postgres, "timestamp") => declared == "TIMESTAMP WITHOUT TIME ZONE",
        _ => false,
    }
}

async fn migrated_schema_matches_schema_rs(backend: Backend) {
    let db = TestDb::new(backend);
    let mut conn = db.connect();
    db::run_migrations(&mut conn, "test").unwrap();
    let actual = introspect::columns(&mut conn).unwrap();
    let expected = declared();
    assert!(expected.contains_key("articles") && expected.len() >= 4, "parsed schema.rs: {expected:?}");

    let mut actual_tables: BTreeMap<String, Vec<&introspect::ColumnInfo>> = BTreeMap::new();
    for column in &actual {
        actual_tables.entry(column.table_name.clone()).or_default().push(column);
    }
    assert_eq!(actual_tables.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "the same tables");
    for (table, columns) in &expected {
        let real = &actual_tables[table];
        let real_names: Vec<&str> = real.iter().map(|c| c.column_name.as_str()).collect();
        let mut declared_names: Vec<&str> = columns.keys().map(String::as_str).collect();
        let mut sorted_real = real_names.clone();
        sorted_real.sort();
        declared_names.sort();
        assert_eq!(sorted_real, declared_names, "columns of {table}");
        for info in real {
            let (family, nullable) = &columns[&info.column_name];
            assert!(
                db_family(backend, &info.data_type, family),
                "{table}.{}: the database has {}, schema.rs says {family}",
                info.column_name,
                info.data_type
            );
            assert_eq!(info.nullable, *nullable, "{table}.{} nullability", info.column_name);
        }
    }
}

/// Deleting a parent row (an article, a comment, an account) looks up its
/// children by the foreign key column: without an index that is a full scan of
/// the child table per deleted row.
async fn every_foreign_key_has_an_index(backend: Backend) {
    let db = TestDb::new(backend);
    let mut conn = db.connect();
    db::run_migrations(&mut conn, "test").unwrap();
    let keys = introspect::foreign_key_columns(&mut conn).unwrap();
    let indexed: std::collections::BTreeSet<introspect::TableColumn> =
        introspect::index_leading_columns(&mut conn).unwrap().into_iter().collect();
    assert!(
        keys.iter().any(|k| k.table_name == "comments" && k.column_name == "article_id"),
        "found the keys: {keys:?}"
    );
    assert!(indexed.iter().any(|i| i.table_name == "comments"), "found the indexes: {indexed:?}");
    let missing: Vec<String> = keys
        .iter()
        .filter(|key| !indexed.contains(*key))
        .map(|key| format!("{}.{}", key.table_name, key.column_name))
        .collect();
    assert!(missing.is_empty(), "foreign keys without an index leading with their column: {missing:?}");
}
