//! `/healthz`.

use std::time::Duration;

use reqwest::StatusCode;

use crate::both_backends;
use crate::common::{Backend, TestApp};

both_backends!(healthz_reports_the_database);

async fn healthz_reports_the_database(backend: Backend) {
    let mut app = TestApp::builder(backend).db_timeout(Duration::from_millis(500)).start().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "ok\n");

    if backend == Backend::Postgres {
        // The database goes away under the running site.
        app.db.drop_now();
        let response = app.get("/healthz").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.text().await.unwrap(), "database unavailable\n");
        let (status, body) = app.page("/").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "pages say so too");
        assert!(body.contains("cannot reach its database"));
    }
}
