//! Integration tests through HTTP and the command line, on SQLite and PostgreSQL.

#[path = "../common/mod.rs"]
mod common;

mod accessibility;
mod accounts;
mod admin_forms;
mod api;
mod api_reads;
mod api_tokens;
mod api_writes;
mod articles;
mod browser;
mod cache;
mod cli;
mod comments;
mod concurrency;
mod confirm;
mod demo;
mod details;
mod digests;
mod embed;
mod errors;
mod exports;
mod health;
mod imports;
mod input;
mod instances;
mod lists;
mod live;
mod moderation;
mod operations;
mod process;
mod profiles;
mod refusals;
mod request_path;
mod schema;
mod schemathesis;
mod security;
mod shared;
mod slow_clients;
mod takeaways;
mod threads;

/// The harness runs only registered cases: a `#[test]` here would compile and never run.
mod harness {
    crate::plain_tests!(every_test_is_registered);

    fn every_test_is_registered() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            for attribute in ["#[test]", "#[tokio::test"] {
                assert!(
                    !source.lines().any(|l| l.trim_start().starts_with(attribute)),
                    "{} uses {attribute}: register it with both_backends!, sqlite_only!, postgres_only! or plain_tests!",
                    path.display()
                );
            }
        }
    }
}

fn main() -> std::process::ExitCode {
    common::run_all()
}
