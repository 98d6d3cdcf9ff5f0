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
        /// Title, summary and takeaways, for full-text search.
        search_document -> Text,
        /// Why comments were closed, shown under the article.
        lock_reason -> Nullable<Text>,
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

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        /// Lower-cased username: unique, so names differing only in case collide.
        username_key -> Text,
        email -> Nullable<Text>,
        /// Lower-cased email, unique; NULL once the account is deleted.
        email_key -> Nullable<Text>,
        password_hash -> Text,
        role -> Text,
        email_verified -> Bool,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        /// Email me when someone replies to my comments.
        email_replies -> Bool,
        display_name -> Nullable<Text>,
        bio_source -> Nullable<Text>,
        bio_html -> Nullable<Text>,
        /// Banned until then (year 9999: for good).
        banned_until -> Nullable<Timestamp>,
        ban_reason -> Nullable<Text>,
        /// An address typed at sign-up that another account already uses: shown to
        /// this account as unconfirmed, never used to log in or to mail it.
        pending_email -> Nullable<Text>,
        /// `pending_email` lower-cased, for the login by address.
        pending_email_key -> Nullable<Text>,
        /// Show my saved articles on my public profile.
        show_saved -> Bool,
        /// The system a placeholder account's comments were imported from (disqus,
        /// wordpress, isso, remark42); NULL for every account made here.
        imported_from -> Nullable<Text>,
        /// The imported author's address, lower-cased: a reader who confirms it may
        /// claim the placeholder's comments. Never used to log in or to mail.
        imported_email_key -> Nullable<Text>,
    }
}

diesel::table! {
    saved_articles (user_id, article_id) {
        user_id -> BigInt,
        article_id -> BigInt,
        saved_at -> Timestamp,
        /// When the reader last opened the article: comments after it are new.
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    account_tokens (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        /// An HTML alternative to `body`.
        html_body -> Nullable<Text>,
        /// Headers of the message's own, one `Name: value` a line.
        headers -> Text,
        /// kept | queued | sending | sent | failed
        state -> Text,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        article_id -> BigInt,
        author_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        /// The top-level comment of the thread (its own id for a top-level comment).
        root_id -> BigInt,
        depth -> Integer,
        body_source -> Text,
        body_html -> Text,
        /// visible | deleted | removed | pending | rejected
        status -> Text,
        upvotes -> Integer,
        downvotes -> Integer,
        /// Direct replies, placeholders included.
        reply_count -> Integer,
        rank_best -> Double,
        rank_controversial -> Double,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        /// Shown to the author of a removed comment.
        removed_reason -> Nullable<Text>,
        pinned -> Bool,
        /// A moderator speaking as one.
        distinguished -> Bool,
        /// What the comment quotes of its article: takeaway | summary (top-level only).
        quote_kind -> Nullable<Text>,
        /// The takeaway's position, or the summary sentence the quote starts in (from 0).
        quote_position -> Nullable<Integer>,
        /// The quoted text as it was when the comment was posted.
        quote_text -> Nullable<Text>,
    }
}

diesel::table! {
    reports (id) {
        id -> BigInt,
        comment_id -> BigInt,
        reporter_id -> BigInt,
        /// spam | harassment | off-topic | misinformation | other
        reason -> Text,
        details -> Nullable<Text>,
        created_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Every moderator or administrator action; rows are never changed or deleted.
    moderation_log (id) {
        id -> BigInt,
        /// NULL: the command line on the server.
        moderator_id -> Nullable<BigInt>,
        action -> Text,
        /// comment | article | user
        target_type -> Text,
        target_id -> BigInt,
        /// What the target was called when the action was taken (never comment text).
        target_label -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
        /// The name of the API token the action came through; NULL from the pages.
        via_token -> Nullable<Text>,
    }
}

diesel::table! {
    comment_votes (comment_id, user_id) {
        comment_id -> BigInt,
        user_id -> BigInt,
        value -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        /// reply | saved_article | approved | rejected | removed
        kind -> Text,
        comment_id -> BigInt,
        actor_id -> BigInt,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        /// The moderator's reason, for a rejected or removed comment.
        reason -> Nullable<Text>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(account_tokens -> users (user_id));
diesel::joinable!(comments -> articles (article_id));
diesel::joinable!(comments -> users (author_id));
diesel::joinable!(comment_votes -> comments (comment_id));
diesel::joinable!(notifications -> comments (comment_id));
diesel::joinable!(saved_articles -> articles (article_id));
diesel::joinable!(live_events -> articles (article_id));
diesel::joinable!(reports -> comments (comment_id));
diesel::joinable!(moderation_log -> users (moderator_id));
diesel::joinable!(api_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    articles,
    article_takeaways,
    article_tags,
    settings,
    users,
    sessions,
    account_tokens,
    outbox,
    comments,
    comment_votes,
    notifications,
    saved_articles,
    reports,
    moderation_log,
    live_events,
    api_tokens,
    digest_subscriptions,
    leases,
);

diesel::table! {
    account_mails (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    /// One row per comment posted in the last day (each account's older rows are
    /// deleted when it posts): the per-account comment limits count these.
    comment_posts (id) {
        id -> BigInt,
        user_id -> BigInt,
        posted_at -> Timestamp,
    }
}

diesel::table! {
    /// What changed on an article's thread, for readers watching it live (kept a few
    /// minutes; see `db::live`).
    live_events (id) {
        id -> BigInt,
        article_id -> BigInt,
        kind -> Text,
        comment_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        user_id -> Nullable<BigInt>,
        network -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    /// Personal API tokens (`Authorization: Bearer`), kept as their SHA-256.
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        /// Comma-separated: read, write, moderate.
        scopes -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Readers who get an email digest; no row: no digest.
    digest_subscriptions (user_id) {
        user_id -> BigInt,
        /// daily | weekly
        frequency -> Text,
        /// Comments after this are new to the next digest.
        since -> Timestamp,
        next_due_at -> Timestamp,
    }
}

diesel::table! {
    /// Background jobs one instance runs at a time: who holds each, and until when.
    leases (name) {
        name -> Text,
        holder -> Nullable<Text>,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(digest_subscriptions -> users (user_id));

diesel::table! {
    /// The other system's ids of imported threads, comments and authors (kind:
    /// thread | comment | author), and the article, comment or account made of each.
    import_ids (source, kind, source_id) {
        source -> Text,
        kind -> Text,
        source_id -> Text,
        local_id -> BigInt,
    }
}
