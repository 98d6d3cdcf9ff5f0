//! Schemathesis against the API's own document: every operation, with data it makes up
//! from the schemas (valid and not), and every check it has (no server errors, answers
//! that match the document, invalid data refused and valid data accepted, methods not
//! served answered 405 with `Allow` …). Skipped (ignored) when the command is absent,
//! required with `AFTERWORD_REQUIRE_SCHEMATHESIS=1` (CI).

use std::process::Command;

use crate::common::{schemathesis, Backend, TestApp, SEED_SLUG};
use crate::schemathesis_tests;

schemathesis_tests!(the_api_keeps_to_its_document);

/// Test cases per operation and phase: enough to find what a schema lets through, few
/// enough that a run of each backend stays around a minute.
const EXAMPLES: &str = "20";
/// A fixed seed: a failure is repeated by the same run (`AFTERWORD_SCHEMATHESIS_SEED`
/// overrides it).
const SEED: &str = "20261207";

async fn the_api_keeps_to_its_document(backend: Backend) {
    assert!(
        schemathesis::version().is_some(),
        "AFTERWORD_REQUIRE_SCHEMATHESIS=1 but `{} --version` does not run: pip install schemathesis",
        schemathesis::command()
    );
    let app = TestApp::builder(backend).with_seed_article().start().await;
    app.signup_as("ada", "admin").await;
    // Whom the operations on an account act on (ban, role …): not the caller.
    app.signup("bob").await;
    let token = app.api_token("ada", "read,write,moderate").await;
    // Something to find: a thread of bob's (which ada may report) with ada's reply.
    let ada = app.api_client(&token);
    let bob = app.api_client(&app.api_token("bob", "write").await);
    let path = app.url(&format!("/api/v1/articles/{SEED_SLUG}/comments"));
    let first: serde_json::Value = bob
        .post(&path)
        .json(&serde_json::json!({"body": "A first comment"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ada.post(&path).json(&serde_json::json!({"body": "A reply", "parent_id": first["id"]})).send().await.unwrap();

    // An article for the delete operation to act on: the seed article stays, so that
    // what the run creates on it can be found again.
    let doomed = serde_json::json!({"title": "An article to delete", "source_url": "https://example.com/doomed",
        "source_name": "example.com", "published_at": "2024-01-02", "summary": ["Gone soon."], "key_takeaways": []});
    let made = ada.post(app.url("/api/v1/articles")).json(&doomed).send().await.unwrap();
    assert_eq!(made.status(), reqwest::StatusCode::CREATED);

    let base = app.url("");
    let base = base.trim_end_matches('/').to_owned();
    let seed = std::env::var("AFTERWORD_SCHEMATHESIS_SEED").unwrap_or_else(|_| SEED.to_owned());
    let work = tempfile::tempdir().unwrap();
    // Real identifiers for the path parameters, so that the operations get past "not
    // found" to their rules (the others are made up, and answered 404 as they should).
    let config = work.path().join("schemathesis.toml");
    let id = first["id"].as_i64().unwrap();
    std::fs::write(
        &config,
        format!(
            "[parameters]\n\"path.slug\" = \"{SEED_SLUG}\"\n\"path.id\" = {id}\n\"path.username\" = \"bob\"\n\n\
             [[operations]]\ninclude-name = \"DELETE /api/v1/articles/{{slug}}\"\n\
             parameters = {{ \"path.slug\" = \"an-article-to-delete\" }}\n"
        ),
    )
    .unwrap();
    let args: Vec<String> = vec![
        "--config-file".into(),
        config.display().to_string(),
        "--no-color".into(),
        "run".into(),
        format!("{base}/api/openapi.json"),
        "--url".into(),
        base.clone(),
        "--checks".into(),
        "all".into(),
        "--header".into(),
        format!("Authorization: Bearer {token}"),
        "--max-examples".into(),
        EXAMPLES.into(),
        "--seed".into(),
        seed,
        // One worker: CPython 3.11's parser is not safe to call from several threads at
        // once, and Hypothesis parses while it generates ("AST constructor recursion
        // depth mismatch").
        "--workers".into(),
        "1".into(),
        "--generation-database".into(),
        "none".into(),
        "--request-timeout".into(),
        "20".into(),
    ];
    let dir = work.path().to_owned();
    let command = schemathesis::command();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&command).args(&args).current_dir(dir).env("NO_COLOR", "1").output().unwrap()
    })
    .await
    .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let text = text.replace(&token, "[the token]");
    // The whole report, beside the build, for when the tail below is not enough.
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("schemathesis-{backend:?}.log"));
    std::fs::write(&log, &text).unwrap();
    let start = text.char_indices().rev().nth(20_000).map_or(0, |(at, _)| at);
    assert!(
        output.status.success(),
        "Schemathesis found problems ({}; the whole report is in {}):\n{}",
        output.status,
        log.display(),
        &text[start..]
    );
    eprintln!("{}", text.lines().rev().take(3).collect::<Vec<_>>().join("\n"));
}
