//! Headless Debian Chromium through chromedriver, one driver per test binary.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub fn required() -> bool {
    std::env::var("AFTERWORD_REQUIRE_BROWSER").as_deref() == Ok("1")
}

fn installed() -> bool {
    std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists()
}

/// Whether browser cases are run (when required, they run and fail without Chromium).
pub fn runs() -> bool {
    installed() || required()
}

/// The WebDriver URL of this test binary's chromedriver, started on first use; `None`
/// (skip) when Chromium is not installed and not required.
fn driver_url() -> Option<String> {
    static DRIVER: OnceLock<Option<String>> = OnceLock::new();
    DRIVER
        .get_or_init(|| {
            if !installed() {
                assert!(!required(), "AFTERWORD_REQUIRE_BROWSER=1 but {CHROMEDRIVER} or {CHROMIUM} is missing");
                eprintln!("skipping: chromium and chromium-driver are not installed");
                return None;
            }
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            // The thread that starts the driver lives as long as the test binary; the driver
            // is killed when it ends (PR_SET_PDEATHSIG), so none is left behind.
            std::thread::spawn(move || {
                let mut command = Command::new(CHROMEDRIVER);
                command.arg(format!("--port={port}")).stdout(Stdio::null()).stderr(Stdio::null());
                // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
                unsafe {
                    command.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                        Ok(())
                    });
                }
                let mut child = command.spawn().expect("chromedriver starts");
                let _ = child.wait();
            });
            let deadline = Instant::now() + Duration::from_secs(20);
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(Instant::now() < deadline, "chromedriver did not start listening");
                std::thread::sleep(Duration::from_millis(50));
            }
            Some(format!("http://127.0.0.1:{port}"))
        })
        .clone()
}

/// A new browser session with an empty profile, or `None` to skip.
pub async fn browser() -> Option<Client> {
    let url = driver_url()?;
    let capabilities = serde_json::json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,900"]
        }
    });
    let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
    let client = ClientBuilder::native().capabilities(capabilities).connect(&url).await.expect("a browser session");
    Some(client)
}

/// Signs up `username` in the browser (it stays logged in).
pub async fn sign_up(client: &Client, app: &super::TestApp, username: &str) {
    use fantoccini::Locator;
    client.goto(&app.url("/signup")).await.unwrap();
    client.wait().for_element(Locator::Id("field-username")).await.unwrap().send_keys(username).await.unwrap();
    client.find(Locator::Id("field-email")).await.unwrap().send_keys(&format!("{username}@example.com")).await.unwrap();
    client.find(Locator::Id("field-password")).await.unwrap().send_keys(super::PASSWORD).await.unwrap();
    client.find(Locator::Css("form[action='/signup'] button[type=submit]")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Css(".site-nav .whoami")).await.unwrap();
}
