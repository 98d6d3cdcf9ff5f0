//! The accessibility and markup checkers: axe-core run inside Chromium, and the Nu HTML
//! checker (vnu) run with Java. Both come from npm into `tests/tools/node_modules`
//! (`.ci/run` installs them); Java is Debian's `default-jre-headless`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use fantoccini::Client;

fn tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/node_modules")
}

fn axe_path() -> PathBuf {
    tools().join("axe-core/axe.min.js")
}

fn vnu_path() -> PathBuf {
    tools().join("vnu-jar/build/dist/vnu.jar")
}

fn java_works() -> bool {
    static JAVA: OnceLock<bool> = OnceLock::new();
    *JAVA.get_or_init(|| Command::new("java").arg("-version").output().is_ok_and(|o| o.status.success()))
}

/// What is missing of the checkers, if anything.
fn missing() -> Vec<String> {
    let mut missing = Vec::new();
    if !axe_path().exists() {
        missing.push(format!("{} (npm install in tests/tools)", axe_path().display()));
    }
    if !vnu_path().exists() {
        missing.push(format!("{} (npm install in tests/tools)", vnu_path().display()));
    }
    if !java_works() {
        missing.push("java (apt-get install default-jre-headless)".to_owned());
    }
    missing
}

/// Whether checker cases are run: when the browser and the checkers are installed, and
/// always when the browser is required (they then fail if anything is missing).
pub fn runs() -> bool {
    super::browser::runs() && (missing().is_empty() || super::browser::required())
}

/// Whether the checkers can be used now; `false` (skip, with a message) when they are
/// missing and not required, a failure when they are required.
pub fn ready() -> bool {
    let missing = missing();
    if missing.is_empty() {
        return true;
    }
    assert!(
        !super::browser::required(),
        "AFTERWORD_REQUIRE_BROWSER=1 but the checkers are missing: {}",
        missing.join(", ")
    );
    eprintln!("skipping: the checkers are missing: {}", missing.join(", "));
    false
}

fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| std::fs::read_to_string(axe_path()).expect("axe-core's axe.min.js"))
}

/// Runs axe-core on the page the browser shows (injecting it when the page lacks it)
/// and returns its violations, one line per rule and node: `rule (impact) at selector:
/// summary`. Every rule axe runs by default, and the tap-target size (WCAG 2.2), which
/// it does not.
pub async fn axe_violations(client: &Client) -> Vec<String> {
    let present = client.execute("return typeof window.axe === 'object'", vec![]).await.unwrap();
    if present.as_bool() != Some(true) {
        client.execute(&format!("{};return true", axe_source()), vec![]).await.expect("axe-core is injected");
    }
    let script = r#"
        const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ["violations"], rules: { "target-size": { enabled: true } } })
            .then(function (results) {
                done(results.violations.flatMap(function (v) {
                    return v.nodes.map(function (n) {
                        return v.id + " (" + v.impact + ") at " + n.target.join(" ") + ": "
                            + (n.failureSummary || v.help).replace(/\s+/g, " ") + " | " + n.html.slice(0, 160);
                    });
                }));
            })
            .catch(function (e) { done(["axe failed: " + e]); });
    "#;
    let value = client.execute_async(script, vec![]).await.expect("axe runs");
    value.as_array().expect("a list").iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
}

/// Runs the Nu HTML checker once over every file in `dir` and returns its errors, one
/// line each: `file:line:column: message`.
pub fn vnu_errors(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty(), "no pages to check");
    let output = Command::new("java")
        .arg("-jar")
        .arg(vnu_path())
        .args(["--errors-only", "--format", "json"])
        .args(&files)
        .output()
        .expect("java runs vnu.jar");
    let report = String::from_utf8_lossy(&output.stderr);
    let json: serde_json::Value = serde_json::from_str(&report).unwrap_or_else(|e| {
        panic!("vnu's report is not JSON ({e}): {report}\n{}", String::from_utf8_lossy(&output.stdout))
    });
    json["messages"]
        .as_array()
        .expect("vnu's messages")
        .iter()
        .filter(|m| m["type"] != "info")
        .map(|m| {
            let file = m["url"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned();
            format!(
                "{file}:{}:{}: {} [{}]",
                m["lastLine"],
                m["firstColumn"],
                m["message"].as_str().unwrap_or_default(),
                m["extract"].as_str().unwrap_or_default().replace('\n', " ")
            )
        })
        .collect()
}
