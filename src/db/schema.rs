//! The database schema, kept by hand for both backends.
//!
//! Only portable types appear here. A test compares this file with the
//! migrated schema of SQLite and of PostgreSQL.

diesel::table! {
    articles (id) {
        id -> BigInt,
        slug -> Text,
        title -> Text,
        source_url -> Text,
        source_name -> Text,
        published_at -> Date,
        summary -> Text,
        comment_count -> Integer,
        comments_locked -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    article_takeaways (article_id, position) {
        article_id -> BigInt,
        position -> Integer,
        body -> Text,
    }
}

diesel::table! {
    article_tags (article_id, tag) {
        article_id -> BigInt,
        tag -> Text,
    }
}

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
    }
}

diesel::joinable!(article_takeaways -> articles (article_id));
diesel::joinable!(article_tags -> articles (article_id));

diesel::allow_tables_to_appear_in_same_query!(articles, article_takeaways, article_tags, settings);
