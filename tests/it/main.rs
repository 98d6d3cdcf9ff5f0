//! Integration tests through HTTP and the command line, on SQLite and PostgreSQL.

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod articles;
mod browser;
mod cli;
mod comments;
mod demo;
mod health;
mod input;
mod moderation;
mod profiles;
mod schema;
mod security;
