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
mod moderation;
mod profiles;
mod request_path;
mod schema;
mod security;

fn main() -> std::process::ExitCode {
    common::run_all()
}
