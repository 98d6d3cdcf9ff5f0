//! The Schemathesis command line (`pip install schemathesis==…`, as `.ci/run` does),
//! which tests the API against its OpenAPI document.

use std::process::Command;
use std::sync::OnceLock;

/// The command: `AFTERWORD_SCHEMATHESIS` if set, else `schemathesis` on the PATH.
pub fn command() -> String {
    std::env::var("AFTERWORD_SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".to_owned())
}

/// Whether a missing Schemathesis fails the run (`AFTERWORD_REQUIRE_SCHEMATHESIS=1`, as
/// in CI) instead of skipping its cases.
pub fn required() -> bool {
    std::env::var("AFTERWORD_REQUIRE_SCHEMATHESIS").as_deref() == Ok("1")
}

/// The installed version, if it runs.
pub fn version() -> Option<String> {
    static VERSION: OnceLock<Option<String>> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            let output = Command::new(command()).arg("--version").output().ok()?;
            output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        })
        .clone()
}

/// Whether Schemathesis cases are run (when required, they run and fail without it).
pub fn runs() -> bool {
    version().is_some() || required()
}
