//! What operators and load balancers read: `/readyz`, and the Prometheus metrics on their
//! own address (`--metrics-bind`).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use reqwest::StatusCode;

use crate::common::{sample, Backend, TestApp, SEED_SLUG};
use crate::{both_backends, plain_tests};

both_backends!(
    readyz_answers_whether_to_send_traffic,
    metrics_count_requests_by_route_pattern_and_status,
    pooled_connections_are_asked_after_a_pause_not_on_every_use
);
plain_tests!(serve_takes_a_metrics_address_and_refuses_a_taken_one);

async fn readyz_answers_whether_to_send_traffic(backend: Backend) {
    let app =
        TestApp::builder(backend).db_timeout(std::time::Duration::from_millis(500)).with_seed_article().start().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.headers().get("set-cookie").is_none(), "a probe gets no cookie");
    assert_eq!(response.text().await.unwrap(), "ready\n");
    let head = app.client.head(app.url("/readyz")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    // Without a metrics address there are no metrics, and never on the site's address.
    assert_eq!(app.metrics_port, None);
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);

    if backend == Backend::Postgres {
        // The database goes away: not ready (and not healthy), at once.
        app.db.drop_now();
        let response = app.get("/readyz").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], "1");
        assert_eq!(response.text().await.unwrap(), "database unavailable\n");
        assert_eq!(app.get("/healthz").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}

async fn metrics_count_requests_by_route_pattern_and_status(backend: Backend) {
    let app = TestApp::builder(backend).with_seed_article().with_metrics().start().await;
    let metrics_url = app.metrics_url();
    let article = format!("/articles/{SEED_SLUG}");
    for _ in 0..3 {
        assert_eq!(app.get(&article).await.status(), StatusCode::OK);
    }
    assert_eq!(app.get("/articles/no-such-article").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/no-such-page").await.status(), StatusCode::NOT_FOUND);
    app.signup("ann").await;
    // Refused by the security checks, before any route: no CSRF token.
    let refused = app.new_client().post(app.url("/logout")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let before = reqwest::get(&metrics_url).await.unwrap().text().await.unwrap();
    assert_eq!(sample(&before, "afterword_live_streams"), Some(0.0), "{before}");
    let stream = app.get(&format!("{article}/events")).await;
    assert_eq!(stream.status(), StatusCode::OK);

    let scraped = reqwest::get(&metrics_url).await.unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(scraped.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = scraped.text().await.unwrap();
    let requests = |route: &str, method: &str, status: u16| {
        sample(
            &text,
            &format!("afterword_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}"),
        )
    };
    assert_eq!(requests("/articles/{slug}", "GET", 200), Some(3.0), "{text}");
    assert_eq!(requests("/articles/{slug}", "GET", 404), Some(1.0), "{text}");
    assert_eq!(requests("(none)", "GET", 404), Some(1.0), "{text}");
    assert_eq!(requests("/signup", "POST", 303), Some(1.0), "{text}");
    assert!(requests("/login", "GET", 200).is_some(), "{text}");
    assert_eq!(requests("/logout", "POST", 403), Some(1.0), "refused before routing, still by route: {text}");
    // Patterns, never the paths asked for.
    assert!(!text.contains(SEED_SLUG) && !text.contains("no-such"), "{text}");
    let latency = |series: &str| sample(&text, &format!("afterword_http_request_duration_seconds_{series}"));
    assert_eq!(latency("count{route=\"/articles/{slug}\"}"), Some(4.0), "{text}");
    assert_eq!(latency("bucket{route=\"/articles/{slug}\",le=\"+Inf\"}"), Some(4.0), "{text}");
    assert!(latency("sum{route=\"/articles/{slug}\"}").is_some_and(|s| s > 0.0), "{text}");
    // The first view rendered the page, the next two came from the cache.
    assert_eq!(sample(&text, "afterword_page_cache_hits_total"), Some(2.0), "{text}");
    assert_eq!(sample(&text, "afterword_page_cache_misses_total"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "afterword_page_cache_entries"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "afterword_live_streams"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "afterword_db_connections_max"), Some(4.0), "{text}");
    assert_eq!(sample(&text, "afterword_db_waiting"), Some(0.0), "{text}");
    let (in_use, idle) =
        (sample(&text, "afterword_db_connections_in_use"), sample(&text, "afterword_db_connections_idle"));
    assert!(in_use.zip(idle).is_some_and(|(u, i)| u >= 0.0 && i >= 0.0 && u + i <= 4.0), "{text}");

    drop(stream);

    // The metrics address serves nothing else.
    let other = metrics_url.replace("/metrics", "/");
    assert_eq!(reqwest::get(&other).await.unwrap().status(), StatusCode::NOT_FOUND);
}

/// A PostgreSQL connection is asked whether it is still open (a round trip) only when
/// it was idle for a while: under steady use it is not asked at every checkout.
/// Connections the server closed cost one failed request at most, and none after a
/// pause: they are asked, found closed and replaced. SQLite connections are never asked.
async fn pooled_connections_are_asked_after_a_pause_not_on_every_use(backend: Backend) {
    use diesel::prelude::*;

    let app = TestApp::builder(backend).with_seed_article().with_metrics().start().await;
    let ann = app.signup("ann").await;
    let metrics_url = app.metrics_url();
    let checks = || async {
        let text = reqwest::get(&metrics_url).await.unwrap().text().await.unwrap();
        sample(&text, "afterword_db_connection_checks_total").unwrap_or_else(|| panic!("no checks counter: {text}"))
    };
    // `/healthz` asks the database on each request, whatever is cached.
    let uses = |n: usize| {
        let app = &app;
        async move {
            for _ in 0..n {
                let response = app.get("/healthz").await;
                assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
            }
        }
    };
    uses(1).await;
    let before = checks().await;
    uses(10).await;
    let steady = checks().await - before;
    if backend == Backend::Sqlite {
        assert_eq!(steady + before, 0.0, "a SQLite file is never asked");
        return;
    }
    assert!(steady <= 3.0, "ten uses in a row asked {steady} times");

    // After a pause the connection is asked again.
    tokio::time::sleep(afterword::db::TRUST_ANSWER + std::time::Duration::from_millis(200)).await;
    let before = checks().await;
    uses(1).await;
    assert!(checks().await > before, "asked after a pause");

    // The server closes every connection of the site, as a restart or an idle timeout
    // would (its other processes, autovacuum's, are left alone).
    // From a connection of its own, off the async workers.
    let hang_up = || {
        let db = app.db.clone();
        async move {
            let closed: Vec<bool> = tokio::task::spawn_blocking(move || {
                diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() \
                     AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                ))
                .load(&mut db.connect())
                .unwrap()
            })
            .await
            .unwrap();
            assert!(!closed.is_empty() && closed.iter().all(|&c| c), "{closed:?}");
        }
    };
    // At once, while the connections are still vouched for (several of them: requests
    // at once): one request at most meets a closed connection, and its failure has the
    // others asked.
    for _ in 0..2 {
        let at_once = futures_util::future::join_all((0..16).map(|_| app.get("/healthz"))).await;
        assert!(at_once.iter().all(|r| r.status() == StatusCode::OK));
    }
    hang_up().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut failed = 0;
    for _ in 0..5 {
        let response = app.get("/healthz").await;
        if response.status() != StatusCode::OK {
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            failed += 1;
        }
    }
    assert!(failed <= 1, "{failed} of 5 requests met a closed connection");
    // After a pause, readers get their pages and can post: the closed connections are
    // asked, found closed and replaced.
    uses(2).await;
    hang_up().await;
    tokio::time::sleep(afterword::db::TRUST_ANSWER + std::time::Duration::from_millis(200)).await;
    uses(3).await;
    let article = format!("/articles/{SEED_SLUG}");
    let (status, body) = app.page_as(&ann, &article).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.comment(&ann, SEED_SLUG, "Still here after the server hung up", None).await;
    let (status, body) = app.page_as(&app.new_client(), &article).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Still here after the server hung up"));
}

/// `serve` binds the metrics address before it creates or migrates anything (a taken
/// one is an error, and nothing is created), and serves `/metrics` there.
fn serve_takes_a_metrics_address_and_refuses_a_taken_one() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/site.db", dir.path().display());
    let out = Command::new(env!("CARGO_BIN_EXE_afterword"))
        .args(["serve", "--bind", "127.0.0.1:0", "--metrics-bind", &taken.local_addr().unwrap().to_string()])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("could not listen for metrics"), "{stderr}");
    assert!(!dir.path().join("data").exists(), "nothing was created");

    // From the environment, as the flag's variable.
    let mut child = Command::new(env!("CARGO_BIN_EXE_afterword"))
        .args(["serve", "--bind", "127.0.0.1:0", "--workers", "1"])
        .env("DATABASE_URL", &url)
        .env("AFTERWORD_METRICS_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut metrics = None;
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some((_, address)) = line.split_once("metrics on http://") {
            metrics = Some(address.trim().trim_end_matches("/metrics").to_owned());
        }
        if line.contains("listening on ") {
            break;
        }
    }
    let metrics = metrics.expect("the server logs where its metrics are");
    let mut connection = std::net::TcpStream::connect(&metrics).unwrap();
    connection.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    connection.read_to_string(&mut response).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("afterword_db_connections_max 8"), "{response}");
}
