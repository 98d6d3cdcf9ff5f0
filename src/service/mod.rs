//! The rules and the transactions: what a handler asks for in one call.
//!
//! ```text
//! accounts.rs     sign-up (never telling which addresses have accounts), login behind the
//!                 lockout, password resets, email confirmation
//! comments.rs     posting (limits, pre-moderation, word list, notifications, the live
//!                 event), previews, editing, deleting, voting
//! articles.rs     articles by administrators: create, edit, delete, import
//! moderation.rs   reports, the approval queue, removing (and banning), restoring, pins,
//!                 locks, bans
//! tokens.rs       personal API tokens: the scopes a role may give, lifetimes, the limit
//! digests.rs      email digests: the setting, unsubscribing, and the scheduled run under a
//!                 lease
//! ```
//!
//! A handler parses its input into typed values (`domain`), calls one function here,
//! and renders what it gets back (`views`). The functions here decide, with the
//! permission functions of `domain::permissions`, and run the queries of `db` inside
//! `AppState::db` (behind the pool's queue); they never build HTML and never read HTTP.

pub mod accounts;
pub mod articles;
pub mod comments;
pub mod digests;
pub mod embed;
pub mod imports;
pub mod moderation;
pub mod tokens;

/// Who takes a moderator's or administrator's action, as the moderation log records it:
/// the account, and the API token the request came with, if it came with one.
pub fn acting(user: &crate::auth::AuthUser) -> crate::db::moderation::By {
    crate::db::moderation::By { user: user.id, token: user.token.as_ref().map(|grant| grant.name.clone()) }
}

/// Renders Markdown on the blocking thread pool, not on the async worker: rendering is
/// bounded (see `markdown::MAX_NESTING`) but still CPU work.
pub async fn render_markdown(source: &str) -> Result<String, crate::web::AppError> {
    let source = source.to_owned();
    Ok(actix_web::web::block(move || crate::markdown::render(&source)).await?)
}
